"""errors.confused_classes: a pair of classes that the model confuses far more than the rest, with
per-class precision, recall and F1, the confusion matrix and (with a cost matrix) the expected cost
of errors at the decision in use and at the cost-optimal one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import INFO, WARNING, Finding
from ...registry import Findings, Interval, Param, Params, check
from ...stats.confusion import pair_concentration
from ...stats.metrics import wilson
from .common import costs, gain_numbers, same

if TYPE_CHECKING:
    from ...context import Context

SHARE = Interval(float, 0, 1)


@check(
    "errors.confused_classes",
    tasks=("binary", "multiclass"),
    requires=("model",),
    min_pair_share=Param(0.5, SHARE, "share of all errors the pair's mutual confusions must hold"),
    min_pair_rate=Param(0.05, SHARE, "share of the pair's rows that must be confused"),
    min_ratio=Param(
        1.5,
        Interval(float, 1, None),
        "the pair's confusions over the number an unstructured confusion puts there",
    ),
    alpha=Param(0.05, Interval(float, 0, 1), "family-wise error rate over the k(k-1)/2 pairs (Holm)"),
)
def confused_classes(ctx: Context, p: Params) -> Findings:
    """A pair of classes that the model confuses far more than any other pair.

    What it detects
        In the confusion matrix of the evaluation set, a pair of classes whose mutual confusions
        hold at least `min_pair_share` of all errors and `min_pair_rate` of the pair's rows, and
        are at least `min_ratio` times the number an unstructured confusion would put there. The
        null keeps each class's number of errors and lets them land on every other class c as
        readily as the model predicts c on the rows of the other classes (stats.confusion): so a
        weak model whose errors pile on the two largest classes merely because it predicts them
        most is not a confused pair. The excess is tested exactly (a sum of two binomials) with
        Holm's correction over the k(k-1)/2 pairs at `alpha`, and reported with the ratio's 95%
        interval. Per-class precision, recall and F1 with intervals, the normalised confusion
        matrix and (binary, with --cost) the expected cost at the threshold in use and at the
        cost-optimal one are reported as info.
    Smallest sample
        Whatever makes the exact test reach `alpha` after Holm (about six errors all in one pair
        of three balanced classes). A pair that meets the effect sizes without reaching
        significance is reported as info with its numbers and that reason, never silence.
    Defaults
        `min_ratio` 1.5 ("half again as many as chance"): under the null the ratio tends to 1,
        and with three balanced classes it can hardly exceed 2, so a larger bar would rarely fire
        there. Measured on the generalisation suite: the planted pairs reach 2.6-3.8 (penguins
        without the bill length, 9 and 13 errors all in the pair; cars Europe/Japan), the public
        case 2.8; fishing's boat/charter, its two largest classes, sits at 1.4-1.7 whatever the
        model (1.36 for the unweighted logistic model of unhandled_imbalance and for label_noise's
        boosted model, which stay quiet; 1.61 and 1.62 for the confused_classes models, which
        fire), so that data set lies near the bar by nature. A collapsed network (nearly every row
        predicted Gentoo) scores 1.0. The clean penguins controls (3 errors, all Adelie/Chinstrap:
        ratio 2.8, Holm p 0.14) and the digits control (the largest pair holds 19% of the errors)
        stay quiet. The fixed minimum of 20 confused rows it replaces silenced the penguins pairs.
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
    cm, ti, pi = _confusion(y, label, classes)
    n_err = int(cm.sum() - np.trace(cm))
    pairs = _pairs(cm, classes, n_err)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = cm / cm.sum(axis=1, keepdims=True)
    evidence: dict[str, Any] = {
        "per_class": _per_class_table(y, label, classes),
        "labels": classes,
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_normalised": np.nan_to_num(norm).round(4).tolist(),
        "errors": n_err,
        "pairs": pairs[:5],
    }
    cost = costs(ctx)
    if cost:
        evidence["cost"] = cost
    out = []
    if ctx.task == "multiclass" and pairs and n_err:
        top = pairs[0]
        large = (
            top["share_of_errors"] >= p.min_pair_share
            and top["rate"] >= p.min_pair_rate
            and top["ratio"] >= p.min_ratio
        )
        if large:
            ia, ib = classes.index(top["classes"][0]), classes.index(top["classes"][1])
            examples = _examples(ctx, ok, ti, pi, ia, ib)
            f = _pair_finding(top, cm, classes, n_err, dict(evidence), examples, cost)
            if top["p_adjusted"] >= p.alpha:
                f = _too_few(f, top, p.alpha)
            out.append(f)
    out.append(_per_class_finding(evidence, cost))
    return out


