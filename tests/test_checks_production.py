"""The production rung: each check fires on a planted problem and stays silent without it;
`mltriage drift` / `mltriage profile` and their bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import checkhelp
from conftest import make_binary
from mltriage.case import build_case
from mltriage.cli import app
from mltriage.context import Context
from mltriage.errors import InputError
from mltriage.registry import load_all

runner = CliRunner()


def run(code, case, **params):
    """Run the check for `code` on `case` through the registry (a list of findings back)."""
    return checkhelp.run(load_all()[code].fn, Context(case), **params)


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


@pytest.mark.fires("production.data_drift")
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


@pytest.mark.silent("production.data_drift")
def test_data_drift_silent_on_same_population(binary_case, fresh):
    assert run("production.data_drift", case_with(binary_case, fresh.drop(columns="y"))) == []


def test_data_drift_does_not_depend_on_the_selection(binary_case, fresh):
    """The skew a drifted column is attributed to comes from the skew check's own parameters,
    not from whichever check ran before: the data-drift finding is the same either way."""
    import mltriage

    train, test, model = binary_case
    cur = fresh.drop(columns="y").copy()
    cur["x3"] = cur["x3"] * 1000  # a unit change: drift explained by a skew
    cur["x1"] = cur["x1"] + 1.0  # a real shift
    kw = dict(model=model, current=cur, categorical=["color"], task="binary")
    alone = mltriage.diagnose(train, test, "y", select=["production.data_drift"], **kw)
    both = mltriage.diagnose(
        train, test, "y", select=["production.data_drift", "pipeline.train_serving_skew"], **kw
    )
    drift_alone = [f.to_dict() for f in alone.findings if f.code == "production.data_drift"]
    drift_both = [f.to_dict() for f in both.findings if f.code == "production.data_drift"]
    assert drift_alone == drift_both and drift_alone
    # the skewed column is a pipeline bug, never a population change to retrain on
    assert drift_alone[0]["columns"] == ["x1"]
    left = drift_alone[0]["evidence"]["left_to_train_serving_skew"]
    assert left["x3"].startswith("values arrive multiplied")


# ---------------------------------------------------------------- prediction drift


@pytest.mark.fires("production.prediction_drift")
def test_prediction_drift(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur["x1"] = cur["x1"] + 1.5
    f = run("production.prediction_drift", case_with(binary_case, cur))
    assert (
        len(f) == 1
        and f[0].evidence["positive_rate"]["current"] > f[0].evidence["positive_rate"]["reference"]
    )


@pytest.mark.silent("production.prediction_drift")
def test_prediction_drift_silent_on_same_population(binary_case, fresh):
    assert run("production.prediction_drift", case_with(binary_case, fresh.drop(columns="y"))) == []


# ---------------------------------------------------------------- concept drift


@pytest.mark.fires("production.concept_drift", severity="critical")
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


def test_concept_drift_names_the_segment_where_the_drop_concentrates(binary_case, fresh):
    cur = fresh.copy()
    red = (cur["color"] == "red").to_numpy()
    cur.loc[red, "y"] = 1 - cur.loc[red, "y"]  # the outcome changed for one segment only
    f = run("production.concept_drift", case_with(binary_case, cur))
    seg = f[0].evidence["segment"]
    assert seg["segment"] == "color == red" and seg["p_adjusted"] < 0.05
    assert seg["loss"]["current"] > 0.5 > seg["loss_rest"]["current"]
    assert "concentrates in color == red" in f[0].title and "color == red" in f[0].fix


def test_concept_drift_names_no_segment_when_the_drop_is_everywhere(binary_case, fresh):
    cur = fresh.copy()
    flip = np.random.default_rng(0).random(len(cur)) < 0.25  # every segment alike
    cur.loc[flip, "y"] = 1 - cur.loc[flip, "y"]
    f = run("production.concept_drift", case_with(binary_case, cur))
    assert len(f) == 1 and "segment" not in f[0].evidence
    assert "concentrates" not in f[0].title


def test_concentrated_drop_kernel_holds_its_level_under_the_null():
    """No segment differs: Holm over the segments keeps the naming rate at or under alpha."""
    from mltriage.stats.concept_segments import concentrated_drop

    rng = np.random.default_rng(1)
    named = 0
    for _ in range(200):
        ref = pd.DataFrame({"a": rng.choice(list("pqrs"), 600), "x": rng.normal(size=600)})
        cur = pd.DataFrame({"a": rng.choice(list("pqrs"), 400), "x": rng.normal(size=400)})
        lr, lc = (rng.random(600) < 0.2).astype(float), (rng.random(400) < 0.3).astype(float)
        named += concentrated_drop(ref, cur, ["a", "x"], lr, lc) is not None
    assert named <= 0.05 * 200 + 6  # 5% level, binomial slack (sd ~3)


@pytest.mark.silent("production.concept_drift")
def test_concept_drift_silent_when_labels_hold(binary_case, fresh):
    assert run("production.concept_drift", case_with(binary_case, fresh)) == []


# ---------------------------------------------------------------- estimated performance


@pytest.mark.fires("production.estimated_performance_drop")
def test_estimated_performance_drop_on_uncertain_rows(binary_case):
    pool = make_binary(30000, seed=21)
    p = binary_case[2].predict_proba(pool.drop(columns="y"))[:, 1]
    cur = pool[(p > 0.35) & (p < 0.65)].drop(columns="y").head(2000)  # where the model is unsure
    f = run("production.estimated_performance_drop", case_with(binary_case, cur))
    assert len(f) == 1
    ev = f[0].evidence
    assert ev["estimate"] < ev["reference"] - 0.05 and ev["interval"][1] < ev["reference"]


@pytest.mark.silent("production.estimated_performance_drop")
def test_estimated_performance_silent_on_same_population(binary_case, fresh):
    assert run("production.estimated_performance_drop", case_with(binary_case, fresh.drop(columns="y"))) == []


@pytest.fixture(scope="module")
def regression_dle():
    rng = np.random.default_rng(0)

    def make(n, lo=0, hi=10):
        x = rng.uniform(lo, hi, n)
        z = rng.normal(size=n)
        y = np.sin(x) * 3 + z + rng.normal(0, 0.3 + (x > 8) * 3.0, n)  # noisy above 8
        return pd.DataFrame({"x": x, "z": z, "y": y})

    from sklearn.ensemble import HistGradientBoostingRegressor

    tr, te = make(4000), make(3000)
    m = HistGradientBoostingRegressor(max_iter=60).fit(tr[["x", "z"]], tr["y"])
    return tr, te, m, make(1500, 8, 10).drop(columns="y"), make(1500).drop(columns="y")


@pytest.mark.fires("production.estimated_performance_drop")
def test_estimated_performance_regression_dle(regression_dle):
    tr, te, m, hard, _ = regression_dle
    case = build_case(tr, te, "y", task="regression", model=m, current=hard)
    f = run("production.estimated_performance_drop", case)
    assert len(f) == 1 and f[0].evidence["metric"] == "mae"


@pytest.mark.silent("production.estimated_performance_drop")
def test_estimated_performance_regression_dle_silent(regression_dle):
    tr, te, m, _, easy = regression_dle
    case = build_case(tr, te, "y", task="regression", model=m, current=easy)
    assert run("production.estimated_performance_drop", case) == []


# ---------------------------------------------------------------- schema


@pytest.mark.fires("production.schema_change", severity="critical")
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


@pytest.mark.fires("production.schema_change")
def test_schema_change_domain_and_empty_column(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur.loc[cur.index[:100], "x3"] = -cur.loc[cur.index[:100], "x3"] - 1  # training is >= 0
    cur["x2"] = np.nan
    f = run("production.schema_change", case_with(binary_case, cur))
    issues = {(i["kind"], tuple(i["columns"])) for i in f[0].evidence["issues"]}
    assert ("domain", ("x3",)) in issues and ("empty", ("x2",)) in issues
    assert f[0].severity.value == "critical"  # an empty model input


@pytest.mark.silent("production.schema_change")
def test_schema_change_silent(binary_case, fresh):
    assert run("production.schema_change", case_with(binary_case, fresh.drop(columns="y"))) == []


# ---------------------------------------------------------------- out of distribution


@pytest.mark.fires("production.out_of_distribution")
def test_out_of_distribution(binary_case, fresh):
    cur = fresh.drop(columns="y").copy()
    cur.loc[cur.index[:60], "x3"] = 250.0  # training range is [0, 10]
    f = run("production.out_of_distribution", case_with(binary_case, cur))
    assert len(f) == 1 and f[0].columns == ["x3"]
    assert f[0].evidence["rows"] == 60 and f[0].evidence["examples"]


@pytest.mark.silent("production.out_of_distribution")
def test_out_of_distribution_silent_on_same_population(binary_case, fresh):
    assert run("production.out_of_distribution", case_with(binary_case, fresh.drop(columns="y"))) == []


def test_production_parameters_are_validated(binary_case, fresh):
    import mltriage

    train, test, model = binary_case
    with pytest.raises(InputError, match="production.data_drift.psi_warning"):
        mltriage.diagnose(
            train, test, "y", model=model, current=fresh, set_params=["production.data_drift.psi_warning=-1"]
        )


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
    assert doc["details"]["drift"]["features"]["x1"]["drifted"]
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
    assert doc["details"]["multivariate"]["auc"] > 0.7  # rows on both sides: domain classifier
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
    res = runner.invoke(app, ["drift", "--reference", ref, "--current", str(one)])  # small is data
    assert res.exit_code in (0, 1) and "1 row" in res.output, res.output
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
    assert not {"id", "rid", "ts"} & set(doc["details"]["drift"]["features"])
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


def test_drift_writes_the_diagnose_document_shape(files, binary_files, tmp_path):
    d_json, g_json = tmp_path / "drift.json", tmp_path / "diagnose.json"
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
            "--model",
            str(files / "model.joblib"),
            "--json",
            str(d_json),
            "--html",
            str(tmp_path / "drift.html"),
            "-q",
        ],
    )
    assert res.exit_code == 1, res.output
    args = ["diagnose", "--train", str(binary_files / "train.parquet"), "--test"]
    args += [str(binary_files / "test.parquet"), "--target", "y", "--fast", "--select", "data.duplicates"]
    res = runner.invoke(app, [*args, "--json", str(g_json), "-q"])
    assert res.exit_code in (0, 1), res.output
    d, g = json.loads(d_json.read_text()), json.loads(g_json.read_text())
    assert list(d) == list(g) and d["command"] == "drift"
    assert set(d["details"]) == {"drift", "multivariate", "rows"}
    assert (tmp_path / "drift.html").read_text().strip()
    # what a batch-only comparison cannot judge is listed, with the reason
    na = {x["code"]: x["reason"] for x in d["not_applicable"]}
    assert "training and evaluation sets" in na["production.estimated_performance_drop"]
    assert "production.concept_drift" in na


@pytest.mark.fires("production.data_drift", severity="critical")
@pytest.mark.fires("production.prediction_drift")
def test_drift_api_on_frames_with_select_ignore_and_fail_on(binary_case):
    from mltriage.commands.drift import drift

    train, _, model = binary_case
    cur = make_binary(2000, seed=11).drop(columns="y")
    cur["x1"] = cur["x1"] + 1.5
    rep = drift(train, cur, model=model, target="y", ignore=["production.schema_change"])
    assert rep.command == "drift" and rep.case["task"] == "binary"
    assert {"production.data_drift", "production.prediction_drift"} <= set(rep.codes())
    assert any(x["code"] == "production.schema_change" for x in rep.skipped)
    assert rep.exit_code("critical") == 1 and rep.exit_code("never") == 0
    only = drift(train, cur, model=model, target="y", select=["production.prediction_drift"])
    assert only.codes() == ["production.prediction_drift"]
    assert only.details["multivariate"] is None  # data drift (and its domain classifier) did not run
    loose = drift(train, cur, model=model, target="y", set_params=["production.data_drift.psi_warning=5"])
    joint = [f for f in loose.findings if f.code == "production.data_drift"]
    assert not joint or joint[0].evidence["drifted"] == []  # no single feature past PSI 5


@pytest.mark.silent("production.data_drift")
def test_drift_api_silent_on_same_population_and_refuses_bad_settings(binary_case):
    from mltriage.commands.drift import drift

    train, _, model = binary_case
    same = make_binary(2000, seed=12).drop(columns="y")
    rep = drift(train, same, model=model, target="y")
    assert rep.codes() == [] and rep.exit_code("warning") == 0
    with pytest.raises(InputError, match="names no layer or check"):
        drift(train, same, select=["production.drfit"])
    with pytest.raises(InputError, match="threshold"):
        drift(train, same, model=model, target="y", threshold=1.5)


def test_drift_threshold_is_the_one_in_use(binary_case):
    """The logged scores are compared at the decision threshold given, not a fixed 0.5."""
    from mltriage.commands.drift import drift

    train, _, model = binary_case
    cur = make_binary(2000, seed=11).drop(columns="y")
    p = model.predict_proba(cur)[:, 1]
    cur["logged"] = np.clip(p + 0.02, 0, 1)
    at = {
        t: drift(train, cur, model=model, target="y", prediction_column="logged", threshold=t)
        for t in (0.5, 0.9)
    }
    flips = {
        t: next(f for f in r.findings if f.code == "pipeline.serialization_mismatch").evidence[
            "decision_flips"
        ]
        for t, r in at.items()
    }
    assert flips[0.5] == int(((p >= 0.5) != (p + 0.02 >= 0.5)).sum())
    assert flips[0.9] == int(((p >= 0.9) != (np.clip(p + 0.02, 0, 1) >= 0.9)).sum())
    assert at[0.9].case["threshold"] == 0.9


def test_profile_api(files, tmp_path):
    from mltriage.commands.profile import profile

    prof = profile(files / "train.parquet", target="y", model=files / "model.joblib")
    assert prof.rows == 3000 and "y" not in prof.columns and "__prediction__" in prof.columns
    assert prof.meta["prediction"] == {"task": "binary", "kind": "numeric", "positive": 1}
    with pytest.raises(InputError, match="does not exist"):
        profile([tmp_path / "nope.parquet"])
