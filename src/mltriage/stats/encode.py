"""Turn frames into one numeric float matrix, fitted on the training rows.

Numeric columns become float (inf -> NaN); categorical columns become integer codes of their
training categories (the most frequent `max_categories`; others and NaN -> NaN), so that
HistGradientBoosting can use them natively and a one-hot encoder can expand them. Datetime
columns become seconds since the epoch. A column without a single finite value in the training
rows (NaN or inf in every row) is encoded as the constant 0 everywhere: it carries nothing a model
could learn, and scikit-learn's HistGradientBoosting cannot bin an all-missing column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Encoder:
    columns: list[str]
    categorical_mask: np.ndarray  # per column: True when codes
    categories: dict[str, pd.Index]  # column -> the training categories kept
    empty: frozenset[str] = frozenset()  # columns with no finite value in training: encoded as 0

    @classmethod
    def fit(
        cls, df: pd.DataFrame, columns: list[str], categorical: list[str], max_categories: int = 250
    ) -> Encoder:
        cat_set = set(categorical)
        cats = {}
        empty = set()
        for c in columns:
            if c in cat_set:
                vc = df[c].astype("object").value_counts(dropna=True)
                cats[c] = pd.Index(vc.index[:max_categories])
                if not len(vc):
                    empty.add(c)
            elif c in df.columns and not pd.api.types.is_datetime64_any_dtype(df[c]):
                v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                if not np.isfinite(v).any():
                    empty.add(c)
        mask = np.array([c in cats for c in columns], dtype=bool)
        return cls(columns=list(columns), categorical_mask=mask, categories=cats, empty=frozenset(empty))

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(df), len(self.columns)), dtype=np.float32)
        for j, c in enumerate(self.columns):
            if c not in df.columns:
                out[:, j] = np.nan
                continue
            if c in self.empty:
                out[:, j] = 0.0
                continue
            s = df[c]
            if c in self.categories:
                codes = self.categories[c].get_indexer(s.astype("object"))
                out[:, j] = np.where(codes < 0, np.nan, codes)
            elif pd.api.types.is_datetime64_any_dtype(s):
                tz = getattr(s.dt, "tz", None)
                secs = (s - pd.Timestamp(0, tz=tz)).dt.total_seconds()  # any resolution (ns, us)
                out[:, j] = secs.to_numpy(dtype=float, na_value=np.nan)
            else:
                # a copy: under pandas 3 (copy-on-write) to_numpy may return a read-only view
                v = np.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
                v[~np.isfinite(v)] = np.nan
                out[:, j] = v
        return out
