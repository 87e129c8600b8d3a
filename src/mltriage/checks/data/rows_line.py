"""data.duplicates / data.train_test_overlap: near copies where the model's columns hold one
continuous reading (`stats.near_line`: the nearest-neighbour ratio, uniform by chance in one
dimension) or several (`stats.near_space`: the nearest-neighbour gaps, bounded by chance in any
dimension of at least one), in place of the binned twins' density model, which natural repeats of
coarse, clustered tables (an entity observed again, its reading drifted a little; a monthly
series) defeat."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...registry import Interval, Param
from ...stats.near_line import line_columns, neighbour_ratio, ratio_copies
from ...stats.near_space import axes, gap_copies, gap_flags, gap_ratios, place
from ...stats.rows import CopyFit, row_hashes

if TYPE_CHECKING:
    from ...context import Context
    from ...registry import Params


def readings(ctx: Context, bins: int) -> list[str]:
    """The continuous readings among the model's columns (those that `stats.rows.coarsen` bins at
    `bins`, on the unique training rows)."""

    def compute() -> list[str]:
        c = ctx.case
        exact = {x for x in (c.target, c.group_column) if x}
        cols = [x for x in c.features + ctx.role_columns() if x not in exact]
        return line_columns(_fresh_train(ctx), cols, max(bins, 50))

    return ctx.cached(f"near_readings:{bins}", compute)


def line_column(ctx: Context, bins: int) -> str | None:
    """The one continuous reading among the model's columns, or None when there are none or several."""
    line = readings(ctx, bins)
    return line[0] if len(line) == 1 else None


def _fresh_train(ctx: Context) -> pd.DataFrame:
    """The training rows, each identity (model columns, target, roles) once."""
    h = ctx.row_hashes("train", with_target=True, roles=True)
    return ctx.frame("train")[~pd.Series(h).duplicated().to_numpy()]


def space_fit(ctx: Context, p: Params, which: str) -> tuple[CopyFit, np.ndarray]:
    """The near copies of `which` where the model's columns hold several continuous readings
    (`stats.near_space`: nearest-neighbour gaps at `line_ratio`, every numeric column an axis),
    and per judged row (evaluation: the rows not exact twins of a training row) whether it is a
    near twin. Neighbours share the columns that are not axes (categories, classes, the group,
    which values are missing)."""

    def compute() -> tuple[CopyFit, np.ndarray]:
        c = ctx.case
        tr = _fresh_train(ctx)
        cols = c.features + ctx.role_columns() + [c.target]
        exact = [x for x in (c.group_column,) if x] + ([c.target] if c.task != "regression" else [])
        ax = axes(tr, cols, c.categorical, exact)
        key_cols = [x for x in cols if x not in ax]
        if which == "train":
            ((a, miss),) = place(tr, [tr], ax)
            u1, u2 = gap_ratios(a, _key(tr, key_cols, miss))
            flag, chance = gap_flags(u1, u2, p.line_ratio)
            return gap_copies(flag, chance, within=True), flag
        te = ctx.frame("test")
        rest = ~np.isin(
            ctx.row_hashes("test", with_target=True, roles=True), ctx.row_hashes("train", roles=True)
        )
        sub = te[rest]
        (a, ma), (b, mb) = place(tr, [tr, sub], ax)
        u1, u2 = gap_ratios(a, _key(tr, key_cols, ma), b, _key(sub, key_cols, mb))
        flag, chance = gap_flags(u1, u2, p.line_ratio)
        seen = np.zeros(len(te), dtype=bool)
        seen[np.flatnonzero(rest)[flag]] = True
        return gap_copies(flag, chance, within=False), seen

    return ctx.cached(f"near_space:{which}:{p.line_ratio}", compute)


def _key(df: pd.DataFrame, cols: list[str], miss: np.ndarray) -> np.ndarray:
    """One hash per row over `cols` and the row's pattern of missing axes."""
    k = row_hashes(df, cols)
    if miss.size and miss.any():
        pattern = pd.DataFrame(miss.astype(int)).rename(columns=str)
        k = row_hashes(pd.DataFrame({"k": k, "m": row_hashes(pattern, list(pattern.columns))}), ["k", "m"])
    return k


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
    if len(readings(ctx, int(p.near_bins))) > 1:
        other = "training row" if which == "test" else "row"
        return (
            "in the space of the numeric columns (each in units of its robust spread; the other "
            "columns equal)",
            f"have a nearest {other} over {1 / p.line_ratio:.0f} times nearer than the next one (or "
            f"two over {1 / np.sqrt(p.line_ratio):.1f} times nearer than the third)",
            "rows with fewer than two neighbours of the same other values are not judged",
        )
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
            "far more (planted 20%: about 9%, a floor). With several readings the same t bounds "
            "r1 / r2 and (r2 / r3)^2 in the space of the numeric columns (`stats.near_space`): at "
            "most 1 - (1 - t)^2 of rows by chance; no unplanted side of the suites above 3.2%",
        ),
        near_max_coarse=Param(
            0.1,
            Interval(float, 0, 1),
            "most share of training rows that chance alone could give a binned twin for near copies "
            "to be judged (a column half zeros, half normal, binned: 0.85, where the chance model "
            "claimed 57% copies)",
        ),
    )
