"""Failure kinds rebuilt from peer tools' test suites and examples: methodology, model and
production kinds (see kinds_peers.py for the data-integrity ones). Each cites its source."""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, headline, kind, load, psi, rng, split_data, train_model
from scenario import Scenario, _ct, fit, rnd, scores
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, scale


def _key(task: str) -> str:
    return {"binary": "test_auc", "regression": "test_r2"}.get(task, "test_accuracy")


# --------------------------------------------------------------------------- train-only leak


@kind("train_only_leak", ["data.label_leakage"])
def train_only_leak(spec: Spec) -> Scenario:
    """Deepchecks `FeatureLabelCorrelationChange` (tests/tabular/checks/train_test_validation/
    feature_label_correlation_change_test.py: a feature built from the label in the training set
    only, so its predictive power score is high in train and near zero in test). A follow-up
    field was back-filled after the outcome for the historical (training) rows; for the fresh
    evaluation rows it holds what was known at prediction time, unrelated to the outcome."""
    data = load(spec)
    g = rng(spec)
    col = "followup_contacts"
    tr, te = split_data(data, spec)
    y = tr[data.target].to_numpy()
    tr[col] = g.poisson(np.where(y == 1, 2.6, 0.4)).astype(float)
    te[col] = g.poisson(np.full(len(te), 0.4 * 0.75 + 2.6 * 0.25)).astype(float)
    data.numeric.append(col)
    model = train_model(data, spec.family, tr, spec.seed)
    others = [c for c in data.features if c != col]
    m0 = train_model(data, spec.family, tr, spec.seed, features=others)
    meas = headline(model, data, tr, te)
    meas.update({f"without_{k}": v for k, v in headline(m0, data, tr, te, others).items()})
    meas["train_column_auc"] = rnd(max(_a := _auc(tr[data.target], tr[col]), _a))
    meas["test_column_auc"] = rnd(_auc(te[data.target], te[col]))
    return Scenario(
        spec.name,
        "train_only_leak",
        data,
        spec.family,
        tr,
        te,
        f"{col} was back-filled after the outcome in training only (AUC {meas['train_column_auc']} in "
        f"training, {meas['test_column_auc']} in evaluation)",
        [{"code": "data.label_leakage", "columns": [col]}],
        [
            "model.overfit",
            "pipeline.train_serving_skew",
            "production.data_drift",
            "errors.high_confidence_errors",
            "evaluation.miscalibration",
            "production.concept_drift",
        ],
        meas,
        "Deepchecks FeatureLabelCorrelationChange (predictive power in train, none in test).",
        model=model,
    )


def _auc(y, s) -> float:
    from sklearn.metrics import roc_auc_score

    a = roc_auc_score(y, s)
    return float(max(a, 1 - a))


# --------------------------------------------------------------------------- boosting overfit


@kind("boosting_overfit", ["model.overfit"])
def boosting_overfit(spec: Spec) -> Scenario:
    """Deepchecks `BoostingOverfit` (tests/tabular/checks/model_evaluation/boosting_overfit_test.py:
    a GradientBoosting model with many estimators whose test score falls as iterations are added
    while the training score keeps rising). 600 deep trees at learning rate 0.3, no early
    stopping, on noisy rows."""
    data = load(spec)
    tr, te = split_data(data, spec)
    cls = data.task != "regression"
    est = (GradientBoostingClassifier if cls else GradientBoostingRegressor)(
        n_estimators=600, max_depth=6, learning_rate=0.3, random_state=spec.seed
    )
    model = fit(
        Pipeline([("prep", _ct(data.numeric, data.categorical, False, True)), ("model", est)]),
        tr[data.features],
        tr[data.target],
        data.task,
    )
    meas = headline(model, data, tr, te)
    good = train_model(data, "hgb", tr, spec.seed)
    meas.update({f"early_stopped_{k}": v for k, v in headline(good, data, tr, te).items() if "test" in k})
    k = _key(data.task)
    gap = meas[k.replace("test", "train")] - meas[k]
    meas["train_minus_test"] = rnd(gap)
    if gap < 0.1:
        raise ValueError(f"not overfit: {gap}")
    return Scenario(
        spec.name,
        "boosting_overfit",
        data,
        "gbm",
        tr,
        te,
        "gradient boosting with 600 depth-6 trees at learning rate 0.3 and no early stopping",
        [{"code": "model.overfit"}],
        ["errors.high_confidence_errors", "evaluation.miscalibration", "model.instability"],
        meas,
        "Deepchecks BoostingOverfit.",
        model=model,
    )


# --------------------------------------------------------------------------- simple model comparison


