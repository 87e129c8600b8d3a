"""The README's table of codes is generated from the checks' docstrings and never disagrees."""

from pathlib import Path

from mltriage.docs import render_readme

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_codes_table_is_current():
    text = README.read_text(encoding="utf-8")
    assert render_readme(text) == text, "README.md is out of date: run `python -m mltriage.docs`"


def test_readme_has_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
