"""Production rung plots: per-feature drift (PSI bars, and reference against batch distributions
of the top drifted features where their summaries exist), out-of-distribution rows against the
training range, and the performance drops (concept drift, estimated drop, prediction drift)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..terminal import fmt
from . import plot
from .chart import Bars, Chart, Points, Ranges, Rule

if TYPE_CHECKING:
    from ...findings import Finding
    from .. import Report

TOP_DISTRIBUTIONS = 3
TONE = {"critical": "alert", "warning": "accent"}


@plot("production.data_drift")
def data_drift(f: Finding, report: Report) -> list[Chart]:
    rows = sorted(f.evidence["drifted"], key=lambda r: -(r.get("psi") or 0))[:15]
    th = f.evidence.get("thresholds") or {}
    marks: list = [
        Bars(
            [float(r.get("psi") or 0) for r in rows],
            tones=[TONE.get(str(r.get("severity")), "base") for r in rows],
            name="PSI",
        )
    ]
    for key, tone in (("psi_warning", "accent"), ("psi_critical", "alert")):
        if th.get(key) is not None:
            marks.append(Rule(float(th[key]), "x", f"{key.split('_')[1]} at {th[key]:g}", tone))
    charts = [
        Chart(
            title=f"{len(f.evidence['drifted'])} feature(s) drifted; {rows[0]['column']} moved most "
            f"(PSI {fmt(rows[0].get('psi'))})",
            alt="Population stability index of each drifted feature, reference against the batch: "
            + "; ".join(f"{r['column']} {fmt(r.get('psi'))} ({r.get('severity')})" for r in rows)
            + ".",
            x_label="PSI, population stability index (0.1 moderate, 0.25 large)",
            layout="bars",
            categories=[str(r["column"]) for r in rows],
            marks=marks,
            key="psi",
        )
    ]
    features = ((report.details.get("drift") or {}).get("features")) or {}
    for r in rows[:TOP_DISTRIBUTIONS]:
        summary = r.get("summary") or (features.get(r["column"]) or {}).get("summary")
        chart = distribution(str(r["column"]), summary) if summary else None
        if chart:
            charts.append(chart)
    return charts


def distribution(name: str, s: dict[str, Any]) -> Chart | None:
    """Reference against batch from a drift summary: a numeric feature's range, median and mean;
    a categorical feature's shares of the categories that moved most."""
    if s.get("largest_moves"):
        moves = s["largest_moves"][:8]
        cats = [str(m["category"]) for m in moves]
        ref, cur = [float(m["share_ref"]) for m in moves], [float(m["share_cur"]) for m in moves]
        return Chart(
            title=f"{name}: category shares moved most for {cats[0]} ({ref[0]:.0%} -> {cur[0]:.0%})",
            alt=f"Share of each category of {name}, reference -> batch: "
            + "; ".join(f"{c} {a:.1%} -> {b:.1%}" for c, a, b in zip(cats, ref, cur))
            + ".",
            x_label="share of rows",
            layout="bars",
            categories=cats,
            marks=[
                Bars(ref, name="reference", tones=["muted"] * len(cats)),
                Points(cur, list(range(len(cats))), "batch", "alert"),
            ],
            percent_x=True,
            key="distribution",
        )
    if s.get("median_ref") is None or s.get("median_cur") is None:
        return None
    sides = [("reference", "ref", "muted"), ("batch", "cur", "alert")]
    return Chart(
        title=f"{name}: median {fmt(s['median_ref'])} in the reference, {fmt(s['median_cur'])} in the batch",
        alt=f"{name}: reference from {fmt(s.get('min_ref'))} to {fmt(s.get('max_ref'))}, median "
        f"{fmt(s['median_ref'])}, mean {fmt(s.get('mean_ref'))}; batch from {fmt(s.get('min_cur'))} to "
        f"{fmt(s.get('max_cur'))}, median {fmt(s['median_cur'])}, mean {fmt(s.get('mean_cur'))}.",
        x_label=f"{name} (bar: min to max; points: median)",
        layout="bars",
        categories=[label for label, _, _ in sides],
        marks=[
            Ranges(
                [s.get(f"min_{k}") for _, k, _ in sides],
                [s.get(f"max_{k}") for _, k, _ in sides],
                "muted",
                "min to max",
            ),
            Points([float(s[f"median_{k}"]) for _, k, _ in sides], [0.0, 1.0], "median", "alert"),
        ],
        key="distribution",
    )


