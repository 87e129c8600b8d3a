"""A serving transformation applied to the rows of one source only (Foidl et al. 2022, the "Unit
Inconsistency" smell: one attribute recorded in several units; one site's feed sends Celsius while
the others send Fahrenheit). No single map undoes a mixture, so the whole-column inference finds
nothing; here, for a drifting numeric column it left unexplained, each level of a categorical
feature (a source, a site, a vendor) holding 5% or more of the set is tried as the rows it applies
to: the column inside those rows must be explained by the inference's own transformations (its
bounds, unchanged) against the training rows of the same level, and the column in every other row
must match the other training rows as well as sampling allows (skew_max_psi_after or the 99th
percentile of the PSI between two samples of one distribution). The first condition alone is met
by any level whose population moved; the second says that nothing else moved: a real change of
one source's population is a shift of its values, which the inference's bounds do not take for a
unit (a map is accepted only when the rows left training's range or grid). A unit whose values stay
inside training's range (Celsius among Fahrenheit, x 0.56 - 17.8) is judged by its relation to
training's rows of the same level instead (stats/skew_units.py: the level's quantiles on a line of
slope != 1 beyond the bootstrap null of training's own rows and the unchanged levels' slopes, the
line's misfit within that null, nothing else moving in the level's rows; Bonferroni over
columns x levels, UNIT_ALPHA)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .drift import DriftConfig, DriftReport
from .profile import CategoricalProfile, NumericProfile, Profile, build_profile

if TYPE_CHECKING:
    from .skew import SkewResult

MIN_SHARE = 0.05  # a level must hold this share of the set to be tried
MAX_LEVELS = 30  # categorical columns with more levels are not sources
UNIT_ALPHA = 0.01  # family-wise level of the unit test inside a level, over columns x levels


def _levels(
    ref: Profile, current: pd.DataFrame, columns: list[str], cfg: DriftConfig
) -> list[tuple[str, str]]:
    out = []
    for g in columns:
        if not isinstance(ref.columns.get(g), CategoricalProfile) or g not in current.columns:
            continue
        share = current[g].astype(str).value_counts(normalize=True)
        if len(share) > MAX_LEVELS:
            continue
        out += [(g, str(v)) for v, s in share.items() if s >= MIN_SHARE and s * len(current) >= cfg.min_rows]
    return out


def find_group_skews(
    ref: Profile,
    ref_frame: pd.DataFrame | None,
    current: pd.DataFrame,
    report: DriftReport,
    columns: Iterable[str],
    cfg: DriftConfig,
    explained: set[str],
) -> dict[str, SkewResult]:
    """Drifting numeric columns not in `explained` whose drift a transformation of one source's
    rows explains: {column: result naming the rows in transform['where']}."""
    from .skew import infer_skew
    from .skew_units import level_unit

    if ref_frame is None:
        return {}
    columns = list(columns)
    todo = [
        c
        for c in columns
        if c not in explained
        and (fd := report.features.get(c)) is not None
        and fd.tested
        and fd.kind == "numeric"
        and fd.psi >= cfg.skew_min_psi
        and isinstance(ref.columns.get(c), NumericProfile)
        and c in ref_frame.columns
    ]
    if not todo:
        return {}
    levels = _levels(ref, current, columns, cfg)
    cats = [c for c in columns if isinstance(ref.columns.get(c), CategoricalProfile)]
    alpha = UNIT_ALPHA / max(len(todo) * len(levels), 1)  # Bonferroni over columns x levels
    out: dict[str, SkewResult] = {}
    for col in todo:
        others = [c for c in columns if c != col and c in ref_frame.columns]
        for g, v in levels:
            if g not in ref_frame.columns:
                continue
            rm = _rest_matches(ref_frame, current, col, (g, v), cfg)
            if rm is None:
                continue
            m_cur = (current[g].astype(str) == v).to_numpy()
            # a transformation of the whole-column inference, else a unit that stays in range
            res = infer_skew(rm[1], current.loc[m_cur, col], cfg) or level_unit(
                col, (g, v), ref_frame, current, others, cats, cfg, alpha
            )
            if res is not None:
                out[col] = _located(res, report, col, (g, v), float(np.mean(m_cur)), rm[0])
                break
    return out


def _rest_matches(
    ref_frame: pd.DataFrame, current: pd.DataFrame, col: str, level: tuple[str, str], cfg: DriftConfig
) -> tuple[float, NumericProfile] | None:
    """(the other rows' PSI, training's profile of the level's rows) when every row outside the
    level matches the training rows outside it as well as sampling allows; else None."""
    from .skew import _limit, _trial

    g, v = level
    m_cur = (current[g].astype(str) == v).to_numpy()
    m_ref = (ref_frame[g].astype(str) == v).to_numpy()
    if m_ref.sum() < cfg.min_rows or (~m_ref).sum() < cfg.min_rows or (~m_cur).sum() < cfg.min_rows:
        return None
    p_in = build_profile(ref_frame.loc[m_ref, [col]])[col]
    p_out = build_profile(ref_frame.loc[~m_ref, [col]])[col]
    if not isinstance(p_in, NumericProfile) or not isinstance(p_out, NumericProfile):
        return None
    rest = _trial(p_out, current.loc[~m_cur, col], cfg, None)
    if rest is None or rest.before > _limit(rest):
        return None
    return rest.before, p_in


def _located(
    res: SkewResult, report: DriftReport, col: str, level: tuple[str, str], share: float, rest_psi: float
) -> SkewResult:
    g, v = level
    return replace(
        res,
        description=f"in the rows with {g} == {v!r} ({share:.0%} of the set), {res.description}; "
        f"the other rows match training (PSI {rest_psi:.3f})",
        transform={**res.transform, "where": {"column": g, "value": v}},
        psi_before=report.features[col].psi,
        fix=f"{res.fix} for the rows with {g} == {v!r} (that source's feed)",
    )
