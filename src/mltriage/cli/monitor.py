"""`mltriage monitor ...`: the production checklist run continuously over a prediction store."""

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
    out,
    positive_class_option,
    quiet_option,
    split_list,
)

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
    positive_class: Optional[str] = positive_class_option(),
    force: bool = typer.Option(False, "--force", help="initialise an existing store again (new reference)"),
) -> None:
    """Create a store for one model: reference profile, settings and alert rules."""
    from ..commands.monitor import init as run

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
        positive_class=positive_class,
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
    quiet: bool = quiet_option(),
) -> None:
    """Log a batch of predictions (idempotent per batch id; bad rows quarantined with the reason)."""
    import json

    from ..commands.monitor import log as run

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
    from ..commands.monitor import label as run

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
        callback=fail_on_option,
        help="exit 1 when an open alert is at least this severe: warning, critical or never "
        "(default: the config's fail_on, critical)",
    ),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="judge the windows closed at this time (default: now, UTC)"
    ),
    quiet: bool = quiet_option(),
) -> None:
    """Evaluate every closed window; open, escalate and resolve alerts; route them."""
    import json

    from ..commands.monitor import check as run
    from ..monitor.reference import load
    from ..monitor.store import open_store

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
    quiet: bool = quiet_option(),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show info findings and every table"),
) -> None:
    """One window's diagnosis by the production rung (stored by `check`, else computed now)."""
    from ..commands.monitor import report as run

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
    from ..monitor.server import serve

    serve(
        store, host, port, token, echo=lambda s: out.print(s, highlight=False, markup=False), verbose=verbose
    )
