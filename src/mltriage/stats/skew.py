"""Train/serving skew: which simple transformation makes the batch match the reference again?

A feature computed differently in serving drifts strongly, and undoing the serving path's mistake
brings it back. `infer_skew` tries, on a numeric column, the transformations a broken serving path
typically applies: a unit change by a power of ten, values already standardised or min-max scaled,
a changed fill value for missing values. `infer_text_skew` looks, on a categorical column, for new
categories that are training categories written differently (case, spaces). `find_skews` runs
both over the drifting columns of a batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .bins import bin_counts_sorted, find_point_masses, to_float_array
from .drift import DriftConfig, DriftReport, extra_bin, psi
from .profile import CategoricalProfile, NumericProfile, Profile
from .skew_maps import INVERSE_LOGS, try_affine, try_clip, try_default_fill, try_grid_scale, try_log
from .skew_recode import ALPHA as RECODE_ALPHA
from .skew_recode import FAMILY_ALPHA, N_SIMS, Others, on_training_scale, others_for, recode_test


@dataclass
class SkewResult:
    """A numeric column's inferred serving transformation and how well undoing it matches."""

    column: str
    kind: str  # scale, standardised, minmax, fill_value, log, clipped, affine, codes
    description: str  # what the serving path does, in words
    transform: dict[str, Any]  # how to undo it on the batch
    psi_before: float
    psi_after: float
    fix: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["psi_before"], d["psi_after"] = round(self.psi_before, 4), round(self.psi_after, 4)
        return d


@dataclass
class TextSkew:
    """A categorical column whose new batch values are training categories written differently."""

    column: str
    mapping: dict[str, str]  # batch value -> the training category it normalises to (10 at most)
    share: float  # share of batch values that are new categories
    description: str = "categories written differently"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "text_normalisation", "mapping": self.mapping, "share": self.share}


Skew = SkewResult | TextSkew


def _psi_sorted(ref: NumericProfile, xs: np.ndarray, n_nonfinite: int, cfg: DriftConfig) -> float:
    counts = bin_counts_sorted(xs, ref.edges)
    xa, xb = extra_bin(
        ref, NumericProfile(name="", dtype="", edges=ref.edges, counts=counts, missing=n_nonfinite)
    )
    return psi(np.concatenate((ref.counts, xa)), np.concatenate((counts, xb)), cfg.smoothing)


def null_psi(n: int, m: int, bins: int, q: float = 0.99) -> float:
    """The q-quantile of the PSI between two samples of sizes n and m drawn from one distribution
    over `bins` bins: PSI is a symmetrised Kullback-Leibler divergence, about (1/n + 1/m) times a
    chi-square with bins - 1 degrees of freedom. A batch undone to the training distribution
    cannot match it better than sampling allows: on 200 rows and 20 bins the bound is about 0.19,
    not 0.05."""
    from scipy.stats import chi2

    if n <= 0 or m <= 0 or bins < 2:
        return 0.0
    return float((1.0 / n + 1.0 / m) * chi2.ppf(q, bins - 1))


def _fmt(v: float) -> str:
    return f"{v:g}"


@dataclass
class _Trial:
    """One batch column under trial: its sorted finite values and the candidates tried so far."""

    ref: NumericProfile
    xs: np.ndarray  # sorted finite batch values
    n_all: int
    n_nonfinite: int
    before: float  # PSI of the batch as it arrives
    cfg: DriftConfig
    cands: list[tuple[float, SkewResult]] = field(default_factory=list)
    x: np.ndarray | None = None  # the batch's values in row order (NaN for missing)
    others: Others | None = None  # the other columns of both sets (for the re-encoding test)

    def psi_of(
        self, values: np.ndarray, n_nonfinite: int | None = None, ref: NumericProfile | None = None
    ) -> float:
        nf = self.n_nonfinite if n_nonfinite is None else n_nonfinite
        if self.ref.integer:  # undoing in floating point lands next to whole numbers: snap back
            r = np.round(values)
            values = np.sort(np.where(np.abs(values - r) <= 1e-6 * np.maximum(np.abs(r), 1.0), r, values))
        return _psi_sorted(self.ref if ref is None else ref, values, nf, self.cfg)

    def consider(self, after: float, kind: str, desc: str, transform: dict, fix: str) -> None:
        self.cands.append((after, SkewResult(self.ref.name, kind, desc, transform, self.before, after, fix)))


