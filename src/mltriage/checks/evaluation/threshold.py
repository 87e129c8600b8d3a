"""evaluation.untuned_threshold: the decision threshold in use against one tuned for the cost of
errors (or, without costs, for F1 when the threshold finds almost none of the positives)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import INFO, WARNING, Finding
from ...metric_names import canonical_metric
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats import threshold as thr
from ...stats.metrics import auc_ci
from .common import binary_xy

if TYPE_CHECKING:
    from ...context import Context


def _fmt_cost(cost: dict[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in cost.items())


def _recall_at(s: np.ndarray, y: np.ndarray, current: float, best: float | None) -> dict[str, float]:
    out = {}
    pos = max(y.sum(), 1)
    out["recall_at_threshold"] = float(((s >= current) & (y == 1)).sum() / pos)
    out["predicted_positive_share_at_threshold"] = float(np.mean(s >= current))
    if best is not None:
        out["recall_at_best"] = float(((s >= best) & (y == 1)).sum() / pos)
        out["predicted_positive_share_at_best"] = float(np.mean(s >= best))
    return out


def _sig(v: float, digits: int = 4) -> float:
    """A number rounded to `digits` significant digits (small evidence tables)."""
    return float(f"{v:.{digits}g}")


def _curve(
    s: np.ndarray, y: np.ndarray, cost: dict[str, float] | None, marks: list[float], metric: str = "f1"
) -> list[dict]:
    """The cost per row (or, without a cost, `metric`) and the recall at 40 evenly spaced
    thresholds over the scores' range (at least [0, 1]), plus the thresholds in `marks` (in use,
    optimum), so that the curve passes through the points the finding names."""
    lo, hi = min(float(s.min()), 0.0), max(float(s.max()), 1.0)
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 40), np.asarray(marks, float)]))
    cnt = thr.counts(s, y, grid)
    value = cnt.cost(cost) if cost is not None else 1.0 - thr.objective(cnt, metric)
    key = "cost_per_row" if cost is not None else metric
    return [
        {"threshold": _sig(t), key: _sig(v), "recall": round(float(r), 4)}
        for t, v, r in zip(grid, value, cnt.recall())
    ]


def _train_chosen(ctx: Context, cost: dict[str, float], current: float) -> dict[str, float]:
    """When the training predictions look honest (not better than the evaluation ones), the
    threshold chosen on them, and its cost on the evaluation rows: a second, fully held-out view."""
    try:
        s_tr, y_tr, _ = binary_xy(ctx, "train")
        s_te, y_te, _ = binary_xy(ctx, "test")
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


def _cost_tuned(
    ctx: Context, p: Params, s: np.ndarray, y: np.ndarray, cost: dict[str, float]
) -> Finding | None:
    """With a cost of errors: the cross-fitted saving of a tuned threshold."""
    current = ctx.threshold
    r = thr.tune(s, y, current, cost, n_boot=p.n_boot, seed=ctx.config.seed)
    share = r.saving / r.value_current if r.value_current > 0 else 0.0
    ev: dict[str, Any] = {
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
    ev["saving_p_one_sided"] = r.saving_p
    band = _cost_implied(ctx, s, y, cost)
    if band is not None:
        b_share = band.saving / r.value_current if r.value_current > 0 else 0.0
        ev["cost_implied_threshold"] = {**vars(band), "saving_share": b_share}
    scan = _scan(ctx, s, y, cost)
    band_share = 0.0
    if scan is not None:
        sc, at_current, where = scan
        band_share = sc.saving / at_current if at_current > 0 else 0.0
        ev["threshold_scan"] = {
            **vars(sc),
            "saving_share": band_share,
            "cost_per_row_at_threshold": at_current,
            "rows_from": where,
        }
    tuned = share >= p.min_saving_share and r.saving_ci[0] > 0
    implied = scan is not None and band_share >= p.min_saving_share and scan[0].p < p.alpha_scan
    if not (tuned or implied):
        return _unshown(s, y, r, ev, f"under cost {_fmt_cost(cost)}", p.min_saving_share)
    ev["curve"] = _curve(s, y, cost, [current, r.best_threshold])
    if tuned:
        how = (
            f"a threshold near {r.best_threshold:.2g} saves {share:.0%} of it ({r.saving:.3f} per row, 95% CI "
            f"{r.saving_ci[0]:.3f}-{r.saving_ci[1]:.3f}, cross-fitted)"
        )
    else:
        assert scan is not None
        sc, _, where = scan
        how = (
            f"on {where}, a threshold near {sc.alternative:.2g} saves {band_share:.0%} of the cost there "
            f"({sc.saving:.3f} per row: {sc.positives} positives among the {sc.rows} rows it decides "
            f"otherwise, above the break-even share {sc.break_even:.0%}; p = {sc.p:.2g} for the best of "
            f"{sc.candidates} thresholds, exact)"
        )
    return Finding(
        "evaluation.untuned_threshold",
        WARNING,
        f"Threshold {current:g} costs {r.value_current:.3f} per row; {how} under cost {_fmt_cost(cost)}",
        evidence=ev,
        plot_data=["curve"],
        impact=float(min(max(share, 0.0), 1.0)),
        root_cause="the threshold was left at its default instead of being chosen for the cost of "
        "errors and the prevalence",
        fix=f"use a threshold near {r.best_threshold:.2g} (chosen on validation or out-of-fold "
        "predictions), and re-tune it when prevalence or costs change",
    )


def _more_rows(ctx: Context) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Labelled rows scored out of sample besides the evaluation rows: the training rows' out-of-
    fold probabilities of your model refitted in the model baselines (as `model.unhandled_imbalance`
    pools them; not under --fast), or, with predictions only, the training rows' predictions when
    they are no better than the evaluation ones (AUC within the evaluation AUC's 95% interval:
    in-sample predictions would be sharper). None when there are none."""
    est = ctx.case.model.estimator if ctx.case.model is not None else None
    if est is None:
        try:
            s_tr, y_tr, _ = binary_xy(ctx, "train")
            s_te, y_te, _ = binary_xy(ctx, "test")
        except NotApplicable:
            return None
        if len(np.unique(y_tr)) < 2 or s_tr.min() < 0 or s_tr.max() > 1:
            return None
        if not auc_ci(y_tr, s_tr)[0] <= auc_ci(y_te, s_te)[2]:
            return None
        return s_tr, y_tr, "the training rows' predictions"
    refit = ctx.user_refit()
    if refit is None:
        return None
    res, user = refit
    if res.classes is None or ctx.case.positive not in list(res.classes):
        return None
    so = np.asarray(user.oof, float)[:, list(res.classes).index(ctx.case.positive)]
    yo = (np.asarray(res.y) == ctx.case.positive).astype(float)
    ok = np.isfinite(so)
    if ok.sum() == 0:
        return None
    return so[ok], yo[ok], "the training rows' out-of-fold scores of your model refitted"


