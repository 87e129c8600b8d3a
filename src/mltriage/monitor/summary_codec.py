"""Window summaries as the store keeps them: fast to decode for many windows at once.

A window summary (the dict documented in `monitor.windows`) is stored in two parts:

- `dense`: one fixed-length float64 vector per window holding every numeric column profile of
  the reference's layout (the reference's numeric columns in order, then the latency histogram):
  per column a block `[present, n, missing, pos_inf, neg_inf, unparsed, min, max, mean, m2,
  integer, counts...]` (min/max NaN when the window has no finite value). Stored as bytes
  (BLOB/BYTEA) and read back with `np.frombuffer`, all windows in one query: `check` takes a
  column's counts for every window as one slice of a (windows, width) matrix.
- `sparse`: the rest as JSON (rows, categorical profiles, schema, out-of-distribution counts,
  quarantined rows, batch ids), plus, only where they differ from the reference's, the numeric
  columns' dtype and flags (`numeric_meta`), and any numeric column that does not fit the layout
  (other bins) whole under "profile".

`encode`/`decode` convert exactly (counts are integers below 2**53; floats are kept bit for bit):
`decode(*encode(s, L), L) == s` up to the order of the columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..stats.profile import NumericProfile, Profile

LATENCY = "__latency__"  # the latency histogram's block in the layout
STATS = ("present", "n", "missing", "pos_inf", "neg_inf", "unparsed", "min", "max", "mean", "m2", "integer")
S = {k: i for i, k in enumerate(STATS)}
NS = len(STATS)
_INT = ("n", "missing", "pos_inf", "neg_inf", "unparsed")
_DENSE_KEYS = frozenset(STATS[1:]) | {"counts"}


def latency_bins() -> int:
    from .windows import LATENCY_EDGES

    return len(LATENCY_EDGES) + 1


@dataclass(frozen=True)
class Layout:
    """Where each numeric column's block sits in a window's dense vector."""

    names: tuple[str, ...]
    bins: tuple[int, ...]
    dtypes: tuple[str, ...]
    offsets: dict[str, int] = field(init=False, compare=False)
    width: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        off, at = {}, 0
        for name, b in zip(self.names, self.bins):
            off[name] = at
            at += NS + b
        object.__setattr__(self, "offsets", off)
        object.__setattr__(self, "width", at)

    @classmethod
    def from_profile(cls, profile: Profile) -> Layout:
        """The reference's numeric columns (in its order), then the latency histogram."""
        cols = [(c, p) for c, p in profile.columns.items() if isinstance(p, NumericProfile)]
        return cls(
            names=tuple([c for c, _ in cols] + [LATENCY]),
            bins=tuple([len(p.counts) for _, p in cols] + [latency_bins()]),
            dtypes=tuple([str(p.dtype) for _, p in cols] + ["float64"]),
        )

    def to_list(self) -> list[list[Any]]:
        return [[n, b, d] for n, b, d in zip(self.names, self.bins, self.dtypes)]

    @classmethod
    def from_list(cls, items: Sequence[Sequence[Any]]) -> Layout:
        return cls(
            tuple(str(i[0]) for i in items), tuple(int(i[1]) for i in items), tuple(str(i[2]) for i in items)
        )

    def bins_of(self, name: str) -> int:
        return self.bins[self.names.index(name)]

    def dtype_of(self, name: str) -> str:
        return self.dtypes[self.names.index(name)]

    def block(self, dense: np.ndarray, name: str) -> np.ndarray | None:
        """The (windows, NS + bins) block of a column in a (windows, width) matrix."""
        at = self.offsets.get(name)
        if at is None:
            return None
        return dense[:, at : at + NS + self.bins_of(name)]


def _fits(layout: Layout, name: str, d: Any) -> bool:
    return (
        isinstance(d, Mapping)
        and name in layout.offsets
        and d.get("kind") == "numeric"
        and len(d.get("counts") or ()) == layout.bins_of(name)
    )


def _put(row: np.ndarray, at: int, d: Mapping[str, Any]) -> None:
    row[at] = 1.0
    for k in _INT:
        row[at + S[k]] = int(d.get(k) or 0)
    for k in ("min", "max"):
        v = d.get(k)
        row[at + S[k]] = np.nan if v is None else float(v)
    row[at + S["mean"]] = float(d.get("mean") or 0.0)
    row[at + S["m2"]] = float(d.get("m2") or 0.0)
    row[at + S["integer"]] = 1.0 if d.get("integer") else 0.0
    row[at + NS : at + NS + len(d["counts"])] = d["counts"]


def _meta_default(dtype: str) -> dict[str, Any]:
    return {"kind": "numeric", "dtype": dtype, "quantiles_exact": False}


