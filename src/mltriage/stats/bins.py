"""Binning a numeric column: the one sort per column that every profile and drift statistic
starts from (exact quantiles, bin edges with point masses isolated, counts per bin).

Bins are [e0, e1), [e1, e2), ..., [e_{k-1}, e_k] (the last one closed) plus an underflow and an
overflow bin; see `make_edges` and `bin_counts_sorted`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

DEFAULT_BINS = 20
POINT_MASS_SHARE = 0.005  # a value holding at least this share of rows is kept as a point mass


def is_numeric_dtype(s: pd.Series) -> bool:
    """Numbers (ints, floats, nullable ones) but not booleans."""
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def to_float_array(s: pd.Series) -> tuple[np.ndarray, int]:
    """The column as float64 (a fresh array, safe to sort in place) and how many non-missing
    values could not be read as numbers (text in a numeric column)."""
    if is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True), 0
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True), 0
    coerced = pd.to_numeric(s, errors="coerce")
    x = coerced.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    bad = int(np.isnan(x).sum() - s.isna().sum())
    return x, max(bad, 0)


def quantiles_from_sorted(xs: np.ndarray, probs: Iterable[float]) -> list[float]:
    """Linear-interpolated quantiles of an already sorted, finite array."""
    n = len(xs)
    out = []
    for p in probs:
        pos = p * (n - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, n - 1)
        out.append(float(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)))
    return out


def make_edges(
    xs: np.ndarray, bins: int = DEFAULT_BINS, point_masses: Mapping[float, int] | None = None
) -> np.ndarray:
    """Bin edges for a sorted finite reference array.

    Bins are [e0, e1), [e1, e2), ..., [e_{k-1}, e_k]: the last one closed. e0 is the minimum.
    Discrete columns with at most `bins` distinct values get one bin per value; otherwise the
    inner edges are the reference quantiles at 1/bins, ..., (bins-1)/bins, and every point mass
    v holding >= 1/(2*bins) of rows gets its own bin [v, next float after v).
    """
    n = len(xs)
    if n == 0:
        return np.array([0.0, 0.0])
    lo, hi = float(xs[0]), float(xs[-1])
    if lo == hi:
        return np.array([lo, lo])
    # few distinct values? a strided probe rules it out cheaply for continuous columns
    probe = xs[:: max(n // 8192, 1)]
    few = np.count_nonzero(probe[1:] != probe[:-1]) + 1 <= bins
    change = np.flatnonzero(xs[1:] != xs[:-1]) if few else None
    if change is not None and len(change) + 1 <= bins:
        uniq = np.concatenate(([xs[0]], xs[change + 1]))
        return np.append(uniq, np.nextafter(uniq[-1], np.inf))
    qs = quantiles_from_sorted(xs, np.arange(1, bins) / bins)
    edges = [lo, *qs, hi]
    for v, c in (point_masses or {}).items():
        if c >= n / (2 * bins) and lo <= v <= hi:
            edges += [v, float(np.nextafter(v, np.inf))]
    e = np.unique(np.asarray(edges, dtype=np.float64))
    if e[-1] < hi:  # nextafter(max) may be the largest edge: keep max inside the last bin
        e = np.append(e, hi)
    return e


def bin_counts_sorted(xs: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of a sorted finite array in [underflow, inner bins..., overflow].

    len(result) == len(edges) + 1: underflow (< e0), len(edges) - 1 inner bins (the last closed
    on the right), overflow (> e_k). Two searchsorted calls of the few edges into the sorted
    values: O(len(edges) * log n), not a binary search per row.
    """
    left = np.searchsorted(xs, edges, side="left")
    right_last = np.searchsorted(xs, edges[-1], side="right")
    bounds = np.concatenate((left[:-1], [right_last]))
    inner = np.diff(bounds)
    return np.concatenate(([left[0]], inner, [len(xs) - right_last])).astype(np.int64)


def bin_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of an unsorted array (finite values only are counted) on `edges`."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return bin_counts_sorted(np.sort(x), edges)


def find_point_masses(
    xs: np.ndarray, min_share: float = POINT_MASS_SHARE, max_values: int = 20
) -> dict[float, int]:
    """Values of a sorted array holding at least `min_share` of it, with exact counts.

    Any such value sits at one of the grid positions k * n * min_share / 2, so only those
    candidates are counted (two searchsorted calls each)."""
    n = len(xs)
    if n == 0:
        return {}
    step = max(int(n * min_share / 2), 1)
    cand = np.unique(xs[::step])
    if len(cand) == 0:
        return {}
    counts = np.searchsorted(xs, cand, side="right") - np.searchsorted(xs, cand, side="left")
    keep = counts >= max(min_share * n, 2)
    vals, cnts = cand[keep], counts[keep]
    order = np.argsort(-cnts, kind="stable")[:max_values]
    return {float(vals[i]): int(cnts[i]) for i in order}