@plot("production.out_of_distribution")
def out_of_distribution(f: Finding, report: Report) -> list[Chart]:
    rows = f.evidence["by_column"][:12]

    def rel(r: dict, v: float) -> float:
        lo, hi = r["train_range"]
        return (v - lo) / ((hi - lo) or 1.0)

    cats = [str(r["column"]) for r in rows]
    return [
        Chart(
            title=f"{f.evidence.get('share', 0):.1%} of batch rows lie far outside the training range",
            alt="Per column, the batch values outside the allowed range, against the training range: "
            + "; ".join(
                f"{r['column']} training {fmt(r['train_range'][0])} to {fmt(r['train_range'][1])}, batch "
                f"{fmt(r['batch_range_outside'][0])} to {fmt(r['batch_range_outside'][1])} ({r.get('rows')} rows)"
                for r in rows
            )
            + ".",
            x_label="value relative to the training range (0 = training min, 1 = training max)",
            layout="bars",
            categories=cats,
            marks=[
                Ranges([0.0] * len(rows), [1.0] * len(rows), "ok", "training range", -0.18),
                Ranges(
                    [rel(r, r["allowed"][0]) for r in rows],
                    [rel(r, r["allowed"][1]) for r in rows],
                    "muted",
                    "allowed",
                    0.0,
                ),
                Ranges(
                    [rel(r, r["batch_range_outside"][0]) for r in rows],
                    [rel(r, r["batch_range_outside"][1]) for r in rows],
                    "alert",
                    "batch rows outside",
                    0.18,
                ),
            ],
            key="ood",
        )
    ]


def _two_bars(title: str, alt: str, label: str, cats: list[str], vals: list[float], iv: Any = None) -> Chart:
    low: list[float | None] = [None] * len(vals)
    high: list[float | None] = [None] * len(vals)
    if iv:
        low[-1], high[-1] = iv
    return Chart(
        title=title,
        alt=alt,
        x_label=label,
        layout="bars",
        categories=cats,
        marks=[Bars(vals, low, high, tones=["base", "alert"])],
        key="drop",
    )


@plot("production.concept_drift")
def concept_drift(f: Finding, report: Report) -> list[Chart]:
    e = f.evidence
    m = e["metric"]
    return [
        _two_bars(
            f"{m} fell from {fmt(e['evaluation'])} on evaluation rows to {fmt(e['current'])} in production",
            f"{m} on the evaluation rows {fmt(e['evaluation'])}; on the labelled batch {fmt(e['current'])}; drop "
            f"{fmt(e['drop'])}.",
            f"{m} on labelled rows",
            ["evaluation rows", "production batch"],
            [float(e["evaluation"]), float(e["current"])],
        )
    ]


@plot("production.estimated_performance_drop")
def estimated_drop(f: Finding, report: Report) -> list[Chart]:
    e = f.evidence
    m = e["metric"]
    return [
        _two_bars(
            f"Estimated {m} in production {fmt(e['estimate'])} vs {fmt(e['reference'])} on the reference",
            f"{m} realised on the reference {fmt(e['reference'])}; estimated on the unlabelled batch "
            f"{fmt(e['estimate'])} (95% {fmt((e.get('interval') or [None])[0])} to "
            f"{fmt((e.get('interval') or [None, None])[1])}).",
            f"{m} (batch: estimated without labels, 95% interval)",
            ["reference (realised)", "batch (estimated)"],
            [float(e["reference"]), float(e["estimate"])],
            e.get("interval"),
        )
    ]


@plot("production.prediction_drift")
def prediction_drift(f: Finding, report: Report) -> list[Chart]:
    d = f.evidence.get("drift") or {}
    chart = distribution("the model's output", d.get("summary") or {})
    pr = f.evidence.get("positive_rate")
    charts = [chart] if chart else []
    if pr and pr.get("reference") is not None and pr.get("current") is not None:
        c = _two_bars(
            f"Predicted positive share moved from {pr['reference']:.0%} to {pr['current']:.0%}",
            f"Share of rows predicted positive at threshold {pr.get('threshold')}: reference "
            f"{pr['reference']:.1%}, batch {pr['current']:.1%}.",
            "share of rows predicted positive",
            ["reference", "batch"],
            [float(pr["reference"]), float(pr["current"])],
        )
        c.percent_x = True
        charts.append(c)
    return charts
