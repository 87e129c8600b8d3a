"""Rung 6, errors: error analysis of a model that works on aggregate.

Collect and categorise the errors (per-class metrics, confusion, confident mistakes), find where
they concentrate (slices of the evaluation rows, searched honestly: discovered on one half,
confirmed on the other with a multiple-testing correction) and name the likely root cause and the
design change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..findings import INFO, WARNING, Finding
from ..registry import NotApplicable, Params, check
from ..stats.attribution import contrast_summary, cost_summary, error_contrast, keys, shap_by_slice
from ..stats.metrics import wilson
from ..stats.slices import Slice, find_slices, slice_mask, standardized_differences

# --------------------------------------------------------------------------- shared helpers


def search_columns(ctx) -> list[str]:
    """Every column of the evaluation set except the target and the model's own outputs;
    columns that the model does not take are included on purpose (a missing feature)."""
    c = ctx.case
    drop = {c.target, c.prediction_column, c.group_column}
    return [col for col in ctx.frame("test").columns if col not in drop]


def _categorical(ctx) -> set[str]:
    return set(ctx.case.categorical or [])


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality of labels that may differ in dtype (1 vs 1.0 vs '1')."""
    try:
        return np.asarray(a == b, dtype=bool)
    except (TypeError, ValueError):
        return np.array([str(x) == str(y) for x, y in zip(a, b)], dtype=bool)


def errors_of(ctx) -> dict[str, Any]:
    """Per-row errors on the evaluation set (cached).

    search: the error the slice search ranks (misclassification at the threshold in use; for
    regression the absolute error divided by the typical absolute error at that prediction level,
    so that expensive items do not look bad merely for being large); raw: the error reported.
    """

    def compute():
        c = ctx.case
        if c.task == "ranking":
            raise NotApplicable("ranking errors are analysed by the ranking rung")
        pred = ctx.predictions("test")
        y = ctx.y("test")
        if c.task in ("binary", "multiclass"):
            ok = np.array([not pd.isna(v) for v in y], dtype=bool)
            wrong = ~_same(np.asarray(pred.label), np.asarray(y))
            err = np.where(ok, wrong.astype(float), np.nan)
            return {"search": err, "raw": err, "y": y, "pred": pred, "kind": "error rate"}
        yv = pd.to_numeric(pd.Series(y), errors="coerce").to_numpy(dtype=float)
        pv = np.asarray(pred.score, dtype=float)
        raw = np.abs(pv - yv)
        fin = np.isfinite(raw)
        scale = np.full(raw.shape, np.nan)
        if fin.sum() >= 50:
            q = np.quantile(pv[fin], np.linspace(0, 1, 11)[1:-1])
            b = np.searchsorted(q, pv, side="left")
            for i in range(10):
                sel = fin & (b == i)
                if sel.any():
                    scale[b == i] = np.median(raw[sel])
            pos = scale[fin & (scale > 0)]
            floor = float(np.median(pos)) * 0.05 if pos.size else 1.0
            scale = np.maximum(np.nan_to_num(scale, nan=floor), max(floor, 1e-12))
        else:
            scale = np.full(raw.shape, max(float(np.nanmedian(raw)), 1e-12))
        return {"search": raw / scale, "raw": raw, "y": yv, "pred": pred, "kind": "absolute error"}

    return ctx.cached("errors:test", compute)


def _slice_search(ctx, p) -> list[Slice]:
    def compute():
        e = errors_of(ctx)
        df = ctx.frame("test")
        return find_slices(
            df,
            e["search"],
            search_columns(ctx),
            categorical=_categorical(ctx),
            max_order=p.max_order,
            min_support=p.min_support,
            top_k=p.top_k,
            alpha=p.alpha,
            seed=ctx.config.seed if hasattr(ctx.config, "seed") else 0,
        )

    return ctx.cached("errors:slices", compute)


def _baseline_error(y: np.ndarray, kind: str) -> float:
    """Error of the best constant inside a set of rows (the majority class; the median)."""
    if y.size == 0:
        return float("nan")
    if kind == "error rate":
        vc = pd.Series(y).value_counts(normalize=True)
        return float(1.0 - vc.iloc[0]) if len(vc) else float("nan")
    yv = y[np.isfinite(y)]
    return float(np.mean(np.abs(yv - np.median(yv)))) if yv.size else float("nan")


def _skill(err: float, base: float) -> float:
    """1 - model error / error of the best constant (1 perfect, 0 no better than a constant)."""
    if not np.isfinite(base):
        return float("nan")
    if base <= 0:
        return 0.0 if err <= 0 else -np.inf
    return 1.0 - err / base


def _binary_auc(ctx, y) -> float | None:
    """ROC AUC of a binary model's score on the evaluation rows (None when not computable)."""
    if ctx.case.task != "binary":
        return None
    try:
        from sklearn.metrics import roc_auc_score

        score = np.asarray(ctx.predictions("test").score, dtype=float)
        pos = _same(np.asarray(y), np.asarray([ctx.case.positive] * len(y), dtype=object))
        ok = np.isfinite(score) & ~pd.isna(pd.Series(y)).to_numpy()
        if ok.sum() < 20 or pos[ok].all() or not pos[ok].any():
            return None
        return float(roc_auc_score(pos[ok], score[ok]))
    except (TypeError, ValueError, AttributeError):
        return None


def _root_cause(ctx, s: Slice, skill_share: float, train_share: float | None) -> tuple[str, str, str]:
    """(category, root cause, fix) of a slice."""
    c = ctx.case
    feats = set(c.features or [])
    absent = [col for col in s.columns if feats and col not in feats]
    desc = s.describe()
    if absent:
        return (
            "features",
            f"the slice is defined by {', '.join(absent)}, which the model does not take: it cannot "
            "tell these rows apart",
            f"add {', '.join(absent)} (or the interaction {desc}) to the model's features",
        )
    if train_share is not None and s.support > 0 and train_share < 0.4 * s.support:
        return (
            "data",
            f"the slice is under-represented in training ({train_share:.2%} of training rows vs "
            f"{s.support:.2%} of evaluation rows), so the model learned little about it",
            f"collect or up-weight training rows with {desc}; check how the training set was sampled",
        )
    if c.task in ("binary", "multiclass") and skill_share <= 0.1:
        return (
            "labels",
            "inside the slice the model is no better than a constant guess: its labels follow "
            "another rule or are noisy there",
            f"audit and relabel a sample of rows with {desc}; if the rule really differs, give the "
            "slice its own model or threshold",
        )
    return (
        "model capacity",
        "the model has not learned the interaction that this slice needs",
        f"add the interaction ({desc}) as a feature, give the model more capacity there, or "
        "collect more rows of the slice",
    )


