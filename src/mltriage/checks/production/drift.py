"""production.data_drift and production.prediction_drift: the batch's inputs and the model's outputs
against the reference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...positive import positive_index
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.drift import (
    DomainClassifierResult,
    DriftConfig,
    FeatureDrift,
    compare_profiles,
    domain_classifier,
)
from ...stats.production import ProductionInputs, drift_config
from ...stats.profile import Profile, build_profile
from ...stats.skew import Skew
from ..pipeline.skew import PIPELINE_BUG
from .drift_windows import apply_windows, batch_window_drift

if TYPE_CHECKING:
    from ...context import Context

RETRAIN = (
    "This is a change in the population, not a bug: if it hurts (PSI >= 0.25 on an important "
    "feature, or estimated/observed AUC or accuracy down by more than 0.05) retrain on recent "
    "data that includes it; otherwise keep monitoring. Rule out a pipeline bug first "
    "(pipeline.train_serving_skew, production.schema_change): retraining on broken inputs "
    "would hide the bug."
)

_D = DriftConfig  # the defaults of the drift statistics are declared once, in DriftConfig


def require_batch_rows(ctx: Context, least: int, what: str) -> None:
    """NotApplicable when the production batch holds fewer than `least` rows: a distribution
    cannot be compared on a handful of rows (schema, ranges and skew still run row by row)."""
    c = ctx.case
    n = len(c.current) if c.current is not None else (c.current_profile.rows if c.current_profile else None)
    if n is not None and n < least:
        raise NotApplicable(
            f"the batch has {n} row{'s' if n != 1 else ''}; {what} needs at least {least} "
            "(schema, out-of-range values and skew are checked row by row)"
        )


PSI_WARNING = Param(
    _D.psi_warning,
    Interval(float, 0, None, closed="neither"),
    "PSI from which a distribution counts as drifted (0.1: the usual 'moderate shift' in credit scoring)",
)
PSI_CRITICAL = Param(
    _D.psi_critical,
    Interval(float, 0, None, closed="neither"),
    "PSI from which the drift is critical (0.25: the usual 'significant shift', a retrain trigger)",
)
ALPHA = Param(
    _D.alpha,
    Interval(float, 0, 1, closed="neither"),
    "significance gate of the chi-square test on the same bins (0.001: a guard against noise on small batches; PSI decides the effect size)",
)
DRIFT_PARAMS: dict[str, Any] = dict(
    psi_warning=PSI_WARNING,
    psi_critical=PSI_CRITICAL,
    alpha=ALPHA,
    min_rows=Param(
        _D.min_rows, Interval(int, 1, None), "fewest values in a column, on each side, to test it at all"
    ),
    mv_auc_warning=Param(
        _D.mv_auc_warning,
        Interval(float, 0.5, 1),
        "domain classifier AUC (reference vs batch rows) from which the batch as a whole drifted",
    ),
    mv_auc_critical=Param(
        _D.mv_auc_critical, Interval(float, 0.5, 1), "domain classifier AUC from which that drift is critical"
    ),
    mv_sample=Param(
        _D.mv_sample,
        Interval(int, 50, None),
        "rows per side the domain classifier learns from (5,000: a second on a busy 2-core machine)",
    ),
    important_share=Param(
        0.05,
        Interval(float, 0, 1),
        "share of the model's sensitivity a feature needs for its critical drift to be critical",
    ),
    window_min_rows=Param(
        200,
        Interval(int, 30, None),
        "fewest batch rows per time window (days, else halves) for the per-window comparison "
        "(200: PSI's sampling noise on 20 bins stays near 0.1, psi_warning)",
    ),
)


def _fmt_share(v: float | None) -> str:
    return "?" if v is None else f"{v:.0%}" if v >= 0.01 else f"{v:.1%}"


# ---------------------------------------------------------------------------------------------
# data drift


def _drift_row(f: FeatureDrift, skews: dict[str, Skew]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "column": f.column,
        "kind": f.kind,
        "psi": round(f.psi, 4),
        "p_value": f.p_value,
        "severity": f.severity,
        "importance": None if f.importance is None else round(f.importance, 4),
    }
    if f.kind == "numeric":
        row.update(
            ks=round(f.ks or 0, 4),
            wasserstein_norm=round(f.wasserstein_norm or 0, 4),
            mean_ref=f.summary.get("mean_ref"),
            mean_cur=f.summary.get("mean_cur"),
        )
    else:
        row.update(
            js=round(f.js or 0, 4),
            chi2=round(f.chi2, 2),
            largest_moves=f.summary.get("largest_moves", [])[:3],
            new_categories=f.summary.get("new_categories"),
        )
    if f.column in skews:
        row["likely_skew"] = skews[f.column].description
    return row


def _drift_evidence(
    inp: ProductionInputs,
    drifted: list[FeatureDrift],
    mv: DomainClassifierResult | None,
    skews: dict[str, Skew],
) -> dict[str, Any]:
    rep = inp.report
    evidence: dict[str, Any] = {
        "drifted": [_drift_row(f, skews) for f in drifted],
        "tested": sum(1 for f in rep.features.values() if f.tested),
        "rows": {"reference": rep.n_ref, "current": rep.n_cur},
        "thresholds": {
            "psi_warning": rep.config.psi_warning,
            "psi_critical": rep.config.psi_critical,
            "alpha": rep.config.alpha,
            "rule": "drifted when PSI >= psi_warning and the chi-square p-value < alpha",
        },
        "ranked_by": "importance to the model" if inp.importance else "PSI (no model importance)",
    }
    if inp.skipped:
        evidence["not_compared"] = inp.skipped
    if inp.entities:
        evidence["entities"] = inp.entities
    if mv is not None:
        evidence["multivariate"] = mv.to_dict()
    return evidence


def _per_feature_finding(
    drifted: list[FeatureDrift],
    evidence: dict[str, Any],
    mv: DomainClassifierResult | None,
    skews: dict[str, Skew],
    important_share: float,
) -> Finding:
    crit = [
        f
        for f in drifted
        if f.severity == "critical" and (f.importance is None or f.importance >= important_share)
    ]
    parts = []
    for f in drifted[:4]:
        imp = "" if f.importance is None else f", importance {_fmt_share(f.importance)}"
        parts.append(f"{f.column} (PSI {f.psi:.2f}{imp})")
    more = f" and {len(drifted) - 4} more" if len(drifted) > 4 else ""
    title = f"{len(drifted)} feature(s) drifted in the production batch: {', '.join(parts)}{more}"
    if not crit and any(f.severity == "critical" for f in drifted):
        title += "; the strongest drift is on features the model barely uses"
    mv_txt = f" A classifier tells reference from batch rows with AUC {mv.auc:.2f}." if mv is not None else ""
    root = (
        "the batch comes from a different population than the training rows (new customers, "
        "season, product change) or an upstream change of how the features are computed." + mv_txt
    )
    if skews:
        root += (
            f" {', '.join(skews)} (left out here) look(s) like a serving bug rather than real drift "
            "(see pipeline.train_serving_skew)."
        )
    return Finding(
        "production.data_drift",
        CRITICAL if crit else WARNING,
        title,
        columns=[f.column for f in drifted],
        evidence=evidence,
        root_cause=root,
        fix=RETRAIN,
        impact=min(1.0, max(f.psi for f in drifted) / 2),
    )


def _joint_finding(rep_psi_warning: float, evidence: dict[str, Any], mv: DomainClassifierResult) -> Finding:
    top = mv.top(5)
    title = (
        f"The batch as a whole is distinguishable from the reference (domain classifier AUC "
        f"{mv.auc:.2f}) though no single feature drifts past PSI {rep_psi_warning}: "
        f"mostly {', '.join(top[:3]) or 'several features'}"
    )
    return Finding(
        "production.data_drift",
        WARNING,
        title,
        columns=top,
        evidence=evidence,
        root_cause="a change in how features move together (their joint distribution), "
        "too small per feature for univariate tests",
        fix=RETRAIN,
        impact=max(mv.auc - 0.5, 0.0),
    )


def data_drift_findings(
    inp: ProductionInputs, p: Params, mv: DomainClassifierResult | None, skews: dict[str, Skew]
) -> list[Finding]:
    """The data-drift finding of a batch: per feature (ranked by importance when known), else the
    joint distribution when only the domain classifier tells the batch apart."""
    # a column that a serving transformation explains is a pipeline bug
    # (pipeline.train_serving_skew), never a population change to retrain on
    drifted = [
        f for f in inp.report.drifted("importance" if inp.importance else "psi") if f.column not in skews
    ]
    evidence = _drift_evidence(inp, drifted, mv, skews)
    if skews:
        evidence["left_to_train_serving_skew"] = {c: s.description for c, s in skews.items()}
    if drifted:
        return [_per_feature_finding(drifted, evidence, mv, skews, float(p.important_share))]
    if mv is not None and mv.drifted and not skews and not inp.entities:
        return [_joint_finding(inp.report.config.psi_warning, evidence, mv)]
    cleared = (inp.entities or {}).get("not_significant_once_entities_counted")
    if cleared and inp.entities:
        e = inp.entities
        return [
            Finding(
                "production.data_drift",
                INFO,
                f"The batch holds {e['batch_entities']} {e['entity_column']} values training never saw; "
                f"{', '.join(cleared[:4])} differ from training by no more than that many entities do "
                "(their rows are not independent: the chi-square counted on the entities, see evidence)",
                columns=list(cleared),
                evidence=evidence,
            )
        ]
    return []


@check("production.data_drift", requires=("current",), **DRIFT_PARAMS)
def data_drift(ctx: Context, p: Params) -> Findings:
    """Features whose production distribution differs from the training distribution.

    What it detects
        Per feature: PSI on the training set's quantile bins (numeric; with under/overflow bins)
        or categories (categorical), with KS, normalised Wasserstein, chi-square and
        Jensen-Shannon as supporting statistics. A feature has drifted when PSI >= psi_warning
        (0.1) and the chi-square test on the same bins gives p < alpha (0.001); critical at
        psi_critical (0.25) on a feature holding at least important_share (5%) of the model's
        sensitivity. PSI is the effect-size floor, so trivial shifts on millions of rows never
        alarm. A domain classifier (reference rows vs batch rows, 5,000 a side) adds the
        multivariate view: its AUC and the features it relies on. Drifted features are ranked by
        their importance to the model. With a time column (`--time-column`) in the batch, the
        batch is also cut into windows (calendar days when it spans at least three days of
        window_min_rows (200) rows each, else two halves at the median time) and each window is
        compared with the reference, the chi-square gate divided by windows x features
        (Bonferroni): a change that starts inside the batch is reported with the window where it
        starts, even when the whole batch averages it below psi_warning. When the batch's rows
        belong to entities training never saw (the group column, or an id column the model does
        not take, 90% of the batch on unseen ids), the chi-square is divided by each column's
        design effect measured on training (mean PSI between halves split by entity over halves
        split by row; first-order Rao-Scott): 23 new counties are 23 units, not 158 rows; what
        that clears is said as info. A column that a serving
        transformation explains (pipeline.train_serving_skew) is left out: a bug, not a
        population change. Needs a production batch (`--current`, or `mltriage drift`, whose
        batch may be a profile).
    Why it matters
        A model is only validated on the population it was evaluated on; drift on a feature the
        model relies on moves its error in ways the offline metrics never measured.
    How to confirm
        Compare histograms of the feature in training and in the batch (the evidence lists PSI,
        means and the categories that moved); `mltriage profile` + `mltriage drift` repeat it on
        later batches against the same reference.
    Fix
        Rule out pipeline bugs first (train_serving_skew, schema_change). Real population change
        with PSI >= 0.25 on an important feature, or an AUC drop over 0.05, is a retrain trigger:
        retrain on recent data. Drift on unimportant features: monitor only.
    """
    inp = ctx.production()  # NotApplicable without a batch (rows or a profile)
    require_batch_rows(ctx, int(p.min_rows), "comparing distributions")
    if not inp.common:
        raise NotApplicable("the batch shares no model feature with the training set")
    mv = None
    ref_rows = inp.ref_frame
    if ref_rows is not None and not inp.current_is_profile:
        cfg = inp.report.config
        mv = ctx.cached(
            "production:mv",
            lambda: domain_classifier(ref_rows, inp.current, inp.common, inp.categorical, cfg),
        )
    try:  # let the data-drift table point at skews (inferred with the skew check's own parameters)
        skews = inp.skews(ctx.config.params("pipeline.train_serving_skew"))
    except Exception:
        skews = {}
    out = data_drift_findings(inp, p, mv, skews)
    wd = batch_window_drift(ctx, inp, p, set(skews))
    return out if wd is None else apply_windows(out, wd, inp, p, RETRAIN)


# ---------------------------------------------------------------------------------------------
# prediction drift


def prediction_drift_finding(
    ref_scores: pd.Series | None,
    cur_scores: pd.Series,
    kind: str,
    cfg: DriftConfig,
    extra: dict | None = None,
    ref_profile: Profile | None = None,
) -> Finding | None:
    """kind: numeric (scores, regression outputs) or categorical (predicted classes).
    ref_profile: a profile with a "prediction" column instead of the reference's scores."""
    cat = ["prediction"] if kind == "categorical" else []
    rp = (
        ref_profile
        if ref_profile is not None
        else build_profile(pd.DataFrame({"prediction": ref_scores}), categorical=cat)
    )
    cp = build_profile(pd.DataFrame({"prediction": cur_scores}), like=rp, categorical=cat)
    fd = compare_profiles(rp, cp, cfg).features["prediction"]
    ev = {"drift": fd.to_dict(), **(extra or {})}
    if not fd.drifted:
        return None
    sev = CRITICAL if fd.severity == "critical" else WARNING
    if kind == "numeric":
        s = fd.summary
        what = (
            f"mean {s['mean_ref']:.4g} -> {s['mean_cur']:.4g}, median {s['median_ref']:.4g} -> "
            f"{s['median_cur']:.4g}"
        )
    else:
        moves = fd.summary.get("largest_moves", [])[:2]
        what = ", ".join(f"{m['category']!r} {m['share_ref']:.0%} -> {m['share_cur']:.0%}" for m in moves)
    if extra and "positive_rate" in extra:
        pr = extra["positive_rate"]
        what += f"; predicted positive rate {pr['reference']:.1%} -> {pr['current']:.1%}"
    return Finding(
        "production.prediction_drift",
        sev,
        f"The model's outputs moved between the evaluation set and the batch (PSI {fd.psi:.2f}): {what}",
        evidence=ev,
        root_cause="the inputs drifted in directions the model uses, or a serving bug "
        "changed its inputs; the output distribution is the first place it shows",
        fix="find the input that explains it (production.data_drift ranks them by "
        "importance; pipeline.train_serving_skew and production.schema_change rule out "
        "bugs). " + RETRAIN,
        impact=min(fd.psi / 2, 1.0),
    )


