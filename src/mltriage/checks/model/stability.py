"""model.instability: the fold-to-fold (or seed-to-seed) spread of the model's score against the
spread of the baselines on the same folds."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import INFO, WARNING, Finding
from ...positive import negative_of, positive_scores
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.metrics import HEADLINE, score
from ...stats.threads import side_by_side
from .common import METRIC_NAMES, baseline_rows, fitted_model, headline_score

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


def _owner_metric(c: Case) -> str | None:
    """The owner's metric (--metric) when it is not the headline one and can be computed here."""
    from ...metric_names import canonical_metric

    m = canonical_metric(c.metric)
    if m is None or m == HEADLINE.get(c.task):
        return None
    ok = OWNER_METRICS_CLASSIFICATION if c.is_classification else OWNER_METRICS_REGRESSION
    return m if m in ok else None


OWNER_METRICS_CLASSIFICATION = {
    "accuracy",
    "roc_auc",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "pr_auc",
    "mcc",
    "f1_macro",
}
OWNER_METRICS_REGRESSION = {"r2", "mae", "rmse", "mse"}


def _metric_on(metric: str, c: Case, yb: np.ndarray, pred: np.ndarray, p_pos: np.ndarray | None) -> float:
    """`metric` of one held-out prediction (labels `pred`, binary scores `p_pos`)."""
    from sklearn import metrics as skm

    if metric in ("roc_auc", "accuracy", "balanced_accuracy", "r2", "mae", "rmse"):
        proba = None if p_pos is None else np.column_stack([1 - p_pos, p_pos])
        cls = None if p_pos is None else [negative_of(c.classes or [], c.positive), c.positive]
        return score(metric, yb, pred, proba=proba, classes=cls, positive=c.positive)
    if metric == "mse":
        return float(np.mean((yb.astype(float) - pred.astype(float)) ** 2))
    if metric == "mcc":
        return float(skm.matthews_corrcoef(yb, pred))
    if metric == "f1_macro":
        return float(skm.f1_score(yb, pred, average="macro"))
    yy, pp = yb == c.positive, pred == c.positive
    if metric == "pr_auc":
        return float(skm.average_precision_score(yy, p_pos)) if p_pos is not None else float("nan")
    fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[metric]
    return float(fn(yy, pp, zero_division=0))


def _held_out_scores(c: Case, m: Any, Xb: Any, yb: np.ndarray, owner: str | None) -> tuple[float, float]:
    """The headline metric (and the owner's metric, nan without one) of a refitted model on the
    held-out part of the split; a model without predict_proba is scored on its decision_function."""
    from ...stats.baselines import _aligned_proba

    metric = HEADLINE[c.task]
    if not c.is_classification:
        pred = np.asarray(m.predict(Xb), float)
        return score(metric, yb, pred), _metric_on(owner, c, yb, pred, None) if owner else float("nan")
    cls = list(m.classes_)
    proba = _aligned_proba(m, Xb, cls)
    pred = np.asarray(cls, dtype=object)[np.argmax(proba, axis=1)]
    pred = pred.astype(yb.dtype) if yb.dtype.kind in "biuf" else pred
    p_pos = None
    if c.task == "binary":
        p_pos = positive_scores(proba, cls, c.positive)
        head = score(metric, yb, None, proba=proba, classes=cls, positive=c.positive)
    else:
        head = float(np.mean(pred == yb))
    return head, _metric_on(owner, c, yb, pred, p_pos) if owner else float("nan")


def _seed_scores(
    ctx: Context, res: BaselinesResult, n_seeds: int, max_rows: int
) -> tuple[list[float], list[float]] | None:
    """Refit the user's model with different random seeds on one fixed split of the baselines' rows
    and score each on the same held-out part: the spread is the model's own randomness. The scores
    on the headline metric and on the owner's (--metric; empty when none or the same)."""
    from ...stats.baselines import refit_clone

    c = ctx.case
    est = fitted_model(ctx).estimator
    if c.task == "ranking" or not hasattr(est, "get_params"):
        return None
    keys = _seed_keys(est)
    if not keys:
        return None
    owner = _owner_metric(c)
    Xa, Xb, ya, yb = _seed_split(ctx, res, max_rows)

    def refit(seed: int) -> tuple[float, float]:
        m = refit_clone(est).set_params(**{k: seed for k in keys}).fit(Xa, ya)
        return _held_out_scores(c, m, Xb, yb, owner)

    # the seeds' refits are independent: side by side in threads, the results of one thread
    got = [r for r, _ in side_by_side(refit, list(range(1, n_seeds + 1)), ctx.workers)]
    if any(isinstance(r, Exception) for r in got):
        return None
    out = [h for h, _ in got]
    own = [o for _, o in got if owner and np.isfinite(o)]
    return (out, own) if len(out) >= 2 else None