def _contrast(ctx) -> dict | None:
    """What separates errors from correct rows, per true class (cached; classification only)."""

    def compute():
        c = ctx.case
        if c.task not in ("binary", "multiclass"):
            return None
        pred = ctx.predictions("test")
        return error_contrast(
            ctx.frame("test"),
            ctx.y("test"),
            pred.label,
            search_columns(ctx),
            task=c.task,
            classes=c.classes,
            positive=c.positive,
            categorical=_categorical(ctx),
            model_features=set(c.features or []),
            seed=getattr(ctx.config, "seed", 0),
        )

    return ctx.cached("errors:contrast", compute)


def _costs(ctx, masks: list[np.ndarray] | None = None) -> dict | None:
    """Expected cost per row at the decision in use and at the cost-optimal one (overall, and per
    mask when given); None without a cost matrix or on a task without classes."""
    c = ctx.case
    if c.cost_matrix is None or c.task not in ("binary", "multiclass"):
        return None
    pred = ctx.predictions("test")
    y = ctx.y("test")
    ok = ~pd.isna(pd.Series(y)).to_numpy()
    if c.task == "binary" and not pred.has_proba and pred.score is None:
        return None
    score = np.asarray(pred.score, dtype=float) if c.task == "binary" else None
    if c.task == "binary" and score is not None and not np.isfinite(score).any():
        score = None
    return cost_summary(
        c.cost_matrix,
        np.asarray(y)[ok],
        np.asarray(pred.label)[ok],
        task=c.task,
        score=None if score is None else score[ok],
        proba=np.asarray(pred.proba)[ok] if pred.has_proba and pred.proba is not None else None,
        proba_classes=pred.classes,
        positive=c.positive,
        threshold=ctx.threshold,
        masks=None if masks is None else [np.asarray(m)[ok] for m in masks],
        seed=getattr(ctx.config, "seed", 0),
    )


def _gain(text: str, **numbers: Any) -> dict[str, Any]:
    return {"text": text, **{k: v for k, v in numbers.items() if v is not None}}


def _attribution(ctx, masks: list[np.ndarray], budget_s: float) -> dict:
    """SHAP by slice for a tree model (cached per set of masks), or the reason it did not run."""
    m = ctx.case.model
    if m is None or m.kind != "estimator":
        return {"ok": False, "reason": "no fitted model object to explain (precomputed predictions)"}
    pos_index = None
    if ctx.task == "binary":
        cls = m.classes or ctx.case.classes or []
        ck = list(keys(cls)) if cls else []
        pk = keys([ctx.case.positive])[0]
        pos_index = ck.index(pk) if pk in ck else 1
    return shap_by_slice(
        m.estimator,
        ctx.frame("test"),
        list(ctx.case.features),
        masks,
        task=ctx.task,
        positive_index=pos_index,
        budget_s=budget_s,
        seed=getattr(ctx.config, "seed", 0),
    )


# --------------------------------------------------------------------------- underperforming slices


