"""Rung 1, data: labels that no longer belong to their rows, judged by the cross-validated model
baselines (no model beats the dummy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, INFO, Finding
from ...positive import positive_scores
from ...registry import Findings, Interval, NotApplicable, Param, Params, check

if TYPE_CHECKING:
    from ...context import Context
    from ...stats.baselines import BaselinesResult, ModelCV


def _binary_skill(y: np.ndarray, classes: list, oof: np.ndarray, positive: Any) -> dict[str, Any] | None:
    from ...stats.metrics import auc_interval, roc_auc

    s = positive_scores(oof, classes, positive)
    ok = np.isfinite(s)
    yy = (y[ok] == positive).astype(int)
    if ok.sum() < 30 or yy.min() == yy.max():
        return None
    a = roc_auc(yy, s[ok])
    lo, hi = auc_interval(a, int(yy.sum()), int(len(yy) - yy.sum()))
    return {"metric": "roc_auc", "score": a, "low": lo, "high": hi, "dummy": 0.5, "rows": int(ok.sum())}


def _multiclass_skill(y: np.ndarray, classes: list, oof: np.ndarray) -> dict[str, Any] | None:
    # prevalence-weighted one-vs-rest AUC: unlike accuracy, it stays at 0.5 only when the
    # probabilities carry no information (a weak-signal target with a dominant class leaves the
    # accuracy at the majority's while every class is still ranked far above chance)
    from ...stats.metrics import auc_interval, roc_auc, wilson

    ok = np.isfinite(oof).all(1)
    if ok.sum() < 30:
        return None
    pred = np.asarray(classes, dtype=object)[np.argmax(oof[ok], axis=1)]
    yy = y[ok]
    acc = float(np.mean(pred.astype(str) == yy.astype(str)))
    ys = yy.astype(str)
    num = var = wsum = 0.0
    for j, k in enumerate(classes):
        pos = ys == str(k)
        n1 = int(pos.sum())
        if n1 < 5 or n1 > len(ys) - 5:
            continue
        a = roc_auc(pos.astype(int), oof[ok, j])
        lo_k, hi_k = auc_interval(a, n1, len(ys) - n1)
        w = n1 / len(ys)
        num += w * a
        var += (w * (hi_k - lo_k) / 3.92) ** 2
        wsum += w
    if wsum <= 0:
        lo, hi = wilson(acc * ok.sum(), ok.sum())
        major = float(pd.Series(yy).value_counts(normalize=True).iloc[0])
        return {
            "metric": "accuracy",
            "score": acc,
            "low": lo,
            "high": hi,
            "dummy": major,
            "rows": int(ok.sum()),
        }
    a = num / wsum
    se = float(np.sqrt(var)) / wsum
    return {
        "metric": "weighted one-vs-rest AUC",
        "score": a,
        "low": a - 1.96 * se,
        "high": a + 1.96 * se,
        "dummy": 0.5,
        "rows": int(ok.sum()),
        "accuracy": acc,
    }


def _regression_skill(y: np.ndarray, oof: np.ndarray) -> dict[str, Any] | None:
    from scipy.stats import rankdata

    ok = np.isfinite(oof)
    if ok.sum() < 30:
        return None
    yy, pp = y[ok].astype(float), oof[ok]
    ss = float(np.sum((yy - yy.mean()) ** 2))
    if ss <= 0:
        return None
    r2 = 1 - float(np.sum((yy - pp) ** 2)) / ss
    r = float(np.corrcoef(yy, pp)[0, 1]) if np.std(pp) > 0 else 0.0
    # and the rank correlation: targets entered in another unit in a few rows wreck R^2 and
    # Pearson's r, not the order; misaligned labels leave both near 0 (Fisher z, with the
    # Spearman variance factor 1.06)
    rs = float(np.corrcoef(rankdata(yy), rankdata(pp))[0, 1]) if np.std(pp) > 0 else 0.0
    half = 1.96 / np.sqrt(max(ok.sum() - 3, 1))
    hi_r = float(np.tanh(np.arctanh(np.clip(r, -0.999999, 0.999999)) + half))
    hi_rs = float(np.tanh(np.arctanh(np.clip(rs, -0.999999, 0.999999)) + np.sqrt(1.06) * half))
    lo_r = float(np.tanh(np.arctanh(np.clip(r, -0.999999, 0.999999)) - half))
    lo_rs = float(np.tanh(np.arctanh(np.clip(rs, -0.999999, 0.999999)) - np.sqrt(1.06) * half))
    return {
        "metric": "r2",
        "score": r2,
        "low": float("nan"),
        "high": max(0.0, hi_r, hi_rs) ** 2,
        "pearson": r,
        "spearman": rs,
        # the lower end of the larger correlation's 95% interval: above 0, the model beats the dummy
        "correlation_low": max(lo_r, lo_rs),
        "dummy": 0.0,
        "rows": int(ok.sum()),
    }


def oof_skill(task: str, res: BaselinesResult, m: ModelCV, positive: Any) -> dict[str, Any] | None:
    """Pooled out-of-fold score of one baseline model with a 95% interval, or None."""
    oof = m.oof
    if oof is None or m.error and not np.isfinite(oof).any():
        return None
    return _skill(task, res, res.y, oof, positive)


def eval_skill(task: str, res: BaselinesResult, m: ModelCV, positive: Any) -> dict[str, Any] | None:
    """The same score of one baseline model's fold models on the evaluation rows (their outputs
    averaged over the folds), or None when they were not scored there."""
    m.complete()
    if res.eval_y is None or not m.eval_outs:
        return None
    with np.errstate(all="ignore"):
        out = np.nanmean(np.stack(m.eval_outs), axis=0)
    return _skill(task, res, res.eval_y, out, positive)


def _skill(
    task: str, res: BaselinesResult, y: np.ndarray, out: np.ndarray, positive: Any
) -> dict[str, Any] | None:
    if task == "regression":
        return _regression_skill(y, out)
    assert res.classes is not None  # set for every classification task
    if task == "binary":
        return _binary_skill(y, list(res.classes), out, positive)
    return _multiclass_skill(y, list(res.classes), out)


def _above_dummy(task: str, sk: dict[str, Any] | None) -> bool:
    """The point estimate is above the dummy's (regression: a positive correlation)."""
    if sk is None:
        return True  # not scored there: nothing contradicts the out-of-fold skill
    if task == "regression":
        return bool(max(sk["pearson"], sk["spearman"]) > 0)
    return bool(sk["score"] > sk["dummy"])


