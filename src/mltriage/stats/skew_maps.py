"""More serving transformations for the skew inference (stats/skew.py): any affine map fitted by
quantile matching, a logarithm, values clipped at a bound.

Each `try_*` adds candidates to a trial (`skew._Trial`: the reference profile, the sorted finite
batch values, the PSI before); the inference keeps the candidate whose undoing matches best.

- `try_affine`: batch ~ a * train + b, fitted by matching 19 quantiles (5% ... 95%) with a
  Theil-Sen line (the median of the pairwise slopes: robust to the few quantiles a tail or a point
  mass bends); its bootstrap spread over the batch rows gives intervals for a and b. Two free
  parameters fitted to the data fit any population that moved with its shape intact, so the map
  is a serving bug only when it is (i) tight (undone, the batch matches: PSI <= skew_max_psi_after
  or what sampling allows, on the reference's 5% quantile bins), (ii) not the identity beyond its
  bootstrap spread, and (iii) large or off the grid: the batch's central 90% (5th to 95th
  percentile) lies entirely outside the training's, or, for a factor of 2 or more, the training
  values lie on a grid (whole numbers, or values holding half the rows) that the batch's values
  left (or that undoing the map puts them back on). A population that moved
  that far with its shape unchanged is not a plausible population change (for a normal column: a
  shift of 3.3 standard deviations), and a population change keeps the measurement's grid;
  minutes for hours (x60), months for years (x12), inches for cm of heights (/2.54), kilograms
  for pounds of whole-pound weights are caught. Smaller shape-preserving moves on the grid
  (everyone 8 years older, limits x1.8 in steps of 10,000, a 1.5 sd shift of a continuous
  column) stay data drift. A set still on training's grid (whole days of the year, say) is only
  transformed by a map that keeps the grid (x 12, x 60): a window of days later in the year is a
  later population, not a unit. The whole factors inside the scale's bootstrap interval are tried
  through the origin (a fitted 11.48 with interval 11.1 to 12.0 is tried as x 12: months for
  whole years, whose quantiles the interpolated training quantiles blur), and on a gridded
  column the ratios of training's largest point masses to the batch's (`mass_ratios`). A batch
  that left a whole-number grid for an exact multiple of it (`grid_spacing`: whole kilometres
  sent as miles, k * 0.62137) is a scale whatever the factor, inside training's range too: a
  population that moved keeps whole numbers, and readings taken more finely sit on no such grid.
  A map that keeps the grid and overlaps training counts too when training piles its rows
  against an end of its range and the map carries that pile outside it (`pile_moved`: a -10..10
  score sent on its 0..20 form; a population crowds against a bound of its scale, it does not
  move it).
- `try_grid_scale`: a scale by 2 or more under which a batch that arrived off training's recorded
  values (its point masses) lands back on them, 90% of its rows exactly: the values identify the
  unit where no distribution test can (a few dozen families' fathers sent in centimetres).
- `try_log`: the batch arrives as log(x), log1p(x) or log10(x) of a non-negative training column.
- `try_clip`: the batch's maximum (minimum) holds a point mass that training did not have, the
  share training had at or beyond it: the serving path clips; the comparison is made on the bins
  below the clip (the clipped values cannot be undone).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .bins import POINT_MASS_SHARE, bin_counts_sorted
from .drift import psi

if TYPE_CHECKING:
    from .skew import _Trial

AFFINE_PROBS = np.linspace(0.05, 0.95, 19)
BOOTSTRAP = 40  # batch resamples for the interval of (a, b)
BOOT_ROWS = 5000  # rows per resample (a subsample of larger batches)


def _theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    i, j = np.triu_indices(len(x), 1)
    dx = x[j] - x[i]
    ok = dx > 0
    if not ok.any():
        return float("nan"), float("nan")
    a = float(np.median((y[j] - y[i])[ok] / dx[ok]))
    return a, float(np.median(y - a * x))


def affine_fit(ref_q: np.ndarray, xs: np.ndarray, seed: int = 0) -> dict[str, Any] | None:
    """batch ~ a * train + b from matched quantiles, with a bootstrap 95% interval for a and b."""
    if len(np.unique(ref_q)) < 5 or len(xs) < 30:
        return None
    a, b = _theil_sen(ref_q, np.quantile(xs, AFFINE_PROBS))
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0:
        return None
    rng = np.random.default_rng(seed)
    sub = xs if len(xs) <= BOOT_ROWS else np.sort(rng.choice(xs, BOOT_ROWS, replace=False))
    boots = []
    for _ in range(BOOTSTRAP):
        r = np.sort(rng.choice(sub, len(sub), replace=True))
        boots.append(_theil_sen(ref_q, np.quantile(r, AFFINE_PROBS)))
    arr = np.array([bt for bt in boots if np.all(np.isfinite(bt))])
    if len(arr) < BOOTSTRAP // 2:
        return None
    # the interval of a subsample is wider than the whole batch's: conservative for big batches
    lo, hi = np.percentile(arr, [2.5, 97.5], axis=0)
    return {"a": a, "b": b, "a_ci": [float(lo[0]), float(hi[0])], "b_ci": [float(lo[1]), float(hi[1])]}


def grid_left(ref: Any, xs: np.ndarray) -> bool:
    """The training values lie on a grid (whole numbers, or a set of values holding at least half
    the rows) and the batch's mostly do not (under half the training's share): the measurement
    changed, not the population, which keeps its grid (everyone 8 years older is still in whole
    years)."""
    if len(xs) == 0:
        return False
    if ref.integer:
        return float(np.mean(xs == np.round(xs))) < 0.5
    pm = ref.point_masses
    cover = sum(pm.values()) / max(ref.n, 1)
    if cover < 0.5:
        return False
    on = float(np.isin(xs, np.fromiter(pm.keys(), dtype=float)).mean())
    return on < cover / 2


def _on_grid(ref: Any, v: np.ndarray) -> float:
    if ref.integer:
        r = np.round(v)
        return float(np.mean(np.abs(v - r) <= 1e-6 * np.maximum(np.abs(r), 1.0)))
    return (
        float(np.isin(v, np.fromiter(ref.point_masses.keys(), dtype=float)).mean())
        if ref.point_masses
        else 0.0
    )


def _back_on_grid(ref: Any, xs: np.ndarray, a: float, b: float) -> bool:
    """Undoing the map puts the batch back on training's grid (90% of its values at least) where
    a quarter or more of them were off it as they arrived."""
    if not ref.integer and sum(ref.point_masses.values()) < 0.5 * max(ref.n, 1):
        return False
    back = _on_grid(ref, (xs - b) / a)
    return back >= 0.9 and _on_grid(ref, xs) <= back - 0.25


def _simplest(v: float, ci: list[float]) -> float:
    """The value with the fewest significant digits inside the interval (0 when it holds 0): the
    map a unit conversion would give (x 60, not x 60.07)."""
    if ci[0] <= 0.0 <= ci[1]:
        return 0.0
    for digits in range(1, 7):
        r = float(f"{v:.{digits}g}")
        if ci[0] <= r <= ci[1]:
            return r
    return v


def _g(v: float) -> str:
    return f"{v:.4g}"


def try_affine(t: _Trial) -> None:
    """batch ~ a * train + b for any a > 0 and b (see the module's doc for when it is accepted)."""
    ref, xs = t.ref, t.xs
    ref_q = np.array([ref.quantile(float(p)) for p in AFFINE_PROBS], dtype=float)
    if not np.all(np.isfinite(ref_q)):
        return
    fit = affine_fit(ref_q, xs, seed=t.cfg.seed)
    r05, r95 = ref.quantile(0.05), ref.quantile(0.95)
    if fit is None or r05 is None or r95 is None:
        return
    a_ci, b_ci = fit["a_ci"], fit["b_ci"]
    if a_ci[0] <= 1.0 <= a_ci[1] and b_ci[0] <= 0.0 <= b_ci[1]:
        return  # not distinguishable from the identity
    b05, b95 = float(np.quantile(xs, 0.05)), float(np.quantile(xs, 0.95))
    far = b05 > r95 or b95 < r05
    left = grid_left(ref, xs)
    gridded = ref.integer or sum(ref.point_masses.values()) >= 0.5 * max(ref.n, 1)
    on_grid_as_is = gridded and _on_grid(ref, xs) >= 0.9
    maps = [(fit["a"], fit["b"]), (_simplest(fit["a"], a_ci), _simplest(fit["b"], b_ci))]
    pos = ref_q > 0
    if pos.sum() >= 5:  # the scale through the origin (a unit change), as fitted and rounded
        a0 = float(np.median(np.quantile(xs, AFFINE_PROBS)[pos] / ref_q[pos]))
        maps += [(a0, 0.0), (_simplest(a0, a_ci), 0.0)]
    if on_grid_as_is and ref.integer:  # the whole factors of the interval keep a whole-number grid
        lo_a, hi_a = max(2, int(np.ceil(a_ci[0]))), int(np.floor(a_ci[1]))
        maps += [(float(k), 0.0) for k in range(lo_a, min(hi_a, lo_a + 19) + 1)]
    if gridded:
        maps += [(f, 0.0) for f in mass_ratios(ref, xs, a_ci)]
    spacing = grid_spacing(xs, a_ci) if ref.integer and left else None
    if spacing is not None:
        maps.append((spacing, 0.0))
    for a, b in dict.fromkeys(maps):
        # off the grid counts for a factor of 2 or more only: a population whose values double or
        # halve with their shape intact is no population change, one 1.8 times larger may be;
        # a batch that lies exactly on a multiple of training's whole-number grid is a scale
        # whatever the factor (a population 1.6 times larger keeps whole numbers)
        if a <= 0:
            continue
        off_grid = (abs(np.log(a)) >= np.log(2.0) and (left or _back_on_grid(ref, xs, a, b))) or (
            a == spacing
        )
        if on_grid_as_is and _on_grid(ref, (xs - b) / a) < 0.9:
            continue  # still on training's grid, and the map does not keep it: the same measurement
        if not (far or off_grid or pile_moved(ref, xs, a, b)):
            continue  # the batch overlaps the training's range on its grid: a population change can do that
        if b == 0.0:
            desc = f"values arrive multiplied by {a:.4g} (another unit or scale: x {a:.4g})"
            undo = f"x / {a:.6g}"
        else:
            desc = (
                f"values arrive as {a:.4g} * x {'+' if b >= 0 else '-'} {abs(b):.4g} (another unit or origin)"
            )
            undo = f"(x {'-' if b >= 0 else '+'} {abs(b):.6g}) / {a:.6g}"
        back = np.sort((xs - b) / a)
        t.consider(
            min(t.psi_of(back), smooth_psi(t, back)),
            "affine",
            desc,
            {"type": "affine", "a": a, "b": b, "a_ci": a_ci, "b_ci": b_ci, "undo": undo},
            f"convert {ref.name} to the training unit and origin in the serving path ({undo})",
        )


GRID_MIN_VALUES = 5  # distinct batch values that must land on training's recorded values


def _on_values(grid: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Per value: whether it equals one of the sorted `grid` values (to floating-point rounding)."""
    i = np.clip(np.searchsorted(grid, v), 1, len(grid) - 1)
    near = np.where(np.abs(grid[i] - v) < np.abs(grid[i - 1] - v), grid[i], grid[i - 1])
    return np.abs(near - v) <= 1e-9 * np.maximum(np.abs(v), 1.0)


def try_grid_scale(t: _Trial) -> None:
    """A scale through the origin, by a factor of 2 or more, that puts a batch which arrived off
    training's recorded values back onto them: training's values lie on a few recorded values
    (point masses holding half its rows or more: heights to the half inch), under a quarter of
    the batch's rows lies on them as it arrives, and x / f puts 90% of its rows and at least
    GRID_MIN_VALUES of its distinct values exactly on them (f from the batch's commonest value
    over each recorded value). A population change keeps the measurement's values, and values
    divided by a wrong factor land on recorded values by chance with probability ~0 (exact
    equality), so the factor is identified by the values themselves, not by how close the
    undone distribution comes to training's: on a column of few clustered values (the fathers of
    a few dozen families) the batch's entities sit far from training's by nature (the evaluation
    set itself at PSI 1.7), so no distribution test can confirm a unit there. Accepted on this
    evidence alone (`on_training_values` in the transform), whatever PSI is left."""
    ref, xs = t.ref, t.xs
    pm = ref.point_masses
    if len(pm) < GRID_MIN_VALUES or sum(pm.values()) < 0.5 * max(ref.n, 1) or len(xs) == 0:
        return
    grid = np.array(sorted(pm), dtype=float)
    if float(_on_values(grid, xs).mean()) > 0.25:
        return  # the batch arrives on training's values: the same measurement
    vals, cnt = np.unique(xs, return_counts=True)
    if len(vals) < GRID_MIN_VALUES:
        return
    top = float(vals[np.argmax(cnt)])
    best: tuple[float, float] | None = None
    for g in grid:
        if g == 0 or top / g <= 0:
            continue
        f = float(f"{top / g:.6g}")  # the factor a conversion table gives (2.54, not 2.5400000001)
        if abs(np.log(f)) < np.log(2.0):
            continue
        hit = _on_values(grid, xs / f)
        if float(hit.mean()) >= 0.9 and int(_on_values(grid, vals / f).sum()) >= GRID_MIN_VALUES:
            if best is None or float(hit.mean()) > best[1]:
                best = (f, float(hit.mean()))
    if best is None:
        return
    f, share = best
    t.consider(
        t.psi_of(np.sort(xs / f)),
        "affine",
        f"values arrive multiplied by {f:.6g} (another unit: x {f:.6g}; divided by it, {share:.0%} of "
        "the rows are values training recorded)",
        {"type": "affine", "a": f, "b": 0.0, "undo": f"x / {f:.6g}", "on_training_values": round(share, 4)},
        f"convert {ref.name} to the training unit in the serving path (x / {f:.6g})",
    )


PILE_ALPHA = 0.001  # significance of a pile against the end of training's range


def pile_moved(ref: Any, xs: np.ndarray, a: float, b: float) -> bool:
    """Training piles its rows against an end of its range and the map a * x + b carries that pile
    outside training's range, where the batch holds it: a population can crowd against a bound of
    its scale (a top score, a floor of zero) or leave it, not move it (a -10..10 score sent on its
    0..20 form: the 37% of training at 10 arrive at 20). A pile: the extreme value holds more rows
    than the nearest value inside, beyond chance (two values of a smooth distribution side by side
    are equally likely: one-sided binomial test at PILE_ALPHA; against the nearest point mass inside,
    or, without one, the point-mass share, which any other value holds less of). Moved: the batch holds within a factor 1.5 of training's
    share at the mapped value and under a third of it at the old one (try_clip's conventions)."""
    from scipy.stats import binom

    pm = ref.point_masses
    n_b = len(xs)
    if not pm or ref.min is None or ref.max is None or n_b == 0 or ref.n <= 0:
        return False
    floor = int(POINT_MASS_SHARE * ref.n)  # a value that is no point mass holds fewer rows
    for upper in (True, False):
        v = float(ref.max if upper else ref.min)
        c = pm.get(v, 0)
        inner = [u for u in pm if (u < v if upper else u > v)]
        c_nb = pm[max(inner) if upper else min(inner)] if inner else floor
        if c == 0 or binom.sf(c - 1, c + c_nb, 0.5) >= PILE_ALPHA:
            continue
        w = a * v + b
        if (w <= ref.max) if upper else (w >= ref.min):
            continue  # the pile stays inside training's range
        share = c / ref.n
        at_w = float(np.mean(np.abs(xs - w) <= 1e-9 * max(1.0, abs(w))))
        at_v = float(np.mean(xs == v))
        if 1 / 1.5 <= at_w / share <= 1.5 and at_v < share / 3:
            return True
    return False


def grid_spacing(xs: np.ndarray, a_ci: list[float], tol: float = 0.02) -> float | None:
    """The spacing s of the grid the batch lies on, when training's values are whole numbers and
    the batch's are not: 90% of the batch's distinct values within `tol` * s of a multiple k * s
    (s from the smallest gap between distinct values, or a half or third of it, refined as the
    median of value / k), and s inside the scale's bootstrap interval. Whole kilometres sent as
    miles arrive as k * 0.62137; a population that moved keeps whole numbers, and values measured
    more finely (decimals) sit on no grid, or on one (0.1, 0.5) far outside the scale's interval.
    By chance a distinct value lands within `tol` * s of a multiple with probability 2 * tol, so
    90% of 10 or more is out of reach of continuous values."""
    u = np.unique(np.abs(xs[np.isfinite(xs)]))
    u = u[u > 0]
    if len(u) < 10:
        return None
    gaps = np.diff(u)
    gaps = gaps[gaps > 1e-9 * u[-1]]
    if len(gaps) == 0:
        return None
    for j in (1, 2, 3):
        s = float(gaps.min()) / j
        k = np.round(u / s)
        if np.mean(np.abs(u / s - k) <= tol) < 0.9:
            continue
        s = float(np.median(u / np.maximum(k, 1)))
        k = np.round(u / s)
        if np.mean(np.abs(u / s - k) <= tol) >= 0.9 and a_ci[0] <= s <= a_ci[1]:
            return s
    return None


def mass_ratios(ref: Any, xs: np.ndarray, a_ci: list[float], top: int = 3) -> list[float]:
    """Scales that carry one of training's largest point masses onto one of the batch's (their
    values' ratios), inside the scale's bootstrap interval. On a column whose values sit on a few
    point masses only the exact factor matches them (weekly benefits sent as monthly amounts,
    x 4.33: PSI 0.03 undone by 4.33, 0.78 by 4.35, the quantile fit's 4.35 [4.24, 4.64]); the
    ratio of two masses recovers it where interpolated quantiles blur it."""
    pm = sorted(ref.point_masses.items(), key=lambda kv: -kv[1])[:top]
    vals, cnt = np.unique(xs, return_counts=True)
    order = np.argsort(-cnt, kind="stable")[:top]
    out = []
    for i in order:
        if cnt[i] < 2:
            continue
        for v, _ in pm:
            if v != 0 and np.isfinite(v):
                f = float(vals[i] / v)
                if a_ci[0] <= f <= a_ci[1] and f > 0:
                    out.append(f)
    return out


def _pow10(v: np.ndarray) -> np.ndarray:
    return np.power(10.0, v)


INVERSE_LOGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.exp,
    "log1p": np.expm1,
    "log10": _pow10,
}
_LOGS = {
    "log": ("natural log", "exp(x)"),
    "log1p": ("log(1 + x)", "exp(x) - 1"),
    "log10": ("log10", "10 ** x"),
}


def try_log(t: _Trial) -> None:
    """The batch arrives log-transformed (a non-negative training column; batch values small)."""
    ref, xs = t.ref, t.xs
    if ref.min is None or ref.max is None or ref.min < 0 or ref.max <= 10 or xs[-1] > 700:
        return
    for kind, (name, undo) in _LOGS.items():
        if kind == "log" and ref.min <= 0:
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            back = INVERSE_LOGS[kind](xs)
        if not np.all(np.isfinite(back)):
            continue
        back = np.sort(back)
        t.consider(
            min(t.psi_of(back), smooth_psi(t, back)),  # a rounded log does not land on whole numbers
            "log",
            f"values arrive log-transformed ({name}) while the model expects raw values",
            {"type": "log", "function": kind, "undo": undo},
            f"send raw {ref.name} to the model (its pipeline does not take the log), or drop the "
            "extra log step in serving",
        )


def _clip_psi(t: _Trial, bound: float, upper: bool) -> float:
    """PSI with every bin at or beyond the clip bound merged into one, on both sides."""
    ref = t.ref
    rc = np.asarray(ref.counts, dtype=float)
    bc = bin_counts_sorted(t.xs, ref.edges).astype(float)
    k = int(np.searchsorted(ref.edges, bound, side="right"))  # bins [under, e0..] index of bound
    if upper:
        rc = np.concatenate((rc[:k], [rc[k:].sum()]))
        bc = np.concatenate((bc[:k], [bc[k:].sum()]))
    else:
        rc = np.concatenate(([rc[: k + 1].sum()], rc[k + 1 :]))
        bc = np.concatenate(([bc[: k + 1].sum()], bc[k + 1 :]))
    return psi(rc, bc, t.cfg.smoothing)


def try_clip(t: _Trial) -> None:
    """Values clipped at the batch's maximum (or minimum): a new point mass there that holds about
    the share of training rows at or beyond it (within a factor 1.5), at least 1% of the batch."""
    ref, xs = t.ref, t.xs
    n = len(xs)
    for upper in (True, False):
        bound = float(xs[-1] if upper else xs[0])
        share_b = float(np.mean(xs == bound))
        share_r_at = ref.point_masses.get(bound, 0) / max(ref.n, 1)
        beyond = _ref_share_beyond(ref, bound, upper)
        if share_b < 0.01 or n * share_b < 5 or share_r_at >= share_b / 3 or beyond is None:
            continue
        if not (beyond > 0 and 1 / 1.5 <= share_b / beyond <= 1.5):
            continue
        pm_beyond = sum(c for v, c in ref.point_masses.items() if (v > bound if upper else v < bound))
        if pm_beyond / max(ref.n, 1) >= 0.5 * beyond:
            continue  # training's values beyond are one stand-in value: a changed fill value, not a clip
        side = "above" if upper else "below"
        t.consider(
            _clip_psi(t, bound, upper),
            "clipped",
            f"values arrive clipped at {_g(bound)} ({share_b:.1%} of the batch sits exactly there; "
            f"training had {beyond:.1%} of its values {side} it)",
            {"type": "clipped", "bound": bound, "side": "max" if upper else "min", "undo": "not invertible"},
            f"remove the clipping of {ref.name} at {_g(bound)} in the serving path (training did "
            "not clip), or clip in training too",
        )


def _ref_cdf(ref: Any, points: np.ndarray) -> np.ndarray:
    """The reference's CDF at `points`, interpolated linearly in its histogram (continuous: a point
    mass is spread over its bin)."""
    edges, counts = np.asarray(ref.edges, float), np.asarray(ref.counts, float)
    cdf_edges = np.concatenate(([counts[0]], counts[0] + np.cumsum(counts[1:-1])))
    below = np.interp(points, edges, cdf_edges, left=counts[0], right=counts[:-1].sum())
    return below / max(ref.n, 1)


def smooth_psi(t: _Trial, values: np.ndarray) -> float:
    """PSI of sorted values against the reference on its 5% quantile bins, the reference's shares
    read from its interpolated CDF: a fitted map carries its estimation error, so its undone
    values need not land exactly on the reference's point masses (which have bins of their own)."""
    ref = t.ref
    q = np.unique(np.array([ref.quantile(float(p)) for p in np.linspace(0.05, 0.95, 19)], dtype=float))
    if len(q) < 2:
        return t.psi_of(values)
    cdf = _ref_cdf(ref, q)
    ref_sh = np.diff(np.concatenate(([0.0], cdf, [1.0]))) * ref.n
    cur = np.diff(np.concatenate(([0], np.searchsorted(values, q, side="right"), [len(values)])))
    nf_r = ref.missing + ref.unparsed + ref.pos_inf + ref.neg_inf
    if nf_r or t.n_nonfinite:
        ref_sh, cur = np.append(ref_sh, nf_r), np.append(cur, t.n_nonfinite)
    return psi(ref_sh, cur, t.cfg.smoothing)


def _ref_share_beyond(ref: Any, bound: float, upper: bool) -> float | None:
    """The share of reference values at or beyond `bound`, interpolated in the histogram."""
    if ref.n == 0:
        return None
    below = float(_ref_cdf(ref, np.array([bound]))[0])
    return 1.0 - below if upper else below


def _rel_close(a: float, b: float) -> bool:
    return bool(np.isfinite(a) and np.isfinite(b) and abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b)))


