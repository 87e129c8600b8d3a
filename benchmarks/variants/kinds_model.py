"""Generators of model and evaluation failures: overfit, underfit, collapse, wrong output type,
unhandled imbalance, untuned thresholds and wrong metrics, miscalibration, divergence,
preprocessing leakage, version mismatch."""

from __future__ import annotations

import copy
import io
import warnings

import joblib
import numpy as np
import pandas as pd
import sklearn.base
from planting import Spec, headline, kind, load, rng, split_data, train_model
from scenario import Scenario, _ct, fit, rnd, scores
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor


def _pipe(data, est, scale: bool = True, onehot: bool = True) -> Pipeline:
    return Pipeline([("prep", _ct(data.numeric, data.categorical, scale, onehot)), ("model", est)])


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    tot = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            tot += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(tot)


@kind("overfit", ["model.overfit"])
def overfit(spec: Spec) -> Scenario:
    """An unpruned decision tree on about a thousand noisy rows."""
    data = load(spec)
    tr, te = split_data(data, spec)
    est = (DecisionTreeRegressor if data.task == "regression" else DecisionTreeClassifier)(
        random_state=spec.seed
    )
    model = fit(_pipe(data, est, False), tr[data.features], tr[data.target], data.task)
    meas = headline(model, data, tr, te)
    base = train_model(data, "logreg" if data.task != "regression" else "ridge", tr, spec.seed)
    meas.update(
        {f"linear_baseline_{k}": v for k, v in headline(base, data, tr, te).items() if k.startswith("test_")}
    )
    return Scenario(
        spec.name,
        "overfit",
        data,
        "tree",
        tr,
        te,
        "an unpruned decision tree on noisy rows",
        [{"code": "model.overfit"}],
        [
            "errors.high_confidence_errors",
            "evaluation.miscalibration",
            "model.instability",
            "model.underfit",
            "errors.underperforming_slice",
        ],
        meas,
        model=model,
    )


@kind("underfit", ["model.underfit"])
def underfit(spec: Spec) -> Scenario:
    """A plain linear model where the target depends on the features non-linearly (seasonal
    U-shapes, saturating prices); gradient boosting on the same features is measured beside it."""
    data = load(spec)
    tr, te = split_data(data, spec, grouped=data.entity is not None)
    model = fit(
        _pipe(data, LinearRegression() if data.task == "regression" else LogisticRegression(max_iter=2000)),
        tr[data.features],
        tr[data.target],
        data.task,
    )
    strong = train_model(data, "hgb", tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        {f"boosting_{k}": v for k, v in headline(strong, data, tr, te).items() if k.startswith("test_")}
    )
    key = (
        "test_r2" if data.task == "regression" else ("test_auc" if data.task == "binary" else "test_accuracy")
    )
    gap = meas[f"boosting_{key}"] - meas[key]
    meas["boosting_minus_linear"] = rnd(gap)
    if gap < 0.06:
        raise ValueError(f"linear model not underfit enough: {key} {meas[key]} vs {meas['boosting_' + key]}")
    return Scenario(
        spec.name,
        "underfit",
        data,
        "linear",
        tr,
        te,
        "a plain linear model on a target that depends on its features non-linearly",
        [{"code": "model.underfit"}],
        ["errors.underperforming_slice", "errors.high_confidence_errors"],
        meas,
        model=model,
    )