def _beats_dummy(task: str, sk: dict[str, Any]) -> bool:
    """The model beats the dummy with confidence: the lower end of its 95% interval is above it."""
    if task == "regression":
        return bool(sk["correlation_low"] > 0)
    return bool(sk["low"] > sk["dummy"])


def _your_model_on_test(ctx: Context) -> dict[str, float]:
    """The user's model's test AUC (binary) or accuracy (multiclass), when it can be computed."""
    ev: dict[str, float] = {}
    try:
        from ...stats.metrics import auc

        c = ctx.case
        pr = ctx.predictions("test")
        yt = ctx.y("test")
        if c.task == "binary":
            ev["test_auc_of_your_model"] = auc((yt == c.positive).astype(int), pr.score)
        elif c.task == "multiclass":
            ev["test_accuracy_of_your_model"] = float(
                np.mean(np.asarray(pr.label).astype(str) == yt.astype(str))
            )
    except Exception:
        pass
    return ev


@check(
    "data.label_misalignment",
    tasks=("binary", "multiclass", "regression"),
    slow=True,
    auc_margin=Param(
        0.05,
        Interval(float, 0, 1),
        "how far above the dummy's AUC (0.5) a model's 95% upper bound must reach to count as signal",
    ),
    r2_margin=Param(
        0.03,
        Interval(float, 0, 1),
        "how far above the dummy's R^2 (0) a model's 95% upper bound must reach to count as signal",
    ),
)
def label_misalignment(ctx: Context, p: Params) -> Findings:
    """Labels that no longer belong to their rows: every model is no better than the dummy baseline.

    What it detects
        The cross-validated baselines (linear model, gradient boosting and the user's model refitted)
        where no model beats the dummy baseline with confidence: the upper end of each model's
        95% interval (binary: AUC; multiclass: prevalence-weighted one-vs-rest AUC, since accuracy
        stays at the majority's share on weak-signal targets; regression: R^2 — all of the pooled
        out-of-fold predictions) stays within a small margin of the dummy's score. For
        regression the bound is the larger of squared Pearson and Spearman correlations' upper
        ends: a few targets entered in another unit (x10) wreck R^2 while the order of the
        targets still follows the features (variants: computers, 8% of targets x10 or x0.1,
        R^2 0.01 but rank correlation high), and labels that do not belong to their rows leave
        both near 0.
        Null (for firing): some model has skill of at least the margin (AUC 0.55, R^2 0.03). Every
        model's bound must fall under it: an intersection-union test, valid at 2.5% without a
        multiplicity correction, and no correction makes it more powerful. Its minimum sample:
        with about 200 positives an AUC's interval is +-0.043, so a best estimate above 0.51
        cannot be shown to be under 0.55. Measured on the held-out suite: hdma rf with 21% of
        labels moved by a re-sort has out-of-fold AUCs 0.506, 0.524, 0.505, but the linear fold
        models reach 0.579 (0.512 to 0.646) on the evaluation rows: weak signal is left, and
        pooling each model's out-of-fold and evaluation AUCs (inverse variance) still bounds the
        linear model and boosting at 0.563 and 0.564; the clean aids control sits at 0.517 to
        0.537 (boosting's bound 0.562), so a wider margin would call a clean data set
        misaligned. Not found there, on purpose.
        When it cannot judge it says so (info), never silence: it stays silent only when some
        model beats the dummy with confidence (the lower end of its 95% interval above the
        dummy's score; regression: of its Pearson or Spearman correlation above 0) and its fold
        models, averaged, also score above the dummy on the evaluation rows (skill out of fold
        that vanishes on fresh rows is not shown). Otherwise (no model shown to beat the
        dummy, none shown to stay under the margin) an info finding gives each model's bounds.
        Measured on HOLDOUT6: lake ridge, labels shuffled (461 training rows), boosting's R^2
        bound 0.031 against the margin 0.03 and no model above 0 with confidence; relapse rf
        (402 rows, about 75 positives: an AUC's interval at chance is +-0.07, wider than the
        margin) has boosting out of fold at 0.599 (0.532 to 0.666) but 0.473 on the 173
        evaluation rows. Both were silent; both now say why they cannot judge.
    Why it matters
        When labels are shuffled or shifted against their rows (a merge on the wrong key, a sort
        applied to one column, an off-by-one join), the features carry no information about the
        target any more: every model, however good, learns noise, and every metric is meaningless.
    How to confirm
        Check the join/merge that attaches the labels (keys, sort order, an index reset); look at a
        few rows by hand; a simple, known-good relation (a feature that must correlate with the
        target) that has vanished confirms it.
    Fix
        Rebuild the training table joining labels on a unique key (and assert it is unique); never
        align by position after a sort or filter.
    """
    c = ctx.case
    res = ctx.baselines()
    margin = {"binary": p.auc_margin, "multiclass": p.auc_margin, "regression": p.r2_margin}[c.task]
    rows = []
    for key in ("linear", "hgb", "user"):
        m = res.models.get(key)
        if m is None:
            continue
        sk = oof_skill(c.task, res, m, c.positive)
        if sk is not None:
            sk["model"] = key
            rows.append(sk)
    if not rows or not any(r["model"] in ("linear", "hgb") for r in rows):
        raise NotApplicable("the baseline models produced no out-of-fold predictions")
    if res.n_rows < 200:
        raise NotApplicable("fewer than 200 training rows: too few to tell chance from signal")
    best = max(rows, key=lambda r: r["score"])
    no_better = all(r["high"] < r["dummy"] + margin for r in rows)
    if not no_better:
        return _cannot_judge(ctx, res, rows, margin)
    ev = _evidence(ctx, res, rows, margin)
    return Finding(
        "data.label_misalignment",
        CRITICAL,
        f"no model beats the dummy baseline: best cross-validated {best['metric']} {best['score']:.3f} "
        f"(95% upper bound {best['high']:.3f}) vs dummy {best['dummy']:.3f}",
        evidence=ev,
        impact=1.0,
        root_cause="the labels do not belong to their rows (a merge on the wrong key, a sort or "
        "shift applied to the label column), or the features carry no signal at all",
        fix="rebuild the table joining labels on a unique key and check a few rows by hand; if the "
        "join is right, the features cannot predict this target",
    )


