"""The release gate (`mltriage gate`): a candidate model against the baseline in production, on the
same rows, with paired bootstrap intervals (gate.regression_overall, gate.regression_slice,
gate.calibration_regression, gate.positive_rate_shift). gate.latency_regression is in
gate_latency.py. Every failure is a warning or a critical finding: each is a rollback criterion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, OfType, Param, Params, check
from ...stats.metrics import holm
from ...stats.paired import Difference, two_sided_shift
from .gate_state import SOURCES, GateState, gate_state, greater_is_better, margin_for

if TYPE_CHECKING:
    from ...context import Context

TASKS = ("binary", "multiclass", "regression")
SLICE_TABLE = ("metric", "baseline", "candidate", "difference", "low", "high", "p_adjusted")
ALPHA = Interval(float, 0, 1, closed="neither")
ROLLBACK = (
    "Keep the baseline in production (roll back the candidate) until this is explained: "
    "compare the two training runs (data window, features, labels, hyper-parameters), then "
    "retrain and re-run the gate."
)


def _fmt(v: float) -> str:
    return f"{v:.4g}" if np.isfinite(v) else "n/a"


def _interval(d: Difference) -> str:
    return f"{d.diff:+.3g} [{d.low:+.3g}, {d.high:+.3g}]"


def _worse_word(metric: str) -> str:
    return "lower" if greater_is_better(metric) else "higher"


def metric_rows(
    state: GateState, names: list[str], max_drop: float, prefix: str = ""
) -> list[dict[str, Any]]:
    """One row per metric: both values, the difference with its interval, the margin and the
    one-sided p-value that the candidate is worse by more than the margin."""
    rows = []
    for m in names:
        if not state.has(prefix + m):
            continue
        base = state.point[f"baseline:{prefix}{m}"]
        d = state.compare(prefix + m, margin_for(m, max_drop, base))
        rows.append({"metric": m, **d.to_dict()})
    return rows


def _better(d: Difference, metric: str) -> bool:
    return (d.low > 0) if greater_is_better(metric) else (d.high < 0)


@check(
    "gate.regression_overall",
    tasks=TASKS,
    requires=("model", "candidate"),
    max_drop=Param(
        0.01,
        Interval(float, 0, None),
        "largest tolerated drop of a metric: in its own units for metrics bounded by 1 (ROC AUC, "
        "accuracy, R²), a share of the baseline's value for log loss, MAE and RMSE",
    ),
    alpha=Param(0.05, ALPHA, "family-wise error rate over the metrics compared (Holm)"),
    n_boot=Param(
        1000,
        Interval(int, 100, None),
        "bootstrap resamples, drawn once from the seed and shared by every gate comparison "
        "(1,000: the smallest p-value, 1/1001, survives Holm over 50 comparisons at 0.05)",
    ),
    decision_metrics=Param(
        True,
        OfType(bool),
        "also gate the decisions at the threshold in use (accuracy, precision, recall, F1; MAE and "
        "RMSE for regression), not only the headline metric",
    ),
)
def regression_overall(ctx: Context, p: Params) -> Findings:
    """The candidate model is significantly worse than the baseline on the same rows.

    What it detects
        On the same evaluation rows, the headline metric (`--metric`, ROC AUC for binary models,
        accuracy for multiclass, R² for regression) and the metrics of the decisions at the
        threshold in use (accuracy, precision, recall, F1; MAE and RMSE for regression) of the
        candidate against the baseline, each difference with a paired bootstrap interval (the same
        `n_boot` resamples of rows for both models). A metric fails when the candidate is worse by
        more than `max_drop` with a Holm-adjusted one-sided p-value below `alpha`: the headline
        metric is critical, a decision metric a warning. When nothing fails, the metrics that
        improved significantly are reported as info.
    Why it matters
        A retrained model is promoted on the strength of one number on one evaluation; an
        unpaired comparison (two intervals that overlap) misses real regressions, and a point
        difference without an interval promotes noise.
    How to confirm
        The evidence lists every metric of both models with the interval of the difference; rerun
        with another `--set gate.regression_overall.n_boot` or seed (`seed` in mltriage.toml): the
        conclusion should not move.
    Fix
        Keep the baseline in production until the regression is explained: compare the two training
        runs (data window, features, labels, hyper-parameters), fix, retrain and gate again.
    """
    state = gate_state(ctx)
    names = [state.metric] + (state.decision if p.decision_metrics else [])
    rows = metric_rows(state, names, p.max_drop)
    if not rows:
        raise NotApplicable("no metric could be computed for both models")
    adjusted = holm([r["p_worse"] for r in rows])
    table = [{**r, "p_adjusted": float(a)} for r, a in zip(rows, adjusted)]
    out = [_regression(state, r, table, p.alpha) for r in table if r["p_adjusted"] < p.alpha]
    if out:
        return out
    return _improvement(state, table)


def _regression(state: GateState, r: dict[str, Any], table: list[dict], alpha: float) -> Finding:
    m = r["metric"]
    headline = m == state.metric
    drop = abs(r["difference"])
    return Finding(
        code="gate.regression_overall",
        severity=CRITICAL if headline else WARNING,
        title=(
            f"The candidate's {m} is {drop:.3g} {_worse_word(m)} than the baseline's "
            f"({_fmt(r['candidate'])} vs {_fmt(r['baseline'])}; difference {r['difference']:+.3g}, "
            f"95% interval [{r['low']:+.3g}, {r['high']:+.3g}])"
        ),
        evidence={
            "metric": m,
            "headline": headline,
            "difference": {k: r[k] for k in ("baseline", "candidate", "difference", "low", "high")},
            "margin": r["margin"],
            "p_adjusted": r["p_adjusted"],
            "alpha": alpha,
            "rows": state.rows,
            "resamples": state.n_boot,
            "metrics": table,
        },
        root_cause=(
            f"on the same {state.rows:,} rows the candidate's {m} is worse than the baseline's by more "
            f"than the tolerated {r['margin']:.3g} in nearly every resample (Holm-adjusted p = "
            f"{r['p_adjusted']:.3g})"
        ),
        fix=ROLLBACK,
        impact=float(min(drop, 1.0)),
        primary_table="metrics",
    )


def _improvement(state: GateState, table: list[dict]) -> Finding | None:
    better = [r for r in table if _better(_diff(r), r["metric"])]
    if not better:
        return None
    words = "; ".join(f"{r['metric']} {_interval(_diff(r))}" for r in better)
    return Finding(
        code="gate.regression_overall",
        severity=INFO,
        title=f"The candidate is not worse than the baseline overall, and improves {words}",
        evidence={"improved": better, "metrics": table, "rows": state.rows, "resamples": state.n_boot},
        root_cause="the paired 95% interval of each listed difference lies on the better side of zero",
        show=True,
        primary_table="metrics",
    )


def _diff(r: dict[str, Any]) -> Difference:
    return Difference(
        r["baseline"], r["candidate"], r["difference"], r["low"], r["high"], r["p_worse"], r["margin"], 0
    )


@check(
    "gate.regression_slice",
    tasks=TASKS,
    requires=("model", "candidate"),
    max_drop=Param(
        0.01, Interval(float, 0, None), "largest tolerated drop of a metric inside a slice (as overall)"
    ),
    alpha=Param(0.05, ALPHA, "family-wise error rate over every slice and metric compared (Holm)"),
    min_share=Param(
        0.01,
        Interval(float, 0, 1, closed="neither"),
        "smallest share of the rows a slice must hold to gate the release (1%: smaller slices are "
        "listed, not gated)",
    ),
    search=Param(True, OfType(bool), "search for slices in both models' errors (besides named slices)"),
    max_order=Param(3, Interval(int, 1, 3), "most predicates in a slice the search finds"),
    top_k=Param(5, Interval(int, 1, None), "most slices each of the three searches returns"),
    search_alpha=Param(0.05, ALPHA, "family-wise error rate of the search's own confirmation tests"),
    min_rows=Param(30, Interval(int, 1, None), "fewest rows of a slice the search may return"),
)
def regression_slice(ctx: Context, p: Params) -> Findings:
    """The candidate model is significantly worse than the baseline on a slice of the rows.

    What it detects
        Slices of the evaluation rows (those named in `--slices FILE`, and those the error-analysis
        slice search finds in the baseline's errors, in the candidate's errors and where the
        candidate errs while the baseline does not) on which the candidate's headline metric (where
        defined on the slice) or its accuracy (MAE for regression) is worse than the baseline's by
        more than `max_drop`, with a paired bootstrap interval and Holm's correction over every
        slice and metric compared. Slices found by the search are compared on the half of the rows
        the search did not see (a slice chosen because the candidate looked bad there is not judged
        on the rows that chose it). Only slices holding at least `min_share` of the rows gate.
    Why it matters
        A candidate that is better on average can be much worse for a group of users, a region or a
        product line: the aggregate hides it and the release ships a regression to that group.
    How to confirm
        Compute both models' metric on the slice's rows (`evidence.slice`) and read the rows the
        candidate gets wrong there; a slice named in a file is re-checked at every release.
    Fix
        Keep the baseline for now; find why the candidate lost this slice (its training rows for
        the slice, a feature that changed, a reweighting), then retrain and gate again, adding the
        slice to the slices file so that every future release is gated on it.
    """
    state = gate_state(ctx)
    rows = slice_rows(state, p.max_drop, p.min_share)
    gated = [r for r in rows if r["gated"]]
    if not state.slices:
        return None
    adjusted: list[float] = list(holm([r["p_worse"] for r in gated])) if gated else []
    for r, a in zip(gated, adjusted):
        r["p_adjusted"] = float(a)
    worst: dict[int, dict[str, Any]] = {}
    for r in gated:
        if r["p_adjusted"] < p.alpha and (
            r["slice_index"] not in worst or r["p_adjusted"] < worst[r["slice_index"]]["p_adjusted"]
        ):
            worst[r["slice_index"]] = r
    return [_slice_finding(state, r, rows, p.alpha) for r in worst.values()]


def slice_rows(state: GateState, max_drop: float, min_share: float) -> list[dict[str, Any]]:
    """The per-slice table: one row per slice and metric compared."""
    out = []
    for i, sl in enumerate(state.slices):
        for r in metric_rows(state, sl.metrics, max_drop, prefix=f"slice:{i}:"):
            out.append(
                {
                    "slice_index": i,
                    "slice": sl.key,
                    "name": sl.name,
                    "source": SOURCES[sl.source],
                    "rows": sl.rows,
                    "share": sl.share,
                    "tested_rows": int(sl.tested.sum()),
                    "gated": sl.share >= min_share,
                    **r,
                }
            )
    return out


def _slice_finding(state: GateState, r: dict[str, Any], rows: list[dict], alpha: float) -> Finding:
    sl = state.slices[r["slice_index"]]
    m = r["metric"]
    return Finding(
        code="gate.regression_slice",
        severity=WARNING,
        title=(
            f"The candidate is worse on {sl.key} ({sl.share:.1%} of rows): {m} {_fmt(r['candidate'])} "
            f"vs {_fmt(r['baseline'])} for the baseline (difference {r['difference']:+.3g}, "
            f"95% interval [{r['low']:+.3g}, {r['high']:+.3g}])"
        ),
        columns=list(dict.fromkeys(q["column"] for q in sl.predicates)),
        slice=sl.predicates,
        evidence={
            "slice_name": sl.name,
            "source": SOURCES[sl.source],
            "rows": sl.rows,
            "share": sl.share,
            "tested_rows": int(sl.tested.sum()),
            "metric": m,
            "difference": {k: r[k] for k in ("baseline", "candidate", "difference", "low", "high")},
            "margin": r["margin"],
            "p_adjusted": r["p_adjusted"],
            "alpha": alpha,
            "slice": [
                {k: x.get(k) for k in SLICE_TABLE} for x in rows if x["slice_index"] == r["slice_index"]
            ],
        },
        root_cause=(
            f"inside the slice the candidate's {m} is worse than the baseline's by more than "
            f"{r['margin']:.3g} (Holm-adjusted p = {r['p_adjusted']:.3g} over every slice and metric "
            "compared); the aggregate does not show it"
        ),
        fix=(
            "Keep the baseline for now. Find why the candidate lost this slice (its share of the "
            "training rows, a feature that changed, a new sample weighting), retrain, and add the "
            "slice to the --slices file so that every release is gated on it."
        ),
        impact=float(sl.share),
        primary_table="slice",
    )


@check(
    "gate.calibration_regression",
    tasks=("binary", "multiclass"),
    requires=("model", "candidate"),
    max_increase=Param(
        0.01,
        Interval(float, 0, 1),
        "largest tolerated increase of the expected calibration error (absolute, on equal-mass bins)",
    ),
    alpha=Param(0.05, ALPHA, "significance level of the one-sided paired test"),
)
def calibration_regression(ctx: Context, p: Params) -> Findings:
    """The candidate model's probabilities are significantly less calibrated than the baseline's.

    What it detects
        The expected calibration error (equal-mass bins; binary: P(positive) against the label,
        multiclass: the top probability against being right) of both models on the same rows,
        with a paired bootstrap interval of the difference; it fails when the candidate's ECE is
        higher by more than `max_increase` with a one-sided p-value below `alpha`.
    Why it matters
        Probabilities feed thresholds, expected-value decisions and downstream models: a candidate
        that ranks as well but whose probabilities drifted changes every decision made from them.
    How to confirm
        Plot both reliability curves on these rows (`mltriage diagnose` on the candidate shows its
        own); the evidence gives both ECEs and the interval of the difference.
    Fix
        Recalibrate the candidate (isotonic or Platt scaling fitted on held-out rows, e.g.
        CalibratedClassifierCV(cv="prefit")) and gate again, or keep the baseline.
    """
    state = gate_state(ctx)
    if not state.has("ece"):
        raise NotApplicable("one of the models gives no probabilities")
    d = state.compare("ece", p.max_increase)
    if d.p_worse >= p.alpha:
        return None
    return Finding(
        code="gate.calibration_regression",
        severity=WARNING,
        title=(
            f"The candidate's probabilities are less calibrated: ECE {d.candidate:.3f} vs {d.baseline:.3f} "
            f"for the baseline (difference {_interval(d)})"
        ),
        evidence={"ece": d.to_dict(), "alpha": p.alpha, "rows": state.rows, "resamples": state.n_boot},
        root_cause=(
            "the candidate's predicted probabilities match the observed frequencies worse than the "
            f"baseline's, by more than {p.max_increase:.3g} in nearly every resample (p = {d.p_worse:.3g})"
        ),
        fix=(
            "Recalibrate the candidate on held-out rows (isotonic or Platt scaling, e.g. "
            "CalibratedClassifierCV(cv='prefit')) and gate again, or keep the baseline."
        ),
        impact=float(min(abs(d.diff), 1.0)),
    )


@check(
    "gate.positive_rate_shift",
    tasks=("binary",),
    requires=("model", "candidate"),
    max_relative_shift=Param(
        0.10,
        Interval(float, 0, None),
        "largest tolerated change of the predicted positive rate, as a share of the baseline's rate "
        "(0.10: 10% more or fewer alerts, approvals or flags)",
    ),
    alpha=Param(0.05, ALPHA, "significance level of the two-sided paired test"),
)
def positive_rate_shift(ctx: Context, p: Params) -> Findings:
    """The candidate model predicts the positive class at a significantly different rate.

    What it detects
        The share of rows each model predicts positive at the threshold in use, on the same rows,
        with a paired bootstrap interval of the difference; it fails when the rate moves, either
        way, by more than `max_relative_shift` of the baseline's rate (two-sided p below `alpha`).
    Why it matters
        The positive rate is the workload a model creates (alerts to review, loans refused, items
        flagged): a candidate that keeps its ROC AUC but shifts its scores changes that workload
        overnight at the same threshold.
    How to confirm
        Count both models' positive predictions on these rows at the threshold (`--threshold`);
        compare the score distributions of both models.
    Fix
        Set the candidate's own threshold so that it keeps the agreed positive rate (the evidence
        gives the candidate's score at the baseline's rate), or recalibrate it; then gate again
        with `--threshold`.
    """
    state = gate_state(ctx)
    if not state.has("positive_rate"):
        raise NotApplicable("no predicted positive rate (binary models only)")
    key = "positive_rate"
    base = state.point[f"baseline:{key}"]
    d = two_sided_shift(
        base,
        state.point[f"candidate:{key}"],
        state.boot[f"baseline:{key}"],
        state.boot[f"candidate:{key}"],
        tolerance=p.max_relative_shift * base,
    )
    if d.p_worse >= p.alpha:
        return None
    scores = state.sides["candidate"].score
    keep = float(np.quantile(scores[np.isfinite(scores)], 1 - base)) if 0 < base < 1 else None
    return Finding(
        code="gate.positive_rate_shift",
        severity=WARNING,
        title=(
            f"The candidate predicts the positive class for {d.candidate:.1%} of rows vs "
            f"{d.baseline:.1%} for the baseline (difference {d.diff * 100:+.1f} points, 95% interval "
            f"[{d.low * 100:+.1f}, {d.high * 100:+.1f}])"
        ),
        evidence={
            "positive_rate": d.to_dict(),
            "threshold": ctx.threshold,
            "candidate_threshold_at_baseline_rate": keep,
            "alpha": p.alpha,
        },
        root_cause=(
            "at the same threshold the candidate's scores put a different share of rows above it: its "
            "scores are on another scale (calibration changed) or its ranking changed near the threshold"
        ),
        fix=(
            "Choose the candidate's threshold for the agreed positive rate"
            + (f" (about {keep:.3g} keeps the baseline's rate)" if keep is not None else "")
            + ", or recalibrate it; then gate again with --threshold."
        ),
        impact=float(min(abs(d.diff), 1.0)),
    )
