"""Row identity: one 64-bit hash per row, the single definition every check uses.

Values are hashed, not dtypes: `1` and `1.0`, a category and its text hash alike, and a missing
value hashes the same whatever its sentinel (NaN, None, pd.NA). Two rows get the same hash when
and only when they hold the same values in the hashed columns (up to 64-bit collisions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def row_hashes(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One uint64 hash per row of `df` over `columns` (those present), independent of dtypes."""
    cols = [c for c in columns if c in df.columns]
    if not cols:
        return np.zeros(len(df), dtype=np.uint64)
    part = pd.DataFrame(index=range(len(df)))
    for c in cols:
        s = df[c].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            part[c] = s.astype(float) + 0.0  # -0.0 and 0.0 are the same value
        else:
            part[c] = s.astype(object).where(s.notna(), None).astype(str)
    return pd.util.hash_pandas_object(part, index=False).to_numpy()


def scalar(v: object) -> object:
    """A numpy/pandas scalar as a plain Python value (whole floats as int), for keys and JSON."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v
