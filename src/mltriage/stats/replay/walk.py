"""Rows sent through a fitted model one step at a time, as its own predict would send them.

The walk follows scikit-learn's containers recursively: a Pipeline's steps in order, each branch of
a ColumnTransformer on its own columns (the remainder too: dropped or passed through) and each
branch of a FeatureUnion on the whole input, then the container's own transform, so that the next
step receives exactly what the real pipeline hands it (sparse or dense, array or frame). The final
estimator (scikit-learn, LightGBM, XGBoost) predicts with predict_proba when it has one, else predict.

All replayed rows go through each step together. When a step raises, the rows are split in halves
until the rows that raise are isolated (a few calls for a few bad rows); those rows stop there with
the step's name and the error, and the others go on. A row whose output gains a NaN or an infinity
that its input did not have is marked at that step and goes on, so that the trace shows whether a
later step absorbs it (an imputer, a model that handles missing values) or breaks on it; its
outcome names that step when the row ends without a finite output. Every step records its wall time, the warnings
it raised, its output columns (`get_feature_names_out` where the step has it) and, for the rows
traced in detail, its output values.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...positive import positive_index
from ..rows import scalar
from .dtypes import restore_categories
from .explain import describe
from .frames import (
    introduced_non_finite,
    n_rows,
    non_finite_columns,
    row_values,
    stack,
    take_columns,
    take_rows,
    width,
)
from .ranges import Flag, model_flags, reference_flags, step_flags

OK, ERROR, NON_FINITE = "ok", "error", "non_finite"


@dataclass
class StepRecord:
    """One step of the walk, over all the rows that reached it."""

    path: str  # e.g. "prep/num/impute"
    kind: str  # the step's class name
    role: str  # "input", "transform", "combine" (a container's output), "passthrough", "drop", "predict"
    input_columns: list[str]
    output_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time over all its rows (retries included when rows raised)
    rows: int = 0  # rows it received
    reached: list[int] = field(default_factory=list)  # detailed rows that reached it
    values: dict[int, dict[str, Any]] = field(default_factory=dict)  # detailed row -> its output
    omitted: dict[int, int] = field(default_factory=dict)  # detailed row -> zero columns not shown
    errors: dict[int, str] = field(default_factory=dict)  # row -> the error, in plain words
    non_finite: dict[int, list[str]] = field(default_factory=dict)  # row -> columns gone NaN/inf
    warnings: list[str] = field(default_factory=list)

    def status(self, row: int) -> str:
        return ERROR if row in self.errors else NON_FINITE if row in self.non_finite else OK

    def entry(self, row: int) -> dict[str, Any]:
        """This step as one row's trace shows it."""
        status = self.status(row)
        out: dict[str, Any] = {
            "step": self.path,
            "class": self.kind,
            "role": self.role,
            "input_columns": self.input_columns,
            "output_columns": self.output_columns,
            "values": self.values.get(row, {}),
            "seconds": round(self.seconds, 6),
            "ms_per_row": round(1000 * self.seconds / max(self.rows, 1), 4),
            "status": status,
        }
        if self.omitted.get(row):
            out["zero_columns_not_shown"] = self.omitted[row]
        if status == ERROR:
            out["error"] = self.errors[row]
        elif status == NON_FINITE:
            out["non_finite_columns"] = self.non_finite[row]
        if self.warnings:
            out["warnings"] = self.warnings
        return out


@dataclass
class RowOutcome:
    """Where one replayed row ended: the model's output, or the step that stopped it."""

    row: int
    status: str = OK  # OK, ERROR or NON_FINITE
    step: str | None = None
    step_kind: str | None = None
    message: str | None = None
    score: float | None = None  # binary: P(positive class); multiclass: top probability; else the prediction
    label: Any = None  # the predicted class (classification) or value
    outputs: dict[str, Any] | None = None  # the final step's outputs (P(class) or prediction)
    non_finite_at: str | None = None  # the first step whose output gained NaN or inf for this row
    non_finite_columns: list[str] = field(default_factory=list)  # its output columns gone NaN/inf


