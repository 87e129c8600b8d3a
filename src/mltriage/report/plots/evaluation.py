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


def _curve_at(curve: list[dict], key: str, t: float) -> float | None:
    """The curve's value at the threshold nearest `t` (the check puts the marked ones on it)."""
    r = min(curve, key=lambda r: abs(float(r["threshold"]) - t))
    return float(r[key]) if abs(float(r["threshold"]) - t) < 1e-3 else None


def _curve_text(curve: list[dict], key: str, name: str, cost: bool) -> str:
    """The curve in words: its range of thresholds and where it is best."""
    best = (min if cost else max)(curve, key=lambda r: float(r[key]))
    return (
        f" Over {len(curve)} thresholds from {fmt(curve[0]['threshold'])} to {fmt(curve[-1]['threshold'])}, "
        f"{name} is {'lowest' if cost else 'highest'} ({fmt(best[key])}) at {fmt(best['threshold'])}; "
        f"it is {fmt(curve[0][key])} at the lowest threshold and {fmt(curve[-1][key])} at the highest."
    )


def _y_label(e: dict, cost: bool, name: str = "F1") -> str:
    if not cost:
        return f"{name} (higher is better)"
    c = e.get("cost") or {}
    terms = ", ".join(f"{k}={float(v):g}" for k, v in c.items())
    return f"cost per row ({terms} per error)" if terms else "cost per row (cost units)"


@plot("evaluation.untuned_threshold")
def cost_threshold(f: Finding, report: Report) -> list[Chart]:
    """The cost per row (or F1) against the threshold, from the evidence's `curve`, with the
    threshold in use and the optimum marked; without a curve, only the two marked points."""
    e = f.evidence
    raw = e.get("curve")
    curve: list[dict] = raw if isinstance(raw, list) else []
    has_curve = len(curve) > 1
    cost = "cost_per_row_at_threshold" in e
    m = str(e.get("metric", "f1"))  # without a cost: the metric the threshold was tuned for
    name = (
        "cost per row"
        if cost
        else {"f1": "F1", "mcc": "MCC", "f1_macro": "macro F1"}.get(m, m.replace("_", " "))
    )
    key = "cost_per_row" if cost else m
    t0 = float(e["threshold_in_use"])
    if cost:
        t1, v0, v1 = (
            float(e["best_threshold"]),
            e["cost_per_row_at_threshold"],
            e["cost_per_row_at_best_in_sample"],
        )
        tuned = e.get("cost_per_row_tuned_cross_fitted")
    else:
        t1, v0, v1 = float(e[f"{m}_best_threshold"]), e[f"{m}_at_threshold"], e[f"{m}_tuned_cross_fitted"]
        tuned = None
    marks: list = []
    point_v1 = v1
    if has_curve:
        marks.append(
            Line([float(r["threshold"]) for r in curve], [float(r[key]) for r in curve], name, markers=False)
        )
        if not cost:  # the optimum's own F1 on these rows lies on the curve; the title keeps the honest one
            point_v1 = _curve_at(curve, key, t1) or v1
            tuned = v1
    marks += [
        Rule(t0, "x", f"in use {t0:g}", "alert"),
        Rule(t1, "x", f"optimum {t1:.2g}", "ok"),
        Points([t0, t1], [v0, point_v1], labels=[f"{fmt(v0)} in use", f"{fmt(point_v1)} at the optimum"]),
    ]
    if tuned is not None:
        marks.append(Rule(float(tuned), "y", "tuned, cross-fitted", "muted"))
    verb = "cuts the cost per row from" if cost else f"raises {name} from"
    xs = [float(r["threshold"]) for r in curve] if has_curve else [0.0, 1.0]
    return [
        Chart(
            title=f"Moving the threshold from {t0:g} to {t1:.2g} {verb} {fmt(v0)} to {fmt(v1)}",
            alt=f"{name[0].upper()}{name[1:]} at the threshold in use ({t0:g}): {fmt(v0)}; at the optimum ({t1:.2g}): {fmt(point_v1)}"
            + (
                f"; with the threshold tuned on other rows (cross-fitted): {fmt(tuned)}"
                if tuned is not None
                else ""
            )
            + "."
            + (_curve_text(curve, key, name, cost) if has_curve else ""),
            x_label="decision threshold (probability of the positive class)",
            y_label=_y_label(e, cost, name),
            marks=marks,
            x_min=min(0.0, min(xs)),
            x_max=max(1.0, max(xs)),
            y_min=min([0.0] + [float(r[key]) for r in curve]),
            y_max=1.0 if not cost else None,
            key="threshold",
        )
    ]
