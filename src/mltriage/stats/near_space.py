"""Near copies on several readings: the nearest-neighbour gaps of a locally Poisson process.

`stats.near_line` judges one continuous reading by r1 / r2, uniform by chance. With several
readings the binned twins' density model (`stats.rows.TwinModel`) fails wherever the rows lie on
a low-dimensional structure it cannot foresee: a monthly series (neighbouring months fall in the
same quantile bins of every slowly moving column: HOLDOUT6 economy, "7% near copies" on a clean
random split), an entity observed again a year later (HOLDOUT5 firms, profs), airports along a
coast (default airports, "12%"). Its twins are judged against independent columns; these rows
are neighbours, not copies, and their neighbours on the other side (the previous month) are
about as near.

The null here needs no density: the rows are placed in one space (every numeric column of more
than two values, scaled by its robust spread, the regression target and the time column too;
rows of other categories, classes, groups or missing-value patterns are not neighbours), and for
a row its distances r1 <= r2 <= r3 to its nearest reference rows. Wherever the rows are locally a
Poisson process of dimension d (whatever the density), the volumes of the balls of radius r1, r2,
r3 are its first three arrival times, so (r1 / r2)^d and (r2 / r3)^(2d) are independent and
uniform (Beta(1, 1) and Beta(2, 1) ratios of Gamma arrivals; TwoNN, Facco et al. 2017, is the
first). For d >= 1, P(r1 / r2 < t) <= t and P((r2 / r3)^2 < t) <= t, so a row has either
by chance with probability at most 1 - (1 - t)^2, however the data cluster at larger scales. A
near copy sits at the jitter's distance from its original while the next row sits at the data's
own spacing: r1 / r2 near 0 for one copy, r2 / r3 near 0 for an original and two copies (two
jittered copies per row before the split). A series' neighbours are the previous and next
months, about equally near: neither ratio is small.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .rows import CopyFit


def axes(
    frame: pd.DataFrame, columns: Sequence[str], categorical: Sequence[str], exact: Sequence[str]
) -> list[str]:
    """The columns that place rows in the space: numeric (or dates), not boolean, not declared
    categorical nor in `exact` (class target, group id), more than two distinct values in
    `frame` (a 0/1 flag is a category: as an axis its rare value would sit 1/sd away)."""
    out = []
    for c in columns:
        s = frame[c]
        if c in categorical or c in exact or pd.api.types.is_bool_dtype(s):
            continue
        if (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s)) and s.nunique() > 2:
            out.append(c)
    return out


def _values(df: pd.DataFrame, c: str) -> np.ndarray:
    s = df[c]
    if pd.api.types.is_datetime64_any_dtype(s):
        v = s.astype("int64").to_numpy(dtype=float)
        v[s.isna().to_numpy()] = np.nan
        return v
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def place(
    ref: pd.DataFrame, frames: Sequence[pd.DataFrame], cols: Sequence[str]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per frame, (coordinates, missing pattern): each column in units of its robust spread in
    `ref` (interquartile range / 1.349, else the standard deviation; a column with neither is
    dropped), a missing value at 0 with its pattern returned for the key."""
    scales = []
    for c in cols:
        v = _values(ref, c)
        v = v[np.isfinite(v)]
        sc = 0.0
        if len(v):
            q1, q3 = np.percentile(v, [25, 75])
            sc = float((q3 - q1) / 1.349) or float(v.std())
        scales.append(sc)
    keep = [j for j, s in enumerate(scales) if s > 0]
    out = []
    for f in frames:
        m = (
            np.column_stack([_values(f, cols[j]) / scales[j] for j in keep])
            if keep
            else np.zeros((len(f), 0))
        )
        miss = ~np.isfinite(m)
        out.append((np.where(miss, 0.0, m), miss))
    return out


def gap_ratios(
    ref: np.ndarray, ref_key: np.ndarray, x: np.ndarray | None = None, key: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per judged row, r1 / r2 and r2 / r3: its distances to its nearest reference rows of the same
    `key` (Euclidean). Within the reference rows (`x` None) a row's neighbours are the others.
    NaN where there are too few neighbours (two for the first ratio, three for the second) or a
    zero denominator."""
    from sklearn.neighbors import NearestNeighbors

    within = x is None
    xs = ref if within else np.asarray(x, float)
    ks = ref_key if within else np.asarray(key)
    dist = np.full((len(xs), 3), np.inf)
    pools = pd.Series(np.arange(len(ref))).groupby(ref_key).indices
    rows_of = pd.Series(np.arange(len(xs))).groupby(ks).indices
    for k, rows in rows_of.items():
        pool = pools.get(k)
        if pool is None:
            continue
        m = min(3 + within, len(pool))
        if m - within < 2:
            continue
        if len(pool) * len(rows) <= 2_000_000:
            diff = xs[rows][:, None, :] - ref[pool][None, :, :]
            d = np.sort(np.sqrt(np.einsum("ijk,ijk->ij", diff, diff)), axis=1)[:, :m]
        else:
            d = NearestNeighbors(n_neighbors=m).fit(ref[pool]).kneighbors(xs[rows])[0]
        d = d[:, 1:] if within else d
        dist[rows, : d.shape[1]] = d
    with np.errstate(invalid="ignore", divide="ignore"):
        u1 = np.where(np.isfinite(dist[:, 1]) & (dist[:, 1] > 0), dist[:, 0] / dist[:, 1], np.nan)
        u2 = np.where(np.isfinite(dist[:, 2]) & (dist[:, 2] > 0), dist[:, 1] / dist[:, 2], np.nan)
    return u1, u2


def gap_flags(u1: np.ndarray, u2: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, whether it is a near twin (r1 / r2 < t, or (r2 / r3)^2 < t) and its chance bound
    (t where only the first ratio is judged, 1 - (1 - t)^2 where both are; NaN: not judged)."""
    judged = np.isfinite(u1)
    both = judged & np.isfinite(u2)
    flag = judged & ((np.nan_to_num(u1, nan=1.0) < t) | (np.nan_to_num(u2, nan=1.0) ** 2 < t))
    chance = np.where(both, 1 - (1 - t) ** 2, np.where(judged, t, np.nan))
    return flag, chance


def gap_copies(flag: np.ndarray, chance: np.ndarray, within: bool) -> CopyFit:
    """Copies from the near-twin rows against their chance bounds (`gap_flags`): the excess over
    the mean bound is the copies (within a set a copy and its original both count: two rows per
    copy). Interval: Wilson on the share; test: one-sided binomial at the mean bound (the sum of
    the rows' Bernoulli bounds has a smaller variance, so the test is conservative)."""
    from scipy import stats as st

    from .metrics import wilson

    ok = np.isfinite(chance)
    n, k = int(ok.sum()), int(flag[ok].sum())
    t = float(np.mean(chance[ok])) if n else 0.0
    per = 2.0 if within else 1.0

    def share(s: float) -> float:
        return float(min(1.0, max(0.0, (s - t) / (1 - t) / per)))

    lo, hi = wilson(k, n) if n else (0.0, 0.0)
    return CopyFit(
        rows=n,
        twins=k,
        chance_expected=n * t,
        chance_most=float(st.binom.ppf(0.975, n, t)) if n else 0.0,
        copy_share=share(k / n) if n else 0.0,
        copy_low=share(lo),
        copy_high=share(hi),
        p_value=float(st.binom.sf(k - 1, n, t)) if n else 1.0,
        scale=k / (n * t) if n and t else 1.0,
    )
