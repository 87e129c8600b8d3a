"""Error-analysis checks: each fires on a small synthetic case built for it and stays silent on a
healthy one."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression

from mltriage.case import build_case
from mltriage.checks import errors as er
from mltriage.context import Context
from mltriage.registry import Params


def run(fn, ctx, **over):
    p = Params(dict(fn.check.params))
    p.update(over)
    out = fn(ctx, p)
    if out is None:
        return []
    return [out] if not isinstance(out, list) else out


def alarms(findings):
    return [f for f in findings if f.severity.value != "info"]


def jaccard(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


def _frame(n, rng):
    return pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                         "region": pd.Series(rng.choice(["north", "south", "east", "west"], n), dtype="str")})


def _in_slice(df):
    return (df["region"] == "north").to_numpy() & (df["x2"] > 0.5).to_numpy()


def binary_case(planted: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    df = _frame(12000, rng)
    logit = 2.5 * df["x1"] - 1.0 * df["x2"]
    y = (rng.uniform(size=len(df)) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    sl = _in_slice(df)
    if planted:   # the opposite rule in the slice, and the slice is rare in training
        y[sl] = 1 - y[sl]
    df["y"] = y
    train, test = df.iloc[:6000], df.iloc[6000:].reset_index(drop=True)
    if planted:
        tsl = _in_slice(train)
        keep = ~tsl | (rng.uniform(size=len(train)) < 0.05)
        train = train[keep]
    train = train.reset_index(drop=True)
    X = pd.get_dummies(train[["x1", "x2", "region"]], dtype=float)
    model = _DummyPipe(LogisticRegression(max_iter=500).fit(X, train["y"]), list(X.columns))
    case = build_case(train, test, "y", task="binary", model=model, categorical=["region"])
    return Context(case), test


class _DummyPipe:
    """One-hot inside predict, so the model takes the raw frame's columns."""

    def __init__(self, m, cols):
        self.m, self.cols = m, cols
        self.classes_ = m.classes_
        self.feature_names_in_ = np.array(["x1", "x2", "region"], dtype=object)

    def _X(self, df):
        return pd.get_dummies(df[["x1", "x2", "region"]], dtype=float).reindex(columns=self.cols, fill_value=0.0)

    def predict_proba(self, df):
        return self.m.predict_proba(self._X(df))

    def predict(self, df):
        return self.m.predict(self._X(df))


def test_underperforming_slice_fires_on_planted_slice():
    ctx, test = binary_case(planted=True)
    f = alarms(run(er.underperforming_slice, ctx))
    assert f, "planted slice not reported"
    assert f[0].code == "errors.underperforming_slice"
    from mltriage.stats.slices import slice_mask
    assert jaccard(slice_mask(test, f[0].slice), _in_slice(test)) >= 0.5
    ev = f[0].evidence
    assert ev["slice_error"] > ev["rest_error"] and ev["p_value"] < 0.05
    assert ev["distinguishing_features"] and "root_cause_category" in ev
    assert ev["slice_share_of_train"] < ev["slice_share"]


def test_underperforming_slice_silent_on_healthy_model():
    ctx, _ = binary_case(planted=False)
    assert alarms(run(er.underperforming_slice, ctx)) == []


def regression_case(planted: bool, seed: int = 1):
    rng = np.random.default_rng(seed)
    df = _frame(10000, rng)
    y = 3 * df["x1"].to_numpy() + 1.0 * df["x2"].to_numpy() + rng.normal(scale=0.5, size=len(df))
    sl = _in_slice(df)
    if planted:
        y[sl] = y[sl] + 6.0
    df["y"] = y
    train, test = df.iloc[:5000], df.iloc[5000:].reset_index(drop=True)
    if planted:
        train = train[~_in_slice(train) | (rng.uniform(size=len(train)) < 0.05)]
    train = train.reset_index(drop=True)
    model = LinearRegression().fit(train[["x1", "x2"]], train["y"])
    case = build_case(train, test, "y", task="regression", model=model, categorical=["region"])
    return Context(case), test


def test_underperforming_slice_regression():
    ctx, test = regression_case(planted=True)
    f = alarms(run(er.underperforming_slice, ctx))
    assert f
    from mltriage.stats.slices import slice_mask
    assert jaccard(slice_mask(test, f[0].slice), _in_slice(test)) >= 0.5
    # region is not a model feature: the root cause says so
    assert "region" in f[0].root_cause or f[0].evidence["root_cause_category"] in ("features", "data")
    ctx, _ = regression_case(planted=False)
    assert alarms(run(er.underperforming_slice, ctx)) == []


def multiclass_case(confused: bool, seed: int = 2):
    rng = np.random.default_rng(seed)
    n = 6000
    y = rng.choice(["A", "B", "C", "D"], n)
    centers = {"A": (0, 0), "B": (4, 0), "C": (0, 4), "D": (0.0, 4.0) if confused else (4, 4)}
    X = np.array([centers[v] for v in y]) + rng.normal(scale=0.8, size=(n, 2))
    df = pd.DataFrame({"f1": X[:, 0], "f2": X[:, 1], "y": y})
    train, test = df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)
    model = LogisticRegression(max_iter=1000).fit(train[["f1", "f2"]], train["y"])
    return Context(build_case(train, test, "y", task="multiclass", model=model))


def test_confused_classes_fires_on_indistinguishable_pair():
    f = run(er.confused_classes, multiclass_case(True))
    warn = alarms(f)
    assert warn and sorted(map(str, warn[0].classes)) == ["C", "D"]
    info = [x for x in f if x.severity.value == "info"][0]
    assert {r["class"] for r in info.evidence["per_class"]} == {"A", "B", "C", "D"}
    assert len(info.evidence["confusion_matrix"]) == 4


def test_confused_classes_silent_when_classes_separate():
    f = run(er.confused_classes, multiclass_case(False))
    assert alarms(f) == [] and f   # the per-class table is still there, as info


def test_confused_classes_cost_table_binary():
    ctx, _ = binary_case(planted=False)
    ctx.case.cost = {"fp": 1.0, "fn": 10.0}
    f = run(er.confused_classes, ctx)
    cost = f[-1].evidence["cost"]
    assert cost["cost_optimal_threshold"] < 0.5
    assert cost["expected_cost_at_optimum"] <= cost["expected_cost_per_row"]


def test_high_confidence_errors_fires_on_cluster_and_not_on_healthy():
    ctx, test = binary_case(planted=True)
    f = alarms(run(er.high_confidence_errors, ctx))
    assert f and f[0].slice
    from mltriage.stats.slices import slice_mask
    m = slice_mask(test, f[0].slice)
    # confident mistakes are the part of the planted slice far from the boundary: inside it
    assert (m & _in_slice(test)).sum() / m.sum() >= 0.8
    ctx, _ = binary_case(planted=False)
    assert alarms(run(er.high_confidence_errors, ctx)) == []
