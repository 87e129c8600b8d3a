"""Wall-clock latency of a model's predictions, measured robustly.

Latency is the one thing mltriage measures on the wall clock, so each measurement follows the same
protocol (`measure`):

1. the batches of rows are cut before timing (slicing a frame is not the model's time), from a
   shuffled pool of rows (`batches`);
2. warm-up calls first (caches, lazy initialisation, thread pools);
3. a quick calibration (a few timed calls) fixes the number of repetitions up front: as many as
   fit in the time budget, between a floor and a ceiling (`plan_reps`);
4. the repetitions run with the garbage collector paused; the report gives the median, p95 and
   p99 of the per-call times (with fewer than 100 repetitions the p99 is close to the maximum, and
   says so through `reps`).

`time_pairs` times two models call by call, alternating which goes first, so that a burst of load
on a shared machine hits both (the paired comparison of `gate.latency_regression`); `step_times`
splits a fitted scikit-learn Pipeline's time into its steps (and a ColumnTransformer into its
transformers); `thread_info` says which thread pools the process runs with (threadpoolctl).
"""

from __future__ import annotations

import gc
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

BATCH_SIZES = (1, 8, 64, 512, 4096)
POOL_ROWS = 50_000  # most rows cut into batches for one batch size (memory)


@dataclass
class Timing:
    """Per-call times of one batch size, in milliseconds."""

    batch: int
    reps: int
    p50: float
    p95: float
    p99: float
    mean: float
    samples: np.ndarray  # seconds per call, in the order measured

    @property
    def per_row_ms(self) -> float:
        return self.p50 / self.batch

    @property
    def rows_per_s(self) -> float:
        return self.batch / (self.p50 / 1000) if self.p50 > 0 else float("inf")

    def row(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "reps": self.reps,
            "p50_ms": self.p50,
            "p95_ms": self.p95,
            "p99_ms": self.p99,
            "per_row_ms": self.per_row_ms,
            "rows_per_s": self.rows_per_s,
        }


def summarise(batch: int, seconds: np.ndarray) -> Timing:
    ms = np.asarray(seconds, dtype=float) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return Timing(batch, len(ms), float(p50), float(p95), float(p99), float(ms.mean()), np.asarray(seconds))


