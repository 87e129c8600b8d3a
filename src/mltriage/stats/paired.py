"""The paired bootstrap: two models scored on the same rows, compared on the same resamples.

`Resampler(n, n_boot, seed)` draws `n_boot` bootstrap resamples of `n` rows once (as row counts,
a float32 matrix per chunk of resamples) and evaluates every statistic on the same resamples, in
one pass: the difference between two models is then paired (the rows that are hard for one
resample are hard for both models), and a slice's statistic is the same resample restricted to
the slice's rows. The number of resamples is fixed before anything is drawn; the seed makes every
interval reproducible.

A statistic maps a (resamples, rows) weight matrix to one value per resample. The factories below
build the weighted form of each metric (a resample's row counts are its weights), vectorised over
the resamples: ROC AUC from one sort of the scores and cumulative sums of the weights, rates and
means from a matrix product, the ECE from the equal-mass bins of the full sample (as
`stats.calibration.ece_bootstrap` keeps them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .calibration import equal_mass_bins, n_bins_for

Stat = Callable[[np.ndarray], np.ndarray]

# metrics of a binary, multiclass or regression model that the gate can compare; True when a
# larger value is better
GREATER_IS_BETTER = {
    "roc_auc": True,
    "accuracy": True,
    "balanced_accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "log_loss": False,
    "brier": False,
    "r2": True,
    "mae": False,
    "rmse": False,
}
BOUNDED = {"roc_auc", "accuracy", "balanced_accuracy", "precision", "recall", "f1", "r2", "brier"}


@dataclass(frozen=True)
class Resampler:
    """`n_boot` bootstrap resamples of `n` rows, drawn from `seed` in chunks of `chunk`."""

    n: int
    n_boot: int
    seed: int = 0
    chunk: int = 64

    def chunks(self) -> Iterator[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        for start in range(0, self.n_boot, self.chunk):
            size = min(self.chunk, self.n_boot - start)
            w = np.empty((size, self.n), dtype=np.float32)
            for i in range(size):
                w[i] = np.bincount(rng.integers(0, self.n, self.n), minlength=self.n)
            yield w

    def run(self, stats: dict[str, Stat]) -> dict[str, np.ndarray]:
        """Every statistic on every resample (the same resamples for all): name -> (n_boot,).
        Statistics restricted to the same rows (`on_rows` with one mask) share one gather of
        the weights per chunk."""
        out: dict[str, list[np.ndarray]] = {k: [] for k in stats}
        for w in self.chunks():
            gathered: dict[int, np.ndarray] = {}
            for k, fn in stats.items():
                if isinstance(fn, OnRows):
                    sub = gathered.get(fn.key)
                    if sub is None:
                        sub = gathered[fn.key] = np.take(w, fn.idx, axis=1)
                    out[k].append(np.asarray(fn.stat(sub), dtype=float))
                else:
                    out[k].append(np.asarray(fn(w), dtype=float))
        return {k: np.concatenate(v) if v else np.empty(0) for k, v in out.items()}

    def point(self, stats: dict[str, Stat]) -> dict[str, float]:
        """Every statistic on the rows themselves (weight 1 each)."""
        ones = np.ones((1, self.n), dtype=np.float32)
        return {k: float(np.asarray(fn(ones), dtype=float)[0]) for k, fn in stats.items()}


class OnRows:
    """A statistic restricted to some rows (a slice): the same resamples, other rows weighted 0.
    Statistics built on the same `rows` array share its gather in `Resampler.run`."""

    def __init__(self, stat: Stat, rows: np.ndarray) -> None:
        self.stat = stat
        self.idx = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows)
        self.key = hash((len(self.idx), self.idx.tobytes()))

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return self.stat(np.take(w, self.idx, axis=1))


def on_rows(stat: Stat, rows: np.ndarray) -> OnRows:
    return OnRows(stat, rows)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


# ---------------------------------------------------------------------------------- factories


def mean_of(values: np.ndarray) -> Stat:
    """The weighted mean of a per-row value (accuracy from hits, a rate from 0/1, MAE from |e|)."""
    v = np.asarray(values, dtype=np.float32)
    return lambda w: _ratio(w @ v, w.sum(axis=1, dtype=np.float64))


def rmse_of(error: np.ndarray) -> Stat:
    e2 = np.asarray(error, dtype=np.float64) ** 2
    return lambda w: np.sqrt(_ratio(w @ e2, w.sum(axis=1, dtype=np.float64)))


def r2_of(y: np.ndarray, pred: np.ndarray) -> Stat:
    """Weighted R²: 1 - SSE / SST around the resample's own mean of y."""
    yv = np.asarray(y, dtype=np.float64)
    e2 = (yv - np.asarray(pred, dtype=np.float64)) ** 2
    centre = yv - yv.mean()  # numerically stable: SST from centred values
    c1, c2 = centre, centre**2

    def stat(w: np.ndarray) -> np.ndarray:
        s = w.sum(axis=1, dtype=np.float64)
        sse = w @ e2
        m1 = _ratio(w @ c1, s)
        sst = w @ c2 - s * m1**2
        return 1.0 - _ratio(sse, sst)

    return stat