def _nonzero_reference(ref: NumericProfile, cfg: DriftConfig) -> tuple[bool, NumericProfile | None]:
    """Whether a unit change can be identified, and the reference without its zeros when much of it
    sits exactly at 0 (dividing any batch by a large factor piles it up near 0 and "matches" that
    spike: the non-zero values must then match too)."""
    zeros = ref.point_masses.get(0.0, 0)
    zero_share = zeros / max(ref.rows, 1)
    nz_ref = None
    if zero_share >= 0.3 and ref.n - zeros >= cfg.min_rows:
        zc = bin_counts_sorted(np.array([0.0]), ref.edges)
        nz_ref = NumericProfile(
            name=ref.name,
            dtype=ref.dtype,
            edges=ref.edges,
            counts=np.maximum(ref.counts - zc * zeros, 0),
            n=ref.n - zeros,
        )
    # too few non-zero reference values: a unit change cannot be told from noise around 0
    return zero_share < 0.3 or nz_ref is not None, nz_ref


def _try_units(t: _Trial) -> None:
    """x / 10^k for k = +-1..6: the batch arrives in another unit."""
    ref, xs, cfg = t.ref, t.xs, t.cfg
    identifiable, nz_ref = _nonzero_reference(ref, cfg)
    if not identifiable:
        return
    xs_nz = xs[xs != 0]
    med_c = float(np.median(np.abs(xs))) or float(np.mean(np.abs(xs)))
    med_r = abs(ref.quantile(0.5) or 0.0) or abs(ref.mean)
    for k in (1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6):
        f = 10.0**k
        if med_r > 0 and med_c > 0 and abs(math.log10(med_c / med_r) - k) > 1.5:
            continue  # the medians are nowhere near this ratio: skip the pass
        after = t.psi_of(xs / f)
        if nz_ref is not None:
            nz_after = t.psi_of(xs_nz / f, 0, nz_ref) if xs_nz.size >= cfg.min_rows else np.inf
            after = max(after, nz_after)
        t.consider(
            after,
            "scale",
            f"values arrive multiplied by {_fmt(f)} (another unit: x {_fmt(f)})",
            {"type": "scale", "factor": f, "undo": f"x / {_fmt(f)}"},
            f"convert {ref.name} to the training unit in the serving path (divide by {_fmt(f)})",
        )


def _try_scalings(t: _Trial) -> None:
    """x * std + mean (the batch arrives standardised), x * (max - min) + min (min-max scaled)."""
    ref, xs = t.ref, t.xs
    if ref.std > 0 and abs(ref.mean) + abs(ref.std - 1.0) > 0.1:
        t.consider(
            t.psi_of(xs * ref.std + ref.mean),
            "standardised",
            f"values arrive already standardised (mean {np.mean(xs):.3g}, std {np.std(xs):.3g}) "
            f"while the model expects raw values (mean {ref.mean:.4g}, std {ref.std:.4g})",
            {
                "type": "standardised",
                "mean": ref.mean,
                "std": ref.std,
                "undo": f"x * {ref.std:.6g} + {ref.mean:.6g}",
            },
            f"send raw {ref.name} to the model (its pipeline scales it), or drop the extra scaling step in serving",
        )
    if (
        ref.min is not None
        and ref.max is not None
        and ref.max > ref.min
        and (ref.min < -0.05 or ref.max > 1.05)
        and xs[0] >= -1e-9
        and xs[-1] <= 1 + 1e-9
    ):
        span = ref.max - ref.min
        t.consider(
            t.psi_of(xs * span + ref.min),
            "minmax",
            f"values arrive min-max scaled to [0, 1] while the model expects [{ref.min:.4g}, {ref.max:.4g}]",
            {"type": "minmax", "min": ref.min, "max": ref.max, "undo": f"x * {span:.6g} + {ref.min:.6g}"},
            f"send raw {ref.name} to the model, or drop the extra scaling step in serving",
        )


