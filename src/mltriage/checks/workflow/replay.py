"""replay.step_error and replay.non_finite: the input rows of `mltriage replay` sent through the
saved pipeline one step at a time (`stats.replay`), and the steps that stop them. The walk is done
once per run (`replay_state`) and shared with the input and output checks (`replay_output.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...findings import CRITICAL, INFO, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.replay import ERROR, IMPUTED, NON_FINITE, OK, StepRecord, Trace, replay_rows

if TYPE_CHECKING:
    from ...context import Context

VALIDATE = (
    "validate inputs where the service receives them, against the training schema (types, "
    "categories, ranges, missing values), and reject or repair them there"
)


@dataclass
class ReplayState:
    """The walk of the replayed rows, shared by the replay checks and the command's details."""

    trace: Trace
    rows: pd.DataFrame  # the replayed rows as given (the model's input columns)
    input_rows: int  # rows in the input (the first `replayed` are replayed)
    reference: pd.DataFrame | None  # the reference rows' model columns, when given
    logged: pd.Series | None  # the logged prediction of each replayed row, when given

    @property
    def replayed(self) -> int:
        return len(self.rows)


def replay_state(ctx: Context) -> ReplayState:
    """The case's input rows (`case.current`) replayed through its model, once per run, with the
    sizes of replay.step_error's parameters and replay.out_of_range's SD rule."""
    c = ctx.case
    m = c.model
    if c.current is None or len(c.current) == 0:
        raise NotApplicable("no input rows to replay")
    if m is None or m.kind != "estimator":
        raise NotApplicable("replaying needs the fitted model object")
    sizes = ctx.config.params("replay.step_error")
    max_sd = float(ctx.config.params("replay.out_of_range").max_sd)

    def compute() -> ReplayState:
        assert c.current is not None and m is not None
        n = min(len(c.current), int(sizes.max_rows))
        rows = c.current.iloc[:n].reset_index(drop=True)
        ref_cols = [f for f in c.features if f in c.train.columns]
        reference = c.train[ref_cols] if len(c.train) and ref_cols else None
        trace = replay_rows(
            m.estimator,
            rows[c.features],
            detailed=int(sizes.max_detailed),
            max_sd=max_sd,
            reference=reference,
            positive=c.positive,
        )
        for note in trace.notes:
            ctx.note(note)
        if n < len(c.current):
            ctx.note(
                f"the first {n:,} of {len(c.current):,} input rows were replayed (replay.step_error.max_rows)"
            )
        if len(trace.detailed) < n:
            ctx.note(
                f"step-by-step values are kept for the first {len(trace.detailed)} of {n:,} replayed rows "
                "(replay.step_error.max_detailed); every row's outcome is in the summary"
            )
        col = c.prediction_column
        logged = rows[col] if col and col in rows.columns else None
        return ReplayState(trace, rows[c.features], len(c.current), reference, logged)

    return ctx.cached("replay", compute)


def rows_text(k: int, n: int) -> str:
    return "the replayed row" if n == 1 else f"{k:,} of {n:,} replayed rows"


def raw_values(st: ReplayState, rows: list[int], columns: list[str]) -> list[dict[str, Any]]:
    """The given values of `columns` (those that are input columns) in a few rows."""
    cols = [c for c in columns if c in st.rows.columns]
    return [{"row": r, **{c: st.rows.iloc[r][c] for c in cols}} for r in rows[:5]]


def _suspects(st: ReplayState, rec: StepRecord, rows: list[int]) -> list[str]:
    """The step's input columns whose values in `rows` match its error: text where the error is
    about numbers, missing values where it is about NaN."""
    text = " ".join(rec.errors.get(r, "") for r in rows)
    cols = [c for c in rec.input_columns if c in st.rows.columns]
    values = st.rows.iloc[rows][cols]
    if re.search(r"float|number|numeric", text, re.IGNORECASE):
        num = values.apply(lambda s: pd.to_numeric(s, errors="coerce"))
        return [c for c in cols if (num[c].isna() & values[c].notna()).any()]
    if re.search(r"\bNaN\b|missing value", text):
        return [c for c in cols if values[c].isna().any()]
    return []


def culprits(st: ReplayState, rec: StepRecord, rows: list[int]) -> list[str]:
    """The columns to blame for what a step did to `rows`: those flagged out of range at that
    step or in the input, or whose values match the step's error, else the step's own input
    columns when there are few."""
    hit = set(rows)
    cols = [
        f.column
        for f in st.trace.flags
        if f.kind != IMPUTED
        and (f.step == rec.path or f.column in rec.input_columns)
        and hit.intersection(f.rows)
    ]
    cols = cols or _suspects(st, rec, rows)
    if not cols and len(rec.input_columns) <= 3:
        cols = list(rec.input_columns)
    return list(dict.fromkeys(cols))


def _error_finding(st: ReplayState, rec: StepRecord) -> Finding:
    rows = sorted(rec.errors)
    cols = culprits(st, rec, rows)
    messages = list(dict.fromkeys(rec.errors[r] for r in rows))
    return Finding(
        "replay.step_error",
        CRITICAL,
        f"Step {rec.path!r} ({rec.kind}) raises on {rows_text(len(rows), st.replayed)}: {messages[0]}",
        columns=cols,
        evidence={
            "step": rec.path,
            "class": rec.kind,
            "rows": len(rows),
            "replayed": st.replayed,
            "messages": messages[:5],
            "errors": [{"row": r, "error": rec.errors[r]} for r in rows[:10]],
            "input": raw_values(st, rows, cols),
            "step_input_columns": rec.input_columns[:30],
        },
        root_cause="the input holds a value that the fitted step cannot process: a type, a category or "
        "a missing value that training never produced",
        fix=f"{VALIDATE.capitalize()}. If such values are legitimate, make the pipeline accept them "
        "(an imputer before steps that refuse NaN, OneHotEncoder(handle_unknown='ignore'), explicit "
        "type casts) and retrain.",
        impact=len(rows) / max(st.replayed, 1),
        primary_table="errors",
    )


