"""The performance metrics of windows: estimated before labels arrive, realised as they do.

Estimated (binary): CBPE, as `stats.drift_performance` computes it: the scores calibrated by
isotonic regression on the reference's labelled scores (`Calibrator`), then the expected ROC AUC
(`weighted_auc`, each row positive with its calibrated probability) and the expected accuracy at
the threshold in use (`expected_binary_metrics`). `estimated_many` does it for every window of a
check at once: one calibration call and one sort for all their scores (`grouped_weighted_auc`
equals `weighted_auc` per window; a test checks it). The interval is the Hanley-McNeil interval
(`stats.metrics.auc_interval`) on the expected numbers of positives and negatives.
Realised: the AUC (binary) or MAE (regression) on a window's labelled rows, with its interval,
the labelled share and the median label lag. A drop counts only when the interval excludes the
reference; the concept gap is how far the realised AUC falls below the estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..stats.drift_performance import expected_binary_metrics, isotonic
from ..stats.metrics import auc_interval
from .metrics import Reference, rounded


class Calibrator:
    """Scores -> calibrated P(positive), isotonic on the reference's labelled scores (as CBPE)."""

    def __init__(self, scores: np.ndarray, labels: np.ndarray) -> None:
        self.iso = isotonic(np.asarray(scores, dtype=np.float64), np.asarray(labels))

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(self.iso.predict(scores), dtype=np.float64)


def reference_performance(ref: Reference) -> dict[str, Any] | None:
    """The reference's realised metric (AUC for binary, MAE for regression)."""
    if ref.scores is None or ref.labels is None or not len(ref.scores):
        return None
    if ref.task == "binary":
        m = expected_binary_metrics(ref.labels.astype(np.float64), ref.scores, ref.threshold)
        return {"metric": "roc_auc", "value": rounded(m["roc_auc"]), "accuracy": rounded(m["accuracy"])}
    if ref.task == "regression":
        return {"metric": "mae", "value": rounded(float(np.mean(np.abs(ref.labels - ref.scores))))}
    return None


