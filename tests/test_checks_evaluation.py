"""Evaluation checks: each fires on a small synthetic case built for it and stays silent on a
healthy one. Also the calibration and threshold kernels they rest on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.evaluation.calibration import miscalibration
from mltriage.checks.evaluation.metric import canonical_metric, wrong_metric
from mltriage.checks.evaluation.split import evaluated_on_train
from mltriage.checks.evaluation.temporal import temporal_split
from mltriage.checks.evaluation.threshold import untuned_threshold
from mltriage.context import Context
from mltriage.stats import calibration as cal
from mltriage.stats import threshold as thr
from mltriage.stats.metrics import per_class_table


def logistic_data(n, seed, intercept=0.0, coef=(1.5, -1.0)):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    logit = intercept + X @ np.array(coef)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})


def fitted(train):
    return LogisticRegression().fit(train[["a", "b"]], train["y"])


class Sharpened:
    """A classifier whose probabilities are pushed towards 0 and 1 (over-confident)."""

    def __init__(self, model, power=4.0):
        self.model = model
        self.power = power
        self.classes_ = model.classes_
        self.feature_names_in_ = model.feature_names_in_

    def predict_proba(self, X):
        p = self.model.predict_proba(X) ** self.power
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


@pytest.fixture(scope="module")
def healthy():
    train, test = logistic_data(3000, 1), logistic_data(2000, 2)
    return train, test, fitted(train)


@pytest.fixture(scope="module")
def rare():
    """5% positives, a weak model: accuracy is barely above always-negative, 0.5 finds few."""
    train, test = (
        logistic_data(6000, 3, intercept=-3.6, coef=(1.0, -0.5)),
        logistic_data(6000, 4, intercept=-3.6, coef=(1.0, -0.5)),
    )
    return train, test, fitted(train)


# ---------------------------------------------------------------------------- kernels


def test_ece_kernels_calibrated_vs_not():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=5000)
    y = (rng.uniform(size=5000) < p).astype(float)
    nb = cal.n_bins_for(len(p))
    e = cal.ece(p, y, nb)
    null = cal.ece_null(p, nb)
    assert e < np.quantile(null, 0.99)  # calibrated: within the noise floor
    assert cal.ece(p**3, y, nb) > 0.1  # distorted: far above it
    table = cal.reliability_table(p, y, nb)
    assert sum(r["rows"] for r in table) == 5000 and len(table) == nb


def test_equal_mass_bins_merge_collapsed_probabilities():
    p = 0.3 + 1e-5 * np.arange(1000)  # a collapsed model: one probability, really
    bins = cal.equal_mass_bins(p, 10, min_width=0.01)
    assert len(np.unique(bins)) == 1
    p01 = np.r_[np.zeros(500), np.ones(500)]  # 0/1 probabilities stay two bins
    assert len(np.unique(cal.equal_mass_bins(p01, 10, min_width=0.01))) == 2


def test_threshold_counts_match_brute_force():
    rng = np.random.default_rng(0)
    s = rng.uniform(size=300)
    y = (rng.uniform(size=300) < s).astype(float)
    grid = np.array([0.1, 0.5, 0.9])
    cnt = thr.counts(s, y, grid)
    for j, t in enumerate(grid):
        assert cnt.tp[j] == np.sum((s >= t) & (y == 1))
        assert cnt.fp[j] == np.sum((s >= t) & (y == 0))
    c = {"fp": 1.0, "fn": 10.0}
    expected = (np.sum((s >= 0.5) & (y == 0)) + 10 * np.sum((s < 0.5) & (y == 1))) / 300
    assert cnt.cost(c)[1] == pytest.approx(expected)
    assert thr.bayes_threshold(c) == pytest.approx(1 / 11)


# ---------------------------------------------------------------------------- evaluated_on_train


@pytest.mark.fires("evaluation.evaluated_on_train", severity="critical")
def test_evaluated_on_train_fires_when_test_is_train(healthy):
    train, _, model = healthy
    ctx = Context(build_case(train, train.sample(frac=1.0, random_state=0), "y", model=model, task="binary"))
    out = alarms(run(evaluated_on_train, ctx))
    assert len(out) == 1 and out[0].severity.value == "critical"
    assert out[0].evidence["share_in_train"] == 1.0


def _cancer_forest():
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    d = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    d = d.sample(frac=1, random_state=0).reset_index(drop=True)
    k = int(0.7 * len(d))
    tr, rest = d.iloc[:k].reset_index(drop=True), d.iloc[k:].reset_index(drop=True)
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(tr.drop(columns="y"), tr.y)
    return tr, rest, model


@pytest.mark.fires("evaluation.evaluated_on_train", severity="critical")
def test_evaluated_on_train_fires_when_the_whole_table_is_evaluated():
    # no test set (Kapoor & Narayanan L1.1): the evaluation file is the training rows plus the
    # held-out ones; 70% of it is training rows and it holds every training row
    tr, rest, model = _cancer_forest()
    whole = pd.concat([tr, rest], ignore_index=True).sample(frac=1, random_state=1)
    out = alarms(run(evaluated_on_train, Context(build_case(tr, whole, "y", model=model, task="binary"))))
    assert len(out) == 1 and out[0].severity.value == "critical"
    assert out[0].evidence["train_rows_in_evaluation"] == 1.0 and "holds 100%" in out[0].title


@pytest.mark.silent("evaluation.evaluated_on_train")
def test_evaluated_on_train_silent_when_training_rows_are_a_minority_of_the_evaluation_set():
    # every training row is in the evaluation set, but it is mostly other rows: partial
    # contamination (data.train_test_overlap), not an evaluation on the training set
    tr, rest, model = _cancer_forest()
    small = tr.iloc[:100].reset_index(drop=True)
    ev = pd.concat([small, rest], ignore_index=True)
    assert (
        alarms(run(evaluated_on_train, Context(build_case(small, ev, "y", model=model, task="binary")))) == []
    )


@pytest.mark.silent("evaluation.evaluated_on_train")
def test_evaluated_on_train_silent_on_partial_overlap(healthy):
    train, test, model = healthy
    mixed = pd.concat([train.iloc[:600], test.iloc[:1400]], ignore_index=True)  # 30% shared
    ctx = Context(build_case(train, mixed, "y", model=model, task="binary"))
    assert alarms(run(evaluated_on_train, ctx)) == []


@pytest.mark.silent("evaluation.evaluated_on_train")
def test_evaluated_on_train_ignores_natural_repeats():
    # few distinct rows: a random split shares most rows by nature
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.integers(0, 3, 4000), "b": rng.integers(0, 2, 4000)})
    df["y"] = (df["a"] + rng.integers(0, 2, 4000) > 1).astype(int)
    train, test = df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["a", "b"]], train["y"])
    ctx = Context(build_case(train, test, "y", model=model, task="binary"))
    assert alarms(run(evaluated_on_train, ctx)) == []


# ---------------------------------------------------------------------------- wrong_metric


@pytest.mark.fires("evaluation.wrong_metric")
def test_wrong_metric_fires_on_accuracy_with_rare_class(rare):
    train, test, model = rare
    ctx = Context(build_case(train, test, "y", model=model, task="binary", metric="accuracy"))
    out = alarms(run(wrong_metric, ctx))
    assert len(out) == 1 and "Accuracy misleads" in out[0].title
    assert out[0].evidence["accuracy_always_majority"] > 0.9


@pytest.mark.fires("evaluation.wrong_metric")
def test_wrong_metric_fires_on_accuracy_with_asymmetric_cost(healthy):
    train, test, model = healthy
    ctx = Context(
        build_case(train, test, "y", model=model, task="binary", metric="accuracy", cost="fp=1,fn=10")
    )
    out = alarms(run(wrong_metric, ctx))
    assert len(out) == 1 and out[0].evidence["cost_ratio"] == 10


@pytest.mark.fires("evaluation.wrong_metric")
def test_wrong_metric_fires_on_metric_of_another_task():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=500)})
    df["y"] = 2 * df["a"] + rng.normal(size=500)
    model = LinearRegression().fit(df[["a"]], df["y"])
    ctx = Context(
        build_case(df.iloc[:400], df.iloc[400:], "y", model=model, task="regression", metric="accuracy")
    )
    assert len(alarms(run(wrong_metric, ctx))) == 1


@pytest.mark.silent("evaluation.wrong_metric")
def test_wrong_metric_silent_on_suitable_metrics(healthy, rare):
    train, test, model = healthy
    for metric in ("accuracy", "roc_auc", "AUC"):
        ctx = Context(build_case(train, test, "y", model=model, task="binary", metric=metric))
        out = run(wrong_metric, ctx)
        assert alarms(out) == []
        assert out and out[0].evidence["per_class"]  # the info table is there
    train, test, model = rare  # AUC on a rare class is fine
    ctx = Context(build_case(train, test, "y", model=model, task="binary", metric="roc_auc"))
    assert alarms(run(wrong_metric, ctx)) == []


# ---------------------------------------------------------------------------- untuned_threshold


@pytest.mark.fires("evaluation.untuned_threshold")
def test_untuned_threshold_fires_with_asymmetric_cost(rare):
    train, test, model = rare
    ctx = Context(build_case(train, test, "y", model=model, task="binary", cost="fp=1,fn=10"))
    out = alarms(run(untuned_threshold, ctx, n_boot=100))
    assert len(out) == 1
    e = out[0].evidence
    assert e["best_threshold"] < 0.3 and e["saving_per_row_ci"][0] > 0 and e["saving_share"] > 0.05
    # the curve of cost against threshold for the plot: ~40 thresholds through the marked ones
    curve = e["curve"]
    assert 40 <= len(curve) <= 42 and set(curve[0]) == {"threshold", "cost_per_row", "recall"}
    ts = [r["threshold"] for r in curve]
    assert ts == sorted(ts) and ts[0] <= 0.0 and ts[-1] >= 1.0
    at = {r["threshold"]: r["cost_per_row"] for r in curve}
    assert at[0.5] == pytest.approx(e["cost_per_row_at_threshold"], rel=1e-3)
    best = min(curve, key=lambda r: r["cost_per_row"])
    assert best["cost_per_row"] == pytest.approx(e["cost_per_row_at_best_in_sample"], rel=1e-3)
    assert all(0 <= r["recall"] <= 1 for r in curve) and curve[0]["recall"] == 1.0


@pytest.mark.silent("evaluation.untuned_threshold")
def test_untuned_threshold_silent_when_threshold_fits_cost(healthy):
    train, test, model = healthy
    # symmetric cost: 0.5 is already the optimum of a calibrated model
    ctx = Context(build_case(train, test, "y", model=model, task="binary", cost="fp=1,fn=1"))
    assert alarms(run(untuned_threshold, ctx, n_boot=100)) == []
    # no cost, balanced classes: nothing to say
    ctx = Context(build_case(train, test, "y", model=model, task="binary"))
    assert alarms(run(untuned_threshold, ctx, n_boot=100)) == []


@pytest.mark.fires("evaluation.untuned_threshold")
@pytest.mark.parametrize("metric", ["f1", "balanced_accuracy", "mcc"])
def test_untuned_threshold_without_cost_on_the_headline_metric(rare, metric):
    """No cost, but a headline that a threshold moves: the default 0.5 finds almost none of the
    rare positives, and a tuned threshold raises that metric (cross-fitted, interval above 0)."""
    train, test, model = rare
    ctx = Context(build_case(train, test, "y", model=model, task="binary", threshold=0.5, metric=metric))
    out = alarms(run(untuned_threshold, ctx, n_boot=100))
    assert len(out) == 1 and out[0].evidence["recall_at_threshold"] < 0.1
    e = out[0].evidence
    assert e["metric"] == metric and e[f"{metric}_gain_ci"][0] > 0
    curve = e["curve"]  # the metric against the threshold
    assert 40 <= len(curve) <= 42 and all(-1 <= r[metric] <= 1 for r in curve)
    at = {r["threshold"]: r[metric] for r in curve}
    assert at[0.5] == pytest.approx(e[f"{metric}_at_threshold"], abs=1e-3)
    assert max(r[metric] for r in curve) > e[f"{metric}_at_threshold"]


@pytest.mark.silent("evaluation.untuned_threshold")
@pytest.mark.parametrize("metric", [None, "roc_auc", "accuracy", "recall"])
def test_untuned_threshold_without_cost_silent_unless_the_metric_says_so(rare, metric):
    """The same rare-class model at 0.5: with a threshold-free headline (or none, or one a
    threshold cannot optimise alone) nothing says which errors matter, so what F1 would gain is
    an info note; with accuracy, 0.5 is already near the accuracy optimum of a calibrated model."""
    train, test, model = rare
    ctx = Context(build_case(train, test, "y", model=model, task="binary", threshold=0.5, metric=metric))
    out = run(untuned_threshold, ctx, n_boot=100)
    assert alarms(out) == []
    if metric != "accuracy":
        assert len(out) == 1 and out[0].severity.value == "info"
        assert out[0].evidence["f1_gain_ci"][0] > 0 and "Not an alarm" in out[0].title


@pytest.fixture(scope="module")
def strong_rare_model():
    """A rare class (about 6%) that a logistic model ranks well; evaluation sets of 250 rows."""
    train = logistic_data(6000, 3, intercept=-6, coef=(3.0, -2.0))
    return train, fitted(train)


@pytest.mark.fires("evaluation.untuned_threshold")
def test_untuned_threshold_fires_below_twenty_positives(strong_rare_model):
    """Small data is data: 17 positives among 250 rows (the former hard minimum was 20) and a
    50:1 cost; the cross-fitted saving's interval is far above zero, so it is judged and flagged."""
    train, model = strong_rare_model
    test = logistic_data(250, 11, intercept=-6, coef=(3.0, -2.0))
    assert test["y"].sum() < 20
    ctx = Context(build_case(train, test, "y", model=model, task="binary", cost="fp=1,fn=50"))
    out = alarms(run(untuned_threshold, ctx))
    assert len(out) == 1 and out[0].evidence["saving_per_row_ci"][0] > 0.1


