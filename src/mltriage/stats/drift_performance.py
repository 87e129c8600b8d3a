"""Performance without labels: confidence-based estimation (classification) and direct loss
estimation (regression), in the spirit of NannyML's CBPE and DLE.

Classification (binary)
    The model's scores are calibrated on the evaluation set (isotonic regression of the label on
    the score). On the unlabelled batch each row then counts as a positive with weight p (its
    calibrated probability) and a negative with weight 1 - p, which gives the expected confusion
    matrix: expected accuracy, F1 and ROC AUC (pairs weighted by p_i (1 - p_j)). This is valid
    under covariate shift (the relation P(y | x) unchanged), the usual situation before labels
    arrive; it cannot see concept drift (for that, wait for labels: production.concept_drift).
Classification (multiclass)
    The top-class probability is calibrated into P(correct) on the evaluation set; the expected
    accuracy is its mean on the batch.
Regression
    A gradient-boosted model learns the absolute error |y - prediction| from the features and the
    prediction on the evaluation set (cross-fitted there); its mean on the batch estimates the MAE.

Intervals are percentile bootstraps over the batch's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def weighted_auc(score: np.ndarray, w_pos: np.ndarray) -> float:
    """Expected ROC AUC when row i is positive with probability w_pos[i] (ties count half)."""
    s = np.asarray(score, dtype=np.float64)
    wp = np.asarray(w_pos, dtype=np.float64)
    wn = 1.0 - wp
    P, N = wp.sum(), wn.sum()
    if P <= 0 or N <= 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    s, wp, wn = s[order], wp[order], wn[order]
    # group ties
    uniq, start = np.unique(s, return_index=True)
    wp_g = np.add.reduceat(wp, start)
    wn_g = np.add.reduceat(wn, start)
    neg_below = np.concatenate(([0.0], np.cumsum(wn_g)[:-1]))
    return float(np.sum(wp_g * (neg_below + 0.5 * wn_g)) / (P * N))


def expected_binary_metrics(p: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    """Expected accuracy, F1, ROC AUC and prevalence from calibrated probabilities p."""
    pred = score >= threshold
    tp = float(np.sum(p[pred]))
    fp = float(np.sum(1 - p[pred]))
    fn = float(np.sum(p[~pred]))
    tn = float(np.sum(1 - p[~pred]))
    n = max(len(p), 1)
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) > 0 else float("nan")
    return {
        "accuracy": (tp + tn) / n,
        "f1": f1,
        "roc_auc": weighted_auc(score, p),
        "prevalence": float(np.mean(p)),
    }


def realised_binary_metrics(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    y = np.asarray(y, dtype=np.float64)
    return expected_binary_metrics(y, score, threshold)


@dataclass
class PerformanceEstimate:
    metric: str
    reference: float  # realised on the evaluation set
    estimate: float  # estimated on the batch
    low: float
    high: float
    reference_estimate: float | None = None  # the estimator applied to the evaluation set
    all_metrics: dict[str, Any] = field(default_factory=dict)
    greater_is_better: bool = True

    @property
    def drop(self) -> float:
        """How much worse the batch is (positive = worse), in the metric's units."""
        return (
            (self.reference - self.estimate) if self.greater_is_better else (self.estimate - self.reference)
        )

    def to_dict(self) -> dict[str, Any]:
        r = lambda v: None if v is None or not np.isfinite(v) else round(float(v), 4)  # noqa: E731
        return {
            "metric": self.metric,
            "reference": r(self.reference),
            "estimate": r(self.estimate),
            "interval": [r(self.low), r(self.high)],
            "drop": r(self.drop),
            "reference_estimate": r(self.reference_estimate),
            "all": {
                k: {kk: r(vv) if isinstance(vv, float) else vv for kk, vv in v.items()}
                if isinstance(v, dict)
                else v
                for k, v in self.all_metrics.items()
            },
        }


