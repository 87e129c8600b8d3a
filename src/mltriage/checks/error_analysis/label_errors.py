"""Likely label errors among the scattered confident mistakes of errors.high_confidence_errors: a
mistake whose nearest training rows mostly carry the predicted class, and rarely its given label
(compared with what correctly classified rows of that class see)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...registry import Params
from ...stats.attribution import keys

if TYPE_CHECKING:
    from ...context import Context


def likely_label_errors(
    ctx: Context, rows: np.ndarray, label: np.ndarray, y: np.ndarray, p: Params
) -> tuple[np.ndarray, str]:
    """Confident mistakes whose k nearest training rows mostly carry the predicted class (and
    rarely the given one): the row looks like its neighbours, its label does not."""
    out = np.zeros(len(y), dtype=bool)
    idx = np.flatnonzero(rows)
    if idx.size == 0:
        return out, "no scattered confident mistakes to check"
    try:
        Xtr_all = ctx.encoded("train")
        Xte = ctx.encoded("test")
    except Exception as exc:
        return out, f"not checked: cannot encode the features ({type(exc).__name__})"
    c = ctx.case
    cat_idx = [i for i, f in enumerate(c.features) if f in set(c.categorical or [])]
    num_idx = [i for i in range(Xte.shape[1]) if i not in set(cat_idx)]
    tr = ctx.sample_index("train", p.knn_train_rows, seed=ctx.config.seed)
    rng = np.random.default_rng(0)
    if idx.size > p.knn_max_rows:
        idx = np.sort(rng.choice(idx, p.knn_max_rows, replace=False))
    # reference: correctly classified rows of each class, to learn how often a row's neighbours
    # carry its own label when that label is right (rare classes have few such neighbours)
    yk_all, lk_all = keys(y), keys(label)
    right = np.flatnonzero((yk_all == lk_all) & ~pd.isna(pd.Series(y)).to_numpy())
    picks = []
    for cl in np.unique(yk_all[idx]):
        pool = right[yk_all[right] == cl]
        picks.append(rng.choice(pool, min(pool.size, 100), replace=False) if pool.size else pool)
    ref = np.concatenate(picks) if picks else np.zeros(0, dtype=int)
    allq = np.concatenate([idx, ref]).astype(int)
    Xtr = np.asarray(Xtr_all[tr], dtype=np.float64)
    Xq = np.asarray(Xte[allq], dtype=np.float64)
    ytr = keys(ctx.y("train")[tr])
    mu = np.nanmean(Xtr[:, num_idx], axis=0) if num_idx else np.zeros(0)
    sd = np.nanstd(Xtr[:, num_idx], axis=0) if num_idx else np.zeros(0)
    sd = np.where(sd > 0, sd, 1.0)
    A = np.nan_to_num((Xq[:, num_idx] - mu) / sd)
    B = np.nan_to_num((Xtr[:, num_idx] - mu) / sd)
    D = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2.0 * A @ B.T
    for j in cat_idx:  # a categorical mismatch counts like one standard deviation squared
        D += Xq[:, j][:, None] != Xtr[:, j][None, :]
    k = min(p.knn_k, len(tr) - 1)
    nn = np.argpartition(D, k, axis=1)[:, :k]
    nl = ytr[nn]
    share_given_all = (nl == yk_all[allq][:, None]).mean(axis=1)
    share_given = share_given_all[: idx.size]
    share_pred = (nl[: idx.size] == lk_all[idx][:, None]).mean(axis=1)
    ref_share = pd.Series(share_given_all[idx.size :]).groupby(yk_all[ref]).mean()
    typical = pd.Series(yk_all[idx]).map(ref_share).fillna(1.0).to_numpy()
    # the given label is rare around the row (at most max_neighbour_share of its neighbours, and at
    # most a quarter of what correctly classified rows of that class see), the predicted one common
    flag = (
        (share_given <= p.max_neighbour_share)
        & (share_given <= 0.25 * typical)
        & (share_pred >= 1.0 - 2 * p.max_neighbour_share)
    )
    out[idx[flag]] = True
    return out, (
        f"{k} nearest training rows (of {len(tr):,} sampled; standardised numeric features, "
        f"categorical mismatches): a confident mistake is a likely label error when at most "
        f"{p.max_neighbour_share:.0%} of its neighbours carry its given label, at most a quarter of "
        "the share that correctly classified rows of that class see, and most carry the predicted "
        "class; irreducible noise looks the same, so relabel a sample to tell"
        + (
            f"; {rows.sum() - idx.size} rows not checked (sampled {idx.size})"
            if rows.sum() > idx.size
            else ""
        )
    )
