"""Helpers shared by the per-rung check tests: run one check function directly."""

from __future__ import annotations

from mltriage.registry import Params


def run(fn, ctx, **over):
    """Call a registered check with its default parameters (overridden by `over`); a list back."""
    p = Params(dict(fn.check.params))
    p.update(over)
    out = fn(ctx, p)
    if out is None:
        return []
    return [out] if not isinstance(out, list) else out


def alarms(findings):
    """The warning and critical findings."""
    return [f for f in findings if f.severity.value != "info"]
