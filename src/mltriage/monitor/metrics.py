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

from ..stats.drift import DriftConfig, chi2_rows, psi_rows
from ..stats.production import PRED_COL
from ..stats.profile import CategoricalProfile, NumericProfile, Profile, hist_quantile
from ..stats.rows import scalar
from .summary_codec import LATENCY, NS, Layout, S, Windows
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


def numeric_drift(
    ref: NumericProfile, block: np.ndarray | None, smoothing: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PSI, chi-square p-value and compared values of one numeric column in every window (as
    stats.drift.compare_numeric: an extra bin for missing/inf/unparsed values when either side has
    some); NaN where the window lacks the column. `block`: the column's (windows, NS + bins)
    block of the stored summaries (summary_codec); None when no window has it."""
    b = len(ref.counts)
    w = 0 if block is None else len(block)
    cur = np.zeros((w, b + 1))
    present = np.zeros(w, dtype=bool)
    if block is not None and block.shape[1] == NS + b:
        present = block[:, S["present"]] > 0
        cur[:, :b] = block[:, NS:]
        cur[:, b] = block[:, [S["missing"], S["unparsed"], S["pos_inf"], S["neg_inf"]]].sum(axis=1)
        cur[~present] = 0.0
    rx = ref.missing + ref.unparsed + ref.pos_inf + ref.neg_inf
    refc = np.concatenate((ref.counts, [rx])).astype(np.float64)
    out_psi = np.full(w, np.nan)
    out_p = np.ones(w)
    extra = present & ((cur[:, b] > 0) | (rx > 0))
    for mask, k in ((extra, b + 1), (present & ~extra, b)):
        if mask.any():
            c = cur[mask, :k]
            out_psi[mask] = psi_rows(refc[:k], c, smoothing)
            out_p[mask] = chi2_rows(refc[:k], c)
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
    wi: list[int] = []
    ci: list[int] = []
    vi: list[int] = []
    other, miss = np.zeros(w), np.zeros(w)
    present = np.zeros(w, dtype=bool)
    for i, d in enumerate(packed):
        if d is None or d.get("kind") != "categorical":
            continue
        present[i] = True
        other[i], miss[i] = d.get("other", 0), d.get("missing", 0)
        for k, v in d["counts"]:
            if not isinstance(k, str):
                k = scalar(k)
            j = col.get(k)
            if j is None:
                j = col[k] = len(col)
            wi.append(i)
            ci.append(j)
            vi.append(int(v))
    k_all = len(col)
    cur = np.zeros((w, k_all + 2))
    if wi:
        flat = np.asarray(wi, dtype=np.int64) * (k_all + 2) + np.asarray(ci, dtype=np.int64)
        cur += np.bincount(flat, weights=np.asarray(vi, dtype=np.float64), minlength=w * (k_all + 2)).reshape(
            w, k_all + 2
        )
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
    out_p = chi2_rows(refc, cur)
    empty = present & ((n_cur == 0) | (refc.sum() == 0))
    out_psi[empty], out_p[empty] = 0.0, 1.0
    out_psi[~present], out_p[~present] = np.nan, 1.0
    return out_psi, out_p, n_cur


def as_windows(ref: Reference, summaries: Sequence[Mapping[str, Any]] | Windows) -> Windows:
    """Summaries (dicts) in the stored form, for the kernels below (which read many windows)."""
    if isinstance(summaries, Windows):
        return summaries
    return Windows.from_summaries(summaries, Layout.from_profile(ref.profile))


def drift_metrics(ref: Reference, summaries: Sequence[Mapping[str, Any]] | Windows) -> list[dict[str, Any]]:
    """Per window: per-feature PSI and grade, the largest significant PSIs, prediction PSI."""
    cfg = ref.drift
    win = as_windows(ref, summaries)
    n_win = len(win)
    out: list[dict[str, Any]] = [{"psi": {}, "drifted": {}} for _ in range(n_win)]
    names = [f for f in ref.features if f in ref.profile.columns] + (
        [PRED_COL] if PRED_COL in ref.profile.columns else []
    )
    for f in names:
        rp = ref.profile.columns[f]
        if isinstance(rp, NumericProfile):
            ps, pv, n = numeric_drift(rp, win.block(f), cfg.smoothing)
        else:
            ps, pv, n = categorical_drift(rp, win.columns(f), cfg.smoothing)
        tested = (n >= cfg.min_rows) & (rp.rows >= cfg.min_rows) & np.isfinite(ps)
        drifted = tested & (ps >= cfg.psi_warning) & (pv < cfg.alpha)
        psr = np.round(ps, 5).tolist()
        fin = np.isfinite(ps).tolist()
        if f == PRED_COL:
            sig_p = (pv < cfg.alpha).tolist()
            for i in range(n_win):
                if fin[i]:
                    out[i]["prediction_psi"] = psr[i] if tested[i] else None
                    out[i]["prediction_significant"] = sig_p[i]
            continue
        for i in np.flatnonzero(fin).tolist():
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
    return hist_quantiles_of(counts, lo, hi, e, probs)


def block_quantiles(
    block: np.ndarray, edges: np.ndarray, probs: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """hist_quantiles of a column's block of stored summaries (summary_codec), and where the
    window has a value."""
    ok = (block[:, S["present"]] > 0) & (block[:, S["n"]] > 0)
    counts = np.where(ok[:, None], block[:, NS:], 0.0)
    lo = np.where(ok, block[:, S["min"]], np.nan)
    hi = np.where(ok, block[:, S["max"]], np.nan)
    return hist_quantiles_of(counts, lo, hi, np.asarray(edges, np.float64), probs), ok


def hist_quantiles_of(
    counts: np.ndarray, lo: np.ndarray, hi: np.ndarray, e: np.ndarray, probs: Sequence[float]
) -> np.ndarray:
    """hist_quantiles on counts (windows, bins), the windows' min and max and the edges."""
    w, b = counts.shape[0], len(e) + 1
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


def share_metrics_many(
    ref: Reference, summaries: Sequence[Mapping[str, Any]] | Windows
) -> list[dict[str, Any]]:
    """share_metrics of many windows (missing shares, score and latency quantiles computed for
    all at once)."""
    win = as_windows(ref, summaries)
    out = [share_metrics(ref, s, quantiles=False, missing=False) for s in win.sparse]
    _missing_many(ref, win, out)
    rp = ref.profile.columns.get(PRED_COL)
    blk = win.block(PRED_COL)
    if isinstance(rp, NumericProfile) and blk is not None and blk.shape[1] == NS + len(rp.counts):
        qs, ok = block_quantiles(blk, rp.edges, [q for _, q in SCORE_PROBS])
        for i in np.flatnonzero(ok).tolist():
            n, m2 = int(blk[i, S["n"]]), float(blk[i, S["m2"]])
            std = float(np.sqrt(max(m2 / (n - 1), 0.0))) if n > 1 else 0.0
            out[i]["score"] = {
                "mean": rounded(float(blk[i, S["mean"]])),
                "std": rounded(std),
                **{k: rounded(v) for (k, _), v in zip(SCORE_PROBS, qs[i].tolist())},
            }
    lat = win.block(LATENCY)
    if lat is not None:
        lq, ok = block_quantiles(lat, LATENCY_EDGES, [q for _, q in LATENCY_PROBS])
        for i in np.flatnonzero(ok).tolist():
            m = out[i]
            m["latency"] = {k: round(float(v), 3) for (k, _), v in zip(LATENCY_PROBS, lq[i].tolist())}
            m["latency_p95"], m["latency_p99"] = m["latency"]["p95"], m["latency"]["p99"]
    return out


def _missing_many(ref: Reference, win: Windows, out: list[dict[str, Any]]) -> None:
    """share_metrics' missing, missing_share and missing_columns of every window at once."""
    feats = [f for f in ref.features if f in ref.profile.columns]
    w = len(win)
    miss = np.full((w, len(feats)), np.nan)
    in_sparse = set().union(*(((s.get("profile") or {}).get("columns") or {}) for s in win.sparse))
    for j, f in enumerate(feats):
        if f in in_sparse:
            for i, d in enumerate(win.columns(f)):
                if d is not None:
                    miss[i, j] = float(d.get("missing", 0))
        blk = win.block(f)
        if blk is not None:
            pres = blk[:, S["present"]] > 0
            miss[pres, j] = blk[pres, S["missing"]]
    rows = np.array([float(int(s.get("rows", 0))) for s in win.sparse])
    miss[rows == 0] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        share = miss / rows[:, None]
    rate = np.array([ref.profile.columns[f].missing_rate for f in feats])
    rises = share - rate[None, :]
    have = np.isfinite(rises)
    top = np.where(have, rises, -np.inf).max(axis=1) if len(feats) else np.full(w, -np.inf)
    pos_r, pos_c = np.nonzero(share > 0)
    big = (
        np.flatnonzero((np.where(have, rises, -np.inf) >= 0.01).any(axis=1))
        if len(feats)
        else np.empty(0, int)
    )
    for m in out:
        m["missing"], m["missing_columns"] = {}, []
    for i, j in zip(pos_r.tolist(), pos_c.tolist()):
        out[i]["missing"][feats[j]] = round(float(share[i, j]), 5)
    for i, t in enumerate(top.tolist()):
        out[i]["missing_share"] = round(max(t if t != -np.inf else 0.0, 0.0), 5)
    for i in big.tolist():
        r = {feats[j]: float(rises[i, j]) for j in np.flatnonzero(have[i]).tolist()}
        out[i]["missing_columns"] = sorted((f for f in r if r[f] >= 0.01), key=lambda f: -r[f])[:10]


def share_metrics(
    ref: Reference, s: Mapping[str, Any], quantiles: bool = True, missing: bool = True
) -> dict[str, Any]:
    """Missing, schema and out-of-distribution shares, volume, latency and the score summary of
    one window (the quantiles, or the missing shares, left to share_metrics_many when
    `quantiles`, or `missing`, is False)."""
    rows = int(s.get("rows", 0))
    cols = (s.get("profile") or {}).get("columns", {})
    schema = s.get("schema") or {}
    miss: dict[str, float] = {}
    rises: dict[str, float] = {}
    for f in ref.features if missing else ():
        d, rp = cols.get(f), ref.profile.columns.get(f)
        if d is None or rp is None or not rows:
            continue
        share = float(d.get("missing", 0)) / rows
        if share > 0:
            miss[f] = round(share, 5)
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
        "missing": miss,
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
    med = np.zeros(len(v))
    for i in range(1, min(span, len(v))):
        med[i] = float(np.median(v[:i]))
    if len(v) > span:  # every window with `span` windows before it at once
        from numpy.lib.stride_tricks import sliding_window_view

        med[span:] = np.median(sliding_window_view(v[:-1], span), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.maximum(0.0, 1.0 - v / med)
    return [
        None if (i == 0 or m <= 0) else round(float(d), 5)
        for i, (m, d) in enumerate(zip(med.tolist(), drop.tolist()))
    ]
