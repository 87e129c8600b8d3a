"""Decision-threshold kernels: cost and F1 over a grid of thresholds, vectorised, with honest
(cross-fitted) estimates of what tuning the threshold saves and bootstrap intervals.

A row is predicted positive when its score is >= the threshold. Costs are per row:
    cost(t) = (c_fp * FP + c_fn * FN + c_tp * TP + c_tn * TN) / n.

Choosing the best threshold on a set and reporting its cost on that same set flatters it; the
saving is therefore measured by cross-fitting: the threshold is chosen on one random half of the
evaluation rows and its cost measured on the other half (and the reverse), repeated over several
random splits. The bootstrap resamples rows (as weights) and repeats the whole procedure.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def bayes_threshold(cost: dict[str, float]) -> float:
    """The cost-optimal threshold of a calibrated probability: predict positive when
    p * (c_fn - c_tp) >= (1 - p) * (c_fp - c_tn)."""
    a = cost.get("fp", 0.0) - cost.get("tn", 0.0)
    b = cost.get("fn", 0.0) - cost.get("tp", 0.0)
    if a + b <= 0:
        return 0.5
    return float(min(max(a / (a + b), 0.0), 1.0))


def make_grid(score: np.ndarray, extra: list[float] = (), size: int = 200) -> np.ndarray:
    """Candidate thresholds: quantiles of the scores, plus `extra` (the threshold in use), sorted
    and unique; the largest is above every score (predict nothing positive)."""
    s = np.asarray(score, float)
    s = s[np.isfinite(s)]
    q = np.quantile(s, np.linspace(0.0, 1.0, size)) if len(s) else np.array([0.5])
    top = np.nextafter(s.max(), np.inf) if len(s) else 1.0
    return np.unique(np.concatenate([q, np.asarray(list(extra), float), [top]]))


@dataclass
class Counts:
    """Weighted positives and negatives that each threshold of a grid predicts positive."""
    tp: np.ndarray   # (..., G)
    fp: np.ndarray
    pos: np.ndarray  # (...,) total positives
    neg: np.ndarray

    def cost(self, c: dict[str, float]) -> np.ndarray:
        fn = self.pos[..., None] - self.tp
        tn = self.neg[..., None] - self.fp
        n = (self.pos + self.neg)[..., None]
        total = c.get("fp", 0.0) * self.fp + c.get("fn", 0.0) * fn \
            + c.get("tp", 0.0) * self.tp + c.get("tn", 0.0) * tn
        return total / np.maximum(n, 1e-12)

    def f1(self) -> np.ndarray:
        fn = self.pos[..., None] - self.tp
        return 2 * self.tp / np.maximum(2 * self.tp + self.fp + fn, 1e-12)

    def recall(self) -> np.ndarray:
        return self.tp / np.maximum(self.pos[..., None], 1e-12)


def counts(score: np.ndarray, y: np.ndarray, grid: np.ndarray,
           weights: np.ndarray | None = None) -> Counts:
    """TP and FP at every grid threshold. `weights` may be (n,) or (B, n) (bootstrap draws)."""
    s = np.asarray(score, float)
    y = np.asarray(y, float)
    G = len(grid)
    # number of grid thresholds <= s: the row is predicted positive for grid[j], j < k
    k = np.searchsorted(grid, s, side="right")
    W = np.ones((1, len(s))) if weights is None else np.atleast_2d(np.asarray(weights, float))
    B = W.shape[0]
    # per-row bucket k, weighted positives / negatives; TP(j) = sum over rows with k > j
    flat = (np.arange(B)[:, None] * (G + 1) + k[None, :]).ravel()
    pos_b = np.bincount(flat, weights=(W * y[None, :]).ravel(), minlength=B * (G + 1)).reshape(B, G + 1)
    neg_b = np.bincount(flat, weights=(W * (1 - y)[None, :]).ravel(), minlength=B * (G + 1)).reshape(B, G + 1)
    tp = np.cumsum(pos_b[:, ::-1], axis=1)[:, ::-1][:, 1:]    # sum_{k > j}
    fp = np.cumsum(neg_b[:, ::-1], axis=1)[:, ::-1][:, 1:]
    out = Counts(tp=tp, fp=fp, pos=pos_b.sum(axis=1), neg=neg_b.sum(axis=1))
    if weights is None or np.ndim(weights) == 1:
        out = Counts(tp=tp[0], fp=fp[0], pos=out.pos[0], neg=out.neg[0])
    return out


def _objective(cnt: Counts, cost: dict[str, float] | None) -> np.ndarray:
    """Lower is better: the cost per row, or 1 - F1 without a cost."""
    return cnt.cost(cost) if cost is not None else 1.0 - cnt.f1()


@dataclass
class TuneResult:
    grid: np.ndarray
    current: float                 # threshold in use
    best_threshold: float          # optimum on all evaluation rows (for the report)
    value_current: float           # objective at the threshold in use (all rows)
    value_best_insample: float     # objective at the in-sample optimum (optimistic)
    value_tuned: float             # cross-fitted objective of a tuned threshold (honest)
    saving: float                  # value_current - value_tuned (honest)
    saving_ci: tuple[float, float]
    chosen_thresholds: list[float]  # thresholds chosen on the halves (their spread)


def tune(score: np.ndarray, y: np.ndarray, current: float, cost: dict[str, float] | None = None,
         n_splits: int = 5, n_boot: int = 200, seed: int = 0, grid_size: int = 200) -> TuneResult:
    """Compare the threshold in use with a tuned one; objective = cost per row (or 1 - F1).

    The tuned threshold's value is cross-fitted (chosen on one half, measured on the other) over
    `n_splits` random halvings; the bootstrap interval redoes that on resampled rows."""
    s = np.asarray(score, float)
    y = np.asarray(y, float)
    ok = np.isfinite(s)
    s, y = s[ok], y[ok]
    n = len(s)
    grid = make_grid(s, [current], grid_size)
    j_cur = int(np.searchsorted(grid, current))
    rng = np.random.default_rng(seed)

    full = _objective(counts(s, y, grid), cost)
    j_best = int(np.argmin(full))

    # halvings (stratified on y so both halves hold positives)
    halves = []
    for _ in range(n_splits):
        h = np.zeros(n, dtype=bool)
        for cls in (0.0, 1.0):
            idx = np.flatnonzero(y == cls)
            h[rng.permutation(idx)[: len(idx) // 2]] = True
        halves.append(h)

    def crossfit(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
        """w: (B, n) weights. Returns the honest tuned objective and the current one, per draw."""
        tuned = np.zeros(w.shape[0])
        cur = np.zeros(w.shape[0])
        chosen = []
        for h in halves:
            for a in (h, ~h):
                wa = w * a[None, :]
                wb = w * (~a)[None, :]
                ca = _objective(counts(s, y, grid, wa), cost)
                cb = _objective(counts(s, y, grid, wb), cost)
                j = np.argmin(ca, axis=1)
                tuned += cb[np.arange(len(j)), j]
                cur += cb[:, j_cur]
                chosen.append(j)
        k = 2 * len(halves)
        return tuned / k, cur / k, chosen

    t0, c0, ch = crossfit(np.ones((1, n)))
    chosen_thr = [float(grid[j[0]]) for j in ch]
    draws = []
    batch = 50
    for start in range(0, n_boot, batch):
        b = min(batch, n_boot - start)
        w = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(b)]).astype(float)
        t, c, _ = crossfit(w)
        draws.append(c - t)
    d = np.concatenate(draws) if draws else np.array([np.nan])
    return TuneResult(grid=grid, current=float(current), best_threshold=float(grid[j_best]),
                      value_current=float(full[j_cur]), value_best_insample=float(full[j_best]),
                      value_tuned=float(t0[0]), saving=float(c0[0] - t0[0]),
                      saving_ci=(float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))),
                      chosen_thresholds=chosen_thr)
