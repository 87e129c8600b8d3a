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
    """Row positions: per group (window), at most n rows spread over `strata` score strata
    (equal quotas; a stratum with fewer rows gives its rest to the others). Rows without a score
    form their own stratum."""
    rng = np.random.default_rng(seed)
    groups = np.asarray(groups)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    cuts = np.flatnonzero(g[1:] != g[:-1]) + 1
    out: list[np.ndarray] = []
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(g)]):
        idx = order[lo:hi]
        if len(idx) <= n:
            out.append(idx)
            continue
        s = scores[idx]
        fin = np.isfinite(s)
        if fin.sum() > 1 and strata > 1:
            qs = np.quantile(s[fin], np.linspace(0, 1, strata + 1)[1:-1])
            label = np.where(fin, np.searchsorted(qs, s, side="right"), strata)
        else:
            label = np.zeros(len(idx), dtype=np.int64)
        out.append(idx[_quota_pick(label, n, rng)])
    return np.sort(np.concatenate(out)) if out else np.array([], dtype=np.int64)


def _quota_pick(label: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n positions with equal quotas per label value (leftover quota spread over the rest)."""
    values, counts = np.unique(label, return_counts=True)
    quota = np.zeros(len(values), dtype=np.int64)
    left = n
    open_ = np.ones(len(values), dtype=bool)
    while left > 0 and open_.any():
        share = max(left // int(open_.sum()), 1)
        for i in np.flatnonzero(open_):
            add = min(share, counts[i] - quota[i], left)
            quota[i] += add
            left -= add
            if quota[i] >= counts[i]:
                open_[i] = False
            if left <= 0:
                break
    picks = []
    for v, q in zip(values, quota):
        pos = np.flatnonzero(label == v)
        picks.append(rng.choice(pos, int(q), replace=False) if q < len(pos) else pos)
    return np.concatenate(picks)


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
