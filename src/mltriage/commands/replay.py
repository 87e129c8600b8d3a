"""`mltriage replay`: reproduce a production bug locally.

    mltriage replay --model model.joblib --input row.json [--reference train.parquet]
                    [--logged-prediction 0.93 | --prediction-column COL] [--tolerance 1e-6]

The exact input (a JSON object, a list of objects, or CSV/Parquet rows) goes through the saved
model one step at a time (`stats.replay`); the replay checks report the step that raises or that
produces NaN or inf, the values outside what training saw, and a final output that differs from
the logged one. `Report.details` holds the step-by-step trace of the first rows (each step's name,
class, input and output columns, the row's output values and the time), one line per replayed row
(its outcome), each step's totals, and every range flag.

The case: `current` holds the input rows (with the logged prediction, if any, in
`prediction_column`); `train` holds the reference rows when given (else no rows); there is no
evaluation set and no target. Bad input raises InputError (exit 2 in the CLI): an input that is
not a JSON object or a list of objects, columns the model needs missing from it, a model that
cannot be read or that is not a fitted estimator, a single logged prediction for several rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..case import Case, read_frame
from ..checks.workflow.replay import replay_state
from ..checks.workflow.replay_output import compare_logged, judged_flags, versions
from ..config import Config
from ..context import Context
from ..errors import InputError, closest, listing
from ..io import read_rows
from ..model import ModelAdapter
from ..positive import choose_positive
from ..registry import Check
from ..report import Report
from ..runner import run_checks
from .diagnose import settings

LOGGED = "logged_prediction"  # the input column that holds --logged-prediction


def replay(
    model: Any,
    input: Any,
    *,
    reference: Any = None,
    logged_prediction: Any = None,
    prediction_column: str | None = None,
    tolerance: float | None = None,
    positive_class: Any = None,
    config: Config | None = None,
    strict: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    set_params: list[str] | None = None,
) -> Report:
    """Replay input rows through a saved model step by step; returns a Report (`details` holds the
    trace, each row's outcome, each step's totals and the range flags).

    `model`: a fitted scikit-learn Pipeline or estimator (LightGBM and XGBoost included), or a
    joblib path (loading a pickle runs its code: trust the file). `input`: a dict (one row), a list
    of dicts, a DataFrame, or a .json / .csv / .parquet path. `reference`: the training rows (frame
    or path), to flag values outside their range. `logged_prediction`: what production logged for
    a single input row; `prediction_column`: the input's column of logged predictions.
    `tolerance`: largest |logged - recomputed| counted as equal (replay.prediction_mismatch).
    `positive_class`: binary, the class whose probability is each row's score (default the
    model's last class).
    Raises InputError (a ValueError) on bad input, naming the problem and the fix.
    """
    params = list(set_params or [])
    if tolerance is not None:
        params.append(f"replay.prediction_mismatch.tolerance={float(tolerance)!r}")
    cfg = settings(config, strict=strict, select=select, ignore=ignore, set_params=params)
    case = replay_case(
        model,
        input,
        reference=reference,
        logged_prediction=logged_prediction,
        prediction_column=prediction_column,
        positive_class=positive_class,
    )
    ctx = Context(case, cfg)
    report = run_checks(ctx, command="replay", scope=in_replay, progress=False)
    report.details = replay_details(ctx)
    return report


def in_replay(chk: Check) -> bool:
    """The replay checks, and the artifact's library versions (pipeline.version_mismatch)."""
    return chk.layer == "replay" or chk.code == "pipeline.version_mismatch"


# ---------------------------------------------------------------------------------------------
# the case


def read_input(data: Any) -> pd.DataFrame:
    """The rows to replay: a JSON object or list of objects (a dict, a list, or a .json file), or
    rows in a frame or a CSV/Parquet file."""
    if isinstance(data, (str, Path)) and str(data).lower().endswith((".json", ".jsonl")):
        data = _load_json(Path(data))
        if not isinstance(data, (dict, list)):
            raise InputError(
                f"the input JSON is a {_json_kind(data)}, not an object or a list of objects",
                'give one object {"column": value, ...} or a list of such objects',
            )
    elif isinstance(data, (str, Path)):
        return read_rows(data, "input")
    if isinstance(data, (dict, list)):
        return _records(data)
    return read_frame(data, "input")


