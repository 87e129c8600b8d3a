"""`mltriage latency`: per batch size, per step, threads, the target at a rate, measured options.

Latency is measured on the wall clock: no test asserts a timing. The targets are generous (a model
that meets 1000 ms against one that cannot meet 0.001 ms) and the slow step sleeps 20 ms per call
against a model that takes well under one."""

from __future__ import annotations

import json
import time

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from typer.testing import CliRunner

from mltriage.cli import app
from mltriage.commands.latency import latency
from mltriage.errors import InputError
from mltriage.stats.queueing import simulate

runner = CliRunner()
# short measurements: these tests check the workflow, not the machine
FAST = [
    "latency.target_missed.budget_s=0.05",
    "latency.target_missed.min_reps=5",
    "latency.target_missed.threads=1",
    "latency.target_missed.sim_requests=2000",
    "latency.target_missed.refit_rows=1500",
    "latency.slow_step.step_reps=5",
]


def sleepy(X):
    """A preprocessing step with a fixed cost per call (20 ms)."""
    time.sleep(0.02)
    return X


def rows(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.choice(["x", "y", "z"], size=n),
        }
    )
    df["y"] = (df["a"] + 0.5 * df["b"] + (df["c"] == "x") + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    return df


def pre():
    return ColumnTransformer([("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(), ["c"])])


@pytest.fixture(scope="module")
def data():
    return rows()


@pytest.fixture(scope="module")
def boosted(data):
    X = data.drop(columns="y")
    return make_pipeline(pre(), HistGradientBoostingClassifier(max_iter=40, random_state=0)).fit(X, data["y"])


@pytest.fixture(scope="module")
def sleeper(data):
    X = data.drop(columns="y")
    return make_pipeline(pre(), FunctionTransformer(sleepy), LogisticRegression()).fit(X, data["y"])


@pytest.fixture(scope="module")
def forest_regressor(data):
    X = data[["a", "b"]]
    return make_pipeline(
        StandardScaler(), RandomForestRegressor(n_estimators=150, random_state=0, n_jobs=1)
    ).fit(X, data["a"] * 2 + data["b"])


@pytest.mark.fires("latency.target_missed")
def test_a_target_no_model_can_meet_is_missed_with_measured_options(boosted, data):
    rep = latency(boosted, data, target="y", target_p99_ms=0.001, set_params=FAST)
    f = next(f for f in rep.findings if f.code == "latency.target_missed")
    assert f.severity.value == "warning"
    d = rep.details
    assert [r["batch"] for r in d["latency"]] == [1, 8, 64, 512]  # 4096 > the 3,000 rows
    options = {r["option"] for r in d["options"]}
    assert {"current", "smaller model", "surrogate"} <= options
    smaller = [r for r in d["options"] if r["option"] == "smaller model"]
    assert all(r["accuracy_change"] is not None and r["p99_ms"] is not None for r in smaller)
    assert [r["rank"] for r in d["options"]] == sorted(r["rank"] for r in d["options"])
    assert d["overhead"]["model_s"] > 0 and d["overhead"]["wall_s"] >= d["overhead"]["model_s"]
    assert d["thread_pools"]["cores"] >= 1


@pytest.mark.silent("latency.target_missed")
def test_a_generous_target_is_met(boosted, data):
    rep = latency(boosted, data, target_p99_ms=1000, set_params=FAST)
    assert "latency.target_missed" in rep.passed
    smaller = next(r for r in rep.details["options"] if r["option"] == "smaller model")
    assert "target" in smaller["change"]  # not measured without --target: said so
    sur = [r for r in rep.details["options"] if r["option"] == "surrogate"]
    assert sur and all(r["accuracy_change"] is None and r["fidelity"] is not None for r in sur)


@pytest.mark.fires("latency.target_missed")
def test_a_rate_beyond_the_machine_is_unservable_and_batching_is_measured(boosted, data):
    rep = latency(boosted, data, target_p99_ms=1000, qps=1e6, set_params=FAST)
    f = next(f for f in rep.findings if f.code == "latency.target_missed")
    assert "cannot serve" in f.title
    assert rep.details["queue"]["stable"] is False
    assert [r["max_batch"] for r in rep.details["batching"]] == [1, 8, 64, 512]


@pytest.mark.fires("latency.slow_step")
def test_a_preprocessing_step_that_dominates_is_named(sleeper, data):
    rep = latency(sleeper, data.drop(columns="y"), set_params=FAST)
    f = next(f for f in rep.findings if f.code == "latency.slow_step")
    assert f.evidence["step"] == "functiontransformer"
    assert "latency.target_missed" in {x["code"] for x in rep.not_applicable}  # no target given


@pytest.mark.silent("latency.slow_step")
def test_a_model_that_dominates_its_pipeline_is_not_a_slow_step(forest_regressor, data):
    rep = latency(forest_regressor, data[["a", "b"]], target_p99_ms=1000, set_params=FAST)
    assert "latency.slow_step" in rep.passed
    assert rep.case["task"] == "regression"
    assert any(r["option"] == "smaller model" for r in rep.details["options"])


def test_a_linear_model_has_no_smaller_model_of_its_family(data):
    X = data.drop(columns="y")
    m = make_pipeline(pre(), LogisticRegression()).fit(X, data["y"])
    rep = latency(m, data, target="y", target_p99_ms=1000, set_params=FAST)
    smaller = next(r for r in rep.details["options"] if r["option"] == "smaller model")
    assert smaller["applicable"] is False and "not applicable" in smaller["change"]


def test_queueing_estimate_grows_with_the_rate_and_batching_absorbs_it():
    calls = {1: np.full(50, 0.002), 8: np.full(50, 0.004)}  # 2 ms per row alone, 0.5 ms batched
    light = simulate(calls, 100, requests=5000)
    heavy = simulate(calls, 450, requests=5000)
    batched = simulate(calls, 450, max_batch=8, requests=5000)
    assert light.stable and light.p99_ms < heavy.p99_ms
    assert batched.p99_ms < heavy.p99_ms and batched.mean_batch > 1
    assert not simulate(calls, 1000, requests=5000).stable


def test_bad_input_names_the_problem(boosted, data):
    with pytest.raises(InputError, match="--qps needs"):
        latency(boosted, data, qps=100)
    with pytest.raises(InputError, match="positive"):
        latency(boosted, data, target_p99_ms=-1)
    with pytest.raises(InputError, match="lacks"):
        latency(boosted, data[["a", "b"]])
    with pytest.raises(InputError, match="target column"):
        latency(boosted, data, target="nope")


# ------------------------------------------------------------------------------ the command line


@pytest.fixture(scope="module")
def files(tmp_path_factory, boosted, data):
    d = tmp_path_factory.mktemp("latency")
    data.to_parquet(d / "rows.parquet")
    joblib.dump(boosted, d / "model.joblib")
    return d


def _cli(files, *extra):
    sets = [x for s in FAST for x in ("--set", s)]
    return runner.invoke(
        app,
        [
            "latency",
            "--model",
            str(files / "model.joblib"),
            "--data",
            str(files / "rows.parquet"),
            *sets,
            *extra,
        ],
    )


@pytest.mark.fires("latency.target_missed")
def test_cli_missed_target_exits_1_with_fail_on_warning(files, tmp_path):
    out = tmp_path / "lat.json"
    res = _cli(files, "--target", "y", "--target-p99-ms", "0.001", "--fail-on", "warning", "--json", str(out))
    assert res.exit_code == 1, res.output
    doc = json.loads(out.read_text())
    assert doc["command"] == "latency" and doc["details"]["options"]
    assert "options, measured" in res.output


@pytest.mark.silent("latency.target_missed")
def test_cli_met_target_exits_0(files):
    res = _cli(
        files, "--target-p99-ms", "1000", "--fail-on", "warning", "--ignore", "latency.slow_step", "-q"
    )
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    "extra, message",
    [(["--qps", "10"], "--qps needs"), (["--target-p99-ms", "0"], "positive"), (["--target", "zz"], "zz")],
)
def test_cli_bad_input_exits_2(files, extra, message):
    res = _cli(files, *extra)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_cli_missing_model_exits_2(files):
    res = runner.invoke(app, ["latency", "--model", "nope.joblib", "--data", str(files / "rows.parquet")])
    assert res.exit_code == 2 and "does not exist" in res.output
