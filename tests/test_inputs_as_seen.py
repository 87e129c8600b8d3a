"""Inputs as the model saw them (issue 9, capabilities 11 and 15): per-class probability columns
without a model, and CSV columns given back the pandas category dtype LightGBM/XGBoost trained on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from mltriage.case import build_case
from mltriage.cli import app
from mltriage.context import Context
from mltriage.errors import InputError

runner = CliRunner()


@pytest.fixture(scope="module")
def iris_outputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("iris")
    data = load_iris(as_frame=True)
    df = data.frame.copy()
    df["target"] = df["target"].map(dict(enumerate(data.target_names)))
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    df.columns = [c.replace(" (cm)", "").replace(" ", "_") for c in df.columns]
    feats = [c for c in df.columns if c != "target"]
    tr, te, cu = df.iloc[:80].copy(), df.iloc[80:120].copy(), df.iloc[120:].copy()
    model = LogisticRegression(max_iter=500).fit(tr[feats], tr["target"])
    for f in (tr, te, cu):
        P = model.predict_proba(f[feats])
        for j, k in enumerate(model.classes_):
            f[f"proba_{k}"] = P[:, j]
    tr.to_csv(d / "train.csv", index=False)
    te.to_csv(d / "test.csv", index=False)
    cu.drop(columns="target").to_csv(d / "cur.csv", index=False)
    return d, tr, te, model


@pytest.mark.parametrize("spec", ["proba_", "proba_setosa,proba_versicolor,proba_virginica"])
def test_per_class_probability_columns_end_to_end(iris_outputs, spec):
    d, _, te, model = iris_outputs
    out = d / "r.json"
    res = runner.invoke(
        app,
        ["diagnose", "--train", str(d / "train.csv"), "--test", str(d / "test.csv"), "--target", "target"]
        + ["--prediction-column", spec, "--current", str(d / "cur.csv"), "--quiet", "--json", str(out)],
    )
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert doc["failed"] == []
    assert doc["case"]["features"] == 4  # the probability columns are not features
    ran = set(doc["passed"]) | {f["code"] for f in doc["findings"]}
    assert {"errors.high_confidence_errors", "production.estimated_performance_drop"} <= ran
    acc = doc["summary"]["headline"]["test"]["value"]
    feats = [c for c in te.columns if not c.startswith("proba_") and c != "target"]
    assert acc == pytest.approx(float(np.mean(model.predict(te[feats]) == te["target"])))


def test_probability_columns_in_class_order_without_class_names(iris_outputs):
    _, tr, te, _ = iris_outputs
    ren = {"proba_setosa": "p0", "proba_versicolor": "p1", "proba_virginica": "p2"}
    case = build_case(tr.rename(columns=ren), te.rename(columns=ren), "target", prediction_column="p0,p1,p2")
    assert case.model is not None and case.model.classes == ["setosa", "versicolor", "virginica"]
    assert any("column order" in n for n in case.notes)
    pred = Context(case).predictions("test")
    assert pred.has_proba and pred.proba is not None and pred.proba.shape == (len(te), 3)


def test_probability_columns_that_miss_a_class_are_refused(iris_outputs):
    _, tr, te, _ = iris_outputs
    with pytest.raises(InputError, match="lack the class"):
        build_case(tr, te, "target", prediction_column="proba_setosa,proba_virginica")


def _categorical_case(tmp_path):
    rng = np.random.default_rng(0)
    n = 1500
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50, 10, n).round(2),
            "city": rng.choice(["paris", "lyon", "nice", "lille"], n),
        }
    )
    logit = 0.05 * (df["age"] - 50) + (df["city"] == "nice") * 1.5
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    tr, te = df.iloc[:1000], df.iloc[1000:]
    tr.to_csv(tmp_path / "train.csv", index=False)
    te.to_csv(tmp_path / "test.csv", index=False)
    X = tr.drop(columns="y").copy()
    X["city"] = X["city"].astype("category")
    return X, tr


def test_lightgbm_category_dtype_restored_from_a_csv(tmp_path):
    lgb = pytest.importorskip("lightgbm")
    X, tr = _categorical_case(tmp_path)
    model = lgb.LGBMClassifier(n_estimators=30, verbose=-1).fit(X, tr["y"])
    case = build_case(tmp_path / "train.csv", tmp_path / "test.csv", "y", model=model)
    assert isinstance(case.test["city"].dtype, pd.CategoricalDtype)
    assert list(case.test["city"].cat.categories[:4]) == ["lille", "lyon", "nice", "paris"]
    assert any("LightGBM pandas_categorical" in n for n in case.notes)
    pred = Context(case).predictions("test")
    te = case.test.drop(columns="y")
    np.testing.assert_allclose(pred.score, model.predict_proba(te)[:, 1])


def test_xgboost_category_dtype_restored_from_a_csv(tmp_path):
    xgb = pytest.importorskip("xgboost")
    X, tr = _categorical_case(tmp_path)
    model = xgb.XGBClassifier(n_estimators=30, enable_categorical=True, tree_method="hist").fit(X, tr["y"])
    case = build_case(tmp_path / "train.csv", tmp_path / "test.csv", "y", model=model)
    assert isinstance(case.test["city"].dtype, pd.CategoricalDtype)
    Context(case).predictions("test")  # XGBoost refuses text columns: it predicts now


def test_a_model_without_categories_leaves_text_alone(tmp_path):
    X, tr = _categorical_case(tmp_path)
    model = LogisticRegression().fit(X[["age", "income"]], tr["y"])
    case = build_case(tmp_path / "train.csv", tmp_path / "test.csv", "y", model=model)
    assert not isinstance(case.train["city"].dtype, pd.CategoricalDtype)


def test_codes_read_as_numbers_are_given_back_as_text(tmp_path):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({"zip": rng.choice(["01001", "02139", "10001"], n), "x": rng.normal(size=n)})
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(df["x"] + (df["zip"] == "02139") * 2)))).astype(int)
    tr, te = df.iloc[:400], df.iloc[400:]
    ct = ColumnTransformer([("oh", OneHotEncoder(), ["zip"]), ("num", StandardScaler(), ["x"])])
    model = make_pipeline(ct, LogisticRegression()).fit(tr[["zip", "x"]], tr["y"])
    tr.to_csv(tmp_path / "train.csv", index=False)
    te.to_csv(tmp_path / "test.csv", index=False)
    case = build_case(tmp_path / "train.csv", tmp_path / "test.csv", "y", model=model)
    assert set(case.test["zip"]) == {"01001", "02139", "10001"}  # leading zeros kept
    pred = Context(case).predictions("test")
    np.testing.assert_allclose(pred.score, model.predict_proba(te[["zip", "x"]])[:, 1])