@check(
    "errors.underperforming_slice",
    tasks=("binary", "multiclass", "regression"),
    requires=("model",),
    min_support=0.01,
    max_order=3,
    top_k=5,
    alpha=0.05,
    min_lift=2.0,
    min_warning_rows=30,
    min_warning_errors=10,
    min_skill_overall=0.2,
    min_auc_overall=0.7,
    max_brier_skill_in_slice=-1.0,
    max_skill_in_slice=-0.75,
    max_skill_share=0.35,
    shap_budget_s=1.2,
)
def underperforming_slice(ctx, p):
    """A subgroup of evaluation rows whose error is far worse than the rest's.

    What it detects
        Slices (conjunctions of up to three predicates over categorical values and binned numeric
        ranges, over every column of the evaluation set, including columns the model does not
        take) whose error (misclassification at the threshold in use; absolute error for
        regression, relative to the typical error at that prediction level) is at least
        `min_lift` times the overall error, with at least `min_warning_rows` rows (and
        `min_warning_errors` errors), where the model has lost its skill over the best
        constant inside the slice: for classification it errs clearly more often than always
        predicting the slice's majority class would (skill 1 - error / majority error at most
        `max_skill_in_slice`), for regression its skill falls below `max_skill_share` of its overall
        skill. Regions that are merely hard (labels near 50/50, where the model still beats a
        constant) are reported as info. The model must work on aggregate (overall skill at least
        `min_skill_overall`, or for binary models, whose accuracy on imbalanced classes barely
        beats the majority even when they rank well, a ROC AUC of at least `min_auc_overall` with
        decisions that are not collapsed onto one class; such a slice must also show probabilities
        far off inside it, Brier skill over the slice's own rate at most
        `max_brier_skill_in_slice`, so that a region merely on the wrong side of the threshold in
        use, with probabilities that rank it right, stays info); otherwise lower rungs explain the
        errors.
        Discovery and confirmation use disjoint halves of the rows, with Holm's correction over
        every slice tested. Each slice carries its root-cause category, the expected gain (errors
        removed if it were brought to the rest's level; cost saved with a cost matrix, and the
        expected cost per row at the decision in use and at the cost-optimal one), the features
        that differ most (standardised differences) and, for tree models and warning slices, the
        features whose SHAP attribution shifts most inside the slice (optional `shap` extra).
        An info finding lists what separates errors from correct rows per true class (false
        negatives vs true positives, false positives vs true negatives): standardised difference
        and KS per feature, Holm-adjusted.
    Why it matters
        An aggregate metric averages a small, badly served group away: the model can look healthy
        while failing a costly subgroup systematically.
    How to confirm
        Compute the metric on the slice's rows and on the rest; look at the features that differ
        most between them (listed in the evidence), at the slice's share of the training rows,
        and at a sample of its rows.
    Fix
        Depends on the root cause named in the finding: collect or up-weight training data for the
        slice, add the missing feature or interaction, relabel, or give the slice its own
        threshold or model.
    """
    e = errors_of(ctx)
    slices = _slice_search(ctx, p)
    out = []
    contrast = _contrast_finding(ctx)
    df = ctx.frame("test")
    kind = e["kind"]
    raw, y = e["raw"], np.asarray(e["y"])
    fin = np.isfinite(raw)
    overall = float(np.nanmean(raw)) if fin.any() else float("nan")
    base_all = _baseline_error(y[fin], kind)
    skill_all = _skill(overall, base_all)
    works = bool(np.isfinite(skill_all) and skill_all >= p.min_skill_overall)
    auc_all = _binary_auc(ctx, y) if kind == "error rate" and not works else None
    brier_route = False
    pos_y = prob = None
    if auc_all is not None and auc_all >= p.min_auc_overall:
        pos_y = _same(np.asarray(y), np.asarray([ctx.case.positive] * len(y), dtype=object)).astype(float)
        pos_pred = _same(np.asarray(e["pred"].label), np.asarray([ctx.case.positive] * len(y), dtype=object))
        prob = np.asarray(ctx.predictions("test").score, dtype=float)
        prev, rate = float(pos_y[fin].mean()), float(pos_pred[fin].mean())
        # decisions not collapsed onto one class, and the score is a probability
        if 0.2 * prev <= rate <= 1 - 0.2 * (1 - prev) and np.nanmin(prob) >= 0 and np.nanmax(prob) <= 1:
            works = brier_route = True
    train = ctx.frame("train")
    cols_all = search_columns(ctx)
    total_err = float(raw[fin].sum())
    n_fin = int(fin.sum())
    rows = []
    for s in slices:
        m = s.mask & fin
        err_in, err_out = float(raw[m].mean()), float(raw[~s.mask & fin].mean())
        base_in = _baseline_error(y[m], kind)
        skill_in = _skill(err_in, base_in)
        skill_share = (
            (skill_in / skill_all) if skill_all and np.isfinite(skill_all) and skill_all > 0 else np.nan
        )
        try:
            train_share = (
                float(slice_mask(train, s.predicates).mean())
                if all(q["column"] in train.columns for q in s.predicates)
                else None
            )
        except (KeyError, TypeError, ValueError):
            train_share = None
        brier_in = None
        if kind == "error rate":
            lost = np.isfinite(skill_in) and skill_in <= p.max_skill_in_slice
            if brier_route:
                r = float(pos_y[m].mean())
                b0 = r * (1 - r)
                brier_in = 1.0 - float(np.mean((pos_y[m] - prob[m]) ** 2)) / b0 if b0 > 0 else -np.inf
                lost = lost and brier_in <= p.max_brier_skill_in_slice
        else:
            lost = np.isfinite(skill_share) and skill_share <= p.max_skill_share
        # a warning needs enough rows to act on and to trust: a 10-row slice confirmed on 5 rows
        # is an anecdote, reported as info
        n_err_in = float(raw[m].sum()) if kind == "error rate" else float("nan")
        big = int(m.sum()) >= p.min_warning_rows and (
            kind != "error rate" or n_err_in >= p.min_warning_errors
        )
        strong = bool(works and lost and big and s.lift >= p.min_lift)
        rows.append((s, m, err_in, err_out, skill_in, skill_share, train_share, strong, brier_in))

    # attribution: SHAP for tree models on the warning slices (it costs time: not on info ones)
    strong_masks = [r[0].mask for r in rows if r[7]]
    shap_res = _attribution(ctx, strong_masks, p.shap_budget_s) if strong_masks else None
    costs = _costs(ctx, [r[0].mask for r in rows]) if rows else None
    k_strong = 0
    for i, (s, m, err_in, err_out, skill_in, skill_share, train_share, strong, brier_in) in enumerate(rows):
        lift = err_in / overall if overall > 0 else np.inf
        diffs = standardized_differences(
            df,
            s.mask,
            [col for col in cols_all if col not in s.columns],
            categorical=_categorical(ctx),
            top=5,
        )
        cat, cause, fix = _root_cause(ctx, s, skill_share if np.isfinite(skill_share) else 1.0, train_share)
        # expected gain: the slice brought to the rest's error level
        removed = max(0.0, (err_in - err_out) * int(m.sum()))
        share_removed = removed / total_err if total_err > 0 else 0.0
        if kind == "error rate":
            title = (
                f"Error rate {err_in:.0%} in {s.describe()} ({s.support:.1%} of rows) vs "
                f"{err_out:.0%} elsewhere"
            )
            gain_text = (
                f"bringing the slice to the rest's error rate removes about {removed:.0f} errors "
                f"({share_removed:.0%} of all errors; accuracy +{removed / max(n_fin, 1):.1%})"
            )
        else:
            title = (
                f"Mean absolute error {err_in:.4g} in {s.describe()} ({s.support:.1%} of rows) vs "
                f"{err_out:.4g} elsewhere"
            )
            gain_text = (
                f"bringing the slice to the rest's error removes {share_removed:.0%} of the total "
                f"absolute error (MAE {overall:.4g} -> {overall - removed / max(n_fin, 1):.4g})"
            )
        ev = {
            "slice_size": s.size,
            "slice_share": s.support,
            "slice_error": err_in,
            "rest_error": err_out,
            "lift": lift,
            "p_value": s.p_value,
            "root_cause_category": cat,
            "slice_share_of_train": train_share,
            "overall_error": overall,
            "error_kind": kind,
            "share_of_errors": float(raw[m].sum() / total_err) if total_err > 0 else None,
            "ci": list(s.ci) if kind == "error rate" else None,
            "search_error_ci": list(s.ci),
            "skill_in_slice": skill_in,
            "skill_overall": skill_all,
            "skill_share": skill_share,
            "auc_overall": auc_all,
            "brier_skill_in_slice": brier_in,
        }
        gain = _gain(
            gain_text,
            errors_removed=round(removed, 1) if kind == "error rate" else None,
            absolute_error_removed=round(removed, 4) if kind != "error rate" else None,
            share_of_errors_removed=round(share_removed, 4),
        )
        impact = share_removed
        if costs and costs.get("slices"):
            sc = costs["slices"][i]
            saved = max(0.0, (sc["cost_per_row_in_use"] - sc["cost_per_row_rest"]) * sc["rows"])
            total_cost = costs["cost_per_row_in_use"] * costs["rows"]
            gain["cost_saved"] = round(saved, 3)
            gain["share_of_cost_saved"] = round(saved / total_cost, 4) if total_cost > 0 else 0.0
            gain["text"] += f"; at the rest's cost per row it saves {saved:.4g} cost units"
            differs = (
                "slice_optimal_threshold" in sc
                and abs(sc["slice_optimal_threshold"] - costs.get("cost_optimal_threshold", 0.0)) > 0.05
            ) or abs(
                sc.get("cost_per_row_at_global_optimum", sc["cost_per_row_in_use"])
                - sc["cost_per_row_in_use"]
            ) > 1e-9
            if differs:
                ev["expected_cost"] = [
                    {
                        "decision": "in use",
                        "slice": sc["cost_per_row_in_use"],
                        "rest": sc["cost_per_row_rest"],
                        "overall": costs["cost_per_row_in_use"],
                    },
                    {
                        "decision": "cost-optimal (overall)",
                        "slice": sc.get("cost_per_row_at_global_optimum"),
                        "overall": costs.get("cost_per_row_at_optimum"),
                    },
                ]
                if "slice_optimal_threshold" in sc:
                    ev["expected_cost"].append(
                        {
                            "decision": f"slice's own threshold {sc['slice_optimal_threshold']:.3g}",
                            "slice": sc["cost_per_row_at_slice_optimum"],
                        }
                    )
            if total_cost > 0:
                impact = max(impact, saved / total_cost)
        ev["expected_gain"] = gain
        ev["distinguishing_features"] = diffs
        if strong and shap_res is not None:
            if shap_res.get("ok"):
                t = shap_res["slices"][k_strong]
                if "rows" in t:
                    ev["attribution_method"] = (
                        f"SHAP {shap_res['method']}, {shap_res['rows']} rows, {shap_res['output']}"
                    )
                    ev["attribution"] = t["rows"]
                    top = t["rows"][0]
                    ev["top_attribution_shift"] = top["feature"]
                else:
                    ev["attribution_method"] = f"standardised differences ({t['reason']})"
            else:
                ev["attribution_method"] = f"standardised differences ({shap_res['reason']})"
            k_strong += 1
        else:
            ev["attribution_method"] = "standardised differences (SHAP is computed for warning slices only)"
        ev["confirmation"] = {
            "rows": s.confirm_size,
            "slice_error": s.confirm_error,
            "rest_error": s.confirm_rest_error,
        }
        ev = _why_table_first(ev)
        out.append(
            Finding(
                "errors.underperforming_slice",
                WARNING if strong else INFO,
                title,
                columns=s.columns,
                slice=s.predicates,
                evidence=ev,
                root_cause=f"[{cat}] {cause}",
                fix=fix,
                impact=float(min(1.0, max(0.0, impact))),
            )
        )
    if contrast is not None:
        out.append(contrast)
    return out or None


