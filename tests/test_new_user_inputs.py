"""The files a new user has, end to end through the CLI (issue 9, capabilities 10, 15 and 16):
native Booster files, skops and other formats, categorical columns a CSV spells as numbers
(zip codes, integer categories read as floats), a ColumnTransformer fitted on the whole frame, a
model fitted on an array, a one-row batch in `mltriage drift`. Each run: no traceback, no check
failing, the model scored as it scores its own training frames."""

from __future__ import annotations

import json
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from typer.testing import CliRunner

from mltriage.case import build_case
from mltriage.cli import app
from mltriage.context import Context
from mltriage.stats.metrics import auc

runner = CliRunner()


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    d = tmp_path_factory.mktemp("cancer")
    df = load_breast_cancer(as_frame=True).frame.rename(columns=lambda c: c.replace(" ", "_"))
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    tr, te = df.iloc[:380], df.iloc[380:]
    tr.to_csv(d / "train.csv", index=False)
    te.to_csv(d / "test.csv", index=False)
    return d, tr, te


def _run(d, *args, train="train.csv", test="test.csv", target="target"):
    out = d / "r.json"
    if out.exists():
        out.unlink()
    res = runner.invoke(
        app,
        ["diagnose", "--train", str(d / train), "--test", str(d / test), "--target", target]
        + ["--fast", "--quiet", "--json", str(out), *map(str, args)],
    )
    assert res.exit_code in (0, 1), res.output
    assert "Traceback" not in res.output
    doc = json.loads(out.read_text())
    assert doc["failed"] == [], doc["failed"]
    return doc


def _refused(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.replace("│", " ").split())


# ---------------------------------------------------------------------------- native Boosters


def test_lightgbm_booster_saved_as_text_is_scored_as_the_booster_scores(cancer):
    lgb = pytest.importorskip("lightgbm")
    d, tr, te = cancer
    X = tr.drop(columns="target")
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, tr["target"]), 40)
    booster.save_model(str(d / "lgb.txt"))
    doc = _run(d, "--model", d / "lgb.txt")
    want = auc(te["target"].to_numpy(), booster.predict(te.drop(columns="target")))
    assert doc["summary"]["headline"]["test"]["value"] == pytest.approx(want)
    assert "LightGBM" in doc["case"]["model"] or "lightgbm" in doc["case"]["model"]


@pytest.mark.parametrize("suffix", ["json", "ubj"])
def test_xgboost_booster_saved_natively_is_scored(cancer, suffix):
    xgb = pytest.importorskip("xgboost")
    d, tr, te = cancer
    X = tr.drop(columns="target")
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, tr["target"]), 30)
    booster.save_model(str(d / f"xgb.{suffix}"))
    doc = _run(d, "--model", d / f"xgb.{suffix}")
    p = booster.predict(xgb.DMatrix(te.drop(columns="target")))
    assert doc["summary"]["headline"]["test"]["value"] == pytest.approx(auc(te["target"].to_numpy(), p))


def test_a_pickled_booster_object_is_not_a_wrong_output_type(cancer):
    lgb = pytest.importorskip("lightgbm")
    d, tr, _ = cancer
    X = tr.drop(columns="target")
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, tr["target"]), 20)
    joblib.dump(booster, d / "booster.joblib")
    doc = _run(d, "--model", d / "booster.joblib")
    assert "model.wrong_output_type" not in {f["code"] for f in doc["findings"]}


def test_multiclass_and_regression_boosters_through_the_api():
    lgb = pytest.importorskip("lightgbm")
    w = load_wine(as_frame=True).frame.rename(columns=lambda c: c.replace("/", "_"))
    w = w.sample(frac=1.0, random_state=0).reset_index(drop=True)
    tr, te = w.iloc[:120], w.iloc[120:]
    X = tr.drop(columns="target")
    b = lgb.train(
        {"objective": "multiclass", "num_class": 3, "verbose": -1}, lgb.Dataset(X, tr["target"]), 20
    )
    ctx = Context(build_case(tr, te, "target", model=b))
    pred = ctx.predictions("test")
    assert pred.has_proba and pred.proba is not None and pred.proba.shape == (len(te), 3)
    np.testing.assert_allclose(pred.proba, b.predict(te.drop(columns="target")))
    Xr = X.drop(columns="alcohol")
    r = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(Xr, tr["alcohol"]), 20)
    case = build_case(
        tr.drop(columns="target"), te.drop(columns="target"), "alcohol", model=r, task="regression"
    )
    got = Context(case).predictions("test").score
    np.testing.assert_allclose(got, r.predict(te.drop(columns=["target", "alcohol"])))


