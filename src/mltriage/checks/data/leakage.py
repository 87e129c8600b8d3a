"""Rung 1, data: a feature that predicts the target almost perfectly on its own (label leakage),
judged against what all the other features reach together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check

if TYPE_CHECKING:
    from ...context import Context


def _class_targets(
    task: str, y: np.ndarray, classes: Any, positive: Any
) -> tuple[np.ndarray, np.ndarray, list]:
    """One-hot targets Y (binary: one column, the positive class), integer labels and the classes
    that the columns of Y stand for (multiclass: those with at least two rows)."""
    if task == "binary":
        Y = (np.asarray(y) == positive).astype(float)[:, None]
        return Y, Y[:, 0].astype(int), [1]
    cls = list(classes)
    pos = {v: i for i, v in enumerate(cls)}
    yy = np.array([pos[v] for v in np.asarray(y).tolist()])
    present = [j for j in range(len(cls)) if (yy == j).sum() >= 2]
    return np.stack([(yy == j).astype(float) for j in present], axis=1), yy, present


def _rest_classifier(
    task: str, Xr: np.ndarray, y: np.ndarray, classes: Any, positive: Any, kw: dict[str, Any], seed: int
) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import KFold, StratifiedKFold

    from ...stats.leakage import prediction_score

    Y, yy, present = _class_targets(task, y, classes, positive)
    counts = np.bincount(yy)
    splitter = (
        StratifiedKFold(3, shuffle=True, random_state=seed)
        if counts[counts > 0].min() >= 3
        else KFold(3, shuffle=True, random_state=seed)
    )
    pred = np.zeros_like(Y)
    for a, b in splitter.split(Xr, yy):
        est = HistGradientBoostingClassifier(**kw).fit(Xr[a], yy[a])
        pr = est.predict_proba(Xr[b])
        if task == "binary":
            pred[b, 0] = pr[:, list(est.classes_).index(1)] if 1 in est.classes_ else 0.0
        else:
            for jj, j in enumerate(present):
                if j in est.classes_:
                    pred[b, jj] = pr[:, list(est.classes_).index(j)]
    return prediction_score(task, Y, pred)[0]


def _rest_score(
    X: np.ndarray,
    y: np.ndarray,
    task: str,
    mask: np.ndarray,
    drop: int,
    classes: Any,
    positive: Any,
    seed: int = 0,
) -> float:
    """Cross-validated score (same metric as the single-feature scores) of gradient boosting on
    every feature but `drop`."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import KFold

    from ...stats.leakage import prediction_score

    keep = [j for j in range(X.shape[1]) if j != drop]
    if not keep:
        return float("nan")
    Xr, cm = X[:, keep], mask[keep]
    kw: dict[str, Any] = dict(
        max_iter=100,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=10,
        random_state=seed,
        categorical_features=cm if cm.any() else None,
    )
    if task in ("binary", "multiclass"):
        return _rest_classifier(task, Xr, y, classes, positive, kw, seed)
    yy = np.asarray(y, dtype=float)
    pred = np.zeros(len(yy))
    for a, b in KFold(3, shuffle=True, random_state=seed).split(Xr):
        pred[b] = HistGradientBoostingRegressor(**kw).fit(Xr[a], yy[a]).predict(Xr[b])
    return prediction_score("regression", yy[:, None], pred[:, None])[0]


