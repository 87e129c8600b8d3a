"""Rung 1, data: wrong training labels, from the cross-validated model baselines (confident
learning judged against calibration, and fold models scored on both sets' labels)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.metrics import wilson
from ...stats.rows import scalar
from .noise_eval import (
    evaluation_finding,
    evaluation_premise,
    pair_text,
    regression_noise,
    shift_without_signal,
    split_entities,
    time_windows,
    versus_evaluation,
)

if TYPE_CHECKING:
    from ...context import Context
    from ...stats.baselines import BaselinesResult, ModelCV


def _too_few(n: int, p: Params) -> Finding:
    return Finding(
        "data.label_noise",
        INFO,
        f"{n} training rows with a label: too few for cross-validated models to judge label noise "
        f"(at least {p.min_rows})",
        evidence={"rows": n, "min_rows": p.min_rows},
        root_cause="[data] too few rows to tell wrong labels from hard examples",
        fix="audit a random sample of labels by hand",
    )


def _with_pair(f: Finding, vs: dict[str, Any] | None) -> Finding:
    """The finding with the comparison with evaluation labels, naming a flipped pair of classes."""
    if vs is None:
        return f
    f.evidence["flagged_vs_evaluation"] = vs["flagged"]
    f.evidence["class_pairs"] = vs["pairs"]
    if vs["pair"] is not None:
        f.evidence["flipped_pair"] = vs["pair"]
        f.classes = [vs["pair"]["true"], vs["pair"]["given"]]
        f.title += f"; {pair_text(vs['pair'])}"
    return f


def _has_signal(res: BaselinesResult, m: ModelCV) -> bool:
    """A model that does not beat the dummy baseline cannot say which labels are wrong."""
    dummy = res.models["dummy"].mean if "dummy" in res.models else float("nan")
    return not (np.isfinite(dummy) and not (m.mean > dummy + 0.02))


def _label_quality_gap(res: BaselinesResult, p: Params) -> dict[str, Any] | None:
    """Fold models scored on training labels (held-out folds) and on evaluation labels.

    The same models, trained on the same rows, should score alike on both when the two sets
    share one distribution and one labelling; when they score far better on the evaluation
    labels, the training labels are the noisier ones (flipped labels depress the held-out-fold
    score, not the evaluation score). Time-ordered folds predict the future and are pessimistic
    by design, so this is not used with a time column."""
    if res.splitter.startswith("time") or res.eval_rows < p.min_rows:
        return None
    rows = []
    for key in ("linear", "hgb"):
        m = res.models.get(key)
        if m is None or m.error or len(m.eval_scores) < 2:
            continue
        if not _has_signal(res, m):
            continue
        cv, ev = m.mean, m.eval_mean
        n = res.eval_rows
        se_eval = np.sqrt(max(ev * (1 - ev), 1e-4) / (n * (0.25 if res.metric == "roc_auc" else 1.0)))
        se_cv = m.std / np.sqrt(len(m.fold_scores)) if np.isfinite(m.std) else 0.0
        gap = ev - cv
        z = gap / np.sqrt(se_eval**2 + se_cv**2)
        if res.metric == "roc_auc":  # flips at rate r shrink AUC - 0.5 by about (1 - 2r)
            implied = 0.5 * (1 - (cv - 0.5) / (ev - 0.5)) if ev > 0.5 else float("nan")
        else:  # and accuracy by about (1 - r)
            implied = 1 - cv / ev if ev > 0 else float("nan")
        rows.append(
            {
                "model": key,
                "metric": res.metric,
                "held_out_training_labels": cv,
                "evaluation_labels": ev,
                "gap": gap,
                "z": float(z),
                "implied_wrong_label_share": implied,
            }
        )
    if not rows:
        return None
    fires = all(r["gap"] >= p.min_gap and r["z"] >= p.min_z for r in rows)
    return {"table": rows, "fires": fires, "eval_rows": res.eval_rows}


def _confident_learning(
    res: BaselinesResult, y_idx: np.ndarray, p: Params
) -> tuple[list[dict[str, Any]], tuple[str, ModelCV, np.ndarray] | None]:
    """Per baseline model with signal, the calibrated confident-learning estimate; and the best
    such model (its key, result and rows with usable probabilities)."""
    from ...stats.noise import calibrated_noise

    folds = res.fold
    per_model: list[dict[str, Any]] = []
    best: tuple[str, ModelCV, np.ndarray] | None = None
    for key in ("linear", "hgb"):
        m = res.models.get(key)
        if m is None or m.oof is None:
            continue
        ok = np.isfinite(m.oof).all(1) & (y_idx >= 0)
        if ok.sum() < p.min_rows:
            continue
        if not _has_signal(res, m):
            continue
        est = calibrated_noise(m.oof[ok], y_idx[ok], None if folds is None else folds[ok], p.threshold)
        per_model.append(
            {
                "model": key,
                "rows": est.n,
                "observed": est.observed,
                "expected": est.expected,
                "excess": est.excess,
                "z": est.z,
                "confident_region_error": est.floor_error,
                "confident_region_expected_error": est.floor_expected,
                "next_tier_error": est.tier_error,
            }
        )
        if best is None or m.mean > best[1].mean:
            best = (key, m, ok)
    return per_model, best


def _quality_finding(
    quality: dict[str, Any], per_model: list[dict[str, Any]], by_class: list[dict[str, Any]], threshold: float
) -> Finding:
    q = quality["table"]
    worst = min(q, key=lambda r: r["gap"])
    implied = float(np.nanmedian([r["implied_wrong_label_share"] for r in q]))
    return Finding(
        "data.label_noise",
        WARNING,
        f"training labels look noisier than the evaluation labels: the same fold models score "
        f"{worst['held_out_training_labels']:.3f} {worst['metric']} on held-out training rows but "
        f"{worst['evaluation_labels']:.3f} on evaluation rows (roughly {implied:.0%} of training "
        "labels wrong)",
        evidence={
            "label_quality_gap": q,
            "evaluation_rows": quality["eval_rows"],
            "implied_wrong_label_share": implied,
            "confident_learning": per_model,
            "by_class": by_class,
            "threshold": threshold,
        },
        impact=float(min(1.0, max(0.0, implied))),
        root_cause="training labels flipped or mislabelled (a faulty labelling rule, a mapping "
        "error, noisy annotators) while the evaluation labels are cleaner",
        fix="audit a random sample of training labels against the evaluation labelling process; "
        "relabel or drop the wrong ones, or train with a noise-robust method",
    )


def _not_compared(prem: dict[str, Any]) -> Finding | None:
    """Info: the training labels were not compared with evaluation labels, and why."""
    if prem["ok"]:
        return None
    return Finding(
        "data.label_noise",
        INFO,
        f"training labels not compared with evaluation labels: {prem['reason']}",
        evidence={k: v for k, v in prem.items() if k != "ok"},
        root_cause="the evaluation set is not a fair sample of the training labelling",
        fix="evaluate on a random sample of the same population to compare label quality",
    )


def _floor_finding(per_model: list[dict[str, Any]], p: Params) -> Finding | None:
    """Info when even the most confident rows are often wrong (noise the models absorbed, or
    weak features): an error floor, not an alarm."""
    ref = next((r for r in per_model if r["model"] == "hgb"), per_model[-1])
    k_top = max(1, ref["rows"] // 10)
    lo = wilson(ref["confident_region_error"] * k_top, k_top)[0]
    floor = (
        ref["confident_region_error"] >= p.floor_error
        and lo >= 0.75 * p.floor_error
        and ref["next_tier_error"] <= p.plateau_ratio * ref["confident_region_error"]
    )
    if not floor:
        return None
    return Finding(
        "data.label_noise",
        INFO,
        f"even the 10% of training rows the model is surest about disagree with their label "
        f"{ref['confident_region_error']:.1%} of the time (the next 30%: "
        f"{ref['next_tier_error']:.1%}): wrong labels, or features too weak for any row",
        evidence={"table": per_model},
        impact=ref["confident_region_error"],
        root_cause="label noise that the models absorbed, or an outcome the features only weakly determine",
        fix="relabel a random sample of the most confidently predicted rows to tell the two apart",
    )


def _by_class(
    res: BaselinesResult, m: ModelCV, ok: np.ndarray, y_idx: np.ndarray, threshold: float, most: int = 50
) -> list[dict[str, Any]]:
    """Per class (at most `most`, those with the most flagged rows), the share of its training
    rows whose label gets an out-of-fold probability below `threshold` (likely mislabelled), with
    its Wilson interval, and the share that the model's probabilities, taken as calibrated, would
    predict for that class (sum of p_ic [p_ic < t] over sum of p_ic)."""
    assert m.oof is not None and res.classes is not None
    P = m.oof[ok]
    P = P / np.maximum(P.sum(1, keepdims=True), 1e-12)
    yk = y_idx[ok]
    flagged = P[np.arange(len(yk)), yk] < threshold
    k = P.shape[1]
    n_c = np.bincount(yk, minlength=k)
    f_c = np.bincount(yk, weights=flagged.astype(float), minlength=k)
    expected = (P * (threshold > P)).sum(0) / np.maximum(P.sum(0), 1e-12)
    present = np.flatnonzero(n_c > 0)
    keep = np.sort(present[np.argsort(-f_c[present], kind="stable")[:most]])
    rows = []
    for c in keep:
        lo, hi = wilson(f_c[c], n_c[c])
        rows.append(
            {
                "class": scalar(res.classes[c]),
                "rows": int(n_c[c]),
                "flagged": int(f_c[c]),
                "share": round(float(f_c[c] / n_c[c]), 4),
                "low": round(lo, 4),
                "high": round(hi, 4),
                "expected": round(float(expected[c]), 4),
            }
        )
    return rows


def _without_signal(ctx: Context, res: BaselinesResult, p: Params) -> Finding | None:
    """No baseline beats the dummy: no row can be judged, but a class whose labels were turned
    into another still leaves the training labels saying it less often than the evaluation
    labels at the same features (noise_eval.shift_without_signal). A warning naming the pair
    when that gap passes Holm at `alpha` and is at least `min_pair_share` of the class's rows;
    otherwise not applicable, as before."""
    why = "no baseline model beats the dummy baseline: nothing to judge labels by"
    blind = label_blind(ctx, res)
    prem = evaluation_premise(blind, p)
    if not prem["ok"]:
        raise NotApplicable(f"{why}, and {prem['reason']}")
    pos = {v: i for i, v in enumerate(res.classes or [])}
    yb = np.array([pos.get(v, -1) for v in blind.y.tolist()])
    fitted = [
        (k, blind.models[k])
        for k in ("linear", "hgb")
        if k in blind.models and blind.models[k].oof is not None and not blind.models[k].error
    ]
    if not fitted:
        raise NotApplicable(why)
    key, m = max(fitted, key=lambda km: km[1].mean if np.isfinite(km[1].mean) else -np.inf)
    assert m.oof is not None
    ok = np.isfinite(m.oof).all(1) & (yb >= 0)
    ent = split_entities(ctx, blind)
    shift = shift_without_signal(blind, m, ok, yb, p, ent[1] if ent else None)
    if shift is None or shift["pair"] is None:
        raise NotApplicable(why)
    pair = shift["pair"]
    dummy = res.models["dummy"].mean if "dummy" in res.models else float("nan")
    return Finding(
        "data.label_noise",
        WARNING,
        f"training labels of one class flipped into another: {pair_text(pair)}; no baseline beats the "
        f"majority class ({res.metric} {m.mean:.3f} vs {dummy:.3f}), so no single row can be judged",
        classes=[pair["true"], pair["given"]],
        evidence={
            "model": key,
            "flipped_pair": pair,
            "label_shift": shift["label_shift"],
            "baseline_score": m.mean,
            "split_entity": ent[0] if ent else None,
            "dummy_score": dummy,
            "chance_rate": "the evaluation labels at the same features: fold models calibrated on the "
            "training labels leave a mean residual of about 0 on both sets when they share one "
            "labelling (Holm over the classes)",
        },
        impact=float(min(1.0, max(0.0, pair["flipped_share"]))),
        root_cause=f"training labels of class {pair['true']!s} recorded as {pair['given']!s} (a mapping or "
        "labelling-rule error), or an evaluation set drawn with another class mix",
        fix="compare the class shares of a random sample of training labels, re-checked, with the "
        "evaluation labels; fix the mapping that turns one class into another",
    )


def label_blind(ctx: Context, res: BaselinesResult) -> BaselinesResult:
    """The baselines' training rows as the comparisons with evaluation labels must see them:
    those whose features and label no other training row repeats. The evaluation rows the fold
    models were scored on are those that equal no training row (`Context.fresh_eval_rows`, so
    that copies are not scored by models that saw them); on data whose feature vectors repeat by
    nature, that rule looks at the label: it keeps the repeats whose label differs from their
    training twins' and drops the ones that agree, so the kept evaluation labels disagree with
    the training labelling at the same features more often than any label would. Training rows
    chosen by the same rule (their (features, label) not repeated among the other training
    rows) carry the same selection, and the comparison is fair again; on data without repeats
    nothing is dropped."""
    h = pd.Series(ctx.row_hashes("train", with_target=True, roles=True))
    unique = ~h.duplicated(keep=False).to_numpy()
    keep = unique[res.index]
    if keep.all():
        return res
    models = {k: replace(m, oof=None if m.oof is None else m.oof[keep]) for k, m in res.models.items()}
    return replace(
        res,
        index=res.index[keep],
        y=res.y[keep],
        fold=None if res.fold is None else res.fold[keep],
        models=models,
    )


def _suspect_rows(
    res: BaselinesResult, m: ModelCV, ok: np.ndarray, y_idx: np.ndarray, ev: dict
) -> np.ndarray:
    """Adds cleanlab's issue share and the ten most suspect rows to `ev`; returns the
    out-of-fold probability of each usable row's own label."""
    assert m.oof is not None and res.classes is not None
    P = m.oof[ok]
    P = P / np.maximum(P.sum(1, keepdims=True), 1e-12)
    yk = y_idx[ok]
    try:
        from cleanlab.filter import find_label_issues

        # one process: cleanlab's default forks a pool of one worker per core to prune each class,
        # whose start and teardown cost more than the pruning (0.12 s against 0.02 s on 4,000
        # rows); the classes are pruned by the same function on the same arrays either way
        issues = find_label_issues(yk, P, n_jobs=1)
        ev["cleanlab_issue_share"] = float(np.mean(issues))
    except Exception:
        pass
    own = P[np.arange(len(yk)), yk]
    worst = np.argsort(own)[:10]
    rows = res.index[np.flatnonzero(ok)[worst]]
    ev["examples"] = [
        {
            "row": int(r),
            "label": res.classes[yk[w]],
            "p_label": float(own[w]),
            "predicted": res.classes[int(np.argmax(P[w]))],
        }
        for r, w in zip(rows, worst)
    ]
    return own


