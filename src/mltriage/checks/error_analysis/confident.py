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
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.attribution import keys
from ...stats.metrics import holm
from ...stats.slices import Slice, find_slices
from ...stats.slices.expected import rate_surprise
from .common import (
    baseline_error,
    categorical_columns,
    contrast,
    gain_numbers,
    search_columns,
    skill,
    slice_search,
    train_share,
)
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
        3.0,
        Interval(float, 0, None),
        "confident-mistake rate in the slice over the rate in the other rows",
    ),
    min_surprise=Param(
        2.0,
        Interval(float, 1, None),
        "confident-mistake rate in the slice over the rate the model's own probabilities predict "
        "there (sum of 1 - p over its confident decisions)",
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
        0.2, Interval(float, None, 1), "skill over the majority class the model needs overall for a warning"
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
        Misclassified evaluation rows whose predicted class had probability >= `confidence`,
        when they concentrate in a slice (found and confirmed like underperforming slices, large
        ones too: a slice holding most of them may be a third of the rows) where their rate is
        at least `min_lift` times the rate in the other rows and at least `min_surprise` times
        what the model's own probabilities predict there (a calibrated model at p >= 0.9 errs at
        most 10% of the time; the test, one-sided on the slice search's confirmation half, must
        survive Holm's correction over the slices tried), in a model that works on aggregate or
        outside the slice (skill over the majority class at least `min_skill_overall`). A
        labelling rule changed for one group, or a feature whose meaning changed, shows this way.
        Scattered confident mistakes (every model makes a few) are reported as info only, and so
        are fewer than `min_errors` of them (too few to search). Low-confidence
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
    found = _confident_slice(ctx, mk, works, p) if mk.n_confident >= p.min_errors else None
    hit = found[0] if found else None
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
    if found is not None:
        ev["surprise"] = found[1]
        return _slice_finding(ctx, found[0], mk, label_err, ev, p)
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
        p_pos = np.asarray(pred.proba, dtype=float)[:, 1]
        is_pos = keys(label) == keys(np.full(len(label), ctx.case.positive, dtype=object))
        conf = np.where(is_pos, p_pos, 1 - p_pos)
    elif ctx.task == "binary":
        s = np.asarray(pred.score, dtype=float)
        conf = np.where(s >= ctx.threshold, s, 1 - s)
    else:
        conf = np.asarray(pred.proba, dtype=float).max(axis=1)
    confident = wrong & (conf >= p.confidence)
    return _Mistakes(y, label, valid, wrong, conf, confident, wrong & (conf < p.low_confidence))


def _platt(ctx: Context, pred: Predictions) -> Predictions:
    """A margin-only model's predictions with probabilities from its margins (stats.decision),
    so that the confidence of each prediction is the estimated probability of the predicted class."""
    import dataclasses

    from ...stats.decision import platt_margins

    c = ctx.case
    classes = list(pred.classes or c.classes or [])
    d = np.asarray(pred.decision, dtype=float)
    if c.task == "binary":  # the margin points to the positive class: columns [negative, positive]
        neg = [k for k in classes if k != c.positive][0]
        classes = [neg, c.positive]
    proba = platt_margins(d, np.asarray(ctx.y("test"), dtype=object), classes, seed=ctx.config.seed)
    return dataclasses.replace(pred, proba=proba, classes=classes, has_proba=True)


def _confident_slice(
    ctx: Context, mk: _Mistakes, works: bool, p: Params
) -> tuple[Slice, dict[str, Any]] | None:
    """The first confirmed slice where confident mistakes concentrate: their rate at least
    `min_lift` times the other rows' and `min_surprise` times what the model's probabilities
    predict there, significantly (confirmation half, Holm over the slices tried)."""
    ce = mk.confident.astype(float)
    slices = find_slices(
        ctx.frame("test"),
        ce,
        search_columns(ctx),
        categorical=categorical_columns(ctx),
        max_order=2,
        min_support=p.min_support,
        top_k=3,
        alpha=p.alpha,
    )
    # a confident decision errs with probability 1 - its confidence when the model is calibrated
    q = np.where(mk.conf >= p.confidence, 1.0 - mk.conf, 0.0)
    tests = []
    for sl in slices:
        rows = sl.mask & (sl.confirm_rows if sl.confirm_rows is not None else True) & mk.valid
        tests.append(rate_surprise(ce, q, rows))
    adj = holm([t["p_value"] for t in tests]) if tests else np.zeros(0)
    for sl, t, pa in zip(slices, tests, adj):
        rest = ~sl.mask & mk.valid
        rate_rest = float(ce[rest].mean()) if rest.any() else 0.0
        t["p_adjusted"] = float(pa)
        ok_rest = works or _works_elsewhere(mk, rest, p)
        if (
            ok_rest
            and sl.error >= p.min_lift * rate_rest
            and t["observed"] >= p.min_surprise * t["expected"]
            and pa < p.alpha
            and int(ce[sl.mask].sum()) >= p.min_errors
        ):
            return sl, t
    return None


def _works_elsewhere(mk: _Mistakes, rest: np.ndarray, p: Params) -> bool:
    base = baseline_error(mk.y[rest], "error rate")
    s = skill(float(mk.wrong[rest].mean()) if rest.any() else float("nan"), base)
    return bool(np.isfinite(s) and s >= p.min_skill_overall)


def _systematic(ctx: Context, n: int, hit: Slice | None) -> np.ndarray:
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
    ctx: Context, sl: Slice, mk: _Mistakes, label_err: np.ndarray, ev: dict[str, Any], p: Params
) -> Finding:
    ce = mk.confident.astype(float)
    n_err = mk.n_errors
    removed = max(0.0, (sl.error - sl.rest_error) * int(sl.mask.sum()))
    lab_share = float(label_err[sl.mask].sum() / max(ce[sl.mask].sum(), 1))
    share_train = train_share(ctx, sl)
    if any(c not in set(ctx.case.features or []) for c in sl.columns):
        cat = "features"
    else:
        cat = "data" if share_train is not None and share_train < 0.4 * sl.support else "labels"
    ev.update(
        {
            "slice_size": sl.size,
            "slice_share": sl.support,
            "confident_error_rate_in_slice": sl.error,
            "rest_rate": sl.rest_error,
            "share_of_confident_errors": sl.share_of_errors,
            "expected_rate_by_its_probabilities": ev.get("surprise", {}).get("expected"),
            "p_value": sl.p_value,
            "slice_share_of_train": share_train,
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
        gain=f"bringing the slice to the rest's rate of confident mistakes removes about {removed:.0f} "
        f"confident errors ({removed / max(n_err, 1):.0%} of all errors)",
    )


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
