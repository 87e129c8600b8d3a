"""Near copies on several continuous readings (`stats.near_space`): the nearest-neighbour gaps of
a locally Poisson process bound the chance rate whatever the density, so rows on a
low-dimensional structure (a monthly series, whose neighbouring months share the quantile bins of
every slowly moving column) are not near copies, while jittered copies are. Synthetic data, not
the benchmark's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import rows
from mltriage.context import Context
from mltriage.stats.near_space import gap_copies, gap_flags, gap_ratios


@pytest.mark.parametrize("d", [1, 2, 5])
def test_gap_flags_stay_under_their_chance_bound_on_clustered_points(d):
    # a mixture of tight and loose clusters: the density varies by 100x, the bound holds anyway
    g = np.random.default_rng(d)
    centres = g.uniform(0, 100, (40, d))
    x = centres[g.integers(0, 40, 4000)] + g.normal(0, 1, (4000, d)) * g.choice([0.1, 10.0], (4000, 1))
    u1, u2 = gap_ratios(x, np.zeros(len(x)))
    flag, chance = gap_flags(u1, u2, 0.02)
    f = gap_copies(flag, chance, within=True)
    assert f.twins / f.rows <= np.nanmean(chance) + 0.01 and f.p_value > 0.01


def _series(copies: bool, n: int = 480, seed: int = 5) -> Context:
    """A monthly economy: population, spending and unemployment moving slowly, a saving rate
    drifting, split at random 70/30; with `copies`, every month also entered a second time with
    each reading jittered by 0.1% of its standard deviation (re-entered at another precision),
    before the split."""
    g = np.random.default_rng(seed)
    t = np.arange(n)
    df = pd.DataFrame(
        {
            "year_no": (1967 + t // 12).astype(float),
            "population_m": (198 + 0.2 * t + g.normal(0, 0.05, n)).round(3),
            "spend_bn": (500 * np.exp(0.006 * t) * (1 + g.normal(0, 0.002, n))).round(1),
            "jobless_k": (3000 + np.cumsum(g.normal(8, 90, n))).round(0),
            "jobless_weeks": (6 + np.abs(np.cumsum(g.normal(0, 0.25, n)))).round(1),
        }
    )
    df["saving_pct"] = (11 - 0.018 * t + np.cumsum(g.normal(0, 0.3, n)) * 0.3).round(1)
    if copies:
        twin = df.copy()
        for c in ("population_m", "spend_bn", "jobless_k", "jobless_weeks"):
            twin[c] = twin[c] + g.normal(0, 0.001 * df[c].std(), n)
        df = pd.concat([df, twin], ignore_index=True)
    test = g.uniform(size=len(df)) < 0.3
    tr, te = df[~test].reset_index(drop=True), df[test].reset_index(drop=True)
    x = ["year_no", "population_m", "spend_bn", "jobless_k", "jobless_weeks"]
    m = RandomForestRegressor(n_estimators=40, random_state=0).fit(tr[x], tr["saving_pct"])
    return Context(build_case(tr, te, "saving_pct", task="regression", model=m))


@pytest.mark.silent("data.train_test_overlap")
def test_overlap_silent_on_a_monthly_series_split_at_random():
    ctx = _series(copies=False)
    # the binned twins' density model calls neighbouring months near copies here
    binned, _ = rows.near_copy_fit(ctx, 4.0, 20, "test")
    assert binned.twins > 3 * max(binned.chance_most, 1.0)
    assert checkhelp.alarms(checkhelp.run(rows.train_test_overlap, ctx)) == []


@pytest.mark.fires("data.train_test_overlap")
def test_overlap_fires_on_a_monthly_series_with_jittered_copies_before_the_split():
    found = checkhelp.alarms(checkhelp.run(rows.train_test_overlap, _series(copies=True)))
    assert len(found) == 1 and found[0].title.startswith("Near copies across the split")
    ev = found[0].evidence["near_copies"]
    assert ev["copy_share"] > 0.1 and ev["p_value_no_copies"] < 1e-6
