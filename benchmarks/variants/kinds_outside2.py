"""Failure kinds rebuilt from a second round of outside sources that no other part of the suite
uses (the data-set and model kinds; the production kinds are in kinds_outside2_prod.py). Each
generator cites its source, says which failure code it maps to and why, verifies its plant (it
raises instead of writing a scenario whose truth does not hold) and records the measurement.

Sources:
- M. A. Lones, "How to avoid machine learning pitfalls: a guide for academic researchers"
  (arXiv:2108.02497, v3 2023): "Do not do data augmentation before splitting your data" and
  "Do use an appropriate metric" (accuracy on an imbalanced test set).
- N. Humbatova, G. Jahangirova, G. Bavota, V. Riccio, A. Stocco, P. Tonella, "Taxonomy of Real
  Faults in Deep Learning Systems", ICSE 2020: Training > Preprocessing of training data >
  "Missing normalisation"; Training > Training data quality > "Unbalanced training data";
  Model > "Wrong type of task / loss function" (class codes fitted with a regression loss);
  Training > Hyperparameters > "missing regularisation".
- N. Sambasivan, S. Kapania, H. Highfill, D. Akrong, P. Paritosh, L. Aroyo, "Everyone wants to do
  the model work, not the data work: Data Cascades in High-Stakes AI", CHI 2021 (annotators of two
  sites applying different labelling rules).
- cleanlab Datalab issue types (cleanlab/datalab/internal/issue_manager/null.py: rows whose
  features are null together).
- Deepchecks `CalibrationScore` (deepchecks/tabular/checks/model_evaluation/calibration_score.py)
  and C. Guo, G. Pleiss, Y. Sun, K. Weinberger, "On Calibration of Modern Neural Networks",
  ICML 2017 (unregularised networks are over-confident).
- Deepchecks `PercentOfNulls` and Evidently `TestColumnShareOfMissingValues`: a column's share of
  nulls differs between the reference and the compared set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, headline, kind, load, rng, split_data, train_model
from scenario import Scenario, fit, measure, rnd, scores, split
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"plant does not hold: {what}")


def _prep(num: list[str], cat: list[str], scale: bool) -> ColumnTransformer:
    steps: list = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        steps.append(("scale", StandardScaler()))
    parts: list = [("num", Pipeline(steps), num)]
    if cat:
        enc = (
            OneHotEncoder(handle_unknown="ignore", sparse_output=False)
            if scale
            else OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        )
        parts.append(
            ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("enc", enc)]), cat)
        )
    return ColumnTransformer(parts)


def _ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    out = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            out += m.mean() * abs(y[m].mean() - p[m].mean())
    return float(out)


# --------------------------------------------------------------------------- augmentation


@kind("augment_before_split", ["data.train_test_overlap"])
def augment_before_split(spec: Spec) -> Scenario:
    """Lones 2021, section 3 "Do not do data augmentation before splitting your data" (augmented
    copies of one original land on both sides of the split, so the test set scores memory). Each
    row of the table gets two augmented copies (Gaussian jitter of 2% of each numeric column's
    standard deviation, the usual tabular augmentation), then the augmented table is split at
    random. Code `data.train_test_overlap` ("rows shared between training and evaluation sets
    (partial contamination)"): most evaluation rows are a jittered copy of a training row; the
    finding's code is the contamination, not a duplicate inside training (data.duplicates is
    acceptable: the training set holds copies of its own rows too)."""
    data = load(spec)
    g = rng(spec)
    df = data.frame.reset_index(drop=True)
    df["_orig"] = np.arange(len(df))
    num = [c for c in data.numeric if df[c].nunique() > 10]
    copies = []
    for _ in range(2):
        c = df.copy()
        for col in num:
            c[col] = c[col] + g.normal(0, 0.02 * df[col].std(), len(c))
        copies.append(c)
    aug = pd.concat([df, *copies], ignore_index=True)
    tr, te = split(aug, data.target, 0.3, spec.seed)
    shared = te["_orig"].isin(set(tr["_orig"]))
    # the honest split: by original row
    origs = np.unique(df["_orig"])
    test_orig = set(g.choice(origs, int(0.3 * len(origs)), replace=False))
    tr_ok = aug[~aug["_orig"].isin(test_orig)].reset_index(drop=True)
    te_ok = aug[aug["_orig"].isin(test_orig)].reset_index(drop=True)
    tr, te = tr.drop(columns="_orig"), te.drop(columns="_orig")
    model = train_model(data, spec.family, tr, spec.seed)
    m_ok = train_model(data, spec.family, tr_ok, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update({f"grouped_split_{k}": v for k, v in headline(m_ok, data, tr_ok, te_ok).items()})
    key = "test_auc" if data.task == "binary" else "test_accuracy"
    meas.update(
        test_rows_with_a_training_twin=rnd(shared.mean()),
        jitter_sd_share=0.02,
        inflation=rnd(meas[key] - meas[f"grouped_split_{key}"]),
    )
    _check(meas["test_rows_with_a_training_twin"] > 0.8, "most test rows have a twin in training")
    _check(meas["inflation"] > 0.02, "the contaminated split inflates the headline")
    return Scenario(
        spec.name,
        "augment_before_split",
        data,
        spec.family,
        tr,
        te,
        f"two jittered copies of every row made before the split: {shared.mean():.0%} of evaluation "
        f"rows are a copy of a training row (headline +{meas['inflation']:.3f} over a split by original)",
        [{"code": "data.train_test_overlap"}],
        ["data.duplicates", "model.overfit", "evaluation.evaluated_on_train", "model.instability"],
        meas,
        "Lones 2021: data augmentation before the split.",
        model=model,
    )


# --------------------------------------------------------------------------- annotator rules


@kind("annotator_rules", ["data.label_noise"])
def annotator_rules(spec: Spec) -> Scenario:
    """Sambasivan et al. 2021 (data cascades: labels collected at two sites whose annotators
    follow different rules; the site is not recorded). Flights: the labelling rule is "late =
    arrival more than 15 minutes behind schedule"; one site's team (a random 40% of rows, not
    recorded in the data) labels "late" for any delay over 0 minutes. Rows delayed 1-15 minutes
    are late for one team and on time for the other: a class-conditional share of wrong labels the
    features cannot explain. Code `data.label_noise` ("a sizeable share of training labels is
    likely wrong"): the labels, not the model, are at fault."""
    data = load(spec, extra=("arr_delay_min",))
    g = rng(spec)
    df = data.frame
    team_b = g.random(len(df)) < 0.4
    d = df["arr_delay_min"].to_numpy()
    wrong = team_b & (d > 0) & (d <= 15)
    df[data.target] = np.where(team_b, (d > 0).astype(int), (d > 15).astype(int))
    df.drop(columns="arr_delay_min", inplace=True)
    df["_wrong"] = wrong
    tr, te = split_data(data, spec)
    w_tr, w_te = tr.pop("_wrong").to_numpy(), te.pop("_wrong").to_numpy()
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        wrong_label_share_train=rnd(w_tr.mean()),
        wrong_label_share_test=rnd(w_te.mean()),
        wrong_share_of_positives=rnd(w_tr.sum() / tr[data.target].sum()),
    )
    _check(meas["wrong_label_share_train"] > 0.05, "a sizeable share of wrong labels")
    return Scenario(
        spec.name,
        "annotator_rules",
        data,
        spec.family,
        tr,
        te,
        f"one team (40% of rows, not recorded) labels any delay over 0 min as late, the other over 15 min: "
        f"{w_tr.mean():.0%} of training labels wrong ({meas['wrong_share_of_positives']:.0%} of positives)",
        [{"code": "data.label_noise"}],
        [
            "model.underfit",
            "evaluation.miscalibration",
            "errors.high_confidence_errors",
            "errors.underperforming_slice",
            "data.class_imbalance",
        ],
        meas,
        "Sambasivan et al. 2021: inconsistent labelling rules between annotator sites.",
        model=model,
    )


