"""Precomputed outputs given as one probability column per class: `--prediction-column` naming
several comma-separated columns (`p_setosa,p_versicolor,p_virginica`) or a prefix they share
(`proba_`), resolved against the training frame and matched to the classes."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, closest, listing


def prediction_columns(spec: str, tr: pd.DataFrame) -> list[str]:
    """The columns a prediction-column option names in `tr`: the column itself, the comma-separated
    list, or (when no column has that name) every column starting with it; [] when none match (the
    caller's single-column checks then name the problem)."""
    if "," in spec:
        cols = [c.strip() for c in spec.split(",") if c.strip()]
        missing = [c for c in cols if c not in tr.columns]
        if missing:
            raise InputError(
                f"prediction column(s) {listing(missing)} not in the train data.{closest(missing[0], tr.columns)}",
                f"its columns are: {listing(tr.columns)}",
            )
        if len(set(cols)) < len(cols):
            raise InputError(f"--prediction-column names a column twice: {spec!r}", "name each column once")
        return cols
    if spec in tr.columns:
        return [spec]
    pref = [c for c in tr.columns if c.startswith(spec)]
    return pref if len(pref) >= 2 else []


def _suffixes(cols: list[str], prefix: str) -> list[str]:
    if prefix and "," not in prefix and all(c.startswith(prefix) for c in cols):
        return [c[len(prefix) :] for c in cols]
    common = os.path.commonprefix(cols)
    return [c[len(common) :] for c in cols]


def _key(v: Any) -> str:
    try:
        f = float(v)
        return f"{f:.12g}" if np.isfinite(f) else str(v)
    except (TypeError, ValueError):
        return str(v).strip().lower()


def column_classes(cols: list[str], spec: str, classes: list | None, task: str, notes: list[str]) -> list:
    """The class of each probability column: the column's name after the shared prefix matched to
    a class label (`proba_setosa` -> 'setosa', `p_1` -> 1); failing that, the sorted classes in
    column order when there are as many columns as classes (said in a note)."""
    if task not in ("binary", "multiclass") or not classes:
        raise InputError(
            f"--prediction-column names {len(cols)} columns ({listing(cols, 6)}), which only a "
            f"classification task can read (one probability column per class); the task is {task}",
            "give one prediction column, or --task binary/multiclass",
        )
    by_key = {_key(k): k for k in classes}
    suffix = _suffixes(cols, spec)
    matched = [by_key.get(_key(s)) for s in suffix]
    if all(m is not None for m in matched) and len({_key(m) for m in matched}) == len(cols):
        if len(cols) < len(classes):
            absent = [k for k in classes if _key(k) not in {_key(m) for m in matched}]
            raise InputError(
                f"the probability columns {listing(cols, 6)} lack the class(es) {listing(map(str, absent))}",
                "give one probability column per class",
            )
        return list(matched)
    if len(cols) == len(classes):
        notes.append(
            f"the probability columns {listing(cols, 6)} do not name the classes: read in column order "
            f"as the classes {listing(map(str, classes), 6)}"
        )
        return list(classes)
    raise InputError(
        f"{len(cols)} probability columns ({listing(cols, 6)}) for {len(classes)} classes "
        f"({listing(map(str, classes), 6)})",
        "give one column per class, named after it (e.g. proba_<class>)",
    )


def check_probability_columns(cols: list[str], tr: pd.DataFrame, te: pd.DataFrame) -> None:
    """Per-class probability columns: present in both sets, numeric, not negative."""
    for name, df in (("train", tr), ("test", te)):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise InputError(
                f"probability column(s) {listing(missing)} not in the {name} data",
                "without a model, every set needs the model's output columns",
            )
        for c in cols:
            v = pd.to_numeric(df[c], errors="coerce")
            if v.isna().mean() > 0.5 or (v.dropna() < 0).any():
                raise InputError(
                    f"probability column {c!r} in the {name} data holds "
                    + ("values that are not numbers" if v.isna().mean() > 0.5 else "negative values"),
                    "give each class's predicted probability (or a non-negative score) per row",
                )
