"""The chance rate of a trait inside groups: the error rate that a trait's rows would show if the
trait fell at random on rows of the same groups (queries, sessions), computed exactly.

Permuting a 0/1 trait among the rows of each group keeps every group's count of trait rows; the
trait rows' summed error is then a sum over groups of draws without replacement, so its mean and
variance are known in closed form (hypergeometric moments), with no simulation:
    E = sum_g m_g * mean_g,   Var = sum_g m_g * var_g * (n_g - m_g) / (n_g - 1)
(n_g rows in group g, m_g of them with the trait, mean_g and var_g the population mean and variance
of the group's errors). Groups whose rows all hold the trait, or none, contribute no contrast;
a group of one row is such a group, so `strata` pools those rows into one stratum (the comparison
across them is then the unconditional one, as in a stratified permutation test).

With few groups holding the trait the normal approximation of that sum is no test (at 12 queries
its tail is off by orders of magnitude), so `within_groups(..., exact=True)` takes the p-value and
the interval from the permutation distribution itself: exactly for a 0/1 error (the trait rows'
error count is a sum of independent hypergeometric counts, one per group, whose distribution is
their convolution), by Monte Carlo permutations within groups otherwise (`DRAWS` draws, p-value
(1 + draws at or above the observed sum) / (1 + DRAWS)). Exact at every size: no fewest groups.

The Monte Carlo test is curtailed when the caller gives the p-value it decides at
(`decide_below`: alpha over the family's Bonferroni factor): the draws come in batches of `BATCH`
from one seeded stream, and once (1 + draws at or above the observed sum) / (1 + DRAWS) exceeds
`decide_below` the full test's p-value cannot fall below it whatever the remaining draws give, so
the test stops there with the same decision (sequential Monte Carlo p-values: Besag & Clifford
1991, "Sequential Monte Carlo p-values", Biometrika 78(2):301-304, which stop after h draws at or
above the observed statistic). The p-value it reports is that of the draws made, (1 + at or
above) / (1 + draws made), itself above `decide_below`; a trait the test would retain runs
all DRAWS draws and gets the full test's p-value, unchanged. The draws made are the first ones of
the full test's stream (same seed, same batches), so the decision is the full test's decision on
every input, not only with high probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class WithinGroups:
    rate: float  # the trait rows' mean error
    chance_rate: float  # its mean under the trait permuted within groups
    lift: float  # rate / chance_rate (1 when no group contrasts the trait with other rows)
    lift_ci: tuple[float, float]  # 95% normal interval of the lift under the permutation spread
    z: float
    p_value: float  # one-sided: the trait rows err more than chance within their groups
    rows: int  # trait rows
    contrasting_groups: int  # groups holding trait rows and other rows
    sd: float = 0.0  # the permutation spread of the trait rows' summed error
    method: str = "normal"  # "normal", "exact" (0/1 error) or "permutations" (Monte Carlo)
    p_floor: float = 0.0  # the smallest p-value the test could give on these groups (exact only)
    draws: int = 0  # Monte Carlo permutations made (fewer than DRAWS: curtailed, see the module)


DRAWS = 2000  # Monte Carlo permutations for a non-binary error (p-values down to 1/2001)
BATCH = 250  # draws per batch; a curtailed test stops between batches
BUDGET = 10_000_000  # most rows x draws the Monte Carlo permutations may take; above: normal


def strata(groups: np.ndarray) -> np.ndarray:
    """Integer strata for `within_groups`: each group holding two rows or more is its own stratum;
    the rows alone in their group (no contrast inside it) form one stratum together, where the
    comparison falls back to the one across those groups."""
    codes, _ = pd.factorize(pd.Series(np.asarray(groups)), use_na_sentinel=False)
    counts = np.bincount(codes)
    return np.where(counts[codes] > 1, codes, -1)


def within_groups(
    error: np.ndarray,
    trait: np.ndarray,
    groups: np.ndarray,
    exact: bool = False,
    seed: int = 0,
    decide_below: float | None = None,
) -> WithinGroups:
    """The trait rows' error against the chance rate of the trait permuted within groups (use
    `strata(groups)` to pool the single-row groups). exact: the p-value and the interval from the
    permutation distribution (see the module's words) instead of its normal approximation.
    decide_below: the p-value the caller's decision is taken at; Monte Carlo permutations stop
    once the full test's p-value cannot fall below it (the module's words; the interval then
    comes from the draws made)."""
    e = np.asarray(error, float)
    t = np.asarray(trait, bool)
    d = pd.DataFrame({"g": np.asarray(groups), "e": e, "t": t.astype(float)})
    agg = d.groupby("g", sort=False).agg(n=("e", "size"), m=("t", "sum"), mean=("e", "mean"), e2=("e", "var"))
    n, m = agg["n"].to_numpy(float), agg["m"].to_numpy(float)
    var_pop = np.nan_to_num(agg["e2"].to_numpy(float)) * np.where(n > 1, (n - 1) / np.maximum(n, 1), 0.0)
    expected = float((m * agg["mean"].to_numpy(float)).sum())
    var = float((m * var_pop * (n - m) / np.maximum(n - 1, 1)).sum())
    observed = float(e[t].sum())
    k = int(t.sum())
    rate = observed / k if k else float("nan")
    chance = expected / k if k else float("nan")
    contrast = int(((m > 0) & (m < n)).sum())
    if not k or var <= 0 or expected <= 0:
        return WithinGroups(rate, chance, 1.0, (1.0, 1.0), 0.0, 1.0, k, contrast)
    sd = float(np.sqrt(var))
    z = (observed - expected) / sd
    lift = observed / expected
    ci = ((observed - 1.96 * sd) / expected, (observed + 1.96 * sd) / expected)
    out = WithinGroups(rate, chance, lift, ci, float(z), float(stats.norm.sf(z)), k, contrast, sd)
    if exact:
        tail = permutation_tail(e, t, np.asarray(groups), observed, seed, decide_below)
        if tail is not None:
            p, lo, hi, floor, method, out.draws = tail
            # the analogue of observed -/+ 1.96 sd: the observed sum moved by the null's own
            # distance from its mean to its 97.5% and 2.5% points
            out.lift_ci = ((observed - (hi - expected)) / expected, (observed + (expected - lo)) / expected)
            out.p_value, out.p_floor, out.method = p, floor, method
    return out


def permutation_tail(
    e: np.ndarray,
    t: np.ndarray,
    groups: np.ndarray,
    observed: float,
    seed: int = 0,
    decide_below: float | None = None,
) -> tuple[float, float, float, float, str, int] | None:
    """(one-sided p-value, 2.5% and 97.5% points of the null sum, smallest attainable p-value,
    method, Monte Carlo draws made) of the trait rows' summed error under the trait permuted
    within groups; None when a non-binary error would take more than BUDGET rows x draws (then
    the groups are many and the normal approximation holds). decide_below: stop the draws once
    the full test's p-value cannot fall below it (the module's words)."""
    codes, _ = pd.factorize(pd.Series(groups), use_na_sentinel=False)
    n = np.bincount(codes)
    m = np.bincount(codes, weights=t.astype(float)).astype(int)
    vary = (m > 0) & (m < n)
    fixed = float(e[t & ~vary[codes]].sum())  # groups all trait: their sum never moves
    binary = bool(np.isin(e, (0.0, 1.0)).all())
    if binary:
        bad = np.bincount(codes, weights=e).round().astype(int)
        pmf = np.ones(1)
        gs = np.flatnonzero(vary)
        if gs.size:
            # every group's pmf in one call (elementwise, as group by group); row j up to m_j
            mg = m[gs]
            each = stats.hypergeom.pmf(
                np.arange(int(mg.max()) + 1)[None, :], n[gs][:, None], bad[gs][:, None], mg[:, None]
            )
            for j in range(gs.size):
                pmf = np.convolve(pmf, each[j, : mg[j] + 1])
        x = int(round(observed - fixed))
        tail = np.cumsum(pmf[::-1])[::-1]  # P(X >= i), summed from the far end (small terms first)
        p = float(tail[x]) if 0 <= x < tail.size else (1.0 if x < 0 else 0.0)
        cdf = np.cumsum(pmf)
        lo = fixed + float(np.searchsorted(cdf, 0.025))
        hi = fixed + float(np.searchsorted(cdf, 0.975))
        top = int(np.flatnonzero(pmf > 0)[-1]) if pmf.size else 0
        return min(1.0, p), lo, hi, float(tail[top]), "exact", 0
    rows = np.flatnonzero(vary[codes])
    draws = DRAWS
    if rows.size * draws > BUDGET:
        return None
    rng = np.random.default_rng(seed)
    # every draw: a random order inside each group, its first m_g rows take the trait
    g_rows = codes[rows]
    order0 = np.argsort(g_rows, kind="stable")
    rows, g_rows = rows[order0], g_rows[order0]
    start = np.searchsorted(g_rows, g_rows)  # the first index of each row's group in `rows`
    vals = e[rows]
    sums = np.empty(draws)
    made, above = 0, 0
    while made < draws:
        b = min(BATCH, draws - made)
        keys = g_rows[None, :] + rng.random((b, rows.size))
        o = np.argsort(keys, axis=1)
        rank = np.arange(rows.size)[None, :] - start[o]
        take = rank < m[g_rows[o]]
        sums[made : made + b] = (vals[o] * take).sum(axis=1) + fixed
        above += int((sums[made : made + b] >= observed - 1e-12).sum())
        made += b
        # curtailed (the module's words): the full test's p-value is at least (1 + above) / (1 + draws)
        if decide_below is not None and (1.0 + above) / (1.0 + draws) > decide_below:
            break
    sums = sums[:made]
    p = (1.0 + above) / (1.0 + made)
    lo, hi = np.quantile(sums, [0.025, 0.975])
    return p, float(lo), float(hi), 1.0 / (1.0 + draws), "permutations", made
