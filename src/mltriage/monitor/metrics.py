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
Estimated performance is CBPE (`stats.drift_performance.expected_binary_metrics` on the scores
calibrated by isotonic regression on the reference's labelled scores), its interval the
Hanley-McNeil interval (`stats.metrics.auc_interval`) on the expected class counts. Realised
performance is the AUC (accuracy for multiclass, MAE for regression) on the labelled rows with
its interval; a drop counts only when its interval excludes the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..stats.drift import DriftConfig, chi2_test, psi
from ..stats.drift_performance import expected_binary_metrics
from ..stats.metrics import auc_interval
from ..stats.production import PRED_COL
from ..stats.profile import CategoricalProfile, NumericProfile, Profile, hist_quantile
from .windows import latency_percentiles, unpack


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


def _r(v: float | None, k: int = 5) -> float | None:
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
    return (
        int(d.get("missing", 0))
        + int(d.get("unparsed", 0))
        + int(d.get("pos_inf", 0))
        + int(d.get("neg_inf", 0))
    )


def numeric_drift(
    ref: NumericProfile, packed: Sequence[Mapping[str, Any] | None], smoothing: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PSI, chi-square p-value and compared values of one numeric column in every window (as
    stats.drift.compare_numeric: an extra bin for missing/inf/unparsed values when either side has
    some); NaN where the window lacks the column."""
    w, b = len(packed), len(ref.counts)
    cur = np.zeros((w, b + 1))
    present = np.zeros(w, dtype=bool)
    for i, d in enumerate(packed):
        if d is not None and d.get("kind") == "numeric" and len(d["counts"]) == b:
            cur[i, :b] = d["counts"]
            cur[i, b] = _nonfinite(d)
            present[i] = True
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
    ref: CategoricalProfile, d: Mapping[str, Any] | None, smoothing: float
) -> tuple[float, float, int]:
    """PSI, chi-square p-value and compared values of one categorical column (as
    stats.drift.compare_categorical)."""
    if d is None or d.get("kind") != "categorical":
        return float("nan"), 1.0, 0
    cur = unpack(ref.name, d)
    assert isinstance(cur, CategoricalProfile)
    keys = list(ref.counts) + [k for k in cur.counts if k not in ref.counts]
    rc = [ref.counts.get(k, 0) for k in keys] + [ref.other]
    cc = [cur.counts.get(k, 0) for k in keys] + [cur.other]
    if ref.missing or cur.missing:
        rc.append(ref.missing)
        cc.append(cur.missing)
    ra, ca = np.asarray(rc, np.float64), np.asarray(cc, np.float64)
    if ra.sum() == 0 or ca.sum() == 0:
        return 0.0, 1.0, int(ca.sum())
    return psi(ra, ca, smoothing), chi2_test(ra, ca)[1], int(ca.sum())


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
            trip = [categorical_drift(rp, c.get(f), cfg.smoothing) for c in cols]
            ps = np.array([t[0] for t in trip])
            pv = np.array([t[1] for t in trip])
            n = np.array([t[2] for t in trip])
        tested = (n >= cfg.min_rows) & (rp.rows >= cfg.min_rows) & np.isfinite(ps)
        drifted = tested & (ps >= cfg.psi_warning) & (pv < cfg.alpha)
        for i in range(len(summaries)):
            if not np.isfinite(ps[i]):
                continue
            if f == PRED_COL:
                out[i]["prediction_psi"] = _r(ps[i]) if tested[i] else None
                out[i]["prediction_significant"] = bool(pv[i] < cfg.alpha)
                continue
            out[i]["psi"][f] = _r(ps[i])
            if drifted[i]:
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


def share_metrics(ref: Reference, s: Mapping[str, Any]) -> dict[str, Any]:
    """Missing, schema and out-of-distribution shares, volume and latency of one window."""
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
    lat = latency_percentiles(s.get("latency"))
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
        "score": score_summary(ref, cols.get(PRED_COL)),
    }


def score_summary(ref: Reference, d: Mapping[str, Any] | None) -> dict[str, Any] | None:
    rp = ref.profile.columns.get(PRED_COL)
    if d is None or not d.get("n") or not isinstance(rp, NumericProfile):
        return None
    p = unpack(PRED_COL, d, rp.edges)
    assert isinstance(p, NumericProfile)
    out: dict[str, Any] = {"mean": _r(p.mean), "std": _r(p.std)}
    for k, q in (("p05", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95)):
        out[k] = _r(hist_quantile(p, q))
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


# ---------------------------------------------------------------------------------------------
# performance


class Calibrator:
    """Scores -> calibrated P(positive), isotonic on the reference's labelled scores (as CBPE)."""

    def __init__(self, scores: np.ndarray, labels: np.ndarray) -> None:
        from sklearn.isotonic import IsotonicRegression

        ok = np.isfinite(scores)
        self.iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        self.iso.fit(scores[ok], labels[ok].astype(np.float64))

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(self.iso.predict(scores), dtype=np.float64)


def reference_performance(ref: Reference) -> dict[str, Any] | None:
    """The reference's realised metric (AUC for binary, MAE for regression)."""
    if ref.scores is None or ref.labels is None or not len(ref.scores):
        return None
    if ref.task == "binary":
        m = expected_binary_metrics(ref.labels.astype(np.float64), ref.scores, ref.threshold)
        return {"metric": "roc_auc", "value": _r(m["roc_auc"]), "accuracy": _r(m["accuracy"])}
    if ref.task == "regression":
        return {"metric": "mae", "value": _r(float(np.mean(np.abs(ref.labels - ref.scores))))}
    return None


def estimated_performance(
    ref: Reference, cal: Calibrator | None, scores: np.ndarray
) -> dict[str, Any] | None:
    """CBPE of one window's scores: expected AUC and accuracy with the AUC's interval."""
    if cal is None or ref.task != "binary":
        return None
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if len(s) < 2:
        return None
    p = cal(s)
    m = expected_binary_metrics(p, s, ref.threshold)
    n1, n0 = float(p.sum()), float(len(p) - p.sum())
    lo, hi = auc_interval(m["roc_auc"], int(round(n1)), int(round(n0)))
    refp = reference_performance(ref) or {}
    return {
        "metric": "roc_auc",
        "value": _r(m["roc_auc"]),
        "low": _r(lo),
        "high": _r(hi),
        "accuracy": _r(m["accuracy"]),
        "reference": refp.get("value"),
    }


def realised_performance(ref: Reference, labelled: pd.DataFrame, rows: int) -> dict[str, Any] | None:
    """AUC (binary) or MAE (regression) on a window's labelled rows, with its interval, the
    labelled share and the median label lag in hours."""
    if labelled.empty:
        return None
    y = labelled["label"].to_numpy(np.float64)
    s = labelled["score"].to_numpy(np.float64)
    ok = np.isfinite(y) & np.isfinite(s)
    y, s = y[ok], s[ok]
    refp = reference_performance(ref) or {}
    out: dict[str, Any] = {"labelled": int(len(y)), "labelled_share": _r(len(y) / rows if rows else 0.0, 4)}
    lag = pd.to_datetime(labelled["labelled_at"]) - pd.to_datetime(labelled["ts"])
    out["label_lag_hours"] = _r(lag.dt.total_seconds().median() / 3600, 2) if len(lag) else None
    out["reference"] = refp.get("value")
    if ref.task == "binary":
        n1 = int((y == 1).sum())
        if 0 < n1 < len(y):
            m = expected_binary_metrics(y, s, ref.threshold)
            lo, hi = auc_interval(m["roc_auc"], n1, len(y) - n1)
            out.update(
                metric="roc_auc", value=_r(m["roc_auc"]), low=_r(lo), high=_r(hi), accuracy=_r(m["accuracy"])
            )
        else:
            out.update(metric="roc_auc", value=None, low=None, high=None)
    elif ref.task == "regression" and len(y):
        err = np.abs(y - s)
        mae, se = (
            float(err.mean()),
            float(err.std(ddof=1) / np.sqrt(len(err))) if len(err) > 1 else float("nan"),
        )
        out.update(metric="mae", value=_r(mae), low=_r(mae - 1.96 * se), high=_r(mae + 1.96 * se))
    return out


def drop(perf: Mapping[str, Any] | None) -> float:
    """How much worse a window is than the reference, when its interval excludes the reference
    (AUC: reference - value; MAE: relative rise); 0 otherwise."""
    if not perf or perf.get("value") is None or perf.get("reference") is None:
        return 0.0
    ref, v, lo, hi = perf["reference"], perf["value"], perf.get("low"), perf.get("high")
    if perf.get("metric") == "mae":
        worse = (v - ref) / ref if ref else 0.0
        return round(max(worse, 0.0), 5) if lo is not None and lo > ref else 0.0
    return round(max(ref - v, 0.0), 5) if hi is not None and hi < ref else 0.0


def concept_gap(est: Mapping[str, Any] | None, real: Mapping[str, Any] | None) -> float:
    """How far the realised AUC falls below the CBPE estimate of the same window, when the
    realised interval excludes the estimate; 0 otherwise. The estimate assumes P(y | x) unchanged,
    so it follows covariate shift: what it does not explain is concept drift."""
    if not est or not real or est.get("value") is None or real.get("value") is None:
        return 0.0
    if real.get("metric") != est.get("metric") or real.get("high") is None:
        return 0.0
    gap = float(est["value"]) - float(real["value"])
    return round(gap, 5) if real["high"] < est["value"] else 0.0
