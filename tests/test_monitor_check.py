"""`mltriage monitor check`: closed windows evaluated, alerts naming their cause, the JSON contract
and the exit code; the same flows on both backends."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mltriage.cli import app
from mltriage.commands import monitor as mon
from mltriage.monitor.store import open_store
from monitor_helpers import write_batch

ALERT_KEYS = {
    "window_start",
    "window_end",
    "code",
    "severity",
    "columns",
    "title",
    "root_cause",
    "fix",
    "status",
}


def _store(url, case, folder, days, kw=None):
    mon.init(
        url,
        str(case / "ref.parquet"),
        "y",
        model=str(case / "model.joblib"),
        id_column="id",
        time_column="ts",
    )
    labels = []
    for d in range(days):
        b, lab = write_batch(folder, d, **(kw or {}).get(d, {}))
        mon.log(url, b)
        labels.append(lab)
    return labels


def test_drift_onset_alert_names_the_feature_and_cause(store_url, monitor_case, tmp_path):
    shifted = {d: {"shift": 1.0} for d in range(6, 9)}
    _store(store_url, monitor_case, tmp_path, 9, shifted)
    res = mon.check(store_url)
    assert len(res.windows) == 9
    drift = [a for a in res.alerts if a["code"] == "production.data_drift"]
    assert len(drift) == 1
    a = drift[0]
    assert set(a) >= ALERT_KEYS
    assert a["window_start"] == "2024-01-07T00:00:00" and a["columns"][0] == "a"
    assert a["cause"] == "drift" and "important feature: a" in a["root_cause"] and a["retrain"]
    assert a["severity"] == "critical" and a["status"] == "open"
    w = {x["window_start"]: x for x in res.windows}
    assert w["2024-01-07T00:00:00"]["psi"]["a"] > 0.25 and w["2024-01-06T00:00:00"]["feature_psi"] == 0.0
    assert w["2024-01-06T00:00:00"]["estimated"]["low"] <= w["2024-01-06T00:00:00"]["estimated"]["value"]
    assert w["2024-01-06T00:00:00"]["latency"]["p95"] > w["2024-01-06T00:00:00"]["latency"]["p50"] > 0
    rep = open_store(store_url).window_report("2024-01-07")
    assert "production.data_drift" in {f["code"] for f in rep["findings"]}
    assert mon.check(store_url).events == []  # nothing new: nothing re-sent


def test_no_change_no_alert_and_exit_codes(monitor_case, tmp_path):
    url = str(tmp_path / "s.duckdb")
    _store(url, monitor_case, tmp_path, 8)
    out = tmp_path / "check.json"
    res = CliRunner().invoke(
        app, ["monitor", "check", "--store", url, "--json", str(out), "--fail-on", "warning"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert set(doc) == {"windows", "alerts"} and doc["alerts"] == [] and len(doc["windows"]) == 8


def test_exit_code_follows_fail_on(monitor_case, tmp_path):
    url = str(tmp_path / "s.duckdb")
    _store(url, monitor_case, tmp_path, 6, {5: {"shift": 0.6}})
    run = CliRunner().invoke
    out = tmp_path / "c.json"
    assert (
        run(app, ["monitor", "check", "--store", url, "--fail-on", "never", "--json", str(out)]).exit_code
        == 0
    )
    doc = json.loads(out.read_text())
    sev = {a["severity"] for a in doc["alerts"] if a["status"] != "resolved"}
    assert sev  # the shift on a opened something
    assert run(app, ["monitor", "check", "--store", url, "--fail-on", "warning"]).exit_code == 1
    crit = run(app, ["monitor", "check", "--store", url, "--fail-on", "critical"]).exit_code
    assert crit == (1 if "critical" in sev else 0)
    res = run(
        app,
        ["monitor", "report", "--store", url, "--window", "2024-01-06", "--json", str(tmp_path / "r.json")],
    )
    assert res.exit_code == 0 and json.loads((tmp_path / "r.json").read_text())["findings"]
    assert run(app, ["monitor", "report", "--store", url, "--window", "2023-01-01"]).exit_code == 2


def test_concept_drift_once_labels_arrive(store_url, monitor_case, tmp_path):
    concept = {d: {"concept": True} for d in range(5, 8)}
    labels = _store(store_url, monitor_case, tmp_path, 8, concept)
    before = mon.check(store_url)
    assert not [a for a in before.alerts if a["code"] == "production.concept_drift"]  # no labels yet
    for lab in labels:
        mon.label(store_url, lab, labelled_at_column="labelled_at")
    early = mon.check(store_url, as_of="2024-01-12T00:00")  # labels of days 0-4 are in
    w = {x["window_start"]: x for x in early.windows}
    assert w["2024-01-01T00:00:00"]["realised"]["labelled_share"] == 1.0
    assert w["2024-01-01T00:00:00"]["label_lag_hours"] == pytest.approx(168, abs=1)
    assert w["2024-01-07T00:00:00"]["realised"] is None
    assert not [a for a in early.alerts if a["code"] == "production.concept_drift"]
    res = mon.check(store_url, as_of="2024-01-20T00:00")
    (a,) = [a for a in res.alerts if a["code"] == "production.concept_drift"]
    assert a["window_start"] == "2024-01-06T00:00:00" and a["cause"] == "concept" and a["retrain"]
    assert "concept drift" in a["root_cause"]
    w = {x["window_start"]: x for x in res.windows}
    assert w["2024-01-06T00:00:00"]["realised_drop"] > 0.05
    assert w["2024-01-06T00:00:00"]["estimated_drop"] == 0.0  # the estimate cannot see concept drift


def test_schema_change_is_a_pipeline_bug_not_a_retrain(monitor_case, tmp_path):
    url = str(tmp_path / "s.duckdb")
    _store(url, monitor_case, tmp_path, 5)
    b, _ = write_batch(tmp_path, 5)
    df = pd.read_parquet(b)
    df["b"] = df["b"].astype(str).where(np.arange(len(df)) % 10 != 0, "n/a")  # text in a number column
    df["c"] = np.nan  # the upstream join lost c
    df.to_parquet(tmp_path / "broken.parquet")
    mon.log(url, tmp_path / "broken.parquet")
    res = mon.check(url)
    (a,) = [a for a in res.alerts if a["code"] == "production.schema_change"]
    assert a["cause"] == "pipeline" and not a["retrain"] and "do not retrain" in a["root_cause"]
    assert a["window_start"] == "2024-01-06T00:00:00"
    w = res.windows[-1]
    assert w["schema_share"] >= 0.09 and w["missing"]["c"] == 1.0


def test_out_of_distribution_rows(monitor_case, tmp_path):
    url = str(tmp_path / "s.duckdb")
    _store(url, monitor_case, tmp_path, 4)
    b, _ = write_batch(tmp_path, 4)
    df = pd.read_parquet(b)
    # a unit error on 4% of rows (one constant such as 1e6 in every such row now reads as a default
    # written by the serving path for a missing input: cause "pipeline", pipeline.train_serving_skew)
    df.loc[:60, "d"] = df.loc[:60, "d"] * 1e6
    df.to_parquet(tmp_path / "ood.parquet")
    mon.log(url, tmp_path / "ood.parquet")
    res = mon.check(url)
    (a,) = [a for a in res.alerts if a["code"] == "production.out_of_distribution"]
    assert a["columns"] == ["d"] and a["cause"] == "ood"
    assert res.windows[-1]["ood_share"] == pytest.approx(61 / 1500, abs=1e-4)


def test_cli_quick_start(monitor_case, tmp_path):
    """The README's quick start, through the command line."""
    run = CliRunner().invoke
    url = str(tmp_path / "monitor.duckdb")
    conf = tmp_path / "monitor.toml"
    conf.write_text('[smoothing]\nmethod = "rolling"\nsize = 2\n')
    res = run(
        app,
        ["monitor", "init", "--store", url, "--reference", str(monitor_case / "ref.parquet"), "--target", "y",
         "--model", str(monitor_case / "model.joblib"), "--id-column", "id", "--time-column", "ts",
         "--window", "1d", "--config", str(conf)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "initialised" in res.output
    again = run(
        app,
        [
            "monitor",
            "init",
            "--store",
            url,
            "--reference",
            str(monitor_case / "ref.parquet"),
            "--target",
            "y",
        ],
    )
    assert again.exit_code == 2 and "already initialised" in " ".join(again.output.split())
    for d in range(3):
        b, lab = write_batch(tmp_path, d, n=800)
        res = run(app, ["monitor", "log", "--store", url, "--batch", str(b)])
        assert res.exit_code == 0 and "logged batch" in res.output
        res = run(
            app,
            ["monitor", "label", "--store", url, "--labels", str(lab), "--labelled-at-column", "labelled_at"],
        )
        assert res.exit_code == 0 and "800 matched" in " ".join(res.output.split())
    out = tmp_path / "check.json"
    res = run(app, ["monitor", "check", "--store", url, "--json", str(out), "--as-of", "2024-02-01"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert [w["realised"]["labelled_share"] for w in doc["windows"]] == [1.0, 1.0, 1.0]
    bad = run(
        app,
        [
            "monitor",
            "init",
            "--store",
            str(tmp_path / "x.duckdb"),
            "--reference",
            str(monitor_case / "ref.parquet"),
            "--target",
            "y",
            "--window",
            "soon",
        ],
    )
    assert bad.exit_code == 2
