"""Merging profiles: `merge(a, b)` is the profile of the union of the rows behind `a` and `b`,
provided both were computed on the same bin edges (a batch profile is computed `like=` its
reference). Counts, mean, variance (Chan's formula), min/max, missing and inf counts are exact;
quantiles are interpolated from the merged histogram; categories beyond the top N fold into
"other". This is how `mltriage profile` summarises files larger than memory, chunk by chunk.
"""

from __future__ import annotations

import numpy as np

from .bins import POINT_MASS_SHARE
from .profile import (
    DEFAULT_TOP_CATEGORIES,
    QUANTILE_PROBS,
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    Profile,
    ProfileError,
    hist_quantile,
)


def _merge_numeric(a: NumericProfile, b: NumericProfile) -> NumericProfile:
    if len(a.edges) != len(b.edges) or not np.allclose(a.edges, b.edges, rtol=0, atol=0):
        raise ProfileError(
            f"column {a.name!r}: the two profiles have different bin edges; "
            "profile batches with like=<reference profile> so that they share them"
        )
    n = a.n + b.n
    if n:
        delta = b.mean - a.mean
        mean = a.mean + delta * b.n / n
        m2 = a.m2 + b.m2 + delta * delta * a.n * b.n / n
    else:
        mean, m2 = 0.0, 0.0
    mins = [v for v in (a.min, b.min) if v is not None]
    maxs = [v for v in (a.max, b.max) if v is not None]
    pm: dict[float, int] = dict(a.point_masses)
    for k, v in b.point_masses.items():
        pm[k] = pm.get(k, 0) + v
    pm = {k: v for k, v in pm.items() if v >= POINT_MASS_SHARE * n}
    out = NumericProfile(
        name=a.name,
        dtype=a.dtype if a.dtype == b.dtype else f"{a.dtype}|{b.dtype}",
        edges=a.edges.copy(),
        counts=a.counts + b.counts,
        n=n,
        missing=a.missing + b.missing,
        pos_inf=a.pos_inf + b.pos_inf,
        neg_inf=a.neg_inf + b.neg_inf,
        unparsed=a.unparsed + b.unparsed,
        min=min(mins) if mins else None,
        max=max(maxs) if maxs else None,
        mean=mean,
        m2=m2,
        integer=a.integer and b.integer,
        quantiles={},
        quantiles_exact=False,
        point_masses=pm,
    )
    if a.n == 0 or b.n == 0:  # nothing to interpolate: keep the other side's exact quantiles
        src = a if b.n == 0 else b
        out.quantiles, out.quantiles_exact = dict(src.quantiles), src.quantiles_exact
    else:
        assert out.min is not None and out.max is not None  # both sides have values
        for q in QUANTILE_PROBS:
            value = hist_quantile(out, q)
            if value is not None:
                out.quantiles[q] = value
        out.quantiles[0.0], out.quantiles[1.0] = out.min, out.max
    return out


def _merge_categorical(
    a: CategoricalProfile, b: CategoricalProfile, top: int = DEFAULT_TOP_CATEGORIES
) -> CategoricalProfile:
    counts = dict(a.counts)
    for k, v in b.counts.items():
        counts[k] = counts.get(k, 0) + v
    other = a.other + b.other
    if len(counts) > top:
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        counts = dict(ranked[:top])
        other += sum(v for _, v in ranked[top:])
    return CategoricalProfile(
        name=a.name,
        dtype=a.dtype if a.dtype == b.dtype else f"{a.dtype}|{b.dtype}",
        counts=counts,
        other=other,
        missing=a.missing + b.missing,
        n_unique=max(a.n_unique, b.n_unique, len(counts)),
    )


def merge(a: Profile, b: Profile) -> Profile:
    """The profile of the union of the rows behind `a` and `b`.

    Columns present in only one profile are counted as missing in the other. Counts, mean,
    variance, min/max, missing and inf counts are exact; quantiles are interpolated from the merged
    histogram; category counts beyond the top N fold into "other"."""
    cols: dict[str, ColumnProfile] = {}
    for c in list(a.columns) + [c for c in b.columns if c not in a.columns]:
        pa_, pb = a.columns.get(c), b.columns.get(c)
        if pa_ is None or pb is None:
            only = pa_ if pb is None else pb
            assert only is not None  # c comes from one of the two profiles
            other_rows = b.rows if pb is None else a.rows
            p = _clone(only)
            p.missing += other_rows
            cols[c] = p
        elif isinstance(pa_, NumericProfile) and isinstance(pb, NumericProfile):
            cols[c] = _merge_numeric(pa_, pb)
        elif isinstance(pa_, CategoricalProfile) and isinstance(pb, CategoricalProfile):
            cols[c] = _merge_categorical(pa_, pb)
        else:
            raise ProfileError(
                f"column {c!r} is numeric in one profile and categorical in the other; cannot merge"
            )
    meta = dict(a.meta)
    meta["merged"] = int(a.meta.get("merged", 1)) + int(b.meta.get("merged", 1))
    return Profile(columns=cols, rows=a.rows + b.rows, meta=meta)


def _clone(p: ColumnProfile) -> ColumnProfile:
    return type(p).from_dict(p.name, p.to_dict())
