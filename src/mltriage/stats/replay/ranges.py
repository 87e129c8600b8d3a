"""Inputs that the model never saw in training, judged from what its fitted steps recorded
(encoder categories, scaler minima and maxima, means and standard deviations, bin edges,
LightGBM's per-feature ranges) or from reference rows; and the missing values an imputer fills.

Each `Flag` groups the replayed rows that share one verdict on one column at one step, with a few
of their values and what training would have expected."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..rows import scalar
from .frames import is_sparse, width

UNSEEN, BELOW, ABOVE, FAR, NOT_NUMBER, MISSING, IMPUTED = (
    "unseen_category",
    "below_range",
    "above_range",
    "far_from_mean",
    "not_a_number",
    "unseen_missing",
    "imputed",
)


@dataclass
class Flag:
    """Rows whose value in `column` at `step` gets one verdict (`kind`)."""

    step: str  # the step's path ("prep/num/scale"), or "reference rows"
    column: str  # the step's input column
    kind: str  # one of UNSEEN, BELOW, ABOVE, FAR, NOT_NUMBER, IMPUTED
    source: str  # what recorded the expectation ("MinMaxScaler data_min_/data_max_")
    expected: str  # what training saw, and what the step does with such a value
    rows: list[int] = field(default_factory=list)  # replayed row positions
    values: list[Any] = field(default_factory=list)  # up to 5 distinct values
    z: float | None = None  # the largest |z| (far_from_mean)

    def add(self, row: int, value: Any) -> None:
        self.rows.append(int(row))
        v = scalar(value)
        if len(self.values) < 5 and v not in self.values:
            self.values.append(v)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "column": self.column,
            "kind": self.kind,
            "source": self.source,
            "expected": self.expected,
            "rows": len(self.rows),
            "row_positions": self.rows[:20],
            "values": [str(v) if isinstance(v, float) and not np.isfinite(v) else v for v in self.values],
            "z": self.z,
        }

    def summary(self) -> dict[str, Any]:
        """The flag as a finding's evidence shows it (the column is the finding's)."""
        d = self.to_dict()
        out = {k: d[k] for k in ("step", "kind", "expected", "source", "rows")}
        out["values"] = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in self.values)
        if self.z is not None:
            out["z"] = round(self.z, 2)
        return out


def _column(X: Any, j: int) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, j].to_numpy(dtype=object)
    if is_sparse(X):
        return np.asarray(X.tocsc()[:, j].todense()).ravel()
    return np.asarray(X)[:, j]


def _numbers(values: np.ndarray) -> np.ndarray:
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)


def is_missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def category_key(v: Any) -> Any:
    """A category as compared with an encoder's categories: numbers as floats, missing as one key."""
    if is_missing(v):
        return "<missing>"
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return str(v)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def shown(cats: Iterable[Any], most: int = 6) -> str:
    items = [str(scalar(c)) for c in cats]
    return ", ".join(items[:most]) + (f", … ({len(items)} in all)" if len(items) > most else "")


# ---------------------------------------------------------------------------- fitted steps


def _unknown_consequence(est: Any) -> str:
    kind, handle = type(est).__name__, getattr(est, "handle_unknown", None)
    if handle == "error":
        return "the step raises on it (handle_unknown='error')"
    if kind == "OneHotEncoder" and handle in ("ignore", "warn"):
        return "it is encoded as all zeros, like no category at all (handle_unknown='ignore')"
    if handle == "infrequent_if_exist":
        return "it is encoded as the infrequent category, or as all zeros"
    if handle == "use_encoded_value":
        return (
            f"it is encoded as {getattr(est, 'unknown_value', None)!r} (handle_unknown='use_encoded_value')"
        )
    return ""


def _categories(est: Any, X: Any, names: list[str], rows: np.ndarray, path: str, _sd: float) -> list[Flag]:
    cats = getattr(est, "categories_", None)
    if cats is None or len(cats) != width(X) or not isinstance(cats, (list, tuple)):
        return []
    kind = type(est).__name__
    then = _unknown_consequence(est)
    out = []
    for j, known_cats in enumerate(cats):
        known = {category_key(c) for c in known_cats}
        expected = f"one of {len(known_cats)} training categories ({shown(known_cats)})" + (
            f"; {then}" if then else ""
        )
        flag = Flag(path, names[j], UNSEEN, f"{kind} categories_", expected)
        for r, v in zip(rows, _column(X, j)):
            if category_key(v) not in known:
                flag.add(r, v)
        if flag.rows:
            out.append(flag)
    return out