@kind("prediction_collapse", ["model.prediction_collapse"])
def prediction_collapse(spec: Spec) -> Scenario:
    """An over-regularised model predicts (nearly) one value for every row: a regularisation
    strength copied from another project (C=1e-6, alpha=1e7) or a min_samples_leaf above the
    row count."""
    data = load(spec)
    tr, te = split_data(data, spec)
    if data.task == "regression":
        est = Ridge(alpha=1e8)
    elif spec.family == "rf":
        from sklearn.ensemble import RandomForestClassifier

        est = RandomForestClassifier(n_estimators=50, min_samples_leaf=len(tr), random_state=0, n_jobs=1)
    else:
        est = LogisticRegression(C=1e-7, max_iter=2000)
    model = fit(_pipe(data, est), tr[data.features], tr[data.target], data.task)
    s = np.asarray(scores(model, te[data.features], data.task))
    pred = np.asarray(model.predict(te[data.features]))
    meas = headline(model, data, tr, te)
    meas.update(
        score_sd=float(np.std(s)),
        distinct_predictions=int(len(np.unique(pred.round(6)))),
        target_sd=rnd(te[data.target].std()) if data.task == "regression" else None,
        predicted_positive_rate=rnd((pred == 1).mean()) if data.task == "binary" else None,
    )
    return Scenario(
        spec.name,
        "prediction_collapse",
        data,
        spec.family,
        tr,
        te,
        f"over-regularised {type(est).__name__}: (nearly) every row gets the same prediction",
        [{"code": "model.prediction_collapse"}],
        [
            "evaluation.untuned_threshold",
            "evaluation.wrong_metric",
            "model.underfit",
            "model.unhandled_imbalance",
            "evaluation.miscalibration",
        ],
        meas,
        model=model,
        meta={"threshold": 0.5} if data.task == "binary" else {},
    )


@kind("wrong_output_type", ["model.wrong_output_type"])
def wrong_output_type(spec: Spec) -> Scenario:
    """A regressor fitted on the 0/1 target and shipped as the classifier (predict returns
    continuous scores; no predict_proba)."""
    data = load(spec)
    tr, te = split_data(data, spec)
    est = {
        "rf": RandomForestRegressor(n_estimators=80, min_samples_leaf=5, random_state=0, n_jobs=1),
        "linreg": LinearRegression(),
    }.get(spec.family, HistGradientBoostingRegressor(random_state=0))
    model = fit(
        _pipe(data, est, spec.family == "linreg"),
        tr[data.features],
        tr[data.target].astype(float),
        "regression",
    )
    out = np.asarray(model.predict(te[data.features]))
    meas = {
        "has_predict_proba": hasattr(model, "predict_proba"),
        "share_outputs_not_0_or_1": rnd(np.mean(~np.isin(out, [0, 1]))),
        "output_range": [rnd(out.min()), rnd(out.max())],
        "auc_of_outputs": rnd(roc_auc_score(te[data.target], out)),
    }
    return Scenario(
        spec.name,
        "wrong_output_type",
        data,
        spec.family,
        tr,
        te,
        f"a {type(est).__name__} fitted on the 0/1 target shipped as the classifier",
        [{"code": "model.wrong_output_type"}],
        ["evaluation.miscalibration"],
        meas,
        model=model,
        meta={"metric": "accuracy", "threshold": 0.5},
    )


def _rare(data, spec: Spec, share: float, g: np.random.Generator, cls=None) -> tuple:
    """Subsample the rows of one class so it makes `share` of the table."""
    df = data.frame
    y = df[data.target]
    if cls is None:
        cls = 1 if data.task == "binary" else y.value_counts().index[-1]
    pos = df[y == cls]
    neg = df[y != cls]
    k = int(share * len(neg) / (1 - share))
    df = pd.concat([neg, pos.sample(n=min(k, len(pos)), random_state=spec.seed)]).sample(
        frac=1, random_state=1
    )
    data.frame = df.reset_index(drop=True)
    return data, cls


@kind("unhandled_imbalance", ["model.unhandled_imbalance"])
def unhandled_imbalance(spec: Spec) -> Scenario:
    """One class kept at 1.5-2% (a rare event), a model without class weights or resampling, the
    default decision rule: the rare class is (almost) never predicted."""
    data = load(spec)
    g = rng(spec)
    data, cls = _rare(data, spec, 0.015 if data.task == "binary" else 0.02, g)
    tr, te = split_data(data, spec)
    model = fit(_pipe(data, LogisticRegression(max_iter=2000)), tr[data.features], tr[data.target], data.task)
    pred = np.asarray(model.predict(te[data.features])).astype(str)
    yt = te[data.target].astype(str).to_numpy()
    meas = headline(model, data, tr, te)
    meas.update(
        rare_class=str(cls),
        prevalence=rnd((yt == str(cls)).mean()),
        rare_in_test=int((yt == str(cls)).sum()),
        predicted_rare=int((pred == str(cls)).sum()),
        recall_rare=rnd(((pred == str(cls)) & (yt == str(cls))).sum() / max((yt == str(cls)).sum(), 1)),
    )
    if meas["recall_rare"] > 0.2:
        raise ValueError(f"rare class still predicted: recall {meas['recall_rare']}")
    return Scenario(
        spec.name,
        "unhandled_imbalance",
        data,
        "logreg",
        tr,
        te,
        f"class {cls!s} kept at {meas['prevalence']:.1%}; no class weights, default decision rule",
        [{"code": "model.unhandled_imbalance", "classes": [cls]}],
        [
            "data.class_imbalance",
            "evaluation.untuned_threshold",
            "evaluation.wrong_metric",
            "model.prediction_collapse",
        ],
        meas,
        model=model,
        meta={"threshold": 0.5, "metric": "roc_auc"} if data.task == "binary" else {"metric": "accuracy"},
    )


