"""gate.latency_regression: the candidate's per-row latency against the baseline's, measured as
`mltriage latency` measures (stats.latency: batches cut before timing, warm-up, repetitions fixed
from a quick calibration), the two models timed call by call in alternation on the same rows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.latency import batches, plan_reps, predictor, quiet, ratio_interval, time_pairs

if TYPE_CHECKING:
    from ...context import Context

ALPHA = Interval(float, 0, 1, closed="neither")


@dataclass
class LatencyPair:
    """Seconds per single-row call of both models, paired call by call."""

    baseline: np.ndarray
    candidate: np.ndarray
    threads: int

    def summary(self, seed: int) -> dict[str, Any]:
        out: dict[str, Any] = {"calls": len(self.baseline), "threads": self.threads}
        for name, q in (("median", 50), ("p99", 99)):
            ratio, low, high, _ = ratio_interval(self.baseline, self.candidate, q, seed=seed)
            out[name] = {
                "baseline_ms": float(np.percentile(self.baseline, q) * 1000),
                "candidate_ms": float(np.percentile(self.candidate, q) * 1000),
                "ratio": ratio,
                "low": low,
                "high": high,
            }
        return out


def latency_pair(ctx: Context, budget_s: float, min_reps: int, threads: int) -> LatencyPair:
    """Both models timed on the same single rows (cached on the run's Context)."""
    return ctx.cached("gate:latency", lambda: _measure(ctx, budget_s, min_reps, threads))


def _measure(ctx: Context, budget_s: float, min_reps: int, threads: int) -> LatencyPair:
    from threadpoolctl import threadpool_limits

    c = ctx.case
    assert c.model is not None and c.candidate is not None
    frame = ctx.frame("test")
    rows = batches(frame, 1, seed=ctx.config.seed)
    feats_b = c.model.feature_names or c.features
    feats_c = c.candidate.feature_names or c.features
    in_b = [r[feats_b] for r in rows]
    in_c = [r[feats_c] for r in rows]
    fn_b = quiet(predictor(c.model.obj)[0])
    fn_c = quiet(predictor(c.candidate.obj)[0])
    threads = threads or os.cpu_count() or 1
    with threadpool_limits(limits=threads):
        reps = min(
            plan_reps(fn_b, in_b, budget_s / 2, min_reps=min_reps, max_reps=2000),
            plan_reps(fn_c, in_c, budget_s / 2, min_reps=min_reps, max_reps=2000),
        )
        a, b = time_pairs(fn_b, fn_c, in_b, in_c, reps, deadline_s=3 * budget_s)
    return LatencyPair(a, b, threads)


@check(
    "gate.latency_regression",
    tasks=("binary", "multiclass", "regression"),
    requires=("candidate_estimator",),
    max_slowdown=Param(
        0.25, Interval(float, 0, None), "largest tolerated increase of the median latency per row (25%)"
    ),
    max_p99_slowdown=Param(
        0.5,
        Interval(float, 0, None),
        "largest tolerated increase of the p99 latency per row (50%: the tail is noisier than the "
        "median on a shared machine)",
    ),
    budget_s=Param(
        2.0, Interval(float, 0, None, closed="neither"), "seconds of timing spent on both models together"
    ),
    min_reps=Param(30, Interval(int, 10, None), "fewest paired calls, whatever the budget"),
    threads=Param(
        1,
        Interval(int, 0, None),
        "threads of the BLAS/OpenMP pools while timing (1: steady on a busy machine, as one worker "
        "per core serves; 0: every core)",
    ),
    alpha=Param(0.05, ALPHA, "significance level of each one-sided test (median, p99)"),
)
def latency_regression(ctx: Context, p: Params) -> Findings:
    """The candidate model is significantly slower per row than the baseline.

    What it detects
        Both models score single rows of the evaluation set (predict_proba when they have it),
        called in alternation on the same rows after a warm-up, as many calls as fit in `budget_s`
        (decided from a quick calibration, at least `min_reps`), with `threads` threads. It fails when the
        candidate's median latency is more than `max_slowdown` above the baseline's, or its p99
        more than `max_p99_slowdown` above, with a one-sided p-value below `alpha` from the paired
        bootstrap of the ratio.
    Why it matters
        A more accurate candidate that is twice as slow can break the latency budget of the service
        that calls it (timeouts, fallbacks, more machines), which no accuracy metric shows.
    How to confirm
        Run `mltriage latency --model` on each model with the same rows: per batch size, the p50,
        p95 and p99, the share of each pipeline step and the options that make it faster.
    Fix
        Keep the baseline until the candidate fits the budget: a smaller model of the same family,
        batching, thread settings or a distilled surrogate (`mltriage latency` measures each).
    """
    c = ctx.case
    if c.model is None or c.candidate is None:
        raise NotApplicable("needs both models")
    pair = latency_pair(ctx, p.budget_s, p.min_reps, p.threads)
    summary = pair.summary(ctx.config.seed)
    failed = []
    for name, q, tol in (("median", 50, p.max_slowdown), ("p99", 99, p.max_p99_slowdown)):
        _, _, _, ratios = ratio_interval(pair.baseline, pair.candidate, q, seed=ctx.config.seed)
        pval = (1 + int((ratios <= 1 + tol).sum())) / (1 + len(ratios))
        summary[name]["p_slower"] = pval
        summary[name]["tolerance"] = 1 + tol
        if pval < p.alpha:
            failed.append(name)
    if not failed:
        return None
    key = failed[0]
    s = summary[key]
    return Finding(
        code="gate.latency_regression",
        severity=WARNING,
        title=(
            f"The candidate is {s['ratio']:.2g}x slower per row than the baseline ({key} "
            f"{s['candidate_ms']:.3g} ms vs {s['baseline_ms']:.3g} ms; 95% interval of the ratio "
            f"[{s['low']:.2g}, {s['high']:.2g}])"
        ),
        evidence={"latency": summary, "failed": failed},
        root_cause=(
            f"timed on the same {summary['calls']} single rows in alternation, the candidate's {key} "
            f"exceeds {s['tolerance']:.2g} times the baseline's in nearly every resample"
        ),
        fix=(
            "Keep the baseline until the candidate fits the latency budget: run `mltriage latency "
            "--model CANDIDATE --data ROWS --target Y` for the measured options (a smaller model of "
            "the same family, batching, threads, a distilled surrogate)."
        ),
        impact=float(min(1.0, 1 - 1 / max(s["ratio"], 1.0))),
    )
