"""The Report: every finding of one run plus its context. Renderers (terminal, HTML, JSON) all
read this one object."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..findings import LAYERS, Finding, Severity, jsonable

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class Report:
    findings: list[Finding]
    case: dict[str, Any] = field(default_factory=dict)
    ladder: dict[str, Any] | None = None
    not_applicable: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float | None = None

    # ------------------------------------------------------------ queries
    def by_severity(self, at_least: str | Severity) -> list[Finding]:
        s = Severity.parse(at_least)
        return [f for f in self.findings if f.severity.rank >= s.rank]

    @property
    def alarms(self) -> list[Finding]:
        return self.by_severity("warning")

    def top(self, n: int = 3) -> list[Finding]:
        """The findings to act on first: most severe, lowest layer, highest impact."""
        order = {layer: i for i, layer in enumerate(LAYERS)}
        return sorted(
            self.alarms,
            key=lambda f: (-f.severity.rank, bool(f.conditional_on), order[f.layer], -(f.impact or 0)),
        )[:n]

    def codes(self, at_least: str = "warning") -> list[str]:
        return [f.code for f in self.by_severity(at_least)]

    def exit_code(self, fail_on: str = "critical") -> int:
        return EXIT_FINDINGS if self.by_severity(fail_on) else EXIT_OK

    # ------------------------------------------------------------ renderers
    def to_dict(self) -> dict[str, Any]:
        from .. import __version__

        counts = {s.value: sum(f.severity == s for f in self.findings) for s in Severity}
        return jsonable(
            {
                "tool": "mltriage",
                "version": __version__,
                "summary": {"counts": counts, "top": [f.code for f in self.top()], "seconds": self.seconds},
                "case": self.case,
                "findings": [f.to_dict() for f in self.findings],
                "ladder": self.ladder,
                "not_applicable": self.not_applicable,
                "skipped": self.skipped,
                "notes": self.notes,
                "timings": self.timings,
            }
        )

    def to_json(self, path: str | None = None, indent: int = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    def to_html(self, path: str | None = None) -> str:
        from .html import render_html

        text = render_html(self)
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    def __rich_console__(self, console, options):
        from .terminal import render

        yield from render(self, verbose=False)

    def _repr_html_(self) -> str:
        from .html import render_html

        return render_html(self, fragment=True)

    def __repr__(self) -> str:
        c = {s.value: sum(f.severity == s for f in self.findings) for s in Severity}
        return (
            f"<mltriage Report: {c['critical']} critical, {c['warning']} warning, "
            f"{c['info']} info; top: {', '.join(f.code for f in self.top()) or 'none'}>"
        )
