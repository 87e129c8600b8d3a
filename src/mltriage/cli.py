"""The command line: `mltriage diagnose`, `demo`, `explain`, `codes` (and the production commands).

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad input or usage.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from .errors import InputError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    help="Debug machine-learning models the way a senior ML engineer does: climb the "
    "debugging ladder (data, pipeline, model, evaluation, errors, production) and "
    "get ranked findings with evidence and fixes.\n\n"
    "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input.",
)
out = Console()
err = Console(stderr=True)


def handles_input_errors(fn):
    """Turn InputError into one clear message on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            # the message and hint are plain text: brackets (`mltriage[shap]`, lists) are not markup
            err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, markup=True)
            if exc.hint:
                err.print(f"  [green]fix:[/] {escape(exc.hint)}", highlight=False)
            raise typer.Exit(2) from None
        except MemoryError:
            err.print("[bold red]error:[/] out of memory while reading or diagnosing the data")
            err.print(
                "  [green]fix:[/] pass a sample of the rows, or use `mltriage profile` to summarise "
                "the reference in chunks"
            )
            raise typer.Exit(2) from None

    return wrapper


def _fail_on(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.lower()
    if v not in ("warning", "critical", "never"):
        raise typer.BadParameter("use warning, critical or never")
    return v


@app.command()
@handles_input_errors
def diagnose(
    train: Path = typer.Option(..., "--train", help="training rows (CSV or Parquet)"),
    test: Path = typer.Option(..., "--test", help="evaluation rows (CSV or Parquet), same columns"),
    target: str = typer.Option(..., "--target", help="the target column"),
    task: Optional[str] = typer.Option(
        None, "--task", help="binary, multiclass, regression or ranking (inferred when absent)"
    ),
    model: Optional[Path] = typer.Option(
        None,
        "--model",
        help="a fitted model saved with joblib/pickle. "
        "[bold]Loading a pickle runs code from it: only load files you trust.[/]",
    ),
    current: Optional[Path] = typer.Option(None, "--current", help="a production batch (labels optional)"),
    history: Optional[Path] = typer.Option(
        None, "--history", help="training history CSV: epoch, loss, val_loss"
    ),
    time_column: Optional[str] = typer.Option(None, "--time-column", help="column ordering rows in time"),
    group_column: Optional[str] = typer.Option(None, "--group-column", help="query/group column (ranking)"),
    categorical: Optional[str] = typer.Option(
        None, "--categorical", help="comma-separated categorical columns (inferred from dtypes when absent)"
    ),
    prediction_column: Optional[str] = typer.Option(
        None,
        "--prediction-column",
        help="without --model: the model's outputs in every file; with --model: the scores production logged in --current",
    ),
    metric: Optional[str] = typer.Option(
        None, "--metric", help="the headline metric the model's owner reports"
    ),
    threshold: Optional[float] = typer.Option(
        None, "--threshold", help="the decision threshold in use (binary)"
    ),
    cost: Optional[str] = typer.Option(None, "--cost", help="cost of errors, e.g. fp=1,fn=10"),
    cost_matrix: Optional[Path] = typer.Option(
        None,
        "--cost-matrix",
        help="classification: CSV of the cost of predicting a class (columns) when the truth is another (rows)",
    ),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write an HTML report here"),
    markdown_out: Optional[Path] = typer.Option(
        None, "--markdown", help="write a markdown report here (for a pull request or a ticket)"
    ),
    fail_on: Optional[str] = typer.Option(
        None,
        "--fail-on",
        callback=_fail_on,
        help="exit 1 when a finding is at least this severe: warning, critical or never",
    ),
    select: Optional[str] = typer.Option(
        None, "--select", help="only these layers or codes, comma-separated (e.g. data,model)"
    ),
    ignore: Optional[str] = typer.Option(
        None, "--ignore", help="skip these codes or layers, comma-separated"
    ),
    fast: bool = typer.Option(False, "--fast", help="skip the slow checks (the model baselines's refits)"),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a check threshold: CODE.NAME=VALUE (repeatable)"
    ),
    strict: bool = typer.Option(False, "--strict", help="exit 2 when a check fails to run (crashes)"),
    config: Optional[Path] = typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or [tool.mltriage] in pyproject.toml)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Diagnose a model and its data, bottom rung first."""
    from .commands.diagnose import diagnose as run
    from .config import load_config

    cfg = load_config(config)
    report = run(
        str(train),
        str(test),
        target,
        model=str(model) if model else None,
        task=task,
        current=str(current) if current else None,
        history=str(history) if history else None,
        time_column=time_column,
        group_column=group_column,
        categorical=split_list(categorical) or None,
        prediction_column=prediction_column,
        metric=metric,
        threshold=threshold,
        cost=cost,
        cost_matrix=str(cost_matrix) if cost_matrix else None,
        config=cfg,
        fast=fast,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
        progress=not quiet,
    )
    finish(report, json_out, html_out, quiet, verbose, fail_on or cfg.fail_on, cfg.strict, markdown_out)


def split_list(s: str | None) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()] if s else []


def finish(
    report, json_out, html_out, quiet: bool, verbose: bool, fail_on: str, strict: bool, markdown_out=None
) -> None:
    """Write the files asked for, render to the terminal, exit with the gate's code."""
    if json_out:
        report.to_json(json_out)
    if html_out:
        report.to_html(html_out)
    if markdown_out:
        report.to_markdown(markdown_out, html_link=str(html_out) if html_out else None)
    if not quiet:
        from .report.terminal import render

        for part in render(report, verbose=verbose):
            out.print(part)
    raise typer.Exit(report.exit_code(fail_on, strict=strict))