@dataclass
class Trace:
    """The walk's result: its steps in order, each row's outcome, the range flags."""

    steps: list[StepRecord]
    outcomes: list[RowOutcome]
    flags: list[Flag]
    detailed: list[int]
    output: str | None  # "predict_proba", "predict", or None when the model has no final estimator
    classes: list[Any] | None
    notes: list[str] = field(default_factory=list)

    def row_trace(self, row: int) -> list[dict[str, Any]]:
        """A detailed row's steps, in order, as far as it got."""
        return [s.entry(row) for s in self.steps if row in s.reached]


@dataclass
class Flow:
    X: Any  # what the next step receives
    rows: np.ndarray  # the replayed positions of X's rows
    names: list[str]  # X's column names


def _finite(v: Any) -> bool:
    return not isinstance(v, float) or bool(np.isfinite(v))


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _bisect(
    fn: Callable[[Any], Any], X: Any, pos: np.ndarray, whole: bool
) -> tuple[list, dict[int, Exception]]:
    """fn on the rows at `pos`; on failure, on each half, down to the single rows that raise."""
    if not len(pos):
        return [], {}
    try:
        return [(pos, fn(X if whole else take_rows(X, pos)))], {}
    except Exception as exc:
        if len(pos) == 1:
            return [], {int(pos[0]): exc}
        mid = len(pos) // 2
        a, fa = _bisect(fn, X, pos[:mid], False)
        b, fb = _bisect(fn, X, pos[mid:], False)
        return a + b, {**fa, **fb}


