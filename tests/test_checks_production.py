"""The production rung: each check fires on a planted problem and stays silent without it;
`mltriage drift` / `mltriage profile` and their bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import make_binary
from mltriage.case import build_case
from mltriage.cli import app
from mltriage.context import Context
from mltriage.errors import InputError
from mltriage.registry import Params, load_all

runner = CliRunner()


def run(code, case, **params):
    chk = load_all()[code]
    out = chk.fn(Context(case), chk.resolve(params))
    if out is None:
        return []
    return [out] if not isinstance(out, list) else out


def case_with(binary_case, current, **kw):
    train, test, model = binary_case
    return build_case(
        train, test, "y", task="binary", model=model, current=current, categorical=["color"], **kw
    )


@pytest.fixture(scope="module")
def fresh():
    """A new batch from the same population (with labels)."""
    return make_binary(2000, seed=11)


# ---------------------------------------------------------------- data drift


def test_data_drift_fires_and_ranks(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["x1"] = cur["x1"] + 1.5  # important feature
    cur["x3"] = cur["x3"] * 0.5 + 5  # less important
    f = run("production.data_drift", case_with(binary_case, cur))
    assert len(f) == 1 and f[0].severity.value == "critical"
    assert set(f[0].columns) == {"x1", "x3"}
    assert f[0].columns[0] == "x1"  # ranked by importance to the model
    assert "retrain" in f[0].fix
    assert f[0].evidence["multivariate"]["auc"] > 0.7


def test_data_drift_silent_on_same_population(binary_case, fresh):
    assert run("production.data_drift", case_with(binary_case, fresh.drop(columns="y"))) == []


# ---------------------------------------------------------------- prediction drift


def test_prediction_drift(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["x1"] = cur["x1"] + 1.5
    f = run("production.prediction_drift", case_with(binary_case, cur))
    assert (
        len(f) == 1
        and f[0].evidence["positive_rate"]["current"] > f[0].evidence["positive_rate"]["reference"]
    )
    assert run("production.prediction_drift", case_with(binary_case, fresh.drop(columns="y"))) == []


# ---------------------------------------------------------------- concept drift


def test_concept_drift_fires_with_stable_inputs(binary_case, fresh):
    cur = fresh.copy()
    rng = np.random.default_rng(0)
    flip = (cur["color"] == "red").to_numpy() | (rng.random(len(cur)) < 0.15)
    cur.loc[flip, "y"] = 1 - cur.loc[flip, "y"]  # same inputs, another outcome
    f = run("production.concept_drift", case_with(binary_case, cur))
    assert len(f) == 1 and f[0].severity.value == "critical"
    ev = f[0].evidence
    assert ev["drop"] >= 0.05 and ev["drop_interval"][0] > 0
    assert ev["inputs"]["moved_important_features"] == []


def test_concept_drift_silent_when_labels_hold(binary_case, fresh):
    assert run("production.concept_drift", case_with(binary_case, fresh)) == []


# ---------------------------------------------------------------- estimated performance


def test_estimated_performance_drop_on_uncertain_rows(binary_case):
    train, test, model = binary_case
    pool = make_binary(30000, seed=21)
    p = model.predict_proba(pool.drop(columns="y"))[:, 1]
    cur = pool[(p > 0.35) & (p < 0.65)].drop(columns="y").head(2000)  # where the model is unsure
    f = run("production.estimated_performance_drop", case_with(binary_case, cur))
    assert len(f) == 1
    ev = f[0].evidence
    assert ev["estimate"] < ev["reference"] - 0.05 and ev["interval"][1] < ev["reference"]


def test_estimated_performance_silent_on_same_population(binary_case, fresh):
    assert run("production.estimated_performance_drop", case_with(binary_case, fresh.drop(columns="y"))) == []


def test_estimated_performance_regression_dle():
    rng = np.random.default_rng(0)

    def make(n, lo=0, hi=10):
        x = rng.uniform(lo, hi, n)
        z = rng.normal(size=n)
        y = np.sin(x) * 3 + z + rng.normal(0, 0.3 + (x > 8) * 3.0, n)  # noisy above 8
        return pd.DataFrame({"x": x, "z": z, "y": y})

    from sklearn.ensemble import HistGradientBoostingRegressor

    tr, te = make(4000), make(3000)
    m = HistGradientBoostingRegressor(max_iter=60).fit(tr[["x", "z"]], tr["y"])
    hard = make(1500, 8, 10).drop(columns="y")
    case = build_case(tr, te, "y", task="regression", model=m, current=hard)
    f = run("production.estimated_performance_drop", case)
    assert len(f) == 1 and f[0].evidence["metric"] == "mae"
    easy = make(1500).drop(columns="y")
    assert (
        run(
            "production.estimated_performance_drop",
            build_case(tr, te, "y", task="regression", model=m, current=easy),
        )
        == []
    )


# ---------------------------------------------------------------- schema


def test_schema_change_rename_type_new_category(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur = cur.rename(columns={"x2": "x2_v2"})
    cur["x3"] = cur["x3"].round(3).astype(str)
    cur.loc[cur.index[:200], "color"] = "purple"
    f = run("production.schema_change", case_with(binary_case, cur))
    assert len(f) == 1 and f[0].severity.value == "critical"
    kinds = {i["kind"] for i in f[0].evidence["issues"]}
    assert kinds == {"renamed", "type", "new_categories"}
    assert {"x2", "x2_v2", "x3", "color"} <= set(f[0].columns)
    ren = next(i for i in f[0].evidence["issues"] if i["kind"] == "renamed")
    assert ren["columns"] == ["x2", "x2_v2"]  # the rename inferred from values
    assert "do not retrain" in f[0].fix


def test_schema_change_silent(binary_case, fresh):
    assert run("production.schema_change", case_with(binary_case, fresh.drop(columns="y"))) == []


# ---------------------------------------------------------------- out of distribution


def test_out_of_distribution(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur.loc[cur.index[:60], "x3"] = 250.0  # training range is [0, 10]
    f = run("production.out_of_distribution", case_with(binary_case, cur))
    assert len(f) == 1 and f[0].columns == ["x3"]
    assert f[0].evidence["rows"] == 60 and f[0].evidence["examples"]
    assert run("production.out_of_distribution", case_with(binary_case, fresh.drop(columns="y"))) == []


# ---------------------------------------------------------------- skew


def test_train_serving_skew_unit_change(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["x3"] = cur["x3"] * 1000
    f = run("pipeline.train_serving_skew", case_with(binary_case, cur))
    assert len(f) == 1 and f[0].columns == ["x3"]
    assert f[0].evidence["inferred"]["transform"]["factor"] == 1000


def test_train_serving_skew_text_case(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["color"] = cur["color"].str.upper()
    f = run("pipeline.train_serving_skew", case_with(binary_case, cur))
    assert len(f) == 1 and f[0].columns == ["color"]


def test_train_serving_skew_silent_on_real_shift(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["x3"] = cur["x3"] * 1.8  # a real change, no unit
    assert run("pipeline.train_serving_skew", case_with(binary_case, cur)) == []


# ---------------------------------------------------------------- serialization


def test_serialization_mismatch(binary_case, fresh):
    train, test, model = binary_case
    cur = fresh.drop(columns="y").copy()
    p = model.predict_proba(cur)[:, 1]
    cur["logged"] = np.clip(p + np.random.default_rng(0).normal(0, 0.05, len(p)), 0, 1)
    f = run("pipeline.serialization_mismatch", case_with(binary_case, cur, prediction_column="logged"))
    assert len(f) == 1 and f[0].evidence["mismatch_share"] > 0.5 and f[0].evidence["examples"]
    cur["logged"] = p.astype(np.float32)  # float32 logging is not a mismatch
    assert (
        run("pipeline.serialization_mismatch", case_with(binary_case, cur, prediction_column="logged")) == []
    )


def test_serialization_wrong_typed_column(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["logged"] = "n/a"
    with pytest.raises(InputError, match="neither scores nor class labels"):
        run("pipeline.serialization_mismatch", case_with(binary_case, cur, prediction_column="logged"))


# ---------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def files(tmp_path_factory, binary_case):
    import joblib

    train, test, model = binary_case
    d = tmp_path_factory.mktemp("prod")
    train.to_parquet(d / "train.parquet")
    cur = make_binary(2000, seed=11).drop(columns="y")
    cur["x1"] = cur["x1"] + 1.5
    cur.to_parquet(d / "drifted.parquet")
    make_binary(2000, seed=12).drop(columns="y").to_parquet(d / "same.parquet")
    joblib.dump(model, d / "model.joblib")
    return d


def test_profile_then_drift_without_reference_rows(files, tmp_path):
    ref = tmp_path / "ref.json"
    res = runner.invoke(
        app,
        [
            "profile",
            "--data",
            str(files / "train.parquet"),
            "--target",
            "y",
            "--model",
            str(files / "model.joblib"),
            "--out",
            str(ref),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "__prediction__" in json.loads(ref.read_text())["columns"]
    out = tmp_path / "d.json"
    res = runner.invoke(
        app,
        [
            "drift",
            "--reference",
            str(ref),
            "--current",
            str(files / "drifted.parquet"),
            "--model",
            str(files / "model.joblib"),
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 1, res.output  # critical drift
    doc = json.loads(out.read_text())
    codes = {f["code"]: f for f in doc["findings"]}
    assert codes["production.data_drift"]["columns"][0] == "x1"
    assert "production.prediction_drift" in codes
    assert doc["drift"]["features"]["x1"]["drifted"]
    res = runner.invoke(
        app,
        [
            "drift",
            "--reference",
            str(ref),
            "--current",
            str(files / "same.parquet"),
            "--model",
            str(files / "model.joblib"),
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["findings"] == []


def test_drift_from_rows_and_chunked_profiles(files, tmp_path):
    out = tmp_path / "d.json"
    res = runner.invoke(
        app,
        [
            "drift",
            "--reference",
            str(files / "train.parquet"),
            "--target",
            "y",
            "--current",
            str(files / "drifted.parquet"),
            "--json",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 1
    doc = json.loads(out.read_text())
    assert doc["multivariate"]["auc"] > 0.7  # rows on both sides: domain classifier
    # the batch profiled in chunks on the reference's bins, then compared as a profile
    ref, batch = tmp_path / "ref.json", tmp_path / "batch.json"
    assert (
        runner.invoke(
            app, ["profile", "--data", str(files / "train.parquet"), "--target", "y", "--out", str(ref), "-q"]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app,
            [
                "profile",
                "--data",
                str(files / "drifted.parquet"),
                "--like",
                str(ref),
                "--chunk-rows",
                "500",
                "--out",
                str(batch),
                "-q",
            ],
        ).exit_code
        == 0
    )
    assert json.loads(batch.read_text())["rows"] == 2000
    res = runner.invoke(
        app, ["drift", "--reference", str(ref), "--current", str(batch), "--json", str(out), "-q"]
    )
    assert res.exit_code == 1
    assert json.loads(out.read_text())["findings"][0]["columns"][0] == "x1"


def _bad(args, env=None):
    res = runner.invoke(app, args, env=env)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


def test_drift_bad_input(files, tmp_path):
    ref = str(files / "train.parquet")
    other = tmp_path / "other.parquet"
    pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0)}).to_parquet(other)
    assert "no column in common" in _bad(["drift", "--reference", ref, "--current", str(other)])
    nan = tmp_path / "nan.parquet"
    pd.DataFrame({"x1": [np.nan] * 100, "x2": [np.nan] * 100}).to_parquet(nan)
    assert "empty (all NaN)" in _bad(["drift", "--reference", ref, "--current", str(nan)])
    one = tmp_path / "one.parquet"
    pd.read_parquet(files / "same.parquet").head(1).to_parquet(one)
    assert "1 row" in _bad(["drift", "--reference", ref, "--current", str(one)])
    typed = tmp_path / "typed.parquet"
    t = pd.read_parquet(files / "same.parquet")
    t["logged"] = "high"
    t.to_parquet(typed)
    assert "not scores" in _bad(
        [
            "drift",
            "--reference",
            ref,
            "--current",
            str(typed),
            "--model",
            str(files / "model.joblib"),
            "--prediction-column",
            "logged",
        ]
    )
    msg = _bad(
        ["drift", "--reference", ref, "--current", str(files / "same.parquet")],
        env={"MLTRIAGE_MEMORY_LIMIT": "10K"},
    )
    assert "memory" in msg and "chunk" in msg
    assert "does not exist" in _bad(
        ["drift", "--reference", str(tmp_path / "nope.json"), "--current", str(files / "same.parquet")]
    )
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"rows": 1}')
    assert "not an mltriage profile" in _bad(
        ["drift", "--reference", str(bad_json), "--current", str(files / "same.parquet")]
    )


def test_profile_too_large_is_read_in_chunks(files, tmp_path):
    out = tmp_path / "ref.json"
    res = runner.invoke(
        app,
        ["profile", "--data", str(files / "train.parquet"), "--out", str(out), "-q"],
        env={"MLTRIAGE_MEMORY_LIMIT": "200K"},
    )
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["rows"] == 3000


def test_drift_leaves_out_ids_and_timestamps_and_warns_on_missing_label(tmp_path):
    rng = np.random.default_rng(0)

    def frame(n, start):
        return pd.DataFrame(
            {
                "id": [f"u{start + i}" for i in range(n)],
                "rid": np.arange(start, start + n) * 7,
                "ts": pd.date_range("2024-01-01", periods=n, freq="h") + pd.Timedelta(days=start),
                "v": rng.normal(size=n),
                "label": rng.integers(0, 2, n),
            }
        )

    ref, cur = tmp_path / "r.parquet", tmp_path / "c.parquet"
    frame(3000, 0).to_parquet(ref)
    frame(1000, 400).drop(columns="label").to_parquet(cur)
    out = tmp_path / "o.json"
    res = runner.invoke(
        app, ["drift", "--reference", str(ref), "--current", str(cur), "--json", str(out), "-q"]
    )
    assert res.exit_code == 0, res.output  # nothing critical
    doc = json.loads(out.read_text())
    assert {f["code"] for f in doc["findings"]} == {"production.schema_change"}
    assert doc["findings"][0]["severity"] == "warning" and doc["findings"][0]["columns"] == ["label"]
    assert not {"id", "rid", "ts"} & set(doc["drift"]["features"])
    assert any("identifier" in n for n in doc["notes"])


def test_ood_leaves_a_wholly_moved_column_to_data_drift(binary_case):
    import mltriage

    train, test, model = binary_case
    cur = test.drop(columns="y").copy()
    cur["x3"] = cur["x3"] * 3  # the whole column moved: drift, not a few odd rows
    rep = mltriage.diagnose(
        train,
        test,
        "y",
        model=model,
        current=cur,
        select=["production.out_of_distribution", "production.data_drift"],
    )
    codes = rep.codes("warning")
    assert "production.data_drift" in codes and "production.out_of_distribution" not in codes
