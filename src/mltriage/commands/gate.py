"""`mltriage gate`: the validation gate of a retraining pipeline, a candidate model against the
baseline in production on the same evaluation rows.

    mltriage gate --baseline old.joblib --candidate new.joblib --data eval.parquet --target y
    mltriage gate --baseline-column score_old --candidate-column score_new --data shadow.parquet --target y

Each side is a model file (or object) or a column of the outputs it logged on the same rows (the
shadow or canary phase: binary, P(positive); multiclass, the class; regression, the value). The
case holds the evaluation rows as `test` and the baseline as its model, the candidate in
`case.candidate`; a gate has no training rows (`case.train` is empty). The gate.* checks run
through the one runner; the report's `details` hold the verdict (rollback criteria, what improved),
the per-metric and per-slice tables with their intervals, calibration, positive rate and latency.

Slices file (`--slices FILE`, JSON; YAML too when PyYAML is installed): a list whose items are a
list of predicates, or an object with a name and its predicates:

    [
      [{"column": "region", "op": "==", "value": "north"}],
      {"name": "young drivers", "slice": [{"column": "age", "op": "<", "value": 25}]}
    ]

ops: ==, !=, in (a list), <, <=, >, >=, between ([low, high], both included). The named slices are
compared besides those the search finds (`--set gate.regression_slice.search=false` for named
slices only).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..case import Case, build_case
from ..config import Config
from ..context import Context
from ..errors import InputError, closest, listing
from ..io import load_model, read_rows
from ..model import ModelAdapter
from ..registry import NotApplicable
from ..report import Report
from ..runner import run_checks
from .diagnose import settings

SLICE_OPS = ("==", "!=", "in", "<", "<=", ">", ">=", "between")


def gate(
    data: Any,
    target: str,
    *,
    baseline: Any = None,
    candidate: Any = None,
    baseline_column: str | None = None,
    candidate_column: str | None = None,
    metric: str | None = None,
    slices: str | Path | list | None = "auto",
    max_drop: float | None = None,
    threshold: float | None = None,
    task: str | None = None,
    categorical: list[str] | None = None,
    positive_class: Any = None,
    config: Config | None = None,
    strict: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    set_params: list[str] | None = None,
) -> Report:
    """Gate a candidate model against the baseline on the same rows; returns a Report whose
    warning and critical findings are the rollback criteria (`details["verdict"]`).

    `data`: the evaluation rows (frame, CSV or Parquet) with the `target` column. `baseline`,
    `candidate`: fitted models or joblib paths (loading a pickle runs its code: trust the file),
    or instead `baseline_column`, `candidate_column`: the outputs both models logged on these rows.
    `metric`: the headline metric (roc_auc, accuracy, r2 by task). `slices`: "auto" (the search
    only), a slices file path (see the module's doc) or a list of predicate lists. `max_drop`:
    the largest tolerated drop of a metric, overall and per slice (default 0.01). `positive_class`:
    binary, the class the metrics, P(positive) and the positive rate are about (default the
    baseline model's last class, else the last label).
    Raises InputError (a ValueError) on bad input or settings.
    """
    extra = list(set_params or [])
    if max_drop is not None:
        if not np.isfinite(max_drop) or max_drop < 0:
            raise InputError(f"--max-drop {max_drop} must be a number >= 0", "for example --max-drop 0.01")
        extra += [
            f"gate.regression_overall.max_drop={max_drop}",
            f"gate.regression_slice.max_drop={max_drop}",
        ]
    cfg = settings(config, strict=strict, select=select, ignore=ignore, set_params=extra)
    case = gate_case(
        data,
        target,
        baseline=baseline,
        candidate=candidate,
        baseline_column=baseline_column,
        candidate_column=candidate_column,
        metric=metric,
        slices=slices,
        threshold=threshold,
        task=task,
        categorical=categorical,
        positive_class=positive_class,
    )
    ctx = Context(case, cfg)
    for probe in (lambda: ctx.predictions("test"), lambda: _candidate_probe(ctx)):
        try:
            probe()  # a model that cannot score the rows is bad input: say it before the checks
        except NotApplicable as exc:
            raise InputError(str(exc), "check the data has the columns both models take") from None
    report = run_checks(ctx, command="gate", scope=lambda c: c.layer == "gate", progress=False)
    from .gate_details import gate_details

    report.details = gate_details(ctx, report)
    return report


def _candidate_probe(ctx: Context) -> None:
    from ..checks.workflow.gate_state import candidate

    candidate(ctx)


# ---------------------------------------------------------------------------------------------
# the case


def gate_case(
    data: Any,
    target: str,
    *,
    baseline: Any = None,
    candidate: Any = None,
    baseline_column: str | None = None,
    candidate_column: str | None = None,
    metric: str | None = None,
    slices: str | Path | list | None = "auto",
    threshold: float | None = None,
    task: str | None = None,
    categorical: list[str] | None = None,
    positive_class: Any = None,
) -> Case:
    """Validate the inputs of a gate and return its Case (the rows as `test`, no training rows)."""
    _one_of(baseline, baseline_column, "baseline")
    _one_of(candidate, candidate_column, "candidate")
    rows = read_rows(data, "data")
    for role, col in (
        ("target", target),
        ("baseline column", baseline_column),
        ("candidate column", candidate_column),
    ):
        if col is not None and col not in rows.columns:
            raise InputError(
                f"{role} {col!r} is not in the data.{closest(col, rows.columns)}",
                f"its columns are: {listing(rows.columns)}",
            )
    base = load_model(baseline)
    _has_columns(base, rows, "baseline")
    if baseline_column is not None and baseline_column == candidate_column:
        raise InputError("the baseline and candidate columns are the same column", "name two columns")
    base_rows = rows.drop(columns=[candidate_column]) if candidate_column else rows
    case = build_case(
        base_rows,
        base_rows,
        target,
        task=task,
        model=base.obj if base is not None else None,
        prediction_column=baseline_column,
        categorical=categorical,
        metric=metric,
        threshold=threshold,
        positive_class=positive_class,
    )
    if candidate_column:  # the candidate's column back on the (labelled) rows
        labelled = rows[rows[target].notna()].reset_index(drop=True)
        case.test = case.frame("test").assign(**{candidate_column: labelled[candidate_column].to_numpy()})
    cand = _candidate(candidate, candidate_column, case)
    _check_metric(case)
    notes = [n for n in case.notes if " train rows " not in n]
    notes.append("a gate has no training rows: both models are compared on the --data rows")
    return dataclasses.replace(
        case,
        train=case.frame("test").iloc[:0],  # no training rows, but the columns and dtypes
        candidate=cand,
        gate_slices=read_slices(slices, case.frame("test")),
        notes=notes,
    )


def _one_of(model: Any, column: str | None, side: str) -> None:
    if isinstance(model, (str, Path)) and not Path(model).exists():
        raise InputError(
            f"{side} model file {str(model)!r} does not exist", f"check the path given to --{side}"
        )
    if (model is None) == (column is None):
        raise InputError(
            f"give the {side} either as a model (--{side}) or as a column of its logged outputs "
            f"(--{side}-column), {'not both' if model is not None else 'one of them'}",
            f"for example --{side} {side}.joblib",
        )


def _candidate(candidate: Any, column: str | None, case: Case) -> ModelAdapter:
    if column is not None:
        values = case.frame("test")[column]
        if case.task in ("binary", "regression") and not pd.api.types.is_numeric_dtype(values):
            raise InputError(
                f"candidate column {column!r} is {values.dtype}, not numeric",
                "binary: log P(positive class); regression: the prediction",
            )
        return ModelAdapter(None, prediction_column=column)
    adapter = load_model(candidate)
    assert adapter is not None
    _has_columns(adapter, case.frame("test"), "candidate")
    theirs, ours = adapter.classes, case.classes
    if theirs and ours and sorted(map(str, theirs)) != sorted(map(str, ours)):
        raise InputError(
            f"the candidate's classes ({listing(map(str, theirs))}) differ from the target's "
            f"({listing(map(str, ours))})",
            "gate two models of the same task and classes",
        )
    return adapter


def _has_columns(adapter: ModelAdapter | None, rows: pd.DataFrame, side: str) -> None:
    missing = [
        f for f in (adapter.feature_names if adapter is not None else None) or [] if f not in rows.columns
    ]
    if missing:
        raise InputError(
            f"the {side} takes {len(missing)} column(s) that the data lacks: {listing(missing)}",
            "pass rows with every column both models take",
        )


def _check_metric(case: Case) -> None:
    from ..checks.workflow.gate_state import DEFAULT_METRIC, METRICS

    if case.task not in METRICS:
        raise InputError(
            f"the gate compares binary, multiclass and regression models, not {case.task}",
            "use --task binary, multiclass or regression",
        )
    if case.metric is not None and case.metric not in METRICS[case.task]:
        raise InputError(
            f"--metric {case.metric!r} is not one the gate compares for a {case.task} model."
            f"{closest(case.metric, METRICS[case.task])}",
            f"use one of {', '.join(METRICS[case.task])} (default {DEFAULT_METRIC[case.task]})",
        )


# ---------------------------------------------------------------------------------------------
# the slices file


def read_slices(slices: str | Path | list | None, frame: pd.DataFrame) -> list[dict] | None:
    """The named slices of `--slices FILE` (or a list given from Python), validated; None for
    "auto" (the search only)."""
    if slices is None or (isinstance(slices, str) and slices.lower() == "auto"):
        return None
    items = slices if isinstance(slices, list) else _load_slices_file(Path(slices))
    if not isinstance(items, list) or not items:
        raise InputError("the slices file must hold a non-empty list of slices", _SLICES_HINT)
    out = []
    for i, item in enumerate(items):
        name, preds = (item.get("name"), item.get("slice")) if isinstance(item, dict) else (None, item)
        out.append({"name": str(name) if name else "", "slice": _predicates(preds, frame, i)})
    return out


_SLICES_HINT = (
    'write a JSON list of slices, each a list of predicates: [[{"column": "region", "op": "==", '
    '"value": "north"}]] (or {"name": ..., "slice": [...]})'
)


def _load_slices_file(path: Path) -> Any:
    if not path.exists():
        raise InputError(f"slices file {str(path)!r} does not exist", "pass --slices auto, or a JSON file")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise InputError(
                f"{str(path)!r} is YAML and PyYAML is not installed",
                "pip install pyyaml, or write it as JSON",
            ) from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"cannot read slices file {str(path)!r}: {exc}", _SLICES_HINT) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"cannot read slices file {str(path)!r}: {exc}", _SLICES_HINT) from None


def _predicates(preds: Any, frame: pd.DataFrame, i: int) -> list[dict]:
    if not isinstance(preds, list) or not preds:
        raise InputError(f"slice #{i + 1} in the slices file is not a list of predicates", _SLICES_HINT)
    out = []
    for q in preds:
        if not isinstance(q, dict) or not {"column", "op"} <= set(q):
            raise InputError(
                f"slice #{i + 1}: {q!r} is not a predicate with column, op and value", _SLICES_HINT
            )
        col, op, value = str(q["column"]), str(q["op"]), q.get("value")
        if col not in frame.columns:
            raise InputError(
                f"slice #{i + 1} names column {col!r}, which the data lacks.{closest(col, frame.columns)}",
                f"its columns are: {listing(frame.columns)}",
            )
        if op not in SLICE_OPS:
            raise InputError(
                f"slice #{i + 1}: unknown op {op!r}.{closest(op, SLICE_OPS)}", f"ops: {', '.join(SLICE_OPS)}"
            )
        if op == "between" and not (isinstance(value, list) and len(value) == 2):
            raise InputError(f"slice #{i + 1}: between needs [low, high], not {value!r}", _SLICES_HINT)
        if op == "in" and not isinstance(value, list):
            raise InputError(f"slice #{i + 1}: in needs a list of values, not {value!r}", _SLICES_HINT)
        out.append({"column": col, "op": op, "value": value})
    return out