def isotonic(x: np.ndarray, y: np.ndarray):
    """CBPE's calibration: P(y = 1 | x), isotonic in x, clipped to [0, 1] and to the fitted range
    (non-finite x ignored); a fitted sklearn IsotonicRegression."""
    from sklearn.isotonic import IsotonicRegression

    ok = np.isfinite(x)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
    iso.fit(x[ok], y[ok].astype(np.float64))
    return iso


def cbpe_binary(
    ref_score: np.ndarray,
    ref_y: np.ndarray,
    cur_score: np.ndarray,
    threshold: float,
    metric: str = "roc_auc",
    n_boot: int = 200,
    seed: int = 0,
    max_rows: int = 50_000,
    refit: bool = False,
) -> PerformanceEstimate:
    """Estimate `metric` (accuracy, f1, roc_auc) on the batch from the model's scores alone.
    ref_y: 0/1 labels of the evaluation set (1 = positive class). `refit`: each bootstrap draw
    also resamples the evaluation rows and refits the calibration (its uncertainty where the batch
    falls, which a small batch in a sparse score range is dominated by), not only the batch rows."""
    ref_score = np.asarray(ref_score, dtype=np.float64)
    cur_score = np.asarray(cur_score, dtype=np.float64)
    ref_y = np.asarray(ref_y, dtype=np.float64)
    iso = isotonic(ref_score, ref_y)
    ok = np.isfinite(cur_score)
    cs = cur_score[ok]
    p = iso.predict(cs)
    est = expected_binary_metrics(p, cs, threshold)
    real = realised_binary_metrics(ref_y, ref_score, threshold)
    ref_est = expected_binary_metrics(iso.predict(ref_score), ref_score, threshold)
    rng = np.random.default_rng(seed)
    m = min(len(cs), max_rows)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(cs), m)
        pb = p[idx]
        if refit:
            j = rng.integers(0, len(ref_score), len(ref_score))
            pb = isotonic(ref_score[j], ref_y[j]).predict(cs[idx])
        draws.append(expected_binary_metrics(pb, cs[idx], threshold)[metric])
    boots = np.asarray([b for b in draws if np.isfinite(b)])
    scale = np.sqrt(m / len(cs))  # a sub-sampled bootstrap is widened back to the batch's size
    centre = est[metric]
    lo = centre - (centre - np.quantile(boots, 0.025)) * scale if len(boots) else float("nan")
    hi = centre + (np.quantile(boots, 0.975) - centre) * scale if len(boots) else float("nan")
    return PerformanceEstimate(
        metric=metric,
        reference=real[metric],
        estimate=centre,
        low=float(lo),
        high=float(hi),
        reference_estimate=ref_est[metric],
        all_metrics={"estimated_current": est, "realised_reference": real},
    )


def cbpe_multiclass(
    ref_proba: np.ndarray,
    ref_correct: np.ndarray,
    cur_proba: np.ndarray,
    n_boot: int = 200,
    seed: int = 0,
    refit: bool = False,
) -> PerformanceEstimate:
    """Expected accuracy from the calibrated top-class probability (`refit` as in cbpe_binary)."""
    conf_r = np.max(ref_proba, axis=1)
    conf_c = np.max(cur_proba, axis=1)
    correct = np.asarray(ref_correct, dtype=np.float64)
    iso = isotonic(conf_r, correct)
    pc = iso.predict(conf_c)
    est = float(np.mean(pc))
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(pc), len(pc))
        if refit:
            j = rng.integers(0, len(conf_r), len(conf_r))
            boots.append(float(np.mean(isotonic(conf_r[j], correct[j]).predict(conf_c[idx]))))
        else:
            boots.append(float(np.mean(pc[idx])))
    return PerformanceEstimate(
        metric="accuracy",
        reference=float(np.mean(ref_correct)),
        estimate=est,
        low=float(np.quantile(boots, 0.025)),
        high=float(np.quantile(boots, 0.975)),
        reference_estimate=float(np.mean(iso.predict(conf_r))),
    )