@pytest.mark.silent("evaluation.untuned_threshold")
def test_untuned_threshold_small_data_unshown_saving_is_info(strong_rare_model):
    """15 positives among 250 evaluation rows (and 3 among 80 training rows) at 10:1: the best
    threshold saves a lot in-sample, but its cross-fitted interval reaches zero and the scan of
    lower thresholds on all these rows is not significant: an info note with the figures, not
    silence, not an alarm. (On the fixture's 6,000 training rows the refitted model's out-of-fold
    scores show the saving: that is a warning.)"""
    _, model = strong_rare_model
    train = logistic_data(80, 15, intercept=-6, coef=(3.0, -2.0))
    test = logistic_data(250, 14, intercept=-6, coef=(3.0, -2.0))
    ctx = Context(build_case(train, test, "y", model=model, task="binary", cost="fp=1,fn=10"))
    out = run(untuned_threshold, ctx)
    assert alarms(out) == [] and len(out) == 1 and out[0].severity.value == "info"
    e = out[0].evidence
    assert e["saving_share_in_sample"] > 0.05 and e["saving_per_row_ci"][0] <= 0
    assert "cannot tell it from chance" in out[0].title
    # both tests' figures, and what it would take if the saving were real
    assert e["cost_implied_threshold"]["p"] >= 0.025 and "the threshold the costs imply" in out[0].title
    assert e["threshold_scan"]["p"] >= 0.025 and "for the best of" in out[0].title
    if e["saving_per_row"] > 0:
        assert e["rows_needed_if_real"] > 250 and "would show it" in out[0].title


