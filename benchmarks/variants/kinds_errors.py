"""Generators of error-analysis failures: slices with a root cause, confident errors that
concentrate in one region, confused classes, inconsistent preprocessing of the evaluation set."""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, error_vector, headline, kind, load, rng, slice_rows, split_data, train_model
from scenario import Scenario, rnd, scores

ERR_ACC = ["errors.high_confidence_errors", "evaluation.miscalibration", "data.label_noise"]


def _q(df: pd.DataFrame, col: str, q: float) -> float:
    return float(np.round(df[col].quantile(q), 1))


# dataset -> a two-predicate region (the held-out data sets add theirs: holdout_plants.py)
SLICES: dict[str, list[dict]] = {}


def _slice_for(spec: Spec, df: pd.DataFrame) -> list[dict]:
    """A two-predicate region of 4-10% of rows, per data set (a real sub-population)."""
    if spec.dataset in SLICES:
        return SLICES[spec.dataset]
    if spec.dataset == "affairs":
        return [
            {"column": "n_kids", "op": "==", "value": 0.0},
            {"column": "years_wed", "op": ">", "value": 5.0},
        ]
    if spec.dataset == "flights":
        return [
            {"column": "from_airport", "op": "==", "value": "EWR"},
            {"column": "dep_hour", "op": ">=", "value": 19.0},
        ]
    if spec.dataset == "computers":
        return [
            {"column": "premium_brand", "op": "==", "value": "no"},
            {"column": "clock_mhz", "op": ">=", "value": 66.0},
        ]
    if spec.dataset == "penguins":
        return [
            {"column": "colony", "op": "==", "value": "Dream"},
            {"column": "culmen_len", "op": ">", "value": 46.0},
        ]
    if spec.dataset == "males":
        return [
            {"column": "region_name", "op": "==", "value": "south"},
            {"column": "school_yrs", "op": ">=", "value": 13.0},
        ]
    if spec.dataset == "cars":
        return [
            {"column": "made_in", "op": "==", "value": "USA"},
            {"column": "model_yr", "op": ">=", "value": 1979.0},
        ]
    if spec.dataset == "wages":
        return [
            {"column": "metro_area", "op": "==", "value": "yes"},
            {"column": "work_yrs", "op": ">", "value": 30.0},
        ]
    raise ValueError(spec.dataset)


def _relabel(data, df: pd.DataFrame, m: pd.Series, g: np.random.Generator) -> pd.DataFrame:
    """Inside the slice the label follows another rule."""
    out = df.copy()
    y = out[data.target]
    if data.task == "binary":
        rate = float(y[m].mean()) if m.any() else 0.5
        p = 0.85 if rate < 0.5 else 0.15
        out.loc[m, data.target] = (g.random(int(m.sum())) < p).astype(int)
    elif data.task == "regression":
        if y.min() > 0:  # a positive quantity: another price rule (x0.55)
            out.loc[m, data.target] = y[m] * 0.55
        else:  # a log or signed quantity: shifted down by 1.2 sd
            out.loc[m, data.target] = y[m] - 1.2 * y.std()
    else:
        classes = sorted(y.unique(), key=str)
        major = y[m].mode().iloc[0] if m.any() else classes[0]
        other = [c for c in classes if c != major][0]
        out.loc[m, data.target] = other
    return out


