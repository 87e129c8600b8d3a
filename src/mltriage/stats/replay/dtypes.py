"""The pandas category dtype a model was trained with, given back to replayed columns that arrive
as text (a JSON object or a CSV row cannot carry it). Serving code does the same cast; without it
LightGBM refuses the row outright, which is not the production bug being replayed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .ranges import UNSEEN, Flag, category_key, is_missing, lightgbm_record, shown


def training_categories(model: Any, reference: pd.DataFrame | None) -> dict[str, tuple[list, str]]:
    """{column: (categories, where they come from)}: a LightGBM model's pandas_categorical, else the
    reference rows' category columns."""
    _, lgb = lightgbm_record(model)
    cats = {c: (list(k), "LightGBM pandas_categorical") for c, k in lgb.items()}
    if reference is not None:
        for c in reference.columns:
            if isinstance(reference[c].dtype, pd.CategoricalDtype) and c not in cats:
                cats[c] = (list(reference[c].cat.categories), "the reference rows' category dtype")
    return cats


def restore_categories(
    X: pd.DataFrame, model: Any, reference: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[str], list[Flag]]:
    """X with its text columns cast to the training categories; notes saying so; and the rows whose
    value is not among those categories (they become missing, as LightGBM treats them)."""
    cats = training_categories(model, reference)
    cast, flags = [], []
    X = X.copy()
    for col, (known, source) in cats.items():
        if col not in X.columns or isinstance(X[col].dtype, pd.CategoricalDtype):
            continue
        lookup = {category_key(k): k for k in known}
        flag = Flag(
            "input",
            col,
            UNSEEN,
            source,
            f"one of {len(known)} training categories ({shown(known)}); an unseen one is read as missing",
        )
        mapped = []
        for r, v in enumerate(X[col].tolist()):
            hit = lookup.get(category_key(v))
            if hit is None and not is_missing(v):
                flag.add(r, v)
            mapped.append(hit)
        X[col] = pd.Categorical(mapped, categories=known)
        cast.append(col)
        if flag.rows:
            flags.append(flag)
    notes = []
    if cast:
        notes.append(
            f"{len(cast)} column(s) arrived as text and were given the pandas category dtype the "
            f"model was trained with, as serving code does: {', '.join(cast[:8])}"
            + ("…" if len(cast) > 8 else "")
        )
    return X, notes, flags