def _scan(
    ctx: Context, s: np.ndarray, y: np.ndarray, cost: dict[str, float]
) -> tuple[thr.ScanTest, float, str] | None:
    """The scan of thresholds on the side the costs point to (`stats.threshold.scan_test`) on
    every labelled row scored out of sample: the evaluation rows and `_more_rows`. None on
    decision margins or scores outside [0, 1] (no side is implied), or when the costs imply the
    threshold in use. Returns the test, the cost per row at the threshold in use on those rows,
    and where the rows come from."""
    t = thr.bayes_threshold(cost)
    if ctx.decision_scores or s.min() < 0 or s.max() > 1 or np.isclose(t, ctx.threshold):
        return None
    more = _more_rows(ctx)
    where = f"the {len(y):,} evaluation rows"
    if more is not None:
        where = f"{len(y) + len(more[1]):,} rows ({len(y):,} evaluation rows and {more[2]})"
        s = np.concatenate([s, more[0]])
        y = np.concatenate([y, more[1]])
    sc = thr.scan_test(s, y, ctx.threshold, cost, down=t < ctx.threshold, include=[t])
    return sc, float(thr.counts(s, y, np.array([ctx.threshold])).cost(cost)[0]), where


def _cost_implied(ctx: Context, s: np.ndarray, y: np.ndarray, cost: dict[str, float]) -> thr.BandTest | None:
    """The threshold the costs alone imply for probabilities, fp / (fp + fn), against the one in
    use on the evaluation rows (`stats.threshold.band_test`): fixed without looking at the labels,
    so no cross-fitting is needed. None on decision margins or scores outside [0, 1], or when it
    is the threshold in use."""
    t = thr.bayes_threshold(cost)
    if ctx.decision_scores or s.min() < 0 or s.max() > 1 or np.isclose(t, ctx.threshold):
        return None
    return thr.band_test(s, y, ctx.threshold, t, cost)


