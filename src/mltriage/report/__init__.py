"""The Report: every result of one run of a command. Renderers (terminal, HTML, JSON) all read
this one object, and every command (`diagnose`, `drift`, ...) returns one, with the same JSON
top-level keys; what is particular to a command sits under `details`."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..findings import Finding, Severity, jsonable, layer_order

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
TOP_LEVEL_KEYS = (
    "tool",
    "version",
    "command",
    "summary",
    "case",
    "findings",
    "passed",
    "not_applicable",
    "skipped",
    "failed",
    "baselines",
    "details",
    "notes",
    "timings",
)


@dataclass
class Report:
    findings: list[Finding]
    command: str = "diagnose"
    case: dict[str, Any] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)  # checks that ran and found nothing
    not_applicable: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)  # checks that crashed: {code, error, where}
    baselines: dict[str, Any] | None = None
    headline: dict[str, Any] | None = None  # the model's own scores (runner.model_headline)
    details: dict[str, Any] = field(default_factory=dict)  # what is particular to the command
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
        """The findings to act on first: most severe, not conditional, lowest rung, highest impact."""
        return sorted(
            self.alarms,
            key=lambda f: (-f.severity.rank, bool(f.conditional_on), layer_order(f.layer), -(f.impact or 0)),
        )[:n]

    def codes(self, at_least: str = "warning") -> list[str]:
        return [f.code for f in self.by_severity(at_least)]

    def counts(self) -> dict[str, int]:
        return {s.value: sum(f.severity == s for f in self.findings) for s in Severity}

    def exit_code(self, fail_on: str = "critical", strict: bool = False) -> int:
        """0 clean, 1 a finding at or above `fail_on` ("never": always 0), 2 with `strict` when a
        check crashed."""
        if strict and self.failed:
            return EXIT_BAD_INPUT
        if fail_on == "never":
            return EXIT_OK
        return EXIT_FINDINGS if self.by_severity(fail_on) else EXIT_OK

    # ------------------------------------------------------------ JSON
    def summary(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "top": [f.code for f in self.top()],
            "checks": {
                "ran": len(self.passed) + len({f.code for f in self.findings}),
                "passed": len(self.passed),
                "not_applicable": len(self.not_applicable),
                "skipped": len(self.skipped),
                "failed": len(self.failed),
            },
            "headline": self.headline,
            "seconds": self.seconds,
        }

    def to_dict(self) -> dict[str, Any]:
        from .. import __version__

        doc = {
            "tool": "mltriage",
            "version": __version__,
            "command": self.command,
            "summary": self.summary(),
            "case": self.case,
            "findings": [f.to_dict() for f in self.findings],
            "passed": self.passed,
            "not_applicable": self.not_applicable,
            "skipped": self.skipped,
            "failed": self.failed,
            "baselines": self.baselines,
            "details": self.details,
            "notes": self.notes,
            "timings": self.timings,
        }
        assert tuple(doc) == TOP_LEVEL_KEYS
        return jsonable(doc)

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path:
            _write(path, text)
        return text

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Report:
        if doc.get("tool") != "mltriage" or "findings" not in doc:
            raise InputError("not an mltriage JSON report", "pass a file written with --json")
        summary = doc.get("summary") or {}
        return cls(
            findings=[Finding.from_dict(f) for f in doc["findings"]],
            command=doc.get("command", "diagnose"),
            case=doc.get("case") or {},
            passed=list(doc.get("passed") or []),
            not_applicable=list(doc.get("not_applicable") or []),
            skipped=list(doc.get("skipped") or []),
            failed=list(doc.get("failed") or []),
            baselines=doc.get("baselines"),
            headline=summary.get("headline"),
            details=doc.get("details") or {},
            timings=doc.get("timings") or {},
            notes=list(doc.get("notes") or []),
            seconds=summary.get("seconds"),
        )

    @classmethod
    def load(cls, path: str | Path) -> Report:
        """Read a report saved with `to_json` / `--json` back."""
        p = Path(path)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"report {str(p)!r} does not exist", "check the path") from None
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot read report {str(p)!r}: {exc}", "pass a file written with --json"
            ) from None
        return cls.from_dict(doc)

    # ------------------------------------------------------------ renderers
    def to_html(self, path: str | Path | None = None) -> str:
        from .html import render_html

        text = render_html(self)
        if path:
            _write(path, text)
        return text

    def to_markdown(self, path: str | Path | None = None, html_link: str | None = None) -> str:
        """GitHub-flavoured markdown (under 65,000 characters, a PR comment's limit)."""
        from .markdown import render_markdown

        text = render_markdown(self, html_link=html_link)
        if path:
            _write(path, text)
        return text

    def to_text(
        self, verbose: bool = False, width: int = 110, hint: str = "report.to_text(verbose=True)"
    ) -> str:
        """The terminal rendering as plain text (`hint`: how the reader asks for every finding)."""
        from rich.console import Console

        from .terminal import render

        console = Console(
            width=width,
            record=True,
            color_system=None,
            force_terminal=False,
            force_jupyter=False,  # text, never a display of its own in a notebook
            file=io.StringIO(),
        )
        for part in render(self, verbose=verbose, hint=hint):
            console.print(part)
        return console.export_text()

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from .terminal import render

        yield from render(self, verbose=False, hint="report.to_text(verbose=True)")

    def _repr_html_(self) -> str:
        from .html import render_html

        return render_html(self, fragment=True)

    def __repr__(self) -> str:
        return self.to_text()

    def __str__(self) -> str:
        return self.to_text()


def _write(path: str | Path, text: str) -> None:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {str(p)!r}: {exc}", "check the folder is writable") from None