# --------------------------------------------------------------------------- failed join (nulls)


@kind("null_rows_join", ["data.missing_values"])
def null_rows_join(spec: Spec) -> Scenario:
    """cleanlab Datalab `null` issue type (rows whose feature values are null together) and
    Deepchecks `PercentOfNulls` / Evidently `TestColumnShareOfMissingValues` (the share differs
    between sets). The weather table is joined to the flights by (airport, hour); the evaluation
    extract was built after the weather feed lost an outage's hours, so 30% of evaluation rows
    have every weather column null (training: 1%). The Pipeline imputes the medians: the model
    reads "median weather" where the weather is unknown. Code `data.missing_values` (NaN whose
    rate differs between sets), naming the weather columns."""
    data = load(spec)
    g = rng(spec)
    cols = ["temp_f", "wind_mph", "precip_in", "visibility_mi", "humidity_pct"]
    tr, te = split_data(data, spec)
    clean_te = te.copy()
    m_tr, m_te = g.random(len(tr)) < 0.01, g.random(len(te)) < 0.3
    tr.loc[m_tr, cols] = np.nan
    te.loc[m_te, cols] = np.nan
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        {f"weather_known_{k}": v for k, v in headline(model, data, tr, clean_te).items() if "test" in k}
    )
    meas.update(columns=cols, train_null_rows=rnd(m_tr.mean()), test_null_rows=rnd(m_te.mean()))
    _check(meas["test_null_rows"] > 0.25 and meas["train_null_rows"] < 0.02, "the null share differs")
    return Scenario(
        spec.name,
        "null_rows_join",
        data,
        spec.family,
        tr,
        te,
        f"the weather join failed for {m_te.mean():.0%} of evaluation rows (all of {', '.join(cols)} null; "
        f"training {m_tr.mean():.0%})",
        [{"code": "data.missing_values", "columns": cols}],
        [
            "production.data_drift",
            "errors.underperforming_slice",
            "pipeline.train_serving_skew",
            "evaluation.miscalibration",
            "errors.high_confidence_errors",
        ],
        meas,
        "cleanlab Datalab null issue; Deepchecks PercentOfNulls; Evidently TestColumnShareOfMissingValues.",
        model=model,
    )