def predictor(model: Any) -> tuple[Callable[[Any], Any], str]:
    """What serving calls: predict_proba when the model has it, else predict (or the callable)."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba, "predict_proba"
    if hasattr(model, "predict"):
        return model.predict, "predict"
    return model, "call"


def quiet(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`fn` with warnings silenced (a warning printed per call would be timed too)."""

    def call(X: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(X)

    return call


def batches(X: pd.DataFrame, size: int, seed: int = 0, pool: int = 64) -> list[pd.DataFrame]:
    """Up to `pool` distinct batches of `size` rows from a shuffled copy of X (fewer when the rows
    or POOL_ROWS run out; at least one)."""
    n = len(X)
    count = max(1, min(pool, n // max(size, 1), POOL_ROWS // max(size, 1)))
    order = np.random.default_rng(seed).permutation(n)
    out = []
    for i in range(count):
        idx = order[(i * size) % n : (i * size) % n + size]
        if len(idx) < size:
            idx = np.r_[idx, order[: size - len(idx)]]
        out.append(X.iloc[idx])
    return out


def time_calls(
    fn: Callable[[Any], Any], inputs: list[Any], reps: int, deadline_s: float | None = None
) -> np.ndarray:
    """Seconds of `reps` calls of fn, cycling through `inputs`, with the garbage collector paused.
    With `deadline_s`, stops early once that many seconds have passed and 3 calls are done (a
    machine under heavy load must not hold the run for minutes): fewer calls are returned."""
    out = np.empty(reps)
    enabled = gc.isenabled()
    gc.disable()
    start = time.perf_counter()
    done = reps
    try:
        for i in range(reps):
            x = inputs[i % len(inputs)]
            t0 = time.perf_counter()
            fn(x)
            t1 = time.perf_counter()
            out[i] = t1 - t0
            if deadline_s is not None and i >= 2 and t1 - start > deadline_s:
                done = i + 1
                break
    finally:
        if enabled:
            gc.enable()
    return out[:done]


def plan_reps(
    fn: Callable[[Any], Any],
    inputs: list[Any],
    budget_s: float,
    *,
    warmup: int = 2,
    probe: int = 3,
    min_reps: int = 10,
    max_reps: int = 1000,
) -> int:
    """Warm up, time a few calls, and fix the number of repetitions that fits the budget."""
    time_calls(fn, inputs, warmup, deadline_s=budget_s)
    per_call = float(np.median(time_calls(fn, inputs, probe, deadline_s=budget_s)))
    fit = int(budget_s / per_call) if per_call > 0 else max_reps
    return int(min(max(fit, min_reps), max_reps))


def measure(
    fn: Callable[[Any], Any],
    X: pd.DataFrame,
    size: int,
    budget_s: float,
    *,
    seed: int = 0,
    min_reps: int = 10,
    max_reps: int = 1000,
) -> Timing:
    """The per-call latency of fn on batches of `size` rows (see the module's protocol); the
    repetitions stop at three times the budget on a machine far slower than its calibration."""
    inputs = batches(X, size, seed=seed)
    reps = plan_reps(fn, inputs, budget_s, min_reps=min_reps, max_reps=max_reps)
    return summarise(size, time_calls(fn, inputs, reps, deadline_s=3 * budget_s))


def time_pairs(
    fn_a: Callable[[Any], Any],
    fn_b: Callable[[Any], Any],
    inputs_a: list[Any],
    inputs_b: list[Any],
    reps: int,
    deadline_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds per call of two functions on the same rows (each its own columns: `inputs_a[i]`
    and `inputs_b[i]` hold the same rows), call by call, alternating which one goes first (a
    burst of load hits both alike); `deadline_s` as in `time_calls`."""
    a, b = np.empty(reps), np.empty(reps)
    enabled = gc.isenabled()
    gc.disable()
    start = time.perf_counter()
    done = reps
    try:
        for i in range(reps):
            k = i % len(inputs_a)
            first, second = ((fn_a, inputs_a, a), (fn_b, inputs_b, b))[:: 1 if i % 2 == 0 else -1]
            for fn, inputs, out in (first, second):
                t0 = time.perf_counter()
                fn(inputs[k])
                out[i] = time.perf_counter() - t0
            if deadline_s is not None and i >= 2 and time.perf_counter() - start > deadline_s:
                done = i + 1
                break
    finally:
        if enabled:
            gc.enable()
    return a[:done], b[:done]


def ratio_interval(
    a: np.ndarray, b: np.ndarray, q: float, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float, float, np.ndarray]:
    """The ratio of the q-th percentiles b / a of paired times, its 95% interval over pairs
    resampled together, and the resampled ratios."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    n = len(a)
    idx = rng.integers(0, n, (n_boot, n))
    ra = np.percentile(a[idx], q, axis=1)
    rb = np.percentile(b[idx], q, axis=1)
    ratios = rb / np.maximum(ra, 1e-12)
    point = float(np.percentile(b, q) / max(np.percentile(a, q), 1e-12))
    return point, float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5)), ratios


# ------------------------------------------------------------------------------ steps


def _median_seconds(fn: Callable[[], Any], reps: int) -> float:
    fn()  # warm-up
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return float(np.median(out))


def _column_parts(ct: Any, X: Any, reps: int, path: str) -> list[dict[str, Any]]:
    """Each fitted transformer of a ColumnTransformer timed on its own columns."""
    parts = []
    for name, trans, cols in getattr(ct, "transformers_", []):
        if isinstance(trans, str):  # "drop" / "passthrough"
            continue
        try:
            Xi = X[cols] if isinstance(X, pd.DataFrame) and not callable(cols) else X
            secs = _median_seconds(partial(trans.transform, Xi), reps)
        except Exception:  # a selection by position or callable: leave the part out
            continue
        parts.append({"step": f"{path}/{name}", "kind": type(trans).__name__, "seconds": secs, "part": True})
    return parts


def step_times(model: Any, X: pd.DataFrame, reps: int) -> list[dict[str, Any]]:
    """Median seconds of each fitted step of a Pipeline on X, in order, the final estimator's
    prediction last; a ColumnTransformer's transformers are listed after it (`part`: True, not
    counted twice). A model that is not a Pipeline is one step."""
    fn, method = predictor(model)
    steps = getattr(model, "steps", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out: list[dict[str, Any]] = []
        if not steps:
            secs = _median_seconds(partial(fn, X), reps)
            out.append(
                {"step": "model", "kind": f"{type(model).__name__}.{method}", "seconds": secs, "part": False}
            )
            return _shares(out)
        Xt: Any = X
        for name, step in steps[:-1]:
            if step is None or step == "passthrough":
                continue
            secs = _median_seconds(partial(step.transform, Xt), reps)
            out.append({"step": name, "kind": type(step).__name__, "seconds": secs, "part": False})
            if hasattr(step, "transformers_"):
                out.extend(_column_parts(step, Xt, reps, name))
            Xt = step.transform(Xt)
        name, last = steps[-1]
        last_fn, _ = predictor(last)
        secs = _median_seconds(partial(last_fn, Xt), reps)
        out.append({"step": name, "kind": f"{type(last).__name__}.{method}", "seconds": secs, "part": False})
    return _shares(out)


def _shares(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Milliseconds and share of the total (parts of a step are not counted twice)."""
    total = sum(r["seconds"] for r in rows if not r["part"]) or 1.0
    for r in rows:
        r["ms"] = r["seconds"] * 1000
        r["share"] = r["seconds"] / total
    return rows


# ------------------------------------------------------------------------------ threads


def thread_info(model: Any = None) -> dict[str, Any]:
    """The thread pools of the process (threadpoolctl) and the model's own n_jobs, if any."""
    from threadpoolctl import threadpool_info

    pools = [
        {"library": p.get("internal_api") or p.get("prefix"), "threads": p.get("num_threads")}
        for p in threadpool_info()
    ]
    jobs = None
    est = model.steps[-1][1] if hasattr(model, "steps") else model
    for attr in ("n_jobs", "nthread", "num_threads"):
        if est is not None and hasattr(est, "get_params") and attr in est.get_params():
            jobs = est.get_params()[attr]
            break
    return {"cores": os.cpu_count() or 1, "pools": pools, "model_n_jobs": jobs}