@app.command()
@handles_input_errors
def demo(
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="also write an HTML report here"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Diagnose a real data set shipped with mltriage, with realistic failures planted in it."""
    from .demo import run_demo

    report = run_demo(console=out, verbose=verbose)
    if json_out:
        report.to_json(str(json_out))
    if html_out:
        report.to_html(str(html_out))


@app.command()
def explain(code: str = typer.Argument(..., help="a finding code, e.g. data.label_leakage")) -> None:
    """What a check detects, why it matters, how to confirm it and the fix."""
    from .errors import closest
    from .registry import load_all

    checks = load_all()
    if code not in checks:
        err.print(f"[bold red]error:[/] no check has the code {code!r}.{closest(code, checks)}")
        err.print("  [green]fix:[/] `mltriage codes` lists them")
        raise typer.Exit(2)
    chk = checks[code]
    out.print(f"[bold]{code}[/] — {chk.summary}  (rung {chk.rung})", highlight=False)
    for section, text in chk.doc.items():
        out.print(f"\n[bold]{section}[/]\n  {text}", highlight=False)
    needs = ", ".join(sorted(chk.requires)) or "nothing beyond training and evaluation rows"
    out.print(f"\n[bold]Needs[/]\n  {needs}; tasks: {', '.join(chk.tasks)}", highlight=False)
    if chk.params:
        out.print(f'\n[bold]Parameters[/] (mltriage.toml \\[checks."{code}"] or --set {code}.NAME=VALUE)')
        for k, prm in chk.params.items():
            out.print(f"  [bold]{k}[/] = {prm.default!r}  ({prm.constraint.describe()})", highlight=False)
            out.print(f"      {prm.doc}", highlight=False)


@app.command()
def codes() -> None:
    """List every finding code, rung by rung."""
    from .registry import ordered

    for chk in ordered():
        out.print(f"[bold]{chk.code:40s}[/] {chk.summary}", highlight=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        err.print("interrupted")
        sys.exit(130)


# ---------------------------------------------------------------------------------------------
# Production commands: `mltriage drift` and `mltriage profile` (logic in commands/drift.py and
# commands/profile.py).


@app.command()
@handles_input_errors
def drift(
    reference: Path = typer.Option(
        ..., "--reference", help="the reference: a profile JSON (from `mltriage profile`) or CSV/Parquet rows"
    ),
    current: Path = typer.Option(
        ...,
        "--current",
        help="the production batch: CSV/Parquet rows (or a profile JSON made --like the reference)",
    ),
    model: Optional[Path] = typer.Option(
        None,
        "--model",
        help="the fitted model (joblib): ranks drift by importance, compares predictions. "
        "[bold]Loading a pickle runs code from it: only load files you trust.[/]",
    ),
    categorical: Optional[str] = typer.Option(
        None, "--categorical", help="comma-separated categorical columns (inferred from dtypes when absent)"
    ),
    target: Optional[str] = typer.Option(
        None, "--target", help="a label column to leave out of the comparison"
    ),
    prediction_column: Optional[str] = typer.Option(
        None,
        "--prediction-column",
        help="scores production logged in the batch (with --model: checked against the model)",
    ),
    task: Optional[str] = typer.Option(
        None,
        "--task",
        help="binary, multiclass or regression (inferred from the model's outputs when absent)",
    ),
    threshold: Optional[float] = typer.Option(
        None, "--threshold", help="the decision threshold in use (binary; default 0.5)"
    ),
    min_rows: int = typer.Option(30, "--min-rows", help="smallest batch to compare"),
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="write the JSON report here (the per-feature statistics under details)"
    ),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write an HTML report here"),
    markdown_out: Optional[Path] = typer.Option(
        None, "--markdown", help="write a markdown report here (for a pull request or a ticket)"
    ),
    fail_on: Optional[str] = typer.Option(
        None,
        "--fail-on",
        callback=_fail_on,
        help="exit 1 when a finding is at least this severe: warning, critical or never",
    ),
    select: Optional[str] = typer.Option(
        None, "--select", help="only these layers or codes, comma-separated (e.g. production.data_drift)"
    ),
    ignore: Optional[str] = typer.Option(
        None, "--ignore", help="skip these codes or layers, comma-separated"
    ),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a threshold: CODE.NAME=VALUE, e.g. production.data_drift.psi_warning=0.2"
    ),
    strict: bool = typer.Option(False, "--strict", help="exit 2 when a check fails to run (crashes)"),
    config: Optional[Path] = typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or [tool.mltriage] in pyproject.toml)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Compare a production batch with a reference (rows or a saved profile)."""
    from .commands.drift import drift as run
    from .config import load_config

    cfg = load_config(config)
    report = run(
        str(reference),
        str(current),
        model=str(model) if model else None,
        target=target,
        prediction_column=prediction_column,
        categorical=split_list(categorical),
        task=task,
        threshold=threshold,
        min_rows=min_rows,
        config=cfg,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
    )
    if not quiet:
        from .report.drift_table import drift_table

        table = drift_table(report.details)
        if table is not None:
            out.print(table)
    finish(report, json_out, html_out, quiet, verbose, fail_on or cfg.fail_on, cfg.strict, markdown_out)


@app.command()
@handles_input_errors
def profile(
    data: list[Path] = typer.Option(
        ..., "--data", help="CSV/Parquet rows or profile JSONs (repeatable: merged into one profile)"
    ),
    out_path: Path = typer.Option(..., "--out", help="where to write the profile JSON"),
    categorical: Optional[str] = typer.Option(
        None, "--categorical", help="comma-separated categorical columns"
    ),
    target: Optional[str] = typer.Option(None, "--target", help="a label column to leave out"),
    exclude: Optional[str] = typer.Option(
        None, "--exclude", help="other columns to leave out, comma-separated"
    ),
    model: Optional[Path] = typer.Option(
        None,
        "--model",
        help="also profile this model's outputs on the rows (for prediction drift later). "
        "[bold]Loading a pickle runs code from it: only load files you trust.[/]",
    ),
    like: Optional[Path] = typer.Option(
        None, "--like", help="a reference profile whose bins to reuse (to profile a batch, or parts to merge)"
    ),
    chunk_rows: Optional[int] = typer.Option(
        None,
        "--chunk-rows",
        help="read Parquet in batches of this many rows (automatic when the file exceeds memory)",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
) -> None:
    """Summarise reference rows into a mergeable profile (bins, counts, quantiles, schema)."""
    from .commands.profile import profile as run

    if chunk_rows is not None and chunk_rows < 1:
        raise typer.BadParameter("--chunk-rows must be positive")
    prof = run(
        [str(d) for d in data],
        target=target,
        exclude=split_list(exclude),
        categorical=split_list(categorical),
        model=str(model) if model else None,
        like=str(like) if like else None,
        chunk_rows=chunk_rows,
    )
    try:
        prof.to_json(str(out_path))
    except OSError as exc:
        raise InputError(
            f"cannot write {str(out_path)!r}: {exc}", "check the folder exists and is writable"
        ) from None
    if not quiet:
        n_num, n_cat = len(prof.numeric()), len(prof.categorical())
        out.print(
            f"profile of {prof.rows:,} rows: {n_num} numeric and {n_cat} categorical columns -> {out_path}"
        )


# ---- mltriage replay (logic in commands/replay.py; the trace's terminal view in report/replay_trace.py)


@app.command()
@handles_input_errors
def replay(
    model: Path = typer.Option(
        ...,
        "--model",
        help="the saved model (joblib/pickle): a Pipeline, nested ColumnTransformers, LightGBM or XGBoost. "
        "[bold]Loading a pickle runs code from it: only load files you trust.[/]",
    ),
    input_path: Path = typer.Option(
        ...,
        "--input",
        help="the input to replay: a JSON object (one row) or list of objects, or CSV/Parquet rows",
    ),
    reference: Optional[Path] = typer.Option(
        None,
        "--reference",
        help="training rows (CSV/Parquet): flags values outside their range or categories",
    ),
    logged_prediction: Optional[str] = typer.Option(
        None,
        "--logged-prediction",
        help="what production logged for the input row (a score, a value or a class)",
    ),
    prediction_column: Optional[str] = typer.Option(
        None, "--prediction-column", help="the input's column of logged predictions (several rows)"
    ),
    tolerance: Optional[float] = typer.Option(
        None, "--tolerance", help="largest |logged - recomputed| counted as equal (default 1e-6)"
    ),
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="write the JSON report here (the step-by-step trace under details)"
    ),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write an HTML report here"),
    markdown_out: Optional[Path] = typer.Option(
        None, "--markdown", help="write a markdown report here (for a pull request or a ticket)"
    ),
    fail_on: Optional[str] = typer.Option(
        None,
        "--fail-on",
        callback=_fail_on,
        help="exit 1 when a finding is at least this severe: warning, critical or never",
    ),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a setting: CODE.NAME=VALUE, e.g. replay.step_error.max_detailed=10"
    ),
    strict: bool = typer.Option(False, "--strict", help="exit 2 when a check fails to run (crashes)"),
    config: Optional[Path] = typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or [tool.mltriage] in pyproject.toml)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings, every table and value"),
) -> None:
    """Reproduce a production bug: replay the exact input through the saved pipeline step by step."""
    from .commands.replay import replay as run
    from .config import load_config

    cfg = load_config(config)
    report = run(
        str(model),
        str(input_path),
        reference=str(reference) if reference else None,
        logged_prediction=logged_prediction,
        prediction_column=prediction_column,
        tolerance=tolerance,
        config=cfg,
        strict=strict,
        set_params=set_,
    )
    try:
        finish(report, json_out, html_out, quiet, verbose, fail_on or cfg.fail_on, cfg.strict, markdown_out)
    except typer.Exit:
        if not quiet:  # the trace after the standard report
            from .report.replay_trace import replay_trace

            for part in replay_trace(report.details, verbose=verbose):
                out.print(part)
        raise


