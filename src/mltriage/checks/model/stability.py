"""model.instability: the fold-to-fold (or seed-to-seed) spread of the model's score against the
spread of the baselines on the same folds."""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.metrics import HEADLINE, score
from .common import METRIC_NAMES, baseline_rows, fitted_model

if TYPE_CHECKING:
    from ...case import Case
    from ...context import Context
    from ...stats.baselines import BaselinesResult


def _seed_keys(est: Any) -> list[str]:
    """The estimator's random_state parameters (of every step of a pipeline)."""
    try:
        return [k for k in est.get_params(deep=True) if k == "random_state" or k.endswith("__random_state")]
    except Exception:
        return []


def _seed_split(ctx: Context, res: BaselinesResult, max_rows: int) -> tuple[Any, Any, Any, Any]:
    """One fixed two-thirds / one-third split of (at most `max_rows` of) the baselines' rows."""
    from sklearn.model_selection import train_test_split

    c = ctx.case
    idx = np.asarray(res.index)
    if len(idx) > max_rows:
        idx = np.sort(np.random.default_rng(0).choice(idx, max_rows, replace=False))
    df = ctx.frame("train").iloc[idx]
    X, y = df[c.features], df[c.target].to_numpy()
    strat = y if c.is_classification and pd.Series(y).value_counts().min() >= 2 else None
    try:
        Xa, Xb, ya, yb = train_test_split(X, y, test_size=1 / 3, random_state=0, stratify=strat)
    except ValueError:
        Xa, Xb, ya, yb = train_test_split(X, y, test_size=1 / 3, random_state=0)
    return Xa, Xb, ya, yb


def _held_out_score(c: Case, m: Any, Xb: Any, yb: np.ndarray) -> float:
    """The headline metric of a refitted model on the held-out part of the split."""
    metric = HEADLINE[c.task]
    if not c.is_classification:
        return score(metric, yb, np.asarray(m.predict(Xb), float))
    proba = np.asarray(m.predict_proba(Xb), float)
    cls = list(m.classes_)
    if c.task == "binary":
        pos = cls.index(c.positive) if c.positive in cls else len(cls) - 1
        return score(
            metric,
            yb,
            None,
            proba=proba[:, [1 - pos, pos]] if len(cls) == 2 else proba,
            classes=c.classes,
            positive=c.positive,
        )
    pred = np.asarray(cls, dtype=object)[np.argmax(proba, axis=1)]
    return float(np.mean(pred.astype(yb.dtype) == yb if yb.dtype.kind in "biuf" else pred == yb))


