"""Small data is data (issue 9): below the smallest sample a check can judge it says so as info,
with the measured effect and its interval, and it never goes silent; with enough rows it judges.

model.underfit and model.overfit, on synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.model.fit import overfit, underfit
from mltriage.context import Context

FEATS = ["x1", "x2", "x3"]


def _quadratic(n: int, seed: int, quad: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A binary target with a U-shaped effect of x3 (`quad`) that a logistic model cannot express."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    logit = X[:, 0] - X[:, 1] + quad * (X[:, 2] ** 2 - 1)
    df = pd.DataFrame(X, columns=FEATS)
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    cut = n * 3 // 4
    return df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)


def _case(tr: pd.DataFrame, te: pd.DataFrame, model) -> Context:
    return Context(build_case(tr, te, "y", model=model.fit(tr[FEATS], tr["y"]), task="binary"))


# ------------------------------------------------------------------ model.underfit


@pytest.mark.fires("model.underfit", severity="info")
def test_underfit_on_too_few_rows_is_info_with_the_gap_and_its_interval():
    # 150 training and 50 evaluation rows: boosting fitted on the same rows beats the logistic
    # model by about 0.09 AUC on the same rows, an interval from below 0 to 0.2: no verdict, said
    tr, te = _quadratic(200, 0, 1.5)
    out = run(underfit, _case(tr, te, LogisticRegression()))
    assert len(out) == 1 and not alarms(out)
    ev = out[0].evidence
    assert "cannot be judged" in out[0].title
    assert ev["z_of_smallest_material_shortfall"] < 3
    lo, hi = ev["shortfall_ci"]
    assert lo < 0 < hi and hi >= ev["smallest_material_shortfall"]
    assert ev["evaluation_rows_to_judge"] > ev["evaluation_rows"] == 50
    like = ev["like_for_like"]
    assert like["rows"] == 50 and like["shortfall_ci"][0] < like["shortfall"] < like["shortfall_ci"][1]


@pytest.mark.silent("model.underfit")
def test_underfit_with_enough_rows_to_judge_says_nothing_of_size():
    # the same logistic model where it is the right model (no U-shape), on 4,000 rows: the check
    # can judge, and its silence is a verdict (no small-data note)
    tr, te = _quadratic(4000, 0, 0.0)
    assert run(underfit, _case(tr, te, LogisticRegression())) == []


# ------------------------------------------------------------------ model.overfit


@pytest.mark.fires("model.overfit", severity="info")
def test_overfit_gap_whose_interval_reaches_zero_is_info():
    # a depth-3 tree on 60 training rows: train AUC 0.90 vs 0.65 on 20 evaluation rows, a gap
    # above the 0.10 threshold whose interval still reaches zero
    tr, te = _quadratic(80, 0, 0.0)
    out = run(overfit, _case(tr, te, DecisionTreeClassifier(max_depth=3, random_state=0)))
    assert len(out) == 1 and not alarms(out)
    ev = out[0].evidence
    assert ev["gap"] > ev["threshold"] and ev["gap_ci_low"] <= 0
    assert "cannot be told from the noise" in out[0].title and ev["evaluation_rows"] == 20
