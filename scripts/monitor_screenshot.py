#!/usr/bin/env python3
"""Regenerate the README's screenshot of the monitor dashboard (`mltriage monitor serve`).

    python scripts/monitor_screenshot.py            # writes docs/monitor-dashboard.png

A store is built with `mltriage monitor` itself: a logistic model on five features, 30 daily
batches of 2,000 logged predictions with latencies, feature `a` drifting from day 18, the
relation between `a` and the target flipping from day 22 (a concept change), labels arriving 7
days after each prediction, then `check`. The dashboard is served on a free port of 127.0.0.1
and opened in headless Chromium (Debian's `chromium`, driven by Playwright); the picture is the
first screen of the page: the alerts, then the data, model and service panels.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
FEATURES = ["a", "b", "c", "d", "e"]
DAYS, ROWS = 30, 2000
DRIFT_DAY, CONCEPT_DAY, LABEL_LAG = 18, 22, 7


def rows(n: int, rng: np.random.Generator, day: int | None = None) -> pd.DataFrame:
    X = rng.normal(size=(n, len(FEATURES)))
    if day is not None and day >= DRIFT_DAY:
        X[:, 0] += 0.8
    w = np.array([-1.2 if day is not None and day >= CONCEPT_DAY else 1.2, -1.0, 0.6, 0.3, 0.0])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(int)
    df = pd.DataFrame(X, columns=FEATURES)
    df["y"] = y
    return df


def build(folder: Path) -> str:
    import joblib
    from sklearn.linear_model import LogisticRegression

    from mltriage.commands import monitor as mon

    rng = np.random.default_rng(3)
    ref = rows(8000, rng)
    ref.to_parquet(folder / "ref.parquet")
    joblib.dump(LogisticRegression().fit(ref[FEATURES], ref["y"]), folder / "model.joblib")
    url = str(folder / "monitor.duckdb")
    mon.init(
        url,
        str(folder / "ref.parquet"),
        "y",
        model=str(folder / "model.joblib"),
        id_column="id",
        time_column="ts",
    )
    start = pd.Timestamp("2024-03-01")
    for day in range(DAYS):
        f = rows(ROWS, rng, day)
        f.insert(0, "id", [f"d{day}-{i}" for i in range(ROWS)])
        f["ts"] = start + pd.Timedelta(days=day) + pd.to_timedelta(rng.integers(0, 86400, ROWS), unit="s")
        f["latency_ms"] = rng.lognormal(3.0 + 0.15 * (day >= 25), 0.4, ROWS)
        f.drop(columns=["y"]).to_parquet(folder / f"batch{day}.parquet")
        mon.log(url, folder / f"batch{day}.parquet", batch_id=f"day{day}")
        if day < DAYS - LABEL_LAG:
            labels = f[["id", "y"]].assign(labelled_at=f["ts"] + pd.Timedelta(days=LABEL_LAG))
            labels.to_parquet(folder / f"labels{day}.parquet")
            mon.label(url, folder / f"labels{day}.parquet", labelled_at_column="labelled_at")
    mon.check(url, as_of=str(start + pd.Timedelta(days=DAYS)))
    return url


def shoot(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from mltriage.monitor.server import make_server
    from mltriage.monitor.store import open_store

    server = make_server(open_store(url), port=0, token="screenshot")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1320}, device_scale_factor=1)
            page.goto(server.url, wait_until="networkidle")
            page.wait_for_selector("#alert-list table")
            page.wait_for_selector("#p-latency svg")
            page.screenshot(path=str(out))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "monitor-dashboard.png")
    ap.add_argument("--keep", type=Path, help="build the store in this folder and keep it")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"no chromium at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        shoot(build(folder), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
