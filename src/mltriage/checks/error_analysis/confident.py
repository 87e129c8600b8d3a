"""errors.high_confidence_errors: mistakes the model makes with high confidence, when they cluster
in a slice; scattered ones are told apart into likely label errors (their nearest training rows
carry the predicted class), other confident ones, and medium- and low-confidence ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import INFO, WARNING, Finding
from ...model import Predictions
from ...positive import negative_of, positive_scores
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.attribution import keys
from .common import (
    baseline_error,
    contrast,
    gain_numbers,
    skill,
    slice_search,
    train_share,
)
from .confident_region import Region, confident_threshold, explains, find_regions
from .label_errors import likely_label_errors

if TYPE_CHECKING:
    from ...context import Context

PROBABILITY = Interval(float, 0, 1)


@check(
    "errors.high_confidence_errors",
    tasks=("binary", "multiclass"),
    requires=("model", "proba"),
    confidence=Param(
        0.9, PROBABILITY, "probability of the predicted class from which a mistake is confident"
    ),
    min_errors=Param(
        10,
        Interval(int, 1, None),
        "fewest confident mistakes to search for a slice (below: an info finding says so)",
    ),
    min_lift=Param(
        2.0,
        Interval(float, 0, None),
        "error rate of the region's confident decisions over that of the other confident decisions",
    ),
    min_surprise=Param(
        2.0,
        Interval(float, 1, None),
        "error rate of the region's confident decisions over the rate their confidence predicts "
        "(lower end of its 95% interval)",
    ),
    alpha=Param(
        0.05,
        Interval(float, 0, 1, closed="neither"),
        "family-wise error rate of the slice confirmation (Holm)",
    ),
    min_support=Param(
        0.01, Interval(float, 0, 1, closed="neither"), "smallest share of evaluation rows a slice may hold"
    ),
    min_skill_overall=Param(
        0.2,
        Interval(float, None, 1),
        "skill over the majority class the model needs overall (or outside the region) for a "
        "warning, unless the region explains its confident mistakes (see min_share)",
    ),
    confident_share=Param(
        0.5,
        Interval(float, 0, 1, closed="neither"),
        "when fewer decisions than this share reach `confidence`, the confident ones are the "
        "model's most confident decisions of this share",
    ),
    min_share=Param(
        0.5,
        PROBABILITY,
        "share of all confident mistakes a region must hold to explain them (most of them), in a "
        "model that does not work on aggregate",
    ),
    low_confidence=Param(
        0.6, PROBABILITY, "probability of the predicted class below which a mistake is low-confidence"
    ),
    knn_k=Param(15, Interval(int, 1, None), "nearest training rows read per scattered confident mistake"),
    knn_train_rows=Param(5000, Interval(int, 2, None), "training rows sampled for the neighbour search"),
    knn_max_rows=Param(
        400, Interval(int, 1, None), "most scattered confident mistakes checked (sampled beyond)"
    ),
    max_neighbour_share=Param(
        0.2,
        PROBABILITY,
        "largest share of a mistake's neighbours with its given label for a likely label error",
    ),
)
def high_confidence_errors(ctx: Context, p: Params) -> Findings:
    """A cluster of mistakes that the model makes with high confidence.

    What it detects
        A region where the model's confident decisions go wrong: among its confident decisions
        (probability of the predicted class >= `confidence`, or, when fewer than
        `confident_share` of the decisions reach it, the model's most confident decisions of
        that share: a weak model's confident decisions are the upper half of its own confidence;
        margin-only models get Platt-scaled margins), a slice (found and confirmed like
        underperforming slices, over the confident decisions only, so a large region whose
        labelling rule changed is found whole rather than its densest corner) whose error rate
        is at least `min_lift` times the other confident decisions' and at least `min_surprise`
        times what the model's confidence predicts there (the lower end of the ratio's 95%
        interval; the expectation is the larger of the probabilities at
        face value and what the same confidence means on the confident decisions outside the
        region, an isotonic map, so a globally over-confident model is not taken for a
        surprised one; margins Platt-scaled on the evaluation labels count only through the
        latter). The test is one-sided on the slice search's confirmation half and must survive
        Holm's correction over the regions tried. The finding gives the region's share of all
        confident mistakes with its Wilson interval, the share its probabilities predict, and
        the cause the evidence supports (a column the model does not take, the region
        under-represented in training, its label mix different from training's: a labelling
        rule or the meaning of a feature changed there). It warns in a model that works on
        aggregate or outside the region (skill over the majority class at least
        `min_skill_overall`), or when the region explains the confident mistakes: it holds at
        least `min_share` of them (most: the lower bound of the share's 95% interval, on the
        confirmation half) and outside it confident decisions err no more than
        `min_surprise` times what their probabilities predict (a model that does not work has
        confident mistakes everywhere; a changed rule in one group drags the aggregate skill
        down and leaves the rest as expected). Defaults, measured on the public benchmark and
        the generalisation suite (benchmarks/variants): on the clean controls and on scenarios
        with no changed region (temporal split, unhandled imbalance, version mismatch, overfit,
        miscalibration, a curated evaluation set) the regions confirmed show observed/expected
        ratios of 0.7-2.3 whose 95% intervals start at 1.74 at most (miscalibration); regions
        whose labels changed for 60% of the confident decisions show ratios of 2.8-5.5 starting
        at 2.5-5.0, lifts of 2.7-5.5 (an error rate among confident decisions is capped at 1, so
        a weak model whose confident decisions err 24% elsewhere cannot show 3x) and hold 73-74%
        of the confident mistakes (intervals starting at 66-68%). A large region may hold most
        confident mistakes at a ratio near 1 (74% on Adult) because it holds most confident
        decisions: the share alone is no alarm. Scattered confident mistakes are reported
        as info only, and so are fewer than `min_errors` of them (too few to search).
        Low-confidence mistakes (more data helps) and likely label errors are kept apart in the
        evidence: the error kinds table splits mistakes into confident ones inside an error slice
        (systematic), confident scattered ones whose nearest training rows carry the predicted
        class (likely label errors: relabel), other confident ones, medium- and low-confidence
        ones.
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
    margins = pred.kind == "decision" and pred.decision is not None
    if margins:
        pred = _platt(ctx, pred)
    elif not pred.has_proba or pred.proba is None:
        raise NotApplicable("the model gives no probabilities")
    mk = _mistakes(ctx, pred, p)
    ev: dict[str, Any] = {
        "confident_errors": mk.n_confident,
        "errors": mk.n_errors,
        "confidence": p.confidence,
        "share_of_rows": mk.n_confident / max(mk.n_rows, 1),
        "low_confidence_errors": int(mk.low.sum()),
    }
    if margins:
        ev["confidence_from"] = (
            "the model has no predict_proba: the probability of the predicted class is its "
            "decision_function margin Platt-scaled on the evaluation labels, cross-fitted over halves"
        )
    base = baseline_error(mk.y[mk.valid], "error rate")
    skill_all = skill(float(mk.wrong[mk.valid].mean()) if mk.valid.any() else float("nan"), base)
    ev["skill_overall"] = skill_all
    works = bool(np.isfinite(skill_all) and skill_all >= p.min_skill_overall)
    hit = _confident_region(ctx, mk, works, p, own=not margins) if mk.n_confident >= p.min_errors else None
    ev["confidence_used"] = mk.threshold
    if mk.tried:
        ev["regions_tested"] = mk.tried
    # keep the kinds of mistakes apart: systematic (inside a confirmed error slice), likely label
    # errors (confident, scattered, and their training neighbours carry the predicted class, not the
    # given one), other confident ones, and low-confidence ones near the boundary
    systematic = _systematic(ctx, mk.n_rows, hit)
    label_err, knn_note = likely_label_errors(ctx, mk.confident & ~systematic, mk.label, mk.y, p)
    ev["likely_label_errors"] = int(label_err.sum())
    ev["error_kinds"] = _error_kinds(mk, systematic, label_err, p)
    if label_err.any():
        ev["label_error_examples"] = (
            ctx.frame("test")[label_err]
            .head(5)
            .assign(
                **{
                    "given_label": mk.y[label_err][:5],
                    "predicted": mk.label[label_err][:5],
                    "confidence": mk.conf[label_err][:5],
                }
            )
            .to_dict(orient="records")
        )
    res = contrast(ctx)
    if res and res["table"]:
        ev["errors_vs_correct"] = res["table"]
    ev["label_error_method"] = knn_note
    if hit is not None:
        ev["surprise"] = hit.test
        return _slice_finding(ctx, hit, mk, label_err, ev, p)
    return _scattered_finding(mk, label_err, ev, p)


