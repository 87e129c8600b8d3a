"""`mltriage diagnose`, `demo`, `explain`, `codes`: the debugging ladder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import (
    app,
    config_option,
    err,
    fail_on_option,
    finish,
    handles_input_errors,
    html_option,
    imports_first,
    json_option,
    out,
    output_path,
    positive_class_option,
    quiet_option,
    split_list,
    strict_option,
)


@app.command()
@handles_input_errors
@imports_first
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
    group_column: Optional[str] = typer.Option(
        None,
        "--group-column",
        help="group column: the query (ranking), or the entity the rows belong to (patient, user): grouped CV and entity overlap",
    ),
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
    positive_class: Optional[str] = positive_class_option(),
    cost: Optional[str] = typer.Option(None, "--cost", help="cost of errors, e.g. fp=1,fn=10"),
    cost_matrix: Optional[Path] = typer.Option(
        None,
        "--cost-matrix",
        help="classification: CSV of the cost of predicting a class (columns) when the truth is another (rows)",
    ),
    json_out: Optional[Path] = json_option(),
    html_out: Optional[Path] = html_option(),
    markdown_out: Optional[Path] = typer.Option(
        None,
        "--markdown",
        callback=output_path,
        help="write a markdown report here (for a pull request or a ticket)",
    ),
    fail_on: Optional[str] = typer.Option(
        None,
        "--fail-on",
        callback=fail_on_option,
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
    strict: bool = strict_option(),
    config: Optional[Path] = config_option(),
    quiet: bool = quiet_option(),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Diagnose a model and its data, bottom rung first."""
    from .. import checks  # noqa: F401  (the checks register before the heap settles)
    from ..commands.diagnose import diagnose as run
    from ..config import load_config
    from .startup import settle_heap

    settle_heap()
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
        positive_class=positive_class,
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


@app.command()
@handles_input_errors
def demo(
    json_out: Optional[Path] = typer.Option(
        None, "--json", callback=output_path, help="also write the JSON report here"
    ),
    html_out: Optional[Path] = typer.Option(
        None, "--html", callback=output_path, help="also write an HTML report here"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Diagnose a real data set shipped with mltriage, with realistic failures planted in it."""
    from ..demo import run_demo

    report = run_demo(console=out, verbose=verbose)
    if json_out:
        report.to_json(str(json_out))
    if html_out:
        report.to_html(str(html_out))


@app.command()
def explain(code: str = typer.Argument(..., help="a finding code, e.g. data.label_leakage")) -> None:
    """What a check detects, why it matters, how to confirm it and the fix."""
    from ..errors import closest
    from ..registry import load_all

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
    from ..registry import ordered

    for chk in ordered():
        out.print(f"[bold]{chk.code:40s}[/] {chk.summary}", highlight=False)
