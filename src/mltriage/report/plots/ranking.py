"""Ranking plots: the per-query NDCG distribution of the underperforming query group against the
other queries (or of all queries when no group stands out; the group's mean NDCG against the
others and a random order when the distribution is missing), and the rates behind the hard
negatives and hard positives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..terminal import fmt, slice_text
from . import plot
from .chart import Band, Bars, Chart, Line, Rule

if TYPE_CHECKING:
    from ...findings import Finding
    from .. import Report


def _step(edges: list[float], shares: list[float]) -> tuple[list[float], list[float]]:
    """A histogram's outline: each bin a flat step from its left edge to its right edge."""
    xs, ys = [], []
    for i, v in enumerate(shares):
        xs += [float(edges[i]), float(edges[i + 1])]
        ys += [v, v]
    return xs, ys


def _shares(counts: list[int]) -> list[float]:
    n = sum(counts)
    return [c / n if n else 0.0 for c in counts]


def _histogram(
    f: Finding, e: dict, hist: dict, at: str, mean_in: float | None, mean_out: float | None
) -> Chart:
    """The per-query NDCG distribution: the slice's queries against the others (shares of each
    group per bin), or all queries when no group stands out; the means marked."""
    edges = [float(x) for x in hist["edges"]]
    ndcg = f"NDCG@{at}"
    marks: list = []
    groups = (
        [
            ("these queries", hist["slice_counts"], "alert"),
            ("other queries", hist["other_counts"], "base"),
        ]
        if "slice_counts" in hist and "other_counts" in hist
        else [("all queries", hist["counts"], "base")]
    )
    words = []
    for name, counts, tone in groups:
        xs, ys = _step(edges, _shares(counts))
        marks += [
            Band(xs, [0.0] * len(xs), ys, "", tone),
            Line(xs, ys, f"{name} ({sum(counts)})", tone, markers=False),
        ]
        low = sum(c for c, lo in zip(counts, edges) if lo < 0.5)
        words.append(f"{name.capitalize()}: {sum(counts)} queries, {low / max(sum(counts), 1):.0%} below 0.5")
    ov = e.get("overview") or {}
    if mean_in is not None and mean_out is not None:
        marks += [
            Rule(mean_in, "x", f"these: mean {fmt(mean_in)}", "alert"),
            Rule(mean_out, "x", f"others: mean {fmt(mean_out)}", "base"),
        ]
        title = f"{ndcg} per query: these queries {fmt(mean_in)} on average vs {fmt(mean_out)} for the others"
    else:
        mean = ov.get(f"ndcg@{at}")
        if mean is not None:
            marks.append(Rule(float(mean), "x", f"mean {fmt(mean)}", "muted"))
        title = f"{ndcg} per query over {ov.get('queries', sum(hist['counts']))} queries: mean {fmt(mean)}, no group far below"
    peak = max(range(len(hist["counts"])), key=lambda i: hist["counts"][i])
    return Chart(
        title=title,
        alt=f"Distribution of {ndcg} per query in {len(edges) - 1} bins over 0 to 1 (share of each group's queries "
        f"per bin). "
        + "; ".join(words)
        + f". The fullest bin over all queries: {edges[peak]:g} to {edges[peak + 1]:g}."
        + (
            f" Means: these queries {fmt(mean_in)}, the others {fmt(mean_out)}."
            if mean_in is not None
            else ""
        ),
        x_label=f"{ndcg} of a query (1 = ideal order)",
        y_label="share of the group's queries per bin",
        marks=marks,
        x_min=0.0,
        x_max=1.0,
        y_min=0.0,
        percent_y=True,
        key="ndcg",
    )


def _means_bars(f: Finding, e: dict, key: str, at: str) -> Chart:
    """Without the distribution: the mean NDCG of the slice, the others and a random order."""
    ndcg = f"NDCG@{at}"
    vals = [
        e[key],
        e[f"ndcg@{at}_other"],
        e.get(f"random_order_ndcg@{at}_slice"),
        e.get(f"random_order_ndcg@{at}_other"),
    ]
    cats = [
        f"these queries ({e.get('queries')})",
        "the other queries",
        "these queries, random order",
        "the others, random order",
    ]
    keep = [i for i, v in enumerate(vals) if v is not None]
    marks: list = [
        Bars([float(vals[i]) for i in keep], tones=[["alert", "base", "muted", "muted"][i] for i in keep])
    ]
    ov = e.get("overview") or {}
    if ov.get(f"ndcg@{at}") is not None:
        marks.append(Rule(float(ov[f"ndcg@{at}"]), "x", f"mean over all {ov.get('queries')} queries", "ok"))
    return Chart(
        title=f"{ndcg} {fmt(vals[0])} for these queries vs {fmt(vals[1])} for the others",
        alt=f"Mean {ndcg} per query group: "
        + "; ".join(f"{cats[i]} {fmt(vals[i])}" for i in keep)
        + (
            f". Over all queries {fmt(ov.get(f'ndcg@{at}'))}, 95% {fmt((ov.get(f'ndcg@{at}_ci') or [None])[0])} to {fmt((ov.get(f'ndcg@{at}_ci') or [None, None])[1])}."
            if ov
            else "."
        ),
        x_label=f"mean {ndcg} per query (1 = ideal order)",
        y_label=slice_text(f.slice)[:80],
        layout="bars",
        categories=[cats[i] for i in keep],
        marks=marks,
        x_min=0.0,
        x_max=1.0,
        key="ndcg",
    )


@plot("ranking.underperforming_queries")
def queries(f: Finding, report: Report) -> list[Chart]:
    """The per-query NDCG distribution (the evidence's `ndcg_histogram`), the slice's queries
    against the others; without it, the mean NDCG of each group as bars."""
    e = f.evidence
    key = next((k for k in e if k.startswith("ndcg@") and k.endswith("_slice")), None)
    hist = e.get("ndcg_histogram")
    ov = e.get("overview") or {}
    at = key[len("ndcg@") : -len("_slice")] if key else str(ov.get("k", 10))
    if isinstance(hist, dict) and hist.get("counts"):
        mean_in = float(e[key]) if key else None
        mean_out = float(e[f"ndcg@{at}_other"]) if key else None
        return [_histogram(f, e, hist, at, mean_in, mean_out)]
    if key is None:
        return []  # no group stands out and no distribution: nothing to draw
    return [_means_bars(f, e, key, at)]


@plot("ranking.hard_negatives", "ranking.hard_positives")
def hard_items(f: Finding, report: Report) -> list[Chart]:
    e = f.evidence
    key = next(k for k in e if k.startswith("rate_") and k != "rate_other_items")
    what = key[len("rate_") :].replace("_", " ")
    kind = "irrelevant" if f.code.endswith("negatives") else "relevant"
    vals = [float(e[key]), float(e["rate_other_items"])]
    return [
        Chart(
            title=f"{vals[0]:.0%} of these {kind} items land {what}, vs {vals[1]:.0%} of the other {kind} items",
            alt=f"Share of {kind} items {what}: those in {slice_text(f.slice) or 'the group'} ({e.get('items')} items) "
            f"{vals[0]:.1%}; the other {kind} items {vals[1]:.1%}.",
            x_label=f"share of {kind} items {what}",
            y_label=slice_text(f.slice)[:80],
            layout="bars",
            categories=[f"these items ({e.get('items')})", f"other {kind} items"],
            marks=[Bars(vals, tones=["alert", "base"])],
            percent_x=True,
            key="hard_items",
        )
    ]
