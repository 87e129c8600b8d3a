"""The command line: `mltriage diagnose`, `demo`, `explain`, `codes` (and the production commands).

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad input or usage.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from .errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  pretty_exceptions_show_locals=False,
                  help="Debug machine-learning models the way a senior ML engineer does: climb the "
                       "debugging ladder (data, pipeline, model, evaluation, errors, production) and "
                       "get ranked findings with evidence and fixes.\n\n"
                       "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input.")
out = Console()
err = Console(stderr=True)


def handles_input_errors(fn):
    """Turn InputError into one clear message on stderr and exit code 2."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err.print(f"[bold red]error:[/] {exc.message}", highlight=False, markup=True)
            if exc.hint:
                err.print(f"  [green]fix:[/] {exc.hint}", highlight=False)
            raise typer.Exit(2) from None
        except MemoryError:
            err.print("[bold red]error:[/] out of memory while reading or diagnosing the data")
            err.print("  [green]fix:[/] pass a sample of the rows, or use `mltriage profile` to summarise "
                      "the reference in chunks")
            raise typer.Exit(2) from None
    return wrapper


def _fail_on(value: str) -> str:
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
    task: Optional[str] = typer.Option(None, "--task", help="binary, multiclass, regression or ranking (inferred when absent)"),
    model: Optional[Path] = typer.Option(None, "--model", help="a fitted model saved with joblib/pickle. "
                                         "[bold]Loading a pickle runs code from it: only load files you trust.[/]"),
    current: Optional[Path] = typer.Option(None, "--current", help="a production batch (labels optional)"),
    history: Optional[Path] = typer.Option(None, "--history", help="training history CSV: epoch, loss, val_loss"),
    time_column: Optional[str] = typer.Option(None, "--time-column", help="column ordering rows in time"),
    group_column: Optional[str] = typer.Option(None, "--group-column", help="query/group column (ranking)"),
    categorical: Optional[str] = typer.Option(None, "--categorical", help="comma-separated categorical columns (inferred from dtypes when absent)"),
    prediction_column: Optional[str] = typer.Option(None, "--prediction-column", help="without --model: the model's outputs in every file; with --model: the scores production logged in --current"),
    metric: Optional[str] = typer.Option(None, "--metric", help="the headline metric the model's owner reports"),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="the decision threshold in use (binary)"),
    cost: Optional[str] = typer.Option(None, "--cost", help="cost of errors, e.g. fp=1,fn=10"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write an HTML report here"),
    fail_on: str = typer.Option("critical", "--fail-on", callback=_fail_on, help="exit 1 when a finding is at least this severe: warning, critical or never"),
    select: Optional[str] = typer.Option(None, "--select", help="only these layers or codes, comma-separated (e.g. data,model)"),
    ignore: Optional[str] = typer.Option(None, "--ignore", help="skip these codes or layers, comma-separated"),
    fast: bool = typer.Option(False, "--fast", help="skip the slow checks (the model ladder's refits)"),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="a check threshold: CODE.NAME=VALUE (repeatable)"),
    config: Optional[Path] = typer.Option(None, "--config", help="settings file (default: mltriage.toml or [tool.mltriage] in pyproject.toml)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Diagnose a model and its data, bottom rung first."""
    from .config import load_config
    from .ladder import diagnose as run

    cfg = load_config(config)
    for s in set_ or []:
        cfg.set_param(s)
    if fail_on == "critical" and cfg.fail_on != "critical":
        fail_on = cfg.fail_on
    split = (lambda s: [x.strip() for x in s.split(",") if x.strip()] if s else None)
    report = run(str(train), str(test), target, model=str(model) if model else None, task=task,
                 current=str(current) if current else None, history=str(history) if history else None,
                 time_column=time_column, group_column=group_column, categorical=split(categorical),
                 prediction_column=prediction_column, metric=metric, threshold=threshold, cost=cost,
                 config=cfg, fast=fast, select=split(select), ignore=split(ignore),
                 progress=not quiet)
    if json_out:
        report.to_json(str(json_out))
    if html_out:
        report.to_html(str(html_out))
    if not quiet:
        from .report.terminal import render
        for part in render(report, verbose=verbose):
            out.print(part)
    raise typer.Exit(0 if fail_on == "never" else report.exit_code(fail_on))


@app.command()
@handles_input_errors
def demo(
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="also write an HTML report here"),
) -> None:
    """Diagnose a real data set shipped with mltriage, with realistic failures planted in it."""
    from .demo import run_demo
    report = run_demo(console=out)
    if json_out:
        report.to_json(str(json_out))
    if html_out:
        report.to_html(str(html_out))


@app.command()
def explain(code: str = typer.Argument(..., help="a finding code, e.g. data.label_leakage")) -> None:
    """What a check detects, why it matters, how to confirm it and the fix."""
    from .registry import load_all
    from .errors import closest
    checks = load_all()
    if code not in checks:
        err.print(f"[bold red]error:[/] no check has the code {code!r}.{closest(code, checks)}")
        err.print("  [green]fix:[/] `mltriage codes` lists them")
        raise typer.Exit(2)
    chk = checks[code]
    out.print(f"[bold]{code}[/] — {chk.summary}")
    for section, text in chk.doc.items():
        out.print(f"\n[bold]{section}[/]\n  {text}")
    if chk.params:
        out.print("\n[bold]Parameters[/] (mltriage.toml [checks.\"%s\"] or --set %s.NAME=VALUE)" % (code, code))
        for k, v in chk.params.items():
            out.print(f"  {k} = {v!r}")


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
# Production commands (drift, profile) are registered below by the production rung.
# ---------------------------------------------------------------------------------------------