@kind("simple_model_comparison", ["model.underfit"])
def simple_model_comparison(spec: Spec) -> Scenario:
    """Deepchecks `SimpleModelComparison` (tests/tabular/checks/model_evaluation/
    simple_model_comparison_test.py: the model is compared with a simple baseline and the
    condition fails when the gain is small). A k-nearest-neighbours model on unscaled features:
    the distance is dominated by the widest-ranging columns, which carry little of the signal,
    so it does barely better than a constant and far worse than a linear model."""
    data = load(spec)
    tr, te = split_data(data, spec)
    cls = data.task != "regression"
    est = (KNeighborsClassifier if cls else KNeighborsRegressor)(n_neighbors=25)
    model = fit(
        Pipeline([("prep", _ct(data.numeric, data.categorical, False, True)), ("model", est)]),
        tr[data.features],
        tr[data.target],
        data.task,
    )
    meas = headline(model, data, tr, te)
    base = train_model(data, "logreg" if cls else "ridge", tr, spec.seed)
    meas.update({f"linear_{k}": v for k, v in headline(base, data, tr, te).items() if "test" in k})
    k = _key(data.task)
    gap = meas[f"linear_{k}"] - meas[k]
    meas["linear_minus_model"] = rnd(gap)
    if gap < 0.06:
        raise ValueError(f"kNN not weak enough: {meas[k]} vs linear {meas['linear_' + k]}")
    return Scenario(
        spec.name,
        "simple_model_comparison",
        data,
        "knn",
        tr,
        te,
        "k-nearest neighbours on unscaled features: barely above a constant, far below a linear model",
        [{"code": "model.underfit"}],
        [
            "errors.underperforming_slice",
            "errors.high_confidence_errors",
            "evaluation.miscalibration",
            "errors.confused_classes",
        ],
        meas,
        "Deepchecks SimpleModelComparison (an underfit classifier confuses the classes it cannot tell apart).",
        model=model,
    )


# --------------------------------------------------------------------------- batch-dependent predictions


@kind("batch_dependent", ["pipeline.preprocessing_leakage"])
def batch_dependent(spec: Spec) -> Scenario:
    """Giskard scan `DataLeakageDetector` (giskard/scanner/data_leakage/data_leakage_detector.py,
    tests/scan/test_data_leakage_detector.py: predict each row alone and inside the whole
    dataset; a difference means the prediction of a row depends on the other rows). The
    numeric columns pass through `FunctionTransformer(sklearn.preprocessing.scale)`, which
    standardises every batch with that batch's own mean and sd instead of training's."""
    data = load(spec)
    tr, te = split_data(data, spec)
    cls = data.task != "regression"
    parts: list = [("num", FunctionTransformer(scale), data.numeric)]
    if data.categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), data.categorical))
    est = LogisticRegression(max_iter=2000) if cls else Ridge()
    model = fit(
        Pipeline([("prep", ColumnTransformer(parts)), ("model", est)]),
        tr[data.features],
        tr[data.target],
        data.task,
    )
    meas = headline(model, data, tr, te)
    full = scores(model, te[data.features], data.task)
    one = np.concatenate(
        [scores(model, te[data.features].iloc[i : i + 5], data.task) for i in range(0, 50, 5)]
    )
    meas["max_abs_change_batch_of_5_vs_whole"] = rnd(float(np.max(np.abs(one - full[:50]))))
    return Scenario(
        spec.name,
        "batch_dependent",
        data,
        "logreg" if cls else "ridge",
        tr,
        te,
        "numeric columns standardised with each batch's own mean and sd (FunctionTransformer(scale))",
        [{"code": "pipeline.preprocessing_leakage", "columns": [data.numeric[0]]}],
        ["pipeline.train_serving_skew", "pipeline.serialization_mismatch"],
        meas,
        "Giskard DataLeakageDetector (a row's prediction depends on the other rows of the batch).",
        model=model,
    )


# --------------------------------------------------------------------------- multivariate drift


