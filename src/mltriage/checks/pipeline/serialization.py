"""pipeline.serialization_mismatch: the saved model against the scores production logged for the
same rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...errors import InputError
from ...findings import CRITICAL, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from .skew import PIPELINE_BUG

if TYPE_CHECKING:
    from ...context import Context


def _label_mode(logged_raw: pd.Series, task: str, classes: Any, col: str) -> tuple[np.ndarray | None, bool]:
    """The logged values as numbers, and whether to compare classes instead (classification logs
    that are class labels). Raises InputError when they are neither numbers nor class labels."""
    logged: np.ndarray | None = pd.to_numeric(logged_raw, errors="coerce").to_numpy(
        np.float64, na_value=np.nan
    )
    assert logged is not None
    parse = float(np.isfinite(logged).sum() / max(int(logged_raw.notna().sum()), 1))
    if task == "multiclass":
        logged, parse = None, 0.0  # multiclass logs are classes: compare labels
    if task in ("binary", "multiclass") and (logged is None or parse < 0.9):
        known = {str(k) for k in (classes or [])}
        vals = set(logged_raw.dropna().astype(str).unique()[:1000])
        if vals and vals <= known:
            return logged, True
        raise InputError(
            f"the logged prediction column {col!r} holds {logged_raw.dtype} values "
            f"that are neither scores nor class labels (e.g. "
            f"{', '.join(map(repr, list(vals)[:3]))})",
            "pass the column of scores production logged (numbers), or the predicted classes",
        )
    if task in ("regression", "ranking") and parse < 0.9:
        raise InputError(
            f"the logged prediction column {col!r} is {logged_raw.dtype}, not numeric "
            f"({parse:.0%} of values are numbers)",
            "pass the column of predictions production logged",
        )
    return logged, False


def _compare_labels(logged_raw: pd.Series, rec_label: Any) -> tuple[float, dict[str, Any]]:
    rl = pd.Series(rec_label).astype(str).to_numpy()
    lg = logged_raw.astype(str).to_numpy()
    ok = logged_raw.notna().to_numpy()
    diff_mask = (rl != lg) & ok
    share = float(diff_mask.sum() / max(ok.sum(), 1))
    return share, {
        "compared": "predicted classes",
        "rows": int(ok.sum()),
        "mismatch_rows": int(diff_mask.sum()),
        "mismatch_share": round(share, 5),
    }


def _compare_scores(
    logged: np.ndarray, rec_score: Any, task: str, threshold: float, col: str, tolerance: float
) -> tuple[float, dict[str, Any]]:
    if task == "binary" and not (np.nanmin(logged) >= 0 and np.nanmax(logged) <= 1):
        raise NotApplicable(f"logged scores in {col!r} are outside [0, 1]; cannot compare with probabilities")
    recomputed = np.asarray(rec_score, float)
    ok = np.isfinite(logged) & np.isfinite(recomputed)
    d = np.abs(logged - recomputed)
    tol = tolerance + 1e-6 * np.abs(recomputed)
    diff_mask = ok & (d > tol)
    share = float(diff_mask.sum() / max(ok.sum(), 1))
    dd = d[ok]
    ev: dict[str, Any] = {
        "compared": "scores",
        "rows": int(ok.sum()),
        "mismatch_rows": int(diff_mask.sum()),
        "mismatch_share": round(share, 5),
        "tolerance": tolerance,
        "mean_abs_diff": float(dd.mean()) if len(dd) else 0.0,
        "p95_abs_diff": float(np.quantile(dd, 0.95)) if len(dd) else 0.0,
        "max_abs_diff": float(dd.max()) if len(dd) else 0.0,
    }
    if task == "binary":
        flips = ok & ((logged >= threshold) != (recomputed >= threshold))
        ev["decision_flips"] = int(flips.sum())
        ev["decision_flip_share"] = round(float(flips.sum() / max(ok.sum(), 1)), 5)
    worst = np.argsort(-np.where(ok, d, -1))[:5]
    ev["examples"] = [
        {
            "row": int(i),
            "logged": float(logged[i]),
            "recomputed": float(recomputed[i]),
            "abs_diff": float(d[i]),
        }
        for i in worst
        if ok[i] and d[i] > 0
    ]
    return share, ev


def serialization_finding(
    logged_raw: pd.Series,
    rec_score: Any,
    rec_label: Any,
    task: str,
    classes: Any,
    threshold: float,
    col: str,
    p: Params,
) -> Finding | None:
    """Logged scores (or classes) against the ones the saved model recomputes for the same rows.
    Raises InputError when the logged column holds neither numbers nor class labels."""
    tolerance = float(p.tolerance)
    logged, label_mode = _label_mode(logged_raw, task, classes, col)
    if label_mode or logged is None:
        share, ev = _compare_labels(logged_raw, rec_label)
    else:
        share, ev = _compare_scores(logged, rec_score, task, threshold, col, tolerance)
    if share < float(p.min_share):
        return None
    scores = ev["compared"] == "scores"
    big = not scores or ev["mean_abs_diff"] >= 0.01 or ev.get("decision_flip_share", 0) >= 0.001
    if scores:
        title = (
            f"The saved model does not reproduce the logged scores: {share:.1%} of rows differ by "
            f"more than {tolerance:g} (mean |diff| {ev['mean_abs_diff']:.3g}, max "
            f"{ev['max_abs_diff']:.3g}"
            + (f", {ev['decision_flips']} decisions flip" if "decision_flips" in ev else "")
            + ")"
        )
    else:
        title = f"The saved model predicts another class than production logged for {share:.1%} of rows"
    return Finding(
        "pipeline.serialization_mismatch",
        CRITICAL if big else WARNING,
        title,
        evidence=ev,
        root_cause="production serves another model than this artifact (another version or "
        "training run), or the same model behind different preprocessing or "
        "library versions",
        fix="Deploy the validated artifact (pin version and hash), align library versions "
        "between training and serving, log the model version with every score. " + PIPELINE_BUG,
        impact=min(share * 2, 1.0),
    )


@check(
    "pipeline.serialization_mismatch",
    requires=("estimator", "current"),
    tolerance=Param(
        1e-3,
        Interval(float, 0, None),
        "largest |logged - recomputed| score difference that counts as equal (1e-3: float32 logging passes)",
    ),
    min_share=Param(
        0.01, Interval(float, 0, 1), "share of rows whose scores differ from which the mismatch is reported"
    ),
)
def serialization_mismatch(ctx: Context, p: Params) -> Findings:
    """The saved model does not reproduce the scores production logged for the same rows.

    What it detects
        When the batch carries the scores production logged (`--prediction-column` with
        `--model`), the saved model rescores the same rows; rows whose logged and recomputed
        scores differ by more than tolerance (1e-3) are counted. Flagged when at least min_share
        (1%) of rows differ: the share, the size of the differences (mean, 95th percentile, max),
        how many decisions flip at the threshold in use, and the worst rows.
    Why it matters
        The model you are debugging is not the one serving: another version, another
        preprocessing, or different library versions. Every offline diagnosis is then about the
        wrong model.
    How to confirm
        Score a handful of logged rows with the artifact in the serving environment and compare;
        check the model registry's version and the library versions in both places.
    Fix
        Deploy the artifact you validated (pin its version and hash), align library versions, and
        log the model version with each score. A pipeline bug: do not retrain.
    """
    c = ctx.case
    col = c.prediction_column
    if not col:
        raise NotApplicable("no logged score column (--prediction-column) was given")
    cur_df = ctx.frame("current")
    if col not in cur_df.columns:
        raise NotApplicable(f"the batch has no column {col!r} of logged scores")
    if not c.has_evaluation:  # a batch-only comparison: the outputs computed for the batch
        out = ctx.production().outputs
        if out is None:
            raise NotApplicable("the model cannot score the batch (model columns missing)")
        score = out.values.to_numpy() if out.kind == "numeric" else None
        model_classes = c.model.classes if c.model is not None else None
        return serialization_finding(
            cur_df[col], score, out.labels, out.task, model_classes, ctx.threshold, col, p
        )
    rec = ctx.predictions("current")
    return serialization_finding(cur_df[col], rec.score, rec.label, c.task, c.classes, ctx.threshold, col, p)
