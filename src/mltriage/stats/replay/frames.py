"""What a pipeline step hands to the next one (a DataFrame, a numpy array, a scipy sparse matrix
or a 1-D array of predictions), read the same way whatever its kind: rows and columns taken,
parts stacked, one row's values, and the cells that are NaN or infinite."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# a detailed row shows every output column up to this width; wider outputs (one-hot encodings)
# show their non-zero columns only, with the count of zero columns left out
MAX_SHOWN = 30


def is_sparse(X: Any) -> bool:
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def width(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is None:
        return 1
    return int(shape[1]) if len(shape) == 2 else 1


def take_rows(X: Any, pos: np.ndarray) -> Any:
    """Rows at positions `pos` (in order)."""
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[pos]
    if is_sparse(X):
        return X.tocsr()[pos]
    return np.asarray(X)[pos]


def take_columns(X: Any, idx: list[int]) -> Any:
    """Columns at positions `idx` (a ColumnTransformer's selection for one branch)."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, idx]
    if is_sparse(X):
        return X.tocsc()[:, idx].tocsr()
    return np.asarray(X)[:, idx]


def stack(parts: list[Any]) -> Any:
    """Row blocks of one output, in order, as one block of the same kind."""
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, (pd.DataFrame, pd.Series)) for p in parts):
        return pd.concat(parts)
    if any(is_sparse(p) for p in parts):
        import scipy.sparse as sp

        return sp.vstack([p if is_sparse(p) else sp.csr_matrix(p) for p in parts]).tocsr()
    return np.concatenate([np.asarray(p) for p in parts], axis=0)


def _py(v: Any) -> Any:
    """A numpy scalar as the Python value (floats stay floats: 4.0 is what the step output)."""
    return v.item() if isinstance(v, np.generic) else v


def dense_row(X: Any, i: int) -> list[Any]:
    """Row `i` as a list of Python values."""
    if isinstance(X, pd.DataFrame):
        return [_py(v) for v in X.iloc[i].tolist()]
    if isinstance(X, pd.Series):
        return [_py(X.iloc[i])]
    if is_sparse(X):
        return [_py(v) for v in np.asarray(X.tocsr()[i].todense()).ravel().tolist()]
    row = np.asarray(X)[i]
    return [_py(v) for v in np.atleast_1d(row).tolist()]


def row_values(X: Any, i: int, names: list[str]) -> tuple[dict[str, Any], int]:
    """Row `i` as {column: value}, and how many zero columns were left out (wide outputs show
    their non-zero columns only)."""
    vals = dense_row(X, i)
    names = names if len(names) == len(vals) else [f"x{j}" for j in range(len(vals))]
    if len(vals) <= MAX_SHOWN:
        return {n: _plain(v) for n, v in zip(names, vals)}, 0
    keep = [(n, v) for n, v in zip(names, vals) if not _is_zero(v)][:MAX_SHOWN]
    return {n: _plain(v) for n, v in keep}, len(vals) - len(keep)


def _is_zero(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0


def _plain(v: Any) -> Any:
    """A value as JSON can hold it: NaN and infinities as text, other objects as text."""
    if isinstance(v, float) and not np.isfinite(v):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if v is pd.NA or v is pd.NaT:
        return None
    return str(v)


def bad_cells(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """(NaN, infinite) masks: (rows, columns) for dense data; (rows,) for sparse matrices."""
    if is_sparse(X):
        m = X.tocsr()
        row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        data = np.asarray(m.data, dtype=float)
        nan = np.bincount(row_of[np.isnan(data)], minlength=m.shape[0]) > 0
        inf = np.bincount(row_of[np.isinf(data)], minlength=m.shape[0]) > 0
        return nan, inf
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X).reshape(n_rows(X), -1))
    nan = frame.isna().to_numpy()
    inf = np.zeros_like(nan)
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            inf[:, j] = np.isinf(col.to_numpy(dtype=float, na_value=np.nan))
        elif col.dtype == object:
            inf[:, j] = [isinstance(v, float) and np.isinf(v) for v in col]
    return nan, inf


def introduced_non_finite(X_in: Any, X_out: Any) -> np.ndarray:
    """Per output row: does the step's output hold a NaN or an infinity that its input did not?
    Cell by cell when the step keeps its columns; row by row otherwise."""
    on, oi = bad_cells(X_out)
    inn, ii = bad_cells(X_in)
    if on.ndim == 2 and inn.ndim == 2 and on.shape == inn.shape:
        return np.asarray(((on & ~inn) | (oi & ~ii)).any(axis=1))
    rows = [m.any(axis=1) if m.ndim == 2 else m for m in (on, oi, inn, ii)]
    return np.asarray((rows[0] & ~rows[2]) | (rows[1] & ~rows[3]))


def non_finite_columns(X: Any, i: int, names: list[str]) -> list[str]:
    """The output columns of row `i` that are NaN or infinite."""
    vals = dense_row(X, i)
    names = names if len(names) == len(vals) else [f"x{j}" for j in range(len(vals))]
    return [n for n, v in zip(names, vals) if v is None or (isinstance(v, float) and not np.isfinite(v))]
