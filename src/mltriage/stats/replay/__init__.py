"""Replaying input rows through a fitted model step by step (`mltriage replay`).

Files:
- walk.py: the walk through Pipelines, ColumnTransformers and FeatureUnions down to the final
  estimator (`replay_rows` -> `Trace`: each step's record, each row's outcome, the range flags);
  rows that raise are isolated by halving, rows that gain NaN or inf stop where they do;
- frames.py: reading what steps hand each other (frames, arrays, sparse matrices) the same way:
  rows, columns, one row's values, NaN and infinite cells;
- ranges.py: inputs outside what training recorded (encoder categories, scaler ranges, means and
  SDs, bin edges, LightGBM's feature ranges, reference rows) and imputed values, as `Flag`s;
- dtypes.py: text columns given back the pandas category dtype the model was trained with;
- explain.py: an exception's message in plain words.
"""

from __future__ import annotations

from .explain import describe, plain_words
from .ranges import ABOVE, BELOW, FAR, IMPUTED, MISSING, NOT_NUMBER, UNSEEN, Flag, inside_reference
from .walk import ERROR, NON_FINITE, OK, RowOutcome, StepRecord, Trace, final_estimator, replay_rows

__all__ = [
    "ABOVE",
    "BELOW",
    "ERROR",
    "FAR",
    "IMPUTED",
    "MISSING",
    "NOT_NUMBER",
    "UNSEEN",
    "NON_FINITE",
    "OK",
    "Flag",
    "RowOutcome",
    "StepRecord",
    "Trace",
    "describe",
    "final_estimator",
    "inside_reference",
    "plain_words",
    "replay_rows",
]
