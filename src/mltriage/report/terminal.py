"""The terminal report (rich): what to act on first, then the ladder rung by rung."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..findings import LAYERS, RUNGS, Finding, jsonable

STYLE = {"critical": "bold white on red", "warning": "bold black on yellow", "info": "bold white on blue"}
TITLES = {"diagnose": "diagnosis"}
RUNG_TITLES = {layer: f"{n} {name}" for n, name, layers in RUNGS for layer in layers} | {
    "gate": "release gate",
    "replay": "replay",
    "attribution": "attribution shift",
    "latency": "latency",
}


def fmt(v: Any) -> str:
    v = jsonable(v)
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) < 0.001:
            return f"{v:.2e}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.4g}"
    if isinstance(v, list) and v and not isinstance(v[0], (dict, list)):
        return "[" + ", ".join(fmt(x) for x in v[:8]) + (", …" if len(v) > 8 else "") + "]"
    if v is None:
        return "–"
    return str(v)


def slice_text(pred: list[dict]) -> str:
    parts = []
    for p in pred or []:
        v = p.get("value")
        parts.append(f"{p.get('column')} {p.get('op')} {fmt(v) if not isinstance(v, str) else repr(v)}")
    return " and ".join(parts)


def table_of(
    rows: list[dict],
    title: str | None = None,
    most: int = 10,
    max_cols: int | None = None,
    cell: int = 28,
    hint: str = "--verbose",
) -> Table:
    t = Table(title=title, title_justify="left", show_edge=False, header_style="bold dim", pad_edge=False)
    cols = list(dict.fromkeys(k for r in rows[:most] for k in r))
    hidden = len(cols) - max_cols if max_cols and len(cols) > max_cols else 0
    cols = cols[:max_cols] if max_cols else cols
    for c in column_labels([str(c) for c in cols], cell):
        # a header is never squeezed below its width (up to 12): squeezing falls on long cells,
        # which wrap rather than vanish
        t.add_column(
            Text(c, overflow="fold", no_wrap=False),
            overflow="fold",
            max_width=cell,
            min_width=min(len(c), 12),
        )
    for r in rows[:most]:
        t.add_row(*[_clip(fmt(r.get(c)), cell) for c in cols])
    more = []
    if len(rows) > most:
        more.append(f"{len(rows) - most} more rows")
    if hidden:
        more.append(f"{hidden} more columns")
    if more:
        t.caption = " and ".join(more) + f" in the JSON report (or {hint})"
    return t


def mid_abbrev(name: str, n: int) -> str:
    """Shorten a name to n characters by cutting its middle: the start and the end stay, so
    `cost_per_row_at_best_in_sample` and `cost_per_row_at_threshold` still read apart."""
    if len(name) <= n:
        return name
    head = (n - 1) // 2
    return name[:head] + "…" + name[len(name) - (n - 1 - head) :]


def column_labels(names: list[str], width: int) -> list[str]:
    """Column headers at most 2 lines of `width` (they wrap); a longer name is cut in the
    middle, and where two cut names would read alike, both keep their full text."""
    room = max(2 * width, 12)
    labels = [mid_abbrev(c, room) for c in names]
    for i, lab in enumerate(labels):
        if labels.count(lab) > 1:
            labels[i] = names[i]
    return labels


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def finding_block(f: Finding, verbose: bool, rank: int | None = None, hint: str = "--verbose") -> Group:
    """One finding under its rung. A finding already listed among those to act on first (`rank`)
    is referred to, not repeated: its title, fix and gain are in that list."""
    head = Text()
    head.append(f" {f.severity.value.upper()} ", style=STYLE[f.severity.value])
    head.append(f" {f.code} ", style="bold")
    head.append(f"see #{rank} above" if rank else f.title, style="italic" if rank else "")
    parts: list[Any] = [head]
    about = _about(f)
    if about:
        parts.append(Text("   " + "   ".join(about), style="cyan"))
    scalars = {k: v for k, v in f.evidence.items() if not isinstance(v, (list, dict))}
    if scalars:
        shown = list(scalars.items())[: (40 if verbose else 8)]
        parts.append(Text("   " + "  ".join(f"{k}={fmt(v)}" for k, v in shown), style="dim"))
    tables = [
        (k, v)
        for k, v in f.evidence.items()
        if isinstance(v, list)
        and v
        and isinstance(v[0], dict)
        and (verbose or f.severity.rank > 0)
        and k not in f.plot_data
    ]
    tables.sort(key=lambda kv: kv[0] != f.primary_table)
    for k, v in tables[: None if verbose else 1]:
        parts.append(
            table_of(
                v,
                title=f"   {k}",
                most=20 if verbose else 5,
                max_cols=None if verbose else 6,
                cell=60 if verbose else 24,
                hint=hint,
            )
        )
    parts += _advice(f, rank)
    return Group(*parts)


def _about(f: Finding) -> list[str]:
    about = []
    if f.columns:
        about.append("columns: " + ", ".join(f.columns[:10]) + (" …" if len(f.columns) > 10 else ""))
    if f.classes:
        about.append("classes: " + ", ".join(map(str, f.classes)))
    if f.slice:
        about.append("slice: " + slice_text(f.slice))
    return about


def _advice(f: Finding, rank: int | None) -> list[Text]:
    out = []
    if f.root_cause and f.severity.rank > 0:
        out.append(Text("   why: " + f.root_cause))
    if not rank and f.fix and f.severity.rank > 0:
        out.append(Text("   fix: " + f.fix, style="green"))
    if not rank and f.gain and f.severity.rank > 0:
        out.append(Text("   gain: " + f.gain, style="green"))
    if f.conditional_on:
        out.append(
            Text(
                "   conditional: fix " + ", ".join(f.conditional_on) + " first, then re-check",
                style="magenta",
            )
        )
    return out


def _rows_text(rows: dict, command: str = "diagnose") -> str:
    """The sets and their sizes: train/test(/current) for a diagnosis; reference vs batch for a
    batch-only comparison (where `train` holds the reference rows)."""
    if command == "gate":
        return f"{_count(rows.get('test'))} rows scored by both models"
    if command == "latency":
        return f"{_count(rows.get('train'))} rows timed"
    if command == "replay":
        ref = rows.get("reference") or rows.get("train")
        return f"{_count(rows.get('current'))} rows replayed" + (
            f", reference {_count(ref)} rows" if ref else ""
        )
    if rows.get("test") is None and rows.get("current") is not None:
        ref = rows.get("reference") or rows.get("train")
        return f"batch {_count(rows.get('current'))} rows against reference {_count(ref)} rows"
    text = f"train {_count(rows.get('train'))} rows, test {_count(rows.get('test'))}"
    return text + (f", current {_count(rows.get('current'))}" if rows.get("current") else "")


def _header(report: Any, verbose: bool, hint: str) -> Panel:
    c = report.case
    rows = c.get("rows", {})
    head = (
        f"[bold]{c.get('task')}[/] model"
        + (f" on target [bold]{c.get('target')}[/]" if c.get("target") else "")
        + f": {_rows_text(rows, report.command)}"
        f"; {c.get('features')} features; model: {c.get('model') or 'none'}"
    )
    counts = {s: sum(f.severity.value == s for f in report.findings) for s in ("critical", "warning", "info")}
    shown_info = sum(1 for f in report.findings if f.severity.rank == 0 and (verbose or f.show))
    verdict = (
        f"[red]{counts['critical']} critical[/], [yellow]{counts['warning']} warning[/], "
        f"{counts['info']} info"
        + ("" if verbose or not counts["info"] else f" ({shown_info} shown; {hint} for all)")
        + (f" in {report.seconds:.1f}s" if report.seconds else "")
    )
    lines = [head, escape(positive_line(c) or ""), headline_text(report.headline), verdict]
    if report.failed:
        n = len(report.failed)
        lines.append(
            f"[bold red]{n} check{'s' if n > 1 else ''} failed:[/] "
            + "; ".join(f"{x['code']} ({x['error']})" for x in report.failed)
        )
    return Panel(
        Text.from_markup("\n".join(x for x in lines if x)),
        title=f"mltriage {TITLES.get(report.command, report.command)}",
        title_align="left",
    )


def positive_line(case: dict[str, Any]) -> str | None:
    """Which class is positive in a binary report, and how it was chosen (None otherwise)."""
    from ..positive import describe

    return describe(case.get("positive_class"), case.get("positive_class_how"))


def _count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else fmt(n)


def _top_table(top: list[Finding]) -> Table:
    t = Table(title="Act on these first", title_justify="left", show_edge=False, header_style="bold")
    t.add_column("#")
    t.add_column("finding")
    t.add_column("fix")
    for i, f in enumerate(top, 1):
        gain_text = f"\ngain: {f.gain}" if f.gain else ""
        t.add_row(
            str(i),
            Text(f"{f.code}\n", style="bold") + Text(f.title),
            Text((f.fix or "") + gain_text, style="green"),
        )
    return t


def render(report: Any, verbose: bool = False, hint: str = "--verbose") -> Iterator[Any]:
    """The terminal report. `hint` is how the caller asks for everything (an option the command
    takes, e.g. "--verbose", or "to_text(verbose=True)" from Python)."""
    yield _header(report, verbose, hint)
    top = report.top()
    rank = {id(f): i for i, f in enumerate(top, 1)}
    if top:
        yield _top_table(top)
    else:
        yield Text("No warning or critical finding: nothing on the ladder looks wrong.", style="green")
    for layer in LAYERS:
        fs = [
            f
            for f in report.findings
            if f.layer == layer and (verbose or f.severity.rank > 0 or _informative(f))
        ]
        baselines = layer == "model" and report.baselines
        if not fs and not baselines:
            continue
        yield Text(f"\n── rung {RUNG_TITLES[layer]} " + "─" * 40, style="bold")
        for f in fs:
            yield finding_block(f, verbose, rank.get(id(f)), hint)
        if baselines:
            yield baselines_table(report.baselines)
    yield from _footer(report, verbose, hint)


def _footer(report: Any, verbose: bool, hint: str) -> Iterator[Text]:
    if report.notes:
        yield Text("\nnotes: " + "; ".join(report.notes), style="dim")
    if report.not_applicable:
        n = report.not_applicable
        msg = (
            "; ".join(f"{x['code']} ({x['reason']})" for x in n)
            if verbose
            else f"{len(n)} checks not applicable ({hint} lists them)"
        )
        yield Text("not applicable: " + msg, style="dim")
    if report.skipped:
        reasons: dict[str, int] = {}
        for x in report.skipped:
            reasons[x["reason"]] = reasons.get(x["reason"], 0) + 1
        yield Text("skipped: " + "; ".join(f"{n} ({why})" for why, n in reasons.items()), style="dim")


def _informative(f: Finding) -> bool:
    return f.show


def headline_text(h: dict | None) -> str:
    """The model's own score in one line: evaluation metric with its interval, training, best baseline."""
    if not h:
        return ""
    parts = []
    if h.get("test"):
        t = h["test"]
        parts.append(
            f"{h['metric']} on evaluation {fmt(t['value'])} (95% {fmt(t['low'])} to {fmt(t['high'])})"
        )
    if h.get("train"):
        parts.append(f"on training {fmt(h['train']['value'])}")
    if h.get("best_baseline"):
        b = h["best_baseline"]
        parts.append(f"best baseline {b['model']} {fmt(b['value'])} (cross-validated)")
    return "; ".join(parts)


def baselines_table(ladder: dict) -> Table:
    t = Table(
        title=f"   model baselines ({ladder['metric']}, {ladder['splitter']}, {ladder['folds']} folds, "
        f"{ladder['rows']:,} rows{', subsampled' if ladder.get('subsampled') else ''})",
        title_justify="left",
        show_edge=False,
        header_style="bold dim",
    )
    for col in ("model", "cv mean", "± sd", "train", "on test", "seconds"):
        t.add_column(col)
    for m in ladder["models"]:
        t.add_row(
            m["model"],
            fmt(m["cv_mean"]),
            fmt(m["cv_std"]),
            fmt(m["train_mean"]),
            fmt(m.get("eval_mean")),
            fmt(m["seconds"]) + (f"  ({m['error'][:60]})" if m.get("error") else ""),
        )
    t.caption = (
        "cv: held-out training folds; train: the folds' own training rows; on test: the "
        "same fold models on evaluation rows not in train (–: not scored; your model's own "
        "scores on training and evaluation rows are in the headline)"
    )
    return t
