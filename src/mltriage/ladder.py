"""Climb the debugging ladder: run the registered checks rung by rung, bottom first, then rank
the findings and mark those that depend on fixing a critical finding below them.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from .case import Case, build_case
from .config import Config, load_config
from .context import Context
from .errors import InputError
from .findings import INFO, LAYERS, Finding
from .registry import Check, NotApplicable, ordered
from .report import Report

REQUIREMENT_REASONS = {
    "model": "no model and no prediction column were given",
    "estimator": "needs a fitted model object (not precomputed predictions)",
    "current": "no production batch (--current) was given",
    "current_labels": "the production batch has no labels",
    "history": "no training history (--history) was given",
    "group": "no group (query) column was given",
    "time": "no time column was given",
    "cost": "no cost of errors (--cost or --cost-matrix) was given",
}


def unmet(check: Check, case: Case) -> str | None:
    """Why `check` cannot run on this case, or None."""
    if case.task not in check.tasks:
        return f"does not apply to {case.task} tasks"
    m = case.model
    have = {
        "model": m is not None,
        "estimator": m is not None and m.kind != "precomputed",
        "proba": m is not None,
        "current": case.current is not None,
        "current_labels": case.has_current_labels,
        "history": case.history is not None,
        "group": case.group_column is not None,
        "time": case.time_column is not None,
        "cost": case.cost is not None or case.cost_matrix is not None,
    }
    for req in sorted(check.requires):
        if not have[req]:
            return REQUIREMENT_REASONS.get(req, f"needs {req}")
    return None


def _as_list(out: Any) -> list[Finding]:
    if out is None:
        return []
    if isinstance(out, Finding):
        return [out]
    return [f for f in out if f is not None]


def run_checks(ctx: Context, progress: Callable[[str], None] | None = None) -> Report:
    cfg = ctx.config
    findings: list[Finding] = []
    not_applicable: list[dict] = []
    skipped: list[dict] = []
    timings: dict[str, float] = {}
    checks = ordered()
    for chk in checks:
        if not cfg.wants(chk.code):
            skipped.append({"code": chk.code, "reason": "deselected (--select/--ignore)"})
            continue
        if cfg.fast and chk.slow:
            skipped.append({"code": chk.code, "reason": "slow check skipped by --fast"})
            continue
        why = unmet(chk, ctx.case)
        if why:
            not_applicable.append({"code": chk.code, "reason": why})
            continue
        if progress:
            progress(chk.code)
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = _as_list(chk.fn(ctx, _params(cfg, chk)))
            for f in out:
                if f.code != chk.code:
                    raise RuntimeError(f"check {chk.name} returned a {f.code} finding")
            findings.extend(out)
        except NotApplicable as exc:
            not_applicable.append({"code": chk.code, "reason": str(exc)})
        except InputError:
            raise
        except Exception as exc:
            findings.append(
                Finding(
                    code=chk.code,
                    severity=INFO,
                    title=f"check {chk.name} could not run: {type(exc).__name__}: {str(exc)[:200]}",
                    evidence={"error": f"{type(exc).__name__}: {exc}"},
                    root_cause="an internal failure of this check on these inputs",
                    fix="report it with the inputs' shape and dtypes; the other checks are unaffected",
                )
            )
        timings[chk.code] = round(time.perf_counter() - t0, 3)
    rank_and_gate(findings)
    ladder = None
    if "ladder" in ctx._cache and not hasattr(ctx._cache["ladder"], "exc"):
        res = ctx._cache["ladder"]
        ladder = {
            "metric": res.metric,
            "splitter": res.splitter,
            "rows": res.n_rows,
            "folds": res.n_splits,
            "subsampled": res.subsampled,
            "models": res.table(),
        }
    return Report(
        findings=findings,
        case=ctx.case.summary(),
        ladder=ladder,
        not_applicable=not_applicable,
        skipped=skipped,
        timings=timings,
        notes=list(ctx.notes),
    )


def _params(cfg: Config, chk: Check):
    from .registry import Params

    return Params(cfg.params_for(chk.code, chk.params))


def rank_and_gate(findings: list[Finding]) -> None:
    """Sort by layer (lowest first), severity, then impact; mark findings that sit above a
    critical finding of a lower layer as conditional on fixing it."""
    order = {layer: i for i, layer in enumerate(LAYERS)}
    findings.sort(key=lambda f: (order[f.layer], -f.severity.rank, -(f.impact or 0.0)))
    critical = [f for f in findings if f.severity.rank == 2]
    for f in findings:
        below = [c.code for c in critical if order[c.layer] < order[f.layer]]
        # production findings describe a different data set: not conditional on offline ones
        if f.layer != "production":
            f.conditional_on = list(dict.fromkeys(below))


def diagnose(
    train: Any,
    test: Any,
    target: str,
    *,
    model: Any = None,
    task: str | None = None,
    current: Any = None,
    history: Any = None,
    time_column: str | None = None,
    group_column: str | None = None,
    categorical: Any = None,
    prediction_column: str | None = None,
    metric: str | None = None,
    threshold: float | None = None,
    cost: Any = None,
    cost_matrix: Any = None,
    config: Config | None = None,
    fast: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    progress: bool = False,
) -> Report:
    """Diagnose a model and its data; returns a Report (see `Report.findings`, `to_json()`).

    `train`, `test`, `current`: pandas or polars DataFrames, or CSV/Parquet paths. `model`: a
    fitted estimator or Pipeline, any object with predict/predict_proba, a callable, a joblib
    path (loading a pickle runs its code: trust the file), or None with `prediction_column`.
    Raises InputError (a ValueError) on bad input, naming the problem and the fix.
    """
    t0 = time.perf_counter()
    cfg = config or load_config()
    if fast:
        cfg.fast = True
    if select:
        cfg.select = list(select)
    if ignore:
        cfg.ignore = list(cfg.ignore) + list(ignore)
    case = build_case(
        train,
        test,
        target,
        task=task,
        model=model,
        current=current,
        history=history,
        time_column=time_column,
        group_column=group_column,
        categorical=categorical,
        prediction_column=prediction_column,
        metric=metric,
        threshold=threshold,
        cost=cost,
        cost_matrix=cost_matrix,
    )
    ctx = Context(case, cfg)
    with _threads(cfg.n_jobs):
        report = _run(ctx, case, progress)
    report.seconds = round(time.perf_counter() - t0, 2)
    return report


def _threads(n_jobs: int):
    """Limit OpenMP/BLAS threads: on a busy machine, spinning OpenMP workers of gradient boosting
    can be 40x slower than one thread (measured on a 2-core machine under load)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=max(1, int(n_jobs)))


def _run(ctx: Context, case: Case, progress: bool) -> Report:
    if case.model is not None:  # a model that cannot predict on the data is bad input: say it now
        from .registry import NotApplicable as _NA

        for which in ("test", "train"):
            try:
                ctx.predictions(which)
            except _NA:
                pass
    prog_cm = _progress() if progress else nullcontext(None)
    with prog_cm as prog:
        return run_checks(ctx, progress=prog)


class _progress:
    """A one-line progress display on stderr (only on a terminal)."""

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        n = len(ordered())
        self.p = Progress(
            SpinnerColumn(),
            TextColumn("[bold]mltriage[/] {task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.p.__enter__()
        self.task = self.p.add_task("starting", total=n)

        def update(code: str) -> None:
            self.p.update(self.task, description=code, advance=1)

        return update

    def __exit__(self, *exc):
        if hasattr(self, "p"):
            self.p.__exit__(*exc)
        return False
