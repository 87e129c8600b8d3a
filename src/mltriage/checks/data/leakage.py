"""Rung 1, data: a feature that predicts the target almost perfectly on its own, or far better than
all the other features together without acting as a cause beside them (label leakage)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check

if TYPE_CHECKING:
    from ...context import Context


def _class_targets(
    task: str, y: np.ndarray, classes: Any, positive: Any
) -> tuple[np.ndarray, np.ndarray, list]:
    """One-hot targets Y (binary: one column, the positive class), integer labels and the classes
    that the columns of Y stand for (multiclass: those with at least two rows)."""
    if task == "binary":
        Y = (np.asarray(y) == positive).astype(float)[:, None]
        return Y, Y[:, 0].astype(int), [1]
    cls = list(classes)
    pos = {v: i for i, v in enumerate(cls)}
    yy = np.array([pos[v] for v in np.asarray(y).tolist()])
    present = [j for j in range(len(cls)) if (yy == j).sum() >= 2]
    return np.stack([(yy == j).astype(float) for j in present], axis=1), yy, present


def _hgb_oof(
    task: str,
    Xr: np.ndarray,
    cm: np.ndarray,
    Y: np.ndarray,
    labels: np.ndarray | None,
    folds: np.ndarray,
    seed: int,
) -> np.ndarray:
    """Out-of-fold gradient boosting predictions of the columns of Y from Xr (class probabilities
    of the classes Y stands for, or the value)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kw: dict[str, Any] = dict(
        max_iter=100,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=10,
        random_state=seed,
        categorical_features=cm if cm.any() else None,
    )
    pred = np.zeros_like(Y, dtype=float)
    for f in np.unique(folds):
        a, b = folds != f, folds == f
        if labels is None:
            pred[b, 0] = HistGradientBoostingRegressor(**kw).fit(Xr[a], Y[a, 0]).predict(Xr[b])
            continue
        if len(np.unique(labels[a])) < 2:
            pred[b] = Y[a].mean(0)
            continue
        # early stopping holds out a stratified share: a class with one training row cannot be split
        stop = bool(np.unique(labels[a], return_counts=True)[1].min() >= 2)
        est = HistGradientBoostingClassifier(**{**kw, "early_stopping": stop}).fit(Xr[a], labels[a])
        pr, cl = est.predict_proba(Xr[b]), list(est.classes_)
        for k in range(Y.shape[1]):
            code = 1 if task == "binary" else k
            pred[b, k] = pr[:, cl.index(code)] if code in cl else 0.0
    return pred


def _better(task: str, Y: np.ndarray, *preds: np.ndarray) -> tuple[np.ndarray, float]:
    """The out-of-fold prediction with the best cross-validated score, and that score."""
    from ...stats.leakage import prediction_score

    scored = [(prediction_score(task, Y, q)[0], i) for i, q in enumerate(preds)]
    s, i = max((v if np.isfinite(v) else -np.inf, i) for v, i in scored)
    return preds[i], float(s)


def versus_rest(
    task: str, X: np.ndarray, mask: np.ndarray, y: np.ndarray, j: int, classes: Any, positive: Any, seed: int
) -> dict[str, Any]:
    """Feature `j` alone against every other feature together, on the same rows and folds: the
    paired dominance (`stats.leak_signature.dominance`) and the explaining-away signature."""
    from ...stats.leak_signature import decided_share, design_matrix, dominance, explaining_away, oof_ridge
    from ...stats.leakage import _oof_means, bin_codes

    if task == "regression":
        Y, labels = np.asarray(y, dtype=float)[:, None], None
    else:
        Y, yy, present = _class_targets(task, y, classes, positive)
        labels = Y[:, 0].astype(int) if task == "binary" else yy
        if task == "multiclass":  # class codes 0..k-1 of the columns of Y (rows of absent classes: -1)
            remap = {c: i for i, c in enumerate(present)}
            labels = np.array([remap.get(v, -1) for v in yy.tolist()])
            keep = labels >= 0
            X, Y, labels = X[keep], Y[keep], labels[keep]
    n = len(Y)
    folds = np.random.default_rng(seed).permutation(np.arange(n) % 3)
    codes, nb = bin_codes(X[:, j], bool(mask[j]))
    binned = _oof_means(codes, nb, Y, folds, 3, Y.mean(0), 20.0)
    single, s_score = _better(task, Y, binned, oof_ridge(design_matrix(X[:, [j]], mask[[j]]), Y, folds))
    others = [i for i in range(X.shape[1]) if i != j]
    if not others:
        return {}
    Xr, cm = X[:, others], mask[others]
    rest, r_score = _better(
        task, Y, _hgb_oof(task, Xr, cm, Y, labels, folds, seed), oof_ridge(design_matrix(Xr, cm), Y, folds)
    )
    sig = explaining_away(single, rest, Y, labels, seed=seed)

    def full() -> tuple[float, Any]:  # all the features, the top one included (fitted only when needed)
        from ...stats.leak_signature import record_combination

        pred, score = _better(
            task,
            Y,
            _hgb_oof(task, X, mask, Y, labels, folds, seed),
            oof_ridge(design_matrix(X, mask), Y, folds),
        )
        bound = record_combination(task, Y, single, rest)
        return score, dominance(task, Y, pred, bound, seed=seed)

    return {
        "dominance": dominance(task, Y, single, rest, seed=seed),
        "signature": sig,
        "decided": (decided_share(Y, single), decided_share(Y, rest)) if labels is not None else None,
        "rows": n,
        "full": full,
    }


