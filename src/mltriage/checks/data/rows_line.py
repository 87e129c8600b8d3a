"""data.duplicates / data.train_test_overlap: near copies where the model's columns hold one
continuous reading (`stats.near_line`: the nearest-neighbour ratio, uniform by chance in one
dimension), in place of the binned twins' density model, which natural repeats of coarse,
clustered tables (an entity observed again, its one reading drifted a little) defeat."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...registry import Interval, Param
from ...stats.near_line import line_columns, neighbour_ratio, ratio_copies
from ...stats.rows import CopyFit, row_hashes

if TYPE_CHECKING:
    from ...context import Context
    from ...registry import Params


def line_column(ctx: Context, bins: int) -> str | None:
    """The one continuous reading among the model's columns (those that `stats.rows.coarsen` bins
    at `bins`, on the unique training rows), or None when there are none or several."""

    def compute() -> str | None:
        c = ctx.case
        exact = {x for x in (c.target, c.group_column) if x}
        cols = [x for x in c.features + ctx.role_columns() if x not in exact]
        h = ctx.row_hashes("train", with_target=True, roles=True)
        fresh = ctx.frame("train")[~pd.Series(h).duplicated().to_numpy()]
        line = line_columns(fresh, cols, max(bins, 50))
        return line[0] if len(line) == 1 else None

    return ctx.cached(f"near_line_column:{bins}", compute)


def line_fit(ctx: Context, p: Params, which: str, col: str) -> tuple[CopyFit, np.ndarray]:
    """The near copies of `which` in the one reading `col` (`stats.near_line.ratio_copies` at
    `line_ratio`), and per judged row (evaluation: the rows not exact twins of a training row)
    whether its nearest neighbour is that much nearer than its second."""

    def compute() -> tuple[CopyFit, np.ndarray]:
        c = ctx.case
        key_cols = [x for x in c.features + ctx.role_columns() + [c.target] if x != col]
        h_tr = ctx.row_hashes("train", with_target=True, roles=True)
        fresh = ~pd.Series(h_tr).duplicated().to_numpy()
        tr = ctx.frame("train")[fresh]
        ref = pd.to_numeric(tr[col], errors="coerce").to_numpy(float)
        k_tr = row_hashes(tr, key_cols)
        if which == "train":
            u = neighbour_ratio(ref, k_tr)
        else:
            te = ctx.frame("test")
            rest = ~np.isin(ctx.row_hashes("test", with_target=True, roles=True), h_tr)
            u = np.full(len(te), np.nan)
            sub = te[rest]
            u[rest] = neighbour_ratio(
                ref, k_tr, pd.to_numeric(sub[col], errors="coerce").to_numpy(float), row_hashes(sub, key_cols)
            )
        return ratio_copies(u, p.line_ratio, within=which == "train"), np.nan_to_num(
            u, nan=1.0
        ) < p.line_ratio

    return ctx.cached(f"near_line:{which}:{col}:{p.line_ratio}", compute)


def near_words(ctx: Context, p: Params, which: str) -> tuple[str, str, str]:
    """How a near-copy finding says what it counted: the lead, the verb of the twin rows, and why
    the share is a floor."""
    col = line_column(ctx, int(p.near_bins))
    if col is None:
        verb = "repeat an earlier row" if which == "train" else "equal a training row"
        return (
            "with continuous readings in quantile bins",
            verb,
            "a copy whose jitter crossed a bin edge is not counted",
        )
    other = "training row" if which == "test" else "row"
    return (
        f"in {col}, the one continuous reading (the other columns equal)",
        f"have a {other} over {1 / p.line_ratio:.0f} times nearer than the next one",
        "rows with fewer than two neighbours of the same other values are not judged",
    )


def _near_params() -> dict[str, Any]:
    """The near-copy parameters, shared by `data.duplicates` and `data.train_test_overlap`."""
    return dict(
        near_bins=Param(
            50,
            Interval(int, 2, None),
            "finer of the two quantile-bin resolutions per continuous column for near copies (also "
            "2/5 of it): 0.2% jitter then re-rounding stays in its bin for most rows; clean "
            "splits of the generalisation suite and the public benchmark stay below the alarm",
        ),
        coarse_bias=Param(
            0.5,
            Interval(float, 0, None),
            "near copies: share of the chance-twin rate that their density model may mistake for "
            "copies on coarse data (measured up to 0.4 on clean splits of rounded breast-cancer and "
            "adult census categoricals); the near-copy share's lower bound must clear it",
        ),
        max_scale=Param(
            4.0,
            Interval(float, 1, None),
            "near copies: most the chance-twin model may be scaled up to explain twins (its "
            "dependence correction fell short by up to 2x on coarse real data)",
        ),
        line_ratio=Param(
            0.02,
            Interval(float, 0, 1, closed="neither"),
            "near copies where the model's columns hold one continuous reading: a row counts as a "
            "near twin when its nearest neighbour of the same other values is nearer than this share "
            "of the distance to its second (chance: exactly this share, the ratio being uniform in "
            "one dimension). 1/50: an entity observed again with its reading drifted a little falls "
            "below it more often than chance (HOLDOUT5 dyad-years: excess 0.9-2.1% of rows at 1/50, "
            "1.5-2.6% at 1/20, 3-5.7% and warnings at 1/10), a copy re-rounded or re-scaled by 0.2% "
            "far more (planted 20%: about 9%, a floor)",
        ),
        near_max_coarse=Param(
            0.1,
            Interval(float, 0, 1),
            "most share of training rows that chance alone could give a binned twin for near copies "
            "to be judged (a column half zeros, half normal, binned: 0.85, where the chance model "
            "claimed 57% copies)",
        ),
    )
