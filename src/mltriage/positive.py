"""The positive class of a binary task: the user's choice (`--positive-class`, `positive_class=`),
validated once, else scikit-learn's convention (the model's last class, `classes_[1]`).

Every binary number (precision, recall, thresholds, calibration, expected performance, the gate's
positive rate) is about this class. `choose_positive` picks and validates it; `positive_index`
and `positive_scores` find its column in a probability matrix whose columns follow a model's
classes, so that no code path assumes the positive class is the last column.

A value given on the command line is text: it is matched against the labels as the labels'
type reads it ("1" names the integer label 1 and the float 1.0; "true" names the boolean True).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import InputError, listing

OPTION = "--positive-class"
HOW_CHOSEN = f"set with {OPTION}"
HOW_MODEL = f"the model's last class, as in scikit-learn; set {OPTION} to choose"
HOW_LABELS = f"the last label in sorted order; set {OPTION} to choose"


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _names(value: Any, label: Any) -> bool:
    """Does `value` (a label, or its text) name `label`?"""
    value, label = _plain(value), _plain(label)
    if not isinstance(value, str) and not isinstance(label, str):
        return bool(value == label) and isinstance(value, bool) is isinstance(label, bool)
    text = str(value).strip()
    if isinstance(label, bool):
        return text.lower() in (("true", "1") if label else ("false", "0"))
    if isinstance(label, (int, float)):
        try:
            return float(text) == float(label)
        except ValueError:
            return False
    return text == str(label)


def find_label(value: Any, labels: Sequence[Any]) -> list[Any]:
    """The labels that `value` names (an exact match first; empty when none)."""
    exact = [c for c in labels if type(_plain(c)) is type(_plain(value)) and _plain(c) == _plain(value)]
    return exact or [c for c in labels if _names(value, c)]


def choose_positive(
    requested: Any,
    classes: Sequence[Any] | None,
    model_classes: Sequence[Any] | None,
    task: str,
    target: str = "",
) -> tuple[Any, str | None]:
    """(the positive class, how it was chosen) of a binary task; (None, None) for other tasks.

    `classes`: the target's labels (None when no labels are known: the model's classes then);
    `model_classes`: the model's classes_ (its probability columns), when it has them. A
    requested value that names no label, or one given for a task that is not binary, is refused."""
    labels = list(classes) if classes else list(model_classes or [])
    if requested is not None and task != "binary":
        raise InputError(
            f"{OPTION} {requested!r} applies to a binary task, and this task is {task}"
            + (f" ({len(labels)} classes: {listing(map(repr, map(_plain, labels)), 8)})" if labels else ""),
            f"drop {OPTION}"
            + (" (multiclass metrics score every class in turn)" if task == "multiclass" else "")
            + (", or pass --task binary if the target has two classes" if len(labels) <= 2 else ""),
        )
    if task != "binary":
        return None, None
    if requested is None:
        mc = list(model_classes or [])
        if len(mc) == 2:
            return _plain(mc[-1]), HOW_MODEL
        return (_plain(labels[-1]), HOW_LABELS) if labels else (None, None)
    if not labels:
        raise InputError(
            f"{OPTION} {requested!r} cannot be checked: neither the model nor a label column names the classes",
            f"pass the target column (--target) or a model with classes_, or drop {OPTION}",
        )
    hits = find_label(requested, labels)
    if len(hits) != 1:
        seen = listing(map(repr, map(_plain, labels)), 8)
        where = f"the target {target!r}" if target else "the model"
        raise InputError(
            f"{OPTION} {requested!r} is "
            + ("not one of the labels" if not hits else "ambiguous among the labels")
            + f" of {where}: the labels seen are {seen}",
            f"pass one of them, e.g. {OPTION} {_plain(labels[0])} (a binary task's other label is the negative class)",
        )
    return _plain(hits[0]), HOW_CHOSEN


def positive_index(classes: Sequence[Any] | None, positive: Any) -> int:
    """The column of `positive` in a probability matrix whose columns follow `classes` (the last
    column when the positive class is unknown or not among them: scikit-learn's convention)."""
    cl = list(classes or [])
    if positive is not None:
        hits = find_label(positive, cl)
        if len(hits) == 1:
            return next(i for i, c in enumerate(cl) if c is hits[0])
    return max(len(cl) - 1, 0) if cl else 1


def positive_scores(proba: np.ndarray, classes: Sequence[Any] | None, positive: Any) -> np.ndarray:
    """P(positive) from an (n, k) probability matrix whose columns follow `classes`."""
    a = np.asarray(proba, dtype=float)
    if a.ndim == 1:
        return a
    return a[:, positive_index(classes, positive) if classes else a.shape[1] - 1]


def negative_of(classes: Sequence[Any], positive: Any) -> Any:
    """The other class of a binary task."""
    i = positive_index(classes, positive)
    return _plain(list(classes)[1 - i]) if len(classes) == 2 else None


def describe(positive: Any, how: str | None) -> str | None:
    """ "positive class: 'yes' (how it was chosen)", for every report."""
    if positive is None:
        return None
    return f"positive class: {_plain(positive)!r}" + (f" ({how})" if how else "")
