"""Whether a confirmed slice is a warning of errors.underperforming_slice: the model must work on
aggregate (skill over the best constant, or for a binary model that ranks well, its AUC) and have
lost its skill inside the slice, on enough rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...registry import Params
from ...stats.slices import Slice
from .common import baseline_error, is_positive, skill, train_share

if TYPE_CHECKING:
    from ...context import Context


@dataclass
class Overall:
    """The model's error and skill on all evaluation rows, and whether it works on aggregate."""

    kind: str  # "error rate" or "absolute error"
    raw: np.ndarray  # per-row error
    y: np.ndarray
    fin: np.ndarray  # rows with an error
    error: float
    skill: float
    works: bool
    auc: float | None
    pos_y: np.ndarray | None = None  # binary models judged by their probabilities: 1 if positive
    prob: np.ndarray | None = None  # and the probability of the positive class

    @property
    def total_error(self) -> float:
        return float(self.raw[self.fin].sum())


def overall(ctx: Context, e: dict[str, Any], p: Params) -> Overall:
    kind = e["kind"]
    raw, y = e["raw"], np.asarray(e["y"])
    fin = np.isfinite(raw)
    overall = float(np.nanmean(raw)) if fin.any() else float("nan")
    skill_all = skill(overall, baseline_error(y[fin], kind))
    works = bool(np.isfinite(skill_all) and skill_all >= p.min_skill_overall)
    auc_all = binary_auc(ctx, y) if kind == "error rate" and not works else None
    whole = Overall(kind, raw, y, fin, overall, skill_all, works, auc_all)
    if auc_all is not None and auc_all >= p.min_auc_overall:
        route = probability_route(ctx, e, y, fin)
        if route is not None:
            whole.works = True
            whole.pos_y, whole.prob = route
    return whole


def binary_auc(ctx: Context, y: np.ndarray) -> float | None:
    """ROC AUC of a binary model's score on the evaluation rows (None when not computable)."""
    if ctx.case.task != "binary":
        return None
    try:
        from sklearn.metrics import roc_auc_score

        score = np.asarray(ctx.predictions("test").score, dtype=float)
        pos = is_positive(ctx, y)
        ok = np.isfinite(score) & ~pd.isna(pd.Series(y)).to_numpy()
        if ok.sum() < 20 or pos[ok].all() or not pos[ok].any():
            return None
        return float(roc_auc_score(pos[ok], score[ok]))
    except (TypeError, ValueError, AttributeError):
        return None


def probability_route(
    ctx: Context, e: dict[str, Any], y: np.ndarray, fin: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """(1 where positive, probability of the positive class) for a binary model that ranks well,
    whose decisions are not collapsed onto one class and whose score is a probability: it counts
    as working, and its slices are judged by their probabilities too; None otherwise."""
    pos_y = is_positive(ctx, y).astype(float)
    pos_pred = is_positive(ctx, e["pred"].label)
    prob = np.asarray(ctx.predictions("test").score, dtype=float)
    prev, rate = float(pos_y[fin].mean()), float(pos_pred[fin].mean())
    if 0.2 * prev <= rate <= 1 - 0.2 * (1 - prev) and np.nanmin(prob) >= 0 and np.nanmax(prob) <= 1:
        return pos_y, prob
    return None


@dataclass
class Judged:
    """A confirmed slice with its figures, and whether it is a warning."""

    slice: Slice
    rows: np.ndarray  # its rows that have an error
    err_in: float
    err_out: float
    skill_in: float
    skill_share: float  # skill inside over skill overall
    train_share: float | None
    brier_in: float | None
    strong: bool


def lost_skill(
    whole: Overall, m: np.ndarray, skill_in: float, skill_share: float, p: Params
) -> tuple[bool, float | None]:
    """Whether the model lost its skill inside the slice, and its Brier skill there (binary models
    judged by their probabilities)."""
    if whole.kind != "error rate":
        return bool(np.isfinite(skill_share) and skill_share <= p.max_skill_share), None
    lost = bool(np.isfinite(skill_in) and skill_in <= p.max_skill_in_slice)
    if whole.pos_y is None or whole.prob is None:
        return lost, None
    r = float(whole.pos_y[m].mean())
    b0 = r * (1 - r)
    brier_in = 1.0 - float(np.mean((whole.pos_y[m] - whole.prob[m]) ** 2)) / b0 if b0 > 0 else -np.inf
    return lost and brier_in <= p.max_brier_skill_in_slice, brier_in


def judge(ctx: Context, s: Slice, whole: Overall, p: Params) -> Judged:
    m = s.mask & whole.fin
    err_in, err_out = float(whole.raw[m].mean()), float(whole.raw[~s.mask & whole.fin].mean())
    skill_in = skill(err_in, baseline_error(whole.y[m], whole.kind))
    s_all = whole.skill
    skill_share = (skill_in / s_all) if s_all and np.isfinite(s_all) and s_all > 0 else np.nan
    lost, brier_in = lost_skill(whole, m, skill_in, skill_share, p)
    # a warning needs enough rows to act on and to trust: a 10-row slice confirmed on 5 rows
    # is an anecdote, reported as info
    n_err_in = float(whole.raw[m].sum()) if whole.kind == "error rate" else float("nan")
    big = int(m.sum()) >= p.min_warning_rows and (
        whole.kind != "error rate" or n_err_in >= p.min_warning_errors
    )
    strong = bool(whole.works and lost and big and s.lift >= p.min_lift)
    return Judged(s, m, err_in, err_out, skill_in, skill_share, train_share(ctx, s), brier_in, strong)