@dataclass
class _Mistakes:
    """The evaluation rows' labels, predictions and confidence, and which mistakes are which."""

    y: np.ndarray
    label: np.ndarray
    valid: np.ndarray  # rows with a label
    wrong: np.ndarray
    conf: np.ndarray  # probability of the predicted class
    confident: np.ndarray  # mistakes at confidence >= p.confidence
    low: np.ndarray  # mistakes at confidence < p.low_confidence
    threshold: float = 0.9  # the confidence from which a decision is confident
    tried: list[dict[str, Any]] | None = None  # the regions tested

    @property
    def decided(self) -> np.ndarray:
        """Confident decisions (right or wrong) with a label."""
        return self.valid & (self.conf >= self.threshold)

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def n_errors(self) -> int:
        return int(self.wrong.sum())

    @property
    def n_confident(self) -> int:
        return int(self.confident.sum())


def _mistakes(ctx: Context, pred: Predictions, p: Params) -> _Mistakes:
    y = np.asarray(ctx.y("test"), dtype=object)
    label = np.asarray(pred.label, dtype=object)
    valid = ~pd.isna(pd.Series(y)).to_numpy()
    wrong = (keys(label) != keys(y)) & valid
    if ctx.task == "binary" and pred.kind == "decision":  # Platt-scaled margins (see _platt)
        p_pos = positive_scores(np.asarray(pred.proba, dtype=float), pred.classes, ctx.case.positive)
        is_pos = keys(label) == keys(np.full(len(label), ctx.case.positive, dtype=object))
        conf = np.where(is_pos, p_pos, 1 - p_pos)
    elif ctx.task == "binary":
        s = np.asarray(pred.score, dtype=float)
        conf = np.where(s >= ctx.threshold, s, 1 - s)
    else:
        conf = np.asarray(pred.proba, dtype=float).max(axis=1)
    conf = np.where(np.isfinite(conf), conf, 0.0)
    c = confident_threshold(conf, valid, p)
    confident = wrong & (conf >= c)
    return _Mistakes(y, label, valid, wrong, conf, confident, wrong & (conf < min(p.low_confidence, c)), c)


