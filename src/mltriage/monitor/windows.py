"""Window summaries: mergeable summaries of the predictions logged in one window.

A window's summary holds its features and scores counted on the reference's bins (the bins of
`mltriage.stats.profile`), so that summaries of parts of a window (batches, Spark partitions)
merge exactly and the window's drift is recomputed from merged bins. Layout (JSON):

    {"rows": int,                     # predictions logged in the window (quarantined rows apart)
     "profile": {"rows": int, "columns": {name: packed column profile}},
     "latency": packed numeric profile on LATENCY_EDGES | None,
     "schema": {"missing": {col: rows},      # a reference column absent from the batch
                "unparsed": {col: values},   # text where the reference has numbers
                "extra": {col: rows}},       # a column the reference does not have
     "ood_rows": int,                 # rows far outside the reference range (ood_margin)
     "ood": {col: rows},              # per column, rows with a value far outside
     "quarantined": int,              # rows refused (see commands.monitor), not in "rows"
     "batches": [batch ids]}

A packed column profile is the column's `Profile.to_dict()` without what the reference already
holds or a merge cannot keep exact: a numeric column drops "edges" (the reference's), "quantiles"
and "point_masses"; a categorical column is its to_dict() unchanged. `pack()`/`unpack()` convert;
the profile of the scores is the column `PRED_COL`. Numeric bins count as
`stats.bins.bin_counts_sorted` does ([e0, e1), ..., [e_{k-1}, e_k] closed, plus under- and
overflow) but without sorting (`count_on_edges`): the same counts, one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..stats.bins import to_float_array
from ..stats.production import PRED_COL
from ..stats.profile import (
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    Profile,
    profile_categorical,
)
from ..stats.profile_merge import merge

# latency histogram: 0 then 200 log-spaced edges from 0.1 ms to 100 s (about 3.5% wide each)
LATENCY_EDGES = np.concatenate(([0.0], np.geomspace(0.1, 100_000.0, 200)))
_DROP = ("edges", "quantiles", "point_masses")


# ---------------------------------------------------------------------------------------------
# packing


def pack(p: ColumnProfile) -> dict[str, Any]:
    """A column profile as stored in a window summary (see the module docstring)."""
    d = p.to_dict()
    if isinstance(p, NumericProfile):
        for k in _DROP:
            d.pop(k, None)
    return d


def unpack(name: str, d: Mapping[str, Any], edges: np.ndarray | None = None) -> ColumnProfile:
    """A packed column profile back as a column profile; numeric ones get `edges` (the
    reference's; placeholders when None, enough to merge)."""
    if d.get("kind") == "categorical":
        return CategoricalProfile.from_dict(name, d)
    counts = d["counts"]
    e = np.zeros(len(counts) - 1) if edges is None else np.asarray(edges, np.float64)
    return NumericProfile.from_dict(name, {**d, "edges": e, "quantiles": [], "point_masses": []})


def unpack_profile(d: Mapping[str, Any], reference: Profile | None = None) -> Profile:
    """The window's Profile (numeric columns on the reference's edges when given)."""
    cols: dict[str, ColumnProfile] = {}
    for c, pd_ in d.get("columns", {}).items():
        ref = reference.columns.get(c) if reference is not None else None
        cols[c] = unpack(c, pd_, ref.edges if isinstance(ref, NumericProfile) else None)
    return Profile(columns=cols, rows=int(d.get("rows", 0)))


def pack_profile(p: Profile) -> dict[str, Any]:
    return {"rows": int(p.rows), "columns": {c: pack(cp) for c, cp in p.columns.items()}}


# ---------------------------------------------------------------------------------------------
# counting one window


def count_on_edges(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of the finite values of x in [underflow, inner bins..., overflow] on `edges`; equal
    to `bin_counts_sorted(np.sort(finite x), edges)` without the sort."""
    e = np.asarray(edges, np.float64)
    idx = np.searchsorted(e, x, side="right")
    idx[x == e[-1]] = len(e) - 1  # the last inner bin is closed on the right
    return np.bincount(idx, minlength=len(e) + 1).astype(np.int64)


def numeric_summary(s: pd.Series, edges: np.ndarray, name: str) -> dict[str, Any]:
    """The packed numeric profile of a column on given edges (as profile_numeric(like=) counts)."""
    x, unparsed = to_float_array(s)
    nan = np.isnan(x)
    pos = x == np.inf
    neg = x == -np.inf
    fin = x[~(nan | pos | neg)]
    n = len(fin)
    d: dict[str, Any] = {
        "kind": "numeric",
        "dtype": str(s.dtype),
        "counts": [int(c) for c in count_on_edges(fin, edges)],
        "n": n,
        "missing": max(int(nan.sum()) - unparsed, 0),
        "pos_inf": int(pos.sum()),
        "neg_inf": int(neg.sum()),
        "unparsed": int(unparsed),
        "min": None,
        "max": None,
        "mean": 0.0,
        "m2": 0.0,
        "integer": False,
        "quantiles_exact": False,
    }
    if n:
        mean = float(fin.mean())
        dev = fin - mean
        d.update(
            min=float(fin.min()),
            max=float(fin.max()),
            mean=mean,
            m2=float(np.dot(dev, dev)),
            integer=bool(np.all(fin == np.round(fin))),
        )
    return d


def far_outside(x: np.ndarray, ref: NumericProfile, margin: float) -> np.ndarray:
    """Rows beyond the reference's [min, max] by more than `margin` of its range (the rule of
    production.out_of_distribution); NaN is not far, +/-inf is."""
    if ref.min is None or ref.max is None:
        return np.zeros(len(x), dtype=bool)
    span = ref.max - ref.min
    m = margin * (span if span > 0 else max(abs(ref.max), 1.0))
    return (x < ref.min - m) | (x > ref.max + m)


def summarise(
    frame: pd.DataFrame,
    reference: Profile,
    features: Sequence[str],
    *,
    scores: np.ndarray | pd.Series | None = None,
    latency: np.ndarray | pd.Series | None = None,
    batch_id: str | None = None,
    ood_margin: float = 0.1,
    extra_columns: Iterable[str] = (),
) -> dict[str, Any]:
    """The summary of the rows of one window (see the module docstring)."""
    n = len(frame)
    cols: dict[str, Any] = {}
    missing: dict[str, int] = {}
    unparsed: dict[str, int] = {}
    far = np.zeros(n, dtype=bool)
    ood: dict[str, int] = {}
    for c in features:
        ref = reference.columns.get(c)
        if c not in frame.columns:
            missing[c] = n
            continue
        s = frame[c]
        if isinstance(ref, NumericProfile):
            d = numeric_summary(s, ref.edges, c)
            if d["unparsed"]:
                unparsed[c] = d["unparsed"]
            x, _ = to_float_array(s)
            fc = far_outside(x, ref, ood_margin)
            k = int(fc.sum())
            if k:
                ood[c] = k
                far |= fc
        elif isinstance(ref, CategoricalProfile):
            d = profile_categorical(s, c, keep=ref.counts).to_dict()
        else:
            continue
        cols[c] = d
    if scores is not None and isinstance(reference.columns.get(PRED_COL), NumericProfile):
        rp = reference.columns[PRED_COL]
        assert isinstance(rp, NumericProfile)
        cols[PRED_COL] = numeric_summary(pd.Series(np.asarray(scores, dtype=np.float64)), rp.edges, PRED_COL)
    lat = None
    if latency is not None:
        lat = numeric_summary(pd.Series(np.asarray(latency, dtype=np.float64)), LATENCY_EDGES, "latency")
    return {
        "rows": n,
        "profile": {"rows": n, "columns": cols},
        "latency": lat,
        "schema": {"missing": missing, "unparsed": unparsed, "extra": {c: n for c in extra_columns}},
        "ood_rows": int(far.sum()),
        "ood": ood,
        "quarantined": 0,
        "batches": [batch_id] if batch_id else [],
    }


# ---------------------------------------------------------------------------------------------
# merging


def merge_summaries(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """The summary of the union of the rows behind two summaries of the same window (profiles
    merged with `stats.profile_merge.merge`)."""
    out: dict[str, Any] = {"rows": int(a.get("rows", 0)) + int(b.get("rows", 0))}
    pa, pb = a.get("profile"), b.get("profile")
    if pa and pb:
        out["profile"] = pack_profile(merge(unpack_profile(pa), unpack_profile(pb)))
    else:
        out["profile"] = pa or pb
    la, lb = a.get("latency"), b.get("latency")
    if la and lb:
        one = {"rows": 0, "columns": {"latency": la}}, {"rows": 0, "columns": {"latency": lb}}
        m = merge(unpack_profile(one[0]), unpack_profile(one[1]))
        out["latency"] = pack(m.columns["latency"])
    else:
        out["latency"] = la or lb
    sa, sb = a.get("schema") or {}, b.get("schema") or {}
    out["schema"] = {k: _add(sa.get(k, {}), sb.get(k, {})) for k in ("missing", "unparsed", "extra")}
    for k in ("ood_rows", "quarantined"):
        out[k] = int(a.get(k, 0)) + int(b.get(k, 0))
    out["ood"] = _add(a.get("ood") or {}, b.get("ood") or {})
    seen = list(a.get("batches", []))
    out["batches"] = seen + [x for x in b.get("batches", []) if x not in seen]
    return out


def _add(x: Mapping[str, int], y: Mapping[str, int]) -> dict[str, int]:
    out = {k: int(v) for k, v in x.items()}
    for k, v in y.items():
        out[k] = out.get(k, 0) + int(v)
    return out


def latency_percentiles(d: Mapping[str, Any] | None) -> dict[str, float] | None:
    """p50, p95, p99 of a packed latency histogram (interpolated inside the bins)."""
    if not d or not d.get("n"):
        return None
    from ..stats.profile import hist_quantile

    p = unpack("latency", d, LATENCY_EDGES)
    assert isinstance(p, NumericProfile)
    out = {}
    for k, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        v = hist_quantile(p, q)
        out[k] = round(float(v), 3) if v is not None else None
    return out  # type: ignore[return-value]
