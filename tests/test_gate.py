"""`mltriage gate`: a candidate model against the baseline on the same rows (paired bootstrap),
overall, per slice, on calibration, positive rate and latency; the paired kernels it stands on."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from typer.testing import CliRunner

from mltriage.cli import app
from mltriage.commands.gate import gate
from mltriage.errors import InputError
from mltriage.stats import paired

runner = CliRunner()
FAST = ["gate.latency_regression.budget_s=0.3", "gate.latency_regression.min_reps=10"]


def make_rows(n: int, seed: int) -> pd.DataFrame:
    """Four regions; in the north (about 8% of rows) the label follows x2 instead of x1."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "x3": rng.uniform(0, 1, size=n),
            "region": rng.choice(["north", "south", "east", "west"], size=n, p=[0.08, 0.32, 0.3, 0.3]),
        }
    )
    north = (df["region"] == "north").to_numpy()
    logit = np.where(north, 3.0 * df["x2"], 2.0 * df["x1"]) - 0.3
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def hgb():
    pre = ColumnTransformer(
        [
            ("num", "passthrough", ["x1", "x2", "x3"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
        ],
        sparse_threshold=0,
    )
    return make_pipeline(pre, HistGradientBoostingClassifier(max_iter=60, random_state=0))


def logistic(C: float = 1.0):
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["x1", "x2", "x3"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
        ]
    )
    return make_pipeline(pre, LogisticRegression(C=C, max_iter=500))


@pytest.fixture(scope="module")
def models():
    train = make_rows(6000, 1)
    X, y = train.drop(columns="y"), train["y"]
    baseline = hgb().fit(X, y)
    rest = (train["region"] != "north").to_numpy()
    # the candidate never saw the north: worse there, as good elsewhere
    worse_north = hgb().fit(X[rest], y[rest])
    calm_a = logistic(1.0).fit(X, y)
    calm_b = logistic(0.8).fit(X, y)
    forest = RandomForestClassifier(n_estimators=300, max_depth=12, random_state=0, n_jobs=1)
    slow = make_pipeline(logistic(1.0).steps[0][1], forest).fit(X, y)
    return {"baseline": baseline, "worse_north": worse_north, "a": calm_a, "b": calm_b, "slow": slow}


@pytest.fixture(scope="module")
def rows():
    return make_rows(5000, 2)


def codes(report, at_least="warning"):
    return {f.code for f in report.by_severity(at_least)}


# ------------------------------------------------------------------------------ the kernels


def test_weighted_auc_matches_scikit_learn_with_ties_and_weights():
    rng = np.random.default_rng(0)
    y = rng.random(3000) < 0.3
    s = np.round(rng.random(3000) + 0.4 * y, 2)  # many ties
    w = np.bincount(rng.integers(0, 3000, 3000), minlength=3000).astype(np.float32)
    got = paired.auc_of(y, s)(w[None, :])[0]
    assert got == pytest.approx(roc_auc_score(y, s, sample_weight=w), abs=1e-9)


def test_paired_interval_is_narrower_than_unpaired_and_p_value_respects_the_margin():
    rng = np.random.default_rng(1)
    n = 4000
    y = rng.random(n) < 0.4
    base = y * 1.0 + rng.normal(size=n)
    cand = base + rng.normal(scale=0.05, size=n)  # nearly the same model
    res = paired.Resampler(n, 300, seed=0)
    stats = {"b": paired.auc_of(y, base), "c": paired.auc_of(y, cand)}
    point, boot = res.point(stats), res.run(stats)
    d = paired.compare(point["b"], point["c"], boot["b"], boot["c"], greater_is_better=True, margin=0.01)
    assert d.high - d.low < 0.5 * (np.quantile(boot["b"], 0.975) - np.quantile(boot["b"], 0.025))
    assert d.p_worse > 0.5  # not worse by more than 0.01
    again = res.run(stats)
    assert np.array_equal(again["b"], boot["b"])  # the seed fixes every resample


# ------------------------------------------------------------------------------ the checks


@pytest.mark.fires("gate.regression_slice")
def test_a_candidate_worse_on_one_region_fails_on_that_slice(models, rows):
    rep = gate(rows, "y", baseline=models["baseline"], candidate=models["worse_north"], set_params=FAST)
    found = [f for f in rep.findings if f.code == "gate.regression_slice" and f.severity.rank >= 1]
    assert found
    assert any(any(q["column"] == "region" and q["value"] == "north" for q in f.slice) for f in found)
    assert rep.details["verdict"]["decision"] == "rollback"
    assert any("gate.regression_slice" in r for r in rep.details["verdict"]["rollback_criteria"])
    assert {"metrics", "slices", "verdict"} <= set(rep.details)


@pytest.mark.fires("gate.regression_slice")
def test_named_slice_from_a_file_is_gated_on_every_row(models, rows, tmp_path):
    spec = tmp_path / "slices.json"
    spec.write_text(
        json.dumps([{"name": "north", "slice": [{"column": "region", "op": "==", "value": "north"}]}])
    )
    rep = gate(
        rows,
        "y",
        baseline=models["baseline"],
        candidate=models["worse_north"],
        slices=str(spec),
        set_params=[*FAST, "gate.regression_slice.search=false"],
    )
    named = [r for r in rep.details["slices"] if r["name"] == "north"]
    assert named and named[0]["tested_rows"] == named[0]["rows"]
    assert "gate.regression_slice" in codes(rep)


@pytest.mark.silent("gate.regression_overall")
@pytest.mark.silent("gate.regression_slice")
@pytest.mark.silent("gate.calibration_regression")
@pytest.mark.silent("gate.positive_rate_shift")
def test_two_equivalent_models_pass_the_gate(models, rows):
    rep = gate(rows, "y", baseline=models["a"], candidate=models["b"], set_params=FAST)
    assert not (codes(rep) & {"gate.regression_overall", "gate.regression_slice"})
    assert rep.details["verdict"]["decision"] == "promote" or codes(rep) == {"gate.latency_regression"}
    assert rep.exit_code("warning") in (0, 1)
    metrics = {r["metric"]: r for r in rep.details["metrics"]}
    assert {"roc_auc", "accuracy", "precision", "recall", "f1"} <= set(metrics)
    assert all(r["low"] <= r["difference"] <= r["high"] for r in metrics.values())


@pytest.mark.fires("gate.regression_overall", severity="critical")
def test_a_much_worse_model_fails_overall_with_the_headline_metric_critical(models, rows):
    noisy = rows.copy()
    rng = np.random.default_rng(5)
    base = models["a"].predict_proba(rows.drop(columns="y"))[:, 1]
    noisy["old"] = base
    noisy["new"] = np.clip(base + rng.normal(scale=0.35, size=len(rows)), 0, 1)
    rep = gate(noisy, "y", baseline_column="old", candidate_column="new")
    crit = [f for f in rep.findings if f.code == "gate.regression_overall" and f.severity.value == "critical"]
    assert crit and crit[0].evidence["metric"] == "roc_auc"
    assert "gate.latency_regression" in {x["code"] for x in rep.not_applicable}


@pytest.mark.fires("gate.calibration_regression")
@pytest.mark.fires("gate.positive_rate_shift")
def test_squeezed_probabilities_are_less_calibrated_and_shift_the_positive_rate(models, rows):
    logged = rows.copy()
    p = models["a"].predict_proba(rows.drop(columns="y"))[:, 1]
    logged["old"] = p
    logged["new"] = 0.5 + 0.3 * (p - 0.5) + 0.12  # same ranking, compressed and shifted up
    rep = gate(logged, "y", baseline_column="old", candidate_column="new")
    assert {"gate.calibration_regression", "gate.positive_rate_shift"} <= codes(rep)
    shift = next(f for f in rep.findings if f.code == "gate.positive_rate_shift")
    assert shift.evidence["candidate_threshold_at_baseline_rate"] is not None
    auc = next(r for r in rep.details["metrics"] if r["metric"] == "roc_auc")
    assert auc["difference"] == pytest.approx(0.0, abs=1e-9)  # a monotone change keeps the ranking


@pytest.mark.fires("gate.latency_regression")
def test_a_forest_candidate_is_slower_than_a_linear_baseline(models, rows):
    rep = gate(
        rows,
        "y",
        baseline=models["a"],
        candidate=models["slow"],
        select=["gate.latency_regression"],
        set_params=FAST,
    )
    assert "gate.latency_regression" in codes(rep)
    lat = rep.details["latency"]
    assert lat["median"]["candidate_ms"] > 0 and lat["calls"] >= 3


@pytest.mark.silent("gate.latency_regression")
def test_the_same_model_on_both_sides_is_not_slower(models, rows):
    # timing-based: generous tolerances, the same model on both sides
    lenient = [
        *FAST,
        "gate.latency_regression.max_slowdown=2.0",
        "gate.latency_regression.max_p99_slowdown=10.0",
    ]
    rep = gate(
        rows,
        "y",
        baseline=models["a"],
        candidate=models["a"],
        select=["gate.latency_regression"],
        set_params=lenient,
    )
    assert "gate.latency_regression" in rep.passed


def test_regression_and_multiclass_models_are_gated_too():
    rng = np.random.default_rng(3)
    n = 3000
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["y"] = 2 * df["a"] + rng.normal(size=n)
    df["old"] = 2 * df["a"]
    df["new"] = 2 * df["a"] + rng.normal(scale=1.0, size=n)
    rep = gate(df, "y", baseline_column="old", candidate_column="new", task="regression")
    assert "gate.regression_overall" in codes(rep)
    assert {r["metric"] for r in rep.details["metrics"]} == {"r2", "mae", "rmse"}
    df["k"] = np.where(df["a"] > 0.5, "hi", np.where(df["a"] < -0.5, "lo", "mid"))
    X = df[["a", "b"]]
    m = LogisticRegression(max_iter=300).fit(X, df["k"])
    rep = gate(
        df.drop(columns=["y", "old", "new"]), "k", baseline=m, candidate=m, select=["gate.regression_overall"]
    )
    assert not codes(rep)


# ------------------------------------------------------------------------------ bad input


def test_bad_input_names_the_problem(models, rows, tmp_path):
    with pytest.raises(InputError, match="either as a model"):
        gate(rows, "y", baseline=models["a"], baseline_column="x1", candidate=models["b"])
    with pytest.raises(InputError, match="metric"):
        gate(rows, "y", baseline=models["a"], candidate=models["b"], metric="r2")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([[{"column": "nowhere", "op": "==", "value": 1}]]))
    with pytest.raises(InputError, match="nowhere"):
        gate(rows, "y", baseline=models["a"], candidate=models["b"], slices=str(bad))
    with pytest.raises(InputError, match="op"):
        gate(
            rows,
            "y",
            baseline=models["a"],
            candidate=models["b"],
            slices=[[{"column": "x1", "op": "~", "value": 1}]],
        )


