"""Rung 1, data: problems in the rows and the labels, found before any modelling."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..findings import CRITICAL, INFO, WARNING, Finding
from ..registry import NotApplicable, check


@check("data.infinite_values", max_share=0.0)
def infinite_values(ctx, p):
    """Numeric features that hold +inf or -inf.

    What it detects
        Numeric feature columns with +/-inf values in the training, evaluation or production set.
    Why it matters
        Most estimators either raise on inf or treat it as an extreme value; scalers turn it into NaN
        or inf means, and a division by zero upstream usually produced it.
    How to confirm
        `np.isinf(df[col]).sum()` per set; look at the rows and the formula that computes the column.
    Fix
        Fix the computation that divides by zero, or replace inf by NaN and impute explicitly.
    """
    c = ctx.case
    num = [f for f in c.numeric if pd.api.types.is_numeric_dtype(c.train[f])]
    if not num:
        raise NotApplicable("no numeric features")
    rows = []
    for which in ("train", "test", "current"):
        if not ctx.has(which):
            continue
        df = ctx.frame(which)
        cols = [f for f in num if f in df.columns and pd.api.types.is_float_dtype(df[f])]
        if not cols:
            continue
        counts = np.isinf(df[cols].to_numpy(dtype=float, na_value=np.nan)).sum(axis=0)
        for col, k in zip(cols, counts):
            if k > 0:
                rows.append({"set": which, "column": col, "count": int(k), "share": k / len(df)})
    bad = [r for r in rows if r["share"] > p.max_share]
    if not bad:
        return None
    cols = list(dict.fromkeys(r["column"] for r in bad))
    worst = max(r["share"] for r in bad)
    return Finding(
        "data.infinite_values", CRITICAL if worst > 0.01 else WARNING,
        f"{len(cols)} feature(s) hold infinite values (up to {worst:.1%} of a set): {', '.join(cols[:5])}",
        columns=cols, evidence={"table": rows}, impact=worst,
        root_cause="a division by zero or a log of zero upstream, or an overflow in a ratio feature",
        fix="fix the computation at the source, or map inf to NaN and impute it inside the pipeline")