def _why_table_first(ev: dict) -> dict:
    """Put one compact table first (the terminal shows the first table): what sets the slice apart,
    SHAP shifts when computed, then the features that differ most."""
    rows = []
    for r in ev.get("attribution", [])[:4]:
        sl, rest = (
            (r.get("mean_shap_slice"), r.get("mean_shap_rest"))
            if "mean_shap_slice" in r
            else (r["mean_abs_shap_slice"], r["mean_abs_shap_rest"])
        )
        rows.append(
            {
                "feature": r["feature"],
                "measure": "mean SHAP" if "mean_shap_slice" in r else "mean |SHAP|",
                "slice": sl,
                "rest": rest,
                "shift": sl - rest,
            }
        )
    for r in ev.get("distinguishing_features", [])[: 4 if not rows else 2]:
        if r["kind"] == "categorical":
            rows.append(
                {
                    "feature": f"{r['column']} == {r['value']!s}",
                    "measure": "share (std diff)",
                    "slice": r["share_in_slice"],
                    "rest": r["share_in_rest"],
                    "shift": r["std_diff"],
                }
            )
        else:
            rows.append(
                {
                    "feature": r["column"],
                    "measure": "mean (std diff)",
                    "slice": r["mean_in_slice"],
                    "rest": r["mean_in_rest"],
                    "shift": r["std_diff"],
                }
            )
    if not rows:
        return ev
    return {
        **{k: v for k, v in ev.items() if not isinstance(v, (list, dict))},
        "what_sets_it_apart": rows,
        **{k: v for k, v in ev.items() if isinstance(v, (list, dict))},
    }


def _contrast_finding(ctx) -> Finding | None:
    """Info: the features that separate errors from correct rows, per true class."""
    res = _contrast(ctx)
    if not res or not res["table"]:
        return None
    summary = contrast_summary(res)
    top = [f for g in res["groups"] for f in g.get("top", [])]
    absent = [f for f in dict.fromkeys(top) if ctx.case.features and f not in ctx.case.features]
    cat = "features" if absent else "model capacity"
    n_err = sum(g["n_errors"] for g in res["groups"])
    n_sig = sum(1 for r in res["table"] if r["p_adj"] < 0.05)
    ev = {
        "separating_features": summary or "no feature separates errors from correct rows",
        "errors": n_err,
        "rows_compared": res["rows"],
        "tests": res["tests"],
        "significant_in_table": n_sig,
        "alpha": 0.05,
        "correction": "Holm over every (class, feature) test",
        "root_cause_category": cat,
        "expected_gain": _gain(
            "not estimated: this is where errors differ, not a fix"
            + (f"; {', '.join(absent)} separate errors but are not model features" if absent else "")
        ),
        "show_in_terminal": bool(summary),
        "errors_vs_correct": res["table"],
        "groups": res["groups"],
    }
    return Finding(
        "errors.underperforming_slice",
        INFO,
        f"What separates errors from correct rows ({n_err} errors): "
        + (summary.split(";")[0] if summary else "nothing significant"),
        columns=list(dict.fromkeys(top))[:6],
        evidence=ev,
        root_cause=f"[{cat}] the errors of each class concentrate where these features differ",
        fix="look at the listed features first: a feature that separates errors but is not a "
        "model input is a candidate feature; one that is an input points to an interaction "
        "the model misses",
        impact=0.0,
    )