def apply(fn: Callable[[Any], Any], X: Any) -> tuple[Any, np.ndarray, dict[int, Exception], float, list[str]]:
    """(output of the rows that passed, their positions in X, {position: exception}, seconds,
    the warnings raised)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts, failures = _bisect(fn, X, np.arange(n_rows(X)), True)
    seconds = time.perf_counter() - t0
    said = [
        " ".join(str(w.message).split())[:200]
        for w in caught
        if not issubclass(w.category, (DeprecationWarning, FutureWarning))
    ]
    msgs = list(dict.fromkeys(said))[:3]
    if not parts:
        return None, np.array([], dtype=int), failures, seconds, msgs
    kept = np.concatenate([p for p, _ in parts])
    return stack([o for _, o in parts]), kept, failures, seconds, msgs


def output_names(est: Any, out: Any, names: list[str]) -> list[str]:
    """A step's output column names: the frame's own, else `get_feature_names_out`, else the input
    names when the width is kept, else x0, x1, ..."""
    w = width(out)
    if isinstance(out, pd.DataFrame):
        return [str(c) for c in out.columns]
    for args in ((names,), ()):
        try:
            got = [str(n) for n in est.get_feature_names_out(*args)]
        except Exception:
            continue
        if len(got) == w:
            return got
    return list(names) if len(names) == w else [f"x{j}" for j in range(w)]


class _Walker:
    def __init__(self, n: int, detailed: set[int], max_sd: float, positive: Any = None) -> None:
        self.positive = positive  # binary: the class whose probability is the row's score
        self.records: list[StepRecord] = []
        self.outcomes = {r: RowOutcome(r) for r in range(n)}
        self.flags: list[Flag] = []
        self.detailed = detailed
        self.max_sd = max_sd
        self.output: str | None = None
        self.classes: list[Any] | None = None

    # ------------------------------------------------------------------ containers
    def visit(self, est: Any, flow: Flow, path: str, final: bool) -> Flow:
        if not len(flow.rows):
            return flow
        if hasattr(est, "steps"):
            return self._pipeline(est, flow, path, final)
        if hasattr(est, "transformers_") or hasattr(est, "transformer_list"):
            return self._branches(est, flow, path)
        if final and hasattr(est, "predict"):
            return self._predict(est, flow, path or type(est).__name__)
        return self._step(est, flow, path or type(est).__name__, est.transform, "transform")

    def _pipeline(self, est: Any, flow: Flow, path: str, final: bool) -> Flow:
        last = len(est.steps) - 1
        for i, (name, step) in enumerate(est.steps):
            if step is None or isinstance(step, str):  # "passthrough"
                continue
            flow = self.visit(step, flow, _join(path, name), final and i == last)
        return flow

    def _branch_items(self, est: Any, flow: Flow) -> list[tuple[str, Any, list[int]]] | None:
        if hasattr(est, "transformer_list"):
            return [(n, t, list(range(width(flow.X)))) for n, t in est.transformer_list]
        indices = getattr(est, "_transformer_to_input_indices", None)
        if indices is None:
            return None
        return [(n, t, list(indices.get(n, []))) for n, t, _ in est.transformers_]

    def _branches(self, est: Any, flow: Flow, path: str) -> Flow:
        """Each branch on its columns, then the container's own output on the rows all kept."""
        path = path or type(est).__name__
        items = self._branch_items(est, flow)
        if items is None:  # column selection unknown: one step
            return self._step(est, flow, path, est.transform, "transform")
        survivors = set(flow.rows.tolist())
        for name, t, idx in items:
            if not idx:
                continue
            sub = Flow(take_columns(flow.X, idx), flow.rows, [flow.names[i] for i in idx])
            if t is None or isinstance(t, str):
                self._fixed(t or "drop", sub, _join(path, name))
                continue
            survivors &= set(self.visit(t, sub, _join(path, name), final=False).rows.tolist())
        if not survivors:  # every row stopped in some branch
            return Flow(None, np.array([], dtype=int), [])
        keep = np.flatnonzero(np.isin(flow.rows, list(survivors)))
        kept = Flow(take_rows(flow.X, keep), flow.rows[keep], flow.names)
        return self._step(est, kept, path, est.transform, "combine", flags=False)

    def _fixed(self, what: str, flow: Flow, path: str) -> None:
        """A branch that passes its columns through, or drops them."""
        role = "passthrough" if what == "passthrough" else "drop"
        rec = StepRecord(path, role, role, list(flow.names), rows=len(flow.rows))
        rec.output_columns = list(flow.names) if role == "passthrough" else []
        self._detail(rec, flow.X, flow.rows, flow.names)
        self.records.append(rec)

    # ------------------------------------------------------------------ steps
    def _step(
        self,
        est: Any,
        flow: Flow,
        path: str,
        fn: Callable[[Any], Any],
        role: str,
        flags: bool = True,
        namer: Callable[[Any, Any, list[str]], list[str]] = output_names,
    ) -> Flow:
        rec = StepRecord(path, type(est).__name__, role, list(flow.names), rows=len(flow.rows))
        if flags:
            self.flags += step_flags(est, flow.X, flow.names, flow.rows, path, self.max_sd)
        out, kept, failures, rec.seconds, rec.warnings = apply(fn, flow.X)
        rec.reached = [int(r) for r in flow.rows if r in self.detailed]
        self.records.append(rec)
        self._fail(rec, flow.rows, failures)
        if out is None:
            return Flow(None, np.array([], dtype=int), [])
        rows = flow.rows[kept]
        rec.output_columns = namer(est, out, flow.names)
        if role != "combine":  # a container's branches were judged one by one
            self._non_finite(rec, take_rows(flow.X, kept), out, rows)
        self._detail(rec, out, rows, rec.output_columns)
        return Flow(out, rows, rec.output_columns)

    def _predict(self, est: Any, flow: Flow, path: str) -> Flow:
        self.flags += model_flags(est, flow.X, flow.names, flow.rows, path)
        self.output = "predict_proba" if hasattr(est, "predict_proba") else "predict"
        classes = getattr(est, "classes_", None)
        self.classes = [scalar(c) for c in classes] if classes is not None else None
        fn = getattr(est, self.output)
        after = self._step(est, flow, path, fn, "predict", flags=False, namer=self._prediction_names)
        self._outputs(after, self.records[-1].output_columns)
        return after

    def _prediction_names(self, _est: Any, out: Any, _names: list[str]) -> list[str]:
        w = width(out)
        if self.output == "predict_proba" and self.classes and w == len(self.classes):
            return [f"P({c})" for c in self.classes]
        return ["prediction"] if w == 1 else [f"output{j}" for j in range(w)]

    def _outputs(self, flow: Flow, names: list[str]) -> None:
        if flow.X is None:
            return
        arr = np.asarray(flow.X)
        arr = arr.reshape(len(flow.rows), -1)
        for i, r in enumerate(flow.rows):
            o = self.outcomes[int(r)]
            vals = [scalar(v) for v in arr[i].tolist()]
            o.outputs = dict(zip(names, vals))
            if self.output == "predict_proba" and self.classes and len(vals) == len(self.classes):
                top = int(np.argmax(arr[i]))
                o.label = self.classes[top]
                pos = positive_index(self.classes, self.positive) if len(vals) == 2 else top
                o.score = float(arr[i][pos])
            else:
                o.label = vals[0]
                num = pd.to_numeric(pd.Series([vals[0]]), errors="coerce").iloc[0]
                o.score = None if pd.isna(num) else float(num)

    # ------------------------------------------------------------------ per-row bookkeeping
    def _fail(self, rec: StepRecord, rows: np.ndarray, failures: dict[int, Exception]) -> None:
        for pos, exc in failures.items():
            r = int(rows[pos])
            rec.errors[r] = describe(exc)
            o = self.outcomes[r]
            o.status, o.step, o.step_kind, o.message = ERROR, rec.path, rec.kind, rec.errors[r]

    def _non_finite(self, rec: StepRecord, X_in: Any, out: Any, rows: np.ndarray) -> None:
        """Mark the rows whose output gained NaN or inf at this step (they go on)."""
        try:
            gained = introduced_non_finite(X_in, out)
        except (TypeError, ValueError):
            return
        for i in np.flatnonzero(gained):
            r = int(rows[i])
            rec.non_finite[r] = non_finite_columns(out, int(i), rec.output_columns)
            o = self.outcomes[r]
            if o.non_finite_at is None:
                o.non_finite_at, o.non_finite_columns = rec.path, rec.non_finite[r]

    def settle(self) -> None:
        """The outcome of the rows that gained NaN or inf: stopped at that step when they end without
        a finite output, failed at the later step that raised on them, else scored (absorbed)."""
        for o in self.outcomes.values():
            if o.non_finite_at is None:
                continue
            cols = ", ".join(o.non_finite_columns[:5]) or "its output"
            origin = f"{cols} became NaN or infinite at {o.non_finite_at}"
            if o.status == ERROR:
                o.message = f"{o.message} (after {origin})"
            elif o.outputs is None or not all(_finite(v) for v in o.outputs.values()):
                o.status, o.step, o.message = NON_FINITE, o.non_finite_at, origin
                o.step_kind = next((s.kind for s in self.records if s.path == o.non_finite_at), None)
            else:
                o.message = f"{origin}; later steps absorbed it"

    def _detail(self, rec: StepRecord, X: Any, rows: np.ndarray, names: list[str]) -> None:
        rec.reached = rec.reached or [int(r) for r in rows if r in self.detailed]
        for i, r in enumerate(rows):
            if int(r) in self.detailed:
                rec.values[int(r)], rec.omitted[int(r)] = row_values(X, i, names)


