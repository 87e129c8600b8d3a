"""Metrics and intervals shared by the checks: one definition of each, vectorised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import stats as sps
from sklearn import metrics as skm

from ..positive import positive_scores

HEADLINE = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2", "ranking": "ndcg@10"}
GREATER_IS_BETTER = {
    "roc_auc": True,
    "accuracy": True,
    "r2": True,
    "ndcg@10": True,
    "log_loss": False,
    "mae": False,
    "rmse": False,
    "balanced_accuracy": True,
    "f1": True,
    "pr_auc": True,
    "precision": True,
    "recall": True,
}


def wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def holm(p) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (family-wise error control), in the input order."""
    p = np.asarray(p, dtype=float)
    m = p.size
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(np.argsort(p)):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def bootstrap_ci(
    fn: Callable[..., float],
    arrays: Sequence[np.ndarray],
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of fn(*arrays) over resampled rows."""
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    vals = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        try:
            v = fn(*(a[idx] for a in arrays))
        except ValueError:
            continue
        if np.isfinite(v):
            vals.append(v)
    if not vals:
        return (float("nan"), float("nan"))
    a = (1 - level) / 2
    return (float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a)))


def auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC; NaN when only one class is present or scores are missing."""
    y = np.asarray(y_true)
    s = np.asarray(score, dtype=float)
    ok = np.isfinite(s)
    y, s = y[ok], s[ok]
    if len(np.unique(y)) < 2:
        return float("nan")
    return roc_auc(y, s)


def roc_auc(y_true: Any, score: Any) -> float:
    """scikit-learn's `roc_auc_score(y_true, score)` for binary labels (0/1, -1/1 or booleans; the
    positive class is the larger), computed as it does (stable descending sort, one point per
    distinct score, collinear points dropped, trapezoids summed), so the same float, without its
    per-call input validation (~2 ms a call, which checks calling it per feature and class pay
    hundreds of times). Anything else (other labels, one class, non-finite scores, 2-D scores)
    goes to scikit-learn itself."""
    y = np.asarray(y_true)
    s = np.asarray(score)
    if y.ndim != 1 or s.ndim != 1 or len(y) != len(s) or len(y) < 2 or s.dtype.kind not in "biuf":
        return float(skm.roc_auc_score(y_true, score))
    if y.dtype.kind == "b":
        pos = y
    elif y.dtype.kind in "iuf" and (((y == 0) | (y == 1)).all() or ((y == -1) | (y == 1)).all()):
        pos = y == 1
    else:
        return float(skm.roc_auc_score(y_true, score))
    n_pos = int(pos.sum())
    if n_pos == 0 or n_pos == len(pos) or not np.isfinite(s).all():
        return float(skm.roc_auc_score(y_true, score))
    order = np.argsort(s[::-1], kind="stable")[::-1]
    order = len(s) - 1 - order
    s_sorted = s[order]
    idx = np.concatenate([np.nonzero(np.diff(s_sorted))[0], [len(s) - 1]])
    tps = np.cumsum(pos[order].astype(np.float64), dtype=np.float64)[idx]
    fps = 1 + idx.astype(np.float64) - tps
    if fps.shape[0] > 2:
        keep = np.nonzero(np.concatenate([[True], np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), [True]]))[
            0
        ]
        fps, tps = fps[keep], tps[keep]
    tps = np.concatenate([[0.0], tps])
    fps = np.concatenate([[0.0], fps])
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2.0, dtype=np.float64))


def auc_se(a: float, n1: int, n0: int) -> float:
    """Hanley-McNeil standard error of a ROC AUC `a` with n1 positives and n0 negatives: the one
    AUC interval of mltriage (every check that states an AUC interval uses this)."""
    if not np.isfinite(a) or n0 <= 0 or n1 <= 0:
        return float("nan")
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return float(
        np.sqrt(max(a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a), 0.0) / (n0 * n1))
    )


def auc_interval(a: float, n1: int, n0: int, z: float = 1.96) -> tuple[float, float]:
    """The normal interval of an AUC from its Hanley-McNeil standard error, clipped to [0, 1]."""
    se = auc_se(a, n1, n0)
    if not np.isfinite(se):
        return float("nan"), float("nan")
    return float(max(0.0, a - z * se)), float(min(1.0, a + z * se))


def auc_ci(y_true: np.ndarray, score: np.ndarray) -> tuple[float, float, float]:
    """AUC with the Hanley-McNeil 95% interval (fast, no resampling)."""
    a = auc(y_true, score)
    y = np.asarray(y_true)
    n1 = int((y == 1).sum()) if set(np.unique(y)) <= {0, 1} else int((y == np.max(y)).sum())
    return (a, *auc_interval(a, n1, len(y) - n1))


