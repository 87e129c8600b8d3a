"""Your model against one of the baselines like for like, for model.overfit: on the same evaluation rows (paired over the rows) and under the same folds
(paired over repeated cross-validation), and the two pooled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...stats.fit_gap import corrected_t, paired_gap, row_stat, stouffer

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


def heldout(ctx: Context, res: BaselinesResult, key: str) -> dict[str, Any] | None:
    """The baseline `key` fitted on all the training rows the baselines use (as many as your
    model saw) against your model, on the same evaluation rows: those whose features no training
    row has (memorising training rows cannot pay there), or all the baselines' evaluation rows
    when fewer than MIN_ROWS are unseen; paired over the rows. None for ranking, or with too few
    rows."""
    c = ctx.case
    ref = res.models.get(key)
    if c.task not in ("binary", "multiclass", "regression") or ref is None or res.eval_y is None:
        return None
    unseen = ctx.unseen_eval_rows()
    rows_set = "evaluation rows with features no training row has"
    if len(unseen) != len(res.eval_y):
        return None
    if not _enough(c.task, res.eval_y[unseen], c.positive):
        unseen = np.ones(len(res.eval_y), dtype=bool)
        rows_set = "evaluation rows that equal no training row"
        if not _enough(c.task, res.eval_y, c.positive):
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