def _platt(ctx: Context, pred: Predictions) -> Predictions:
    """A margin-only model's predictions with probabilities from its margins (stats.decision),
    so that the confidence of each prediction is the estimated probability of the predicted class."""
    import dataclasses

    from ...stats.decision import platt_margins

    c = ctx.case
    classes = list(pred.classes or c.classes or [])
    d = np.asarray(pred.decision, dtype=float)
    if c.task == "binary":  # the margin points to the positive class: columns [negative, positive]
        classes = [negative_of(classes, c.positive), c.positive]
    proba = platt_margins(d, np.asarray(ctx.y("test"), dtype=object), classes, seed=ctx.config.seed)
    return dataclasses.replace(pred, proba=proba, classes=classes, has_proba=True)


def _confident_region(ctx: Context, mk: _Mistakes, works: bool, p: Params, own: bool) -> Region | None:
    """The first confirmed region of confident mistakes (confident_region.py) that warns: the model
    works on aggregate or outside the region, or the region explains its confident mistakes."""
    regions, tried = find_regions(ctx, mk.wrong, mk.conf, mk.decided, p, own)
    mk.tried = tried
    for r in regions:
        if works or _works_elsewhere(mk, ~r.mask & mk.valid, p) or explains(r, p):
            return r
    return None


def _works_elsewhere(mk: _Mistakes, rest: np.ndarray, p: Params) -> bool:
    base = baseline_error(mk.y[rest], "error rate")
    s = skill(float(mk.wrong[rest].mean()) if rest.any() else float("nan"), base)
    return bool(np.isfinite(s) and s >= p.min_skill_overall)