def _close(a: float, b: float) -> bool:
    return a > 0 and b > 0 and 0.5 <= a / b <= 2.0


def _try_fill_values(t: _Trial) -> None:
    """A value standing in for missing in one set replaced by another value, or by NaN, in the other."""
    ref, xs, name = t.ref, t.xs, t.ref.name
    n_ref_rows = max(ref.rows, 1)
    pr = {v: c / n_ref_rows for v, c in ref.point_masses.items()}
    pc = {v: c / t.n_all for v, c in find_point_masses(xs).items()}
    miss_r = (ref.missing + ref.unparsed) / n_ref_rows
    miss_c = t.n_nonfinite / t.n_all
    new_vals = [v for v, s_ in pc.items() if s_ >= 0.01 and pr.get(v, 0.0) < s_ / 3]
    gone_vals = [v for v, s_ in pr.items() if s_ >= 0.01 and pc.get(v, 0.0) < s_ / 3]
    for vn in new_vals:
        for vo in gone_vals:
            if _close(pc[vn], pr[vo]):
                t.consider(
                    t.psi_of(np.sort(np.where(xs == vn, vo, xs))),
                    "fill_value",
                    f"the default for missing values changed: {_fmt(vn)} in serving where training used {_fmt(vo)}",
                    {
                        "type": "fill_value",
                        "from": vn,
                        "to": vo,
                        "undo": f"replace {_fmt(vn)} with {_fmt(vo)}",
                    },
                    f"use the training default {_fmt(vo)} for missing {name} in the serving path",
                )
        if _close(pc[vn], miss_r) and miss_c < miss_r / 3:
            y = xs[xs != vn]
            t.consider(
                t.psi_of(y, t.n_nonfinite + int(len(xs) - len(y))),
                "fill_value",
                f"missing values are filled with {_fmt(vn)} in serving but were left missing in training",
                {"type": "fill_value", "from": vn, "to": None, "undo": f"replace {_fmt(vn)} with NaN"},
                f"stop filling missing {name} with {_fmt(vn)} before the model (let the model's own imputation run)",
            )
    if miss_c >= 0.01 and miss_r < miss_c / 3:
        for vo in gone_vals:
            if _close(miss_c, pr[vo]):
                t.consider(
                    t.psi_of(np.sort(np.concatenate((xs, np.full(t.n_nonfinite, vo)))), 0),
                    "fill_value",
                    f"missing values arrive as NaN in serving where training filled them with {_fmt(vo)}",
                    {"type": "fill_value", "from": None, "to": vo, "undo": f"fill NaN with {_fmt(vo)}"},
                    f"fill missing {name} with {_fmt(vo)} in the serving path, as training did",
                )