def _cost_numbers(y: np.ndarray, p: np.ndarray, thr: float, fp: float, fn: float) -> float:
    pred = p >= thr
    return float((fp * ((pred == 1) & (y == 0)).sum() + fn * ((pred == 0) & (y == 1)).sum()) / len(y))


@kind("imbalance_threshold", ["evaluation.untuned_threshold", "evaluation.wrong_metric"])
def imbalance_threshold(spec: Spec) -> Scenario:
    """5% prevalence, a 10:1 cost of misses, the default threshold 0.5 and accuracy as the
    headline metric. Variant 'predonly': only the probabilities are shipped (no model file),
    8% prevalence, 8:1 cost, AUC as the headline (only the threshold is wrong)."""
    data = load(spec)
    g = rng(spec)
    predonly = spec.variant == "predonly"
    data, _ = _rare(data, spec, 0.08 if predonly else 0.05, g)
    fp, fn = (1, 8) if predonly else (1, 10)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    p = np.asarray(scores(model, te[data.features], "binary"))
    y = te[data.target].to_numpy()
    grid = np.linspace(0.02, 0.6, 59)
    costs = [_cost_numbers(y, p, t, fp, fn) for t in grid]
    best = float(grid[int(np.argmin(costs))])
    meas = headline(model, data, tr, te)
    meas.update(
        prevalence=rnd(y.mean()),
        cost_per_row_at_0_5=rnd(_cost_numbers(y, p, 0.5, fp, fn)),
        best_threshold=rnd(best, 3),
        cost_per_row_at_best=rnd(min(costs)),
        accuracy_predict_all_negative=rnd(1 - y.mean()),
    )
    if meas["cost_per_row_at_best"] > 0.9 * meas["cost_per_row_at_0_5"]:
        raise ValueError("the threshold saves too little")
    meta = {"threshold": 0.5, "cost": {"fp": fp, "fn": fn}, "metric": "roc_auc" if predonly else "accuracy"}
    expected = [{"code": "evaluation.untuned_threshold"}]
    if not predonly:
        expected.append({"code": "evaluation.wrong_metric"})
    sc = Scenario(
        spec.name,
        "imbalance_threshold" + ("_predonly" if predonly else ""),
        data,
        spec.family,
        tr,
        te,
        f"{y.mean():.0%} prevalence, {fn}:{fp} cost of misses, decisions at 0.5"
        + ("; only the probabilities are shipped" if predonly else "; accuracy as the headline"),
        expected,
        ["data.class_imbalance", "model.unhandled_imbalance"],
        meas,
        model=model,
        meta=meta,
    )
    if predonly:
        from sklearn.model_selection import cross_val_predict

        base = copy.deepcopy(model)
        oof = cross_val_predict(base, tr[data.features], tr[data.target], cv=5, method="predict_proba")[:, 1]
        sc.train = tr.assign(risk_score=oof.round(6))
        sc.test = te.assign(risk_score=p.round(6))
        sc.model = None
        sc.meta["prediction_column"] = "risk_score"
        sc.notes = (
            "No model file: risk_score is P(positive) (train: 5-fold out-of-fold; test: the fitted model)."
        )
    return sc


