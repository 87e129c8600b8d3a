"""production.out_of_distribution: batch rows far outside the training range of a numeric input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, WARNING, Finding
from ...registry import Findings, Interval, Param, Params, check
from ...stats.bins import is_numeric_dtype
from ...stats.production import ProductionInputs
from ...stats.profile import NumericProfile

if TYPE_CHECKING:
    from ...context import Context


def _far_rows(inp: ProductionInputs, margin: float) -> tuple[np.ndarray, list[dict], set[str]]:
    """Rows with a value beyond a column's training range by more than `margin` of the range, a
    summary per column, and the columns left to data_drift."""
    cur = inp.current
    any_far = np.zeros(len(cur), dtype=bool)
    per_col: list[dict] = []
    # a column whose whole distribution moved (critical PSI) is drift, reported by data_drift:
    # out-of-distribution is about a minority of rows far outside an otherwise familiar batch
    moved = {c for c, f in inp.report.features.items() if f.drifted and f.severity == "critical"}
    for col in inp.common:
        rp = inp.ref.columns[col]
        if col in moved or not isinstance(rp, NumericProfile) or rp.min is None or rp.max is None:
            continue
        x = (
            pd.to_numeric(cur[col], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            if not is_numeric_dtype(cur[col])
            else cur[col].to_numpy(np.float64, na_value=np.nan)
        )
        span = rp.max - rp.min
        m = margin * (span if span > 0 else max(abs(rp.max), 1.0))
        lo, hi = rp.min - m, rp.max + m
        far = (x < lo) | (x > hi)  # NaN compares False; +/-inf counts as far
        k = int(far.sum())
        if k:
            any_far |= far
            xf = x[far]
            per_col.append(
                {
                    "column": col,
                    "rows": k,
                    "share": round(k / len(cur), 5),
                    "train_range": [rp.min, rp.max],
                    "allowed": [lo, hi],
                    "batch_range_outside": [float(np.min(xf)), float(np.max(xf))],
                }
            )
    return any_far, per_col, moved


def _examples(cur: pd.DataFrame, any_far: np.ndarray, cols: list[str]) -> list[dict]:
    examples = []
    for r in np.flatnonzero(any_far)[:5]:
        ex: dict[str, Any] = {"row": int(r)}
        for c in cols[:4]:
            v = cur[c].iloc[r]
            ex[c] = v.item() if isinstance(v, np.generic) else v
        examples.append(ex)
    return examples


def _where(d: dict) -> str:
    if d["batch_range_outside"][1] > d["train_range"][1]:
        return f"{d['column']} (up to {d['batch_range_outside'][1]:.4g} vs training max {d['train_range'][1]:.4g})"
    return (
        f"{d['column']} (down to {d['batch_range_outside'][0]:.4g} vs training min {d['train_range'][0]:.4g})"
    )


def ood_findings(inp: ProductionInputs, p: Params) -> list[Finding]:
    """The out-of-distribution finding of a batch (empty when too few rows lie far outside)."""
    cur = inp.current
    margin = float(p.margin)
    min_rows = int(p.min_rows)
    any_far, per_col, moved = _far_rows(inp, margin)
    n_far = int(any_far.sum())
    share = n_far / max(len(cur), 1)
    if n_far < min_rows or share < float(p.min_share):
        return []
    per_col.sort(key=lambda d: -d["rows"])
    flagged = [d for d in per_col if d["rows"] >= max(min_rows, 0.1 * n_far)] or per_col[:1]
    cols = [d["column"] for d in flagged]
    sev = CRITICAL if share >= float(p.critical_share) else WARNING
    title = f"{share:.1%} of production rows ({n_far:,}) lie far outside the training range, in " + ", ".join(
        _where(d) for d in flagged[:3]
    )
    return [
        Finding(
            "production.out_of_distribution",
            sev,
            title,
            columns=cols,
            evidence={
                "share": round(share, 5),
                "rows": n_far,
                "by_column": per_col,
                "examples": _examples(cur, any_far, cols),
                "rule": f"a value is far outside when beyond the training [min, max] by more "
                f"than {margin:.0%} of the range",
                "left_to_data_drift": sorted(moved),
            },
            root_cause="rows the model has never seen anything like: it extrapolates there "
            "(trees flatten, linear models explode). Often an entry or unit error "
            "upstream for a few rows, or a genuinely new segment.",
            fix=(
                "Route these rows to a fallback (reject, flag for review, or a conservative "
                "default) and validate ranges at ingestion. If they are errors, fix the "
                "producer (a pipeline bug: do not retrain on them); if they are a real new "
                "segment, collect labels and retrain with it."
            ),
            impact=min(share * 5, 1.0),
        )
    ]


@check(
    "production.out_of_distribution",
    requires=("current",),
    margin=Param(
        0.1,
        Interval(float, 0, None),
        "how far beyond the training [min, max] a value must lie, as a share of the range",
    ),
    min_share=Param(
        0.005, Interval(float, 0, 1), "share of batch rows far outside from which they are reported"
    ),
    min_rows=Param(5, Interval(int, 1, None), "fewest rows far outside that are reported"),
    critical_share=Param(
        0.05, Interval(float, 0, 1), "share of batch rows far outside from which the finding is critical"
    ),
)
def out_of_distribution(ctx: Context, p: Params) -> Findings:
    """Production rows far outside the training range, by column and overall.

    What it detects
        Numeric model inputs beyond the training [min, max] by more than margin (10%) of the
        range; the share of batch rows with at least one such value (flagged from min_share,
        0.5%, and min_rows, 5; critical from critical_share, 5%), the columns responsible and
        example rows. Columns whose whole distribution moved (critical drift) are left to
        production.data_drift: this check is about a few rows far outside a familiar batch.
    Why it matters
        The model extrapolates on such rows: tree models flatten to their last leaf, linear
        models grow without bound; either way nothing validated these predictions.
    How to confirm
        Filter the batch on the listed columns beyond the training range and look at the rows
        (often an entry or unit error for a few rows).
    Fix
        Guard the model: reject or flag out-of-range rows, or fall back to a default; fix the
        producer if they are errors (a pipeline bug: do not retrain on them), retrain with the new
        segment if it is real.
    """
    return ood_findings(ctx.production(), p)
