"""`mltriage compare`: what an attribution shift says about the data. A real population change
(attribution.population_shift), a preprocessing bug (attribution.preprocessing_bug); the evidence
every attribution finding about a feature carries (`feature_evidence`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...findings import CRITICAL, WARNING, Finding
from ...registry import Findings, Interval, Param, Params, check
from ...stats.attribution.shap_slices import split_pipeline
from ...stats.drift import DriftConfig, drift_frames
from ...stats.explain import transformed_inputs
from ...stats.profile import NumericProfile
from ...stats.skew import SkewResult, infer_skew, skew_config
from .compare_state import SHARED, CompareState, compare_state, sample_rows

if TYPE_CHECKING:
    from ...context import Context

PSI_MIN = Param(
    0.1,
    Interval(float, 0, None, closed="neither"),
    "PSI from which a feature's distribution counts as moved (0.1: production.data_drift's warning level)",
)
MIN_SHARE = Param(
    0.02,
    Interval(float, 0, 1),
    "share of the total mean |SHAP| a feature needs on either side to be judged (2%: below it a feature barely moves the output)",
)


def share_text(r: dict[str, Any]) -> str:
    return (
        f"share of attribution {r['share_ref']:.1%} -> {r['share_cur']:.1%} "
        f"(shift {r['share_shift']:+.1%}, 95% CI {r['share_shift_low']:+.1%} to {r['share_shift_high']:+.1%})"
    )


def feature_evidence(st: CompareState, f: str) -> dict[str, Any]:
    r = st.row(f)
    cv = st.curves.get(f) or {}
    fd = st.drift.features.get(f)
    return {
        "attribution": {k: v for k, v in r.items() if k != "feature"},
        "dependence_curve": {
            "shift": cv.get("shift"),
            "coverage": cv.get("coverage"),
            "comparable": cv.get("comparable"),
        },
        "curve": cv.get("bins", []),
        "drift": fd.to_dict() if fd is not None else None,
        "rows_explained": {"reference": len(st.ref.rows), "current": len(st.cur.rows)},
    }


# ------------------------------------------------------------------------------ preprocessing view


@dataclass
class Preprocessed:
    """Per input column: a transformation of its raw values that explains their shift (`raw`), or
    the drift of the model's preprocessed columns that come from it (`transformed`)."""

    raw: dict[str, SkewResult] = field(default_factory=dict)
    transformed: dict[str, dict[str, Any]] = field(default_factory=dict)


def preprocessing_view(ctx: Context, p: Params) -> Preprocessed:
    """The raw columns' inferred transformations and the preprocessed columns' drift, cached."""
    return ctx.cached("compare:preprocessed", lambda: _preprocessed(ctx, p))


def _preprocessed(ctx: Context, p: Params) -> Preprocessed:
    st = compare_state(ctx)
    c = ctx.case
    assert c.current is not None and c.model is not None
    cfg = skew_config(DriftConfig(seed=ctx.config.seed), p)
    out = Preprocessed()
    cur = sample_rows(c.current, st.params.drift_rows, ctx.config.seed + 1)
    for f, fd in st.drift.features.items():
        prof = st.ref_profile.columns.get(f)
        if isinstance(prof, NumericProfile) and fd.tested and fd.psi >= p.skew_min_psi:
            res = infer_skew(prof, cur[f], cfg)
            if res is not None:
                out.raw[f] = res
    model_a = c.model.estimator
    model_b = c.model_b.estimator if c.model_b is not None else model_a
    if split_pipeline(model_a)[0] is None and split_pipeline(model_b)[0] is None:
        return out
    ref = sample_rows(c.train, st.params.drift_rows, ctx.config.seed)
    ta, owner = transformed_inputs(model_a, ref, c.features)
    features_b = (c.model_b.feature_names or c.features) if c.model_b is not None else c.features
    tb, _ = transformed_inputs(model_b, cur, features_b)
    common = [col for col in ta.columns if col in tb.columns]
    report, prof_t, _ = drift_frames(ta[common], tb[common], cfg, columns=common)
    for col, o in zip(ta.columns, owner):
        td = report.features.get(col)
        if o is None or td is None or not td.tested:
            continue
        best = out.transformed.get(o)
        if best is None or td.psi > best["psi"]:
            pt = prof_t.columns.get(col)
            inferred = infer_skew(pt, tb[col], cfg) if isinstance(pt, NumericProfile) else None
            distinct = int(min(ta[col].nunique(), 1_000))
            out.transformed[o] = {
                "column": col,
                "psi": td.psi,
                "drift": td.to_dict(),
                "inferred": inferred,
                "distinct": distinct,
            }
    return out