def test_threshold_metric_losses_match_sklearn():
    from sklearn.metrics import balanced_accuracy_score, f1_score, matthews_corrcoef

    rng = np.random.default_rng(5)
    y = (rng.uniform(size=400) < 0.3).astype(float)
    s = rng.uniform(size=400) + 0.3 * y
    grid = np.array([0.2, 0.5, 0.9])
    cnt = thr.counts(s, y, grid)
    for j, t in enumerate(grid):
        pred = (s >= t).astype(float)
        assert 1 - thr.objective(cnt, "balanced_accuracy")[j] == pytest.approx(
            balanced_accuracy_score(y, pred)
        )
        assert 1 - thr.objective(cnt, "mcc")[j] == pytest.approx(matthews_corrcoef(y, pred))
        assert 1 - thr.objective(cnt, "f1_macro")[j] == pytest.approx(f1_score(y, pred, average="macro"))
        assert 1 - thr.objective(cnt, "accuracy")[j] == pytest.approx(np.mean(pred == y))


# ---------------------------------------------------------------------------- miscalibration


@pytest.mark.fires("evaluation.miscalibration")
def test_miscalibration_fires_on_overconfident_model(healthy):
    train, test, model = healthy
    ctx = Context(build_case(train, test, "y", model=Sharpened(model), task="binary"))
    out = alarms(run(miscalibration, ctx, n_boot=100))
    assert len(out) == 1
    e = out[0].evidence
    assert e["ece"] > 0.05 and e["ece_after_platt_recalibration_cross_fitted"] < e["ece"]
    assert e["reliability"] and "over-confident" in out[0].root_cause


