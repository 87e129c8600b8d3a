"""SHAP by slice (optional `shap` extra), the mapping of transformed names back to input columns,
and the fallbacks when SHAP cannot run."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from checkhelp import run
from mltriage.case import build_case
from mltriage.checks.error_analysis.slices import underperforming_slice
from mltriage.context import Context
from mltriage.stats.attribution import map_to_inputs, shap_by_slice


def _data(n, rng, planted=True):
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "score": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "plan": pd.Series(rng.choice(["basic", "pro", "team"], n), dtype="str"),
        }
    )
    logit = 1.5 * df["score"] - 0.03 * (df["age"] - 45)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    sl = (df["plan"] == "team").to_numpy() & (df["age"] > 60).to_numpy()
    if planted:
        y[sl] = 1 - y[sl]
    df["y"] = y
    return df, sl


def _pipe(final):
    prep = ColumnTransformer(
        [
            ("num", "passthrough", ["age", "score", "noise"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
        ]
    )
    return Pipeline([("prep", prep), ("model", final)])


def test_map_to_inputs_handles_prefixes_and_one_hot():
    names = ["num__age", "num__score", "cat__plan_basic", "cat__plan_team", "remainder__x", "pca0"]
    assert map_to_inputs(names, ["age", "score", "plan", "plan_code", "x"]) == [
        "age",
        "score",
        "plan",
        "plan",
        "x",
        None,
    ]
    # the longest input column wins (plan_code_1 is plan_code's, not plan's)
    assert map_to_inputs(["cat__plan_code_1"], ["plan", "plan_code"]) == ["plan_code"]


def test_shap_on_pipeline_names_input_columns():
    rng = np.random.default_rng(0)
    df, sl = _data(6000, rng)
    model = _pipe(HistGradientBoostingClassifier(max_iter=60, random_state=0)).fit(
        df[["age", "score", "noise", "plan"]], df["y"]
    )
    # a generous budget: this test is about what SHAP names, never about the machine's speed
    res = shap_by_slice(
        model, df, ["age", "score", "noise", "plan"], [sl], task="binary", positive_index=1, budget_s=60
    )
    assert res["ok"], res
    rows = res["slices"][0]["rows"]
    feats = [r["feature"] for r in rows]
    assert set(feats) <= {"age", "score", "noise", "plan"}
    assert feats.index("noise") > min(feats.index("plan") if "plan" in feats else 9, feats.index("age"))


@pytest.mark.fires("errors.underperforming_slice")
def test_underperforming_slice_attaches_shap_on_warning(monkeypatch):
    rng = np.random.default_rng(1)
    df, _ = _data(12000, rng)
    train, test = df.iloc[:6000].reset_index(drop=True), df.iloc[6000:].reset_index(drop=True)
    keep = ~((train["plan"] == "team") & (train["age"] > 60)) | (rng.uniform(size=len(train)) < 0.05)
    train = train[keep].reset_index(drop=True)
    model = _pipe(HistGradientBoostingClassifier(max_iter=60, random_state=0)).fit(
        train[["age", "score", "noise", "plan"]], train["y"]
    )
    ctx = Context(build_case(train, test, "y", task="binary", model=model, categorical=["plan"]))
    warn = [f for f in run(underperforming_slice, ctx) if f.severity.value == "warning"]
    assert warn
    ev = warn[0].evidence
    assert ev["attribution_method"].startswith("SHAP"), ev["attribution_method"]
    assert {r["feature"] for r in ev["attribution"]} <= {"age", "score", "noise", "plan"}
    # without shap: the same run falls back and says why
    monkeypatch.setitem(sys.modules, "shap", None)
    ctx2 = Context(build_case(train, test, "y", task="binary", model=model, categorical=["plan"]))
    warn2 = [f for f in run(underperforming_slice, ctx2) if f.severity.value == "warning"]
    assert warn2 and "shap" in warn2[0].evidence["attribution_method"]
    assert warn2[0].evidence["attribution_method"].startswith("standardised differences")
    assert "attribution" not in warn2[0].evidence and warn2[0].evidence["distinguishing_features"]


def test_shap_falls_back_for_non_tree_models_and_on_failure():
    rng = np.random.default_rng(2)
    df, sl = _data(3000, rng)
    lin = _pipe(LogisticRegression(max_iter=500)).fit(df[["age", "score", "noise", "plan"]], df["y"])
    res = shap_by_slice(lin, df, ["age", "score", "noise", "plan"], [sl], task="binary")
    assert not res["ok"] and "not a tree model" in res["reason"]
    tree = _pipe(HistGradientBoostingClassifier(max_iter=20)).fit(
        df[["age", "score", "noise", "plan"]], df["y"]
    )
    bad = shap_by_slice(tree, df, ["age", "score", "missing_column"], [sl], task="binary")
    assert not bad["ok"] and bad["reason"].startswith("SHAP failed")


@pytest.mark.parametrize("lib", ["lightgbm", "xgboost"])
def test_shap_on_boosting_libraries(lib):
    pytest.importorskip(lib)
    rng = np.random.default_rng(3)
    df, sl = _data(4000, rng)
    X = df[["age", "score", "noise"]]
    if lib == "lightgbm":
        from lightgbm import LGBMClassifier

        m = LGBMClassifier(n_estimators=40, verbose=-1).fit(X, df["y"])
    else:
        from xgboost import XGBClassifier

        m = XGBClassifier(n_estimators=40, max_depth=3).fit(X, df["y"])
    res = shap_by_slice(m, df, ["age", "score", "noise"], [sl], task="binary", positive_index=1)
    assert res["ok"], res
    assert {r["feature"] for r in res["slices"][0]["rows"]} <= {"age", "score", "noise"}


def test_shap_sample_size_does_not_depend_on_the_clock(monkeypatch):
    """Issue 9 item 14: the rows explained are set by the model's size, not by how fast the
    machine is at the moment; a clock that jumps 100 s per reading changes nothing."""
    import itertools
    import time as _time

    from lightgbm import LGBMClassifier

    rng = np.random.default_rng(3)
    df, sl = _data(4000, rng)
    X = df[["age", "score", "noise"]]
    m = LGBMClassifier(n_estimators=40, verbose=-1).fit(X, df["y"])
    args = (m, df, ["age", "score", "noise"], [sl])
    calm = shap_by_slice(*args, task="binary", positive_index=1)
    ticks = itertools.count(0.0, 100.0)
    monkeypatch.setattr(_time, "perf_counter", lambda: next(ticks))
    busy = shap_by_slice(*args, task="binary", positive_index=1)
    assert calm["ok"] and busy["ok"], (calm, busy)
    assert calm["rows"] == busy["rows"] and calm["method"] == busy["method"]
    assert calm["slices"] == busy["slices"]
