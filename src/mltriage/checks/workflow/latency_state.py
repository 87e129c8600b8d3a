"""What the latency.* checks share, measured once per run (`latency_state`): the model's per-call
latency at each batch size (1, 8, 64, 512, 4096, capped by the rows given), the share of each
pipeline step, the thread pools, and the queueing estimate at the target rate. Measured with the
protocol of `stats.latency` (batches cut before timing, warm-up, repetitions fixed from a quick
calibration, garbage collector paused) and the parameters of latency.target_missed and
latency.slow_step."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...registry import NotApplicable
from ...stats.latency import BATCH_SIZES, Timing, measure, predictor, quiet, step_times, thread_info
from ...stats.queueing import QueueEstimate, simulate

if TYPE_CHECKING:
    from ...context import Context


class Clock:
    """Adds up the seconds spent inside the model's calls (for the tool's own overhead)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def timed(X: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(X)
            finally:
                self.seconds += time.perf_counter() - t0

        return timed


@dataclass
class LatencyState:
    method: str  # what was timed: predict_proba or predict
    rows: int
    threads: int  # BLAS/OpenMP threads during the measurements
    info: dict[str, Any]  # thread pools (threadpoolctl) and the model's n_jobs
    timings: dict[int, Timing]
    steps: dict[int, list[dict[str, Any]]]  # batch size -> step table
    queue: QueueEstimate | None  # at the target rate, no batching (None without --qps)
    clock: Clock = field(default_factory=Clock)
    build_s: float = 0.0  # wall seconds of these measurements
    model_s: float = 0.0  # of which inside the model's calls

    @property
    def single(self) -> Timing:
        return self.timings[1]

    def judged_p99(self) -> float:
        """The p99 the target is judged on: at the target rate when there is one, else one row."""
        return self.queue.p99_ms if self.queue is not None else self.single.p99


def features(ctx: Context) -> pd.DataFrame:
    """The rows as the model takes them (its own column names when it has them)."""
    c = ctx.case
    frame = ctx.frame("train")
    missing = [f for f in c.features if f not in frame.columns]
    if missing:
        raise NotApplicable(f"the rows lack model columns {missing[:5]}")
    return frame[c.features]


def threads_for(setting: int) -> int:
    return int(setting) if setting else os.cpu_count() or 1


def latency_state(ctx: Context) -> LatencyState:
    """The measurements shared by the latency.* checks (cached on the run's Context)."""
    return ctx.cached("latency:state", lambda: _measure(ctx))


def _measure(ctx: Context) -> LatencyState:
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    c = ctx.case
    if c.model is None or c.model.kind == "precomputed":
        raise NotApplicable("needs a fitted model object to time")
    p = ctx.config.params("latency.target_missed")
    ps = ctx.config.params("latency.slow_step")
    X = features(ctx)
    model = c.model.obj
    raw, method = predictor(model)
    clock = Clock()
    fn = clock.wrap(quiet(raw))
    sizes = [s for s in BATCH_SIZES if s <= len(X)]
    threads = threads_for(p.threads)
    seed = ctx.config.seed
    with threadpool_limits(limits=threads):
        timings = {
            s: measure(fn, X, s, p.budget_s, seed=seed, min_reps=p.min_reps, max_reps=p.max_reps)
            for s in sizes
        }
        t_steps = time.perf_counter()
        steps = {
            s: step_times(model, X.iloc[:s], ps.step_reps if s == 1 else max(3, ps.step_reps // 4))
            for s in dict.fromkeys([1, sizes[-1]])
        }
        clock.seconds += time.perf_counter() - t_steps  # the steps' own calls: time in the model
        info = thread_info(model)
    queue = None
    if c.qps:
        queue = simulate(
            {1: timings[1].samples}, c.qps, max_batch=1, workers=p.workers, requests=p.sim_requests, seed=seed
        )
    state = LatencyState(method, len(X), threads, info, timings, steps, queue, clock)
    state.build_s, state.model_s = time.perf_counter() - t0, clock.seconds
    return state


def batching_table(ctx: Context, state: LatencyState) -> list[dict[str, Any]]:
    """The p99 at the target rate with dynamic batching up to each measured batch size."""
    c = ctx.case
    if not c.qps:
        return []
    p = ctx.config.params("latency.target_missed")
    measured = {s: t.samples for s, t in state.timings.items()}
    out = []
    for size in state.timings:
        q = simulate(
            measured, c.qps, max_batch=size, workers=p.workers, requests=p.sim_requests, seed=ctx.config.seed
        )
        row = q.to_dict()
        row["meets_target"] = bool(c.target_p99_ms is not None and q.stable and q.p99_ms <= c.target_p99_ms)
        out.append(row)
    return out


def timing_table(state: LatencyState) -> list[dict[str, Any]]:
    return [t.row() for t in state.timings.values()]


def step_table(state: LatencyState) -> list[dict[str, Any]]:
    out = []
    for size, rows in state.steps.items():
        for r in rows:
            out.append(
                {
                    "batch": size,
                    "step": r["step"],
                    "kind": r["kind"],
                    "ms": r["ms"],
                    "share": r["share"],
                    "part": r["part"],
                }
            )
    return out


def p99_of(samples: np.ndarray) -> float:
    return float(np.percentile(np.asarray(samples) * 1000, 99))
