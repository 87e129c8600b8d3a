"""The terminal tables of `mltriage latency`: per batch size, per pipeline step, and the measured
options ranked (from `Report.details`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _ms(v: Any) -> str:
    if v is None:
        return "-"
    return "inf" if v == float("inf") else f"{v:.3g}"


def latency_tables(details: dict[str, Any]) -> list[Table]:
    out = []
    rows = details.get("latency") or []
    if rows:
        t = Table(
            title=f"latency of {details.get('method')} with {details.get('threads')} thread(s), ms per call",
            title_justify="left",
        )
        for h in ("batch", "calls", "p50", "p95", "p99", "ms per row", "rows/s"):
            t.add_column(h, justify="right")
        for r in rows:
            t.add_row(
                str(r["batch"]),
                str(r["reps"]),
                _ms(r["p50_ms"]),
                _ms(r["p95_ms"]),
                _ms(r["p99_ms"]),
                _ms(r["per_row_ms"]),
                f"{r['rows_per_s']:,.0f}",
            )
        out.append(t)
    steps = [r for r in details.get("steps") or [] if r["batch"] == 1]
    if len(steps) > 1:
        t = Table(title="pipeline steps on one row", title_justify="left")
        for h in ("step", "kind", "ms", "share"):
            t.add_column(h)
        for r in steps:
            t.add_row(("  " if r["part"] else "") + r["step"], r["kind"], _ms(r["ms"]), f"{r['share']:.0%}")
        out.append(t)
    options = details.get("options") or []
    if options:
        rate = details.get("qps")
        t = Table(title="options, measured (best first)", title_justify="left")
        t.add_column("#")
        t.add_column("option")
        t.add_column("change", ratio=3, overflow="fold")
        t.add_column("p99 at rate" if rate else "p99 (1 row)", justify="right")
        t.add_column("faster (median)", justify="right")
        t.add_column("accuracy change", justify="right")
        for r in options:
            p99 = _ms(r["p99_at_rate_ms"] if rate else r["p99_ms"])
            if rate and r.get("servable") is False:
                p99 = "unservable"
            acc = r["accuracy_change"]
            ref, p50 = r.get("reference_p50_ms") or options[0]["p50_ms"], r["p50_ms"]
            faster = f"{ref / p50:.2g}x" if ref and p50 and r["option"] != "current" else "-"
            t.add_row(
                str(r.get("rank", "")),
                r["option"],
                r["change"],
                p99,
                faster,
                "-" if acc is None else f"{acc:+.3g}",
            )
        out.append(t)
    return out
