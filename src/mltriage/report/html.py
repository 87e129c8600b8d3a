"""A self-contained HTML report (no external assets), for a browser or a notebook cell."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from ..findings import LAYERS, Finding
from .terminal import RUNG_TITLES, TITLES, fmt, headline_text, slice_text

if TYPE_CHECKING:
    from . import Report

CSS = """
.mlt{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;color:#222}
.mlt h2{margin:.2em 0}.mlt h3{border-bottom:1px solid #ddd;margin-top:1.2em}
.mlt .f{border-left:4px solid #888;padding:.4em .8em;margin:.6em 0;background:#fafafa}
.mlt .critical{border-color:#c62828}.mlt .warning{border-color:#f9a825}.mlt .info{border-color:#1565c0}
.mlt .sev{font-weight:bold;font-size:.8em;padding:1px 6px;border-radius:3px;color:#fff}
.mlt .sev.critical{background:#c62828}.mlt .sev.warning{background:#f9a825;color:#000}.mlt .sev.info{background:#1565c0}
.mlt code{background:#eee;padding:0 3px}.mlt table{border-collapse:collapse;font-size:.85em;margin:.3em 0}
.mlt td,.mlt th{border:1px solid #ddd;padding:2px 6px;text-align:left}.mlt .dim{color:#777;font-size:.85em}
.mlt .fix{color:#1b5e20}.mlt .cond{color:#6a1b9a}
"""


def _table(rows: list[dict], most: int = 15) -> str:
    cols = list(dict.fromkeys(k for r in rows[:most] for k in r))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(fmt(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows[:most]
    )
    more = f"<div class='dim'>{len(rows) - most} more rows in the JSON</div>" if len(rows) > most else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def render_html(report: Report, fragment: bool = False) -> str:
    c = report.case
    title = TITLES.get(report.command, report.command)
    out = [
        f"<div class='mlt'><style>{CSS}</style>",
        f"<h2>mltriage {escape(title)}</h2><div class='dim'>{escape(str(c.get('task')))} model on "
        f"<code>{escape(str(c.get('target')))}</code>; rows {escape(str(c.get('rows')))}; "
        f"model: {escape(str(c.get('model')))}</div>",
    ]
    if report.headline:
        out.append(f"<div>{escape(headline_text(report.headline))}</div>")
    if report.failed:
        out.append(
            f"<div class='cond'>{len(report.failed)} check(s) failed: "
            + escape("; ".join(f"{x['code']} ({x['error']})" for x in report.failed))
            + "</div>"
        )
    out.append(_top(report))
    for layer in LAYERS:
        fs = [f for f in report.findings if f.layer == layer]
        if fs:
            out.append(f"<h3>rung {escape(RUNG_TITLES[layer])}</h3>")
            out += [_finding(f) for f in fs]
        if layer == "model" and report.baselines:
            out.append("<div class='dim'>model baselines</div>" + _table(report.baselines["models"]))
    out.append(_footer(report))
    out.append("</div>")
    body = "".join(out)
    if fragment:
        return body
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>mltriage report</title></head>"
        f"<body>{body}</body></html>"
    )


def _top(report: Report) -> str:
    top = report.top()
    if not top:
        return "<p>No warning or critical finding.</p>"
    items = "".join(
        f"<li><b>{escape(f.code)}</b>: {escape(f.title)} <span class='fix'>{escape(f.fix)}</span></li>"
        for f in top
    )
    return f"<h3>Act on these first</h3><ol>{items}</ol>"


def _finding(f: Finding) -> str:
    sev = f.severity.value
    out = [
        f"<div class='f {sev}'><span class='sev {sev}'>{sev.upper()}</span> "
        f"<b>{escape(f.code)}</b> {escape(f.title)}"
    ]
    about = []
    if f.columns:
        about.append("columns: " + escape(", ".join(f.columns)))
    if f.classes:
        about.append("classes: " + escape(", ".join(map(str, f.classes))))
    if f.slice:
        about.append("slice: <code>" + escape(slice_text(f.slice)) + "</code>")
    if about:
        out.append("<div>" + " · ".join(about) + "</div>")
    sc = {k: v for k, v in f.evidence.items() if not isinstance(v, (list, dict))}
    if sc:
        out.append("<div class='dim'>" + escape("  ".join(f"{k}={fmt(v)}" for k, v in sc.items())) + "</div>")
    for k, v in f.evidence.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            out.append(f"<div class='dim'>{escape(k)}</div>" + _table(v))
    for cls, label, text in (
        ("", "why", f.root_cause),
        ("fix", "fix", f.fix),
        ("fix", "gain", f.gain),
        ("cond", "conditional on fixing", ", ".join(f.conditional_on)),
    ):
        if text:
            out.append(f"<div class='{cls}'>{label}: {escape(text)}</div>")
    out.append("</div>")
    return "".join(out)


def _footer(report: Report) -> str:
    out = []
    if report.notes:
        out.append("<p class='dim'>notes: " + escape("; ".join(report.notes)) + "</p>")
    if report.passed:
        out.append("<p class='dim'>passed: " + escape(", ".join(report.passed)) + "</p>")
    if report.not_applicable:
        out.append(
            "<p class='dim'>not applicable: "
            + escape("; ".join(f"{x['code']} ({x['reason']})" for x in report.not_applicable))
            + "</p>"
        )
    return "".join(out)
