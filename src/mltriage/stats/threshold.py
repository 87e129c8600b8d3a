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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


def bayes_threshold(cost: dict[str, float]) -> float:
    """The cost-optimal threshold of a calibrated probability: predict positive when
    p * (c_fn - c_tp) >= (1 - p) * (c_fp - c_tn)."""
    a = cost.get("fp", 0.0) - cost.get("tn", 0.0)
    b = cost.get("fn", 0.0) - cost.get("tp", 0.0)
    if a + b <= 0:
        return 0.5
    return float(min(max(a / (a + b), 0.0), 1.0))


def make_grid(score: np.ndarray, extra: Sequence[float] = (), size: int = 200) -> np.ndarray:
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

    tp: np.ndarray  # (..., G)
    fp: np.ndarray
    pos: np.ndarray  # (...,) total positives
    neg: np.ndarray

    def cost(self, c: dict[str, float]) -> np.ndarray:
        fn = self.pos[..., None] - self.tp
        tn = self.neg[..., None] - self.fp
        n = (self.pos + self.neg)[..., None]
        total = (
            c.get("fp", 0.0) * self.fp
            + c.get("fn", 0.0) * fn
            + c.get("tp", 0.0) * self.tp
            + c.get("tn", 0.0) * tn
        )
        return total / np.maximum(n, 1e-12)

    def f1(self) -> np.ndarray:
        fn = self.pos[..., None] - self.tp
        return 2 * self.tp / np.maximum(2 * self.tp + self.fp + fn, 1e-12)

    def recall(self) -> np.ndarray:
        return self.tp / np.maximum(self.pos[..., None], 1e-12)

    def f1_macro(self) -> np.ndarray:
        """Mean of the F1 of the positive class and the F1 of the negative class."""
        fn = self.pos[..., None] - self.tp
        tn = self.neg[..., None] - self.fp
        f1_neg = 2 * tn / np.maximum(2 * tn + fn + self.fp, 1e-12)
        return 0.5 * (self.f1() + f1_neg)

    def mcc(self) -> np.ndarray:
        """Matthews correlation coefficient (0 where a margin is empty)."""
        fn = self.pos[..., None] - self.tp
        tn = self.neg[..., None] - self.fp
        den = (self.tp + self.fp) * (self.tp + fn) * (tn + self.fp) * (tn + fn)
        return (self.tp * tn - self.fp * fn) / np.sqrt(np.maximum(den, 1e-24))


# threshold-dependent headline metrics a threshold can be tuned for, as a loss (lower is better);
# accuracy and balanced accuracy are costs: error rate, and 1 - balanced accuracy
TUNABLE_METRICS = ("accuracy", "balanced_accuracy", "f1", "f1_macro", "mcc")
COST_LIKE_METRICS = ("accuracy", "balanced_accuracy")


def counts(score: np.ndarray, y: np.ndarray, grid: np.ndarray, weights: np.ndarray | None = None) -> Counts:
    """TP and FP at every grid threshold. `weights` may be (n,) or (B, n) (bootstrap draws)."""
    # number of grid thresholds <= s: the row is predicted positive for grid[j], j < k
    k = np.searchsorted(grid, np.asarray(score, float), side="right")
    return counts_from_buckets(k, np.asarray(y, float), len(grid), weights)


def counts_from_buckets(k: np.ndarray, y: np.ndarray, G: int, weights: np.ndarray | None = None) -> Counts:
    """As `counts`, for rows (or cells of rows) already placed in buckets k in 0..G, k being the
    number of grid thresholds at or below their score."""
    W = np.ones((1, len(k))) if weights is None else np.atleast_2d(np.asarray(weights, float))
    B = W.shape[0]
    flat = (np.arange(B)[:, None] * (G + 1) + k[None, :]).ravel()
    pos_b = np.bincount(flat, weights=(W * y[None, :]).ravel(), minlength=B * (G + 1)).reshape(B, G + 1)
    neg_b = np.bincount(flat, weights=(W * (1 - y)[None, :]).ravel(), minlength=B * (G + 1)).reshape(B, G + 1)
    tp = np.cumsum(pos_b[:, ::-1], axis=1)[:, ::-1][:, 1:]  # sum over buckets k > j
    fp = np.cumsum(neg_b[:, ::-1], axis=1)[:, ::-1][:, 1:]
    if weights is None or np.ndim(weights) == 1:
        return Counts(tp=tp[0], fp=fp[0], pos=pos_b.sum(axis=1)[0], neg=neg_b.sum(axis=1)[0])
    return Counts(tp=tp, fp=fp, pos=pos_b.sum(axis=1), neg=neg_b.sum(axis=1))


