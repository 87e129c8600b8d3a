"""model.overfit judged like for like: your model and the less flexible baseline fitted on as
many rows, on the same evaluation rows (those with unseen features), paired, pooled with the
paired fold differences (stats.fit_gap)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.model.fit import overfit
from mltriage.context import Context
from mltriage.stats.fit_gap import corrected_t, paired_gap, stouffer


def _panel(people=400, new_people=200, rows=4, seed=0, noise=6, signal=None, spread=1.5):
    """Rows of people with fixed features and a personal effect the features do not carry,
    split at random by row (people on both sides) plus people seen in evaluation only."""
    rng = np.random.default_rng(seed)
    n = people + new_people
    X = rng.normal(size=(n, 1 + noise))
    u = rng.normal(0, spread, n)
    rep = np.repeat(np.arange(n), rows)
    logit = (signal(X) if signal else 0.7 * X[:, 0])[rep] + u[rep]
    y = (rng.random(len(rep)) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame(X[rep], columns=[f"x{i}" for i in range(1 + noise)])
    df["y"] = y
    old = rep < people
    seen = df[old].sample(frac=1, random_state=seed)
    cut = int(len(seen) * 0.75)
    return seen.iloc[:cut].reset_index(drop=True), pd.concat([seen.iloc[cut:], df[~old]]).reset_index(
        drop=True
    )


def _ctx(tr, te, est):
    feats = [c for c in tr.columns if c != "y"]
    return Context(build_case(tr, te, "y", model=est.fit(tr[feats], tr["y"]), task="binary"))


@pytest.mark.fires("model.overfit")
def test_overfit_fires_like_for_like_when_repeated_rows_flatter_the_held_out_score():
    # the unpruned tree gets the evaluation rows of people it saw right; on the people it never
    # saw it is well below gradient boosting trained on the same rows
    tr, te = _panel(noise=10, spread=1.0)
    f = alarms(run(overfit, _ctx(tr, te, DecisionTreeClassifier(random_state=0))))
    assert f
    sh = f[0].evidence["less_flexible"]
    assert sh["heldout_rows_set"].startswith("evaluation rows with features no training row has")
    assert sh["heldout_rows"] < len(te) and sh["heldout_shortfall"] >= 0.03 and sh["heldout_z"] >= 1.96


def test_corrected_t_inflates_the_variance_of_overlapping_folds():
    d = np.array([0.05, 0.03, 0.04])
    out = corrected_t(d, 0.5)
    s = np.std(d, ddof=1)
    assert out["t"] == pytest.approx(0.04 / math.sqrt((1 / 3 + 0.5) * s**2))
    assert out["t"] < 0.04 / (s / math.sqrt(3))  # smaller than the naive paired t
    assert 0 < out["p"] < 0.5 and out["z"] > 0
    assert corrected_t(np.array([0.1]), 0.5)["z"] == 0.0


def test_paired_gap_of_identical_models_is_zero_and_stouffer_pools():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = rng.random(300) + 0.3 * y
    out = paired_gap("binary", y, [s], [s], None, 1)
    assert out["shortfall"] == 0.0 and out["z"] == 0.0
    better = paired_gap("binary", y, [s + 0.5 * y], [s], None, 1)
    assert better["shortfall"] > 0 and better["z"] > 3
    assert stouffer(2.0, 2.0) == pytest.approx(4 / math.sqrt(2))
    assert math.isnan(stouffer())
