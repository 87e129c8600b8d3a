"""The README's table of codes, generated from the checks' own docstrings.

python -m mltriage.docs            # rewrite README.md between the codes markers
python -m mltriage.docs --check    # exit 1 when README.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from .findings import CODES, LAYERS, layer_of
from .registry import load_all

START, END = "<!-- codes:start -->", "<!-- codes:end -->"


def codes_table() -> str:
    checks = load_all()
    lines = ["| code | what it detects | fix |", "| --- | --- | --- |"]
    order = {layer: i for i, layer in enumerate(LAYERS)}
    for code in sorted(CODES, key=lambda c: (order[layer_of(c)], list(CODES).index(c))):
        chk = checks.get(code)
        if chk is None:
            lines.append(f"| `{code}` | {CODES[code]} (not implemented yet) | |")
            continue
        what = chk.doc["What it detects"].replace("|", "\\|")
        fix = chk.doc["Fix"].replace("|", "\\|")
        lines.append(f"| `{code}` | {what} | {fix} |")
    return "\n".join(lines)


def render_readme(text: str) -> str:
    if START not in text or END not in text:
        raise ValueError(f"README.md lacks the markers {START} and {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{codes_table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[argv.index("--readme") + 1]) if "--readme" in argv else Path("README.md")
    text = path.read_text(encoding="utf-8")
    new = render_readme(text)
    if "--check" in argv:
        if new != text:
            print(f"{path} is out of date: run `python -m mltriage.docs`", file=sys.stderr)
            return 1
        return 0
    path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
