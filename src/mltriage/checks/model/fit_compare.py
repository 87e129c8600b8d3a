"""model.underfit / model.overfit helpers: like-for-like baselines, the less flexible setting's shortfall, and the
evaluation rows with a column missing far more often than in training."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .common import (
    final_estimator,
    noise_margin,
)
from .compare import MIN_ROWS, cross_validated, heldout, pooled_z

if TYPE_CHECKING:
    from ...context import Context
    from ...stats.baselines import BaselinesResult


# --------------------------------------------------------------------------- underfit


def _like_for_like(
    ctx: Context, res: BaselinesResult, key: str, dummy_cv: float, paired: bool
) -> dict[str, Any] | None:
    """The baseline `key` fitted on as many training rows as your model against your model on the
    same evaluation rows, paired (`compare.heldout`), with the shortfall's share of the baseline's
    lift over dummy on those rows and its excess error (the shortfall over the baseline's 1 -
    score). None without `paired` (evaluation columns transformed against training: your model's
    outputs measure the transformation), when the rows do not allow it, or when it fails."""
    if not paired:
        return None
    try:
        held = heldout(ctx, res, key)
    except Exception:  # a second opinion, never a reason to fail
        return None
    if held is None or not np.isfinite(held["se"]):
        return None
    ref, d = held["reference"], held["shortfall"]
    dummy = held["dummy"] if np.isfinite(held["dummy"]) else dummy_cv
    lift = ref - dummy
    return {
        **held,
        "share_of_lift_missed": d / lift if lift > 0 else float("nan"),
        "excess_error": d / (1.0 - ref) if 1.0 - ref > 1e-9 else float("inf"),
    }


# --------------------------------------------------------------------------- overfit


def _baselines_for_overfit(
    ctx: Context, evidence: dict[str, Any], metric: str, te: float
) -> tuple[Any, bool]:
    """The baselines (None with --fast or when they fail) and whether they show no signal to learn:
    no baseline beats dummy by the noise margin, nor does the model's held-out score."""
    if ctx.config.fast:
        return None, False
    res: BaselinesResult | None = None
    no_signal = False
    try:
        res = ctx.baselines()
        dummy = res.models.get("dummy")
        base = [m.mean for k, m in res.models.items() if k in ("linear", "hgb") and np.isfinite(m.mean)]
        if dummy is not None and base:
            evidence["best_baseline_cv"] = max(base)
            evidence["dummy_cv"] = dummy.mean
            if res.greater_is_better and max(base) - dummy.mean < noise_margin(metric):
                no_signal = te - dummy.mean < noise_margin(metric)
    except Exception:
        pass
    return res, no_signal