# --------------------------------------------------------------------------- missing normalisation


@kind("missing_normalisation", ["model.underfit"])
def missing_normalisation(spec: Spec) -> Scenario:
    """Humbatova et al. 2020, Training > Preprocessing of training data > "Missing
    normalisation" (a gradient-trained model fed raw features whose scales differ by orders of
    magnitude). A linear SGD classifier (log loss) on the raw columns (miles in the thousands
    beside hours and shares), categoricals ordinal-coded, no scaler: it barely beats the dummy
    baseline while the same model on standardised inputs does far better. Code `model.underfit`
    ("the model barely beats a dummy baseline or a simple linear model")."""
    data = load(spec)
    tr, te = split_data(data, spec)
    X, Xt = tr[data.features], te[data.features]
    y, yt = tr[data.target], te[data.target]

    def sgd(scale: bool):
        est = SGDClassifier(loss="log_loss", random_state=spec.seed, max_iter=50, tol=None)
        return fit(
            Pipeline([("prep", _prep(data.numeric, data.categorical, scale)), ("model", est)]),
            X,
            y,
            data.task,
        )

    model, ok = sgd(False), sgd(True)
    meas = headline(model, data, tr, te)
    meas.update({f"scaled_{k}": v for k, v in measure(ok, Xt, yt, data.task, "test_").items()})
    dummy = fit(DummyClassifier(strategy="prior"), X, y, data.task)
    meas["dummy_test_accuracy"] = rnd(accuracy_score(yt, dummy.predict(Xt)))
    key = "test_auc" if data.task == "binary" else "test_accuracy"
    meas["gap_to_scaled"] = rnd(meas[f"scaled_{key}"] - meas[key])
    _check(meas["gap_to_scaled"] > 0.05, "scaling would lift the model")
    return Scenario(
        spec.name,
        "missing_normalisation",
        data,
        spec.family,
        tr,
        te,
        f"SGD (log loss) on unscaled features: {key} {meas[key]:.3f} vs {meas[f'scaled_{key}']:.3f} with a scaler",
        [{"code": "model.underfit"}],
        [
            "model.instability",
            "model.prediction_collapse",
            "evaluation.miscalibration",
            "model.unhandled_imbalance",
            "evaluation.untuned_threshold",
            "errors.underperforming_slice",
            "errors.high_confidence_errors",
        ],
        meas,
        "Humbatova et al. 2020: missing normalisation.",
        model=model,
    )


# --------------------------------------------------------------------------- class codes regressed