# --------------------------------------------------------------------------- confusion


def _per_class_table(y, label, classes) -> list[dict]:
    rows = []
    for k in classes:
        tp = int(np.sum(_same(label, k) & _same(y, k)))
        pp = int(np.sum(_same(label, k)))
        ap = int(np.sum(_same(y, k)))
        prec = tp / pp if pp else float("nan")
        rec = tp / ap if ap else float("nan")
        f1 = 2 * prec * rec / (prec + rec) if pp and ap and (prec + rec) > 0 else float("nan")
        rows.append(
            {
                "class": k,
                "support": ap,
                "predicted": pp,
                "precision": prec,
                "precision_ci": list(wilson(tp, pp)),
                "recall": rec,
                "recall_ci": list(wilson(tp, ap)),
                "f1": f1,
            }
        )
    return rows


@check(
    "errors.confused_classes",
    tasks=("binary", "multiclass"),
    requires=("model",),
    min_pair_share=0.5,
    min_pair_errors=20,
    min_pair_rate=0.05,
    max_other_share=0.25,
)
def confused_classes(ctx, p):
    """A pair of classes that the model confuses far more than any other pair.

    What it detects
        In the confusion matrix of the evaluation set, a pair of classes whose mutual confusions
        hold at least `min_pair_share` of all errors, at least `min_pair_errors` rows and a
        confusion rate of at least `min_pair_rate` of the pair's rows, far more than the next
        pair. Per-class precision, recall and F1 with intervals, the normalised confusion matrix
        and (binary, with --cost) the expected cost at the threshold in use and at the
        cost-optimal one are reported as info.
    Why it matters
        Errors that concentrate in one pair usually have one cause: the features cannot tell the
        two classes apart (a missing feature), the classes overlap by definition, or their labels
        are inconsistent.
    How to confirm
        Read the normalised confusion matrix and a sample of the confused rows; train a
        two-class model on the pair alone and see how well anything separates them.
    Fix
        Add the feature that separates the pair, merge the classes if the distinction does not
        matter, or relabel them consistently; a cost matrix can set which way to err.
    """
    pred = ctx.predictions("test")
    y = np.asarray(ctx.y("test"), dtype=object)
    label = np.asarray(pred.label, dtype=object)
    ok = np.array([not pd.isna(v) for v in y], dtype=bool)
    y, label = y[ok], label[ok]
    classes = list(ctx.case.classes or pd.unique(pd.Series(y)).tolist())
    table = _per_class_table(y, label, classes)
    k = len(classes)
    cm = np.zeros((k, k), dtype=np.int64)
    yi = {str(c): i for i, c in enumerate(classes)}
    ti = np.array([yi.get(str(v), -1) for v in y])
    pi = np.array([yi.get(str(v), -1) for v in label])
    good = (ti >= 0) & (pi >= 0)
    np.add.at(cm, (ti[good], pi[good]), 1)
    n_err = int(cm.sum() - np.trace(cm))
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = cm / cm.sum(axis=1, keepdims=True)
    pairs = []
    for a in range(k):
        for b in range(a + 1, k):
            cnt = int(cm[a, b] + cm[b, a])
            rows = int(cm[a].sum() + cm[b].sum())
            pairs.append(
                {
                    "classes": [classes[a], classes[b]],
                    "errors": cnt,
                    "share_of_errors": cnt / n_err if n_err else 0.0,
                    "rate": cnt / rows if rows else 0.0,
                    f"{classes[a]}->{classes[b]}": int(cm[a, b]),
                    f"{classes[b]}->{classes[a]}": int(cm[b, a]),
                }
            )
    pairs.sort(key=lambda r: -r["errors"])
    evidence = {
        "per_class": table,
        "labels": classes,
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_normalised": np.nan_to_num(norm).round(4).tolist(),
        "errors": n_err,
        "pairs": pairs[:5],
    }
    cost = _costs(ctx)
    if cost:
        evidence["cost"] = cost
    out = []
    if ctx.task == "multiclass" and pairs and n_err:
        top = pairs[0]
        nxt = pairs[1]["share_of_errors"] if len(pairs) > 1 else 0.0
        if (
            top["share_of_errors"] >= p.min_pair_share
            and top["errors"] >= p.min_pair_errors
            and top["rate"] >= p.min_pair_rate
            and nxt <= p.max_other_share
        ):
            a, b = top["classes"]
            ia, ib = classes.index(a), classes.index(b)
            idx = np.flatnonzero(((ti == ia) & (pi == ib)) | ((ti == ib) & (pi == ia)))[:5]
            ex = ctx.frame("test")[ok].iloc[idx]
            evidence_pair = dict(evidence, pair=top, examples=ex.head(5).to_dict(orient="records"))
            # expected gain: the pair confused at the rate of the other classes' rows
            pair_rows = int(cm[ia].sum() + cm[ib].sum())
            other_rows = int(cm.sum()) - pair_rows
            other_rate = (n_err - top["errors"]) / other_rows if other_rows > 0 else 0.0
            removed = max(0.0, top["errors"] - other_rate * pair_rows)
            evidence_pair["root_cause_category"] = "features"
            evidence_pair["expected_gain"] = _gain(
                f"confusing {a!s} and {b!s} only as often as the other classes err "
                f"({other_rate:.1%}) removes about {removed:.0f} errors ({removed / n_err:.0%} of all errors)",
                errors_removed=round(removed, 1),
                share_of_errors_removed=round(removed / n_err, 4),
            )
            if cost and "cost_matrix" in cost:
                cab = cost["cost_matrix"][str(a)][str(b)] if str(a) in cost["cost_matrix"] else None
                cba = cost["cost_matrix"][str(b)][str(a)] if str(b) in cost["cost_matrix"] else None
                evidence_pair["cost_of_pair_errors"] = {f"{a}->{b}": cab, f"{b}->{a}": cba}
            out.append(
                Finding(
                    "errors.confused_classes",
                    WARNING,
                    f"{top['share_of_errors']:.0%} of errors are confusions between {a!s} and {b!s} "
                    f"({top['errors']} rows, {top['rate']:.0%} of the pair's rows)",
                    classes=[a, b],
                    evidence=evidence_pair,
                    impact=float(min(1.0, removed / n_err)),
                    root_cause=f"[features] the features do not separate {a!s} from {b!s} (or their labels "
                    "are inconsistent)",
                    fix=f"add a feature that tells {a!s} from {b!s}, merge them if the distinction does not "
                    "matter, or audit their labels; weigh the two directions of error with a cost matrix",
                )
            )
    worst = min((r for r in table if np.isfinite(r["f1"])), key=lambda r: r["f1"], default=None)
    title = "Per-class precision, recall and F1"
    if worst is not None:
        title += f" (lowest F1 {worst['f1']:.2f} for class {worst['class']!s})"
    impact = 0.0
    if cost and "cost_per_row_at_optimum" in cost:
        where = (
            f"threshold {cost['threshold_in_use']:.2f}"
            if "threshold_in_use" in cost
            else "the predicted class"
        )
        best = (
            f"threshold {cost['cost_optimal_threshold']:.3g}"
            if "cost_optimal_threshold" in cost
            else "the Bayes decision"
        )
        title += (
            f"; expected cost {cost['cost_per_row_in_use']:.3g}/row at {where}, "
            f"{cost['cost_per_row_at_optimum']:.3g} at {best}"
        )
        saved = cost.get("saving_share", 0.0) or 0.0
        impact = float(min(1.0, max(0.0, saved)))
        evidence["root_cause_category"] = "threshold" if saved > 0.01 else "model capacity"
        evidence["expected_gain"] = _gain(
            f"deciding at {best} instead of {where} saves {cost['saving_per_row']:.3g} cost units per row "
            f"({saved:.0%} of the cost"
            + (
                f"; {cost['cost_per_row_at_optimum_crossfit']:.3g}/row when the "
                "threshold is chosen on held-out halves"
                if "cost_per_row_at_optimum_crossfit" in cost
                else ""
            )
            + ")",
            cost_saved_per_row=cost["saving_per_row"],
            share_of_cost_saved=round(saved, 4),
        )
        evidence["expected_cost_in_use"] = cost["cost_per_row_in_use"]
        evidence["expected_cost_at_optimum"] = cost["cost_per_row_at_optimum"]
        if "cost_optimal_threshold" in cost:
            evidence["cost_optimal_threshold"] = cost["cost_optimal_threshold"]
    else:
        evidence["root_cause_category"] = "model capacity"
        evidence["expected_gain"] = _gain(
            "not estimated: errors spread over the classes as listed; "
            "give --cost or --cost-matrix to price them"
        )
    out.append(
        Finding(
            "errors.confused_classes", INFO, title, evidence=evidence, root_cause="", fix="", impact=impact
        )
    )
    return out


