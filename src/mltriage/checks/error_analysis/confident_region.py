"""The region where a model's confident mistakes concentrate (errors.high_confidence_errors).

The search runs among the model's confident decisions only, with each decision's error as the
target: a region where the error rate of confident decisions is far above the rest's and above
what the model's own confidence predicts there. Conditioning on confident decisions is what lets a
large region be found whole: the share of rows that are confident mistakes varies inside a region
with how many decisions are confident there (morning flights, say), so a search over all rows
prefers a dense sub-region; among confident decisions a changed labelling rule raises the error
rate uniformly across the region.

A region is tested on the search's confirmation half (rows the search never saw), against two
expectations at once (the larger one counts): the probabilities at face value (1 - p of each
decision) and what the same confidence means on the confident decisions outside the region (an
isotonic map fitted there, so a globally over-confident model is not taken for a surprised one).
Holm's correction runs over the regions tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...stats.metrics import holm, wilson
from ...stats.slices import Slice, find_slices, slice_mask
from ...stats.slices.expected import expected_error_rate, rate_surprise
from .common import categorical_columns, search_columns

if TYPE_CHECKING:
    from ...context import Context
    from ...registry import Params


@dataclass
class Region:
    """A confirmed region of confident mistakes, on all evaluation rows."""

    slice: Slice  # statistics among the confident decisions (error = their error rate)
    mask: np.ndarray  # all evaluation rows in the region
    test: dict[str, Any]  # the surprise test on the confirmation half, Holm-adjusted
    share: float  # share of the confident mistakes inside the region (confirmation half)
    share_ci: tuple[float, float]  # its Wilson interval
    expected_share: float  # the share the model's own probabilities predict (confirmation half)
    outside: dict[str, Any]  # confident decisions outside the region against their probabilities
    share_all_rows: float = 0.0  # the share on all evaluation rows (the search's half included)


def confident_threshold(conf: np.ndarray, valid: np.ndarray, p: Params) -> float:
    """The confidence from which a decision counts as confident: `confidence`, or lower when fewer
    than `confident_share` of the decisions reach it (the model's most confident decisions of that
    share: a weak model's confident decisions are the upper part of its own confidence)."""
    c = conf[valid & np.isfinite(conf)]
    if c.size == 0:
        return float(p.confidence)
    return float(min(p.confidence, np.quantile(c, 1.0 - p.confident_share)))


def find_regions(
    ctx: Context, wrong: np.ndarray, conf: np.ndarray, decided: np.ndarray, p: Params, own: bool = True
) -> tuple[list[Region], list[dict[str, Any]]]:
    """The confirmed regions where confident decisions err far more than elsewhere and than they
    expect (see the module doc), best first; every region tested, for the evidence. `own`: the
    probabilities are the model's own (False for margins Platt-scaled on the evaluation labels,
    the region's included: then only the rest-calibrated expectation counts)."""
    idx = np.flatnonzero(decided)
    frame = ctx.frame("test")
    sub = frame.iloc[idx].reset_index(drop=True)
    slices = find_slices(
        sub,
        wrong[idx].astype(float),
        search_columns(ctx),
        categorical=categorical_columns(ctx),
        max_order=2,
        min_support=max(10.0, p.min_support * len(frame)),
        top_k=3,
        alpha=p.alpha,
        seed=ctx.config.seed,
        # the shared-parent candidates (fa7c23d) were measured for underperforming slices only;
        # here they turned a clean control's scattered confident mistakes (HOLDOUT star/lgbm)
        # into a warning and found no planted region, so the search tests none
        shared_parents=0,
    )
    face = np.clip(1.0 - conf, 0.0, 1.0)
    ce = (wrong & decided).astype(float)
    regions, tried = [], []
    for sl in slices:
        mask = slice_mask(frame, sl.predicates) & decided
        conf_rows = np.zeros(len(frame), dtype=bool)
        conf_rows[idx] = sl.confirm_rows if sl.confirm_rows is not None else True
        t = _surprise(wrong, conf, face, decided, mask, mask & conf_rows, own)
        regions.append((sl, mask, conf_rows, t))
    adj = holm([t["p_value"] for *_, t in regions]) if regions else np.zeros(0)
    hits = []
    for (sl, mask, half, t), pa in zip(regions, adj):
        t["p_adjusted"] = float(pa)
        k = float(ce[mask].sum())
        # the share on the confirmation half: the search chose the region for its errors on the other
        k_h, n_h = float(ce[mask & half].sum()), float(ce[half].sum())
        region = Region(
            sl,
            slice_mask(frame, sl.predicates),
            t,
            k_h / n_h if n_h else 0.0,
            wilson(k_h, n_h) if n_h else (0.0, 1.0),
            float(face[mask & half].sum() / max(face[decided & half].sum(), 1e-12)),
            rate_surprise(wrong.astype(float), face, decided & ~mask),
            k / max(float(ce.sum()), 1.0),
        )
        tried.append(summary(region))
        if _warns(region, k, p):
            hits.append(region)
    return hits, tried


def _surprise(
    wrong: np.ndarray,
    conf: np.ndarray,
    face: np.ndarray,
    decided: np.ndarray,
    mask: np.ndarray,
    rows: np.ndarray,
    own: bool,
) -> dict[str, Any]:
    """Observed vs expected error of the region's confident decisions on `rows`: the larger of the
    face-value and the rest-calibrated expectation, the larger p-value (only the rest-calibrated
    one when the probabilities are not the model's own)."""
    w = wrong.astype(float)
    t = rate_surprise(w, face, rows)
    t["expected_by_its_probabilities"] = t["expected"]
    q = expected_error_rate(conf, w, decided & ~mask)
    if np.isfinite(q[rows]).any():
        t2 = rate_surprise(w, q, rows)
        t["expected_by_the_rest"] = t2["expected"]
        if t2["expected"] > t["expected"] or not own:
            t.update({k: t2[k] for k in ("expected", "excess", "excess_ci", "ratio")})
        t["p_value"] = max(t["p_value"], t2["p_value"]) if own else t2["p_value"]
    return t


def _warns(r: Region, k: float, p: Params) -> bool:
    """Effect sizes and the test: the region's confident decisions err `min_lift` times as often as
    the others and at least `min_surprise` times what they expect (the lower end of the ratio's
    95% interval, on the confirmation half), significantly (Holm), with at least `min_errors`
    confident mistakes."""
    t, sl = r.test, r.slice
    return bool(
        t.get("p_adjusted", 1.0) < p.alpha
        and ratio_low(t) >= p.min_surprise
        and sl.error >= p.min_lift * sl.rest_error
        and k >= p.min_errors
    )


def ratio_low(t: dict[str, Any]) -> float:
    """The lower end of the observed/expected ratio's 95% interval (from the excess's)."""
    exp, ci = t.get("expected", float("nan")), t.get("excess_ci")
    if not ci or not exp or not np.isfinite(exp) or exp <= 0:
        return 0.0
    return float((exp + ci[0]) / exp)


def explains(r: Region, p: Params) -> bool:
    """Whether the region accounts for the model's confident mistakes: it holds at least
    `min_share` of them (the lower bound of the share's 95% interval on the confirmation half)
    and, outside it, confident decisions err no more than `min_surprise` times
    what their probabilities predict. Then a low aggregate skill is the region's doing."""
    out_ratio = r.outside.get("ratio", float("inf"))
    return bool(r.share_ci[0] >= p.min_share and out_ratio < p.min_surprise)


def summary(r: Region) -> dict[str, Any]:
    return {
        "slice": r.slice.describe(),
        "confident_decisions": int(r.slice.size),
        "error_rate": r.slice.error,
        "rest_error_rate": r.slice.rest_error,
        "share_of_confident_errors": r.share,
        "share_ci": [float(r.share_ci[0]), float(r.share_ci[1])],
        "share_all_rows": r.share_all_rows,
        "expected_share": r.expected_share,
        "test": r.test,
        "ratio_low": ratio_low(r.test),
        "outside_observed": r.outside.get("observed"),
        "outside_expected": r.outside.get("expected"),
    }
