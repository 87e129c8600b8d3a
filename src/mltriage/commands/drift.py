"""`mltriage drift`: a production batch against a reference, without training or evaluation sets.

    mltriage profile --data train.parquet --out ref.json [--model model.joblib]
    mltriage drift --reference ref.json --current batch.parquet [--model model.joblib] [--json out.json]

`reference` is a profile JSON (no reference rows needed) or rows (a frame, CSV or Parquet);
`current` is a batch of rows, or a profile made `--like` the reference (for batches too large to
load: profile them in chunks first). A profile written with `--model` also holds the model's outputs
on the reference rows, so that `drift --model` compares predictions without the reference rows.

The command builds a batch-only `Case` (no evaluation set: `case.test` is None; the reference's
profile in `case.reference`) and runs, through the one runner, the checks that judge a production
batch: the production rung and the pipeline checks that need the batch. Those that need what a
batch-only comparison lacks (the evaluation set, labels) are listed as not applicable. The
per-feature drift table, the multivariate result and the row counts go into `Report.details`.

Bad input raises InputError (exit code 2 in the CLI) with what is wrong and what to do: a batch with
no column in common with the reference, only empty (all-NaN) shared columns, a prediction column that is neither numbers nor class labels, or a file too large for
the memory available (set MLTRIAGE_MEMORY_LIMIT, e.g. 4G, to cap it). A batch of fewer than
`min_rows` rows (even one) runs what can run row by row (schema, out-of-range values, skew,
serialization); the distribution checks say they are not applicable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..case import Case, infer_task
from ..config import Config
from ..context import Context
from ..errors import InputError, closest, listing
from ..findings import TASKS
from ..io import is_profile_path, load_model, read_profile, read_rows
from ..model import ModelAdapter
from ..positive import choose_positive
from ..registry import Check
from ..report import Report
from ..runner import run_checks
from ..stats.production import PRED_COL, model_outputs
from ..stats.profile import Profile, build_profile
from .diagnose import settings

PROFILE_BATCH_NOTE = (
    "the batch is a profile: schema, out-of-distribution, skew and prediction checks need its rows"
)


def drift(
    reference: Any,
    current: Any,
    *,
    model: Any = None,
    target: str | None = None,
    prediction_column: str | None = None,
    categorical: Iterable[str] | None = None,
    task: str | None = None,
    threshold: float | None = None,
    min_rows: int = 30,
    positive_class: Any = None,
    config: Config | None = None,
    strict: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    set_params: list[str] | None = None,
) -> Report:
    """Compare a production batch with a reference; returns a Report (`details` holds the
    per-feature drift table, the multivariate result and the row counts).

    `reference`: a Profile, a profile JSON path, or rows (a pandas/polars frame, CSV or Parquet).
    `current`: rows, or a Profile / profile JSON made `like` the reference. `model`: a fitted model
    or a joblib path (ranks drift by importance, compares predictions; loading a pickle runs its
    code: trust the file). `target`: a label column to leave out of the comparison (with labels in
    the batch). `prediction_column`: the scores production logged in the batch (with `model`:
    checked against the model; without: compared with the reference's). `task` is inferred from the
    model's outputs (or the logged scores) when absent; `threshold` is the decision threshold in use
    (binary, default 0.5); `positive_class` the class P(positive) is about (binary; default the
    model's last class). `select`/`ignore`/`set_params` as in `diagnose`.
    Raises InputError (a ValueError) on bad input or settings, naming the problem and the fix.
    """
    cfg = settings(config, strict=strict, select=select, ignore=ignore, set_params=set_params)
    case = batch_case(
        reference,
        current,
        model=model,
        target=target,
        prediction_column=prediction_column,
        categorical=list(categorical or []),
        task=task,
        threshold=threshold,
        min_rows=min_rows,
        positive_class=positive_class,
    )
    ctx = Context(case, cfg)
    report = run_checks(ctx, command="drift", scope=batch_scope(case), progress=False)
    report.details = drift_details(ctx)
    report.notes.extend(n for n in _after_notes(ctx) if n not in report.notes)
    return report


def batch_scope(case: Case) -> Callable[[Check], bool]:
    """The checks that judge a production batch: the production rung and the pipeline checks that
    need the batch; only data drift when the batch is a profile (no rows)."""
    if case.current is None:
        return lambda c: c.code == "production.data_drift"
    return lambda c: (
        c.layer == "production"
        or (c.layer == "pipeline" and ("current" in c.requires or c.code in BATCH_OR_EVALUATION))
    )


# pipeline checks that judge a batch without requiring one (they judge the evaluation set too)
BATCH_OR_EVALUATION = frozenset({"pipeline.train_serving_skew"})


def drift_details(ctx: Context) -> dict[str, Any]:
    """What is particular to `drift`: the per-feature drift table, the domain classifier's result
    and the row counts of the two sides."""
    c = ctx.case
    ref = c.reference
    current_rows = (
        len(c.current) if c.current is not None else c.current_profile.rows if c.current_profile else 0
    )
    rows = {"reference": ref.rows if ref is not None else None, "current": int(current_rows)}
    try:
        report = ctx.production().report
    except Exception:  # the failure is in the report already (every check that needed it failed)
        return {"drift": None, "multivariate": None, "rows": rows}
    mv = ctx.computed("production:mv")
    return {"drift": report.to_dict(), "multivariate": mv.to_dict() if mv is not None else None, "rows": rows}


def _after_notes(ctx: Context) -> list[str]:
    try:
        skipped = ctx.production().skipped
    except Exception:
        return []
    if not skipped:
        return []
    return ["not compared: " + "; ".join(f"{c} ({why})" for c, why in skipped.items())]


# ---------------------------------------------------------------------------------------------
# the batch-only case


@dataclass
class _Reference:
    profile: Profile
    rows: pd.DataFrame | None  # the reference rows, less the target and prediction columns
    columns: list[str]  # the columns to compare
    labels: pd.Series | None = None  # the reference rows' target column, when there is one


@dataclass
class _Batch:
    rows: pd.DataFrame | None
    profile: Profile | None
    notes: list[str] = field(default_factory=list)


def batch_case(
    reference: Any,
    current: Any,
    *,
    model: Any = None,
    target: str | None = None,
    prediction_column: str | None = None,
    categorical: list[str] | None = None,
    task: str | None = None,
    threshold: float | None = None,
    min_rows: int = 30,
    positive_class: Any = None,
) -> Case:
    """Validate the inputs of a batch-only comparison and return its Case."""
    cat = list(categorical or [])
    exclude = {x for x in (target, prediction_column) if x}
    ref = _read_reference(reference, exclude, cat, target, prediction_column, model)
    adapter = load_model(model)
    names = adapter.feature_names if adapter is not None else None
    features = [f for f in (names or ref.columns) if f not in exclude]
    batch = _read_batch(current, ref, features, min_rows)
    notes = list(batch.notes)
    logged = None
    if batch.rows is not None and prediction_column:
        logged = _logged_column(batch.rows, prediction_column, adapter)
    can_score = (
        adapter is not None and batch.rows is not None and all(f in batch.rows.columns for f in features)
    )
    if adapter is not None and batch.rows is not None and not can_score:
        notes.append(
            "the model cannot score the batch (model columns missing): no importance, "
            "prediction drift or serialization check"
        )
    if ref.rows is None and batch.rows is not None:
        notes.append("the reference is a profile: no multivariate (domain classifier) check")
    if batch.profile is not None:
        notes.append(PROFILE_BATCH_NOTE)
    task_, why = _task(task, adapter, batch.rows if can_score else None, features, logged, ref.labels)
    notes = ([why] if why else []) + notes
    threshold = _threshold(threshold, task_)
    if adapter is None and logged is not None:
        adapter = ModelAdapter.load(None, prediction_column)  # the logged scores stand for the model
    classes = adapter.classes if adapter is not None and adapter.kind != "precomputed" else None
    # without a model's classes, a chosen positive class is checked against the labels present
    labels = (
        classes if classes is not None or positive_class is None else _labels(ref.labels, batch.rows, target)
    )
    positive, how = choose_positive(positive_class, labels, classes, task_, target or "")
    return Case(
        train=ref.rows if ref.rows is not None else pd.DataFrame(),
        test=None,
        target=target or "",
        task=task_,
        features=features,
        categorical=cat,
        model=adapter,
        current=batch.rows,
        prediction_column=prediction_column,
        threshold=threshold,
        classes=classes,
        positive=positive,
        positive_how=how,
        notes=notes,
        reference=ref.profile,
        current_profile=batch.profile,
    )


def _labels(ref_labels: pd.Series | None, rows: pd.DataFrame | None, target: str | None) -> list | None:
    """The labels seen in the reference's and the batch's target column, sorted (None without)."""
    parts = [ref_labels] if ref_labels is not None else []
    if rows is not None and target and target in rows.columns:
        parts.append(rows[target])
    if not parts:
        return None
    vals = pd.unique(pd.concat(parts, ignore_index=True).dropna()).tolist()
    return sorted(vals, key=str) if vals else None


def _read_reference(
    reference: Any,
    exclude: set[str],
    cat: list[str],
    target: str | None,
    prediction_column: str | None,
    model: Any,
) -> _Reference:
    rows = labels = None
    if isinstance(reference, Profile):
        prof = reference
    elif not isinstance(reference, (str, Path)) or not is_profile_path(reference):
        rows = read_rows(reference, "reference")
        ref_pred = (
            rows[prediction_column] if prediction_column and prediction_column in rows.columns else None
        )
        labels = rows[target] if target and target in rows.columns else None
        rows = rows[[c for c in rows.columns if c not in exclude]]
        prof = build_profile(rows, categorical=cat)
        if ref_pred is not None and model is None:
            # without a model, the reference's own prediction column is the reference output
            pp = build_profile(pd.DataFrame({PRED_COL: pd.to_numeric(ref_pred, errors="coerce")}))
            prof.columns[PRED_COL] = pp.columns[PRED_COL]
    else:
        prof = read_profile(reference)
    columns = [c for c in prof.columns if c not in exclude and c != PRED_COL]
    if not columns:
        raise InputError("the reference has no columns to compare", "check --reference")
    if all(prof.columns[c].rows == prof.columns[c].missing for c in columns):
        raise InputError("every column of the reference is empty (all NaN)", "check the reference data")
    return _Reference(prof, rows, columns, labels)


def _read_batch(current: Any, ref: _Reference, features: list[str], min_rows: int) -> _Batch:
    if isinstance(current, Profile) or (isinstance(current, (str, Path)) and is_profile_path(current)):
        cur_p = current if isinstance(current, Profile) else read_profile(current)
        if not [f for f in features if f in cur_p.columns and f in ref.profile.columns]:
            raise InputError(
                "the batch profile has no column in common with the reference",
                f"reference columns: {listing(ref.columns)}; batch: {listing(cur_p.columns)}",
            )
        return _Batch(None, cur_p)
    cur = read_rows(current, "current")
    common = [f for f in features if f in cur.columns and f in ref.profile.columns]
    if not common:
        raise InputError(
            "the batch has no column in common with the reference",
            f"reference columns: {listing(ref.columns)}; batch columns: {listing(cur.columns)}",
        )
    notes = []
    if len(cur) < min_rows:  # a small batch is still data: what runs row by row runs
        notes.append(
            f"the batch has {len(cur)} row{'s' if len(cur) != 1 else ''}, fewer than the {min_rows} "
            "that comparing distributions needs: schema, out-of-range values, skew and serialization "
            "are checked row by row, the distribution checks are listed as not applicable (accumulate "
            "rows, e.g. a day instead of one request, to compare distributions)"
        )
    empty = [c for c in common if cur[c].isna().all()]
    if len(empty) == len(common):
        raise InputError(
            f"every column the batch shares with the reference is empty (all NaN): {listing(empty)}",
            "check the export that produced the batch",
        )
    if empty:
        notes.append(f"{len(empty)} column(s) arrive empty (all NaN): {listing(empty)}")
    return _Batch(cur, None, notes)


def _logged_column(cur: pd.DataFrame, col: str, adapter: ModelAdapter | None) -> pd.Series:
    """The scores production logged: numbers, or the model's class labels."""
    if col not in cur.columns:
        raise InputError(
            f"prediction column {col!r} is not in the batch", f"its columns are: {listing(cur.columns)}"
        )
    logged = cur[col]
    if logged.notna().sum() == 0:
        raise InputError(f"prediction column {col!r} is empty", "pass the column of logged scores")
    num = pd.to_numeric(logged, errors="coerce")
    parse = float(num.notna().sum() / max(int(logged.notna().sum()), 1))
    if parse < 0.9:
        classes = {str(c) for c in (adapter.classes or [])} if adapter is not None else set()
        vals = set(logged.dropna().astype(str).unique()[:1000])
        if not (classes and vals <= classes):
            raise InputError(
                f"prediction column {col!r} holds {logged.dtype} values that "
                f"are not scores{' or the model' + chr(39) + 's classes' if classes else ''} "
                f"(e.g. {', '.join(map(repr, list(vals)[:3]))})",
                "pass the column of numeric scores (binary: P(positive); regression: the prediction)",
            )
    return logged


def _task(
    task: str | None,
    adapter: ModelAdapter | None,
    scorable: pd.DataFrame | None,
    features: list[str],
    logged: pd.Series | None,
    labels: pd.Series | None,
) -> tuple[str, str | None]:
    """The task given, else the one the model's outputs (or the logged scores, or the reference's
    labels) reveal, with a note saying how it was inferred."""
    if task:
        t = str(task).lower()
        if t not in TASKS:
            raise InputError(f"unknown task {task!r}.{closest(t, TASKS)}", f"use one of {', '.join(TASKS)}")
        return t, None
    if adapter is not None and scorable is not None:
        t = model_outputs(adapter, scorable[features].head(64)).task
        why = f"task inferred as {t} from the model's outputs"
        if adapter.kind == "callable" and t == "binary":
            why += " (one number in [0, 1] per row: read as P(positive); pass --task regression if it is a quantity)"
        return t, why
    if adapter is not None and adapter.classes:
        t = "binary" if len(adapter.classes) == 2 else "multiclass"
        return t, f"task inferred as {t}: the model has {len(adapter.classes)} classes"
    if logged is not None:
        v = pd.to_numeric(logged, errors="coerce")
        t = "binary" if v.min() >= 0 and v.max() <= 1 else "regression"
        return t, f"task inferred as {t} from the logged scores"
    if labels is not None and labels.notna().any():
        t, why = infer_task(labels, None)
        return t, f"task inferred as {t}: {why}"
    return (
        "regression",
        "no model, logged scores or target: only the inputs are compared (task taken as regression)",
    )


def _threshold(threshold: float | None, task: str) -> float | None:
    if threshold is None:
        return None
    t = float(threshold)
    if task == "binary" and not 0.0 < t < 1.0:
        raise InputError(f"threshold {t} is outside (0, 1)", "give a probability threshold such as 0.5")
    return t