def _try_recoded(t: _Trial) -> None:
    """Integer codes of a categorical feature assigned in another order (an encoder fitted apart):
    a column of 3 to 30 whole-number values, the batch's values among training's, whose codes
    relate to the other columns as training's codes do under another map (stats/skew_recode.py:
    the per-code means of the other columns, and the label when both sets have one, against a
    parametric bootstrap null that allows any change of the codes' shares). The map must also
    bring the codes' shares back to training's (the PSI test of every candidate). Without the
    other columns (no reference rows) nothing is inferred: a better-matching permutation of the
    shares alone has no null (some permutation always matches a shifted population better)."""
    ref, xs, o = t.ref, t.xs, t.others
    pm = ref.point_masses
    if (
        o is None
        or t.x is None
        or not ref.integer
        or not 3 <= len(pm) <= 30
        or sum(pm.values()) < 0.99 * ref.n
    ):
        return
    levels = np.unique(o.ref_codes[np.isfinite(o.ref_codes)])  # every training code, rare ones too
    vals = np.unique(xs)
    if len(levels) > 30 or not set(vals.tolist()) <= set(levels.tolist()) or len(vals) < 3:
        return
    n_sims = max(N_SIMS, int(np.ceil(2.0 / o.alpha)))  # room for one draw beyond the gain
    ratio = t.cfg.skew_max_ratio_after
    test = recode_test(o.ref_codes, o.ref, t.x, o.cur, levels.tolist(), n_sims, t.cfg.seed, ratio, o.scaled)
    if test is None or not test.accepted(o.alpha, ratio):
        return
    mapping = test.mapping
    mapped = np.sort(np.vectorize(lambda v: mapping.get(float(v), v))(xs).astype(float))
    pairs = ", ".join(f"{_fmt(c)} -> {_fmt(r)}" for c, r in list(mapping.items())[:4])
    t.consider(
        t.psi_of(mapped),
        "recoded",
        f"the integer codes arrive in another order ({pairs}): an encoder fitted apart from training's",
        {
            "type": "recoded",
            "mapping": {_fmt(c): r for c, r in mapping.items()},
            "undo": f"map {pairs}",
            "evidence": test.to_dict(),
        },
        f"encode {ref.name} with the training encoder (the same code for each category) in the serving path",
    )


def _trial(
    ref: NumericProfile, current: pd.Series | np.ndarray, cfg: DriftConfig, others: Others | None
) -> _Trial | None:
    """The batch column under trial (None below cfg.min_rows values on either side)."""
    s = current if isinstance(current, pd.Series) else pd.Series(np.asarray(current))
    x, _ = to_float_array(s)
    n_all = len(x)
    if ref.n < cfg.min_rows or n_all < cfg.min_rows:
        return None
    xs = np.sort(x[np.isfinite(x)])
    if len(xs) < cfg.min_rows:
        return None
    n_nonfinite = int(n_all - len(xs))
    before = _psi_sorted(ref, xs, n_nonfinite, cfg)
    return _Trial(ref, xs, n_all, n_nonfinite, before, cfg, x=x, others=others)


def _limit(t: _Trial) -> float:
    """The PSI an undone batch must fall under: skew_max_psi_after, or what sampling allows."""
    return max(t.cfg.skew_max_psi_after, null_psi(len(t.xs), t.ref.n, int(np.count_nonzero(t.ref.counts))))


def infer_recoding(
    ref: NumericProfile, current: pd.Series | np.ndarray, cfg: DriftConfig, others: Others
) -> SkewResult | None:
    """Re-encoded integer codes (`_try_recoded`) on a column whose shares need not drift: codes
    of near-equal shares (months, weekdays) permuted leave the shares as they were, and only the
    relation to the other columns shows the new encoder."""
    trial = _trial(ref, current, cfg, others)
    if trial is None:
        return None
    _try_recoded(trial)
    ok = [res for after, res in trial.cands if after <= _limit(trial)]
    return ok[0] if ok else None


