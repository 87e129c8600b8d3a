"""The terminal view of `mltriage replay`'s trace (`Report.details`): each detailed row step by step
(what each step made of it), then one line per replayed row."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from .terminal import fmt

STATUS = {"ok": "", "error": "[bold red]raises[/]", "non_finite": "[bold red]NaN/inf[/]"}


def _value(v: Any) -> str:
    """A value as the step holds it: text quoted, numbers to 6 significant digits."""
    if isinstance(v, str):
        return v if v in ("nan", "inf", "-inf") else repr(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    return fmt(v)


def _values(entry: dict[str, Any], most: int) -> str:
    vals = entry.get("values") or {}
    if entry.get("role") == "drop":
        return "dropped: " + ", ".join(f"{k}={_value(v)}" for k, v in vals.items())
    text = ", ".join(f"{k}={_value(v)}" for k, v in vals.items())
    if entry.get("zero_columns_not_shown"):
        text += f" (+{entry['zero_columns_not_shown']} columns at 0)"
    return text if len(text) <= most else text[: most - 1] + "…"


def _columns(entry: dict[str, Any]) -> str:
    ins, outs = entry.get("input_columns") or [], entry.get("output_columns") or []
    if entry.get("role") in ("input", "passthrough") or ins == outs or entry.get("status") == "error":
        return f"{len(ins)}"
    return f"{len(ins)} → {len(outs)}"


def _row_title(row: int, line: dict[str, Any] | None) -> str:
    if not line:
        return f"row {row}"
    if line.get("outcome") == "error":
        return f"row {row}: [red]stopped at {line.get('stopped_at')}[/]"
    if line.get("outcome") == "non_finite":
        return f"row {row}: [red]NaN or inf at {line.get('stopped_at')}[/]"
    out = f"row {row}: prediction {fmt(line.get('prediction'))}"
    if line.get("label") is not None and line.get("label") != line.get("prediction"):
        out += f" (class {line['label']})"
    if "logged" in line:
        same = line.get("matches_logged")
        mark = "[green]matches[/]" if same else "[red]differs from[/]" if same is False else "vs"
        out += f", {mark} logged {fmt(line['logged'])}"
    return out


def _row_table(row: int, entries: list[dict[str, Any]], line: dict[str, Any] | None, verbose: bool) -> Table:
    t = Table(title=_row_title(row, line), title_justify="left", show_lines=False, expand=True)
    t.add_column("step", overflow="fold", max_width=30)
    t.add_column("class", overflow="fold", max_width=32)
    t.add_column("cols", no_wrap=True)
    t.add_column("ms/row", no_wrap=True, justify="right")
    t.add_column("output for this row", overflow="fold", ratio=1, min_width=30)
    for e in entries:
        role, status = e.get("role"), e.get("status", "ok")
        t.add_row(
            str(e.get("step")) + (f" {STATUS[status]}" if STATUS.get(status) else ""),
            str(e.get("class")) if role not in ("input", "drop", "passthrough") else str(role),
            _columns(e),
            fmt(e.get("ms_per_row")) if role != "input" else "",
            _values(e, 10_000 if verbose else 160),
        )
        if status == "error":
            t.add_row("", "", "", "", Text(str(e.get("error")), style="red"))
        elif status == "non_finite":
            cols = ", ".join(e.get("non_finite_columns") or [])
            t.add_row("", "", "", "", Text(f"NaN or inf in: {cols}", style="red"))
    return t


def _rows_table(lines: list[dict[str, Any]], most: int) -> Table:
    t = Table(title=f"replayed rows ({len(lines)})", title_justify="left")
    logged = any("logged" in ln for ln in lines)
    heads = (
        ["row", "outcome", "stopped at", "prediction"] + (["logged", "same"] if logged else []) + ["flags"]
    )
    for h in heads:
        t.add_column(h, overflow="fold")
    for ln in lines[:most]:
        cells = [
            str(ln["row"]),
            str(ln["outcome"]),
            str(ln.get("stopped_at") or ""),
            fmt(ln.get("prediction")),
        ]
        if logged:
            same = ln.get("matches_logged")
            cells += [fmt(ln.get("logged")), "–" if same is None else "yes" if same else "[red]no[/]"]
        t.add_row(*cells, str(ln.get("flags") or ""))
    if len(lines) > most:
        t.caption = f"{len(lines) - most} more rows in the JSON report (details.rows) or with --verbose"
    return t


def replay_trace(details: dict[str, Any], verbose: bool = False) -> list[RenderableType]:
    """The trace of each detailed row, then the table of replayed rows (when more than one)."""
    trace = details.get("trace") or []
    if not trace:
        return []
    lines = {ln["row"]: ln for ln in details.get("rows") or []}
    by_row: dict[int, list[dict[str, Any]]] = {}
    for e in trace:
        by_row.setdefault(int(e["row"]), []).append(e)
    out: list[RenderableType] = [_row_table(r, es, lines.get(r), verbose) for r, es in by_row.items()]
    meta = details.get("replay") or {}
    if len(lines) > 1:
        out.append(_rows_table(list(lines.values()), 10_000 if verbose else 20))
    if meta.get("replayed_rows", 0) > len(by_row):
        out.append(
            Text(
                f"step-by-step values shown for {len(by_row)} of {meta['replayed_rows']:,} replayed rows "
                f"(--set replay.step_error.max_detailed=N for more)",
                style="dim",
            )
        )
    return out