# --------------------------------------------------------------------------- confident errors


@check(
    "errors.high_confidence_errors",
    tasks=("binary", "multiclass"),
    requires=("model", "proba"),
    confidence=0.9,
    min_errors=30,
    min_lift=3.0,
    min_rate=0.2,
    alpha=0.05,
    min_support=0.01,
    min_skill_overall=0.2,
    low_confidence=0.6,
    knn_k=15,
    knn_train_rows=5000,
    knn_max_rows=400,
    max_neighbour_share=0.2,
)
def high_confidence_errors(ctx, p):
    """A cluster of mistakes that the model makes with high confidence.

    What it detects
        Misclassified evaluation rows whose predicted class had probability >= `confidence`,
        when they concentrate in a slice (found and confirmed like underperforming slices) where
        their rate is at least `min_rate` and `min_lift` times their overall rate, in a model that
        works on aggregate (skill over the majority class at least `min_skill_overall`). Scattered
        confident mistakes (every model makes a few) are reported as info only. Low-confidence
        mistakes (more data helps) and likely label errors are kept apart in the evidence: the
        error kinds table splits mistakes into confident ones inside an error slice (systematic),
        confident scattered ones whose nearest training rows carry the predicted class (likely
        label errors: relabel), other confident ones, medium- and low-confidence ones.
    Why it matters
        Confident mistakes are systematic: the model has learned a rule that is wrong for these
        rows, so thresholds and more of the same data do not fix them; they also mislead anyone
        trusting the probabilities.
    How to confirm
        Read a sample of the slice's confident mistakes; check whether their labels are right and
        whether the slice follows another rule than the rest.
    Fix
        Relabel if the labels are wrong; otherwise add the feature that tells the slice apart or
        train on more of its rows, and recalibrate.
    """
    pred = ctx.predictions("test")
    if not pred.has_proba or pred.proba is None:
        raise NotApplicable("the model gives no probabilities")
    y = np.asarray(ctx.y("test"), dtype=object)
    label = np.asarray(pred.label, dtype=object)
    valid = ~pd.isna(pd.Series(y)).to_numpy()
    wrong = (keys(label) != keys(y)) & valid
    if ctx.task == "binary":
        s = np.asarray(pred.score, dtype=float)
        conf = np.where(s >= ctx.threshold, s, 1 - s)
    else:
        conf = np.asarray(pred.proba, dtype=float).max(axis=1)
    confident = wrong & (conf >= p.confidence)
    ce = confident.astype(float)
    n_ce = int(ce.sum())
    n_err = int(wrong.sum())
    low = wrong & (conf < p.low_confidence)
    ev: dict[str, Any] = {
        "confident_errors": n_ce,
        "errors": n_err,
        "confidence": p.confidence,
        "share_of_rows": n_ce / max(len(ce), 1),
        "low_confidence_errors": int(low.sum()),
    }
    base = _baseline_error(y[valid], "error rate")
    skill_all = _skill(float(wrong[valid].mean()) if valid.any() else float("nan"), base)
    ev["skill_overall"] = skill_all
    works = np.isfinite(skill_all) and skill_all >= p.min_skill_overall
    df = ctx.frame("test")
    hit = None
    if n_ce >= p.min_errors:
        slices = find_slices(
            df,
            ce,
            search_columns(ctx),
            categorical=_categorical(ctx),
            max_order=2,
            min_support=p.min_support,
            top_k=3,
            alpha=p.alpha,
        )
        rate_all = n_ce / len(ce)
        for sl in slices:
            if (
                works
                and sl.error >= p.min_rate
                and sl.error >= p.min_lift * rate_all
                and int(ce[sl.mask].sum()) >= p.min_errors
            ):
                hit = sl
                break
    # keep the kinds of mistakes apart: systematic (inside a confirmed error slice), likely label
    # errors (confident, scattered, and their training neighbours carry the predicted class, not the
    # given one), other confident ones, and low-confidence ones near the boundary
    systematic = np.zeros(len(y), dtype=bool)
    if hit is not None:
        systematic |= hit.mask
    try:
        for sl in _slice_search(ctx, underperforming_slice.check.resolve({})):
            systematic |= sl.mask
    except NotApplicable:
        pass
    sys_conf = confident & systematic
    scattered = confident & ~systematic
    label_err, knn_note = _likely_label_errors(ctx, scattered, label, y, p)
    other_conf = scattered & ~label_err
    mid = wrong & ~confident & ~low
    kinds = [
        {
            "kind": "confident, inside an error slice (systematic)",
            "rows": int(sys_conf.sum()),
            "action": "a rule the model missed: feature, data or own model for the slice",
        },
        {
            "kind": "confident, scattered, likely label errors (or irreducible noise)",
            "rows": int(label_err.sum()),
            "action": "relabel a sample: their nearest training rows carry the predicted class",
        },
        {
            "kind": "confident, scattered, other",
            "rows": int(other_conf.sum()),
            "action": "read a sample: rare cases or a missing feature",
        },
        {
            "kind": f"medium confidence ({p.low_confidence:g} <= p < {p.confidence:g})",
            "rows": int(mid.sum()),
            "action": "boundary cases: better features or calibration",
        },
        {
            "kind": f"low confidence (p < {p.low_confidence:g})",
            "rows": int(low.sum()),
            "action": "near the decision boundary: more data or features help; a threshold moves them",
        },
    ]
    for k in kinds:
        k["share_of_errors"] = k["rows"] / n_err if n_err else 0.0
    ev["likely_label_errors"] = int(label_err.sum())
    ev["error_kinds"] = kinds
    if label_err.any():
        ev["label_error_examples"] = (
            df[label_err]
            .head(5)
            .assign(
                **{
                    "given_label": y[label_err][:5],
                    "predicted": label[label_err][:5],
                    "confidence": conf[label_err][:5],
                }
            )
            .to_dict(orient="records")
        )
    contrast = _contrast(ctx)
    if contrast and contrast["table"]:
        ev["errors_vs_correct"] = contrast["table"]
    ev["label_error_method"] = knn_note
    if hit is not None:
        sl = hit
        n_in = int(sl.mask.sum())
        removed = max(0.0, (sl.error - sl.rest_error) * n_in)
        lab_share = float(label_err[sl.mask].sum() / max(ce[sl.mask].sum(), 1))
        cat = (
            "features"
            if any(c not in set(ctx.case.features or []) for c in sl.columns)
            else (
                "data"
                if _train_share(ctx, sl) is not None and _train_share(ctx, sl) < 0.4 * sl.support
                else "labels"
            )
        )
        ev.update(
            {
                "slice_size": sl.size,
                "slice_share": sl.support,
                "confident_error_rate_in_slice": sl.error,
                "rest_rate": sl.rest_error,
                "share_of_confident_errors": sl.share_of_errors,
                "p_value": sl.p_value,
                "slice_share_of_train": _train_share(ctx, sl),
                "root_cause_category": cat,
                "expected_gain": _gain(
                    f"bringing the slice to the rest's rate of confident mistakes removes about {removed:.0f} "
                    f"confident errors ({removed / max(n_err, 1):.0%} of all errors)",
                    errors_removed=round(removed, 1),
                    share_of_errors_removed=round(removed / max(n_err, 1), 4),
                    likely_label_errors_in_slice=round(lab_share, 3),
                ),
            }
        )
        ev = _front(
            ev,
            [
                "slice_size",
                "confident_error_rate_in_slice",
                "rest_rate",
                "p_value",
                "root_cause_category",
                "confident_errors",
                "errors",
                "likely_label_errors",
            ],
        )
        return Finding(
            "errors.high_confidence_errors",
            WARNING,
            f"{sl.error:.0%} of rows with {sl.describe()} are confident mistakes (p >= {p.confidence}) "
            f"vs {sl.rest_error:.1%} elsewhere",
            columns=sl.columns,
            slice=sl.predicates,
            evidence=ev,
            impact=float(min(1.0, removed / max(n_err, 1))),
            root_cause=f"[{cat}] the model learned a rule that is wrong for this slice: its labels follow "
            "another rule, are wrong, or depend on a feature the model lacks",
            fix=f"audit the labels of rows with {sl.describe()}; if they are right, add the feature "
            "that sets them apart or more training rows of the slice, then recalibrate",
        )
    n_lab = int(label_err.sum())
    cat = (
        "labels"
        if n_lab >= max(10, 0.3 * max(n_ce, 1))
        else ("threshold" if low.sum() >= 0.5 * max(n_err, 1) else "model capacity")
    )
    ev["root_cause_category"] = cat
    ev["expected_gain"] = _gain(
        (
            f"relabelling the {n_lab} likely label errors would remove them from the error count "
            f"({n_lab / max(n_err, 1):.0%} of errors) and from training signal"
            if n_lab
            else "not estimated: no cluster of confident mistakes"
        ),
        errors_removed=n_lab or None,
        share_of_errors_removed=round(n_lab / max(n_err, 1), 4) if n_lab else None,
    )
    ev["show_in_terminal"] = cat == "labels"
    ev = _front(
        ev,
        ["confident_errors", "errors", "likely_label_errors", "low_confidence_errors", "root_cause_category"],
    )
    if n_ce < p.min_errors:
        title = f"{n_ce} confident mistakes ({n_ce / max(len(ce), 1):.1%} of rows), too few to cluster"
    else:
        title = f"{n_ce} confident mistakes ({n_ce / max(len(ce), 1):.1%} of rows), scattered: no slice holds them"
    title += (
        f"; {n_lab} look like label errors (or irreducible noise), {int(low.sum())} errors are low-confidence"
    )
    return Finding(
        "errors.high_confidence_errors",
        INFO,
        title,
        evidence=ev,
        impact=float(min(1.0, n_lab / max(n_err, 1))),
        root_cause=f"[{cat}] confident mistakes are scattered; those whose nearest training rows "
        "carry the predicted class are likely mislabelled",
        fix="relabel the likely label errors listed; low-confidence errors call for more data "
        "or features near the boundary",
    )