# ------------------------------------------------------------------------------ the command line


@pytest.fixture(scope="module")
def files(tmp_path_factory, models, rows):
    d = tmp_path_factory.mktemp("gate")
    rows.to_parquet(d / "eval.parquet")
    for name in ("baseline", "worse_north", "a", "b"):
        joblib.dump(models[name], d / f"{name}.joblib")
    return d


@pytest.mark.fires("gate.regression_slice")
def test_cli_fails_the_gate_with_exit_1_and_lists_rollback_criteria(files):
    out = files / "gate.json"
    res = runner.invoke(
        app,
        [
            "gate",
            "--baseline",
            str(files / "baseline.joblib"),
            "--candidate",
            str(files / "worse_north.joblib"),
            "--data",
            str(files / "eval.parquet"),
            "--target",
            "y",
            "--json",
            str(out),
            "--set",
            "gate.latency_regression.budget_s=0.3",
        ],
    )
    assert res.exit_code == 1, res.output
    doc = json.loads(out.read_text())
    assert doc["command"] == "gate"
    assert doc["details"]["verdict"]["rollback_criteria"]
    assert "slices where the candidate loses most" in res.output


@pytest.mark.silent("gate.regression_overall")
def test_cli_passes_equivalent_models_with_exit_0(files, tmp_path):
    html = tmp_path / "gate.html"
    res = runner.invoke(
        app,
        [
            "gate",
            "--baseline",
            str(files / "a.joblib"),
            "--candidate",
            str(files / "b.joblib"),
            "--data",
            str(files / "eval.parquet"),
            "--target",
            "y",
            "--ignore",
            "gate.latency_regression",
            "--html",
            str(html),
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "gate" in html.read_text()


def test_cli_help_says_warnings_fail_the_gate():
    res = runner.invoke(app, ["gate", "--help"])
    assert res.exit_code == 0
    assert "warning" in res.output and "--baseline-column" in res.output


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--baseline", "missing.joblib", "--candidate", "missing.joblib"], "does not exist"),
        (["--baseline-column", "x1"], "candidate"),
        (["--baseline-column", "x1", "--candidate-column", "nope"], "nope"),
    ],
)
def test_cli_bad_input_exits_2_with_one_message(files, argv, message):
    res = runner.invoke(app, ["gate", "--data", str(files / "eval.parquet"), "--target", "y", *argv])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output
