"""The measured alternative to the hand-written SVG plots: the same Charts drawn by matplotlib as
inline SVG (text kept as text: svg.fonttype='none'). Used by bench_report.py --candidate
matplotlib to compare file size, build time and browser render time on the same report."""

from __future__ import annotations

import io
import re

from mltriage.report.plots.chart import Band, Bars, Chart, Heat, Line, Points, Ranges, Rule
from mltriage.report.plots.svg import COLOURS


def _plt():
    import matplotlib

    matplotlib.use("svg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt

    return plt


def _bars(ax, chart: Chart) -> None:
    ys = list(range(len(chart.categories)))
    for m in chart.marks:
        if isinstance(m, Bars):
            colours = [COLOURS[t] for t in (m.tones or ["base"] * len(m.values))]
            ax.barh(
                ys,
                [v - m.start for v in m.values],
                left=m.start,
                color=colours,
                alpha=0.85,
                label=m.name or None,
            )
            for i, (lo, hi) in enumerate(zip(m.low or [], m.high or [])):
                if lo is not None and hi is not None:
                    ax.plot([lo, hi], [i, i], color="#222", lw=1.4)
        elif isinstance(m, Ranges):
            for i, (lo, hi) in enumerate(zip(m.low, m.high)):
                if lo is not None and hi is not None:
                    ax.plot(
                        [lo, hi],
                        [i + m.offset] * 2,
                        color=COLOURS[m.tone],
                        lw=6,
                        label=m.name if i == 0 else None,
                    )
        elif isinstance(m, Points):
            ax.scatter(m.xs, m.ys, color=COLOURS[m.tone], zorder=3, label=m.name or None)
        elif isinstance(m, Rule):
            ax.axvline(m.value, color=COLOURS[m.tone], ls="--", label=m.name or None)
    ax.set_yticks(ys, chart.categories)
    ax.invert_yaxis()


def _xy(ax, chart: Chart) -> None:
    for m in chart.marks:
        if isinstance(m, Band):
            ax.fill_between(m.xs, m.low, m.high, color=COLOURS[m.tone], alpha=0.18, label=m.name or None)
        elif isinstance(m, Line):
            ax.plot(m.xs, m.ys, color=COLOURS[m.tone], ls="--" if m.dashed else "-", marker="o" if m.markers else None,
                    label=m.name or None)  # fmt: skip
        elif isinstance(m, Points):
            ax.scatter(m.xs, m.ys, color=COLOURS[m.tone], zorder=3, label=m.name or None)
        elif isinstance(m, Rule):
            (ax.axvline if m.axis == "x" else ax.axhline)(
                m.value, color=COLOURS[m.tone], ls="--", label=m.name or None
            )
    if chart.log_y:
        ax.set_yscale("log")


def _heat(ax, chart: Chart) -> None:
    h = next(m for m in chart.marks if isinstance(m, Heat))
    ax.imshow(h.matrix, cmap="Blues", vmin=0, vmax=1)
    for i, row in enumerate(h.matrix):
        for j, v in enumerate(row):
            ax.text(
                j, i, f"{v:.0%}", ha="center", va="center", fontsize=8, color="white" if v > 0.55 else "black"
            )
    ax.set_xticks(range(len(h.cols)), h.cols, rotation=40)
    ax.set_yticks(range(len(h.rows)), h.rows)


def render(chart: Chart, ident: str) -> str:
    plt = _plt()
    n = max(len(chart.categories), 2)
    fig, ax = plt.subplots(figsize=(6.0, 3.2 if chart.layout != "bars" else 1.0 + 0.3 * n))
    {"bars": _bars, "xy": _xy, "heat": _heat}[chart.layout](ax, chart)
    ax.set_title(chart.title, fontsize=10)
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    lo_x, hi_x = chart.x_min, chart.x_max
    if chart.layout != "heat" and (lo_x is not None or hi_x is not None):
        ax.set_xlim(left=lo_x, right=hi_x)
    if chart.layout != "heat" and any(getattr(m, "name", "") for m in chart.marks):
        ax.legend(fontsize=7)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    label = chart.title.replace("&", "&amp;").replace("'", "&#x27;").replace("<", "&lt;")
    # the same text alternative as the hand-written SVG
    text = re.sub(r"<svg ", f"<svg role='img' aria-label='{label}' class='chart' ", text, count=1)
    return text.replace("<metadata>", f"<title>{label}</title><metadata>", 1)
