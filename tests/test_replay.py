"""`mltriage replay`: input rows through a saved pipeline step by step (stats.replay, the replay
checks, the command and its CLI)."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from typer.testing import CliRunner

from checkhelp import alarms, run
from conftest import make_binary
from mltriage import InputError
from mltriage.checks.workflow.replay import non_finite, step_error
from mltriage.checks.workflow.replay_output import out_of_range, prediction_mismatch
from mltriage.cli import app
from mltriage.commands.replay import replay, replay_case
from mltriage.context import Context
from mltriage.stats.replay import replay_rows

runner = CliRunner()
FEATURES = ["x1", "x2", "x3", "color"]


@pytest.fixture(scope="module")
def data():
    df = make_binary(1500, seed=3)
    return df[FEATURES], df["y"]


@pytest.fixture(scope="module")
def model(data):
    """Imputer and scaler on x1, x2; min-max on x3; a strict one-hot encoder on color."""
    X, y = data
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), ["x1", "x2"]),
            ("mm", MinMaxScaler(), ["x3"]),
            ("cat", OneHotEncoder(handle_unknown="error"), ["color"]),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, y)


@pytest.fixture(scope="module")
def clean_row(data):
    return data[0].iloc[0].to_dict()


def ctx_for(model, rows, **kw):
    return Context(replay_case(model, rows, **kw))


# ------------------------------------------------------------------ step errors


@pytest.mark.fires("replay.step_error")
def test_text_in_a_numeric_column_stops_at_the_imputer(model, clean_row):
    row = {**clean_row, "x1": "abc"}
    found = run(step_error, ctx_for(model, row))
    assert len(found) == 1
    f = found[0]
    assert f.severity.value == "critical" and f.columns == ["x1"]
    assert (
        f.evidence["step"] == "columntransformer/num/simpleimputer" and f.evidence["class"] == "SimpleImputer"
    )
    assert "text value" in f.title and "'abc'" in f.title


@pytest.mark.fires("replay.step_error")
def test_unknown_category_with_handle_unknown_error_stops_at_the_encoder(model, clean_row):
    found = run(step_error, ctx_for(model, {**clean_row, "color": "purple"}))
    assert [f.evidence["step"] for f in found] == ["columntransformer/cat"]
    assert "never seen in training" in found[0].title and found[0].columns == ["color"]


@pytest.mark.silent("replay.step_error")
@pytest.mark.silent("replay.non_finite")
@pytest.mark.silent("replay.out_of_range")
def test_a_clean_row_passes_every_step(model, clean_row):
    report = replay(model, clean_row)
    assert not report.alarms
    line = report.details["rows"][0]
    assert line["outcome"] == "ok"
    expected = model.predict_proba(pd.DataFrame([clean_row]))[0, 1]
    assert line["prediction"] == pytest.approx(expected, abs=1e-12)


def test_failing_rows_are_isolated_and_the_others_scored(model, data):
    rows = data[0].head(40).copy().reset_index(drop=True).astype({"x1": object})
    rows.loc[7, "x1"], rows.loc[31, "color"] = "oops", "teal"
    t = replay_rows(model, rows, detailed=2, max_sd=5.0)
    stopped = {o.row: o.step for o in t.outcomes if o.status != "ok"}
    assert stopped == {7: "columntransformer/num/simpleimputer", 31: "columntransformer/cat"}
    ok = [o.row for o in t.outcomes if o.status == "ok"]
    want = model.predict_proba(data[0].head(40).iloc[ok])[:, 1]
    assert np.allclose([t.outcomes[r].score for r in ok], want)


# ------------------------------------------------------------------ NaN and inf


@pytest.fixture(scope="module")
def log_model(data):
    X, y = data
    pre = ColumnTransformer(
        [
            ("log", FunctionTransformer(np.log, feature_names_out="one-to-one"), ["x3"]),
            ("num", StandardScaler(), ["x1", "x2"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["color"]),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, y)


@pytest.mark.fires("replay.non_finite")
def test_a_log_of_a_negative_value_is_stopped_as_non_finite(log_model, clean_row):
    found = run(non_finite, ctx_for(log_model, {**clean_row, "x3": -1.0}))
    assert len(found) == 1 and found[0].evidence["step"] == "columntransformer/log"
    assert found[0].evidence["non_finite_columns"] == ["x3"] and "NaN or infinite" in found[0].title
    assert found[0].severity.value == "critical" and "logisticregression raised" in found[0].title


@pytest.mark.silent("replay.non_finite")
def test_a_positive_value_through_the_log_stays_finite(log_model, clean_row):
    assert not alarms(run(non_finite, ctx_for(log_model, {**clean_row, "x3": 2.0})))


@pytest.mark.silent("replay.non_finite")
def test_nan_that_a_later_step_absorbs_is_info(data, clean_row):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = data
    enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    pre = ColumnTransformer([("cat", enc, ["color"])], remainder="passthrough")
    m = make_pipeline(pre, HistGradientBoostingClassifier(max_iter=20)).fit(X, y)
    ctx = ctx_for(m, {**clean_row, "color": "teal"})
    (f,) = run(non_finite, ctx)
    assert f.severity.value == "info" and "absorb" in f.title
    assert ctx.cached("replay", lambda: None).trace.outcomes[0].status == "ok"


def test_nan_in_the_input_is_not_blamed_on_a_step_that_passes_it_on(log_model, clean_row):
    t = replay_rows(log_model, pd.DataFrame([{**clean_row, "x1": np.nan}]), detailed=1, max_sd=5.0)
    assert t.outcomes[0].status == "error"  # LogisticRegression refuses NaN: a step error
    assert "missing value (NaN)" in (t.outcomes[0].message or "")
    assert not any(s.non_finite for s in t.steps)


# ------------------------------------------------------------------ out of range


@pytest.fixture(scope="module")
def lenient_model(data):
    """Same as `model` with an encoder that ignores unknown categories."""
    X, y = data
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), ["x1", "x2"]),
            ("mm", MinMaxScaler(), ["x3"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["color"]),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, y)


@pytest.mark.fires("replay.out_of_range")
def test_values_outside_what_the_fitted_steps_recorded_are_flagged(lenient_model, clean_row):
    row = {**clean_row, "x1": 40.0, "x3": 55.0, "color": "purple"}
    found = run(out_of_range, ctx_for(lenient_model, row))
    by_col = {f.columns[0]: f for f in found}
    assert set(by_col) == {"x1", "x3", "color"}
    assert by_col["x3"].evidence["flags"][0]["source"] == "MinMaxScaler data_min_/data_max_"
    assert "above the training range" in by_col["x3"].title
    assert "SD from the training mean" in by_col["x1"].title
    assert "all zeros" in by_col["color"].title


def test_reference_rows_replace_the_sd_rule_and_flag_text(lenient_model, data, clean_row):
    ref = data[0]
    row = {**clean_row, "x1": 40.0}
    found = run(out_of_range, ctx_for(lenient_model, row, reference=ref))
    (f,) = found
    assert [fl["kind"] for fl in f.evidence["flags"]] == ["above_range"]
    assert f.evidence["flags"][0]["source"] == "reference rows"
    inside = {**clean_row, "x1": float(ref["x1"].max())}
    assert not alarms(run(out_of_range, ctx_for(lenient_model, inside, reference=ref)))
    bad = run(out_of_range, ctx_for(lenient_model, {**clean_row, "x2": "n/a"}, reference=ref))
    assert "not a number" in bad[0].title


def test_sd_rule_is_a_declared_parameter(lenient_model, clean_row):
    ctx = ctx_for(lenient_model, {**clean_row, "x1": 40.0})
    with pytest.raises(InputError):
        run(out_of_range, ctx, max_sd=0)
    with pytest.raises(InputError):
        replay(lenient_model, clean_row, set_params=["replay.out_of_range.max_sd=-1"])


# ------------------------------------------------------------------ the logged prediction


@pytest.mark.fires("replay.prediction_mismatch")
def test_a_logged_prediction_the_model_does_not_reproduce(model, clean_row):
    found = run(prediction_mismatch, ctx_for(model, clean_row, logged_prediction=0.999))
    (f,) = found
    assert "serialization or version mismatch" in f.title
    assert f.evidence["rows"][0]["logged"] == 0.999
    import sklearn

    assert f.evidence["versions"]["scikit-learn"]["running"] == sklearn.__version__


@pytest.mark.silent("replay.prediction_mismatch")
def test_the_logged_prediction_reproduced_within_float32(model, clean_row):
    p = float(np.float32(model.predict_proba(pd.DataFrame([clean_row]))[0, 1]))
    report = replay(model, clean_row, logged_prediction=p)
    assert "replay.prediction_mismatch" in report.passed
    assert report.details["rows"][0]["matches_logged"] is True


def test_logged_column_for_several_rows_and_a_tight_tolerance(model, data):
    rows = data[0].head(6).copy()
    rows["score"] = model.predict_proba(rows)[:, 1]
    rows.loc[2, "score"] += 1e-4
    report = replay(model, rows, prediction_column="score", tolerance=1e-6)
    (f,) = [f for f in report.findings if f.code == "replay.prediction_mismatch"]
    assert f.severity.value == "warning" and [r["row"] for r in f.evidence["rows"]] == [2]
    assert replay(model, rows, prediction_column="score", tolerance=1e-3).alarms == []


# ------------------------------------------------------------------ the trace


def test_the_trace_shows_each_step_output_for_the_row(model, clean_row):
    row = {**clean_row, "x1": None}
    report = replay(model, row)
    steps = {e["step"]: e for e in report.details["trace"] if e["row"] == 0}
    imputed = steps["columntransformer/num/simpleimputer"]
    median = model[0].named_transformers_["num"][0].statistics_[0]
    assert imputed["values"]["x1"] == pytest.approx(median)
    scaler = model[0].named_transformers_["num"][1]
    scaled = steps["columntransformer/num/standardscaler"]["values"]["x2"]
    assert scaled == pytest.approx((clean_row["x2"] - scaler.mean_[1]) / scaler.scale_[1])
    onehot = steps["columntransformer/cat"]
    assert onehot["output_columns"] == ["color_blue", "color_green", "color_red"]
    assert onehot["values"][f"color_{clean_row['color']}"] == 1.0
    for e in steps.values():
        assert {"step", "class", "input_columns", "output_columns", "values", "seconds", "status"} <= set(e)
    final = steps["logisticregression"]
    assert final["class"] == "LogisticRegression" and final["output_columns"] == ["P(0)", "P(1)"]
    assert any(f["kind"] == "imputed" for f in report.details["flags"])
    json.dumps(report.to_dict(), allow_nan=False)  # the trace is valid JSON
    html = report.to_html()
    assert "<h3>trace</h3>" in html and "columntransformer/num/standardscaler" in html


def test_nested_containers_remainder_union_and_xgboost(data):
    from xgboost import XGBClassifier

    X, y = data
    inner = ColumnTransformer(
        [("a", StandardScaler(), ["x1"]), ("b", "drop", ["x2"])], remainder="passthrough"
    )
    outer = ColumnTransformer(
        [
            ("nested", inner, ["x1", "x2", "x3"]),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), ["color"]),
        ]
    )
    union = FeatureUnion([("pca", PCA(2)), ("id", FunctionTransformer(feature_names_out="one-to-one"))])
    xgb = XGBClassifier(n_estimators=10, max_depth=2, n_jobs=1)
    m = Pipeline([("prep", outer), ("union", union), ("xgb", xgb)]).fit(X, y)
    rows = X.head(3).reset_index(drop=True).copy()
    rows.loc[2, "color"] = "teal"
    t = replay_rows(m, rows, detailed=3, max_sd=5.0)
    paths = [s.path for s in t.steps]
    for p in ("prep/nested/a", "prep/nested/b", "prep/nested/remainder", "prep/nested", "union/pca", "xgb"):
        assert p in paths
    assert next(s for s in t.steps if s.path == "prep/nested/b").role == "drop"
    o = t.outcomes[2]  # the unknown category became NaN, then PCA refused it
    assert o.non_finite_at == "prep/cat" and o.status == "error" and o.step == "union/pca"
    assert "after color became NaN or infinite at prep/cat" in (o.message or "")
    want = m.predict_proba(rows.head(2))[:, 1]
    assert np.allclose([t.outcomes[0].score, t.outcomes[1].score], want)


def test_lightgbm_in_a_pipeline_and_alone_with_categories_as_text(data):
    from lightgbm import LGBMClassifier

    X, y = data
    pre = ColumnTransformer([("num", StandardScaler(), ["x1", "x2", "x3"])])
    m = make_pipeline(pre, LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1)).fit(X, y)
    t = replay_rows(m, X.head(2), detailed=2, max_sd=5.0)
    assert t.steps[-1].kind == "LGBMClassifier" and t.output == "predict_proba"
    assert np.allclose([o.score for o in t.outcomes], m.predict_proba(X.head(2))[:, 1])
    Xc = X.astype({"color": "category"})
    bare = LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1).fit(Xc, y)
    rows = [{**X.iloc[0].to_dict(), "color": "teal", "x3": 1e6}, X.iloc[1].to_dict()]
    report = replay(bare, rows)
    assert report.details["rows"][1]["prediction"] == pytest.approx(bare.predict_proba(Xc.iloc[[1]])[0, 1])
    flagged = {f.columns[0]: f for f in report.findings if f.code == "replay.out_of_range"}
    assert set(flagged) == {"color", "x3"}
    assert any("pandas category dtype" in n for n in report.notes)


def test_several_rows_are_capped_and_summarised(model, data):
    rows = data[0].head(30)
    report = replay(
        model, rows, set_params=["replay.step_error.max_detailed=2", "replay.step_error.max_rows=20"]
    )
    assert sorted({e["row"] for e in report.details["trace"]}) == [0, 1]
    assert len(report.details["rows"]) == 20 and report.details["replay"]["input_rows"] == 30
    assert any("first 20 of 30" in n for n in report.notes)
    assert any("first 2 of 20" in n for n in report.notes)


# ------------------------------------------------------------------ the command line


@pytest.fixture(scope="module")
def files(tmp_path_factory, model, data, clean_row):
    d = tmp_path_factory.mktemp("replay")
    joblib.dump(model, d / "model.joblib")
    data[0].to_parquet(d / "train.parquet")
    (d / "row.json").write_text(json.dumps(clean_row))
    (d / "bad.json").write_text(json.dumps([clean_row, {**clean_row, "x2": "twelve"}]))
    data[0].head(8).to_csv(d / "rows.csv", index=False)
    return d


def _cli(files, *args):
    return runner.invoke(app, ["replay", "--model", str(files / "model.joblib"), *args])


@pytest.mark.fires("replay.step_error")
def test_cli_a_row_that_breaks_a_step(files, tmp_path):
    out = tmp_path / "r.json"
    res = _cli(files, "--input", str(files / "bad.json"), "--json", str(out))
    assert res.exit_code == 1, res.output
    assert "replay.step_error" in res.output and "raises" in res.output and "Traceback" not in res.output
    doc = json.loads(out.read_text())
    assert doc["command"] == "replay" and doc["details"]["rows"][1]["outcome"] == "error"


@pytest.mark.silent("replay.step_error")
def test_cli_a_row_that_does_not(files):
    res = _cli(files, "--input", str(files / "row.json"), "--reference", str(files / "train.parquet"))
    assert res.exit_code == 0, res.output
    assert "row 0: prediction" in res.output and "columntransformer/cat" in res.output
    res = _cli(files, "--input", str(files / "rows.csv"), "--quiet")
    assert res.exit_code == 0 and res.output.strip() == ""


@pytest.mark.parametrize(
    "content, words",
    [
        ("[1, 2]", "not only objects"),
        ("3", "not an object or a list of objects"),
        ("[]", "empty list"),
        ('{"x1": 1', "cannot read the input"),
        ('{"x1": 1.0}', "lacks 3 column(s) the model needs"),
    ],
)
def test_cli_bad_input_is_one_clear_message(files, tmp_path, content, words):
    path = tmp_path / "in.json"
    path.write_text(content)
    res = _cli(files, "--input", str(path))
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output
    assert res.output.count("error:") == 1


def test_cli_unreadable_model_and_misused_options(files, tmp_path):
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a pickle")
    res = runner.invoke(app, ["replay", "--model", str(junk), "--input", str(files / "row.json")])
    assert res.exit_code == 2 and "cannot load model" in res.output and "Traceback" not in res.output
    res = _cli(files, "--input", str(files / "rows.csv"), "--logged-prediction", "0.3")
    assert res.exit_code == 2 and "--prediction-column" in res.output
    res = _cli(files, "--input", str(files / "row.json"), "--prediction-column", "score")
    assert res.exit_code == 2 and "not in the input" in res.output
