"""Out-of-distribution rows of a batch against a reference profile: tail, not bulk.

Two questions per numeric column, each against a null measured on the reference itself:

- **How rare is a value?** The reference's tail beyond its 99th (1st) percentile is extrapolated
  as exponential, on the log(1 + x) scale for a non-negative column (a Pareto tail: heavier, so
  more forgiving: counts and amounts have long tails; the bank data's "previous" reaches 275 where
  a training sample stops at 55), with the heavier of two scales: the one its 95th -> 99th percentiles imply and the one
  its 99th percentile -> maximum implies (so that P(beyond the maximum) is at least 1/n, what
  exchangeability gives). `tail_pvalue` is the chance that a reference value lies at least that far
  out. A value is of *impossible magnitude* when that chance is below alpha over the number of
  values tested (Bonferroni): one such row is enough.
- **Did the tail grow, or the bulk move?** The share of batch rows beyond the training range (by
  more than `margin` of it) is tested against the share the extrapolated tail expects there
  (one-sided binomial test). It counts only where the bulk did not move: the batch rows inside
  the training range must match the training distribution (their PSI under the larger of
  psi_warning and the 99th percentile of the PSI of two samples of these sizes, plus the
  evaluation set's own PSI against training: a batch of other entities than training's, as the
  evaluation set of a grouped split is, sits apart by nature), and the rows far outside must be a
  minority. A column whose whole distribution moved is data drift. HOLDOUT5 out_of_distribution
  penn/ridge: 24 rows (2.9%) of a batch of other countries far beyond training's range; the
  batch's rows inside the range at PSI 0.75 and 0.46 where the evaluation set's countries sit at
  0.95 and 0.67, read before as a moved bulk and left to a drift test that cleared it.
- **Are a handful of rows too extreme together?** (`handful_test`) Between one impossible row and
  a tail excess of min_rows: a few rows, none alone beyond the Bonferroni bar, whose magnitudes
  together are. Null: the batch rows are independent draws of the reference distribution. A
  row's p-value is its smallest tail chance (far values only) times the number of columns tested:
  Bonferroni is valid however the columns depend on each other, and under arbitrary dependence
  no merging of p-values beats it by more than a small factor (Vovk & Wang 2020, "Combining
  p-values via averaging", after Rüschendorf: the r-th smallest of d p-values needs d/r, Hommel's
  rule adds the harmonic sum H_d; with the few columns of a table, plain Bonferroni is the
  strongest of them, measured on the HOLDOUT6 plant). Rows are independent, so the k-th smallest
  row p-value q_(k) satisfies P(q_(k) <= t) <= P(Binomial(n, t) >= k); the smallest of these
  over k = 2..handful, times handful - 1 (Bonferroni over k), is the p-value, in the spirit of
  Berk-Jones / higher criticism (Donoho & Jin 2004) for a few non-null among many. How others
  do it: PyOD's ECOD (Li et al. 2022) sums per-column empirical tail log-probabilities (it
  assumes independent columns) and alibi-detect thresholds a row score at a false-positive rate
  inferred on reference data, both per row without a batch-level null; NannyML checks unseen
  values of categorical columns only. Conformal p-values (Bates et al. 2023, "Testing for
  outliers with conformal p-values", BH-valid as they are PRDS) were weighed and set aside: a
  rank against n held-out reference rows is never below 1/(n + 1), so 4 rows at 3-9 times the
  maximum of 287 training rows read as no rarer than 4 rows just beyond it; the magnitude must
  come from an extrapolated tail. HOLDOUT6 out_of_distribution relapse/logreg: 4 rows at 3-9
  times training's maximum in two correlated counts, each row's p-value 5e-5..1e-3 (no single
  value under 0.001 / (144 x 4)), handful p-value 3.5e-6. Its null measured: 204 evaluation sets
  of the eight generalisation sets and 40 of the public benchmark taken as batches (nothing
  planted): above 0.3 but on entity-grouped splits (rail's respondents, galton's families,
  travel's parties: an entity's rows share their extremes, the rows are not independent) and
  on diamonds' real entry errors (table 43, 44, 95), where the impossible-row rule fires as well.
  The check therefore runs the same test on the evaluation set (nothing was done to it) and
  trusts the batch's only when the evaluation set passes (`production.out_of_distribution`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bins import bin_counts_sorted
from .drift import psi
from .profile import NumericProfile
from .skew import null_psi


@dataclass
class TailModel:
    """The reference's two tails as exponentials beyond its 1st and 99th percentiles."""

    log: bool  # fitted on log(1 + x) (a non-negative column)
    q_lo: float
    q_hi: float
    s_lo: float
    s_hi: float

    def pvalue(self, x: np.ndarray) -> np.ndarray:
        """P(a reference value lies at least as far out as x), per value (1 inside the 1-99% range)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.log1p(np.where(x > -1, x, np.nan)) if self.log else x.astype(float)
            if self.log:
                y = np.where(x <= -1, -np.inf, y)  # far below a non-negative column's range
            up = 0.01 * np.exp(-(y - self.q_hi) / self.s_hi)
            dn = 0.01 * np.exp(-(self.q_lo - y) / self.s_lo)
        p = np.where(y > self.q_hi, up, np.where(y < self.q_lo, dn, 1.0))
        return np.where(np.isnan(y), 1.0, np.minimum(p, 1.0))


def tail_model(ref: NumericProfile) -> TailModel | None:
    """The reference's tails (None without enough values or spread)."""
    qs = [ref.quantile(p) for p in (0.01, 0.05, 0.95, 0.99)]
    if ref.n < 30 or ref.min is None or ref.max is None or any(q is None for q in qs):
        return None
    q01, q05, q95, q99 = (float(q) for q in qs if q is not None)
    return _tails_from(q01, q05, q95, q99, float(ref.min), float(ref.max), ref.n)