def grouped_weighted_auc(
    groups: np.ndarray, score: np.ndarray, w_pos: np.ndarray, n_groups: int, presorted: bool = False
) -> np.ndarray:
    """`stats.drift_performance.weighted_auc` of each group (0..n_groups-1), from one sort: ties
    inside a group count half; NaN where a group has no expected positive or negative.
    `presorted`: the rows already come by group, then score (no sort, no gather)."""
    g = np.asarray(groups, dtype=np.int64)
    sc = np.asarray(score, dtype=np.float64)
    if presorted:
        s, wp = sc, np.asarray(w_pos, dtype=np.float64)
    else:
        if len(sc) and np.nanmin(sc) >= 0.0 and np.nanmax(sc) <= 1.0:
            order = np.argsort(g * 2.0 + sc, kind="stable")  # probabilities: one float sort, groups apart
        else:
            order = np.lexsort((sc, g))
        g, s = g[order], sc[order]
        wp = np.asarray(w_pos, dtype=np.float64)[order]
    if not len(s):  # no scored row in any group (windows logged without scores)
        return np.full(n_groups, np.nan)
    wn = 1.0 - wp
    new = np.r_[True, (g[1:] != g[:-1]) | (s[1:] != s[:-1])]  # a new (group, score) tie block
    starts = np.flatnonzero(new)
    tg = g[starts]
    wp_t, wn_t = np.add.reduceat(wp, starts), np.add.reduceat(wn, starts)
    cum = np.cumsum(wn_t) - wn_t  # negatives before each block, over all groups
    first = np.r_[True, tg[1:] != tg[:-1]]
    offset = cum[np.flatnonzero(first)]
    below = cum - np.repeat(offset, np.diff(np.r_[np.flatnonzero(first), len(tg)]))
    num = np.bincount(tg, weights=wp_t * (below + 0.5 * wn_t), minlength=n_groups)
    pos = np.bincount(g, weights=wp, minlength=n_groups)
    neg = np.bincount(g, weights=wn, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((pos > 0) & (neg > 0), num / (pos * neg), np.nan)


def estimated_many(
    ref: Reference, cal: Calibrator | None, scores: Mapping[Any, np.ndarray], refp: Mapping[str, Any] | None
) -> dict[Any, dict[str, Any] | None]:
    """CBPE of each window's scores: expected AUC with its interval and expected accuracy."""
    if cal is None or ref.task != "binary" or not scores:
        return {k: None for k in scores}
    keys = list(scores)
    parts = [np.asarray(scores[k], dtype=np.float64) for k in keys]
    # each window's finite scores sorted on their own (small sorts, no gather of 10M rows), then
    # calibrated in that order (np.interp on sorted values is cache-friendly): the rows by window,
    # then score, as grouped_weighted_auc wants them
    parts = [np.sort(p[np.isfinite(p)]) for p in parts]
    sizes = np.array([len(p) for p in parts])
    gi = np.repeat(np.arange(len(keys)), sizes)
    s = np.concatenate(parts) if parts else np.empty(0)
    p = cal(s) if len(s) else s
    auc = grouped_weighted_auc(gi, s, p, len(keys), presorted=True)
    pred = s >= ref.threshold
    correct = np.where(pred, p, 1 - p)
    acc = np.bincount(gi, weights=correct, minlength=len(keys)) / np.maximum(sizes, 1)
    n1 = np.bincount(gi, weights=p, minlength=len(keys))
    out: dict[Any, dict[str, Any] | None] = {}
    for i, k in enumerate(keys):
        if sizes[i] < 2 or not np.isfinite(auc[i]):
            out[k] = None
            continue
        lo, hi = auc_interval(float(auc[i]), int(round(n1[i])), int(round(sizes[i] - n1[i])))
        out[k] = {
            "metric": "roc_auc",
            "value": rounded(float(auc[i])),
            "low": rounded(lo),
            "high": rounded(hi),
            "accuracy": rounded(float(acc[i])),
            "reference": (refp or {}).get("value"),
        }
    return out


def realised_performance(
    ref: Reference, labelled: pd.DataFrame, rows: int, refp: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """AUC (binary) or MAE (regression) on a window's labelled rows, with its interval, the
    labelled share and the median label lag in hours."""
    if labelled.empty:
        return None
    y = labelled["label"].to_numpy(np.float64)
    s = labelled["score"].to_numpy(np.float64)
    ok = np.isfinite(y) & np.isfinite(s)
    y, s = y[ok], s[ok]
    refp = refp if refp is not None else reference_performance(ref) or {}
    out: dict[str, Any] = {
        "labelled": int(len(y)),
        "labelled_share": rounded(len(y) / rows if rows else 0.0, 4),
    }
    lag = pd.to_datetime(labelled["labelled_at"]) - pd.to_datetime(labelled["ts"])
    out["label_lag_hours"] = rounded(lag.dt.total_seconds().median() / 3600, 2) if len(lag) else None
    out["reference"] = refp.get("value")
    if ref.task == "binary":
        n1 = int((y == 1).sum())
        if 0 < n1 < len(y):
            m = expected_binary_metrics(y, s, ref.threshold)
            lo, hi = auc_interval(m["roc_auc"], n1, len(y) - n1)
            out.update(
                metric="roc_auc",
                value=rounded(m["roc_auc"]),
                low=rounded(lo),
                high=rounded(hi),
                accuracy=rounded(m["accuracy"]),
            )
        else:
            out.update(metric="roc_auc", value=None, low=None, high=None)
    elif ref.task == "regression" and len(y):
        err = np.abs(y - s)
        mae = float(err.mean())
        se = float(err.std(ddof=1) / np.sqrt(len(err))) if len(err) > 1 else float("nan")
        out.update(
            metric="mae", value=rounded(mae), low=rounded(mae - 1.96 * se), high=rounded(mae + 1.96 * se)
        )
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