def infer_skew(
    ref: NumericProfile,
    current: pd.Series | np.ndarray,
    cfg: DriftConfig | None = None,
    others: Others | None = None,
    natural_psi: float = 0.0,
) -> SkewResult | None:
    """The transformation of the batch column under which it matches the reference, if any.

    Candidates: x / 10^k (k = +-1..6: the batch arrives in another unit), x * std + mean (the
    batch arrives standardised), x * (max - min) + min (min-max scaled), a changed fill value
    (a value standing in for missing in one set is replaced by another value or by NaN in the
    other), a logarithm, values clipped at a bound, and any affine map a * x + b fitted by
    quantile matching (stats/skew_maps.py says when a free map counts). Accepted when the column
    drifts (PSI >= skew_min_psi) and the undone batch matches (PSI <= skew_max_psi_after and at
    most skew_max_ratio_after of the original PSI); a named transformation wins over the free
    affine map that also fits it."""
    cfg = cfg or DriftConfig()
    trial = _trial(ref, current, cfg, others)
    if trial is None or trial.before < cfg.skew_min_psi:
        return None
    _try_units(trial)
    _try_scalings(trial)
    _try_fill_values(trial)
    try_default_fill(trial, find_point_masses)
    _try_recoded(trial)
    try_log(trial)
    try_clip(trial)
    try_affine(trial)
    try_grid_scale(trial)
    limit, before = _limit(trial), trial.before
    # a named transformation (nothing fitted) matches too when the undone batch sits as close to
    # training as a sample nothing was done to (natural_psi: the evaluation set's own PSI against
    # training, e.g. other entities of a grouped split); a fitted map must reach the fixed limit
    named_limit = limit + natural_psi  # plus what sampling allows on its own
    ok = [
        (after, res)
        for after, res in trial.cands
        # a re-encoding is shown by the codes' relation to the other columns (its own test): its
        # shares need only match as well as sampling allows (a small set keeps more PSI than a
        # fifth of a moderate drift)
        if after <= (named_limit if _complexity(res) == 0 else limit)
        and (after <= cfg.skew_max_ratio_after * before or res.kind == "recoded")
    ]
    # a factor identified by the values themselves (undone, the batch lies on training's recorded
    # values: skew_maps.try_grid_scale), when no map passes the distribution test
    ok = ok or [(a, r) for a, r in trial.cands if r.transform.get("on_training_values")]
    if not ok:
        return None
    # the simplest transformation that fits: a named one (a power of ten, standardised, ...)
    # before a scale through the origin before a free affine map, unless the more complex one
    # matches significantly better (the PSI gain, over (1/n + 1/m), beyond the 99th percentile of
    # a chi-square with 2 degrees of freedom)
    best_after = min(a for a, _ in ok)
    unit = 1.0 / len(trial.xs) + 1.0 / max(ref.n, 1)
    fits = [(a, r) for a, r in ok if (a - best_after) / unit < 9.21]
    return min(fits, key=lambda t: (_complexity(t[1]), t[0]))[1]


def _complexity(res: SkewResult) -> int:
    """Free parameters fitted to the data: 0 for a named transformation, 1 for a scale through the
    origin, 2 for an affine map."""
    if res.kind != "affine":
        return 0
    return 1 if res.transform.get("b") == 0.0 else 2


def infer_text_skew(ref: CategoricalProfile, s: pd.Series) -> TextSkew | None:
    """New batch categories that are training categories written differently (case, spaces):
    at least 5% of the batch is new and 80% of that maps to a training category."""
    if ref.other:
        return None

    def norm(v: Any) -> str:
        return str(v).strip().casefold()

    ref_norm = {norm(k): k for k in ref.counts}
    vc = s.dropna().astype(str).value_counts()
    known = {str(r) for r in ref.counts}
    new = {k: int(v) for k, v in vc.items() if k not in known}
    if not new:
        return None
    mapped = {k: ref_norm[norm(k)] for k in new if norm(k) in ref_norm}
    share_new = sum(new.values()) / max(int(vc.sum()), 1)
    share_mapped = sum(new[k] for k in mapped) / max(sum(new.values()), 1)
    if share_new >= 0.05 and share_mapped >= 0.8:
        return TextSkew(
            column=str(ref.name),
            mapping={str(k): str(v) for k, v in list(mapped.items())[:10]},
            share=round(share_new, 4),
        )
    return None


