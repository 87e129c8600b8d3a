"""`mltriage compare --segment`: whether a segment of the current rows fails more than the rest,
and which features push its wrong predictions toward the error (attribution.segment_drivers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ...findings import INFO, WARNING, Finding
from ...model import ModelAdapter
from ...positive import positive_index
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.attribution_shift import boot_means, resample_counts
from ...stats.metrics import two_proportion_p
from .compare_state import compare_state, segment_mask

if TYPE_CHECKING:
    from ...context import Context


def _outputs(ctx: Context, adapter: ModelAdapter, df: pd.DataFrame) -> np.ndarray:
    """Per row: 1.0 when the model is wrong (classification) or the absolute error (regression)."""
    c = ctx.case
    X = df[adapter.feature_names or c.features]
    y = df[c.target].to_numpy()
    if c.task in ("binary", "multiclass") and adapter.has_proba:
        proba = adapter.predict_proba(X)
        assert proba is not None
        classes = list(adapter.classes or c.classes or [])
        if c.task == "binary":
            pos = positive_index(classes, c.positive)
            label = np.where(proba[:, pos] >= ctx.threshold, classes[pos], classes[1 - pos])
        else:
            label = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
        return (pd.Series(label).astype(str).to_numpy() != pd.Series(y).astype(str).to_numpy()).astype(float)
    if c.task in ("binary", "multiclass"):
        label = adapter.predict_raw(X)
        return (pd.Series(label).astype(str).to_numpy() != pd.Series(y).astype(str).to_numpy()).astype(float)
    pred = np.asarray(adapter.predict_raw(X), dtype=float)
    return np.abs(pred - y.astype(float))


def _push(
    ctx: Context, signed: np.ndarray | None, absval: np.ndarray, df: pd.DataFrame, adapter: ModelAdapter
) -> np.ndarray:
    """How much each feature pushed each row's output toward its error (|SHAP| without a sign)."""
    c = ctx.case
    if signed is None:
        return absval
    y = df[c.target].to_numpy()
    if c.task == "binary":
        toward = np.where(pd.Series(y).astype(str).to_numpy() == str(c.positive), -1.0, 1.0)
    else:
        pred = np.asarray(adapter.predict_raw(df[adapter.feature_names or c.features]), dtype=float)
        toward = np.sign(pred - y.astype(float))
    return signed * toward[:, None]


def _failing(ctx: Context, err: np.ndarray, seg: np.ndarray) -> dict[str, Any]:
    """The segment's error against the rest's, with a one-sided p-value."""
    if ctx.task in ("binary", "multiclass"):
        k1, n1, k2, n2 = int(err[seg].sum()), int(seg.sum()), int(err[~seg].sum()), int((~seg).sum())
        pval = two_proportion_p(k1, n1, k2, n2, "greater")
        return {
            "measure": "error rate",
            "segment": k1 / max(n1, 1),
            "rest": k2 / max(n2, 1),
            "p_value": pval,
            "rows": n1,
        }
    pval = float(sps.mannwhitneyu(err[seg], err[~seg], alternative="greater").pvalue)
    return {
        "measure": "mean absolute error",
        "segment": float(err[seg].mean()),
        "rest": float(err[~seg].mean()),
        "p_value": pval,
        "rows": int(seg.sum()),
    }


def _drivers(
    push: np.ndarray, err: np.ndarray, seg: np.ndarray, w: np.ndarray, cols: list[str], n_boot: int, seed: int
) -> list[dict[str, Any]]:
    """Per feature: mean push toward the error over the segment's wrong rows minus over the rest's
    (all rows of a side when it has under 20 wrong ones), with a bootstrap interval."""
    bad = err > (0.5 if set(np.unique(err)) <= {0.0, 1.0} else np.median(err))
    a = seg & bad if (seg & bad).sum() >= 20 else seg
    b = ~seg & bad if (~seg & bad).sum() >= 20 else ~seg
    rng = np.random.default_rng(seed)
    ma = boot_means(push[a], w[a], resample_counts(int(a.sum()), n_boot, rng))
    mb = boot_means(push[b], w[b], resample_counts(int(b.sum()), n_boot, rng))
    d = ma - mb
    pa, pb = np.average(push[a], axis=0, weights=w[a]), np.average(push[b], axis=0, weights=w[b])
    scale = float(np.abs(push[a]).mean(axis=0).sum()) or 1.0
    rows = [
        {
            "feature": f,
            "push_segment": float(pa[j]),
            "push_rest": float(pb[j]),
            "difference": float(pa[j] - pb[j]),
            "low": float(np.quantile(d[:, j], 0.025)),
            "high": float(np.quantile(d[:, j], 0.975)),
            "share": float((pa[j] - pb[j]) / scale),
        }
        for j, f in enumerate(cols)
    ]
    return sorted(rows, key=lambda r: -r["difference"])