# ---------------------------------------------------------------------------- other formats


def test_pickle_and_cloudpickle_files_load(cancer):
    d, tr, _ = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(tr.drop(columns="target"), tr["target"])
    with open(d / "m.pkl", "wb") as fh:
        pickle.dump(model, fh)
    _run(d, "--model", d / "m.pkl", "--select", "data.missing_values")
    cloudpickle = pytest.importorskip("cloudpickle")
    with open(d / "f.pkl", "wb") as fh:  # a plain function returning P(positive)
        cloudpickle.dump(lambda X: model.predict_proba(X)[:, 1], fh)
    doc = _run(d, "--model", d / "f.pkl")
    assert "model.wrong_output_type" not in {f["code"] for f in doc["findings"]}
    assert doc["summary"]["headline"]["test"]["value"] > 0.95


def test_skops_onnx_and_torch_files_are_refused_with_the_way_out(cancer, tmp_path):
    d, _, _ = cancer
    with zipfile.ZipFile(tmp_path / "m.skops", "w") as z:
        z.writestr("schema.json", "{}")
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07")
    with zipfile.ZipFile(tmp_path / "m.bin", "w") as z:
        z.writestr("archive/data.pkl", b"")
    args = ["diagnose", "--train", str(d / "train.csv"), "--test", str(d / "test.csv"), "--target", "target"]
    try:
        import skops  # noqa: F401
    except ImportError:
        out = _refused(runner.invoke(app, [*args, "--model", str(tmp_path / "m.skops")]))
        assert "skops" in out and "pip install skops" in out
    out = _refused(runner.invoke(app, [*args, "--model", str(tmp_path / "m.onnx")]))
    assert "ONNX" in out and "--prediction-column" in out
    out = _refused(runner.invoke(app, [*args, "--model", str(tmp_path / "m.bin")]))
    assert "PyTorch" in out


# ---------------------------------------------------------------------------- columns as the model saw them


def _zip_frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Zip codes with leading zeros, integer store ids, a bool flag, a count with missing values."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "zip": rng.choice(["02139", "10001", "94105", "00501"], n),
            "store": rng.choice([1, 2, 3, 7], n),
            "flag": rng.random(n) < 0.3,
            "x": rng.normal(size=n),
        }
    )
    logit = df["x"] + (df["zip"] == "02139") * 1.5 + (df["store"] == 7) - df["flag"]
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    X = df.drop(columns="y").copy()
    X["zip"] = X["zip"].astype("category")
    X["store"] = X["store"].astype("category")
    return X


def _zip_files(d):
    df = _zip_frame()
    tr, te = df.iloc[:1000], df.iloc[1000:]
    tr.to_csv(d / "train.csv", index=False)
    te.to_csv(d / "test.csv", index=False)
    te.drop(columns="y").to_csv(d / "cur.csv", index=False)
    return tr, te


def _make(kind: str, X: pd.DataFrame, y: pd.Series):
    if kind == "lightgbm":
        lgb = pytest.importorskip("lightgbm")
        return lgb.LGBMClassifier(n_estimators=30, verbose=-1).fit(X, y)
    if kind == "xgboost":
        xgb = pytest.importorskip("xgboost")
        return xgb.XGBClassifier(n_estimators=30, enable_categorical=True, tree_method="hist").fit(X, y)
    return HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=30).fit(X, y)


@pytest.mark.parametrize("kind", ["lightgbm", "xgboost", "hist_gradient_boosting"])
def test_numeric_looking_categories_are_read_as_the_model_saw_them(tmp_path, kind):
    tr, te = _zip_files(tmp_path)
    model = _make(kind, _typed(tr), tr["y"])
    joblib.dump(model, tmp_path / "m.joblib")
    case = build_case(tmp_path / "train.csv", tmp_path / "test.csv", "y", model=tmp_path / "m.joblib")
    assert list(case.test["zip"].cat.categories) == ["00501", "02139", "10001", "94105"]
    np.testing.assert_allclose(Context(case).predictions("test").score, model.predict_proba(_typed(te))[:, 1])
    doc = _run(tmp_path, "--model", tmp_path / "m.joblib", "--current", tmp_path / "cur.csv", target="y")
    assert not [
        f for f in doc["findings"] if f["code"] == "data.unseen_categories" and f["severity"] != "info"
    ]


