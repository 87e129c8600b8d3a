"""The metrics of a window, as `monitor check` computes them and `store.windows()` returns them.

    {"psi": {feature: PSI}, "drifted": {feature: "warning" | "critical"},
     "feature_psi": largest significant PSI, "important_feature_psi": the same over important
        features, "top_features": [features by PSI, largest first, up to 5],
     "prediction_psi": PSI of the scores, "score": {mean, std, p05, p25, p50, p75, p95},
     "missing": {feature: share missing, where not 0}, "missing_share": largest rise of a
        feature's missing share over the reference, "missing_columns" (rise >= 1 point),
     "schema_share", "schema_columns", "ood_share", "ood_columns",
     "volume": rows, "volume_drop": 1 - rows / median rows of the 7 windows before,
     "latency": {p50, p95, p99} or None, "latency_p95", "latency_p99",
     "estimated": {metric, value, low, high, reference} or None, "estimated_drop",
     "realised": {metric, value, low, high, reference, labelled, labelled_share,
        label_lag_hours} or None, "realised_drop", "labelled_share", "label_lag_hours",
     "concept_gap": estimated minus realised AUC when significant (what covariate shift does not
        explain)}

Drift uses the existing statistics of `stats.drift` with production.data_drift's parameters: PSI
with the same smoothing, the chi-square gate on the same bins and the same grading; numeric
features are computed for all windows at once (one matrix per feature, the formulas of
`stats.drift.psi` and `chi2_test` row by row; a test checks they agree with `compare_profiles`).
The performance metrics (estimated, realised, their drops, the concept gap) are in
monitor.performance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stats.drift import DriftConfig
from ..stats.production import PRED_COL
from ..stats.profile import CategoricalProfile, NumericProfile, Profile, hist_quantile
from ..stats.rows import scalar
from .windows import LATENCY_EDGES, latency_percentiles, unpack


@dataclass
class Reference:
    """What the window metrics compare with (read from the store's meta)."""

    profile: Profile
    features: list[str]
    task: str
    drift: DriftConfig
    importance: dict[str, float] | None = None
    important_share: float = 0.05
    threshold: float = 0.5
    scores: np.ndarray | None = None  # the reference's scores (evaluation rows)
    labels: np.ndarray | None = None  # their labels: 1/0 (binary), numbers (regression)

    def important(self, feature: str) -> bool:
        if not self.importance:
            return True
        return float(self.importance.get(feature, 0.0)) >= self.important_share


def rounded(v: float | None, k: int = 5) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), k)


# ---------------------------------------------------------------------------------------------
# drift


def _psi_rows(ref: np.ndarray, cur: np.ndarray, smoothing: float) -> np.ndarray:
    """stats.drift.psi of ref against each row of cur."""
    p = (ref + smoothing) / (ref.sum() + smoothing * len(ref))
    q = (cur + smoothing) / (cur.sum(axis=1, keepdims=True) + smoothing * cur.shape[1])
    return np.sum((q - p) * np.log(q / p), axis=1)