def dle_regression(
    X_ref: np.ndarray,
    pred_ref: np.ndarray,
    y_ref: np.ndarray,
    X_cur: np.ndarray,
    pred_cur: np.ndarray,
    n_boot: int = 200,
    seed: int = 0,
) -> PerformanceEstimate:
    """Direct loss estimation of the MAE: learn |y - pred| from (features, pred) on the
    evaluation set, average its prediction on the batch."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import KFold

    Xr = np.column_stack([X_ref, pred_ref]).astype(np.float64)
    Xc = np.column_stack([X_cur, pred_cur]).astype(np.float64)
    loss = np.abs(np.asarray(y_ref, np.float64) - np.asarray(pred_ref, np.float64))

    def model():
        return HistGradientBoostingRegressor(
            max_iter=100,
            learning_rate=0.1,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            loss="squared_error",
            random_state=seed,
        )

    oof = np.empty(len(loss))
    for tr, te in KFold(3, shuffle=True, random_state=seed).split(Xr):
        oof[te] = model().fit(Xr[tr], loss[tr]).predict(Xr[te])
    final = model().fit(Xr, loss)
    lc = np.maximum(final.predict(Xc), 0.0)
    est = float(np.mean(lc))
    rng = np.random.default_rng(seed)
    boots = [float(np.mean(lc[rng.integers(0, len(lc), len(lc))])) for _ in range(n_boot)]
    return PerformanceEstimate(
        metric="mae",
        reference=float(np.mean(loss)),
        estimate=est,
        low=float(np.quantile(boots, 0.025)),
        high=float(np.quantile(boots, 0.975)),
        reference_estimate=float(np.mean(np.maximum(oof, 0.0))),
        greater_is_better=False,
    )


def score_support(
    ref_score: np.ndarray, cur_score: np.ndarray, n_bins: int = 20, min_rows: int = 20, alpha: float = 0.01
) -> dict[str, Any]:
    """Whether the evaluation set supports a calibration where the batch's scores fall.

    The pooled score range is cut into `n_bins` equal-width bins; a bin is thin when it holds fewer
    than `min_rows` evaluation rows (the calibrated rate there is known to no better than about
    +-0.22). Returns the share of the batch's scores in thin bins and, as its chance rate, the share
    of the evaluation rows there (what a batch drawn like the evaluation set would put there), the
    one-sided binomial p-value of the batch's count against that rate, and `unreliable`: at least
    10% of the batch in thin bins, over twice the chance rate, and p < alpha. An evaluation set
    curated to its easy cases (borderline rows removed) leaves the middle bins thin: a batch that
    falls there is estimated from a handful of rows, and the estimate says nothing reliable."""
    from scipy.stats import binom

    r = np.asarray(ref_score, dtype=np.float64)
    c = np.asarray(cur_score, dtype=np.float64)
    r, c = r[np.isfinite(r)], c[np.isfinite(c)]
    if len(r) == 0 or len(c) == 0:
        return {"unreliable": False}
    lo, hi = float(min(r.min(), c.min())), float(max(r.max(), c.max()))
    edges = np.linspace(lo, hi, n_bins + 1) if hi > lo else np.array([lo, lo + 1.0])
    nr = np.histogram(r, edges)[0]
    nc = np.histogram(c, edges)[0]
    thin = nr < min_rows
    share_cur = float(nc[thin].sum() / len(c))
    share_ref = float(nr[thin].sum() / len(r))
    k = int(nc[thin].sum())
    p = float(binom.sf(k - 1, len(c), max(share_ref, 1.0 / (len(r) + 1)))) if k else 1.0
    unreliable = bool(share_cur >= 0.1 and share_cur > 2 * share_ref and p < alpha)
    thin_ranges = [
        [round(float(edges[i]), 4), round(float(edges[i + 1]), 4)] for i in np.flatnonzero(thin & (nc > 0))
    ]
    return {
        "unreliable": unreliable,
        "batch_share_in_thin_bins": round(share_cur, 4),
        "evaluation_share_in_thin_bins": round(share_ref, 4),
        "p_value": p,
        "bins": int(len(edges) - 1),
        "min_evaluation_rows_per_bin": int(min_rows),
        "thin_score_ranges_with_batch_rows": thin_ranges[:10],
    }
