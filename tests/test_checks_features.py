"""The features rung: constant and redundant features, each firing on a planted case and silent on
a clean one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import features as F
from mltriage.context import Context
from mltriage.findings import Severity


def alarms(fn, ctx):
    return checkhelp.alarms(checkhelp.run(fn, ctx))


def frame(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "rare_flag": (rng.random(n) < 0.02).astype(int),  # rare but real: not constant
            "cat": rng.choice(["x", "y", "z"], size=n),
            "n": rng.integers(0, 10, size=n),
        }
    )
    df["y"] = (df.a + rng.normal(size=n) > 0).astype(int)
    return df


def ctx_of(df):
    k = int(len(df) * 0.7)
    return Context(
        build_case(df.iloc[:k].reset_index(drop=True), df.iloc[k:].reset_index(drop=True), "y", task="binary")
    )


@pytest.mark.fires("features.constant")
def test_constant_fires():
    df = frame()
    df["const"] = 7.0
    df["almost"] = 0
    df.loc[3, "almost"] = 1
    found = alarms(F.constant, ctx_of(df))
    assert found and set(found[0].columns) == {"const", "almost"}


@pytest.mark.silent("features.constant")
def test_constant_silent_on_rare_flags():
    assert alarms(F.constant, ctx_of(frame())) == []


def _wine_binary():
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True, as_frame=True)
    return X.assign(y=(y == 0).astype(int)).sample(frac=1, random_state=0).reset_index(drop=True)


@pytest.mark.fires("features.constant")
def test_constant_fires_on_one_value_besides_missing():
    """Deepchecks' IsSingleValue with nulls ignored: 1.0 or missing at random carries nothing."""
    df = _wine_binary()
    rng = np.random.default_rng(0)
    df["consent"] = np.where(rng.random(len(df)) < 0.25, np.nan, 1.0)
    found = alarms(F.constant, ctx_of(df))
    assert found and found[0].columns == ["consent"] and "besides missing" in found[0].title


@pytest.mark.silent("features.constant")
def test_constant_silent_on_a_flag_stored_as_value_or_missing():
    """1.0 where the class is 1 (mostly), missing elsewhere: a real flag, not a constant."""
    df = _wine_binary()
    rng = np.random.default_rng(1)
    df["flag"] = np.where((df["y"] == 1) ^ (rng.random(len(df)) < 0.1), 1.0, np.nan)
    assert alarms(F.constant, ctx_of(df)) == []


@pytest.mark.fires("features.redundant")
def test_redundant_fires_on_unit_copy_and_recoding():
    df = frame()
    df["a_in_cents"] = df.a * 100 + 3
    df["cat_code"] = df.cat.map({"x": 1, "y": 2, "z": 3})
    found = alarms(F.redundant, ctx_of(df))
    assert found
    assert {"a", "a_in_cents", "cat", "cat_code"} <= set(found[0].columns)


@pytest.mark.silent("features.redundant")
def test_redundant_silent_on_correlated_but_distinct():
    df = frame()
    rng = np.random.default_rng(5)
    df["a_noisy"] = df.a + rng.normal(scale=0.3, size=len(df))  # r ~ 0.96: related, not a copy
    assert alarms(F.redundant, ctx_of(df)) == []


@pytest.mark.silent("features.redundant")
def test_redundant_natural_near_perfect_correlation_is_info_only():
    # radius and perimeter of a measured shape: r ~ 0.998 but not a copy (measurement noise)
    df = frame()
    rng = np.random.default_rng(6)
    radius = rng.uniform(5, 25, len(df))
    df["radius"] = radius
    df["perimeter"] = 2 * np.pi * radius * (1 + rng.normal(scale=0.02, size=len(df)))
    out = checkhelp.run(F.redundant, ctx_of(df))
    assert len(out) == 1 and out[0].severity == Severity.INFO
    assert alarms(F.redundant, ctx_of(df)) == []