def _systematic(ctx: Context, n: int, hit: Region | None) -> np.ndarray:
    """Rows inside a confirmed error slice: this check's, and errors.underperforming_slice's
    (its search, with its parameters, is shared through the context's cache)."""
    systematic = np.zeros(n, dtype=bool)
    if hit is not None:
        systematic |= hit.mask
    try:
        for sl in slice_search(ctx, ctx.config.params("errors.underperforming_slice")):
            systematic |= sl.mask
    except NotApplicable:
        pass
    return systematic


def _error_kinds(mk: _Mistakes, systematic: np.ndarray, label_err: np.ndarray, p: Params) -> list[dict]:
    sys_conf = mk.confident & systematic
    other_conf = mk.confident & ~systematic & ~label_err
    mid = mk.wrong & ~mk.confident & ~mk.low
    kinds: list[dict[str, Any]] = [
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
            "rows": int(mk.low.sum()),
            "action": "near the decision boundary: more data or features help; a threshold moves them",
        },
    ]
    n_err = mk.n_errors
    for k in kinds:
        k["share_of_errors"] = k["rows"] / n_err if n_err else 0.0
    return kinds


def _front(ev: dict, first: list[str]) -> dict:
    """The same evidence with `first` keys leading (the terminal prints the first scalars)."""
    return {**{k: ev[k] for k in first if k in ev}, **{k: v for k, v in ev.items() if k not in first}}


