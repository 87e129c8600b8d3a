"""Single-feature predictive power, cross-validated, for every feature at once.

Each feature is cut into bins (quantile bins for numbers, one bin per frequent category, missing
values in a bin of their own) and predicts the target by its bin's out-of-fold target mean (or
class frequencies), smoothed toward the global mean. This is a one-feature "model" that captures
monotone and non-monotone relations alike, costs a handful of `bincount`s per feature, and never
sees a row's own label. The score is ROC AUC (binary), macro one-vs-rest AUC (multiclass) or R^2
(regression); the same score is computed for the whole feature set elsewhere to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .metrics import auc_interval, roc_auc


@dataclass
class SingleFeatureScore:
    column: str
    score: float  # AUC (binary / multiclass macro OvR) or R^2 (regression)
    low: float  # a rough 95% interval of the score
    high: float
    n_bins: int


def bin_codes(
    x: np.ndarray, categorical: bool, max_bins: int = 32, min_count: int = 10
) -> tuple[np.ndarray, int]:
    """Integer bin codes 0..B-1 of one feature column (float, NaN = missing)."""
    x = np.asarray(x, dtype=float)
    miss = ~np.isfinite(x)
    codes = np.zeros(len(x), dtype=np.int64)
    ok = ~miss
    if ok.any():
        v = x[ok]
        if categorical:
            uniq, inv, cnt = np.unique(v, return_inverse=True, return_counts=True)
            # rare categories share one bin: their target means would be pure noise
            keep = cnt >= min_count
            rank = np.cumsum(keep) - 1
            c = np.where(keep[inv], rank[inv], keep.sum())
            codes[ok] = c
            n = int(keep.sum()) + int((~keep).any())
        else:
            uniq = np.unique(v)
            if len(uniq) <= max_bins:
                codes[ok] = np.searchsorted(uniq, v)
                n = len(uniq)
            else:
                edges = np.unique(np.quantile(v, np.linspace(0, 1, max_bins + 1)[1:-1]))
                codes[ok] = np.searchsorted(edges, v, side="right")
                n = len(edges) + 1
    else:
        n = 0
    codes[miss] = n
    return codes, n + int(miss.any())


def _oof_means(
    codes: np.ndarray,
    n_bins: int,
    Y: np.ndarray,
    folds: np.ndarray,
    n_folds: int,
    prior: np.ndarray,
    smooth: float,
) -> np.ndarray:
    """Out-of-fold smoothed per-bin means of the columns of Y (n, k)."""
    k = Y.shape[1]
    key = folds * n_bins + codes
    size = n_folds * n_bins
    cnt_f = np.bincount(key, minlength=size).reshape(n_folds, n_bins).astype(float)
    sums_f = np.stack([np.bincount(key, weights=Y[:, j], minlength=size) for j in range(k)], axis=-1).reshape(
        n_folds, n_bins, k
    )
    cnt_oof = cnt_f.sum(0)[None, :] - cnt_f  # (folds, bins)
    sums_oof = sums_f.sum(0)[None, :, :] - sums_f  # (folds, bins, k)
    means = (sums_oof + smooth * prior[None, None, :]) / (cnt_oof[..., None] + smooth)
    return means[folds, codes]  # (n, k)


def single_feature_scores(
    X: np.ndarray,
    columns: list[str],
    categorical_mask: np.ndarray,
    y: np.ndarray,
    task: str,
    classes: list | None = None,
    positive: Any = None,
    n_folds: int = 5,
    seed: int = 0,
    smooth: float = 20.0,
) -> list[SingleFeatureScore]:
    """Cross-validated predictive power of each column of X alone (sorted best first)."""
    n = len(y)
    rng = np.random.default_rng(seed)
    folds = rng.permutation(np.arange(n) % n_folds)
    if task == "binary":
        Y = (np.asarray(y) == positive).astype(float)[:, None]
    elif task == "multiclass":
        cls = list(classes) if classes is not None else sorted(set(np.asarray(y).tolist()), key=str)
        pos = {c: i for i, c in enumerate(cls)}
        yi = np.array([pos.get(v, -1) for v in np.asarray(y).tolist()])
        present = [j for j in range(len(cls)) if (yi == j).sum() >= 2]
        Y = np.stack([(yi == j).astype(float) for j in present], axis=1)
    else:
        Y = np.asarray(y, dtype=float)[:, None]
    prior = Y.mean(0)
    out = []
    for j, col in enumerate(columns):
        codes, nb = bin_codes(X[:, j], bool(categorical_mask[j]))
        if nb <= 1:
            out.append(SingleFeatureScore(col, float("nan"), float("nan"), float("nan"), nb))
            continue
        pred = _oof_means(codes, nb, Y, folds, n_folds, prior, smooth)
        s, lo, hi = prediction_score(task, Y, pred)
        out.append(SingleFeatureScore(col, s, lo, hi, nb))
    out.sort(key=lambda r: -r.score if np.isfinite(r.score) else np.inf)
    return out


def prediction_score(task: str, Y: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    """The score of predictions `pred` of the targets `Y` (one column per class, or the value) with
    a rough 95% interval: AUC (binary), mean one-vs-rest AUC (multiclass) or R^2 (regression)."""
    if task == "binary":
        y = Y[:, 0]
        if y.min() == y.max():
            return float("nan"), float("nan"), float("nan")
        a = roc_auc(y, pred[:, 0])
        return (a, *auc_interval(a, int(y.sum()), int(len(y) - y.sum())))
    if task == "multiclass":
        aucs, ses = [], []
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if 0 < y.sum() < len(y):
                a = roc_auc(y, pred[:, j])
                lo, hi = auc_interval(a, int(y.sum()), int(len(y) - y.sum()))
                aucs.append(a)
                ses.append((hi - lo) / 3.92)
        if not aucs:
            return float("nan"), float("nan"), float("nan")
        a = float(np.mean(aucs))
        se = float(np.sqrt(np.sum(np.square(ses))) / len(ses))
        return a, max(0.0, a - 1.96 * se), min(1.0, a + 1.96 * se)
    y, p = Y[:, 0], pred[:, 0]
    ss = float(np.sum((y - y.mean()) ** 2))
    if ss <= 0:
        return float("nan"), float("nan"), float("nan")
    r2 = 1 - float(np.sum((y - p) ** 2)) / ss
    # Fisher-z interval of the correlation, mapped back (rough, for reporting)
    n = len(y)
    r = np.sqrt(max(r2, 0.0))
    if n > 3 and r < 1:
        z, half = np.arctanh(r), 1.96 / np.sqrt(n - 3)
        lo, hi = np.tanh(z - half) ** 2, np.tanh(z + half) ** 2
    else:
        lo = hi = r2
    return r2, float(lo), float(hi)