def _evidence(
    ctx: Context, res: BaselinesResult, rows: list[dict[str, Any]], margin: float
) -> dict[str, Any]:
    """The models' table, the margin and the split, with your model's score on the evaluation rows."""
    ev: dict[str, Any] = {"table": rows, "margin": margin, "splitter": res.splitter, "rows": res.n_rows}
    ev.update(_your_model_on_test(ctx))
    return ev


def _cannot_judge(
    ctx: Context, res: BaselinesResult, rows: list[dict[str, Any]], margin: float
) -> Finding | None:
    """None when some model shows signal (the check's silence is then a verdict: the labels carry
    information about their rows); otherwise an info finding that says why the check cannot judge."""
    from ...stats.baselines import LABELS

    c = ctx.case
    for r in rows:
        m = res.models[r["model"]]
        ev_sk = eval_skill(c.task, res, m, c.positive)
        r["evaluation"] = None if ev_sk is None else {k: ev_sk[k] for k in ("score", "rows")}
        if _beats_dummy(c.task, r) and _above_dummy(c.task, ev_sk):
            return None
    over = [r for r in rows if r["high"] >= r["dummy"] + margin]
    worst = max(over, key=lambda r: r["high"])
    shown = [r for r in rows if _beats_dummy(c.task, r)]
    why = (
        f"{LABELS.get(shown[0]['model'], shown[0]['model'])} beats the dummy out of fold "
        f"({shown[0]['metric']} {shown[0]['score']:.3f}) but not on the {shown[0]['evaluation']['rows']:,} "
        f"evaluation rows ({shown[0]['evaluation']['score']:.3f})"
        if shown and shown[0].get("evaluation")
        else "no model beats the dummy with confidence"
    )
    ev = _evidence(ctx, res, rows, margin)
    return Finding(
        "data.label_misalignment",
        INFO,
        f"cannot judge whether the labels belong to their rows: {why}, yet with {res.n_rows:,} training "
        f"rows {LABELS.get(worst['model'], worst['model'])}'s 95% upper bound ({worst['metric']} "
        f"{worst['high']:.3f}) does not rule out skill of the margin (dummy {worst['dummy']:.3f} + {margin})",
        evidence=ev,
        impact=0.0,
        root_cause="too few rows (or too weak a signal) to tell labels that do not belong to their "
        "rows from a weak relation",
        fix="look at a few rows by hand and check the join that attaches the labels; more labelled "
        "rows narrow the intervals",
    )
