"""`mltriage latency`: where the milliseconds go, and what would make the model fast enough.

    mltriage latency --model model.joblib --data rows.parquet [--target y]
                     [--target-p99-ms 50 --qps 1000] [--json out.json]

The case holds the rows given as `train` (the rows timed, and with `--target` the rows the options'
accuracy is measured on; there is no evaluation set) and the model. The latency.* checks run
through the one runner; `Report.details` holds the tables: per batch size (p50/p95/p99, per-row
time, throughput), each pipeline step's share, the thread pools, the queueing estimate at the
target rate, the batching table, the measured options ranked by benefit against risk, and the
tool's own overhead (its wall time against the time spent inside the model's calls).

The queueing model (`stats.queueing`): Poisson arrivals at `--qps`, one worker (a setting of
latency.target_missed), first come first served, a call on k rows drawn from the times measured
at the nearest batch sizes; batching takes every waiting request up to the batch size.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from ..case import Case, infer_task
from ..config import Config
from ..context import Context
from ..errors import InputError, closest, listing
from ..findings import TASKS
from ..io import load_model, read_rows
from ..positive import choose_positive
from ..report import Report
from ..runner import run_checks
from ..stats.production import model_outputs
from .diagnose import settings


def latency(
    model: Any,
    data: Any,
    *,
    target: str | None = None,
    target_p99_ms: float | None = None,
    qps: float | None = None,
    task: str | None = None,
    threshold: float | None = None,
    categorical: list[str] | None = None,
    positive_class: Any = None,
    config: Config | None = None,
    strict: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    set_params: list[str] | None = None,
) -> Report:
    """Profile a model's prediction latency on `data`; returns a Report (`details` holds the tables).

    `model`: a fitted model or a joblib path (loading a pickle runs its code: trust the file).
    `data`: rows the model takes (frame, CSV or Parquet). `target`: a label column in the rows, to
    measure the options' accuracy change. `target_p99_ms` with `qps`: the latency target and the
    request rate it must hold at (without `qps`, the target is judged on single rows).
    `positive_class`: binary, the class P(positive) is about (default the model's last class).
    Raises InputError (a ValueError) on bad input or settings.
    """
    t0 = time.perf_counter()
    cfg = settings(config, strict=strict, select=select, ignore=ignore, set_params=set_params)
    case = latency_case(
        model,
        data,
        target=target,
        target_p99_ms=target_p99_ms,
        qps=qps,
        task=task,
        threshold=threshold,
        categorical=categorical,
        positive_class=positive_class,
    )
    ctx = Context(case, cfg)
    report = run_checks(ctx, command="latency", scope=lambda c: c.layer == "latency", progress=False)
    report.details = latency_details(ctx, t0)
    report.seconds = round(time.perf_counter() - t0, 2)
    return report


def latency_details(ctx: Context, t0: float) -> dict[str, Any]:
    """The tables of the report; `t0`: when the command started (for its own overhead)."""
    from ..checks.workflow.latency_options import latency_options
    from ..checks.workflow.latency_state import latency_state, step_table, timing_table

    c = ctx.case
    try:
        st = latency_state(ctx)
        options = latency_options(ctx)
    except Exception as exc:  # the failure is in the report already
        return {"error": f"{type(exc).__name__}: {exc}"}
    wall = time.perf_counter() - t0
    model_s = st.clock.seconds  # every timed call, the options' too
    overhead = {
        "wall_s": wall,
        "model_s": model_s,
        "overhead_s": max(wall - model_s, 0.0),
        "overhead_share": max(wall - model_s, 0.0) / wall if wall else None,
        # the measurements alone (batch sizes, steps), without the options' refits and surrogates
        "measure_wall_s": st.build_s,
        "measure_model_s": st.model_s,
        "measure_overhead_share": max(st.build_s - st.model_s, 0.0) / st.build_s if st.build_s else None,
        "options_s": options["seconds"],
    }
    return {
        "method": st.method,
        "rows": st.rows,
        "threads": st.threads,
        "thread_pools": st.info,
        "target_p99_ms": c.target_p99_ms,
        "qps": c.qps,
        "latency": timing_table(st),
        "steps": step_table(st),
        "queue": st.queue.to_dict() if st.queue is not None else None,
        "batching": options["batching"],
        "options": options["rows"],
        "ranking": options["ranking"],
        "accuracy_metric": options["metric"],
        "overhead": overhead,
        "queueing_model": (
            "Poisson arrivals at the target rate, one worker per `workers`, first come first served; "
            "a call on k rows lasts a time drawn from those measured at the nearest batch sizes"
        ),
    }


def latency_case(
    model: Any,
    data: Any,
    *,
    target: str | None = None,
    target_p99_ms: float | None = None,
    qps: float | None = None,
    task: str | None = None,
    threshold: float | None = None,
    categorical: list[str] | None = None,
    positive_class: Any = None,
) -> Case:
    """Validate the inputs of a latency profile and return its Case (the rows as `train`)."""
    _positive("--target-p99-ms", target_p99_ms)
    _positive("--qps", qps)
    if qps is not None and target_p99_ms is None:
        raise InputError("--qps needs a latency target", "add --target-p99-ms, e.g. --target-p99-ms 50")
    adapter = load_model(model)
    if adapter is None:
        raise InputError("no model given", "pass --model model.joblib")
    rows = read_rows(data, "data")
    if target is not None and target not in rows.columns:
        raise InputError(
            f"target column {target!r} is not in the data.{closest(target, rows.columns)}",
            f"its columns are: {listing(rows.columns)}",
        )
    features = adapter.feature_names or [col for col in rows.columns if col != target]
    missing = [f for f in features if f not in rows.columns]
    if missing:
        raise InputError(
            f"the model takes {len(missing)} column(s) that the data lacks: {listing(missing)}",
            "pass rows with the columns the model was fitted on",
        )
    X = rows[features]
    try:
        out = model_outputs(adapter, X.head(64))
    except InputError:
        raise
    task_, why = _task(task, out.task, rows[target] if target else None)
    cats = list(categorical or []) or [f for f in features if not pd.api.types.is_numeric_dtype(rows[f])]
    classes = adapter.classes if task_ in ("binary", "multiclass") else None
    if task_ in ("binary", "multiclass") and classes is None and target:
        classes = sorted(pd.unique(rows[target].dropna()).tolist(), key=str)
    notes = [why] if why else []
    notes.append(f"the {len(rows):,} rows given are timed (case train); there is no evaluation set")
    if threshold is not None and task_ == "binary" and not 0 < threshold < 1:
        raise InputError(
            f"threshold {threshold} is outside (0, 1)", "give a probability threshold such as 0.5"
        )
    positive, how = choose_positive(positive_class, classes, adapter.classes, task_, target or "")
    return Case(
        train=rows,
        test=None,
        target=target or "",
        task=task_,
        features=features,
        categorical=cats,
        model=adapter,
        threshold=threshold,
        classes=classes,
        positive=positive,
        positive_how=how,
        notes=notes,
        target_p99_ms=target_p99_ms,
        qps=qps,
    )


def _positive(option: str, value: float | None) -> None:
    if value is not None and not (np.isfinite(value) and value > 0):
        raise InputError(f"{option} {value} must be a positive number", f"for example {option} 50")


def _task(task: str | None, from_outputs: str, labels: pd.Series | None) -> tuple[str, str | None]:
    if task:
        t = str(task).lower()
        if t not in TASKS:
            raise InputError(f"unknown task {task!r}.{closest(t, TASKS)}", f"use one of {', '.join(TASKS)}")
        return t, None
    if from_outputs == "regression" and labels is not None:
        t, why = infer_task(labels, None)
        if t in ("binary", "multiclass"):  # a classifier without probabilities
            return t, f"task inferred as {t}: {why}"
    return from_outputs, f"task inferred as {from_outputs} from the model's outputs"
