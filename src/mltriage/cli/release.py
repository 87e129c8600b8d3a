"""`mltriage gate` and `mltriage latency`: a retrained model against the one in production, and where the milliseconds go."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import (  # noqa: F401
    app,
    err,
    fail_on_option,
    finish,
    handles_input_errors,
    html_option,
    json_option,
    out,
    output_path,
    positive_class_option,
    quiet_option,
    split_list,
    strict_option,
)

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
    positive_class: Optional[str] = positive_class_option(),
    task: Optional[str] = typer.Option(
        None, "--task", help="binary, multiclass or regression (inferred when absent)"
    ),
    categorical: Optional[str] = typer.Option(
        None, "--categorical", help="comma-separated categorical columns (inferred from dtypes when absent)"
    ),
    json_out: Optional[Path] = json_option(),
    html_out: Optional[Path] = html_option(),
    markdown_out: Optional[Path] = typer.Option(
        None,
        "--markdown",
        callback=output_path,
        help="write a markdown report here (for the pull request of the release)",
    ),
    fail_on: Optional[str] = typer.Option(
        "warning",
        "--fail-on",
        callback=fail_on_option,
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
    strict: bool = strict_option(),
    config: Optional[Path] = typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or \\[tool.mltriage] in pyproject.toml)"
    ),
    quiet: bool = quiet_option(),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Gate a retrained model: the candidate against the baseline on the same rows, overall and per
    slice, with paired bootstrap intervals. Exit 1 (with --fail-on warning, the default) when any
    rollback criterion holds: significantly worse overall or on a slice of >= 1% of rows by more
    than --max-drop, less calibrated, a shifted positive rate, or slower."""
    from ..commands.gate import gate as run
    from ..config import load_config

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
        positive_class=positive_class,
        task=task,
        categorical=split_list(categorical) or None,
        config=cfg,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
    )
    if not quiet:
        from ..report.gate_table import gate_tables

        for table in gate_tables(report.details):
            out.print(table)
    finish(report, json_out, html_out, quiet, verbose, fail_on or "warning", cfg.strict, markdown_out)


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
    positive_class: Optional[str] = positive_class_option(),
    json_out: Optional[Path] = json_option(),
    html_out: Optional[Path] = html_option(),
    markdown_out: Optional[Path] = typer.Option(
        None, "--markdown", callback=output_path, help="write a markdown report here"
    ),
    fail_on: Optional[str] = typer.Option(
        None,
        "--fail-on",
        callback=fail_on_option,
        help="exit 1 when a finding is at least this severe: warning (e.g. the target is missed), critical or never",
    ),
    select: Optional[str] = typer.Option(None, "--select", help="only these latency codes, comma-separated"),
    ignore: Optional[str] = typer.Option(None, "--ignore", help="skip these codes, e.g. latency.slow_step"),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a setting: CODE.NAME=VALUE, e.g. latency.target_missed.budget_s=2"
    ),
    strict: bool = strict_option(),
    config: Optional[Path] = typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or \\[tool.mltriage] in pyproject.toml)"
    ),
    quiet: bool = quiet_option(),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Where the milliseconds go: single-row and batched latency (p50/p95/p99), each pipeline step's
    share, threads, whether a p99 target holds at a request rate, and measured options (batching,
    threads, a smaller model, a distilled surrogate) with their accuracy change."""
    from ..commands.latency import latency as run
    from ..config import load_config

    cfg = load_config(config)
    report = run(
        str(model),
        str(data),
        target=target,
        target_p99_ms=target_p99_ms,
        qps=qps,
        task=task,
        threshold=threshold,
        positive_class=positive_class,
        config=cfg,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
    )
    if not quiet:
        from ..report.latency_table import latency_tables

        for table in latency_tables(report.details):
            out.print(table)
    finish(report, json_out, html_out, quiet, verbose, fail_on or cfg.fail_on, cfg.strict, markdown_out)