# ------------------------------------------------------------------------------ checks


@check(
    "attribution.population_shift",
    requires=("current",),
    psi_min=PSI_MIN,
    curve_tol=Param(
        0.25,
        Interval(float, 0, None, closed="neither"),
        "largest move of the dependence curve, over the feature's mean |SHAP|, that counts as unchanged (0.25: a quarter of its typical effect; refits of the same model move it about 0.05)",
    ),
    min_share=MIN_SHARE,
    **SHARED,
)
def population_shift(ctx: Context, p: Params) -> Findings:
    """A feature's distribution moved while its effect on the prediction did not.

    What it detects
        An input column whose distribution moved between the reference and the current rows (PSI
        >= psi_min, significant) while its dependence curve (mean SHAP per bin of its value, on
        the reference's bins) stayed where it was (moved by at most curve_tol of its mean |SHAP|)
        and no simple transformation (a unit, a scaling, a fill value) explains the move: the
        model treats each value as before, there are just more rows at other values. Its share of
        the attribution changes for that reason alone.
    Why it matters
        This is a real change in the population, not a bug: the model's logic is intact, but it now
        works where it saw fewer training rows, so its error there is less known, and the overall
        metric moves with the mix.
    How to confirm
        Compare the feature's histograms (the drift evidence) and the curve table: the mean SHAP per
        bin agrees on both sides; the rows moved between bins.
    Fix
        Check the model's error on the new mix (label a sample of current rows); retrain on recent
        data that includes it if the error grew; keep monitoring the feature.
    """
    st = compare_state(ctx)
    pre = preprocessing_view(ctx, ctx.config.params("attribution.preprocessing_bug"))
    out = []
    for r in st.table:
        f = r["feature"]
        fd = st.drift.features.get(f)
        cv = st.curves.get(f)
        if max(r["share_ref"], r["share_cur"]) < p.min_share or fd is None or cv is None:
            continue
        if not (fd.tested and fd.drifted and fd.psi >= p.psi_min) or f in pre.raw:
            continue
        if not cv["comparable"] or not cv["shift"] <= p.curve_tol:
            continue
        out.append(
            Finding(
                "attribution.population_shift",
                WARNING,
                f"{f}: its distribution moved (PSI {fd.psi:.2f}) but its dependence curve did not "
                f"(moved {cv['shift']:.0%} of its mean |SHAP|): a real population change; {share_text(r)}",
                columns=[f],
                evidence=feature_evidence(st, f),
                root_cause=f"the population changed on {f}: the model reads each value as before, "
                "and the rows sit at other values now",
                fix="label a sample of current rows and measure the error on the new mix; retrain on "
                "recent data if it grew; monitor the feature",
                impact=float(max(r["share_ref"], r["share_cur"])),
                primary_table="curve",
            )
        )
    return out


def _raw_skew_finding(st: CompareState, f: str, res: SkewResult, critical: bool) -> Finding:
    return Finding(
        "attribution.preprocessing_bug",
        CRITICAL if critical else WARNING,
        f"{f}: {res.description}; undoing it ({res.transform['undo']}) restores the reference "
        f"distribution (PSI {res.psi_before:.2f} -> {res.psi_after:.3f}); {share_text(st.row(f))}",
        columns=[f],
        evidence={**feature_evidence(st, f), "inferred": res.to_dict()},
        root_cause=f"the values of {f} went through another transformation before the model "
        "(a unit, a scaling step applied twice or not at all, another fill value): the quantity "
        "did not change, its encoding did",
        fix=f"{res.fix}. A pipeline bug: fix the step, do not retrain on these values",
        impact=1.0,
    )


