#!/usr/bin/env python3
"""Slice-finding speed and accuracy: mltriage's find_slices against the `sliceline` package.

    python benchmarks/bench_slices.py                      # 1M rows; sliceline at 10k/30k/100k
    python benchmarks/bench_slices.py --rows 100000 --sliceline-rows 10000,30000

The input is the benchmark's `make_perf.py` case (50 numeric + 5 categorical features, planted
slice cat_0 == 'a' and num_01 > 0.5 whose labels are coin flips). The per-row error is the case
model's misclassification at threshold 0.5 on the test rows (cached beside the case as
errors.npy). Each method runs in its own subprocess, so that its time and peak memory
(ru_maxrss of the child, minus the memory the data takes once loaded) are its own, and sliceline
runs under a memory cap (resource.setrlimit) so that running out of memory ends only the child.

sliceline gets the same rows and the same error vector, its numeric columns binned into the same
number of quantile bins (SliceLine needs discrete features; raw floats would one-hot into one
column per distinct value), and runs as the issue fixes it: Slicefinder(alpha=0.95, k=5,
max_l=3, min_sup=1% of rows). A method "finds" the planted slice when one of its top slices selects
rows whose Jaccard overlap with the planted slice's rows is at least 0.5.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAKE_PERF = (
    Path(os.environ.get("MLTRIAGE_BENCH", HERE.parent.parent / "shared" / "bench")) / "perf" / "make_perf.py"
)
CATS = ["cat_0", "cat_1", "cat_2", "cat_3", "cat_4"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return _rss_mb()


def ensure_case(rows: int, root: Path) -> Path:
    """The make_perf.py case of `rows` rows, with the model's test errors as errors.npy."""
    import numpy as np

    out = root / f"perf_{rows}"
    if not (out / "meta.json").exists():
        print(f"  building the {rows:,}-row case with make_perf.py ...", flush=True)
        subprocess.run(
            [sys.executable, str(MAKE_PERF), "--rows", str(rows), "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if not (out / "errors.npy").exists():
        import joblib
        import pandas as pd

        test = pd.read_parquet(out / "test.parquet")
        model = joblib.load(out / "model.joblib")
        feats = [c for c in test.columns if c != "y"]
        p = model.predict_proba(test[feats])[:, 1]
        np.save(out / "errors.npy", ((p >= 0.5).astype(int) != test["y"].to_numpy()).astype(np.float64))
    return out


def _truth_mask(test):
    return (test["cat_0"] == "a").to_numpy() & (test["num_01"] > 0.5).to_numpy()


def _jaccard(a, b) -> float:
    u = (a | b).sum()
    return float((a & b).sum() / u) if u else 0.0


# ----------------------------------------------------------------------------- workers


def worker_mltriage(case: Path, top_k: int) -> dict:
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(HERE.parent / "src"))
    from mltriage.stats.slices import find_slices

    test = pd.read_parquet(case / "test.parquet")
    err = np.load(case / "errors.npy")
    cols = [c for c in test.columns if c != "y"]
    base = _current_rss_mb()
    t0 = time.perf_counter()
    res = find_slices(test, err, cols, categorical=set(CATS), top_k=top_k)
    secs = time.perf_counter() - t0
    truth = _truth_mask(test)
    jac = [_jaccard(s.mask, truth) for s in res]
    return {
        "seconds": secs,
        "peak_mb": _rss_mb(),
        "data_mb": base,
        "n_slices": len(res),
        "best_jaccard": max(jac, default=0.0),
        "found": max(jac, default=0.0) >= 0.5,
        "top": res[0].describe() if res else None,
    }


def _binned(test, n_bins: int):
    """Numeric columns as quantile-bin indices, categoricals as they are (what SliceLine needs)."""
    import numpy as np
    import pandas as pd

    out = {}
    for c in test.columns:
        if c == "y":
            continue
        if c in CATS:
            out[c] = test[c].astype(str).to_numpy()
        else:
            x = test[c].to_numpy(dtype=float)
            edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1]))
            out[c] = np.searchsorted(edges, x, side="left").astype(np.int64)
    return pd.DataFrame(out)


