#!/usr/bin/env python3
"""Time mltriage's drift computation on the 1,000,000-row make_perf.py case, against Evidently.

    python benchmarks/bench_drift.py                      # builds /tmp/mltriage_perf_1000000 once
    python benchmarks/bench_drift.py --data DIR --json out.json
    python benchmarks/bench_drift.py --rows 100000 --no-evidently

Reference = train.parquet (without the label), current = current.parquet (no labels; num_00
shifted by +0.5 sd, num_02 scaled by 2, cat_1's shares changed, per make_perf.py's docstring).

Measured, in one process on the same in-memory frames:
  * mltriage: profile the reference (quantile bins, category counts), profile the batch on the
    reference's bins, compare all 55 features (PSI, KS, Wasserstein, chi-square, JS) and run the
    multivariate domain classifier. Reading the parquet files is not timed (for either tool).
  * Evidently's DataDriftPreset (optional: `pip install evidently`), which on this size uses the
    normalised Wasserstein distance for numeric and Jensen-Shannon for categorical columns.
  * peak resident memory during each computation (sampled from /proc every 5 ms) against the
    in-memory size of the two frames.
  * which columns each tool flags, against the three planted ones.

Targets on the 2-core machine: mltriage under 3 s, at least 10x faster than Evidently, peak memory
under twice the two frames.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from mltriage.stats.drift import DriftConfig, domain_classifier, drift_frames  # noqa: E402

PLANTED = ["num_00", "num_02", "cat_1"]  # documented in make_perf.py
MAKE_PERF = Path("/work/shared/bench/perf/make_perf.py")


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: fall back to the process's peak so far
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRSS:
    """Samples the resident set size in a thread; .peak after the with-block."""

    def __init__(self, every: float = 0.005):
        self.every, self.peak, self._stop = every, 0, threading.Event()

    def __enter__(self):
        self.peak = rss_bytes()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.every)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_bytes())


def ensure_data(rows: int, data: Path | None) -> Path:
    d = data or Path(f"/tmp/mltriage_perf_{rows}")
    if not (d / "current.parquet").exists():
        if not MAKE_PERF.exists():
            sys.exit(f"no data in {d} and {MAKE_PERF} not found; pass --data DIR")
        print(f"building the {rows:,}-row case in {d} (once) ...", flush=True)
        subprocess.run([sys.executable, str(MAKE_PERF), "--rows", str(rows), "--out", str(d)], check=True)
    return d


def run_mltriage(ref: pd.DataFrame, cur: pd.DataFrame, categorical: list[str]) -> dict:
    cfg = DriftConfig()
    with PeakRSS() as mem:
        c0, t0 = time.process_time(), time.perf_counter()
        report, _, _ = drift_frames(ref, cur, cfg, categorical=categorical)
        t1 = time.perf_counter()
        mv = domain_classifier(ref, cur, list(ref.columns), categorical, cfg)
        t2, c2 = time.perf_counter(), time.process_time()
    flagged = [f.column for f in report.drifted()]
    return {
        "seconds": t2 - t0,
        "seconds_univariate": t1 - t0,
        "seconds_multivariate": t2 - t1,
        "cpu_seconds": c2 - c0,
        "peak_rss": mem.peak,
        "flagged": flagged,
        "psi": {c: round(report.features[c].psi, 4) for c in PLANTED if c in report.features},
        "max_psi_other": round(
            max((f.psi for c, f in report.features.items() if c not in PLANTED), default=0.0), 5
        ),
        "multivariate_auc": round(mv.auc, 4) if mv else None,
        "multivariate_top": mv.top(5) if mv else [],
    }


def import_evidently():
    """Evidently 0.7 imports a helper that pandas 3 removed; put it back before importing."""
    try:
        import pandas.core.dtypes.common as pdc

        if not hasattr(pdc, "infer_dtype_from_object"):
            pdc.infer_dtype_from_object = lambda t: np.dtype(t).type
        from evidently import Report
        from evidently.presets import DataDriftPreset

        return Report, DataDriftPreset
    except Exception as e:
        print(f"Evidently not available ({type(e).__name__}: {e}); skipping it", flush=True)
        return None


def run_evidently(ref: pd.DataFrame, cur: pd.DataFrame) -> dict | None:
    ev = import_evidently()
    if ev is None:
        return None
    Report, DataDriftPreset = ev
    with PeakRSS() as mem:
        c0, t0 = time.process_time(), time.perf_counter()
        snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
        t1, c1 = time.perf_counter(), time.process_time()
    flagged = []
    for m in snap.dict().get("metrics", []):
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("ValueDrift"):
            method, thr, val = cfg.get("method", ""), cfg.get("threshold"), m.get("value")
            if val is None or thr is None:
                continue
            # p-value tests drift below the threshold, distances above it
            is_p = "p_value" in method.lower() or "test" in method.lower()
            if (val < thr) if is_p else (val >= thr):
                flagged.append(cfg.get("column"))
    return {"seconds": t1 - t0, "cpu_seconds": c1 - c0, "peak_rss": mem.peak, "flagged": flagged}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=None, help="a make_perf.py output folder")
    ap.add_argument("--no-evidently", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args(argv)

    d = ensure_data(args.rows, args.data)
    meta = json.loads((d / "meta.json").read_text())
    ref = pd.read_parquet(d / meta["train"]).drop(columns=[meta["target"]])
    cur = pd.read_parquet(d / meta["current"])
    cur = cur[[c for c in ref.columns if c in cur.columns]]
    cat = list(meta.get("categorical") or [])
    frames = int(ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum())
    try:  # hand back what Arrow's allocator kept from reading the files (not the frames)
        import gc

        import pyarrow as pa

        gc.collect()
        pa.default_memory_pool().release_unused()
    except Exception:
        pass
    base = rss_bytes()
    print(
        f"frames: reference {len(ref):,} x {ref.shape[1]}, current {len(cur):,} x {cur.shape[1]}; "
        f"{frames / 1e6:,.0f} MB in memory; process RSS {base / 1e6:,.0f} MB before timing",
        flush=True,
    )

    # warm-up on a small slice: imports (scipy, sklearn) are not the computation
    run_mltriage(ref.iloc[:2000], cur.iloc[:2000], cat)
    ours = run_mltriage(ref, cur, cat)
    ok = lambda flagged: {c: c in flagged for c in PLANTED}  # noqa: E731
    print(
        f"mltriage : {ours['seconds']:.2f} s (univariate {ours['seconds_univariate']:.2f} s, "
        f"multivariate {ours['seconds_multivariate']:.2f} s; CPU {ours['cpu_seconds']:.2f} s); peak RSS {ours['peak_rss'] / 1e6:,.0f} MB "
        f"= {ours['peak_rss'] / frames:.2f} x the two frames"
    )
    print(
        f"           flagged {ours['flagged']}; planted found {ok(ours['flagged'])}; "
        f"PSI {ours['psi']}; max PSI elsewhere {ours['max_psi_other']}; "
        f"domain classifier AUC {ours['multivariate_auc']} on {ours['multivariate_top']}",
        flush=True,
    )

    theirs = None if args.no_evidently else run_evidently(ref, cur)
    result = {
        "rows": len(ref),
        "columns": ref.shape[1],
        "frames_bytes": frames,
        "rss_before": base,
        "mltriage": ours,
        "evidently": theirs,
        "targets": {"seconds": 3.0, "ratio": 10.0, "memory_x_frames": 2.0},
    }
    if theirs:
        ratio = theirs["seconds"] / ours["seconds"]
        result["ratio"] = ratio
        result["cpu_ratio"] = theirs["cpu_seconds"] / max(ours["cpu_seconds"], 1e-9)
        print(
            f"evidently: {theirs['seconds']:.2f} s (CPU {theirs['cpu_seconds']:.2f} s); peak RSS {theirs['peak_rss'] / 1e6:,.0f} MB "
            f"= {theirs['peak_rss'] / frames:.2f} x the two frames"
        )
        extra = [c for c in theirs["flagged"] if c not in PLANTED]
        print(
            f"           flagged {len(theirs['flagged'])} columns; planted found {ok(theirs['flagged'])}; "
            f"others flagged {extra[:10]}"
        )
        print(
            f"ratio    : mltriage is {ratio:.1f}x faster than Evidently's DataDriftPreset "
            f"(wall clock; {result['cpu_ratio']:.1f}x in CPU time)"
        )
    verdict = {
        "under_3s": ours["seconds"] < 3.0,
        "memory_under_2x": ours["peak_rss"] < 2 * frames,
        "ratio_over_10x": (result.get("ratio", 0) >= 10) if theirs else None,
        "planted_found": all(ok(ours["flagged"]).values()),
        "no_false_alarm": set(ours["flagged"]) <= set(PLANTED),
    }
    result["verdict"] = verdict
    print("verdict  :", verdict)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
