"""The shared state of `mltriage compare`, built once per run (`compare_state(ctx)`).

Two sides: the model on a stratified sample of the reference rows, and the second model (or the same
one) on a stratified sample of the current rows (with `--model-b`, also the first model on those
same current rows, for a like-for-like comparison of the two models). Per input column: the mean
|SHAP| and its share on each side with bootstrap intervals, the dependence curves, and the raw
distributions' drift. What only some checks need is computed on first use, each cached on the
Context: the preprocessed features' drift (`transformed_view`), the single-feature predictive power
on each side (`feature_power`), the attributions of refits with other seeds (`seed_shares`). The
sizes come from attribution.population_shift's parameters (`SHARED`), never from the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...registry import Interval, NotApplicable, Param, Params
from ...stats.attribution_shift import (
    bin_values,
    dependence_curve,
    shift_table,
    stratified_sample,
    target_strata,
)
from ...stats.drift import DriftConfig, DriftReport, drift_frames
from ...stats.explain import Attribution, Explainer
from ...stats.profile import Profile

if TYPE_CHECKING:
    from ...context import Context

ANCHOR = "attribution.population_shift"  # the check whose parameters size the shared state

SHARED: dict[str, Any] = dict(
    sample=Param(
        2000,
        Interval(int, 50, None),
        "rows explained per side, stratified (2,000: about 1.5 s of exact tree SHAP a side on a 200-tree boosted model; bootstrap intervals of shares about +-0.01)",
    ),
    n_boot=Param(
        200, Interval(int, 20, None), "bootstrap resamples for the intervals of mean |SHAP| and shares"
    ),
    bins=Param(
        10,
        Interval(int, 2, 100),
        "bins of a dependence curve (deciles of the reference; top levels for categories)",
    ),
    min_bin_rows=Param(20, Interval(int, 1, None), "rows a bin needs on both sides to compare its mean SHAP"),
    drift_rows=Param(
        20_000,
        Interval(int, 100, None),
        "rows per side for the distribution comparisons and single-feature scores (PSI is stable to +-0.01 there)",
    ),
    background=Param(
        32,
        Interval(int, 1, None),
        "reference rows standing for 'absent' in the permutation explainer (non-tree models)",
    ),
    max_tree_ops=Param(
        3e9,
        Interval(float, 1, None),
        "leaves x depth^2 x rows of exact tree SHAP per side (3e9: about 2 s at the measured 0.6 ns each); past it fewer rows, or the Saabas approximation",
    ),
    max_evals=Param(
        2_000_000,
        Interval(int, 1000, None),
        "model rows scored per side by the permutation explainer (2e6: about 3 s for a 4-column logistic pipeline, measured at 1.6 us a row)",
    ),
)


@dataclass
class Side:
    """One model's SHAP values on a sample of one set of rows."""

    label: str  # e.g. "model on reference"
    which: str  # "train" (the reference rows) or "current"
    rows: np.ndarray  # row positions in that frame
    weights: np.ndarray  # sampling weights (mean 1)
    attribution: Attribution
    explainer: Explainer


@dataclass
class CompareState:
    features: list[str]
    ref: Side  # the model on the reference rows
    cur: Side  # the second model (or the model) on the current rows
    ref_on_cur: Side | None  # with a second model: the first model on the same current rows
    table: list[dict[str, Any]]  # shift_table(ref, cur)
    curves: dict[str, dict[str, Any]]
    drift: DriftReport  # raw input columns, reference vs current
    ref_profile: Profile
    params: Params
    notes: list[str] = field(default_factory=list)

    def row(self, feature: str) -> dict[str, Any]:
        return next(r for r in self.table if r["feature"] == feature)

    @property
    def same_scale(self) -> bool:
        return self.ref.attribution.output == self.cur.attribution.output


def compare_state(ctx: Context) -> CompareState:
    return ctx.cached("compare:state", lambda: _build(ctx))


