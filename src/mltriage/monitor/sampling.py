"""Which full rows the store keeps.

Window summaries are kept for ever (they are small and mergeable). Full logged rows are kept
- for every row, while they may still matter: `sampling.hold` after their window (labels and the
  window's check come in that time), as "pending";
- then a sample per window, stratified by score (`rows_per_window` rows spread evenly over
  `strata` score quantile strata, so the tails that decide a threshold are not drowned by the
  bulk), as "sample";
- every row of a window with an alert, as "alert";
- every error once its label arrived (binary: the predicted class at the threshold differs from
  the label; regression: an absolute error above ERROR_MAE_FACTOR times the reference MAE), as
  "error".
Kept rows are deleted `retention.rows` after their window; predictions (id, score) after
`retention.predictions`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ERROR_MAE_FACTOR = 2.0


def stratified(groups: np.ndarray, scores: np.ndarray, n: int, strata: int, seed: int = 0) -> np.ndarray:
    """Row positions: per group (window), at most n rows spread over `strata` score strata of
    equal size (by rank of the score within the group), n // strata from each (the remainder from
    the first strata), at random inside a stratum; rows without a score form a stratum of their
    own. A group of at most n rows is kept whole. One lexsort for all groups."""
    rng = np.random.default_rng(seed)
    groups = np.asarray(groups)
    s = np.asarray(scores, dtype=np.float64)
    if len(groups) == 0:
        return np.array([], dtype=np.int64)
    _, gi, size = np.unique(groups, return_inverse=True, return_counts=True)
    fin = np.isfinite(s)
    order = np.lexsort((np.where(fin, s, np.inf), gi))  # by group, then score
    start = np.r_[0, np.cumsum(size)[:-1]]
    rank = np.empty(len(s), dtype=np.int64)
    rank[order] = np.arange(len(s)) - start[gi[order]]
    nfin = np.bincount(gi, weights=fin.astype(np.float64), minlength=len(size)).astype(np.int64)
    k = max(int(strata), 1)
    stratum = np.where(fin, rank * k // np.maximum(nfin[gi], 1), k)
    cell = gi * (k + 1) + stratum
    pick = np.lexsort((rng.random(len(s)), cell))  # inside each cell, a random order
    cstart = np.r_[0, np.flatnonzero(np.diff(cell[pick])) + 1]
    first = np.repeat(cstart, np.diff(np.r_[cstart, len(s)]))
    pos = np.arange(len(s)) - first
    quota = n // k + (stratum[pick] < n % k)
    keep_sorted = pos < quota
    keep = np.zeros(len(s), dtype=bool)
    keep[pick[keep_sorted]] = True
    keep |= size[gi] <= n
    return np.flatnonzero(keep)


def error_ids(
    labelled: pd.DataFrame, task: str, threshold: float, reference_mae: float | None = None
) -> list[str]:
    """Ids of labelled predictions that are errors (see the module docstring)."""
    if labelled.empty:
        return []
    y = labelled["label"].to_numpy(np.float64)
    s = labelled["score"].to_numpy(np.float64)
    if task == "binary":
        wrong = np.isfinite(s) & ((s >= threshold).astype(np.float64) != y)
    elif task == "regression" and reference_mae:
        wrong = np.abs(y - s) > ERROR_MAE_FACTOR * reference_mae
    else:
        return []
    return labelled["row_id"].to_numpy()[wrong].astype(str).tolist()