@pytest.mark.silent("evaluation.miscalibration")
def test_miscalibration_silent_on_calibrated_model(healthy):
    train, test, model = healthy
    ctx = Context(build_case(train, test, "y", model=model, task="binary"))
    assert run(miscalibration, ctx, n_boot=100) == []


def test_miscalibration_not_applicable_on_a_single_class_evaluation_target(healthy):
    """The same over-confident model, evaluated on rows of one class only (filtered on the
    outcome): observed rates cannot be compared with the probabilities; said, not alarmed."""
    from mltriage.registry import NotApplicable

    train, test, model = healthy
    ctx = Context(build_case(train, test[test.y == 0], "y", model=Sharpened(model), task="binary"))
    with pytest.raises(NotApplicable, match="single class"):
        run(miscalibration, ctx, n_boot=100)


@pytest.mark.fires("evaluation.miscalibration")
def test_miscalibration_multiclass_top_label():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2))
    y = np.argmax(X @ rng.normal(size=(2, 3)) * 2 + rng.gumbel(size=(3000, 3)), axis=1)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})
    model = LogisticRegression().fit(df.iloc[:2000][["a", "b"]], df.iloc[:2000]["y"])
    args = (df.iloc[:2000], df.iloc[2000:], "y")
    ctx = Context(build_case(*args, model=model, task="multiclass"))
    assert run(miscalibration, ctx, n_boot=100) == []
    ctx = Context(build_case(*args, model=Sharpened(model, 6.0), task="multiclass"))
    assert len(alarms(run(miscalibration, ctx, n_boot=100))) == 1


