"""Rung 6, errors: error analysis of a model that works on aggregate.

Collect and categorise the errors (per-class metrics, confusion, confident mistakes), find where
they concentrate (slices of the evaluation rows, searched honestly: discovered on one half,
confirmed on the other with a multiple-testing correction) and name the likely root cause and the
design change.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..findings import INFO, WARNING, Finding
from ..registry import NotApplicable, check
from ..stats.slices import Slice, find_slices, slice_mask, standardized_differences

# --------------------------------------------------------------------------- shared helpers


def _wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    if n <= 0:
        return (float("nan"), float("nan"))
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


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
        return find_slices(df, e["search"], search_columns(ctx), categorical=_categorical(ctx),
                           max_order=p.max_order, min_support=p.min_support, top_k=p.top_k,
                           alpha=p.alpha, seed=ctx.config.seed if hasattr(ctx.config, "seed") else 0)
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


def _root_cause(ctx, s: Slice, skill_share: float, train_share: float | None) -> tuple[str, str, str]:
    """(category, root cause, fix) of a slice."""
    c = ctx.case
    feats = set(c.features or [])
    absent = [col for col in s.columns if feats and col not in feats]
    desc = s.describe()
    if absent:
        return ("features",
                f"the slice is defined by {', '.join(absent)}, which the model does not take: it cannot "
                "tell these rows apart",
                f"add {', '.join(absent)} (or the interaction {desc}) to the model's features")
    if train_share is not None and s.support > 0 and train_share < 0.4 * s.support:
        return ("data",
                f"the slice is under-represented in training ({train_share:.2%} of training rows vs "
                f"{s.support:.2%} of evaluation rows), so the model learned little about it",
                f"collect or up-weight training rows with {desc}; check how the training set was sampled")
    if c.task in ("binary", "multiclass") and skill_share <= 0.1:
        return ("labels",
                "inside the slice the model is no better than a constant guess: its labels follow "
                "another rule or are noisy there",
                f"audit and relabel a sample of rows with {desc}; if the rule really differs, give the "
                "slice its own model or threshold")
    return ("model capacity",
            "the model has not learned the interaction that this slice needs",
            f"add the interaction ({desc}) as a feature, give the model more capacity there, or "
            "collect more rows of the slice")


# --------------------------------------------------------------------------- underperforming slices


@check("errors.underperforming_slice", tasks=("binary", "multiclass", "regression"),
       requires=("model",), min_support=0.01, max_order=3, top_k=5, alpha=0.05, min_lift=2.0,
       min_skill_overall=0.2, max_skill_in_slice=-0.75, max_skill_share=0.35)
def underperforming_slice(ctx, p):
    """A subgroup of evaluation rows whose error is far worse than the rest's.

    What it detects
        Slices (conjunctions of up to three predicates over categorical values and binned numeric
        ranges, over every column of the evaluation set, including columns the model does not
        take) whose error (misclassification at the threshold in use; absolute error for
        regression, relative to the typical error at that prediction level) is at least
        `min_lift` times the overall error, where the model has lost its skill over the best
        constant inside the slice: for classification it errs clearly more often than always
        predicting the slice's majority class would (skill 1 - error / majority error at most
        `max_skill_in_slice`), for regression its skill falls below `max_skill_share` of its overall
        skill. Regions that are merely hard (labels near 50/50, where the model still beats a
        constant) are reported as info. The model must work on aggregate (overall skill at least
        `min_skill_overall`); otherwise lower rungs explain the errors.
        Discovery and confirmation use disjoint halves of the rows, with Holm's correction over
        every slice tested.
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
    if not slices:
        return None
    df = ctx.frame("test")
    kind = e["kind"]
    raw, y = e["raw"], np.asarray(e["y"])
    fin = np.isfinite(raw)
    overall = float(np.nanmean(raw))
    base_all = _baseline_error(y[fin], kind)
    skill_all = _skill(overall, base_all)
    train = ctx.frame("train")
    cols_all = search_columns(ctx)
    out = []
    for s in slices:
        m = s.mask & fin
        err_in, err_out = float(raw[m].mean()), float(raw[~s.mask & fin].mean())
        base_in = _baseline_error(y[m], kind)
        skill_in = _skill(err_in, base_in)
        skill_share = (skill_in / skill_all) if skill_all and np.isfinite(skill_all) and skill_all > 0 else np.nan
        lift = err_in / overall if overall > 0 else np.inf
        try:
            train_share = float(slice_mask(train, s.predicates).mean()) if all(
                q["column"] in train.columns for q in s.predicates) else None
        except (KeyError, TypeError, ValueError):
            train_share = None
        works = np.isfinite(skill_all) and skill_all >= p.min_skill_overall
        if kind == "error rate":
            lost = np.isfinite(skill_in) and skill_in <= p.max_skill_in_slice
        else:
            lost = np.isfinite(skill_share) and skill_share <= p.max_skill_share
        strong = bool(works and lost and s.lift >= p.min_lift)
        diffs = standardized_differences(df, s.mask, [col for col in cols_all if col not in s.columns],
                                         categorical=_categorical(ctx), top=5)
        cat, cause, fix = _root_cause(ctx, s, skill_share if np.isfinite(skill_share) else 1.0, train_share)
        if kind == "error rate":
            title = (f"Error rate {err_in:.0%} in {s.describe()} ({s.support:.1%} of rows) vs "
                     f"{err_out:.0%} elsewhere")
        else:
            title = (f"Mean absolute error {err_in:.4g} in {s.describe()} ({s.support:.1%} of rows) vs "
                     f"{err_out:.4g} elsewhere")
        ev = {"slice_size": s.size, "slice_share": s.support, "slice_error": err_in, "rest_error": err_out,
              "overall_error": overall, "error_kind": kind, "lift": lift,
              "share_of_errors": float(raw[m].sum() / raw[fin].sum()) if raw[fin].sum() > 0 else None,
              "p_value": s.p_value, "ci": list(s.ci) if kind == "error rate" else None,
              "search_error_ci": list(s.ci), "skill_in_slice": skill_in, "skill_overall": skill_all,
              "skill_share": skill_share, "slice_share_of_train": train_share,
              "root_cause_category": cat, "distinguishing_features": diffs,
              "confirmation": {"rows": s.confirm_size, "slice_error": s.confirm_error,
                               "rest_error": s.confirm_rest_error}}
        out.append(Finding("errors.underperforming_slice", WARNING if strong else INFO, title,
                           columns=s.columns, slice=s.predicates, evidence=ev,
                           root_cause=f"[{cat}] {cause}", fix=fix,
                           impact=float(ev["share_of_errors"] or 0.0)))
    return out


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
        rows.append({"class": k, "support": ap, "predicted": pp, "precision": prec,
                     "precision_ci": list(_wilson(tp, pp)), "recall": rec,
                     "recall_ci": list(_wilson(tp, ap)), "f1": f1})
    return rows


