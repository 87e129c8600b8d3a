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
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps


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


# --------------------------------------------------------------------------- against evaluation labels
#
# The chance rate of a detector is what it flags on the same data without noise. The fold models
# that produced the out-of-fold probabilities also score the evaluation rows; when the evaluation
# labels are not noisier than the training ones, the same detector applied there flags the share
# that hard examples and the models' own errors produce. Training labels flagged well above that
# share (or one class's labels turning into another far more often than there) are wrong labels.
# This holds on small data too: both sides come from the same small fold models.


def _norm(P: np.ndarray) -> np.ndarray:
    P = np.clip(np.asarray(P, dtype=float), 0.0, None)
    return P / np.maximum(P.sum(1, keepdims=True), 1e-12)


def _class_weights(y_tr: np.ndarray, y_ev: np.ndarray, k: int) -> np.ndarray:
    """Per evaluation row, its class's share in training over its share in evaluation."""
    s_tr = np.bincount(y_tr, minlength=k) / max(len(y_tr), 1)
    s_ev = np.bincount(y_ev, minlength=k) / max(len(y_ev), 1)
    return (s_tr / np.maximum(s_ev, 1e-12))[y_ev]


def flagged_vs_evaluation(
    P_tr: np.ndarray, y_tr: np.ndarray, P_evs: list[np.ndarray], y_ev: np.ndarray, threshold: float
) -> dict:
    """Share of training labels whose out-of-fold probability is below `threshold`, against the
    share of evaluation labels below it under each fold model (averaged over the folds), with the
    interval of their difference."""
    from .slices.expected import proportion_diff

    P_tr = _norm(P_tr)
    own_tr = P_tr[np.arange(len(y_tr)), y_tr]
    k_tr, n_tr = float(np.sum(own_tr < threshold)), float(len(y_tr))
    # evaluation rows weighted to the training class mix (a prevalence that differs between the
    # sets changes how many labels any detector flags)
    w = _class_weights(y_tr, y_ev, P_tr.shape[1])
    shares = []
    for P in P_evs:
        P = _norm(P)
        hit = (P[np.arange(len(y_ev)), y_ev] < threshold).astype(float)
        shares.append(float(np.sum(hit * w) / max(np.sum(w), 1e-12)))
    share_ev = float(np.mean(shares)) if shares else float("nan")
    d = proportion_diff(k_tr, n_tr, share_ev * len(y_ev), float(len(y_ev)))
    return {
        "flagged_training": k_tr / n_tr if n_tr else float("nan"),
        "flagged_evaluation": share_ev,
        "training_rows": int(n_tr),
        "evaluation_rows": int(len(y_ev)),
        "excess": d["diff"],
        "excess_ci": d["ci"],
        "p_value": d["p_value"] if d["diff"] > 0 else 1.0,
    }


def _mean_var(r: np.ndarray, groups: np.ndarray | None) -> float:
    """Variance of the mean of `r`: var / n for independent rows; with `groups` (entities whose
    rows are not independent), the cluster-robust estimate sum_g (sum of the group's deviations)^2
    / n^2, times G / (G - 1) for G groups."""
    n = max(len(r), 1)
    if groups is None:
        return float(r.var() / n)
    codes = pd.factorize(pd.Series(groups).astype(str))[0]
    g = int(codes.max()) + 1 if len(codes) else 0
    if g < 2:
        return float(r.var() / n)
    sums = np.bincount(codes, weights=r - r.mean(), minlength=g)
    return float(np.sum(sums**2) / n**2 * g / (g - 1))