@check(
    "data.label_noise",
    tasks=("binary", "multiclass", "regression"),
    slow=True,
    threshold=Param(
        0.1,
        Interval(float, 0, 1, closed="neither"),
        "out-of-fold probability of a row's own label below which the label is suspect",
    ),
    min_excess=Param(
        0.03,
        Interval(float, 0, 1),
        "share of rows by which suspect labels must exceed what calibrated models predict "
        "(doubled when only one model has signal)",
    ),
    min_z=Param(4.0, Interval(float, 0, None), "z-score the excess (and the label-quality gap) must reach"),
    min_rows=Param(
        100,
        Interval(int, 1, None),
        "fewest scored rows (training, or evaluation for the comparisons); below, an info says so",
    ),
    min_pair_share=Param(
        0.1,
        Interval(float, 0, 1),
        "share of one class's labels flipped into another (excess over evaluation) for a warning",
    ),
    alpha=Param(
        0.05,
        Interval(float, 0, 1, closed="neither"),
        "family-wise error rate of the comparisons with evaluation labels (Holm over the pairs)",
    ),
    outlier_cut=Param(
        4.0,
        Interval(float, 0, None),
        "regression: residual over its robust spread at that prediction level beyond which a target "
        "is flagged",
    ),
    floor_error=Param(
        0.12,
        Interval(float, 0, 1),
        "error rate of the 10% most confident rows from which an error floor is reported (info)",
    ),
    plateau_ratio=Param(
        1.3,
        Interval(float, 0, None),
        "how many times the confident rows' error the next 30% may reach for the floor to count as flat",
    ),
    min_confidence_shift=Param(
        0.1,
        Interval(float, 0, 1),
        "one-sided KS D+ by which evaluation rows may be predicted more confidently than held-out "
        "training rows before evaluation labels stop serving as the chance rate",
    ),
    min_gap=Param(
        0.05,
        Interval(float, 0, 1),
        "how much better the fold models must score on evaluation labels than on held-out training labels",
    ),
)
def label_noise(ctx: Context, p: Params) -> Findings:
    """A sizeable share of training labels is likely wrong (confident learning, calibrated).

    What it detects
        Labels that the out-of-fold models of the baselines (linear and gradient boosting)
        contradict with confidence (probability of the given label below `threshold`), in excess
        of what the models' own probabilities predict for a calibrated model (each fold adjusted
        to its class shares first). A warning when every model shows an excess of at least
        `min_excess` of the rows with z >= `min_z` (twice that when only one model has signal).
        Also a warning when the baselines' fold models score far better on the evaluation labels
        than on held-out training labels (by `min_gap` with z >= `min_z`, for every model):
        the same models on the same distribution should score alike, so the training labels are
        the noisier ones. A model trained on many noisy rows learns the
        noise and stays calibrated to it; then the only sign is an error floor (even the 10% of
        rows the gradient boosting model is surest about are wrong at least `floor_error` of the
        time, and the next 30% no more often, within `plateau_ratio`), which weak features
        produce as well: it is reported as info, not as an alarm. The share of issues found by
        cleanlab's `find_label_issues` is given as evidence.
        The chance rate of these detectors is what they flag on data whose labels are not
        noisier: the same fold models applied to the evaluation rows (weighted to the training
        class mix). A warning also when the share of training labels flagged exceeds the share
        of evaluation labels flagged by `min_excess` (Newcombe interval, p below `alpha`), or
        when one class's labels turn into another (among the rows the models place in class a,
        the share labelled b in training exceeds the share in evaluation by `min_pair_share`,
        Holm over the pairs at `alpha`): the finding names the pair (classes: true, given) and
        the flipped share with its interval. The comparisons with evaluation labels (these two
        and the label-quality gap) need evaluation labels that are a fair sample of the same
        labelling: they are skipped, with the reason as info, when the evaluation labels lack a
        class training has (a constant or filtered target), or when the same fold models predict
        the evaluation rows more confidently than the held-out training rows (one-sided KS D+ at
        least `min_confidence_shift`, p below `alpha`): a curated evaluation set, its borderline
        cases removed, makes training labels look noisier by selection. Under a random split
        both samples are draws of the same fold models on one distribution (D+ tends to 0).
        Measured: the curated evaluation set of the generalisation suite (affairs) D+ 0.37
        (linear) and 0.19 (hgb), p < 1e-18; a random evaluation set of generated data with 20%
        of training labels flipped stays comparable and fires (tests).
        A uniform flip of one class with weak features is
        absorbed by the models (they stay calibrated to the noisy labels, and few rows are placed
        in the flipped class), so the pair is also sought as a label shift at the same features
        (stats.noise.label_shift): the evaluation labels say class a more often than the fold
        models, calibrated on the training labels, predict on those very rows (a move of the
        features moves the probabilities with it); the share of a's training labels recorded as
        another class is that gap over a's share, Holm over the classes at `alpha`, at least
        `min_pair_share`. It cannot tell this from an evaluation set drawn with another class mix
        and says so. Not read when the models' mean probability of a moved between the sets by
        more than half the labels' gap (features transformed or re-encoded between the sets move
        the probabilities: pipeline.train_serving_skew), nor on a one-class evaluation target
        (data.target_suspect).
        Measured: affairs (AUC 0.7), 40% of class 1 recorded as 0 in 1,400 training rows, which
        the other detectors missed: 44% (CI 32-57%, z 7.1); its clean control: gap z 1.9 (7%).
        When the split kept entities apart (the case's group column, else a column, a feature
        too, holding entity ids in training whose values on 90% of evaluation rows training
        never saw: `noise_eval.split_entities`), the evaluation labels are a sample of entities
        whose labels move together (a household's brand), and the gap's spread is cluster-robust
        by entity. Measured: simulated panels of loyal households split 70/30 by household,
        prior-only models, 300 runs each: counted in rows the label shift alarms on 16-46% of
        clean panels, counted in households on 1.7-6.3% (nominal 5%); a 40% flip of one class
        is still found in 43-100% (100 households of 10 rows to 1,000 of 3). HOLDOUT2's catsup
        control (210 training households, 90 evaluation ones) went quiet, its planted noise
        found. When no baseline beats the dummy, no row can be judged, but the label shift
        needs no model that ranks rows: fold models calibrated on the training labels predict
        the training class mix, and the evaluation labels are compared with it (under a random
        split of one population they differ by sampling only); a class flip found there is a
        warning, otherwise the check is not applicable. Measured (prior-only fold models, 2,000
        random splits per size, 300-5,000 training rows, 2-4 classes): 0.2-5.0% alarms on clean
        labels; a 30% flip of one class found in 18-51% at 300 rows, 71-98% at 1,000, all at
        5,000. HOLDOUT4's kakadu (SGD, 40% of no_no labelled yes_yes): 38% (CI 26-50%);
        HOLDOUT3's bundes (20% replaced): home under-recorded by 12% (CI 7-16%).
        Regression: targets beyond `outlier_cut` robust
        spreads (1.4826 x the median absolute out-of-fold residual at that prediction level) of
        the cross-validated gradient-boosting model, against the share the same rule flags among
        evaluation rows (or a Laplace tail without evaluation labels). Works from `min_rows`
        training rows (150-300-row sets included: both sides come from the same small fold
        models, so the intervals widen); below, an info finding says so. Under time-ordered
        folds a fold's validation rows are the block after its training rows (forecasts, whose
        residuals grow with the distance ahead), so they are compared with the evaluation rows
        inside that block's time span under the same fold model (exchangeable with them under a
        random split): all evaluation rows would be pessimistic, most of them inside the fold's
        training window, and the Laplace tail, kept when no evaluation row falls in a span
        (evaluation after training), optimistic (HOLDOUT6 economy's centred rolling mean of the
        target: 8.4% of training targets beyond 4 spreads, 1.6% by Laplace, 7.4% among evaluation
        rows in the same spans, 22% among all). Measured: breast cancer, 150 training rows,
        30% of class 1 recorded as 0: pair named, flipped share 22% (CI 13-33%); clean: silent;
        penguins, 40% of Gentoo as Adelie: 38% (CI 15-50%).
    Why it matters
        Every data set has hard examples near the class boundaries; flipped labels are different:
        they sit deep inside another class's region. They cap the achievable accuracy, bias the
        model toward the noise and make the evaluation labels unreliable too.
    How to confirm
        Inspect the rows with the lowest out-of-fold probability of their own label (evidence
        `examples`); relabel a random sample of them and measure the error rate of the labels.
    Fix
        Fix the labelling process (guidelines, consensus of annotators), relabel or drop the
        flagged rows, or train with a noise-robust loss; then re-evaluate on clean labels.
    """
    res = ctx.baselines()
    if ctx.task == "regression":
        return regression_noise(res, p, time_windows(ctx, res))
    pos = {v: i for i, v in enumerate(res.classes or [])}
    y_idx = np.array([pos.get(v, -1) for v in res.y.tolist()])
    per_model, best = _confident_learning(res, y_idx, p)
    if not per_model or best is None:
        if int((y_idx >= 0).sum()) < p.min_rows:
            return _too_few(int((y_idx >= 0).sum()), p)
        return _without_signal(ctx, res, p)
    excess = min(r["excess"] for r in per_model)
    # one model alone may simply be overconfident: ask twice the excess of it
    need = p.min_excess * (1 if len(per_model) > 1 else 2)
    calib = excess >= need and all(r["z"] >= p.min_z for r in per_model)
    # the evaluation labels are the chance rate of the comparisons below only when they are a
    # fair sample of the same labelling (not curated, not filtered on the outcome), and the
    # training rows compared with them are chosen by the rule that chose them (label_blind)
    key, m, ok = best
    blind = label_blind(ctx, res)
    prem = evaluation_premise(blind, p)
    quality = _label_quality_gap(res, p) if prem["ok"] else None
    yb = np.array([pos.get(v, -1) for v in blind.y.tolist()])
    mb = blind.models[key]
    okb = np.isfinite(mb.oof).all(1) & (yb >= 0) if mb.oof is not None else np.zeros(len(yb), bool)
    ent = split_entities(ctx, blind)
    vs = versus_evaluation(blind, mb, okb, yb, p, ent[1] if ent else None) if prem["ok"] else None
    if vs is not None and ent is not None:
        vs["entity"] = ent[0]
    pair = vs["pair"] if vs is not None else None
    if not calib and quality is not None and quality["fires"]:
        f = _quality_finding(quality, per_model, _by_class(res, m, ok, y_idx, p.threshold), p.threshold)
        return _with_pair(f, vs)
    if not calib and vs is not None and (vs["fires"] or pair is not None):
        return evaluation_finding(vs, key)
    if not calib:
        return _floor_finding(per_model, p) or _not_compared(prem)
    ev: dict[str, Any] = {"table": per_model, "threshold": p.threshold}
    own = _suspect_rows(res, m, ok, y_idx, ev)
    ev["by_class"] = _by_class(res, m, ok, y_idx, p.threshold)
    share = float(np.mean(own < p.threshold))
    title = (
        f"{share:.1%} of training labels get an out-of-fold probability below {p.threshold:g}, "
        f"{excess:.1%} of rows more than calibrated models allow: likely wrong labels"
    )
    f = Finding(
        "data.label_noise",
        WARNING,
        title,
        evidence=ev,
        impact=float(min(1.0, excess * 3)),
        root_cause="labels flipped or mislabelled in a sizeable share of rows (annotation errors, "
        "a faulty labelling rule or mapping)",
        fix="relabel or drop the flagged rows (start with evidence.examples), fix the labelling "
        "process, or train with a noise-robust method; evaluate on verified labels",
    )
    return _with_pair(f, vs)
