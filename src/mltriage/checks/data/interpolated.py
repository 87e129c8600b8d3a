"""Evaluation rows that are interpolations of training rows (SMOTE-like oversampling before the
split), for `data.train_test_overlap`: near copies that exact-row matching cannot see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, WARNING, Finding
from ...registry import Params
from ...stats.interpolation import label_blind_test, segment_hits, value_grid
from ...stats.metrics import wilson

if TYPE_CHECKING:
    from ...context import Context

MAX_TEST, MAX_TRAIN = 5_000, 50_000


def _numeric(ctx: Context) -> list[str]:
    c = ctx.case
    tr, te = ctx.frame("train"), ctx.frame("test")
    cats = set(c.categorical)
    return [
        f
        for f in c.features
        if f not in cats
        and f in te.columns
        and pd.api.types.is_numeric_dtype(tr[f])
        and not pd.api.types.is_bool_dtype(tr[f])
        and pd.api.types.is_numeric_dtype(te[f])
    ]


def applies(ctx: Context) -> bool:
    """Classification with at least two numeric features (an interpolating sampler draws within a
    class; the label-blind chance rate needs labels)."""
    return ctx.case.task in ("binary", "multiclass") and len(_numeric(ctx)) >= 2


def interpolation_finding(ctx: Context, p: Params, tests: int) -> Finding | None:
    """A warning (critical when the share reaches `critical_share` or the model scores better on
    those rows) when evaluation rows lying exactly on a segment between two training rows of their
    own class exceed what the label-blind chance rate gives: excess share of at least
    `warn_share`, at least `min_count` rows, binomial test below `alpha` / `tests`."""
    from .rows import seen_vs_unseen

    num = _numeric(ctx)
    tr, te = ctx.frame("train"), ctx.frame("test")
    i_tr = ctx.sample_index("train", MAX_TRAIN, ctx.config.seed)
    i_te = ctx.sample_index("test", MAX_TEST, ctx.config.seed)
    a = tr[num].to_numpy(dtype=float)[i_tr]
    b = te[num].to_numpy(dtype=float)[i_te]
    ya = np.asarray(ctx.y("train"))[i_tr].astype(str)
    yb = np.asarray(ctx.y("test"))[i_te].astype(str)
    ka, kb = np.isfinite(a).all(axis=1), np.isfinite(b).all(axis=1)
    if ka.sum() < 10 or kb.sum() < p.min_count:
        return None
    grid = value_grid(np.vstack([a, b]))
    h = segment_hits(a[ka], ya[ka], b[kb], yb[kb], grid=grid)
    pval, expected = label_blind_test(h)
    n, k = int(kb.sum()), int(h.same.sum())
    excess = max(0.0, (k - expected) / n)
    if not (k - expected >= p.min_count and excess >= p.warn_share and pval < p.alpha / max(tests, 1)):
        return None
    lo, hi = wilson(k, n)
    ev: dict[str, Any] = {
        "numeric_columns": num,
        "evaluation_rows_checked": n,
        "rows_on_a_same_class_segment": k,
        "share": k / n,
        "share_ci": [lo, hi],
        "rows_on_another_class_segment": int(h.other.sum()),
        "recording_steps": {c: (None if not np.isfinite(g) else float(g)) for c, g in zip(num, grid)},
        "same_class_rows_expected_by_chance": expected,
        "excess_share": excess,
        "p_value_label_blind": pval,
        "tests_corrected_for": tests,
    }
    seen = np.zeros(len(te), bool)
    seen[i_te[np.flatnonzero(kb)[h.same]]] = True
    ev.update(seen_vs_unseen(ctx, seen))
    inflated = (
        ev.get("p_value_seen_better", 1.0) < p.alpha / max(tests, 1)
        and ev.get("score_gain_on_seen", 0.0) >= p.min_gain
    )
    sev = CRITICAL if inflated or excess >= p.critical_share else WARNING
    return Finding(
        "data.train_test_overlap",
        sev,
        f"{k:,} of {n:,} evaluation rows ({k / n:.1%}) lie exactly on the segment between two "
        f"training rows of their own class, {expected:.1f} expected from the rows that line up with "
        f"other classes' rows (p = {pval:.1g}): synthetic rows interpolated from training rows "
        "(SMOTE-like oversampling before the split)",
        evidence=ev,
        impact=min(1.0, excess),
        root_cause="the data were oversampled by interpolation (SMOTE, ADASYN) before the train/test "
        "split: synthetic evaluation rows are blends of training rows",
        fix="split first, oversample the training rows only (imblearn Pipeline), and evaluate on the "
        "original rows",
    )
