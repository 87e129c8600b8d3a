"""The error a model itself expects on a slice, and how far the observed error departs from it.

A slice with a high error is either a region the model knows is hard (its probabilities are near
the decision boundary there, or its residuals there are large but centred) or a region where the
model is surprised: confidently wrong. The model's own confidence is read through what it means
elsewhere: the expected error of a row is the error rate that rows of the same confidence have
outside the slice (an isotonic map fitted on the other rows, so a globally over- or under-confident
model is not taken for a surprised one). For regression, where a model gives a point prediction,
its predictive distribution is taken as centred on the prediction with the spread its absolute
errors show at that prediction level outside the slice: a slice whose residuals are centred is a
noisier region (heteroscedastic), one whose residuals carry a systematic part (a bias or a trend
with the prediction) is a rule the model got wrong.

The tests run on the rows given (the slice search's confirmation half, which the search never
saw, so the selection of high-error slices does not bias them).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _isotonic(x: np.ndarray, target: np.ndarray, fit_rows: np.ndarray, increasing: bool) -> np.ndarray:
    """Per row, the isotonic map of `target` on `x` fitted on `fit_rows` (NaN where x is missing,
    or everywhere when fewer than 20 rows fit it)."""
    from sklearn.isotonic import IsotonicRegression

    ok = fit_rows & np.isfinite(x) & np.isfinite(target)
    out = np.full(x.shape, np.nan)
    if ok.sum() < 20:
        return out
    iso = IsotonicRegression(increasing=increasing, out_of_bounds="clip").fit(x[ok], target[ok])
    fin = np.isfinite(x)
    out[fin] = iso.predict(x[fin])
    return out


def expected_error_rate(margin: np.ndarray, error: np.ndarray, fit_rows: np.ndarray) -> np.ndarray:
    """Per row, the error rate of rows with the same confidence among `fit_rows` (isotonic,
    decreasing in `margin`: the distance to the decision threshold or the probability of the
    predicted class). NaN where the margin is missing or too few rows fit the map."""
    return _isotonic(np.asarray(margin, dtype=float), np.asarray(error, dtype=float), fit_rows, False)


def expected_error_binary(
    score: np.ndarray, decided_positive: np.ndarray, error: np.ndarray, fit_rows: np.ndarray
) -> np.ndarray:
    """Per row, the error its decision has by the model's own score recalibrated on `fit_rows`:
    P(positive | score) by isotonic regression (increasing in the score), then 1 - that for a
    positive decision and that for a negative one. Unlike a map on the distance to the threshold,
    it keeps the side: a model that over-predicts positives errs more on its positive decisions
    at the same distance, everywhere, and that is what it expects, not a surprise of a slice."""
    error = np.asarray(error, dtype=float)
    dpos = np.asarray(decided_positive, dtype=bool)
    # a wrong positive decision is a negative (NaN errors stay out of the fit)
    ypos = np.where(np.isfinite(error), (dpos != (error > 0.5)).astype(float), np.nan)
    p = _isotonic(np.asarray(score, dtype=float), ypos, fit_rows, True)
    return np.where(dpos, 1.0 - p, p)


def expected_abs_error(
    pred: np.ndarray, abs_err: np.ndarray, fit_rows: np.ndarray, n_bins: int = 40
) -> np.ndarray:
    """Per row, the mean absolute error of `fit_rows` at the same prediction level (quantile bins
    of the prediction, fewer when few rows)."""
    pred = np.asarray(pred, dtype=float)
    abs_err = np.asarray(abs_err, dtype=float)
    ok = fit_rows & np.isfinite(pred) & np.isfinite(abs_err)
    out = np.full(pred.shape, np.nan)
    if ok.sum() < 20:
        return out
    nb = int(max(1, min(n_bins, ok.sum() // 25)))
    q = np.quantile(pred[ok], np.linspace(0, 1, nb + 1)[1:-1])
    b = np.searchsorted(q, pred)
    sums = np.bincount(b[ok], weights=abs_err[ok], minlength=nb)
    cnts = np.bincount(b[ok], minlength=nb)
    means = np.where(cnts > 0, sums / np.maximum(cnts, 1), float(abs_err[ok].mean()))
    fin = np.isfinite(pred)
    out[fin] = means[b[fin]]
    return out


def rate_surprise(
    error: np.ndarray, expected: np.ndarray, rows: np.ndarray, days: np.ndarray | None = None
) -> dict[str, Any]:
    """Observed vs expected error rate on `rows`: the excess with its 95% interval and the
    one-sided p-value of "more errors than the expected rates allow" (normal approximation to
    the sum of independent Bernoulli(q_i)). With `days` (a code per row: the calendar day the
    row was recorded), the rows of one day are not taken as independent (`by_day_p`), and the
    p-value is the larger of the two."""
    m = rows & np.isfinite(error) & np.isfinite(expected)
    n = int(m.sum())
    if n == 0:
        return {"rows": 0, "observed": float("nan"), "expected": float("nan"), "p_value": 1.0}
    e, q = error[m], np.clip(expected[m], 1e-6, 1 - 1e-6)
    obs, exp = float(e.mean()), float(q.mean())
    var = float(np.sum(q * (1 - q)))
    if var >= 10:
        pval = _norm_sf((e.sum() - q.sum()) / math.sqrt(var))
    else:  # few expected errors: the Poisson tail (conservative for a sum of Bernoullis)
        from scipy import stats

        pval = float(stats.poisson.sf(round(float(e.sum())) - 1, max(float(q.sum()), 1e-12)))
    half = 1.959964 * math.sqrt(max(obs * (1 - obs), var / n) / n)
    out: dict[str, Any] = {
        "rows": n,
        "observed": obs,
        "expected": exp,
        "excess": obs - exp,
        "excess_ci": [obs - exp - half, obs - exp + half],
        "ratio": obs / exp if exp > 0 else float("inf"),
        "p_value": pval,
    }
    if days is not None:
        d = np.asarray(days)[m]
        n_days = int(np.unique(d).size)
        if n_days < n:  # some day holds several of the rows
            p_day = by_day_p(e - q, d)
            out.update(days=n_days, p_value_rows=pval, p_value_by_day=p_day, p_value=max(pval, p_day))
    return out


def by_units(
    test: Any, args: tuple, days: np.ndarray | None, entities: list[tuple[str, np.ndarray]]
) -> dict[str, Any]:
    """`test(*args, days)` (`rate_surprise`, `residual_surprise`), then with the rows of one
    entity as one unit, per entity column (name, a code per row) where an entity holds several
    of the rows: the same cluster-robust test as by day, and the larger p-value counts. Rows of
    one entity share what no column records, as rows of one day do. HOLDOUT's clean crime
    control (a county panel split by county): a slice of police per head is two counties, 7
    confirmation rows, one county's residuals all above its predictions and the other's all
    below, a trend with p = 0.0013 by rows; two counties are no pattern."""
    sp = test(*args, days)
    for name, codes in entities:
        by = test(*args, codes)
        if "p_value_by_day" in by and by["p_value_by_day"] > sp.get("p_value", 1.0):
            sp = {
                "p_value_rows": by["p_value_rows"],
                **sp,
                "entities": by["days"],
                "entity_column": name,
                "p_value_by_entity": by["p_value_by_day"],
                "p_value": by["p_value_by_day"],
            }
    return sp


def by_entity_p(excess: np.ndarray, entities: list[tuple[str, np.ndarray]], two_sided: bool = False) -> float:
    """The largest p-value of "the rows' excess sums above zero" (`two_sided`: away from zero)
    with the rows of one entity as one unit (`by_day_p`), over the entity columns where an
    entity holds several of the rows; 0.0 when none does (the per-row test stands)."""
    out = 0.0
    for _, codes in entities:
        if np.unique(codes).size < codes.size:
            if two_sided:
                p = min(1.0, 2 * min(by_day_p(excess, codes), by_day_p(-excess, codes)))
            else:
                p = by_day_p(excess, codes)
            out = max(out, p)
    return out


def by_day_p(excess: np.ndarray, days: np.ndarray) -> float:
    """One-sided p-value of "the rows' excess errors sum above zero" with the rows of one day
    as one unit: the day sums' cluster-robust (sandwich) variance, Student's t with one fewer
    degree of freedom than days (1.0 with fewer than two days: one day's event is no pattern).

    Rows recorded on the same day share what no column records (a storm, a strike, a system
    outage): their errors move together, and a per-row test counts one day's event as many
    independent surprises. The slice search makes it worse: a slice described by month,
    weekday and hour selects a few calendar days, and the rows of those days fall in both the
    discovery and the confirmation halves. The suite's flights (2013 New York departures, a
    random split): a clean LightGBM control's summer afternoons early in the week (2.7% of
    rows, 18 days) err 53% where the model's probabilities predict 32%, p = 0.00025 over 57
    rows but 0.012 over their 18 days, which Holm's correction over the 13 candidates does
    not keep."""
    from scipy import stats

    sums = np.bincount(np.unique(days, return_inverse=True)[1], weights=excess)
    g = sums.size
    if g < 2:
        return 1.0
    var = g / (g - 1) * float(np.sum(sums**2))
    if var <= 0:
        return 0.0 if excess.sum() > 0 else 1.0
    return float(stats.t.sf(float(excess.sum()) / math.sqrt(var), g - 1))


def residual_surprise(
    resid: np.ndarray,
    pred: np.ndarray,
    expected_abs: np.ndarray,
    rows: np.ndarray,
    days: np.ndarray | None = None,
) -> dict[str, Any]:
    """The systematic part of the residuals on `rows` (their least-squares fit on 1 and the
    standardised prediction: a bias and a trend), its root mean square over the expected absolute
    error there, with the F test's one-sided p-value (residuals centred with no trend = the
    model's expectation). With `days` (a code per row: the calendar day the row was recorded),
    the rows of one day are not taken as independent: the Wald test with the day sums'
    cluster-robust covariance (`p_value_by_day`, F with one fewer denominator degree of freedom
    than days; `by_day_p` says why), and the p-value is the larger of the two."""
    m = rows & np.isfinite(resid) & np.isfinite(pred) & np.isfinite(expected_abs)
    n = int(m.sum())
    exp = float(expected_abs[m].mean()) if n else float("nan")
    base: dict[str, Any] = {"rows": n, "expected": exp}
    if n < 5 or not exp > 0:
        return {**base, "observed": float("nan"), "systematic_share": float("nan"), "p_value": 1.0}
    r, p = resid[m], pred[m]
    sd = float(p.std())
    X = np.c_[np.ones(n), (p - p.mean()) / sd] if sd > 0 else np.ones((n, 1))
    beta, *_ = np.linalg.lstsq(X, r, rcond=None)
    fit = X @ beta
    k = X.shape[1]
    rss = float(np.sum((r - fit) ** 2))
    s2 = rss / max(n - k, 1)
    sys_rms = float(np.sqrt(np.mean(fit**2)))
    F = (float(np.sum(fit**2)) / k) / s2 if s2 > 0 else float("inf")
    from scipy import stats

    pval = float(stats.f.sf(F, k, max(n - k, 1))) if np.isfinite(F) else 0.0
    t_half = float(stats.t.ppf(0.975, max(n - 1, 1))) * float(r.std(ddof=1)) / math.sqrt(n)
    bias = float(beta[0])
    extra: dict[str, Any] = {}
    if days is not None:
        d = np.asarray(days)[m]
        n_days = int(np.unique(d).size)
        if n_days < n:  # some day holds several of the rows
            extra = {
                "days": n_days,
                "p_value_rows": pval,
                "p_value_by_day": _wald_by_day(X, r - fit, beta, d),
            }
            pval = max(pval, extra["p_value_by_day"])
    return {
        **base,
        **extra,
        "observed": float(np.abs(r).mean()),
        "bias": bias,
        "bias_ci": [bias - t_half, bias + t_half],
        "trend": float(beta[1]) if k > 1 else 0.0,
        "systematic_rms": sys_rms,
        "systematic_share": sys_rms / exp,
        "p_value": pval,
    }


def _wald_by_day(X: np.ndarray, u: np.ndarray, beta: np.ndarray, days: np.ndarray) -> float:
    """p-value of "beta = 0" with the rows of one day as one unit: the Wald statistic with the
    cluster-robust (sandwich) covariance of the least-squares coefficients, F(k, days - 1);
    1.0 with no more days than coefficients: the day sums of the scores add up to zero (the
    normal equations), so k coefficients need k + 1 days for a covariance of full rank, and
    with fewer a bias and a trend are the days' own levels (HOLDOUT's clean crime control: 7
    rows of two counties, each county at its own prediction level; the trend through the two
    fits them exactly, the covariance is singular and the statistic unbounded)."""
    from scipy import stats

    inv = np.unique(days, return_inverse=True)[1]
    g = int(inv.max()) + 1
    k = X.shape[1]
    if g <= k:
        return 1.0
    scores = np.zeros((g, k))
    np.add.at(scores, inv, X * u[:, None])
    bread = np.linalg.pinv(X.T @ X)
    V = g / (g - 1) * bread @ (scores.T @ scores) @ bread
    try:
        W = float(beta @ np.linalg.solve(V, beta)) / k
    except np.linalg.LinAlgError:
        return 1.0
    if not np.isfinite(W):
        return 1.0
    return float(stats.f.sf(W, k, g - 1))


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def proportion_diff(k1: float, n1: float, k0: float, n0: float) -> dict[str, Any]:
    """Difference of two proportions k1/n1 - k0/n0 with its 95% interval (Newcombe's hybrid of
    Wilson intervals) and the two-sided p-value of the pooled z test."""
    from ..metrics import wilson

    if n1 <= 0 or n0 <= 0:
        return {"diff": float("nan"), "ci": [float("nan"), float("nan")], "p_value": 1.0}
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson(k1, n1)
    l0, u0 = wilson(k0, n0)
    d = p1 - p0
    lo = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pp = (k1 + k0) / (n1 + n0)
    se = math.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n0))
    pval = 2 * _norm_sf(abs(d) / se) if se > 0 else (0.0 if d != 0 else 1.0)
    return {"diff": d, "ci": [lo, hi], "p_value": min(1.0, pval)}


def recalibrated_share(x: np.ndarray, hit: np.ndarray, fit_rows: np.ndarray) -> np.ndarray:
    """Per row, the share of `hit` among `fit_rows` of the same score `x` (isotonic, increasing):
    what a probability of a class means on those rows. NaN where too few rows fit it."""
    return _isotonic(np.asarray(x, dtype=float), np.asarray(hit, dtype=float), fit_rows, True)


def share_bias(
    hit: np.ndarray,
    expectations: list[np.ndarray],
    rows: np.ndarray,
    entities: list[tuple[str, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """The observed share of `hit` on `rows` against the share each per-row probability in
    `expectations` predicts there, judged against the closest of them (the conservative one):
    the difference and the two-sided p-value of "the labels follow these probabilities" (normal
    approximation to the sum of independent Bernoulli(q_i), the Poisson tail when its variance
    is below 10). With `entities` (name, a code per row), the rows of one entity count as one
    unit too (`by_entity_p`), the larger p-value counts."""
    hit = np.asarray(hit, dtype=float)
    best: dict[str, Any] = {"rows": 0, "p_value": 1.0}
    for q_all in expectations:
        m = rows & np.isfinite(hit) & np.isfinite(q_all)
        n = int(m.sum())
        if n < 2:
            continue
        q = np.clip(q_all[m], 1e-6, 1 - 1e-6)
        k, mu, var = float(hit[m].sum()), float(q.sum()), float(np.sum(q * (1 - q)))
        if var >= 10:
            pval = min(1.0, 2 * _norm_sf(abs(k - mu) / math.sqrt(var)))
        else:
            from scipy import stats

            tail = stats.poisson.sf(round(k) - 1, mu) if k >= mu else stats.poisson.cdf(round(k), mu)
            pval = float(min(1.0, 2 * tail))
        if entities:
            units = [(name, codes[m]) for name, codes in entities]
            pval = max(pval, by_entity_p(hit[m] - q, units, two_sided=True))
        res = {"rows": n, "observed": k / n, "expected": mu / n, "difference": (k - mu) / n, "p_value": pval}
        if best["rows"] == 0 or pval > best["p_value"]:
            best = res
    return best