def _transformed_finding(
    st: CompareState, f: str, t: dict[str, Any], raw_psi: float, critical: bool
) -> Finding:
    inferred: SkewResult | None = t["inferred"]
    if inferred is not None:
        what = f"the preprocessed column {t['column']}: {inferred.description}"
    elif t["distinct"] <= 20:
        what = f"the encoded column {t['column']} takes other values for the same categories (the encoding changed)"
    else:
        what = f"the preprocessed column {t['column']} moved (PSI {t['psi']:.2f})"
    return Finding(
        "attribution.preprocessing_bug",
        CRITICAL if critical else WARNING,
        f"{f}: the raw values kept their distribution (PSI {raw_psi:.3f}) but {what}; {share_text(st.row(f))}",
        columns=[f],
        evidence={
            **feature_evidence(st, f),
            "transformed": {k: (v.to_dict() if isinstance(v, SkewResult) else v) for k, v in t.items()},
        },
        root_cause="the preprocessing of the current model version differs from the reference's "
        "(a scaler or encoder fitted on other data, a changed step): the same inputs reach the "
        "estimator as other numbers",
        fix="use one fitted preprocessing artifact for both versions (or refit the whole pipeline "
        "together); compare the two pipelines' transform() on the same rows to find the step",
        impact=1.0,
    )


@check(
    "attribution.preprocessing_bug",
    requires=("current",),
    psi_min=Param(
        0.25,
        Interval(float, 0, None, closed="neither"),
        "PSI from which a preprocessed column counts as moved (0.25: the 'significant shift' level)",
    ),
    raw_max_psi=Param(
        0.1,
        Interval(float, 0, None, closed="neither"),
        "PSI under which the raw column counts as unchanged (0.1: under the drift warning level)",
    ),
    skew_min_psi=Param(
        0.25,
        Interval(float, 0, None, closed="neither"),
        "PSI from which a raw column's move is examined for a simple transformation (pipeline.train_serving_skew's default)",
    ),
    skew_max_psi_after=Param(
        0.05,
        Interval(float, 0, None, closed="neither"),
        "PSI the column must fall under once the transformation is undone (0.05: indistinguishable)",
    ),
    min_share=MIN_SHARE,
)
def preprocessing_bug(ctx: Context, p: Params) -> Findings:
    """A feature's values reach the model transformed differently: scaling or encoding changed.

    What it detects
        Two forms of one bug. (1) A raw input column whose current values match the reference
        once a simple transformation is undone (a unit change by a power of ten, values already
        standardised or min-max scaled, another fill value; inferred as in
        pipeline.train_serving_skew): the quantity is the same, its encoding upstream changed.
        (2) A raw column that kept its distribution (PSI < raw_max_psi) while the model's
        preprocessed column from it moved (PSI >= psi_min) between the reference model and the
        current one (`--model-b`): a scaler or encoder inside the pipeline changed.
    Why it matters
        The estimator receives other numbers for the same facts: its attributions and predictions
        move for no reason in the world. Retraining on the transformed values would bake the bug in.
    How to confirm
        Undo the inferred transformation (the `undo` in the evidence) and compare again; run both
        pipelines' transform() on the same rows and diff the columns.
    Fix
        Fix the step named in the finding; keep one preprocessing artifact for training and
        serving and for both model versions. Do not retrain on broken inputs.
    """
    st = compare_state(ctx)
    out = []
    for f, raw, t, raw_psi in preprocessing_hits(ctx, p):
        r = st.row(f)
        critical = max(r["share_ref"], r["share_cur"]) >= p.min_share
        if raw is not None:
            out.append(_raw_skew_finding(st, f, raw, critical))
        elif t is not None:
            out.append(_transformed_finding(st, f, t, raw_psi, critical))
    return out


def preprocessing_hits(
    ctx: Context, p: Params
) -> list[tuple[str, SkewResult | None, dict[str, Any] | None, float]]:
    """(feature, the raw transformation inferred or None, the moved preprocessed column or None,
    the raw PSI) for every feature attribution.preprocessing_bug reports."""
    st = compare_state(ctx)
    pre = preprocessing_view(ctx, p)
    out: list[tuple[str, SkewResult | None, dict[str, Any] | None, float]] = []
    for r in st.table:
        f = r["feature"]
        fd = st.drift.features.get(f)
        raw_psi = fd.psi if fd is not None and fd.tested else float("nan")
        if f in pre.raw:
            out.append((f, pre.raw[f], None, raw_psi))
        elif f in pre.transformed and raw_psi < p.raw_max_psi and pre.transformed[f]["psi"] >= p.psi_min:
            out.append((f, None, pre.transformed[f], raw_psi))
    return out
