"""Rung 5, evaluation: is the number the model's owner reports trustworthy and the right one?

Evaluated on the training rows, a misleading headline metric, a decision threshold left at its
default although costs call for another, probabilities that do not match frequencies, and a
random split of time-ordered data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..findings import CRITICAL, INFO, WARNING, Finding
from ..registry import NotApplicable, check
from ..stats import calibration as cal
from ..stats import threshold as thr
from ..stats.metrics import auc_ci, wilson

# ---------------------------------------------------------------------------- shared helpers

_METRIC_ALIASES = {
    "accuracy": "accuracy",
    "acc": "accuracy",
    "error_rate": "accuracy",
    "error": "accuracy",
    "roc_auc": "roc_auc",
    "auc": "roc_auc",
    "auroc": "roc_auc",
    "roc-auc": "roc_auc",
    "rocauc": "roc_auc",
    "roc_auc_ovr": "roc_auc",
    "roc_auc_ovo": "roc_auc",
    "pr_auc": "pr_auc",
    "average_precision": "pr_auc",
    "auprc": "pr_auc",
    "ap": "pr_auc",
    "f1": "f1",
    "f1_score": "f1",
    "f1_macro": "f1_macro",
    "macro_f1": "f1_macro",
    "f1_weighted": "f1",
    "precision": "precision",
    "recall": "recall",
    "sensitivity": "recall",
    "balanced_accuracy": "balanced_accuracy",
    "log_loss": "log_loss",
    "logloss": "log_loss",
    "cross_entropy": "log_loss",
    "brier": "brier",
    "brier_score": "brier",
    "mcc": "mcc",
    "r2": "r2",
    "r^2": "r2",
    "r_squared": "r2",
    "rsquared": "r2",
    "explained_variance": "r2",
    "mae": "mae",
    "mean_absolute_error": "mae",
    "mse": "mse",
    "mean_squared_error": "mse",
    "rmse": "rmse",
    "root_mean_squared_error": "rmse",
    "mape": "mape",
    "mean_absolute_percentage_error": "mape",
    "smape": "smape",
    "medae": "mae",
    "ndcg": "ndcg",
    "map": "map",
    "mrr": "mrr",
}
_CLASSIFICATION = {
    "accuracy",
    "roc_auc",
    "pr_auc",
    "f1",
    "f1_macro",
    "precision",
    "recall",
    "balanced_accuracy",
    "log_loss",
    "brier",
    "mcc",
}
_REGRESSION = {"r2", "mae", "mse", "rmse", "mape", "smape"}
_RANKING = {"ndcg", "map", "mrr"}


def canonical_metric(name: str | None) -> str | None:
    """The metric's canonical name (`AUC` -> roc_auc, `ndcg@10` -> ndcg), or the name lowered."""
    if not name:
        return None
    m = str(name).strip().lower().replace(" ", "_")
    base = m.split("@")[0]
    if base.startswith("neg_"):
        base = base[4:]
    return _METRIC_ALIASES.get(base, base)


def _lbl(v):
    """A class label as a plain Python value (numpy scalars print as np.int64(1) otherwise)."""
    return v.item() if hasattr(v, "item") else v


def _binary_xy(ctx, which: str):
    """(score of the positive class, 0/1 target) of a binary case, finite rows only."""
    pr = ctx.predictions(which)
    y = (np.asarray(ctx.y(which)) == ctx.case.positive).astype(float)
    s = np.asarray(pr.score, float)
    ok = np.isfinite(s)
    return s[ok], y[ok], pr


def _per_class_table(y: np.ndarray, pred: np.ndarray, classes: list, limit: int = 30) -> list[dict]:
    """Precision, recall, F1 and support per class (vectorised), the largest classes first."""
    y = pd.Series(np.asarray(y, dtype=object)).astype(str).to_numpy()
    pred = pd.Series(np.asarray(pred, dtype=object)).astype(str).to_numpy()
    rows = []
    for c in classes:
        k = str(c)
        t, p = y == k, pred == k
        tp = float(np.sum(t & p))
        prec = tp / p.sum() if p.sum() else float("nan")
        rec = tp / t.sum() if t.sum() else float("nan")
        f1 = 2 * tp / (t.sum() + p.sum()) if (t.sum() + p.sum()) else float("nan")
        rows.append(
            {
                "class": _lbl(c),
                "support": int(t.sum()),
                "predicted": int(p.sum()),
                "precision": prec,
                "recall": rec,
                "f1": f1,
            }
        )
    rows.sort(key=lambda r: -r["support"])
    return rows[:limit]


