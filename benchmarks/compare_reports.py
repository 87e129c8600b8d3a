"""Compare two folders of mltriage JSON reports (e.g. `score.py --save-findings DIR` before and
after a change): prints, per report, the findings that differ in code, severity, columns,
classes or slice. Exit 1 when any differ.

    python benchmarks/compare_reports.py BEFORE_DIR AFTER_DIR [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def keyset(path: Path) -> set[tuple]:
    doc = json.loads(path.read_text())
    out = set()
    for f in doc.get("findings", []):
        sl = tuple(sorted((p.get("column"), p.get("op"), str(p.get("value"))) for p in f.get("slice") or []))
        out.add(
            (
                f["code"],
                f["severity"],
                tuple(f.get("columns") or []),
                tuple(map(str, f.get("classes") or [])),
                sl,
            )
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--alarms", action="store_true", help="compare warning and critical findings only")
    args = ap.parse_args()
    names = sorted(p.stem for p in args.before.glob("*.json"))
    if args.only:
        names = [n for n in names if n in args.only]
    differ = 0
    for name in names:
        a_path, b_path = args.before / f"{name}.json", args.after / f"{name}.json"
        if not b_path.exists():
            print(f"{name}: missing in {args.after}")
            differ += 1
            continue
        a, b = keyset(a_path), keyset(b_path)
        if args.alarms:
            a = {k for k in a if k[1] != "info"}
            b = {k for k in b if k[1] != "info"}
        if a != b:
            differ += 1
            print(f"{name}:")
            for k in sorted(a - b, key=str):
                print(f"  - {k}")
            for k in sorted(b - a, key=str):
                print(f"  + {k}")
    print(f"{len(names) - differ}/{len(names)} reports have the same findings")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
