"""The new-check scaffold writes a check with its doc sections and its two tests."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from mltriage.dev import main
from mltriage.registry import DOC_SECTIONS, parse_doc

SRC = Path(__file__).resolve().parents[1] / "src" / "mltriage"


def _root(tmp_path: Path) -> Path:
    (tmp_path / "src" / "mltriage").mkdir(parents=True)
    shutil.copy(SRC / "findings.py", tmp_path / "src" / "mltriage" / "findings.py")
    return tmp_path


def test_new_check_writes_module_and_two_tests(tmp_path, capsys):
    root = _root(tmp_path)
    assert (
        main(
            ["new-check", "data.future_dates", "--meaning", "dates after the label time", "--root", str(root)]
        )
        == 0
    )
    module = root / "src" / "mltriage" / "checks" / "data" / "future_dates.py"
    test = root / "tests" / "test_check_future_dates.py"
    tree = ast.parse(module.read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    _, doc = parse_doc(ast.get_docstring(fn))
    assert set(doc) == set(DOC_SECTIONS)
    text = test.read_text()
    ast.parse(text)
    assert (
        'pytest.mark.fires("data.future_dates")' in text and 'pytest.mark.silent("data.future_dates")' in text
    )
    assert (
        '"data.future_dates": "dates after the label time"' in (root / "src/mltriage/findings.py").read_text()
    )
    assert "wrote" in capsys.readouterr().out


def test_new_check_refuses_bad_codes_and_existing_files(tmp_path):
    root = _root(tmp_path)
    with pytest.raises(SystemExit, match="not in the catalogue"):
        main(["new-check", "data.brand_new", "--root", str(root)])
    with pytest.raises(SystemExit, match="unknown layer"):
        main(["new-check", "dta.thing", "--meaning", "x", "--root", str(root)])
    main(["new-check", "model.overfit", "--root", str(root)])
    with pytest.raises(SystemExit, match="exists already"):
        main(["new-check", "model.overfit", "--root", str(root)])
