"""Scores, tests and masks shared by the search and the refinement.

- `sl_score`: SliceLine's score (error excess against size); `mass_score`: the excess error a slice
  holds (favours broad slices); `penalised`: a longer description must earn its keep.
- `one_sided_p`, `mean_ci`, `excess_z`: the confirmation test, the interval of a slice's error and
  the test used to prune predicates.
- `Sample`: the discovery sample the search runs on; `Cand`: a candidate slice on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .codes import Col, Item

# --------------------------------------------------------------------------- scores


def sl_score(se, ss, ebar: float, n: int, w: float) -> np.ndarray:
    """SliceLine score: w * (slice error / average error - 1) - (1 - w) * (n / size - 1)."""
    se = np.asarray(se, dtype=np.float64)
    ss = np.asarray(ss, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = w * ((se / ss) / ebar - 1.0) - (1.0 - w) * (n / ss - 1.0)
    return np.where(ss > 0, sc, -np.inf)


def mass_score(se, ss, ebar: float, n: int, lift: float = 1.5) -> np.ndarray:
    """Excess error mass: the error the slice holds above `lift` times the average rate, as a share
    of the total error (favours broad slices that hold much of the excess; `sl_score` favours
    small extreme ones)."""
    se = np.asarray(se, dtype=np.float64)
    ss = np.asarray(ss, dtype=np.float64)
    return (se - lift * ebar * ss) / (ebar * n)


def penalised(score: float, order: int, simplicity: float) -> float:
    """Score used to rank slices of different length: a longer description must earn its keep."""
    if score <= 0:
        return score * (1.0 + simplicity * (order - 1))
    return score / (1.0 + simplicity * (order - 1))


# --------------------------------------------------------------------------- tests


def one_sided_p(e_in: np.ndarray, e_out: np.ndarray, binary: bool) -> float:
    """p-value of "the slice's mean error is above the rest's": one-sided binomial test for 0/1
    errors, Welch's t test otherwise."""
    from scipy import stats

    n1, n0 = e_in.size, e_out.size
    if n1 < 2 or n0 < 2:
        return 1.0
    if binary:
        k = int(round(e_in.sum()))
        p0 = float(e_out.mean())
        if p0 <= 0.0:
            return 0.0 if k > 0 else 1.0
        if p0 >= 1.0:
            return 1.0
        return float(stats.binom.sf(k - 1, n1, p0))
    m1, m0 = float(e_in.mean()), float(e_out.mean())
    v1, v0 = float(e_in.var(ddof=1)) / n1, float(e_out.var(ddof=1)) / n0
    se = math.sqrt(v1 + v0)
    if se == 0.0:
        return 0.0 if m1 > m0 else 1.0
    t = (m1 - m0) / se
    df = (v1 + v0) ** 2 / ((v1**2) / (n1 - 1) + (v0**2) / (n0 - 1)) if (v1 + v0) > 0 else n1 + n0 - 2
    return float(stats.t.sf(t, df))


def mean_ci(e: np.ndarray, binary: bool) -> tuple[float, float]:
    """95% interval of a mean error: Wilson for 0/1 errors, Student's t otherwise."""
    n = e.size
    if n == 0:
        return (float("nan"), float("nan"))
    if binary:
        k = float(e.sum())
        z = 1.959964
        p = k / n
        den = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
        return (max(0.0, mid - half), min(1.0, mid + half))
    m = float(e.mean())
    if n < 2:
        return (m, m)
    from scipy import stats

    h = float(stats.t.ppf(0.975, n - 1)) * float(e.std(ddof=1)) / math.sqrt(n)
    return (m - h, m + h)


def excess_z(e_in: np.ndarray, e_out: np.ndarray) -> float:
    """Welch z of mean(e_in) - mean(e_out) (inf when e_out is empty)."""
    if e_out.size < 2:
        return np.inf
    if e_in.size < 2:
        return -np.inf
    se = math.sqrt(e_in.var(ddof=1) / e_in.size + e_out.var(ddof=1) / e_out.size)
    d = float(e_in.mean() - e_out.mean())
    if se == 0:
        return np.inf if d > 0 else -np.inf
    return d / se


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.count_nonzero(a & b)
    if inter == 0:
        return 0.0
    return inter / np.count_nonzero(a | b)


# --------------------------------------------------------------------------- search state


@dataclass(frozen=True)
class Options:
    """The knobs of `find_slices` (documented there)."""

    max_order: int
    n_bins: int
    min_support: float
    top_k: int
    alpha: float
    seed: int
    sl_alpha: float
    simplicity: float
    search_rows: int
    n_confirm: int | None
    max_pair_columns: int
    level3_parents: int
    shared_parents: int
    min_rows: int
    min_lift: float


@dataclass
class Sample:
    """The discovery sample that the search runs on: its rows' codes and errors."""

    cols: list[Col]
    CS: np.ndarray  # (rows, columns) uint8 codes of the sample rows, column-major
    S: np.ndarray  # row positions of the sample in the frame
    eS: np.ndarray  # their errors
    ebar: float  # their mean error
    min_S: int  # fewest sample rows a candidate may hold
    w: float  # SliceLine's weight of error against size
    binary: bool  # errors are 0/1
    nS: int = field(init=False)
    err_rows: np.ndarray = field(init=False)  # sample rows with an error > 0
    e_err: np.ndarray = field(init=False)  # and their errors

    def __post_init__(self) -> None:
        self.nS = self.S.size
        self.err_rows = np.flatnonzero(self.eS > 0)
        self.e_err = self.eS[self.err_rows]

    def score(self, se, ss, by_mass: bool = False) -> np.ndarray:
        """The score a candidate is ranked or refined by: SliceLine's or the excess mass."""
        if by_mass:
            return mass_score(se, ss, self.ebar, self.nS)
        return sl_score(se, ss, self.ebar, self.nS, self.w)


@dataclass
class Cand:
    preds: list[tuple[int, Item]]  # (column index, item)
    score: float = -np.inf
    size: int = 0
    err: float = 0.0
    mask: np.ndarray | None = None  # over the search sample
    by_mass: bool = False  # found and refined by excess error mass
    parent: bool = False  # the shared predicates of several chosen candidates (`search._parents`)

    @property
    def order(self) -> int:
        return len(self.preds)


def mask_on_codes(c: Cand, sample: Sample) -> np.ndarray:
    """The sample rows a candidate selects (its items read from the codes)."""
    m = np.ones(sample.nS, dtype=bool)
    for j, it in c.preds:
        m &= sample.cols[j].member(it)[sample.CS[:, j]]
    return m


def mask_on_rows(c: Cand, cols: list[Col], rows: np.ndarray | None) -> np.ndarray:
    """The rows (all, or the index array `rows`) a candidate selects, read from the values."""
    masks = [cols[j].item_mask(it, rows) for j, it in c.preds]
    m = masks[0]
    for mj in masks[1:]:
        m = m & mj
    return m