@check(
    "data.label_leakage",
    max_rows=Param(20_000, Interval(int, 1, None), "training rows sampled to score each feature alone"),
    rest_rows=Param(
        6_000, Interval(int, 1, None), "training rows sampled to fit the model on all the other features"
    ),
    perfect_auc=Param(
        0.98, Interval(float, 0, 1), "single-feature AUC from which a feature is a leak (critical)"
    ),
    strong_auc=Param(
        0.90, Interval(float, 0, 1), "single-feature AUC from which a feature is compared with the rest"
    ),
    auc_gap=Param(
        0.10,
        Interval(float, 0, 1),
        "AUC by which a strong feature's lower bound must beat all the other features together",
    ),
    perfect_r2=Param(
        0.98, Interval(float, 0, 1), "single-feature R^2 from which a feature is a leak (critical)"
    ),
    strong_r2=Param(
        0.95, Interval(float, 0, 1), "single-feature R^2 from which a feature is compared with the rest"
    ),
    r2_gap=Param(
        0.20,
        Interval(float, 0, 1),
        "R^2 by which a strong feature's lower bound must beat all the other features together",
    ),
    shortfall_ratio=Param(
        0.4,
        Interval(float, 0, 1),
        "largest share of the other features' shortfall (1 - score) that a strong feature may leave "
        "to count as a leak (0.98 vs 0.90 leaves a fifth: a leak on strong data)",
    ),
)
def label_leakage(ctx: Context, p: Params) -> Findings:
    """A single feature that predicts the target almost perfectly on its own.

    What it detects
        Every feature's cross-validated predictive power on its own (out-of-fold binned target
        means: AUC for classification, R^2 for regression), on the unique training rows (copies
        across folds would inflate a legitimate strong predictor), from 100 of them. Critical when one feature alone is
        near perfect (`perfect_auc`, `perfect_r2`); critical too when it is very strong
        (`strong_auc`, `strong_r2`) and far above what all the other features reach together
        (a cross-validated gradient boosting model without it, `auc_gap`, `r2_gap`, or leaving at
        most `shortfall_ratio` of the error that the other features leave).
    Why it matters
        A feature that knows the answer is usually recorded after the outcome (a collections call
        after a default, a discharge code after a diagnosis) or derived from the target. The model
        leans on it, scores brilliantly offline, and fails in production where the value is not
        yet known at prediction time.
    How to confirm
        Ask when and how the column is recorded relative to the outcome; drop it and compare the
        cross-validated score; look at its values for the two classes.
    Fix
        Remove the column (or rebuild it from information available at prediction time, with a
        point-in-time join).
    """
    from ...stats.leakage import single_feature_scores

    c = ctx.case
    task = "regression" if c.task == "ranking" else c.task
    X = ctx.encoded("train")
    y = ctx.y("train")
    # scored on unique rows: a copy in another fold would hand a row its own label and inflate a
    # legitimate strong predictor (and the other features' model) alike
    unique = np.flatnonzero(~pd.Series(ctx.row_hashes("train")).duplicated().to_numpy())
    if len(unique) < 100:
        raise NotApplicable(f"fewer than 100 unique training rows ({len(unique)})")
    idx = unique
    if len(unique) > p.max_rows:
        idx = np.sort(np.random.default_rng(ctx.config.seed).choice(unique, p.max_rows, replace=False))
    mask = ctx.encoder.categorical_mask
    scores = single_feature_scores(
        X[idx], c.features, mask, y[idx], task, c.classes, c.positive, seed=ctx.config.seed
    )
    scores = [s for s in scores if np.isfinite(s.score)]
    if not scores:
        return None
    top = scores[0]
    reg = task == "regression"
    perfect, strong, gap = (
        (p.perfect_r2, p.strong_r2, p.r2_gap) if reg else (p.perfect_auc, p.strong_auc, p.auc_gap)
    )
    metric = "R^2" if reg else ("AUC" if task == "binary" else "macro AUC")
    table = [{"column": s.column, "score": s.score, "low": s.low, "high": s.high} for s in scores[:5]]
    ev: dict[str, Any] = {
        "metric": metric,
        "single_feature": table,
        "rows": int(len(idx)),
        "duplicate_rows_left_out": int(len(y) - len(unique)),
    }
    if top.score < strong:
        return None
    if top.score >= perfect and top.low >= strong:
        sev = CRITICAL
    else:
        j = c.features.index(top.column)
        ridx = idx
        if len(idx) > p.rest_rows:
            ridx = np.sort(np.random.default_rng(ctx.config.seed + 1).choice(idx, p.rest_rows, replace=False))
        rest = _rest_score(X[ridx], y[ridx], task, mask, j, c.classes, c.positive, ctx.config.seed)
        ev["other_features_together"] = rest
        # far above the rest: by an absolute gap, or by removing most of the shortfall that the
        # other features leave (0.98 vs 0.90 leaves a fifth of the error: a leak on strong data)
        relative = top.low > rest and (1 - top.score) <= p.shortfall_ratio * (1 - rest)
        if not (np.isfinite(rest) and (top.low - rest >= gap or relative)):
            return None
        sev = CRITICAL  # the model takes the leak: its headline cannot be trusted until it is dropped
    others = (
        f"; the other features together reach {ev['other_features_together']:.3f}"
        if "other_features_together" in ev
        else ""
    )
    return Finding(
        "data.label_leakage",
        sev,
        f"{top.column} alone predicts the target with cross-validated {metric} {top.score:.3f}"
        f" (next feature {scores[1].score:.3f}{others})"
        if len(scores) > 1
        else f"{top.column} alone predicts the target with cross-validated {metric} {top.score:.3f}",
        columns=[top.column],
        evidence=ev,
        impact=float(min(1.0, max(0.0, top.score))),
        root_cause=f"{top.column} is probably recorded after the outcome or derived from the target",
        fix=f"check when {top.column} becomes known; drop it or rebuild it from information "
        "available at prediction time",
    )