# ---------------------------------------------------------------------------- temporal_split


def drifting(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    t = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 700, n)), unit="D")
    frac = np.linspace(0, 1, n)
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x - 3 + 3 * frac)))).astype(int)
    return pd.DataFrame({"x": x, "z": rng.normal(size=n), "when": t, "y": y})


@pytest.mark.fires("evaluation.temporal_split")
def test_temporal_split_fires_on_random_split_of_drifting_data():
    df = drifting()
    perm = np.random.default_rng(1).permutation(len(df))
    train, test = df.iloc[perm[:3000]].reset_index(drop=True), df.iloc[perm[3000:]].reset_index(drop=True)
    model = LogisticRegression().fit(train[["x", "z"]], train["y"])
    ctx = Context(build_case(train, test, "y", model=model, task="binary", time_column="when"))
    out = alarms(run(temporal_split, ctx))
    assert len(out) == 1 and out[0].columns == ["when"]
    assert 0.4 < out[0].evidence["p_train_row_later_than_test_row"] < 0.6
    assert out[0].evidence["train_period"][0].startswith("2020")


@pytest.mark.silent("evaluation.temporal_split")
def test_temporal_split_silent_on_forward_split():
    df = drifting()
    train, test = df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["x", "z"]], train["y"])
    ctx = Context(build_case(train, test, "y", model=model, task="binary", time_column="when"))
    assert run(temporal_split, ctx) == []


@pytest.mark.silent("evaluation.temporal_split")
def test_temporal_split_without_time_column_is_info_only():
    df = drifting()
    perm = np.random.default_rng(1).permutation(len(df))
    train, test = df.iloc[perm[:3000]].reset_index(drop=True), df.iloc[perm[3000:]].reset_index(drop=True)
    model = LogisticRegression().fit(train[["x", "z"]], train["y"])
    ctx = Context(build_case(train, test, "y", model=model, task="binary"))
    out = run(temporal_split, ctx)
    assert out and alarms(out) == []


def test_temporal_split_infers_a_text_date_column_and_names_the_option():
    # dates stored as text (day first) and no --time-column: the column is found as a candidate
    # time axis, judged by the outcome's drift along it, reported as info with the option to set
    df = drifting()
    df["when"] = df["when"].dt.strftime("%d/%m/%Y %H:%M")
    perm = np.random.default_rng(1).permutation(len(df))
    train, test = df.iloc[perm[:3000]].reset_index(drop=True), df.iloc[perm[3000:]].reset_index(drop=True)
    model = LogisticRegression().fit(train[["x", "z"]], train["y"])
    out = run(temporal_split, Context(build_case(train, test, "y", model=model, task="binary")))
    assert len(out) == 1 and out[0].columns == ["when"] and alarms(out) == []
    assert "--time-column when" in out[0].title and out[0].evidence["time_column_inferred"]
    assert out[0].evidence["train_period"][0].startswith("2020")


