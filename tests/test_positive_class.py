"""The positive class of a binary task: the user's choice (--positive-class, positive_class=),
validated once and used by every binary number; default the model's last class (scikit-learn)."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from typer.testing import CliRunner

from mltriage.case import build_case
from mltriage.cli import app
from mltriage.context import Context
from mltriage.errors import InputError
from mltriage.positive import choose_positive, find_label, positive_index, positive_scores

runner = CliRunner()


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    """breast_cancer with text labels whose costly class, 'cancer', is the model's FIRST class
    (classes_ = ['cancer', 'healthy']): the old hardcoding took 'healthy' as positive."""
    d = tmp_path_factory.mktemp("cancer")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.copy()
    df["diagnosis"] = np.where(y == 0, "cancer", "healthy")
    idx = np.random.default_rng(0).permutation(len(df))
    tr, te = df.iloc[idx[:350]], df.iloc[idx[350:]]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=500))
    model.fit(tr.drop(columns="diagnosis"), tr["diagnosis"])
    assert list(model.classes_) == ["cancer", "healthy"]
    tr.to_parquet(d / "train.parquet")
    te.to_parquet(d / "test.parquet")
    joblib.dump(model, d / "model.joblib")
    return d, tr, te, model


def _diagnose(d, *extra):
    args = ["diagnose", "--train", str(d / "train.parquet"), "--test", str(d / "test.parquet")]
    args += ["--target", "diagnosis", "--model", str(d / "model.joblib"), "--fast", "--quiet", *extra]
    return runner.invoke(app, args)


def _finding(doc, code):
    return next((f for f in doc["findings"] if f["code"] == code), None)


def test_cli_positive_class_first_class_drives_recall_costs_and_threshold(cancer, tmp_path):
    d, _, te, model = cancer
    out = tmp_path / "pc.json"
    res = _diagnose(
        d, "--positive-class", "cancer", "--cost", "fp=1,fn=20", "--select", "evaluation", "--json", str(out)
    )
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert doc["case"]["positive_class"] == "cancer"
    assert "--positive-class" in doc["case"]["positive_class_how"]
    # a missed cancer costs 20: the threshold 0.5 on P(cancer) misses cancers, tuning saves cost
    f = _finding(doc, "evaluation.untuned_threshold")
    assert f is not None and f["severity"] == "warning", [x["code"] for x in doc["findings"]]
    y = te["diagnosis"].to_numpy()
    p_cancer = model.predict_proba(te.drop(columns="diagnosis"))[:, 0]
    pred = np.where(p_cancer >= 0.5, "cancer", "healthy")
    ev = f["evidence"]
    assert ev["recall_at_threshold"] == pytest.approx(recall_score(y, pred, pos_label="cancer"))
    assert ev["prevalence"] == pytest.approx(np.mean(y == "cancer"))
    assert ev["best_threshold"] < 0.5  # more cancers flagged: a lower threshold on P(cancer)
    fn = int(((y == "cancer") & (pred != "cancer")).sum())
    fp = int(((y != "cancer") & (pred == "cancer")).sum())
    assert ev["cost_per_row_at_threshold"] == pytest.approx((20 * fn + fp) / len(y))
    assert precision_score(y, pred, pos_label="cancer") != precision_score(y, pred, pos_label="healthy")


def test_cli_default_positive_is_the_models_last_class_and_said(cancer, tmp_path):
    d = cancer[0]
    out, md, html = tmp_path / "d.json", tmp_path / "d.md", tmp_path / "d.html"
    res = _diagnose(
        d, "--cost", "fp=1,fn=20", "--select", "evaluation", "--json", str(out), "--markdown", str(md)
    )
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert doc["case"]["positive_class"] == "healthy"
    assert "model's last class" in doc["case"]["positive_class_how"]
    # fn=20 is then a missed 'healthy': 0.5 is already near the cost optimum, nothing to tune
    f = _finding(doc, "evaluation.untuned_threshold")
    assert f is None or f["severity"] == "info"
    assert "positive class: 'healthy' (the model's last class" in md.read_text()
    res = runner.invoke(
        app,
        ["diagnose", "--train", str(d / "train.parquet"), "--test", str(d / "test.parquet"), "--target",
         "diagnosis", "--model", str(d / "model.joblib"), "--fast", "--select", "evaluation", "--html", str(html),
         "--positive-class", "cancer"],
    )  # fmt: skip
    assert "positive class: 'cancer' (set with --positive-class)" in " ".join(res.output.split())
    assert "positive class: &#x27;cancer&#x27; (set with --positive-class)" in html.read_text()


def test_cli_positive_class_not_a_label_exits_2_naming_the_labels(cancer):
    res = _diagnose(cancer[0], "--positive-class", "malignant")
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "'malignant' is not one of the labels" in text and "'cancer', 'healthy'" in text
    assert "fix:" in text and "Traceback" not in text


def test_cli_positive_class_for_a_multiclass_task_exits_2(tmp_path):
    df = load_iris(as_frame=True).frame
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    df.iloc[:100].to_parquet(tmp_path / "train.parquet")
    df.iloc[100:].to_parquet(tmp_path / "test.parquet")
    args = ["diagnose", "--train", str(tmp_path / "train.parquet"), "--test", str(tmp_path / "test.parquet")]
    res = runner.invoke(app, [*args, "--target", "target", "--positive-class", "1", "--fast", "--quiet"])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "applies to a binary task, and this task is multiclass" in text and "Traceback" not in text


# ---------------------------------------------------------------------------- the Python API


def test_api_text_value_is_read_as_the_labels_type(binary_case):
    train, test, model = binary_case
    case = build_case(train, test, "y", model=model, positive_class="0")
    assert case.positive == 0 and isinstance(case.positive, int)
    ctx = Context(case)
    pred = ctx.predictions("test")
    p0 = model.predict_proba(test.drop(columns="y"))[:, 0]
    np.testing.assert_allclose(pred.score, p0)  # P(0), not P(1)
    assert set(pred.label[p0 >= 0.5]) == {0}
    default = build_case(train, test, "y", model=model)
    assert default.positive == 1 and "last class" in (default.positive_how or "")


def test_api_invalid_positive_class_raises_input_error(binary_case):
    train, test, model = binary_case
    with pytest.raises(InputError, match="labels seen are 0, 1"):
        build_case(train, test, "y", model=model, positive_class="yes")
    reg = train.assign(y=train["x3"] * 2.5)
    with pytest.raises(InputError, match="this task is regression"):
        build_case(reg, test.assign(y=test["x3"] * 2.5), "y", positive_class=1, task="regression")


def test_decision_function_model_follows_the_positive_class(binary_case):
    train, test, _ = binary_case
    X = train.drop(columns="y").drop(columns="color")
    svc = LinearSVC().fit(X, train["y"])
    case = build_case(
        train.drop(columns="color"), test.drop(columns="color"), "y", model=svc, positive_class=0
    )
    pred = Context(case).predictions("test")
    assert pred.kind == "decision"
    np.testing.assert_allclose(pred.score, -svc.decision_function(test[X.columns]))
    assert roc_auc_score(test["y"] == 0, pred.score) > 0.7


def test_prediction_column_is_p_of_the_chosen_positive_class(binary_case):
    train, test, model = binary_case
    tr, te = train.copy(), test.copy()
    for df in (tr, te):
        df["p_zero"] = model.predict_proba(df.drop(columns="y"))[:, 0]
    case = build_case(tr, te, "y", prediction_column="p_zero", positive_class=0)
    ctx = Context(case)
    pred = ctx.predictions("test")
    assert roc_auc_score(te["y"] == 0, pred.score) > 0.7
    assert set(pred.label[te["p_zero"].to_numpy() >= 0.5]) == {0}
    assert any("read as P(0)" in n for n in ctx.notes)


# ---------------------------------------------------------------------------- the kernels


def test_find_label_parses_against_the_labels_type():
    assert find_label("1", [0, 1]) == [1]
    assert find_label("1", [0.0, 1.0]) == [1.0]
    assert find_label("true", [False, True]) == [True]
    assert find_label("churn", ["churn", "stay"]) == ["churn"]
    assert find_label("2", [0, 1]) == []


def test_positive_index_and_scores():
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert positive_index(["cancer", "healthy"], "cancer") == 0
    assert positive_index([0, 1], None) == 1  # scikit-learn's convention when unknown
    np.testing.assert_allclose(positive_scores(proba, ["b", "a"], "b"), [0.9, 0.2])
    assert choose_positive(None, [0, 1], None, "multiclass") == (None, None)
    assert choose_positive(None, ["no", "yes"], ["no", "yes"], "binary")[0] == "yes"
    assert choose_positive("no", ["no", "yes"], ["no", "yes"], "binary")[0] == "no"


# ---------------------------------------------------------------------------- the other commands


def test_drift_outputs_are_p_of_the_chosen_class_and_a_profile_is_turned(binary_case, binary_files):
    from mltriage.commands.drift import batch_case
    from mltriage.commands.drift import drift as run_drift
    from mltriage.commands.profile import profile

    train, test, model = binary_case
    case = batch_case(train.drop(columns="y"), test.drop(columns="y"), model=model, positive_class="0")
    assert case.positive == 0 and case.positive_how and "--positive-class" in case.positive_how
    ctx = Context(case)
    out = ctx.production().outputs
    assert out is not None
    np.testing.assert_allclose(out.values, model.predict_proba(test.drop(columns="y"))[:, 0])
    # a profile holds P(the model's last class); the same rows against it do not drift either way
    prof = profile(binary_files / "train.parquet", target="y", model=model)
    assert prof.meta["prediction"]["positive"] == 1
    for pc in (None, 0):
        rep = run_drift(prof, train.drop(columns="y"), model=model, positive_class=pc)
        assert [
            f.code for f in rep.findings if f.code == "production.prediction_drift" and f.severity.rank >= 1
        ] == []
    with pytest.raises(InputError, match="not one of the labels"):
        batch_case(train.drop(columns="y"), test.drop(columns="y"), model=model, positive_class="yes")


def test_gate_and_replay_take_the_positive_class(binary_files, binary_case, tmp_path):
    from mltriage.commands.replay import replay, replay_case

    d = binary_files
    args = ["gate", "--baseline", str(d / "model.joblib"), "--candidate", str(d / "model.joblib")]
    res = runner.invoke(
        app, [*args, "--data", str(d / "test.parquet"), "--target", "y", "--positive-class", "2"]
    )
    assert res.exit_code == 2 and "is not one of the labels" in " ".join(res.output.split())
    _, test, model = binary_case
    assert replay_case(model, test.drop(columns="y").head(3), positive_class=0).positive == 0
    rep = replay(model, test.drop(columns="y").head(3), positive_class=0)
    scores = [r["prediction"] for r in rep.details["rows"]]
    p0 = model.predict_proba(test.drop(columns="y").head(3))[:, 0]
    np.testing.assert_allclose(np.asarray(scores, float), p0)


def test_monitor_scores_and_labels_follow_the_positive_class(monitor_case, tmp_path):
    from mltriage.commands import monitor as mon
    from mltriage.monitor.store import open_store
    from monitor_helpers import FEATURES, write_batch

    url = str(tmp_path / "m.duckdb")
    opts = dict(model=str(monitor_case / "model.joblib"), id_column="id", time_column="ts")
    with pytest.raises(InputError, match="not one of the labels"):
        mon.init(url, str(monitor_case / "ref.parquet"), "y", positive_class="7", **opts)
    mon.init(url, str(monitor_case / "ref.parquet"), "y", positive_class="0", force=True, **opts)
    st = open_store(url)
    assert st.settings()["positive"] == 0
    b, _ = write_batch(tmp_path, 0, n=300)
    mon.log(url, b)
    model = joblib.load(monitor_case / "model.joblib")
    df = pd.read_parquet(b)
    got = open_store(url).predictions().set_index("row_id").loc[df["id"], "score"].to_numpy()
    np.testing.assert_allclose(got, model.predict_proba(df[FEATURES])[:, 0])  # P(0)
