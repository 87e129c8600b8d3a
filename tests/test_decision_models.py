"""Models without predict_proba (issue 9, capability 10), estimates on a curated evaluation set and
plain callables returning probabilities (capabilities 11 and 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_breast_cancer, load_wine, make_classification
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import checkhelp
from mltriage.case import build_case
from mltriage.checks.error_analysis.confident import high_confidence_errors
from mltriage.checks.evaluation.calibration import miscalibration
from mltriage.checks.model.common import headline_score
from mltriage.checks.model.outputs import wrong_output_type
from mltriage.checks.model.stability import instability
from mltriage.checks.production.performance import estimated_performance_drop
from mltriage.context import Context
from mltriage.registry import NotApplicable
from mltriage.stats.metrics import auc


@pytest.fixture(scope="module")
def cancer():
    d = load_breast_cancer(as_frame=True).frame.rename(columns=lambda c: c.replace(" ", "_"))
    d = d.sample(frac=1.0, random_state=0).reset_index(drop=True)
    return d.iloc[:350], d.iloc[350:]


@pytest.mark.parametrize(
    "est",
    [LinearSVC(), SGDClassifier(loss="hinge", random_state=0), RidgeClassifier()],
    ids=["linear_svc", "sgd_hinge", "ridge"],
)
def test_decision_function_gives_the_scores(cancer, est):
    tr, te = cancer
    model = make_pipeline(StandardScaler(), est).fit(tr.drop(columns="target"), tr["target"])
    ctx = Context(build_case(tr, te, "target", model=model))
    pred = ctx.predictions("test")
    assert pred.kind == "decision" and not pred.has_proba
    assert ctx.threshold == 0.0
    np.testing.assert_array_equal(pred.label, model.predict(te.drop(columns="target")))
    margins = model.decision_function(te.drop(columns="target"))
    np.testing.assert_allclose(pred.score, margins)
    a, _ = headline_score(ctx, "test")
    assert a == pytest.approx(auc((te["target"] == 1).astype(int).to_numpy(), margins))
    assert a > 0.95  # ranked by margins, not by hard labels
    with pytest.raises(NotApplicable, match="decision_function margins"):
        checkhelp.run(miscalibration, ctx)
    checkhelp.run(high_confidence_errors, ctx)  # runs on Platt-scaled margins, no crash
    res = ctx.baselines()
    assert res.models["user"].error is None and res.models["user"].mean > 0.95


def test_margins_point_to_the_positive_class(cancer):
    tr, te = cancer
    tr, te = (
        tr.assign(target=tr["target"].map({0: "b", 1: "a"})),
        te.assign(target=te["target"].map({0: "b", 1: "a"})),
    )
    model = make_pipeline(StandardScaler(), LinearSVC()).fit(tr.drop(columns="target"), tr["target"])
    ctx = Context(build_case(tr, te, "target", model=model))  # positive "b" = classes_[1]
    pred = ctx.predictions("test")
    a, _ = headline_score(ctx, "test")
    assert a > 0.95
    assert ((pred.score > 0) == (pred.label == ctx.case.positive)).all()


def test_multiclass_margins(cancer):
    w = load_wine(as_frame=True).frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    tr, te = w.iloc[:110], w.iloc[110:]
    model = make_pipeline(StandardScaler(), LinearSVC()).fit(tr.drop(columns="target"), tr["target"])
    ctx = Context(build_case(tr, te, "target", model=model))
    pred = ctx.predictions("test")
    assert pred.kind == "decision" and pred.decision is not None and pred.decision.shape == (len(te), 3)
    checkhelp.run(high_confidence_errors, ctx)


class ShiftedLogit(ClassifierMixin, BaseEstimator):
    """A logistic regression whose intercept moves with its seed by `shift` (sd): the same ranking
    (AUC) for every seed, other decisions at the threshold (accuracy)."""

    def __init__(self, shift: float = 0.0, random_state: int = 0):
        self.shift = shift
        self.random_state = random_state

    def fit(self, X, y):
        self.lr_ = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
        self.classes_ = self.lr_.classes_
        self.offset_ = float(np.random.default_rng(self.random_state).normal(0, self.shift))
        return self

    def decision_function(self, X):
        return self.lr_.decision_function(X) + self.offset_

    def predict(self, X):
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


def _shifted_case(shift: float):
    X, y = make_classification(1200, 6, n_informative=4, class_sep=0.7, random_state=3)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(y=y)
    tr, te = df.iloc[:900], df.iloc[900:]
    model = ShiftedLogit(shift=shift).fit(tr.drop(columns="y"), tr["y"])
    return Context(build_case(tr, te, "y", model=model, metric="accuracy"))


@pytest.mark.fires("model.instability")
def test_instability_on_the_owners_metric_across_seeds():
    ctx = _shifted_case(3.0)
    f = checkhelp.alarms(checkhelp.run(instability, ctx))
    assert f and "the metric you report" in f[0].title
    ev = f[0].evidence
    assert ev["owner_metric"] == "accuracy" and ev["seed_sd"] < 0.01  # AUC does not move


@pytest.mark.silent("model.instability")
def test_no_instability_when_the_owners_metric_holds():
    ctx = _shifted_case(0.0)
    out = checkhelp.run(instability, ctx)
    assert not checkhelp.alarms(out)


def _curated(curate: bool, borderline_batch: bool):
    X, y = make_classification(6000, 8, n_informative=4, flip_y=0.05, random_state=1)
    cols = [f"f{i}" for i in range(8)]
    df = pd.DataFrame(X, columns=cols).assign(y=y)
    tr, ev, pool = df.iloc[:2000], df.iloc[2000:4000], df.iloc[4000:]
    model = LogisticRegression().fit(tr[cols], tr["y"])
    pe = model.predict_proba(ev[cols])[:, 1]
    pp = model.predict_proba(pool[cols])[:, 1]
    if curate:
        ev = ev[np.abs(pe - 0.5) >= 0.3]  # borderline cases removed from the evaluation set
    cur = pool[np.abs(pp - 0.5) < 0.25] if borderline_batch else pool.iloc[:600]
    return Context(build_case(tr, ev, "y", model=model, current=cur.drop(columns="y")))


@pytest.mark.fires("production.estimated_performance_drop")
def test_curated_evaluation_set_makes_the_estimate_unreliable_and_still_flags():
    f = checkhelp.alarms(checkhelp.run(estimated_performance_drop, _curated(True, True)))
    assert f and "unreliable" in f[0].title
    sup = f[0].evidence["support"]
    assert sup["unreliable"] and sup["batch_share_in_thin_bins"] > 0.9 > sup["evaluation_share_in_thin_bins"]


@pytest.mark.silent("production.estimated_performance_drop")
def test_full_evaluation_set_and_a_batch_like_it_no_caveat():
    out = checkhelp.run(estimated_performance_drop, _curated(False, False))
    assert not any("unreliable" in f.title for f in out)


def test_a_plain_callable_returning_p_positive_is_taken_as_scores(cancer):
    tr, te = cancer
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(
        tr.drop(columns="target"), tr["target"]
    )

    def score(X):
        return lr.predict_proba(X)[:, 1]

    ctx = Context(build_case(tr, te, "target", model=score, task="binary"))
    pred = ctx.predictions("test")
    assert pred.has_proba and pred.kind == "probability"
    assert not checkhelp.alarms(checkhelp.run(wrong_output_type, ctx))
    assert headline_score(ctx, "test")[0] > 0.95
    assert any("read as P(1)" in n for n in ctx.notes)


def test_a_callable_returning_a_quantity_is_still_a_wrong_output(cancer):
    tr, te = cancer
    ctx = Context(build_case(tr, te, "target", model=lambda X: X["mean_area"].to_numpy(), task="binary"))
    assert checkhelp.alarms(checkhelp.run(wrong_output_type, ctx))


def _rare_case(prevalence: float, n: int):
    """Binary, a rare positive class shifted by 0.9 sd on two of five features: ranked (AUC about
    0.8) but almost never above 0.5 for an unweighted logistic regression."""
    from mltriage.checks.model.imbalance import unhandled_imbalance

    rng = np.random.default_rng(4)
    y = (rng.random(n) < prevalence).astype(int)
    X = rng.normal(size=(n, 5))
    X[:, :2] += 0.9 * y[:, None]
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(y=y)
    cut = int(0.8 * n)
    tr, te = df.iloc[:cut], df.iloc[cut:]
    model = LogisticRegression(max_iter=500).fit(tr.drop(columns="y"), tr["y"])
    return checkhelp.run(unhandled_imbalance, Context(build_case(tr, te, "y", model=model)))


@pytest.mark.fires("model.unhandled_imbalance")
def test_rare_class_judged_with_out_of_fold_rows_when_the_evaluation_set_is_small():
    out = checkhelp.alarms(_rare_case(0.03, 2500))
    assert out and out[0].classes == [1]
    row = [r for r in out[0].evidence["table"] if r["class"] == 1][0]
    assert row["rows"] == "evaluation + out-of-fold training" and row["positives"] >= 20


@pytest.mark.silent("model.unhandled_imbalance")
def test_too_few_rare_rows_even_with_out_of_fold_is_said_as_info():
    out = _rare_case(0.02, 400)
    assert any("Too few rows" in f.title for f in out)


def _rare_multiclass(rare_share: float, n: int, weighted: bool):
    """Three classes, one rare (shifted by 1.2 sd on two features): ranked, rarely the argmax."""
    from mltriage.checks.model.imbalance import unhandled_imbalance

    rng = np.random.default_rng(11)
    y = rng.choice(["a", "b", "r"], n, p=[(1 - rare_share) / 2, (1 - rare_share) / 2, rare_share])
    X = rng.normal(size=(n, 4))
    X[:, 0] += 1.5 * (y == "b")
    X[:, 1:3] += 1.2 * (y == "r")[:, None]
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]).assign(y=y)
    cut = int(0.7 * n)
    tr, te = df.iloc[:cut], df.iloc[cut:]
    est = LogisticRegression(max_iter=500, class_weight="balanced" if weighted else None)
    model = est.fit(tr.drop(columns="y"), tr["y"])
    ctx = Context(build_case(tr, te, "y", model=model, task="multiclass"))
    return checkhelp.run(unhandled_imbalance, ctx)


@pytest.mark.fires("model.unhandled_imbalance")
def test_rare_class_with_fewer_than_twenty_rows_is_judged_by_its_interval():
    # 16-19 rare rows in all (evaluation + out-of-fold): the former fixed minimum of 20 kept
    # this silent; the interval of a recall of 0 on them is already below 20%
    out = _rare_multiclass(0.03, 600, weighted=False)
    warn = checkhelp.alarms(out)
    assert warn and warn[0].classes == ["r"]
    row = [r for r in warn[0].evidence["table"] if r["class"] == "r"][0]
    assert 16 <= row["positives"] < 20 and row["recall_ci"][1] < 0.2


@pytest.mark.silent("model.unhandled_imbalance")
def test_rare_class_with_class_weights_is_not_an_alarm_on_small_data():
    assert not checkhelp.alarms(_rare_multiclass(0.03, 600, weighted=True))


@pytest.mark.fires("model.unhandled_imbalance")
def test_neglected_rare_class_reports_what_weighting_costs_the_other_classes():
    # the warning says the trade-off: accuracy falls (the argmax is accuracy's optimum) while
    # balanced accuracy rises, both paired on the rows judged
    warn = checkhelp.alarms(_rare_multiclass(0.03, 600, weighted=False))
    assert warn and warn[0].classes == ["r"]
    row = [r for r in warn[0].evidence["table"] if r["class"] == "r"][0]
    t = row["handled"]["tradeoff"]
    assert t["balanced_accuracy_change_ci"][0] > 0 and t["accuracy_change"] < 0.01
    assert "balanced accuracy" in warn[0].title and "accuracy" in warn[0].fix


@pytest.mark.silent("model.unhandled_imbalance")
def test_no_trade_off_reported_when_the_rare_class_is_weighted():
    out = _rare_multiclass(0.03, 600, weighted=True)
    assert not checkhelp.alarms(out)
    assert not any("balanced accuracy" in f.title for f in out)


def test_paired_decisions_match_scikit_learn_and_cover_the_change():
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    from mltriage.stats.metrics import paired_decisions

    rng = np.random.default_rng(2)
    y = rng.choice(["a", "b", "c"], 2000, p=[0.6, 0.3, 0.1])
    a = np.where(rng.random(2000) < 0.6, y, rng.choice(["a", "b", "c"], 2000))
    b = np.where(rng.random(2000) < 0.7, y, rng.choice(["a", "b", "c"], 2000))
    r = paired_decisions(y, a, b)
    assert r["accuracy"] == pytest.approx([accuracy_score(y, a), accuracy_score(y, b)])
    assert r["balanced_accuracy"] == pytest.approx(
        [balanced_accuracy_score(y, a), balanced_accuracy_score(y, b)]
    )
    lo, hi = r["balanced_accuracy_change_ci"]
    assert 0 < lo < r["balanced_accuracy_change"] < hi
    same = paired_decisions(y, a, a)
    assert same["accuracy_change"] == 0 and same["balanced_accuracy_change_ci"] == [0, 0]