@kind("class_codes_regressed", ["model.wrong_output_type"])
def class_codes_regressed(spec: Spec) -> Scenario:
    """Humbatova et al. 2020, Model > "Wrong type of task" / Training > "Wrong loss function" (a
    classification problem trained with a regression loss). The classes were integer-coded
    (0..K-1, alphabetical) and the codes fitted with a regressor, so the model outputs
    continuous numbers (1.37) for a multiclass target. Code `model.wrong_output_type` ("classes
    for regression or continuous scores for class labels")."""
    data = load(spec)
    classes = sorted(data.frame[data.target].astype(str).unique())
    data.frame[data.target] = data.frame[data.target].astype(str).map({c: i for i, c in enumerate(classes)})
    tr, te = split_data(data, spec)
    est = (
        Ridge() if spec.family == "ridge" else RandomForestRegressor(120, min_samples_leaf=3, random_state=0)
    )
    model = fit(
        Pipeline([("prep", _prep(data.numeric, data.categorical, True)), ("model", est)]),
        tr[data.features],
        tr[data.target],
        "regression",
    )
    pred = np.asarray(model.predict(te[data.features]), dtype=float)
    frac = np.abs(pred - np.round(pred)) > 1e-6
    meas = {
        "classes": {i: c for i, c in enumerate(classes)},
        "non_integer_share": rnd(frac.mean()),
        "rounded_accuracy": rnd(np.mean(np.clip(np.round(pred), 0, len(classes) - 1) == te[data.target])),
    }
    _check(meas["non_integer_share"] > 0.9, "outputs are continuous")
    return Scenario(
        spec.name,
        "class_codes_regressed",
        data,
        spec.family,
        tr,
        te,
        f"{len(classes)} classes coded 0..{len(classes) - 1} and fitted with a {type(est).__name__}: "
        f"{frac.mean():.0%} of outputs are not a class",
        [{"code": "model.wrong_output_type"}],
        ["model.underfit", "errors.confused_classes", "model.prediction_collapse"],
        meas,
        "Humbatova et al. 2020: wrong type of task / loss (classification fitted as regression).",
        model=model,
    )


# --------------------------------------------------------------------------- unbalanced training


@kind("unbalanced_training", ["model.unhandled_imbalance"])
def unbalanced_training(spec: Spec) -> Scenario:
    """Humbatova et al. 2020, Training > Training data quality > "Unbalanced training data". The
    weather records' rarest kind of day (snow, 1.6% of days in Seattle) is never predicted by an
    unweighted logistic regression, although a class-weighted one recalls a sizeable share of it.
    Code `model.unhandled_imbalance` ("a rare class is almost never predicted because training
    used no weighting"), naming the class; no resampling or weighting is planted, the imbalance is
    the data's own and the fault is training without handling it."""
    data = load(spec)
    tr, te = split_data(data, spec)
    counts = tr[data.target].value_counts()
    rare = str(counts.index[-1])
    X, Xt, y, yt = tr[data.features], te[data.features], tr[data.target], te[data.target]

    def lr(cw):
        est = LogisticRegression(max_iter=3000, class_weight=cw)
        return fit(
            Pipeline([("prep", _prep(data.numeric, data.categorical, True)), ("model", est)]), X, y, data.task
        )

    model, weighted = lr(None), lr("balanced")
    is_rare = yt.astype(str) == rare
    rec = float((np.asarray(model.predict(Xt)).astype(str)[is_rare] == rare).mean())
    rec_w = float((np.asarray(weighted.predict(Xt)).astype(str)[is_rare] == rare).mean())
    meas = headline(model, data, tr, te)
    meas.update(
        rare_class=rare,
        rare_train_share=rnd(counts.iloc[-1] / counts.sum()),
        rare_test_rows=int(is_rare.sum()),
        rare_recall=rnd(rec),
        rare_recall_balanced=rnd(rec_w),
    )
    _check(rec < 0.1 and rec_w > 0.4, "the rare class is ignored unless weighted")
    return Scenario(
        spec.name,
        "unbalanced_training",
        data,
        spec.family,
        tr,
        te,
        f"class '{rare}' ({meas['rare_train_share']:.1%} of training) recalled {rec:.0%} by the unweighted model "
        f"({rec_w:.0%} class-weighted)",
        [{"code": "model.unhandled_imbalance", "classes": [rare]}],
        [
            "data.class_imbalance",
            "evaluation.wrong_metric",
            "errors.confused_classes",
            "evaluation.untuned_threshold",
            "errors.underperforming_slice",
        ],
        meas,
        "Humbatova et al. 2020: unbalanced training data.",
        model=model,
    )


# --------------------------------------------------------------------------- over-confident network


