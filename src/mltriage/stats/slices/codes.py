"""Columns encoded once into small integer codes (uint8), with their level-1 items.

A numeric column is cut into at most `n_bins` quantile bins (its items: single bins, ranges of
adjacent bins and open-ended `<= x` / `> x`); a categorical one keeps its `MAX_CAT_LEVELS` most
frequent values (the rest share an "other" code; items `== v` and `!= v`). Missing values get a
code and an item of their own. `Col.R` sums the counts per code into counts per item.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..rows import scalar

KMAX = 32  # codes per column fit in 5 bits (uint8 storage)
MAX_CAT_LEVELS = KMAX - 2  # most frequent categories kept; the rest share an "other" code

# An item is a predicate over one column's codes:
# ("range", lo, hi) | ("na",) | ("eq", code) | ("ne", code)
Item = tuple[Any, ...]


class Col:
    """One column encoded to small codes, with its level-1 items (predicates over codes)."""

    def __init__(self, name: str, kind: str):
        self.name = name
        self.kind = kind  # "num" | "cat"
        self.K = 0  # number of codes in use
        self.items: list[Item] = []
        self.R: np.ndarray = np.zeros((0, 0))  # membership matrix items x K (float64)
        # numeric
        self.series: pd.Series | None = None
        self._values: np.ndarray | None = None
        self.edges: np.ndarray = np.zeros(0)
        self.is_int = False
        # categorical
        self.codes: np.ndarray = np.zeros(0, dtype=np.uint8)  # full-length uint8 codes
        self.labels: list[Any] = []
        self.missing_code: int | None = None
        self.other_code: int | None = None

    # numeric raw values, converted lazily (only for the few columns that reported slices use)
    def values(self) -> np.ndarray:
        if self._values is None:
            v = pd.to_numeric(self.series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            if not v.flags.writeable:
                v = v.copy()
            v[~np.isfinite(v)] = np.nan
            self._values = v
        return self._values

    def item_mask(self, item: Item, rows: np.ndarray | None = None) -> np.ndarray:
        """Rows (all, or the index array `rows`) that the item selects."""
        kind = item[0]
        if self.kind == "num":
            v = self.values() if rows is None else self.values()[rows]
            if kind == "na":
                return np.isnan(v)
            lo, hi = item[1], item[2]
            with np.errstate(invalid="ignore"):
                if lo == -np.inf:
                    return v <= hi
                if hi == np.inf:
                    return v > lo
                return (v > lo) & (v <= hi)
        c = self.codes if rows is None else self.codes[rows]
        if kind == "eq":
            return c == item[1]
        if kind == "na":
            return c == self.missing_code
        if kind == "ne":
            m = c != item[1]
            if self.missing_code is not None:
                m &= c != self.missing_code
            return m
        raise ValueError(item)

    def predicate(self, item: Item, values: np.ndarray | None = None) -> dict:
        """The JSON predicate of an item (numeric ranges read the data for exact bounds)."""
        kind = item[0]
        if kind == "na":
            return {"column": self.name, "op": "==", "value": None}
        if self.kind == "cat":
            op = "==" if kind == "eq" else "!="
            return {"column": self.name, "op": op, "value": self.labels[item[1]]}
        lo, hi = item[1], item[2]
        v = self.values() if values is None else values
        with np.errstate(invalid="ignore"):
            sel = v[(v > lo) & (v <= hi)]
        conv = (lambda x: int(round(x))) if self.is_int else (lambda x: float(x))
        if sel.size and sel.min() == sel.max():
            return {"column": self.name, "op": "==", "value": conv(sel.min())}
        if lo == -np.inf:
            return {"column": self.name, "op": "<=", "value": conv(_nice(hi, v))}
        if hi == np.inf:
            return {"column": self.name, "op": ">", "value": conv(_nice(lo, v))}
        low = sel.min() if sel.size else lo
        return {"column": self.name, "op": "between", "value": [conv(low), conv(_nice(hi, v))]}

    def member(self, item: Item) -> np.ndarray:
        """Boolean lookup table over codes for an item that lies on bin boundaries."""
        kind = item[0]
        m = np.zeros(KMAX, dtype=bool)
        if kind == "na":
            m[self.missing_code] = True
        elif kind == "eq":
            m[item[1]] = True
        elif kind == "ne":
            m[: self.K] = True
            m[item[1]] = False
            if self.missing_code is not None:
                m[self.missing_code] = False
        else:  # numeric range on the edges
            lo, hi = item[1], item[2]
            lo_b = np.concatenate([[-np.inf], self.edges])
            hi_b = np.concatenate([self.edges, [np.inf]])
            nb = self.edges.size + 1
            m[:nb] = (lo_b >= lo) & (hi_b <= hi)
        return m


def _nice(t: float, v: np.ndarray) -> float:
    """A short number that selects exactly the same rows as threshold t (fewest digits)."""
    if not np.isfinite(t) or float(t).is_integer():
        return t
    with np.errstate(invalid="ignore"):
        target = int(np.count_nonzero(v <= t))
        for digits in range(1, 9):
            r = float(f"{t:.{digits}g}")
            if int(np.count_nonzero(v <= r)) == target:
                return r
    return t


def is_categorical(s: pd.Series, name: str, categorical: set[str]) -> bool:
    """Whether the slice search treats a column as categorical: declared so, boolean, or neither
    numeric nor a date."""
    if name in categorical:
        return True
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return True
    return not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_datetime64_any_dtype(dt))


def encode_numeric(col: Col, s: pd.Series, sample_rows: np.ndarray, n_bins: int) -> np.ndarray | None:
    """Codes of the sample rows; sets edges/items. None when the column cannot split rows."""
    col.series = s
    col.is_int = pd.api.types.is_integer_dtype(s.dtype)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return None
    v = pd.to_numeric(s.iloc[sample_rows], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    v = np.where(np.isfinite(v), v, np.nan)
    nan = np.isnan(v)
    ok = v[~nan]
    if ok.size == 0:
        return None
    uniq = np.unique(ok)
    if uniq.size <= n_bins:
        edges = uniq[:-1]
    else:
        q = np.quantile(ok, np.linspace(0, 1, n_bins + 1)[1:-1], method="inverted_cdf")
        edges = np.unique(q)
        edges = edges[edges < uniq[-1]]
    nb = edges.size + 1
    if nb < 2 and not nan.any():
        return None
    codes = np.searchsorted(edges, ok, side="left").astype(np.uint8)
    out = np.empty(v.size, dtype=np.uint8)
    out[~nan] = codes
    col.edges = edges
    col.K = nb
    if nan.any():
        col.missing_code = nb
        out[nan] = nb
        col.K = nb + 1
    lo_b = np.concatenate([[-np.inf], edges])
    hi_b = np.concatenate([edges, [np.inf]])
    items: list[Item] = []
    rows: list[np.ndarray] = []
    for i in range(nb):
        for j in range(i, nb):
            if i == 0 and j == nb - 1:
                continue
            items.append(("range", float(lo_b[i]), float(hi_b[j])))
            r = np.zeros(col.K)
            r[i : j + 1] = 1
            rows.append(r)
    if col.missing_code is not None:
        items.append(("na",))
        r = np.zeros(col.K)
        r[col.missing_code] = 1
        rows.append(r)
    if not items:
        return None
    col.items, col.R = items, np.array(rows)
    return out


def encode_categorical(col: Col, s: pd.Series) -> bool:
    """Codes of every row (the most frequent levels, "other", missing); False when the column
    cannot split rows."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    n_levels = len(uniques)
    if n_levels == 0:
        return False
    counts = np.bincount(codes[codes >= 0], minlength=n_levels)
    order = np.argsort(-counts, kind="stable")
    keep = order[:MAX_CAT_LEVELS]
    lut = np.empty(n_levels + 1, dtype=np.uint8)  # index n_levels <- NA sentinel (-1)
    nxt = len(keep)
    other = n_levels > len(keep)
    lut[:n_levels] = nxt  # everything -> other ...
    lut[keep] = np.arange(len(keep), dtype=np.uint8)  # ... unless kept
    has_na = bool((codes < 0).any())
    K = len(keep) + (1 if other else 0)
    col.other_code = len(keep) if other else None
    missing = K if has_na else None
    if has_na:
        K += 1
    col.missing_code = missing
    lut[n_levels] = missing if missing is not None else 0
    col.codes = lut[codes]  # codes == -1 -> lut[-1] == lut[n_levels]
    col.K = K
    col.labels = [scalar(uniques[i]) for i in keep]
    n_used = len(keep) + (1 if other else 0)
    if n_used + (1 if has_na else 0) < 2:
        return False
    items: list[Item] = []
    rows: list[np.ndarray] = []
    for c in range(len(keep)):
        items.append(("eq", c))
        r = np.zeros(K)
        r[c] = 1
        rows.append(r)
    if n_used > 2:
        for c in range(len(keep)):
            items.append(("ne", c))
            r = np.ones(K)
            r[c] = 0
            if missing is not None:
                r[missing] = 0
            rows.append(r)
    if missing is not None:
        items.append(("na",))
        r = np.zeros(K)
        r[missing] = 1
        rows.append(r)
    col.items, col.R = items, np.array(rows)
    return True