@pytest.mark.parametrize("kind", ["lightgbm", "xgboost"])
def test_drift_scores_a_batch_of_categories_read_from_a_csv(tmp_path, kind):
    tr, te = _zip_files(tmp_path)
    joblib.dump(_make(kind, _typed(tr), tr["y"]), tmp_path / "m.joblib")
    tr.drop(columns="y").to_csv(tmp_path / "ref.csv", index=False)
    out = tmp_path / "d.json"
    res = runner.invoke(
        app,
        ["drift", "--reference", str(tmp_path / "ref.csv"), "--current", str(tmp_path / "cur.csv")]
        + ["--model", str(tmp_path / "m.joblib"), "--quiet", "--json", str(out)],
    )
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert doc["failed"] == []
    assert "production.prediction_drift" in set(doc["passed"]) | {f["code"] for f in doc["findings"]}


def test_column_transformer_fitted_on_the_whole_frame(cancer, tmp_path):
    """fit(df, df[target]) with a ColumnTransformer that selects columns by name: the target, an
    id and a timestamp are in feature_names_in_ but the model never uses them."""
    _, tr, te = cancer
    tr, te = tr.copy(), te.copy()
    for f in (tr, te):
        f.insert(0, "id", np.arange(len(f)))
        f["timestamp"] = pd.date_range("2024-01-01", periods=len(f), freq="h").astype(str)
    used = ["mean_radius", "mean_texture", "worst_area", "worst_smoothness"]
    model = make_pipeline(ColumnTransformer([("num", StandardScaler(), used)]), LogisticRegression())
    model.fit(tr, tr["target"])
    tr.to_csv(tmp_path / "train.csv", index=False)
    te.to_csv(tmp_path / "test.csv", index=False)
    joblib.dump(model, tmp_path / "m.joblib")
    case = build_case(tmp_path / "train.csv", tmp_path / "test.csv", "target", model=tmp_path / "m.joblib")
    assert case.features == used and {"id", "timestamp"} <= set(case.extra_columns)
    assert any("drops" in n and "target" in n for n in case.notes)
    doc = _run(tmp_path, "--model", tmp_path / "m.joblib")
    assert not [f for f in doc["findings"] if f["code"] == "data.label_leakage"]


def test_a_model_fitted_on_an_array_with_extra_columns_in_the_file_is_refused(cancer, tmp_path):
    _, tr, te = cancer
    used = ["mean_radius", "mean_texture", "worst_area"]
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(tr[used].to_numpy(), tr["target"])
    joblib.dump(model, tmp_path / "m.joblib")
    tr.to_csv(tmp_path / "train.csv", index=False)
    te.to_csv(tmp_path / "test.csv", index=False)
    args = ["--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv")]
    res = runner.invoke(app, ["diagnose", *args, "--target", "target", "--model", str(tmp_path / "m.joblib")])
    out = _refused(res)
    assert "fitted on 3 unnamed columns" in out and "30 columns" in out
    # fitted on an array of every feature column: accepted, in file order
    full = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    full.fit(tr.drop(columns="target").to_numpy(), tr["target"])
    joblib.dump(full, tmp_path / "full.joblib")
    _run(tmp_path, "--model", tmp_path / "full.joblib", "--select", "data.missing_values")


def test_lightgbm_fitted_on_an_array_is_not_asked_for_column_0(cancer):
    lgb = pytest.importorskip("lightgbm")
    _, tr, te = cancer
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1)
    model.fit(tr.drop(columns="target").to_numpy(), tr["target"])
    case = build_case(tr, te, "target", model=model)
    assert "Column_0" not in case.features and len(case.features) == 30


# ---------------------------------------------------------------------------- labels and scores


