"""The registry of checks: one function per failure code, with a declared contract.

A check is a typed function registered under its code:

    @check(
        "model.overfit",
        requires=("model",),
        auc_gap=Param(0.10, Interval(float, 0, 1), "largest train-minus-held-out AUC gap that passes"),
    )
    def overfit(ctx: Context, p: Params) -> Findings:
        '''One-line summary.

        What it detects
            ...
        Why it matters
            ...
        How to confirm
            ...
        Fix
            ...
        '''

- `ctx` is the run's `Context` (the validated case and every shared, cached computation).
- `p` holds the check's parameters. Each is declared with a default, a constraint (`Interval`,
  `Options`, a type) and a line of doc, as scikit-learn's `_param_validation.py` does, so that
  `--set CODE.NAME=VALUE` and `[checks."CODE"]` in the config file are validated with one message
  format and `mltriage explain CODE` lists them. Reading an undeclared name (`p.auc_gpa`) fails
  the contract test (`undeclared_reads`, run over every check by tests/test_contract.py), not a
  user's run; it is not parsed at import, which would cost every run ~0.2 s of CPU.
- `requires` names what the check needs, from the one table `REQUIREMENTS`; the runner lists a
  check whose needs are not met as not applicable, with the table's reason. A check that finds
  its inputs unsuitable at run time raises `NotApplicable("why")`.
- It returns a list of findings of its own code (or one, or None): an empty result means it ran
  and passed.

The docstring has four fixed sections, used by `mltriage explain CODE` and the README's table.
Adding a check is this one function (in its rung's package under `checks/`) and its two tests, a
case where it fires and one where it stays silent (`python -m mltriage.dev new-check CODE` writes
all three).
"""

from __future__ import annotations

import ast
import inspect
import numbers
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from .errors import InputError, closest
from .findings import CODES, TASKS, Finding, layer_of, rung_of

if TYPE_CHECKING:
    from .context import Context

DOC_SECTIONS = ("What it detects", "Why it matters", "How to confirm", "Fix")

Findings = Union[list[Finding], Finding, None]


class NotApplicable(Exception):
    """Raised by a check whose inputs do not allow it to run; the message says why."""


# ------------------------------------------------------------------------------------ requirements


@dataclass(frozen=True)
class Requirement:
    """A need of a check: a test on the run's Case and the reason shown when it is not met."""

    test: Callable[[Any], bool]
    reason: str


def _has_model(c: Any) -> bool:
    return c.model is not None


REQUIREMENTS: dict[str, Requirement] = {
    "model": Requirement(_has_model, "no model and no prediction column were given"),
    "estimator": Requirement(
        lambda c: _has_model(c) and c.model.kind != "precomputed",
        "needs a fitted model object (not precomputed predictions)",
    ),
    "proba": Requirement(_has_model, "no model and no prediction column were given"),
    "evaluation": Requirement(
        lambda c: c.has_evaluation, "no training and evaluation sets (this command compares a batch only)"
    ),
    "current": Requirement(
        lambda c: c.current is not None or getattr(c, "current_profile", None) is not None,
        "no production batch (--current) was given",
    ),
    "current_labels": Requirement(lambda c: c.has_current_labels, "the production batch has no labels"),
    "history": Requirement(lambda c: c.history is not None, "no training history (--history) was given"),
    "group": Requirement(lambda c: c.group_column is not None, "no group (query) column was given"),
    "time": Requirement(lambda c: c.time_column is not None, "no time column was given"),
    "logged": Requirement(
        lambda c: (
            c.current is not None and bool(c.prediction_column) and c.prediction_column in c.current.columns
        ),
        "no logged prediction (--logged-prediction or --prediction-column) was given",
    ),
    "cost": Requirement(
        lambda c: c.cost is not None or c.cost_matrix is not None,
        "no cost of errors (--cost or --cost-matrix) was given",
    ),
    "model_b": Requirement(lambda c: c.model_b is not None, "no second model (--model-b) was given"),
    "segment": Requirement(lambda c: c.segment is not None, "no segment (--segment) was given"),
    "target": Requirement(
        lambda c: bool(c.target) and c.has_current_labels, "no --target given, or the current rows lack it"
    ),
    "candidate": Requirement(
        lambda c: c.candidate is not None, "no candidate model (--candidate or --candidate-column) was given"
    ),
    "candidate_estimator": Requirement(
        lambda c: (
            c.candidate is not None
            and c.candidate.kind != "precomputed"
            and _has_model(c)
            and c.model.kind != "precomputed"
        ),
        "needs both models as fitted objects (logged outputs cannot be timed)",
    ),
    "latency_target": Requirement(
        lambda c: c.target_p99_ms is not None, "no latency target (--target-p99-ms) was given"
    ),
}


