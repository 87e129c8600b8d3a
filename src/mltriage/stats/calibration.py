"""Calibration kernels: expected calibration error on equal-mass bins, its noise floor under
perfect calibration, a bootstrap interval, the reliability table and a cross-fitted recalibration.

All functions take `conf` (a predicted probability in [0, 1]) and `hit` (1 when the event
happened, 0 otherwise). For a binary model that is P(positive) and y == positive; for a multiclass
model the top-label form is used: the largest probability and whether that class was right.

ECE on a finite sample is biased upwards (every bin's observed rate is noisy), so the checks judge
the *excess* ECE: the observed ECE minus its expected value under perfect calibration, obtained by
"consistency resampling" (Broecker and Smith, 2007): labels drawn as Bernoulli(conf).
"""

from __future__ import annotations

import numpy as np


def equal_mass_bins(conf: np.ndarray, n_bins: int, min_width: float = 0.0) -> np.ndarray:
    """Bin index per row: bins hold (nearly) the same number of rows, ordered by confidence.

    Rows are ranked (ties broken by position, stable) so that a block of identical confidences
    never leaves a bin empty; the bins are then contiguous blocks of the ranking. With
    `min_width`, neighbouring bins whose mean confidences differ by less than that are merged:
    calibration finer than that is meaningless for decisions, and a model whose probabilities
    barely vary (a collapsed model) would otherwise be judged on noise-level differences, while
    blocks of identical probabilities (0 and 1 of an overfit tree) stay bins of their own."""
    conf = np.asarray(conf, float)
    n = len(conf)
    order = np.argsort(conf, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    bins = (rank * n_bins // max(n, 1)).astype(np.int64)
    if min_width <= 0 or n == 0:
        return bins
    cnt = np.bincount(bins, minlength=n_bins)
    mean = np.bincount(bins, weights=conf, minlength=n_bins) / np.maximum(cnt, 1)
    new_id = np.zeros(n_bins, dtype=np.int64)
    cur, anchor = -1, -np.inf
    for b in range(n_bins):
        if cnt[b] and mean[b] - anchor >= min_width:
            cur += 1
            anchor = mean[b]
        new_id[b] = max(cur, 0)
    return new_id[bins]


def _ece_from_bins(
    bins: np.ndarray, conf: np.ndarray, hit: np.ndarray, n_bins: int, weights: np.ndarray | None = None
) -> float:
    w = np.ones(len(conf)) if weights is None else weights
    cnt = np.bincount(bins, weights=w, minlength=n_bins)
    s_conf = np.bincount(bins, weights=w * conf, minlength=n_bins)
    s_hit = np.bincount(bins, weights=w * hit, minlength=n_bins)
    total = cnt.sum()
    if total <= 0:
        return float("nan")
    return float(np.abs(s_hit - s_conf).sum() / total)


def ece(conf: np.ndarray, hit: np.ndarray, n_bins: int = 15, min_width: float = 0.0) -> float:
    """Expected calibration error with equal-mass bins: sum over bins of |mean hit - mean conf|,
    weighted by the bin's share of rows."""
    conf = np.asarray(conf, float)
    hit = np.asarray(hit, float)
    bins = equal_mass_bins(conf, n_bins, min_width)
    return _ece_from_bins(bins, conf, hit, n_bins)


def n_bins_for(n: int, max_bins: int = 15, min_per_bin: int = 40) -> int:
    """As many bins as allowed while keeping at least `min_per_bin` rows in each."""
    return int(max(2, min(max_bins, n // min_per_bin)))


def reliability_table(
    conf: np.ndarray, hit: np.ndarray, n_bins: int = 15, min_width: float = 0.0
) -> list[dict]:
    """Per equal-mass bin: its confidence range, rows, mean predicted and observed frequency."""
    conf = np.asarray(conf, float)
    hit = np.asarray(hit, float)
    bins = equal_mass_bins(conf, n_bins, min_width)
    rows: list[dict[str, float]] = []
    for b in range(n_bins):
        m = bins == b
        if not m.any():
            continue
        c, h = conf[m], hit[m]
        rows.append(
            {
                "bin": len(rows) + 1,
                "low": float(c.min()),
                "high": float(c.max()),
                "rows": int(m.sum()),
                "mean_predicted": float(c.mean()),
                "observed": float(h.mean()),
                "gap": float(h.mean() - c.mean()),
            }
        )
    return rows


def ece_null(
    conf: np.ndarray, n_bins: int = 15, n_sim: int = 200, seed: int = 0, min_width: float = 0.0
) -> np.ndarray:
    """ECE values of a perfectly calibrated model with these confidences (labels ~ Bernoulli(conf))."""
    conf = np.clip(np.asarray(conf, float), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    bins = equal_mass_bins(conf, n_bins, min_width)
    cnt = np.bincount(bins, minlength=n_bins)
    s_conf = np.bincount(bins, weights=conf, minlength=n_bins)
    out = np.empty(n_sim)
    for i in range(n_sim):
        sim = (rng.random(len(conf)) < conf).astype(float)
        s_hit = np.bincount(bins, weights=sim, minlength=n_bins)
        out[i] = np.abs(s_hit - s_conf).sum() / cnt.sum()
    return out


def ece_bootstrap(
    conf: np.ndarray,
    hit: np.ndarray,
    n_bins: int = 15,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    min_width: float = 0.0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the ECE (bins re-formed on each resample's confidences
    would move little; the bins of the full sample are kept, rows are reweighted)."""
    conf = np.asarray(conf, float)
    hit = np.asarray(hit, float)
    n = len(conf)
    rng = np.random.default_rng(seed)
    bins = equal_mass_bins(conf, n_bins, min_width)
    vals = np.empty(n_boot)
    for i in range(n_boot):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        vals[i] = _ece_from_bins(bins, conf, hit, n_bins, w)
    a = (1 - level) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def calibration_slope(conf: np.ndarray, hit: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the logistic recalibration hit ~ logit(conf): a slope below 1 means
    over-confident probabilities (too extreme), above 1 under-confident; (1, 0) is calibrated."""
    from sklearn.linear_model import LogisticRegression

    hit = np.asarray(hit, int)
    if len(np.unique(hit)) < 2:
        return float("nan"), float("nan")
    lr = LogisticRegression(C=1e4).fit(_logit(np.asarray(conf, float)).reshape(-1, 1), hit)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def platt_crossfit(conf: np.ndarray, hit: np.ndarray, seed: int = 0) -> np.ndarray:
    """Recalibrated confidences by Platt scaling on the logit, fitted on one half of the rows and
    applied to the other (and the reverse), so that the result is honest on these rows."""
    from sklearn.linear_model import LogisticRegression

    conf = np.asarray(conf, float)
    hit = np.asarray(hit, int)
    n = len(conf)
    rng = np.random.default_rng(seed)
    half = rng.permutation(n) < n // 2
    out = np.empty(n)
    z = _logit(conf).reshape(-1, 1)
    for fit_on in (half, ~half):
        if len(np.unique(hit[fit_on])) < 2:
            out[~fit_on] = hit[fit_on].mean()
            continue
        lr = LogisticRegression(C=1e4).fit(z[fit_on], hit[fit_on])
        out[~fit_on] = lr.predict_proba(z[~fit_on])[:, 1]
    return out
