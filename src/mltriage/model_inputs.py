"""Inputs as the model saw them (issue 9, capability 15).

A CSV cannot carry dtypes: a column a LightGBM/XGBoost/HistGradientBoosting model took as a pandas
`category` arrives as text or numbers, codes such as zip '02139' arrive as the number 2139, an
integer column with a missing value arrives as floats (1.0). `restore_inputs` gives the model's
columns back the dtype and the values the model was fitted on, in place, in every frame, and says
so in a note. Used by `diagnose` (build_case) and by the batch commands (`drift`, `profile`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import listing

if TYPE_CHECKING:
    from .model import ModelAdapter


def value_key(v: Any) -> str:
    """A key under which a value matches the same value read another way: 1, 1.0 and '1' alike,
    True and 'True' alike."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _numeric_key(v: Any) -> str | None:
    """The key of a text category that is a number ('02139' -> '2139'), None otherwise."""
    if not isinstance(v, str):
        return None
    try:
        return value_key(float(v.strip()))
    except ValueError:
        return None


def _category_map(base: list) -> dict[str, Any]:
    """Value key -> training category: exact keys first, then the numbers that text categories
    spell ('02139' for 2139), when no two categories spell the same number."""
    by_key = {value_key(k): k for k in base}
    num: dict[str, list] = {}
    for k in base:
        if (nk := _numeric_key(k)) is not None:
            num.setdefault(nk, []).append(k)
    for nk, ks in num.items():
        if len(ks) == 1 and nk not in by_key:
            by_key[nk] = ks[0]
    return by_key


def _as_text_from_file(src: Any, df: pd.DataFrame, col: str) -> pd.Series | None:
    """The column read again as text from its CSV (leading zeros kept), None without a file."""
    from .io import read_text_columns

    if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
        return None
    text = read_text_columns(src, [col], len(df))
    return None if text is None or col not in text.columns else text[col]


def restore_categories(
    adapter: ModelAdapter | None, features: list[str], sources: tuple, notes: list[str]
) -> None:
    """Give the columns a model took as pandas categoricals that dtype again, in place, when they
    arrive as text or numbers: the training categories first, in the model's order (or the first
    frame's sorted values when the model does not record them), then any value training never had
    (the model reads those as unseen, data.unseen_categories still sees them). Values match the
    training categories however the file spelled them (2139 for '02139', 1.0 for 1, 'True' for
    True). `sources` holds (path or frame given, frame read) pairs; the first is training."""
    if adapter is None:
        return
    known, source = adapter.categorical_inputs
    cast = []
    for col, cats in known.items():
        if col not in features:
            continue
        base = cats
        if base is None:
            tr = sources[0][1]
            base = sorted(pd.unique(tr[col].dropna()).tolist(), key=str) if col in tr.columns else []
        by_key = _category_map(list(base))
        text_cats = bool(base) and all(isinstance(k, str) for k in base)
        done = False
        for src, df in sources:
            if df is None or col not in df.columns or isinstance(df[col].dtype, pd.CategoricalDtype):
                continue
            text = _as_text_from_file(src, df, col) if text_cats else None
            try:
                df[col] = as_categories(df[col] if text is None else text, list(base), by_key)
            except (TypeError, ValueError):
                continue
            done = True
        if done:
            cast.append(col)
    if cast:
        notes.append(
            f"{len(cast)} column(s) given the pandas category dtype the model was trained with "
            f"({source}): {listing(cast, 8)}"
        )


def restore_text(adapter: ModelAdapter | None, features: list[str], sources: tuple, notes: list[str]) -> None:
    """Columns the model's encoders learned as text but that were read as numbers (a CSV reader
    parses '01234' as 1234): read again as text from the file when there is one (leading zeros
    kept), else converted to text, in place."""
    if adapter is None:
        return
    cols = [c for c in adapter.text_inputs if c in features]
    fixed: list[str] = []
    for src, df in sources:
        if df is None:
            continue
        numeric = [c for c in cols if c in df.columns and pd.api.types.is_numeric_dtype(df[c])]
        if not numeric:
            continue
        from .io import read_text_columns

        text = read_text_columns(src, numeric, len(df))
        for c in numeric:
            if text is not None and c in text.columns:
                df[c] = text[c].to_numpy()
            else:
                df[c] = df[c].map(lambda v: v if pd.isna(v) else value_key(v))
            fixed.append(c)
    if fixed:
        notes.append(
            f"{len(set(fixed))} column(s) read as numbers were given back as text, as the model's "
            f"encoders learned them: {listing(list(dict.fromkeys(fixed)), 8)}"
        )


def restore_inputs(
    adapter: ModelAdapter | None, features: list[str], sources: tuple, notes: list[str]
) -> None:
    """Every column of `features` as the model saw it, in place in each frame of `sources`
    ((path or frame given, frame read) pairs, training first; a frame may be None)."""
    restore_categories(adapter, features, sources, notes)
    restore_text(adapter, features, sources, notes)


def as_categories(s: pd.Series, base: list, by_key: dict[str, Any] | None = None) -> pd.Categorical:
    """A column as a pandas Categorical whose categories are `base` (in that order) then any value
    `base` lacks; values matched to `base` under `value_key` and the numbers text spells."""
    by_key = _category_map(list(base)) if by_key is None else by_key
    uniq = pd.unique(s.dropna())
    to = {u: by_key.get(value_key(u), u) for u in uniq}
    vals = s.map(to).to_numpy(dtype=object)
    extra = sorted({v for v in to.values() if value_key(v) not in by_key}, key=str)
    return pd.Categorical(vals, categories=list(base) + extra)


def model_frame(X: pd.DataFrame, spec: dict[str, tuple[str, list]]) -> pd.DataFrame:
    """X with the columns of `spec` as the model saw them: ("category", training categories) as a
    pandas categorical, ("text", learned categories) as text (numbers spelt as the categories
    spell them). Columns already in that form, or absent, are left alone; X is not modified."""
    out = None
    for col, (kind, base) in spec.items():
        if col not in X.columns:
            continue
        s = X[col]
        if kind == "category":
            if isinstance(s.dtype, pd.CategoricalDtype) and list(s.cat.categories[: len(base)]) == base:
                continue
            try:
                new: Any = as_categories(s, base)
            except (TypeError, ValueError):
                continue
        else:
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                continue
            by_key = _category_map(base)
            uniq = pd.unique(s.dropna())
            to = {u: by_key.get(value_key(u), value_key(u)) for u in uniq}
            new = s.map(to).to_numpy(dtype=object)
        out = X.copy() if out is None else out
        out[col] = new
    return X if out is None else out


_BOOL_TEXT = {"true": 1.0, "false": 0.0}


def bools_as_numbers(X: pd.DataFrame) -> pd.DataFrame:
    """X with its object columns that hold only booleans (True/False, or their text, and missing
    values: how pandas reads a bool column with a gap) as floats 1/0/NaN; X is not modified."""
    out = None
    for col in X.columns:
        s = X[col]
        if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            continue
        vals = pd.unique(s.dropna())
        if not 0 < len(vals) <= 2:
            continue
        to: dict[Any, float] = {}
        for v in vals:
            if isinstance(v, (bool, np.bool_)):
                to[v] = float(v)
            elif isinstance(v, str) and v.strip().lower() in _BOOL_TEXT:
                to[v] = _BOOL_TEXT[v.strip().lower()]
            else:
                break
        else:
            out = X.copy() if out is None else out
            out[col] = s.map(to).astype(float)
    return X if out is None else out