@kind("miscalibration", ["evaluation.miscalibration"])
def miscalibration(spec: Spec) -> Scenario:
    """Variants: '' Gaussian naive Bayes on correlated features (probabilities far too extreme);
    'undersampled' a model trained on a 50/50 undersampled training set and applied at the real
    prevalence (probabilities far too high), a common imbalance 'fix'."""
    data = load(spec)
    tr, te = split_data(data, spec)
    if spec.variant == "undersampled":
        pos, neg = tr[tr[data.target] == 1], tr[tr[data.target] == 0]
        k = min(len(pos), len(neg))
        fit_rows = pd.concat([pos.sample(n=k, random_state=0), neg.sample(n=k, random_state=0)])
        model = train_model(data, spec.family, fit_rows, spec.seed)
        story = "trained on a 50/50 undersampled training set, used at the real prevalence"
    else:
        model = fit(_pipe(data, GaussianNB(), onehot=True), tr[data.features], tr[data.target], data.task)
        story = "Gaussian naive Bayes on correlated features"
    p = np.asarray(scores(model, te[data.features], "binary"))
    y = te[data.target].to_numpy()
    lr = train_model(data, "logreg", tr, spec.seed)
    p0 = np.asarray(scores(lr, te[data.features], "binary"))
    meas = headline(model, data, tr, te)
    meas.update(
        test_ece=rnd(ece(y, p)),
        test_ece_logistic_baseline=rnd(ece(y, p0)),
        mean_predicted=rnd(p.mean()),
        observed_rate=rnd(y.mean()),
        test_log_loss=rnd(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6))),
    )
    if meas["test_ece"] < 0.08:
        raise ValueError(f"not miscalibrated enough: ECE {meas['test_ece']}")
    return Scenario(
        spec.name,
        "miscalibration" + ("_" + spec.variant if spec.variant else ""),
        data,
        spec.family,
        tr,
        te,
        story,
        [{"code": "evaluation.miscalibration"}],
        ["errors.high_confidence_errors", "model.underfit", "evaluation.untuned_threshold"],
        meas,
        model=model,
    )


