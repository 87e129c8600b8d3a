"""`mltriage compare`: attribution shift between two data versions (or two model versions).

    mltriage compare --model MODEL --reference A.parquet --current B.parquet [--model-b NEW]
                     [--target y] [--segment "region == 'north'"] [--sample 2000]
                     [--emit-test test_attributions.py] [--json OUT] [--html OUT]

SHAP values of the model on a stratified sample of the reference rows and of the model (or
`--model-b`) on a stratified sample of the current rows (`checks/workflow/compare_state.py`), then
the checks of the attribution layer say what the shift means: a population change, a preprocessing
bug, new leakage (with `--target`), a training artifact (with `--model-b`), the drivers of a failing
segment's errors (with `--segment`). `--emit-test FILE` writes a pytest file that recomputes the
attributions on the fixed sample and fails when a top feature's share moves beyond the measured
spread (`compare_emit.py`).

The Case: `train` holds the reference rows (there is no training or evaluation set: `test` is
None), `current` the current rows, `model_b` the second model, `segment` the query. Bad input
raises InputError (exit code 2): a missing file or column, a target neither set has, a segment
query that does not parse or selects no row (or every row), a tree model without the optional
`shap` package (`pip install "mltriage[shap]"`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from ..case import Case, infer_task
from ..config import Config
from ..context import Context
from ..errors import InputError, closest, listing
from ..findings import TASKS
from ..io import load_model, read_rows
from ..model import ModelAdapter
from ..positive import choose_positive
from ..report import Report
from ..runner import run_checks
from ..stats.explain import ShapMissing
from ..stats.production import model_outputs
from .diagnose import settings

ANCHOR = "attribution.population_shift"  # its parameters size the shared state (compare_state.SHARED)
SHAP_HINT = 'pip install "mltriage[shap]" (the optional shap package explains tree models)'


def compare(
    model: Any,
    reference: Any,
    current: Any,
    *,
    model_b: Any = None,
    target: str | None = None,
    segment: str | None = None,
    sample: int | None = None,
    categorical: Iterable[str] | None = None,
    task: str | None = None,
    threshold: float | None = None,
    positive_class: Any = None,
    emit_test: str | Path | None = None,
    config: Config | None = None,
    strict: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    set_params: list[str] | None = None,
) -> Report:
    """Compare the model's SHAP attributions on `reference` and `current` rows (or, with `model_b`,
    a second model's on the current rows); returns a Report whose findings say what the shift
    means and whose `details` hold the per-feature table and the dependence curves.

    `model`, `model_b`: fitted models or joblib paths (loading a pickle runs its code: trust the
    file). `reference`, `current`: frames or CSV/Parquet paths with the model's input columns.
    `target`: the label column (enables new-leakage, the seed spread and a segment's errors).
    `segment`: a pandas query on the current rows. `sample`: rows explained per side (default
    2,000). `positive_class`: binary, the class P(positive) is about (default the model's last
    class). `emit_test`: where to write a pytest regression test of the attributions.
    Raises InputError (a ValueError) on bad input, naming the problem and the fix.
    """
    t0 = time.perf_counter()
    cfg = settings(config, strict=strict, select=select, ignore=ignore, set_params=set_params)
    if sample is not None:
        cfg.checks.setdefault(ANCHOR, {})["sample"] = sample
        cfg.validate()
    # one thread: on a busy machine, OpenMP workers of gradient boosting spin (see runner._threads)
    with threadpool_limits(limits=max(1, int(cfg.n_jobs))):
        case = compare_case(
            model,
            reference,
            current,
            model_b=model_b,
            target=target,
            segment=segment,
            categorical=list(categorical or []),
            task=task,
            threshold=threshold,
            positive_class=positive_class,
        )
        ctx = Context(case, cfg)
        state = _state_or_input_error(ctx)
        report = run_checks(ctx, command="compare", scope=lambda c: c.layer == "attribution", progress=False)
        if state is not None:
            from .compare_emit import compare_details, write_test

            report.details = compare_details(ctx, state)
            if emit_test is not None:
                report.details["emitted_test"] = write_test(ctx, state, Path(emit_test), model)
            report.notes = list(ctx.notes)
    report.seconds = round(time.perf_counter() - t0, 2)  # reading, SHAP and the checks
    return report


def _state_or_input_error(ctx: Context) -> Any:
    """Build the shared state now: a tree model without shap is bad input (exit 2); any other
    failure is reported by the checks that needed the state."""
    from ..checks.workflow.compare_state import compare_state

    try:
        return compare_state(ctx)
    except ShapMissing:
        raise InputError(
            "explaining a tree model needs the optional shap package, which is not installed", SHAP_HINT
        ) from None
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# the case


def compare_case(
    model: Any,
    reference: Any,
    current: Any,
    *,
    model_b: Any = None,
    target: str | None = None,
    segment: str | None = None,
    categorical: list[str] | None = None,
    task: str | None = None,
    threshold: float | None = None,
    positive_class: Any = None,
) -> Case:
    """Validate the inputs of a comparison and return its Case."""
    if model is None:
        raise InputError("compare needs a model (--model)", "pass the fitted model saved with joblib")
    ref = read_rows(reference, "reference")
    cur = read_rows(current, "current")
    adapter = _model(model, "--model")
    adapter_b = _model(model_b, "--model-b") if model_b is not None else None
    if target and target not in ref.columns and target not in cur.columns:
        raise InputError(
            f"the target {target!r} is in neither the reference nor the current rows.{closest(target, cur.columns)}",
            f"the current columns are: {listing(cur.columns)}",
        )
    features = adapter.feature_names or [c for c in ref.columns if c != target]
    _require_columns(features, ref, "reference", "--model")
    _require_columns(features, cur, "current", "--model")
    if adapter_b is not None:
        _require_columns(adapter_b.feature_names or features, cur, "current", "--model-b")
    task_, why = _task(
        task, adapter, cur[features], cur[target] if target and target in cur.columns else None
    )
    notes = [why] if why else []
    notes.append(
        "compare: the reference rows stand as `train` in the report's row counts, the current rows as `current`"
    )
    cats = list(categorical or []) or [
        f
        for f in features
        if not (pd.api.types.is_numeric_dtype(ref[f]) and not pd.api.types.is_bool_dtype(ref[f]))
    ]
    classes = adapter.classes if task_ in ("binary", "multiclass") else None
    positive, how = choose_positive(positive_class, classes, adapter.classes, task_, target or "")
    return Case(
        train=ref,
        test=None,
        target=target or "",
        task=task_,
        features=list(features),
        categorical=cats,
        model=adapter,
        current=cur,
        threshold=_threshold(threshold, task_),
        classes=classes,
        positive=positive,
        positive_how=how,
        notes=notes,
        model_b=adapter_b,
        segment=_segment(segment, cur),
    )


def _model(model: Any, option: str) -> ModelAdapter:
    adapter = load_model(model)
    assert adapter is not None
    if adapter.kind == "precomputed":  # pragma: no cover - load_model never returns one for a model
        raise InputError(f"{option} must be a fitted model", "pass the model saved with joblib")
    return adapter


def _require_columns(features: list[str], df: pd.DataFrame, role: str, option: str) -> None:
    missing = [f for f in features if f not in df.columns]
    if missing:
        raise InputError(
            f"the model given with {option} takes {len(missing)} column(s) that the {role} rows lack: {listing(missing)}",
            f"pass {role} rows with the model's input columns; they have: {listing(df.columns)}",
        )


def _task(
    task: str | None, adapter: ModelAdapter, X: pd.DataFrame, y: pd.Series | None
) -> tuple[str, str | None]:
    if task:
        t = str(task).lower()
        if t not in TASKS or t == "ranking":
            raise InputError(
                f"unknown task {task!r} for compare.{closest(t, TASKS)}",
                "use binary, multiclass or regression",
            )
        return t, None
    try:
        t = model_outputs(adapter, X.head(64)).task
        return t, f"task inferred as {t} from the model's outputs"
    except InputError:
        raise
    except Exception:
        if y is None:
            raise InputError(
                "cannot tell the task from the model's outputs",
                "pass --task binary, multiclass or regression",
            ) from None
        t, why = infer_task(y, None)
        return t, f"task inferred as {t}: {why}"


def _threshold(threshold: float | None, task: str) -> float | None:
    if threshold is None:
        return None
    t = float(threshold)
    if task == "binary" and not 0.0 < t < 1.0:
        raise InputError(f"threshold {t} is outside (0, 1)", "give a probability threshold such as 0.5")
    return t


def _segment(expr: str | None, cur: pd.DataFrame) -> str | None:
    """The segment query, checked on the current rows: it parses, and selects some rows, not all."""
    if expr is None:
        return None
    hint = (
        f"write a pandas query such as \"region == 'north'\"; the current columns are: {listing(cur.columns)}"
    )
    try:
        n = len(cur.query(expr, engine="python"))
    except Exception as exc:
        raise InputError(
            f"--segment {expr!r} is not a valid query on the current rows: {type(exc).__name__}: {str(exc)[:200]}",
            hint,
        ) from None
    if n == 0:
        raise InputError(f"--segment {expr!r} selects none of the {len(cur):,} current rows", hint)
    if n == len(cur):
        raise InputError(
            f"--segment {expr!r} selects every current row: there is no rest to compare it with", hint
        )
    return expr
