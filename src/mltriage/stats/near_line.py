"""Near copies on one continuous reading: a null that needs no density model.

Where a table has a single continuous column (the others coarse: small integers, flags,
categories), a near copy is a row equal to another in every coarse column and close in that one
reading. So is the same entity observed again (a dyad in the next year, its power ratio drifted
a little), and rows of the same coarse values cluster in that reading as the entities do: the
density model of binned twins (`stats.rows.TwinModel`) cannot foresee either and called 6% of a
clean dyad-year table (HOLDOUT5 disputes: 137 of 2,187 training rows binned twins where it
expected 10.7) near copies.

In one dimension there is a null free of the density: among the rows with the same coarse
values, the distances from a row to its nearest and second-nearest neighbours in the reading
are the first two arrivals of a Poisson process wherever the density is smooth at that scale,
so their ratio u = r1 / r2 is uniform on (0, 1) whatever the local density (TwoNN, Facco et al.
2017, with dimension 1; the same holds for an evaluation row against the training rows). A
near copy sits at the jitter's distance from its original while the next row sits at the
data's own spacing: u near 0. The share of rows with u below `t` is t by chance; the excess is
the copies (within a set, a copy and its original both fall below, so half of it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .rows import CopyFit


def line_columns(frame: pd.DataFrame, columns: Sequence[str], min_distinct: int) -> list[str]:
    """The continuous readings among `columns`: numeric, not boolean, more than `min_distinct`
    distinct values in `frame` (those `stats.rows.coarsen` bins)."""
    out = []
    for c in columns:
        s = frame[c]
        if (
            pd.api.types.is_numeric_dtype(s)
            and not pd.api.types.is_bool_dtype(s)
            and s.nunique() > min_distinct
        ):
            out.append(c)
    return out


def neighbour_ratio(
    ref: np.ndarray, ref_key: np.ndarray, x: np.ndarray | None = None, key: np.ndarray | None = None
) -> np.ndarray:
    """Per judged row, r1 / r2: its distances to the nearest and second-nearest reference rows with
    the same `key` (coarse values), in the reading. Within the reference rows (`x` None) a row's
    neighbours are the others; NaN where fewer than two neighbours (or a missing reading), or
    r2 = 0 (ties: no scale to judge by)."""
    within = x is None
    xs = ref if within else np.asarray(x, float)
    ks = ref_key if within else np.asarray(key)
    out = np.full(len(xs), np.nan)
    ok_ref = np.isfinite(ref)
    r_order = pd.Series(np.flatnonzero(ok_ref)).groupby(ref_key[ok_ref]).apply(list).to_dict()
    idx = pd.Series(np.arange(len(xs))).groupby(ks).apply(list).to_dict()
    for k, rows in idx.items():
        pool = np.sort(ref[r_order.get(k, [])])
        if len(pool) < (3 if within else 2):
            continue
        v = xs[rows]
        # distances to the neighbours on each side, two deep; within, the row itself is skipped
        pos = np.searchsorted(pool, v, side="left")
        cand = []
        for off in (-2, -1, 1, 2) if within else (-2, -1, 0, 1):
            j = pos + off
            d = np.where((j >= 0) & (j < len(pool)), np.abs(pool[np.clip(j, 0, len(pool) - 1)] - v), np.inf)
            cand.append(d)
        dist = np.sort(np.column_stack(cand), axis=1)
        r1, r2 = dist[:, 0], dist[:, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(np.isfinite(r2) & (r2 > 0), r1 / r2, np.nan)
        u[~np.isfinite(v)] = np.nan
        out[rows] = u
    return out


def ratio_copies(u: np.ndarray, t: float, within: bool) -> CopyFit:
    """Copies from the rows whose nearest neighbour is more than 1 / `t` times nearer than their
    second (u < t): t of the judged rows by chance (u uniform), the excess the copies (within a
    set, a copy and its original: two rows per copy). Interval: Wilson on that share; test:
    one-sided binomial against t."""
    from scipy import stats as st

    from .metrics import wilson

    u = u[np.isfinite(u)]
    n, k = len(u), int(np.sum(u < t))
    per = 2.0 if within else 1.0

    def share(s: float) -> float:
        return float(min(1.0, max(0.0, (s - t) / (1 - t) / per)))

    lo, hi = wilson(k, n) if n else (0.0, 0.0)
    c = share(k / n) if n else 0.0
    pval = float(st.binom.sf(k - 1, n, t)) if n else 1.0
    return CopyFit(
        rows=n,
        twins=k,
        chance_expected=n * t,
        chance_most=float(st.binom.ppf(0.975, n, t)) if n else 0.0,
        copy_share=c,
        copy_low=share(lo),
        copy_high=share(hi),
        p_value=pval,
        scale=k / (n * t) if n else 1.0,
    )
