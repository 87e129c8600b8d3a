"""`mltriage drift` and `mltriage profile`: a production batch against a reference."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError
from . import (  # noqa: F401
    app,
    config_option,
    err,
    fail_on_option,
    finish,
    handles_input_errors,
    html_option,
    out,
    output_path,
    positive_class_option,
    quiet_option,
    split_list,
    strict_option,
)

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
    positive_class: Optional[str] = positive_class_option(),
    min_rows: int = typer.Option(
        30,
        "--min-rows",
        help="smallest batch whose distributions are compared (smaller: row-by-row checks only)",
    ),
    json_out: Optional[Path] = typer.Option(
        None,
        "--json",
        callback=output_path,
        help="write the JSON report here (the per-feature statistics under details)",
    ),
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
        None, "--select", help="only these layers or codes, comma-separated (e.g. production.data_drift)"
    ),
    ignore: Optional[str] = typer.Option(
        None, "--ignore", help="skip these codes or layers, comma-separated"
    ),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a threshold: CODE.NAME=VALUE, e.g. production.data_drift.psi_warning=0.2"
    ),
    strict: bool = strict_option(),
    config: Optional[Path] = config_option(),
    quiet: bool = quiet_option(),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Compare a production batch with a reference (rows or a saved profile)."""
    from ..commands.drift import drift as run
    from ..config import load_config

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
        positive_class=positive_class,
        min_rows=min_rows,
        config=cfg,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
    )
    if not quiet:
        from ..report.drift_table import drift_table

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
    out_path: Path = typer.Option(..., "--out", callback=output_path, help="where to write the profile JSON"),
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
    quiet: bool = quiet_option(),
) -> None:
    """Summarise reference rows into a mergeable profile (bins, counts, quantiles, schema)."""
    from ..commands.profile import profile as run

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