def _cost_table(ctx, y, pred) -> dict | None:
    c = ctx.case
    if c.task != "binary" or not c.cost or not pred.has_proba:
        return None
    cfp, cfn = float(c.cost.get("fp", 1.0)), float(c.cost.get("fn", 1.0))
    pos = _same(y, c.positive)
    s = np.asarray(pred.score, dtype=float)
    grid = np.unique(np.concatenate([np.linspace(0.01, 0.99, 99), [ctx.threshold]]))
    costs = []
    for t in grid:
        yhat = s >= t
        costs.append((cfp * np.sum(yhat & ~pos) + cfn * np.sum(~yhat & pos)) / len(s))
    costs = np.asarray(costs)
    i0 = int(np.argmin(np.abs(grid - ctx.threshold)))
    ib = int(np.argmin(costs))
    return {"cost_fp": cfp, "cost_fn": cfn, "threshold_in_use": float(ctx.threshold),
            "expected_cost_per_row": float(costs[i0]), "cost_optimal_threshold": float(grid[ib]),
            "expected_cost_at_optimum": float(costs[ib]),
            "bayes_threshold": cfp / (cfp + cfn)}


@check("errors.confused_classes", tasks=("binary", "multiclass"), requires=("model",),
       min_pair_share=0.5, min_pair_errors=20, min_pair_rate=0.05, max_other_share=0.25)
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
            pairs.append({"classes": [classes[a], classes[b]], "errors": cnt,
                          "share_of_errors": cnt / n_err if n_err else 0.0,
                          "rate": cnt / rows if rows else 0.0,
                          f"{classes[a]}->{classes[b]}": int(cm[a, b]),
                          f"{classes[b]}->{classes[a]}": int(cm[b, a])})
    pairs.sort(key=lambda r: -r["errors"])
    evidence = {"per_class": table, "labels": classes, "confusion_matrix": cm.tolist(),
                "confusion_matrix_normalised": np.nan_to_num(norm).round(4).tolist(),
                "errors": n_err, "pairs": pairs[:5]}
    cost = _cost_table(ctx, y, pred)
    if cost:
        evidence["cost"] = cost
    out = []
    if ctx.task == "multiclass" and pairs and n_err:
        top = pairs[0]
        nxt = pairs[1]["share_of_errors"] if len(pairs) > 1 else 0.0
        if (top["share_of_errors"] >= p.min_pair_share and top["errors"] >= p.min_pair_errors
                and top["rate"] >= p.min_pair_rate and nxt <= p.max_other_share):
            a, b = top["classes"]
            ia, ib = classes.index(a), classes.index(b)
            idx = np.flatnonzero(((ti == ia) & (pi == ib)) | ((ti == ib) & (pi == ia)))[:5]
            ex = ctx.frame("test")[ok].iloc[idx]
            evidence_pair = dict(evidence, pair=top, examples=ex.head(5).to_dict(orient="records"))
            out.append(Finding(
                "errors.confused_classes", WARNING,
                f"{top['share_of_errors']:.0%} of errors are confusions between {a!s} and {b!s} "
                f"({top['errors']} rows, {top['rate']:.0%} of the pair's rows)",
                classes=[a, b], evidence=evidence_pair, impact=top["share_of_errors"],
                root_cause=f"[features] the features do not separate {a!s} from {b!s} (or their labels "
                           "are inconsistent)",
                fix=f"add a feature that tells {a!s} from {b!s}, merge them if the distinction does not "
                    "matter, or audit their labels; weigh the two directions of error with a cost matrix"))
    worst = min((r for r in table if np.isfinite(r["f1"])), key=lambda r: r["f1"], default=None)
    title = "Per-class precision, recall and F1"
    if worst is not None:
        title += f" (lowest F1 {worst['f1']:.2f} for class {worst['class']!s})"
    if cost:
        title += (f"; expected cost {cost['expected_cost_per_row']:.3g}/row at threshold "
                  f"{cost['threshold_in_use']:.2f}, {cost['expected_cost_at_optimum']:.3g} at "
                  f"{cost['cost_optimal_threshold']:.2f}")
    out.append(Finding("errors.confused_classes", INFO, title, evidence=evidence,
                       root_cause="", fix=""))
    return out