def _json_kind(v: Any) -> str:
    kinds = {bool: "boolean", int: "number", float: "number", str: "string", type(None): "null"}
    kind = "list" if isinstance(v, list) else "object" if isinstance(v, dict) else kinds.get(type(v), "value")
    return f"{kind} ({json.dumps(v)[:40]})"


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} does not exist", "check the path given to --input")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        first = exc
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1:  # JSON lines: one object per line
        try:
            return [json.loads(ln) for ln in lines]
        except json.JSONDecodeError:
            pass
    raise InputError(
        f"cannot read the input {str(path)!r} as JSON: {first.msg} (line {first.lineno}, column {first.colno})",
        'give one object {"column": value, ...} or a list of such objects',
    )


def _records(data: dict | list) -> pd.DataFrame:
    rows = [data] if isinstance(data, dict) else data
    if not rows:
        raise InputError("the input is an empty list: no row to replay", "give at least one object")
    bad = next((r for r in rows if not isinstance(r, dict)), None)
    if bad is not None:
        raise InputError(
            f"the input is a list holding a {_json_kind(bad)}, not only objects: a row is an object "
            "of column: value",
            'give one object {"column": value, ...} or a list of such objects',
        )
    if not any(rows):
        raise InputError("the input rows hold no column", 'give {"column": value, ...} for each row')
    return pd.DataFrame.from_records(rows)


def _fitted(model: Any) -> ModelAdapter:
    try:
        adapter = ModelAdapter.load(model)
    except InputError as exc:
        raise InputError(
            exc.message,
            "replay needs the model file itself, saved with joblib.dump(model, FILE) under "
            "library versions that can read it",
        ) from None
    if adapter is None or adapter.kind != "estimator":
        raise InputError(
            "replay needs the fitted model itself (a Pipeline or an estimator with predict)",
            "pass --model FILE saved with joblib.dump(model, FILE)",
        )
    return adapter


def _features(
    adapter: ModelAdapter, rows: pd.DataFrame, ref: pd.DataFrame | None, skip: set[str]
) -> list[str]:
    """The model's input columns (its own names, else the reference's or the input's in order),
    all present in the input."""
    names = adapter.feature_names
    if names is None:
        names = [c for c in (ref if ref is not None else rows).columns if c not in skip]
        n = getattr(adapter.estimator, "n_features_in_", None)
        if n is not None and len(names) != int(n):
            raise InputError(
                f"the model was fitted on {n} unnamed columns; the "
                f"{'reference' if ref is not None else 'input'} has {len(names)}",
                "give the columns the model takes, in the order it was fitted on",
            )
    missing = [f for f in names if f not in rows.columns]
    if missing:
        hint = closest(missing[0], [c for c in rows.columns if c not in names])
        raise InputError(
            f"the input lacks {len(missing)} column(s) the model needs: {listing(missing)}{hint}",
            "give every column the model was fitted on (same names); extra columns are left aside",
        )
    return list(names)


def _logged(rows: pd.DataFrame, logged_prediction: Any, prediction_column: str | None) -> str | None:
    """The input's column of logged predictions (adding --logged-prediction as one), or None."""
    if logged_prediction is not None and prediction_column:
        raise InputError(
            "give --logged-prediction or --prediction-column, not both",
            "--logged-prediction for one row, --prediction-column for a column of the input",
        )
    if prediction_column:
        if prediction_column not in rows.columns:
            raise InputError(
                f"prediction column {prediction_column!r} is not in the input.{closest(prediction_column, rows.columns)}",
                f"its columns are: {listing(rows.columns)}",
            )
        return prediction_column
    if logged_prediction is None:
        return None
    if len(rows) != 1:
        raise InputError(
            f"--logged-prediction is one value, and the input has {len(rows)} rows",
            "replay one row, or name the input's column of logged predictions with --prediction-column",
        )
    value = logged_prediction
    if isinstance(value, str):
        num = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        value = value if pd.isna(num) else float(num)
    col = LOGGED if LOGGED not in rows.columns else f"__{LOGGED}__"
    rows[col] = [value]
    return col