def label_shift(
    P_tr: np.ndarray,
    y_tr: np.ndarray,
    P_evs: list[np.ndarray],
    y_ev: np.ndarray,
    groups: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[dict]:
    """Per class a: how much more often the evaluation labels say a than the training labelling
    would at the same features. The fold models learned the training labelling; their mean
    residual (label minus probability) is about 0 on the out-of-fold training rows by
    construction and, when both sets share one labelling, on the evaluation rows too (a shift of
    the features moves the probabilities with it). gap = mean residual on evaluation rows (fold
    models averaged) minus that on training rows, with a z from both sides' spreads. When a share
    r of class a's training labels were turned into other classes, the models under-predict a by
    r x its share, so r = gap / (share of a in evaluation). With `groups` (the entity of each
    training and evaluation row, when the split kept the entities apart), the spreads are
    cluster-robust: a set of 90 households is a sample of 90 units, whose class mix (a brand each
    household buys) differs from training's by more than 800 independent rows would. One row per
    class, index order."""
    P_tr = _norm(P_tr)
    P_ev = _norm(np.mean([_norm(P) for P in P_evs], axis=0))
    out = []
    for a in range(P_tr.shape[1]):
        r_tr = (y_tr == a).astype(float) - P_tr[:, a]
        r_ev = (y_ev == a).astype(float) - P_ev[:, a]
        gap = float(r_ev.mean() - r_tr.mean())
        g_tr, g_ev = groups if groups is not None else (None, None)
        se = float(np.sqrt(_mean_var(r_ev, g_ev) + _mean_var(r_tr, g_tr)))
        share_ev = float(np.mean(y_ev == a))
        z = gap / se if se > 0 else 0.0
        rate = gap / share_ev if share_ev > 0 else float("nan")
        half = 1.96 * se / share_ev if share_ev > 0 else float("nan")
        out.append(
            {
                "class": a,
                "share_training": float(np.mean(y_tr == a)),
                "share_evaluation": share_ev,
                "predicted_training": float(P_tr[:, a].mean()),
                "predicted_evaluation": float(P_ev[:, a].mean()),
                "gap": gap,
                "z": float(z),
                "p_value": float(sps.norm.sf(z)),
                "under_recorded_share": rate,
                "ci": [rate - half, rate + half],
            }
        )
    return out


def pair_flips(P_tr: np.ndarray, y_tr: np.ndarray, P_evs: list[np.ndarray], y_ev: np.ndarray) -> list[dict]:
    """Per ordered pair (true class a, given label b): among the rows the models place in class
    a (out-of-fold argmax), the share labelled b in training against the share in evaluation
    (each fold model's argmax, pooled). An excess estimates the share of class a's labels flipped
    into b. Sorted by the excess, largest first; p-values two-sided (pooled z test)."""
    from .slices.expected import proportion_diff

    pred_tr = _norm(P_tr).argmax(1)
    k = P_tr.shape[1]
    C_tr = np.zeros((k, k))
    np.add.at(C_tr, (pred_tr, y_tr), 1.0)
    C_ev = np.zeros((k, k))
    w = _class_weights(y_tr, y_ev, k)
    for P in P_evs:
        np.add.at(C_ev, (_norm(P).argmax(1), y_ev), w)
    C_ev /= max(len(P_evs), 1)
    out = []
    for a in range(k):
        n_tr, n_ev = C_tr[a].sum(), C_ev[a].sum()
        if n_tr < 5 or n_ev < 5:
            continue
        for b in range(k):
            if a == b:
                continue
            d = proportion_diff(C_tr[a, b], n_tr, C_ev[a, b], n_ev)
            out.append(
                {
                    "true": a,
                    "given": b,
                    "share_training": float(C_tr[a, b] / n_tr),
                    "share_evaluation": float(C_ev[a, b] / n_ev),
                    "flipped_share": d["diff"],
                    "ci": d["ci"],
                    "p_value": d["p_value"] if d["diff"] > 0 else 1.0,
                    "rows": int(C_tr[a, b]),
                }
            )
    out.sort(key=lambda r: -r["flipped_share"])
    return out


def residual_outliers(
    pred_tr: np.ndarray,
    y_tr: np.ndarray,
    pred_evs: list[np.ndarray],
    y_ev: np.ndarray | None,
    cut: float = 4.0,
    expected_from: str = "evaluation rows under the fold models",
) -> dict:
    """Regression targets far from a cross-validated model's prediction: residuals over the robust
    spread expected at that prediction level (1.4826 x the median absolute residual of the
    training rows in the same prediction decile), beyond `cut`. The chance rate is the share the
    same rule flags among evaluation rows under each fold model (NaN where a fold model is not
    to be compared: only rows a fold model scored count); without evaluation labels, or fewer
    than 20 compared rows per fold, the share a Laplace distribution with that spread puts beyond
    `cut` (heavier-tailed than normal)."""
    pred_tr, y_tr = np.asarray(pred_tr, dtype=float), np.asarray(y_tr, dtype=float)
    ok = np.isfinite(pred_tr) & np.isfinite(y_tr)
    r = y_tr[ok] - pred_tr[ok]
    p = pred_tr[ok]
    nb = int(max(1, min(10, r.size // 50)))
    edges = np.quantile(p, np.linspace(0, 1, nb + 1)[1:-1]) if nb > 1 else np.zeros(0)

    def scale_of(pv: np.ndarray) -> np.ndarray:
        b = np.searchsorted(edges, pv)
        sc = np.array([np.median(np.abs(r[np.searchsorted(edges, p) == i])) for i in range(nb)])
        sc = 1.4826 * np.where(sc > 0, sc, max(float(np.median(np.abs(r))), 1e-12))
        return sc[b]

    z_tr = np.abs(r) / scale_of(p)
    flagged = z_tr > cut
    out: dict[str, Any] = {"rows": int(r.size), "cut": cut, "flagged_training": float(flagged.mean())}
    shares = []
    scored = np.zeros(0, dtype=bool)
    if y_ev is not None and pred_evs:
        ye = np.asarray(y_ev, dtype=float)
        scored = np.zeros(len(ye), dtype=bool)
        for pe in pred_evs:
            pe = np.asarray(pe, dtype=float)
            f = np.isfinite(pe) & np.isfinite(ye)
            if f.sum() >= 20:
                shares.append(float(np.mean(np.abs(ye[f] - pe[f]) / scale_of(pe[f]) > cut)))
                scored |= f
    if shares:
        out["flagged_expected"] = float(np.mean(shares))
        out["expected_from"] = expected_from
        n_ev = int(scored.sum())
    else:  # Laplace with the robust scale: P(|x| > cut * 1.4826 * MAD); MAD of a Laplace(b) = b ln 2
        out["flagged_expected"] = float(np.exp(-cut * 1.4826 * np.log(2)))
        out["expected_from"] = "a Laplace distribution with the residuals' robust spread"
        n_ev = 0
    from .slices.expected import proportion_diff

    k_tr = float(flagged.sum())
    if n_ev:
        d = proportion_diff(k_tr, float(r.size), out["flagged_expected"] * n_ev, float(n_ev))
    else:
        from .metrics import wilson

        lo, hi = wilson(k_tr, float(r.size))
        e = out["flagged_expected"]
        from scipy import stats

        pv = float(stats.binom.sf(k_tr - 1, r.size, e))
        d = {"diff": k_tr / r.size - e, "ci": [lo - e, hi - e], "p_value": pv}
    out.update({"excess": d["diff"], "excess_ci": d["ci"], "p_value": d["p_value"] if d["diff"] > 0 else 1.0})
    out["flagged_index"] = np.flatnonzero(ok)[flagged]
    out["z"] = z_tr
    return out


def confidence_shift(P_tr: np.ndarray, P_evs: list[np.ndarray]) -> dict:
    """Whether the evaluation rows are more confidently predicted than the held-out training rows
    under the same fold models: the one-sided Kolmogorov-Smirnov statistic D+ = max over t of
    (share of training rows with top-label confidence <= t) - (same share among evaluation rows),
    each fold model's outputs on the evaluation rows pooled, and its asymptotic p-value with the
    evaluation rows counted once. Under a random split both are draws of the same fold models on
    rows of one distribution (D+ near 0); an evaluation set with its borderline rows removed (or
    filtered on the outcome) is more confident, and its labels then look cleaner by selection."""
    c_tr = np.sort(_norm(P_tr).max(1))
    c_ev = np.sort(np.concatenate([_norm(P).max(1) for P in P_evs])) if P_evs else np.zeros(0)
    n_ev = int(len(P_evs[0])) if P_evs else 0
    if not len(c_tr) or not len(c_ev):
        return {"d_plus": 0.0, "p_value": 1.0, "evaluation_rows": n_ev}
    t = np.concatenate([c_tr, c_ev])
    f_tr = np.searchsorted(c_tr, t, side="right") / len(c_tr)
    f_ev = np.searchsorted(c_ev, t, side="right") / len(c_ev)
    d = float(max(0.0, np.max(f_tr - f_ev)))
    n_eff = len(c_tr) * n_ev / max(len(c_tr) + n_ev, 1)
    q25 = float(np.quantile(c_tr, 0.25))
    return {
        "d_plus": d,
        "p_value": float(min(1.0, np.exp(-2.0 * n_eff * d * d))),
        "evaluation_rows": n_ev,
        "evaluation_share_below_training_q25": float(np.mean(c_ev <= q25)),
    }
