"""Mergeable profiles: the reference side of drift, computed once and reused.

A `Profile` summarises a frame column by column in a form that

* can be written to JSON and read back (`Profile.to_json()` / `Profile.from_json()`), so that
  `mltriage drift --reference ref.json` needs no reference rows;
* merges exactly (`profile_merge.merge(a, b)`): the profile of the union of the two frames,
  provided both were computed on the same bin edges (a batch profile is computed `like=` its
  reference, which reuses the reference's edges and category sets);
* is computed in one vectorised pass per column.

Numeric column (`NumericProfile`)
    Fixed bin edges from the reference's quantiles (20 bins by default, point masses such as a
    fill value isolated in their own bin, one bin per value for discrete columns with few values),
    plus an underflow and an overflow bin; the counts in those bins; min, max; count, mean and M2
    (sum of squared deviations: merged with Chan's formula, so the variance is exact after
    merging); missing (NaN/None) and +/-inf counts; values that could not be parsed as numbers
    (a numeric column arriving as text); quantiles (exact for a fresh profile, interpolated from
    the histogram after a merge); the point masses (values holding >= 0.5% of rows) with counts;
    whether every value is an integer; the dtype.
Categorical column (`CategoricalProfile`)
    Counts of the top N categories (100 by default) and of the rest ("other"), missing count,
    number of distinct values, dtype.

The schema (columns, dtypes, nullability, ranges, category sets) and the row count are part of
the profile. Implementation: one sort per numeric column (numpy's SIMD sort) gives exact
quantiles, min/max, the bin counts (`np.searchsorted` of the edges into the sorted values, so no
per-row binary search) and the point masses (`bins.py`); categorical columns use a pyarrow/pandas
value_counts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .bins import (
    DEFAULT_BINS,
    bin_counts_sorted,
    find_point_masses,
    is_numeric_dtype,
    make_edges,
    quantiles_from_sorted,
    to_float_array,
)
from .rows import scalar

PROFILE_VERSION = 1
DEFAULT_TOP_CATEGORIES = 100
QUANTILE_PROBS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
OTHER = "__other__"


class ProfileError(ValueError):
    """A profile could not be built, read or merged; the message says why."""


# ---------------------------------------------------------------------------------------------
# helpers


def _finite_or_none(v: float | None) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------------------------------
# column profiles


class _Missing:
    """What both column profiles derive from their `missing` count and `rows`."""

    missing: int

    @property
    def rows(self) -> int:  # pragma: no cover - each profile defines it
        raise NotImplementedError

    @property
    def nullable(self) -> bool:
        return self.missing > 0

    @property
    def missing_rate(self) -> float:
        return self.missing / self.rows if self.rows else 0.0


@dataclass
class NumericProfile(_Missing):
    name: str
    dtype: str
    edges: np.ndarray  # bin edges, see make_edges
    counts: np.ndarray  # underflow, inner bins, overflow
    n: int = 0  # finite values
    missing: int = 0  # NaN / None
    pos_inf: int = 0
    neg_inf: int = 0
    unparsed: int = 0  # non-missing values that were not numbers (text)
    min: float | None = None
    max: float | None = None
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean
    integer: bool = True  # every finite value is a whole number
    quantiles: dict[float, float] = field(default_factory=dict)
    quantiles_exact: bool = True
    point_masses: dict[float, int] = field(default_factory=dict)
    kind: str = "numeric"

    # -- derived ---------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return self.n + self.missing + self.pos_inf + self.neg_inf + self.unparsed

    @property
    def var(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def quantile(self, p: float) -> float | None:
        """A quantile: exact when stored, else interpolated from the histogram."""
        for k, v in self.quantiles.items():
            if abs(k - p) < 1e-12:
                return v
        return hist_quantile(self, p)

    def scale(self) -> float:
        """A robust scale for normalising distances: std, else IQR / 1.349, else range, else 1."""
        s = self.std
        if s > 0 and math.isfinite(s):
            return s
        q1, q3 = self.quantile(0.25), self.quantile(0.75)
        if q1 is not None and q3 is not None and q3 > q1:
            return (q3 - q1) / 1.349
        if self.min is not None and self.max is not None and self.max > self.min:
            return self.max - self.min
        return 1.0

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "numeric",
            "dtype": self.dtype,
            "edges": [float(e) for e in self.edges],
            "counts": [int(c) for c in self.counts],
            "n": self.n,
            "missing": self.missing,
            "pos_inf": self.pos_inf,
            "neg_inf": self.neg_inf,
            "unparsed": self.unparsed,
            "min": _finite_or_none(self.min),
            "max": _finite_or_none(self.max),
            "mean": float(self.mean),
            "m2": float(self.m2),
            "integer": bool(self.integer),
            "quantiles": [[float(k), float(v)] for k, v in self.quantiles.items()],
            "quantiles_exact": bool(self.quantiles_exact),
            "point_masses": [[float(k), int(v)] for k, v in self.point_masses.items()],
        }

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> NumericProfile:
        return cls(
            name=name,
            dtype=str(d["dtype"]),
            edges=np.asarray(d["edges"], dtype=np.float64),
            counts=np.asarray(d["counts"], dtype=np.int64),
            n=int(d["n"]),
            missing=int(d.get("missing", 0)),
            pos_inf=int(d.get("pos_inf", 0)),
            neg_inf=int(d.get("neg_inf", 0)),
            unparsed=int(d.get("unparsed", 0)),
            min=d.get("min"),
            max=d.get("max"),
            mean=float(d.get("mean", 0.0)),
            m2=float(d.get("m2", 0.0)),
            integer=bool(d.get("integer", False)),
            quantiles={float(k): float(v) for k, v in d.get("quantiles", [])},
            quantiles_exact=bool(d.get("quantiles_exact", False)),
            point_masses={float(k): int(v) for k, v in d.get("point_masses", [])},
        )


@dataclass
class CategoricalProfile(_Missing):
    name: str
    dtype: str
    counts: dict[Any, int]  # top categories -> count
    other: int = 0  # rows in categories beyond the top N
    missing: int = 0
    n_unique: int = 0  # distinct non-missing values (a lower bound after merge)
    kind: str = "categorical"

    @property
    def n(self) -> int:
        return sum(self.counts.values()) + self.other

    @property
    def rows(self) -> int:
        return self.n + self.missing

    @property
    def categories(self) -> set:
        return set(self.counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "categorical",
            "dtype": self.dtype,
            "counts": [[scalar(k), int(v)] for k, v in self.counts.items()],
            "other": int(self.other),
            "missing": int(self.missing),
            "n_unique": int(self.n_unique),
        }

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> CategoricalProfile:
        return cls(
            name=name,
            dtype=str(d["dtype"]),
            counts={scalar(k): int(v) for k, v in d["counts"]},
            other=int(d.get("other", 0)),
            missing=int(d.get("missing", 0)),
            n_unique=int(d.get("n_unique", 0)),
        )


ColumnProfile = NumericProfile | CategoricalProfile


# ---------------------------------------------------------------------------------------------
# building


def profile_numeric(
    s: pd.Series, name: str | None = None, edges: np.ndarray | None = None, bins: int = DEFAULT_BINS
) -> NumericProfile:
    """Profile one numeric column. `edges` given: count on them (a batch against its reference);
    otherwise derive them from this column's quantiles."""
    name = str(s.name if name is None else name)
    x, unparsed = to_float_array(s)
    x.sort()  # in place: NaN last, then +inf before them, -inf first
    n_all = len(x)
    n_nan = n_all - int(np.searchsorted(x, np.nan, side="left")) if n_all else 0
    # np.searchsorted with NaN puts it after everything, so the above counts NaNs
    end = n_all - n_nan
    neg_inf = int(np.searchsorted(x[:end], -np.inf, side="right"))
    pos_inf = end - int(np.searchsorted(x[:end], np.inf, side="left"))
    xs = x[neg_inf : end - pos_inf]
    n = len(xs)
    missing = n_nan - unparsed
    if n:
        mean = float(xs.mean())
        mn, mx = float(xs[0]), float(xs[-1])
        pm = find_point_masses(xs)
        if edges is None:
            edges = make_edges(xs, bins, pm)
        counts = bin_counts_sorted(xs, edges)
        quant = dict(zip(QUANTILE_PROBS, quantiles_from_sorted(xs, QUANTILE_PROBS)))
        # whole numbers? cheap check on a strided sample plus the extremes
        probe = xs[:: max(n // 4096, 1)]
        integer = bool(np.all(probe == np.round(probe)) and mn == round(mn) and mx == round(mx))
        xs -= mean  # xs is a view of our private copy: reuse it for M2, no new allocation
        m2 = float(np.dot(xs, xs))
    else:
        mean, mn, mx, pm, quant, m2, integer = 0.0, None, None, {}, {}, 0.0, False
        if edges is None:
            edges = np.array([0.0, 0.0])
        counts = np.zeros(len(edges) + 1, dtype=np.int64)
    return NumericProfile(
        name=name,
        dtype=str(s.dtype),
        edges=np.asarray(edges, np.float64),
        counts=counts,
        n=n,
        missing=max(missing, 0),
        pos_inf=pos_inf,
        neg_inf=neg_inf,
        unparsed=unparsed,
        min=mn,
        max=mx,
        mean=mean,
        m2=m2,
        integer=integer,
        quantiles=quant,
        quantiles_exact=True,
        point_masses=pm,
    )


def _value_counts(s: pd.Series) -> pd.Series:
    """value_counts without missing values; uses pyarrow's kernel for arrow-backed strings."""
    arr = s.array
    pa_arr = getattr(arr, "_pa_array", None)
    if pa_arr is not None:
        try:
            import pyarrow.compute as pc

            vc = pc.value_counts(pa_arr)
            vals = vc.field("values").to_pylist()
            cnts = vc.field("counts").to_numpy()
            out = pd.Series(cnts, index=pd.Index(vals, dtype=object))
            out = out[out.index.notna()]
            return out.sort_values(ascending=False, kind="stable")
        except Exception:  # pragma: no cover - fall back to pandas
            pass
    return s.value_counts(dropna=True, sort=True)


def profile_categorical(
    s: pd.Series, name: str | None = None, top: int = DEFAULT_TOP_CATEGORIES, keep: Iterable[Any] = ()
) -> CategoricalProfile:
    """Profile one categorical column: counts of the top `top` categories (and of every category
    in `keep`, the reference's set when profiling a batch), the rest as "other"."""
    name = str(s.name if name is None else name)
    vc = _value_counts(s)
    missing = int(len(s) - int(vc.sum()))
    keep = {scalar(k) for k in keep}
    counts: dict[Any, int] = {}
    other = 0
    for i, (k, v) in enumerate(zip(vc.index, vc.to_numpy())):
        k = scalar(k)
        if i < top or k in keep:
            counts[k] = counts.get(k, 0) + int(v)
        else:
            other += int(v)
    return CategoricalProfile(
        name=name, dtype=str(s.dtype), counts=counts, other=other, missing=missing, n_unique=int(len(vc))
    )


@dataclass
class Profile:
    """The mergeable summary of a frame: column profiles (which carry the schema) and row count."""

    columns: dict[str, ColumnProfile]
    rows: int
    meta: dict[str, Any] = field(default_factory=dict)

    # -- schema ----------------------------------------------------------------------------
    def schema(self) -> dict[str, dict[str, Any]]:
        """columns -> {kind, dtype, nullable, min, max | categories}."""
        out: dict[str, dict[str, Any]] = {}
        for c, p in self.columns.items():
            d: dict[str, Any] = {"kind": p.kind, "dtype": p.dtype, "nullable": p.nullable}
            if isinstance(p, NumericProfile):
                d.update(min=p.min, max=p.max, integer=p.integer)
            else:
                d["categories"] = sorted(p.counts, key=lambda k: (str(type(k)), k))
                d["categories_complete"] = p.other == 0
            out[c] = d
        return out

    def numeric(self) -> list[str]:
        return [c for c, p in self.columns.items() if isinstance(p, NumericProfile)]

    def categorical(self) -> list[str]:
        return [c for c, p in self.columns.items() if isinstance(p, CategoricalProfile)]

    def __getitem__(self, col: str) -> ColumnProfile:
        return self.columns[col]

    def __contains__(self, col: object) -> bool:
        return col in self.columns

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "mltriage_profile": PROFILE_VERSION,
            "rows": int(self.rows),
            "meta": self.meta,
            "columns": {c: p.to_dict() for c, p in self.columns.items()},
        }

    def to_json(self, path: str | None = None, indent: int | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=scalar)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Profile:
        if not isinstance(d, Mapping) or "mltriage_profile" not in d:
            raise ProfileError(
                "not an mltriage profile (no 'mltriage_profile' key); "
                "write one with `mltriage profile --data REF --out ref.json`"
            )
        if int(d["mltriage_profile"]) > PROFILE_VERSION:
            raise ProfileError(
                f"profile version {d['mltriage_profile']} is newer than this "
                f"mltriage understands ({PROFILE_VERSION}); upgrade mltriage"
            )
        cols: dict[str, ColumnProfile] = {}
        for c, p in d["columns"].items():
            if p.get("kind") == "numeric":
                cols[c] = NumericProfile.from_dict(c, p)
            elif p.get("kind") == "categorical":
                cols[c] = CategoricalProfile.from_dict(c, p)
            else:
                raise ProfileError(f"column {c!r}: unknown kind {p.get('kind')!r}")
        return cls(columns=cols, rows=int(d["rows"]), meta=dict(d.get("meta", {})))

    @classmethod
    def from_json(cls, text_or_path: str) -> Profile:
        """Read a profile from a JSON string or from a file path."""
        text = text_or_path
        if not text_or_path.lstrip().startswith("{"):
            try:
                with open(text_or_path, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as e:
                raise ProfileError(f"cannot read profile {text_or_path}: {e}") from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ProfileError(f"profile is not valid JSON: {e}") from None
        return cls.from_dict(d)


def default_workers() -> int:
    import os

    return max(1, min(2, os.cpu_count() or 1))


def _as_pandas(df: Any) -> pd.DataFrame:
    if isinstance(df, pd.DataFrame):
        return df
    if hasattr(df, "to_pandas"):  # polars, pyarrow
        return df.to_pandas()
    raise ProfileError(f"cannot profile an object of type {type(df).__name__}")


def build_profile(
    df: Any,
    *,
    like: Profile | None = None,
    categorical: Iterable[str] = (),
    columns: Iterable[str] | None = None,
    bins: int = DEFAULT_BINS,
    top: int = DEFAULT_TOP_CATEGORIES,
    meta: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
) -> Profile:
    """Profile a frame (pandas, or anything with `.to_pandas()`).

    like: a reference profile. Its columns that the frame also has are profiled on the
        reference's bin edges and category sets (the result merges with the reference and
        compares with it bin by bin); a column numeric in the reference is read as numbers even
        if it arrives as text (the unparsed count says how many values were not numbers).
        Columns the reference lacks are profiled on their own.
    categorical: columns to treat as categorical although numeric (codes).
    columns: restrict to these columns.
    n_jobs: threads (default: 2, or 1 on a one-core machine; only used on large frames).
    """
    df = _as_pandas(df)
    cat = {str(c) for c in categorical}
    cols = list(df.columns) if columns is None else [c for c in columns if c in df.columns]

    def one(c: Any) -> ColumnProfile:
        s = df[c]
        name = str(c)
        ref = like.columns.get(name) if like is not None else None
        if isinstance(ref, NumericProfile):
            if not is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s.dtype) and name in cat:
                return profile_categorical(s, name, top)
            return profile_numeric(s, name, edges=ref.edges, bins=bins)
        if isinstance(ref, CategoricalProfile):
            return profile_categorical(s, name, top, keep=ref.counts)
        if name in cat or not is_numeric_dtype(s):
            return profile_categorical(s, name, top)
        return profile_numeric(s, name, bins=bins)

    workers = default_workers() if n_jobs is None else max(int(n_jobs), 1)
    if workers > 1 and len(cols) > 1 and len(df) >= 50_000:
        # numpy's sort and arithmetic release the GIL: columns profile in parallel threads
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as ex:
            profiles = list(ex.map(one, cols))
    else:
        profiles = [one(c) for c in cols]
    out: dict[str, ColumnProfile] = {str(c): p for c, p in zip(cols, profiles)}
    return Profile(columns=out, rows=int(len(df)), meta=dict(meta or {}))


# ---------------------------------------------------------------------------------------------
# histogram utilities


def hist_support(p: NumericProfile) -> np.ndarray:
    """x positions bounding each bin of p (len(counts) + 1): the underflow bin spans
    [min, e0), the overflow bin (e_k, max]; empty outer bins get zero width."""
    e = p.edges
    lo = min(p.min, e[0]) if p.min is not None else e[0]
    hi = max(p.max, e[-1]) if p.max is not None else e[-1]
    return np.concatenate(([lo], e, [hi]))


def hist_quantile(p: NumericProfile, prob: float) -> float | None:
    """Quantile interpolated linearly inside the histogram bins."""
    if p.n == 0:
        return None
    x = hist_support(p)
    cdf = np.concatenate(([0.0], np.cumsum(p.counts) / p.n))
    target = min(max(prob, 0.0), 1.0)
    i = int(np.searchsorted(cdf, target, side="left"))
    if i == 0:
        return float(x[0])
    if i >= len(cdf):
        return float(x[-1])
    c0, c1 = cdf[i - 1], cdf[i]
    frac = 0.0 if c1 <= c0 else (target - c0) / (c1 - c0)
    return float(x[i - 1] + frac * (x[i] - x[i - 1]))


def load_profile_or_frame(obj: Any) -> Profile | pd.DataFrame:
    """A Profile for a profile JSON path/Profile, the frame otherwise (helper for callers)."""
    if isinstance(obj, Profile):
        return obj
    if isinstance(obj, str) and obj.endswith(".json"):
        return Profile.from_json(obj)
    return _as_pandas(obj)