def objective(cnt: Counts, cost: dict[str, float] | str | None) -> np.ndarray:
    """Lower is better: the cost per row; a metric of TUNABLE_METRICS as a loss (error rate,
    1 - balanced accuracy, 1 - F1, 1 - macro F1, 1 - MCC); 1 - F1 when None."""
    if isinstance(cost, dict):
        return cnt.cost(cost)
    if cost == "accuracy":
        return cnt.cost({"fp": 1.0, "fn": 1.0})
    if cost == "balanced_accuracy":
        fn = cnt.pos[..., None] - cnt.tp
        return 0.5 * (
            cnt.fp / np.maximum(cnt.neg[..., None], 1e-12) + fn / np.maximum(cnt.pos[..., None], 1e-12)
        )
    if cost == "f1_macro":
        return 1.0 - cnt.f1_macro()
    if cost == "mcc":
        return 1.0 - cnt.mcc()
    return 1.0 - cnt.f1()


@dataclass
class TuneResult:
    grid: np.ndarray
    current: float  # threshold in use
    best_threshold: float  # optimum on all evaluation rows (for the report)
    value_current: float  # objective at the threshold in use (all rows)
    value_best_insample: float  # objective at the in-sample optimum (optimistic)
    value_tuned: float  # cross-fitted objective of a tuned threshold (honest)
    saving: float  # value_current - value_tuned (honest)
    saving_ci: tuple[float, float]
    saving_p: float  # one-sided bootstrap p-value of no saving: the share of draws at or below 0
    chosen_thresholds: list[float]  # thresholds chosen on the halves (their spread)


