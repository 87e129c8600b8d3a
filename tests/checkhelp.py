"""Helpers shared by the per-rung check tests: run one check function directly."""

from __future__ import annotations

from mltriage import registry


def run(fn, ctx, **over):
    """Call a registered check with its default parameters (overridden by `over`); a list back."""
    chk = fn.check
    return registry.run_check(chk, ctx, chk.resolve(over))


def alarms(findings):
    """The warning and critical findings."""
    return [f for f in findings if f.severity.value != "info"]