def _bounds(
    path: str, name: str, source: str, lo: float, hi: float, values: np.ndarray, rows: np.ndarray
) -> list[Flag]:
    """Rows whose numeric value lies below lo or above hi."""
    expected = f"within the training range [{_fmt(lo)}, {_fmt(hi)}]"
    below, above = Flag(path, name, BELOW, source, expected), Flag(path, name, ABOVE, source, expected)
    with np.errstate(invalid="ignore"):
        for r, v in zip(rows, values):
            if v < lo:
                below.add(r, v)
            elif v > hi:
                above.add(r, v)
    return [f for f in (below, above) if f.rows]


def _min_max(est: Any, X: Any, names: list[str], rows: np.ndarray, path: str, _sd: float) -> list[Flag]:
    lo, hi = getattr(est, "data_min_", None), getattr(est, "data_max_", None)
    if lo is None or hi is None or len(lo) != width(X):
        return []
    source = f"{type(est).__name__} data_min_/data_max_"
    out: list[Flag] = []
    for j in range(width(X)):
        out += _bounds(path, names[j], source, float(lo[j]), float(hi[j]), _numbers(_column(X, j)), rows)
    return out


def _max_abs(est: Any, X: Any, names: list[str], rows: np.ndarray, path: str, _sd: float) -> list[Flag]:
    m = getattr(est, "max_abs_", None)
    if m is None or len(m) != width(X):
        return []
    source = f"{type(est).__name__} max_abs_"
    out: list[Flag] = []
    for j in range(width(X)):
        out += _bounds(path, names[j], source, -float(m[j]), float(m[j]), _numbers(_column(X, j)), rows)
    return out


def _bins(est: Any, X: Any, names: list[str], rows: np.ndarray, path: str, _sd: float) -> list[Flag]:
    edges = getattr(est, "bin_edges_", None)
    if edges is None or len(edges) != width(X):
        return []
    source = f"{type(est).__name__} bin_edges_"
    out: list[Flag] = []
    for j, e in enumerate(edges):
        out += _bounds(path, names[j], source, float(e[0]), float(e[-1]), _numbers(_column(X, j)), rows)
    return out


def _far(est: Any, X: Any, names: list[str], rows: np.ndarray, path: str, max_sd: float) -> list[Flag]:
    """StandardScaler (mean_, scale_) and RobustScaler (center_, scale_): values more than
    `max_sd` scale units from the training centre."""
    centre = getattr(est, "mean_", None)
    label = "mean_/scale_"
    if centre is None:
        centre, label = getattr(est, "center_", None), "center_/scale_"
    scale = getattr(est, "scale_", None)
    if centre is None or scale is None or len(scale) != width(X):
        return []
    source = f"{type(est).__name__} {label}"
    out = []
    for j in range(width(X)):
        mu, sd = float(centre[j]), float(scale[j]) or 1.0
        z = (_numbers(_column(X, j)) - mu) / sd
        expected = f"within {max_sd:g} SD of the training mean ({_fmt(mu)}, SD {_fmt(sd)})"
        flag = Flag(path, names[j], FAR, source, expected)
        with np.errstate(invalid="ignore"):
            hit = np.abs(z) > max_sd
        for r, v in zip(rows[hit], (mu + z * sd)[hit]):
            flag.add(r, v)
        if flag.rows:
            flag.z = float(np.nanmax(np.abs(z[hit])))
            out.append(flag)
    return out


def _imputed(est: Any, X: Any, names: list[str], rows: np.ndarray, path: str, _sd: float) -> list[Flag]:
    stats = getattr(est, "statistics_", None)
    if stats is None or len(stats) != width(X) or not hasattr(est, "strategy"):
        return []
    marker = getattr(est, "missing_values", np.nan)
    source = f"{type(est).__name__} statistics_ (strategy={est.strategy!r})"
    out = []
    for j in range(width(X)):
        flag = Flag(path, names[j], IMPUTED, source, f"missing: replaced by {scalar(stats[j])!r}")
        for r, v in zip(rows, _column(X, j)):
            if (is_missing(v) and is_missing(marker)) or (not is_missing(marker) and v == marker):
                flag.add(r, v)
        if flag.rows:
            out.append(flag)
    return out


STEP_RULES: tuple[Callable[..., list[Flag]], ...] = (_categories, _min_max, _max_abs, _bins, _far, _imputed)


