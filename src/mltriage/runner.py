"""The one runner: a selection of registered checks, run rung by rung, bottom first; then the
findings ranked and gated (a finding above a critical one on a lower rung is conditional on
fixing it). Every command (`diagnose`, `drift`, ...) builds a Context and calls `run_checks`.
"""

from __future__ import annotations

import os
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from . import registry
from .context import Context
from .errors import InputError
from .findings import INFO, Finding, layer_order
from .progress import Progress as _progress
from .registry import Check, NotApplicable, ordered
from .report import Report
from .stats.metrics import HEADLINE, headline

Progress = Callable[[str], None]


def run_checks(
    ctx: Context,
    *,
    scope: Callable[[Check], bool] | None = None,
    command: str = "diagnose",
    progress: bool = False,
    details: dict[str, Any] | None = None,
) -> Report:
    """Run every registered check in `scope` (all by default) that the settings select.

    A check whose needs are not met is listed as not applicable with the reason; one that runs and
    finds nothing is listed as passed; one that crashes is listed as failed (the run goes on)."""
    t0 = time.perf_counter()
    cfg = ctx.config
    cfg.validate()
    checks = [c for c in ordered() if scope is None or scope(c)]
    report = Report(findings=[], command=command, case=ctx.case.summary(), details=details or {})
    runnable: list[Check] = []
    for chk in checks:
        why = _skip_reason(chk, ctx)
        if why is not None:
            report.skipped.append({"code": chk.code, "reason": why})
            continue
        unmet = chk.unmet(ctx.case)
        if unmet is not None:
            report.not_applicable.append({"code": chk.code, "reason": unmet})
            continue
        runnable.append(chk)
    with _threads(cfg.n_jobs), _progress(len(runnable)) if progress else nullcontext(None) as tick:
        for chk in runnable:
            if tick:
                tick(chk.code)
            _run_one(chk, ctx, report)
    rank_and_gate(report.findings)
    report.baselines = _baselines(ctx)
    report.headline = model_headline(ctx)
    report.notes = list(ctx.notes)
    report.seconds = round(time.perf_counter() - t0, 2)
    return report


def _skip_reason(chk: Check, ctx: Context) -> str | None:
    if not ctx.config.wants(chk.code):
        return "deselected (--select/--ignore)"
    if ctx.config.fast and chk.slow:
        return "slow check skipped by --fast"
    return None


def _run_one(chk: Check, ctx: Context, report: Report) -> None:
    params = ctx.config.params(chk.code)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = registry.run_check(chk, ctx, params)
    except NotApplicable as exc:
        report.not_applicable.append({"code": chk.code, "reason": str(exc)})
    except InputError:
        raise
    except Exception as exc:  # a broken check is reported as failed and the run goes on
        tb = traceback.extract_tb(exc.__traceback__)
        where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
        report.failed.append(
            {"code": chk.code, "error": f"{type(exc).__name__}: {str(exc)[:300]}", "where": where}
        )
    else:
        report.findings.extend(found)
        if not found:
            report.passed.append(chk.code)
    report.timings[chk.code] = round(time.perf_counter() - t0, 3)


# a slice defined by a column that one of these findings names is a symptom of that cause
_SLICE_CAUSES = ("data.label_leakage", "pipeline.train_serving_skew")


def fold_symptoms(findings: list[Finding]) -> None:
    """An underperforming slice whose predicates use a column the same report names as leaking
    the label or skewed between training and serving is that finding's symptom (the model relies
    on a column whose meaning differs between the sets, so its errors concentrate along it): it
    becomes `info` naming the cause, so one problem is not reported twice with two fixes. A slice
    with no data cause in a report that finds the model underfit is folded the same way
    (`_fold_into_underfit`)."""
    causes = [f for f in findings if f.code in _SLICE_CAUSES and f.severity.rank >= 1]
    for f in findings:
        if f.code != "errors.underperforming_slice" or f.severity.rank < 1:
            continue
        hit = next((c for c in causes if set(c.columns) & set(f.columns)), None)
        if hit is None:
            _fold_into_underfit(f, findings)
            continue
        cols = ", ".join(sorted(set(hit.columns) & set(f.columns)))
        f.severity = INFO
        f.title += f" (a symptom of {hit.code} on {cols}: fix that first, then re-check)"
        f.evidence["symptom_of"] = {"code": hit.code, "columns": sorted(set(hit.columns) & set(f.columns))}


