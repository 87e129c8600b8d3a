"""A confirmed slice and the helpers that report on one: its description, the rows a list of JSON
predicates selects, and the features that differ most between a slice and the rest."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..rows import scalar
from .codes import is_categorical


@dataclass
class Slice:
    """One confirmed underperforming slice. Statistics are over all rows of `frame`."""

    predicates: list[dict]
    size: int
    support: float
    error: float
    rest_error: float
    ci: tuple[float, float]
    lift: float
    share_of_errors: float
    p_value: float
    mask: np.ndarray = field(repr=False)
    score: float = 0.0
    overall_error: float = 0.0
    confirm_size: int = 0
    confirm_error: float = 0.0
    confirm_rest_error: float = 0.0
    # the rows of the confirmation half (never seen by the search): honest tests of a slice
    confirm_rows: np.ndarray | None = field(default=None, repr=False)
    # how many candidates the confirmation tested (the family a later test on the confirmation
    # half must correct for: the slices kept were chosen among them on the same rows)
    family: int = 1

    @property
    def columns(self) -> list[str]:
        out: list[str] = []
        for p in self.predicates:
            if p["column"] not in out:
                out.append(p["column"])
        return out

    @property
    def order(self) -> int:
        return len(self.predicates)

    def describe(self) -> str:
        return describe_predicates(self.predicates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slice": [dict(p) for p in self.predicates],
            "size": int(self.size),
            "support": float(self.support),
            "error": float(self.error),
            "rest_error": float(self.rest_error),
            "overall_error": float(self.overall_error),
            "ci": [float(self.ci[0]), float(self.ci[1])],
            "lift": float(self.lift),
            "share_of_errors": float(self.share_of_errors),
            "p_value": float(self.p_value),
            "score": float(self.score),
        }


def _fmt_value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    return str(v)


def describe_predicates(predicates: list[dict]) -> str:
    """A conjunction of JSON predicates in words (`a == 'x' and 0.5 <= b <= 2`)."""
    parts = []
    for p in predicates:
        if p["op"] == "between":
            lo, hi = p["value"]
            parts.append(f"{_fmt_value(lo)} <= {p['column']} <= {_fmt_value(hi)}")
        else:
            parts.append(f"{p['column']} {p['op']} {_fmt_value(p['value'])}")
    return " and ".join(parts) if parts else "all rows"


def _compare(x: np.ndarray, op: str, v: Any) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == "between":
            return (x >= v[0]) & (x <= v[1])
        if op == "<":
            return x < v
        if op == "<=":
            return x <= v
        if op == ">":
            return x > v
        if op == ">=":
            return x >= v
    raise ValueError(f"unknown op {op!r}")


def slice_mask(frame: pd.DataFrame, predicates: list[dict]) -> np.ndarray:
    """Rows of `frame` that a conjunction of JSON predicates selects (missing values fail every
    predicate except `== null`)."""
    m = np.ones(len(frame), dtype=bool)
    for p in predicates:
        s = frame[p["column"]]
        op, v = p["op"], p["value"]
        if op == "==" and v is None:
            m &= s.isna().to_numpy()
            continue
        notna = s.notna().to_numpy()
        if op in ("==", "!=", "in"):
            vals = v if op == "in" else [v]
            hit = s.isin(vals).to_numpy(dtype=bool, na_value=False)
            m &= (~hit & notna) if op == "!=" else hit
            continue
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        m &= _compare(x, op, v)
    return m


def _categorical_difference(s: pd.Series, mask: np.ndarray) -> dict | None:
    """The level whose share differs most, as a standardised difference of proportions."""
    vc1 = s[mask].value_counts(normalize=True, dropna=False)
    vc0 = s[~mask].value_counts(normalize=True, dropna=False)
    levels = vc1.index.union(vc0.index)
    if len(levels) < 2:
        return None
    p1 = vc1.reindex(levels, fill_value=0.0).to_numpy(float)
    p0 = vc0.reindex(levels, fill_value=0.0).to_numpy(float)
    pbar = (p1 + p0) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (p1 - p0) / np.sqrt(np.maximum(pbar * (1 - pbar), 1e-12))
    k = int(np.nanargmax(np.abs(d)))
    lev = levels[k]
    return {
        "column": s.name,
        "kind": "categorical",
        "value": scalar(lev) if not pd.isna(lev) else None,
        "share_in_slice": float(p1[k]),
        "share_in_rest": float(p0[k]),
        "std_diff": float(d[k]),
    }


def _numeric_difference(s: pd.Series, mask: np.ndarray) -> dict | None:
    """Cohen's d of the slice's mean against the rest's, with the pooled sd."""
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    a, b = x[mask], x[~mask]
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return None
    sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    if sd == 0:
        return None
    d = (a.mean() - b.mean()) / sd
    return {
        "column": s.name,
        "kind": "numeric",
        "mean_in_slice": float(a.mean()),
        "mean_in_rest": float(b.mean()),
        "std_diff": float(d),
    }


def standardized_differences(
    frame: pd.DataFrame,
    mask: np.ndarray,
    columns: list[str],
    *,
    categorical: set[str] | None = None,
    top: int = 5,
) -> list[dict]:
    """Features whose distribution differs most between the rows in `mask` and the rest.

    Numeric: standardised mean difference (Cohen's d with the pooled sd). Categorical: the level
    whose share differs most, as a standardised difference of proportions. Sorted by |d|."""
    categorical = set(categorical or ())
    mask = np.asarray(mask, dtype=bool)
    out = []
    n1, n0 = int(mask.sum()), int((~mask).sum())
    if n1 < 2 or n0 < 2:
        return []
    for c in columns:
        if c not in frame.columns:
            continue
        s = frame[c]
        if is_categorical(s, c, categorical):
            row = _categorical_difference(s, mask)
        else:
            row = _numeric_difference(s, mask)
        if row is not None:
            row["column"] = c
            out.append(row)
    out.sort(key=lambda r: -abs(r["std_diff"]))
    return out[:top]