@kind("multivariate_drift", ["production.data_drift"])
def multivariate_drift(spec: Spec) -> Scenario:
    """NannyML `DataReconstructionDriftCalculator` (docs: "multivariate drift detection" on a
    synthetic data set where the correlation between features changes while every marginal
    distribution stays the same, so univariate tests see nothing). The production batch's
    two most correlated numeric columns were joined on the wrong key: each keeps its
    distribution, their relation is gone. Labels have not arrived."""
    data = load(spec)
    g = rng(spec)
    tr, rest = split_data(data, spec, test_size=0.5)
    te, cur = (
        rest.iloc[: len(rest) // 2].reset_index(drop=True),
        rest.iloc[len(rest) // 2 :].reset_index(drop=True),
    )
    corr = tr[data.numeric].corr().abs().where(~np.eye(len(data.numeric), dtype=bool)).stack()
    a, b = corr.idxmax()
    cur = cur.copy()
    cur[b] = cur[b].to_numpy()[g.permutation(len(cur))]
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        {f"current_real_{k[5:]}": v for k, v in headline(model, data, tr, cur).items() if "test" in k}
    )
    meas.update(
        columns=[a, b],
        train_corr=rnd(tr[a].corr(tr[b])),
        current_corr=rnd(cur[a].corr(cur[b])),
        psi=[rnd(psi(tr[a], cur[a])), rnd(psi(tr[b], cur[b]))],
    )
    return Scenario(
        spec.name,
        "multivariate_drift",
        data,
        spec.family,
        tr,
        te,
        f"production batch: {a} and {b} keep their distributions but their correlation went from "
        f"{meas['train_corr']} to {meas['current_corr']}",
        [{"code": "production.data_drift", "columns": [a, b]}],
        [
            "production.estimated_performance_drop",
            "production.prediction_drift",
            "production.out_of_distribution",
            "production.concept_drift",
        ],
        meas,
        "NannyML multivariate (data reconstruction) drift.",
        model=model,
        current=cur.drop(columns=[data.target]),
    )


# --------------------------------------------------------------------------- CBPE: estimated drop


@kind("cbpe_shift", ["production.estimated_performance_drop"])
def cbpe_shift(spec: Spec) -> Scenario:
    """NannyML `CBPE` (tests/performance_estimation/CBPE/test_cbpe.py and the docs' synthetic
    car-loan data: a covariate shift moves the analysis period into the region where the
    model is unsure; realized accuracy drops and CBPE estimates the drop from the calibrated
    scores, labels arriving later). The production batch is the quarter of rows (by one
    feature's value) where the model is least sure: a covariate shift, labels withheld."""
    data = load(spec)
    tr, rest = split_data(data, spec, test_size=0.5)
    te, cur = (
        rest.iloc[: len(rest) // 2].reset_index(drop=True),
        rest.iloc[len(rest) // 2 :].reset_index(drop=True),
    )
    model = train_model(data, spec.family, tr, spec.seed)
    # the covariate region (one numeric feature's quartile) where the model is least sure
    conf = np.abs(scores(model, cur[data.features], data.task) - 0.5)
    best = (1.0, data.numeric[0], 0)
    for c in data.numeric:
        q = pd.qcut(cur[c].rank(method="first"), 4, labels=False)
        by = pd.Series(conf).groupby(q.to_numpy()).mean()
        if by.min() < best[0]:
            best = (float(by.min()), c, int(by.idxmin()))
    _, col, qi = best
    q = pd.qcut(cur[col].rank(method="first"), 4, labels=False).to_numpy()
    cur2 = cur[q == qi].reset_index(drop=True)
    meas = headline(model, data, tr, te)
    meas.update(
        {f"current_real_{k[5:]}": v for k, v in headline(model, data, tr, cur2).items() if "test" in k}
    )
    meas["drop_accuracy"] = rnd(meas["test_accuracy"] - meas["current_real_accuracy"])
    if meas["drop_accuracy"] < 0.08:
        raise ValueError("no real drop")
    return Scenario(
        spec.name,
        "cbpe_shift",
        data,
        spec.family,
        tr,
        te,
        f"unlabelled batch from one quarter of {col} (covariate shift): real accuracy "
        f"{meas['current_real_accuracy']} vs {meas['test_accuracy']}",
        [{"code": "production.estimated_performance_drop"}],
        ["production.data_drift", "production.prediction_drift", "evaluation.miscalibration"],
        meas,
        "NannyML CBPE (estimated performance with delayed labels).",
        model=model,
        current=cur2.drop(columns=[data.target]),
        meta={"metric": "accuracy", "threshold": 0.5},
    )


_ = pd


# --------------------------------------------------------------------------- DLE: regression estimate


@kind("dle_shift", ["production.estimated_performance_drop"])
def dle_shift(spec: Spec) -> Scenario:
    """NannyML `DLE` (tests/performance_estimation/DLE/test_dle.py and the docs' synthetic car
    price data: a regression model, labels arriving late; the analysis period moves to where the
    model's absolute errors are larger, and DLE estimates the rise of MAE from the features and
    predictions). The unlabelled batch is the quarter of rows (by one feature's value) where the
    model's held-out absolute error is largest (top or bottom quarter)."""
    data = load(spec)
    tr, rest = split_data(data, spec, test_size=0.5)
    te, cur = (
        rest.iloc[: len(rest) // 2].reset_index(drop=True),
        rest.iloc[len(rest) // 2 :].reset_index(drop=True),
    )
    model = train_model(data, spec.family, tr, spec.seed)
    err = np.abs(scores(model, te[data.features], "regression") - te[data.target].to_numpy(float))
    best = (-1.0, data.numeric[0], "top")
    for c in data.numeric:
        if te[c].nunique() < 4:
            continue
        for side, m in (("top", te[c] >= te[c].quantile(0.75)), ("bottom", te[c] <= te[c].quantile(0.25))):
            if m.sum() >= 20 and err[m.to_numpy()].mean() > best[0]:
                best = (float(err[m.to_numpy()].mean()), c, side)
    _, col, side = best
    cut = te[col].quantile(0.75 if side == "top" else 0.25)
    cur2 = cur[(cur[col] >= cut) if side == "top" else (cur[col] <= cut)].reset_index(drop=True)
    meas = headline(model, data, tr, te)
    meas.update(
        {f"current_real_{k[5:]}": v for k, v in headline(model, data, tr, cur2).items() if "test" in k}
    )
    meas["mae_rise_share"] = rnd(meas["current_real_mae"] / meas["test_mae"] - 1)
    if meas["mae_rise_share"] < 0.2:
        raise ValueError(f"no real rise of MAE: {meas['mae_rise_share']}")
    return Scenario(
        spec.name,
        "dle_shift",
        data,
        spec.family,
        tr,
        te,
        f"unlabelled batch from the {side} quarter of {col}, where the model's errors are larger: real MAE "
        f"{meas['current_real_mae']:.4g} vs {meas['test_mae']:.4g}",
        [{"code": "production.estimated_performance_drop"}],
        [
            "production.data_drift",
            "production.prediction_drift",
            "production.out_of_distribution",
            "data.target_suspect",
        ],
        meas,
        "NannyML DLE (estimated regression performance with delayed labels). Fair's affair time is "
        "the textbook Tobit case: its pile at 0 is honestly reported as censoring-like (target_suspect).",
        model=model,
        current=cur2.drop(columns=[data.target]),
        meta={"metric": "mae"},
    )


# --------------------------------------------------------------------------- underconfidence


@kind("underconfidence", ["evaluation.miscalibration"])
def underconfidence(spec: Spec) -> Scenario:
    """Giskard scan `UnderconfidenceDetector` (giskard/scanner/calibration/underconfidence_detector.py,
    tests/scan/test_underconfidence_detector.py: rows where the predicted class's probability is
    barely above the next one although the model is usually right there). A random forest of
    shallow, heavily smoothed trees (one feature per split, leaves of 40 rows) averages its votes
    toward the base rate: right far more often than its probabilities say."""
    from sklearn.ensemble import RandomForestClassifier

    data = load(spec)
    tr, te = split_data(data, spec)
    est = RandomForestClassifier(
        n_estimators=200, max_features=1, min_samples_leaf=40, max_depth=3, random_state=spec.seed, n_jobs=1
    )
    model = fit(
        Pipeline([("prep", _ct(data.numeric, data.categorical, False, True)), ("model", est)]),
        tr[data.features],
        tr[data.target],
        data.task,
    )
    meas = headline(model, data, tr, te)
    p = scores(model, te[data.features], "binary")
    y = te[data.target].to_numpy()
    conf = np.maximum(p, 1 - p)
    right = (p >= 0.5).astype(int) == y
    meas.update(mean_confidence=rnd(conf.mean()), accuracy=rnd(right.mean()))
    edges = np.linspace(0, 1, 11)
    idx = np.clip(np.digitize(p, edges) - 1, 0, 9)
    ece = sum(
        (idx == b).mean() * abs(p[idx == b].mean() - y[idx == b].mean())
        for b in range(10)
        if (idx == b).any()
    )
    meas["ece"] = rnd(ece)
    if right.mean() - conf.mean() < 0.05:
        raise ValueError(f"not underconfident: accuracy {right.mean():.3f} vs confidence {conf.mean():.3f}")
    return Scenario(
        spec.name,
        "underconfidence",
        data,
        "rf_smooth",
        tr,
        te,
        f"underconfident forest: mean confidence {conf.mean():.2f}, accuracy {right.mean():.2f} (ECE {ece:.3f})",
        [{"code": "evaluation.miscalibration"}],
        ["model.underfit", "evaluation.untuned_threshold", "model.instability"],
        meas,
        "Giskard UnderconfidenceDetector. One feature per split and depth-3 trees on ~230 rows also make "
        "the forest's score vary across seeds (model.instability is honest).",
        model=model,
    )
