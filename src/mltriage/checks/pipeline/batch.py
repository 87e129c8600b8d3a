"""Does a row's prediction depend on the other rows of the batch it is predicted in?

A fitted model is a function of one row: predicting rows alone, in small batches or all at once
gives the same outputs up to floating-point rounding. A step that computes statistics from its
input at predict time (a `FunctionTransformer(scale)`, a per-batch normaliser, a rank transform)
breaks that: the evaluation set's own statistics enter its predictions, and a service that scores
one request at a time gets other predictions than the evaluation measured. No chance rate is
needed: with a deterministic model (checked by predicting the same batch twice) any difference
beyond rounding is the dependence itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# relative tolerance for "the same output": far above float64 rounding of any model's arithmetic
# (summation order across batch sizes changes outputs by ~1e-12), far below a material change
RTOL = 1e-6


@dataclass
class BatchProbe:
    rows: int
    chunk: int
    deterministic: bool
    changed_share: float  # share of rows whose output changed when predicted in small chunks
    max_change: float  # largest absolute change of the output
    output_scale: float  # spread of the outputs over the probed rows (for the message)


def _outputs(model: Any, X: pd.DataFrame) -> np.ndarray:
    for fn in (model.predict_proba, model.decision_function):
        out = fn(X)
        if out is not None:
            return np.asarray(out, dtype=float).reshape(len(X), -1)
    raw = np.asarray(model.predict_raw(X))
    try:
        return raw.astype(float).reshape(len(X), -1)
    except (TypeError, ValueError):
        codes = pd.factorize(pd.Series(raw).astype(str))[0]
        return codes.astype(float).reshape(len(X), -1)


def _differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    tol = RTOL * (1.0 + np.abs(a))
    both_nan = np.isnan(a) & np.isnan(b)
    return (~both_nan & ~(np.abs(a - b) <= tol)).any(axis=1)


def probe_batch_dependence(model: Any, X: pd.DataFrame, rows: int = 64, chunk: int = 4) -> BatchProbe | None:
    """Predict `rows` rows as one batch (twice) and in chunks of `chunk`; None below 2 chunks."""
    n = min(rows, len(X))
    if n < 2 * chunk:
        return None
    Xs = X.iloc[:n]
    whole = _outputs(model, Xs)
    again = _outputs(model, Xs)
    det = not _differ(whole, again).any()
    parts = np.vstack([_outputs(model, Xs.iloc[i : i + chunk]) for i in range(0, n, chunk)])
    changed = _differ(whole, parts)
    diff = np.abs(np.nan_to_num(parts - whole))
    return BatchProbe(
        rows=n,
        chunk=chunk,
        deterministic=det,
        changed_share=float(changed.mean()),
        max_change=float(diff.max()) if diff.size else 0.0,
        output_scale=float(np.nanstd(whole)) if whole.size else 0.0,
    )