def _unshown(
    s: np.ndarray, y: np.ndarray, r: thr.TuneResult, ev: dict[str, Any], under: str, min_share: float
) -> Finding | None:
    """A saving that the rows show in-sample (the best threshold chosen on them) but whose honest,
    cross-fitted estimate has an interval reaching zero: small data is data, so an info note with
    both figures and the counts they rest on, never silence (issue 9)."""
    insample = (r.value_current - r.value_best_insample) / r.value_current if r.value_current > 0 else 0.0
    if insample < min_share:
        return None
    npos = int(y.sum())
    ev["saving_share_in_sample"] = insample
    implied = ev.get("cost_implied_threshold")
    also = ""
    if implied is not None:
        also = (
            f"; the threshold the costs imply, {implied['alternative']:.2g}, saves {implied['saving']:.3f} per "
            f"row on them (exact p = {implied['p']:.2g})"
        )
    scan = ev.get("threshold_scan")
    if scan is not None:
        also += (
            f"; on {scan['rows_from']}, the best threshold, {scan['alternative']:.2g}, saves "
            f"{scan['saving']:.3f} per row (p = {scan['p']:.2g} for the best of {scan['candidates']})"
        )
    need = ""
    half = (r.saving_ci[1] - r.saving_ci[0]) / 2
    if r.saving > 0 and half > r.saving:  # rows for the interval to shrink above 0, if the saving is real
        scale = (half / r.saving) ** 2
        ev["rows_needed_if_real"] = int(np.ceil(len(y) * scale))
        need = (
            f"; were the cross-fitted saving real, about {ev['rows_needed_if_real']:,} such rows "
            f"({int(np.ceil(npos * scale))} positives) would show it"
        )
    return Finding(
        "evaluation.untuned_threshold",
        INFO,
        f"Threshold {r.current:g} costs {r.value_current:.3f} per row; a threshold near "
        f"{r.best_threshold:.2g} saves {insample:.0%} of it on these rows, but chosen on half of them "
        f"and measured on the other the saving is {r.saving:.3f} per row (95% CI {r.saving_ci[0]:.3f} "
        f"to {r.saving_ci[1]:.3f}) {under}: {npos} positives among {len(y)} rows cannot tell it from "
        f"chance{also}{need}",
        evidence=ev,
        impact=0.0,
        root_cause="not established: the evaluation set holds too few positives to measure a "
        "threshold's saving",
        fix="judge the threshold on more labelled rows (out-of-fold predictions on the training set, "
        "or a larger validation set)",
    )


_METRIC_NAME = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "f1": "F1",
    "f1_macro": "macro F1",
    "mcc": "MCC",
}


def _metric_evidence(ctx: Context, s: np.ndarray, y: np.ndarray, m: str, r: thr.TuneResult) -> dict[str, Any]:
    a, a_lo, _ = auc_ci(y, s)
    ev: dict[str, Any] = {
        "metric": m,
        "threshold_in_use": ctx.threshold,
        "auc": a,
        "auc_ci_low": a_lo,
        f"{m}_at_threshold": 1 - r.value_current,
        f"{m}_tuned_cross_fitted": 1 - r.value_tuned,
        f"{m}_gain": r.saving,
        f"{m}_gain_ci": list(r.saving_ci),
        f"{m}_best_threshold": r.best_threshold,
        "thresholds_chosen_on_halves": [round(t, 4) for t in r.chosen_thresholds],
        "prevalence": float(y.mean()),
    }
    ev.update(_recall_at(s, y, ctx.threshold, r.best_threshold))
    return ev


def _metric_tuned(ctx: Context, p: Params, s: np.ndarray, y: np.ndarray, m: str) -> Finding | None:
    """Without a cost, the owner's headline metric when a threshold moves it: the cross-fitted
    gain of a tuned threshold on that metric, with its bootstrap interval."""
    current = ctx.threshold
    r = thr.tune(s, y, current, m, n_boot=p.n_boot, seed=ctx.config.seed)
    ev = _metric_evidence(ctx, s, y, m, r)
    cost_like = m in thr.COST_LIKE_METRICS  # a loss per row: the share of it saved, as for a cost
    share = r.saving / r.value_current if r.value_current > 0 else 0.0
    big = share >= p.min_saving_share if cost_like else r.saving >= p.min_metric_gain
    if cost_like:
        ev["loss_share_saved"] = share
    if not (big and r.saving_ci[0] > 0):
        return None
    name = _METRIC_NAME[m]
    ev["curve"] = _curve(s, y, None, [current, r.best_threshold], m)
    return Finding(
        "evaluation.untuned_threshold",
        WARNING,
        f"Threshold {current:g} gives {name} {1 - r.value_current:.3f} (the headline metric); a threshold "
        f"near {r.best_threshold:.2g} raises it to {1 - r.value_tuned:.3f} (cross-fitted; gain 95% CI "
        f"{r.saving_ci[0]:.3f}-{r.saving_ci[1]:.3f}); recall at {current:g} is "
        f"{ev['recall_at_threshold']:.0%} (prevalence {y.mean():.1%})",
        evidence=ev,
        plot_data=["curve"],
        impact=float(min(max(share if cost_like else r.saving, 0.0), 1.0)),
        root_cause=f"the threshold was left at its default instead of being chosen for {name}, the "
        "metric the model is judged on",
        fix=f"choose the threshold that maximises {name} on validation (or out-of-fold) predictions, "
        f"near {r.best_threshold:.2g} here, and use it in serving; or state the cost of each error (--cost)",
    )