@pytest.mark.silent("evaluation.temporal_split")
def test_temporal_split_silent_on_a_date_column_without_temporal_structure():
    # a birth date (datetime) and a sign-up day (text) beside an outcome that does not change
    # along either, a feature (age) that encodes the birth date, month names: no finding at all
    rng = np.random.default_rng(2)
    n = 3000
    born = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.uniform(0, 20_000, n), unit="D")
    signup = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.uniform(0, 700, n), unit="D")
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "age": (2024 - born.year).astype(float), "born": born})
    df["signup"] = signup.strftime("%Y-%m-%d")
    df["month"] = born.strftime("%b").str.lower()  # month names alone: no time axis at all
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(int)
    train, test = df.iloc[:2100].reset_index(drop=True), df.iloc[2100:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["x", "age"]], train["y"])
    assert run(temporal_split, Context(build_case(train, test, "y", model=model, task="binary"))) == []


@pytest.mark.fires("evaluation.wrong_metric")
def test_wrong_metric_fires_on_mape_with_zero_targets():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=600)})
    df["y"] = np.where(rng.uniform(size=600) < 0.1, 0.0, np.exp(df["a"]))
    model = LinearRegression().fit(df[["a"]], df["y"])
    args = (df.iloc[:400], df.iloc[400:], "y")
    ctx = Context(build_case(*args, model=model, task="regression", metric="MAPE"))
    assert len(alarms(run(wrong_metric, ctx))) == 1
    ctx = Context(build_case(*args, model=model, task="regression", metric="mae"))
    assert run(wrong_metric, ctx) == []


@pytest.mark.fires("evaluation.evaluated_on_train", severity="critical")
def test_evaluated_on_train_regression_and_time_column():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=500),
            "b": rng.integers(0, 5, 500).astype(float),
            "t": pd.date_range("2021-01-01", periods=500, freq="D"),
        }
    )
    df["y"] = df["a"] * 2 + df["b"]
    model = LinearRegression().fit(df[["a", "b"]], df["y"])
    ctx = Context(
        build_case(
            df, df.iloc[::-1].reset_index(drop=True), "y", model=model, task="regression", time_column="t"
        )
    )
    out = alarms(run(evaluated_on_train, ctx))
    assert len(out) == 1 and out[0].severity.value == "critical"


# ---------------------------------------------------------------------------- multiclass generalisation


def dominant_multiclass(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    logits = np.stack([np.full(n, 2.7), 0.9 * X[:, 0], 0.9 * X[:, 1] - 0.3], axis=1)
    y = np.argmax(logits + rng.gumbel(size=(n, 3)), axis=1)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})


@pytest.mark.fires("evaluation.wrong_metric")
def test_wrong_metric_fires_on_accuracy_with_dominant_multiclass_majority():
    train, test = dominant_multiclass(3000, 0), dominant_multiclass(3000, 1)
    ctx = Context(build_case(train, test, "y", model=fitted(train), task="multiclass", metric="accuracy"))
    found = alarms(run(wrong_metric, ctx))
    assert len(found) == 1 and "Accuracy misleads" in found[0].title


@pytest.mark.silent("evaluation.wrong_metric")
def test_wrong_metric_silent_on_balanced_multiclass_accuracy():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 2))
    y = np.argmax(X @ np.array([[2.0, -1.0, 0.0], [0.0, 1.5, -2.0]]) + rng.gumbel(size=(3000, 3)), axis=1)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})
    ctx = Context(
        build_case(
            df.iloc[:2000],
            df.iloc[2000:],
            "y",
            model=fitted(df.iloc[:2000]),
            task="multiclass",
            metric="accuracy",
        )
    )
    assert alarms(run(wrong_metric, ctx)) == []


class Softened(Sharpened):
    """Probabilities pulled towards uniform (under-confident), argmax unchanged."""

    def predict_proba(self, X):
        p = self.model.predict_proba(X)
        return 0.4 * p + 0.6 / p.shape[1]


@pytest.mark.silent("evaluation.miscalibration")
def test_miscalibration_multiclass_under_confidence_is_info_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2))
    y = np.argmax(X @ rng.normal(size=(2, 3)) * 4 + rng.gumbel(size=(3000, 3)), axis=1)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})
    model = LogisticRegression().fit(df.iloc[:2000][["a", "b"]], df.iloc[:2000]["y"])
    ctx = Context(build_case(df.iloc[:2000], df.iloc[2000:], "y", model=Softened(model), task="multiclass"))
    out = run(miscalibration, ctx, n_boot=100)
    assert out and alarms(out) == []


