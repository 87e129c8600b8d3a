"""What `mltriage compare` adds to its Report (`compare_details`: the per-feature table and the
dependence curves) and the regression test it writes with `--emit-test FILE` (`write_test`).

The emitted test is a pytest file plus two files next to it: `<stem>.sample.parquet` (the fixed
rows: the permutation explainer's background rows first, then the reference rows explained) and
`<stem>.baseline.json` (how the attributions were computed, every feature's share, and the allowed
move of each top feature's share: the larger of the bootstrap spread over the rows, the spread
across refits with other seeds when a target was given, and one point). The test recomputes the
shares of the model (the file given to --model, or $MLTRIAGE_MODEL) with
`mltriage.stats.explain.attribution_shares` and fails when a top feature moved beyond its allowance.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..findings import jsonable
from ..stats.attribution_shift import refit_with_seed, seeded

if TYPE_CHECKING:
    from ..checks.workflow.compare_state import CompareState
    from ..context import Context

TOP = 5  # top features guarded by the emitted test
MIN_SHARE = 0.02  # ... among those holding at least this share
FLOOR = 0.01  # the smallest allowance (one point of share)


def compare_details(ctx: Context, st: CompareState) -> dict[str, Any]:
    """The per-feature attribution table, the top features' dependence curves and the sizes."""
    c = ctx.case
    assert c.current is not None
    keys = (
        "share_ref",
        "share_cur",
        "share_shift",
        "share_shift_low",
        "share_shift_high",
        "mean_abs_ref",
        "mean_abs_cur",
    )
    table = []
    for r in st.table[:30]:
        row: dict[str, Any] = {"feature": r["feature"], **{k: round(r[k], 4) for k in keys}}
        cv = st.curves.get(r["feature"])
        row["curve_shift"] = round(cv["shift"], 3) if cv and np.isfinite(cv["shift"]) else None
        fd = st.drift.features.get(r["feature"])
        row["psi"] = round(fd.psi, 4) if fd is not None and fd.tested else None
        table.append(row)
    return {
        "rows": {"reference": len(c.train), "current": len(c.current)},
        "explained": {
            "reference": len(st.ref.rows),
            "current": len(st.cur.rows),
            "method": st.ref.explainer.method,
            "method_b": st.cur.explainer.method if st.cur.explainer is not st.ref.explainer else None,
            "output": st.ref.attribution.output,
            "bootstrap": st.params.n_boot,
        },
        "attributions": table,
        "curves": {r["feature"]: st.curves[r["feature"]] for r in st.table[:5] if r["feature"] in st.curves},
    }


def write_test(ctx: Context, st: CompareState, path: Path, model: Any) -> str:
    """Write the pytest file, its sample rows and its baseline; return the test's path."""
    c = ctx.case
    assert c.model is not None
    path = Path(path)
    if path.suffix != ".py":
        raise InputError(
            f"--emit-test {str(path)!r} is not a .py file", "name the test file test_<something>.py"
        )
    stem = path.stem
    ex = st.ref.explainer
    spec = ex.describe()
    rows = c.train.iloc[st.ref.rows][ex.features].reset_index(drop=True)
    sample = rows if ex.tree else pd.concat([ex.background, rows], ignore_index=True)
    shares = st.ref.attribution.shares()
    spread = _seed_spread(ctx, st, rows)
    top = [f for f, s in sorted(shares.items(), key=lambda kv: -kv[1]) if s >= MIN_SHARE][:TOP] or [
        max(shares, key=lambda k: shares[k])
    ]
    boot = {r["feature"]: 1.96 * r["share_ref_sd"] for r in st.table}
    tolerance = {f: max(boot.get(f, 0.0), spread.get(f, 0.0), FLOOR) for f in top}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        model_ref = _model_reference(model, c.model.estimator, path)
        sample.to_parquet(path.with_name(f"{stem}.sample.parquet"), index=False)
        baseline = {
            "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": model_ref,
            "rows": len(rows),
            "explainer": spec,
            "shares": shares,
            "tolerance": tolerance,
            "spread": {
                "bootstrap_95": {f: boot.get(f) for f in top},
                "seeds": {f: spread.get(f) for f in top} if spread else None,
            },
        }
        path.with_name(f"{stem}.baseline.json").write_text(
            json.dumps(jsonable(baseline), indent=2), encoding="utf-8"
        )
        path.write_text(
            TEMPLATE.format(stem=stem, rows=len(rows), model=model_ref, method=ex.method), encoding="utf-8"
        )
    except OSError as exc:
        raise InputError(
            f"cannot write the test {str(path)!r}: {exc}", "check the folder exists and is writable"
        ) from None
    ctx.note(f"regression test written to {path} (guards {', '.join(top)})")
    return str(path)


