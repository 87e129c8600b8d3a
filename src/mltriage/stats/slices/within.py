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


def strata(groups: np.ndarray) -> np.ndarray:
    """Integer strata for `within_groups`: each group holding two rows or more is its own stratum;
    the rows alone in their group (no contrast inside it) form one stratum together, where the
    comparison falls back to the one across those groups."""
    codes, _ = pd.factorize(pd.Series(np.asarray(groups)), use_na_sentinel=False)
    counts = np.bincount(codes)
    return np.where(counts[codes] > 1, codes, -1)


def within_groups(error: np.ndarray, trait: np.ndarray, groups: np.ndarray) -> WithinGroups:
    """The trait rows' error against the chance rate of the trait permuted within groups (use
    `strata(groups)` to pool the single-row groups)."""
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
    return WithinGroups(rate, chance, lift, ci, float(z), float(stats.norm.sf(z)), k, contrast, sd)