@check(
    "attribution.segment_drivers",
    tasks=("binary", "multiclass", "regression"),
    requires=("current", "segment"),
    alpha=Param(
        0.05, Interval(float, 0, 1, closed="neither"), "one-sided significance of the segment's higher error"
    ),
    min_share=Param(
        0.02,
        Interval(float, 0, 1),
        "a driver's extra push toward the error, as a share of the segment errors' total |SHAP|",
    ),
    min_rows=Param(30, Interval(int, 1, None), "segment rows the SHAP sample needs"),
)
def segment_drivers(ctx: Context, p: Params) -> Findings:
    """The features whose attributions set a failing segment apart from the rest.

    What it detects
        For the segment given with --segment (a pandas query on the current rows): whether its
        error is higher than the rest's (error rate, or absolute error for regression; one-sided
        test at alpha, needs --target), and which features push its wrong predictions toward the
        error more than they push the rest's (mean SHAP toward the wrong side over the segment's
        errors minus over the rest's, with a bootstrap interval above 0). Without a target, the
        segment's attributions against the rest's are listed as info.
    Why it matters
        Knowing that a segment fails is not a fix; knowing that, for it, a feature drives the
        model the wrong way points at the cause: a feature that means something else there, a
        missing interaction, a value range training barely covered.
    How to confirm
        Look at the driver's values inside the segment and its dependence curve; refit with the
        feature's interaction with the segment, or with more segment rows, and compare the error.
    Fix
        Add the missing signal or interaction for the segment, collect more training rows like it,
        or route it to a model or rule of its own.
    """
    c = ctx.case
    st = compare_state(ctx)
    assert c.current is not None and c.model is not None
    seg_full = segment_mask(ctx)
    seg = seg_full[st.cur.rows]
    if seg.sum() < p.min_rows:
        raise NotApplicable(f"only {int(seg.sum())} segment rows in the SHAP sample (need {p.min_rows})")
    att = st.cur.attribution
    adapter = c.model_b or c.model
    if not c.target or not c.has_current_labels:
        return _contrast_only(st, seg, att.abs)
    err_full = ctx.cached("compare:errors", lambda: _outputs(ctx, adapter, c.current))
    fail = _failing(ctx, err_full, seg_full)
    rows_df = c.current.iloc[st.cur.rows]
    push = _push(ctx, att.signed, att.abs, rows_df, adapter)
    drivers = _drivers(
        push, err_full[st.cur.rows], seg, st.cur.weights, att.columns, st.params.n_boot, ctx.config.seed
    )
    top = [r for r in drivers if r["low"] > 0 and r["share"] >= p.min_share][:5]
    failing = fail["p_value"] < p.alpha and fail["segment"] > fail["rest"]
    sev = WARNING if failing and top else INFO
    what = f"{fail['measure']} {fail['segment']:.3g} vs {fail['rest']:.3g} in the rest (p = {fail['p_value']:.2g})"
    names = ", ".join(f"{r['feature']} (+{r['share']:.0%})" for r in top)
    if not failing:
        title = f"segment {c.segment!r} does not fail more than the rest: {what}"
    elif top:
        title = f"segment {c.segment!r}: {what}; its errors are driven by {names}"
    else:
        title = f"segment {c.segment!r}: {what}; no feature pushes its errors more than the rest's"
    return Finding(
        "attribution.segment_drivers",
        sev,
        title,
        columns=[r["feature"] for r in top],
        evidence={
            "segment": c.segment,
            "error": fail,
            "drivers": drivers[:10],
            "rows_explained": int(seg.sum()),
        },
        root_cause="inside the segment these features push the model toward the wrong answer more "
        "than elsewhere: they mean something else there, or an interaction is missing",
        fix="look at the drivers' values and dependence curves inside the segment; add the missing "
        "interaction or signal, collect more rows like it, or give it a model or rule of its own",
        impact=float(fail["segment"] - fail["rest"]) if failing else 0.0,
        primary_table="drivers",
        show=failing,
    )


def _contrast_only(st: Any, seg: np.ndarray, absval: np.ndarray) -> Finding:
    w = st.cur.weights
    a = np.average(absval[seg], axis=0, weights=w[seg])
    b = np.average(absval[~seg], axis=0, weights=w[~seg])
    sa, sb = a / max(a.sum(), 1e-12), b / max(b.sum(), 1e-12)
    cols = st.cur.attribution.columns
    rows = sorted(
        (
            {
                "feature": f,
                "share_segment": float(sa[j]),
                "share_rest": float(sb[j]),
                "difference": float(sa[j] - sb[j]),
            }
            for j, f in enumerate(cols)
        ),
        key=lambda r: -abs(r["difference"]),
    )
    names = ", ".join(f"{r['feature']} ({r['share_rest']:.0%} -> {r['share_segment']:.0%})" for r in rows[:3])
    return Finding(
        "attribution.segment_drivers",
        INFO,
        f"the segment's attributions differ most from the rest's on {names} (no --target: whether it fails is unknown)",
        columns=[r["feature"] for r in rows[:3]],
        evidence={"contrast": rows[:10], "rows_explained": int(seg.sum())},
        fix="rerun with --target to see whether the segment fails and which features drive its errors",
        primary_table="contrast",
    )
