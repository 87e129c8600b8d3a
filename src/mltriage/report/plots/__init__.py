"""Plots for the HTML report, keyed by finding code: a check's plot is one small function that
turns the finding's evidence into Charts (chart.py), drawn as inline SVG (svg.py).

    chart.py       what a plot shows, as data (bars, ranges, lines, bands, points, rules, heat map)
    svg.py         draws a Chart as inline SVG with its text alternative
    scale.py       axes: nice ticks, tick labels, data-to-pixel scales
    model.py       model baselines with intervals; training history (model.divergence)
    evaluation.py  reliability curve (evaluation.miscalibration); cost against threshold
                   (evaluation.untuned_threshold)
    errors.py      confusion matrix (errors.confused_classes); slice against the rest
                   (errors.underperforming_slice)
    data.py        single-feature power (data.label_leakage); label-noise share (data.label_noise)
    production.py  drift PSI bars and distributions, out-of-distribution rows, performance drops
    ranking.py     NDCG of query groups, hard negatives and positives

A builder is `@plot("code") def f(finding, report) -> list[Chart]`; it returns [] where its
evidence is missing, so a plot is drawn only where the evidence exists."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING

from .chart import Chart

if TYPE_CHECKING:
    from ...findings import Finding
    from .. import Report

Builder = Callable[["Finding", "Report"], list[Chart]]
BUILDERS: dict[str, Builder] = {}
FAMILIES = ("model", "evaluation", "errors", "data", "production", "ranking")


def plot(*codes: str) -> Callable[[Builder], Builder]:
    """Register a plot builder for these finding codes."""

    def deco(fn: Builder) -> Builder:
        for code in codes:
            BUILDERS[code] = fn
        return fn

    return deco


def _load() -> None:
    for name in FAMILIES:  # each family registers its builders when imported (once)
        importlib.import_module(f"{__name__}.{name}")


def charts_for(finding: Finding, report: Report) -> list[Chart]:
    """The plots supporting one finding ([] when its evidence holds nothing to draw)."""
    _load()
    fn = BUILDERS.get(finding.code)
    if fn is None:
        return []
    try:
        return fn(finding, report)
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError):
        return []  # evidence of another shape than the builder knows: no plot rather than no report


def report_charts(report: Report) -> list[Chart]:
    """Plots of the report as a whole (not of one finding): the model baselines."""
    from .model import baselines_chart

    chart = baselines_chart(report)
    return [chart] if chart else []


def figure(chart: Chart, ident: str) -> str:
    """A chart as an HTML figure: the SVG, then the caption (the text alternative)."""
    from .svg import render

    note = f" <span class='dim'>{escape(chart.note)}</span>" if chart.note else ""
    return (
        f"<figure class='plot' id='{ident}'><div class='ptitle'>{escape(chart.title)}</div>{render(chart, ident)}"
        f"<figcaption>{escape(chart.alt)}{note}</figcaption></figure>"
    )


__all__ = ["BUILDERS", "Chart", "charts_for", "figure", "plot", "report_charts"]
