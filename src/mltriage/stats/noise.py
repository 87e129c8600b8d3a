"""Label noise from out-of-fold probabilities, judged against the model's own calibration.

Confident learning flags a label as suspect when an out-of-fold model gives it a low probability.
Every real data set has such rows (the hard examples near the class boundaries), so their raw
share says little. This kernel compares it with what the model's probabilities themselves predict:
if the out-of-fold probabilities were calibrated, the chance that row i's label receives a
probability below t is q_i = sum_c p_ic [p_ic < t]. The observed share of labels below t exceeds
the expected share sum(q_i)/n by little on clean data (the hard examples are expected); randomly
flipped labels sit deep inside other classes' regions, where the model is confident, and produce
an excess that no calibrated model explains. Before comparing, each fold's probabilities are
adjusted to the fold's class frequencies (a prior-shift correction, e.g. under a time-ordered
split), so that a drifting prevalence is not mistaken for noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class NoiseEstimate:
    n: int
    threshold: float
    observed: float  # share of labels whose out-of-fold probability is below `threshold`
    expected: float  # the share a calibrated model predicts
    z: float
    floor_error: float  # error rate among the 10% most confident rows
    floor_expected: float  # the error rate the model predicts there
    tier_error: float  # error rate among the next 30% (ranked 10%-40% by confidence)

    @property
    def excess(self) -> float:
        return self.observed - self.expected


def prior_adjust(P: np.ndarray, Y: np.ndarray, iters: int = 10) -> np.ndarray:
    """Rescale class probabilities so that their mean matches the class shares of Y (one-hot)."""
    target = Y.mean(0)
    Q = P.copy()
    for _ in range(iters):
        m = Q.mean(0)
        w = np.where(m > 0, target / np.maximum(m, 1e-12), 1.0)
        Q = Q * w
        Q /= np.maximum(Q.sum(1, keepdims=True), 1e-12)
    return Q


def calibrated_noise(
    P: np.ndarray, y_idx: np.ndarray, folds: np.ndarray | None = None, threshold: float = 0.1
) -> NoiseEstimate:
    """Observed vs expected share of labels the out-of-fold model contradicts with confidence.

    P: (n, k) out-of-fold probabilities; y_idx: the given labels as column indices of P; folds:
    the fold of each row (for the prior-shift correction), or None.
    """
    P = np.clip(np.asarray(P, dtype=float), 0.0, None)
    P /= np.maximum(P.sum(1, keepdims=True), 1e-12)
    n, k = P.shape
    Y = np.zeros_like(P)
    Y[np.arange(n), y_idx] = 1.0
    if folds is not None:
        Q = P.copy()
        for f in np.unique(folds):
            m = folds == f
            if m.sum() >= 50:
                Q[m] = prior_adjust(P[m], Y[m])
        P = Q
    own = P[np.arange(n), y_idx]
    observed = float(np.mean(own < threshold))
    q = (P * (threshold > P)).sum(1)
    expected = float(q.mean())
    var = float(np.sum(q * (1 - q)))
    z = (observed - expected) * n / np.sqrt(var) if var > 0 else (np.inf if observed > expected else 0.0)
    conf = P.max(1)
    top = np.argsort(-conf, kind="stable")[: max(1, n // 10)]
    floor_error = float(np.mean(P[top].argmax(1) != y_idx[top]))
    floor_expected = float(np.mean(1 - conf[top]))
    order = np.argsort(-conf, kind="stable")
    tier = order[n // 10 : max(n // 10 + 1, (4 * n) // 10)]
    tier_error = float(np.mean(P[tier].argmax(1) != y_idx[tier]))
    return NoiseEstimate(
        n=n,
        threshold=threshold,
        observed=observed,
        expected=expected,
        z=float(z),
        floor_error=floor_error,
        floor_expected=floor_expected,
        tier_error=tier_error,
    )