def headline_without(
    ctx: Context, column: str, n_boot: int = 300, max_rows: int = 5_000
) -> dict[str, float] | None:
    """The model's evaluation score (AUC, macro AUC or R^2) on its evaluation rows as they are
    and with `column` shuffled across them, with a paired bootstrap interval of the drop; None when
    the model cannot be re-scored (predictions only) or the score is undefined."""
    from ...stats.leak_signature import dominance

    c = ctx.case
    if c.model is None or getattr(c.model, "kind", "") == "precomputed":
        return None
    task = "regression" if c.task == "ranking" else c.task
    te = ctx.frame("test")
    if len(te) > max_rows:
        te = te.iloc[np.sort(np.random.default_rng(ctx.config.seed).choice(len(te), max_rows, replace=False))]
    te = te.reset_index(drop=True)
    shuffled = te.copy()
    shuffled[column] = te[column].to_numpy()[np.random.default_rng(ctx.config.seed + 7).permutation(len(te))]
    try:
        a, b = ctx.predictions_on(te), ctx.predictions_on(shuffled)
    except Exception:
        return None
    y = te[c.target].to_numpy()
    if task == "regression":
        Y, pa, pb = np.asarray(y, float)[:, None], a.score[:, None], b.score[:, None]
    elif task == "binary":
        Y = (y == c.positive).astype(float)[:, None]
        pa, pb = np.asarray(a.score, float)[:, None], np.asarray(b.score, float)[:, None]
    else:
        if a.proba is None or b.proba is None:
            return None
        Y = np.stack([(y == k).astype(float) for k in (a.classes or [])], 1)
        pa, pb = a.proba, b.proba
    d = dominance(task, Y, pa, pb, n_boot=n_boot, seed=ctx.config.seed)
    if not np.isfinite(d.diff):
        return None
    return {"with": d.single, "shuffled": d.rest, "drop": d.diff, "low": d.low, "high": d.high}