def worker_sliceline(case: Path, rows: int, n_bins: int, raw: bool, max_l: int = 3) -> dict:
    import warnings

    import numpy as np
    import pandas as pd

    warnings.filterwarnings("ignore")
    from sliceline.slicefinder import Slicefinder

    test = pd.read_parquet(case / "test.parquet")
    err = np.load(case / "errors.npy")
    if rows < len(test):
        test, err = test.iloc[:rows].reset_index(drop=True), err[:rows]
    X = test.drop(columns=["y"]) if raw else _binned(test, n_bins)
    base = _current_rss_mb()
    t0 = time.perf_counter()
    sf = Slicefinder(alpha=0.95, k=5, max_l=max_l, min_sup=int(0.01 * len(X)), verbose=False)
    sf.fit(X, err)
    secs = time.perf_counter() - t0
    truth = _truth_mask(test)
    jac = []
    top = None
    for s in sf.top_slices_:
        m = np.ones(len(X), dtype=bool)
        desc = []
        for c, v in zip(X.columns, s):
            if v is None:
                continue
            m &= X[c].to_numpy() == v
            desc.append(f"{c} == {v!r}" if c in CATS or raw else f"{c} in bin {v}")
        jac.append(_jaccard(m, truth))
        top = top or " and ".join(desc)
    return {
        "seconds": secs,
        "peak_mb": _rss_mb(),
        "data_mb": base,
        "n_slices": len(jac),
        "best_jaccard": max(jac, default=0.0),
        "found": max(jac, default=0.0) >= 0.5,
        "top": top,
    }


