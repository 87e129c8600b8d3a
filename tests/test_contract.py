"""The shape every check keeps: declared and documented parameters, a typed signature, a test
where it fires and one where it stays silent; and the layering of the source tree."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from mltriage.findings import CODES
from mltriage.registry import Param, load_all, undeclared_reads

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "mltriage"
CHECKS = load_all()
MARK = re.compile(r"pytest\.mark\.(fires|silent)\(\s*[\"']([\w.]+)[\"']")


def _marked() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"fires": set(), "silent": set()}
    for path in (ROOT / "tests").glob("test_*.py"):
        for kind, code in MARK.findall(path.read_text(encoding="utf-8")):
            found[kind].add(code)
    return found


def test_every_catalogue_code_has_a_check():
    assert sorted(CHECKS) == sorted(CODES)


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_every_check_has_a_test_where_it_fires_and_one_where_it_stays_silent(code):
    marked = _marked()
    assert code in marked["fires"], f"no test marked @pytest.mark.fires({code!r})"
    assert code in marked["silent"], f"no test marked @pytest.mark.silent({code!r})"


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_every_check_declares_its_parameters_and_types(code):
    chk = CHECKS[code]
    for name, param in chk.params.items():
        assert isinstance(param, Param) and param.doc.strip(), (
            f"{code}.{name} needs Param(default, constraint, doc)"
        )
    sig = inspect.signature(chk.fn)
    assert list(sig.parameters) == ["ctx", "p"], f"{code}: a check is fn(ctx, p)"
    assert sig.return_annotation in ("Findings", "list[Finding]"), f"{code}: annotate -> Findings"
    typos = undeclared_reads(chk.fn, chk.params)
    assert not typos, f"{code} reads undeclared parameters {typos}"


def test_undeclared_reads_names_a_parameter_typo():
    def fn(ctx, p):
        helper = lambda: p["min_rows"]  # noqa: E731  (nested reads count too)
        return [p.auc_gpa, p.min_rows, helper(), p.get("x")]

    assert undeclared_reads(fn, ["auc_gap", "min_rows"]) == ["auc_gpa"]


def test_stats_imports_nothing_above_it():
    bad = [
        str(p.relative_to(SRC))
        for p in (SRC / "stats").rglob("*.py")
        if re.search(r"^\s*from \.\.(checks|commands|runner|report)\b", p.read_text(encoding="utf-8"), re.M)
    ]
    assert not bad, f"stats/ must not import checks/, commands/, runner or report: {bad}"


def test_no_source_file_over_600_lines():
    big = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not big, f"split these files (600 lines at most): {big}"
