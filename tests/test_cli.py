"""End-to-end CLI: the command line of the benchmark, JSON format, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from mltriage.cli import app

runner = CliRunner()


def _args(d, *extra):
    return [
        "diagnose",
        "--train",
        str(d / "train.parquet"),
        "--test",
        str(d / "test.parquet"),
        "--target",
        "y",
        "--task",
        "binary",
        "--model",
        str(d / "model.joblib"),
        *extra,
    ]


def test_diagnose_writes_json(binary_files, tmp_path):
    out = tmp_path / "o.json"
    res = runner.invoke(app, _args(binary_files, "--json", str(out), "--quiet"))
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert isinstance(doc["findings"], list)
    for f in doc["findings"]:
        assert {
            "code",
            "layer",
            "severity",
            "title",
            "columns",
            "classes",
            "slice",
            "evidence",
            "root_cause",
            "fix",
        } <= set(f)
    assert doc["case"]["task"] == "binary"
    assert isinstance(doc["not_applicable"], list)


def test_terminal_report_and_html(binary_files, tmp_path):
    html = tmp_path / "r.html"
    res = runner.invoke(app, _args(binary_files, "--html", str(html), "--fast"))
    assert res.exit_code in (0, 1)
    assert "mltriage diagnosis" in res.output
    assert "<html" in html.read_text()


def test_fail_on_warning_gates(binary_files, tmp_path):
    # an infinite value planted in test: infinite_values is at least a warning
    import pandas as pd

    d = tmp_path
    tr = pd.read_parquet(binary_files / "train.parquet")
    te = pd.read_parquet(binary_files / "test.parquet")
    te.loc[:50, "x1"] = float("inf")
    tr.to_parquet(d / "train.parquet")
    te.to_parquet(d / "test.parquet")
    (d / "model.joblib").write_bytes((binary_files / "model.joblib").read_bytes())
    args = [
        "diagnose",
        "--train",
        str(d / "train.parquet"),
        "--test",
        str(d / "test.parquet"),
        "--target",
        "y",
        "--select",
        "data.infinite_values",
        "--quiet",
    ]
    assert runner.invoke(app, args + ["--fail-on", "warning"]).exit_code == 1
    assert runner.invoke(app, args + ["--fail-on", "never"]).exit_code == 0
    assert (
        runner.invoke(app, args + ["--ignore", "data.infinite_values", "--fail-on", "warning"]).exit_code == 0
    )


def test_bad_input_exit_2_without_traceback(binary_files):
    res = runner.invoke(app, _args(binary_files)[:5] + ["--target", "yy"])
    assert res.exit_code == 2
    assert "Did you mean 'y'" in res.output and "Traceback" not in res.output


def test_missing_file_exit_2(tmp_path):
    res = runner.invoke(
        app,
        ["diagnose", "--train", str(tmp_path / "a.csv"), "--test", str(tmp_path / "b.csv"), "--target", "y"],
    )
    assert res.exit_code == 2 and "does not exist" in res.output


def test_usage_error_exit_2():
    res = runner.invoke(app, ["diagnose", "--train", "x.csv"])
    assert res.exit_code == 2


def test_explain_and_codes():
    res = runner.invoke(app, ["explain", "data.infinite_values"])
    assert res.exit_code == 0 and "Why it matters" in res.output and "Fix" in res.output
    assert runner.invoke(app, ["explain", "data.infinite_value"]).exit_code == 2
    res = runner.invoke(app, ["codes"])
    assert "data.infinite_values" in res.output


def test_console_script_runs(binary_files, tmp_path):
    out = tmp_path / "o.json"
    proc = subprocess.run(
        [sys.executable, "-m", "mltriage", *_args(binary_files, "--json", str(out), "--quiet", "--fast")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(out.read_text())["findings"] is not None


def test_console_script_ends_without_teardown_but_with_its_output_and_exit_handlers(tmp_path):
    """cli.main ends the process without the interpreter's teardown: the output written last,
    an exit handler's output and the exit status are all there."""
    code = (
        "import atexit, sys; atexit.register(lambda: print('handler ran')); "
        "sys.argv = ['mltriage', *sys.argv[1:]]; from mltriage.cli import main; main()"
    )
    ok = subprocess.run([sys.executable, "-c", code, "codes"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "latency.slow_step" in ok.stdout and ok.stdout.rstrip().endswith("handler ran")
    missing = str(tmp_path / "none.csv")
    bad = subprocess.run(
        [sys.executable, "-c", code, "diagnose", "--train", missing, "--test", missing, "--target", "y"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "fix: check the path given for train" in bad.stderr
    assert "handler ran" in bad.stdout


def test_markdown_report_for_a_pull_request(binary_files, tmp_path):
    md, html = tmp_path / "sub" / "r.md", tmp_path / "r.html"
    res = runner.invoke(app, _args(binary_files, "--markdown", str(md), "--html", str(html), "--quiet"))
    assert res.exit_code in (0, 1), res.output
    text = md.read_text()
    assert text.startswith("## mltriage diagnosis") and len(text) < 65_000
    assert "roc_auc on evaluation" in text and str(html) in text


def test_markdown_stays_under_the_comment_limit():
    from mltriage import Finding, Report

    rows = [{"feature": f"f{i}", "value": "x" * 50} for i in range(40)]
    findings = [
        Finding("data.duplicates", "info", f"finding {i}", evidence={"rows": rows, "n": i})
        for i in range(400)
    ]
    text = Report(findings=findings).to_markdown()
    assert len(text) <= 65_000 and "left out" in text


def test_bad_setting_is_exit_2_with_did_you_mean(binary_files):
    res = runner.invoke(app, _args(binary_files, "--select", "dta", "--fail-on", "warning"))
    assert res.exit_code == 2
    assert "Did you mean 'data'" in res.output
    res = runner.invoke(app, _args(binary_files, "--set", "model.overfit.auc_gap=7"))
    assert res.exit_code == 2 and "must be a number in" in res.output


def test_drift_and_diagnose_json_share_the_top_level_keys_and_options(binary_files, tmp_path):
    from mltriage.report import TOP_LEVEL_KEYS

    d = binary_files
    diag, drift, html = tmp_path / "diag.json", tmp_path / "drift.json", tmp_path / "drift.html"
    res = runner.invoke(app, _args(d, "--json", str(diag), "--quiet", "--fast"))
    assert res.exit_code in (0, 1), res.output
    args = ["drift", "--reference", str(d / "train.parquet"), "--current", str(d / "test.parquet")]
    args += ["--model", str(d / "model.joblib"), "--target", "y", "--json", str(drift), "--html", str(html)]
    args += ["--select", "production", "--ignore", "production.out_of_distribution", "--fail-on", "warning"]
    res = runner.invoke(app, args)
    assert res.exit_code in (0, 1), res.output
    a, b = json.loads(diag.read_text()), json.loads(drift.read_text())
    assert list(a) == list(b) == list(TOP_LEVEL_KEYS)
    assert a["command"] == "diagnose" and b["command"] == "drift"
    assert {"code": "production.out_of_distribution", "reason": "deselected (--select/--ignore)"} in b[
        "skipped"
    ]
    assert html.read_text().startswith("<!doctype html>")
