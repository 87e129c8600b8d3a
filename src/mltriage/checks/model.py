"""Rung 4, model: is the model itself the problem?

The cross-validated baselines (dummy baseline, linear model, gradient boosting, your model refitted;
see `stats/cv.py`) is shown in the report as a table by the core. The checks here read it, and the
model's own predictions on the training and evaluation sets:

underfit            the model is clearly beaten by a baseline of the baselines, or barely beats dummy
overfit             large train vs held-out gap of the headline metric
prediction_collapse (nearly) one output for every row
wrong_output_type   outputs that do not fit the task (scores where classes are due, classes where
                    quantities are due)
unhandled_imbalance a rare class that is (almost) never predicted at the threshold in use
instability         fold-to-fold spread of your model far above that of the baselines
divergence          the training history: NaN/inf, exploding loss, a loss that never decreases
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..findings import CRITICAL, INFO, WARNING, Finding
from ..registry import NotApplicable, check
from ..stats.metrics import HEADLINE, auc_ci, ndcg_per_query, wilson

# --------------------------------------------------------------------------- shared helpers

_METRIC_NAMES = {"roc_auc": "ROC AUC", "accuracy": "accuracy", "r2": "R²", "ndcg@10": "NDCG@10"}


def _headline(ctx, which: str) -> tuple[float, float]:
    """The headline metric (HEADLINE[task]) of the user's model on a set, with its standard error.

    AUC: Hanley-McNeil; accuracy: binomial; R²: delta method on the squared errors; NDCG: the
    spread of per-query values. Cached per set.
    """

    def compute():
        c = ctx.case
        pred = ctx.predictions(which)
        y = ctx.y(which)
        metric = HEADLINE[c.task]
        if metric == "roc_auc":
            yy = (np.asarray(y) == c.positive).astype(int)
            s = np.asarray(pred.score, dtype=float)
            ok = np.isfinite(s)
            a, lo, hi = auc_ci(yy[ok], s[ok])
            return a, (hi - lo) / (2 * 1.96) if np.isfinite(lo) else float("nan")
        if metric == "accuracy":
            hit = np.asarray(pred.label == y, dtype=float)
            acc = float(hit.mean())
            return acc, math.sqrt(max(acc * (1 - acc), 1e-12) / len(hit))
        if metric == "r2":
            yv = np.asarray(y, dtype=float)
            pv = np.asarray(pred.score, dtype=float)
            ok = np.isfinite(yv) & np.isfinite(pv)
            yv, pv = yv[ok], pv[ok]
            e2 = (yv - pv) ** 2
            d2 = (yv - yv.mean()) ** 2
            sse, sst = e2.mean(), d2.mean()
            if sst <= 0:
                return float("nan"), float("nan")
            r2 = 1 - sse / sst
            # delta method: var of the ratio of two means
            n = len(yv)
            cov = np.cov(e2, d2)
            g = np.array([-1 / sst, sse / sst**2])
            se = math.sqrt(max(float(g @ cov @ g), 0.0) / n)
            return float(r2), se
        if metric.startswith("ndcg"):
            g = ctx.frame(which)[c.group_column].to_numpy()
            per_q = ndcg_per_query(g, np.asarray(y, float), np.asarray(pred.score, float), 10)
            return float(per_q.mean()), float(per_q.std(ddof=1) / math.sqrt(max(len(per_q), 1)))
        raise NotApplicable(f"no headline metric for {c.task}")

    return ctx.cached(f"model:headline:{which}", compute)


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _fmt(v: float) -> str:
    return "nan" if v is None or not np.isfinite(v) else f"{v:.3f}"


def _margin(metric: str) -> float:
    return {"roc_auc": 0.03, "accuracy": 0.03, "r2": 0.05}.get(metric, 0.03)


def _final_estimator(est):
    while hasattr(est, "steps"):
        est = est.steps[-1][1]
    for attr in ("best_estimator_", "estimator_", "estimator", "base_estimator"):
        inner = getattr(est, attr, None)
        if inner is not None and hasattr(inner, "fit") and not isinstance(inner, str):
            return _final_estimator(inner)
    return est


def _rows(res) -> list[dict]:
    return [
        {k: r[k] for k in ("model", "cv_mean", "cv_std", "train_mean", "folds", "error")} for r in res.table()
    ]


# --------------------------------------------------------------------------- underfit


@check(
    "model.underfit",
    tasks=("binary", "multiclass", "regression", "ranking"),
    requires=("model",),
    slow=True,
    min_share_missed=0.2,
)
def underfit(ctx, p):
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
    c = ctx.case
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
    user_test, user_se = _headline(ctx, "test")
    if not np.isfinite(user_test):
        raise NotApplicable("the model's held-out score cannot be computed")
    user_se = user_se if np.isfinite(user_se) else 0.0
    margin = _margin(metric)
    shortfall = best.mean - user_test
    se = math.sqrt(user_se**2 + best_se**2)
    z = shortfall / se if se > 0 else float("inf")
    missed = shortfall / lift if lift > 0 else float("nan")
    user_cv = models.get("user")
    user_cv_mean = user_cv.mean if user_cv is not None else float("nan")
    evidence = {
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
        "baselines": _rows(res),
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
    name = _METRIC_NAMES.get(metric, metric)
    title = (
        f"Underfit: held-out {name} {_fmt(user_test)} vs {_fmt(best.mean)} ± {_fmt(best.std)} for the "
        f"{evidence['best_baseline']} (dummy {_fmt(dummy.mean)}); the model misses {missed:.0%} of the "
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


@check("model.overfit", requires=("model",), auc_gap=0.10, accuracy_gap=0.10, r2_gap=0.10, ndcg_gap=0.10)
def overfit(ctx, p):
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
        fitted to a regression target (an output-type problem first, see model.wrong_output_type).
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
    tr, tr_se = _headline(ctx, "train")
    te, te_se = _headline(ctx, "test")
    if not (np.isfinite(tr) and np.isfinite(te)):
        raise NotApplicable("train or test score cannot be computed")
    gap = tr - te
    se = math.sqrt((tr_se if np.isfinite(tr_se) else 0) ** 2 + (te_se if np.isfinite(te_se) else 0) ** 2)
    lower = gap - 1.96 * se
    evidence = {"metric": metric, "train": tr, "test": te, "gap": gap, "gap_ci_low": lower, "threshold": thr}
    if gap <= thr or lower <= 0:
        return None
    name = _METRIC_NAMES.get(metric, metric)
    # a classifier fitted to a continuous target: its "R^2" scores class labels as quantities, and
    # the fix is another estimator (model.wrong_output_type), not regularisation
    final = _final_estimator(c.model.estimator) if c.model.estimator is not None else None
    if (
        c.task == "regression"
        and final is not None
        and (getattr(final, "_estimator_type", None) == "classifier" or hasattr(final, "classes_"))
    ):
        return Finding(
            "model.overfit",
            INFO,
            f"Train {name} {_fmt(tr)} vs held-out {_fmt(te)}, but the model is a classifier predicting a "
            "continuous target: fix the output type first (see model.wrong_output_type)",
            evidence=evidence,
            impact=0.0,
            root_cause="a classifier used for a regression task; its gap says little about memorisation",
            fix="use a regressor, then judge the train/held-out gap again",
        )
    # a gap without any held-out signal: the data, not the model
    chance = {"roc_auc": 0.5}.get(metric)
    no_signal = False
    if chance is not None and te - 1.96 * (te_se if np.isfinite(te_se) else 0) <= chance + 0.02:
        no_signal = True
    res = None
    if not ctx.config.fast:
        try:
            res = ctx.baselines()
            dummy = res.models.get("dummy")
            base = [m.mean for k, m in res.models.items() if k in ("linear", "hgb") and np.isfinite(m.mean)]
            if dummy is not None and base:
                evidence["best_baseline_cv"] = max(base)
                evidence["dummy_cv"] = dummy.mean
                if res.greater_is_better and max(base) - dummy.mean < _margin(metric):
                    no_signal = no_signal or te - dummy.mean < _margin(metric)
        except Exception:
            pass
    if no_signal:
        return Finding(
            "model.overfit",
            INFO,
            f"Train {name} {_fmt(tr)} vs held-out {_fmt(te)}, but the held-out score is at chance level: "
            "the model memorised labels that carry no signal (look at the data rung first)",
            evidence=evidence,
            impact=0.0,
            root_cause="the labels do not follow from the features (misaligned or random labels)",
            fix="fix the data first (see data.label_misalignment / data.target_suspect)",
        )
    best = evidence.get("best_baseline_cv")
    if best is not None and np.isfinite(best) and res.greater_is_better:
        if tr <= best + 0.01:
            # the model does not even fit its training rows as well as a baseline generalises:
            # the gap is variance of a weak model, not memorisation
            return Finding(
                "model.overfit",
                INFO,
                f"Train {name} {_fmt(tr)} vs held-out {_fmt(te)}, but the training score is below what the "
                f"baselines reach held-out ({_fmt(best)}): a weak model, not memorisation (see model.underfit)",
                evidence=evidence,
                impact=0.0,
                root_cause="a low-capacity or unstable model whose fit varies with the rows it sees",
                fix="give the model capacity (see model.underfit) before regularising it",
            )
        tol = max(0.01, 1.96 * (te_se if np.isfinite(te_se) else 0.0))
        if te >= best - tol:
            return Finding(
                "model.overfit",
                INFO,
                f"Train {name} {_fmt(tr)} vs held-out {_fmt(te)} (gap {gap:.3f}), yet the held-out score matches "
                f"or beats the best baseline's cross-validated {_fmt(best)}: the model fits its training rows "
                "far better than new ones (forests and deep trees do) without losing generalisation",
                evidence=evidence,
                impact=0.05,
                root_cause="a high-capacity model (deep trees, forests) fits its training rows almost exactly",
                fix="nothing urgent; judge it by held-out or cross-validated scores, never by training scores",
            )
    sev = CRITICAL if gap > 3 * thr else WARNING
    return Finding(
        "model.overfit",
        sev,
        f"Overfit: train {name} {_fmt(tr)} vs held-out {_fmt(te)} (gap {gap:.3f} > {thr:.2f}; 95% lower bound {lower:.3f})",
        evidence=evidence,
        impact=float(min(1.0, gap)),
        root_cause="the model memorises the training rows: too much capacity for the data (deep trees, "
        "many leaves, weak regularisation) or features that identify individual rows",
        fix="regularise (max_depth / min_samples_leaf / L2 / early stopping), add training rows, "
        "or drop row-identifying features; judge by the held-out or cross-validated score",
    )


# --------------------------------------------------------------------------- prediction collapse


def _baseline_spread(ctx) -> float | None:
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
        oof = np.asarray(m.oof, float)
        if res.classes is not None:
            ok = np.isfinite(oof).all(axis=1)
            rel = []
            for j, k in enumerate(res.classes):
                pk = float(np.mean(y[ok] == k))
                if 0 < pk < 1:
                    rel.append(float(np.std(oof[ok, j])) / math.sqrt(pk * (1 - pk)))
            if rel:
                spreads.append(max(rel))
        else:
            ok = np.isfinite(oof)
            sd_y = float(np.std(y[ok].astype(float)))
            if sd_y > 0:
                spreads.append(float(np.std(oof[ok])) / sd_y)
    return min(spreads) if spreads else None


@check(
    "model.prediction_collapse",
    requires=("model",),
    max_relative_sd=0.02,
    max_share_of_baseline=0.1,
    max_label_share=0.99,
)
def prediction_collapse(ctx, p):
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
    ev: dict = {"rows": n}
    collapsed, desc = False, ""
    if c.task in ("binary", "multiclass"):
        yv = pd.Series(y)
        prev = yv.value_counts(normalize=True)
        labels = pd.Series(pred.label).value_counts(normalize=True)
        ev["most_predicted_class"] = _plain(labels.index[0])
        ev["share_of_predictions"] = float(labels.iloc[0])
        ev["true_share_of_that_class"] = float(prev.get(labels.index[0], 0.0))
        if pred.has_proba and pred.proba is not None:
            P = np.asarray(pred.proba, float)
            cls = list(pred.classes)
            rel = []
            for j, k in enumerate(cls):
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
                collapsed = True
                desc = (
                    f"predicted probabilities barely move: sd {ev['probability_sd']:.2g} in "
                    f"[{ev['probability_range'][0]:.4f}, {ev['probability_range'][1]:.4f}]; "
                    f"{ev['share_of_predictions']:.1%} of rows get class {ev['most_predicted_class']}"
                )
        else:
            share, true_share = ev["share_of_predictions"], ev["true_share_of_that_class"]
            if share >= p.max_label_share and true_share <= min(0.9, share - 0.05):
                collapsed = True
                desc = (
                    f"{share:.1%} of rows get class {ev['most_predicted_class']}, "
                    f"which is {true_share:.1%} of the true labels"
                )
    elif c.task == "regression":
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
            collapsed = True
            desc = f"prediction sd {sd_p:.3g} vs target sd {sd_y:.3g} ({sd_p / sd_y:.1%})"
    else:  # ranking
        g = ctx.frame("test")[c.group_column].to_numpy()
        s = pd.Series(np.asarray(pred.score, float))
        per_q = s.groupby(g).nunique()
        tied = float((per_q <= 1).mean())
        ev.update({"queries": int(len(per_q)), "share_of_queries_all_tied": tied})
        if tied >= 0.5:
            collapsed = True
            desc = f"{tied:.0%} of the queries get one score for all their items"
    if not collapsed:
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


def _as_key(v):
    try:
        f = float(v)
        return f if np.isfinite(f) else str(v)
    except (TypeError, ValueError):
        return str(v)


@check("model.wrong_output_type", requires=("model",))
def wrong_output_type(ctx, p):
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
    m = c.model
    pred = ctx.predictions("test")
    raw = np.asarray(pred.raw)
    ev: dict = {"rows": len(raw)}
    est = m.estimator
    final = _final_estimator(est) if est is not None else None
    ev["model"] = type(final).__name__ if final is not None else m.description
    problem, sev = None, CRITICAL
    if c.task in ("binary", "multiclass"):
        classes = {_as_key(k) for k in c.classes}
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
                "classes": list(c.classes)[:10],
            }
        )
        if m.kind == "precomputed":
            if c.task == "binary" and raw.dtype.kind in "biuf":
                lo, hi = float(np.nanmin(raw)), float(np.nanmax(raw))
                ev["output_range"] = [lo, hi]
                if lo < 0 or hi > 1:
                    problem = (
                        f"the prediction column holds values in [{lo:.3g}, {hi:.3g}], not probabilities "
                        "of the positive class"
                    )
                    sev = WARNING
        elif not pred.has_proba and share > 0.01:
            if raw.dtype.kind in "biuf" and distinct > max(10, 3 * len(classes)):
                lo, hi = float(np.nanmin(raw.astype(float))), float(np.nanmax(raw.astype(float)))
                ev["output_range"] = [lo, hi]
                problem = (
                    f"predict() returns {distinct:,} distinct continuous values in [{lo:.3g}, {hi:.3g}] "
                    f"for a {c.task} target with classes {list(c.classes)[:5]}, and the model has no "
                    "predict_proba"
                )
            else:
                vals = sorted(map(str, pd.unique(pd.Series(raw)[bad.to_numpy()])))[:5]
                problem = (
                    f"predict() returns values that are not the target's classes ({', '.join(vals)}) "
                    f"for {share:.0%} of rows"
                )
        elif pred.has_proba and m.classes is not None and not ({_as_key(k) for k in m.classes} & classes):
            problem = (
                f"the model's classes {list(m.classes)[:5]} are not the target's classes "
                f"{list(c.classes)[:5]}"
            )
    else:
        yv = np.asarray(ctx.y("test"))
        y_distinct = int(pd.Series(yv).nunique())
        distinct = int(pd.Series(raw).nunique())
        ev.update({"distinct_outputs": distinct, "target_distinct": y_distinct})
        is_clf = final is not None and (
            getattr(final, "_estimator_type", None) == "classifier"
            or hasattr(final, "classes_")
            or hasattr(final, "predict_proba")
        )
        ev["model_is_classifier"] = bool(is_clf)
        if is_clf and c.task == "regression" and y_distinct > 20:
            problem = (
                f"a classifier ({ev['model']}) predicts a continuous target: {distinct} distinct "
                f"outputs for {y_distinct} distinct target values"
            )
        elif (
            c.task == "regression"
            and raw.dtype.kind in "biuO"
            and y_distinct >= 50
            and distinct <= max(10, y_distinct // 20)
        ):
            problem = (
                f"predict() returns {distinct} distinct {raw.dtype} values for a target with "
                f"{y_distinct} distinct values: class labels, not quantities"
            )
            sev = WARNING
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


# --------------------------------------------------------------------------- unhandled imbalance

_WEIGHT_PARAMS = ("class_weight", "scale_pos_weight", "is_unbalance", "sample_weight")


def _weighting(est) -> dict:
    """Imbalance handling visible on the estimator (class weights, resampling steps)."""
    found = {}
    items = [est]
    if hasattr(est, "steps"):
        items += [s for _, s in est.steps]
    for e in items:
        name = type(e).__name__.lower()
        if any(w in name for w in ("smote", "sampler", "adasyn", "balanced")):
            found["step"] = type(e).__name__
        try:
            params = e.get_params(deep=False) if hasattr(e, "get_params") else {}
        except Exception:
            params = {}
        for k in _WEIGHT_PARAMS:
            v = params.get(k)
            if v not in (None, False, 1, 1.0, "None"):
                found[k] = v
    return found


@check(
    "model.unhandled_imbalance",
    tasks=("binary", "multiclass"),
    requires=("model",),
    max_prevalence=0.10,
    max_recall=0.10,
    min_positives=20,
)
def unhandled_imbalance(ctx, p):
    """A rare class is (almost) never predicted at the threshold in use.

    What it detects
        For each class with prevalence at most `max_prevalence` (10%; for multiclass also at most
        half the share of a uniform class) and at least
        `min_positives` (20) rows in the evaluation set: its recall at the threshold in use is below
        `max_recall` (10%, with the Wilson interval's upper end below twice that) and the model
        predicts it far less often than it occurs, although the model does rank it (one-vs-rest
        AUC significantly above 0.5) — so the information is there and the decision rule throws
        it away. One finding per such class. Info only when the estimator shows class weights or
        a resampling step.
    Why it matters
        With the default threshold and no weighting, the rare class (fraud, default, churn) is
        the one that matters and the one never flagged; accuracy stays high, the model is useless
        for its purpose.
    How to confirm
        The confusion matrix at the threshold in use, recall of the rare class, and the share of
        predicted positives against the prevalence.
    Fix
        Use class weights (`class_weight="balanced"`, `scale_pos_weight`), resampling inside the
        cross-validation, or tune the decision threshold on a validation set for the costs at hand.
    """
    c = ctx.case
    pred = ctx.predictions("test")
    y = np.asarray(ctx.y("test"))
    labels = np.asarray(pred.label)
    n = len(y)
    weighting = _weighting(c.model.estimator) if c.model.estimator is not None else {}
    rows = []
    rare_cut = p.max_prevalence if c.task == "binary" else min(p.max_prevalence, 0.5 / len(c.classes))
    for j, k in enumerate(c.classes):
        pos = y == k
        n_pos = int(pos.sum())
        prev = n_pos / n if n else 0.0
        if prev > rare_cut or n_pos < p.min_positives:
            continue
        tp = int((labels[pos] == k).sum())
        predicted = int((labels == k).sum())
        recall = tp / n_pos
        lo, hi = wilson(tp, n_pos)
        # ranking power for that class
        if c.task == "binary":
            s = np.asarray(pred.score, float) if k == c.positive else 1 - np.asarray(pred.score, float)
        elif pred.proba is not None and pred.classes is not None and k in list(pred.classes):
            s = np.asarray(pred.proba, float)[:, list(pred.classes).index(k)]
        else:
            s = None
        a = a_lo = float("nan")
        if s is not None:
            a, a_lo, _ = auc_ci(pos.astype(int), s)
        rows.append(
            {
                "class": _plain(k),
                "prevalence": prev,
                "positives": n_pos,
                "predicted": predicted,
                "true_positives": tp,
                "recall": recall,
                "recall_ci": [lo, hi],
                "auc": a,
                "auc_ci_low": a_lo,
            }
        )
    if not rows:
        return None
    bad = [
        r
        for r in rows
        if r["recall"] < p.max_recall
        and r["recall_ci"][1] < 2 * p.max_recall
        and r["predicted"] < 0.5 * r["positives"]
        and (not np.isfinite(r["auc_ci_low"]) or r["auc_ci_low"] > 0.55)
    ]
    if not bad:
        return None
    thr = ctx.threshold
    ev = {"table": rows, "threshold": thr if c.task == "binary" else "argmax", "weighting_found": weighting}
    out = []
    # one finding per neglected class: each names exactly the class it is about
    for worst in sorted(bad, key=lambda r: r["recall"]):
        desc = (
            f"class {worst['class']!r} ({worst['prevalence']:.1%} of rows, {worst['positives']} in the "
            f"evaluation set) is predicted {worst['predicted']} time(s): recall {worst['recall']:.1%}"
            + (f", although the model ranks it (AUC {worst['auc']:.2f})" if np.isfinite(worst["auc"]) else "")
        )
        if weighting:
            out.append(
                Finding(
                    "model.unhandled_imbalance",
                    INFO,
                    f"Rare class rarely predicted despite weighting ({weighting}): {desc}",
                    classes=[worst["class"]],
                    evidence=ev,
                    impact=0.1,
                    root_cause="weighting is present but the threshold in use still misses the rare class",
                    fix="tune the decision threshold on a validation set for the costs at hand",
                )
            )
            continue
        out.append(
            Finding(
                "model.unhandled_imbalance",
                WARNING,
                f"Unhandled imbalance: {desc}",
                classes=[worst["class"]],
                evidence=ev,
                impact=float(min(1.0, 1 - worst["recall"])),
                root_cause="the model was trained without class weights or resampling and is used at the default "
                "threshold, so the rare class never clears it",
                fix="train with class_weight='balanced' (or scale_pos_weight / resampling inside CV), or choose the "
                "threshold on a validation set from the costs of missed and false alarms",
            )
        )
    return out


# --------------------------------------------------------------------------- instability


def _seed_scores(ctx, res, n_seeds: int, max_rows: int, budget_s: float) -> list[float] | None:
    """Refit the user's model with different random seeds on one fixed split of the baselines's rows
    and score each on the same held-out part: the spread is the model's own randomness."""
    import time
    import warnings

    from sklearn.base import clone
    from sklearn.model_selection import train_test_split

    from ..stats.metrics import score

    c = ctx.case
    est = c.model.estimator
    if c.task == "ranking" or not hasattr(est, "get_params"):
        return None
    try:
        keys = [k for k in est.get_params(deep=True) if k == "random_state" or k.endswith("__random_state")]
    except Exception:
        return None
    if not keys:
        return None
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
    metric = HEADLINE[c.task]
    out = []
    t0 = time.perf_counter()
    for seed in range(1, n_seeds + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = clone(est).set_params(**{k: seed for k in keys}).fit(Xa, ya)
                if c.is_classification:
                    proba = np.asarray(m.predict_proba(Xb), float)
                    cls = list(m.classes_)
                    if c.task == "binary":
                        pos = cls.index(c.positive) if c.positive in cls else len(cls) - 1
                        out.append(
                            score(
                                metric,
                                yb,
                                None,
                                proba=proba[:, [1 - pos, pos]] if len(cls) == 2 else proba,
                                classes=c.classes,
                                positive=c.positive,
                            )
                        )
                    else:
                        pred = np.asarray(cls, dtype=object)[np.argmax(proba, axis=1)]
                        out.append(
                            float(
                                np.mean(
                                    pred.astype(yb.dtype) == yb if yb.dtype.kind in "biuf" else pred == yb
                                )
                            )
                        )
                else:
                    out.append(score(metric, yb, np.asarray(m.predict(Xb), float)))
        except Exception:
            return None
        if time.perf_counter() - t0 > budget_s:
            break
    return out if len(out) >= 2 else None


@check(
    "model.instability",
    requires=("estimator",),
    slow=True,
    min_sd=0.03,
    min_sd_r2=0.05,
    alpha=0.05,
    seeds=3,
    seed_rows=5000,
    seed_budget_s=6.0,
)
def instability(ctx, p):
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
    ev = {
        "metric": metric,
        "your_folds": folds,
        "your_sd": sd,
        "baseline_sd": ref,
        "sd_ratio": sd / ref if ref and np.isfinite(ref) and ref > 0 else None,
        "sd_ratio_needed": ratio_needed,
        "lift_over_dummy": lift,
        "baselines": _rows(res),
    }
    name = _METRIC_NAMES.get(metric, metric)
    ref_floor = max(ref, 1e-3) if np.isfinite(ref) else float("nan")
    unstable, how = False, ""
    if sd >= floor and (not np.isfinite(ref_floor) or sd >= ratio_needed * ref_floor):
        unstable = True
        how = (
            f"{name} across {len(folds)} folds {min(folds):.3f}–{max(folds):.3f} (sd {sd:.3f} vs "
            f"{ref:.3f} for the baselines on the same folds)"
        )
    elif sd >= floor and sd >= 1.5 * ref_floor:
        seeds = _seed_scores(ctx, res, int(p.seeds), int(p.seed_rows), float(p.seed_budget_s))
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


# --------------------------------------------------------------------------- divergence


def _pick(cols, names):
    low = {c.lower(): c for c in cols}
    for n in names:
        if n in low:
            return low[n]
    return None


@check(
    "model.divergence",
    requires=("history",),
    explode_ratio=10.0,
    rise_ratio=3.0,
    min_improvement=0.01,
    min_epochs=5,
)
def divergence(ctx, p):
    """The training history shows NaN/inf, an exploding loss, or a loss that never decreases.

    What it detects
        In the history (columns epoch, loss, val_loss): any NaN or infinite loss; a training loss
        that rises above `explode_ratio` (10) times its best value after reaching it, or ends at
        more than `rise_ratio` (3) times its best value; a training loss that never improves by `min_improvement` (1%) of its first value over at least
        `min_epochs` (5) epochs. The validation loss is reported alongside; a rising validation
        loss with a falling training loss is overfitting, not divergence, and is not flagged here.
    Why it matters
        A diverged run is numerically broken: the learning rate is too high, the inputs are
        unscaled, or the gradients explode. A checkpoint saved before the blow-up may look fine,
        but the run cannot be reproduced or continued, and the next retrain may ship the broken state.
    How to confirm
        Plot loss and val_loss by epoch; find the first epoch of the jump; rerun with a lower
        learning rate or gradient clipping and compare.
    Fix
        Lower the learning rate (or use a schedule/adaptive optimiser), clip gradients, scale the
        inputs, check for NaN/inf in the features and labels, and stop on the validation loss.
    """
    h = ctx.case.history
    if h is None or len(h) == 0:
        raise NotApplicable("the training history is empty")
    loss_col = _pick(h.columns, ("loss", "train_loss", "training_loss", "train"))
    val_col = _pick(h.columns, ("val_loss", "valid_loss", "validation_loss", "eval_loss", "test_loss"))
    if loss_col is None and val_col is None:
        raise NotApplicable(f"the history has no loss column (columns: {list(h.columns)[:8]})")
    ep_col = _pick(h.columns, ("epoch", "iteration", "step", "iter"))
    if ep_col is not None:
        h = h.sort_values(ep_col, kind="stable")
    epochs = h[ep_col].to_numpy() if ep_col is not None else np.arange(1, len(h) + 1)
    main = loss_col or val_col
    loss = pd.to_numeric(h[main], errors="coerce").to_numpy(dtype=float)
    val = (
        pd.to_numeric(h[val_col], errors="coerce").to_numpy(dtype=float)
        if val_col and val_col != main
        else None
    )
    ev: dict = {"epochs": int(len(loss)), "loss_column": main}
    problems, sev = [], WARNING
    for name, v in ((main, loss), (val_col, val)):
        if v is None:
            continue
        bad = ~np.isfinite(v)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            problems.append(f"{name} is NaN/inf from epoch {epochs[first]} ({int(bad.sum())} epoch(s))")
            ev[f"{name}_first_nonfinite_epoch"] = epochs[first]
            sev = CRITICAL
    fin = np.isfinite(loss)
    if fin.sum() >= 2:
        lv = loss[fin]
        ep = epochs[fin]
        i_min = int(np.argmin(lv))
        best = float(lv[i_min])
        after = lv[i_min + 1 :]
        ev.update(
            {"first_loss": float(lv[0]), "min_loss": best, "min_epoch": ep[i_min], "last_loss": float(lv[-1])}
        )
        if len(after):
            i_max = int(np.argmax(after)) + i_min + 1
            peak = float(lv[i_max])
            ev["max_loss_after_min"] = peak
            scale = abs(best) if best != 0 else max(np.std(lv[: i_min + 1]), 1e-12)
            ratio = (peak - best) / scale + 1 if best > 0 else (peak - best) / scale
            if best > 0 and peak > p.explode_ratio * best or best <= 0 and ratio > p.explode_ratio:
                jump = (
                    int(
                        np.flatnonzero(
                            after > best * math.sqrt(p.explode_ratio) if best > 0 else after > best + scale
                        )[0]
                    )
                    + i_min
                    + 1
                )
                problems.append(
                    f"{main} explodes: {best:.4g} at epoch {ep[i_min]} -> {peak:.4g} "
                    f"(first jump at epoch {ep[jump]})"
                )
                ev["first_jump_epoch"] = ep[jump]
                ev["explosion_ratio"] = peak / best if best > 0 else None
                ev["recovered"] = bool(lv[-1] <= best * 2) if best > 0 else None
            elif (
                best > 0
                and len(after) >= 2
                and lv[-1] > p.rise_ratio * best
                and np.median(after) > 1.5 * best
            ):
                problems.append(
                    f"{main} rises after epoch {ep[i_min]}: best {best:.4g}, last {lv[-1]:.4g} "
                    f"({lv[-1] / best:.1f}x)"
                )
                ev["rise_ratio"] = lv[-1] / best
        if len(lv) >= p.min_epochs and lv[0] != 0:
            improvement = (lv[0] - best) / abs(lv[0])
            ev["improvement"] = improvement
            if improvement < p.min_improvement:
                problems.append(
                    f"{main} never decreases: first {lv[0]:.4g}, best {best:.4g}, "
                    f"last {lv[-1]:.4g} over {len(lv)} epochs"
                )
    if val is not None and np.isfinite(val).any():
        ev["val_loss_min"] = float(np.nanmin(np.where(np.isfinite(val), val, np.nan)))
        ev["val_loss_last"] = float(val[np.isfinite(val)][-1])
    if not problems:
        return None
    return Finding(
        "model.divergence",
        sev,
        f"Training diverged: {problems[0]}",
        evidence={**ev, "problems": problems},
        impact=0.8 if sev == CRITICAL else 0.5,
        root_cause="the optimisation is numerically unstable: learning rate too high, unscaled inputs, "
        "exploding gradients, or NaN/inf reaching the loss",
        fix="lower the learning rate (or use an adaptive optimiser/schedule), clip gradients, scale inputs, "
        "check features and labels for NaN/inf, and early-stop on the validation loss",
    )