def _untunable_note(ctx: Context, p: Params, s: np.ndarray, y: np.ndarray, m: str | None) -> Finding | None:
    """No cost and a headline that a threshold does not move (AUC, log loss, ...) or does not
    define alone (precision, recall): nothing says which errors matter, so a threshold that finds
    few positives is reported as info, with what F1 would gain, never as an alarm."""
    current = ctx.threshold
    rec = _recall_at(s, y, current, None)["recall_at_threshold"]
    _, a_lo, _ = auc_ci(y, s)
    if not (rec < p.max_recall and a_lo > p.min_auc):
        return None
    r = thr.tune(s, y, current, "f1", n_boot=p.n_boot, seed=ctx.config.seed)
    if r.saving < p.min_metric_gain or not r.saving_ci[0] > 0:
        return None
    ev = _metric_evidence(ctx, s, y, "f1", r)
    ev["headline_metric"] = m
    ev["curve"] = _curve(s, y, None, [current, r.best_threshold], "f1")
    why = f"the headline metric ({m}) does not depend on it" if m else "no headline metric is given"
    return Finding(
        "evaluation.untuned_threshold",
        INFO,
        f"Threshold {current:g} finds {rec:.0%} of the positives (prevalence {y.mean():.1%}); a threshold "
        f"near {r.best_threshold:.2g} would raise F1 from {1 - r.value_current:.2f} to "
        f"{1 - r.value_tuned:.2f} (cross-fitted). Not an alarm: no cost of errors is given and {why}, "
        "so nothing says this operating point is wrong",
        evidence=ev,
        plot_data=["curve"],
        impact=0.0,
        root_cause="a conservative operating point: right when false positives cost more than misses",
        fix="give --cost fp=..,fn=.. (or a threshold-dependent --metric such as f1) to have the threshold judged",
    )