def _build(ctx: Context) -> CompareState:
    c = ctx.case
    if c.current is None or c.model is None or c.model.kind == "precomputed":
        raise NotApplicable("compare needs a fitted model and two sets of rows")
    p = ctx.config.params(ANCHOR)
    seed = ctx.config.seed
    ref_df, cur_df = c.train, c.current
    rng = np.random.default_rng(seed)
    bg = ref_df.iloc[np.sort(rng.choice(len(ref_df), min(p.background, len(ref_df)), replace=False))]
    ex_a = make_explainer(ctx, c.model.estimator, c.features, bg, p)
    model_b = c.model_b.estimator if c.model_b is not None else None
    features_b = (c.model_b.feature_names or c.features) if c.model_b is not None else c.features
    ex_b = make_explainer(ctx, model_b, features_b, bg, p) if model_b is not None else ex_a
    pos_a, w_a = stratified_sample(len(ref_df), ex_a.rows, strata=_strata(ctx, ref_df), seed=seed)
    n_b = min(ex_a.rows, ex_b.rows)
    focus = segment_mask(ctx) if c.segment else None
    pos_b, w_b = stratified_sample(len(cur_df), n_b, strata=_strata(ctx, cur_df), focus=focus, seed=seed + 1)
    ref = Side("model on reference", "train", pos_a, w_a, ex_a.explain(ref_df.iloc[pos_a]), ex_a)
    cur_label = "model B on current" if model_b is not None else "model on current"
    cur = Side(cur_label, "current", pos_b, w_b, ex_b.explain(cur_df.iloc[pos_b]), ex_b)
    both = None
    if model_b is not None:
        both = Side("model on current", "current", pos_b, w_b, ex_a.explain(cur_df.iloc[pos_b]), ex_a)
    table = shift_table(ref.attribution, w_a, cur.attribution, w_b, n_boot=p.n_boot, seed=seed)
    drift, ref_profile = _raw_drift(ctx, p)
    st = CompareState(list(c.features), ref, cur, both, table, {}, drift, ref_profile, p)
    st.curves = _curves(ctx, st)
    _notes(ctx, st, focus)
    return st


def make_explainer(ctx: Context, model: Any, features: list[str], bg: pd.DataFrame, p: Params) -> Explainer:
    c = ctx.case
    classes = list(c.classes) if c.classes is not None else None
    return Explainer(
        model,
        features,
        task=c.task,
        classes=classes,
        positive=c.positive,
        background=bg,
        sample=p.sample,
        max_tree_ops=p.max_tree_ops,
        max_evals=p.max_evals,
        seed=ctx.config.seed,
    )


def _strata(ctx: Context, df: pd.DataFrame) -> np.ndarray | None:
    t = ctx.case.target
    if not t or t not in df.columns or df[t].isna().mean() > 0.5:
        return None
    return target_strata(df[t], ctx.task)


def segment_mask(ctx: Context) -> np.ndarray:
    """The current rows of the segment (`--segment`, a pandas query validated by the command)."""
    c = ctx.case
    assert c.current is not None and c.segment is not None
    cur = c.current

    def compute() -> np.ndarray:
        idx = cur.query(c.segment, engine="python").index
        return np.asarray(cur.index.isin(idx))

    return ctx.cached("compare:segment", compute)