def try_default_fill(t: _Trial, find_point_masses: Callable[[np.ndarray], dict[float, int]]) -> None:
    """A default written in place of a missing input: one value that training never held (off its
    grid: a computed value such as a mean on whole-number data; or training's mean itself, or a
    point mass on a column training recorded without any) holds 1% or more of the batch. The undo
    sets those rows aside as missing and compares the rest with training: when the rest matches
    (the inference's usual PSI bounds), the drift was the default alone, a serving bug (Rules of
    ML 29/37: a feature lookup that times out and falls back to a "safe" value), not a population
    change, which moves the recorded values too."""
    ref, xs = t.ref, t.xs
    pm = find_point_masses(xs)
    for v, c in sorted(pm.items(), key=lambda kv: -kv[1]):
        share = c / t.n_all
        if share < 0.01 or ref.point_masses.get(v, 0) > 0:
            continue
        off = _on_grid(ref, np.array([v])) == 0.0 if (ref.integer or ref.point_masses) else True
        at_mean = _rel_close(v, ref.mean) or _rel_close(v, ref.quantile(0.5) or np.nan)
        if not (off or at_mean):
            continue
        rest = xs[xs != v]
        if len(rest) < t.cfg.min_rows:
            continue
        what = "training's mean" if at_mean else "a value off training's recorded values"
        t.consider(
            t.psi_of(rest, t.n_nonfinite),
            "fill_value",
            f"{share:.0%} of values are {_g(v)}, {what} that no training row holds: a default filled "
            "in serving for a missing input",
            {"type": "fill_value", "from": float(v), "to": None, "undo": f"replace {_g(v)} with NaN"},
            f"find why {ref.name} is missing in serving (a timed-out lookup, a failed join) and send "
            "the real value, or NaN if the model's pipeline imputes it",
        )
        return