def tune(
    score: np.ndarray,
    y: np.ndarray,
    current: float,
    cost: dict[str, float] | str | None = None,
    n_splits: int = 3,
    n_boot: int = 200,
    seed: int = 0,
    grid_size: int = 200,
) -> TuneResult:
    """Compare the threshold in use with a tuned one; objective = cost per row, or the loss of a
    metric of TUNABLE_METRICS named by `cost` (1 - F1 when None).

    The tuned threshold's value is cross-fitted (chosen on one half, measured on the other) over
    `n_splits` random halvings; the bootstrap interval redoes that on resampled rows."""
    s = np.asarray(score, float)
    y = np.asarray(y, float)
    ok = np.isfinite(s)
    s, y = s[ok], y[ok]
    n = len(s)
    grid = make_grid(s, [current], grid_size)
    G = len(grid)
    j_cur = int(np.searchsorted(grid, current))
    rng = np.random.default_rng(seed)

    k = np.searchsorted(grid, s, side="right")
    full = objective(counts_from_buckets(k, y, G), cost)
    j_best = int(np.argmin(full))

    # halvings (stratified on y so both halves hold positives), coded as bits of a pattern
    pattern = np.zeros(n, dtype=np.int64)
    for i in range(n_splits):
        for cls in (0.0, 1.0):
            idx = np.flatnonzero(y == cls)
            pattern[rng.permutation(idx)[: len(idx) // 2]] |= 1 << i
    # rows that share bucket, label and halving pattern are exchangeable: work on those cells
    # (a bootstrap of rows is then a multinomial draw over cells), so that the cost does not
    # grow with the number of rows
    P = 1 << n_splits
    cell = (k * 2 + y.astype(np.int64)) * P + pattern
    cnt = np.bincount(cell)
    nz = np.flatnonzero(cnt)
    cnt = cnt[nz].astype(float)
    ck, cy, cp = nz // (2 * P), ((nz // P) % 2).astype(float), nz % P

    def crossfit(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
        """w: (B, cells) weights. The honest tuned objective and the current one, per draw."""
        tuned = np.zeros(w.shape[0])
        cur = np.zeros(w.shape[0])
        chosen = []
        for i in range(n_splits):
            member = ((cp >> i) & 1).astype(bool)
            for a in (member, ~member):
                ca = objective(counts_from_buckets(ck, cy, G, w * a[None, :]), cost)
                cb = objective(counts_from_buckets(ck, cy, G, w * (~a)[None, :]), cost)
                j = np.argmin(ca, axis=1)
                tuned += cb[np.arange(len(j)), j]
                cur += cb[:, j_cur]
                chosen.append(j)
        m = 2 * n_splits
        return tuned / m, cur / m, chosen

    t0, c0, ch = crossfit(cnt[None, :])
    chosen_thr = [float(grid[j[0]]) for j in ch]
    w = rng.multinomial(n, cnt / cnt.sum(), size=n_boot).astype(float)
    t, c, _ = crossfit(w)
    d = c - t
    return TuneResult(
        grid=grid,
        current=float(current),
        best_threshold=float(grid[j_best]),
        value_current=float(full[j_cur]),
        value_best_insample=float(full[j_best]),
        value_tuned=float(t0[0]),
        saving=float(c0[0] - t0[0]),
        saving_ci=(float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))),
        saving_p=float((np.sum(d <= 0) + 1) / (len(d) + 1)),
        chosen_thresholds=chosen_thr,
    )


@dataclass
class BandTest:
    """A pre-specified alternative threshold against the one in use, on the same rows."""

    alternative: float
    rows: int  # rows whose decision differs (scores between the two thresholds)
    positives: int  # positives among them
    break_even: float  # the positive share among them at which both thresholds cost the same
    saving: float  # cost per row at the threshold in use minus at the alternative
    p: float  # one-sided exact binomial p-value of no saving


def band_test(
    score: np.ndarray, y: np.ndarray, current: float, alternative: float, cost: dict[str, float]
) -> BandTest:
    """Whether `alternative`, a threshold fixed without looking at these labels, costs less than
    `current`. Only the rows whose score lies between the two are decided differently; moving
    the threshold down turns them positive, which saves (c_fn - c_tp) on each positive among them
    and costs (c_fp - c_tn) on each negative, so it saves iff their positive share exceeds
    (c_fp - c_tn) / (c_fp - c_tn + c_fn - c_tp) (the reverse when moving it up). The null is no
    saving: that share at most the break-even; the p-value is the exact binomial tail of the
    positives counted, conservative for independent rows of unequal probabilities (Hoeffding 1956)."""
    s, yy = np.asarray(score, float), np.asarray(y, float)
    lo, hi = min(current, alternative), max(current, alternative)
    band = (s >= lo) & (s < hi)
    n, k = int(band.sum()), int(yy[band].sum())
    a = cost.get("fp", 0.0) - cost.get("tn", 0.0)
    b = cost.get("fn", 0.0) - cost.get("tp", 0.0)
    be = a / (a + b) if a + b > 0 else 0.5
    down = alternative < current
    gain = (b * k - a * (n - k)) if down else (a * (n - k) - b * k)
    if n == 0:
        p = 1.0
    elif down:
        p = float(sps.binom.sf(k - 1, n, be))
    else:
        p = float(sps.binom.cdf(k, n, be))
    return BandTest(float(alternative), n, k, float(be), float(gain / max(len(s), 1)), p)


@dataclass
class ScanTest:
    """The best of the thresholds on one side of the one in use (the side the costs point to),
    on the same rows, with a p-value that accounts for having chosen it."""

    alternative: float  # the threshold whose band is least likely under the null
    rows: int  # rows its decision differs on
    positives: int  # positives among them
    break_even: float
    saving: float  # cost per row at the threshold in use minus at the alternative
    p_band: float  # that band's own exact binomial p (not adjusted for the choice)
    p: float  # the scan's p-value: of the smallest band p under the least favourable null
    candidates: int  # thresholds compared


def _scan_positions(sizes: np.ndarray, ratio: float) -> np.ndarray:
    """Band sizes compared: ends of runs of tied scores, thinned to a geometric grid (each at
    least `ratio` times the one before: nested bands that differ by a few rows say the same)."""
    out: list[int] = []
    nxt = 1.0
    for e in sizes:
        if e >= nxt:
            out.append(int(e))
            nxt = max(e * ratio, e + 1.0)
    if out[-1] != sizes[-1]:
        out.append(int(sizes[-1]))
    return np.asarray(out)


def scan_null_p(sizes: np.ndarray, q: float, p_obs: float) -> float:
    """P(some nested band's binomial upper-tail p <= p_obs) when every row is positive with
    probability q, independently: bands of `sizes` rows (increasing), their counts the partial
    sums. Exact, by carrying the count's distribution from one size to the next and removing the
    mass at or above each size's critical count."""
    crossed = 0.0
    dist = np.array([1.0])  # dist[k]: P(count k at this size and no crossing so far)
    prev = 0
    tol = p_obs * (1 + 1e-9)
    for n in sizes:
        n = int(n)
        tail = sps.binom.sf(np.arange(-1, n + 1), n, q)  # tail[k] = P(count >= k), k = 0..n+1
        c = int(np.argmax(tail <= tol)) if tail[-1] <= tol else n + 1  # the smallest crossing count
        d, prev = n - prev, n
        lo = int(sps.binom.ppf(1e-15, d, q))  # the step's support, but for 1e-15 of its mass
        hi = int(sps.binom.isf(1e-15, d, q)) + 1
        step = sps.binom.pmf(np.arange(max(lo - 1, 0), min(hi, d) + 1), d, q)
        dist = np.concatenate([np.zeros(max(lo - 1, 0)), np.convolve(dist, step)])
        if len(dist) > c:
            crossed += float(dist[c:].sum())
            dist = dist[:c]
    return float(min(crossed, 1.0))


def scan_test(
    score: np.ndarray,
    y: np.ndarray,
    current: float,
    cost: dict[str, float],
    down: bool,
    include: Sequence[float] = (),
    ratio: float = 1.08,
) -> ScanTest:
    """Whether some threshold below `current` (above it when not `down`) costs less on these rows.

    Moving the threshold down to t turns the rows scored in [t, current) positive; it saves iff
    their positive share exceeds the break-even (c_fp - c_tn) / (c_fp - c_tn + c_fn - c_tp)
    (`band_test`). Every candidate t is tried (the ends of runs of tied scores, thinned to a
    geometric grid of band sizes, plus `include`); the statistic is the smallest exact binomial
    p of a band. The null is the threshold in use being cost-optimal for scores whose chance of
    a positive does not fall as the score rises: every row on that side then has at most the
    break-even chance, and since a small p is an event increasing in the labels it is likeliest
    when every row has exactly that chance: the p-value is computed there, exactly
    (`scan_null_p`). Moving up mirrors it (the negatives' share against 1 - break-even)."""
    s = np.asarray(score, float)
    yy = np.asarray(y, float)
    a = cost.get("fp", 0.0) - cost.get("tn", 0.0)
    b = cost.get("fn", 0.0) - cost.get("tp", 0.0)
    be = a / (a + b) if a + b > 0 else 0.5
    side = s < current if down else s >= current
    ss, ys = s[side], yy[side]
    order = np.argsort(-ss if down else ss, kind="stable")
    ss, ys = ss[order], ys[order]
    if not len(ss):
        return ScanTest(float(current), 0, 0, float(be), 0.0, 1.0, 1.0, 0)
    hit = ys if down else 1.0 - ys  # the rows whose share decides: positives (down), negatives (up)
    q = be if down else 1.0 - be
    ends = np.flatnonzero(np.r_[ss[1:] != ss[:-1], True]) + 1
    sizes = _scan_positions(ends, ratio)
    extra = [int(np.sum(ss >= t) if down else np.sum(ss < t)) for t in include]
    sizes = np.unique(np.concatenate([sizes, [e for e in extra if e > 0]])).astype(int)
    k = np.cumsum(hit)[sizes - 1]
    pb = sps.binom.sf(k - 1, sizes, q)
    j = int(np.argmin(pb))
    n, kj = int(sizes[j]), int(k[j])
    alt = float(ss[n - 1]) if down else float(np.nextafter(ss[n - 1], np.inf))
    pos = kj if down else n - kj
    gain = (b * pos - a * (n - pos)) if down else (a * (n - pos) - b * pos)
    return ScanTest(
        alt,
        n,
        pos,
        float(be),
        float(gain / max(len(s), 1)),
        float(pb[j]),
        scan_null_p(sizes, q, float(pb[j])),
        len(sizes),
    )