# --------------------------------------------------------------------------- confident errors


@check("errors.high_confidence_errors", tasks=("binary", "multiclass"), requires=("model", "proba"),
       confidence=0.9, min_errors=30, min_lift=3.0, min_rate=0.2, alpha=0.05, min_support=0.01,
       min_skill_overall=0.2)
def high_confidence_errors(ctx, p):
    """A cluster of mistakes that the model makes with high confidence.

    What it detects
        Misclassified evaluation rows whose predicted class had probability >= `confidence`,
        when they concentrate in a slice (found and confirmed like underperforming slices) where
        their rate is at least `min_rate` and `min_lift` times their overall rate, in a model that
        works on aggregate (skill over the majority class at least `min_skill_overall`). Scattered
        confident mistakes (every model makes a few) are reported as info only. Low-confidence
        mistakes (more data helps) and likely label errors are kept apart in the evidence.
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
    wrong = ~_same(label, y)
    if ctx.task == "binary":
        s = np.asarray(pred.score, dtype=float)
        conf = np.where(s >= ctx.threshold, s, 1 - s)
    else:
        conf = np.asarray(pred.proba, dtype=float).max(axis=1)
    ce = (wrong & (conf >= p.confidence)).astype(float)
    n_ce = int(ce.sum())
    low = int((wrong & (conf < 0.6)).sum())
    ev: dict[str, Any] = {"confident_errors": n_ce, "confidence": p.confidence,
                          "share_of_rows": n_ce / len(ce), "errors": int(wrong.sum()),
                          "low_confidence_errors": low}
    if n_ce < p.min_errors:
        return None
    base = _baseline_error(y[np.array([not pd.isna(v) for v in y], dtype=bool)], "error rate")
    skill_all = _skill(float(wrong.mean()), base)
    ev["skill_overall"] = skill_all
    works = np.isfinite(skill_all) and skill_all >= p.min_skill_overall
    df = ctx.frame("test")
    slices = find_slices(df, ce, search_columns(ctx), categorical=_categorical(ctx), max_order=2,
                         min_support=p.min_support, top_k=3, alpha=p.alpha)
    rate_all = n_ce / len(ce)
    for s in slices:
        if works and s.error >= p.min_rate and s.error >= p.min_lift * rate_all and int(ce[s.mask].sum()) >= p.min_errors:
            ev.update({"slice_size": s.size, "slice_share": s.support,
                       "confident_error_rate_in_slice": s.error, "rest_rate": s.rest_error,
                       "share_of_confident_errors": s.share_of_errors, "p_value": s.p_value})
            return Finding(
                "errors.high_confidence_errors", WARNING,
                f"{s.error:.0%} of rows with {s.describe()} are confident mistakes (p >= {p.confidence}) "
                f"vs {s.rest_error:.1%} elsewhere",
                columns=s.columns, slice=s.predicates, evidence=ev, impact=s.share_of_errors,
                root_cause="[labels or features] the model learned a rule that is wrong for this slice: "
                           "its labels follow another rule, are wrong, or depend on a feature the model lacks",
                fix=f"audit the labels of rows with {s.describe()}; if they are right, add the feature "
                    "that sets them apart or more training rows of the slice, then recalibrate")
    return Finding("errors.high_confidence_errors", INFO,
                   f"{n_ce} confident mistakes ({n_ce / len(ce):.1%} of rows), scattered: no slice holds them",
                   evidence=ev)