# ---------------------------------------------------------------------------- shared pieces


@pytest.mark.fires("evaluation.evaluated_on_train")
def test_evaluated_on_train_mostly_shared_rows_scored_alike(healthy):
    train, test, model = healthy
    # 70% of the evaluation rows are training rows, and the model scores alike on both sets
    mixed = pd.concat([train.iloc[:1400], test.iloc[:600]], ignore_index=True)
    ctx = Context(build_case(train, mixed, "y", model=model, task="binary"))
    out = alarms(run(evaluated_on_train, ctx))
    assert len(out) == 1 and out[0].severity.value == "critical"  # the headline is inflated
    assert out[0].evidence["share_in_train"] == pytest.approx(0.7)
    assert out[0].evidence["gap"] <= out[0].evidence["gap_tolerance"]


@pytest.mark.fires("evaluation.evaluated_on_train", severity="critical")
def test_evaluated_on_train_one_row_identity_across_dtypes():
    # the evaluation set is the training set with integers stored as floats: the same rows
    rng = np.random.default_rng(5)
    train = pd.DataFrame({"a": rng.normal(size=800), "k": rng.integers(0, 50, 800)})
    train["y"] = (train["a"] + rng.normal(size=800) > 0).astype(int)
    test = train.astype({"k": float}).sample(frac=1.0, random_state=1).reset_index(drop=True)
    model = LogisticRegression().fit(train[["a", "k"]], train["y"])
    ctx = Context(build_case(train, test, "y", model=model, task="binary"))
    out = alarms(run(evaluated_on_train, ctx))
    assert len(out) == 1 and out[0].evidence["share_in_train"] == 1.0


def test_per_class_table_counts_and_ratios():
    y = np.array([0, 0, 0, 1, 1, 2])
    label = np.array([0, 0, 1, 1, 0, 0])
    table = per_class_table(y, label, [0, 1, 2])
    assert [r["class"] for r in table] == [0, 1, 2]
    r0, r1, r2 = table
    assert (r0["support"], r0["predicted"]) == (3, 4)
    assert r0["precision"] == pytest.approx(0.5) and r0["recall"] == pytest.approx(2 / 3)
    assert r1["f1"] == pytest.approx(0.5)
    assert np.isnan(r2["precision"]) and r2["recall"] == 0.0 and r2["f1"] == 0.0
    with_ci = per_class_table(y, label, [0, 1, 2], intervals=True)
    assert list(with_ci[0]) == [
        "class",
        "support",
        "predicted",
        "precision",
        "precision_ci",
        "recall",
        "recall_ci",
        "f1",
    ]


def test_canonical_metric_names():
    assert canonical_metric("AUC") == "roc_auc"
    assert canonical_metric("ndcg@10") == "ndcg"
    assert canonical_metric("neg_mean_absolute_error") == "mae"
    assert canonical_metric(None) is None


def test_evaluation_parameters_refuse_values_outside_their_constraint():
    from mltriage.errors import InputError

    for fn, name, bad in (
        (miscalibration, "min_excess_ece", 2.0),
        (temporal_split, "alpha", 0.0),
        (untuned_threshold, "n_boot", 0),
        (wrong_metric, "cost_ratio", 0.5),
        (evaluated_on_train, "min_share", 1.5),
    ):
        with pytest.raises(InputError):
            fn.check.resolve({name: bad})


@pytest.mark.fires("evaluation.wrong_metric")
def test_wrong_metric_fires_when_the_headline_cannot_be_computed(healthy):
    from mltriage.checks.evaluation.metric import wrong_metric

    train, test, model = healthy
    single = test[test.y == test.y.iloc[0]].reset_index(drop=True)
    ctx = Context(build_case(train, single, "y", model=model, task="binary", metric="roc_auc"))
    out = alarms(run(wrong_metric, ctx))
    assert out and "cannot be computed" in out[0].title


def _scored_frames(n, seed, shift=0.0):
    """Predictions-only binary rows (about 7% positives, AUC about 0.78): `score` is the true
    probability, or its log-odds moved by `shift` (np.log(8): inflated 8-fold in odds)."""
    rng = np.random.default_rng(seed)

    def one():
        x = rng.normal(size=n)
        logit = -3.2 + 1.1 * x
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
        return pd.DataFrame({"x": x, "score": 1 / (1 + np.exp(-(logit + shift))), "y": y})

    return one(), one()