@kind("hidden_slice", ["errors.underperforming_slice"])
def hidden_slice(spec: Spec) -> Scenario:
    """A sub-population where the label follows another rule and that training under-represents
    (5% of its rows kept): the aggregate metric stays healthy (issue 9, cap. 4). Variant 'unused':
    the slice is named by a column the model does not take (it was dropped as 'not predictive')."""
    data = load(spec)
    g = rng(spec)
    preds = _slice_for(spec, data.frame)
    m = slice_rows(data.frame, preds)
    data.frame = _relabel(data, data.frame, m, g)
    tr, te = split_data(data, spec)
    mtr = slice_rows(tr, preds)
    keep = min(0.05, 60 / max(int(mtr.sum()), 1))  # 5% of the slice, at most about 60 rows
    drop = mtr & (g.random(len(tr)) > keep)
    tr = tr[~drop].reset_index(drop=True)
    feats = data.features
    if spec.variant == "unused":
        feats = [c for c in data.features if c != preds[0]["column"]]
    model = train_model(data, spec.family, tr, spec.seed, features=feats)
    meas = headline(model, data, tr, te, feats)
    err = error_vector(model, data, te, feats)
    mte = slice_rows(te, preds).to_numpy()
    if mte.sum() < 10 or err[mte].mean() < 1.5 * err[~mte].mean():
        raise ValueError(f"planted slice too small or too mild: {int(mte.sum())} rows")
    meas.update(
        slice_rows=int(mte.sum()),
        slice_share=rnd(mte.mean()),
        slice_error=rnd(err[mte].mean()),
        rest_error=rnd(err[~mte].mean()),
        slice_share_of_train=rnd(slice_rows(tr, preds).mean()),
    )
    if spec.variant == "unused":
        data.numeric = [c for c in data.numeric if c in feats]
        data.categorical = [c for c in data.categorical if c in feats]
        cat_kept = preds[0]["column"]
        note = f"{cat_kept} is in the files but not among the model's features."
    else:
        note = "The aggregate metric stays healthy; the slice holds a large share of the errors."
    desc = " and ".join(f"{p['column']} {p['op']} {p['value']}" for p in preds)
    return Scenario(
        spec.name,
        "hidden_slice" + ("_unused" if spec.variant else ""),
        data,
        spec.family,
        tr,
        te,
        f"{desc}: the label follows another rule there and training keeps 5% of those rows",
        [{"code": "errors.underperforming_slice", "slice": preds}],
        ERR_ACC + (["model.underfit"] if data.task == "regression" else []),
        meas,
        note,
        model=model,
    )


@kind("confident_region", ["errors.high_confidence_errors"])
def confident_region(spec: Spec) -> Scenario:
    """The labelling rule changed for one group between the training extract and the evaluation
    extract (a new definition applied to one region): the model is confidently wrong there, and
    most of its confident errors fall in that group, even though the group is large (issue 9 cap. 5)."""
    data = load(spec)
    g = rng(spec)
    tr, te = split_data(data, spec)
    preds = _slice_for(spec, data.frame)[:1]
    model = train_model(data, spec.family, tr, spec.seed)
    mte = slice_rows(te, preds)
    s = scores(model, te[data.features], data.task)
    te2 = te.copy()
    if data.task == "binary":
        s = np.asarray(s, dtype=float)
        if hasattr(model, "predict_proba"):
            pred, margin = (s >= 0.5).astype(int), np.abs(s - 0.5)
        else:  # decision_function only (LinearSVC, SGD, ridge classifiers)
            pred, margin = (s >= 0).astype(int), np.abs(s)
        conf = margin >= np.quantile(margin, 0.5)
        flip = mte.to_numpy() & conf & (g.random(len(te)) < 0.6)
        te2.loc[flip, data.target] = 1 - pred[flip]
    else:
        raise ValueError("binary only")
    err = error_vector(model, data, te2)
    conf_err = conf & (err > 0)
    meas = headline(model, data, tr, te2)
    meas.update(
        region_share=rnd(mte.mean()),
        relabelled_rows=int(flip.sum()),
        share_of_confident_errors_in_region=rnd(conf_err[mte.to_numpy()].sum() / max(conf_err.sum(), 1)),
        error_in_region=rnd(err[mte.to_numpy()].mean()),
        error_elsewhere=rnd(err[~mte.to_numpy()].mean()),
    )
    desc = " and ".join(f"{p['column']} {p['op']} {p['value']}" for p in preds)
    return Scenario(
        spec.name,
        "confident_region",
        data,
        spec.family,
        tr,
        te2,
        f"evaluation labels of {desc} follow a new definition: 60% of the rows the model is confident on are flipped",
        [{"code": "errors.high_confidence_errors", "slice": preds}],
        [
            "errors.underperforming_slice",
            "evaluation.miscalibration",
            "data.label_noise",
            "production.concept_drift",
        ],
        meas,
        model=model,
    )


# --------------------------------------------------------------------------- classes

