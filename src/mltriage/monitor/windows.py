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

from ..stats.bins import is_numeric_dtype, to_float_array
from ..stats.production import PRED_COL
from ..stats.profile import (
    DEFAULT_TOP_CATEGORIES,
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    Profile,
    profile_categorical,
)
from ..stats.profile_merge import merge
from ..stats.rows import scalar

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
    keys = np.zeros(len(frame), dtype=np.int64)
    out = summarise_windows(
        frame,
        keys,
        reference,
        features,
        scores=scores,
        latency=latency,
        batch_id=batch_id,
        ood_margin=ood_margin,
        extra_columns=extra_columns,
    )
    return out[0][1] if out else summarise_empty(features, frame.columns, batch_id, extra_columns)


def summarise_empty(
    features: Sequence[str], columns: Iterable[str], batch_id: str | None, extra: Iterable[str]
) -> dict[str, Any]:
    return {
        "rows": 0,
        "profile": {"rows": 0, "columns": {}},
        "latency": None,
        "schema": {"missing": {}, "unparsed": {}, "extra": {c: 0 for c in extra}},
        "ood_rows": 0,
        "ood": {},
        "quarantined": 0,
        "batches": [batch_id] if batch_id else [],
    }


class _Groups:
    """Rows grouped by window key: the window of each row (0..W-1) and each window's rows."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys, self.inv = np.unique(np.asarray(keys), return_inverse=True)
        self.inv = self.inv.astype(np.int64)
        self.w = len(self.keys)
        self.sizes = np.bincount(self.inv, minlength=self.w)
        # rows in time order (the usual log) need no gather: each window is a contiguous run
        self.sorted = bool(np.all(self.inv[1:] >= self.inv[:-1]))
        self.order = np.arange(len(self.inv)) if self.sorted else np.argsort(self.inv, kind="stable")
        self.starts = np.r_[0, np.cumsum(self.sizes)[:-1]].astype(np.int64)

    def count(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.inv[mask], minlength=self.w)


def _map(fn: Any, items: Sequence[str], rows: int) -> list[Any]:
    """fn over the columns, in threads on large chunks (numpy's work releases the GIL), as
    build_profile does."""
    from ..stats.profile import default_workers

    workers = default_workers()
    if workers > 1 and len(items) > 1 and rows >= 50_000:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as ex:
            return list(ex.map(fn, items))
    return [fn(c) for c in items]


def bin_index(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """count_on_edges' bin of each finite value: searchsorted(e, x, "right") with the last inner
    bin closed on the right. With few edges (the reference's ~20), one comparison pass per edge
    into int8 counts: several times faster than a binary search per value on unsorted data."""
    if len(e) == 0 or len(e) > 100:
        bi = np.searchsorted(e, x, side="right")
    else:
        bi = (x >= e[0]).view(np.int8).copy()
        for v in e[1:]:
            np.add(bi, x >= v, out=bi, casting="unsafe")
    if len(e):
        bi[x == e[-1]] = len(e) - 1  # the last inner bin is closed on the right
    return bi


def numeric_block(s: pd.Series, edges: np.ndarray, g: _Groups, x: np.ndarray | None = None) -> np.ndarray:
    """The numeric profile of a column in each window, on given edges (the counts of
    profile_numeric(like=) on each window's rows), as a (windows, NS + bins) block of the stored
    layout (summary_codec): present, n, missing, pos_inf, neg_inf, unparsed, min, max, mean, m2,
    integer, counts. `x`: the column as floats, when at hand."""
    from .summary_codec import NS, S

    if x is None:
        x, _ = to_float_array(s)
    unp = np.isnan(x) & s.notna().to_numpy() if not is_numeric_dtype(s) else np.zeros(len(x), dtype=bool)
    nan = np.isnan(x) & ~unp
    pos, neg = x == np.inf, x == -np.inf
    fin = ~(nan | unp | pos | neg)
    e = np.asarray(edges, np.float64)
    b = len(e) + 1
    every = bool(fin.all())
    xf = x if every else x[fin]
    bi = bin_index(xf, e)
    if every:
        idx = bi
    else:
        idx = np.empty(len(x), dtype=np.int64)
        idx[fin] = bi
        idx[nan], idx[unp], idx[pos], idx[neg] = b, b + 1, b + 2, b + 3
    m = np.bincount(g.inv * (b + 4) + idx, minlength=g.w * (b + 4)).reshape(g.w, b + 4)
    n = m[:, :b].sum(axis=1)
    if g.sorted and every:  # contiguous windows, every value finite: reduceat
        sums = np.add.reduceat(xf, g.starts)
        mean = sums / np.maximum(n, 1)
        dev = xf - np.repeat(mean, g.sizes)
        m2 = np.add.reduceat(dev * dev, g.starts)
        nonint = np.add.reduceat((xf != np.round(xf)).astype(np.float64), g.starts)
        lo, hi = np.minimum.reduceat(xf, g.starts), np.maximum.reduceat(xf, g.starts)
    else:
        wf = g.inv[fin]
        sums = np.bincount(wf, weights=xf, minlength=g.w)
        mean = np.divide(sums, n, out=np.zeros(g.w), where=n > 0)
        dev = xf - mean[wf]
        m2 = np.bincount(wf, weights=dev * dev, minlength=g.w)
        nonint = np.bincount(wf, weights=(xf != np.round(xf)).astype(np.float64), minlength=g.w)
        lo = np.minimum.reduceat(np.where(fin, x, np.inf)[g.order], g.starts)
        hi = np.maximum.reduceat(np.where(fin, x, -np.inf)[g.order], g.starts)
    out = np.empty((g.w, NS + b))
    out[:, S["present"]] = 1.0
    out[:, S["n"]] = n
    out[:, S["missing"]] = m[:, b]
    out[:, S["unparsed"]] = m[:, b + 1]
    out[:, S["pos_inf"]] = m[:, b + 2]
    out[:, S["neg_inf"]] = m[:, b + 3]
    out[:, S["min"]] = np.where(n > 0, lo, np.nan)
    out[:, S["max"]] = np.where(n > 0, hi, np.nan)
    out[:, S["mean"]] = mean
    out[:, S["m2"]] = m2
    out[:, S["integer"]] = (n > 0) & (nonint == 0)
    out[:, NS:] = m[:, :b]
    return out


def numeric_windows(
    s: pd.Series, edges: np.ndarray, g: _Groups, x: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """numeric_block as packed numeric profiles (dicts), one per window."""
    from .summary_codec import column_dict

    block = numeric_block(s, edges, g, x)
    meta = {"kind": "numeric", "dtype": str(s.dtype), "quantiles_exact": False}
    return [column_dict(row, 0, len(edges) + 1, meta) for row in block]


def categorical_windows(
    s: pd.Series, g: _Groups, keep: Iterable[Any], top: int = DEFAULT_TOP_CATEGORIES
) -> list[dict[str, Any]]:
    """The categorical profile of a column in each window (profile_categorical's counts: the top
    `top` categories of the window and every category of `keep`, the rest as "other")."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    k = len(uniques)
    if k * g.w > 20_000_000:  # very many categories and windows: one window at a time
        return [
            profile_categorical(s.iloc[g.order[a : a + n]], str(s.name), top, keep=keep).to_dict()
            for a, n in zip(g.starts, g.sizes)
        ]
    m = np.bincount(g.inv * (k + 1) + (codes + 1), minlength=g.w * (k + 1)).reshape(g.w, k + 1)
    vals = [scalar(v) for v in uniques]
    kept = {scalar(v) for v in keep}
    keep_idx = np.array([i for i, v in enumerate(vals) if v in kept], dtype=np.int64)
    out = []
    for i in range(g.w):
        row = m[i, 1:]
        nz = np.flatnonzero(row)
        ranked = nz[np.argsort(-row[nz], kind="stable")]
        chosen = set(ranked[:top].tolist()) | set(keep_idx[row[keep_idx] > 0].tolist())
        counts = {vals[j]: int(row[j]) for j in ranked if j in chosen}
        out.append(
            {
                "kind": "categorical",
                "dtype": str(s.dtype),
                "counts": [[kk, v] for kk, v in counts.items()],
                "other": int(row.sum() - sum(counts.values())),
                "missing": int(m[i, 0]),
                "n_unique": int(len(nz)),
            }
        )
    return out


def summarise_windows(
    frame: pd.DataFrame,
    keys: np.ndarray,
    reference: Profile,
    features: Sequence[str],
    *,
    scores: np.ndarray | pd.Series | None = None,
    latency: np.ndarray | pd.Series | None = None,
    batch_id: str | None = None,
    ood_margin: float = 0.1,
    extra_columns: Iterable[str] = (),
) -> list[tuple[Any, dict[str, Any]]]:
    """(key, summary) of the rows of each window key, keys ascending (summarise_dense as dicts)."""
    from .summary_codec import Layout, decode

    layout = Layout.from_profile(reference)
    keys_, dense, sparse = summarise_dense(
        frame, keys, reference, features, layout, scores=scores, latency=latency, batch_id=batch_id,
        ood_margin=ood_margin, extra_columns=extra_columns,
    )  # fmt: skip
    return [(k, decode(sp, dense[i], layout)) for i, (k, sp) in enumerate(zip(keys_, sparse))]


def summarise_dense(
    frame: pd.DataFrame,
    keys: np.ndarray,
    reference: Profile,
    features: Sequence[str],
    layout: Any,
    *,
    scores: np.ndarray | pd.Series | None = None,
    latency: np.ndarray | pd.Series | None = None,
    batch_id: str | None = None,
    ood_margin: float = 0.1,
    extra_columns: Iterable[str] = (),
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """The summaries of the rows of each window key, keys ascending, in the stored form
    (summary_codec): the keys, the dense vectors (windows, layout.width) and the sparse parts.
    Every column is counted for all windows at once (one bincount per column), so hourly windows
    cost no more than daily ones."""
    from .summary_codec import LATENCY, S

    if len(frame) == 0:
        return np.empty(0, dtype=np.int64), np.zeros((0, layout.width)), []
    g = _Groups(keys)
    dense = np.zeros((g.w, layout.width))
    cats: dict[str, list[dict[str, Any]]] = {}
    unparsed: dict[str, np.ndarray] = {}
    dtypes: dict[str, str] = {}
    ood: dict[str, np.ndarray] = {}
    far = np.zeros(len(frame), dtype=bool)
    present = [c for c in features if c in frame.columns and c in reference.columns]
    missing = [c for c in features if c not in frame.columns]

    def put(name: str, block: np.ndarray) -> None:
        at = layout.offsets[name]
        dense[:, at : at + block.shape[1]] = block

    def one(c: str) -> tuple[str, Any, np.ndarray | None]:
        ref = reference.columns[c]
        s = frame[c]
        if isinstance(ref, NumericProfile):
            x, _ = to_float_array(s)
            block = numeric_block(s, ref.edges, g, x)
            put(c, block)
            return c, block[:, S["unparsed"]], far_outside(x, ref, ood_margin)
        assert isinstance(ref, CategoricalProfile)
        return c, categorical_windows(s, g, ref.counts), None

    for c, d, fc in _map(one, present, len(frame)):
        if isinstance(d, list):
            cats[c] = d
        else:
            dtypes[c] = str(frame[c].dtype)
            if d.any():
                unparsed[c] = d
        if fc is not None and fc.any():
            ood[c] = g.count(fc)
            far |= fc
    rp = reference.columns.get(PRED_COL)
    if scores is not None and isinstance(rp, NumericProfile):
        put(PRED_COL, numeric_block(pd.Series(np.asarray(scores, dtype=np.float64)), rp.edges, g))
        dtypes[PRED_COL] = "float64"
    if latency is not None:
        put(LATENCY, numeric_block(pd.Series(np.asarray(latency, dtype=np.float64)), LATENCY_EDGES, g))
    meta = {
        c: {"kind": "numeric", "dtype": dt, "quantiles_exact": False}
        for c, dt in dtypes.items()
        if dt != layout.dtype_of(c)
    }
    far_n = g.count(far).tolist()
    sizes = g.sizes.tolist()
    extra = list(extra_columns)
    order = [c for c in present if c in cats]
    sparse = []
    for i in range(g.w):
        n = int(sizes[i])
        sm: dict[str, Any] = {
            "rows": n,
            "profile": {"rows": n, "columns": {c: cats[c][i] for c in order}},
            "latency": None,
            "schema": {
                "missing": {c: n for c in missing},
                "unparsed": {c: int(v[i]) for c, v in unparsed.items() if v[i]},
                "extra": {c: n for c in extra},
            },
            "ood_rows": int(far_n[i]),
            "ood": {c: int(v[i]) for c, v in ood.items() if v[i]},
            "quarantined": 0,
            "batches": [batch_id] if batch_id else [],
        }
        if meta:
            sm["numeric_meta"] = meta
        sparse.append(sm)
    return g.keys, dense, sparse


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
