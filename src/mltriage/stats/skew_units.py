"""One source's rows in another unit whose values stay inside training's range (Foidl et al. 2022,
"Unit Inconsistency": one airport's feed sends Celsius among Fahrenheit, x 0.556 - 17.8).

The whole-column inference (stats/skew_maps.py) accepts a free affine map only when the set left
training's range or grid, since two fitted parameters fit any population that moved with its shape
intact. Inside one level of a categorical column (a source) the evidence is a relation instead:
the batch's values of that level are an affine map a * x + b of training's values of the same level
(their quantiles lie on a line: the same shape, another unit), the slope is not 1 (a unit, not a
shifted population), and the other levels match training unchanged (the caller checks that).

`level_affine` tests it against two nulls measured on the data:
- a bootstrap of training's own rows of the level: a pseudo-training set and a pseudo-batch of the
  real sizes drawn from them, the same quantile fit on each pair: the spread of log(slope) when
  nothing changed (a z-test; the p-value is Bonferroni-corrected by the caller over levels x
  columns), and the 99th percentile of the misfit left after undoing the fitted map (the largest
  gap between the two sets' distribution functions, KS): a population change of one source (a
  season, a subgroup) bends the quantile line, and the misfit of the best line is then beyond what
  the fit leaves on two samples of one shape;
- the same fit on the levels that did not change: their slopes, which carry the batch's own
  sampling (and anything shared by all levels), must stay closer to 1 than the tested level's.
The slope must also differ from 1 by MIN_RATIO at least (an effect size: unit conversions change a
scale by 1.6 (miles), 1.8 (degrees), 2.2 (pounds), 2.54 (inches) or more; a smaller change of
spread is within what a population's own variation does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from .drift import DriftConfig, compare_profiles
from .profile import NumericProfile, build_profile
from .skew_maps import AFFINE_PROBS, _theil_sen, smooth_psi

if TYPE_CHECKING:
    from .skew import SkewResult

MIN_RATIO = 1.25  # the slope's effect-size floor (x or / 1.25)
BOOT = 200  # bootstrap pairs for the nulls
MISFIT_Q = 0.99  # quantile of the null misfit the undone level must stay under


def _fit(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    return _theil_sen(np.quantile(ref, AFFINE_PROBS), np.quantile(cur, AFFINE_PROBS))


def _ks(a_sorted: np.ndarray, b_sorted: np.ndarray) -> float:
    grid = np.concatenate((a_sorted, b_sorted))
    fa = np.searchsorted(a_sorted, grid, side="right") / len(a_sorted)
    fb = np.searchsorted(b_sorted, grid, side="right") / len(b_sorted)
    return float(np.max(np.abs(fa - fb)))


def _misfit(ref: np.ndarray, cur: np.ndarray, a: float, b: float) -> float:
    return _ks(np.sort(ref), np.sort((cur - b) / a))


def level_affine(
    ref: np.ndarray,
    cur: np.ndarray,
    unchanged: list[tuple[np.ndarray, np.ndarray]],
    seed: int = 0,
) -> dict[str, Any] | None:
    """The batch values `cur` of one level against training's `ref` of the same level: the
    quantile-fitted map cur ~ a * ref + b and its tests (see the module's doc); None when no line
    can be fitted (fewer than 5 distinct quantiles, a slope <= 0). `unchanged`: (training, batch)
    values of the other levels. The caller decides with `accepted`."""
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(np.unique(np.quantile(ref, AFFINE_PROBS))) < 5 or len(cur) < 30:
        return None
    a, b = _fit(ref, cur)
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0:
        return None
    rng = np.random.default_rng(seed)
    n, m = len(ref), len(cur)
    logs, fits = [], []
    for _ in range(BOOT):
        r = rng.choice(ref, n, replace=True)
        c = rng.choice(ref, m, replace=True)
        ab, bb = _fit(r, c)
        if np.isfinite(ab) and ab > 0:
            logs.append(np.log(ab))
            fits.append(_misfit(r, c, ab, bb))
    if len(logs) < BOOT // 2:
        return None
    sd = float(np.std(logs, ddof=1))
    z = abs(np.log(a)) / sd if sd > 0 else float("inf")
    others = []
    for r_u, c_u in unchanged:
        r_u, c_u = r_u[np.isfinite(r_u)], c_u[np.isfinite(c_u)]
        if len(c_u) >= 30 and len(np.unique(np.quantile(r_u, AFFINE_PROBS))) >= 5:
            au, _ = _fit(r_u, c_u)
            if np.isfinite(au) and au > 0:
                others.append(float(au))
    return {
        "a": float(a),
        "b": float(b),
        "slope_null_sd_log": round(sd, 4),
        "z": round(float(z), 2),
        "p_value": float(2 * norm.sf(z)),
        "misfit": round(_misfit(ref, cur, a, b), 4),
        "misfit_identity": round(_ks(np.sort(ref), np.sort(cur)), 4),
        "null_misfit_q99": round(float(np.quantile(fits, MISFIT_Q)), 4),
        "unchanged_slopes": [round(v, 4) for v in others],
        "rows": {"training": n, "batch": m},
    }


def accepted(ev: dict[str, Any], alpha: float) -> bool:
    """A unit change of the level: the slope is off 1 by MIN_RATIO or more, beyond the bootstrap
    null (p <= alpha, already corrected for the tests made) and beyond every unchanged level's
    slope, and the undone values keep the level's shape (misfit within the null's 99th
    percentile)."""
    la = abs(np.log(ev["a"]))
    return bool(
        la >= np.log(MIN_RATIO)
        and ev["p_value"] <= alpha
        and all(abs(np.log(u)) < la for u in ev["unchanged_slopes"])
        and ev["misfit"] <= ev["null_misfit_q99"]
    )


def others_moved(
    ref_rows: pd.DataFrame,
    cur_rows: pd.DataFrame,
    columns: list[str],
    categorical: list[str],
    cfg: DriftConfig,
) -> list[str]:
    """The other columns that drift inside the level (the drift rule's own test: PSI >=
    psi_warning and chi-square p < alpha): a source whose population changed (another season,
    other customers) moves its other columns too; a unit bug changes one column only."""
    cols = [c for c in columns if c in ref_rows.columns and c in cur_rows.columns]
    if not cols:
        return []
    cats = [c for c in cols if c in categorical]
    rp = build_profile(ref_rows[cols], categorical=cats)
    cp = build_profile(cur_rows[cols], like=rp, categorical=cats)
    rep = compare_profiles(rp, cp, cfg)
    return [c for c, f in rep.features.items() if f.tested and f.drifted]


def level_unit(
    col: str,
    level: tuple[str, str],
    ref_frame: pd.DataFrame,
    current: pd.DataFrame,
    others: list[str],
    categorical: list[str],
    cfg: DriftConfig,
    alpha: float,
) -> SkewResult | None:
    """`col` in the rows of level (g, v) in another unit (level_affine + accepted), nothing else
    moved in those rows (others_moved), and the undone rows match training's rows of the level
    as the inference's bounds require (PSI <= skew_max_psi_after or what sampling allows, and at
    most skew_max_ratio_after of the level's PSI before)."""
    from .skew import SkewResult, _limit, _trial

    g, v = level
    gr, gc = ref_frame[g].astype(str), current[g].astype(str)
    xr = pd.to_numeric(ref_frame[col], errors="coerce").to_numpy(dtype=float)
    xc = pd.to_numeric(current[col], errors="coerce").to_numpy(dtype=float)
    m_ref, m_cur = (gr == v).to_numpy(), (gc == v).to_numpy()
    unchanged = [
        ((gr == u).to_numpy(), (gc == u).to_numpy()) for u in gr.unique() if u != v and (gc == u).sum() >= 30
    ]
    ev = level_affine(xr[m_ref], xc[m_cur], [(xr[a], xc[b]) for a, b in unchanged], cfg.seed)
    if ev is None or not accepted(ev, alpha):
        return None
    moved = others_moved(ref_frame.loc[m_ref], current.loc[m_cur], others, categorical, cfg)
    if moved:
        return None
    p_in = build_profile(ref_frame.loc[m_ref, [col]])[col]
    if not isinstance(p_in, NumericProfile):
        return None
    t = _trial(p_in, current.loc[m_cur, col], cfg, None)
    if t is None:
        return None
    a, b = ev["a"], ev["b"]
    back = np.sort((t.xs - b) / a)
    # a fitted map need not land exactly on training's repeated values: read them as continuous
    after = min(t.psi_of(back), smooth_psi(t, back))
    if after > _limit(t) or after > cfg.skew_max_ratio_after * t.before:
        return None
    sign = "+" if b >= 0 else "-"
    undo = f"(x {'-' if b >= 0 else '+'} {abs(b):.6g}) / {a:.6g}"
    un = ", ".join(f"{u:.3g}" for u in ev["unchanged_slopes"])
    ev["level_psi_before"], ev["level_psi_after"] = round(t.before, 4), round(after, 4)
    return SkewResult(
        col,
        "affine",
        f"values arrive as {a:.4g} * x {sign} {abs(b):.4g} (another unit: the level's quantiles lie on "
        f"that line, slope {a:.3g} where training's own resamples give 1 +- {ev['slope_null_sd_log']:.2g} "
        f"(log scale), p = {ev['p_value']:.2g}, and the other levels' slopes are {un or 'not measurable'}; "
        f"nothing else moved in those rows)",
        {"type": "affine", "a": a, "b": b, "undo": undo, "evidence": ev},
        t.before,
        after,
        f"convert {col} to the training unit in the serving path ({undo})",
    )
