#!/usr/bin/env python3
"""Size and render time of the HTML report of a 100,000-row and a 1,000,000-row diagnosis.

    python benchmarks/bench_report.py                    # both sizes (diagnoses once, cached)
    python benchmarks/bench_report.py --rows 100000
    python benchmarks/bench_report.py --candidate matplotlib   # also the measured alternative

For each size: runs `mltriage diagnose ... --json --html --markdown` once (the cases come from
the shared perf generator, as bench_diagnose.py makes them; the JSON is kept and reused), then
prints the HTML and markdown sizes, the time to build the HTML from the Report, and the time
headless Chromium takes to load and lay the page out. `--candidate matplotlib` draws the same
plots with matplotlib (inline SVG, text as text) instead of the hand-written SVG, to compare.
Targets: a 1M-row diagnosis report under 3 MB that renders in under 2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_diagnose import ensure_case  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
TARGET_BYTES, TARGET_SECONDS = 3_000_000, 2.0


def diagnose(case: Path) -> Path:
    import json

    out = case / "report.json"
    if out.exists():
        return out
    meta = json.loads((case / "meta.json").read_text())
    exe = shutil.which("mltriage") or str(Path(sys.executable).parent / "mltriage")
    argv = [exe, "diagnose", "--train", str(case / meta["train"]), "--test", str(case / meta["test"])]
    argv += ["--target", meta["target"], "--task", meta["task"], "--model", str(case / meta["model"])]
    argv += ["--current", str(case / meta["current"]), "--categorical", ",".join(meta["categorical"])]
    argv += ["--json", str(out), "--html", str(case / "report.html"), "--markdown", str(case / "report.md")]
    t0 = time.perf_counter()
    subprocess.run(argv + ["--quiet", "--fail-on", "never"], check=True)
    print(f"  diagnosed {case.name} in {time.perf_counter() - t0:.0f}s (with --html and --markdown)")
    return out


def render_seconds(browser, path: Path, repeat: int = 3) -> float:
    """Best of `repeat`: from navigation to the load event, then a full layout of the page."""
    best = float("inf")
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        t0 = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        page.evaluate("document.body.getBoundingClientRect().height")
        best = min(best, time.perf_counter() - t0)
        page.close()
    return best


def build(report, path: Path, candidate: str) -> float:
    from mltriage.report.plots import svg

    original = svg.render
    if candidate == "matplotlib":
        import report_mpl

        svg.render = report_mpl.render
    try:
        t0 = time.perf_counter()
        report.to_html(path)
        return time.perf_counter() - t0
    finally:
        svg.render = original


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, action="append", help="case size (repeatable)")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "mltriage-perf")
    ap.add_argument("--candidate", action="append", default=[], choices=["matplotlib"], help="also measure")
    ap.add_argument("--report", type=Path, action="append", default=[], help="also a saved JSON report")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from mltriage.report import Report

    print(f"{'rows':>10}  {'plots by':10}  {'HTML bytes':>11}  {'plots':>5}  {'build s':>7}  {'render s':>8}  "
          f"{'md chars':>8}  verdict")  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        jobs = [
            (f"{rows:,}", ensure_case(rows, args.cache), None)
            for rows in args.rows or ([] if args.report else [100_000, 1_000_000])
        ]
        jobs += [(p.stem[:10], p.parent, p) for p in args.report]
        for name, case, saved in jobs:
            report = Report.load(saved or diagnose(case))
            md = len(report.to_markdown())
            for candidate in ["svg", *args.candidate]:
                path = Path(os.environ.get("TMPDIR", "/tmp")) / f"{case.name}-{name}-{candidate}.html"
                secs = build(report, path, candidate)
                html = path.read_text()
                size, plots = len(html.encode()), html.count("<figure class='plot'")
                shown = render_seconds(browser, path)
                ok = size < TARGET_BYTES and shown < TARGET_SECONDS
                print(f"{name:>10}  {candidate:10}  {size:>11,}  {plots:>5}  {secs:7.2f}  {shown:8.2f}  {md:>8,}  "
                      f"{'ok' if ok else 'MISS'}", flush=True)  # fmt: skip
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