def run_child(args: list[str], mem_cap_gb: float, timeout: float) -> dict:
    """Run this script as a worker; the child's memory is capped; failures become a status."""
    cap = int(mem_cap_gb * 2**30)

    def limit():  # in the child, before exec
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    t0 = time.perf_counter()
    try:
        p = subprocess.run(
            [sys.executable, __file__, *args],
            capture_output=True,
            text=True,
            preexec_fn=limit,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timeout after {timeout:.0f} s"}
    if p.returncode != 0:
        tail = (p.stderr or "").strip().splitlines()[-1:] or [f"exit {p.returncode}"]
        oom = "MemoryError" in p.stderr or "Unable to allocate" in p.stderr or p.returncode in (-9, 137)
        return {
            "status": f"out of memory (cap {mem_cap_gb:g} GB)" if oom else f"failed: {tail[0][:120]}",
            "wall": time.perf_counter() - t0,
        }
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["status"] = "ok"
    return out


def _fmt(r: dict) -> str:
    if r.get("status") != "ok":
        return r.get("status", "?")
    return (
        f"{r['seconds']:7.2f} s  peak {r['peak_mb']:7.0f} MB (data {r['data_mb']:.0f} MB, "
        f"search +{max(r['peak_mb'] - r['data_mb'], 0):.0f} MB)  slices {r['n_slices']}  "
        f"planted found: {'yes' if r['found'] else 'no'} (Jaccard {r['best_jaccard']:.2f})"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="1000000", help="sizes for mltriage, comma-separated")
    ap.add_argument(
        "--sliceline-rows",
        default="1000,3000,10000,30000,100000",
        help="sizes to try sliceline at (it also runs at every --rows size up to the first failure)",
    )
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "mltriage_bench")
    ap.add_argument("--mem-cap-gb", type=float, default=8.0, help="address-space cap of the sliceline child")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--n-bins", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--worker", choices=["mltriage", "sliceline"], help=argparse.SUPPRESS)
    ap.add_argument("--case", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument(
        "--raw", action="store_true", help="give sliceline the raw frame instead of binned numerics"
    )
    ap.add_argument("--max-l", type=int, default=3, help=argparse.SUPPRESS)
    ap.add_argument(
        "--fallback-max-l",
        type=int,
        default=2,
        help="when sliceline (max_l=3) completes at no size, also time it with this max_l (0: skip)",
    )
    a = ap.parse_args(argv)

    if a.worker == "mltriage":
        print(json.dumps(worker_mltriage(a.case, a.top_k)))
        return 0
    if a.worker == "sliceline":
        print(json.dumps(worker_sliceline(a.case, a.n, a.n_bins, a.raw, a.max_l)))
        return 0

    sizes = sorted({int(x) for x in a.rows.split(",") if x})
    sl_sizes = sorted({int(x) for x in a.sliceline_rows.split(",") if x} | set(sizes))
    a.data.mkdir(parents=True, exist_ok=True)
    try:
        import sliceline  # noqa: F401

        have_sl = True
    except ImportError:
        have_sl = False
        print("sliceline is not installed (pip install 'mltriage[bench]'): only mltriage runs")

    print("make_perf.py case: 55 features, planted slice cat_0 == 'a' and num_01 > 0.5 (~3% of rows)")
    results: dict[tuple[str, int], dict] = {}
    for n in sorted(set(sizes) | (set(sl_sizes) if have_sl else set())):
        case = ensure_case(n, a.data)
        if n in sizes:
            r = run_child(
                ["--worker", "mltriage", "--case", str(case), "--top-k", str(a.top_k)], 64.0, a.timeout
            )
            results[("mltriage", n)] = r
            print(f"mltriage  {n:>9,} rows: {_fmt(r)}", flush=True)
        if (
            have_sl
            and n in sl_sizes
            and not (
                any(k[0] == "sliceline" and v.get("status") != "ok" for k, v in results.items())
                and any(k[0] == "sliceline" and k[1] >= 10_000 for k in results)
            )
            and not any(
                k[0] == "sliceline" and k[1] < n and v.get("status") != "ok" for k, v in results.items()
            )
        ):
            r = run_child(
                ["--worker", "sliceline", "--case", str(case), "--n", str(n), "--n-bins", str(a.n_bins)]
                + (["--raw"] if a.raw else []),
                a.mem_cap_gb,
                a.timeout,
            )
            results[("sliceline", n)] = r
            print(f"sliceline {n:>9,} rows: {_fmt(r)}", flush=True)

    if (
        have_sl
        and a.fallback_max_l
        and not any(k[0] == "sliceline" and v.get("status") == "ok" for k, v in results.items())
    ):
        print(
            f"\nsliceline with max_l=3 completed at no size; the same with max_l={a.fallback_max_l} "
            f"(pairs only), for a time and memory reference:"
        )
        for n in sorted(sl_sizes):
            case = ensure_case(n, a.data)
            r = run_child(
                [
                    "--worker",
                    "sliceline",
                    "--case",
                    str(case),
                    "--n",
                    str(n),
                    "--n-bins",
                    str(a.n_bins),
                    "--max-l",
                    str(a.fallback_max_l),
                ]
                + (["--raw"] if a.raw else []),
                a.mem_cap_gb,
                a.timeout,
            )
            print(f"sliceline(max_l={a.fallback_max_l}) {n:>9,} rows: {_fmt(r)}", flush=True)
            if r.get("status") != "ok":
                break
            m = results.get(("mltriage", n))
            if m is None:
                m = run_child(
                    ["--worker", "mltriage", "--case", str(case), "--top-k", str(a.top_k)], 64.0, a.timeout
                )
                results[("mltriage", n)] = m
                print(f"mltriage  {n:>9,} rows: {_fmt(m)}", flush=True)
            if m.get("status") == "ok":
                print(
                    f"  ratio sliceline(max_l={a.fallback_max_l}) / mltriage(max_order=3) at {n:,} rows: "
                    f"time x{r['seconds'] / max(m['seconds'], 1e-9):.1f}, "
                    f"peak memory x{r['peak_mb'] / max(m['peak_mb'], 1e-9):.1f}",
                    flush=True,
                )

    # ratios: at each size where both ran, and mltriage at its largest size against sliceline at its largest
    print("\nratios (sliceline / mltriage)")
    for n in sorted(sizes):
        m, s = results.get(("mltriage", n), {}), results.get(("sliceline", n), {})
        if m.get("status") == "ok" and s.get("status") == "ok":
            print(
                f"  same input, {n:,} rows: time x{s['seconds'] / max(m['seconds'], 1e-9):.1f}, "
                f"peak memory x{s['peak_mb'] / max(m['peak_mb'], 1e-9):.1f}"
            )
    ok_sl = [n for (k, n), v in results.items() if k == "sliceline" and v.get("status") == "ok"]
    ok_m = [n for (k, n), v in results.items() if k == "mltriage" and v.get("status") == "ok"]
    if ok_sl and ok_m:
        ns, nm = max(ok_sl), max(ok_m)
        s, m = results[("sliceline", ns)], results[("mltriage", nm)]
        for n in sorted(set(ok_sl)):
            mm = results.get(("mltriage", n))
            if mm is None or mm.get("status") != "ok":
                mm = run_child(
                    ["--worker", "mltriage", "--case", str(ensure_case(n, a.data)), "--top-k", str(a.top_k)],
                    64.0,
                    a.timeout,
                )
                results[("mltriage", n)] = mm
                print(f"  mltriage {n:,} rows: {_fmt(mm)}")
            ss = results[("sliceline", n)]
            print(
                f"  {n:,} rows (sliceline completes): time x{ss['seconds'] / max(mm['seconds'], 1e-9):.1f}, "
                f"peak memory x{ss['peak_mb'] / max(mm['peak_mb'], 1e-9):.1f}"
            )
        print(
            f"  sliceline at its largest size ({ns:,} rows) vs mltriage at {nm:,} rows: "
            f"time x{s['seconds'] / max(m['seconds'], 1e-9):.2f}, rows x{nm / ns:.0f}"
        )
    m1 = results.get(("mltriage", max(sizes)), {})
    if m1.get("status") == "ok":
        ok = m1["seconds"] < 10 and m1["peak_mb"] < 2048
        print(
            f"\ntarget (top-{a.top_k} slices of {max(sizes):,} rows x 55 columns in < 10 s and < 2 GB): "
            f"{'met' if ok else 'NOT met'} ({m1['seconds']:.2f} s, {m1['peak_mb']:.0f} MB peak)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
