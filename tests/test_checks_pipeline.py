"""The pipeline rung: each check fires on a planted problem and stays silent without it
(preprocessing leakage and version mismatch from the saved artifact; train/serving skew and
serialization mismatch from a production batch)."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

import checkhelp
from conftest import make_binary
from mltriage.case import build_case
from mltriage.checks.pipeline.artifact import preprocessing_leakage, version_mismatch
from mltriage.checks.pipeline.serialization import serialization_mismatch
from mltriage.checks.pipeline.skew import train_serving_skew
from mltriage.context import Context
from mltriage.errors import InputError
from mltriage.registry import NotApplicable


def _data(n=400, seed=0, test_category=False):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"a": rng.normal(50, 10, n), "b": rng.exponential(3, n), "c": rng.choice(["x", "y"], n)}
    )
    df.loc[rng.random(n) < 0.05, "a"] = np.nan
    logit = 0.08 * (df["a"].fillna(50) - 50) + 0.3 * df["b"] - 1
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    train, test = df.iloc[: n * 3 // 4].reset_index(drop=True), df.iloc[n * 3 // 4 :].reset_index(drop=True)
    if test_category:
        test.loc[:9, "c"] = "z"
    return train, test


def _pipe():
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["a", "b"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["c"]),
        ]
    )
    return Pipeline([("prep", ct), ("model", LogisticRegression())])


def _ctx(train, test, model):
    return Context(build_case(train, test, "y", model=model, task="binary"))


def _run(fn, ctx, **over):
    """The check's one finding (or None), run through the registry."""
    found = checkhelp.run(fn, ctx, **over)
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.fires("pipeline.preprocessing_leakage", severity="critical")
def test_preprocessing_leakage_fires_when_fitted_on_train_and_test():
    train, test = _data()
    both = pd.concat([train, test], ignore_index=True)
    model = _pipe().fit(both[["a", "b", "c"]], both["y"])
    f = _run(preprocessing_leakage, _ctx(train, test, model))
    assert f is not None and f.severity.value == "critical"
    assert {"a", "b"} & set(f.columns)
    assert f.evidence["train_rows"] == len(train)


@pytest.mark.fires("pipeline.preprocessing_leakage")
def test_preprocessing_leakage_names_test_only_categories():
    train, test = _data(test_category=True)
    both = pd.concat([train, test], ignore_index=True)
    ct = ColumnTransformer(
        [("num", "passthrough", ["a", "b"]), ("cat", OneHotEncoder(handle_unknown="ignore"), ["c"])]
    )
    model = Pipeline(
        [("prep", ct), ("imp", SimpleImputer(strategy="median")), ("model", LogisticRegression())]
    )
    # the encoder alone is fitted on all rows; the rest on train
    model.fit(train[["a", "b", "c"]], train["y"])
    model.named_steps["prep"].named_transformers_["cat"].fit(both[["c"]])
    f = _run(preprocessing_leakage, _ctx(train, test, model))
    assert f is not None and f.severity.value in ("warning", "critical")
    assert "c" in f.columns
    assert any("z" in r for r in f.evidence["reasons"])


@pytest.mark.fires("pipeline.preprocessing_leakage", severity="critical")
def test_preprocessing_leakage_fires_when_predictions_depend_on_the_batch():
    """Wine data, numeric columns standardised by each batch's own mean and sd at predict time
    (FunctionTransformer(scale)): a row's prediction changes with the rows beside it."""
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import FunctionTransformer, scale

    X, y = load_wine(return_X_y=True, as_frame=True)
    df = X.assign(y=(y == 0).astype(int)).sample(frac=1, random_state=0).reset_index(drop=True)
    train, test = df.iloc[:120].reset_index(drop=True), df.iloc[120:].reset_index(drop=True)
    feats = list(X.columns)
    model = Pipeline([("prep", FunctionTransformer(scale)), ("model", LogisticRegression(max_iter=500))])
    model.fit(train[feats], train["y"])
    f = _run(preprocessing_leakage, _ctx(train, test, model))
    assert f is not None and f.severity.value == "critical" and "batch" in f.title
    assert f.evidence["changed_share"] > 0.5 and f.evidence["same_batch_twice_identical"]


@pytest.mark.silent("pipeline.preprocessing_leakage")
def test_preprocessing_leakage_silent_on_a_row_wise_function_transformer():
    """A FunctionTransformer that works row by row (log1p), then a scaler fitted on the training
    rows: nothing depends on the batch."""
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import FunctionTransformer

    X, y = load_wine(return_X_y=True, as_frame=True)
    df = X.assign(y=(y == 0).astype(int)).sample(frac=1, random_state=1).reset_index(drop=True)
    train, test = df.iloc[:120].reset_index(drop=True), df.iloc[120:].reset_index(drop=True)
    feats = list(X.columns)
    model = Pipeline(
        [
            ("log", FunctionTransformer(np.log1p)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(max_iter=500)),
        ]
    )
    model.fit(train[feats], train["y"])
    assert _run(preprocessing_leakage, _ctx(train, test, model)) is None


