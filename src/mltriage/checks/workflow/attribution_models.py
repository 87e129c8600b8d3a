"""`mltriage compare`: what an attribution shift says about the models. Two versions that attribute
differently beyond the spread across seeds (attribution.training_artifact); the features that
drive a failing segment's errors (attribution.segment_drivers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ...findings import INFO, WARNING, Finding
from ...model import ModelAdapter
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.attribution_shift import (
    boot_means,
    refit_with_seed,
    resample_counts,
    seeded,
    shift_table,
)
from ...stats.metrics import two_proportion_p
from .attribution_data import explained_features
from .compare_state import compare_state, make_explainer, sample_rows, segment_mask

if TYPE_CHECKING:
    from ...context import Context


# ------------------------------------------------------------------------------ seeds


def seed_shares(ctx: Context, p: Params) -> dict[str, Any]:
    """The first model refitted with `seeds` other seeds on the reference rows, each explained on the
    current sample: their attributions (and the first model's own) span the noise of retraining.
    `runs` holds, per model, each feature's mean |SHAP| over the first model's total (the unit of
    the paired comparison). Without a target on the reference rows the floor is unknown."""

    def compute() -> dict[str, Any]:
        c = ctx.case
        st = compare_state(ctx)
        assert c.model is not None and c.current is not None and st.ref_on_cur is not None
        w = st.cur.weights
        total = float(st.ref_on_cur.attribution.mean_abs(w).sum()) or 1.0

        def unit(att: Any) -> dict[str, float]:
            return {f: float(v / total) for f, v in zip(att.columns, att.mean_abs(w))}

        runs = [unit(st.ref_on_cur.attribution)]
        if not c.target or c.target not in c.train.columns or c.train[c.target].isna().all():
            return {
                "known": False,
                "why": "no --target in the reference rows to refit the model",
                "runs": runs,
            }
        model = c.model.estimator
        if not seeded(model):
            return {"known": True, "seeded": False, "runs": runs, "refits": 0}
        rows = sample_rows(c.train[c.train[c.target].notna()], p.refit_rows, ctx.config.seed)
        for k in range(p.seeds):
            est = refit_with_seed(
                model, rows[c.features], rows[c.target].to_numpy(), seed=ctx.config.seed + 101 + k
            )
            if est is None:
                return {"known": False, "why": "the model cannot be cloned and refitted", "runs": runs[:1]}
            ex = make_explainer(ctx, est, c.features, st.ref.explainer.background, st.params)
            runs.append(unit(ex.explain(c.current.iloc[st.cur.rows])))
        return {"known": True, "seeded": True, "runs": runs, "refits": p.seeds, "refit_rows": len(rows)}

    return ctx.cached("compare:seeds", compute)


def _floor(spread: dict[str, Any], feature: str) -> float:
    vals = [r.get(feature, 0.0) for r in spread["runs"]]
    return float(max(vals) - min(vals)) if vals else 0.0


def paired_differences(ctx: Context) -> list[dict[str, Any]]:
    """Per feature, model B's mean |SHAP| minus the first model's on the same current rows, over
    the first model's total (points of its attribution), with a paired bootstrap interval."""
    st = compare_state(ctx)
    both = st.ref_on_cur
    assert both is not None
    w = st.cur.weights

    def compute() -> list[dict[str, Any]]:
        table = shift_table(
            both.attribution,
            w,
            st.cur.attribution,
            w,
            n_boot=st.params.n_boot,
            seed=ctx.config.seed,
            paired=True,
        )
        total = sum(r["mean_abs_ref"] for r in table) or 1.0
        scale_ok = both.attribution.output == st.cur.attribution.output
        out = []
        for r in table:
            if scale_ok:  # same output: differences of mean |SHAP|, unaffected by the other features
                d, lo, hi = (r[k] / total for k in ("abs_shift", "abs_shift_low", "abs_shift_high"))
            else:  # other outputs (log-odds vs probability): shares
                d, lo, hi = r["share_shift"], r["share_shift_low"], r["share_shift_high"]
            out.append(
                {
                    "feature": r["feature"],
                    "model": r["share_ref"],
                    "model_b": r["share_cur"],
                    "difference": d,
                    "low": lo,
                    "high": hi,
                }
            )
        return out

    return ctx.cached("compare:paired", compute)


@check(
    "attribution.training_artifact",
    requires=("current", "model_b"),
    seeds=Param(
        3, Interval(int, 1, 20), "refits of the first model with other seeds that measure the noise floor"
    ),
    refit_rows=Param(
        20_000,
        Interval(int, 100, None),
        "reference rows each refit learns from (a random sample when there are more)",
    ),
    factor=Param(
        2.0,
        Interval(float, 1, None),
        "how many times the seed spread (largest minus smallest value across the refits) a difference must exceed",
    ),
    min_diff=Param(
        0.03,
        Interval(float, 0, 1, closed="neither"),
        "smallest difference worth reporting, in points of the first model's total attribution (3 points)",
    ),
)
def training_artifact(ctx: Context, p: Params) -> Findings:
    """Two models on the same data attribute differently beyond the spread across seeds.

    What it detects
        Both models are explained on the same current rows (a paired comparison). A feature whose
        mean |SHAP| differs between the two by at least min_diff of the first model's total
        (shares when the two explain different outputs), with a paired bootstrap interval that
        excludes 0, and by more than factor x the spread of that value across refits of the first
        model with other seeds on the reference rows (needs --target). Without a target the
        differences are listed as info: the noise floor is unknown. When the largest difference
        is a feature that a preprocessing bug or new leakage explains, it is info too.
    Why it matters
        Retraining with another seed moves attributions a little; a larger move means the new
        version learned something else from the same data: a changed feature pipeline in
        training, a column dropped or shuffled, other hyperparameters or a bug in the training
        code. Its behaviour on new data may differ where the old one was trusted.
    How to confirm
        Diff the two training runs (code, configuration, feature list, data snapshot); refit the
        new version's recipe with two seeds and compare the attributions again.
    Fix
        Find the training change that moved the attribution; keep it only if it is intended and
        validated (for example with `mltriage gate`), otherwise revert it.
    """
    spread = seed_shares(ctx, p)
    moved = [
        r
        for r in paired_differences(ctx)
        if abs(r["difference"]) >= p.min_diff and (r["low"] > 0 or r["high"] < 0)
    ]
    if spread["known"]:
        moved = [r for r in moved if abs(r["difference"]) > p.factor * _floor(spread, r["feature"])]
    if not moved:
        return []
    moved = sorted(moved, key=lambda r: -abs(r["difference"]))[:5]
    for r in moved:
        r["seed_spread"] = _floor(spread, r["feature"]) if spread["known"] else None
    text = ", ".join(f"{r['feature']} {r['model']:.0%} -> {r['model_b']:.0%}" for r in moved)
    n_rows = len(compare_state(ctx).cur.rows)
    evidence = {
        "features": moved,
        "rows": n_rows,
        "noise_floor": {k: v for k, v in spread.items() if k != "runs"},
    }
    cols = [r["feature"] for r in moved]
    explained = explained_features(ctx).get(moved[0]["feature"])
    if not spread["known"] or explained:
        why = (
            f"it follows from {explained} on {moved[0]['feature']}"
            if explained
            else f"the noise floor is unknown: {spread['why']}"
        )
        return Finding(
            "attribution.training_artifact",
            INFO,
            f"the two models attribute differently on the same rows (shares {text}); {why}",
            columns=cols,
            evidence=evidence,
            fix=f"fix {explained} first"
            if explained
            else "rerun with --target (the reference rows' labels) to refit the model with other seeds",
            primary_table="features",
        )
    floor = (
        "refits with other seeds" if spread.get("seeded") else "the model has no seed: refits are identical"
    )
    return Finding(
        "attribution.training_artifact",
        WARNING,
        f"the two models attribute differently on the same rows beyond the spread across seeds ({floor}): shares {text}",
        columns=cols,
        evidence=evidence,
        root_cause="the second model learned something else from the same data: a change in the "
        "training code, features, configuration or data snapshot, not seed noise",
        fix="diff the two training runs (code, configuration, feature list, data); keep the change "
        "only if intended and validated (mltriage gate), otherwise revert it",
        impact=float(max(abs(r["difference"]) for r in moved)),
        primary_table="features",
    )


# ------------------------------------------------------------------------------ segment


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
            pos = classes.index(c.positive) if c.positive in classes else 1
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