def test_string_labels_with_a_model_without_predict_proba(cancer, tmp_path):
    _, tr, te = cancer
    lab = {1: "yes", 0: "no"}
    tr, te = tr.assign(target=tr["target"].map(lab)), te.assign(target=te["target"].map(lab))
    tr.to_csv(tmp_path / "train.csv", index=False)
    te.to_csv(tmp_path / "test.csv", index=False)
    te.drop(columns="target").to_csv(tmp_path / "cur.csv", index=False)
    model = make_pipeline(StandardScaler(), LinearSVC()).fit(tr.drop(columns="target"), tr["target"])
    joblib.dump(model, tmp_path / "m.joblib")
    doc = _run(
        tmp_path, "--model", tmp_path / "m.joblib", "--current", tmp_path / "cur.csv", "--metric", "f1"
    )
    margins = model.decision_function(te.drop(columns="target"))
    want = auc((te["target"] == "yes").astype(int).to_numpy(), margins)
    assert doc["summary"]["headline"]["test"]["value"] == pytest.approx(want)  # 'yes' is positive
    ran = set(doc["passed"]) | {f["code"] for f in doc["findings"]}
    assert {"errors.high_confidence_errors", "production.estimated_performance_drop"} <= ran


# ---------------------------------------------------------------------------- one-row batch in drift


def test_drift_on_a_one_row_batch_runs_what_runs_row_by_row(cancer, tmp_path):
    d, tr, te = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(tr.drop(columns="target"), tr["target"])
    joblib.dump(model, tmp_path / "m.joblib")
    tr.drop(columns="target").to_csv(tmp_path / "ref.csv", index=False)
    one = te.drop(columns="target").iloc[:1].copy()
    one["mean_area"] = one["mean_area"] * 1000  # an impossible magnitude
    one.to_csv(tmp_path / "one.csv", index=False)
    out = tmp_path / "d.json"
    res = runner.invoke(
        app,
        ["drift", "--reference", str(tmp_path / "ref.csv"), "--current", str(tmp_path / "one.csv")]
        + ["--model", str(tmp_path / "m.joblib"), "--quiet", "--json", str(out)],
    )
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert doc["failed"] == []
    na = {x["code"]: x["reason"] for x in doc["not_applicable"]}
    assert "1 row" in na["production.data_drift"]
    ood = [f for f in doc["findings"] if f["code"] == "production.out_of_distribution"]
    assert ood and "mean_area" in ood[0]["columns"]


# ---------------------------------------------------------------------------- files as exported


def test_a_csv_in_the_windows_code_page_is_read(cancer, tmp_path):
    _, tr, te = cancer
    tr.assign(city="Orléans").to_csv(tmp_path / "train.csv", index=False, encoding="cp1252")
    te.assign(city="Orléans").to_csv(tmp_path / "test.csv", index=False, encoding="cp1252")
    doc = _run(tmp_path, "--select", "data.missing_values")
    assert doc["case"]["rows"]["train"] == len(tr)


def test_a_spreadsheet_without_its_reader_is_refused_with_the_way_out(cancer, tmp_path, monkeypatch):
    d, _, _ = cancer

    def no_reader(*a, **k):
        raise ImportError("Missing optional dependency 'openpyxl'")

    monkeypatch.setattr(pd, "read_excel", no_reader)
    (tmp_path / "train.xlsx").write_bytes(b"PK")
    res = runner.invoke(
        app,
        [
            "diagnose",
            "--train",
            str(tmp_path / "train.xlsx"),
            "--test",
            str(d / "test.csv"),
            "--target",
            "target",
        ],
    )
    assert "save the sheet as CSV" in _refused(res)


def test_a_column_name_with_a_stray_space_is_pointed_at(cancer, tmp_path):
    d, tr, te = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(tr.drop(columns="target"), tr["target"])
    joblib.dump(model, tmp_path / "m.joblib")
    for name, f in (("train", tr), ("test", te)):
        f.rename(columns={"mean_radius": " mean_radius"}).to_csv(tmp_path / f"{name}.csv", index=False)
    args = [
        "--train",
        str(tmp_path / "train.csv"),
        "--test",
        str(tmp_path / "test.csv"),
        "--target",
        "target",
    ]
    out = _refused(runner.invoke(app, ["diagnose", *args, "--model", str(tmp_path / "m.joblib")]))
    assert "Did you mean ' mean_radius'?" in out


