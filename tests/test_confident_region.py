"""errors.high_confidence_errors, issue 9 capability 5: when most confident mistakes fall in one
region (a labelling rule changed for one group), that region is found whole and named even when it
is large and the model's aggregate skill is low; scattered or global confident mistakes are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, RidgeClassifier

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.error_analysis.confident import high_confidence_errors
from mltriage.context import Context
from mltriage.stats.slices import slice_mask


class _OneHot:
    """One-hot inside predict, so the model takes the raw frame's columns."""

    def __init__(self, est, cols):
        self.est, self.cols = est, cols
        self.classes_ = est.classes_

    def _x(self, df):
        return pd.get_dummies(df[["x1", "x2", "group"]], dtype=float).reindex(
            columns=self.cols, fill_value=0.0
        )

    def predict(self, df):
        return self.est.predict(self._x(df))

    def predict_proba(self, df):
        return self.est.predict_proba(self._x(df))


class _OneHotMargin(_OneHot):
    """The same with a margin-only classifier (no predict_proba)."""

    def __getattribute__(self, name):
        if name == "predict_proba":
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    def decision_function(self, df):
        return self.est.decision_function(self._x(df))


def _case(relabel: str, margin: bool = False, seed: int = 1):
    """A weak model (the label is a noisy function of x1, x2: few decisions reach p >= 0.9).
    relabel: "region" flips 60% of the more confident half of decisions in group 'a' (a third of
    the rows), "everywhere" flips the same share of confident decisions in every group (a model that
    does not work anywhere), "none" keeps the labels."""
    rng = np.random.default_rng(seed)
    n = 9000
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "group": pd.Series(rng.choice(["a", "b", "c"], n), dtype="str"),
        }
    )
    logit = 0.9 * df["x1"].to_numpy() + 0.5 * df["x2"].to_numpy()
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    train, test = df.iloc[:4500].reset_index(drop=True), df.iloc[4500:].reset_index(drop=True)
    X = pd.get_dummies(train[["x1", "x2", "group"]], dtype=float)
    if margin:
        model = _OneHotMargin(RidgeClassifier().fit(X, train["y"]), list(X.columns))
        s = model.decision_function(test)
        pred, conf = (s > 0).astype(int), np.abs(s)
    else:
        model = _OneHot(LogisticRegression(max_iter=500).fit(X, train["y"]), list(X.columns))
        s = model.predict_proba(test)[:, 1]
        pred, conf = (s >= 0.5).astype(int), np.abs(s - 0.5)
    confident = conf >= np.median(conf)
    region = (test["group"] == "a").to_numpy()
    where = {"region": region, "everywhere": np.ones(len(test), bool), "none": np.zeros(len(test), bool)}
    flip = where[relabel] & confident & (rng.uniform(size=len(test)) < 0.6)
    test.loc[flip, "y"] = 1 - pred[flip]
    ctx = Context(build_case(train, test, "y", task="binary", model=model, categorical=["group"]))
    return ctx, test, region


@pytest.mark.fires("errors.high_confidence_errors")
@pytest.mark.parametrize("margin", [False, True])
def test_large_region_of_confident_mistakes_is_found_whole(margin):
    ctx, test, region = _case("region", margin=margin)
    f = alarms(run(high_confidence_errors, ctx))
    assert f and f[0].slice, "a third of the rows holding most confident mistakes is a warning"
    m = slice_mask(test, f[0].slice)
    assert (m & region).sum() / (m | region).sum() >= 0.8  # the whole region, not a dense corner
    ev = f[0].evidence
    assert ev["share_of_confident_errors"] >= 0.5
    lo, hi = ev["share_of_confident_errors_ci"]
    assert lo <= ev["share_of_confident_errors"] <= hi
    assert ev["share_expected_by_its_probabilities"] < lo
    assert ev["confidence_used"] < 0.9  # a weak model: its more confident half
    assert ev["root_cause_category"] == "labels"  # the label mix differs from training there


@pytest.mark.silent("errors.high_confidence_errors")
@pytest.mark.parametrize("relabel", ["none", "everywhere"])
def test_no_region_when_labels_are_clean_or_confident_mistakes_are_everywhere(relabel):
    ctx, _, _ = _case(relabel)
    assert alarms(run(high_confidence_errors, ctx)) == []
