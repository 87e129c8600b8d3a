"""model.prediction_collapse and model.wrong_output_type: what the model outputs, whatever its
score: (nearly) one value for every row, or values that do not fit the task."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, WARNING, Finding, Severity
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.rows import scalar
from .common import final_estimator, fitted_model, is_classifier

if TYPE_CHECKING:
    from ...context import Context
    from ...model import Predictions

# --------------------------------------------------------------------------- prediction collapse


def _relative_spread(oof: np.ndarray, y: np.ndarray, classes: list | None) -> float | None:
    """The spread of one baseline's out-of-fold predictions relative to the labels' (as for the
    user's model): the largest over classes of sd(P(class)) / sqrt(p(1-p)), or sd(pred) / sd(y)."""
    if classes is not None:
        ok = np.isfinite(oof).all(axis=1)
        rel = []
        for j, k in enumerate(classes):
            pk = float(np.mean(y[ok] == k))
            if 0 < pk < 1:
                rel.append(float(np.std(oof[ok, j])) / math.sqrt(pk * (1 - pk)))
        return max(rel) if rel else None
    ok = np.isfinite(oof)
    sd_y = float(np.std(y[ok].astype(float)))
    return float(np.std(oof[ok])) / sd_y if sd_y > 0 else None


def _baseline_spread(ctx: Context) -> float | None:
    """Relative spread of the best baseline's out-of-fold predictions (same measure as for the
    user's model), or None when the baselines are not available (--fast) or failed."""
    if ctx.config.fast:
        return None
    try:
        res = ctx.baselines()
    except Exception:
        return None
    base = {
        k: m
        for k, m in res.models.items()
        if k in ("linear", "hgb") and np.isfinite(m.mean) and m.oof is not None
    }
    if not base:
        return None
    y = np.asarray(res.y)
    spreads = []
    for m in base.values():  # the calmest baseline: a weak-signal problem keeps every model flat
        s = _relative_spread(np.asarray(m.oof, float), y, res.classes)
        if s is not None:
            spreads.append(s)
    return min(spreads) if spreads else None


def _collapse_classification(
    ctx: Context, p: Params, pred: Predictions, y: np.ndarray, ev: dict[str, Any]
) -> str | None:
    """Why the classifier's outputs are collapsed (None when they are not)."""
    prev = pd.Series(y).value_counts(normalize=True)
    labels = pd.Series(pred.label).value_counts(normalize=True)
    ev["most_predicted_class"] = scalar(labels.index[0])
    ev["share_of_predictions"] = float(labels.iloc[0])
    ev["true_share_of_that_class"] = float(prev.get(labels.index[0], 0.0))
    if pred.has_proba and pred.proba is not None:
        P = np.asarray(pred.proba, float)
        rel = []
        for j, k in enumerate(list(pred.classes or [])):
            pk = float(prev.get(k, 0.0))
            if 0 < pk < 1:
                rel.append(np.nanstd(P[:, j]) / math.sqrt(pk * (1 - pk)))
        if not rel:
            raise NotApplicable("a single class in the evaluation labels")
        r = float(np.max(rel))  # even the most variable class column is flat
        ev["probability_sd"] = float(np.nanstd(pred.score))
        ev["relative_sd"] = r
        ev["probability_range"] = [float(np.nanmin(pred.score)), float(np.nanmax(pred.score))]
        base = _baseline_spread(ctx)
        if base is not None:
            ev["baseline_relative_sd"] = base
        if r < p.max_relative_sd and (base is None or r < p.max_share_of_baseline * base):
            return (
                f"predicted probabilities barely move: sd {ev['probability_sd']:.2g} in "
                f"[{ev['probability_range'][0]:.4f}, {ev['probability_range'][1]:.4f}]; "
                f"{ev['share_of_predictions']:.1%} of rows get class {ev['most_predicted_class']}"
            )
        return None
    share, true_share = ev["share_of_predictions"], ev["true_share_of_that_class"]
    if share >= p.max_label_share and true_share <= min(0.9, share - 0.05):
        return (
            f"{share:.1%} of rows get class {ev['most_predicted_class']}, "
            f"which is {true_share:.1%} of the true labels"
        )
    return None


def _collapse_regression(
    ctx: Context, p: Params, pred: Predictions, y: np.ndarray, ev: dict[str, Any]
) -> str | None:
    """Why the regressor's outputs are collapsed (None when they are not)."""
    sv = np.asarray(pred.score, float)
    yv = np.asarray(y, float)
    sd_y = float(np.nanstd(yv))
    sd_p = float(np.nanstd(sv))
    ev.update(
        {"prediction_sd": sd_p, "target_sd": sd_y, "distinct_predictions": int(pd.Series(sv).nunique())}
    )
    base = _baseline_spread(ctx)
    if base is not None:
        ev["baseline_relative_sd"] = base
    if sd_y > 0 and (
        ev["distinct_predictions"] <= 1
        or sd_p / sd_y < p.max_relative_sd
        and (base is None or sd_p / sd_y < p.max_share_of_baseline * base)
    ):
        return f"prediction sd {sd_p:.3g} vs target sd {sd_y:.3g} ({sd_p / sd_y:.1%})"
    return None


def _collapse_ranking(ctx: Context, pred: Predictions, ev: dict[str, Any]) -> str | None:
    """Why the ranker's outputs are collapsed (None when they are not)."""
    g = ctx.frame("test")[ctx.case.group_column].to_numpy()
    s = pd.Series(np.asarray(pred.score, float))
    per_q = s.groupby(g).nunique()
    tied = float((per_q <= 1).mean())
    ev.update({"queries": int(len(per_q)), "share_of_queries_all_tied": tied})
    if tied >= 0.5:
        return f"{tied:.0%} of the queries get one score for all their items"
    return None


@check(
    "model.prediction_collapse",
    requires=("model",),
    max_relative_sd=Param(
        0.02,
        Interval(float, 0, 1),
        "largest sd of the predictions, relative to the labels' sd, called collapsed",
    ),
    max_share_of_baseline=Param(
        0.1,
        Interval(float, 0, 1),
        "the relative sd must also be below this share of the calmest baseline's (weak signal is not collapse)",
    ),
    max_label_share=Param(
        0.99,
        Interval(float, 0, 1),
        "without probabilities: share of rows predicted as one class that counts as collapsed",
    ),
)
def prediction_collapse(ctx: Context, p: Params) -> Findings:
    """(Nearly) every prediction is the same class or value.

    What it detects
        Classification with probabilities: the spread of the predicted probabilities is tiny
        relative to the spread of the labels (sd of P(class) below `max_relative_sd` (2%) of the
        label's sd sqrt(p(1-p))) and below `max_share_of_baseline` (10%) of the spread of the
        calmest baseline's out-of-fold probabilities (so a weak-signal problem, where every model
        predicts nearly the prevalence, is not called a collapse). Classification with labels only: one class predicted for at
        least `max_label_share` (99%) of the rows although it covers far fewer of the true labels.
        Regression: the sd of the predictions below 2% of the target's (and below 10% of the
        baseline's relative spread). Ranking: most queries get
        one tied score for all their items.
    Why it matters
        A collapsed model ranks and separates nothing: whatever its accuracy on an imbalanced set,
        it is a constant. Typical causes are extreme regularisation, a broken input path (all
        features NaN or zero at prediction time), or a degenerate training target.
    How to confirm
        `np.std(model.predict_proba(X)[:, 1])`, the histogram of predictions, and the predictions
        on a handful of very different rows.
    Fix
        Check the features arriving at the model (same columns, scales and dtypes as in training);
        weaken the regularisation (larger C, smaller alpha); check the training labels.
    """
    c = ctx.case
    pred = ctx.predictions("test")
    y = ctx.y("test")
    n = len(y)
    if n < 20:
        raise NotApplicable("fewer than 20 evaluation rows")
    ev: dict[str, Any] = {"rows": n}
    if c.task in ("binary", "multiclass"):
        desc = _collapse_classification(ctx, p, pred, y, ev)
    elif c.task == "regression":
        desc = _collapse_regression(ctx, p, pred, y, ev)
    else:
        desc = _collapse_ranking(ctx, pred, ev)
    if desc is None:
        return None
    return Finding(
        "model.prediction_collapse",
        CRITICAL,
        f"Prediction collapse: {desc}",
        evidence=ev,
        impact=1.0,
        root_cause="the model outputs (nearly) a constant: extreme regularisation, a degenerate training "
        "target, or features that arrive empty or constant at prediction time",
        fix="check the features reaching the model (columns, scales, dtypes); weaken the regularisation "
        "(larger C / smaller alpha); retrain and compare the prediction spread with a baseline's",
    )


# --------------------------------------------------------------------------- wrong output type


def _as_key(v: Any) -> Any:
    try:
        f = float(v)
        return f if np.isfinite(f) else str(v)
    except (TypeError, ValueError):
        return str(v)


def _wrong_class_output(ctx: Context, pred: Predictions, ev: dict[str, Any]) -> tuple[str | None, Severity]:
    """Classification: what is wrong with the outputs (None when nothing) and the severity."""
    c, m = ctx.case, fitted_model(ctx)
    target = list(c.classes or [])
    raw = np.asarray(pred.raw)
    classes = {_as_key(k) for k in target}
    keys = (
        pd.Series(raw).map(_as_key)
        if raw.dtype == object
        else pd.Series(raw.astype(float) if raw.dtype.kind in "biuf" else raw)
    )
    bad = ~keys.isin(classes)
    share = float(bad.mean())
    distinct = int(pd.Series(raw).nunique())
    ev.update(
        {
            "share_not_a_class": share,
            "distinct_outputs": distinct,
            "has_predict_proba": bool(pred.has_proba),
            "classes": target[:10],
        }
    )
    if m.kind == "precomputed":
        if c.task == "binary" and raw.dtype.kind in "biuf":
            lo, hi = float(np.nanmin(raw)), float(np.nanmax(raw))
            ev["output_range"] = [lo, hi]
            if lo < 0 or hi > 1:
                return (
                    f"the prediction column holds values in [{lo:.3g}, {hi:.3g}], not probabilities "
                    "of the positive class"
                ), WARNING
        return None, CRITICAL
    if not pred.has_proba and share > 0.01:
        if raw.dtype.kind in "biuf" and distinct > max(10, 3 * len(classes)):
            lo, hi = float(np.nanmin(raw.astype(float))), float(np.nanmax(raw.astype(float)))
            ev["output_range"] = [lo, hi]
            return (
                f"predict() returns {distinct:,} distinct continuous values in [{lo:.3g}, {hi:.3g}] "
                f"for a {c.task} target with classes {target[:5]}, and the model has no "
                "predict_proba"
            ), CRITICAL
        vals = sorted(map(str, pd.unique(pd.Series(raw)[bad.to_numpy()])))[:5]
        return (
            f"predict() returns values that are not the target's classes ({', '.join(vals)}) for {share:.0%} of rows"
        ), CRITICAL
    mc = m.classes
    if pred.has_proba and mc is not None and not ({_as_key(k) for k in mc} & classes):
        shown = [v.item() if hasattr(v, "item") else v for v in list(mc)[:5]]
        return (f"the model's classes {shown} are not the target's classes {target[:5]}"), CRITICAL
    return None, CRITICAL


def _wrong_quantity_output(
    ctx: Context, pred: Predictions, final: Any, ev: dict[str, Any]
) -> tuple[str | None, Severity]:
    """Regression and ranking: what is wrong with the outputs (None when nothing) and the severity."""
    c = ctx.case
    raw = np.asarray(pred.raw)
    yv = np.asarray(ctx.y("test"))
    y_distinct = int(pd.Series(yv).nunique())
    distinct = int(pd.Series(raw).nunique())
    ev.update({"distinct_outputs": distinct, "target_distinct": y_distinct})
    is_clf = final is not None and (is_classifier(final) or hasattr(final, "predict_proba"))
    ev["model_is_classifier"] = bool(is_clf)
    if is_clf and c.task == "regression" and y_distinct > 20:
        return (
            f"a classifier ({ev['model']}) predicts a continuous target: {distinct} distinct "
            f"outputs for {y_distinct} distinct target values"
        ), CRITICAL
    if (
        c.task == "regression"
        and raw.dtype.kind in "biuO"
        and y_distinct >= 50
        and distinct <= max(10, y_distinct // 20)
    ):
        return (
            f"predict() returns {distinct} distinct {raw.dtype} values for a target with "
            f"{y_distinct} distinct values: class labels, not quantities"
        ), WARNING
    return None, CRITICAL


@check("model.wrong_output_type", requires=("model",))
def wrong_output_type(ctx: Context, p: Params) -> Findings:
    """The model's outputs do not fit the task.

    What it detects
        Classification: `predict` returns values that are not the target's classes (continuous
        scores of a regressor used as a classifier, or labels of another encoding) and no usable
        `predict_proba`; for precomputed binary predictions, a column that is not a probability
        (values outside [0, 1]). Regression: a classifier (it has `classes_`/`predict_proba`)
        predicting a continuous target, or integer predictions with far fewer distinct values than
        the target has.
    Why it matters
        Thresholds, accuracy, calibration and costs all assume the output type of the task: a
        regressor's scores thresholded at 0.5, or class labels scored as quantities, give numbers
        that mean nothing.
    How to confirm
        `model.predict(X[:10])` against the target's values; `hasattr(model, "predict_proba")`;
        the model's class (`type(model[-1])`).
    Fix
        Use an estimator of the task's kind (a classifier with `predict_proba` for classes, a
        regressor for quantities); for precomputed scores, pass probabilities.
    """
    c = ctx.case
    m = fitted_model(ctx)
    pred = ctx.predictions("test")
    ev: dict[str, Any] = {"rows": len(np.asarray(pred.raw))}
    final = final_estimator(m.estimator) if m.estimator is not None else None
    ev["model"] = type(final).__name__ if final is not None else m.description
    if c.task in ("binary", "multiclass"):
        problem, sev = _wrong_class_output(ctx, pred, ev)
    else:
        problem, sev = _wrong_quantity_output(ctx, pred, final, ev)
    if problem is None:
        return None
    return Finding(
        "model.wrong_output_type",
        sev,
        f"Wrong output type: {problem}",
        evidence=ev,
        impact=1.0,
        root_cause="an estimator of the wrong kind for the task (a regressor where a classifier is needed "
        "or the reverse), or outputs of another encoding than the target",
        fix="use a classifier with predict_proba for class targets (or a regressor for quantities); "
        "threshold probabilities explicitly and pass them as the prediction column",
    )
