"""Leakage cases rebuilt from outside sources, planted into the suite's data sets.

Sources (each generator cites the one it rebuilds):
- [KN] S. Kapoor and A. Narayanan, "Leakage and the reproducibility crisis in machine-learning-based
  science", Patterns 4(9), 2023. Taxonomy: L1 no clean train/test separation (L1.1 no test set,
  L1.2 pre-processing on train+test: imputation, scaling, over/under-sampling, L1.3 feature
  selection on train+test, L1.4 duplicates across the split); L2 illegitimate features (proxies of
  the outcome); L3 test set not drawn from the distribution of interest (L3.1 temporal leakage,
  L3.2 non-independence between train and test, L3.3 sampling bias).
- [SK] scikit-learn user guide, "Common pitfalls and recommended practices": inconsistent
  preprocessing (train scaled, test not), data leakage during pre-processing (SelectKBest or a
  scaler fitted on all rows before the split).

Each case is written as a new user would hand it to mltriage: the files the notebook produced,
the model it saved, and only the options such a user knows to give (no --group-column or
--time-column unless the source's setting has the user know the structure).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from planting import Spec, headline, kind, load, rng, split_data, train_model
from scenario import Scenario, _ct, rnd
from sklearn.feature_selection import SelectKBest, f_classif, f_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline


def _key(task: str) -> str:
    return {"binary": "test_auc", "regression": "test_r2"}.get(task, "test_accuracy")


# --------------------------------------------------------------------------- L1.3 / [SK]


@kind("leak_select_all", ["pipeline.preprocessing_leakage"])
def leak_select_all(spec: Spec) -> Scenario:
    """[SK] "Data leakage during pre-processing" and [KN] L1.3: a univariate feature selector
    (SelectKBest) fitted on all rows before the split, among many uninformative candidate columns
    (the guide's example selects 25 of 10,000 noise features). The saved Pipeline holds the
    train-fitted preprocessing, the all-rows selector and the model fitted on the training rows."""
    data = load(spec)
    g = rng(spec)
    n_aux = 24
    for i in range(n_aux):  # extra candidate columns of a wide table, unrelated to the target
        data.frame[f"aux_{i:02d}"] = g.normal(0, 1, len(data.frame)).round(3)
    data.numeric += [f"aux_{i:02d}" for i in range(n_aux)]
    tr, te = split_data(data, spec)
    prep = _ct(data.numeric, data.categorical, True, True)
    score_fn = f_regression if data.task == "regression" else f_classif
    sel = SelectKBest(score_fn, k=8)
    est = Ridge() if data.task == "regression" else LogisticRegression(max_iter=2000)
    allx = pd.concat([tr, te])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prep.fit(tr[data.features])
        sel.fit(prep.transform(allx[data.features]), allx[data.target])
        est.fit(sel.transform(prep.transform(tr[data.features])), tr[data.target])
        model = Pipeline([("prep", prep), ("select", sel), ("model", est)])
        right = Pipeline(
            [
                ("prep", _ct(data.numeric, data.categorical, True, True)),
                ("select", SelectKBest(score_fn, k=8)),
                ("model", Ridge() if data.task == "regression" else LogisticRegression(max_iter=2000)),
            ]
        ).fit(tr[data.features], tr[data.target])
    meas = headline(model, data, tr, te)
    meas.update({f"selector_on_train_{k}": v for k, v in headline(right, data, tr, te).items()})
    meas["selected_on_all_rows"] = int(sel.get_support().sum())
    return Scenario(
        spec.name,
        "leak_select_all",
        data,
        "logreg" if data.task != "regression" else "ridge",
        tr,
        te,
        "SelectKBest (k=8) fitted on train + test among 24 uninformative extra columns, saved in the Pipeline",
        [{"code": "pipeline.preprocessing_leakage"}],
        [],
        meas,
        "Rebuilt from scikit-learn's Common pitfalls (data leakage during pre-processing) and "
        "Kapoor & Narayanan L1.3.",
        model=model,
    )


# --------------------------------------------------------------------------- L1.2 imputation


@kind("leak_impute_all", ["pipeline.preprocessing_leakage"])
def leak_impute_all(spec: Spec) -> Scenario:
    """[KN] L1.2 (imputation on train + test), [SK] (a transformer fitted on all data): mean
    imputation fitted on every row before the split. Variant '' saves the imputer inside the
    Pipeline (a tree model, no scaler: the imputer is the only fitted statistic); variant
    'baked': the notebook imputed the table (`X = SimpleImputer().fit_transform(X)`) and then
    split, so the files hold the all-rows mean in every imputed cell and the model has no imputer."""
    data = load(spec)
    g = rng(spec)
    cols = data.numeric[-2:]
    for c in cols:  # values missing more often at high values (a sensor that saturates)
        hi = data.frame[c] > data.frame[c].median()
        m = g.random(len(data.frame)) < np.where(hi, 0.25, 0.08)
        data.frame.loc[m, c] = np.nan
    tr, te = split_data(data, spec)
    meas: dict = {}
    if spec.variant == "baked":
        means = pd.concat([tr, te])[cols].mean()
        meas["train_only_means"] = {c: rnd(tr[c].mean(), 6) for c in cols}
        meas["all_rows_means"] = {c: rnd(means[c], 6) for c in cols}
        meas["imputed_share"] = {c: rnd(pd.concat([tr, te])[c].isna().mean()) for c in cols}
        tr, te = tr.copy(), te.copy()
        for c in cols:
            tr[c] = tr[c].fillna(means[c])
            te[c] = te[c].fillna(means[c])
        model = train_model(data, spec.family, tr, spec.seed)
        planted = f"{', '.join(cols)} imputed with their mean over train + test before the split (the files hold it)"
    else:
        from sklearn.impute import SimpleImputer

        prep = _ct(data.numeric, data.categorical, False, False)
        prep.set_params(num__impute=SimpleImputer(strategy="mean"))
        allx = pd.concat([tr, te])
        model = train_model(data, spec.family, tr, spec.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prep.fit(allx[data.features])
            est = model.named_steps["model"]
            est.fit(prep.transform(tr[data.features]), tr[data.target])
        model = Pipeline([("prep", prep), ("model", est)])
        imp = prep.named_transformers_["num"].named_steps["impute"]
        meas["imputer_statistics"] = {
            c: rnd(v, 6) for c, v in zip(data.numeric, imp.statistics_) if c in cols
        }
        meas["train_only_means"] = {c: rnd(tr[c].mean(), 6) for c in cols}
        planted = (
            "mean imputer fitted on train + test (missing values in "
            + ", ".join(cols)
            + ") inside the Pipeline"
        )
    meas.update(headline(model, data, tr, te))
    return Scenario(
        spec.name,
        "leak_impute_all" + ("_baked" if spec.variant else ""),
        data,
        spec.family,
        tr,
        te,
        planted,
        [{"code": "pipeline.preprocessing_leakage", "columns": cols}],
        ["data.missing_values"],
        meas,
        "Rebuilt from Kapoor & Narayanan L1.2 (imputation before the split).",
        model=model,
    )


# --------------------------------------------------------------------------- L1.2 oversampling


def _smote(X: np.ndarray, need: int, g: np.random.Generator, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """SMOTE (Chawla et al. 2002): each synthetic row lies on the segment between a minority row
    and one of its k nearest minority neighbours. Returns the rows and the base row indices."""
    k = min(k, len(X) - 1)
    mu, sd = X.mean(0), X.std(0) + 1e-12
    nn = NearestNeighbors(n_neighbors=k + 1).fit((X - mu) / sd)
    _, idx = nn.kneighbors((X - mu) / sd)
    base = g.integers(0, len(X), need)
    nb = idx[base, g.integers(1, k + 1, need)]
    u = g.random((need, 1))
    return X[base] + u * (X[nb] - X[base]), base


@kind("leak_smote", ["data.train_test_overlap"])
def leak_smote(spec: Spec) -> Scenario:
    """[KN] L1.2 (over-sampling before the split): the minority classes are brought up to the
    majority with SMOTE (imbalanced-learn's default k=5) on the whole table, then the rows are
    split. Synthetic test rows are interpolations of training rows: near copies, not exact ones."""
    data = load(spec)
    df = data.frame
    num = data.numeric
    y = df[data.target]
    counts = y.value_counts()
    g = rng(spec)
    parts = [df]
    n_syn = 0
    for cls, cnt in counts.items():
        need = int(counts.max() - cnt)
        if need <= 0:
            continue
        rows = df[y == cls]
        syn, base = _smote(rows[num].to_numpy(float), need, g)
        new = rows.iloc[base].copy()  # categorical values from the base row (SMOTE-NC takes the mode)
        new[num] = syn
        parts.append(new)
        n_syn += need
    data.frame = pd.concat(parts).sample(frac=1, random_state=spec.seed).reset_index(drop=True)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    # the honest score: the same model family on a split of the original rows only
    data0 = load(spec)
    tr0, te0 = split_data(data0, spec)
    m0 = train_model(data0, spec.family, tr0, spec.seed)
    meas.update({f"split_before_smote_{k}": v for k, v in headline(m0, data0, tr0, te0).items()})
    meas.update(rows_before=len(df), synthetic_rows=n_syn, class_counts_before=counts.to_dict())
    if meas[_key(data.task)] < meas[f"split_before_smote_{_key(data.task)}"] + 0.03:
        raise ValueError("SMOTE before the split did not inflate the held-out score")
    return Scenario(
        spec.name,
        "leak_smote",
        data,
        spec.family,
        tr,
        te,
        f"SMOTE on the whole table before the split: {n_syn} synthetic minority rows on both sides",
        [{"code": "data.train_test_overlap"}],
        ["data.duplicates", "model.overfit", "data.class_imbalance"],
        meas,
        "Rebuilt from Kapoor & Narayanan L1.2 (over-sampling before the split). "
        "measured.split_before_smote_* is the honest score.",
        model=model,
    )


# --------------------------------------------------------------------------- L3.2


@kind("leak_nonindependence", ["data.train_test_overlap"])
def leak_nonindependence(spec: Spec) -> Scenario:
    """[KN] L3.2 (non-independence between train and test: several records of one patient on both
    sides): panel data split by row. The entity id is a column of the files (not a model feature,
    under a name that says nothing of its role) and no --group-column is given."""
    data = load(spec)
    ent = data.entity
    assert ent is not None
    new = {"males": "respondent", "cigar": "unit", "wages": "pid"}.get(spec.dataset, "record_src")
    data.frame = data.frame.rename(columns={ent: new})
    data.entity = new
    tr, te = split_data(data, spec, grouped=False)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    trg, teg = split_data(data, spec, grouped=True)
    mg = train_model(data, spec.family, trg, spec.seed)
    meas.update({f"grouped_split_{k}": v for k, v in headline(mg, data, trg, teg).items()})
    meas["share_test_rows_entity_in_train"] = rnd(te[new].isin(set(tr[new])).mean())
    return Scenario(
        spec.name,
        "leak_nonindependence",
        data,
        spec.family,
        tr,
        te,
        f"several rows per {new} (an id column, not a feature) split at random: the same unit on both sides",
        [{"code": "data.train_test_overlap", "columns": [new]}],
        ["model.overfit"],
        meas,
        "Rebuilt from Kapoor & Narayanan L3.2. measured.grouped_split_* is the honest score.",
        model=model,
    )


# --------------------------------------------------------------------------- L3.1


@kind("leak_temporal", ["evaluation.temporal_split"])
def leak_temporal(spec: Spec) -> Scenario:
    """[KN] L3.1 (temporal leakage: the model is trained on rows later than the ones it is tested
    on): time-ordered rows split at random, with the date turned into a running day number among
    the features (a common way to "use time"). Weather persists for days, so training rows of the
    day before and after a test row give it away. The time stamp column stays in the files;
    variant '' gives it as --time-column, variant 'unflagged' does not (the user did not know)."""
    data = load(spec)
    tcol = data.time
    assert tcol is not None
    df = data.frame.sort_values(tcol).reset_index(drop=True)
    df["day_number"] = ((df[tcol] - df[tcol].min()).dt.total_seconds() / 86400).round(3)
    data.frame = df
    data.numeric.append("day_number")
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    cut = int(len(df) * 0.7)
    ftr, fte = df.iloc[:cut], df.iloc[cut:]
    fmodel = train_model(data, spec.family, ftr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update({f"forward_split_{k}": v for k, v in headline(fmodel, data, ftr, fte).items()})
    key = _key(data.task)
    gap = meas[key] - meas[f"forward_split_{key}"]
    meas["random_minus_forward"] = rnd(gap)
    if gap < 0.03:
        raise ValueError(f"random split not optimistic against a forward split ({gap:.3f})")
    meta = {} if spec.variant == "unflagged" else {"time_column": tcol}
    return Scenario(
        spec.name,
        "leak_temporal" + ("_unflagged" if spec.variant else ""),
        data,
        spec.family,
        tr,
        te,
        f"time-ordered rows ({tcol}) split at random with a running day number as a feature",
        [{"code": "evaluation.temporal_split", "columns": [tcol]}],
        ["data.label_leakage", "model.overfit", "production.data_drift"],
        meas,
        "Rebuilt from Kapoor & Narayanan L3.1. measured.forward_split_* trains on the past only.",
        model=model,
        meta=meta,
    )


# --------------------------------------------------------------------------- L2

# dataset -> (column, story)
_PROXY = {
    "cars": ("fuel_cost_yr_usd", "yearly fuel cost a consumer guide derived from the tested economy"),
    "fishing": ("permit_kind", "the permit the angler bought at the site (recorded with the trip)"),
    "wages": ("payroll_tax", "payroll tax withheld, from the same pay records as the earnings"),
}


@kind("leak_proxy", ["data.label_leakage"])
def leak_proxy(spec: Spec) -> Scenario:
    """[KN] L2 (illegitimate features: a proxy of the outcome): a column that is recorded because of
    the outcome, strong but not a copy of it (non-linear, noisy, or a category that most classes
    map to)."""
    data = load(spec)
    g = rng(spec)
    col, story = _PROXY[spec.dataset]
    y = data.frame[data.target]
    if data.task == "regression":
        base = 1 / y if spec.dataset == "cars" else np.exp(y)
        v = base * np.exp(g.normal(0, 0.12, len(y)))
        data.frame[col] = (v / np.median(v) * 1000).round(0)
        data.numeric.append(col)
    else:
        keys = sorted(y.unique())
        mapped = y.map({k: f"kind_{chr(65 + i)}" for i, k in enumerate(keys)})
        noise = g.random(len(y)) < 0.3
        mapped[noise] = g.choice([f"kind_{chr(65 + i)}" for i in range(len(keys))], int(noise.sum()))
        data.frame[col] = mapped.astype(str)
        data.categorical.append(col)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    others = [c for c in data.features if c != col]
    m_other = train_model(data, spec.family, tr, spec.seed, features=others)
    m_leak = train_model(data, spec.family, tr, spec.seed, features=[col])
    meas = headline(model, data, tr, te)
    meas.update({f"without_proxy_{k}": v for k, v in headline(m_other, data, tr, te, others).items()})
    meas.update({f"proxy_alone_{k}": v for k, v in headline(m_leak, data, tr, te, [col]).items()})
    key = _key(data.task)
    meas["proxy_alone_minus_all_others"] = rnd(meas[f"proxy_alone_{key}"] - meas[f"without_proxy_{key}"])
    if meas[key] - meas[f"without_proxy_{key}"] < 0.05:
        raise ValueError("proxy adds too little")
    return Scenario(
        spec.name,
        "leak_proxy",
        data,
        spec.family,
        tr,
        te,
        f"proxy of the outcome among the features: {col} ({story})",
        [{"code": "data.label_leakage", "columns": [col]}],
        ["model.overfit"],
        meas,
        "Rebuilt from Kapoor & Narayanan L2.",
        model=model,
    )


# --------------------------------------------------------------------------- L1.1


@kind("leak_no_test", ["evaluation.evaluated_on_train"])
def leak_no_test(spec: Spec) -> Scenario:
    """[KN] L1.1 (no test set: the model is evaluated on the data it was trained on). Variant '':
    the evaluation file was written from the training frame through a CSV export that rounded the
    floats to 3 significant digits and reordered the rows, so no row is an exact copy. Variant
    'alldata': the evaluation file is the whole table (training rows and the held-out rows)."""
    data = load(spec)
    tr, hold = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    if spec.variant == "alldata":
        te = pd.concat([tr, hold]).sample(frac=1, random_state=spec.seed + 1).reset_index(drop=True)
        planted = "the evaluation file is the whole table: the training rows plus the held-out ones"
        expected = [{"code": "evaluation.evaluated_on_train"}]
        acceptable = ["data.train_test_overlap", "model.overfit"]
    else:
        te = tr.sample(frac=1, random_state=spec.seed + 1).reset_index(drop=True)
        for c in data.numeric:
            if pd.api.types.is_float_dtype(te[c]):
                te[c] = te[c].apply(lambda v: float(f"{v:.3g}") if pd.notna(v) else v)
        planted = "the evaluation file is the training frame re-exported (floats to 3 significant digits)"
        expected = [{"code": "evaluation.evaluated_on_train"}]
        acceptable = ["data.train_test_overlap", "model.overfit"]
    meas = headline(model, data, tr, te)
    meas.update(
        {f"fresh_{k}": v for k, v in headline(model, data, tr, hold).items() if k.startswith("test_")}
    )
    cols = data.features + [data.target]
    meas["exact_copies_share"] = rnd(
        te[cols].merge(tr[cols].drop_duplicates(), how="left", indicator=True)["_merge"].eq("both").mean()
    )
    return Scenario(
        spec.name,
        "leak_no_test" + (f"_{spec.variant}" if spec.variant else ""),
        data,
        spec.family,
        tr,
        te,
        planted,
        expected,
        acceptable,
        meas,
        "Rebuilt from Kapoor & Narayanan L1.1. measured.fresh_* is the score on rows never trained on.",
        model=model,
    )


# --------------------------------------------------------------------------- [SK] inconsistent


@kind("inconsistent_preprocessing", ["pipeline.train_serving_skew"])
def inconsistent_preprocessing(spec: Spec) -> Scenario:
    """[SK] "Inconsistent preprocessing": the training features were standardised (StandardScaler
    fitted on the training rows) and the model fitted on them, but the evaluation rows were
    written raw; the model is a bare estimator, not a Pipeline. The guide's example: the test
    score collapses."""
    data = load(spec)
    data.categorical = []  # a bare linear model on the numeric columns
    data.frame = data.frame[data.numeric + [data.target]]
    tr, te = split_data(data, spec)
    mu, sd = tr[data.numeric].mean(), tr[data.numeric].std(ddof=0)
    tr = tr.copy()
    tr[data.numeric] = ((tr[data.numeric] - mu) / sd).round(6)
    est = Ridge() if data.task == "regression" else LogisticRegression(max_iter=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(tr[data.numeric], tr[data.target])
    te_right = te.copy()
    te_right[data.numeric] = (te[data.numeric] - mu) / sd
    meas = headline(est, data, tr, te)
    y_right = est.predict(te_right[data.numeric])
    meas["test_score_if_scaled"] = rnd(
        r2_score(te[data.target], y_right)
        if data.task == "regression"
        else accuracy_score(te[data.target].astype(str), np.asarray(y_right).astype(str))
    )
    if data.task == "binary":
        meas["test_auc_if_scaled"] = rnd(
            roc_auc_score(te[data.target], est.decision_function(te_right[data.numeric]))
        )
    return Scenario(
        spec.name,
        "inconsistent_preprocessing",
        data,
        "logreg" if data.task != "regression" else "ridge",
        tr,
        te,
        "training columns standardised (scaler fitted on train), evaluation columns left raw; bare estimator",
        [{"code": "pipeline.train_serving_skew", "columns": list(data.numeric)}],
        [
            "model.overfit",
            "model.underfit",
            "model.prediction_collapse",
            "production.out_of_distribution",
            "production.data_drift",
            "evaluation.miscalibration",
            "errors.high_confidence_errors",
        ],
        meas,
        "Rebuilt from scikit-learn's Common pitfalls (inconsistent preprocessing).",
        model=est,
    )
