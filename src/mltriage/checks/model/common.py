"""Helpers shared by the model checks: the model's headline score per set, number formats, the
noise margin of a metric, the estimator inside a pipeline and the baselines table of the evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...registry import NotApplicable
from ...stats.metrics import HEADLINE, headline

if TYPE_CHECKING:
    from ...context import Context
    from ...model import ModelAdapter
    from ...stats.baselines import BaselinesResult

METRIC_NAMES = {"roc_auc": "ROC AUC", "accuracy": "accuracy", "r2": "R²", "ndcg@10": "NDCG@10"}


def headline_score(ctx: Context, which: str) -> tuple[float, float]:
    """The headline metric (HEADLINE[task]) of the user's model on a set, with its standard error
    (`stats.metrics.headline`), cached per set.

    For ROC AUC the standard error is the half-width of the 95% interval clipped to [0, 1], over
    1.96: near an AUC of 1 the interval cannot reach past 1, so the error is smaller than the
    Hanley-McNeil one (the convention the model checks' thresholds were set with)."""

    result: tuple[float, float] = ctx.cached(f"model:headline:{which}", lambda: headline_on_rows(ctx, which))
    return result


def headline_on_rows(ctx: Context, which: str, rows: np.ndarray | None = None) -> tuple[float, float]:
    """`headline_score` on the rows of a set that the mask `rows` keeps (all when None; whole
    queries are the caller's business for ranking)."""
    c = ctx.case
    if c.task not in HEADLINE:
        raise NotApplicable(f"no headline metric for {c.task}")
    pred = ctx.predictions(which)
    keep = np.ones(len(ctx.y(which)), dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    groups = ctx.frame(which)[c.group_column].to_numpy()[keep] if c.task == "ranking" else None
    label = None if pred.label is None else np.asarray(pred.label)[keep]
    value, se = headline(
        c.task, ctx.y(which)[keep], np.asarray(pred.score)[keep], label, positive=c.positive, groups=groups
    )
    if HEADLINE[c.task] == "roc_auc" and np.isfinite(se):
        lo, hi = float(max(0.0, value - 1.96 * se)), float(min(1.0, value + 1.96 * se))
        se = (hi - lo) / (2 * 1.96)
    return value, se


def fitted_model(ctx: Context) -> ModelAdapter:
    """The case's model (the checks that call this require one)."""
    if ctx.case.model is None:
        raise NotApplicable("no model and no prediction column were given")
    return ctx.case.model


def fmt(v: float | None) -> str:
    """A score with three decimals ("nan" when missing)."""
    return "nan" if v is None or not np.isfinite(v) else f"{v:.3f}"


def noise_margin(metric: str) -> float:
    """The smallest difference of a metric that counts as a real difference between two models."""
    return {"roc_auc": 0.03, "accuracy": 0.03, "r2": 0.05}.get(metric, 0.03)


def final_estimator(est: Any) -> Any:
    """The estimator at the end of a pipeline, unwrapped from search and meta-estimators."""
    while hasattr(est, "steps"):
        est = est.steps[-1][1]
    for attr in ("best_estimator_", "estimator_", "estimator", "base_estimator"):
        inner = getattr(est, attr, None)
        if inner is not None and hasattr(inner, "fit") and not isinstance(inner, str):
            return final_estimator(inner)
    return est


def is_classifier(est: Any) -> bool:
    """A fitted classifier: sklearn's estimator type, or fitted classes."""
    return getattr(est, "_estimator_type", None) == "classifier" or hasattr(est, "classes_")


def baseline_rows(res: BaselinesResult) -> list[dict[str, Any]]:
    """The baselines table as shown in the evidence of the model checks."""
    return [
        {k: r[k] for k in ("model", "cv_mean", "cv_std", "train_mean", "folds", "error")} for r in res.table()
    ]


def skew_repaired_score(ctx: Context) -> dict[str, Any] | None:
    """When the evaluation set has columns transformed against training
    (pipeline.train_serving_skew on the evaluation set): those columns and the model's held-out
    headline score with the transformations undone (None when it cannot be rescored); None when
    no column is transformed. Computed once per run (model.overfit and model.underfit both read
    it)."""
    return ctx.cached("skew_repaired_score", lambda: _skew_repaired_score(ctx))


def _skew_repaired_score(ctx: Context) -> dict[str, Any] | None:
    from ...stats.skew import undo_skew

    try:
        skews = ctx.evaluation_skews()
    except Exception:
        return None
    if not skews:
        return None
    out: dict[str, Any] = {"columns": sorted(skews), "test_repaired": None}
    c = ctx.case
    if c.model is None or c.model.kind == "precomputed" or c.task not in HEADLINE:
        return out
    try:
        raw = ctx.frame("test")
        df = raw.copy()
        for col, res in skews.items():
            df[col] = undo_skew(res, raw[col], raw)
        pred = ctx.predictions_on(df)
        groups = df[c.group_column].to_numpy() if c.task == "ranking" else None
        value, _ = headline(c.task, ctx.y("test"), pred.score, pred.label, positive=c.positive, groups=groups)
        out["test_repaired"] = float(value)
    except Exception:
        pass
    return out
