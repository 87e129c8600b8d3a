"""Error-analysis plots: the normalised confusion matrix with the confused pair highlighted
(errors.confused_classes) and the slice's error against the rest with intervals
(errors.underperforming_slice)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...stats.metrics import wilson
from ..terminal import fmt, slice_text
from . import plot
from .chart import Bars, Chart, Heat

if TYPE_CHECKING:
    from ...findings import Finding
    from .. import Report

MOST_CLASSES = 12


@plot("errors.confused_classes")
def confusion(f: Finding, report: Report) -> list[Chart]:
    e = f.evidence
    labels = [str(x) for x in e["labels"]]
    m = [[float(v) for v in row] for row in e["confusion_matrix_normalised"]]
    pair = [str(c) for c in (e.get("pair") or {}).get("classes", f.classes)]
    keep = list(range(len(labels)))
    if len(labels) > MOST_CLASSES:  # the pair, then the classes with the most errors
        off = sorted(keep, key=lambda i: m[i][i])
        keep = sorted(dict.fromkeys([labels.index(c) for c in pair if c in labels] + off))[:MOST_CLASSES]
    rows = [labels[i] for i in keep]
    matrix = [[m[i][j] for j in keep] for i in keep]
    hl = [(rows.index(a), rows.index(b)) for a in pair for b in pair if a != b and a in rows and b in rows]
    p = e.get("pair") or {}
    title = (
        f"{pair[0]} and {pair[1]} are mistaken for each other ({p.get('share_of_errors', 0):.0%} of errors)"
        if len(pair) == 2
        else "Confusion matrix (rows sum to 100%)"
    )
    return [
        Chart(
            title=title,
            alt="Share of each true class predicted as each class: "
            + "; ".join(f"{rows[i]} -> {rows[j]} {matrix[i][j]:.0%}" for i, j in hl)
            + f". Correct: {', '.join(f'{rows[i]} {matrix[i][i]:.0%}' for i in range(len(rows)))}.",
            x_label="predicted class",
            y_label="true class (each row sums to 100%)",
            layout="heat",
            marks=[Heat(matrix, rows, rows, hl)],
            note="" if len(keep) == len(labels) else f"{len(labels) - len(keep)} classes left out",
            key="confusion",
        )
    ]


@plot("errors.underperforming_slice")
def slice_vs_rest(f: Finding, report: Report) -> list[Chart]:
    e = f.evidence
    kind = str(e.get("error_kind", "error"))
    rate = "rate" in kind
    n_slice = int(e["slice_size"])
    n_rest = round(n_slice / e["slice_share"]) - n_slice if e.get("slice_share") else 0
    values = [float(e["slice_error"]), float(e["rest_error"])]
    cats = [f"the slice ({n_slice:,} rows)", f"the rest ({n_rest:,} rows)"]
    ci = e.get("ci") or [None, None]
    low: list[float | None] = [ci[0], None]
    high: list[float | None] = [ci[1], None]
    if rate and n_rest:
        low[1], high[1] = wilson(values[1] * n_rest, n_rest)
    conf = e.get("confirmation") or {}
    if conf.get("slice_error") is not None:
        cats.append(f"the slice, on rows not searched ({conf.get('rows', 0):,})")
        values.append(float(conf["slice_error"]))
        k = int(conf.get("rows") or 0)
        lo, hi = wilson(values[-1] * k, k) if rate and k else (None, None)
        low.append(lo)
        high.append(hi)
    where = slice_text(f.slice) or "the slice"
    return [
        Chart(
            title=f"{kind.capitalize()} {fmt(values[0])} in the slice vs {fmt(values[1])} elsewhere",
            alt=f"{kind} in {where}: {fmt(values[0])} (95% {fmt(low[0])} to {fmt(high[0])}); in the rest: "
            f"{fmt(values[1])}"
            + (f"; on confirmation rows: {fmt(values[2])}" if len(values) > 2 else "")
            + ".",
            x_label=kind + " (bars: 95% intervals)",
            y_label=where[:80],
            layout="bars",
            categories=cats,
            marks=[Bars(values, low, high, tones=["alert", "base", "accent"][: len(values)])],
            percent_x=rate,
            key="slice",
        )
    ]
