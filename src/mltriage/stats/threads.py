"""Independent, deterministic fits side by side in worker threads (issue 9: the median scenario
under 5 s on two cores). The results are those of one thread: each task is fitted as the calling
thread would fit it (same OpenMP thread limit) and the results come back in the tasks' order."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def side_by_side(fn: Callable[[T], Any], items: Sequence[T], workers: int) -> list[tuple[Any, float]]:
    """fn(item) for every item, each as (its result or the exception it raised, its seconds), in
    the order of `items`; warnings silenced. With workers > 1 the items run in that many threads,
    handed out in order (put the costliest first)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if workers <= 1 or len(items) <= 1:
            return [_attempt(fn, it) for it in items]
        from concurrent.futures import ThreadPoolExecutor

        # scikit-learn's Parallel (ColumnTransformer, ...) resets the process-wide warning filters
        # inside each call: threads side by side can see them empty for a moment, so nothing is
        # shown until the pool is done (catch_warnings restores both)
        warnings.showwarning = _shown_nowhere
        n = min(workers, len(items))
        with ThreadPoolExecutor(n, initializer=_same_threads, initargs=(_openmp_threads(),)) as pool:
            futures = [pool.submit(_attempt, fn, it) for it in items]
            return [f.result() for f in futures]


def _attempt(fn: Callable[[T], Any], item: T) -> tuple[Any, float]:
    t0 = time.perf_counter()
    try:
        return fn(item), time.perf_counter() - t0
    except Exception as exc:
        return exc, time.perf_counter() - t0


def _shown_nowhere(*args: Any, **kwargs: Any) -> None:
    """warnings.showwarning while the threads run."""


def _openmp_threads() -> int | None:
    """The OpenMP thread limit of the calling thread (the runner sets it for refits)."""
    from threadpoolctl import threadpool_info

    n = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "openmp"]
    return min(n) if n else None


def _same_threads(n: int | None) -> None:
    """A worker thread starts with OpenMP's default thread count (the limit is per thread): give
    it the caller's, so that every fit runs exactly as it would in the calling thread."""
    if n is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n, user_api="openmp")