@kind("divergence", ["model.divergence"])
def divergence(spec: Spec) -> Scenario:
    """The training history of an MLP trained with SGD: the learning rate jumps at epoch 12 (a
    schedule with a typo) and the loss explodes; variant 'flat': the learning rate is so small
    that the loss never decreases. model.joblib is the checkpoint before the blow-up."""
    data = load(spec)
    tr, te = split_data(data, spec)
    prep = _ct(data.numeric, data.categorical, True, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xtr = prep.fit_transform(tr[data.features])
        Xva = prep.transform(te[data.features])
    ytr, yva = tr[data.target].to_numpy(), te[data.target].to_numpy()
    if data.task == "regression":
        raise ValueError("divergence is generated for classifiers")
    flat = spec.variant == "flat"
    lr0 = 1e-7 if flat else 0.01
    mlp = MLPClassifier(
        hidden_layer_sizes=(32,),
        solver="sgd",
        learning_rate_init=lr0,
        momentum=0.9,
        random_state=spec.seed,
        batch_size=64,
    )
    rows, best, best_val = [], None, np.inf
    classes = np.unique(ytr)
    blown = False
    for epoch in range(1, 31):
        if epoch == 12 and not flat:
            mlp._optimizer.learning_rate = 40.0
        if blown:  # what the training loop logged after the weights became non-finite
            rows.append({"epoch": epoch, "loss": float("nan"), "val_loss": float("nan")})
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                mlp.partial_fit(Xtr, ytr, classes=classes)
            except ValueError:  # scikit-learn refuses non-finite weights
                blown = True
                rows.append({"epoch": epoch, "loss": float("nan"), "val_loss": float("nan")})
                continue
            loss = float(mlp.loss_) if np.isfinite(mlp.loss_) else float("nan")
            pv = np.nan_to_num(mlp.predict_proba(Xva), nan=1 / len(classes))
            val = log_loss(yva, np.clip(pv, 1e-12, 1), labels=classes)
        rows.append({"epoch": epoch, "loss": loss, "val_loss": val})
        if np.isfinite(val) and val < best_val:
            best_val, best = val, copy.deepcopy(mlp)
    hist = pd.DataFrame(rows)
    est = best if best is not None else mlp
    model = Pipeline([("prep", prep), ("model", est)])
    meas = headline(model, data, tr, te)
    finite = hist["loss"].replace([np.inf], np.nan)
    meas.update(
        first_loss=rnd(hist["loss"].iloc[0]),
        min_loss=rnd(finite.min()),
        max_finite_loss=float(finite.max()),
        first_nonfinite_epoch=int(hist.loc[finite.isna(), "epoch"].min()) if finite.isna().any() else None,
    )
    if flat and meas["min_loss"] < 0.97 * meas["first_loss"]:
        raise ValueError("the loss decreased")
    if not flat and meas["max_finite_loss"] < 10 * meas["min_loss"] and meas["first_nonfinite_epoch"] is None:
        raise ValueError("the loss did not explode")
    story = (
        "learning rate 1e-7: the loss never decreases in 30 epochs"
        if flat
        else "learning rate jumped from 0.01 to 40 at epoch 12: the loss explodes (NaN once the weights overflow)"
    )
    return Scenario(
        spec.name,
        "divergence" + ("_flat" if flat else ""),
        data,
        "mlp",
        tr,
        te,
        story,
        [{"code": "model.divergence"}],
        [
            "model.instability",
            "model.underfit",
            "model.prediction_collapse",
            "evaluation.miscalibration",
            "model.unhandled_imbalance",
        ],
        meas,
        "history.csv is the real per-epoch record of the run.",
        model=model,
        history=hist,
    )


@kind("preprocessing_leakage", ["pipeline.preprocessing_leakage"])
def preprocessing_leakage(spec: Spec) -> Scenario:
    """The imputer, scaler and encoder were fitted on train + test before the split, then saved
    inside the Pipeline with the model fitted on the training rows."""
    data = load(spec)
    g = rng(spec)
    for c in data.numeric[:3]:  # some real-looking missing values for the imputer to learn
        m = g.random(len(data.frame)) < 0.05
        data.frame.loc[m, c] = np.nan
    tr, te = split_data(data, spec)
    prep = _ct(data.numeric, data.categorical, True, True)
    est = LogisticRegression(max_iter=2000) if data.task != "regression" else Ridge()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prep.fit(pd.concat([tr, te])[data.features])
        est.fit(prep.transform(tr[data.features]), tr[data.target])
    model = Pipeline([("prep", prep), ("model", est)])
    scaler = prep.named_transformers_["num"].named_steps["scale"]
    meas = headline(model, data, tr, te)
    meas.update(
        scaler_n_samples_seen=int(np.max(scaler.n_samples_seen_)), n_train_rows=len(tr), n_test_rows=len(te)
    )
    return Scenario(
        spec.name,
        "preprocessing_leakage",
        data,
        "logreg",
        tr,
        te,
        "imputer, scaler and one-hot encoder fitted on train + test, then saved inside the Pipeline",
        [{"code": "pipeline.preprocessing_leakage", "columns": list(data.numeric)}],
        [],
        meas,
        "The effect on the test metric is small; the artifact is what is wrong.",
        model=model,
    )


@kind("version_mismatch", ["pipeline.version_mismatch"])
def version_mismatch(spec: Spec) -> Scenario:
    """The model file records an older scikit-learn than the running one (saved last year and
    never re-saved). The pickle is made under the running version with the older version's
    label, so it loads and predicts (a real old pickle of a Pipeline may not load at all)."""
    data = load(spec)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    buf = io.BytesIO()
    old = sklearn.base.__version__
    sklearn.base.__version__ = "1.6.1"
    try:
        joblib.dump(model, buf)
    finally:
        sklearn.base.__version__ = old
    raw = buf.getvalue()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        joblib.load(io.BytesIO(raw))
    msgs = sorted({str(w.message).split(".")[0] for w in rec if "version" in str(w.message)})
    if not msgs:
        raise ValueError("no version warning on load")
    meas = headline(model, data, tr, te)
    meas.update(pickled_with_sklearn="1.6.1", running_sklearn=old, load_warnings=msgs[:3])
    return Scenario(
        spec.name,
        "version_mismatch",
        data,
        spec.family,
        tr,
        te,
        "model.joblib records scikit-learn 1.6.1 (the running one is newer)",
        [{"code": "pipeline.version_mismatch"}],
        [],
        meas,
        model=model,
        raw_model_bytes=raw,
    )
