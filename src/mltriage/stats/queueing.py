"""Whether a latency target holds at a request rate: a small queueing simulation on measured times.

The model, stated in every report that uses it:

- requests arrive one by one at random (a Poisson process) at `qps` per second;
- `workers` servers (one by default: one process scoring on this machine) take them first come,
  first served; a free worker takes every request waiting, up to `max_batch`, and scores them in
  one call (dynamic batching without an extra wait: `max_batch` = 1 is no batching);
- a call on k rows lasts a time drawn from the measured per-call times at the nearest measured
  batch size at or below k, scaled along the measured medians towards the next size (linear in k);
  beyond the largest measured size, in proportion to k;
- a request's latency is its wait in the queue plus its batch's call; the p99 is over the
  requests after the first 10% (the queue's warm-up).

A queue whose workers are busy all the time (utilisation near 1) grows without bound: the
estimate then says the rate cannot be served, whatever the p99 of the simulated stretch.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass
class QueueEstimate:
    qps: float
    max_batch: int
    workers: int
    requests: int
    p50_ms: float
    p99_ms: float
    utilisation: float  # share of the time the workers are busy
    mean_batch: float  # rows per call on average

    @property
    def stable(self) -> bool:
        return self.utilisation < 0.98

    def to_dict(self) -> dict[str, float | int | bool | None]:
        return {
            "qps": self.qps,
            "max_batch": self.max_batch,
            "workers": self.workers,
            "requests": self.requests,
            # an unstable queue's latencies only measure how long the simulation ran
            "p50_ms": self.p50_ms if self.stable else None,
            "p99_ms": self.p99_ms if self.stable else None,
            "utilisation": self.utilisation,
            "mean_batch": self.mean_batch,
            "stable": self.stable,
        }


class ServiceTimes:
    """Draws the duration of a call on k rows from the per-call times measured at a few sizes."""

    def __init__(self, measured: dict[int, np.ndarray], rng: np.random.Generator) -> None:
        self.sizes = sorted(k for k, v in measured.items() if len(v))
        if not self.sizes:
            raise ValueError("no measured service times")
        self.samples = {k: np.asarray(measured[k], dtype=float) for k in self.sizes}
        self.medians = {k: float(np.median(v)) for k, v in self.samples.items()}
        self.rng = rng

    def draw(self, k: int) -> float:
        sizes = self.sizes
        i = int(np.searchsorted(sizes, k, side="right")) - 1
        lo = sizes[max(i, 0)]
        base = self.samples[lo][int(self.rng.integers(len(self.samples[lo])))]
        if k <= lo:
            return float(base)
        if i + 1 < len(sizes):
            hi = sizes[i + 1]
            step = self.medians[hi] / max(self.medians[lo], 1e-12) - 1.0
            return float(base * (1.0 + step * (k - lo) / (hi - lo)))
        return float(base * k / lo)


def simulate(
    measured: dict[int, np.ndarray],
    qps: float,
    *,
    max_batch: int = 1,
    workers: int = 1,
    requests: int = 20_000,
    seed: int = 0,
) -> QueueEstimate:
    """Latency of requests at `qps` served with dynamic batching up to `max_batch` (see module)."""
    rng = np.random.default_rng(seed)
    service = ServiceTimes(measured, rng)
    arrivals = np.cumsum(rng.exponential(1.0 / qps, requests))
    free = [0.0] * workers
    heapq.heapify(free)
    latency = np.empty(requests)
    busy, calls, i = 0.0, 0, 0
    while i < requests:
        start = max(heapq.heappop(free), arrivals[i])
        waiting = int(np.searchsorted(arrivals, start, side="right"))
        j = min(max(waiting, i + 1), i + max_batch)
        duration = service.draw(j - i)
        end = start + duration
        latency[i:j] = end - arrivals[i:j]
        busy += duration
        calls += 1
        heapq.heappush(free, end)
        i = j
    span = max(max(free), arrivals[-1]) if requests else 1.0
    tail = latency[requests // 10 :]
    return QueueEstimate(
        qps=float(qps),
        max_batch=int(max_batch),
        workers=int(workers),
        requests=int(requests),
        p50_ms=float(np.percentile(tail, 50) * 1000),
        p99_ms=float(np.percentile(tail, 99) * 1000),
        utilisation=float(min(busy / (workers * span), 1.0)),
        mean_batch=requests / max(calls, 1),
    )
