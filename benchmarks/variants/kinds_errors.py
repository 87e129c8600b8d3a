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


def _slice_for(spec: Spec, df: pd.DataFrame) -> list[dict]:
    """A two-predicate region of 4-10% of rows, per data set (a real sub-population)."""
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
    drop = mtr & (g.random(len(tr)) > 0.05)
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
        pred = (np.asarray(s) >= 0.5).astype(int)
        conf = np.abs(np.asarray(s) - 0.5) >= 0.25
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