def precision_of(pred_pos: np.ndarray, true_pos: np.ndarray) -> Stat:
    tp = (pred_pos & true_pos).astype(np.float32)
    pp = pred_pos.astype(np.float32)
    return lambda w: _ratio(w @ tp, w @ pp)


def recall_of(pred_pos: np.ndarray, true_pos: np.ndarray) -> Stat:
    tp = (pred_pos & true_pos).astype(np.float32)
    p = true_pos.astype(np.float32)
    return lambda w: _ratio(w @ tp, w @ p)


def f1_of(pred_pos: np.ndarray, true_pos: np.ndarray) -> Stat:
    tp = (pred_pos & true_pos).astype(np.float32)
    both = pred_pos.astype(np.float32) + true_pos.astype(np.float32)
    return lambda w: _ratio(2.0 * (w @ tp), w @ both)


def balanced_accuracy_of(y_codes: np.ndarray, hit: np.ndarray, n_classes: int) -> Stat:
    """The mean over classes of the recall (classes absent from a resample left out)."""
    onehot = np.zeros((len(y_codes), n_classes), dtype=np.float32)
    onehot[np.arange(len(y_codes)), y_codes] = 1.0
    hits = onehot * np.asarray(hit, dtype=np.float32)[:, None]

    def stat(w: np.ndarray) -> np.ndarray:
        rec = _ratio(w @ hits, w @ onehot)
        with np.errstate(invalid="ignore"):
            return np.nanmean(rec, axis=1) if rec.size else np.full(len(w), np.nan)

    return stat


def auc_of(true_pos: np.ndarray, score: np.ndarray) -> Stat:
    """Weighted ROC AUC (ties count one half): one sort of the scores, then per resample the
    weight of negatives below each positive from cumulative sums over tie groups (summed by a
    sparse indicator product, far faster than `np.add.reduceat` across columns). Weights are
    bootstrap counts, so float32 sums stay exact up to 16 million rows."""
    from scipy import sparse

    s = np.asarray(score, dtype=np.float64)
    finite = np.isfinite(s)
    order = np.flatnonzero(finite)[np.argsort(s[finite], kind="mergesort")]
    ss, yy = s[order], np.asarray(true_pos, dtype=np.float32)[order]
    m = len(ss)
    group = np.cumsum(np.r_[True, ss[1:] != ss[:-1]]) - 1 if m else np.empty(0, dtype=np.intp)
    n_groups = int(group[-1]) + 1 if m else 0
    # rows (in score order) -> tie groups; None when every score is distinct
    to_groups = (
        sparse.csr_matrix((np.ones(m, dtype=np.float32), (np.arange(m), group)), shape=(m, n_groups))
        if n_groups < m
        else None
    )

    def stat(w: np.ndarray) -> np.ndarray:
        if not m:
            return np.full(len(w), np.nan)
        wo = np.take(w, order, axis=1)
        pos = wo * yy
        neg = wo - pos
        if to_groups is not None:
            pos, neg = np.asarray(pos @ to_groups), np.asarray(neg @ to_groups)
        below = np.cumsum(neg, axis=1)
        below -= neg
        below += 0.5 * neg
        num = np.einsum("ij,ij->i", pos, below, dtype=np.float64)
        return _ratio(num, pos.sum(axis=1, dtype=np.float64) * neg.sum(axis=1, dtype=np.float64))

    return stat