# ------------------------------------------------------------------------------------ parameters


class Constraint:
    """What values a parameter takes; `describe()` is shown in messages and `explain`."""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def coerce(self, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class Interval(Constraint):
    """A real or integral number in [left, right] (None: unbounded); `closed` as in scikit-learn."""

    kind: type
    left: float | None = None
    right: float | None = None
    closed: str = "both"  # "both", "left", "right" or "neither"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind is int and not float(value).is_integer():
            return False
        value = float(value)
        lo_ok = (
            self.left is None or value > self.left or (value == self.left and self.closed in ("both", "left"))
        )
        hi_ok = (
            self.right is None
            or value < self.right
            or (value == self.right and self.closed in ("both", "right"))
        )
        return bool(lo_ok and hi_ok)

    def coerce(self, value: Any) -> Any:
        return int(value) if self.kind is int else float(value)

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        if self.left is None and self.right is None:
            return what
        lb = "[" if self.closed in ("both", "left") and self.left is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        lo = "-inf" if self.left is None else f"{self.left:g}"
        hi = "inf" if self.right is None else f"{self.right:g}"
        return f"{what} in {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values (scikit-learn's StrOptions, for any hashable values)."""

    values: frozenset

    def __init__(self, values: Iterable[Any]) -> None:
        object.__setattr__(self, "values", frozenset(values))

    def accepts(self, value: Any) -> bool:
        return value in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in sorted(self.values, key=str))


@dataclass(frozen=True)
class OfType(Constraint):
    """Any value of a Python type (bool, str, ...)."""

    kind: type

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.kind)

    def describe(self) -> str:
        return {bool: "true or false", str: "a string"}.get(self.kind, f"a {self.kind.__name__}")


@dataclass(frozen=True)
class Param:
    """A declared parameter of a check: its default, its constraint and one line of doc."""

    default: Any
    constraint: Constraint
    doc: str

    def validate(self, code: str, name: str, value: Any) -> Any:
        if not self.constraint.accepts(value):
            raise InputError(
                f"{code}.{name} = {value!r} is not valid: it must be {self.constraint.describe()}",
                f"{name}: {self.doc} (default {self.default!r})",
            )
        return self.constraint.coerce(value)


def _as_param(code: str, name: str, spec: Any) -> Param:
    if isinstance(spec, Param):
        if not spec.constraint.accepts(spec.default):
            raise ValueError(f"@check({code!r}): default of {name!r} breaks its own constraint")
        return spec
    if isinstance(spec, bool):
        return Param(spec, OfType(bool), "")
    if isinstance(spec, (int, float)):
        return Param(spec, Interval(type(spec)), "")
    if isinstance(spec, str):
        return Param(spec, OfType(str), "")
    raise ValueError(
        f"@check({code!r}): parameter {name!r} must be declared as Param(default, constraint, doc)"
    )


