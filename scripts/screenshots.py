#!/usr/bin/env python3
"""Regenerate the README's screenshots of the HTML report.

    python scripts/screenshots.py            # writes docs/report-summary.png, docs/report-plot.png

The report is a real diagnosis of the demo's case (census rows shipped with mltriage, with the
demo's planted failures), given a cost of errors and a production batch in which `age` and
`hours_per_week` drifted, so that several rungs have findings and plots. The pages are opened in
headless Chromium (Debian's `chromium`, driven by Playwright): the first screen, then the first
plot section of the report.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def diagnosis():
    import mltriage
    from mltriage.demo import build_demo_case

    train, test, model = build_demo_case()
    current = test.drop(columns="income").copy()
    current["age"] = current["age"] + 12
    current["hours_per_week"] = current["hours_per_week"] * 1.3
    return mltriage.diagnose(
        train, test, "income", model=model, current=current, cost="fp=1,fn=5", progress=False
    )


def shoot(html: Path, out: Path, plot_code: str | None) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 820}, device_scale_factor=1)
        page.goto(html.as_uri(), wait_until="load")
        page.screenshot(path=str(out / "report-summary.png"))
        finding = page.locator(
            f"article.finding:has(figure.plot):has-text('{plot_code}')"
            if plot_code
            else "article.finding:has(figure.plot)"
        )
        finding.first.screenshot(path=str(out / "report-plot.png"))
        browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--plot", default="evaluation.untuned_threshold", help="the finding whose plot to show")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"no chromium at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 2
    report = diagnosis()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        report.to_html(html)
        codes = {f.code for f in report.alarms}
        shoot(html, args.out, args.plot if args.plot in codes else None)
    print(
        f"wrote {args.out / 'report-summary.png'} and {args.out / 'report-plot.png'} ({', '.join(sorted(codes))})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
