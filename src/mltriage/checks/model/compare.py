"""Your model against one of the baselines like for like, for model.overfit and model.underfit: on
the same evaluation rows (paired over the rows) and under the same folds (paired over repeated
cross-validation), and the two pooled; and model.underfit's note when the rows are too few to
judge."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import INFO, Finding
from ...stats.fit_gap import corrected_t, paired_gap, row_stat, stouffer
from .common import METRIC_NAMES, fmt

if TYPE_CHECKING:
    from ...context import Context
    from ...stats.baselines import BaselinesResult

# fewest evaluation rows (with both classes at least this often, for ROC AUC) a held-out
# comparison is made on
MIN_ROWS = 30


def _your_outputs(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """Your model's outputs on the baselines' evaluation rows `rows` (positions among them)."""
    c = ctx.case
    pos = ctx.fresh_eval_positions()[rows]
    pr = ctx.predictions("test")
    out = np.asarray(pr.label) if c.task == "multiclass" else pr.score
    return np.asarray(out)[pos]


def heldout(
    ctx: Context, res: BaselinesResult, key: str, keep: np.ndarray | None = None
) -> dict[str, Any] | None:
    """The baseline `key` fitted on all the training rows the baselines use (as many as your
    model saw) against your model, on the same evaluation rows: those whose features no training
    row has (memorising training rows cannot pay there), or all the baselines' evaluation rows
    when fewer than MIN_ROWS are unseen; paired over the rows. `keep`: a mask over the
    evaluation set's rows; only those are compared (the rows without a column missing far more
    often than in training, for model.overfit). None for ranking, or with too few rows."""
    c = ctx.case
    ref = res.models.get(key)
    if c.task not in ("binary", "multiclass", "regression") or ref is None or res.eval_y is None:
        return None
    unseen = ctx.unseen_eval_rows()
    rows_set = "evaluation rows with features no training row has"
    if len(unseen) != len(res.eval_y):
        return None
    kept = np.ones(len(res.eval_y), dtype=bool)
    if keep is not None:
        kept = np.asarray(keep, dtype=bool)[ctx.fresh_eval_positions()]
        unseen = unseen & kept
    if not _enough(c.task, res.eval_y[unseen], c.positive):
        unseen = kept
        rows_set = "evaluation rows that equal no training row"
        if not _enough(c.task, res.eval_y[kept], c.positive):
            return None
    rows = np.flatnonzero(unseen)
    classes = list(res.classes) if res.classes is not None else None
    y = res.eval_y[rows]
    refs = [np.asarray(ctx.full_fit_outputs(key))[rows]]
    out: dict[str, Any] = paired_gap(
        c.task, y, refs, [_your_outputs(ctx, rows)], classes, c.positive, ctx.config.seed
    )
    out.update(rows_set=rows_set, dummy=float("nan"))
    dummy = res.models.get("dummy")
    if dummy is not None and dummy.eval_outs:
        ones = np.ones((1, len(rows)), dtype=np.float32)
        pts = [
            row_stat(c.task, y, np.asarray(o)[rows], classes, c.positive)(ones)[0] for o in dummy.eval_outs
        ]
        out["dummy"] = float(np.mean(pts))
    return out


def _enough(task: str, y: np.ndarray, positive: Any) -> bool:
    if len(y) < MIN_ROWS:
        return False
    if task == "binary":
        n1 = int(np.sum(y == positive))
        return min(n1, len(y) - n1) >= 5
    return True


def cross_validated(res: BaselinesResult, key: str) -> dict[str, Any] | None:
    """The baseline `key` minus your model refitted, fold by fold under the baselines' folds, with
    the corrected resampled t-test (`stats.fit_gap.corrected_t`). None when your model cannot be
    refitted."""
    user = res.models.get("user")
    ref = res.models[key]
    if user is None or user.error or len(user.fold_scores) != len(ref.fold_scores):
        return None
    diffs = np.asarray(ref.fold_scores, dtype=float) - np.asarray(user.fold_scores, dtype=float)
    out = corrected_t(diffs, 1.0 / max(res.n_splits - 1, 1))
    out.update(user_cv=user.mean, reference_cv=ref.mean)
    return out


def pooled_z(held: dict[str, Any] | None, cv: dict[str, Any] | None) -> float:
    """Stouffer's z of the held-out and the cross-validated comparisons (independent rows:
    evaluation rows and training rows), or the one that exists."""
    zs = [d["z"] for d in (held, cv) if d is not None]
    return stouffer(*zs) if zs else float("nan")


def too_few_to_judge(
    ctx: Context,
    res: BaselinesResult,
    key: str,
    evidence: dict[str, Any],
    shortfall: float,
    se: float,
    need: float,
) -> Finding | None:
    """An info finding when model.underfit cannot judge with these rows: the smallest shortfall
    that matters (`need`) would stay below z 3 with the standard error `se`, and the shortfall's
    95% interval does not exclude it; None when the rows suffice (the check's silence is then a
    verdict), or when the best baseline against your model like for like (fitted on the same
    training rows, on the same evaluation rows, paired: `compare.heldout`) rules such a shortfall
    out (the upper end of its 95% interval below `need`). The evidence gains that comparison and
    the evaluation rows that would make such a shortfall reach z 3 (the standard error shrinking
    as 1/sqrt(rows))."""
    power = need / se if se > 0 else math.inf
    lo, hi = shortfall - 1.96 * se, shortfall + 1.96 * se
    if power >= 3.0 or hi < need:
        return None
    rows = max(res.eval_rows, 1)
    needed = int(math.ceil(rows * (3.0 / max(power, 1e-6)) ** 2))
    evidence.update(shortfall_ci=[lo, hi], evaluation_rows=res.eval_rows, evaluation_rows_to_judge=needed)
    name = METRIC_NAMES.get(evidence["metric"], evidence["metric"])
    ref = evidence["best_baseline"]
    like = ""
    try:
        held = heldout(ctx, res, key)
    except Exception:  # the like-for-like comparison is context here, never a reason to fail
        held = None
    if held is not None and np.isfinite(held["se"]):
        h_lo, h_hi = held["shortfall"] - 1.96 * held["se"], held["shortfall"] + 1.96 * held["se"]
        if h_hi < need:  # paired on the same rows, the shortfall that matters is ruled out
            return None
        evidence["like_for_like"] = {**held, "shortfall_ci": [h_lo, h_hi]}
        like = (
            f"; fitted on the same {res.n_rows:,} training rows it scores {fmt(held['reference'])} vs "
            f"{fmt(held['candidate'])} for your model on the same {held['rows']:,} evaluation rows (gap "
            f"{held['shortfall']:+.3f}, 95% CI {h_lo:+.3f} to {h_hi:+.3f})"
        )
    title = (
        f"Underfitting cannot be judged on {res.eval_rows:,} evaluation and {res.n_rows:,} training rows: "
        f"the {ref} cross-validates at {fmt(evidence['best_baseline_cv'])} ± "
        f"{fmt(evidence['best_baseline_cv_std'])} against your model's held-out {name} "
        f"{fmt(evidence['your_model_test'])} (shortfall {shortfall:+.3f}, 95% CI {lo:+.3f} to {hi:+.3f}){like}. "
        f"A shortfall that matters ({need:.3f}) would stand at z {power:.1f} where 3 is needed: about "
        f"{needed:,} evaluation rows (and training rows in proportion) would judge it"
    )
    return Finding(
        "model.underfit",
        INFO,
        title,
        evidence=evidence,
        impact=0.0,
        root_cause="too few rows for the scores' noise to separate a shortfall that matters from none",
        fix="judge the model against the baselines on more rows (repeated cross-validation of both on "
        "all the labelled rows), or read the intervals above as the answer at this size",
    )