def _seed_scores(ctx: Context, res: BaselinesResult, n_seeds: int, max_rows: int) -> list[float] | None:
    """Refit the user's model with different random seeds on one fixed split of the baselines' rows
    and score each on the same held-out part: the spread is the model's own randomness."""
    from sklearn.base import clone

    c = ctx.case
    est = fitted_model(ctx).estimator
    if c.task == "ranking" or not hasattr(est, "get_params"):
        return None
    keys = _seed_keys(est)
    if not keys:
        return None
    Xa, Xb, ya, yb = _seed_split(ctx, res, max_rows)
    out = []
    for seed in range(1, n_seeds + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = clone(est).set_params(**{k: seed for k in keys}).fit(Xa, ya)
                out.append(_held_out_score(c, m, Xb, yb))
        except Exception:
            return None
    return out if len(out) >= 2 else None


@check(
    "model.instability",
    requires=("estimator",),
    slow=True,
    min_sd=Param(
        0.03,
        Interval(float, 0, None),
        "smallest fold-to-fold sd of the score called unstable (AUC, accuracy)",
    ),
    min_sd_r2=Param(0.05, Interval(float, 0, None), "smallest fold-to-fold sd of R² called unstable"),
    alpha=Param(
        0.05,
        Interval(float, 0, 1, closed="neither"),
        "level of the F test of your model's fold variance against the baselines'",
    ),
    seeds=Param(3, Interval(int, 2, None), "random seeds refitted when the F test cannot decide"),
    seed_rows=Param(5000, Interval(int, 1, None), "most training rows used by the seed refits"),
)
def instability(ctx: Context, p: Params) -> Findings:
    """Performance varies widely across cross-validation folds or random seeds.

    What it detects
        Your model refitted in each fold of the baselines: the standard deviation of its fold scores
        is at least `min_sd` (0.03; 0.05 for R²) and larger than that of the baselines (linear
        model, gradient boosting) on the very same folds by a variance ratio that the F test
        rejects at `alpha` (5%): 2.5 times the baselines' sd with five folds, 4.4 times with three.
        When the fold spread is large but the F test cannot decide, the model is refitted with
        `seeds` (3) random seeds on one fixed split (at most `seed_rows` rows): a seed-to-seed
        sd of at least `min_sd` on the same rows is the model's own randomness. Spread that
        every model shares comes from the data (few rows, a hard split) and is not blamed on the
        model; it is reported as info when it is large relative to the lift over dummy.
    Why it matters
        An unstable model's test score is one draw from a wide distribution: the next retrain
        may be much worse, and comparisons between versions are noise.
    How to confirm
        Cross-validate with repeated folds and several seeds; look at the fold scores in the baselines
        table; check for tiny leaves, unscaled features for SGD/MLP, or high learning rates.
    Fix
        Regularise or average (bagging, more trees, smaller learning rate with more iterations),
        fix the seeds, scale the inputs of gradient-based models, add rows.
    """
    from scipy.stats import f as f_dist

    res = ctx.baselines()
    user = res.models.get("user")
    if user is None:
        raise NotApplicable("your model could not be refitted in the baselines (not a cloneable estimator)")
    folds = [s for s in user.fold_scores if np.isfinite(s)]
    if len(folds) < 3:
        raise NotApplicable(user.error or "fewer than 3 folds of your model were scored")
    metric = res.metric
    floor = p.min_sd_r2 if metric == "r2" else p.min_sd
    base_sd = [m.std for k, m in res.models.items() if k in ("linear", "hgb") and np.isfinite(m.std)]
    ref = float(np.median(base_sd)) if base_sd else float("nan")
    sd = float(np.std(folds, ddof=1))
    ratio_needed = math.sqrt(float(f_dist.ppf(1 - p.alpha, len(folds) - 1, len(folds) - 1)))
    dummy = res.models.get("dummy")
    lift = user.mean - dummy.mean if dummy is not None and np.isfinite(dummy.mean) else float("nan")
    ev: dict[str, Any] = {
        "metric": metric,
        "your_folds": folds,
        "your_sd": sd,
        "baseline_sd": ref,
        "sd_ratio": sd / ref if ref and np.isfinite(ref) and ref > 0 else None,
        "sd_ratio_needed": ratio_needed,
        "lift_over_dummy": lift,
        "baselines": baseline_rows(res),
    }
    name = METRIC_NAMES.get(metric, metric)
    ref_floor = max(ref, 1e-3) if np.isfinite(ref) else float("nan")
    unstable, how = False, ""
    if sd >= floor and (not np.isfinite(ref_floor) or sd >= ratio_needed * ref_floor):
        unstable = True
        how = (
            f"{name} across {len(folds)} folds {min(folds):.3f}–{max(folds):.3f} (sd {sd:.3f} vs "
            f"{ref:.3f} for the baselines on the same folds)"
        )
    elif sd >= floor and sd >= 1.5 * ref_floor:
        seeds = _seed_scores(ctx, res, p.seeds, p.seed_rows)
        if seeds:
            s_sd = float(np.std(seeds, ddof=1))
            ev.update({"seed_scores": seeds, "seed_sd": s_sd})
            if s_sd >= floor:
                unstable = True
                how = (
                    f"{name} {min(seeds):.3f}–{max(seeds):.3f} across {len(seeds)} random seeds on the same "
                    f"rows (sd {s_sd:.3f}); fold sd {sd:.3f} vs {ref:.3f} for the baselines"
                )
    if unstable:
        return Finding(
            "model.instability",
            WARNING,
            f"Unstable model: {how}",
            evidence=ev,
            impact=float(min(1.0, sd * 5)),
            root_cause="the model's fit depends strongly on which rows it sees or on its random seed (high "
            "variance: tiny leaves, high learning rate, unscaled inputs for gradient methods)",
            fix="regularise or average (bagging, more trees / lower learning rate), scale inputs, fix seeds; "
            "report the mean and spread over folds and seeds, not one split",
        )
    if sd >= floor and np.isfinite(lift) and lift > 0 and sd > 0.5 * lift:
        return Finding(
            "model.instability",
            INFO,
            f"Noisy evaluation: {name} varies by {sd:.3f} (sd) across folds for every model, as much as "
            f"half of the lift over dummy ({lift:.3f})",
            evidence=ev,
            impact=0.05,
            root_cause="few rows or few rare-class rows per fold: the scores of every model are noisy",
            fix="use repeated cross-validation and report intervals; collect more rows",
        )
    return None
