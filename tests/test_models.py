"""One adapter over sklearn estimators, LightGBM, XGBoost, callables and precomputed outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mltriage.case import build_case
from mltriage.context import Context


def _ctx(train, test, **kw):
    return Context(build_case(train, test, "y", **kw))


def test_sklearn_pipeline(binary_case):
    train, test, model = binary_case
    ctx = _ctx(train, test, model=model)
    p = ctx.predictions("test")
    assert p.has_proba and p.proba.shape == (len(test), 2)
    assert set(np.unique(p.label)) <= {0, 1}
    assert ctx.case.features == ["x1", "x2", "x3", "color"] and ctx.case.categorical == ["color"]
    assert ctx.case.task == "binary" and any("task inferred" in n for n in ctx.case.notes)


def test_threshold_in_use_drives_labels(binary_case):
    train, test, model = binary_case
    p = _ctx(train, test, model=model, threshold=0.9).predictions("test")
    assert np.array_equal(p.label, (p.score >= 0.9).astype(int))


def test_lightgbm(binary_case):
    lgb = pytest.importorskip("lightgbm")
    train, test, _ = binary_case
    X = train.drop(columns="y").assign(color=lambda d: d["color"].astype("category"))
    m = lgb.LGBMClassifier(n_estimators=30, verbose=-1).fit(X, train["y"])
    te = test.assign(color=test["color"].astype(pd.CategoricalDtype(X["color"].cat.categories)))
    tr = train.assign(color=X["color"])
    ctx = _ctx(tr, te, model=m)
    assert ctx.case.features == ["x1", "x2", "x3", "color"]
    assert ctx.predictions("test").proba.shape == (len(te), 2)


def test_xgboost(binary_case):
    xgb = pytest.importorskip("xgboost")
    train, test, _ = binary_case
    feats = ["x1", "x2", "x3"]
    m = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(train[feats], train["y"])
    ctx = _ctx(train, test, model=m)
    assert ctx.case.features == feats and "color" in ctx.case.extra_columns
    s = ctx.predictions("test").score
    assert s.min() >= 0 and s.max() <= 1


def test_plain_callable(binary_case):
    train, test, _ = binary_case
    ctx = _ctx(train, test, model=lambda X: (X["x1"] > 0).astype(int).to_numpy(), task="binary")
    p = ctx.predictions("test")
    assert not p.has_proba and set(np.unique(p.label)) <= {0, 1}


def test_precomputed_probabilities(binary_case):
    train, test, model = binary_case
    tr = train.assign(score=model.predict_proba(train.drop(columns="y"))[:, 1])
    te = test.assign(score=model.predict_proba(test.drop(columns="y"))[:, 1])
    ctx = _ctx(tr, te, prediction_column="score", task="binary", threshold=0.3)
    p = ctx.predictions("test")
    assert ctx.case.model.kind == "precomputed" and "score" not in ctx.case.features
    assert p.has_proba and np.array_equal(p.label, (te["score"] >= 0.3).astype(int).to_numpy())


def test_polars_frames(binary_case):
    pl = pytest.importorskip("polars")
    train, test, model = binary_case
    ctx = _ctx(pl.from_pandas(train), pl.from_pandas(test), model=model)
    assert len(ctx.predictions("train").score) == len(train)


def test_regression_and_multiclass_inference():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=300), "y": rng.normal(size=300)})
    assert build_case(df, df, "y").task == "regression"
    df["y"] = rng.integers(0, 4, 300)
    assert build_case(df, df, "y").task == "multiclass"