def headline(
    task: str,
    y: np.ndarray,
    score: np.ndarray,
    label: np.ndarray | None = None,
    *,
    positive: object = 1,
    groups: np.ndarray | None = None,
) -> tuple[float, float]:
    """The headline metric HEADLINE[task] of predictions on a set, with its standard error.

    binary: ROC AUC of `score` for `positive` (Hanley-McNeil); multiclass: accuracy of `label`
    (binomial); regression: R² of `score` (delta method on the squared errors); ranking: NDCG@10
    by query `groups` (the spread of per-query values). NaN when it cannot be computed."""
    nan = (float("nan"), float("nan"))
    metric = HEADLINE[task]
    if metric == "roc_auc":
        yy = (np.asarray(y) == positive).astype(int)
        s = np.asarray(score, dtype=float)
        ok = np.isfinite(s)
        a = auc(yy[ok], s[ok])
        n1 = int(yy[ok].sum())
        return a, auc_se(a, n1, int(ok.sum()) - n1)
    if metric == "accuracy":
        hit = np.asarray(np.asarray(label) == np.asarray(y), dtype=float)
        if not len(hit):
            return nan
        acc = float(hit.mean())
        return acc, float(np.sqrt(max(acc * (1 - acc), 1e-12) / len(hit)))
    if metric == "r2":
        yv, pv = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
        ok = np.isfinite(yv) & np.isfinite(pv)
        yv, pv = yv[ok], pv[ok]
        e2, d2 = (yv - pv) ** 2, (yv - yv.mean()) ** 2
        sse, sst = e2.mean() if len(e2) else np.nan, d2.mean() if len(d2) else np.nan
        if not len(yv) > 2 or sst <= 0:
            return nan
        g = np.array([-1 / sst, sse / sst**2])  # delta method: variance of a ratio of two means
        se = float(np.sqrt(max(float(g @ np.cov(e2, d2) @ g), 0.0) / len(yv)))
        return float(1 - sse / sst), se
    if groups is None:
        return nan
    per_q = ndcg_per_query(groups, np.asarray(y, float), np.asarray(score, float), 10)
    return float(per_q.mean()), float(per_q.std(ddof=1) / np.sqrt(max(len(per_q), 1)))


def per_class_table(
    y: np.ndarray, label: np.ndarray, classes: Sequence[Any], *, intervals: bool = False
) -> list[dict[str, Any]]:
    """Support, predicted count, precision, recall and F1 of every class, in the order of
    `classes`; with `intervals`, the Wilson 95% intervals of precision and recall too. Labels are
    compared as text (1 and "1" are one class, as in a report); a ratio without denominator is NaN,
    and F1 is 2 TP / (support + predicted)."""
    y = pd.Series(np.asarray(y, dtype=object)).astype(str).to_numpy()
    label = pd.Series(np.asarray(label, dtype=object)).astype(str).to_numpy()
    rows = []
    for c in classes:
        k = str(c)
        t, p = y == k, label == k
        tp = float(np.sum(t & p))
        row: dict[str, Any] = {
            "class": c,
            "support": int(t.sum()),
            "predicted": int(p.sum()),
            "precision": tp / p.sum() if p.sum() else float("nan"),
        }
        if intervals:
            row["precision_ci"] = list(wilson(tp, p.sum()))
        row["recall"] = tp / t.sum() if t.sum() else float("nan")
        if intervals:
            row["recall_ci"] = list(wilson(tp, t.sum()))
        row["f1"] = 2 * tp / (t.sum() + p.sum()) if (t.sum() + p.sum()) else float("nan")
        rows.append(row)
    return rows


def ndcg_per_query(groups: np.ndarray, relevance: np.ndarray, score: np.ndarray, k: int = 10) -> pd.Series:
    """NDCG@k of every query (exponential gain 2^rel - 1), vectorised over groups."""
    df = pd.DataFrame(
        {
            "g": groups,
            "rel": np.asarray(relevance, float),
            "s": np.nan_to_num(np.asarray(score, float), nan=-np.inf),
        }
    )
    gain = np.power(2.0, df["rel"].to_numpy()) - 1.0
    pos = df.groupby("g", sort=False)["s"].rank(method="first", ascending=False).to_numpy()
    ideal = df.groupby("g", sort=False)["rel"].rank(method="first", ascending=False).to_numpy()
    disc = np.where(pos <= k, gain / np.log2(pos + 1.0), 0.0)
    idisc = np.where(ideal <= k, gain / np.log2(ideal + 1.0), 0.0)
    dcg = pd.Series(disc).groupby(df["g"].to_numpy(), sort=False).sum()
    idcg = pd.Series(idisc).groupby(df["g"].to_numpy(), sort=False).sum()
    return (dcg / idcg.replace(0.0, np.nan)).fillna(1.0)


