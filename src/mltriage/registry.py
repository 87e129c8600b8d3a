"""The registry of checks: one function per failure code.

A check is a plain function `fn(ctx, p) -> list[Finding] | Finding | None`, registered with the
`@check` decorator under its code. `ctx` is the run's `Context` (the validated case and every
shared, cached computation); `p` holds the check's tunable parameters (defaults declared in the
decorator, overridden by `mltriage.toml`, `[tool.mltriage]` or `--set CODE.NAME=VALUE`).

The decorator states what the check needs (`requires`: "model" means predictions of some kind,
"estimator" a real fitted object to inspect or refit, "current", "current_labels", "history",
"group", "time", "cost") and for which tasks it makes sense; the ladder runs only the checks whose
needs are met and lists the rest as not applicable, with the reason. A check that finds its inputs
unsuitable at run time raises `NotApplicable("why")`.

Its docstring has four fixed sections, used by `mltriage explain CODE` and the README's table:

    What it detects
        ...
    Why it matters
        ...
    How to confirm
        ...
    Fix
        ...

Adding a check is one function here (in the rung's module under `checks/`) and one test.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .findings import CODES, LAYERS, layer_of

TASKS = ("binary", "multiclass", "regression", "ranking")
REQUIREMENTS = {
    "model",
    "estimator",
    "proba",
    "current",
    "current_labels",
    "history",
    "group",
    "time",
    "cost",
}
DOC_SECTIONS = ("What it detects", "Why it matters", "How to confirm", "Fix")


class NotApplicable(Exception):
    """Raised by a check whose inputs do not allow it to run; the message says why."""


class Params(dict):
    """A check's parameters: a dict that also reads as attributes (`p.auc_gap`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no parameter {name!r}") from None


@dataclass
class Check:
    code: str
    fn: Callable
    tasks: tuple[str, ...]
    requires: frozenset[str]
    params: dict[str, Any]
    slow: bool
    doc: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def layer(self) -> str:
        return layer_of(self.code)

    @property
    def name(self) -> str:
        return self.fn.__name__


REGISTRY: dict[str, Check] = {}


def parse_doc(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a check's docstring into its summary line and its four sections."""
    text = inspect.cleandoc(doc or "")
    lines = text.splitlines()
    summary = lines[0].strip() if lines else ""
    sections: dict[str, list[str]] = {}
    current = None
    for line in lines[1:]:
        head = line.strip()
        if head in DOC_SECTIONS and not line.startswith(" "):
            current = head
            sections[current] = []
        elif current is not None:
            sections[current].append(line.strip())
    return summary, {k: re.sub(r"\s+", " ", " ".join(v)).strip() for k, v in sections.items()}


def check(
    code: str,
    *,
    tasks: Iterable[str] = TASKS,
    requires: Iterable[str] = (),
    slow: bool = False,
    **params: Any,
) -> Callable[[Callable], Callable]:
    """Register `fn` as the check for `code`. Keyword arguments are its default parameters."""
    if code not in CODES:
        raise ValueError(f"@check: unknown code {code!r}; add it to findings.CODES first")
    tasks = tuple(tasks)
    bad = [t for t in tasks if t not in TASKS] + [r for r in requires if r not in REQUIREMENTS]
    if bad:
        raise ValueError(f"@check({code!r}): unknown task or requirement {bad}")

    def register(fn: Callable) -> Callable:
        summary, doc = parse_doc(fn.__doc__)
        missing = [s for s in DOC_SECTIONS if not doc.get(s)]
        if missing:
            raise ValueError(f"check {fn.__name__} ({code}) lacks docstring sections {missing}")
        if code in REGISTRY and REGISTRY[code].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"code {code} is already registered by {REGISTRY[code].name}")
        REGISTRY[code] = Check(
            code=code,
            fn=fn,
            tasks=tasks,
            requires=frozenset(requires),
            params=dict(params),
            slow=slow,
            doc=doc,
            summary=summary,
        )
        fn.check = REGISTRY[code]
        return fn

    return register


def load_all() -> dict[str, Check]:
    """Import every rung's module so that its checks register; return the registry."""
    from . import checks  # noqa: F401  (checks/__init__.py imports each rung module)

    return REGISTRY


def ordered() -> list[Check]:
    """Registered checks in ladder order: by layer, then by registration order."""
    load_all()
    order = {layer: i for i, layer in enumerate(LAYERS)}
    items = list(REGISTRY.values())
    return sorted(items, key=lambda c: (order[c.layer], items.index(c)))
