"""Where a classifier's errors go: each pair of classes' mutual confusions against the number an
unstructured confusion would put there (a misclassified row of class a lands on each other class
as readily as the model predicts that class elsewhere), with an exact test, an interval, and the
excess as a share of all errors (the errors that would go if the pair were confused at chance)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as sps

from .metrics import holm


def _upper_tail(obs: int, n1: int, p1: float, n2: int, p2: float) -> float:
    """P(X1 + X2 >= obs) for independent X1 ~ Bin(n1, p1), X2 ~ Bin(n2, p2) (exact)."""
    pmf = np.convolve(sps.binom.pmf(np.arange(n1 + 1), n1, p1), sps.binom.pmf(np.arange(n2 + 1), n2, p2))
    return float(min(1.0, max(0.0, pmf[obs:].sum())))


def _poisson_ci(k: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson count."""
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(sps.chi2.ppf(a, 2 * k) / 2)
    return lo, float(sps.chi2.ppf(1 - a, 2 * k + 2) / 2)


def _landing(cm: np.ndarray) -> np.ndarray:
    """land[a, c]: the null probability that a misclassified row of class a is predicted c: the
    share of c among the model's predictions of classes other than a on the rows of classes
    other than a (how readily the model says c, measured away from class a's own rows, so that
    a's confusions cannot inflate their own expectation); uniform when those rows say nothing."""
    k = len(cm)
    land = np.zeros((k, k))
    for a in range(k):
        others = np.arange(k) != a
        w = cm[others][:, others].sum(axis=0).astype(float)
        land[a, others] = w / w.sum() if w.sum() > 0 else 1.0 / max(k - 1, 1)
    return land


def pair_concentration(cm: np.ndarray) -> list[dict[str, Any]]:
    """Every unordered pair (a, b) of a k x k confusion matrix (rows: true class), in index order.

    Null: the errors of class a (their number as observed) land on each other class c with
    probability `_landing` (the model's readiness to predict c on the rows of the other
    classes), independently. For each pair: observed mutual confusions, the number expected
    under the null, their ratio with an exact Poisson interval (the expectation held fixed), the
    one-sided exact p-value (sum of two binomials) and its Holm adjustment over the k(k-1)/2 pairs,
    and the excess over the null as a share of all the matrix's errors, (observed - expected) /
    errors, with the same interval (the expectation held fixed).

    Why this null and not quasi-independence (n_ij = a_i b_j off the diagonal, fitted to the
    off-diagonal margins): with three classes that model has one degree of freedom and with four
    it absorbs a single dominant pair into the margins it fits (the public confused pair, 764 of
    773 errors, is exactly what a quasi-independence fit expects there). The landing rates here
    are measured away from the class's own rows, so a pair cannot explain itself.
    """
    cm = np.asarray(cm, dtype=np.int64)
    k = len(cm)
    err = cm.sum(axis=1) - np.diag(cm)
    n_err = int(err.sum())
    land = _landing(cm)
    rows: list[dict[str, Any]] = []
    for a in range(k):
        for b in range(a + 1, k):
            pab, pba = float(land[a, b]), float(land[b, a])
            obs = int(cm[a, b] + cm[b, a])
            exp = float(err[a] * pab + err[b] * pba)
            lo, hi = _poisson_ci(obs)
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "observed": obs,
                    "expected": exp,
                    "ratio": obs / exp if exp > 0 else float("inf") if obs else float("nan"),
                    "ratio_ci": [lo / exp, hi / exp] if exp > 0 else [float("nan"), float("nan")],
                    "excess": obs - exp,
                    "excess_share": (obs - exp) / n_err if n_err else 0.0,
                    "excess_share_ci": [(lo - exp) / n_err, (hi - exp) / n_err] if n_err else [0.0, 0.0],
                    "p_value": _upper_tail(obs, int(err[a]), pab, int(err[b]), pba) if obs else 1.0,
                }
            )
    adj = holm([r["p_value"] for r in rows]) if rows else np.zeros(0)
    for r, q in zip(rows, adj):
        r["p_adjusted"] = float(q)
    return rows