@check(
    "evaluation.untuned_threshold",
    tasks=("binary",),
    requires=("model",),
    min_saving_share=Param(
        0.05, Interval(float, 0, 1), "share of the cost per row that a tuned threshold must save"
    ),
    max_recall=Param(
        0.1,
        Interval(float, 0, 1),
        "without a cost or a threshold-dependent headline: recall at the threshold in use below which "
        "an info note says what F1 a tuned threshold would reach",
    ),
    min_auc=Param(
        0.6, Interval(float, 0, 1), "for that note: lower end of the AUC interval the model must reach"
    ),
    min_metric_gain=Param(
        0.05,
        Interval(float, 0, 1),
        "without a cost: F1, macro F1 or MCC a tuned threshold must add to the headline metric",
    ),
    n_boot=Param(200, Interval(int, 1, None), "bootstrap draws of the saving's interval"),
    alpha_scan=Param(
        0.025,
        Interval(float, 0, 1, closed="neither"),
        "with a cost: one-sided level of the exact scan of thresholds on the side fp/(fp+fn) points "
        "to; with the cross-fitted interval's lower end (a one-sided 2.5% test) the pair holds 5%",
    ),
    min_positives=Param(
        2,
        Interval(int, 1, None),
        "fewest positives (and negatives) in the evaluation set: each half of a halving needs one",
    ),
)
def untuned_threshold(ctx: Context, p: Params) -> Findings:
    """The decision threshold is left at its default although the costs of errors call for another.

    What it detects
        With a cost of errors (`--cost fp=1,fn=10`): the expected cost per row at the threshold in
        use (`--threshold`, 0.5 by default) against a threshold tuned on the evaluation set. The
        saving is cross-fitted (the threshold chosen on one half of the rows, its cost measured on
        the other, over several random halvings) with a bootstrap interval; flagged when it saves
        at least `min_saving_share` of the cost and the interval excludes zero. The null is the
        threshold in use being already optimal: then the cross-fitted saving is at most zero in
        expectation (choosing on half the rows only adds noise), so an interval above zero is the
        test (a one-sided 2.5% test). A second test needs no cross-fitting and uses every
        labelled row scored out of sample: the evaluation rows, plus the training rows' out-of-
        fold scores of your model refitted in the model baselines (not under --fast), or, with
        predictions only, the training rows' predictions when their AUC is within the evaluation
        AUC's 95% interval (in-sample ones would be sharper). On the side of the threshold in use
        that the costs point to (below it when fp / (fp + fn), 0.11 at 1:8, is lower), moving
        the threshold to t changes the decision of the rows between the two, and saves exactly
        when their positive share exceeds that break-even. Every t is tried (ends of runs of
        tied scores on a geometric grid of band sizes, plus fp / (fp + fn)); the statistic is
        the smallest exact binomial p of a band, and its p-value is exact under the least
        favourable null: if the threshold in use is optimal and the chance of a positive does
        not fall as the score rises, every row on that side has at most the break-even chance,
        and the scan is likeliest to fire when all have exactly it (`stats.threshold.scan_test`).
        Flagged at `alpha_scan` (one-sided 2.5%, so the pair holds 5%) with the same
        `min_saving_share` on those rows. Null measured on the 15 threshold plants of up to
        4,000 pooled rows (their own scores; labels drawn from the scores recalibrated in
        log-odds so that 0.5 is the cost-optimal threshold at the plant's prevalence; 200 draws
        each): the scan fired in 0.43% of 3,000 draws (at most 1.5% on one plant), the
        cross-fitted test and the pair in 0 of 375; with every row below 0.5 at the break-even
        exactly, 1.0-1.3% (400 draws on three plants). Labels drawn from the scores themselves
        (0.5 then wrong): the scan found it in 72-100% of draws on five plants (lfp 83%, pima 72%). On the
        suites it adds HOLDOUT6 persona/hgb (11 positives among 232 evaluation rows; with the
        541 training rows' out-of-fold scores, 6 positives among the 13 rows scored 0.22-0.5, p
        0.0056) and HOLDOUT5 rail predictions-only (p 0.0004 on 1,581 rows); every case found
        before is found (p below 0.002). Still below what can be judged: lake/hgb (6
        evaluation positives, p 0.47), benefits/hgb (0.077), rail/hgb (0.16), lfp (0.081), pima
        (0.13) and HOLDOUT6 persona predictions-only (19 positives, AUC 0.58; p 0.028): their
        labels fall short of what their scores say. The threshold the costs imply for
        probabilities is also tested alone on the evaluation rows (exact binomial, as evidence).
        Without a cost, the owner's headline metric
        is the objective when a threshold moves it: accuracy and balanced accuracy (losses per
        row, judged like a cost: `min_saving_share` of the errors), F1, macro F1 or MCC (a gain of
        at least `min_metric_gain`). With a threshold-free headline (AUC, log loss, none given) or
        one a threshold cannot optimise alone (precision, recall), nothing says which errors
        matter: a threshold that finds few positives (recall below `max_recall`, AUC lower bound
        above `min_auc`) where a tuned one raises F1 is an `info` note, not an alarm. Measured on
        the generalisation suite: a ridge classifier at its default threshold 0 (prevalence 23%,
        AUC 0.70, headline AUC) finds 10% of the positives and is accuracy-optimal; it used to be
        flagged on F1, which its owner never chose. Small data: no minimum beyond one positive
        and one negative per half (`min_positives`); few positives widen the interval, and a
        saving the rows show in-sample whose cross-fitted interval reaches zero is an `info` note
        with both figures (held-out set: 12 positives among 154 rows, in-sample 17%, cross-fitted
        -0.050 per row, 95% CI -0.19 to 0.22; it was a hard minimum of 20 positives before). The note also gives the exact
        test of the cost-implied threshold, the scan's and, when the cross-fitted saving is positive, the rows
        at which an interval of that width would clear zero were the saving real (the width
        shrinks as one over the root of the rows): held-out benefits/hgb, 0.025 per row on 487
        rows, about 6,500; the blind set's pima, 0.30 on 116 rows, about 210.
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
    s, y, _ = binary_xy(ctx, "test")
    if len(np.unique(s)) < 3:
        raise NotApplicable("the model's scores take fewer than three values: nothing to tune")
    npos = int(y.sum())
    if npos < p.min_positives or len(y) - npos < p.min_positives:
        raise NotApplicable(f"too few positives or negatives in the evaluation set ({npos} positives)")
    cost = ctx.case.cost
    if cost is not None:
        return _cost_tuned(ctx, p, s, y, cost)
    m = canonical_metric(ctx.case.metric)
    if m in thr.TUNABLE_METRICS:
        return _metric_tuned(ctx, p, s, y, m)
    return _untunable_note(ctx, p, s, y, m)
