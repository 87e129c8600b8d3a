"""Ranking plots: NDCG of the underperforming query group against the other queries and a random
order, and the rates behind the hard negatives and hard positives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..terminal import fmt, slice_text
from . import plot
from .chart import Bars, Chart, Rule

if TYPE_CHECKING:
    from ...findings import Finding
    from .. import Report


@plot("ranking.underperforming_queries")
def queries(f: Finding, report: Report) -> list[Chart]:
    e = f.evidence
    key = next(k for k in e if k.startswith("ndcg@") and k.endswith("_slice"))
    at = key[len("ndcg@") : -len("_slice")]
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
    return [
        Chart(
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
    ]


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