def ece_of(conf: np.ndarray, hit: np.ndarray, n_bins: int | None = None) -> Stat:
    """Weighted expected calibration error on the equal-mass bins of the full sample."""
    conf = np.asarray(conf, dtype=np.float64)
    k = n_bins or n_bins_for(len(conf))
    bins = equal_mass_bins(conf, k)
    gap = np.zeros((len(conf), k), dtype=np.float32)
    gap[np.arange(len(conf)), bins] = np.asarray(hit, dtype=np.float64) - conf
    return lambda w: _ratio(np.abs(w @ gap).sum(axis=1), w.sum(axis=1, dtype=np.float64))


# ---------------------------------------------------------------------------------- comparison


@dataclass
class Difference:
    """candidate - baseline of one statistic, with its paired bootstrap interval, and the
    one-sided p-value that the candidate is worse by more than a margin."""

    baseline: float
    candidate: float
    diff: float
    low: float
    high: float
    p_worse: float  # H0: the candidate is worse by at most the margin
    margin: float
    resamples: int  # resamples where the statistic was defined on both sides

    def to_dict(self) -> dict[str, float | int]:
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "difference": self.diff,
            "low": self.low,
            "high": self.high,
            "p_worse": self.p_worse,
            "margin": self.margin,
            "resamples": self.resamples,
        }


def compare(
    base: float,
    cand: float,
    boot_base: np.ndarray,
    boot_cand: np.ndarray,
    *,
    greater_is_better: bool,
    margin: float,
    level: float = 0.95,
) -> Difference:
    """The paired difference and its percentile interval; `p_worse` is the share of resamples in
    which the candidate is not worse than the baseline by more than `margin` (with the +1
    correction, so never 0): small when it is worse by more than the margin in nearly all."""
    d = np.asarray(boot_cand, float) - np.asarray(boot_base, float)
    ok = np.isfinite(d)
    loss = -d[ok] if greater_is_better else d[ok]
    a = (1 - level) / 2
    low, high = (
        (float(np.quantile(d[ok], a)), float(np.quantile(d[ok], 1 - a))) if ok.any() else (np.nan,) * 2
    )
    n_total = len(d)
    # resamples where the comparison is undefined count as "not worse" (conservative)
    not_worse = int((loss <= margin).sum()) + int((~ok).sum())
    p = (1 + not_worse) / (1 + n_total) if n_total else 1.0
    return Difference(base, cand, cand - base, low, high, float(p), margin, int(ok.sum()))


def two_sided_shift(
    base: float,
    cand: float,
    boot_base: np.ndarray,
    boot_cand: np.ndarray,
    tolerance: float,
    level: float = 0.95,
) -> Difference:
    """A difference in either direction beyond `tolerance` (a rate that should not move):
    `p_worse` is twice the smaller one-sided p-value of |candidate - baseline| > tolerance."""
    d = np.asarray(boot_cand, float) - np.asarray(boot_base, float)
    ok = np.isfinite(d)
    n_total = len(d)
    a = (1 - level) / 2
    low, high = (
        (float(np.quantile(d[ok], a)), float(np.quantile(d[ok], 1 - a))) if ok.any() else (np.nan,) * 2
    )
    bad = int((~ok).sum())
    p_up = (1 + int((d[ok] <= tolerance).sum()) + bad) / (1 + n_total)
    p_down = (1 + int((d[ok] >= -tolerance).sum()) + bad) / (1 + n_total)
    p = min(1.0, 2 * min(p_up, p_down))
    return Difference(base, cand, cand - base, low, high, float(p), tolerance, int(ok.sum()))