def final_estimator(model: Any) -> Any:
    """The last step of a (nested) Pipeline, or the model itself."""
    while hasattr(model, "steps") and model.steps:
        model = model.steps[-1][1]
    return model


def replay_rows(
    model: Any,
    X: pd.DataFrame,
    *,
    detailed: int,
    max_sd: float,
    reference: pd.DataFrame | None = None,
    positive: Any = None,
) -> Trace:
    """Send the rows of X (the model's input columns) through `model` step by step; the first
    `detailed` rows keep every step's output values. `positive`: a binary model's positive class,
    whose probability is each row's score (default its last class)."""
    rows = np.arange(len(X))
    cast, notes, cat_flags = restore_categories(X, final_estimator(model), reference)
    w = _Walker(len(X), set(range(min(detailed, len(X)))), max_sd, positive)
    w.flags += cat_flags
    if reference is not None:
        w.flags += reference_flags(X, reference, rows)
    names = [str(c) for c in X.columns]
    start = StepRecord("input", "input", "input", names, names, rows=len(X))
    w._detail(start, X, rows, names)
    w.records.append(start)
    w.visit(model, Flow(cast, rows, names), "", final=True)
    w.settle()
    return Trace(
        steps=w.records,
        outcomes=[w.outcomes[r] for r in range(len(X))],
        flags=w.flags,
        detailed=sorted(w.detailed),
        output=w.output,
        classes=w.classes,
        notes=notes,
    )
