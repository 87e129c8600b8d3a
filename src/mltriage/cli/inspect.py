"""`mltriage replay` and `mltriage compare`: one production input through the pipeline, attributions between versions."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import (  # noqa: F401
    app,
    config_option,
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
    positive_class: Optional[str] = positive_class_option(),
    json_out: Optional[Path] = typer.Option(
        None,
        "--json",
        callback=output_path,
        help="write the JSON report here (the step-by-step trace under details)",
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
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a setting: CODE.NAME=VALUE, e.g. replay.step_error.max_detailed=10"
    ),
    strict: bool = strict_option(),
    config: Optional[Path] = config_option(),
    quiet: bool = quiet_option(),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings, every table and value"),
) -> None:
    """Reproduce a production bug: replay the exact input through the saved pipeline step by step."""
    from ..commands.replay import replay as run
    from ..config import load_config

    cfg = load_config(config)
    report = run(
        str(model),
        str(input_path),
        reference=str(reference) if reference else None,
        logged_prediction=logged_prediction,
        prediction_column=prediction_column,
        tolerance=tolerance,
        positive_class=positive_class,
        config=cfg,
        strict=strict,
        set_params=set_,
    )
    try:
        finish(report, json_out, html_out, quiet, verbose, fail_on or cfg.fail_on, cfg.strict, markdown_out)
    except typer.Exit:
        if not quiet:  # the trace after the standard report
            from ..report.replay_trace import replay_trace

            for part in replay_trace(report.details, verbose=verbose):
                out.print(part)
        raise


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
    positive_class: Optional[str] = positive_class_option(),
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
        None, "--select", help="only these codes, comma-separated (e.g. attribution.new_leakage)"
    ),
    ignore: Optional[str] = typer.Option(None, "--ignore", help="skip these codes, comma-separated"),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="a threshold: CODE.NAME=VALUE, e.g. attribution.new_leakage.near_perfect=0.9"
    ),
    strict: bool = strict_option(),
    config: Optional[Path] = config_option(),
    quiet: bool = quiet_option(),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """Compare SHAP attributions between two data versions or two model versions, and say why
    they moved: a population change, a preprocessing bug, new leakage, a training artifact."""
    from ..commands.compare import compare as run
    from ..config import load_config

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
        positive_class=positive_class,
        emit_test=str(emit_test) if emit_test else None,
        config=cfg,
        strict=strict,
        select=split_list(select),
        ignore=split_list(ignore),
        set_params=set_,
    )
    if not quiet:
        from ..report.compare_table import compare_table

        table = compare_table(report.details)
        if table is not None:
            out.print(table)
    finish(report, json_out, html_out, quiet, verbose, fail_on or cfg.fail_on, cfg.strict, markdown_out)
