"""Data rung plots: the single-feature power behind data.label_leakage and the share of likely
wrong labels behind data.label_noise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..terminal import fmt
from . import plot
from .chart import Bars, Chart, Points, Rule

if TYPE_CHECKING:
    from ...findings import Finding
    from .. import Report


@plot("data.label_leakage")
def leakage(f: Finding, report: Report) -> list[Chart]:
    e = f.evidence
    rows = e["single_feature"][:12]
    metric = str(e.get("metric", "score"))
    scores = [float(r["score"]) for r in rows]
    marks: list = [
        Bars(
            scores,
            [r.get("low") for r in rows],
            [r.get("high") for r in rows],
            ["alert" if r["column"] in f.columns else "base" for r in rows],
            f"{metric} of one feature alone (95% interval)",
        )
    ]
    if e.get("other_features_together") is not None:
        marks.append(Rule(float(e["other_features_together"]), "x", "the other features together", "ok"))
    auc = metric.lower() in ("auc", "roc_auc")
    top = rows[0]
    nxt = f"; next feature {fmt(scores[1])}" if len(rows) > 1 else ""
    return [
        Chart(
            title=f"{top['column']} alone reaches {metric} {fmt(scores[0])}{nxt}",
            alt=f"Cross-validated {metric} of a model on each feature alone: "
            + "; ".join(f"{r['column']} {fmt(s)}" for r, s in zip(rows, scores))
            + (
                f". The other features together: {fmt(e['other_features_together'])}."
                if len(marks) > 1
                else "."
            ),
            x_label=f"cross-validated {metric} of the feature alone" + (" (0.5 = chance)" if auc else ""),
            layout="bars",
            categories=[str(r["column"]) for r in rows],
            marks=marks,
            x_min=0.5 if auc else None,
            x_max=1.0 if auc else None,
            key="leakage",
        )
    ]


def _noise_by_class(rows: list[dict], thr: float) -> Chart:
    """Per class, the share of its training rows flagged (with the Wilson interval) and the share
    calibrated probabilities would predict; the classes with the highest shares first (20 most)."""
    rows = sorted(rows, key=lambda r: -float(r["share"]))[:20]
    share = [float(r["share"]) for r in rows]
    expected = [float(r["expected"]) for r in rows if r.get("expected") is not None]
    above = [r.get("expected") is not None and float(r["low"]) > float(r["expected"]) for r in rows]
    marks: list = [
        Bars(
            share,
            [float(r["low"]) for r in rows],
            [float(r["high"]) for r in rows],
            ["alert" if a else "base" for a in above],
            "flagged share (95% Wilson interval)",
        )
    ]
    if len(expected) == len(rows):
        marks.append(Points(expected, list(range(len(rows))), "expected from calibrated probabilities", "ok"))
    top = rows[0]
    exp_top = f" vs about {float(top['expected']):.0%} expected" if top.get("expected") is not None else ""
    return Chart(
        title=f"Class {top['class']}: {share[0]:.0%} of its training labels flagged as likely wrong "
        f"(95% {float(top['low']):.0%}-{float(top['high']):.0%}){exp_top}",
        alt=f"Share of each class's training rows whose label gets an out-of-fold probability below {thr:g}: "
        + "; ".join(
            f"class {r['class']} {float(r['share']):.1%} of {r['rows']} rows (95% {float(r['low']):.1%}-"
            f"{float(r['high']):.1%})"
            + (f", {float(r['expected']):.1%} expected" if r.get("expected") is not None else "")
            for r in rows
        )
        + ".",
        x_label=f"share of the class's training rows whose label gets probability < {thr:g}",
        layout="bars",
        categories=[f"class {r['class']}" for r in rows],
        marks=marks,
        x_min=0.0,
        percent_x=True,
        note="red: the interval lies above the share calibrated probabilities predict" if any(above) else "",
        key="label_noise",
    )


@plot("data.label_noise")
def label_noise(f: Finding, report: Report) -> list[Chart]:
    """The share of likely wrong labels per class with intervals (the evidence's `by_class`);
    without it, observed against expected per model."""
    e = f.evidence
    thr = float(e.get("threshold", 0.1))
    by_class = e.get("by_class")
    if isinstance(by_class, list) and by_class:
        return [_noise_by_class(by_class, thr)]
    rows = e["table"]
    cats = [f"out-of-fold {r['model']}" for r in rows]
    observed = [float(r["observed"]) for r in rows]
    expected = [float(r["expected"]) for r in rows]
    return [
        Chart(
            title=f"{max(observed):.0%} of training labels get a probability below {thr:g}; "
            f"about {min(expected):.0%} expected",
            alt=f"Share of training labels whose out-of-fold probability is below {thr:g}, by model: "
            + "; ".join(
                f"{c} {o:.1%} observed vs {x:.1%} expected" for c, o, x in zip(cats, observed, expected)
            )
            + ".",
            x_label=f"share of training rows whose label gets probability < {thr:g}",
            layout="bars",
            categories=cats,
            marks=[
                Bars(observed, tones=["alert"] * len(rows), name="observed"),
                Points(expected, list(range(len(rows))), "expected from calibrated probabilities", "ok"),
            ],
            percent_x=True,
            key="label_noise",
        )
    ]
