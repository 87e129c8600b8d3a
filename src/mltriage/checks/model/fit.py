"""model.underfit and model.overfit: the model's held-out score against the cross-validated
baselines, and its training score against its held-out score."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.metrics import HEADLINE
from .common import (
    METRIC_NAMES,
    baseline_rows,
    final_estimator,
    fitted_model,
    fmt,
    headline_score,
    is_classifier,
    noise_margin,
    skew_repaired_score,
)

if TYPE_CHECKING:
    from ...context import Context
    from ...stats.baselines import BaselinesResult


# --------------------------------------------------------------------------- underfit


@check(
    "model.underfit",
    tasks=("binary", "multiclass", "regression", "ranking"),
    requires=("model",),
    slow=True,
    min_share_missed=Param(
        0.2,
        Interval(float, 0, 1),
        "share of the best baseline's lift over dummy that the model must miss to be underfit",
    ),
)
def underfit(ctx: Context, p: Params) -> Findings:
    """The model barely beats the dummy baseline, or a simple baseline of the baselines beats it.

    What it detects
        The baselines cross-validate a dummy baseline, a linear model and gradient boosting on the
        training rows. The model is underfit when its held-out score (on the evaluation set)
        misses at least `min_share_missed` (20%) of the lift over dummy that the best baseline
        reaches, by more than a fixed margin (0.03 AUC/accuracy, 0.05 R²) and beyond the noise of
        both estimates (the test score's standard error and the baseline's fold spread). When the
        model could be refitted among the baselines, its own cross-validated score must fall short
        too: a model that does as well as the baselines under cross-validation but worse on the
        test rows points at the test data (drift, missing values), not at capacity. When no
        baseline beats dummy either, the target has no learnable signal here: that is a data
        problem (see data.label_misalignment), not underfitting.
    Why it matters
        Every error analysis on top of an underfit model studies the model's limits, not the
        data's: a better model class, features or hyper-parameters are the first lever.
    How to confirm
        Read the baselines table: the gap between your model and the best baseline, with the fold
        spread; refit your model with more capacity (deeper trees, more iterations, interactions)
        and compare under the same split.
    Fix
        Give the model capacity or the missing features: a non-linear model (gradient boosting)
        instead of a linear one, less regularisation, more iterations, interaction or
        transformed features; check that the features reach the model (not dropped in a step).
    """
    res = ctx.baselines()
    metric = res.metric
    if not res.greater_is_better:
        raise NotApplicable(f"metric {metric} is not a score")
    models = res.models
    dummy = models.get("dummy")
    base = {k: m for k, m in models.items() if k in ("linear", "hgb") and np.isfinite(m.mean)}
    if dummy is None or not np.isfinite(dummy.mean) or not base:
        raise NotApplicable("the baselines have no usable baseline")
    best_key = max(base, key=lambda k: base[k].mean)
    best = base[best_key]
    k = max(len([s for s in best.fold_scores if np.isfinite(s)]), 1)
    best_se = (best.std if np.isfinite(best.std) else 0.0) / math.sqrt(k)
    lift = best.mean - dummy.mean
    user_test, user_se = headline_score(ctx, "test")
    if not np.isfinite(user_test):
        raise NotApplicable("the model's held-out score cannot be computed")
    user_se = user_se if np.isfinite(user_se) else 0.0
    margin = noise_margin(metric)
    shortfall = best.mean - user_test
    se = math.sqrt(user_se**2 + best_se**2)
    z = shortfall / se if se > 0 else float("inf")
    missed = shortfall / lift if lift > 0 else float("nan")
    user_cv = models.get("user")
    user_cv_mean = user_cv.mean if user_cv is not None else float("nan")
    evidence: dict[str, Any] = {
        "metric": metric,
        "your_model_test": user_test,
        "your_model_test_se": user_se,
        "your_model_cv": user_cv_mean,
        "best_baseline": res.table()[list(models).index(best_key)]["model"],
        "best_baseline_cv": best.mean,
        "best_baseline_cv_std": best.std,
        "dummy_cv": dummy.mean,
        "shortfall": shortfall,
        "share_of_lift_missed": missed,
        "z": z,
        "baselines": baseline_rows(res),
    }
    # no learnable signal at all: data problem, not capacity
    dummy_se = math.sqrt(best_se**2 + user_se**2)
    if lift < max(margin, 3 * dummy_se):
        return None
    if not (shortfall >= margin and missed >= p.min_share_missed and z >= 3.0):
        return None
    # the refitted model under the same cross-validation must fall short too
    if user_cv is not None and np.isfinite(user_cv_mean):
        cv_short = best.mean - user_cv_mean
        evidence["cv_shortfall"] = cv_short
        if cv_short < margin / 2 or (lift > 0 and cv_short / lift < p.min_share_missed / 2):
            return None
    barely = (user_test - dummy.mean) <= 0.1 * lift
    sev = CRITICAL if barely else WARNING
    name = METRIC_NAMES.get(metric, metric)
    title = (
        f"Underfit: held-out {name} {fmt(user_test)} vs {fmt(best.mean)} ± {fmt(best.std)} for the "
        f"{evidence['best_baseline']} (dummy {fmt(dummy.mean)}); the model misses {missed:.0%} of the "
        "achievable lift"
    )
    return Finding(
        "model.underfit",
        sev,
        title,
        evidence=evidence,
        impact=float(min(1.0, max(0.0, missed))),
        root_cause="the model class or its settings cannot express the relation the baseline finds "
        "(too simple, over-regularised, stopped too early, or features lost before the model)",
        fix=f"start from the {evidence['best_baseline']} of the baselines, or give the model capacity: "
        "non-linear terms, more iterations/depth, weaker regularisation; check every feature reaches it",
    )


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


@check(
    "model.overfit",
    requires=("model",),
    auc_gap=Param(0.10, Interval(float, 0, 1), "largest train-minus-held-out ROC AUC gap that passes"),
    accuracy_gap=Param(
        0.10, Interval(float, 0, 1), "largest train-minus-held-out accuracy gap that passes (multiclass)"
    ),
    r2_gap=Param(0.10, Interval(float, 0, None), "largest train-minus-held-out R² gap that passes"),
    ndcg_gap=Param(0.10, Interval(float, 0, 1), "largest train-minus-held-out NDCG@10 gap that passes"),
)
def overfit(ctx: Context, p: Params) -> Findings:
    """The gap between training and held-out performance is large.

    What it detects
        The headline metric of the model on the training rows against the evaluation rows: ROC AUC
        for binary tasks (default alarm: a gap over 0.10), accuracy for multiclass, R² for
        regression, NDCG@10 for ranking (0.10 each). The gap must exceed the threshold and be
        larger than zero beyond the noise of both estimates. It is reported as info, not as a
        warning, when the gap costs nothing or is not memorisation: the held-out score is at chance
        and no baseline does better (the labels carry no signal: a data problem); the training
        score is itself below the best baseline's cross-validated score (a weak, noisy model); or
        the held-out score matches the best baseline's cross-validated score (a forest that
        memorises its rows yet generalises as well as the baselines); or the model is a classifier
        fitted to a regression target (an output-type problem first, see model.wrong_output_type);
        or evaluation columns arrive transformed against training (pipeline.train_serving_skew on
        the evaluation set) and undoing the transformation closes the gap (or halves it): the held-out
        score measured a preprocessing mismatch, not memorisation.
    Why it matters
        A model that is much better on the rows it was fitted on has memorised them: its held-out
        score is the one to trust, it is usually improvable by regularisation, and its
        confident predictions on new rows are often wrong. (Random forests and deep trees have a
        large gap by construction; the held-out score and the baselines say whether it costs anything.)
    How to confirm
        Compare train and test scores, and the baselines' train vs cross-validated scores; plot a
        learning curve or a validation curve over the main capacity parameter.
    Fix
        Regularise (depth, leaves, minimum samples per leaf, L2, early stopping on a validation
        split), get more training rows, or remove features that identify rows (IDs, timestamps).
    """
    c = ctx.case
    metric = HEADLINE[c.task]
    thr = {"roc_auc": p.auc_gap, "accuracy": p.accuracy_gap, "r2": p.r2_gap}.get(metric, p.ndcg_gap)
    tr, tr_se = headline_score(ctx, "train")
    te, te_se = headline_score(ctx, "test")
    if not (np.isfinite(tr) and np.isfinite(te)):
        raise NotApplicable("train or test score cannot be computed")
    gap = tr - te
    se = math.sqrt((tr_se if np.isfinite(tr_se) else 0) ** 2 + (te_se if np.isfinite(te_se) else 0) ** 2)
    lower = gap - 1.96 * se
    evidence: dict[str, Any] = {
        "metric": metric,
        "train": tr,
        "test": te,
        "gap": gap,
        "gap_ci_low": lower,
        "threshold": thr,
    }
    if gap <= thr or lower <= 0:
        return None
    name = METRIC_NAMES.get(metric, metric)
    scores = f"Train {name} {fmt(tr)} vs held-out {fmt(te)}"
    # a classifier fitted to a continuous target: its "R^2" scores class labels as quantities, and
    # the fix is another estimator (model.wrong_output_type), not regularisation
    est = fitted_model(ctx).estimator
    final = final_estimator(est) if est is not None else None
    if c.task == "regression" and final is not None and is_classifier(final):
        return _overfit_info(
            f"{scores}, but the model is a classifier predicting a continuous target: fix the output type "
            "first (see model.wrong_output_type)",
            evidence,
            0.0,
            "a classifier used for a regression task; its gap says little about memorisation",
            "use a regressor, then judge the train/held-out gap again",
        )
    # a held-out score that collapses because evaluation columns were preprocessed differently:
    # a pipeline bug (pipeline.train_serving_skew), not memorisation; the gap is judged again on
    # the evaluation rows with the transformations undone
    repaired = skew_repaired_score(ctx)
    if repaired is not None:
        evidence["evaluation_skew"] = repaired
        te_r = repaired["test_repaired"]
        cols = ", ".join(repaired["columns"][:4])
        if te_r is None or tr - te_r <= thr or tr - te_r - 1.96 * se <= 0:
            after = "" if te_r is None else f"; with it undone the held-out score is {fmt(te_r)}"
            return _overfit_info(
                f"{scores}, but evaluation columns ({cols}) arrive transformed against training{after}: "
                "see pipeline.train_serving_skew",
                evidence,
                0.0,
                "the evaluation rows were preprocessed differently from the training rows",
                "apply one fitted preprocessing to both sets (see pipeline.train_serving_skew), then "
                "judge the gap again",
            )
        if te_r > te:
            te, gap = te_r, tr - te_r
            lower = gap - 1.96 * se
            evidence.update(test=te, gap=gap, gap_ci_low=lower)
            scores = f"Train {name} {fmt(tr)} vs held-out {fmt(te)} (with {cols} undone)"
    # a gap without any held-out signal: the data, not the model
    chance = {"roc_auc": 0.5}.get(metric)
    no_signal = chance is not None and te - 1.96 * (te_se if np.isfinite(te_se) else 0) <= chance + 0.02
    res, no_baseline_signal = _baselines_for_overfit(ctx, evidence, metric, te)
    if no_signal or no_baseline_signal:
        return _overfit_info(
            f"{scores}, but the held-out score is at chance level: the model memorised labels that carry "
            "no signal (look at the data rung first)",
            evidence,
            0.0,
            "the labels do not follow from the features (misaligned or random labels)",
            "fix the data first (see data.label_misalignment / data.target_suspect)",
        )
    best = evidence.get("best_baseline_cv")
    if best is not None and np.isfinite(best) and res is not None and res.greater_is_better:
        if tr <= best + 0.01:
            # the model does not even fit its training rows as well as a baseline generalises:
            # the gap is variance of a weak model, not memorisation
            return _overfit_info(
                f"{scores}, but the training score is below what the baselines reach held-out "
                f"({fmt(best)}): a weak model, not memorisation (see model.underfit)",
                evidence,
                0.0,
                "a low-capacity or unstable model whose fit varies with the rows it sees",
                "give the model capacity (see model.underfit) before regularising it",
            )
        tol = max(0.01, 1.96 * (te_se if np.isfinite(te_se) else 0.0))
        if te >= best - tol:
            return _overfit_info(
                f"{scores} (gap {gap:.3f}), yet the held-out score matches or beats the best baseline's "
                f"cross-validated {fmt(best)}: the model fits its training rows far better than new ones "
                "(forests and deep trees do) without losing generalisation",
                evidence,
                0.05,
                "a high-capacity model (deep trees, forests) fits its training rows almost exactly",
                "nothing urgent; judge it by held-out or cross-validated scores, never by training scores",
            )
    sev = CRITICAL if gap > 3 * thr else WARNING
    return Finding(
        "model.overfit",
        sev,
        f"Overfit: train {name} {fmt(tr)} vs held-out {fmt(te)} (gap {gap:.3f} > {thr:.2f}; 95% lower bound {lower:.3f})",
        evidence=evidence,
        impact=float(min(1.0, gap)),
        root_cause="the model memorises the training rows: too much capacity for the data (deep trees, "
        "many leaves, weak regularisation) or features that identify individual rows",
        fix="regularise (max_depth / min_samples_leaf / L2 / early stopping), add training rows, "
        "or drop row-identifying features; judge by the held-out or cross-validated score",
    )


def _overfit_info(title: str, evidence: dict[str, Any], impact: float, root_cause: str, fix: str) -> Finding:
    """An overfit gap that is context, not an alarm."""
    return Finding(
        "model.overfit", INFO, title, evidence=evidence, impact=impact, root_cause=root_cause, fix=fix
    )
