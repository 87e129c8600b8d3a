"""`mltriage compare`: a feature that became a near-perfect predictor of the target while its
attribution jumped (attribution.new_leakage); which features a data finding explains
(`explained_features`, read by attribution.training_artifact)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...findings import CRITICAL, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.encode import Encoder
from ...stats.leakage import single_feature_scores
from .attribution_data import feature_evidence, preprocessing_hits, share_text
from .compare_state import compare_state, sample_rows

if TYPE_CHECKING:
    from ...context import Context


def feature_power(ctx: Context) -> dict[str, dict[str, float]]:
    """Each input column's cross-validated single-feature score (AUC; R^2 for regression) on the
    current rows and, when they have the target, the reference rows (`stats.leakage`)."""

    def compute() -> dict[str, dict[str, float]]:
        c = ctx.case
        assert c.current is not None
        st = compare_state(ctx)
        enc = Encoder.fit(c.train, st.features, c.categorical)
        out: dict[str, dict[str, float]] = {}
        for side, df, s in (("cur", c.current, 1), ("ref", c.train, 0)):
            if c.target not in df.columns or df[c.target].isna().mean() > 0.5:
                continue
            rows = sample_rows(df[df[c.target].notna()], st.params.drift_rows, ctx.config.seed + s)
            scores = single_feature_scores(
                enc.transform(rows),
                st.features,
                enc.categorical_mask,
                rows[c.target].to_numpy(),
                ctx.task,
                classes=c.classes,
                positive=c.positive,
                seed=ctx.config.seed,
            )
            out[side] = {sc.column: float(sc.score) for sc in scores if np.isfinite(sc.score)}
        return out

    return ctx.cached("compare:power", compute)


@check(
    "attribution.new_leakage",
    tasks=("binary", "multiclass", "regression"),
    requires=("current", "target"),
    near_perfect=Param(
        0.95,
        Interval(float, 0.5, 1, closed="right"),
        "single-feature score (AUC; R^2 for regression) from which a feature alone nearly predicts the target (data.target_leakage's level)",
    ),
    min_jump=Param(
        0.10,
        Interval(float, 0, 1, closed="neither"),
        "rise of the feature's share of the attribution that counts as a jump (10 points: several times the bootstrap spread at 2,000 rows)",
    ),
)
def new_leakage(ctx: Context, p: Params) -> Findings:
    """A feature's attribution jumped while it became a near-perfect predictor of the target.

    What it detects
        An input column whose share of the attribution rose by at least min_jump (the bootstrap
        interval of the rise above 0) between the reference and the current side, and which alone
        predicts the current target almost perfectly (cross-validated single-feature AUC, or R^2,
        >= near_perfect) while it did not on the reference rows.
    Why it matters
        A feature that suddenly explains the target by itself usually carries the label: it is
        computed after the outcome, or joined from a table that holds it. The model (or its new
        version) leans on it, looks excellent offline and fails in production where the value
        arrives before the outcome.
    How to confirm
        Look at how the column is produced and when it becomes known; compare its single-feature
        score on both sides (the evidence); refit without it and compare the held-out metric.
    Fix
        Drop the column or rebuild it from information available at prediction time; retrain.
    """
    st = compare_state(ctx)
    out = []
    for f, s_cur, s_ref in leaky_features(ctx, p):
        r = st.row(f)
        ref_text = (
            f"{s_ref:.3f} on the reference" if s_ref is not None else "unknown on the reference (no target)"
        )
        out.append(
            Finding(
                "attribution.new_leakage",
                CRITICAL,
                f"{f}: its attribution jumped ({share_text(r)}) and alone it predicts the current "
                f"target almost perfectly (score {s_cur:.3f}; {ref_text})",
                columns=[f],
                evidence={
                    **feature_evidence(st, f),
                    "single_feature_score": {"current": s_cur, "reference": s_ref},
                },
                root_cause=f"{f} carries the target on the current side: computed after the outcome "
                "or joined from a table that holds it",
                fix=f"drop {f} or rebuild it from what is known at prediction time, then retrain",
                impact=1.0,
            )
        )
    return out


def leaky_features(ctx: Context, p: Params) -> list[tuple[str, float, float | None]]:
    """(feature, single-feature score on the current rows, on the reference rows) for every
    feature attribution.new_leakage reports."""
    st = compare_state(ctx)
    power = feature_power(ctx)
    cur, ref = power.get("cur", {}), power.get("ref")
    if not cur:
        raise NotApplicable("the current rows have no usable target")
    out = []
    for r in st.table:
        f = r["feature"]
        s_cur = cur.get(f)
        s_ref = ref.get(f) if ref is not None else None
        if s_cur is None or s_cur < p.near_perfect or (s_ref is not None and s_ref >= p.near_perfect):
            continue
        if r["share_shift"] >= p.min_jump and r["share_shift_low"] > 0:
            out.append((f, s_cur, s_ref))
    return out


def explained_features(ctx: Context) -> dict[str, str]:
    """Features whose attribution shift a data finding explains: feature -> its code."""
    out = {
        f: "attribution.preprocessing_bug"
        for f, *_ in preprocessing_hits(ctx, ctx.config.params("attribution.preprocessing_bug"))
    }
    if ctx.case.target and ctx.case.has_current_labels:
        try:
            leaks = leaky_features(ctx, ctx.config.params("attribution.new_leakage"))
        except NotApplicable:
            leaks = []
        out.update({f: "attribution.new_leakage" for f, *_ in leaks})
    return out