# causes of a slice that lie in the data (errors.underperforming_slice's cause tests): a slice
# with one of them is its own problem whatever the model's capacity
_DATA_CAUSES = ("features", "under-represented", "label rate differs")


def _fold_into_underfit(f: Finding, findings: list[Finding]) -> None:
    """A slice with no data cause (the model is merely wrong there: its residuals carry a bias or
    trend, or it is confidently wrong) in a report that finds the model underfit is that
    finding's symptom: a model that cannot express the relation a baseline finds is wrong in
    regions, and the fix is the same (capacity, not this region's data). It becomes `info`
    naming model.underfit; a slice the evidence ties to the data stays a warning."""
    under = next((u for u in findings if u.code == "model.underfit" and u.severity.rank >= 1), None)
    found = f.evidence.get("causes")
    if under is None or found is None or set(found) & set(_DATA_CAUSES):
        return
    f.severity = INFO
    f.title += " (a symptom of model.underfit: no data cause; give the model capacity first, then re-check)"
    f.evidence["symptom_of"] = {"code": "model.underfit", "columns": []}


def rank_and_gate(findings: list[Finding]) -> None:
    """Fold symptoms into their cause (`fold_symptoms`); sort by rung (lowest first), severity,
    then impact; mark findings that sit above a critical finding of a lower layer as conditional
    on fixing it."""
    fold_symptoms(findings)
    findings.sort(key=lambda f: (layer_order(f.layer), -f.severity.rank, -(f.impact or 0.0)))
    critical = [f for f in findings if f.severity.rank == 2]
    for f in findings:
        # production findings describe another data set: not conditional on offline ones
        if f.layer != "production":
            below = [c.code for c in critical if layer_order(c.layer) < layer_order(f.layer)]
            f.conditional_on = list(dict.fromkeys(below))


def _baselines(ctx: Context) -> dict[str, Any] | None:
    res = ctx.computed("baselines")
    if res is None:
        return None
    return {
        "metric": res.metric,
        "splitter": res.splitter,
        "rows": res.n_rows,
        "folds": res.n_splits,
        "subsampled": res.subsampled,
        "models": res.table(),
    }


def model_headline(ctx: Context) -> dict[str, Any] | None:
    """The model's own headline score: evaluation metric with its 95% interval, training metric,
    and the best cross-validated baseline (when the baselines ran). None without predictions."""
    c = ctx.case
    if c.model is None or not c.has_evaluation or c.task not in HEADLINE:
        return None
    out: dict[str, Any] = {"metric": HEADLINE[c.task]}
    for which in ("test", "train"):
        try:
            pred = ctx.predictions(which)
            groups = ctx.frame(which)[c.group_column].to_numpy() if c.group_column else None
            value, se = headline(
                c.task, ctx.y(which), pred.score, pred.label, positive=c.positive, groups=groups
            )
        except (NotApplicable, InputError, KeyError, ValueError, TypeError):
            continue
        floor = -np.inf if out["metric"] == "r2" else 0.0  # every headline metric is at most 1
        out[which] = {
            "value": value,
            "low": float(np.clip(value - 1.96 * se, floor, 1.0)),
            "high": float(np.clip(value + 1.96 * se, floor, 1.0)),
        }
    res = ctx.computed("baselines")
    if res is not None:
        rows = [r for r in res.table() if r.get("cv_mean") is not None and r["key"] != "user"]
        if rows:
            best = (max if res.greater_is_better else min)(rows, key=lambda r: r["cv_mean"])
            out["best_baseline"] = {"model": best["model"], "value": best["cv_mean"]}
    return out if ("test" in out or "train" in out) else None


def _threads(n_jobs: int) -> AbstractContextManager[Any]:
    """Limit OpenMP/BLAS threads: on a busy machine, spinning OpenMP workers of gradient boosting
    can be 40x slower than one thread (measured on a 2-core machine under load)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=max(1, int(n_jobs)))


def scope_of(codes_or_layers: Iterable[str]) -> Callable[[Check], bool]:
    """A scope over the given codes and layers (for commands that run part of the ladder)."""
    names = set(codes_or_layers)
    return lambda c: c.code in names or c.layer in names
