"""Rows that lie on the segment between two other rows: the trace of SMOTE-like oversampling.

SMOTE (Chawla et al. 2002) and its variants make a synthetic row x = a + u (b - a) from a row `a`
of a class and one of its nearest neighbours `b` of the same class, u uniform in [0, 1). Done on
the whole table before the split, synthetic evaluation rows are interpolations of training rows:
near copies that exact-row matching cannot see. `segment_hits` finds, for each evaluation row,
whether it lies on such a segment between two of its nearest training rows, to floating point
precision, in at least `min_varying` numeric coordinates (one varying coordinate makes any value
between two rows "collinear"). Pairs whose labels differ from the row's give the chance rate of
exact collinearity on this data's value grid (coarse data lines up by coincidence, whatever the
labels); an interpolating sampler stays within a class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SegmentHits:
    same: np.ndarray  # per evaluation row: on a segment between two training rows of its label
    other: np.ndarray  # per evaluation row: on a segment whose ends are not both of its label
    pairs_same: int  # neighbour pairs examined whose ends are both of the row's label
    pairs_other: int  # neighbour pairs examined otherwise
    hits_same: int  # collinear pairs among pairs_same
    hits_other: int  # collinear pairs among pairs_other


def value_grid(X: np.ndarray, min_share: float = 0.25, max_decimals: int = 6) -> np.ndarray:
    """Per column, the decimal step (1, 0.1, ... 1e-6) the column was recorded with: the coarsest
    one that holds 90% of the values that the finest step holds, when the finest holds at least
    `min_share` of them; else NaN (continuous values). Synthetic rows drawn between two rows fall
    off the step (so they only lower the shares); natural rows stay on it."""
    out = np.full(X.shape[1], np.nan)
    for j in range(X.shape[1]):
        v = X[:, j][np.isfinite(X[:, j])]
        if not len(v):
            continue
        shares = []
        for d in range(max_decimals + 1):
            q = v / 10.0**-d
            shares.append(float(np.mean(np.abs(q - np.round(q)) <= 1e-6 + 1e-12 * np.abs(q))))
        if shares[-1] < min_share:
            continue
        d = next(i for i, sh in enumerate(shares) if sh >= 0.9 * shares[-1])
        out[j] = 10.0**-d
    return out


def off_grid(X: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Per value: not on its column's step (always True for a column without one)."""
    step = np.where(np.isfinite(grid), grid, 1.0)
    q = X / step
    on = np.abs(q - np.round(q)) <= 1e-6 + 1e-12 * np.abs(q)
    return ~on | ~np.isfinite(grid)[None, :]


def segment_hits(
    Xtr: np.ndarray,
    ytr: np.ndarray,
    Xte: np.ndarray,
    yte: np.ndarray,
    k: int = 8,
    tol: float = 1e-6,
    min_varying: int = 2,
    grid: np.ndarray | None = None,
) -> SegmentHits:
    """For each evaluation row (numeric columns, float64, no NaN), whether it lies strictly inside
    the segment between two of its `k` nearest training rows (standardised distance): every
    coordinate where the two ends differ gives the same position t in (0.001, 0.999) within
    `tol` of the coordinate's span, the others equal the ends within `tol` of the column's spread,
    and at least `min_varying` coordinates differ between the ends. With `grid` (`value_grid`),
    a row must also be off its columns' recording step in some varying coordinate: natural rows
    of coarse data that line up on the grid by coincidence are not counted."""
    from sklearn.neighbors import NearestNeighbors

    n = len(Xte)
    empty = SegmentHits(np.zeros(n, bool), np.zeros(n, bool), 0, 0, 0, 0)
    if n == 0 or len(Xtr) < 3 or Xtr.shape[1] < min_varying:
        return empty
    sd = Xtr.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    k = min(k, len(Xtr))
    nn = NearestNeighbors(n_neighbors=k).fit(Xtr / sd)
    _, idx = nn.kneighbors(Xte / sd)
    same = np.zeros(n, bool)
    other = np.zeros(n, bool)
    offg = off_grid(Xte, grid) if grid is not None else np.ones_like(Xte, dtype=bool)
    counts = np.zeros(4, dtype=np.int64)  # pairs same, pairs other, hits same, hits other
    for i in range(k):
        for j in range(i + 1, k):
            a, b = Xtr[idx[:, i]], Xtr[idx[:, j]]
            d, v = b - a, Xte - a
            span = np.abs(d)
            vary = span > 1e-12 * np.maximum(np.abs(a), sd)
            nvary = vary.sum(axis=1)
            ok = nvary >= min_varying
            with np.errstate(divide="ignore", invalid="ignore"):
                tt = np.where(vary, v / np.where(vary, d, 1.0), np.nan)
            t = np.nanmedian(np.where(ok[:, None], tt, 0.0), axis=1)
            resid_vary = np.where(vary, np.abs(v - t[:, None] * d) / np.where(vary, span, 1.0), 0.0)
            resid_flat = np.where(~vary, np.abs(v) / sd, 0.0)
            on = (
                ok
                & (vary & offg).any(axis=1)
                & (t > 1e-3)
                & (t < 1 - 1e-3)
                & (resid_vary.max(axis=1) <= tol)
                & (resid_flat.max(axis=1) <= tol)
            )
            both = (ytr[idx[:, i]] == yte) & (ytr[idx[:, j]] == yte)
            counts += [
                int((ok & both).sum()),
                int((ok & ~both).sum()),
                int((on & both).sum()),
                int((on & ~both).sum()),
            ]
            same |= on & both
            other |= on & ~both
    return SegmentHits(same, other & ~same, int(counts[0]), int(counts[1]), int(counts[2]), int(counts[3]))


def label_blind_test(h: SegmentHits) -> tuple[float, float]:
    """(p-value, same-label rows that chance explains): under the null that exact collinearity off
    the recording grid is a coincidence blind to labels, the rows on a same-label segment are as
    many as the rows on an other-label segment times the odds of a same-label pair among the
    pairs examined; one-sided Poisson test of the same-label rows against that count plus one."""
    from scipy import stats as st

    k_same, k_other = int(h.same.sum()), int(h.other.sum())  # rows, not pairs: one row's
    total = k_same + k_other  # grid coincidences come in clusters of pairs
    pairs = h.pairs_same + h.pairs_other
    if total == 0 or pairs == 0:
        return 1.0, 0.0
    q = h.pairs_same / pairs
    if q >= 1.0:  # no pair of another label examined: nothing measured beyond the one row
        return float(st.poisson.sf(k_same - 1, 1.0)), 0.0
    # the same-class rows that the other-class rate implies (its odds times the pair share odds);
    # one row more, so that a chance rate measured as 0 on few other-class pairs is not taken as 0
    expected = k_other * q / (1 - q)
    return float(st.poisson.sf(k_same - 1, expected + 1.0)), float(expected)