class Params(Mapping[str, Any]):
    """A check's parameter values, read-only, also as attributes (`p.auc_gap`)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter {name!r}") from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


# ------------------------------------------------------------------------------------ checks


@dataclass
class Check:
    code: str
    fn: Callable[..., Findings]
    tasks: tuple[str, ...]
    requires: frozenset[str]
    params: dict[str, Param]
    slow: bool
    doc: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def layer(self) -> str:
        return layer_of(self.code)

    @property
    def rung(self) -> int:
        return rung_of(self.code)

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def defaults(self) -> dict[str, Any]:
        return {k: v.default for k, v in self.params.items()}

    def resolve(self, overrides: Mapping[str, Any]) -> Params:
        """The defaults with `overrides` applied, each validated against its declaration."""
        values = self.defaults
        for name, value in overrides.items():
            if name not in self.params:
                raise InputError(
                    f"check {self.code} has no parameter {name!r}.{closest(name, self.params)}",
                    f"its parameters are: {', '.join(self.params) or 'none'} (`mltriage explain {self.code}`)",
                )
            values[name] = self.params[name].validate(self.code, name, value)
        return Params(values)

    def unmet(self, case: Any) -> str | None:
        """Why this check cannot run on `case`, or None."""
        if case.task not in self.tasks:
            return f"does not apply to {case.task} tasks"
        for req in sorted(self.requires):
            if not REQUIREMENTS[req].test(case):
                return REQUIREMENTS[req].reason
        return None


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


def undeclared_reads(fn: Callable[..., Any], declared: Iterable[str]) -> list[str]:
    """Names the check body reads from its parameters (`p.NAME`, `p["NAME"]`) without declaring."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):  # pragma: no cover - source not available
        return []
    func = tree.body[0]
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or len(func.args.args) < 2:
        return []
    pname = func.args.args[1].arg
    names = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == pname:
            names.add(node.attr)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == pname:
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                names.add(node.slice.value)
    allowed = set(declared) | {n for n in dir(Mapping) if not n.startswith("_")}
    return sorted(names - allowed)


def check(
    code: str,
    *,
    tasks: Iterable[str] = TASKS,
    requires: Iterable[str] = (),
    slow: bool = False,
    **params: Param,
) -> Callable[[Callable[..., Findings]], Callable[..., Findings]]:
    """Register `fn` as the check for `code`. Keyword arguments declare its parameters."""
    if code not in CODES:
        raise ValueError(f"@check: unknown code {code!r}; add it to findings.CODES first")
    task_list = tuple(tasks)
    req = frozenset(requires)
    bad = [t for t in task_list if t not in TASKS] + [r for r in req if r not in REQUIREMENTS]
    if bad:
        raise ValueError(f"@check({code!r}): unknown task or requirement {bad}")
    declared = {k: _as_param(code, k, v) for k, v in params.items()}

    def register(fn: Callable[..., Findings]) -> Callable[..., Findings]:
        summary, doc = parse_doc(fn.__doc__)
        missing = [s for s in DOC_SECTIONS if not doc.get(s)]
        if missing:
            raise ValueError(f"check {fn.__name__} ({code}) lacks docstring sections {missing}")
        if code in REGISTRY and REGISTRY[code].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"code {code} is already registered by {REGISTRY[code].name}")
        REGISTRY[code] = Check(
            code=code,
            fn=fn,
            tasks=task_list,
            requires=req,
            params=declared,
            slow=slow,
            doc=doc,
            summary=summary,
        )
        fn.check = REGISTRY[code]  # type: ignore[attr-defined]
        return fn

    return register


def load_all() -> dict[str, Check]:
    """Import every rung's package so that its checks register; return the registry."""
    from . import checks  # noqa: F401  (checks/__init__.py imports every module below it)

    return REGISTRY


def ordered() -> list[Check]:
    """Registered checks in ladder order: by rung, then layer, then registration order."""
    from .findings import LAYERS

    load_all()
    order = {layer: i for i, layer in enumerate(LAYERS)}
    items = list(REGISTRY.values())
    return sorted(items, key=lambda c: (order[c.layer], items.index(c)))


def run_check(chk: Check, ctx: Context, params: Params) -> list[Finding]:
    """Call a check and normalise what it returns to a list of its own findings."""
    out = chk.fn(ctx, params)
    found = [] if out is None else [out] if isinstance(out, Finding) else [f for f in out if f is not None]
    for f in found:
        if f.code != chk.code:
            raise RuntimeError(f"check {chk.name} returned a {f.code} finding")
    return found
