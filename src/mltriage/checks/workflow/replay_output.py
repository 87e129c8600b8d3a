"""replay.out_of_range and replay.prediction_mismatch: the replayed input against what training saw,
and the replayed output against the prediction production logged (see `replay.py` for the walk)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.replay import ABOVE, BELOW, FAR, IMPUTED, MISSING, NOT_NUMBER, OK, UNSEEN, Flag, final_estimator
from .replay import VALIDATE, ReplayState, replay_state, rows_text

if TYPE_CHECKING:
    from ...context import Context
    from ...model import ModelAdapter

# the verdict that names a column's finding when it has several
ORDER = (UNSEEN, NOT_NUMBER, BELOW, ABOVE, MISSING, FAR)


def _value(v: Any) -> str:
    return repr(v) if isinstance(v, str) else f"{v:.6g}" if isinstance(v, float) else str(v)


def _title(col: str, f: Flag) -> str:
    vals = ", ".join(_value(v) for v in f.values[:3]) + ("…" if len(f.values) > 3 else "")
    if f.kind == NOT_NUMBER:
        return f"{col} = {vals} is not a number, though {col} is numeric in the {f.source}"
    if f.kind == MISSING:
        return f"{col} is missing, though it is {f.expected}"
    what = {
        UNSEEN: "a category the model never saw in training",
        BELOW: "below the training range",
        ABOVE: "above the training range",
        FAR: f"{f.z:.1f} SD from the training mean" if f.z is not None else "far from the training mean",
    }[f.kind]
    return f"{col} = {vals} is {what} ({f.expected}; from {f.source})"


def _column_finding(col: str, flags: list[Flag], replayed: int) -> Finding:
    flags = sorted(flags, key=lambda f: ORDER.index(f.kind))
    rows = sorted({r for f in flags for r in f.rows})
    more = len(flags) - 1
    title = _title(col, flags[0]) + f" in {rows_text(len(rows), replayed)}"
    if more:
        title += f" (and {more} more verdict{'s' if more > 1 else ''} on it)"
    return Finding(
        "replay.out_of_range",
        WARNING,
        title,
        columns=[col],
        evidence={
            "flags": [f.summary() for f in flags],
            "rows": len(rows),
            "replayed": replayed,
            "row_positions": rows[:20],
        },
        root_cause="the input lies where the model learned nothing: its output there is an "
        "extrapolation (or, for an unknown category, the same as for no category at all)",
        fix=f"Find where the value comes from (a unit change, a new category upstream, a default such as "
        f"-1 or 999); {VALIDATE}; if such inputs are genuine, add them to the training data and retrain.",
        impact=len(rows) / max(replayed, 1),
        primary_table="flags",
    )


def judged_flags(st: ReplayState) -> list[Flag]:
    """The flags the check reports: imputations are shown in the trace only; with reference rows,
    their exact range replaces the SD rule for the columns they hold."""
    ref_cols = set(st.reference.columns) if st.reference is not None else set()
    return [f for f in st.trace.flags if f.kind != IMPUTED and not (f.kind == FAR and f.column in ref_cols)]


@check(
    "replay.out_of_range",
    requires=("estimator", "current"),
    max_sd=Param(
        5.0,
        Interval(float, 0, None, closed="neither"),
        "distance from a scaler's training mean, in SDs, beyond which a value is flagged (5: under 4% "
        "of any distribution, by Chebyshev, and under 1e-6 of a normal one)",
    ),
)
def out_of_range(ctx: Context, p: Params) -> Findings:
    """The replayed input lies outside the training range or holds categories the encoders never saw.

    What it detects
        Each replayed value against what the fitted steps recorded of their training input:
        encoder categories (OneHotEncoder, OrdinalEncoder categories_), MinMaxScaler's
        data_min_/data_max_, MaxAbsScaler's max_abs_, KBinsDiscretizer's bin edges, more than
        max_sd (5) SDs from a StandardScaler's mean_ (or a RobustScaler's centre), LightGBM's
        per-feature ranges and categories; and, with reference rows (`--reference`), the
        reference's range and values for each input column (which then replaces the SD rule), and
        missing values in a column the reference never leaves missing (the imputer's fill-in is in
        the trace). One finding per column, naming the step or source and what training would have expected.
    Why it matters
        Outside the training range the model extrapolates (trees flatten, linear models grow
        without bound); an unseen category is encoded as all zeros or as missing, so the row is
        scored as if the column were absent. The prediction served is a guess.
    How to confirm
        Compare the value with the training column's range or categories; score the row with the
        value moved inside the range (or set to a known category) and compare the outputs.
    Fix
        Find where the value comes from (a unit change, a new upstream category, a sentinel such
        as -1 or 999); validate inputs at the serving boundary; if such inputs are genuine, add
        them to the training data and retrain.
    """
    st = replay_state(ctx)
    by_column: dict[str, list[Flag]] = {}
    for f in judged_flags(st):
        by_column.setdefault(f.column, []).append(f)
    return [_column_finding(col, flags, st.replayed) for col, flags in by_column.items()]


# ---------------------------------------------------------------------------------------------
# the replayed output against the logged prediction


def versions(adapter: ModelAdapter) -> dict[str, Any]:
    """The library versions the artifact records against the running ones (as in
    pipeline.version_mismatch), and the version warnings raised while loading it."""
    import sklearn

    est = adapter.estimator
    recorded = [w.get("original_sklearn_version") for w in adapter.load_warnings]
    saved = next((str(v) for v in recorded if v), None)  # unpickling warned: saved under another version
    saved = (
        saved
        or getattr(est, "_sklearn_version", None)
        or getattr(final_estimator(est), "_sklearn_version", None)
    )
    out: dict[str, Any] = {"scikit-learn": {"saved_with": saved, "running": sklearn.__version__}}
    module = type(final_estimator(est)).__module__.split(".")[0]
    if module in ("lightgbm", "xgboost", "catboost"):
        lib = __import__(module)
        out[module] = {"saved_with": None, "running": getattr(lib, "__version__", None)}
    warned = [str(w.get("message", ""))[:200] for w in adapter.load_warnings if "version" in str(w).lower()]
    if warned:
        out["load_warnings"] = warned[:3]
    return out


def _labels_logged(logged: pd.Series, classes: list[Any] | None) -> bool:
    """Whether the logged values are class labels rather than scores."""
    vals = logged.dropna()
    if classes is None or vals.empty:
        return False
    known = {str(c) for c in classes}
    if not set(vals.astype(str)) <= known:
        nums = pd.to_numeric(vals, errors="coerce")
        return bool(nums.isna().any())  # text that is not a class: compared as text (and differs)
    nums = pd.to_numeric(vals, errors="coerce")
    return bool(nums.isna().any() or (nums == nums.round()).all())


def compare_logged(st: ReplayState, threshold: float, tolerance: float) -> list[dict[str, Any]]:
    """Each replayed row that reached the output and has a logged value: logged against recomputed."""
    assert st.logged is not None
    labels = _labels_logged(st.logged, st.trace.classes)
    out = []
    for o in st.trace.outcomes:
        v = st.logged.iloc[o.row]
        if o.status != OK or pd.isna(v) or o.label is None:
            continue
        row: dict[str, Any] = {"row": o.row, "logged": v}
        if labels:
            row.update(
                recomputed=o.label, differs=str(v) != str(o.label), decision_flip=str(v) != str(o.label)
            )
        else:
            x, rec = float(pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]), o.score
            if rec is None or np.isnan(x):
                continue
            diff = abs(x - rec)
            flip = len(st.trace.classes or []) == 2 and (x >= threshold) != (rec >= threshold)
            row.update(recomputed=rec, abs_diff=diff, differs=diff > tolerance * max(1.0, abs(rec)))
            row.update(decision_flip=bool(flip), relative_diff=diff / max(1.0, abs(rec)))
        out.append(row)
    return out


@check(
    "replay.prediction_mismatch",
    requires=("estimator", "current", "logged"),
    tolerance=Param(
        1e-6,
        Interval(float, 0, None),
        "largest |logged - recomputed| that counts as equal, relative to the value beyond 1 (1e-6: a "
        "float32 log of a probability passes, a different model or library version does not)",
    ),
)
def prediction_mismatch(ctx: Context, p: Params) -> Findings:
    """The saved pipeline does not reproduce the prediction logged for the replayed input.

    What it detects
        The replayed rows' final outputs (binary: the probability of the positive class;
        multiclass: the top probability, or the class when classes were logged; regression: the
        prediction) against the prediction production logged for them (`--logged-prediction` or
        `--prediction-column`). Rows differing by more than tolerance (1e-6, relative beyond 1)
        are reported with both values, whether the decision flips at the threshold in use, and the
        scikit-learn version the artifact recorded against the running one.
    Why it matters
        The same input through the same artifact must give the same output. When it does not,
        production runs another artifact, another preprocessing, or other library versions: the
        bug cannot be reproduced from this file, and offline evaluation vouches for another model.
    How to confirm
        Load the artifact in the serving environment (same library versions) and score the row;
        compare the model registry's version and hash of the deployed file with this one.
    Fix
        Deploy the artifact you validated (pin its version and hash), align library versions
        between training and serving, and log the model version with every prediction.
    """
    st = replay_state(ctx)
    tol = float(p.tolerance)
    rows = compare_logged(st, ctx.threshold, tol)
    if not rows:
        raise NotApplicable("no replayed row with a logged prediction reached the model's output")
    bad = [r for r in rows if r["differs"]]
    if not bad:
        return None
    m = ctx.case.model
    assert m is not None
    ver = versions(m)
    sk = ver["scikit-learn"]
    moved = sk["saved_with"] is not None and sk["saved_with"] != sk["running"]
    serious = any(r["decision_flip"] or r.get("relative_diff", 1.0) >= 0.01 for r in bad)
    first = bad[0]
    diff = f" (|diff| {first['abs_diff']:.3g} > tolerance {tol:g})" if "abs_diff" in first else ""
    title = (
        f"The saved pipeline gives {_value(first['recomputed'])} where production logged "
        f"{_value(first['logged'])}{diff}"
        + (f" in {rows_text(len(bad), len(rows))} with a logged prediction" if len(rows) > 1 else "")
        + ": a serialization or version mismatch"
    )
    cause = (
        f"the artifact was saved with scikit-learn {sk['saved_with']} and runs under {sk['running']}: "
        "estimators can load and still compute differently across versions (pipeline.version_mismatch)"
        if moved
        else "production scored this input with another artifact (another model version or training "
        "run), another preprocessing, or other library versions than this file"
    )
    return Finding(
        "replay.prediction_mismatch",
        CRITICAL if serious else WARNING,
        title,
        evidence={
            "rows": bad[:20],
            "compared": len(rows),
            "differ": len(bad),
            "tolerance": tol,
            "versions": ver,
        },
        root_cause=cause,
        fix="Deploy the artifact you validated (pin its version and hash), align library versions between "
        "training and serving, and log the model version with every prediction.",
        impact=len(bad) / len(rows),
        primary_table="rows",
    )
