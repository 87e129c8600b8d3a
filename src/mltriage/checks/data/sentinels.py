"""Numbers standing for missing values (-999, 9999) in the model's numeric features, for
data.missing_values: stats/sentinels.py judges each repeated far-out value against the column's
own tail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import WARNING, Finding
from ...stats.sentinels import isolated_heaps

if TYPE_CHECKING:
    from ...context import Context
    from ...registry import Params


def sentinel_rows(ctx: Context, p: Params, cols: list[str]) -> list[dict[str, Any]]:
    """Per set and numeric feature: a value far beyond the others holding min_count rows and
    min_share of the set, more than the tail null allows (Bonferroni over features x sets)."""
    sets = [w for w in ("train", "test", "current") if ctx.has(w)]
    rows: list[dict[str, Any]] = []
    for which in sets:
        df = ctx.frame(which)
        for f in cols:
            if f not in df.columns:
                continue
            s = df[f]
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                continue
            for h in isolated_heaps(s.to_numpy(dtype=float), int(p.min_count), float(p.min_share)):
                rows.append({"set": which, "column": f, **h})
    m = max(1, len(cols) * len(sets))
    return [r for r in rows if r["p_value"] * m < p.alpha]


def sentinel_alarm(rows: list[dict[str, Any]]) -> Finding:
    worst = max(rows, key=lambda r: r["share"])
    cols = list(dict.fromkeys(r["column"] for r in rows))
    sets = sorted({r["set"] for r in rows if r["column"] == worst["column"]})
    lo, hi = worst["others_range"]
    v = worst["value"]
    return Finding(
        "data.missing_values",
        WARNING,
        f"{worst['column']}: the value {v:g} holds {worst['share']:.1%} of {worst['set']} rows "
        f"({', '.join(sets)}), {worst['distance_iqr']:.0f} interquartile ranges beyond every other "
        f"value ({lo:g} to {hi:g}; {worst['expected_by_chance']:.2g} rows expected that far out by "
        "chance): a placeholder for a missing value, which the model reads as a magnitude"
        + (f"; {len(cols) - 1} more feature(s)" if len(cols) > 1 else ""),
        columns=cols,
        evidence={"table": rows},
        impact=float(np.clip(worst["share"], 0.0, 1.0)),
        root_cause="the source system writes a number (a 'dummy value' such as -999 or 9999) where "
        "the reading is unknown, so the pipeline's imputer never sees these gaps",
        fix=f"replace {v:g} with NaN when reading the data (pd.read_csv(na_values=...) or "
        f"df[col].replace({v:g}, np.nan)) in every set, and impute inside the model's pipeline",
    )
