"""Fill values baked into the data files, for `pipeline.preprocessing_leakage`: a notebook that
imputed the whole table (`X = SimpleImputer().fit_transform(X)`) before splitting leaves no fitted
imputer in the model, but every gap of a column now holds one computed value, repeated, and that
value is the column's mean (or median) over the training plus evaluation rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...stats.interpolation import off_grid, value_grid

if TYPE_CHECKING:
    from ...context import Context


def _close(a: float, b: float) -> bool:
    return bool(np.isfinite(a) and np.isfinite(b) and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)))


def baked_fills(ctx: Context, min_count: int = 5) -> list[dict[str, Any]]:
    """Numeric features with a value repeated in training (at least `min_count` times) that is off the
    column's recording step (a computed value, not a recorded one) and equals the mean or median
    of the column's other values over training plus evaluation rows, but not over the training
    rows alone: the fill was learned from the evaluation rows. Under the null (a fill learned on
    the training rows, or a natural mode) the value equals the training statistic or is a
    recorded value; a statistic of other rows matching it to 1e-9 is no coincidence."""
    c = ctx.case
    tr, te = ctx.frame("train"), ctx.frame("test")
    out = []
    for col in c.features:
        if col not in te.columns or col in set(c.categorical):
            continue
        if not (pd.api.types.is_numeric_dtype(tr[col]) and pd.api.types.is_numeric_dtype(te[col])):
            continue
        if pd.api.types.is_bool_dtype(tr[col]):
            continue
        a = tr[col].to_numpy(dtype=float)
        b = te[col].to_numpy(dtype=float)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if len(a) < 2 * min_count or not len(b):
            continue
        vals, counts = np.unique(a, return_counts=True)
        both = np.concatenate([a, b])
        grid = value_grid(both[:, None])
        rep = counts >= min_count
        # repeated values off the column's recording step: computed, not recorded (fills)
        cands = vals[rep][off_grid(vals[rep][:, None], grid)[:, 0]]
        for v in cands[np.argsort(-counts[rep][off_grid(vals[rep][:, None], grid)[:, 0]])][:3]:
            hit = _fill_hit(float(v), a, b, both)
            if hit is not None:
                out.append(
                    {"column": col, **hit, "recording_step": float(grid[0]) if np.isfinite(grid[0]) else None}
                )
                break
    return out


def _fill_hit(v: float, a: np.ndarray, b: np.ndarray, both: np.ndarray) -> dict[str, Any] | None:
    """The statistic of the other values over train + evaluation (not train alone) that `v` is."""
    rest_all, rest_tr = both[both != v], a[a != v]
    if not len(rest_tr):
        return None
    for stat, fn in (("mean", np.mean), ("median", np.median)):
        s_all, s_tr = float(fn(rest_all)), float(fn(rest_tr))
        if _close(v, s_all) and not _close(v, s_tr):
            return {
                "fill_value": v,
                "statistic": stat,
                "train_rows_with_it": int((a == v).sum()),
                "evaluation_rows_with_it": int((b == v).sum()),
                "statistic_train_plus_evaluation": s_all,
                "statistic_train_only": s_tr,
            }
    return None