def replay_case(
    model: Any,
    input: Any,
    *,
    reference: Any = None,
    logged_prediction: Any = None,
    prediction_column: str | None = None,
    positive_class: Any = None,
) -> Case:
    """Validate the inputs of a replay and return its Case."""
    adapter = _fitted(model)
    rows = read_input(input)
    rows.columns = [str(c) for c in rows.columns]
    ref = read_rows(reference, "reference") if reference is not None else None
    col = _logged(rows, logged_prediction, prediction_column)
    features = _features(adapter, rows, ref, {col} if col else set())
    notes = []
    extra = [c for c in rows.columns if c not in features and c != col]
    if extra:
        notes.append(
            f"{len(extra)} input column(s) the model does not take were left aside: {listing(extra, 8)}"
        )
    if ref is not None:
        lacking = [f for f in features if f not in ref.columns]
        if lacking:
            notes.append(f"the reference lacks {len(lacking)} model column(s): {listing(lacking, 8)}")
        ref = ref[[f for f in features if f in ref.columns]]
    classes = adapter.classes
    task = ("binary" if len(classes) == 2 else "multiclass") if classes else "regression"
    cats = [f for f in features if not pd.api.types.is_numeric_dtype(rows[f])]
    positive, how = choose_positive(positive_class, classes, classes, task)
    return Case(
        train=ref if ref is not None else pd.DataFrame(),
        test=None,
        target="",
        task=task,
        features=features,
        categorical=cats,
        model=adapter,
        current=rows,
        prediction_column=col,
        classes=classes,
        positive=positive,
        positive_how=how,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------
# the details


def replay_details(ctx: Context) -> dict[str, Any]:
    """The trace of the detailed rows, one line per replayed row, each step's totals, the flags."""
    try:
        st = replay_state(ctx)
    except Exception:  # the failure is in the report already (every replay check failed with it)
        return {}
    t = st.trace
    model = ctx.case.model
    assert model is not None
    logged: dict[int, dict[str, Any]] = {}
    if st.logged is not None:
        tol = float(ctx.config.params("replay.prediction_mismatch").tolerance)
        logged = {r["row"]: r for r in compare_logged(st, ctx.threshold, tol)}
    flagged: dict[int, int] = {}
    for f in judged_flags(st):
        for r in f.rows:
            flagged[r] = flagged.get(r, 0) + 1
    return {
        "replay": {
            "input_rows": st.input_rows,
            "replayed_rows": st.replayed,
            "detailed_rows": len(t.detailed),
            "reference_rows": None if st.reference is None else len(st.reference),
            "model": model.description,
            "output": t.output,
            "classes": t.classes,
            "versions": versions(model),
        },
        "rows": [_row_line(o, st, logged.get(o.row), flagged.get(o.row, 0)) for o in t.outcomes],
        "steps": [_step_line(s) for s in t.steps if s.role != "input"],
        "trace": [{"row": r, **entry} for r in t.detailed for entry in t.row_trace(r)],
        "flags": [f.to_dict() for f in t.flags],
    }


def _row_line(o: Any, st: Any, cmp: dict[str, Any] | None, flags: int) -> dict[str, Any]:
    line: dict[str, Any] = {
        "row": o.row,
        "outcome": o.status,
        "stopped_at": o.step,
        "message": o.message,
        "prediction": o.score,
        "label": o.label,
    }
    if st.logged is not None:
        line["logged"] = st.logged.iloc[o.row]
        line["matches_logged"] = None if cmp is None else not cmp["differs"]
    line["flags"] = flags
    return line


def _step_line(s: Any) -> dict[str, Any]:
    return {
        "step": s.path,
        "class": s.kind,
        "role": s.role,
        "rows": s.rows,
        "raised": len(s.errors),
        "non_finite": len(s.non_finite),
        "output_columns": len(s.output_columns),
        "seconds": round(s.seconds, 6),
        "ms_per_row": round(1000 * s.seconds / max(s.rows, 1), 4),
        "warnings": "; ".join(s.warnings),
    }