# The plant: the labels of the pair's rows are dealt again at random with the pair's own mix, in
# training and evaluation alike (each split keeps its class counts), so the two classes differ by
# something no feature records, as the public case's 'Unmarried' / 'Not-in-family' differ by
# dependants. Verified by the quantity errors.confused_classes judges (stats.confusion): the pair's
# confusions beyond the chance null as a share of all errors.
CONFUSED_MIN_EXCESS = 0.4  # above every natural pair measured (<= 0.28) and the check's 1/3; public 0.64
CONFUSED_MIN_ERRORS = 40  # errors within the pair, enough to measure that share


def _confusion(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> np.ndarray:
    idx = {c: i for i, c in enumerate(classes)}
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(cm, ([idx[v] for v in y], [idx[v] for v in pred]), 1)
    return cm


def _pair_measures(y: np.ndarray, pred: np.ndarray, classes: list[str], pair: list[str]) -> dict:
    """The pair's errors, their raw share and their excess over the chance null as a share of all
    errors (mltriage.stats.confusion.pair_concentration, the kernel the check uses)."""
    from mltriage.stats.confusion import pair_concentration

    cm = _confusion(y, pred, classes)
    n_err = int(cm.sum() - np.trace(cm))
    ia, ib = sorted((classes.index(pair[0]), classes.index(pair[1])))
    row = next(r for r in pair_concentration(cm) if (r["a"], r["b"]) == (ia, ib))
    by_pair = {f"{classes[r['a']]}<->{classes[r['b']]}": int(r["observed"]) for r in pair_concentration(cm)}
    share = row["observed"] / n_err if n_err else 0.0
    return {
        "test_errors": n_err,
        "labels": classes,
        "confusion_matrix": cm.tolist(),
        "errors_by_pair": by_pair,
        "pair_errors": int(row["observed"]),
        "pair_expected_by_chance": rnd(row["expected"]),
        "share_of_errors_in_pair": rnd(share),
        "pair_excess_share": rnd(row["excess_share"]),
        "pair_excess_share_ci": [rnd(v) for v in row["excess_share_ci"]],
    }


def _pairs_by_confusion(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> list[list[str]]:
    """Every pair of classes, the ones the model on the unplanted data confuses most first (the
    data's closest classes: the natural candidates for a distinction no feature records)."""
    cm = _confusion(y, pred, classes)
    k = len(classes)
    pairs = [(int(cm[a, b] + cm[b, a]), a, b) for a in range(k) for b in range(a + 1, k)]
    return [[classes[a], classes[b]] for _, a, b in sorted(pairs, key=lambda t: (-t[0], t[1], t[2]))]


def _deal_pair(df: pd.DataFrame, target: str, pair: list[str], r: np.random.Generator) -> pd.DataFrame:
    """The pair's labels dealt again at random among the pair's rows (a permutation: the split keeps
    its class counts), independently of every feature."""
    out = df.copy()
    rows = np.flatnonzero(out[target].astype(str).isin(pair).to_numpy())
    col = out.columns.get_loc(target)
    out.iloc[rows, col] = out.iloc[rows, col].to_numpy()[r.permutation(len(rows))]
    return out


def _verified(pm: dict) -> bool:
    return pm["pair_excess_share"] >= CONFUSED_MIN_EXCESS and pm["pair_errors"] >= CONFUSED_MIN_ERRORS


@kind("confused_classes", ["errors.confused_classes"])
def confused_classes(spec: Spec) -> Scenario:
    """Two classes that differ by something no feature records: a pair's labels are dealt again at
    random with the pair's own mix in training and evaluation alike (nothing in the features tells
    the two apart; every split keeps its class counts, so neither the class balance nor the
    train/evaluation relation changes). The pairs are tried in the order the model on the
    unplanted data confuses them (closest classes first); the first whose plant verifies is kept:
    its confusions beyond the chance null (stats.confusion, the kernel errors.confused_classes
    uses) are at least CONFUSED_MIN_EXCESS of all errors and it holds at least
    CONFUSED_MIN_ERRORS errors. None verifies: ValueError (suite.py replaces the combination).
    Variant 'predonly': no model file, the model's per-class probabilities come as columns
    prob_<class> (issue 9, cap. 11)."""
    data = load(spec)
    tr0, te0 = split_data(data, spec)
    classes = sorted(str(c) for c in pd.unique(data.frame[data.target]))
    model0 = train_model(data, spec.family, tr0, spec.seed)
    y0 = te0[data.target].astype(str).to_numpy()
    pred0 = np.asarray(model0.predict(te0[data.features])).astype(str)
    tried = []
    for pair in _pairs_by_confusion(y0, pred0, classes):
        tr = _deal_pair(tr0, data.target, pair, rng(spec, 1))
        te = _deal_pair(te0, data.target, pair, rng(spec, 2))
        model = train_model(data, spec.family, tr, spec.seed)
        y = te[data.target].astype(str).to_numpy()
        pm = _pair_measures(y, np.asarray(model.predict(te[data.features])).astype(str), classes, pair)
        tried.append(
            f"{'/'.join(pair)}: {pm['pair_errors']} of {pm['test_errors']} errors, excess {pm['pair_excess_share']:.2f}"
        )
        if _verified(pm):
            break
    else:
        raise ValueError(
            f"no pair's plant verifies (excess over chance >= {CONFUSED_MIN_EXCESS} of the errors and "
            f">= {CONFUSED_MIN_ERRORS} errors in the pair): " + "; ".join(tried)
        )
    before = _pair_measures(y0, pred0, classes, pair)
    meas = headline(model, data, tr, te)
    meas.update(pm)
    meas.update(
        most_confused_pair=pair,
        pair_share_of_errors=pm["share_of_errors_in_pair"],
        unplanted_pair_errors=before["pair_errors"],
        unplanted_test_errors=before["test_errors"],
        unplanted_pair_excess_share=before["pair_excess_share"],
        pairs_tried=tried,
        key=f"{pm['share_of_errors_in_pair']:.0%} of test errors are {pair[0]}<->{pair[1]}, "
        f"{pm['pair_excess_share']:.0%} of all errors beyond chance (accuracy {meas['test_accuracy']:.3f})",
    )
    sc = Scenario(
        spec.name,
        "confused_classes" + ("_predonly" if spec.variant else ""),
        data,
        spec.family,
        tr,
        te,
        f"classes {pair[0]!r} and {pair[1]!r} differ by what no feature records (their labels were "
        "dealt at random with the pair's own mix among the pair's rows, in training and evaluation alike)",
        [{"code": "errors.confused_classes", "classes": pair}],
        # a flexible model fits the dealt labels of its training rows and is overconfident on
        # the pair (hgb: ECE 0.22, predicted 0.92 vs observed 0.64): true of the model, the plant's
        # consequence rather than a second plant
        [
            "errors.high_confidence_errors",
            "errors.underperforming_slice",
            "model.underfit",
            "evaluation.miscalibration",
        ],
        meas,
        model=model,
    )
    if spec.variant == "predonly":
        from sklearn.base import clone
        from sklearn.model_selection import cross_val_predict

        classes = [str(c) for c in model.classes_]
        oof = cross_val_predict(
            clone(model), tr[data.features], tr[data.target], cv=5, method="predict_proba"
        )
        pte = scores(model, te[data.features], "multiclass")
        cols = [f"prob_{c.lower().replace(' ', '_')}" for c in classes]
        sc.train = pd.concat([tr, pd.DataFrame(np.round(oof, 6), columns=cols)], axis=1)
        sc.test = pd.concat([te, pd.DataFrame(np.round(pte, 6), columns=cols)], axis=1)
        sc.model = None
        sc.meta["prediction_column"] = ",".join(cols)
        sc.notes = (
            "No model file: prob_<class> are the per-class probabilities (train: 5-fold out-of-fold; "
            f"test: the fitted model), classes in this order: {classes}. prediction_column lists them "
            "comma-separated (they also share the prefix 'prob_')."
        )
    return sc


# --------------------------------------------------------------------------- evaluation set skew

# dataset -> (column, how the evaluation export transformed it)
_EVAL_SKEW = {
    "flights": ("temp_f", "zscore"),
    "computers": ("disk_mb", "minmax"),
    "cars": ("displacement_ci", "log"),
    "affairs": ("marriage_score", "zscore"),
    "penguins": ("flipper_mm", "zscore"),
    "males": ("exper_yrs", "minmax"),
}


@kind("eval_skew", ["pipeline.train_serving_skew"])
def eval_skew(spec: Spec) -> Scenario:
    """The evaluation set went through another preprocessing script than training: one column
    standardised with the evaluation set's own mean and sd, min-max scaled, logged, or its
    categories written as integer codes (issue 9, cap. 3). No production batch."""
    data = load(spec)
    col, how = _EVAL_SKEW[spec.dataset]
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    te2 = te.copy()
    s = te[col]
    if how == "zscore":
        te2[col] = ((s - s.mean()) / s.std()).round(4)
    elif how == "minmax":
        te2[col] = ((s - s.min()) / (s.max() - s.min())).round(4)
    elif how == "log":
        te2[col] = np.log(s).round(4)
    else:
        codes = {v: str(i) for i, v in enumerate(sorted(tr[col].astype(str).unique()))}
        te2[col] = s.astype(str).map(codes)
        if isinstance(te[col].dtype, pd.CategoricalDtype):
            te2[col] = te2[col].astype("category")
    meas = headline(model, data, tr, te2)
    meas.update(
        {
            f"processed_like_train_{k}": v
            for k, v in headline(model, data, tr, te).items()
            if k.startswith("test_")
        }
    )
    meas.update(column=col, transformation=how)
    keys = (
        ["test_r2"]
        if data.task == "regression"
        else ["test_accuracy"] + (["test_auc"] if data.task == "binary" else [])
    )
    if max(meas[f"processed_like_train_{k}"] - meas[k] for k in keys) < 0.02:
        raise ValueError(f"the skew changes nothing: {meas}")
    return Scenario(
        spec.name,
        "eval_skew",
        data,
        spec.family,
        tr,
        te2,
        f"the evaluation export transformed {col} ({how}) where training kept raw values",
        [{"code": "pipeline.train_serving_skew", "columns": [col]}],
        [
            "errors.underperforming_slice",
            "errors.high_confidence_errors",
            "evaluation.miscalibration",
            "data.unseen_categories",
            "model.prediction_collapse",
            "production.data_drift",
            "production.out_of_distribution",
        ],
        meas,
        "Not model.overfit: the held-out drop comes from the transformed column.",
        model=model,
    )


# --------------------------------------------------------------------------- time


@kind("temporal_split", ["evaluation.temporal_split"])
def temporal_split(spec: Spec) -> Scenario:
    """Time-ordered rows split at random, with features a pandas rolling(center=True) computed:
    centred windows look into the future, so the random split flatters the model."""
    data = load(spec)
    tcol = data.time
    assert tcol is not None
    df = data.frame.sort_values(tcol).reset_index(drop=True)
    day = df[tcol].dt.floor("D")
    if data.task == "regression":
        daily = df.groupby(day)[data.target].mean()
    else:
        daily = (df[data.target] == df[data.target].mode().iloc[0]).groupby(day).mean()
    daily = daily.asfreq("D").interpolate()
    cen = daily.rolling(15, center=True, min_periods=1).mean()
    name = {"regression": "price_level_15d_centered"}.get(data.task, "label_rate_15d_centered")
    df[name] = day.map(cen).astype(float).round(4)
    vol = df.groupby(day).size().asfreq("D", fill_value=0).rolling(7, center=True, min_periods=1).mean()
    df["volume_7d_centered"] = day.map(vol).astype(float).round(2)
    data.frame = df
    data.numeric += [name, "volume_7d_centered"]
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    cut = int(len(df) * 0.7)
    ftr, fte = df.iloc[:cut], df.iloc[cut:]
    fmodel = train_model(data, spec.family, ftr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        {
            f"forward_split_{k}": v
            for k, v in headline(fmodel, data, ftr, fte).items()
            if k.startswith("test_")
        }
    )
    meas["share_train_rows_after_first_test_row"] = rnd((tr[tcol] > te[tcol].min()).mean())
    return Scenario(
        spec.name,
        "temporal_split",
        data,
        spec.family,
        tr,
        te,
        f"time-ordered rows ({tcol}) split at random; {name} and volume_7d_centered are centred rolling means",
        [{"code": "evaluation.temporal_split", "columns": [tcol]}],
        ["data.label_leakage", "model.overfit"],
        meas,
        model=model,
        meta={"time_column": tcol},
    )
