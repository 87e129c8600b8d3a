"""Developer tools.

    python -m mltriage.dev new-check CODE [--meaning "one line"] [--root DIR]

writes the skeleton of a new check, as ruff's `scripts/add_rule.py` does for a rule: the check
module in its rung's package (`src/mltriage/checks/<package>/<name>.py`) with the four doc
sections and a declared parameter, and `tests/test_check_<name>.py` with a test where it must
fire and one where it must stay silent. A code that is not yet in the catalogue
(`findings.CODES`) needs `--meaning`, and is added there. The written check reports nothing
until its body is filled in, so its `fires` test fails: that failing test is the to-do.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .findings import CODES, LAYERS, layer_of

PACKAGE_OF_LAYER = {
    "data": "data",
    "features": "data",
    "pipeline": "pipeline",
    "model": "model",
    "evaluation": "evaluation",
    "errors": "error_analysis",
    "ranking": "error_analysis",
    "production": "production",
}

CHECK_TEMPLATE = '''"""{code}: {meaning}"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...findings import WARNING, Finding
from ...registry import Findings, Interval, Param, Params, check

if TYPE_CHECKING:
    from ...context import Context


@check(
    "{code}",
    min_rows=Param(30, Interval(int, 1, None), "smallest sample this check judges; below it: info"),
)
def {name}(ctx: Context, p: Params) -> Findings:
    """{meaning_cap}.

    What it detects
        Describe the failure in one or two sentences.
    Why it matters
        What goes wrong for the model's owner when this is present.
    How to confirm
        What a person would look at to confirm it by hand.
    Fix
        The change to make first.
    """
    findings: list[Finding] = []
    # Measure the effect and its chance rate on ctx (ctx.frame("train"), ctx.predictions("test"),
    # ctx.row_hashes(...)); append Finding(code="{code}", severity=WARNING, ...) when it holds.
    _ = (ctx, p, WARNING)
    return findings
'''

TEST_TEMPLATE = '''"""{code}: a case where the check fires and one where it stays silent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from checkhelp import run

from mltriage.case import build_case
from mltriage.checks.{package}.{name} import {name}
from mltriage.context import Context


def _case(planted: bool):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({{"x1": rng.normal(size=400), "x2": rng.normal(size=400)}})
    df["y"] = (df["x1"] + rng.normal(size=400) > 0).astype(int)
    if planted:
        pass  # plant the failure here
    return Context(build_case(df.iloc[:300], df.iloc[300:], "y", task="binary"))


@pytest.mark.fires("{code}")
def test_{name}_fires():
    assert run({name}, _case(planted=True))


@pytest.mark.silent("{code}")
def test_{name}_stays_silent():
    run({name}, _case(planted=False))
'''


def new_check(code: str, meaning: str | None, root: Path) -> list[Path]:
    """Write the check and its tests; return the files written (or added to)."""
    if not re.fullmatch(r"[a-z]+\.[a-z][a-z0-9_]*", code):
        raise SystemExit(f"error: {code!r} is not LAYER.name (lower case, e.g. data.label_leakage)")
    layer, name = layer_of(code), code.split(".", 1)[1]
    if layer not in LAYERS:
        raise SystemExit(f"error: unknown layer {layer!r}; layers: {', '.join(LAYERS)}")
    written = []
    if code not in CODES:
        if not meaning:
            raise SystemExit(f"error: {code} is not in the catalogue; give --meaning 'one line'")
        written.append(_add_to_catalogue(root / "src" / "mltriage" / "findings.py", code, meaning))
    meaning = meaning or CODES[code]
    package = PACKAGE_OF_LAYER[layer]
    module = root / "src" / "mltriage" / "checks" / package / f"{name}.py"
    test = root / "tests" / f"test_check_{name}.py"
    for path in (module, test):
        if path.exists():
            raise SystemExit(f"error: {path} exists already")
    module.parent.mkdir(parents=True, exist_ok=True)
    (module.parent / "__init__.py").touch()
    fields = {"code": code, "name": name, "package": package, "meaning": meaning}
    module.write_text(CHECK_TEMPLATE.format(meaning_cap=meaning[:1].upper() + meaning[1:], **fields))
    test.parent.mkdir(parents=True, exist_ok=True)
    test.write_text(TEST_TEMPLATE.format(**fields))
    return [*written, module, test]


def _add_to_catalogue(findings_py: Path, code: str, meaning: str) -> Path:
    text = findings_py.read_text(encoding="utf-8")
    anchor = "CODES: dict[str, str] = {\n"
    if anchor not in text:
        raise SystemExit(f"error: cannot find the catalogue in {findings_py}")
    line = f"    {code!r}: {meaning!r},\n".replace("'", '"')
    findings_py.write_text(text.replace(anchor, anchor + line, 1), encoding="utf-8")
    return findings_py


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mltriage.dev")
    sub = ap.add_subparsers(dest="cmd", required=True)
    nc = sub.add_parser("new-check", help="write a new check with its doc sections and two tests")
    nc.add_argument("code", help="LAYER.name, e.g. data.label_leakage")
    nc.add_argument("--meaning", help="one-line meaning (required for a code new to the catalogue)")
    nc.add_argument("--root", type=Path, default=Path.cwd(), help="the repository root (default: here)")
    args = ap.parse_args(argv)
    for path in new_check(args.code, args.meaning, args.root):
        print(f"wrote {path}")
    print("next: fill in the check's body and doc sections, then `make test`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