def own_tail_model(x: np.ndarray) -> TailModel | None:
    """A batch column's own tails, from its percentiles only (its extremes are what is judged)."""
    xs = x[np.isfinite(x)]
    if len(xs) < 30:
        return None
    q01, q05, q95, q99 = (float(v) for v in np.quantile(xs, [0.01, 0.05, 0.95, 0.99]))
    return _tails_from(q01, q05, q95, q99, q01, q99, len(xs))


def _tails_from(q01: float, q05: float, q95: float, q99: float, mn: float, mx: float, n: int) -> TailModel:
    log = mn >= 0
    if log:
        q01, q05, q95, q99, mn, mx = (math.log1p(v) for v in (q01, q05, q95, q99, mn, mx))
    scale = max(mx - mn, abs(q99 - q01), 1e-12)
    k = math.log(max(0.01 * n, 1.0 + 1e-9))

    def s(inner: float, q: float, ext: float) -> float:
        s1 = abs(q - inner) / math.log(5.0)
        s2 = abs(ext - q) / k if k > 1e-6 else 0.0
        return max(s1, s2, 1e-6 * scale)

    return TailModel(log, q01, q99, s(q05, q01, mn), s(q95, q99, mx))


@dataclass
class ColumnTail:
    column: str
    far: np.ndarray  # rows beyond the training range by more than the margin
    impossible: np.ndarray  # rows of impossible magnitude (Bonferroni)
    bulk_moved: bool
    summary: dict[str, Any] = field(default_factory=dict)
    pvalue: np.ndarray | None = None  # each row's tail chance where it is far, 1 elsewhere


BULK_ROWS = (
    30  # the fewest batch rows whose bulk can be said to have moved (production.data_drift's min_rows)
)