@pytest.mark.silent("pipeline.preprocessing_leakage")
def test_preprocessing_leakage_silent_when_fitted_on_train():
    train, test = _data()
    model = _pipe().fit(train[["a", "b", "c"]], train["y"])
    assert _run(preprocessing_leakage, _ctx(train, test, model)) is None


@pytest.mark.silent("pipeline.preprocessing_leakage")
def test_preprocessing_leakage_subsample_is_not_leakage():
    train, test = _data()
    sample = train.sample(150, random_state=0)
    model = Pipeline(
        [("scale", MinMaxScaler()), ("imp", SimpleImputer()), ("model", LogisticRegression())]
    ).fit(sample[["a", "b"]], sample["y"])
    f = _run(preprocessing_leakage, _ctx(train[["a", "b", "y"]], test[["a", "b", "y"]], model))
    assert f is None or f.severity.value == "info"


def test_preprocessing_leakage_not_applicable_without_pipeline():
    train, test = _data()
    model = LogisticRegression().fit(train[["b"]], train["y"])
    with pytest.raises(NotApplicable):
        _run(preprocessing_leakage, _ctx(train[["b", "y"]], test[["b", "y"]], model))


def _dump_with_version(model, path, version):
    import sklearn.base

    real = sklearn.base.__version__
    sklearn.base.__version__ = version
    try:
        joblib.dump(model, path)
    finally:
        sklearn.base.__version__ = real