@check(
    "data.label_leakage",
    max_rows=Param(20_000, Interval(int, 1, None), "training rows sampled to score each feature alone"),
    rest_rows=Param(
        4_000,
        Interval(int, 1, None),
        "training rows sampled to compare the top feature with all the other features together",
    ),
    perfect_auc=Param(
        0.98, Interval(float, 0, 1), "single-feature AUC from which a feature is a leak on its own (critical)"
    ),
    perfect_r2=Param(
        0.98, Interval(float, 0, 1), "single-feature R^2 from which a feature is a leak on its own (critical)"
    ),
    auc_margin=Param(
        0.05,
        Interval(float, 0, 1),
        "AUC by which the feature alone must beat all the other features together (interval above "
        "0, the signature of a record of the outcome read clearly) for a suspicion (info) when it "
        "does not far exceed them",
    ),
    r2_margin=Param(
        0.10,
        Interval(float, 0, 1),
        "R^2 by which the feature alone must beat all the other features together (interval above "
        "0, the signature of a record of the outcome read clearly) for a suspicion (info) when it "
        "does not far exceed them",
    ),
    error_ratio=Param(
        0.5,
        Interval(float, 0, 1, closed="neither"),
        "share of the other features' error (1 - AUC, 1 - R^2; for classes, or of the rows whose "
        "class they leave undecided, 1 - Cohen's kappa) that the feature alone may leave at "
        "most to be a leak (it far exceeds them: 0.5, it halves their error); a feature that beats "
        "them by the margin without that is a suspicion (info)",
    ),
    cause_ratio=Param(
        -0.5,
        Interval(float, -1, 0),
        "explaining-away ratio at or below which the feature acts as a cause beside the others "
        "(0: a record of the outcome, -1: an independent driver; the default is the midpoint)",
    ),
    proxy_ratio=Param(
        0.5,
        Interval(float, 0, 2),
        "lower bound of the explaining-away ratio above which the feature shares with the others "
        "more at fixed target than a record of the outcome can: the others measure it (0: a "
        "record of the outcome, 1: as much within target values as between them; the default is "
        "the midpoint)",
    ),
    kept_share=Param(
        0.5,
        Interval(float, 0, 1),
        "share of their own power (above chance) that the other features add beside the feature "
        "from which it is a driver, not a record of the outcome (0: it screens them off, 1: they "
        "add all of it; the default is the midpoint)",
    ),
    record_share=Param(
        0.25,
        Interval(float, 0, 1),
        "share of the error that a record of the outcome would leave beside the others (their two "
        "predictions combined as if independent given the target) which all the features together "
        "must remove, with an interval above 0, for the feature to be a driver the others complete "
        "(silent)",
    ),
    inflation=Param(
        0.02,
        Interval(float, 0, 1),
        "drop of the model's evaluation score (AUC or R^2) when the feature is shuffled from which "
        "the leak inflates the headline (critical; otherwise a warning)",
    ),
)
def label_leakage(ctx: Context, p: Params) -> Findings:
    """A single feature whose power far exceeds what all the other features reach together.

    What it detects
        Every feature's cross-validated power on its own (out-of-fold binned target means: AUC for
        classification, R^2 for regression) on the unique training rows, from 100 of them: a copy
        in another fold would hand a row its own label and inflate a legitimate strong predictor.
        A feature near perfect on its own (`perfect_auc`, `perfect_r2`, lower bound above 0.90) is
        a leak. Otherwise the top feature is set against all the other features together, on the
        same rows and folds (each side the better of gradient boosting or binned means and a ridge
        fit, so small data handicaps neither): a leak when it far exceeds them, leaving at most
        `error_ratio` of their error (1 - AUC, 1 - R^2: it halves it) with a paired bootstrap 95%
        interval of the difference above 0 (`stats.leak_signature.dominance`). Short of that, a
        lead of `auc_margin` / `r2_margin` with the signature below read clearly (the
        explaining-away ratio's interval inside (`cause_ratio`, `proxy_ratio`)) is a suspicion
        only (info: check when the column is recorded): a strong legitimate driver, or a
        concurrent outcome, reads the same at that strength. Measured (held-out set and the
        generalisation suite, feature alone / others / error left): legitimate dominant drivers
        leave 0.59-0.79 of the others' error (Star's reading score for the math score R^2 0.527 /
        0.193 / 0.59, ratio 0.22; anes96 left-right self-placement for party macro AUC 0.728 /
        0.644 / 0.76, ratio 0.06 [-0.27, 0.35]; Cracker's private-label price 0.698 / 0.615 /
        0.78; affairs marriage score 0.683 / 0.598 / 0.79), every planted leak 0.40 or less
        (0.00-0.40 over 12 leaks, 139-4,000 rows, near-perfect ones included: departure delay
        0.898 / 0.704 / 0.34, an invoice 0.953 / 0.863 / 0.35, a weak leak on 139 rows 0.876 /
        0.639 / 0.34), except a 70%-right permit category of a 4-class outcome on 706 fishing
        rows (0.816 / 0.754 / 0.75, ratio -0.18 [-0.41, 0.04]): on the AUC it reads like the
        anes96 driver; the decided share below tells them apart. 0.5 is the midpoint, not a
        fit: it is also the bar
        when the others come near a perfect score and leave less room than the margin (an
        invoiced amount, price plus tax, R^2 0.953 beside computer specifications at 0.863
        leaves 35% of it, ratio -0.003, others kept 0.7%); legitimate measurements near a
        perfect score stay below the others (breast cancer: worst perimeter AUC 0.975, the rest
        0.995).
        For classes it also far exceeds them when it decides the rows' classes: Cohen's kappa
        of the class it picks with the label (the share of rows decided beyond the agreement
        that chance gives from the two sets of class frequencies on the same rows) leaves at
        most `error_ratio` of the rows the others together leave undecided. A record of the
        outcome fixes the class on the rows where it was recorded and says nothing about the
        rest, so it decides many rows while its one-vs-rest AUC stays moderate; a driver, even a
        dominant one, grades the odds of every row and decides few. Measured (kappa alone /
        others / undecided left): the fishing permit recorded by trip mode for 70% of trips
        0.63 / 0.19 / 0.46 (its macro AUC leaves 0.75 of the others' error, like anes96's
        self-placement), a generated 4-class permit right for 70% 0.67 / 0.24 / 0.44; the
        legitimate drivers anes96 self-placement 0.37 / 0.23 / 0.81, Cracker's private-label
        price 0.25 / 0.02 / 0.77, affairs marriage score 0.23 / 0.10 / 0.86, adult relationship
        0.00 / 0.57 (the rows of `label-leakage-bar.md`).
        Whatever its level (the departure delay in a booking-time late-arrival model reaches AUC
        0.89, not 0.98), it stays silent when it behaves as a cause acting beside the others: when the target is fixed, a legitimate independent driver
        trades off against the others (explaining away: ratio of the association within target
        values to the one between them near -1), while a column recorded after the outcome
        depends on them only through the target (ratio near 0; a mediator, above 0). At or
        below `cause_ratio` (the midpoint) it stays silent, and so it does when the other
        features share nothing with it through the target (they predict nothing: the signature
        cannot be read, and only the near-perfect rule applies). It stays silent too when the
        ratio's lower bound is above `proxy_ratio`: a driver whose downstream measurements are
        among the features (age beside lab values that rise with age) shares with them at fixed
        target at least as much as across targets (ratio 1 or more), which a record of the
        outcome, linked to them only through the target, cannot (synthetic age with three weak
        markers of it: ratio 1.9-2.6, lower bounds 1.6-2.2). A driver correlated with the
        others can mask explaining away, so a second signature must agree: a record of the
        outcome screens the others off (all the features together barely beat it alone), while
        beside a driver the others keep their value; it stays silent when they add at least
        `kept_share` (the midpoint) of their own power above chance (diamonds: carat alone R^2
        0.84, the others 0.05, all together 0.98: the others add 2.9 times their own power).
        Near a perfect score that share is small even beside a driver, so a third reading
        decides there: a record of the outcome is independent of the others given the target,
        so all the features together can do no better than its reading and theirs combined
        (`stats.leak_signature.record_combination`: naive Bayes for classes, the Gaussian
        posterior for a value); it stays silent when all the features together beat that
        combination with a paired interval above 0 and remove at least `record_share` of the
        error it leaves. Measured (share removed, 95% lower bound of the difference): every
        planted leak of the generalisation suite -1.00 to -0.005 (24 leaks, 200-8,000 rows: none
        beats its record combination), a production function's material inputs for output
        (R^2 0.97 alone, the staff, capital and cash flow 0.91, all together 0.996) 0.34-0.61
        on four HOLDOUT5 firms scenarios, lower bounds 0.004-0.005; a quarter is the bar.
        Critical when shuffling the column in the evaluation rows drops the model's score by more than `inflation` with an interval
        above 0 (the leak inflates the headline), or when the model cannot be re-scored; a
        warning when the model does not lean on it.
        Defaults, measured on the generalisation suite (`benchmarks/variants`) and synthetic
        data: planted leaks beat the rest by 0.17-0.25 AUC (lower bounds 0.13-0.19, 140-5,600
        rows) and 0.61 R^2 (216 rows), with ratios -0.1 to +0.3; independent drivers give ratios
        -0.6 to -1 (one driver with R^2 0.91 beside others at 0.06: ratio -0.94). The margins
        are an effect that matters (a twentieth of the AUC range, a tenth of R^2), not a fit.
    Why it matters
        A feature that knows the answer is usually recorded after the outcome (a collections call
        after a default, a discharge code after a diagnosis) or derived from the target. The model
        leans on it, scores brilliantly offline, and fails in production where the value is not
        yet known at prediction time.
    How to confirm
        Ask when and how the column is recorded relative to the outcome; drop it and compare the
        cross-validated score; look at its values for the two classes.
    Fix
        Remove the column (or rebuild it from information available at prediction time, with a
        point-in-time join).
    """
    from ...stats.leakage import single_feature_scores

    c = ctx.case
    task = "regression" if c.task == "ranking" else c.task
    X = ctx.encoded("train")
    y = ctx.y("train")
    unique = np.flatnonzero(~pd.Series(ctx.row_hashes("train")).duplicated().to_numpy())
    if len(unique) < 100:
        raise NotApplicable(f"fewer than 100 unique training rows ({len(unique)})")
    idx = unique
    if len(unique) > p.max_rows:
        idx = np.sort(np.random.default_rng(ctx.config.seed).choice(unique, p.max_rows, replace=False))
    mask = ctx.encoder.categorical_mask
    scores = single_feature_scores(
        X[idx], c.features, mask, y[idx], task, c.classes, c.positive, seed=ctx.config.seed
    )
    scores = [s for s in scores if np.isfinite(s.score)]
    if not scores:
        return None
    top = scores[0]
    reg = task == "regression"
    metric = "R^2" if reg else ("AUC" if task == "binary" else "macro AUC")
    ev: dict[str, Any] = {
        "metric": metric,
        "single_feature": [
            {"column": s.column, "score": s.score, "low": s.low, "high": s.high} for s in scores[:5]
        ],
        "rows": int(len(idx)),
        "duplicate_rows_left_out": int(len(y) - len(unique)),
    }
    perfect, margin, chance = (p.perfect_r2, p.r2_margin, 0.0) if reg else (p.perfect_auc, p.auc_margin, 0.5)
    far = True
    if top.score >= perfect and top.low >= 0.9:
        title = f"{top.column} alone predicts the target with cross-validated {metric} {top.score:.3f}"
    else:
        # all the others together reach at least the next feature alone: when the top feature
        # does not beat that (or chance) by the margin, it cannot beat them (no model is fitted)
        floor = max([chance] + [s.score for s in scores[1:2]])
        if top.score - floor < min(margin, _bar(floor, chance, p.error_ratio)):
            return None
        found = _against_rest(ctx, p, X, y, idx, c.features.index(top.column), task, margin, ev)
        if found is None:
            return None
        title, far = found
    sev = CRITICAL
    inflated = headline_without(ctx, top.column)
    if inflated is not None:
        ev["evaluation_score_without_it"] = inflated
        if not (inflated["drop"] >= p.inflation and inflated["low"] > 0):
            sev = WARNING
    if not far:
        sev = INFO  # a suspicion: a strong legitimate driver reads the same at this strength
    drop = (
        f"; shuffling it drops the model's evaluation {metric} from {inflated['with']:.3f} to "
        f"{inflated['shuffled']:.3f}"
        if inflated is not None
        else ""
    )
    return Finding(
        "data.label_leakage",
        sev,
        title + drop,
        columns=[top.column],
        evidence=ev,
        impact=float(min(1.0, max(0.0, top.score))),
        root_cause=f"{top.column} is probably recorded after the outcome or derived from the target",
        fix=f"check when {top.column} becomes known; drop it or rebuild it from information "
        "available at prediction time",
    )


