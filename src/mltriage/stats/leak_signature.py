"""One feature against all the others together: how far its power exceeds theirs, and whether it
behaves like a record of the outcome or like one more cause of it.

Three out-of-fold predictions of the target on the same rows: from the feature alone (`single`),
from every other feature together (`rest`), and their cross-fitted linear combination. Each is
the better (by its cross-validated score) of a flexible and a linear learner, so that neither
side is handicapped on small data (binned means need rows per bin; a linear fit needs none).

`dominance` is the single feature's score minus the rest's, with a paired bootstrap interval over
rows (the same resamples for both, so the rows that are hard for one are hard for the other).

`explaining_away` reads the causal signature of the top feature. A column recorded after the
outcome (or derived from the target) depends on the other features only through the target:
given the target, it is independent of them, so its association with the rest's prediction is
all "between" target values and none "within" (ratio 0; a mediator of the other features, such
as the departure delay of a late arrival, adds a positive within part). A legitimate driver that
acts beside the others is independent of them, yet once the target is fixed a high value of one
means a lower value of the others (explaining away, Berkson): the within part cancels the between
part (ratio -1). The ratio within / between locates the data between the two hypotheses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .paired import Resampler, auc_of, r2_of


def design_matrix(
    X: np.ndarray, categorical: np.ndarray, min_count: int = 5, max_levels: int = 30
) -> np.ndarray:
    """A linear learner's view of encoded columns: numbers standardised (missing at the median,
    plus an indicator), categories one-hot for their `max_levels` most frequent levels with at
    least `min_count` rows."""
    cols: list[np.ndarray] = []
    for j in range(X.shape[1]):
        x = np.asarray(X[:, j], dtype=float)
        ok = np.isfinite(x)
        if categorical[j]:
            v = np.where(ok, x, -1.0)
            lv, cnt = np.unique(v, return_counts=True)
            top = np.argsort(-cnt, kind="stable")[:max_levels]
            for level in lv[top][cnt[top] >= min_count]:
                cols.append((v == level).astype(float))
            continue
        if not ok.any():
            continue
        xx = np.where(ok, x, np.median(x[ok]))
        sd = float(xx.std())
        if sd > 0:
            cols.append((xx - xx.mean()) / sd)
        if (~ok).any() and ok.any():
            cols.append((~ok).astype(float))
    return np.column_stack(cols) if cols else np.zeros((len(X), 1))


def oof_ridge(Z: np.ndarray, Y: np.ndarray, folds: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Out-of-fold ridge predictions of every column of Y (n, k) from Z (n, d), closed form (a
    linear probability model for class indicators: AUC needs only their order)."""
    pred = np.zeros_like(Y, dtype=float)
    for f in np.unique(folds):
        a, b = folds != f, folds == f
        za, ya = Z[a], Y[a]
        mz, my = za.mean(0), ya.mean(0)
        zc = za - mz
        coef = np.linalg.solve(zc.T @ zc + alpha * np.eye(Z.shape[1]), zc.T @ (ya - my))
        pred[b] = (Z[b] - mz) @ coef + my
    return pred


def score_stats(task: str, Y: np.ndarray, pred: np.ndarray) -> dict[str, object]:
    """The weighted statistics (for `Resampler`) of the score: AUC (binary), mean one-vs-rest AUC
    (multiclass) or R^2 (regression)."""
    if task == "regression":
        return {"r2": r2_of(Y[:, 0], pred[:, 0])}
    return {f"auc{j}": auc_of(Y[:, j], pred[:, j]) for j in range(Y.shape[1]) if 0 < Y[:, j].sum() < len(Y)}


@dataclass
class Dominance:
    single: float
    rest: float
    diff: float
    low: float
    high: float
    rest_low: float  # lower bound of the rest's score (is it above chance at all?)
    resamples: int


def dominance(
    task: str, Y: np.ndarray, single: np.ndarray, rest: np.ndarray, n_boot: int = 300, seed: int = 0
) -> Dominance:
    """Score of `single` minus score of `rest` (out-of-fold predictions of the same rows) with a
    paired percentile bootstrap 95% interval."""
    rs = Resampler(len(Y), n_boot, seed)
    ss, sr = score_stats(task, Y, single), score_stats(task, Y, rest)
    stats = {**{f"s:{k}": v for k, v in ss.items()}, **{f"r:{k}": v for k, v in sr.items()}}
    pt, bt = rs.point(stats), rs.run(stats)  # type: ignore[arg-type]

    def mean(d: dict, side: str) -> np.ndarray:
        return np.nanmean(np.vstack([np.atleast_1d(v) for k, v in d.items() if k.startswith(side)]), axis=0)

    s, r = float(mean(pt, "s:")[0]), float(mean(pt, "r:")[0])
    bs, br = mean(bt, "s:"), mean(bt, "r:")
    d = bs - br
    ok = np.isfinite(d)
    lo, hi = np.quantile(d[ok], [0.025, 0.975]) if ok.any() else (np.nan, np.nan)
    rlo = float(np.quantile(br[np.isfinite(br)], 0.025)) if np.isfinite(br).any() else float("nan")
    return Dominance(s, r, s - r, float(lo), float(hi), rlo, int(ok.sum()))


