"""The terminal tables of `mltriage gate`: the metrics of both models with the paired intervals of
their differences, and the slices where the candidate loses most (from `Report.details`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.4g}"


def _diff(r: dict[str, Any]) -> str:
    return f"{r['difference']:+.3g} [{r['low']:+.3g}, {r['high']:+.3g}]"


def gate_tables(details: dict[str, Any], most: int = 6) -> list[Table]:
    """The metric table, then the slices where the candidate loses most (smallest p first)."""
    out = []
    metrics = details.get("metrics") or []
    if metrics:
        t = Table(
            title=f"gate: candidate vs baseline on {details.get('rows', 0):,} rows "
            f"({details.get('resamples')} paired resamples)",
            title_justify="left",
        )
        for h in ("metric", "baseline", "candidate", "difference [95% interval]"):
            t.add_column(h)
        for r in metrics:
            t.add_row(r["metric"], _num(r["baseline"]), _num(r["candidate"]), _diff(r))
        out.append(t)
    slices = sorted(details.get("slices") or [], key=lambda r: r.get("p_worse", 1.0))[:most]
    if slices:
        t = Table(title="slices where the candidate loses most", title_justify="left")
        t.add_column("slice", ratio=3, overflow="fold")
        for h in ("share", "metric", "baseline", "candidate", "difference [95% interval]"):
            t.add_column(h, ratio=1)
        for r in slices:
            t.add_row(
                str(r["slice"]),
                f"{r['share']:.1%}",
                r["metric"],
                _num(r["baseline"]),
                _num(r["candidate"]),
                _diff(r),
            )
        out.append(t)
    return out
