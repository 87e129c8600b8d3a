"""`mltriage compare`: SHAP on both sides, the attribution checks (a case where each fires and one
where it stays silent), the emitted regression test, the CLI end to end and its bad input."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from typer.testing import CliRunner

from conftest import binary_pipeline, make_binary
from mltriage.cli import app
from mltriage.commands.compare import compare
from mltriage.errors import InputError
from mltriage.stats.attribution_shift import shift_table, stratified_sample
from mltriage.stats.explain import Explainer, permutation_shap

SAMPLE = 400  # rows explained per side in these tests


@pytest.fixture(scope="module")
def pair():
    """(reference, current, model): two halves of one healthy binary problem, a logistic pipeline."""
    df = make_binary(6000, seed=3)
    ref, cur = df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)
    model = binary_pipeline().fit(ref.drop(columns="y"), ref["y"])
    return ref, cur, model


def codes(report, at_least="warning"):
    return sorted({f.code for f in report.by_severity(at_least)})


# ------------------------------------------------------------------------------ explaining


def test_permutation_shap_is_exact_for_an_additive_model():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50), "c": rng.normal(size=50)})
    bg = X.iloc[:10]
    phi = permutation_shap(lambda Z: 2 * Z["a"].to_numpy() - Z["b"].to_numpy(), X, bg, seed=1)
    assert np.allclose(phi[:, 0], 2 * (X["a"] - bg["a"].mean()))
    assert np.allclose(phi[:, 1], -(X["b"] - bg["b"].mean()))
    assert np.allclose(phi[:, 2], 0)


def _explainer(model, X, task="binary", classes=(0, 1), **kw):
    args = dict(task=task, classes=list(classes), positive=1, background=X.iloc[:32], sample=300)
    args.update(max_tree_ops=3e9, max_evals=2_000_000)
    args.update(kw)
    return Explainer(model, list(X.columns), **args)


def test_categorical_hist_gradient_boosting_shap_adds_up_to_the_model_output():
    pytest.importorskip("shap")
    df = make_binary(3000, seed=1)
    X = df.drop(columns="y")
    pipe = Pipeline(
        [
            ("prep", ColumnTransformer([("cat", OrdinalEncoder(), ["color"])], remainder="passthrough")),
            ("hgb", HistGradientBoostingClassifier(max_iter=40, categorical_features=[0], random_state=0)),
        ]
    ).fit(X, df["y"])
    Xc = X.assign(color=X["color"].astype("category"))
    native = HistGradientBoostingClassifier(max_iter=40, categorical_features="from_dtype").fit(Xc, df["y"])
    for model, rows in ((pipe, X), (native, Xc)):
        ex = _explainer(model, rows)
        att = ex.explain(rows.iloc[:300])
        assert ex.tree and att.columns == ["x1", "x2", "x3", "color"]
        total = att.signed.sum(axis=1) + ex._shap.expected_value
        assert np.abs(total - model.decision_function(rows.iloc[:300])).max() < 1e-6
        assert att.shares()["color"] > 0.03


def test_one_hot_columns_are_credited_to_their_input_column():
    pytest.importorskip("shap")
    df = make_binary(2000, seed=2)
    X = df.drop(columns="y")
    pre = ColumnTransformer([("cat", OneHotEncoder(sparse_output=False), ["color"])], remainder="passthrough")
    model = make_pipeline(pre, HistGradientBoostingClassifier(max_iter=30)).fit(X, df["y"])
    att = _explainer(model, X).explain(X.iloc[:200])
    assert att.abs.shape == (200, 4) and att.output == "log-odds of the positive class"
    assert sum(att.shares().values()) == pytest.approx(1.0)


@pytest.mark.parametrize("lib", ["lightgbm", "xgboost"])
def test_lightgbm_and_xgboost_use_the_tree_explainer(lib):
    pytest.importorskip("shap")
    mod = pytest.importorskip(lib)
    df = make_binary(2000, seed=4)
    X = df.drop(columns=["y", "color"])
    est = (
        mod.LGBMClassifier(n_estimators=30, verbose=-1)
        if lib == "lightgbm"
        else mod.XGBClassifier(n_estimators=30, max_depth=3)
    ).fit(X, df["y"])
    ex = _explainer(est, X)
    att = ex.explain(X.iloc[:200])
    assert ex.tree and max(att.shares(), key=att.shares().get) == "x1"


def test_a_costly_forest_is_explained_on_fewer_rows_or_approximately():
    pytest.importorskip("shap")
    df = make_binary(2000, seed=5)
    X = df.drop(columns=["y", "color"])
    rf = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, df["y"])
    fewer = _explainer(rf, X, sample=2000, max_tree_ops=1e9, min_rows=50)
    assert 50 <= fewer.rows < 2000 and "rows explained" in fewer.why
    approx = _explainer(rf, X, sample=2000, max_tree_ops=1e5)
    assert approx.approximate and approx.rows == 2000 and "Saabas" in approx.method


def test_stratified_sample_weights_undo_the_oversampled_segment():
    focus = np.zeros(10_000, dtype=bool)
    focus[:500] = True
    pos, w = stratified_sample(10_000, 1000, focus=focus, seed=0)
    assert len(pos) == 1000 and focus[pos].sum() == 500
    assert np.average(focus[pos], weights=w) == pytest.approx(0.05, abs=1e-9)


def test_shift_intervals_cover_zero_between_samples_of_one_population(pair):
    ref, cur, model = pair
    ex = _explainer(model, ref.drop(columns="y"))
    covered = []
    for k in range(8):  # disjoint blocks of 300 rows on each side
        rows = slice(300 * k, 300 * (k + 1))
        a, b = ex.explain(ref.iloc[rows]), ex.explain(cur.iloc[rows])
        table = shift_table(a, np.ones(300), b, np.ones(300), n_boot=200, seed=k)
        covered += [r["share_shift_low"] < 0 < r["share_shift_high"] for r in table]
    assert np.mean(covered) >= 0.85  # 95% intervals


# ------------------------------------------------------------------------------ the checks


@pytest.mark.silent("attribution.population_shift")
@pytest.mark.silent("attribution.preprocessing_bug")
@pytest.mark.silent("attribution.new_leakage")
def test_a_clean_pair_raises_nothing(pair):
    ref, cur, model = pair
    report = compare(model, ref, cur, target="y", sample=SAMPLE)
    assert codes(report) == [] and not report.failed
    assert report.details["explained"]["reference"] == SAMPLE
    assert any("correlated features share credit" in n for n in report.notes)


@pytest.mark.fires("attribution.population_shift")
@pytest.mark.silent("attribution.preprocessing_bug")
def test_a_moved_feature_whose_curve_holds_is_a_population_shift(pair):
    ref, cur, model = pair
    report = compare(model, ref, cur.assign(x1=cur["x1"] + 1.0), sample=SAMPLE)
    found = [f for f in report.findings if f.code == "attribution.population_shift"]
    assert [f.columns for f in found] == [["x1"]]
    assert found[0].evidence["dependence_curve"]["shift"] < 0.25


@pytest.mark.fires("attribution.preprocessing_bug", severity="critical")
@pytest.mark.silent("attribution.population_shift")
def test_a_column_in_another_unit_is_a_preprocessing_bug(pair):
    ref, cur, model = pair
    report = compare(model, ref, cur.assign(x3=cur["x3"] * 100), sample=SAMPLE)
    (f,) = [f for f in report.findings if f.code == "attribution.preprocessing_bug"]
    assert f.columns == ["x3"] and f.evidence["inferred"]["transform"]["factor"] == 100


@pytest.mark.fires("attribution.preprocessing_bug")
def test_a_rescaled_pipeline_step_in_model_b_is_a_preprocessing_bug(pair):
    ref, cur, model = pair
    X = ref.drop(columns="y")
    broken = Pipeline(
        [("prep", clone(model[:-1]).fit(X.assign(x2=X["x2"] * 10))), ("lr", copy.deepcopy(model[-1]))]
    )
    report = compare(model, ref, cur, model_b=broken, target="y", sample=SAMPLE)
    (f,) = [f for f in report.findings if f.code == "attribution.preprocessing_bug"]
    assert f.columns == ["x2"] and f.evidence["drift"]["psi"] < 0.1
    art = [g for g in report.findings if g.code == "attribution.training_artifact"]
    assert all(g.severity.value == "info" for g in art)  # it follows from the preprocessing bug


@pytest.mark.fires("attribution.new_leakage", severity="critical")
def test_a_feature_that_became_the_label_is_new_leakage(pair):
    ref, cur, model = pair
    rng = np.random.default_rng(7)
    leaky = cur.assign(x3=cur["y"] * 5 + rng.normal(0, 0.5, len(cur)))
    model_b = clone(model).fit(leaky.drop(columns="y"), leaky["y"])
    report = compare(model, ref, leaky, model_b=model_b, target="y", sample=SAMPLE)
    (f,) = [f for f in report.findings if f.code == "attribution.new_leakage"]
    assert f.columns == ["x3"] and f.evidence["single_feature_score"]["current"] > 0.95


@pytest.mark.fires("attribution.training_artifact")
def test_a_model_trained_with_a_shuffled_column_is_a_training_artifact(pair):
    ref, cur, model = pair
    X = ref.drop(columns="y")
    shuffled = X.assign(x2=np.random.default_rng(1).permutation(X["x2"].to_numpy()))
    model_b = clone(model).fit(shuffled, ref["y"])
    report = compare(model, ref, cur, model_b=model_b, target="y", sample=SAMPLE)
    (f,) = [f for f in report.findings if f.code == "attribution.training_artifact"]
    assert f.columns[0] == "x2" and f.severity.value == "warning"
    no_target = compare(model, ref.drop(columns="y"), cur.drop(columns="y"), model_b=model_b, sample=SAMPLE)
    (g,) = [f for f in no_target.findings if f.code == "attribution.training_artifact"]
    assert g.severity.value == "info" and "noise floor is unknown" in g.title


@pytest.mark.silent("attribution.training_artifact")
def test_a_forest_refitted_with_another_seed_is_within_the_spread():
    df = make_binary(4000, seed=8).drop(columns="color")
    ref, cur = df.iloc[:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True)
    rf = RandomForestClassifier(n_estimators=30, min_samples_leaf=20, random_state=0, n_jobs=1)
    model = clone(rf).fit(ref.drop(columns="y"), ref["y"])
    model_b = clone(rf).set_params(random_state=5).fit(ref.drop(columns="y"), ref["y"])
    report = compare(model, ref, cur, model_b=model_b, target="y", sample=300)
    assert "attribution.training_artifact" in report.passed


@pytest.mark.fires("attribution.segment_drivers")
def test_a_failing_segment_names_the_features_that_drive_its_errors(pair):
    ref, cur, model = pair
    bad = cur.copy()
    seg = (bad["color"] == "red") & (bad["x1"] > 0)
    bad.loc[seg, "y"] = 1 - bad.loc[seg, "y"]
    report = compare(model, ref, bad, target="y", segment="color == 'red' and x1 > 0", sample=SAMPLE)
    (f,) = [f for f in report.findings if f.code == "attribution.segment_drivers"]
    assert f.evidence["error"]["segment"] > 2 * f.evidence["error"]["rest"]
    assert set(f.columns) & {"x1", "color"}


@pytest.mark.silent("attribution.segment_drivers")
def test_a_segment_that_does_not_fail_more_raises_nothing(pair):
    ref, cur, model = pair
    report = compare(model, ref, cur, target="y", segment="color == 'red'", sample=SAMPLE)
    (f,) = [f for f in report.findings if f.code == "attribution.segment_drivers"]
    assert f.severity.value == "info" and "does not fail more" in f.title


# ------------------------------------------------------------------------------ the emitted test


def _pytest(path, **env):
    import os

    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
        capture_output=True,
        text=True,
        cwd=path.parent,
        env={**os.environ, **env},
        timeout=300,
    )


def test_the_emitted_test_passes_on_the_same_model_and_fails_on_a_changed_one(pair, tmp_path):
    ref, cur, model = pair
    joblib.dump(model, tmp_path / "model.joblib")
    test_file = tmp_path / "test_attributions.py"
    report = compare(str(tmp_path / "model.joblib"), ref, cur, target="y", sample=SAMPLE, emit_test=test_file)
    assert report.details["emitted_test"] == str(test_file)
    baseline = json.loads((tmp_path / "test_attributions.baseline.json").read_text())
    assert len(pd.read_parquet(tmp_path / "test_attributions.sample.parquet")) == SAMPLE + 32
    assert set(baseline["tolerance"]) >= {"x1", "x2"}
    same = _pytest(test_file)
    assert same.returncode == 0, same.stdout[-2000:]
    X = ref.drop(columns="y")
    changed = clone(model).fit(
        X.assign(x1=np.random.default_rng(2).permutation(X["x1"].to_numpy())), ref["y"]
    )
    joblib.dump(changed, tmp_path / "changed.joblib")
    moved = _pytest(test_file, MLTRIAGE_MODEL=str(tmp_path / "changed.joblib"))
    assert moved.returncode == 1 and "x1: share" in moved.stdout


# ------------------------------------------------------------------------------ the CLI


@pytest.fixture(scope="module")
def files(pair, tmp_path_factory):
    ref, cur, model = pair
    d = tmp_path_factory.mktemp("compare")
    ref.to_parquet(d / "ref.parquet")
    cur.to_parquet(d / "cur.parquet")
    cur.assign(x3=cur["x3"] * 100).to_parquet(d / "scaled.parquet")
    joblib.dump(model, d / "model.joblib")
    df = make_binary(2000, seed=9)
    X = df.drop(columns="y").assign(color=lambda t: t["color"].astype("category"))
    tree = HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype").fit(X, df["y"])
    joblib.dump(tree, d / "tree.joblib")
    X.assign(y=df["y"]).to_parquet(d / "tree_rows.parquet")
    return d


def _run(*args):
    return CliRunner().invoke(app, ["compare", *map(str, args)])


@pytest.mark.silent("attribution.preprocessing_bug")
def test_cli_clean_pair_exits_0_and_writes_json_and_html(files):
    d = files
    res = _run(
        "--model",
        d / "model.joblib",
        "--reference",
        d / "ref.parquet",
        "--current",
        d / "cur.parquet",
        "--sample",
        SAMPLE,
        "--json",
        d / "clean.json",
        "--html",
        d / "clean.html",
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((d / "clean.json").read_text())
    assert doc["command"] == "compare" and doc["details"]["attributions"][0]["feature"] == "x1"
    assert "attribution" in res.output and (d / "clean.html").stat().st_size > 1000


@pytest.mark.fires("attribution.preprocessing_bug", severity="critical")
def test_cli_scaled_column_exits_1(files):
    d = files
    res = _run(
        "--model",
        d / "model.joblib",
        "--reference",
        d / "ref.parquet",
        "--current",
        d / "scaled.parquet",
        "--sample",
        SAMPLE,
        "--json",
        d / "scaled.json",
    )
    assert res.exit_code == 1, res.output
    doc = json.loads((d / "scaled.json").read_text())
    assert [f["columns"] for f in doc["findings"] if f["code"] == "attribution.preprocessing_bug"] == [["x3"]]


def test_cli_explains_a_tree_model_on_the_same_rows_without_alarm(files):
    d = files
    res = _run(
        "--model",
        d / "tree.joblib",
        "--reference",
        d / "tree_rows.parquet",
        "--current",
        d / "tree_rows.parquet",
        "--sample",
        300,
        "--json",
        d / "tree.json",
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((d / "tree.json").read_text())
    assert doc["details"]["explained"]["method"].startswith("TreeExplainer") and not doc["findings"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--current", "{d}/missing.parquet"], "does not exist"),
        (["--segment", "colour == 'red'"], "is not a valid query"),
        (["--segment", "x1 > 100"], "selects none"),
        (["--segment", "x1 > -100"], "selects every"),
        (["--target", "label"], "is in neither"),
        (["--sample", "10"], "sample"),
        (["--emit-test", "{d}/attributions.txt"], "not a .py file"),
    ],
)
def test_cli_bad_input_exits_2_with_one_message(files, args, message):
    d = files
    base = {"--model": d / "model.joblib", "--reference": d / "ref.parquet", "--current": d / "cur.parquet"}
    extra = [a.format(d=d) for a in args]
    for k, v in base.items():
        if k not in extra:
            extra += [k, str(v)]
    res = _run(*extra, "--sample", SAMPLE) if "--sample" not in extra else _run(*extra)
    assert res.exit_code == 2, res.output
    # the console wraps long lines (a long tmp path moves the break): compare on one line
    assert message in " ".join(res.output.split()) and "Traceback" not in res.output


def test_cli_model_lacking_columns_exits_2(files, tmp_path):
    d = files
    pd.read_parquet(d / "cur.parquet").drop(columns="x2").to_parquet(tmp_path / "cur.parquet")
    res = _run(
        "--model", d / "model.joblib", "--reference", d / "ref.parquet", "--current", tmp_path / "cur.parquet"
    )
    assert res.exit_code == 2 and "x2" in res.output


def test_cli_tree_model_without_shap_exits_2_naming_the_extra(files, monkeypatch):
    d = files
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap now raises ImportError
    res = _run(
        "--model",
        d / "tree.joblib",
        "--reference",
        d / "tree_rows.parquet",
        "--current",
        d / "tree_rows.parquet",
    )
    assert res.exit_code == 2 and "mltriage[shap]" in res.output


def test_api_refuses_a_segment_on_a_missing_column(pair):
    ref, cur, model = pair
    with pytest.raises(InputError, match="not a valid query"):
        compare(model, ref, cur, segment="region == 'north'")
