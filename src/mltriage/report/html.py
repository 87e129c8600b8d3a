"""A self-contained HTML report (no request leaves the page: inline style, inline SVG plots, a
small inline filter script), for a browser or a notebook cell.

Order: the summary a manager reads first (verdict, the findings to act on first in plain words,
the conditional ones greyed with what they wait for), navigation (contents by rung with counts by
severity, filters by severity and rung), then a section per rung with each finding's plots next
to it, and the checks that passed, did not apply or failed."""

from __future__ import annotations

import itertools
from html import escape
from typing import TYPE_CHECKING, Any

from ..findings import RUNG_NAMES, RUNGS, Finding, rung_of
from .assets import CSS, JS
from .plots import charts_for, figure, report_charts
from .summary import key_number, verdict, waiting
from .terminal import TITLES, fmt, headline_text, positive_line, slice_text

if TYPE_CHECKING:
    from . import Report

SEVERITIES = ("critical", "warning", "info")
_fragments = itertools.count(1)


def _table(rows: list[dict], most: int = 15) -> str:
    cols = list(dict.fromkeys(k for r in rows[:most] for k in r))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(fmt(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows[:most]
    )
    more = (
        f"<div class='dim'>{len(rows) - most} more rows in the JSON report</div>" if len(rows) > most else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


class Page:
    """One rendering: ids carry a prefix so two reports in one notebook do not collide."""

    def __init__(self, report: Report, uid: str) -> None:
        self.report = report
        self.uid = uid
        self.ids = {id(f): f"{uid}f{i}" for i, f in enumerate(report.findings, 1)}
        self.top = report.top()
        self.rank = {id(f): i for i, f in enumerate(self.top, 1)}
        self.n_fig = 0

    def figure_id(self) -> str:
        self.n_fig += 1
        return f"{self.uid}p{self.n_fig}"

    # ------------------------------------------------------------ header and summary
    def header(self) -> str:
        r, c = self.report, self.report.case
        rows = c.get("rows") or {}
        sizes = ", ".join(f"{k} {v:,} rows" for k, v in rows.items() if isinstance(v, int) and v)
        title = TITLES.get(r.command, r.command)
        out = [
            f"<h1>mltriage {escape(title)}</h1>",
            f"<div class='case'>{escape(str(c.get('task') or ''))} model on <code>{escape(str(c.get('target')))}</code>"
            f"{'; ' + escape(sizes) if sizes else ''}; {escape(str(c.get('features', '?')))} features; "
            f"model: {escape(str(c.get('model') or 'none'))}</div>",
        ]
        if positive_line(c):
            out.append(f"<div class='case'>{escape(str(positive_line(c)))}</div>")
        if r.headline:
            out.append(f"<div class='case'>{escape(headline_text(r.headline))}</div>")
        return "".join(out)

    def summary(self) -> str:
        r = self.report
        counts = r.counts()
        tone = "critical" if counts["critical"] else "warning" if counts["warning"] else "clean"
        out = [f"<section id='{self.uid}summary'><div class='verdict {tone}'>{escape(verdict(r))}</div>"]
        out.append(
            f"<div class='dim'>{counts['critical']} critical, {counts['warning']} warning, {counts['info']} info"
            f"{f'; {len(r.failed)} check(s) failed' if r.failed else ''}"
            f"{f'; {r.seconds:.1f}s' if r.seconds else ''}</div>"
        )
        if self.top:
            out.append("<h2>Act on these first</h2><div class='cards'>")
            out += [self.card(i, f) for i, f in enumerate(self.top, 1)]
            out.append("</div>")
        later = waiting(r, self.top)
        if later:
            out.append("<h3>Waiting on those fixes</h3><div class='cards'>")
            out += [self.card(None, f) for f in later]
            out.append("</div>")
        out.append("</section>")
        return "".join(out)

    def card(self, i: int | None, f: Finding) -> str:
        sev = f.severity.value
        num = key_number(f)
        big = (
            f"<div class='num'>{escape(num[0])}<small>{escape(num[1])}</small></div>"
            if num
            else "<div class='num'></div>"
        )
        anchor = f" id='{self.uid}top-{i}'" if i else ""
        lines = [
            f"<div class='what'>{f'#{i} ' if i else ''}<span class='sev {sev}'>{sev.upper()}</span> "
            f"{escape(f.title)} <a href='#{self.ids[id(f)]}' class='dim'>{escape(f.code)}</a></div>"
        ]
        for label, text in (("Root cause", f.root_cause), ("Fix", f.fix), ("Expected gain", f.gain)):
            if text:
                lines.append(f"<div><span class='lbl'>{label}:</span> {escape(text)}</div>")
        if f.conditional_on:
            lines.append(
                f"<div class='cond-note'>Waits for: {escape(', '.join(f.conditional_on))} (fix first, then re-check)</div>"
            )
        cls = " cond" if f.conditional_on else ""
        return f"<div class='card {sev}{cls}'{anchor}>{big}{''.join(lines)}</div>"

    # ------------------------------------------------------------ navigation
    def rungs(self) -> list[tuple[int, str, list[Finding]]]:
        out = []
        for number, name, _ in RUNGS:
            fs = [f for f in self.report.findings if rung_of(f.code) == number]
            if fs or (number == 3 and self.report.baselines):
                out.append((number, name, fs))
        workflow = [f for f in self.report.findings if rung_of(f.code) == 0]
        if workflow:  # gate, replay, compare, latency: their own section, after the ladder's
            out.append((0, RUNG_NAMES[0], workflow))
        return out

    def nav(self) -> str:
        items = []
        for number, name, fs in self.rungs():
            chips = "".join(
                f"<span class='n {s}' title='{s}'>{n}</span>"
                for s in SEVERITIES
                if (n := sum(f.severity.value == s for f in fs))
            )
            items.append(f"<li><a href='#{self.uid}rung-{number}'>{rung_label(number, name)}</a>{chips}</li>")
        if details_html(self.report.details):
            items.append(
                f"<li><a href='#{self.uid}details'>Details of the {escape(self.report.command)} command</a></li>"
            )
        items.append(f"<li><a href='#{self.uid}checks'>Checks run</a></li>")
        sev = "".join(
            f"<label><input type='checkbox' data-sev='{s}' checked> {s}</label>" for s in SEVERITIES
        )
        rung = "".join(
            f"<label><input type='checkbox' data-rung='{n}' checked> {n} {escape(name)}</label>"
            for n, name, _ in self.rungs()
        )
        return (
            f"<nav aria-label='contents'><b>Contents</b> <a href='#{self.uid}summary'>summary</a>"
            f"<ol>{''.join(items)}</ol><div class='filters'>Show severity: {sev}<br>Show rung: {rung}</div></nav>"
        )

    # ------------------------------------------------------------ rung sections
    def sections(self) -> str:
        out = []
        for number, name, fs in self.rungs():
            out.append(f"<section class='rung' id='{self.uid}rung-{number}' data-rung='{number}'>")
            out.append(f"<h2>{rung_label(number, name)}</h2>")
            out += [self.finding(f) for f in fs]
            if number == 3 and self.report.baselines:
                out.append(self.baselines())
            out.append("</section>")
        return "".join(out)

    def baselines(self) -> str:
        b = self.report.baselines or {}
        figs = "".join(figure(c, self.figure_id()) for c in report_charts(self.report))
        table = _table(
            [{k: v for k, v in m.items() if k not in ("key", "metric")} for m in b.get("models", [])]
        )
        return f"<div class='always'><h3>Model baselines</h3>{figs}<details><summary>table</summary>{table}</details></div>"

    def finding(self, f: Finding) -> str:
        sev = f.severity.value
        cond = " cond" if f.conditional_on else ""
        out = [
            f"<article class='finding {sev}{cond}' id='{self.ids[id(f)]}' data-severity='{sev}' "
            f"data-rung='{rung_of(f.code)}'><div class='head'><span class='sev {sev}'>{sev.upper()}</span> "
            f"<span class='code'>{escape(f.code)}</span> {escape(f.title)}</div>"
        ]
        about = _about(f)
        if about:
            out.append(f"<div class='dim'>{about}</div>")
        figs = "".join(figure(c, self.figure_id()) for c in charts_for(f, self.report))
        evidence = _evidence(f)
        if f.severity.rank > 0:
            out.append(
                figs
                + self.advice(f)
                + (f"<details><summary>evidence</summary>{evidence}</details>" if evidence else "")
            )
        else:
            out.append(f"<details><summary>plots and evidence</summary>{figs}{evidence}</details>")
        out.append("</article>")
        return "".join(out)

    def advice(self, f: Finding) -> str:
        i = self.rank.get(id(f))
        if i:
            return f"<div class='ref'>Root cause, fix and expected gain: see <a href='#{self.uid}top-{i}'>#{i} above</a>.</div>"
        out = []
        for cls, label, text in (
            ("", "Root cause", f.root_cause),
            ("fix", "Fix", f.fix),
            ("fix", "Expected gain", f.gain),
        ):
            if text:
                out.append(f"<div class='{cls}'><span class='lbl'>{label}:</span> {escape(text)}</div>")
        if f.conditional_on:
            out.append(
                f"<div class='cond-note'>Conditional: fix {escape(', '.join(f.conditional_on))} first, then re-check.</div>"
            )
        return "".join(out)

    # ------------------------------------------------------------ the rest
    def details(self) -> str:
        body = details_html(self.report.details)
        return f"<section id='{self.uid}details'><h2>Details</h2>{body}</section>" if body else ""

    def footer(self) -> str:
        r = self.report
        out = [f"<section id='{self.uid}checks'><h2>Checks run</h2>"]
        if r.failed:
            out.append(
                "<p><b>Failed to run:</b> "
                + escape("; ".join(f"{x['code']} ({x['error']})" for x in r.failed))
                + "</p>"
            )
        if r.passed:
            out.append(f"<p><b>Passed ({len(r.passed)}):</b> {escape(', '.join(r.passed))}</p>")
        for label, items in (("Not applicable", r.not_applicable), ("Skipped", r.skipped)):
            if items:
                out.append(
                    f"<details><summary>{label} ({len(items)})</summary><ul>"
                    + "".join(
                        f"<li><code>{escape(x['code'])}</code>: {escape(x['reason'])}</li>" for x in items
                    )
                    + "</ul></details>"
                )
        if r.notes:
            out.append("<p class='dim'>Notes: " + escape("; ".join(r.notes)) + "</p>")
        out.append("</section>")
        return "".join(out)


def _about(f: Finding) -> str:
    about = []
    if f.columns:
        about.append("columns: " + escape(", ".join(f.columns[:12])) + (" …" if len(f.columns) > 12 else ""))
    if f.classes:
        about.append("classes: " + escape(", ".join(map(str, f.classes))))
    if f.slice:
        about.append("slice: <code>" + escape(slice_text(f.slice)) + "</code>")
    return " · ".join(about)


def _evidence(f: Finding) -> str:
    out = []
    scalars = {k: v for k, v in f.evidence.items() if not isinstance(v, (list, dict))}
    if scalars:
        out.append(
            "<div class='scalars'>"
            + escape("  ".join(f"{k}={fmt(v)}" for k, v in scalars.items()))
            + "</div>"
        )
    tables = [(k, v) for k, v in f.evidence.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
    tables.sort(key=lambda kv: kv[0] != f.primary_table)
    out += [f"<div class='dim'>{escape(k)}</div>{_table(v)}" for k, v in tables]
    return "".join(out)


DRIFT_COLUMNS = ("column", "kind", "psi", "ks", "js", "wasserstein_norm", "p_value", "importance")


def _drift_rows(details: dict[str, Any]) -> list[dict]:
    """The per-feature drift table of a drift report (details["drift"]["features"]), by PSI."""
    feats = (details.get("drift") or {}).get("features") or {}
    if not isinstance(feats, dict):
        return []
    rows = sorted((f for f in feats.values() if isinstance(f, dict)), key=lambda f: -(f.get("psi") or 0))
    return [{**{k: f.get(k) for k in DRIFT_COLUMNS if k in f}, "verdict": _drift_verdict(f)} for f in rows]


def _drift_verdict(f: dict[str, Any]) -> str:
    if f.get("drifted"):
        return str(f.get("severity"))
    return "ok" if f.get("tested", True) else "untested"


def details_html(details: dict[str, Any]) -> str:
    """What is particular to the command: a drift report's per-feature table, and any table
    (a list of rows) it put under `details`."""
    out = []
    drift = _drift_rows(details)
    if drift:
        out.append(f"<h3>Per-feature drift ({len(drift)} features)</h3>{_table(drift, most=60)}")
    for k, v in details.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            out.append(f"<h3>{escape(k)}</h3>{_table(v, most=50)}")
    return "".join(out)


def render_html(report: Report, fragment: bool = False) -> str:
    uid = f"mlt{next(_fragments)}-" if fragment else ""
    page = Page(report, uid)
    body = (
        f"<div class='mlt' id='{uid}root'><style>{CSS}</style>"
        + page.header()
        + page.summary()
        + page.nav()
        + page.sections()
        + page.details()
        + page.footer()
        + f"<script>{JS % {'root': uid + 'root'}}</script></div>"
    )
    if fragment:
        return body
    target = escape(str(report.case.get("target", "")))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>mltriage {escape(TITLES.get(report.command, report.command))}: {target}</title></head>"
        f"<body>{body}</body></html>"
    )


def rung_label(number: int, name: str) -> str:
    """ "Rung 3: model", or the workflow section's own name (findings of gate, replay, ...)."""
    return escape(name.capitalize()) if number == 0 else f"Rung {number}: {escape(name)}"