def _bar(rest: float, chance: float, error_ratio: float) -> float:
    """How much a feature alone must beat the others together (score `rest`) to far exceed them:
    leave at most `error_ratio` of their error (1 - score, from chance at worst)."""
    return float((1.0 - error_ratio) * (1.0 - max(rest, chance)))


def _against_rest(
    ctx: Context,
    p: Params,
    X: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray,
    j: int,
    task: str,
    margin: float,
    ev: dict[str, Any],
) -> tuple[str, bool] | None:
    """The title of a leak found by setting feature j against all the others (evidence added to
    `ev`) and whether it far exceeds them (a leak; otherwise a suspicion), or None when it does
    not beat them by the margin or acts as a cause beside them."""
    c = ctx.case
    ridx = idx
    if len(idx) > p.rest_rows:
        ridx = np.sort(np.random.default_rng(ctx.config.seed + 1).choice(idx, p.rest_rows, replace=False))
    res = versus_rest(
        task, X[ridx], ctx.encoder.categorical_mask, y[ridx], j, c.classes, c.positive, ctx.config.seed
    )
    if not res:
        return None
    d, sig = res["dominance"], res["signature"]
    chance = 0.0 if ev["metric"] == "R^2" else 0.5
    bar = _bar(d.rest, chance, p.error_ratio)
    left = (1.0 - d.single) / (1.0 - max(d.rest, chance)) if d.rest < 1 else float("nan")
    # classes: the share of rows whose class each side decides beyond chance (Cohen's kappa)
    k_single, k_rest = res["decided"] or (float("nan"), float("nan"))
    k_left = (1.0 - k_single) / (1.0 - max(k_rest, 0.0)) if k_rest < 1 else float("nan")
    ev["other_features_together"] = d.rest
    ev["versus_rest"] = {
        "rows": res["rows"],
        "feature_alone": d.single,
        "other_features_together": d.rest,
        "difference": d.diff,
        "low": d.low,
        "high": d.high,
        "margin": margin,
        "error_left_share": left,
        "decided_alone": k_single,
        "decided_by_others": k_rest,
        "undecided_left_share": k_left,
        "error_ratio": p.error_ratio,
        "far_beyond_at": bar,
        "explaining_away_ratio": sig.ratio,
        "ratio_low": sig.low,
        "ratio_high": sig.high,
        "cause_ratio": p.cause_ratio,
        "proxy_ratio": p.proxy_ratio,
    }
    if not (np.isfinite(d.low) and d.low > 0):
        return None
    # far beyond the others: it leaves at most error_ratio of their error (a record of the
    # outcome nearly determines it; a driver shifts the odds). Short of that, a lead by the margin
    # is a suspicion only, and only with the signature of a record read clearly (its interval
    # excludes both a cause beside the others and a driver they measure): a strong legitimate
    # driver, or a concurrent outcome (a reading score beside the math score), reads the same
    decides = bool(np.isfinite(k_left) and k_left <= p.error_ratio)
    far = d.diff >= bar or decides
    if not far and (d.diff < margin or not (sig.low > p.cause_ratio and sig.high < p.proxy_ratio)):
        return None
    if not np.isfinite(sig.ratio) or sig.ratio <= p.cause_ratio:
        # a driver acting beside the others (they trade off once the target is fixed), or others
        # that share nothing with it through the target (nothing to read the signature from)
        return None
    if np.isfinite(sig.low) and sig.low > p.proxy_ratio:
        # the others measure the feature: they share it at fixed target, not only through it
        return None
    # a record of the outcome carries what the others know about the target: beside it they add
    # little; beside a driver they keep their value (a confounded driver, where explaining away
    # is masked, shows it here: carat beside a diamond's colour and clarity)
    f_score, rec = res["full"]()
    kept = (f_score - d.single) / (d.rest - chance) if d.rest - chance > 0 else float("nan")
    # a record of the outcome is independent of the others given the target: together they can
    # reach no more than its reading and theirs combined (`record_combination`); beside a driver
    # the others complete (a production function's inputs, staff and capital) they go far beyond
    beyond = rec.diff / (1.0 - rec.rest) if rec.rest < 1 else float("nan")
    ev["versus_rest"].update(
        {
            "all_features": f_score,
            "others_kept_beside_it": kept,
            "kept_share": p.kept_share,
            "record_bound": rec.rest,
            "beyond_record": rec.diff,
            "beyond_record_low": rec.low,
            "beyond_record_high": rec.high,
            "beyond_record_share": beyond,
            "record_share": p.record_share,
        }
    )
    if not np.isfinite(kept) or kept >= p.kept_share:
        return None
    if np.isfinite(rec.low) and rec.low > 0 and beyond >= p.record_share:
        return None
    col = c.features[j]
    metric = ev["metric"]
    title = (
        f"{col} alone predicts the target with cross-validated {metric} {d.single:.3f}, all the other "
        f"features together {d.rest:.3f} (difference {d.diff:.3f}, 95% interval {d.low:.3f} to "
        f"{d.high:.3f}; it leaves {left:.0%} of their error); given the target it does not trade "
        f"off against them (explaining-away ratio {sig.ratio:.2f}; a cause beside them is near -1, "
        "a record of the outcome near 0)"
    )
    if decides and d.diff < bar:
        title += (
            f"; it decides the class of {k_single:.0%} of the rows beyond chance (Cohen's kappa), all "
            f"the others together {max(k_rest, 0.0):.0%}: it leaves {k_left:.0%} of the rows they leave "
            "undecided"
        )
    if not far:
        title += (
            f"; short of leaving at most {p.error_ratio:.0%} of their error a strong legitimate "
            f"driver reads the same: check when {col} is recorded"
        )
    return title, far
