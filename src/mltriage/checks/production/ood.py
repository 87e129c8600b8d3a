"""production.out_of_distribution: batch rows far outside the training range of a numeric input."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, WARNING, Finding
from ...registry import Findings, Interval, Param, Params, check
from ...stats.bins import is_numeric_dtype
from ...stats.ood import BULK_ROWS, ColumnTail, Handful, binom_sf, column_tail, handful_test
from ...stats.production import ProductionInputs
from ...stats.profile import NumericProfile

if TYPE_CHECKING:
    from ...context import Context


def _tails(
    inp: ProductionInputs, p: Params, skews: Collection[str], frame: pd.DataFrame | None = None
) -> list[ColumnTail]:
    """Per numeric model input (not one a serving transformation explains): its far rows, its rows
    of impossible magnitude, whether its bulk moved (stats/ood.py); of the batch, or of `frame`."""
    cur = inp.current if frame is None else frame
    cols = [
        c
        for c in inp.common
        if c not in skews and c in cur.columns and isinstance(inp.ref.columns[c], NumericProfile)
    ]
    alpha_value = float(p.alpha) / max(len(cur) * len(cols), 1)  # Bonferroni over every value tested
    out = []
    for col in cols:
        rp = inp.ref.columns[col]
        assert isinstance(rp, NumericProfile)
        x = (
            pd.to_numeric(cur[col], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            if not is_numeric_dtype(cur[col])
            else cur[col].to_numpy(np.float64, na_value=np.nan)
        )
        ct = column_tail(
            rp,
            x,
            float(p.margin),
            alpha_value,
            inp.report.config.psi_warning,
            natural_psi=inp.natural_psi.get(col, 0.0),
        )
        if ct is not None:
            out.append(ct)
    return out


def _by_column(tails: list[ColumnTail], rows: np.ndarray, n: int) -> list[dict]:
    per_col = []
    for t in tails:
        k = int((t.far & rows).sum())
        if k:
            per_col.append({"column": t.column, "rows": k, "share": round(k / max(n, 1), 5), **t.summary})
    return sorted(per_col, key=lambda d: -d["rows"])


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


def _handful(
    inp: ProductionInputs,
    p: Params,
    skews: Collection[str],
    tails: list[ColumnTail],
    evaluation: pd.DataFrame | None,
) -> tuple[Handful | None, float | None, bool]:
    """The handful test on the batch, the same test on the evaluation set (a sample nothing was done
    to: the negative control), and whether the batch's test fires: not when the control fails too
    (the reference's tails or the rows' independence do not hold on these data: a grouped split's
    entities share their extremes over their rows; HOLDOUT5 rail's evaluation respondents, 10 rows
    at fares 1.2-1.6 times training's maximum, fail it at 7e-31)."""
    handful = handful_test(tails, len(inp.current), int(p.handful))
    if handful is None or handful.p_value >= float(p.alpha):
        return handful, None, False
    if evaluation is None or not len(evaluation):
        return handful, None, True
    names = {t.column for t in tails}
    control = handful_test(
        [t for t in _tails(inp, p, skews, evaluation) if t.column in names], len(evaluation), int(p.handful)
    )
    control_p = 1.0 if control is None else control.p_value  # None: fewer than two rows far out
    return handful, control_p, control_p >= float(p.alpha)


def ood_findings(
    inp: ProductionInputs, p: Params, skews: Collection[str] = (), evaluation: pd.DataFrame | None = None
) -> list[Finding]:
    """The out-of-distribution finding of a batch (empty when no tail excess, no impossible row and
    no handful too extreme together). `evaluation`: the evaluation rows (the handful test's control)."""
    cur = inp.current
    n = len(cur)
    tails = _tails(inp, p, skews)
    tail_cols = [t for t in tails if not t.bulk_moved]
    tail_rows = np.zeros(n, dtype=bool)
    for t in tail_cols:
        tail_rows |= t.far
    k_tail = int(tail_rows.sum())
    p0 = min(sum(t.summary["expected_share_far"] for t in tail_cols), 1.0)
    p_tail = binom_sf(k_tail, n, p0)
    tail_alarm = (
        k_tail >= int(p.min_rows) and k_tail / max(n, 1) >= float(p.min_share) and p_tail < float(p.alpha)
    )
    impossible = np.zeros(n, dtype=bool)
    for t in tails:
        if int(t.impossible.sum()) <= 0.5 * n or n < BULK_ROWS:
            impossible |= t.impossible
    handful, control, handful_alarm = _handful(inp, p, skews, tail_cols, evaluation)
    flagged = (tail_rows if tail_alarm else np.zeros(n, dtype=bool)) | impossible
    if handful is not None and handful_alarm:
        flagged |= handful.rows
    n_far = int(flagged.sum())
    if not n_far:
        return []
    share = n_far / max(n, 1)
    per_col = _by_column(tails, flagged, n)
    named = [d for d in per_col if d["rows"] >= max(1, 0.1 * n_far)] or per_col[:1]
    cols = [d["column"] for d in named]
    sev = CRITICAL if share >= float(p.critical_share) else WARNING
    title = f"{share:.1%} of production rows ({n_far:,}) lie far outside the training range, in " + ", ".join(
        _where(d) for d in named[:3]
    )
    n_imp = int(impossible.sum())
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
                "examples": _examples(cur, flagged, cols),
                "tail_test": {
                    "rows_beyond_range": k_tail,
                    "share_beyond_range": round(k_tail / max(n, 1), 5),
                    "expected_share": p0,
                    "p_value": p_tail,
                    "rule": f"beyond the training [min, max] by more than {float(p.margin):.0%} of the range, "
                    "in columns whose bulk did not move; against the share the reference's "
                    "extrapolated tails expect there (one-sided binomial test)",
                },
                "handful_test": {
                    "rows": 0 if handful is None else handful.k,
                    "row_pvalues": [] if handful is None else handful.row_pvalues,
                    "p_value": 1.0 if handful is None else handful.p_value,
                    "fired": handful_alarm,
                    "evaluation_p_value": control,
                    "rule": f"the k most extreme rows (k = 2..{int(p.handful)}) beyond the training range, in "
                    "columns whose bulk did not move: a row's p-value is its smallest tail chance times the "
                    "columns tested (Bonferroni, valid under any dependence between columns); P(the k-th "
                    "smallest <= what it is) of n independent rows is a binomial tail; Bonferroni over k; "
                    "not when the evaluation set fails the same test (the null does not hold on these data)",
                },
                "impossible_rows": n_imp,
                "impossible_rule": "a value whose chance under the reference's extrapolated tail is "
                "below alpha over the number of values tested",
                "left_to_data_drift": sorted(t.column for t in tails if t.bulk_moved),
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
            impact=min(max(share * 5, 0.2 if n_imp or handful_alarm else 0.0), 1.0),
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
        0.005,
        Interval(float, 0, 1),
        "share of batch rows far outside from which a tail excess is reported (rows of impossible magnitude: any)",
    ),
    min_rows=Param(
        5,
        Interval(int, 1, None),
        "fewest rows far outside for a tail excess (rows of impossible magnitude: any)",
    ),
    alpha=Param(
        0.001,
        Interval(float, 0, 1, closed="neither"),
        "significance of the tail excess (binomial) and, over the number of values tested, of one impossible value",
    ),
    handful=Param(
        10,
        Interval(int, 2, None),
        "the most rows judged together by their magnitudes (the handful test; more are the tail excess's)",
    ),
    critical_share=Param(
        0.05, Interval(float, 0, 1), "share of batch rows far outside from which the finding is critical"
    ),
)
def out_of_distribution(ctx: Context, p: Params) -> Findings:
    """Production rows far outside the training range, by column and overall: tail, not bulk.

    What it detects
        Numeric model inputs beyond the training [min, max] by more than margin (10%) of the
        range, judged against the reference's own tails (extrapolated as exponential beyond its
        1st/99th percentiles, on the log(1 + x) scale for a non-negative column, with the heavier of the
        scales its 95->99th percentiles and its 99th percentile->maximum imply; see stats/ood.py).
        Three alarms: (1) a tail excess: the share of batch rows far outside, in columns whose bulk
        did not move, is above the share the reference's tails expect there (one-sided binomial
        test, p < alpha 0.001) and holds at least min_share (0.5%) and min_rows (5) rows: a
        minority far outside is out-of-distribution even when it makes the column's PSI large;
        (2) rows of impossible magnitude: a value whose chance under the extrapolated tail is
        below alpha over the number of values tested (Bonferroni): one such row is enough;
        (3) a handful of rows too extreme together: for k = 2..handful (10), the k most extreme
        rows' p-values (a row's smallest tail chance times the columns tested: Bonferroni, valid
        however the columns depend on each other) against what k of n independent reference rows
        give (binomial tail, Bonferroni over k, p < alpha), unless the evaluation set fails the
        same test (then the null does not hold on these data: a grouped split's entities share
        their extremes). A
        column whose bulk moved (its rows inside the training range drift, PSI over the larger of
        psi_warning and what sampling gives, plus the evaluation set's own PSI against training:
        sets of other entities, a grouped split's countries or families, sit apart by nature, so a
        batch whose bulk sits no further from training than the evaluation set does has not moved;
        or most rows far outside in a batch of BULK_ROWS (30) rows or more; below that each row is
        judged on its own) is left to production.data_drift, and a column a serving transformation explains to
        pipeline.train_serving_skew. Critical from critical_share (5%) of the rows.
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
    inp = ctx.production()
    try:
        skews = inp.skews(ctx.config.params("pipeline.train_serving_skew"))
    except Exception:
        skews = {}
    c = ctx.case
    evaluation = (
        ctx.frame("test") if c.has_evaluation and c.reference is None and not inp.current_is_profile else None
    )
    return ood_findings(inp, p, skews, evaluation)