def _chi2_rows(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """The p-value of stats.drift.chi2_test of ref against each row of cur."""
    from scipy.stats import chi2

    tot = ref + cur
    keep = tot > 0
    na, nb = ref.sum(), cur.sum(axis=1, keepdims=True)
    n = na + nb
    with np.errstate(divide="ignore", invalid="ignore"):
        ea, eb = tot * na / n, tot * nb / n
        terms = np.where(keep, (ref - ea) ** 2 / ea + (cur - eb) ** 2 / eb, 0.0)
    stat = terms.sum(axis=1)
    dof = keep.sum(axis=1) - 1
    pv = np.ones(len(cur))
    ok = (dof >= 1) & (nb[:, 0] > 0) & (na > 0)
    pv[ok] = chi2.sf(stat[ok], dof[ok])
    return pv


def _nonfinite(d: Mapping[str, Any]) -> int:
    return int(d["missing"]) + int(d["unparsed"]) + int(d["pos_inf"]) + int(d["neg_inf"])


def numeric_drift(
    ref: NumericProfile, packed: Sequence[Mapping[str, Any] | None], smoothing: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PSI, chi-square p-value and compared values of one numeric column in every window (as
    stats.drift.compare_numeric: an extra bin for missing/inf/unparsed values when either side has
    some); NaN where the window lacks the column."""
    w, b = len(packed), len(ref.counts)
    cur = np.zeros((w, b + 1))
    ok = [d is not None and d.get("kind") == "numeric" and len(d["counts"]) == b for d in packed]
    present = np.array(ok, dtype=bool)
    if present.any():
        got = [d for d, k in zip(packed, ok) if k and d is not None]
        cur[present, :b] = np.array([d["counts"] for d in got], dtype=np.float64)
        cur[present, b] = [_nonfinite(d) for d in got]
    rx = ref.missing + ref.unparsed + ref.pos_inf + ref.neg_inf
    refc = np.concatenate((ref.counts, [rx])).astype(np.float64)
    out_psi = np.full(w, np.nan)
    out_p = np.ones(w)
    extra = present & ((cur[:, b] > 0) | (rx > 0))
    for mask, k in ((extra, b + 1), (present & ~extra, b)):
        if mask.any():
            c = cur[mask, :k]
            out_psi[mask] = _psi_rows(refc[:k], c, smoothing)
            out_p[mask] = _chi2_rows(refc[:k], c)
    n_cur = np.where(present, cur.sum(axis=1), 0)
    empty = present & (n_cur == 0)
    out_psi[empty] = 0.0
    out_p[empty] = 1.0
    return out_psi, out_p, n_cur


def categorical_drift(
    ref: CategoricalProfile, packed: Sequence[Mapping[str, Any] | None], smoothing: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PSI, chi-square p-value and compared values of one categorical column in every window (as
    stats.drift.compare_categorical: the reference's categories, the window's new ones, "other",
    and missing when either side has some); NaN where the window lacks the column."""
    keys = list(ref.counts)
    col = {k: i for i, k in enumerate(keys)}
    w = len(packed)
    rows: list[tuple[int, int, int]] = []
    other, miss = np.zeros(w), np.zeros(w)
    present = np.zeros(w, dtype=bool)
    for i, d in enumerate(packed):
        if d is None or d.get("kind") != "categorical":
            continue
        present[i] = True
        other[i], miss[i] = d.get("other", 0), d.get("missing", 0)
        for k, v in d["counts"]:
            k = scalar(k)
            if k not in col:
                col[k] = len(col)
            rows.append((i, col[k], int(v)))
    k_all = len(col)
    cur = np.zeros((w, k_all + 2))
    if rows:
        r = np.asarray(rows, dtype=np.int64)
        np.add.at(cur, (r[:, 0], r[:, 1]), r[:, 2])
    cur[:, k_all], cur[:, k_all + 1] = other, miss
    refc = np.zeros(k_all + 2)
    refc[: len(keys)] = [ref.counts[k] for k in keys]
    refc[k_all], refc[k_all + 1] = ref.other, ref.missing
    mask = np.ones((w, k_all + 2), dtype=bool)
    mask[:, len(keys) : k_all] = cur[:, len(keys) : k_all] > 0  # a new category counts where it occurs
    mask[:, k_all + 1] = (ref.missing > 0) | (miss > 0)
    nb = mask.sum(axis=1, keepdims=True)
    n_cur = np.where(present, cur.sum(axis=1), 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (refc + smoothing) / (refc.sum() + smoothing * nb)
        q = (cur + smoothing) / (cur.sum(axis=1, keepdims=True) + smoothing * nb)
        out_psi = np.where(mask, (q - p) * np.log(q / p), 0.0).sum(axis=1)
    out_p = _chi2_rows(refc, cur)
    empty = present & ((n_cur == 0) | (refc.sum() == 0))
    out_psi[empty], out_p[empty] = 0.0, 1.0
    out_psi[~present], out_p[~present] = np.nan, 1.0
    return out_psi, out_p, n_cur


def drift_metrics(ref: Reference, summaries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per window: per-feature PSI and grade, the largest significant PSIs, prediction PSI."""
    cfg = ref.drift
    cols = [(s.get("profile") or {}).get("columns", {}) for s in summaries]
    out: list[dict[str, Any]] = [{"psi": {}, "drifted": {}} for _ in summaries]
    names = [f for f in ref.features if f in ref.profile.columns] + (
        [PRED_COL] if PRED_COL in ref.profile.columns else []
    )
    for f in names:
        rp = ref.profile.columns[f]
        if isinstance(rp, NumericProfile):
            ps, pv, n = numeric_drift(rp, [c.get(f) for c in cols], cfg.smoothing)
        else:
            ps, pv, n = categorical_drift(rp, [c.get(f) for c in cols], cfg.smoothing)
        tested = (n >= cfg.min_rows) & (rp.rows >= cfg.min_rows) & np.isfinite(ps)
        drifted = tested & (ps >= cfg.psi_warning) & (pv < cfg.alpha)
        psr = np.round(ps, 5).tolist()
        fin = np.isfinite(ps).tolist()
        if f == PRED_COL:
            sig_p = (pv < cfg.alpha).tolist()
            for i in range(len(summaries)):
                if fin[i]:
                    out[i]["prediction_psi"] = psr[i] if tested[i] else None
                    out[i]["prediction_significant"] = sig_p[i]
            continue
        for i in range(len(summaries)):
            if fin[i]:
                out[i]["psi"][f] = psr[i]
        for i in np.flatnonzero(drifted).tolist():
            out[i]["drifted"][f] = "critical" if ps[i] >= cfg.psi_critical else "warning"
    for m in out:
        sig = {f: m["psi"][f] for f in m["drifted"]}
        m["feature_psi"] = max(sig.values(), default=0.0)
        m["important_feature_psi"] = max((v for f, v in sig.items() if ref.important(f)), default=0.0)
        m["top_features"] = sorted(sig, key=lambda f: -sig[f])[:5]
        m.setdefault("prediction_psi", None)
    return out


# ---------------------------------------------------------------------------------------------
# shares, volume, latency, scores


def hist_quantiles(
    packed: Sequence[Mapping[str, Any] | None], edges: np.ndarray, probs: Sequence[float]
) -> np.ndarray:
    """stats.profile.hist_quantile of each packed numeric profile on `edges`, for each prob:
    (windows, probs), NaN where a window has no value."""
    e = np.asarray(edges, np.float64)
    w, b = len(packed), len(e) + 1
    counts, lo, hi = np.zeros((w, b)), np.full(w, np.nan), np.full(w, np.nan)
    for i, d in enumerate(packed):
        if d is not None and d.get("n") and len(d["counts"]) == b:
            counts[i], lo[i], hi[i] = d["counts"], d["min"], d["max"]
    n = counts.sum(axis=1)
    x = np.column_stack([np.fmin(lo, e[0]), np.tile(e, (w, 1)), np.fmax(hi, e[-1])])
    cdf = np.column_stack([np.zeros(w), np.cumsum(counts, axis=1) / np.maximum(n, 1)[:, None]])
    rows = np.arange(w)
    out = np.full((w, len(probs)), np.nan)
    for j, prob in enumerate(probs):
        t = min(max(prob, 0.0), 1.0)
        i = (cdf < t).sum(axis=1)  # searchsorted(cdf, t, "left") row by row
        i1 = np.clip(i, 1, b)
        c0, c1 = cdf[rows, i1 - 1], cdf[rows, i1]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(c1 <= c0, 0.0, (t - c0) / (c1 - c0))
        v = x[rows, i1 - 1] + frac * (x[rows, i1] - x[rows, i1 - 1])
        v = np.where(i == 0, x[:, 0], np.where(i >= b + 1, x[:, -1], v))
        out[:, j] = np.where(n > 0, v, np.nan)
    return out


SCORE_PROBS = (("p05", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95))
LATENCY_PROBS = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


def share_metrics_many(ref: Reference, summaries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """share_metrics of many windows, the score and latency quantiles computed for all at once."""
    out = [share_metrics(ref, s, quantiles=False) for s in summaries]
    rp = ref.profile.columns.get(PRED_COL)
    if isinstance(rp, NumericProfile):
        packed = [((s.get("profile") or {}).get("columns") or {}).get(PRED_COL) for s in summaries]
        qs = hist_quantiles(packed, rp.edges, [q for _, q in SCORE_PROBS])
        for m, d, row in zip(out, packed, qs):
            if d is not None and d.get("n"):
                n, m2 = int(d["n"]), float(d["m2"])
                std = float(np.sqrt(max(m2 / (n - 1), 0.0))) if n > 1 else 0.0
                m["score"] = {
                    "mean": rounded(d["mean"]),
                    "std": rounded(std),
                    **{k: rounded(v) for (k, _), v in zip(SCORE_PROBS, row)},
                }
    lat = [s.get("latency") for s in summaries]
    lq = hist_quantiles(lat, LATENCY_EDGES, [q for _, q in LATENCY_PROBS])
    for m, d, row in zip(out, lat, lq):
        if d is not None and d.get("n"):
            m["latency"] = {k: round(float(v), 3) for (k, _), v in zip(LATENCY_PROBS, row)}
            m["latency_p95"], m["latency_p99"] = m["latency"]["p95"], m["latency"]["p99"]
    return out


def share_metrics(ref: Reference, s: Mapping[str, Any], quantiles: bool = True) -> dict[str, Any]:
    """Missing, schema and out-of-distribution shares, volume, latency and the score summary of
    one window (the quantiles left to share_metrics_many when `quantiles` is False)."""
    rows = int(s.get("rows", 0))
    cols = (s.get("profile") or {}).get("columns", {})
    schema = s.get("schema") or {}
    missing: dict[str, float] = {}
    rises: dict[str, float] = {}
    for f in ref.features:
        d, rp = cols.get(f), ref.profile.columns.get(f)
        if d is None or rp is None or not rows:
            continue
        share = float(d.get("missing", 0)) / rows
        if share > 0:
            missing[f] = round(share, 5)
        rises[f] = share - rp.missing_rate
    bad = int(s.get("quarantined", 0)) + max(
        [0, *schema.get("unparsed", {}).values(), *schema.get("missing", {}).values()]
    )
    total = rows + int(s.get("quarantined", 0))
    lat = latency_percentiles(s.get("latency")) if quantiles else None
    rise = max(rises.values(), default=0.0)
    ood = s.get("ood") or {}
    schema_cols = sorted({*schema.get("unparsed", {}), *schema.get("missing", {})})
    return {
        "volume": rows,
        "missing": missing,
        "missing_share": round(max(rise, 0.0), 5),
        "missing_columns": sorted((f for f in rises if rises[f] >= 0.01), key=lambda f: -rises[f])[:10],
        "schema_columns": schema_cols[:20],
        "ood_columns": sorted(ood, key=lambda f: -int(ood[f]))[:10],
        "schema_share": round(min(bad / total, 1.0), 5) if total else 0.0,
        "ood_share": round(int(s.get("ood_rows", 0)) / rows, 5) if rows else 0.0,
        "latency": lat,
        "latency_p95": lat["p95"] if lat else None,
        "latency_p99": lat["p99"] if lat else None,
        "score": score_summary(ref, cols.get(PRED_COL)) if quantiles else None,
    }


def score_summary(ref: Reference, d: Mapping[str, Any] | None) -> dict[str, Any] | None:
    rp = ref.profile.columns.get(PRED_COL)
    if d is None or not d.get("n") or not isinstance(rp, NumericProfile):
        return None
    p = unpack(PRED_COL, d, rp.edges)
    assert isinstance(p, NumericProfile)
    out: dict[str, Any] = {"mean": rounded(p.mean), "std": rounded(p.std)}
    for k, q in SCORE_PROBS:
        out[k] = rounded(hist_quantile(p, q))
    return out


def volume_drops(volumes: Sequence[int], span: int = 7) -> list[float | None]:
    """1 - rows / median rows of the `span` windows before (None for the first window)."""
    v = np.asarray(volumes, dtype=np.float64)
    out: list[float | None] = []
    for i in range(len(v)):
        prev = v[max(0, i - span) : i]
        med = float(np.median(prev)) if len(prev) else 0.0
        out.append(None if med <= 0 else round(max(0.0, 1.0 - v[i] / med), 5))
    return out
