#!/usr/bin/env python3
"""Time `mltriage diagnose` on the 100,000-row and 1,000,000-row cases of make_perf.py.

    python benchmarks/bench_diagnose.py                 # both sizes
    python benchmarks/bench_diagnose.py --rows 100000   # one size
    python benchmarks/bench_diagnose.py --fast          # also time --fast

Each run is a fresh process (as a user runs it); seconds are wall-clock, peak memory is the
child's maximum resident set size. Cases are cached under --cache (default /tmp/mltriage-perf).
Targets (2-core machine): 100k rows under 30 s, 1M rows under 120 s, peak memory under 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAKE_PERF = HERE.parent.parent / "shared" / "bench" / "perf" / "make_perf.py"
TARGETS = {100_000: 30.0, 1_000_000: 120.0}


def ensure_case(rows: int, cache: Path) -> Path:
    d = cache / f"perf_{rows}"
    if not (d / "meta.json").exists():
        if not MAKE_PERF.exists():
            sys.exit(f"bench_diagnose: {MAKE_PERF} not found (the shared benchmark sits beside the repo)")
        print(f"making the {rows:,}-row case in {d} ...", flush=True)
        subprocess.run([sys.executable, str(MAKE_PERF), "--rows", str(rows), "--out", str(d)], check=True)
    return d


def run_one(case: Path, extra: list[str]) -> dict:
    meta = json.loads((case / "meta.json").read_text())
    exe = shutil.which("mltriage") or str(Path(sys.executable).parent / "mltriage")
    out = case / "findings.json"
    argv = [
        exe,
        "diagnose",
        "--train",
        str(case / meta["train"]),
        "--test",
        str(case / meta["test"]),
        "--target",
        meta["target"],
        "--task",
        meta["task"],
        "--json",
        str(out),
        "--quiet",
        "--fail-on",
        "never",
    ]
    if meta.get("model"):
        argv += ["--model", str(case / meta["model"])]
    if meta.get("current"):
        argv += ["--current", str(case / meta["current"])]
    if meta.get("categorical"):
        argv += ["--categorical", ",".join(meta["categorical"])]
    argv += extra
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        print(proc.stderr[-2000:], file=sys.stderr)
    doc = json.loads(out.read_text()) if out.exists() else {"findings": []}
    codes = sorted({f["code"] for f in doc["findings"] if f["severity"] in ("warning", "critical")})
    return {
        "seconds": secs,
        "peak_mb": max(peak_kb, before) / 1024,
        "rc": proc.returncode,
        "codes": codes,
        "timings": doc.get("timings", {}),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, action="append", help="case size (repeatable)")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "mltriage-perf")
    ap.add_argument("--fast", action="store_true", help="also time with --fast")
    args = ap.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    print(f"{'rows':>10}  {'mode':6}  {'seconds':>8}  {'target':>7}  {'peak MB':>8}  verdict  findings")
    for rows in sizes:
        case = ensure_case(rows, args.cache)
        for mode, extra in [("full", [])] + ([("fast", ["--fast"])] if args.fast else []):
            r = run_one(case, extra)
            target = TARGETS.get(rows)
            ok = (target is None or r["seconds"] < target) and r["peak_mb"] < 4096 and r["rc"] in (0, 1)
            print(
                f"{rows:>10,}  {mode:6}  {r['seconds']:8.1f}  {target or '-':>7}  {r['peak_mb']:8.0f}  "
                f"{'ok' if ok else 'MISS'}     {', '.join(r['codes']) or '-'}",
                flush=True,
            )
            slow = sorted(r["timings"].items(), key=lambda kv: -kv[1])[:5]
            print("            slowest checks: " + ", ".join(f"{k} {v:.1f}s" for k, v in slow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