def infer_code_skew(
    ref: CategoricalProfile, s: pd.Series, psi_before: float, cfg: DriftConfig
) -> SkewResult | None:
    """Whole-number codes in the batch where training had the categories' names: the codes are
    mapped to the categories in sorted order (from 0 or 1, as ordinal and label encoders do) or, for
    a contiguous code range, by frequency rank; reported when the mapped shares match training's."""
    if ref.other or not ref.counts:
        return None
    cats = list(ref.counts)
    if all(_is_number(c) for c in cats):
        return None  # numbers in training too: not names turned into codes
    x = pd.to_numeric(s.dropna(), errors="coerce")
    xv = x.to_numpy(dtype=float)
    if len(xv) < cfg.min_rows or np.isnan(xv).any() or not np.all(xv == np.round(xv)):
        return None
    vals, cnt = np.unique(xv.astype(np.int64), return_counts=True)
    if len(vals) > len(cats):
        return None
    ref_counts = np.array([ref.counts[c] for c in cats], dtype=float)
    by_name = sorted(cats, key=str)
    cands: dict[str, dict[int, Any]] = {
        "sorted names from 0": dict(enumerate(by_name)),
        "sorted names from 1": {i + 1: c for i, c in enumerate(by_name)},
    }
    lo = int(vals.min())
    if lo in (0, 1) and int(vals.max()) - lo + 1 == len(vals):
        by_freq = sorted(cats, key=lambda c: -ref.counts[c])
        order = vals[np.argsort(-cnt, kind="stable")]
        cands["frequency rank"] = {int(v): by_freq[i] for i, v in enumerate(order)}
    best: tuple[float, str, dict[int, Any]] | None = None
    for how, mp in cands.items():
        cur = np.array([sum(int(k) for v, k in zip(vals, cnt) if mp.get(int(v)) == c) for c in cats], float)
        unmapped = float(cnt.sum() - cur.sum())
        after = psi(np.append(ref_counts, 0.0), np.append(cur, unmapped), cfg.smoothing)
        if best is None or after < best[0]:
            best = (after, how, mp)
    assert best is not None
    after, how, mp = best
    limit = max(cfg.skew_max_psi_after, null_psi(int(cnt.sum()), ref.n, len(cats) + 1))
    if after > limit or after > cfg.skew_max_ratio_after * psi_before:
        return None
    pairs = ", ".join(f"{k} -> {v!r}" for k, v in list(mp.items())[:4])
    return SkewResult(
        str(ref.name),
        "codes",
        f"the categories arrive as integer codes ({how}: {pairs}) where the model expects their names",
        {"type": "codes", "mapping": {str(k): str(v) for k, v in mp.items()}, "undo": f"map {pairs}"},
        psi_before,
        after,
        f"send {ref.name}'s category names to the model (its pipeline encodes them), not codes",
    )


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def undo_skew(res: Skew, s: pd.Series, frame: pd.DataFrame | None = None) -> pd.Series:
    """The column `s` with the inferred transformation undone (as the model expected it); a
    clipped column is returned as it is (clipping cannot be undone); a swapped one takes its
    partner's values from `frame` (the set as it arrived)."""
    if isinstance(res, TextSkew):
        return s.map(lambda v: res.mapping.get(str(v), v) if pd.notna(v) else v)
    tr = res.transform
    kind = tr["type"]
    if kind == "swapped" and frame is not None:
        return frame[tr["with"]]
    if "where" in tr:  # one source's rows only (stats/skew_groups.py)
        if frame is None:
            return s
        w = tr["where"]
        rows = frame[w["column"]].astype(str) == w["value"]
        whole = replace(res, transform={k: v for k, v in tr.items() if k != "where"})
        return s.where(~rows, undo_skew(whole, s))
    if kind == "codes":
        return s.map(lambda v: tr["mapping"].get(str(int(v)), v) if _is_number(v) and pd.notna(v) else v)
    x = pd.to_numeric(s, errors="coerce").astype(float)
    if kind == "scale":
        return x / tr["factor"]
    if kind in ("standardised",):
        return x * tr["std"] + tr["mean"]
    if kind == "minmax":
        return x * (tr["max"] - tr["min"]) + tr["min"]
    if kind == "affine":
        return (x - tr["b"]) / tr["a"]
    if kind == "log":
        return pd.Series(INVERSE_LOGS[tr["function"]](x.to_numpy()), index=s.index)
    if kind == "recoded":
        mp = {float(k): float(v) for k, v in tr["mapping"].items()}
        return x.map(lambda v: mp.get(v, v))
    if kind == "fill_value":
        if tr["from"] is None:
            return x.fillna(tr["to"])
        return x.where(x != tr["from"], np.nan if tr["to"] is None else tr["to"])
    return s


