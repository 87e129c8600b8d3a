"""evaluation.miscalibration judged by principle (issue 9): the excess ECE over what a calibrated
model with the same probabilities shows by chance (an effect size with its interval) and a test
against that null; an excess the rows cannot tell from chance is info, never silence. Synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.evaluation.calibration import miscalibration
from mltriage.context import Context
from test_checks_evaluation import Sharpened, fitted, logistic_data

FEATS = ["x1", "x2", "x3"]


@pytest.mark.fires("evaluation.miscalibration")
def test_miscalibration_judged_on_the_excess_with_a_test_not_on_the_interval_end():
    # 700 evaluation rows of a mildly over-confident model: the ECE exceeds what a calibrated
    # model with the same probabilities shows by 0.067 (p 0.005), though the interval's lower
    # end is within 0.05 of that floor (the former rule's silence)
    train = logistic_data(3000, 1)
    ctx = Context(
        build_case(train, logistic_data(700, 2), "y", model=Sharpened(fitted(train), 2.0), task="binary")
    )
    out = alarms(run(miscalibration, ctx, n_boot=100))
    assert len(out) == 1
    ev = out[0].evidence
    assert ev["excess_ece"] >= 0.05 > ev["excess_ece_low"] and ev["p_value"] <= ev["alpha"]


@pytest.mark.fires("evaluation.miscalibration", severity="info")
def test_miscalibration_that_small_data_cannot_tell_from_chance_is_info():
    # 110 evaluation rows: an excess of 0.056 with p 0.04 under perfect calibration: said, not flagged
    train = logistic_data(3000, 1)
    ctx = Context(
        build_case(train, logistic_data(110, 12), "y", model=Sharpened(fitted(train), 1.4), task="binary")
    )
    out = run(miscalibration, ctx, n_boot=100)
    assert len(out) == 1 and not alarms(out)
    ev = out[0].evidence
    assert ev["excess_ece"] >= 0.05 and ev["p_value"] > ev["alpha"]
    assert "cannot be judged on 110 evaluation rows" in out[0].title


@pytest.mark.silent("evaluation.miscalibration")
@pytest.mark.parametrize("seed", [10, 11, 12])
def test_miscalibration_silent_on_a_calibrated_model_with_few_rows(seed):
    train = logistic_data(3000, 1)
    ctx = Context(build_case(train, logistic_data(110, seed), "y", model=fitted(train), task="binary"))
    assert run(miscalibration, ctx, n_boot=100) == []


class _Softened:
    """A classifier whose probabilities are pulled towards uniform (under-confident)."""

    def __init__(self, model, share=0.3):
        self.model, self.share = model, share
        self.classes_ = model.classes_
        self.feature_names_in_ = model.feature_names_in_

    def predict_proba(self, X):
        p = self.model.predict_proba(X)
        return (1 - self.share) * p + self.share / p.shape[1]

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


@pytest.mark.silent("evaluation.miscalibration")
def test_miscalibration_of_a_multiclass_model_right_on_every_row_is_under_confidence_only():
    # three well-separated classes: every top label is right, at a confidence near 0.8. No
    # calibration slope can be fitted (one outcome), which is no sign of over-confidence: info
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 1500)
    X = np.eye(3)[y] * 8 + rng.normal(size=(1500, 3))
    df = pd.DataFrame(X, columns=FEATS)
    df["y"] = y
    tr, te = df.iloc[:1000].reset_index(drop=True), df.iloc[1000:].reset_index(drop=True)
    model = _Softened(LogisticRegression().fit(tr[FEATS], tr["y"]))
    out = run(miscalibration, Context(build_case(tr, te, "y", model=model, task="multiclass")), n_boot=100)
    assert len(out) == 1 and out[0].severity.value == "info"
    assert out[0].evidence["observed_rate"] == 1.0 and "under-confident" in out[0].evidence["note"]