@pytest.mark.fires("pipeline.version_mismatch")
def test_version_mismatch_fires_on_minor_difference(tmp_path):
    train, test = _data()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(train[["a", "b"]].fillna(0), train["y"])
    path = tmp_path / "old.joblib"
    _dump_with_version(model, path, "1.0.2")
    tr, te = train[["a", "b", "y"]].fillna(0), test[["a", "b", "y"]].fillna(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = _ctx(tr, te, str(path))
    f = _run(version_mismatch, ctx)
    assert f is not None and f.severity.value == "warning"
    assert f.evidence["table"][0]["saved_with"] == "1.0.2"


@pytest.mark.fires("pipeline.version_mismatch", severity="info")
def test_version_mismatch_patch_level_is_info():
    import sklearn

    train, test = _data()
    tr, te = train[["a", "b", "y"]].fillna(0), test[["a", "b", "y"]].fillna(0)
    model = LogisticRegression().fit(tr[["a", "b"]], tr["y"])
    ctx = _ctx(tr, te, model)
    major, minor = sklearn.__version__.split(".")[:2]
    ctx.case.model.load_warnings = [
        {
            "category": "InconsistentVersionWarning",
            "message": f"Trying to unpickle estimator LogisticRegression from version {major}.{minor}.99 "
            f"when using version {sklearn.__version__}.",
            "original_sklearn_version": f"{major}.{minor}.99",
            "current_sklearn_version": sklearn.__version__,
        }
    ]
    f = _run(version_mismatch, ctx)
    assert f is not None and f.severity.value == "info"


@pytest.mark.silent("pipeline.version_mismatch")
def test_version_mismatch_silent_for_same_version(tmp_path):
    train, test = _data()
    tr, te = train[["a", "b", "y"]].fillna(0), test[["a", "b", "y"]].fillna(0)
    path = tmp_path / "same.joblib"
    joblib.dump(LogisticRegression().fit(tr[["a", "b"]], tr["y"]), path)
    assert _run(version_mismatch, _ctx(tr, te, str(path))) is None


# ---------------------------------------------------------------- from a production batch


@pytest.fixture(scope="module")
def fresh():
    """A new batch from the same population (with labels)."""
    return make_binary(2000, seed=11)


def _batch_ctx(binary_case, current, **kw):
    train, test, model = binary_case
    case = build_case(
        train, test, "y", task="binary", model=model, current=current, categorical=["color"], **kw
    )
    return Context(case)


@pytest.mark.fires("pipeline.train_serving_skew", severity="critical")
def test_train_serving_skew_unit_change(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["x3"] = cur["x3"] * 1000
    f = checkhelp.run(train_serving_skew, _batch_ctx(binary_case, cur))
    assert len(f) == 1 and f[0].columns == ["x3"]
    assert f[0].evidence["inferred"]["transform"]["factor"] == 1000
    assert "do not retrain" in f[0].fix


@pytest.mark.fires("pipeline.train_serving_skew")
def test_train_serving_skew_text_case(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["color"] = cur["color"].str.upper()
    f = checkhelp.run(train_serving_skew, _batch_ctx(binary_case, cur))
    assert len(f) == 1 and f[0].columns == ["color"]
    assert f[0].evidence["inferred"]["kind"] == "text_normalisation"


@pytest.mark.silent("pipeline.train_serving_skew")
def test_train_serving_skew_silent_on_real_shift(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["x3"] = cur["x3"] * 1.8  # a real change, no unit
    assert checkhelp.run(train_serving_skew, _batch_ctx(binary_case, cur)) == []


def test_train_serving_skew_uses_its_own_parameters(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["x3"] = cur["x3"] * 1000  # PSI far above any threshold; undone, it matches
    ctx = _batch_ctx(binary_case, cur)
    assert checkhelp.run(train_serving_skew, ctx, skew_min_psi=1000.0) == []
    assert len(checkhelp.run(train_serving_skew, ctx)) == 1


@pytest.mark.fires("pipeline.serialization_mismatch", severity="critical")
def test_serialization_mismatch(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    p = binary_case[2].predict_proba(cur)[:, 1]
    cur["logged"] = np.clip(p + np.random.default_rng(0).normal(0, 0.05, len(p)), 0, 1)
    f = checkhelp.run(serialization_mismatch, _batch_ctx(binary_case, cur, prediction_column="logged"))
    assert len(f) == 1 and f[0].evidence["mismatch_share"] > 0.5 and f[0].evidence["examples"]


@pytest.mark.silent("pipeline.serialization_mismatch")
def test_serialization_float32_logging_is_not_a_mismatch(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["logged"] = binary_case[2].predict_proba(cur)[:, 1].astype(np.float32)
    assert (
        checkhelp.run(serialization_mismatch, _batch_ctx(binary_case, cur, prediction_column="logged")) == []
    )


def test_serialization_wrong_typed_column(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["logged"] = "n/a"
    with pytest.raises(InputError, match="neither scores nor class labels"):
        checkhelp.run(serialization_mismatch, _batch_ctx(binary_case, cur, prediction_column="logged"))


@pytest.mark.fires("pipeline.train_serving_skew", severity="critical")
def test_train_serving_skew_swapped_columns(binary_case, fresh):
    # glue code that builds the serving vector by position: x1 and x3 arrive exchanged
    cur = fresh.drop(columns="y").copy()
    cur["x1"], cur["x3"] = fresh["x3"].to_numpy(), fresh["x1"].to_numpy()
    f = checkhelp.run(train_serving_skew, _batch_ctx(binary_case, cur))
    assert sorted(c for x in f for c in x.columns) == ["x1", "x3"]
    assert {x.evidence["inferred"]["kind"] for x in f} == {"swapped"}
    assert f[0].evidence["inferred"]["transform"]["with"] in ("x1", "x3")


@pytest.mark.silent("pipeline.train_serving_skew")
def test_train_serving_skew_silent_when_two_columns_move(binary_case, fresh):
    # both columns shifted by a real change: neither lands on the other's training distribution
    cur = fresh.drop(columns="y").copy()
    cur["x1"] = cur["x1"] + 2.5
    cur["x3"] = cur["x3"] * 1.6
    assert checkhelp.run(train_serving_skew, _batch_ctx(binary_case, cur)) == []


@pytest.mark.fires("pipeline.train_serving_skew", severity="critical")
def test_train_serving_skew_in_one_sources_rows(binary_case, fresh):
    # Foidl et al.'s "Unit Inconsistency": the rows of one source (color == 'red') arrive x1000
    cur = fresh.drop(columns="y").copy()
    red = cur["color"] == "red"
    cur.loc[red, "x3"] = cur.loc[red, "x3"] * 1000
    f = checkhelp.run(train_serving_skew, _batch_ctx(binary_case, cur))
    assert len(f) == 1 and f[0].columns == ["x3"]
    t = f[0].evidence["inferred"]["transform"]
    assert t["where"] == {"column": "color", "value": "red"} and t["type"] in ("scale", "affine")
    assert "color == 'red'" in f[0].title


@pytest.mark.silent("pipeline.train_serving_skew")
def test_train_serving_skew_silent_when_one_sources_population_moves(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    red = cur["color"] == "red"
    cur.loc[red, "x3"] = cur.loc[red, "x3"] + 4.0  # that source's population moved, no unit
    assert checkhelp.run(train_serving_skew, _batch_ctx(binary_case, cur)) == []