def column_tail(
    ref: NumericProfile,
    x: np.ndarray,
    margin: float,
    alpha_value: float,
    psi_warning: float,
    smoothing: float = 0.5,
    natural_psi: float = 0.0,
) -> ColumnTail | None:
    """One column's far and impossible rows, and whether its bulk moved. `natural_psi`: how far a
    sample nothing was done to (the evaluation set) already sits from the reference in this column:
    the bulk moved only when the batch's rows inside the range sit further than that."""
    tm = tail_model(ref)
    if tm is None or ref.min is None or ref.max is None:
        return None
    span = ref.max - ref.min
    m = margin * (span if span > 0 else max(abs(ref.max), 1.0))
    lo, hi = ref.min - m, ref.max + m
    far = (x < lo) | (x > hi)  # NaN compares False; +/-inf is far
    pv = tm.pvalue(np.where(np.isfinite(x), x, np.where(x > 0, 1e308, -1e308)))
    impossible = far & (pv < alpha_value)
    inside = np.sort(x[(x >= ref.min) & (x <= ref.max)])
    n_far = int(far.sum())
    # most rows far outside is a move of the bulk (drift), when there are rows enough to have a
    # bulk: below BULK_ROWS (what comparing distributions needs) each row is judged on its own
    n_finite = int(np.isfinite(x).sum())
    bulk_moved = n_finite >= BULK_ROWS and n_far > 0.5 * n_finite
    bulk_psi = None
    if len(inside) >= 30:
        counts = bin_counts_sorted(inside, ref.edges)
        bulk_psi = psi(ref.counts, counts, smoothing)
        limit = max(psi_warning, null_psi(len(inside), ref.n, int(np.count_nonzero(ref.counts))))
        # other entities (a grouped split) or a later period sit apart from training by nature: the
        # bulk moved when it sits further than the evaluation set does, plus what sampling allows
        bulk_moved = bulk_moved or bulk_psi >= limit + max(natural_psi, 0.0)
    if bulk_moved and impossible.any():
        # the bulk moved: a row is impossible only if the batch's own tails make it so too
        own = own_tail_model(x)
        impossible &= own.pvalue(np.where(np.isfinite(x), x, 1e308)) < alpha_value if own else False
    expected = float(tm.pvalue(np.array([hi]))[0] + tm.pvalue(np.array([lo]))[0])
    summary: dict[str, Any] = {
        "train_range": [ref.min, ref.max],
        "allowed": [lo, hi],
        "expected_share_far": expected,
        "bulk_psi": None if bulk_psi is None else round(bulk_psi, 4),
        "evaluation_psi": round(natural_psi, 4),
    }
    if n_far:
        xf = x[far]
        summary["batch_range_outside"] = [float(np.min(xf)), float(np.max(xf))]
        summary["smallest_tail_pvalue"] = float(np.min(pv[far]))
    return ColumnTail(ref.name, far, impossible, bulk_moved, summary, np.where(far, pv, 1.0))


@dataclass
class Handful:
    """The handful test's answer: its rows, how many, and its p-value (corrected over k)."""

    rows: np.ndarray  # the k rows flagged
    k: int
    p_value: float
    row_pvalues: list[float]  # their row p-values (Bonferroni over the columns tested)


def handful_test(tails: list[ColumnTail], n: int, most: int) -> Handful | None:
    """Are the k most extreme batch rows, for some k in 2..most, too extreme together?

    Each row's p-value is the smallest tail chance of its far values times the number of columns
    tested (Bonferroni: valid however the columns depend on each other); under the null the
    batch rows are independent draws from the reference, so the k-th smallest row p-value q_(k)
    has P(q_(k) <= t) <= P(Binomial(n, t) >= k). The smallest of these chances over k = 2..most,
    times most - 1 (Bonferroni over k), is the test's p-value; the rows are those at the k that
    attains it. k = 1 is the impossible-row rule. None when no column is tested or nothing is far.
    """
    cols = [t.pvalue for t in tails if t.pvalue is not None and len(t.pvalue) == n]
    if not cols or n < 2 or most < 2:
        return None
    from scipy.stats import binom

    d = len(cols)
    q = np.minimum(d * np.min(np.vstack(cols), axis=0), 1.0)
    order = np.argsort(q, kind="stable")[: min(most, n)]
    qs = q[order]
    ks = np.arange(1, len(qs) + 1)
    chance = binom.sf(ks - 1, n, qs)[1:]
    if not len(chance) or qs[1] >= 1.0:
        return None
    j = int(np.argmin(chance))
    k = j + 2
    rows = np.zeros(n, dtype=bool)
    rows[order[:k]] = q[order[:k]] < 1.0
    p = min(float(chance[j]) * (most - 1), 1.0)
    return Handful(rows, k, p, [float(v) for v in qs[:k]])


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    from scipy.stats import binom

    if k <= 0:
        return 1.0
    return float(binom.sf(k - 1, n, min(max(p, 0.0), 1.0)))
