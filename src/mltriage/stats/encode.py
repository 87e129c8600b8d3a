"""Turn frames into one numeric float matrix, fitted on the training rows.

Numeric columns become float (inf -> NaN); categorical columns become integer codes of their
training categories (the most frequent `max_categories`; others and NaN -> NaN), so that
HistGradientBoosting can use them natively and a one-hot encoder can expand them. Datetime
columns become seconds since the epoch.
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

    @classmethod
    def fit(
        cls, df: pd.DataFrame, columns: list[str], categorical: list[str], max_categories: int = 250
    ) -> Encoder:
        cat_set = set(categorical)
        cats = {}
        for c in columns:
            if c in cat_set:
                vc = df[c].astype("object").value_counts(dropna=True)
                cats[c] = pd.Index(vc.index[:max_categories])
        mask = np.array([c in cats for c in columns], dtype=bool)
        return cls(columns=list(columns), categorical_mask=mask, categories=cats)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(df), len(self.columns)), dtype=np.float32)
        for j, c in enumerate(self.columns):
            if c not in df.columns:
                out[:, j] = np.nan
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