def score(
    metric: str,
    y: np.ndarray,
    pred: np.ndarray | None,
    *,
    proba: np.ndarray | None = None,
    classes: list | None = None,
    groups: np.ndarray | None = None,
    positive: Any = None,
) -> float:
    """One metric on one set. `pred` is the label/value, `proba` the (n, k) probabilities."""
    y = np.asarray(y)
    try:
        if metric == "roc_auc":
            if proba is not None and proba.ndim == 2 and proba.shape[1] > 2:
                return float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes))
            # the positive class's column (columns follow `classes`; the last without `positive`)
            s = (
                positive_scores(proba, classes, positive)
                if proba is not None and proba.ndim == 2
                else np.asarray(pred, float)
            )
            yy = (y == positive).astype(int) if positive is not None else y
            return auc(yy, s)
        if metric == "accuracy":
            return float(np.mean(y == pred))
        if metric == "balanced_accuracy":
            return float(skm.balanced_accuracy_score(y, pred))
        if metric == "log_loss":
            return float(skm.log_loss(y, np.clip(cast(np.ndarray, proba), 1e-15, 1 - 1e-15), labels=classes))
        if metric == "r2":
            return float(skm.r2_score(y, pred))
        if metric == "mae":
            return float(np.mean(np.abs(y - pred)))
        if metric == "rmse":
            return float(np.sqrt(np.mean((y - pred) ** 2)))
        if metric.startswith("ndcg"):
            k = int(metric.split("@")[1]) if "@" in metric else 10
            return float(ndcg_per_query(cast(np.ndarray, groups), y, cast(np.ndarray, pred), k).mean())
    except ValueError:
        return float("nan")
    raise ValueError(f"unknown metric {metric!r}")


def two_proportion_p(k1: int, n1: int, k2: int, n2: int, alternative: str = "greater") -> float:
    """p-value that proportion 1 exceeds proportion 2 (pooled z-test)."""
    if min(n1, n2) == 0:
        return 1.0
    p1, p2 = k1 / n1, k2 / n2
    p = (k1 + k2) / (n1 + n2)
    se = np.sqrt(max(p * (1 - p) * (1 / n1 + 1 / n2), 1e-300))
    z = (p1 - p2) / se
    return float(sps.norm.sf(z) if alternative == "greater" else 2 * sps.norm.sf(abs(z)))


def paired_decisions(y: Any, a: Any, b: Any, z: float = 1.96) -> dict[str, Any]:
    """Accuracy and balanced accuracy (mean recall over the classes present in `y`) of two
    decisions `a` and `b` on the same rows, and b's paired change in each with a normal 95%
    interval: for accuracy from the per-row difference of being right, for balanced accuracy from
    each class's discordant rows (McNemar's variance of a paired proportion, summed over the
    classes, which are disjoint sets of rows)."""
    y, a, b = (np.asarray(v).astype(str) for v in (y, a, b))
    n = len(y)
    ra, rb = a == y, b == y
    d = rb.astype(float) - ra.astype(float)
    sd = float(np.std(d, ddof=1)) if n > 1 else float("nan")
    acc_d = float(d.mean()) if n else float("nan")
    acc_half = z * sd / np.sqrt(n) if n > 1 else float("nan")
    classes, inv = np.unique(y, return_inverse=True)
    n_c = np.bincount(inv, minlength=len(classes)).astype(float)
    gain = np.bincount(inv, weights=(rb & ~ra).astype(float), minlength=len(classes))
    loss = np.bincount(inv, weights=(ra & ~rb).astype(float), minlength=len(classes))
    dc = (gain - loss) / n_c
    var = np.maximum((gain + loss) / n_c - dc**2, 0.0) / n_c
    k = len(classes)
    bal_d = float(dc.mean()) if k else float("nan")
    bal_half = z * float(np.sqrt(var.sum())) / k if k else float("nan")
    bal_a = (
        float(np.mean(np.bincount(inv, weights=ra.astype(float), minlength=k) / n_c)) if k else float("nan")
    )
    return {
        "accuracy": [float(ra.mean()), float(rb.mean())],
        "accuracy_change": acc_d,
        "accuracy_change_ci": [float(acc_d - acc_half), float(acc_d + acc_half)],
        "balanced_accuracy": [bal_a, bal_a + bal_d],
        "balanced_accuracy_change": bal_d,
        "balanced_accuracy_change_ci": [bal_d - bal_half, bal_d + bal_half],
    }