# ---- mltriage gate (logic in commands/gate.py; the terminal tables in report/gate_table.py)


@app.command()
@handles_input_errors
def gate(
    data: Path = typer.Option(
        ..., "--data", help="the evaluation rows (CSV or Parquet) both models are compared on"
    ),
    target: str = typer.Option(..., "--target", help="the target column"),
    baseline: Optional[Path] = typer.Option(
        None,
        "--baseline",
        help="the model in production (joblib). [bold]Loading a pickle runs code from it: only load files you trust.[/]",
    ),
    candidate: Optional[Path] = typer.Option(None, "--candidate", help="the retrained model (joblib)"),
    baseline_column: Optional[str] = typer.Option(
        None, "--baseline-column", help="instead of --baseline: the baseline's logged outputs in --data"
    ),
    candidate_column: Optional[str] = typer.Option(
        None,
        "--candidate-column",
        help="instead of --candidate: the candidate's logged outputs in --data (shadow or canary traffic)",
    ),
    metric: Optional[str] = typer.Option(
        None,
        "--metric",
        help="the headline metric: roc_auc (binary), accuracy (multiclass), r2 (regression), ...",
    ),
    slices: str = typer.Option(
        "auto",
        "--slices",
        help="auto (slices the search finds in both models' errors), or a JSON/YAML file of named slices "
        'compared besides them: [[{"column": "region", "op": "==", "value": "north"}], ...]',
    ),
    max_drop: Optional[float] = typer.Option(
        None,
        "--max-drop",
        help="largest tolerated drop of a metric, overall and on a slice holding >= 1% of rows (default 0.01)",
    ),
    threshold: Optional[float] = typer.Option(
        None, "--threshold", help="the decision threshold in use (binary)"
    ),
    task: Optional[str] = typer.Option(
        None, "--task", help="binary, multiclass or regression (inferred when absent)"
    ),
    categorical: Optional[str] = typer.Option(
        None, "--categorical", help="comma-separated categorical columns (inferred from dtypes when absent)"
    ),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write an HTML report here"),
    markdown_out: Optional[Path] = typer.Option(
        None, "--markdown", help="write a markdown report here (for the pull request of the release)"
    ),
    fail_on: Optional[str] = typer.Option(
        "warning",
        "--fail-on",
        callback=_fail_on,
        help="exit 1 when a finding is at least this severe: warning (the gate's default: every rollback "
        "criterion fails the gate), critical (only a regression of the headline metric) or never",
    ),
    select: Optional[str] = typer.Option(None, "--select", help="only these gate codes, comma-separated"),
    ignore: Optional[str] = typer.Option(
        None, "--ignore", help="skip these codes, e.g. gate.latency_regression"
    ),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a threshold: CODE.NAME=VALUE, e.g. gate.regression_overall.n_boot=2000"
    ),
    strict: bool = typer.Option(False, "--strict", help="exit 2 when a check fails to run (crashes)"),
    config: Optional[Path] = typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or \\[tool.mltriage] in pyproject.toml)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Gate a retrained model: the candidate against the baseline on the same rows, overall and per
    slice, with paired bootstrap intervals. Exit 1 (with --fail-on warning, the default) when any
    rollback criterion holds: significantly worse overall or on a slice of >= 1% of rows by more
    than --max-drop, less calibrated, a shifted positive rate, or slower."""
    from .commands.gate import gate as run
    from .config import load_config

    cfg = load_config(config)
    report = run(
        str(data),
        target,
        baseline=str(baseline) if baseline else None,
        candidate=str(candidate) if candidate else None,
        baseline_column=baseline_column,
        candidate_column=candidate_column,
        metric=metric,
        slices=slices,
        max_drop=max_drop,
        threshold=threshold,
        task=task,
        categorical=split_list(categorical) or None,
        config=cfg,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
    )
    if not quiet:
        from .report.gate_table import gate_tables

        for table in gate_tables(report.details):
            out.print(table)
    finish(report, json_out, html_out, quiet, verbose, fail_on or "warning", cfg.strict, markdown_out)


# ---- mltriage compare (logic in commands/compare.py; the terminal table in report/compare_table.py)


@app.command()
@handles_input_errors
def compare(
    model: Path = typer.Option(
        ...,
        "--model",
        help="the fitted model (joblib). [bold]Loading a pickle runs code from it: only load files you trust.[/]",
    ),
    reference: Path = typer.Option(..., "--reference", help="reference rows (CSV or Parquet)"),
    current: Path = typer.Option(..., "--current", help="current rows (CSV or Parquet), the same columns"),
    model_b: Optional[Path] = typer.Option(
        None, "--model-b", help="a second model version, explained on the current rows (joblib)"
    ),
    target: Optional[str] = typer.Option(
        None, "--target", help="the label column: new leakage, the spread across seeds, a segment's errors"
    ),
    segment: Optional[str] = typer.Option(
        None,
        "--segment",
        help="a failing segment of the current rows, as a pandas query: \"region == 'north'\"",
    ),
    sample: Optional[int] = typer.Option(
        None, "--sample", help="rows explained per side, stratified (default 2000)"
    ),
    emit_test: Optional[Path] = typer.Option(
        None, "--emit-test", help="write a pytest file that fails when a top feature's attribution moves"
    ),
    categorical: Optional[str] = typer.Option(
        None, "--categorical", help="comma-separated categorical columns (inferred from dtypes when absent)"
    ),
    task: Optional[str] = typer.Option(
        None, "--task", help="binary, multiclass or regression (inferred from the model's outputs)"
    ),
    threshold: Optional[float] = typer.Option(
        None, "--threshold", help="the decision threshold in use (binary; default 0.5)"
    ),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write an HTML report here"),
    markdown_out: Optional[Path] = typer.Option(
        None, "--markdown", help="write a markdown report here (for a pull request or a ticket)"
    ),
    fail_on: Optional[str] = typer.Option(
        None,
        "--fail-on",
        callback=_fail_on,
        help="exit 1 when a finding is at least this severe: warning, critical or never",
    ),
    select: Optional[str] = typer.Option(
        None, "--select", help="only these codes, comma-separated (e.g. attribution.new_leakage)"
    ),
    ignore: Optional[str] = typer.Option(None, "--ignore", help="skip these codes, comma-separated"),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a threshold: CODE.NAME=VALUE, e.g. attribution.new_leakage.near_perfect=0.9"
    ),
    strict: bool = typer.Option(False, "--strict", help="exit 2 when a check fails to run (crashes)"),
    config: Optional[Path] = typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or [tool.mltriage] in pyproject.toml)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Compare SHAP attributions between two data versions or two model versions, and say why
    they moved: a population change, a preprocessing bug, new leakage, a training artifact."""
    from .commands.compare import compare as run
    from .config import load_config

    cfg = load_config(config)
    report = run(
        str(model),
        str(reference),
        str(current),
        model_b=str(model_b) if model_b else None,
        target=target,
        segment=segment,
        sample=sample,
        categorical=split_list(categorical),
        task=task,
        threshold=threshold,
        emit_test=str(emit_test) if emit_test else None,
        config=cfg,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
    )
    if not quiet:
        from .report.compare_table import compare_table

        table = compare_table(report.details)
        if table is not None:
            out.print(table)
    finish(report, json_out, html_out, quiet, verbose, fail_on or cfg.fail_on, cfg.strict, markdown_out)