def _judge_seeds(
    ctx: Context,
    p: Params,
    res: BaselinesResult,
    ev: dict[str, Any],
    name: str,
    floor: float,
    sd: float,
    ref: float,
    fold_spread: bool,
) -> tuple[bool, str]:
    """Refit with `seeds` random seeds: unstable when the seed-to-seed sd of the headline metric
    (if the fold spread was large) or of the owner's metric reaches the floor of its kind."""
    got = _seed_scores(ctx, res, p.seeds, p.seed_rows)
    if not got:
        return False, ""
    seeds, own = got
    s_sd = float(np.std(seeds, ddof=1))
    ev.update({"seed_scores": seeds, "seed_sd": s_sd})
    _, se = headline_score(ctx, "test")
    se = se if np.isfinite(se) else 0.0
    ev["eval_se"] = se
    if fold_spread and s_sd >= max(floor, se):
        return True, (
            f"{name} {min(seeds):.3f}–{max(seeds):.3f} across {len(seeds)} random seeds on the same "
            f"rows (sd {s_sd:.3f}); fold sd {sd:.3f} vs {ref:.3f} for the baselines"
        )
    owner = _owner_metric(ctx.case)
    if owner and len(own) >= 2:
        o_sd = float(np.std(own, ddof=1))
        o_floor = p.min_sd_r2 if owner == "r2" else p.min_sd
        ev.update({"owner_metric": owner, "owner_metric_seed_scores": own, "owner_metric_seed_sd": o_sd})
        if o_sd >= o_floor and owner not in ("mae", "rmse", "mse"):
            return True, (
                f"{METRIC_NAMES.get(owner, owner)} (the metric you report) {min(own):.3f}–{max(own):.3f} "
                f"across {len(own)} random seeds on the same rows (sd {o_sd:.3f}; {name} sd {s_sd:.3f})"
            )
    return False, ""


def _eval_sd(m: Any) -> float:
    v = [s for s in (m.eval_scores if m is not None else []) if np.isfinite(s)]
    return float(np.std(v, ddof=1)) if len(v) >= 3 else float("nan")


def _same_rows_agree(
    ctx: Context, res: BaselinesResult, ev: dict[str, Any], floor: float, ratio_needed: float
) -> bool:
    """Whether the fold models of your model, scored on the same evaluation rows, spread as much as
    an unstable model must: an sd of at least the floor and at least the metric's sampling error on
    the evaluation set (below it, no comparison on that set could see the instability), and the
    F test's ratio times the baselines' sd on those rows. Fold
    scores come from different validation rows, so a large fold-to-fold spread can be the folds'
    difficulty (whole entities or periods per fold); on one fixed set of rows only the model
    varies. True when there are no such scores to judge by (the fold spread stands)."""
    user = res.models.get("user")
    scores = [s for s in (user.complete().eval_scores if user is not None else []) if np.isfinite(s)]
    if len(scores) < 3:
        return True
    _, se = headline_score(ctx, "test")
    se = se if np.isfinite(se) else 0.0
    e_sd = float(np.std(scores, ddof=1))
    base = [v for k, m in res.models.items() if k in ("linear", "hgb") and np.isfinite(v := _eval_sd(m))]
    b_sd = max(float(np.median(base)), 1e-3) if base else 0.0
    ev.update({"eval_scores": scores, "eval_sd": e_sd, "eval_se": se, "baseline_eval_sd": b_sd})
    return e_sd >= max(floor, se) and e_sd >= ratio_needed * b_sd


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
        Your model refitted in each fold of the baselines (by entity when the evaluation split is,
        see model.underfit): the standard deviation of its fold scores
        is at least `min_sd` (0.03; 0.05 for R²) and larger than that of the baselines (linear
        model, gradient boosting) on the very same folds by a variance ratio that the F test
        rejects at `alpha` (5%): 2.5 times the baselines' sd with five folds, 4.4 times with three.
        Fold scores come from different validation rows, so that spread can also be the folds'
        difficulty (whole entities or periods per fold, which a forest that cannot extrapolate
        feels more than a linear model); the same fold models are therefore also scored on one
        fixed set of rows, the evaluation set, where only the model varies: it is unstable when
        their sd there reaches `min_sd`, the metric's sampling error on the evaluation set (the
        null: a stable model's fold models differ on fixed rows by less than that set can
        resolve) and the F test's ratio times the baselines' sd on those rows. Measured on the generalisation suite: a random forest on a state panel under
        grouped folds had fold R² from -0.97 to 0.16 (sd 0.65 vs 0.14 for the baselines), a
        false alarm of the fold-only rule; on the evaluation rows its fold models scored 0.37 to
        0.46 (sd 0.052 vs 0.038 for boosting, 0.010 for the linear model; sampling error 0.050). When the fold spread is large but the F test cannot
        decide, or the same-rows scores do not confirm it, the model is refitted with
        `seeds` (3) random seeds on one fixed split (at most `seed_rows` rows): a seed-to-seed
        sd of at least `min_sd` and of the evaluation set's sampling error on the same rows is
        the model's own randomness. When the owner
        reports another metric (`--metric` accuracy, F1, recall, precision, PR-AUC, MCC, balanced
        accuracy), the seed refits always run and are scored on it too: a model whose ranking is
        stable can still move its decisions from seed to seed (an unscaled SGD or MLP), and a
        seed-to-seed sd of at least `min_sd` (0.05 for R²) on that metric is unstable as well. A
        model without predict_proba is scored on its decision_function. Spread that
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
    fold_alarm = sd >= floor and (not np.isfinite(ref_floor) or sd >= ratio_needed * ref_floor)
    if fold_alarm and _same_rows_agree(ctx, res, ev, floor, ratio_needed):
        unstable = True
        how = (
            f"{name} across {len(folds)} folds {min(folds):.3f}–{max(folds):.3f} (sd {sd:.3f} vs "
            f"{ref:.3f} for the baselines on the same folds)"
            + (
                f"; on the same evaluation rows sd {ev['eval_sd']:.3f} vs {ev['baseline_eval_sd']:.3f} for "
                f"the baselines and a sampling error of {ev['eval_se']:.3f}"
                if "eval_sd" in ev
                else ""
            )
        )
    elif fold_alarm or (sd >= floor and sd >= 1.5 * ref_floor) or _owner_metric(ctx.case):
        unstable, how = _judge_seeds(ctx, p, res, ev, name, floor, sd, ref, fold_spread=sd >= floor)
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