@check(
    "replay.step_error",
    requires=("estimator", "current"),
    max_rows=Param(
        2000,
        Interval(int, 1, None),
        "input rows replayed (the first ones): every step runs once on all of them, plus a few retries "
        "on halves to isolate the rows that raise",
    ),
    max_detailed=Param(
        5,
        Interval(int, 1, None),
        "rows whose every step output is kept in the trace (the first ones); the others keep their outcome",
    ),
)
def step_error(ctx: Context, p: Params) -> Findings:
    """A step of the saved pipeline raises on the replayed input.

    What it detects
        The input rows go through the saved model one step at a time (Pipeline steps in order,
        each ColumnTransformer branch on its own columns, then the final estimator's
        predict_proba or predict). A step that raises on a row stops that row; the step's name
        and class, the error in plain words and the row's values in the columns to blame are
        reported, one finding per failing step. Rows that raise are isolated by halving the batch.
    Why it matters
        The production request failed (or fell back to a default) at this step: the error is
        reproduced locally, with the value that caused it, instead of guessed from a stack trace.
    How to confirm
        Call the step's transform on the row's input at that step (the trace in the report's
        details shows it), e.g. `model.named_steps[...].transform(row)`.
    Fix
        Validate inputs at the serving boundary against the training schema (types, categories,
        missing values); when such values are legitimate, make the pipeline accept them
        (OneHotEncoder(handle_unknown='ignore'), an imputer before steps that refuse NaN) and retrain.
    """
    st = replay_state(ctx)
    return [_error_finding(st, rec) for rec in st.trace.steps if rec.errors]


def _then(st: ReplayState, r: int) -> str:
    """What became of a row after it gained NaN or inf."""
    o = st.trace.outcomes[r]
    if o.status == ERROR:
        return f"{o.step} raised"
    return "no finite output" if o.status == NON_FINITE else "absorbed: the row was scored"


def _non_finite_finding(st: ReplayState, rec: StepRecord) -> Finding:
    rows = sorted(rec.non_finite)
    broken = [r for r in rows if st.trace.outcomes[r].status != OK]
    cols = list(dict.fromkeys(c for r in rows for c in rec.non_finite[r]))
    shown = ", ".join(cols[:5]) + ("…" if len(cols) > 5 else "")
    title = (
        f"Step {rec.path!r} ({rec.kind}) turns {rows_text(len(rows), st.replayed)} into NaN or "
        f"infinite values ({shown})"
    )
    if broken:
        then = sorted({_then(st, r) for r in broken})
        title += f"; then {', '.join(then)}"
    else:
        title += ", which later steps absorb (the rows were scored)"
    return Finding(
        "replay.non_finite",
        CRITICAL if broken else INFO,
        title,
        columns=culprits(st, rec, rows) or cols,
        evidence={
            "step": rec.path,
            "class": rec.kind,
            "rows": len(rows),
            "broken_rows": len(broken),
            "replayed": st.replayed,
            "non_finite_columns": cols[:30],
            "examples": [
                {"row": r, "columns": ", ".join(rec.non_finite[r][:10]), "then": _then(st, r)}
                for r in rows[:10]
            ],
            "input": raw_values(st, rows, rec.input_columns),
            "warnings": rec.warnings,
        },
        root_cause="a transformation undefined for this input: a log or a division of zero or a negative "
        "value, an overflow, or an unknown category encoded as NaN"
        + ("" if broken else "; the pipeline handles the NaN downstream, by design or by luck"),
        fix="Guard the transformation (np.log1p, clip to the training range, a safe division) or encode "
        f"unknown categories as a finite value; and {VALIDATE}.",
        impact=len(broken) / max(st.replayed, 1),
        primary_table="examples",
    )


@check("replay.non_finite", requires=("estimator", "current"))
def non_finite(ctx: Context, p: Params) -> Findings:
    """A step of the saved pipeline turns the replayed input into NaN or infinite values.

    What it detects
        During the step-by-step replay, a row whose output at some step holds a NaN or an infinity
        that its input at that step did not hold (cell by cell when the step keeps its columns),
        one finding per step with the columns gone non-finite and the row's values. The row goes
        on: critical when a later step raises on it or its output is not finite (its outcome
        names this step), info when later steps absorb the NaN and the row is scored.
    Why it matters
        Downstream steps either raise on NaN or silently treat it as missing (gradient boosting
        routes it down a default branch): the prediction served for this input is not the one the
        model would give a valid value, and nothing in the logs says so.
    How to confirm
        Run the step's transform on the row's input at that step (see the trace in the report's
        details) and look at the output cells named in the finding.
    Fix
        Guard the transformation (log1p, clipping to the training range, a safe division), encode
        unknown categories as a finite value, and validate inputs at the serving boundary.
    """
    st = replay_state(ctx)
    return [_non_finite_finding(st, rec) for rec in st.trace.steps if rec.non_finite]
