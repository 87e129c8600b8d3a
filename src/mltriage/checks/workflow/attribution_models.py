"""`mltriage compare`: two model versions that attribute differently on the same rows beyond the
spread across refits with other seeds (attribution.training_artifact)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...findings import INFO, WARNING, Finding
from ...registry import Findings, Interval, Param, Params, check
from ...stats.attribution_shift import (
    refit_with_seed,
    seeded,
    shift_table,
)
from .attribution_leakage import explained_features
from .compare_state import compare_state, make_explainer, sample_rows

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