def find_skews(
    ref: Profile,
    current: pd.DataFrame,
    report: DriftReport,
    columns: Iterable[str],
    cfg: DriftConfig,
    ref_frame: pd.DataFrame | None = None,
    labels: Iterable[str] = (),
    natural: Mapping[str, float] | None = None,
) -> dict[str, Skew]:
    """Per column of `columns` that drifts: the inferred serving transformation, if any. Numeric
    columns are examined from PSI >= cfg.skew_min_psi, categorical ones when they drifted. With
    the reference rows (`ref_frame`), a column's re-encoded integer codes are judged by their
    relation to the other columns that do not drift themselves (significantly, PSI >= skew_min_psi:
    a column transformed in its own right), and to `labels`
    (the target, when both sets carry it). `natural`: per column, the PSI at which a set nothing
    was done to (the evaluation set) sits from training; an undone batch as close as that matches
    (an entity-grouped split leaves every set its own population)."""
    out: dict[str, Skew] = {}
    natural = natural or {}
    columns = list(columns)
    steady = [
        c
        for c in columns
        if (f := report.features.get(c)) is None or not f.tested or not f.drifted or f.psi < cfg.skew_min_psi
    ] + list(labels)
    from .skew_recode import coded_columns

    coded = coded_columns(ref, columns) if ref_frame is not None else []
    alpha = min(RECODE_ALPHA, FAMILY_ALPHA / max(len(coded), 1))  # Bonferroni over the coded columns
    scaled = None
    if coded and ref_frame is not None:  # the other columns on training's scale, once for all
        both = [c for c in steady if c in ref_frame.columns and c in current.columns]
        scaled = on_training_scale(ref_frame[both], current[both])
    for col in columns:
        fd = report.features.get(col)
        rp = ref.columns[col]
        if fd is None or not fd.tested:
            continue
        res: Skew | None = None
        o = (
            others_for(col, ref_frame, current, steady, alpha, scaled)
            if col in coded and ref_frame is not None
            else None
        )
        if isinstance(rp, NumericProfile) and fd.kind == "numeric" and fd.psi >= cfg.skew_min_psi:
            res = infer_skew(rp, current[col], cfg, o, natural.get(col, 0.0))
        elif isinstance(rp, NumericProfile) and fd.kind == "numeric" and o is not None:
            res = infer_recoding(rp, current[col], cfg, o)
        elif isinstance(rp, CategoricalProfile) and fd.kind == "categorical" and fd.drifted:
            res = infer_text_skew(rp, current[col]) or infer_code_skew(rp, current[col], fd.psi, cfg)
        if res is not None:
            out[col] = res
    if ref_frame is not None:  # free affine maps that the other columns refute (drift)
        from .skew_relation import drop_related

        drop_related(out, ref_frame, current, columns)
    from .skew_groups import find_group_skews
    from .skew_pairs import find_swaps

    out.update(find_swaps(ref, current, report, columns, cfg))  # a swap explains both columns at once
    out.update(find_group_skews(ref, ref_frame, current, report, columns, cfg, set(out)))
    return out


def skew_config(drift: DriftConfig, params: Mapping[str, Any]) -> DriftConfig:
    """`drift` with the skew thresholds of `params` (pipeline.train_serving_skew's parameters)."""
    values = {k: getattr(drift, k) for k in drift.__dataclass_fields__}
    values.update({k: v for k, v in params.items() if k in ("skew_min_psi", "skew_max_psi_after")})
    return DriftConfig.from_mapping(values)