# ---- mltriage latency (logic in commands/latency.py; the terminal tables in report/latency_table.py)


@app.command()
@handles_input_errors
def latency(
    model: Path = typer.Option(
        ...,
        "--model",
        help="the fitted model (joblib). [bold]Loading a pickle runs code from it: only load files you trust.[/]",
    ),
    data: Path = typer.Option(..., "--data", help="rows the model takes (CSV or Parquet)"),
    target: Optional[str] = typer.Option(
        None, "--target", help="a label column in --data: measures each option's accuracy change"
    ),
    target_p99_ms: Optional[float] = typer.Option(
        None, "--target-p99-ms", help="the p99 latency target in milliseconds"
    ),
    qps: Optional[float] = typer.Option(
        None, "--qps", help="the request rate the target must hold at (a queueing estimate on this machine)"
    ),
    task: Optional[str] = typer.Option(None, "--task", help="inferred from the model's outputs when absent"),
    threshold: Optional[float] = typer.Option(
        None, "--threshold", help="the decision threshold in use (binary)"
    ),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write an HTML report here"),
    markdown_out: Optional[Path] = typer.Option(None, "--markdown", help="write a markdown report here"),
    fail_on: Optional[str] = typer.Option(
        None,
        "--fail-on",
        callback=_fail_on,
        help="exit 1 when a finding is at least this severe: warning (e.g. the target is missed), critical or never",
    ),
    select: Optional[str] = typer.Option(None, "--select", help="only these latency codes, comma-separated"),
    ignore: Optional[str] = typer.Option(None, "--ignore", help="skip these codes, e.g. latency.slow_step"),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a setting: CODE.NAME=VALUE, e.g. latency.target_missed.budget_s=2"
    ),
    strict: bool = typer.Option(False, "--strict", help="exit 2 when a check fails to run (crashes)"),
    config: Optional[Path] = typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or \\[tool.mltriage] in pyproject.toml)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Where the milliseconds go: single-row and batched latency (p50/p95/p99), each pipeline step's
    share, threads, whether a p99 target holds at a request rate, and measured options (batching,
    threads, a smaller model, a distilled surrogate) with their accuracy change."""
    from .commands.latency import latency as run
    from .config import load_config

    cfg = load_config(config)
    report = run(
        str(model),
        str(data),
        target=target,
        target_p99_ms=target_p99_ms,
        qps=qps,
        task=task,
        threshold=threshold,
        config=cfg,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
    )
    if not quiet:
        from .report.latency_table import latency_tables

        for table in latency_tables(report.details):
            out.print(table)
    finish(report, json_out, html_out, quiet, verbose, fail_on or cfg.fail_on, cfg.strict, markdown_out)


# ---- mltriage monitor: the production checklist run continuously over a prediction store
# (logic in commands/monitor.py and the monitor package).

monitor_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode="rich",
    help="Monitor a model in production: log predictions into a store (a DuckDB file or a "
    "postgresql:// URL), add labels when they arrive, check every closed window and alert.",
)
app.add_typer(monitor_app, name="monitor")

STORE_HELP = "the store: a DuckDB file path (created if absent) or a postgresql:// URL"


@monitor_app.command("init")
@handles_input_errors
def monitor_init(
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    reference: Path = typer.Option(..., "--reference", help="reference rows with the target (CSV/Parquet)"),
    target: str = typer.Option(..., "--target", help="the target column of the reference and the labels"),
    model: Optional[Path] = typer.Option(
        None,
        "--model",
        help="the fitted model (joblib): scores batches that log no score, ranks features by importance. "
        "[bold]Loading a pickle runs code from it: only load files you trust.[/]",
    ),
    prediction_column: Optional[str] = typer.Option(
        None, "--prediction-column", help="the column of logged scores in the batches (and the reference)"
    ),
    id_column: Optional[str] = typer.Option(
        None, "--id-column", help="the prediction id (labels join on it)"
    ),
    time_column: Optional[str] = typer.Option(
        None, "--time-column", help="the prediction time (default: the time of logging)"
    ),
    window: Optional[str] = typer.Option(None, "--window", help="window length: 15min, 1h, 1d (default 1d)"),
    config: Optional[Path] = typer.Option(
        None, "--config", help="monitor settings (TOML): smoothing, alert rules, routes, sampling, retention"
    ),
    evaluation: Optional[Path] = typer.Option(
        None,
        "--evaluation",
        help="held-out rows with the target: reference performance and the CBPE calibration "
        "(default: the reference rows)",
    ),
    categorical: Optional[str] = typer.Option(
        None, "--categorical", help="comma-separated categorical columns"
    ),
    task: Optional[str] = typer.Option(None, "--task", help="binary or regression (inferred when absent)"),
    threshold: float = typer.Option(0.5, "--threshold", help="the decision threshold in use (binary)"),
    force: bool = typer.Option(False, "--force", help="initialise an existing store again (new reference)"),
) -> None:
    """Create a store for one model: reference profile, settings and alert rules."""
    from .commands.monitor import init as run

    info = run(
        store,
        str(reference),
        target,
        model=str(model) if model else None,
        prediction_column=prediction_column,
        id_column=id_column,
        time_column=time_column,
        window=window,
        config=config,
        evaluation=str(evaluation) if evaluation else None,
        categorical=split_list(categorical),
        task=task,
        threshold=threshold,
        force=force,
    )
    imp = f"; most important: {', '.join(info['important'])}" if info["important"] else ""
    out.print(
        f"initialised {info['store']}: {info['features']} features, {info['task']}, window {info['window']}, "
        f"{info['rules']} alert rules, scores from {info['scores']}{imp}",
        highlight=False,
    )


@monitor_app.command("log")
@handles_input_errors
def monitor_log(
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    batch: Path = typer.Option(..., "--batch", help="logged rows: id, time, features, score, latency_ms"),
    batch_id: Optional[str] = typer.Option(
        None,
        "--batch-id",
        help="the batch's id (default: the file's SHA-256); logging it again changes nothing",
    ),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write what was logged as JSON"),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local, or spark: summarise a Parquet file or a folder of partitioned Parquet with PySpark "
        "(pip install 'mltriage[spark]'; the active Spark session, else local[*] or MLTRIAGE_SPARK_MASTER; "
        "the batch id defaults to the folder's name; scores must be logged)",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
) -> None:
    """Log a batch of predictions (idempotent per batch id; bad rows quarantined with the reason)."""
    import json

    from .commands.monitor import log as run

    res = run(store, batch, batch_id, engine=engine)
    if json_out:
        json_out.write_text(json.dumps(res.to_dict(), indent=2), encoding="utf-8")
    if quiet:
        return
    if not res.logged:
        out.print(f"batch {res.batch_id} is already in the store: nothing changed", highlight=False)
        return
    out.print(
        f"logged batch {res.batch_id}: {res.rows:,} rows in {len(res.windows)} window(s), "
        f"{res.quarantined:,} quarantined",
        highlight=False,
    )
    for reason, n in sorted(res.reasons.items(), key=lambda kv: -kv[1]):
        out.print(f"  quarantined {n:,}: {reason}", highlight=False)
    for note in res.notes:
        out.print(f"  note: {note}", highlight=False)


@monitor_app.command("label")
@handles_input_errors
def monitor_label(
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    labels: Path = typer.Option(..., "--labels", help="rows with the prediction id and the target"),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="the id column (default: init's)"),
    target: Optional[str] = typer.Option(None, "--target", help="the label column (default: init's target)"),
    labelled_at: Optional[str] = typer.Option(
        None, "--labelled-at-column", help="when each label became known (default: now)"
    ),
) -> None:
    """Add labels to logged predictions, any time after them."""
    from .commands.monitor import label as run

    r = run(store, labels, id_column=id_column, target=target, labelled_at_column=labelled_at)
    out.print(
        f"{r['labels']:,} labels: {r['matched']:,} matched a logged prediction, {r['unmatched']:,} did not "
        f"(kept, they join if the prediction is logged later), {r['refused']:,} refused (no id or label)",
        highlight=False,
    )


@monitor_app.command("check")
@handles_input_errors
def monitor_check(
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    json_out: Optional[Path] = typer.Option(None, "--json", help='write {"windows": [...], "alerts": [...]}'),
    fail_on: Optional[str] = typer.Option(
        None,
        "--fail-on",
        callback=_fail_on,
        help="exit 1 when an open alert is at least this severe: warning, critical or never "
        "(default: the config's fail_on, critical)",
    ),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="judge the windows closed at this time (default: now, UTC)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
) -> None:
    """Evaluate every closed window; open, escalate and resolve alerts; route them."""
    import json

    from .commands.monitor import check as run
    from .monitor.reference import load
    from .monitor.store import open_store

    res = run(
        store, as_of=as_of, echo=None if quiet else (lambda s: out.print(s, highlight=False, markup=False))
    )
    if json_out:
        json_out.write_text(json.dumps(res.to_dict(), indent=2, default=str), encoding="utf-8")
    live = [a for a in res.alerts if a["status"] != "resolved"]
    if not quiet:
        for note in res.notes:
            out.print(f"note: {note}", highlight=False)
        out.print(
            f"{len(res.windows)} closed window(s); {len(live)} open alert(s), "
            f"{len(res.alerts) - len(live)} resolved",
            highlight=False,
        )
        for a in live:
            retrain = "retrain trigger met" if a.get("retrain") else "no retrain"
            out.print(
                f"  {a['severity']:<8} {a['code']:<40} {a['window_start']} .. {a['window_end']}  "
                f"{', '.join(a['columns'][:3])}  [{a.get('cause')}; {retrain}]",
                highlight=False,
                markup=False,
            )
    level = fail_on or load(open_store(store)).config.fail_on
    raise typer.Exit(res.exit_code(level))


@monitor_app.command("report")
@handles_input_errors
def monitor_report(
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    window: str = typer.Option(
        ..., "--window", help="the window's start, e.g. 2024-03-01 or 2024-03-01T13:00"
    ),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the window's JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write the window's HTML report here"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """One window's diagnosis by the production rung (stored by `check`, else computed now)."""
    from .commands.monitor import report as run

    rep = run(store, window)
    finish(rep, json_out, html_out, quiet, verbose, "never", False, None)


@monitor_app.command("serve")
@handles_input_errors
def monitor_serve(
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="the address to listen on (default: this machine only)"
    ),
    port: int = typer.Option(8765, "--port", help="the port (0: any free port)"),
    token: Optional[str] = typer.Option(
        None,
        "--token",
        envvar="MLTRIAGE_TOKEN",
        show_envvar=True,
        help="the token that acknowledging or resolving an alert needs (without it, nothing can be written)",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="log every request"),
) -> None:
    """The dashboard: time series of data, model and service, alerts, and each window's findings."""
    from .monitor.server import serve

    serve(
        store, host, port, token, echo=lambda s: out.print(s, highlight=False, markup=False), verbose=verbose
    )