def decided_share(Y: np.ndarray, pred: np.ndarray) -> float:
    """Cohen's kappa of the class a prediction picks (binary: a probability above one half;
    multiclass: the largest column) with the label: the share of rows whose class it decides
    beyond the agreement expected by chance from the two sets of class frequencies (0: chance,
    1: every row decided). A record of the outcome decides the class on the rows where it was
    recorded; a driver shifts the odds of all rows and decides few."""
    if Y.shape[1] == 1:
        t, p = (Y[:, 0] > 0.5).astype(np.int64), (pred[:, 0] > 0.5).astype(np.int64)
    else:
        t, p = np.argmax(Y, 1), np.argmax(pred, 1)
    k = int(max(t.max(initial=0), p.max(initial=0))) + 1
    observed = float(np.mean(t == p))
    chance = float(np.bincount(t, minlength=k) @ np.bincount(p, minlength=k)) / max(len(t), 1) ** 2
    return (observed - chance) / (1.0 - chance) if chance < 1 else float("nan")


def _within_between(
    a: np.ndarray, b: np.ndarray, Y: np.ndarray, labels: np.ndarray | None
) -> tuple[float, float]:
    """Covariance of a and b (n, k) summed over columns, split into the part inside target values
    (within classes; for a continuous target, of the residuals of a linear fit on it) and the
    part between them."""
    ac, bc = a - a.mean(0), b - b.mean(0)
    total = float(np.sum(ac * bc)) / len(a)
    if labels is not None:
        cnt = np.bincount(labels).astype(float)
        cnt[cnt == 0] = 1
        ma = np.stack([np.bincount(labels, weights=a[:, j]) / cnt for j in range(a.shape[1])], 1)
        mb = np.stack([np.bincount(labels, weights=b[:, j]) / cnt for j in range(b.shape[1])], 1)
        within = float(np.sum((a - ma[labels]) * (b - mb[labels]))) / len(a)
    else:
        yc = Y[:, 0] - Y[:, 0].mean()
        ss = float(yc @ yc) or 1.0
        ra = ac - np.outer(yc, yc @ ac / ss)
        rb = bc - np.outer(yc, yc @ bc / ss)
        within = float(np.sum(ra * rb)) / len(a)
    return within, total - within


@dataclass
class Signature:
    ratio: float  # within / between: 0 a record of the outcome, -1 an independent cause
    low: float
    high: float
    between: float  # the association that goes through the target (scale of a and b)


def explaining_away(
    single: np.ndarray,
    rest: np.ndarray,
    Y: np.ndarray,
    labels: np.ndarray | None,
    n_boot: int = 300,
    seed: int = 0,
) -> Signature:
    """The within / between ratio of the association of the feature's and the rest's out-of-fold
    predictions (module doc), with a bootstrap 95% interval over rows."""
    w, bt = _within_between(single, rest, Y, labels)
    ratio = w / bt if bt > 0 else float("nan")
    rng = np.random.default_rng(seed)
    n = len(Y)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, n, n)
        wi, bi = _within_between(single[i], rest[i], Y[i], None if labels is None else labels[i])
        boots.append(wi / bi if bi > 0 else np.nan)
    arr = np.asarray(boots, dtype=float)
    ok = np.isfinite(arr)
    lo, hi = np.quantile(arr[ok], [0.025, 0.975]) if ok.sum() >= 20 else (np.nan, np.nan)
    return Signature(float(ratio), float(lo), float(hi), float(bt))


def _probabilities(Y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Each column of an out-of-fold prediction mapped to the class's probability by isotonic
    regression on the rows (the linear learners give scores, not probabilities), kept off 0 and 1."""
    from .drift_performance import isotonic

    n = len(Y)
    out = np.empty_like(pred, dtype=float)
    for k in range(Y.shape[1]):
        out[:, k] = isotonic(pred[:, k], Y[:, k]).predict(pred[:, k])
    return np.clip(out, 0.5 / n, 1.0 - 0.5 / n)


def record_combination(task: str, Y: np.ndarray, single: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """The prediction that the feature and the others allow together when the feature is a record
    of the outcome: independent of the others given the target, so each adds its own reading of it
    and no more. Classes: naive Bayes on the two predictions' probabilities (log odds add, less the
    prior's). A value: the Gaussian posterior of the target given the others' prediction (its error
    variance) and the feature read as the target plus independent noise (its variance from the
    feature's own error). No learner can beat it on a record beyond sampling error; beside a
    driver whose effect the others complete (inputs, staff and capital in a production function),
    all the features together beat it by far."""
    if task == "regression":
        y, s, r = Y[:, 0], single[:, 0], rest[:, 0]
        mu, V = float(y.mean()), float(y.var())
        e_s, e_r = float(np.mean((y - s) ** 2)), float(np.mean((y - r) ** 2))
        if V <= 0 or e_s >= V:
            return rest.copy()
        noise = e_s * V / (V - e_s)  # variance of the feature's reading of the target
        reading = mu + (s - mu) * (V + noise) / V  # the shrunk single prediction undone
        return (((noise * r + e_r * reading) / (e_r + noise)) if e_r + noise > 0 else r)[:, None]
    ps, pr = _probabilities(Y, single), _probabilities(Y, rest)
    prior = np.clip(Y.mean(0), 0.5 / len(Y), 1.0 - 0.5 / len(Y))
    if task == "binary":
        lo = np.log(ps / (1 - ps)) + np.log(pr / (1 - pr)) - np.log(prior / (1 - prior))
        return 1.0 / (1.0 + np.exp(-lo))
    lg = np.log(ps) + np.log(pr) - np.log(prior)
    lg -= lg.max(1, keepdims=True)
    e = np.exp(lg)
    return e / e.sum(1, keepdims=True)
