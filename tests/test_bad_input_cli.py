"""Bad input end to end through the CLI: one clear message and exit 2, never a traceback; or a
finding when the input is readable and the problem is in the data (issue 9, capability 16)."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data.values import missing_values
from mltriage.cli import app
from mltriage.context import Context
from mltriage.io import read_frame, sniff_delimiter

runner = CliRunner()


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    """Wine as a binary task (class 0 vs the rest), written as CSV with a fitted pipeline."""
    d = tmp_path_factory.mktemp("wine")
    df = load_wine(as_frame=True).frame.rename(columns=lambda c: c.replace("/", "_"))
    df["target"] = (df["target"] == 0).astype(int)
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    tr, te = df.iloc[:120], df.iloc[120:]
    X = tr.drop(columns="target")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, tr["target"])
    joblib.dump(model, d / "model.joblib")
    tr.to_csv(d / "train.csv", index=False)
    te.to_csv(d / "test.csv", index=False)
    return d, tr, te


def _diagnose(d, *extra, train="train.csv", test="test.csv"):
    args = ["diagnose", "--train", str(d / train), "--test", str(d / test), "--target", "target"]
    return runner.invoke(app, [*args, "--fast", "--quiet", *extra])


def _clean_exit_2(res) -> str:
    """The message of a refused run, on one line (rich wraps it in a box on narrow terminals)."""
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.replace("│", " ").split())


def test_unknown_metric_is_refused_with_the_known_ones(wine):
    d, _, _ = wine
    out = _clean_exit_2(_diagnose(d, "--metric", "acurracy", "--json", str(d / "m.json")))
    assert "unknown metric 'acurracy'" in out and "Did you mean 'accuracy'" in out
    assert "roc_auc" in out and "r2" in out  # the list of known metrics
    assert not (d / "m.json").exists()  # refused before any work


def test_known_metric_and_alias_are_accepted(wine):
    d, _, _ = wine
    for m in ("AUC", "ndcg@10", "neg_log_loss", "f1-score"):
        case = build_case(d / "train.csv", d / "test.csv", "target", metric=m)
        assert case.metric == m


def test_output_folder_is_created_or_refused_before_work(wine, tmp_path):
    d, _, _ = wine
    out = tmp_path / "new" / "deeper" / "r.json"
    res = _diagnose(d, "--model", str(d / "model.joblib"), "--json", str(out), "--select", "data")
    assert res.exit_code in (0, 1), res.output
    assert json.loads(out.read_text())["findings"] is not None
    (tmp_path / "afile").write_text("x")
    res = _diagnose(d, "--json", str(tmp_path / "afile" / "r.json"))
    assert "cannot create the folder" in _clean_exit_2(res)
    res = _diagnose(d, "--html", str(tmp_path))
    assert "is a folder" in _clean_exit_2(res)


def test_duplicate_column_names_in_a_csv_are_named(wine):
    d, tr, _ = wine
    dup = tr.copy()
    dup.columns = [*tr.columns[:-2], tr.columns[0], "target"]
    dup.to_csv(d / "train_dup.csv", index=False)
    out = _clean_exit_2(_diagnose(d, train="train_dup.csv"))
    assert "duplicated column names" in out and repr(str(tr.columns[0])) in out


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiter_is_sniffed(wine, sep):
    d, tr, te = wine
    name = {";": "semi", "\t": "tab", "|": "pipe"}[sep]
    tr.to_csv(d / f"train_{name}.csv", index=False, sep=sep)
    te.to_csv(d / f"test_{name}.csv", index=False, sep=sep)
    got = read_frame(d / f"train_{name}.csv", "train")
    assert list(got.columns) == list(tr.columns)
    np.testing.assert_allclose(got.to_numpy(float), tr.to_numpy(float))
    res = _diagnose(d, "--select", "data.missing_values", train=f"train_{name}.csv", test=f"test_{name}.csv")
    assert res.exit_code in (0, 1), res.output


def test_semicolon_csv_with_decimal_commas(wine):
    d, tr, _ = wine
    tr.to_csv(d / "train_eu.csv", index=False, sep=";", decimal=",")
    got = read_frame(d / "train_eu.csv", "train")
    assert all(pd.api.types.is_numeric_dtype(got[c]) for c in got.columns)
    np.testing.assert_allclose(got.to_numpy(float), tr.to_numpy(float))


def test_sniffer_keeps_commas_when_unsure():
    assert sniff_delimiter("a,b,c\n1,2,3\n") == ","
    assert sniff_delimiter("just one column\n1\n2\n") == ","
    assert sniff_delimiter('a;b\n"x;y";2\n') == ";"


@pytest.mark.fires("data.missing_values")
def test_feature_missing_in_every_training_row_is_named(wine):
    d, tr, te = wine
    tr = tr.copy()
    tr["alcohol"] = np.nan
    f = checkhelp.run(missing_values, Context(build_case(tr, te, "target")))
    warn = [x for x in f if x.severity.name != "INFO" and "every training row" in x.title]
    assert warn and warn[0].columns == ["alcohol"] and "alcohol" in warn[0].title


@pytest.mark.silent("data.missing_values")
def test_no_empty_feature_no_warning(wine):
    _, tr, te = wine
    checkhelp.run(missing_values, Context(build_case(tr, te, "target")))


def test_feature_inf_or_nan_everywhere_never_crashes_a_check(wine, tmp_path):
    d, tr, te = wine
    t2 = tr.copy()
    t2["alcohol"] = np.inf
    t2["ash"] = np.nan
    t2.to_csv(tmp_path / "train.csv", index=False)
    te.to_csv(tmp_path / "test.csv", index=False)
    out = tmp_path / "r.json"
    res = runner.invoke(
        app,
        ["diagnose", "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv")]
        + ["--target", "target", "--json", str(out), "--quiet", "--select", "data,features"],
    )
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert doc["failed"] == []
    named = {c for f in doc["findings"] if f["severity"] != "info" for c in f["columns"]}
    assert {"alcohol", "ash"} <= named


def test_model_refusing_an_all_missing_feature_names_it(wine, tmp_path):
    d, tr, te = wine
    te2 = te.copy()
    te2["alcohol"] = np.nan
    te2.to_csv(tmp_path / "test.csv", index=False)
    res = runner.invoke(
        app,
        ["diagnose", "--train", str(d / "train.csv"), "--test", str(tmp_path / "test.csv")]
        + ["--target", "target", "--model", str(d / "model.joblib"), "--quiet", "--fast"],
    )
    out = _clean_exit_2(res)
    assert "alcohol is NaN or inf in every test row" in out


def test_rows_the_model_rejects_are_a_data_finding_not_bad_input(wine, tmp_path):
    """inf in a few evaluation rows (a ratio divided by zero) and NaN the pipeline imputes: the
    model refuses the set because of the inf rows only, so the run goes on, names them, and the
    checks that need those predictions say why they are not applicable."""
    d, tr, te = wine
    te2 = te.copy()
    te2.loc[te2.index[:3], "proline"] = np.inf
    te2.loc[te2.index[3:6], "ash"] = np.nan  # the scaler passes NaN through: still rejected
    te2.to_csv(tmp_path / "test.csv", index=False)
    out = tmp_path / "r.json"
    res = runner.invoke(
        app,
        ["diagnose", "--train", str(d / "train.csv"), "--test", str(tmp_path / "test.csv")]
        + ["--target", "target", "--model", str(d / "model.joblib"), "--quiet", "--fast"]
        + ["--json", str(out)],
    )
    assert res.exit_code == 1, res.output  # the critical data finding, not a refusal
    doc = json.loads(out.read_text())
    assert doc["failed"] == []
    inf = [f for f in doc["findings"] if f["code"] == "data.infinite_values"]
    assert inf and inf[0]["columns"] == ["proline"] and inf[0]["severity"] == "critical"
    why = " ".join(doc["notes"]) if isinstance(doc["notes"], list) else str(doc["notes"])
    assert "cannot score 6 of 58 test rows" in why and "inf in proline" in why and "NaN in ash" in why
    na = {r["code"]: r["reason"] for r in doc["not_applicable"]}
    assert "cannot score 6 of 58 test rows" in na["model.overfit"]


class _RefusesEverything:
    """A fitted-looking classifier whose predict_proba raises on any rows."""

    classes_ = np.array([0, 1])

    def predict(self, X):
        raise ValueError("this model is broken")

    def predict_proba(self, X):
        raise ValueError("this model is broken")


def test_a_model_that_refuses_clean_rows_too_is_still_bad_input(wine):
    """inf in some rows, but the model also refuses the rows without it: the rows do not explain
    the failure, so it stays one message (InputError: exit 2 in the CLI)."""
    from mltriage import diagnose
    from mltriage.errors import InputError

    d, tr, te = wine
    te2 = te.copy()
    te2.loc[te2.index[:3], "proline"] = np.inf
    with pytest.raises(InputError, match="this model is broken"):
        diagnose(tr, te2, "target", model=_RefusesEverything(), fast=True, progress=False)


def test_one_row_batch_runs_what_can_run(wine, tmp_path):
    d, _, te = wine
    te.drop(columns="target").iloc[:1].to_csv(tmp_path / "one.csv", index=False)
    out = tmp_path / "r.json"
    res = _diagnose(
        d,
        "--model",
        str(d / "model.joblib"),
        "--current",
        str(tmp_path / "one.csv"),
        "--select",
        "production,pipeline",
        "--json",
        str(out),
    )
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert doc["failed"] == []
    na = {x["code"]: x["reason"] for x in doc["not_applicable"]}
    for code in (
        "production.data_drift",
        "production.prediction_drift",
        "production.estimated_performance_drop",
    ):
        assert "the batch has 1 row" in na[code]
    ran = set(doc["passed"]) | {f["code"] for f in doc["findings"]}
    assert {
        "production.schema_change",
        "production.out_of_distribution",
        "pipeline.train_serving_skew",
    } <= ran