def _slice_finding(
    ctx: Context, r: Region, mk: _Mistakes, label_err: np.ndarray, ev: dict[str, Any], p: Params
) -> Finding:
    sl, mask = r.slice, r.mask
    ce = mk.confident.astype(float)
    n_err = mk.n_errors
    in_dec = mask & mk.decided
    removed = max(0.0, (sl.error - sl.rest_error) * int(in_dec.sum()))
    lab_share = float(label_err[mask].sum() / max(ce[mask].sum(), 1))
    share_train = train_share(ctx, sl)
    support = float(mask.mean()) if mask.size else 0.0
    mix = _label_mix(ctx, mask, mk, sl.predicates)
    if any(c not in set(ctx.case.features or []) for c in sl.columns):
        cat, why = "features", f"it is defined by {', '.join(sl.columns)}, which the model does not take"
    elif share_train is not None and share_train < 0.4 * support:
        cat, why = "data", f"it is under-represented in training ({share_train:.1%} of rows vs {support:.1%})"
    elif mix is not None and mix["differs"]:
        cat = "labels"
        why = (
            f"its label mix differs between training and evaluation ({mix['class']!s}: "
            f"{mix['share_in_training']:.0%} of its training rows vs {mix['share_in_evaluation']:.0%} of its "
            "evaluation rows): the labelling rule or the meaning of a feature changed there"
        )
    else:
        cat, why = (
            "labels",
            "its labels follow another rule, are wrong, or depend on a feature the model lacks",
        )
    ev.update(
        {
            "slice_size": int(mask.sum()),
            "slice_share": support,
            "confident_decisions_in_slice": int(in_dec.sum()),
            "confident_error_rate_in_slice": sl.error,
            "rest_rate": sl.rest_error,
            "share_of_confident_errors": r.share,
            "share_of_confident_errors_ci": list(r.share_ci),
            "share_of_confident_errors_all_rows": r.share_all_rows,
            "share_expected_by_its_probabilities": r.expected_share,
            "expected_rate_by_its_probabilities": r.test.get(
                "expected_by_its_probabilities", r.test.get("expected")
            ),
            "outside": {"observed": r.outside.get("observed"), "expected": r.outside.get("expected")},
            "p_value": r.test.get("p_adjusted"),
            "slice_share_of_train": share_train,
            "label_mix": mix,
            "root_cause_category": cat,
            "expected_gain": gain_numbers(
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
            "share_of_confident_errors",
            "p_value",
            "root_cause_category",
            "confident_errors",
            "errors",
            "likely_label_errors",
        ],
    )
    lo, hi = r.share_ci
    return Finding(
        "errors.high_confidence_errors",
        WARNING,
        f"{sl.error:.0%} of confident decisions (p >= {mk.threshold:.2g}) with {sl.describe()} are wrong vs "
        f"{sl.rest_error:.0%} elsewhere; the region holds {r.share:.0%} (95% CI {lo:.0%}-{hi:.0%}) of "
        f"confident mistakes where its probabilities predict {r.expected_share:.0%} (rows the search did not see)",
        columns=sl.columns,
        slice=sl.predicates,
        evidence=ev,
        impact=float(min(1.0, removed / max(n_err, 1))),
        root_cause=f"[{cat}] the model learned a rule that is wrong for this region: {why}",
        fix=f"audit the labels of rows with {sl.describe()}; if they are right, add the feature "
        "that sets them apart or more training rows of the region, then recalibrate",
        gain=f"bringing the region to the rest's error among confident decisions removes about {removed:.0f} "
        f"confident errors ({removed / max(n_err, 1):.0%} of all errors)",
    )


def _label_mix(
    ctx: Context, mask: np.ndarray, mk: _Mistakes, predicates: list[dict]
) -> dict[str, Any] | None:
    """The region's most frequent evaluation class: its share in training vs evaluation rows of
    the region (Newcombe interval; `differs` at p < 0.05 and 0.1 apart, as errors.underperforming_slice)."""
    from ...stats.slices import slice_mask
    from ...stats.slices.expected import proportion_diff

    try:
        mtr = slice_mask(ctx.frame("train"), predicates)
    except (KeyError, TypeError, ValueError):
        return None
    yte = pd.Series(mk.y[mask & mk.valid]).astype(str)
    ytr = pd.Series(np.asarray(ctx.y("train"), dtype=object)[mtr]).astype(str)
    if yte.empty or ytr.size < 2:
        return None
    top = yte.value_counts().index[0]
    kte, ktr = float((yte == top).sum()), float((ytr == top).sum())
    d = proportion_diff(kte, yte.size, ktr, ytr.size)
    out = {"class": top, "share_in_evaluation": kte / yte.size, "share_in_training": ktr / ytr.size}
    out.update({"difference": d["diff"], "ci": d["ci"], "p_value": d["p_value"]})
    out["differs"] = bool(d["p_value"] < 0.05 and abs(d["diff"]) >= 0.1)
    return out


def _scattered_finding(mk: _Mistakes, label_err: np.ndarray, ev: dict[str, Any], p: Params) -> Finding:
    n_ce, n_err, n_rows = mk.n_confident, mk.n_errors, mk.n_rows
    n_lab = int(label_err.sum())
    n_low = int(mk.low.sum())
    if n_lab >= max(10, 0.3 * max(n_ce, 1)):
        cat = "labels"
    else:
        cat = "threshold" if n_low >= 0.5 * max(n_err, 1) else "model capacity"
    ev["root_cause_category"] = cat
    numbers = gain_numbers(
        errors_removed=n_lab or None,
        share_of_errors_removed=round(n_lab / max(n_err, 1), 4) if n_lab else None,
    )
    if numbers:
        ev["expected_gain"] = numbers
    ev = _front(
        ev,
        ["confident_errors", "errors", "likely_label_errors", "low_confidence_errors", "root_cause_category"],
    )
    if n_ce < p.min_errors:
        title = f"{n_ce} confident mistakes ({n_ce / max(n_rows, 1):.1%} of rows), too few to cluster"
    else:
        title = (
            f"{n_ce} confident mistakes ({n_ce / max(n_rows, 1):.1%} of rows), scattered: no slice holds them"
        )
    title += f"; {n_lab} look like label errors (or irreducible noise), {n_low} errors are low-confidence"
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
        gain=(
            f"relabelling the {n_lab} likely label errors would remove them from the error count "
            f"({n_lab / max(n_err, 1):.0%} of errors) and from training signal"
            if n_lab
            else "not estimated: no cluster of confident mistakes"
        ),
        show=cat == "labels",
    )