def _batch_prediction_drift(ctx: Context, cfg: DriftConfig) -> Finding | None:
    """A batch-only comparison: the model's outputs on the batch (or the scores it logged, without
    a model) against the reference's (saved in its profile, or computed on its rows)."""
    c = ctx.case
    inp = ctx.production()
    rp = inp.reference_prediction
    if c.model is not None and c.model.kind != "precomputed":
        out = inp.outputs
        if out is None:
            raise NotApplicable("the model cannot score the batch (model columns missing)")
        ref_out = inp.reference_outputs if rp is None else None
        if rp is None and ref_out is None:
            raise NotApplicable("no reference predictions (profile the reference with --model)")
        values = out.values if rp is None else _as_profiled(ctx, out.values)
        return prediction_drift_finding(ref_out, values, out.kind, cfg, ref_profile=rp)
    if rp is None or not c.prediction_column:
        raise NotApplicable("the reference holds no model outputs (profile it with --model)")
    logged = pd.to_numeric(ctx.frame("current")[c.prediction_column], errors="coerce")
    return prediction_drift_finding(None, logged, "numeric", cfg, ref_profile=rp)


def _as_profiled(ctx: Context, values: pd.Series) -> pd.Series:
    """A binary model's outputs on the batch turned to the class the reference profile's outputs
    are about (`mltriage profile --model` saves the model's last class's), when the run's positive
    class is the other one: P becomes 1 - P, a margin changes sign."""
    c = ctx.case
    classes = list(c.model.classes or []) if c.model is not None else []
    saved = (c.reference.meta.get("prediction") or {}) if c.reference is not None else {}
    if c.task != "binary" or len(classes) != 2:
        return values
    if positive_index(classes, saved.get("positive", classes[-1])) == positive_index(classes, c.positive):
        return values
    return 1.0 - values if c.model is not None and c.model.has_proba else -values


