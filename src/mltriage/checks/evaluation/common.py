"""Helpers shared by the evaluation checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ...context import Context
    from ...model import Predictions


def binary_xy(ctx: Context, which: str) -> tuple[np.ndarray, np.ndarray, Predictions]:
    """(score of the positive class, 0/1 target, the predictions) of a binary case, finite rows only."""
    pr = ctx.predictions(which)
    y = (np.asarray(ctx.y(which)) == ctx.case.positive).astype(float)
    s = np.asarray(pr.score, float)
    ok = np.isfinite(s)
    return s[ok], y[ok], pr