def _model_reference(model: Any, estimator: Any, path: Path) -> str:
    """The model file the test loads: the path given (absolute), else the object saved beside it."""
    if isinstance(model, (str, Path)):
        return str(Path(model).resolve())
    import joblib

    target = path.with_name(f"{path.stem}.model.joblib")
    joblib.dump(estimator, target)
    return target.name


def _seed_spread(ctx: Context, st: CompareState, rows: Any) -> dict[str, float]:
    """Per feature, the range of its share across refits of the model with other seeds on the
    reference rows, explained on the test's rows; empty without a target or a seed."""
    from ..checks.workflow.compare_state import make_explainer, sample_rows

    c = ctx.case
    assert c.model is not None
    model = c.model.estimator
    if not c.target or c.target not in c.train.columns or not seeded(model):
        return {}
    p = ctx.config.params("attribution.training_artifact")
    fit = sample_rows(c.train[c.train[c.target].notna()], p.refit_rows, ctx.config.seed)
    runs = [st.ref.attribution.shares()]
    for k in range(p.seeds):
        est = refit_with_seed(
            model, fit[c.features], fit[c.target].to_numpy(), seed=ctx.config.seed + 101 + k
        )
        if est is None:
            return {}
        ex = make_explainer(ctx, est, c.features, st.ref.explainer.background, st.params)
        runs.append(ex.explain(rows).shares())
    return {f: float(max(r.get(f, 0.0) for r in runs) - min(r.get(f, 0.0) for r in runs)) for f in runs[0]}


TEMPLATE = '''"""Attribution regression test, written by `mltriage compare --emit-test`.

It recomputes the model's SHAP attributions ({method}) on {rows} fixed reference rows
({stem}.sample.parquet) and fails when the share of the attribution of one of the top features
moves beyond the spread measured when the test was written ({stem}.baseline.json: the bootstrap
spread over the rows, the spread across refits with other seeds when a target was given, at least
one point). Add it to CI and run it after every retraining:

    pytest {stem}.py

The model is {model}; set MLTRIAGE_MODEL to test another file. Needs mltriage (and shap for tree
models: pip install "mltriage[shap]").
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import joblib
import pandas as pd

HERE = Path(__file__).resolve().parent
BASELINE = json.loads((HERE / "{stem}.baseline.json").read_text(encoding="utf-8"))
ROWS = HERE / "{stem}.sample.parquet"


def _model():
    path = Path(os.environ.get("MLTRIAGE_MODEL") or BASELINE["model"])
    return joblib.load(path if path.is_absolute() else HERE / path)


def test_top_feature_shares_stay_within_the_measured_spread():
    from mltriage.stats.explain import attribution_shares

    shares = attribution_shares(_model(), pd.read_parquet(ROWS), BASELINE["explainer"])
    moved = []
    for feature, allowed in BASELINE["tolerance"].items():
        before, now = BASELINE["shares"][feature], shares.get(feature, 0.0)
        if abs(now - before) > allowed:
            moved.append(f"{{feature}}: share {{before:.1%}} -> {{now:.1%}} (allowed +-{{allowed:.1%}})")
    assert not moved, "attributions moved beyond the measured spread:\\n  " + "\\n  ".join(moved)
'''