@check(
    "production.prediction_drift",
    requires=("model", "current"),
    psi_warning=PSI_WARNING,
    psi_critical=PSI_CRITICAL,
    alpha=ALPHA,
)
def prediction_drift(ctx: Context, p: Params) -> Findings:
    """The distribution of the model's outputs moved between the evaluation set and the batch.

    What it detects
        PSI (with a chi-square significance gate) between the model's scores on the evaluation
        set and on the production batch: the positive-class probability (binary), the predicted
        class (multiclass) or the prediction (regression), plus the predicted positive rate. In a
        batch-only comparison (`mltriage drift`) the reference outputs are the ones saved in the
        reference profile (`mltriage profile --model`) or the model's on the reference rows.
    Why it matters
        Output drift is visible before labels arrive and is what downstream decisions feel: a
        shifted score distribution changes how many cases pass the threshold.
    How to confirm
        Histogram the scores of the evaluation set and of the batch; compare the share above the
        threshold in use.
    Fix
        Find the inputs that explain it (production.data_drift ranks them by importance) and rule
        out a serving bug; a real population change that hurts is a retrain trigger.
    """
    c = ctx.case
    cfg = drift_config(p)
    require_batch_rows(ctx, cfg.min_rows, "comparing the distribution of outputs")
    if not c.has_evaluation:
        return _batch_prediction_drift(ctx, cfg)
    ref, cur = ctx.predictions("test"), ctx.predictions("current")
    extra: dict[str, Any] = {}
    if c.task == "multiclass":
        return _blame_skew(
            ctx,
            prediction_drift_finding(
                pd.Series(ref.label).astype(str), pd.Series(cur.label).astype(str), "categorical", cfg
            ),
        )
    if c.task == "binary":
        thr = ctx.threshold
        extra["positive_rate"] = {
            "reference": float(np.nanmean(ref.score >= thr)),
            "current": float(np.nanmean(cur.score >= thr)),
            "threshold": thr,
        }
    f = prediction_drift_finding(
        pd.Series(ref.score, dtype=float), pd.Series(cur.score, dtype=float), "numeric", cfg, extra
    )
    return _blame_skew(ctx, f)


def _blame_skew(ctx: Context, f: Finding | None) -> Finding | None:
    """Output drift in a batch with train/serving skews: the bug is the first suspect, and
    retraining on its outputs is not the fix."""
    if f is None:
        return None
    try:
        skews = ctx.production().skews(ctx.config.params("pipeline.train_serving_skew"))
    except Exception:
        return f
    if not skews:
        return f
    cols = ", ".join(skews)
    f.root_cause = (
        f"the serving path transforms {cols} (see pipeline.train_serving_skew): the model scores wrong inputs"
    )
    f.fix = f"fix {cols} in the serving path first (pipeline.train_serving_skew), then judge the outputs again. {PIPELINE_BUG}"
    f.evidence["train_serving_skew"] = sorted(skews)
    return f