@pytest.mark.fires("evaluation.untuned_threshold")
def test_untuned_threshold_scan_finds_it_where_halves_reach_zero():
    """Threshold 0.5 under fp=1,fn=8 on calibrated scores, 19 positives among 300 evaluation rows
    (and 19 among 300 training rows scored out of sample): chosen on halves of the evaluation
    rows the saving's interval reaches zero, and the threshold the costs imply (1/9) alone is not
    significant there (p 0.054), but the scan of lower thresholds on all 600 labelled rows is."""
    tr, te = _scored_frames(300, 0)
    assert te["y"].sum() <= 20
    ctx = Context(build_case(tr, te, "y", task="binary", prediction_column="score", cost="fp=1,fn=8"))
    out = alarms(run(untuned_threshold, ctx))
    assert len(out) == 1 and out[0].evidence["saving_per_row_ci"][0] <= 0
    assert out[0].evidence["cost_implied_threshold"]["p"] >= 0.025
    scan = out[0].evidence["threshold_scan"]
    assert scan["p"] < 0.025 and scan["alternative"] < 0.5 and scan["saving_share"] >= 0.05
    assert "600 rows (300 evaluation rows and the training rows' predictions)" in out[0].title


@pytest.mark.silent("evaluation.untuned_threshold")
def test_untuned_threshold_scan_silent_on_the_same_rows_when_half_is_optimal():
    """The same 600 rows with scores inflated 8-fold in odds, so that 0.5 is the cost-optimal
    threshold at fp=1,fn=8: no threshold below it saves, and nothing is reported as an alarm."""
    tr, te = _scored_frames(300, 0, np.log(8))
    ctx = Context(build_case(tr, te, "y", task="binary", prediction_column="score", cost="fp=1,fn=8"))
    assert alarms(run(untuned_threshold, ctx)) == []


def test_scan_null_p_matches_simulation_and_holds_its_level():
    """The scan's exact p-value against draws of its own null (every row at the break-even): p is
    uniform there up to discreteness (never below), so p < 2.5% in at most 2.5% of draws."""
    rng = np.random.default_rng(3)
    s = rng.uniform(0, 0.5, size=400)
    cost = {"fp": 1.0, "fn": 8.0}
    ps = []
    for _ in range(400):
        y = (rng.uniform(size=400) < 1 / 9).astype(float)
        ps.append(thr.scan_test(s, y, 0.5, cost, down=True, include=[1 / 9]).p)
    ps = np.asarray(ps)
    assert np.mean(ps < 0.025) <= 0.025 + 2 * np.sqrt(0.025 * 0.975 / 400)
    assert abs(np.mean(ps <= 0.3) - 0.3) < 0.08
    r = thr.scan_test(s, (rng.uniform(size=400) < 0.2).astype(float), 0.5, cost, down=True)
    assert r.p < 0.05 and r.p >= r.p_band and r.candidates > 10


@pytest.mark.silent("evaluation.untuned_threshold")
@pytest.mark.parametrize("shift, threshold", [(np.log(8), 0.5), (0.0, 1 / 9)])
def test_untuned_threshold_silent_when_the_threshold_in_use_is_the_optimum(shift, threshold):
    """Scores inflated 8-fold in odds make 0.5 the cost-optimal threshold at fp=1,fn=8 (and 1/9
    is optimal on calibrated scores): the cost-implied threshold saves nothing there."""
    tr, te = _scored_frames(900, 0, shift)
    case = build_case(
        tr, te, "y", task="binary", prediction_column="score", cost="fp=1,fn=8", threshold=threshold
    )
    out = run(untuned_threshold, Context(case))
    assert alarms(out) == []


def test_band_test_counts_the_rows_decided_differently():
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    s = np.array([0.9, 0.4, 0.3, 0.2, 0.15, 0.12, 0.05, 0.02, 0.3, 0.6])
    b = thr.band_test(s, y, 0.5, 0.1, {"fp": 1.0, "fn": 8.0})
    # rows in [0.1, 0.5): 0.4, 0.3, 0.2, 0.15, 0.12, 0.3 -> 6 rows, 2 positives
    assert (b.rows, b.positives) == (6, 2) and b.break_even == pytest.approx(1 / 9)
    assert b.saving == pytest.approx((8 * 2 - 4) / 10)
    up = thr.band_test(s, y, 0.1, 0.5, {"fp": 1.0, "fn": 8.0})
    assert up.saving == pytest.approx(-b.saving) and up.p > 0.5