def sample_rows(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """At most n rows of df, a fixed random subset in the frame's order."""
    if len(df) <= n:
        return df
    return df.iloc[np.sort(np.random.default_rng(seed).choice(len(df), n, replace=False))]


def _raw_drift(ctx: Context, p: Params) -> tuple[DriftReport, Profile]:
    c = ctx.case
    assert c.current is not None
    seed = ctx.config.seed
    ref = sample_rows(c.train, p.drift_rows, seed)
    cur = sample_rows(c.current, p.drift_rows, seed + 1)
    feats = [f for f in c.features if f in cur.columns]
    report, ref_prof, _ = drift_frames(
        ref[feats], cur[feats], DriftConfig(seed=seed), categorical=c.categorical, columns=feats
    )
    return report, ref_prof


def _curves(ctx: Context, st: CompareState) -> dict[str, dict[str, Any]]:
    """The dependence curve of every input column of the model, on the reference's bins."""
    c = ctx.case
    assert c.current is not None
    p = st.params
    a, b = st.ref.attribution, st.cur.attribution
    scale = (
        1.0
        if st.same_scale
        else float(a.mean_abs(st.ref.weights).sum() / max(b.mean_abs(st.cur.weights).sum(), 1e-12))
    )
    out: dict[str, dict[str, Any]] = {}
    xr_all, xc_all = c.train.iloc[st.ref.rows], c.current.iloc[st.cur.rows]
    for f in st.features:
        if f not in a.columns or f not in b.columns or f not in xc_all.columns:
            continue
        ja, jb = a.columns.index(f), b.columns.index(f)
        va = a.signed[:, ja] if a.signed is not None else a.abs[:, ja]
        vb = b.signed[:, jb] if b.signed is not None else b.abs[:, jb]
        cat = f in set(c.categorical) or not pd.api.types.is_numeric_dtype(xr_all[f])
        kr, kc, labels = bin_values(xr_all[f], xc_all[f], cat, p.bins)
        out[f] = dependence_curve(
            kr, va, st.ref.weights, kc, vb, st.cur.weights, labels, scale=scale, min_rows=p.min_bin_rows
        )
    return out


def _notes(ctx: Context, st: CompareState, focus: np.ndarray | None) -> None:
    """The caveats of SHAP, stated once in the report."""
    c = ctx.case
    ex_a, ex_b = st.ref.explainer, st.cur.explainer
    how = "stratified by the target" if c.target and c.target in c.train.columns else "random"
    seg = (
        "; the segment oversampled up to half of the current sample (weights undo it)"
        if focus is not None
        else ""
    )
    ctx.note(
        f"SHAP values of {len(st.ref.rows):,} reference rows and {len(st.cur.rows):,} current rows "
        f"({how} samples{seg}); intervals are 95% bootstrap intervals over those rows. "
        f"Method: {ex_a.method}" + (f"; model B: {ex_b.method}" if ex_b is not ex_a else "")
    )
    for why in dict.fromkeys(w for w in (ex_a.why, ex_b.why) if w):
        ctx.note(why)
    if not st.same_scale:
        ctx.note(
            f"the two sides explain different outputs ({st.ref.attribution.output} vs "
            f"{st.cur.attribution.output}): compare shares, not raw SHAP values"
        )
    pairs = correlated_pairs(c.train.iloc[st.ref.rows], [r["feature"] for r in st.table[:10]])
    corr = (
        " Here: " + "; ".join(f"{a} and {b} (r = {r:+.2f})" for a, b, r in pairs[:4]) + "." if pairs else ""
    )
    ctx.note(
        "SHAP caveat: correlated features share credit. When two inputs carry the same "
        "information, the model may use either, and credit moving from one to the other is not a "
        "change of behaviour; judge such features together." + corr
    )


def correlated_pairs(
    df: pd.DataFrame, features: list[str], threshold: float = 0.7
) -> list[tuple[str, str, float]]:
    """Pairs of numeric features whose Spearman correlation is at least `threshold` in absolute value."""
    num = [f for f in features if f in df.columns and pd.api.types.is_numeric_dtype(df[f])]
    if len(num) < 2:
        return []
    r = df[num].rank().corr().to_numpy()
    out = []
    for i in range(len(num)):
        for j in range(i + 1, len(num)):
            if np.isfinite(r[i, j]) and abs(r[i, j]) >= threshold:
                out.append((num[i], num[j], float(r[i, j])))
    return sorted(out, key=lambda t: -abs(t[2]))
