"""A GitHub-flavoured markdown report, for a pull request comment or a ticket: the summary, the
findings to act on first, then every finding with its evidence tables. Plots are left out (or
linked to the HTML report). Kept under 65,000 characters, a PR comment's limit: past that,
info findings and then long tables are cut, and the cut is said."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..findings import LAYERS, Finding
from .terminal import RUNG_TITLES, TITLES, fmt, headline_text, positive_line, slice_text

if TYPE_CHECKING:
    from . import Report

LIMIT = 65_000
ICON = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def _cell(v: Any, width: int = 60) -> str:
    text = fmt(v).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def md_table(rows: list[dict], most: int = 10) -> str:
    if not rows:
        return ""
    cols = list(dict.fromkeys(k for r in rows[:most] for k in r))
    out = ["| " + " | ".join(_cell(c) for c in cols) + " |", "|" + " --- |" * len(cols)]
    out += ["| " + " | ".join(_cell(r.get(c)) for c in cols) + " |" for r in rows[:most]]
    if len(rows) > most:
        out.append(f"\n_{len(rows) - most} more rows in the JSON report_")
    return "\n".join(out)


def _finding(f: Finding, tables: int, rows: int) -> str:
    sev = f.severity.value
    out = [f"#### {ICON[sev]} {sev.upper()} `{f.code}`: {f.title}"]
    about = []
    if f.columns:
        about.append("columns: " + ", ".join(f"`{c}`" for c in f.columns[:12]))
    if f.classes:
        about.append("classes: " + ", ".join(map(str, f.classes)))
    if f.slice:
        about.append(f"slice: `{slice_text(f.slice)}`")
    if about:
        out.append(" · ".join(about))
    scalars = {k: v for k, v in f.evidence.items() if not isinstance(v, (list, dict))}
    if scalars:
        out.append("Evidence: " + ", ".join(f"{k} = {_cell(v, 30)}" for k, v in list(scalars.items())[:12]))
    listed = [
        (k, v)
        for k, v in f.evidence.items()
        if isinstance(v, list) and v and isinstance(v[0], dict) and k not in f.plot_data
    ]
    listed.sort(key=lambda kv: kv[0] != f.primary_table)
    for k, v in listed[:tables]:
        out.append(f"<details><summary>{k}</summary>\n\n{md_table(v, rows)}\n\n</details>")
    for label, text in (("Why", f.root_cause), ("Fix", f.fix), ("Expected gain", f.gain)):
        if text:
            out.append(f"**{label}:** {text}")
    if f.conditional_on:
        out.append(f"_Conditional: fix {', '.join(f.conditional_on)} first, then re-check._")
    return "\n\n".join(out)


def render_markdown(report: Report, html_link: str | None = None) -> str:
    """The report as markdown, under LIMIT characters."""
    for verbose, tables, rows in ((True, 3, 10), (False, 2, 8), (False, 1, 5), (False, 0, 0)):
        text = _render(report, html_link, verbose, tables, rows)
        if len(text) <= LIMIT:
            return text
    return text[: LIMIT - 200] + "\n\n_(cut at 65,000 characters: see the JSON or HTML report)_\n"


def _render(report: Report, html_link: str | None, verbose: bool, tables: int, rows: int) -> str:
    c = report.case
    counts = report.counts()
    r = c.get("rows") or {}
    out = [f"## mltriage {TITLES.get(report.command, report.command)}"]
    out.append(
        f"**{c.get('task')}** model on `{c.get('target')}`: "
        + ", ".join(f"{k} {v:,} rows" for k, v in r.items() if v)
        + f"; model: {c.get('model') or 'none'}"
    )
    if positive_line(c):
        out.append(str(positive_line(c)))
    if report.headline:
        out.append(headline_text(report.headline))
    verdict = f"**{counts['critical']} critical, {counts['warning']} warning**, {counts['info']} info"
    if report.failed:
        verdict += f"; **{len(report.failed)} check(s) failed**: " + "; ".join(
            f"`{x['code']}` ({x['error']})" for x in report.failed
        )
    out.append(verdict + (f" ({report.seconds:.1f}s)" if report.seconds else ""))
    if html_link:
        out.append(f"Plots and every table: [the HTML report]({html_link}).")
    top = report.top()
    if top:
        out.append("### Act on these first")
        out += [
            f"{i}. **`{f.code}`**: {f.title}. **Fix:** {f.fix}" + (f" **Gain:** {f.gain}" if f.gain else "")
            for i, f in enumerate(top, 1)
        ]
    else:
        out.append("No warning or critical finding.")
    hidden = 0
    for layer in LAYERS:
        fs = [f for f in report.findings if f.layer == layer]
        shown = [f for f in fs if verbose or f.severity.rank > 0 or f.show]
        hidden += len(fs) - len(shown)
        if shown:
            out.append(f"### Rung {RUNG_TITLES[layer]}")
            out += [_finding(f, tables, rows) for f in shown]
    if hidden:
        out.append(
            f"_{hidden} info findings left out to stay under the comment limit (see the JSON report)._"
        )
    if report.not_applicable:
        out.append(
            "<details><summary>Not applicable</summary>\n\n"
            + "\n".join(f"- `{x['code']}`: {x['reason']}" for x in report.not_applicable)
            + "\n\n</details>"
        )
    return "\n\n".join(out) + "\n"