def _front(ev: dict, first: list[str]) -> dict:
    """The same evidence with `first` keys leading (the terminal prints the first scalars)."""
    return {**{k: ev[k] for k in first if k in ev}, **{k: v for k, v in ev.items() if k not in first}}


def _train_share(ctx, sl: Slice) -> float | None:
    train = ctx.frame("train")
    try:
        if all(q["column"] in train.columns for q in sl.predicates):
            return float(slice_mask(train, sl.predicates).mean())
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _likely_label_errors(
    ctx, rows: np.ndarray, label: np.ndarray, y: np.ndarray, p
) -> tuple[np.ndarray, str]:
    """Confident mistakes whose k nearest training rows mostly carry the predicted class (and
    rarely the given one): the row looks like its neighbours, its label does not."""
    out = np.zeros(len(y), dtype=bool)
    idx = np.flatnonzero(rows)
    if idx.size == 0:
        return out, "no scattered confident mistakes to check"
    try:
        Xtr_all = ctx.encoded("train")
        Xte = ctx.encoded("test")
    except Exception as exc:
        return out, f"not checked: cannot encode the features ({type(exc).__name__})"
    c = ctx.case
    cat_idx = [i for i, f in enumerate(c.features) if f in set(c.categorical or [])]
    num_idx = [i for i in range(Xte.shape[1]) if i not in set(cat_idx)]
    tr = ctx.sample_index("train", p.knn_train_rows, seed=getattr(ctx.config, "seed", 0))
    rng = np.random.default_rng(0)
    if idx.size > p.knn_max_rows:
        idx = np.sort(rng.choice(idx, p.knn_max_rows, replace=False))
    # reference: correctly classified rows of each class, to learn how often a row's neighbours
    # carry its own label when that label is right (rare classes have few such neighbours)
    yk_all, lk_all = keys(y), keys(label)
    right = np.flatnonzero((yk_all == lk_all) & ~pd.isna(pd.Series(y)).to_numpy())
    ref = []
    for cl in np.unique(yk_all[idx]):
        pool = right[yk_all[right] == cl]
        ref.append(rng.choice(pool, min(pool.size, 100), replace=False) if pool.size else pool)
    ref = np.concatenate(ref) if ref else np.zeros(0, dtype=int)
    allq = np.concatenate([idx, ref]).astype(int)
    Xtr = np.asarray(Xtr_all[tr], dtype=np.float64)
    Xq = np.asarray(Xte[allq], dtype=np.float64)
    ytr = keys(ctx.y("train")[tr])
    mu = np.nanmean(Xtr[:, num_idx], axis=0) if num_idx else np.zeros(0)
    sd = np.nanstd(Xtr[:, num_idx], axis=0) if num_idx else np.zeros(0)
    sd = np.where(sd > 0, sd, 1.0)
    A = np.nan_to_num((Xq[:, num_idx] - mu) / sd)
    B = np.nan_to_num((Xtr[:, num_idx] - mu) / sd)
    D = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2.0 * A @ B.T
    for j in cat_idx:  # a categorical mismatch counts like one standard deviation squared
        D += Xq[:, j][:, None] != Xtr[:, j][None, :]
    k = min(p.knn_k, len(tr) - 1)
    nn = np.argpartition(D, k, axis=1)[:, :k]
    nl = ytr[nn]
    share_given_all = (nl == yk_all[allq][:, None]).mean(axis=1)
    share_given = share_given_all[: idx.size]
    share_pred = (nl[: idx.size] == lk_all[idx][:, None]).mean(axis=1)
    ref_share = pd.Series(share_given_all[idx.size :]).groupby(yk_all[ref]).mean()
    typical = pd.Series(yk_all[idx]).map(ref_share).fillna(1.0).to_numpy()
    # the given label is rare around the row (at most max_neighbour_share of its neighbours, and at
    # most a quarter of what correctly classified rows of that class see), the predicted one common
    flag = (
        (share_given <= p.max_neighbour_share)
        & (share_given <= 0.25 * typical)
        & (share_pred >= 1.0 - 2 * p.max_neighbour_share)
    )
    out[idx[flag]] = True
    return out, (
        f"{k} nearest training rows (of {len(tr):,} sampled; standardised numeric features, "
        f"categorical mismatches): a confident mistake is a likely label error when at most "
        f"{p.max_neighbour_share:.0%} of its neighbours carry its given label, at most a quarter of "
        "the share that correctly classified rows of that class see, and most carry the predicted "
        "class; irreducible noise looks the same, so relabel a sample to tell"
        + (
            f"; {rows.sum() - idx.size} rows not checked (sampled {idx.size})"
            if rows.sum() > idx.size
            else ""
        )
    )
