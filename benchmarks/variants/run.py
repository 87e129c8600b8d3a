"""Run the generalisation suite: generate what is missing, score it with the public benchmark's
score.py, and print recall and false alarms per failure kind and per data set.

    python benchmarks/variants/run.py                      # the default 116 scenarios (~7.5 min of CPU)
    python benchmarks/variants/run.py --full               # every kind on three data sets (180)
    python benchmarks/variants/run.py --holdout            # the held-out set (new data sets, 84)
    python benchmarks/variants/run.py --outside2 --out DIR # the second outside-sources set (18)
    python benchmarks/variants/run.py --holdout2 --out DIR # the second held-out set (HOLDOUT2)
    python benchmarks/variants/run.py --holdout3 --out DIR # the third held-out set (HOLDOUT3)
    python benchmarks/variants/run.py --holdout4 --out DIR # the fourth held-out set (HOLDOUT4)
    python benchmarks/variants/run.py --holdout5 --out DIR # the fifth held-out set (HOLDOUT5)
    python benchmarks/variants/run.py --holdout6 --out DIR # the sixth held-out set (HOLDOUT6)
    python benchmarks/variants/run.py --holdout7 --out DIR # the seventh held-out set (HOLDOUT7)
    python benchmarks/variants/run.py --kind label_noise   # one kind (its scenarios + the controls)
    python benchmarks/variants/run.py --no-controls --kind hidden_slice
    python benchmarks/variants/run.py --cmd "python -m mltriage" --score-only

Writes benchmarks/variants/results.json (score.py's per-scenario results plus the tables).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

ROOT = HERE.parent.parent
SCORE = Path(os.environ.get("MLTRIAGE_BENCH", ROOT.parent / "shared" / "bench")) / "score.py"


def _find_score() -> Path:
    for cand in (SCORE, ROOT / "../shared/bench/score.py", Path("/work/shared/bench/score.py")):
        if cand.exists():
            return cand.resolve()
    raise SystemExit("cannot find the public benchmark's score.py (set MLTRIAGE_BENCH to its folder)")


def table(rows: list[list], head: list[str]) -> str:
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda r: "  ".join(str(c).ljust(k) for c, k in zip(r, w))  # noqa: E731
    return "\n".join([line(head), line(["-" * k for k in w])] + [line(r) for r in rows])


def summarise(results: list[dict], out: Path) -> dict:
    """Per kind and per data set: planted found / planted, scenarios with a false alarm."""
    by_kind: dict[str, dict] = defaultdict(
        lambda: {"planted": 0, "found": 0, "scen": 0, "fa": 0, "secs": 0.0, "missed": [], "false": []}
    )
    by_ds: dict[str, dict] = defaultdict(lambda: {"planted": 0, "found": 0, "scen": 0, "fa": 0})
    for r in results:
        truth = json.loads((out / r["scenario"] / "truth.json").read_text())
        k, ds = truth["kind"], truth["dataset"]
        for agg in (by_kind[k], by_ds[ds]):
            agg["planted"] += r["planted"]
            agg["found"] += r["found"]
            agg["scen"] += 1
            agg["fa"] += 1 if r["false_alarms"] else 0
        by_kind[k]["secs"] += r.get("seconds") or 0.0
        if r["missed"] or r["status"] != "ok":
            by_kind[k]["missed"].append(r["scenario"] + ("" if r["status"] == "ok" else f" [{r['status']}]"))
        if r["false_alarms"]:
            by_kind[k]["false"].append(f"{r['scenario']}: {', '.join(r['false_alarms'])}")
    return {"by_kind": dict(by_kind), "by_dataset": dict(by_ds)}


def render(summary: dict) -> str:
    rows = []
    for k, a in sorted(summary["by_kind"].items(), key=lambda kv: (kv[0] != "clean", kv[0])):
        rec = (
            "-"
            if not a["planted"]
            else f"{a['found']}/{a['planted']} ({100 * a['found'] / a['planted']:.0f}%)"
        )
        rows.append([k, a["scen"], rec, a["fa"], f"{a['secs']:.0f}"])
    out = [table(rows, ["kind", "scenarios", "recall", "scenarios with false alarms", "seconds"])]
    rows = []
    for ds, a in sorted(summary["by_dataset"].items()):
        rec = (
            "-"
            if not a["planted"]
            else f"{a['found']}/{a['planted']} ({100 * a['found'] / a['planted']:.0f}%)"
        )
        rows.append([ds, a["scen"], rec, a["fa"]])
    out += ["", table(rows, ["data set", "scenarios", "recall", "scenarios with false alarms"])]
    misses = [(k, m) for k, a in summary["by_kind"].items() for m in a["missed"]]
    falses = [(k, m) for k, a in summary["by_kind"].items() for m in a["false"]]
    if misses:
        out += ["", "missed:"] + [f"  {m}" for _, m in sorted(misses)]
    if falses:
        out += ["", "false alarms:"] + [f"  {m}" for _, m in sorted(falses)]
    return "\n".join(out)


def _finding_line(f: dict) -> str:
    cols = f.get("columns") or []
    sl = f.get("slice") or []
    where = f" columns={cols}" if cols else ""
    if sl:
        where += " slice=" + " and ".join(f"{p.get('column')} {p.get('op')} {p.get('value')}" for p in sl)
    return f"`{f.get('severity')}` `{f.get('code')}`{where}: {str(f.get('title', ''))[:220]}"


def details_markdown(results: list[dict], out: Path, findings_dir: Path) -> str:
    """For each scenario with a miss or a false alarm: what was planted and what the tool said
    (its findings with the missed or falsely alarmed codes, and its warnings)."""
    lines = []
    for r in results:
        if not r["missed"] and not r["false_alarms"] and r["status"] == "ok":
            continue
        truth = json.loads((out / r["scenario"] / "truth.json").read_text())
        lines.append(f"### {r['scenario']}")
        lines.append(f"planted: {truth['planted']}  ")
        lines.append(f"expected: `{json.dumps(truth['expected'])}`  ")
        key = {k: v for k, v in truth["measured"].items() if not isinstance(v, (dict, list))}
        lines.append(f"measured: `{json.dumps(key)[:400]}`  ")
        if r["status"] != "ok":
            lines.append(
                f"tool status: {r['status']} {r.get('problem', '')} {str(r.get('stderr_tail', ''))[-300:]!r}"
            )
        if r["missed"]:
            lines.append(f"missed: {', '.join(r['missed'])} ({json.dumps(r['missed_why'])})  ")
        if r["false_alarms"]:
            lines.append(f"false alarms: {', '.join(r['false_alarms'])}  ")
        fpath = findings_dir / f"{r['scenario']}.json"
        if fpath.exists():
            doc = json.loads(fpath.read_text())
            fs = doc.get("findings", []) if isinstance(doc, dict) else doc
            codes = set(r["missed"]) | set(r["false_alarms"])
            shown = [f for f in fs if f.get("code") in codes or f.get("severity") in ("warning", "critical")]
            lines.append("tool said:")
            lines += [f"- {_finding_line(f)}" for f in shown[:12]] or ["- (nothing with these codes)"]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cmd", default="mltriage", help="the tool's command (default: mltriage)")
    ap.add_argument("--out", type=Path, default=generate.OUT, help="the scenarios folder")
    ap.add_argument("--kind", action="append", default=[])
    ap.add_argument("--dataset", action="append", default=[])
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--full", action="store_true", help="every kind on three data sets (about twice as long)")
    generate.add_set_flags(ap, results_help=True)
    ap.add_argument(
        "--no-controls", action="store_true", help="with --kind/--dataset: leave the clean controls out"
    )
    ap.add_argument("--score-only", action="store_true", help="do not generate missing scenarios")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--results", type=Path, default=None, help="default results.json (holdout-results.json)")
    ap.add_argument(
        "--save-findings",
        type=Path,
        default=None,
        help="keep the tool's JSON per scenario here (default benchmarks/variants/findings)",
    )
    args = ap.parse_args(argv)
    named = generate.chosen_set(args)
    prefix = f"{named}-" if named else ""
    args.results = args.results or HERE / f"{prefix}results.json"
    args.save_findings = args.save_findings or HERE / (f"findings-{prefix[:-1]}" if prefix else "findings")

    specs = generate.select(args.kind, args.dataset, args.only, args.full, named)
    base = generate.SETS[named][0] if named else generate.SUITE
    if (args.kind or args.dataset) and not args.no_controls and not args.only:
        specs += [s for s in base if s.kind in ("clean", "ranking_clean", "clean_current") and s not in specs]
    if not specs:
        print("no scenario matches", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    if not args.score_only:
        generate.generate(specs, args.out)
    gen_secs = time.perf_counter() - t0
    names = [s.name for s in specs if (args.out / s.name / "truth.json").exists()]
    raw = args.results.with_suffix(".score.json")
    cmd = [
        sys.executable,
        str(_find_score()),
        "--cmd",
        args.cmd,
        "--bench",
        str(args.out),
        "--out",
        str(raw),
        "--timeout",
        str(args.timeout),
    ]
    cmd += ["--save-findings", str(args.save_findings)]
    for n in names:
        cmd += ["--only", n]
    t1 = time.perf_counter()
    subprocess.run(cmd, check=False)
    score_secs = time.perf_counter() - t1
    doc = json.loads(raw.read_text())
    summary = summarise(doc["scenarios"], args.out)
    text = render(summary)
    tot = doc["totals"]
    text += (
        f"\n\ntotal: {tot['found']}/{tot['planted']} planted found ({100 * tot['recall']:.1f}%), "
        f"false alarms {tot['false_alarms']}, clean controls {tot['clean_ok']}/{tot['clean_total']}, "
        f"{len(names)} scenarios; seconds: generate {gen_secs:.0f}, score {score_secs:.0f} "
        f"(median per scenario {tot['seconds_median'] or 0:.1f})"
    )
    print("\n" + text)
    md = "```\n" + text + "\n```\n\n" + details_markdown(doc["scenarios"], args.out, args.save_findings)
    args.results.with_suffix(".md").write_text(md)
    print(f"\ndetails of misses and false alarms: {args.results.with_suffix('.md')}")
    args.results.write_text(
        json.dumps(
            {"totals": tot, "summary": summary, "text": text, "scenarios": doc["scenarios"]},
            indent=2,
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