def _row_hashes(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """One 64-bit hash per row of `cols`, insensitive to int/float and category/object/string
    dtypes (values are hashed, column by column, and combined)."""
    h = np.zeros(len(df), dtype=np.uint64)
    for c in cols:
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            v = np.where(v == 0, 0.0, v)  # -0.0 and 0.0 are the same value
        elif pd.api.types.is_datetime64_any_dtype(s):
            v = _as_seconds(s)
        else:
            v = s.astype("object").astype(str).to_numpy(dtype=object)
        with np.errstate(over="ignore"):
            h = h * np.uint64(1_000_003) ^ pd.util.hash_array(v)
    return h


def _screen_columns(df: pd.DataFrame, cols: list[str], k: int = 4) -> list[str]:
    """The k columns with the most distinct values in a sample: a cheap first hash that already
    separates almost every pair of distinct rows."""
    sample = df[cols].iloc[: min(len(df), 2000)]
    nun = sample.nunique(dropna=False).sort_values(ascending=False)
    return list(nun.index[:k])


# ---------------------------------------------------------------------------- evaluated_on_train


@check(
    "evaluation.evaluated_on_train", min_share=0.9, min_excess=0.5, partial_share=0.6, max_test_rows=200_000
)
def evaluated_on_train(ctx, p):
    """The evaluation set is (almost) the training set.

    What it detects
        Rows of the evaluation set, hashed on every model feature and the target, that also occur
        in the training set, when they make up (nearly) all of it: at least `min_share` (90%) of the
        evaluation rows, and at least `min_excess` more than the rate at which training rows repeat
        among themselves (data with few distinct rows repeats by nature). From `partial_share`
        (60%) on it is also flagged when the model scores as well on the evaluation rows as on the
        training rows. A smaller share is partial contamination (data.train_test_overlap).
    Why it matters
        A model scored on the rows it was fitted on reports how well it memorised them, not how it
        will do on new data: every reported number is optimistic by the train/test gap.
    How to confirm
        Hash the rows of both sets (`pd.util.hash_pandas_object(df[features + [target]],
        index=False)`) and count the evaluation hashes found in train; compare the reported metric
        with the metric on rows the model never saw.
    Fix
        Hold out an evaluation set before fitting (split by entity or time where rows are related),
        fit on the rest only, and report metrics on the held-out rows.
    """
    c = ctx.case
    cols = [f for f in c.features if f in c.train.columns and f in c.test.columns] + [c.target]
    rows = ctx.sample_index("test", p.max_test_rows, seed=ctx.config.seed)
    test = c.test.iloc[rows]
    # a cheap screen on a few high-cardinality columns: rows that differ there differ overall
    screen = list(dict.fromkeys(_screen_columns(c.train, cols[:-1]) + [c.target]))
    screened = np.isin(_row_hashes(test, screen), _row_hashes(c.train, screen))
    if screened.mean() < min(p.partial_share, p.min_share):
        return None
    h_tr = _row_hashes(c.train, cols)
    inside = np.isin(_row_hashes(test, cols), h_tr)
    share = float(inside.mean())
    vc = pd.Series(h_tr).value_counts()
    natural = float(vc[vc > 1].sum() / len(h_tr)) if len(h_tr) else 0.0
    lo, hi = wilson(int(inside.sum()), len(inside))
    ev = {
        "test_rows_checked": int(len(rows)),
        "test_rows_in_train": int(inside.sum()),
        "share_in_train": share,
        "share_ci": [lo, hi],
        "train_rows_repeated_within_train": natural,
        "columns_hashed": len(cols),
    }
    excess = share - natural
    severity = None
    if share >= p.min_share and excess >= p.min_excess:
        severity = CRITICAL
    elif share >= p.partial_share and excess >= p.min_excess and c.model is not None:
        # most rows shared: flag when the evaluation score is as good as the training score
        try:
            gap = _train_test_gap(ctx)
        except NotApplicable:
            gap = None
        if gap is not None:
            ev.update(gap)
            if gap["gap"] <= gap["gap_tolerance"]:
                severity = WARNING
    if severity is None:
        return None
    return Finding(
        "evaluation.evaluated_on_train",
        severity,
        f"{share:.0%} of the evaluation rows are training rows (features and target identical): "
        "the reported metric is measured on data the model was fitted on",
        evidence=ev,
        impact=share,
        root_cause="the evaluation set was taken from the training data (the same file passed twice, "
        "a split done after fitting, or train = train + test)",
        fix="evaluate on rows held out before fitting; refit on the training part only and re-report "
        "every metric",
    )


def _train_test_gap(ctx) -> dict:
    """Headline-like score on train and test (AUC, accuracy or R^2) and a tolerance for equality."""
    c = ctx.case
    if c.task == "binary":
        s_tr, y_tr, _ = _binary_xy(ctx, "train")
        s_te, y_te, _ = _binary_xy(ctx, "test")
        a_tr, a_te = auc_ci(y_tr, s_tr), auc_ci(y_te, s_te)
        tol = max(0.01, (a_te[2] - a_te[1]) / 2)
        return {
            "metric": "roc_auc",
            "train": a_tr[0],
            "test": a_te[0],
            "gap": a_tr[0] - a_te[0],
            "gap_tolerance": tol,
        }
    if c.task == "multiclass":
        acc = [float(np.mean(ctx.predictions(w).label == ctx.y(w))) for w in ("train", "test")]
        n = len(ctx.y("test"))
        tol = max(0.01, 1.96 * np.sqrt(acc[1] * (1 - acc[1]) / max(n, 1)))
        return {
            "metric": "accuracy",
            "train": acc[0],
            "test": acc[1],
            "gap": acc[0] - acc[1],
            "gap_tolerance": tol,
        }
    if c.task == "regression":
        from sklearn.metrics import r2_score

        r = [float(r2_score(ctx.y(w).astype(float), ctx.predictions(w).score)) for w in ("train", "test")]
        return {"metric": "r2", "train": r[0], "test": r[1], "gap": r[0] - r[1], "gap_tolerance": 0.01}
    raise NotApplicable("no train/test comparison for this task")


# ---------------------------------------------------------------------------- wrong_metric

_BETTER = {
    "binary": "PR-AUC (average precision) or the cost at the decision threshold, with recall and "
    "precision of the rare class",
    "multiclass": "macro-averaged F1 or balanced accuracy, with the per-class recall table",
}


@check(
    "evaluation.wrong_metric",
    tasks=("binary", "multiclass", "regression", "ranking"),
    imbalance_majority=0.85,
    max_skill=0.5,
    multiclass_majority=0.5,
    multiclass_max_skill=0.2,
    cost_ratio=2.0,
    rare_auc_prevalence=0.01,
)
def wrong_metric(ctx, p):
    """The owner's headline metric misleads for this task and data.

    What it detects
        The metric the model's owner reports (`--metric`) when it cannot tell a useful model from a
        useless one here: accuracy on imbalanced classes (the majority class holds at least
        `imbalance_majority` of the evaluation rows and the model removes less than `max_skill` of
        the errors of always predicting it; multiclass also when one class holds at least
        `multiclass_majority` of the rows and the model removes less than `multiclass_max_skill` of
        those errors, so the accuracy reported is mostly the dominant class's share);
        accuracy when the costs of a false positive and a false negative differ by `cost_ratio` or
        more; a metric that does not fit the task (R^2 for classes, accuracy for a regression, a
        pooled metric for a ranking); MAPE on targets at or near zero. ROC AUC at a prevalence below
        `rare_auc_prevalence` is noted as info.
    Why it matters
        A metric that the trivial model nearly matches hides a model that never finds the cases
        that matter; comparing models or tracking regressions with it points the wrong way.
    How to confirm
        Compare the metric with the dummy baseline's (always the majority class); look at the
        per-class recall in the evidence; recompute with the metric suggested.
    Fix
        Report the metric suggested in the finding (PR-AUC, balanced accuracy, macro F1, the
        expected cost at the threshold in use, MAE) next to or instead of the current one.
    """
    c = ctx.case
    metric = canonical_metric(c.metric)
    if metric is None:
        raise NotApplicable("no headline metric was given (--metric)")
    findings = []

    # -- a metric that does not fit the task
    family = {
        "binary": _CLASSIFICATION,
        "multiclass": _CLASSIFICATION,
        "regression": _REGRESSION,
        "ranking": _RANKING,
    }[c.task]
    known = _CLASSIFICATION | _REGRESSION | _RANKING
    if metric in known and metric not in family:
        better = {
            "binary": "ROC AUC or PR-AUC",
            "multiclass": "accuracy or macro F1",
            "regression": "MAE or RMSE (and R^2)",
            "ranking": "NDCG@k per query",
        }[c.task]
        findings.append(
            Finding(
                "evaluation.wrong_metric",
                WARNING,
                f"The headline metric {c.metric!r} does not fit a {c.task} task; use {better}",
                evidence={"metric": c.metric, "task": c.task, "suggested": better},
                impact=0.5,
                root_cause=f"{c.metric!r} is a metric of another kind of task (the task or the metric is "
                "mislabelled)",
                fix=f"report {better}",
            )
        )
        return findings

    if c.task in ("binary", "multiclass"):
        findings += _wrong_metric_classification(ctx, p, metric)
    elif c.task == "regression" and metric in ("mape", "smape"):
        y = np.asarray(ctx.y("test"), float)
        scale = np.nanmedian(np.abs(y))
        near0 = float(np.mean(np.abs(y) <= 0.01 * scale)) if scale > 0 else 1.0
        if near0 >= 0.01:
            findings.append(
                Finding(
                    "evaluation.wrong_metric",
                    WARNING,
                    f"MAPE on a target that is at or near zero in {near0:.1%} of the evaluation rows: "
                    "those rows dominate (or break) the metric; use MAE or a scaled error",
                    evidence={
                        "metric": c.metric,
                        "share_target_near_zero": near0,
                        "median_abs_target": scale,
                        "suggested": "MAE, RMSE or MASE",
                    },
                    impact=near0,
                    root_cause="percentage errors divide by the target, which is (near) zero for some rows",
                    fix="report MAE (or MASE / WAPE = sum|error| / sum|y|) instead of MAPE",
                )
            )
    return findings or None


def _wrong_metric_classification(ctx, p, metric: str) -> list[Finding]:
    c = ctx.case
    y = np.asarray(ctx.y("test"))
    pr = ctx.predictions("test")
    pred = np.asarray(pr.label)
    n = len(y)
    vc = pd.Series(y).value_counts()
    majority_class, majority = _lbl(vc.index[0]), float(vc.iloc[0] / n)
    acc = float(np.mean(pred == y))
    skill = (acc - majority) / (1 - majority) if majority < 1 else 0.0
    table = _per_class_table(y, pred, list(c.classes))
    recalls = [r["recall"] for r in table if r["support"] > 0 and np.isfinite(r["recall"])]
    bal = float(np.mean(recalls)) if recalls else float("nan")
    ev = {
        "metric": c.metric,
        "accuracy": acc,
        "accuracy_always_majority": majority,
        "majority_class": majority_class,
        "errors_removed_vs_majority": skill,
        "balanced_accuracy": bal,
        "per_class": table,
        "rows": n,
    }
    out = []
    if metric == "accuracy":
        reasons = []
        imbalanced = majority >= p.imbalance_majority and skill < p.max_skill
        if c.task == "multiclass" and len(vc) > 2:
            imbalanced = imbalanced or (majority >= p.multiclass_majority and skill < p.multiclass_max_skill)
        if imbalanced:
            # the lift over the trivial model, with an interval (paired: rows where they differ)
            d = (pred == y).astype(float) - (y == majority_class).astype(float)
            se = float(np.std(d, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
            ev["accuracy_lift_over_majority"] = acc - majority
            ev["lift_ci"] = [acc - majority - 1.96 * se, acc - majority + 1.96 * se]
            reasons.append(
                f"{majority:.1%} of the rows are class {majority_class!r}, so always predicting "
                f"it scores {majority:.3f} against the model's {acc:.3f}"
            )
        cost = c.cost
        if cost is not None and c.task == "binary":
            w_fp = cost.get("fp", 0.0) - cost.get("tn", 0.0)
            w_fn = cost.get("fn", 0.0) - cost.get("tp", 0.0)
            ratio = max(w_fp, w_fn) / max(min(w_fp, w_fn), 1e-12)
            if ratio >= p.cost_ratio:
                ev["cost"] = cost
                ev["cost_ratio"] = ratio
                reasons.append(
                    f"a {'false negative' if w_fn > w_fp else 'false positive'} costs "
                    f"{ratio:.3g}x the other error, which accuracy counts the same"
                )
        if reasons:
            better = _BETTER[c.task] if imbalanced else "the expected cost per row at the decision threshold"
            if imbalanced and cost is not None and c.task == "binary":
                better = "the expected cost per row at the threshold in use, with PR-AUC and recall of the rare class"
            ev["suggested"] = better
            minority = min(table, key=lambda r: r["support"]) if table else None
            detail = ""
            if minority is not None and np.isfinite(minority["recall"]):
                detail = f"; recall of class {minority['class']!r} is {minority['recall']:.2f}"
            out.append(
                Finding(
                    "evaluation.wrong_metric",
                    WARNING,
                    f"Accuracy misleads here: {'; '.join(reasons)}{detail}. Use {better}",
                    evidence=ev,
                    impact=float(max(1 - skill, 0.0)) if imbalanced else 0.3,
                    root_cause="accuracy rewards the majority class and weighs every error the same",
                    fix=f"report {better}; compare models on it and on the per-class recall",
                )
            )
    elif metric == "roc_auc" and c.task == "binary":
        prev = float(np.mean(y == c.positive))
        if prev < p.rare_auc_prevalence:
            out.append(
                Finding(
                    "evaluation.wrong_metric",
                    INFO,
                    f"ROC AUC at a prevalence of {prev:.2%}: it can stay high while precision at any "
                    "usable threshold is poor; report PR-AUC (average precision) too",
                    evidence={**ev, "prevalence": prev, "suggested": "PR-AUC"},
                    impact=0.1,
                    root_cause="ROC AUC is insensitive to the false positives that a rare class multiplies",
                    fix="report average precision and precision/recall at the operating threshold",
                )
            )
    if not out and c.metric:
        out.append(
            Finding(
                "evaluation.wrong_metric",
                INFO,
                f"The headline metric {c.metric!r} suits this task; per-class precision, recall and F1 "
                "are in the evidence",
                evidence=ev,
                impact=0.0,
                root_cause="none: context for the error analysis",
                fix="nothing to fix",
            )
        )
    return out


# ---------------------------------------------------------------------------- untuned_threshold


@check(
    "evaluation.untuned_threshold",
    tasks=("binary",),
    requires=("model",),
    min_saving_share=0.05,
    max_recall=0.1,
    min_auc=0.6,
    min_f1_gain=0.05,
    n_boot=200,
    min_positives=20,
)
def untuned_threshold(ctx, p):
    """The decision threshold is left at its default although the costs of errors call for another.

    What it detects
        With a cost of errors (`--cost fp=1,fn=10`): the expected cost per row at the threshold in
        use (`--threshold`, 0.5 by default) against a threshold tuned on the evaluation set. The
        saving is cross-fitted (the threshold chosen on one half of the rows, its cost measured on
        the other, over several random halvings) with a bootstrap interval; flagged when it saves
        at least `min_saving_share` of the cost and the interval excludes zero. Without a cost:
        only when the threshold in use finds almost none of the positives (recall below
        `max_recall`) although the model ranks them (AUC lower bound above `min_auc`) and a tuned
        threshold raises F1 by at least `min_f1_gain` (interval excluding zero).
    Why it matters
        0.5 minimises the error rate of a calibrated model only when both errors cost the same;
        with a rare class or asymmetric costs it leaves most of the value of the model unused.
    How to confirm
        Plot the cost (or precision and recall) against the threshold on held-out rows; compare
        with fp / (fp + fn), the optimal threshold of calibrated probabilities.
    Fix
        Choose the threshold on validation (or out-of-fold) predictions to minimise the expected
        cost, and use that threshold in serving; re-check it when prevalence changes.
    """
    c = ctx.case
    s, y, pr = _binary_xy(ctx, "test")
    if len(np.unique(s)) < 3:
        raise NotApplicable("the model's scores take fewer than three values: nothing to tune")
    npos = int(y.sum())
    if npos < p.min_positives or len(y) - npos < p.min_positives:
        raise NotApplicable(f"too few positives or negatives in the evaluation set ({npos} positives)")
    current = ctx.threshold
    cost = c.cost
    seed = ctx.config.seed
    if cost is not None:
        r = thr.tune(s, y, current, cost, n_boot=p.n_boot, seed=seed)
        share = r.saving / r.value_current if r.value_current > 0 else 0.0
        ev = {
            "cost": cost,
            "threshold_in_use": current,
            "cost_per_row_at_threshold": r.value_current,
            "best_threshold": r.best_threshold,
            "cost_per_row_at_best_in_sample": r.value_best_insample,
            "cost_per_row_tuned_cross_fitted": r.value_tuned,
            "saving_per_row": r.saving,
            "saving_per_row_ci": list(r.saving_ci),
            "saving_share": share,
            "bayes_threshold_if_calibrated": thr.bayes_threshold(cost),
            "thresholds_chosen_on_halves": [round(t, 4) for t in r.chosen_thresholds],
            "prevalence": float(y.mean()),
        }
        ev.update(_recall_at(s, y, current, r.best_threshold))
        ev.update(_train_chosen(ctx, cost, current))
        if share < p.min_saving_share or not r.saving_ci[0] > 0:
            return None
        return Finding(
            "evaluation.untuned_threshold",
            WARNING,
            f"Threshold {current:g} costs {r.value_current:.3f} per row; a threshold near "
            f"{r.best_threshold:.2g} saves {share:.0%} of it ({r.saving:.3f} per row, 95% CI "
            f"{r.saving_ci[0]:.3f}-{r.saving_ci[1]:.3f}, cross-fitted) under cost {_fmt_cost(cost)}",
            evidence=ev,
            impact=float(min(max(share, 0.0), 1.0)),
            root_cause="the threshold was left at its default instead of being chosen for the cost of "
            "errors and the prevalence",
            fix=f"use a threshold near {r.best_threshold:.2g} (chosen on validation or out-of-fold "
            "predictions), and re-tune it when prevalence or costs change",
        )

    # no cost: only the clear case of a threshold that finds (almost) no positives
    rec = _recall_at(s, y, current, None)["recall_at_threshold"]
    a, a_lo, _ = auc_ci(y, s)
    if not (rec < p.max_recall and a_lo > p.min_auc):
        return None
    r = thr.tune(s, y, current, None, n_boot=p.n_boot, seed=seed)
    gain = r.saving  # 1 - F1 saved = F1 gained
    ev = {
        "threshold_in_use": current,
        "recall_at_threshold": rec,
        "auc": a,
        "auc_ci_low": a_lo,
        "f1_at_threshold": 1 - r.value_current,
        "f1_tuned_cross_fitted": 1 - r.value_tuned,
        "f1_gain": gain,
        "f1_gain_ci": list(r.saving_ci),
        "f1_best_threshold": r.best_threshold,
        "prevalence": float(y.mean()),
        "note": "no cost of errors given: F1 stands in for it; give --cost fp=..,fn=.. for a cost-optimal threshold",
    }
    if gain < p.min_f1_gain or not r.saving_ci[0] > 0:
        return None
    return Finding(
        "evaluation.untuned_threshold",
        WARNING,
        f"Threshold {current:g} finds {rec:.0%} of the positives (prevalence {y.mean():.1%}) although "
        f"the model ranks them (AUC {a:.2f}); a threshold near {r.best_threshold:.2g} raises F1 from "
        f"{1 - r.value_current:.2f} to {1 - r.value_tuned:.2f} (cross-fitted)",
        evidence=ev,
        impact=float(min(gain, 1.0)),
        root_cause="the default threshold of 0.5 sits above almost every predicted probability of a "
        "rare class",
        fix="state the cost of each error and choose the threshold that minimises it on validation "
        "predictions (or rebalance the training)",
    )


def _fmt_cost(cost: dict) -> str:
    return ",".join(f"{k}={v:g}" for k, v in cost.items())


def _recall_at(s, y, current, best) -> dict:
    out = {}
    pos = max(y.sum(), 1)
    out["recall_at_threshold"] = float(((s >= current) & (y == 1)).sum() / pos)
    out["predicted_positive_share_at_threshold"] = float(np.mean(s >= current))
    if best is not None:
        out["recall_at_best"] = float(((s >= best) & (y == 1)).sum() / pos)
        out["predicted_positive_share_at_best"] = float(np.mean(s >= best))
    return out


def _train_chosen(ctx, cost, current) -> dict:
    """When the training predictions look honest (not better than the evaluation ones), the
    threshold chosen on them, and its cost on the evaluation rows: a second, fully held-out view."""
    try:
        s_tr, y_tr, _ = _binary_xy(ctx, "train")
        s_te, y_te, _ = _binary_xy(ctx, "test")
    except NotApplicable:
        return {}
    if len(np.unique(y_tr)) < 2:
        return {}
    a_tr, a_te = auc_ci(y_tr, s_tr), auc_ci(y_te, s_te)
    if not a_tr[0] <= a_te[2]:  # in-sample predictions: choosing on them would overfit
        return {}
    g = thr.make_grid(np.concatenate([s_tr, s_te]), [current])
    t = g[int(np.argmin(thr.counts(s_tr, y_tr, g).cost(cost)))]
    te = thr.counts(s_te, y_te, np.array([current, t])).cost(cost)
    return {
        "threshold_chosen_on_train_predictions": float(t),
        "cost_per_row_at_train_chosen_threshold": float(te[1]),
    }


# ---------------------------------------------------------------------------- miscalibration


@check(
    "evaluation.miscalibration",
    tasks=("binary", "multiclass"),
    requires=("model",),
    min_excess_ece=0.05,
    max_bins=15,
    min_per_bin=40,
    min_width=0.01,
    n_boot=200,
    min_rows=100,
    max_rows=100_000,
)
def miscalibration(ctx, p):
    """Predicted probabilities do not match observed frequencies.

    What it detects
        The expected calibration error (ECE) on the evaluation set, on equal-mass bins (binary:
        P(positive); multiclass: the top-label confidence against whether it was right), judged by
        its excess over the ECE that a perfectly calibrated model with the same probabilities shows
        by chance (consistency resampling). Flagged when the lower end of its bootstrap interval
        exceeds that noise floor by `min_excess_ece` (0.05); info only for a multiclass model whose
        top-label confidence is merely too low (under-confident: argmax decisions unaffected). The
        reliability table, the ECE after a
        cross-fitted Platt recalibration and the log loss are in the evidence.
    Why it matters
        Decisions that use the probability itself (a cost-based threshold, an expected loss, a
        ranking across models, a risk shown to a person) are off by the calibration error.
    How to confirm
        Plot the reliability table (mean predicted against observed per bin); compare the ECE with
        the recalibrated one in the evidence.
    Fix
        Recalibrate on held-out data (`CalibratedClassifierCV(method="sigmoid" or "isotonic")`,
        temperature scaling), or remove what distorts the probabilities (resampling without
        correction, a hard-margin model's scores used as probabilities, overfitting).
    """
    c = ctx.case
    pr = ctx.predictions("test")
    if not pr.has_proba or pr.proba is None:
        raise NotApplicable("the model gives no probabilities")
    y = np.asarray(ctx.y("test"))
    if c.task == "binary":
        conf = np.asarray(pr.score, float)
        hit = (y == c.positive).astype(float)
        what = f"P({_lbl(c.positive)!r})"
    else:
        conf = np.asarray(pr.proba, float).max(axis=1)
        hit = (np.asarray(pr.label) == y).astype(float)
        what = "top-label confidence"
    ok = np.isfinite(conf)
    conf, hit = np.clip(conf[ok], 0.0, 1.0), hit[ok]
    if len(conf) > p.max_rows:  # the ECE of 100k rows is known to +-0.003: enough to judge
        keep = np.sort(np.random.default_rng(ctx.config.seed).choice(len(conf), p.max_rows, replace=False))
        conf, hit = conf[keep], hit[keep]
        ctx.note(f"miscalibration: measured on a random {p.max_rows:,} of the evaluation rows")
    n = len(conf)
    if n < p.min_rows:
        raise NotApplicable(f"only {n} evaluation rows (needs {p.min_rows})")
    nb = cal.n_bins_for(n, p.max_bins, p.min_per_bin)
    kw = dict(min_width=p.min_width)
    seed = ctx.config.seed
    e = cal.ece(conf, hit, nb, **kw)
    null = cal.ece_null(conf, nb, seed=seed, **kw)
    lo, hi = cal.ece_bootstrap(conf, hit, nb, n_boot=p.n_boot, seed=seed, **kw)
    floor = float(null.mean())
    excess_lo = lo - floor
    p_value = float((1 + np.sum(null >= e)) / (1 + len(null)))
    if excess_lo <= p.min_excess_ece:
        return None
    recal = cal.platt_crossfit(conf, hit, seed=seed)
    e_recal = cal.ece(recal, hit, nb, **kw)
    table = cal.reliability_table(conf, hit, nb, **kw)
    eps = 1e-15
    ll = float(-np.mean(hit * np.log(np.clip(conf, eps, 1)) + (1 - hit) * np.log(np.clip(1 - conf, eps, 1))))
    ll_recal = float(
        -np.mean(hit * np.log(np.clip(recal, eps, 1)) + (1 - hit) * np.log(np.clip(1 - recal, eps, 1)))
    )
    over = float(np.mean(conf) - np.mean(hit))
    slope, intercept = cal.calibration_slope(conf, hit)
    extreme = float(np.mean((conf < 0.01) | (conf > 0.99)))
    worst = max(table, key=lambda r: abs(r["gap"]) * r["rows"])
    ev = {
        "ece": e,
        "ece_ci": [lo, hi],
        "ece_if_perfectly_calibrated": floor,
        "excess_ece_low": excess_lo,
        "p_value": p_value,
        "bins": len(table),
        "binning": "equal-mass",
        "probability": what,
        "mean_predicted": float(np.mean(conf)),
        "observed_rate": float(np.mean(hit)),
        "ece_after_platt_recalibration_cross_fitted": e_recal,
        "log_loss": ll,
        "log_loss_after_recalibration": ll_recal,
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "share_probabilities_below_0.01_or_above_0.99": extreme,
        "reliability": table,
    }
    shape = (
        "over-confident (too close to 0 and 1)"
        if slope < 0.8
        else "under-confident (too close to the middle)"
        if slope > 1.25
        else ""
    )
    level = "too high on average" if over > 0.02 else "too low on average" if over < -0.02 else ""
    direction = " and ".join(x for x in (shape, level) if x) or "off in some ranges"
    # multiclass: a top-label confidence that is only too low (the model is right more often than
    # it claims) leaves every argmax decision unchanged; the averaging ensembles (random forests)
    # show it by construction. Context, not an alarm.
    sev = WARNING
    if (
        c.task == "multiclass"
        and over < -0.02
        and slope >= 0.8
        and float(np.mean([r["gap"] < -0.02 for r in table])) <= 0.2
    ):  # gap = observed - predicted
        sev = INFO
        ev["note"] = (
            "under-confident only: the model is right more often than its top-label confidence "
            "says; argmax decisions are unaffected"
        )
    return Finding(
        "evaluation.miscalibration",
        sev,
        f"Probabilities are miscalibrated: ECE {e:.3f} (95% CI {lo:.3f}-{hi:.3f}; {floor:.3f} expected "
        f"by chance) on {what}; in the worst bin predicted {worst['mean_predicted']:.2f} vs observed "
        f"{worst['observed']:.2f}. A cross-fitted recalibration brings it to {e_recal:.3f}",
        evidence=ev,
        impact=float(min(e, 1.0)),
        root_cause=f"the model's probabilities are {direction}: the training objective, resampling or "
        "class weights, or overfitting distort them",
        fix="recalibrate on held-out data (Platt/sigmoid or isotonic via CalibratedClassifierCV, or "
        "temperature scaling) before using the probabilities or a cost-based threshold",
    )


# ---------------------------------------------------------------------------- temporal_split


@check(
    "evaluation.temporal_split",
    min_later=0.2,
    min_cramers_v=0.1,
    min_eta2=0.01,
    min_feature_drift=0.5,
    alpha=0.001,
    max_rows=200_000,
    n_deciles=10,
)
def temporal_split(ctx, p):
    """Time-ordered data split at random: training rows come after evaluation rows.

    What it detects
        With a time column: the probability that a random training row is later than a random
        evaluation row (0 for a forward split, 0.5 for a random one), the share of training rows
        later than the earliest and the median evaluation row; flagged when that probability is at
        least `min_later` and time matters: the target drifts across time deciles (Cramer's V of at
        least `min_cramers_v` for classes, eta^2 of at least `min_eta2` for a quantity, p below
        `alpha`) or a feature does (KS between the first and last third of at least
        `min_feature_drift`). Without a time column, datetime-typed columns are looked at the same
        way and reported as info only.
    Why it matters
        A model evaluated on a random split has seen the future of its evaluation rows: trends,
        later prevalence, features that identify the date. The reported metric is optimistic
        against deployment, where the model always predicts forward in time.
    How to confirm
        Refit on the rows before a cut-off date and evaluate on the rows after it; compare with the
        reported metric. Plot the target rate over time.
    Fix
        Split by time (train on the past, evaluate on the most recent period; TimeSeriesSplit for
        cross-validation) and drop features that encode the date itself.
    """
    c = ctx.case
    given = c.time_column
    cols = (
        [given]
        if given
        else [
            col
            for col in c.features + c.extra_columns
            if col in c.test.columns and pd.api.types.is_datetime64_any_dtype(c.train[col])
        ]
    )
    if not cols:
        raise NotApplicable("no time column given and no datetime column found")
    out = []
    for col in cols:
        if col not in c.test.columns:
            raise NotApplicable(f"the evaluation set has no time column {col!r}")
        f = _temporal_one(ctx, p, col, given=bool(given))
        if f is not None:
            out.append(f)
    return out or None


def _as_seconds(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        # seconds since the epoch, whatever the unit (ns, us, ...) and time zone of the column
        epoch = pd.Timestamp(0, tz=getattr(s.dt, "tz", None))
        return np.array((s - epoch).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan), copy=True)
    return np.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan), copy=True)


def _temporal_one(ctx, p, col: str, given: bool):
    c = ctx.case
    seed = ctx.config.seed
    i_tr = ctx.sample_index("train", p.max_rows, seed)
    i_te = ctx.sample_index("test", p.max_rows, seed)
    t_tr = _as_seconds(c.train[col].iloc[i_tr])
    t_te = _as_seconds(c.test[col].iloc[i_te])
    m_tr, m_te = np.isfinite(t_tr), np.isfinite(t_te)
    if m_tr.sum() < 50 or m_te.sum() < 20:
        raise NotApplicable(f"too few rows with a time in {col!r}")
    a, b = t_tr[m_tr], t_te[m_te]
    # P(train later than test) + 0.5 P(tie): Mann-Whitney U / (n1 n2), via ranks
    ranks = sps.rankdata(np.concatenate([a, b]))
    u = ranks[: len(a)].sum() - len(a) * (len(a) + 1) / 2
    later = float(u / (len(a) * len(b)))
    after_first = float(np.mean(a > b.min()))
    after_median = float(np.mean(a > np.median(b)))
    ev = {
        "time_column": col,
        "p_train_row_later_than_test_row": later,
        "share_train_rows_after_first_test_row": after_first,
        "share_train_rows_after_median_test_row": after_median,
        "train_period": [_fmt_time(c.train[col], a.min()), _fmt_time(c.train[col], a.max())],
        "test_period": [_fmt_time(c.test[col], b.min()), _fmt_time(c.test[col], b.max())],
    }
    if later < p.min_later:
        return None
    # does time matter? target drift across time deciles of train + test
    y = np.concatenate([np.asarray(ctx.y("train"))[i_tr][m_tr], np.asarray(ctx.y("test"))[i_te][m_te]])
    t = np.concatenate([a, b])
    dec = np.minimum((sps.rankdata(t, method="ordinal") - 1) * p.n_deciles // len(t), p.n_deciles - 1)
    drift = _target_drift(c.task, y, dec, p.n_deciles)
    ev.update(drift)
    feat = _feature_drift(ctx, i_tr, m_tr, a)
    ev.update(feat)
    matters = drift.get("target_drift_p", 1.0) < p.alpha and (
        drift.get("cramers_v", 0.0) >= p.min_cramers_v or drift.get("eta2", 0.0) >= p.min_eta2
    )
    matters = matters or (
        feat.get("max_feature_drift", 0.0) >= p.min_feature_drift
        and feat.get("max_feature_drift_p", 1.0) < p.alpha
    )
    severity = WARNING if (given and matters) else INFO
    why = []
    if "target_by_time_decile" in drift:
        first, last = drift["target_by_time_decile"][0], drift["target_by_time_decile"][-1]
        if "rate" in first:
            why.append(f"the target rate goes from {first['rate']:.1%} to {last['rate']:.1%} over time")
        elif "mean" in first:
            why.append(f"the target mean goes from {first['mean']:.4g} to {last['mean']:.4g} over time")
    if feat.get("max_feature_drift", 0) >= p.min_feature_drift:
        why.append(
            f"feature {feat['most_drifting_feature']!r} drifts with time (KS or total variation "
            f"{feat['max_feature_drift']:.2f} first vs last third)"
        )
    title = (
        f"Random split of time-ordered data on {col!r}: {after_median:.0%} of the training rows are "
        f"later than the median evaluation row"
    )
    if why and matters:
        title += "; " + " and ".join(why)
    elif not matters:
        title += " (nothing drifts with time yet, so the metric is not visibly optimistic)"
    if not given:
        title += " (datetime column found; pass --time-column if it orders the rows)"
    return Finding(
        "evaluation.temporal_split",
        severity,
        title,
        columns=[col],
        evidence=ev,
        impact=float(min(1.0, 2 * later)),
        root_cause="the evaluation rows were drawn at random from the whole period, so the model was "
        "trained on rows that come after them",
        fix=f"split on {col!r}: train on the past, evaluate on the most recent period (TimeSeriesSplit "
        "for cross-validation); drop features that encode the date",
    )


def _fmt_time(s: pd.Series, v: float):
    if pd.api.types.is_datetime64_any_dtype(s):
        return str(pd.Timestamp(float(v), unit="s").date()) if np.isfinite(v) else None
    return float(v)


def _target_drift(task: str, y: np.ndarray, dec: np.ndarray, k: int) -> dict:
    n = len(y)
    if task in ("binary", "multiclass"):
        tab = pd.crosstab(dec, pd.Series(y, dtype=object).astype(str).to_numpy())
        if tab.shape[1] < 2 or tab.shape[0] < 2:
            return {}
        chi2, pv, _, _ = sps.chi2_contingency(tab.to_numpy())
        v = float(np.sqrt(chi2 / (n * (min(tab.shape) - 1))))
        rows = []
        top = tab.sum(axis=0).sort_values().index[0]  # the rarest class: its rate over time
        for d, r in tab.iterrows():
            rows.append(
                {
                    "decile": int(d) + 1,
                    "rows": int(r.sum()),
                    "class": _lbl(top),
                    "rate": float(r[top] / max(r.sum(), 1)),
                }
            )
        return {"cramers_v": v, "target_drift_p": float(pv), "target_by_time_decile": rows}
    yy = np.asarray(y, float)
    ok = np.isfinite(yy)
    groups = [yy[ok & (dec == d)] for d in range(k)]
    groups = [g for g in groups if len(g) > 1]
    if len(groups) < 2:
        return {}
    h, pv = sps.kruskal(*groups)
    mean = np.nanmean(yy)
    ss_between = sum(len(g) * (g.mean() - mean) ** 2 for g in groups)
    ss_total = np.nansum((yy - mean) ** 2)
    eta2 = float(ss_between / ss_total) if ss_total > 0 else 0.0
    rows = [{"decile": i + 1, "rows": len(g), "mean": float(g.mean())} for i, g in enumerate(groups)]
    return {"eta2": eta2, "target_drift_p": float(pv), "target_by_time_decile": rows}


def _feature_drift(ctx, i_tr, m_tr, t_tr) -> dict:
    """Largest drift of a model feature between the first and the last third (in time) of the
    training rows: the two-sample KS statistic for numbers, the total variation distance (the KS
    analogue) with a chi-square test for categories."""
    c = ctx.case
    rows = np.asarray(i_tr)[m_tr]
    t = np.asarray(t_tr)
    if len(rows) > 30_000:  # 30k rows resolve drifts far below the flagging floor
        keep = np.sort(np.random.default_rng(ctx.config.seed).choice(len(rows), 30_000, replace=False))
        rows, t = rows[keep], t[keep]
    if len(rows) < 90:
        return {}
    order = np.argsort(t, kind="stable")
    k = len(order) // 3
    early, late = rows[order[:k]], rows[order[-k:]]
    cat = set(c.categorical)
    best = (0.0, 1.0, None)
    for name in c.features:
        if name not in c.train.columns or name == c.time_column:
            continue
        col = c.train[name]
        if name in cat or not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            a = col.iloc[early].astype("object").fillna("<NA>").astype(str)
            b = col.iloc[late].astype("object").fillna("<NA>").astype(str)
            tab = pd.crosstab(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a.to_numpy(), b.to_numpy()])
            if tab.shape[1] < 2:
                continue
            prop = tab.to_numpy() / tab.to_numpy().sum(axis=1, keepdims=True)
            stat = float(0.5 * np.abs(prop[0] - prop[1]).sum())
            pv = float(sps.chi2_contingency(tab.to_numpy())[1])
        else:
            v = np.array(
                pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan), copy=True
            )
            a, b = v[early], v[late]
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            if len(a) < 30 or len(b) < 30:
                continue
            r = sps.ks_2samp(a, b)
            stat, pv = float(r.statistic), float(r.pvalue)
        if stat > best[0]:
            best = (stat, pv, name)
    if best[2] is None:
        return {}
    return {"max_feature_drift": best[0], "max_feature_drift_p": best[1], "most_drifting_feature": best[2]}
