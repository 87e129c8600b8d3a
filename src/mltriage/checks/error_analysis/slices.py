"""errors.underperforming_slice: subgroups of evaluation rows whose error is far worse than the
rest's, judged against what the model achieves on aggregate, with their root cause, the expected
gain of a fix (errors or cost removed) and what sets them apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import INFO, WARNING, Finding
from ...registry import Findings, Interval, Param, Params, check
from ...stats.slices import Slice, standardized_differences
from .common import categorical_columns, costs, errors_of, gain_numbers, search_columns, slice_search
from .contrast import WHY_TABLE, attribution, attribution_evidence, contrast_finding, why_table_first
from .slice_judge import Judged, Overall, judge, overall

if TYPE_CHECKING:
    from ...context import Context

SHARE = Interval(float, 0, 1, closed="neither")
SKILL = Interval(float, None, 1)


@check(
    "errors.underperforming_slice",
    tasks=("binary", "multiclass", "regression"),
    requires=("model",),
    min_support=Param(0.01, SHARE, "smallest share of evaluation rows a slice may hold"),
    max_order=Param(3, Interval(int, 1, 3), "most predicates in a slice's description"),
    top_k=Param(5, Interval(int, 1, None), "most slices reported"),
    alpha=Param(0.05, SHARE, "family-wise error rate of the confirmation tests (Holm)"),
    min_lift=Param(2.0, Interval(float, 0, None), "slice error over overall error needed for a warning"),
    min_warning_rows=Param(
        30,
        Interval(int, 1, None),
        "fewest rows of a warning slice (a 10-row slice alarmed on a clean control)",
    ),
    min_warning_errors=Param(10, Interval(int, 1, None), "fewest errors in a warning slice (classification)"),
    min_skill_overall=Param(
        0.2, SKILL, "skill over the best constant the model needs overall for a slice to warn"
    ),
    min_auc_overall=Param(
        0.7,
        Interval(float, 0, 1),
        "ROC AUC that lets an imbalanced binary model whose accuracy barely beats the majority "
        "count as working",
    ),
    max_brier_skill_in_slice=Param(
        -1.0,
        SKILL,
        "Brier skill inside the slice at most this for such a binary model's slice to warn "
        "(probabilities far off, not merely on the wrong side of the threshold)",
    ),
    max_skill_in_slice=Param(
        -0.75, SKILL, "skill over the slice's majority class at most this for a warning (classification)"
    ),
    max_skill_share=Param(
        0.35,
        Interval(float, 0, 1),
        "skill inside the slice at most this share of the overall skill for a warning (regression)",
    ),
    shap_budget_s=Param(1.2, Interval(float, 0, None), "seconds SHAP by slice may take (warning slices)"),
)
def underperforming_slice(ctx: Context, p: Params) -> Findings:
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
    slices = slice_search(ctx, p)
    contrast = contrast_finding(ctx)
    whole = overall(ctx, e, p)
    rows = [judge(ctx, s, whole, p) for s in slices]
    # attribution: SHAP for tree models on the warning slices (it costs time: not on info ones)
    strong_masks = [r.slice.mask for r in rows if r.strong]
    shap_res = attribution(ctx, strong_masks, p.shap_budget_s) if strong_masks else None
    cost = costs(ctx, [r.slice.mask for r in rows]) if rows else None
    out = []
    k_strong = 0
    for i, r in enumerate(rows):
        shap_ev = attribution_evidence(shap_res if r.strong else None, k_strong)
        k_strong += int(r.strong)
        slice_cost = cost["slices"][i] if cost and cost.get("slices") else None
        out.append(_finding(ctx, r, whole, slice_cost, cost, shap_ev))
    if contrast is not None:
        out.append(contrast)
    return out or None


def _root_cause(
    ctx: Context, s: Slice, skill_share: float, share_train: float | None
) -> tuple[str, str, str]:
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
    if share_train is not None and s.support > 0 and share_train < 0.4 * s.support:
        return (
            "data",
            f"the slice is under-represented in training ({share_train:.2%} of training rows vs "
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


def _title_and_gain(r: Judged, whole: Overall, removed: float, share_removed: float) -> tuple[str, str]:
    s = r.slice
    n_fin = int(whole.fin.sum())
    if whole.kind == "error rate":
        title = (
            f"Error rate {r.err_in:.0%} in {s.describe()} ({s.support:.1%} of rows) vs "
            f"{r.err_out:.0%} elsewhere"
        )
        gain = (
            f"bringing the slice to the rest's error rate removes about {removed:.0f} errors "
            f"({share_removed:.0%} of all errors; accuracy +{removed / max(n_fin, 1):.1%})"
        )
        return title, gain
    title = (
        f"Mean absolute error {r.err_in:.4g} in {s.describe()} ({s.support:.1%} of rows) vs "
        f"{r.err_out:.4g} elsewhere"
    )
    gain = (
        f"bringing the slice to the rest's error removes {share_removed:.0%} of the total "
        f"absolute error (MAE {whole.error:.4g} -> {whole.error - removed / max(n_fin, 1):.4g})"
    )
    return title, gain


def _cost_evidence(sc: dict, cost: dict) -> list[dict] | None:
    """The expected cost per row of the slice at the decision in use, at the cost-optimal one and
    at its own best threshold, when a different decision would change it; else None."""
    differs = (
        "slice_optimal_threshold" in sc
        and abs(sc["slice_optimal_threshold"] - cost.get("cost_optimal_threshold", 0.0)) > 0.05
    ) or abs(
        sc.get("cost_per_row_at_global_optimum", sc["cost_per_row_in_use"]) - sc["cost_per_row_in_use"]
    ) > 1e-9
    if not differs:
        return None
    table = [
        {
            "decision": "in use",
            "slice": sc["cost_per_row_in_use"],
            "rest": sc["cost_per_row_rest"],
            "overall": cost["cost_per_row_in_use"],
        },
        {
            "decision": "cost-optimal (overall)",
            "slice": sc.get("cost_per_row_at_global_optimum"),
            "overall": cost.get("cost_per_row_at_optimum"),
        },
    ]
    if "slice_optimal_threshold" in sc:
        table.append(
            {
                "decision": f"slice's own threshold {sc['slice_optimal_threshold']:.3g}",
                "slice": sc["cost_per_row_at_slice_optimum"],
            }
        )
    return table


def _finding(
    ctx: Context,
    r: Judged,
    whole: Overall,
    slice_cost: dict | None,
    cost: dict | None,
    shap_ev: dict[str, Any],
) -> Finding:
    s, kind = r.slice, whole.kind
    diffs = standardized_differences(
        ctx.frame("test"),
        s.mask,
        [col for col in search_columns(ctx) if col not in s.columns],
        categorical=categorical_columns(ctx),
        top=5,
    )
    cat, cause, fix = _root_cause(ctx, s, r.skill_share if np.isfinite(r.skill_share) else 1.0, r.train_share)
    # expected gain: the slice brought to the rest's error level
    removed = max(0.0, (r.err_in - r.err_out) * int(r.rows.sum()))
    total_err = whole.total_error
    share_removed = removed / total_err if total_err > 0 else 0.0
    title, gain_text = _title_and_gain(r, whole, removed, share_removed)
    ev: dict[str, Any] = {
        "slice_size": s.size,
        "slice_share": s.support,
        "slice_error": r.err_in,
        "rest_error": r.err_out,
        "lift": r.err_in / whole.error if whole.error > 0 else np.inf,
        "p_value": s.p_value,
        "root_cause_category": cat,
        "slice_share_of_train": r.train_share,
        "overall_error": whole.error,
        "error_kind": kind,
        "share_of_errors": float(whole.raw[r.rows].sum() / total_err) if total_err > 0 else None,
        "ci": list(s.ci) if kind == "error rate" else None,
        "search_error_ci": list(s.ci),
        "skill_in_slice": r.skill_in,
        "skill_overall": whole.skill,
        "skill_share": r.skill_share,
        "auc_overall": whole.auc,
        "brier_skill_in_slice": r.brier_in,
    }
    gain = gain_numbers(
        errors_removed=round(removed, 1) if kind == "error rate" else None,
        absolute_error_removed=round(removed, 4) if kind != "error rate" else None,
        share_of_errors_removed=round(share_removed, 4),
    )
    impact = share_removed
    if slice_cost is not None and cost is not None:
        saved = max(
            0.0, (slice_cost["cost_per_row_in_use"] - slice_cost["cost_per_row_rest"]) * slice_cost["rows"]
        )
        total_cost = cost["cost_per_row_in_use"] * cost["rows"]
        gain["cost_saved"] = round(saved, 3)
        gain["share_of_cost_saved"] = round(saved / total_cost, 4) if total_cost > 0 else 0.0
        gain_text += f"; at the rest's cost per row it saves {saved:.4g} cost units"
        table = _cost_evidence(slice_cost, cost)
        if table is not None:
            ev["expected_cost"] = table
        if total_cost > 0:
            impact = max(impact, saved / total_cost)
    ev["expected_gain"] = gain
    ev["distinguishing_features"] = diffs
    ev.update(shap_ev)
    ev["confirmation"] = {
        "rows": s.confirm_size,
        "slice_error": s.confirm_error,
        "rest_error": s.confirm_rest_error,
    }
    ev = why_table_first(ev)
    return Finding(
        "errors.underperforming_slice",
        WARNING if r.strong else INFO,
        title,
        columns=s.columns,
        slice=s.predicates,
        evidence=ev,
        root_cause=f"[{cat}] {cause}",
        fix=fix,
        impact=float(min(1.0, max(0.0, impact))),
        gain=gain_text,
        primary_table=WHY_TABLE if WHY_TABLE in ev else None,
    )