def _too_few(f: Finding, top: dict[str, Any], alpha: float) -> Finding:
    """The pair meets the effect sizes but the exact test cannot tell it from chance: info."""
    a, b = top["classes"]
    f.severity = INFO
    f.title = (
        f"{a!s} and {b!s} hold {top['errors']} of the errors ({top['expected']:.1f} expected by "
        f"chance, ratio {top['ratio']:.1f}) but too few errors to tell this from chance "
        f"(Holm p {top['p_adjusted']:.2g} >= {alpha:g})"
    )
    f.evidence["below_smallest_sample"] = True
    return f


def _confusion(y: np.ndarray, label: np.ndarray, classes: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(confusion matrix, true class index, predicted class index) over `classes` (-1: unknown)."""
    k = len(classes)
    cm = np.zeros((k, k), dtype=np.int64)
    yi = {str(c): i for i, c in enumerate(classes)}
    ti = np.array([yi.get(str(v), -1) for v in y])
    pi = np.array([yi.get(str(v), -1) for v in label])
    good = (ti >= 0) & (pi >= 0)
    np.add.at(cm, (ti[good], pi[good]), 1)
    return cm, ti, pi


def _pairs(cm: np.ndarray, classes: list, n_err: int) -> list[dict[str, Any]]:
    """Every pair of classes with its mutual confusions against the unstructured-confusion null
    (stats.confusion.pair_concentration), most confused first."""
    pairs: list[dict[str, Any]] = []
    for r in pair_concentration(cm):
        a, b = r["a"], r["b"]
        cnt = r["observed"]
        rows = int(cm[a].sum() + cm[b].sum())
        pairs.append(
            {
                "classes": [classes[a], classes[b]],
                "errors": cnt,
                "share_of_errors": cnt / n_err if n_err else 0.0,
                "rate": cnt / rows if rows else 0.0,
                "expected": round(r["expected"], 3),
                "ratio": r["ratio"],
                "ratio_ci": r["ratio_ci"],
                "p_value": r["p_value"],
                "p_adjusted": r["p_adjusted"],
                f"{classes[a]}->{classes[b]}": int(cm[a, b]),
                f"{classes[b]}->{classes[a]}": int(cm[b, a]),
            }
        )
    pairs.sort(key=lambda r: -r["errors"])
    return pairs


def _per_class_table(y: np.ndarray, label: np.ndarray, classes: list) -> list[dict]:
    rows = []
    for k in classes:
        tp = int(np.sum(same(label, k) & same(y, k)))
        pp = int(np.sum(same(label, k)))
        ap = int(np.sum(same(y, k)))
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


def _examples(ctx: Context, ok: np.ndarray, ti: np.ndarray, pi: np.ndarray, ia: int, ib: int) -> list[dict]:
    """Up to five evaluation rows confused between classes ia and ib."""
    idx = np.flatnonzero(((ti == ia) & (pi == ib)) | ((ti == ib) & (pi == ia)))[:5]
    return ctx.frame("test")[ok].iloc[idx].head(5).to_dict(orient="records")


def _pair_finding(
    top: dict[str, Any],
    cm: np.ndarray,
    classes: list,
    n_err: int,
    evidence: dict[str, Any],
    examples: list[dict],
    cost: dict | None,
) -> Finding:
    a, b = top["classes"]
    ia, ib = classes.index(a), classes.index(b)
    ev = dict(evidence, pair=top, examples=examples)
    # expected gain: the pair confused at the rate of the other classes' rows
    pair_rows = int(cm[ia].sum() + cm[ib].sum())
    other_rows = int(cm.sum()) - pair_rows
    other_rate = (n_err - top["errors"]) / other_rows if other_rows > 0 else 0.0
    removed = max(0.0, top["errors"] - other_rate * pair_rows)
    ev["root_cause_category"] = "features"
    ev["expected_gain"] = gain_numbers(
        errors_removed=round(removed, 1), share_of_errors_removed=round(removed / n_err, 4)
    )
    if cost and "cost_matrix" in cost:
        cab = cost["cost_matrix"][str(a)][str(b)] if str(a) in cost["cost_matrix"] else None
        cba = cost["cost_matrix"][str(b)][str(a)] if str(b) in cost["cost_matrix"] else None
        ev["cost_of_pair_errors"] = {f"{a}->{b}": cab, f"{b}->{a}": cba}
    return Finding(
        "errors.confused_classes",
        WARNING,
        f"{top['share_of_errors']:.0%} of errors are confusions between {a!s} and {b!s} "
        f"({top['errors']} rows, {top['rate']:.0%} of the pair's rows) vs {top['expected']:.1f} "
        f"expected by chance (ratio {top['ratio']:.1f}, 95% CI "
        f"{top['ratio_ci'][0]:.1f}-{top['ratio_ci'][1]:.1f}; Holm p {top['p_adjusted']:.2g})",
        classes=[a, b],
        evidence=ev,
        impact=float(min(1.0, removed / n_err)),
        root_cause=f"[features] the features do not separate {a!s} from {b!s} (or their labels "
        "are inconsistent)",
        fix=f"add a feature that tells {a!s} from {b!s}, merge them if the distinction does not "
        "matter, or audit their labels; weigh the two directions of error with a cost matrix",
        gain=f"confusing {a!s} and {b!s} only as often as the other classes err "
        f"({other_rate:.1%}) removes about {removed:.0f} errors ({removed / n_err:.0%} of all errors)",
    )


def _per_class_finding(evidence: dict[str, Any], cost: dict | None) -> Finding:
    """Info: per-class precision, recall and F1, and with a cost matrix the expected cost at the
    decision in use and at the cost-optimal one."""
    table = evidence["per_class"]
    worst = min((r for r in table if np.isfinite(r["f1"])), key=lambda r: r["f1"], default=None)
    title = "Per-class precision, recall and F1"
    if worst is not None:
        title += f" (lowest F1 {worst['f1']:.2f} for class {worst['class']!s})"
    if not (cost and "cost_per_row_at_optimum" in cost):
        evidence["root_cause_category"] = "model capacity"
        gain = (
            "not estimated: errors spread over the classes as listed; "
            "give --cost or --cost-matrix to price them"
        )
        return Finding("errors.confused_classes", INFO, title, evidence=evidence, impact=0.0, gain=gain)
    where = (
        f"threshold {cost['threshold_in_use']:.2f}" if "threshold_in_use" in cost else "the predicted class"
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
    evidence["root_cause_category"] = "threshold" if saved > 0.01 else "model capacity"
    gain = (
        f"deciding at {best} instead of {where} saves {cost['saving_per_row']:.3g} cost units per row "
        f"({saved:.0%} of the cost"
        + (
            f"; {cost['cost_per_row_at_optimum_crossfit']:.3g}/row when the "
            "threshold is chosen on held-out halves"
            if "cost_per_row_at_optimum_crossfit" in cost
            else ""
        )
        + ")"
    )
    evidence["expected_gain"] = gain_numbers(
        cost_saved_per_row=cost["saving_per_row"], share_of_cost_saved=round(saved, 4)
    )
    evidence["expected_cost_in_use"] = cost["cost_per_row_in_use"]
    evidence["expected_cost_at_optimum"] = cost["cost_per_row_at_optimum"]
    if "cost_optimal_threshold" in cost:
        evidence["cost_optimal_threshold"] = cost["cost_optimal_threshold"]
    return Finding(
        "errors.confused_classes",
        INFO,
        title,
        evidence=evidence,
        impact=float(min(1.0, max(0.0, saved))),
        gain=gain,
    )