def encode(summary: Mapping[str, Any], layout: Layout) -> tuple[dict[str, Any], np.ndarray]:
    """(sparse, dense) of a summary dict."""
    dense = np.zeros(layout.width)
    sparse = {k: v for k, v in summary.items() if k not in ("profile", "latency")}
    meta: dict[str, Any] = {}
    prof = summary.get("profile")
    if prof is not None:
        cols: dict[str, Any] = {}
        for name, d in (prof.get("columns") or {}).items():
            if not _fits(layout, name, d):
                cols[name] = d
                continue
            _put(dense, layout.offsets[name], d)
            rest = {k: v for k, v in d.items() if k not in _DENSE_KEYS}
            if rest != _meta_default(layout.dtype_of(name)):
                meta[name] = rest
        sparse["profile"] = {**{k: v for k, v in prof.items() if k != "columns"}, "columns": cols}
    else:
        sparse["profile"] = None
    lat = summary.get("latency")
    if _fits(layout, LATENCY, lat):
        assert lat is not None
        _put(dense, layout.offsets[LATENCY], lat)
        rest = {k: v for k, v in lat.items() if k not in _DENSE_KEYS}
        if rest != _meta_default("float64"):
            meta[LATENCY] = rest
        sparse["latency"] = None
    else:
        sparse["latency"] = lat
    if meta:
        sparse["numeric_meta"] = meta
    return sparse, dense


def column_dict(row: np.ndarray, at: int, b: int, meta: Mapping[str, Any]) -> dict[str, Any]:
    """A packed numeric column profile from its block."""
    n = int(row[at + S["n"]])
    lo, hi = row[at + S["min"]], row[at + S["max"]]
    return {
        "kind": meta.get("kind", "numeric"),
        "dtype": meta["dtype"],
        "counts": row[at + NS : at + NS + b].astype(np.int64).tolist(),
        "n": n,
        "missing": int(row[at + S["missing"]]),
        "pos_inf": int(row[at + S["pos_inf"]]),
        "neg_inf": int(row[at + S["neg_inf"]]),
        "unparsed": int(row[at + S["unparsed"]]),
        "min": None if np.isnan(lo) else float(lo),
        "max": None if np.isnan(hi) else float(hi),
        "mean": float(row[at + S["mean"]]),
        "m2": float(row[at + S["m2"]]),
        "integer": bool(row[at + S["integer"]]),
        **{k: v for k, v in meta.items() if k not in ("kind", "dtype")},
    }


def decode(sparse: Mapping[str, Any], dense: np.ndarray | None, layout: Layout) -> dict[str, Any]:
    """The summary dict back from its two parts."""
    out = {k: v for k, v in sparse.items() if k != "numeric_meta"}
    meta = sparse.get("numeric_meta") or {}
    cols: dict[str, Any] = {}
    lat = sparse.get("latency")
    if dense is not None and len(dense):
        for name, b, dt in zip(layout.names, layout.bins, layout.dtypes):
            at = layout.offsets[name]
            if dense[at] <= 0:
                continue
            d = column_dict(dense, at, b, meta.get(name) or _meta_default(dt))
            if name == LATENCY:
                lat = d
            else:
                cols[name] = d
    prof = sparse.get("profile")
    if prof is not None:
        out["profile"] = {**prof, "columns": {**cols, **(prof.get("columns") or {})}}
    out["latency"] = lat
    return out


def to_bytes(dense: np.ndarray) -> bytes:
    return np.ascontiguousarray(dense, dtype="<f8").tobytes()


def from_bytes(blob: Any, layout: Layout) -> np.ndarray:
    """A window's dense vector (zeros, i.e. no column present, when missing or of another width)."""
    if blob is None:
        return np.zeros(layout.width)
    v = np.frombuffer(bytes(blob), dtype="<f8")
    return v if len(v) == layout.width else np.zeros(layout.width)


def stack_blobs(blobs: Sequence[Any], width: int) -> np.ndarray:
    """Dense vectors as bytes -> a (windows, width) matrix (zeros where missing or of another
    width): one buffer for all windows, one frombuffer, one copy."""
    size = 8 * width
    ok = [b is not None and len(b) == size for b in blobs]
    dense = np.zeros((len(blobs), width))
    if any(ok):
        joined = b"".join(bytes(b) for b, k in zip(blobs, ok) if k)
        dense[np.asarray(ok)] = np.frombuffer(joined, dtype="<f8").reshape(-1, width)
    return dense


@dataclass
class Windows:
    """Many windows' summaries as `check` reads them: the dense vectors as one matrix."""

    layout: Layout
    dense: np.ndarray  # (windows, layout.width)
    sparse: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.sparse)

    def block(self, name: str) -> np.ndarray | None:
        return self.layout.block(self.dense, name)

    @classmethod
    def from_summaries(cls, summaries: Sequence[Mapping[str, Any]], layout: Layout) -> Windows:
        parts = [encode(s, layout) for s in summaries]
        dense = np.stack([d for _, d in parts]) if parts else np.zeros((0, layout.width))
        return cls(layout, dense, [s for s, _ in parts])

    @classmethod
    def from_blobs(cls, sparse: Sequence[Mapping[str, Any]], blobs: Sequence[Any], layout: Layout) -> Windows:
        return cls(layout, stack_blobs(blobs, layout.width), [dict(s) for s in sparse])

    def columns(self, name: str) -> list[Any]:
        """A column's sparse profile in each window (None where not in the sparse part)."""
        return [((s.get("profile") or {}).get("columns") or {}).get(name) for s in self.sparse]