@pytest.mark.parametrize("lib", ["lightgbm", "xgboost"])
def test_a_bool_column_with_a_gap_reaches_a_boosting_model(tmp_path, lib):
    mod = pytest.importorskip(lib)
    rng = np.random.default_rng(0)
    n = 1200
    df = pd.DataFrame({"flag": rng.random(n) < 0.4, "x": rng.normal(size=n)})
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(df["x"] + 1.5 * df["flag"])))).astype(int)
    tr, te = df.iloc[:800], df.iloc[800:].astype({"flag": object})
    te.loc[te.index[:5], "flag"] = np.nan  # pandas reads this column back as object
    est = (
        mod.LGBMClassifier(n_estimators=20, verbose=-1)
        if lib == "lightgbm"
        else mod.XGBClassifier(n_estimators=20)
    )
    est.fit(tr[["flag", "x"]], tr["y"])
    joblib.dump(est, tmp_path / "m.joblib")
    tr.to_csv(tmp_path / "train.csv", index=False)
    te.to_csv(tmp_path / "test.csv", index=False)
    doc = _run(tmp_path, "--model", tmp_path / "m.joblib", target="y")
    Xt = te[["flag", "x"]].astype({"flag": float})
    want = auc(te["y"].to_numpy(), est.predict_proba(Xt)[:, 1])
    assert doc["summary"]["headline"]["test"]["value"] == pytest.approx(want)


def test_labels_the_model_never_saw_are_named_plainly(cancer, tmp_path):
    _, tr, te = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(tr.drop(columns="target"), tr["target"])
    joblib.dump(model, tmp_path / "m.joblib")
    lab = {1: "yes", 0: "no"}
    tr.assign(target=tr["target"].map(lab)).to_csv(tmp_path / "train.csv", index=False)
    te.assign(target=te["target"].map(lab)).to_csv(tmp_path / "test.csv", index=False)
    doc = _run(tmp_path, "--model", tmp_path / "m.joblib")
    wrong = [f for f in doc["findings"] if f["code"] == "model.wrong_output_type"]
    assert wrong and "[0, 1]" in wrong[0]["title"] and "np.int64" not in wrong[0]["title"]


def test_drift_takes_a_plain_callable_returning_p_positive_as_binary(cancer):
    import mltriage

    _, tr, te = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(tr.drop(columns="target"), tr["target"])
    report = mltriage.drift(
        tr.drop(columns="target"), te.drop(columns="target"), model=lambda X: model.predict_proba(X)[:, 1]
    )
    assert report.failed == []
    assert any("task inferred as binary" in n and "P(positive)" in n for n in report.notes)
    ran = set(report.passed) | {f.code for f in report.findings}
    assert "production.prediction_drift" in ran


def _rating_frame():
    """Wine with an integer rating target of five values, two of them on two rows each."""
    w = load_wine(as_frame=True).frame.rename(columns=lambda c: c.replace("/", "_"))
    w = w.sample(frac=1.0, random_state=0).rename(columns={"target": "cultivar"})
    w["rating"] = np.clip(np.round(w["alcohol"] - 8), 1, 10).astype(int)
    w = w.drop(columns=["alcohol"])
    return w.iloc[:120], w.iloc[120:]


def test_an_integer_target_with_a_regressor_is_a_regression():
    from sklearn.linear_model import Ridge

    tr, te = _rating_frame()
    model = Ridge().fit(tr.drop(columns="rating"), tr["rating"])
    case = build_case(tr, te, "rating", model=model)
    assert case.task == "regression" and any("the model is a regressor" in n for n in case.notes)
    clf = LogisticRegression(max_iter=3000).fit(tr.drop(columns="rating"), tr["rating"])
    assert build_case(tr, te, "rating", model=clf).task == "multiclass"


def test_a_class_with_one_training_row_does_not_break_the_leakage_check():
    import checkhelp
    from mltriage.checks.data.leakage import label_leakage

    tr, te = _rating_frame()
    assert tr["rating"].value_counts().min() <= 2  # one row in some cross-validation folds
    clf = LogisticRegression(max_iter=3000).fit(tr.drop(columns="rating"), tr["rating"])
    checkhelp.run(label_leakage, Context(build_case(tr, te, "rating", model=clf)))
