"""Generate the generalisation suite's scenarios in the public benchmark's format.

    python benchmarks/variants/generate.py                  # the whole suite -> benchmarks/variants/out
    python benchmarks/variants/generate.py --kind label_noise --kind clean
    python benchmarks/variants/generate.py --list           # the scenarios, one a line
    python benchmarks/variants/generate.py --holdout        # the held-out set (HOLDOUT in suite.py)
    python benchmarks/variants/generate.py --holdout2 --out DIR  # the second held-out set (HOLDOUT2)
    python benchmarks/variants/generate.py --holdout3 --out DIR  # the third held-out set (HOLDOUT3)
    python benchmarks/variants/generate.py --holdout4 --out DIR  # the fourth held-out set (HOLDOUT4)
    python benchmarks/variants/generate.py --holdout5 --out DIR  # the fifth held-out set (HOLDOUT5)
    python benchmarks/variants/generate.py --holdout6 --out DIR  # the sixth held-out set (HOLDOUT6)
    python benchmarks/variants/generate.py --holdout7 --out DIR  # the seventh held-out set (HOLDOUT7)
    python benchmarks/variants/generate.py --only NAME --out DIR --force

Deterministic: fixed seeds, so the same package versions give the same files. A scenario whose
folder already has truth.json is skipped unless --force.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

# one thread per fit: the machine is shared, and OpenMP oversubscription is far slower
os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import holdout2_plants  # noqa: E402,F401
import holdout3_plants  # noqa: E402,F401
import holdout4_plants  # noqa: E402,F401
import holdout5_plants  # noqa: E402,F401
import holdout6_plants  # noqa: E402,F401
import holdout7_plants  # noqa: E402,F401
import holdout_plants  # noqa: E402,F401
import kinds_data  # noqa: E402,F401
import kinds_errors  # noqa: E402,F401
import kinds_inputs  # noqa: E402,F401
import kinds_labels  # noqa: E402,F401
import kinds_leaktax  # noqa: E402,F401
import kinds_model  # noqa: E402,F401
import kinds_outside2  # noqa: E402,F401
import kinds_outside2_prod  # noqa: E402,F401
import kinds_peers  # noqa: E402,F401
import kinds_peers_model  # noqa: E402,F401
import kinds_prod  # noqa: E402,F401
import kinds_rank  # noqa: E402,F401
import kinds_smells  # noqa: E402,F401
import kinds_smells_serving  # noqa: E402,F401
import planting  # noqa: E402
import scenario  # noqa: E402
from suite import (  # noqa: E402
    FULL,
    HOLDOUT,
    HOLDOUT2,
    HOLDOUT3,
    HOLDOUT4,
    HOLDOUT5,
    HOLDOUT6,
    HOLDOUT7,
    OUTSIDE2,
    SUITE,
)

OUT = HERE / "out"

# the named sets besides the default suite: flag -> (scenarios, what it is); one flag at most
SETS: dict[str, tuple[list[planting.Spec], str]] = {
    "holdout": (HOLDOUT, "the held-out set (HOLDOUT: new data sets)"),
    "outside2": (OUTSIDE2, "the second outside-sources set (OUTSIDE2)"),
    "holdout2": (HOLDOUT2, "the second held-out set (HOLDOUT2)"),
    "holdout3": (HOLDOUT3, "the third held-out set (HOLDOUT3)"),
    "holdout4": (HOLDOUT4, "the fourth held-out set (HOLDOUT4)"),
    "holdout5": (HOLDOUT5, "the fifth held-out set (HOLDOUT5)"),
    "holdout6": (HOLDOUT6, "the sixth held-out set (HOLDOUT6)"),
    "holdout7": (HOLDOUT7, "the seventh held-out set (HOLDOUT7)"),
}


def add_set_flags(ap: argparse.ArgumentParser, results_help: bool = False) -> None:
    """One --NAME flag per named set (SETS); with results_help, say where run.py writes its results."""
    for name, (_, what) in SETS.items():
        where = f"; results in {name}-results.* and findings-{name}/" if results_help else ""
        ap.add_argument(f"--{name}", action="store_true", help=what + where)


def chosen_set(args: argparse.Namespace) -> str | None:
    """The named set the flags chose (the last of SETS's order wins, as before), or None."""
    chosen = [name for name in SETS if getattr(args, name)]
    return chosen[-1] if chosen else None


def select(
    kinds: list[str],
    datasets: list[str],
    only: list[str],
    full: bool = False,
    named: str | None = None,
) -> list[planting.Spec]:
    """The scenarios of the named set (SETS), else FULL with --full or --only, else SUITE, filtered."""
    specs = list(SETS[named][0] if named else FULL if full or only else SUITE)
    if kinds:
        specs = [
            s
            for s in specs
            if s.kind in kinds
            or f"{s.kind}_{s.variant}" in kinds
            or ("clean" in kinds and s.kind == "ranking_clean")
        ]
    if datasets:
        specs = [s for s in specs if s.dataset in datasets]
    if only:
        specs = [s for s in specs if s.name in only]
    return specs


def generate(specs: list[planting.Spec], out: Path, force: bool = False, quiet: bool = False) -> list[str]:
    """Write each spec's scenario under `out`; returns the names that failed to generate."""
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for spec in specs:
        d = out / spec.name
        if (d / "truth.json").exists() and not force:
            continue
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sc = planting.KINDS[spec.kind](spec)
            scenario.write(sc, out)
        except Exception:  # report and go on: one broken generator must not stop the suite
            failed.append(spec.name)
            print(f"FAILED {spec.name}\n{traceback.format_exc()}", file=sys.stderr)
            continue
        if not quiet:
            print(f"{spec.name}  ({time.perf_counter() - t0:.1f}s)", file=sys.stderr)
    return failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--kind", action="append", default=[], help="only this kind (repeatable)")
    ap.add_argument("--dataset", action="append", default=[], help="only this data set (repeatable)")
    ap.add_argument("--only", action="append", default=[], help="only this scenario (repeatable)")
    ap.add_argument("--force", action="store_true", help="regenerate existing scenarios")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--full", action="store_true", help="every kind on three data sets (about twice as many)")
    add_set_flags(ap)
    args = ap.parse_args(argv)
    specs = select(args.kind, args.dataset, args.only, args.full, chosen_set(args))
    if args.list:
        for s in specs:
            print(s.name)
        return 0
    if not specs:
        print("no scenario matches", file=sys.stderr)
        return 2
    failed = generate(specs, args.out, args.force)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
