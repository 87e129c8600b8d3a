"""Evaluation rung plots: the reliability curve with its interval band (evaluation.miscalibration)
and the cost (or F1) against the decision threshold (evaluation.untuned_threshold)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...stats.metrics import wilson
from ..terminal import fmt
from . import plot
from .chart import Band, Chart, Line, Points, Rule

if TYPE_CHECKING:
    from ...findings import Finding
    from .. import Report


@plot("evaluation.miscalibration")
def reliability(f: Finding, report: Report) -> list[Chart]:
    rows = [r for r in f.evidence["reliability"] if r.get("rows")]
    xs = [float(r["mean_predicted"]) for r in rows]
    ys = [float(r["observed"]) for r in rows]
    iv = [wilson(y * r["rows"], r["rows"]) for y, r in zip(ys, rows)]
    worst = max(range(len(rows)), key=lambda i: abs(ys[i] - xs[i]))
    what = f.evidence.get("probability", "the predicted class")
    return [
        Chart(
            title=f"Predicted {xs[worst]:.0%} comes true {ys[worst]:.0%} of the time (worst bin)",
            alt=f"Reliability curve of {what} over {len(rows)} bins of equal rows: "
            + "; ".join(f"predicted {x:.2f}, observed {y:.2f}" for x, y in zip(xs, ys))
            + f". ECE {fmt(f.evidence.get('ece'))}.",
            x_label=f"mean predicted probability of {what}, per bin",
            y_label="observed rate in the bin",
            marks=[
                Band(xs, [a for a, _ in iv], [b for _, b in iv], "95% interval"),
                Line([0.0, 1.0], [0.0, 1.0], "perfectly calibrated", "muted", dashed=True, markers=False),
                Line(xs, ys, "observed"),
            ],
            x_min=0.0,
            x_max=1.0,
            y_min=0.0,
            y_max=1.0,
            percent_x=True,
            percent_y=True,
            key="reliability",
        )
    ]


@plot("evaluation.untuned_threshold")
def cost_threshold(f: Finding, report: Report) -> list[Chart]:
    e = f.evidence
    curve = e.get("curve")
    cost = "cost_per_row_at_threshold" in e
    name = "cost per row" if cost else "F1"
    marks: list = []
    if isinstance(curve, list) and curve:
        key = "cost_per_row" if cost else "f1"
        marks.append(Line([r["threshold"] for r in curve], [r[key] for r in curve], name, markers=False))
    t0 = float(e["threshold_in_use"])
    if cost:
        t1, v0, v1 = (
            float(e["best_threshold"]),
            e["cost_per_row_at_threshold"],
            e["cost_per_row_at_best_in_sample"],
        )
        tuned = e.get("cost_per_row_tuned_cross_fitted")
    else:
        t1, v0, v1 = float(e["f1_best_threshold"]), e["f1_at_threshold"], e["f1_tuned_cross_fitted"]
        tuned = None
    marks += [
        Rule(t0, "x", f"in use {t0:g}", "alert"),
        Rule(t1, "x", f"optimum {t1:.2g}", "ok"),
        Points([t0, t1], [v0, v1], labels=[f"{fmt(v0)} in use", f"{fmt(v1)} at the optimum"]),
    ]
    if tuned is not None:
        marks.append(Rule(float(tuned), "y", "tuned, cross-fitted", "muted"))
    verb = "cuts the cost per row from" if cost else "raises F1 from"
    return [
        Chart(
            title=f"Moving the threshold from {t0:g} to {t1:.2g} {verb} {fmt(v0)} to {fmt(v1)}",
            alt=f"{name} at the threshold in use ({t0:g}): {fmt(v0)}; at the optimum ({t1:.2g}): {fmt(v1)}"
            + (
                f"; with the threshold tuned on other rows (cross-fitted): {fmt(tuned)}"
                if tuned is not None
                else ""
            )
            + ".",
            x_label="decision threshold (probability of the positive class)",
            y_label=name
            + (f" (fp={e['cost'].get('fp')}, fn={e['cost'].get('fn')})" if cost and e.get("cost") else ""),
            marks=marks,
            x_min=0.0,
            x_max=1.0,
            y_min=0.0,
            key="threshold",
        )
    ]