@kind("overconfident_network", ["evaluation.miscalibration"])
def overconfident_network(spec: Spec) -> Scenario:
    """Deepchecks `CalibrationScore` (Brier score and reliability curve per class) and Guo et
    al. 2017 (modern networks trained long without regularisation are over-confident). A wide
    two-layer MLP with no weight decay trained to convergence on standardised features: its
    probabilities are far from the observed frequencies (expected calibration error measured on
    the evaluation set, against a logistic regression's on the same split). Code
    `evaluation.miscalibration`; overfitting is its cause and is acceptable."""
    data = load(spec)
    tr, te = split_data(data, spec)
    X, Xt, y, yt = tr[data.features], te[data.features], tr[data.target], te[data.target]
    est = MLPClassifier(
        (256, 256), alpha=0.0, max_iter=600, tol=1e-6, n_iter_no_change=600, random_state=spec.seed
    )
    model = fit(
        Pipeline([("prep", _prep(data.numeric, data.categorical, True)), ("model", est)]), X, y, data.task
    )
    ref = fit(
        Pipeline(
            [
                ("prep", _prep(data.numeric, data.categorical, True)),
                ("model", LogisticRegression(max_iter=2000)),
            ]
        ),
        X,
        y,
        data.task,
    )
    p, pr = scores(model, Xt, data.task), scores(ref, Xt, data.task)
    meas = headline(model, data, tr, te)
    meas.update(
        ece=rnd(_ece(yt.to_numpy(), p)),
        ece_logreg=rnd(_ece(yt.to_numpy(), pr)),
        share_beyond_0_95=rnd(np.mean((p > 0.95) | (p < 0.05))),
        logreg_test_auc=rnd(roc_auc_score(yt, pr)),
    )
    _check(meas["ece"] > 0.1 and meas["ece"] > 3 * meas["ece_logreg"], "the network is miscalibrated")
    return Scenario(
        spec.name,
        "overconfident_network",
        data,
        spec.family,
        tr,
        te,
        f"an unregularised 256x256 MLP: ECE {meas['ece']:.3f} (logistic regression {meas['ece_logreg']:.3f}), "
        f"{meas['share_beyond_0_95']:.0%} of probabilities beyond 0.05/0.95",
        [{"code": "evaluation.miscalibration"}],
        ["model.overfit", "errors.high_confidence_errors", "model.underfit", "model.instability"],
        meas,
        "Deepchecks CalibrationScore; Guo et al. 2017.",
        model=model,
    )


# --------------------------------------------------------------------------- accuracy on imbalance


@kind("accuracy_on_imbalanced", ["evaluation.wrong_metric"])
def accuracy_on_imbalanced(spec: Spec) -> Scenario:
    """Lones 2021, section 4.3 "Do use an appropriate metric" / "accuracy is a poor metric for
    imbalanced data". Positives were sampled down to 4% (a rare-event task) and the owner reports
    accuracy (meta `metric`: accuracy): the trained model's 96% accuracy is what predicting
    "never" scores. Code `evaluation.wrong_metric` ("the chosen headline metric misleads for this
    task (accuracy on imbalanced data)")."""
    data = load(spec)
    g = rng(spec)
    df = data.frame
    y = df[data.target].to_numpy()
    keep = (y == 0) | (g.random(len(y)) < 0.04 / 0.96 * (y == 0).sum() / max((y == 1).sum(), 1))
    data.frame = df[keep].reset_index(drop=True)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        positive_share=rnd(te[data.target].mean()),
        majority_accuracy=rnd(1 - te[data.target].mean()),
    )
    _check(meas["positive_share"] < 0.06, "rare positives")
    _check(meas["test_accuracy"] - meas["majority_accuracy"] < 0.02, "accuracy is the majority rate")
    return Scenario(
        spec.name,
        "accuracy_on_imbalanced",
        data,
        spec.family,
        tr,
        te,
        f"accuracy reported on {meas['positive_share']:.1%} positives: {meas['test_accuracy']:.3f} "
        f"vs {meas['majority_accuracy']:.3f} for 'never'",
        [{"code": "evaluation.wrong_metric"}],
        [
            "data.class_imbalance",
            "model.unhandled_imbalance",
            "evaluation.untuned_threshold",
            "model.underfit",
            "model.prediction_collapse",
        ],
        meas,
        "Lones 2021: accuracy on imbalanced data.",
        model=model,
        meta={"metric": "accuracy"},
    )