def _finite(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    return a[np.isfinite(a)]


def less_flexible_shortfall(
    ctx: Context,
    res: BaselinesResult,
    te: float,
    te_se: float,
    paired: bool,
    keep: np.ndarray | None = None,
) -> dict[str, Any] | None:
    """How far the model falls below the less flexible settings of the baselines (the linear
    model and early-stopped gradient boosting; the better of the two under cross-validation, chosen
    before looking at the evaluation rows), like for like: on the same evaluation rows
    (`compare.heldout`: that setting fitted on as many training rows as your model against your
    model, on the evaluation rows whose features no training row has, paired over the rows:
    `heldout_shortfall` and its standard error) and under the same folds (the baseline's fold
    scores minus your model refitted in those folds, paired: `cv_shortfall` with its t statistic;
    None when the model cannot be refitted), with `heldout_z`, the two pooled (Stouffer's z of the
    paired bootstrap and the corrected resampled t-test). Without `paired` (evaluation columns
    transformed against training), or when the rows do not allow it (ranking, too few rows): the
    fold models' mean score on the evaluation rows against your held-out score `te`, standard
    error from `te_se` and the fold models' spread. None when no baseline is usable. A linear model
    (its last step has coefficients) is compared with the linear baseline only: boosting is more
    flexible, not less, and its better held-out score says underfit, not overfit."""
    est = ctx.case.model.estimator if ctx.case.model is not None else None
    keys = ("linear",) if est is not None and hasattr(final_estimator(est), "coef_") else ("linear", "hgb")
    base = {k: m for k, m in res.models.items() if k in keys and np.isfinite(m.mean)}
    if not res.greater_is_better or not base:
        return None
    key = max(base, key=lambda k: base[k].mean)
    best = base[key]
    out: dict[str, Any] = {
        "reference": res.table()[list(res.models).index(key)]["model"],
        "reference_cv": best.mean,
        "heldout_shortfall": None,
        "cv_shortfall": None,
    }
    held = heldout(ctx, res, key, keep) if paired else None
    ev = _finite(best.eval_scores)
    if held is None and len(ev) and np.isfinite(te):
        se = math.sqrt((te_se if np.isfinite(te_se) else 0.0) ** 2 + (float(np.var(ev)) / len(ev)))
        d = float(ev.mean() - te)
        out.update(
            reference_heldout=float(ev.mean()), your_model_heldout=te, heldout_shortfall=d, heldout_se=se
        )
        out.update(
            heldout_rows=res.eval_rows, heldout_rows_set="evaluation rows (fold models; your model on all)"
        )
        out["heldout_z"] = d / se if se > 0 else (math.inf if d > 0 else 0.0)
    if held is not None:
        folds = cross_validated(res, key)
        out.update(
            reference_heldout=held["reference"],
            your_model_heldout=held["candidate"],
            heldout_shortfall=held["shortfall"],
            heldout_se=held["se"],
            heldout_rows_z=held["z"],
            heldout_z=pooled_z(held, folds),
            folds_z=None if folds is None else folds["z"],
            heldout_rows=held["rows"],
            heldout_rows_set=held["rows_set"],
        )
    user = res.models.get("user")
    if user is not None and len(user.fold_scores) == len(best.fold_scores):
        diff = _finite([b - u for b, u in zip(best.fold_scores, user.fold_scores, strict=True)])
        if len(diff) >= 2:
            sd = float(np.std(diff, ddof=1))
            d = float(diff.mean())
            out.update(user_cv=user.mean, cv_shortfall=d, cv_folds=len(diff))
            out["cv_t"] = d / (sd / math.sqrt(len(diff))) if sd > 0 else (math.inf if d > 0 else 0.0)
    return out


def _gap_matters(tr: float, te: float, thr: float, error_ratio: float, metric: str) -> bool:
    """Whether a train-minus-held-out gap is large enough to matter: above the threshold `thr`,
    or, near the metric's ceiling (1) where no gap can be that large, at least the metric's noise
    margin with a held-out error (1 - score) `error_ratio` times the training error (a tree at
    train AUC 1.000 and held-out 0.907 makes every error on new rows)."""
    gap = tr - te
    if gap > thr:
        return True
    return gap >= noise_margin(metric) and (1.0 - te) >= error_ratio * max(1.0 - tr, 0.0)


def _missing_in_evaluation(ctx: Context) -> tuple[list[str], np.ndarray] | None:
    """The features missing in the evaluation rows significantly and substantially more often
    than in training (data.missing_values's warning) and the mask of the evaluation rows where
    none of them is missing; None when there is no such feature, for ranking (whole queries), or
    when fewer than `compare.MIN_ROWS` rows would remain."""
    from ..data.values import risen_missing

    if ctx.case.task not in ("binary", "multiclass", "regression"):
        return None
    try:
        cols = [a["column"] for a in risen_missing(ctx, "test")]
    except Exception:  # the missing values are context here, never a reason to fail
        return None
    if not cols:
        return None
    keep = ~ctx.frame("test")[cols].isna().any(axis=1).to_numpy()
    if keep.sum() < MIN_ROWS:
        return None
    return cols, keep