def step_flags(est: Any, X: Any, names: list[str], rows: np.ndarray, path: str, max_sd: float) -> list[Flag]:
    """What the fitted step `est` recorded of its training input, against the rows it receives."""
    out: list[Flag] = []
    for rule in STEP_RULES:
        try:
            out += rule(est, X, names, rows, path, max_sd)
        except (TypeError, ValueError, IndexError):  # a step whose attributes mean something else
            continue
    return out


# ---------------------------------------------------------------------------- LightGBM


def lightgbm_record(est: Any) -> tuple[dict[str, tuple[float, float]], dict[str, list]]:
    """The per-feature training ranges a LightGBM model stores, and the categories of the columns
    it took as pandas categoricals ({}, {} for other models)."""
    booster = getattr(est, "booster_", None)
    if booster is None or not hasattr(booster, "dump_model"):
        return {}, {}
    try:
        dump = booster.dump_model(num_iteration=1)
    except Exception:
        return {}, {}
    names = [str(n) for n in dump.get("feature_names", [])]
    cat_idx = list(booster.params.get("categorical_column", []) or [])
    pandas_cats = dump.get("pandas_categorical") or []
    infos = dump.get("feature_infos") or {}
    if not cat_idx and pandas_cats:  # a Booster loaded from its file: categorical features list values
        cat_idx = [
            i for i, n in enumerate(names) if isinstance(infos.get(n), dict) and infos[n].get("values")
        ]
    cats = {names[i]: list(c) for i, c in zip(cat_idx, pandas_cats) if i < len(names)}
    ranges = {}
    for name, info in infos.items():
        if name not in cats and isinstance(info, dict) and "min_value" in info and not info.get("values"):
            ranges[str(name)] = (float(info["min_value"]), float(info["max_value"]))
    return ranges, cats


def model_flags(est: Any, X: Any, names: list[str], rows: np.ndarray, path: str) -> list[Flag]:
    """A final estimator's own record of its training ranges (LightGBM's feature_infos)."""
    ranges, _ = lightgbm_record(est)
    out: list[Flag] = []
    for j, name in enumerate(names[: width(X)]):
        if name in ranges:
            lo, hi = ranges[name]
            out += _bounds(path, name, "LightGBM feature_infos", lo, hi, _numbers(_column(X, j)), rows)
    return out


# ---------------------------------------------------------------------------- reference rows


def _reference_numeric(name: str, ref: pd.Series, values: np.ndarray, rows: np.ndarray) -> list[Flag]:
    where = "reference rows"
    nums = _numbers(values)
    bad = Flag(where, name, NOT_NUMBER, where, "a number (the reference column is numeric)")
    for r, v, n in zip(rows, values, nums):
        if np.isnan(n) and not is_missing(v):
            bad.add(r, v)
    lo, hi = float(np.nanmin(ref)), float(np.nanmax(ref))
    return ([bad] if bad.rows else []) + _bounds(where, name, where, lo, hi, nums, rows)


def reference_flags(X: pd.DataFrame, reference: pd.DataFrame, rows: np.ndarray) -> list[Flag]:
    """The raw input against reference rows: numbers outside the reference's range, text in a
    numeric column, categories the reference does not hold, missing values in a column that the
    reference never leaves missing."""
    out: list[Flag] = []
    where = "reference rows"
    for name in X.columns:
        if name not in reference.columns or reference[name].notna().sum() == 0:
            continue
        ref = reference[name]
        values = X[name].to_numpy(dtype=object)
        if not ref.isna().any():
            gap = Flag(where, name, MISSING, where, f"never missing in the {len(ref):,} reference rows")
            for r, v in zip(rows, values):
                if is_missing(v):
                    gap.add(r, None)
            out += [gap] if gap.rows else []
        if pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref):
            out += _reference_numeric(name, ref, values, rows)
            continue
        seen = ref.dropna().unique()
        known = {category_key(v) for v in seen}
        flag = Flag(where, name, UNSEEN, where, f"one of {len(seen)} reference values ({shown(seen)})")
        for r, v in zip(rows, values):
            if not is_missing(v) and category_key(v) not in known:
                flag.add(r, v)
        if flag.rows:
            out.append(flag)
    return out


def inside_reference(reference: pd.DataFrame | None, column: str, value: Any) -> bool:
    """Whether a numeric value lies within the reference rows' range of `column`."""
    if reference is None or column not in reference.columns:
        return False
    ref = reference[column]
    if not pd.api.types.is_numeric_dtype(ref) or pd.api.types.is_bool_dtype(ref):
        return False
    v = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return bool(np.nanmin(ref) <= v <= np.nanmax(ref))
