"""data.target_suspect on count targets (held-out set, benchmarks/variants/holdout-run.md): the
zeros of a count whose mode is 0 are what its decay predicts, not a floor pile-up; a count
bottom-coded at 2 (0 and 1 recorded as 2) piles up beyond that decay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.data.target import target_suspect
from mltriage.context import Context


def _ctx(y: np.ndarray, rng: np.random.Generator) -> Context:
    df = pd.DataFrame({"x1": rng.normal(size=y.size), "x2": rng.normal(size=y.size), "y": y})
    cut = int(0.7 * y.size)
    case = build_case(df.iloc[:cut], df.iloc[cut:].reset_index(drop=True), "y", task="regression")
    return Context(case)


def _visits(rng: np.random.Generator, n: int = 6000) -> np.ndarray:
    """Counts like yearly doctor visits: negative binomial, about 30% zeros, a long tail."""
    return rng.negative_binomial(0.9, 0.9 / (0.9 + 2.8), n).astype(float)


@pytest.mark.silent("data.target_suspect")
def test_zero_heavy_count_target_is_not_censored():
    for seed in (0, 1, 2):
        rng = np.random.default_rng(seed)
        y = _visits(rng)
        assert 0.2 < (y == 0).mean() < 0.4
        assert alarms(run(target_suspect, _ctx(y, rng))) == []


@pytest.mark.fires("data.target_suspect")
def test_count_bottom_coded_above_zero_piles_up_at_its_floor():
    rng = np.random.default_rng(0)
    y = np.maximum(_visits(rng), 2.0)  # 0 and 1 recorded as 2: about 45% of rows at the floor
    found = alarms(run(target_suspect, _ctx(y, rng)))
    assert found, "bottom-coded count not flagged"
    piles = found[0].evidence["piled_up_ends"]
    assert [pl["end"] for pl in piles] == ["floor"] and piles[0]["value"] == 2.0


def _hours(rng: np.random.Generator, n: int = 4000) -> np.ndarray:
    """Yearly hours worked: about 27% do not work (0 hours), the others 200-3,500 hours."""
    worked = rng.random(n) >= 0.27
    return np.where(worked, np.clip(rng.normal(1500, 700, n), 200, 3500).round(), 0.0)


@pytest.mark.silent("data.target_suspect")
def test_zero_inflated_non_negative_target_is_info_not_censoring():
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        found = run(target_suspect, _ctx(_hours(rng), rng))
        assert alarms(found) == []
        assert len(found) == 1 and "zero-inflated" in found[0].title
        assert found[0].evidence["zero_inflated"][0]["value"] == 0.0
        assert "Tweedie" in found[0].fix


@pytest.mark.fires("data.target_suspect")
def test_floor_at_zero_with_negative_evaluation_values_is_censoring():
    # a balance clipped at 0 in the training extract only: the evaluation rows show values below
    # 0 exist, so the pile at 0 is a floor inside the quantity's range
    rng = np.random.default_rng(0)
    y = np.round(rng.normal(300, 500, 6000), 1)
    cut = int(0.7 * y.size)
    y[:cut] = np.maximum(y[:cut], 0.0)
    found = alarms(run(target_suspect, _ctx(y, rng)))
    assert found and found[0].evidence["piled_up_ends"][0]["end"] == "floor"


@pytest.mark.fires("data.target_suspect")
def test_shifted_floor_of_a_zero_inflated_target_is_censoring():
    rng = np.random.default_rng(0)
    y = _hours(rng) + 400.0  # the same pile moved to 400: a floor above the natural minimum
    found = alarms(run(target_suspect, _ctx(y, rng)))
    assert found and found[0].evidence["piled_up_ends"][0]["value"] == 400.0
