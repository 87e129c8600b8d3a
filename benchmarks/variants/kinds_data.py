"""Generators of the data layer: leaks, copies across the split, entities on both sides, missing
values, unseen categories, duplicates, label noise, misaligned labels, suspect targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, error_vector, headline, kind, load, rng, split_data, train_model
from scenario import Scenario, make_model, rnd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, KFold, cross_val_predict


@kind("clean", [])
def clean(spec: Spec) -> Scenario:
    data = load(spec)
    tr, te = split_data(data, spec, grouped=data.entity is not None)
    model = train_model(data, spec.family, tr, spec.seed)
    note = "Sound pipeline, random split"
    if data.entity:
        note = f"Sound pipeline, split by {data.entity} (no entity on both sides)"
    return Scenario(
        spec.name,
        "clean",
        data,
        spec.family,
        tr,
        te,
        "nothing (control)",
        [],
        [],
        headline(model, data, tr, te),
        note + ".",
        model=model,
    )


# --------------------------------------------------------------------------- leakage

# dataset -> (column name, story); the leak is recorded after the outcome
_LEAKS = {
    "affairs": (
        "counselling_referrals",
        "referrals to couples counselling logged in the year after the survey",
    ),
    "penguins": (
        "tag_batch_code",
        "the code of the tag batch, assigned after sexing in the lab (a few tags mislabelled)",
    ),
    "computers": (
        "invoice_total",
        "the invoiced amount of the sale (price plus tax and shipping), known only after the sale",
    ),
    "cars": ("fuel_cost_yr", "yearly fuel cost that a consumer guide derived from the measured economy"),
    "males": ("payroll_band", "the payroll band of the same wage record"),
    "seattle": ("gauge_report", "the afternoon gauge report, written after the day's weather was known"),
}


def _leak_column(data, y: pd.Series, strength: float, g: np.random.Generator) -> pd.Series:
    """A post-outcome column: near the target with noise; `strength` in (0, 1]."""
    if data.task == "binary":
        lam1, lam0 = 0.4 + 2.6 * strength, 0.9 - 0.75 * strength
        return pd.Series(g.poisson(np.where(y == 1, lam1, lam0)), index=y.index).astype(float)
    if data.task == "regression":
        sd = float(y.std())
        return (y * 1.08 + g.normal(0, sd * (1.2 - strength), len(y))).round(1)
    codes = pd.Series(pd.Categorical(y).codes, index=y.index).astype(float)
    return codes + g.normal(0, 0.6 - 0.5 * strength, len(y))


@kind("label_leakage", ["data.label_leakage"])
def label_leakage(spec: Spec) -> Scenario:
    """A post-outcome column in the features. Strength from the variant: '' near-perfect,
    'weak' far above the other features together but not near-perfect (issue 9, cap. 7)."""
    data = load(spec, extra=("dep_delay_min",) if spec.dataset == "flights" else ())
    g = rng(spec)
    weak = spec.variant == "weak"
    if spec.dataset == "flights":  # the real thing: departure delay in a booking-time model
        col, story = (
            "dep_delay_min",
            "departure delay (known only at departure) in a model used at booking time",
        )
        data.numeric.append(col)
    else:
        col, story = _LEAKS[spec.dataset]
        data.frame[col] = _leak_column(data, data.frame[data.target], 0.75 if weak else 0.95, g)
        data.numeric.append(col)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    others = [c for c in data.features if c != col]
    m_other = train_model(data, spec.family, tr, spec.seed, features=others)
    m_leak = train_model(data, spec.family, tr, spec.seed, features=[col])
    meas = headline(model, data, tr, te)
    meas.update({f"without_leak_{k}": v for k, v in headline(m_other, data, tr, te, others).items()})
    meas.update({f"leak_alone_{k}": v for k, v in headline(m_leak, data, tr, te, [col]).items()})
    key = (
        "test_auc" if data.task == "binary" else ("test_r2" if data.task == "regression" else "test_accuracy")
    )
    gain = meas[f"leak_alone_{key}"] - meas[f"without_leak_{key}"]
    meas["leak_alone_minus_all_others"] = rnd(gain)
    if gain < 0.08:  # the truth must hold: the leak alone far above all the other features together
        raise ValueError(
            f"planted leak too weak: {key} alone {meas[f'leak_alone_{key}']} vs others {meas[f'without_leak_{key}']}"
        )
    if data.task == "binary":
        meas["leak_column_auc"] = rnd(
            max(roc_auc_score(te[data.target], te[col]), 1 - roc_auc_score(te[data.target], te[col]))
        )
    return Scenario(
        spec.name,
        "label_leakage" + ("_weak" if weak else ""),
        data,
        spec.family,
        tr,
        te,
        f"post-outcome feature {col}: {story}",
        [{"code": "data.label_leakage", "columns": [col]}],
        ["model.overfit"],
        meas,
        "measured.leak_alone_* is a model on the leak only; without_leak_* on all the others.",
        model=model,
    )


# --------------------------------------------------------------------------- copies


@kind("train_test_overlap", ["data.train_test_overlap"])
def train_test_overlap(spec: Spec) -> Scenario:
    """The evaluation extract was pulled again and appended to: 30% of its rows are training rows."""
    data = load(spec)
    tr, te = split_data(data, spec)
    g = rng(spec)
    k = int(0.3 * len(te))
    copies = tr.iloc[g.choice(len(tr), k, replace=False)]
    te2 = (
        pd.concat([te.iloc[: len(te) - k], copies])
        .sample(frac=1, random_state=spec.seed)
        .reset_index(drop=True)
    )
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te2)
    is_copy = te2.merge(tr.drop_duplicates(), how="left", indicator=True)["_merge"].eq("both").to_numpy()
    err = error_vector(model, data, te2)
    meas.update(
        overlap_fraction=rnd(is_copy.mean()),
        error_on_copied_rows=rnd(err[is_copy].mean()),
        error_on_fresh_rows=rnd(err[~is_copy].mean()),
    )
    return Scenario(
        spec.name,
        "train_test_overlap",
        data,
        spec.family,
        tr,
        te2,
        "30% of evaluation rows are copies of training rows (the evaluation extract was re-pulled and appended)",
        [{"code": "data.train_test_overlap"}],
        ["model.overfit"],
        meas,
        model=model,
    )


@kind("oversampled_copies", ["data.train_test_overlap"])
def oversampled_copies(spec: Spec) -> Scenario:
    """Small coarse data (one decimal): the minority classes are randomly oversampled to balance
    BEFORE the split, so copies of the same rows land on both sides (issue 9, cap. 1)."""
    data = load(spec)
    df = data.frame.copy()
    for c in data.numeric:
        df[c] = df[c].round(1)
    y = df[data.target]
    counts = y.value_counts()
    g = rng(spec)
    parts = [df]
    for cls, cnt in counts.items():
        need = int(counts.max() - cnt)
        if need > 0:
            idx = np.flatnonzero((y == cls).to_numpy())
            parts.append(df.iloc[g.choice(idx, need, replace=True)])
    big = pd.concat(parts).reset_index(drop=True)
    data.frame = big
    tr, te = split_data(data, spec, 0.3)
    model = train_model(data, spec.family, tr, spec.seed)
    cols = data.features + [data.target]
    in_train = te[cols].merge(tr[cols].drop_duplicates(), how="left", indicator=True)["_merge"].eq("both")
    # the rate of twins a split of the rows without oversampling has (the chance rate)
    data0 = load(spec)
    d0 = data0.frame.copy()
    for c in data0.numeric:
        d0[c] = d0[c].round(1)
    data0.frame = d0
    tr0, te0 = split_data(data0, spec, 0.3)
    chance = (
        te0[cols].merge(tr0[cols].drop_duplicates(), how="left", indicator=True)["_merge"].eq("both").mean()
    )
    meas = headline(model, data, tr, te)
    meas.update(
        rows_before_oversampling=len(df),
        rows_after=len(big),
        class_counts_before=counts.to_dict(),
        share_of_test_rows_with_a_copy_in_train=rnd(in_train.mean()),
        same_share_without_oversampling=rnd(chance),
    )
    return Scenario(
        spec.name,
        "oversampled_copies",
        data,
        spec.family,
        tr,
        te,
        "minority classes randomly oversampled to balance before the train/test split (values to one decimal)",
        [{"code": "data.train_test_overlap"}],
        ["model.overfit", "data.duplicates"],
        meas,
        "Random oversampling before splitting puts copies of one row in both sets.",
        model=model,
    )


@kind("entity_overlap", ["data.train_test_overlap"])
def entity_overlap(spec: Spec) -> Scenario:
    """Panel data (one row per person and year) split at random by row: every person is in both
    sets, so the held-out score is above the grouped cross-validation score (issue 9, cap. 2).
    Variant 'group': the entity column is given as --group-column; otherwise it is only a column."""
    data = load(spec)
    ent = data.entity
    assert ent is not None
    tr, te = split_data(data, spec, grouped=False)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    seen = te[ent].isin(set(tr[ent])).to_numpy()
    # the score a grouped split gives (entities never on both sides)
    full = data.frame
    X, y = full[data.features], full[data.target]
    base = make_model(spec.family, data.task, data.numeric, data.categorical, spec.seed)
    pred_g = cross_val_predict(base, X, y, cv=GroupKFold(5), groups=full[ent])
    pred_r = cross_val_predict(base, X, y, cv=KFold(5, shuffle=True, random_state=0))
    from sklearn.metrics import r2_score

    meas.update(
        share_test_rows_entity_in_train=rnd(seen.mean()),
        cv_r2_random_folds=rnd(r2_score(y, pred_r)),
        cv_r2_grouped_folds=rnd(r2_score(y, pred_g)),
        n_entities=int(full[ent].nunique()),
    )
    meta = {"group_column": ent} if spec.variant == "group" else {}
    return Scenario(
        spec.name,
        "entity_overlap",
        data,
        spec.family,
        tr,
        te,
        f"rows of the same {ent} on both sides: a panel split at random by row",
        [{"code": "data.train_test_overlap", "columns": [ent]}],
        ["model.overfit"],
        meas,
        f"{ent} is not a model feature; the grouped CV score is the honest one.",
        model=model,
        meta=meta,
    )


@kind("duplicates", ["data.duplicates"])
def duplicates(spec: Spec) -> Scenario:
    """A one-to-many join repeated some training rows (20% of training rows are exact copies)."""
    data = load(spec)
    tr, te = split_data(data, spec)
    g = rng(spec)
    k = int(0.25 * len(tr))
    extra = tr.iloc[g.choice(len(tr), k, replace=True)]
    tr2 = pd.concat([tr, extra]).sample(frac=1, random_state=spec.seed).reset_index(drop=True)
    model = train_model(data, spec.family, tr2, spec.seed)
    meas = headline(model, data, tr2, te)
    meas["duplicate_share_of_train"] = rnd(tr2.duplicated().mean())
    meas["overlap_share_of_test"] = rnd(
        te.merge(tr2.drop_duplicates(), how="left", indicator=True)["_merge"].eq("both").mean()
    )
    return Scenario(
        spec.name,
        "duplicates",
        data,
        spec.family,
        tr2,
        te,
        "a one-to-many join repeated training rows: about 20% of the training rows are exact copies",
        [{"code": "data.duplicates"}],
        ["model.overfit"],
        meas,
        model=model,
    )


@kind("evaluated_on_train", ["evaluation.evaluated_on_train"])
def evaluated_on_train(spec: Spec) -> Scenario:
    data = load(spec)
    tr, te_real = split_data(data, spec)
    te = tr.sample(frac=1, random_state=spec.seed + 1).reset_index(drop=True)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        {f"fresh_{k}": v for k, v in headline(model, data, tr, te_real).items() if k.startswith("test_")}
    )
    meas["overlap_fraction"] = 1.0
    return Scenario(
        spec.name,
        "evaluated_on_train",
        data,
        spec.family,
        tr,
        te,
        "the evaluation file is the training file, shuffled (a path typo in the eval script)",
        [{"code": "evaluation.evaluated_on_train"}],
        ["data.train_test_overlap", "model.overfit"],
        meas,
        "fresh_test_* is the score on rows the model never saw.",
        model=model,
    )


# --------------------------------------------------------------------------- values


@kind("missing_values", ["data.missing_values"])
def missing_values(spec: Spec) -> Scenario:
    """A new export step writes NULL for the strongest feature in a quarter of the evaluation rows
    (mostly at one end of its range), never in training; the model path has no imputer."""
    data = load(spec)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    # strongest numeric feature by permutation on test
    from sklearn.inspection import permutation_importance

    num = [c for c in data.numeric]
    imp = permutation_importance(model, te[data.features], te[data.target], n_repeats=3, random_state=0)
    order = [data.features[i] for i in np.argsort(-imp.importances_mean)]
    col = next(c for c in order if c in num)
    g = rng(spec)
    hi = te[col] >= te[col].median()
    p = np.where(hi, 0.40, 0.10)
    miss = g.random(len(te)) < p
    te2 = te.copy()
    te2.loc[miss, col] = np.nan
    meas = headline(model, data, tr, te2)
    meas.update(
        {f"if_complete_{k}": v for k, v in headline(model, data, tr, te).items() if k.startswith("test_")}
    )
    meas.update(column=col, train_missing_rate=rnd(tr[col].isna().mean()), test_missing_rate=rnd(miss.mean()))
    return Scenario(
        spec.name,
        "missing_values",
        data,
        spec.family,
        tr,
        te2,
        f"{col} (the strongest numeric feature) is NULL in {miss.mean():.0%} of evaluation rows, never in training",
        [{"code": "data.missing_values", "columns": [col]}],
        [
            "errors.high_confidence_errors",
            "errors.underperforming_slice",
            "production.data_drift",
            "evaluation.miscalibration",
        ],
        meas,
        "The model imputes nothing it learned on (the pipeline's imputer saw no NaN in training).",
        model=model,
    )


# dataset -> (column, value withheld from training)
_UNSEEN = {
    "flights": ("airline", None),
    "males": ("sector", None),
    "affairs": ("partner_grade", None),
    "penguins": ("colony", "Torgersen"),
    "computers": ("premium_brand", None),
    "wages": ("metro_area", None),
}


@kind("unseen_categories", ["data.unseen_categories"])
def unseen_categories(spec: Spec) -> Scenario:
    """The training extract filtered one value of a category out (a WHERE clause left in the
    query); the evaluation set has it in about 1 row in 8."""
    data = load(spec)
    col, val = _UNSEEN[spec.dataset]
    vc = data.frame[col].astype(str).value_counts(normalize=True)
    if val is None:  # a value with 6-20% of rows
        cands = vc[(vc > 0.06) & (vc < 0.25)]
        val = str(cands.index[0] if len(cands) else vc.index[1])
    is_v = data.frame[col].astype(str) == val
    rest = data.frame[~is_v]
    data.frame = rest
    tr, te = split_data(data, spec)
    vrows = load(spec).frame
    vrows = vrows[vrows[col].astype(str) == val]
    k = min(len(vrows), max(5, int(len(te) / 7)))
    te2 = (
        pd.concat([te, vrows.sample(n=k, random_state=spec.seed)])
        .sample(frac=1, random_state=1)
        .reset_index(drop=True)
    )
    model = train_model(data, spec.family, tr, spec.seed)
    data.frame = pd.concat([tr, te2])
    meas = headline(model, data, tr, te2)
    err = error_vector(model, data, te2)
    m = (te2[col].astype(str) == val).to_numpy()
    meas.update(
        unseen_value=val,
        unseen_share_of_test=rnd(m.mean()),
        error_unseen=rnd(err[m].mean()),
        error_rest=rnd(err[~m].mean()),
    )
    return Scenario(
        spec.name,
        "unseen_categories",
        data,
        spec.family,
        tr,
        te2,
        f"{col} == {val!r} never appears in training; {m.mean():.0%} of evaluation rows have it",
        [{"code": "data.unseen_categories", "columns": [col]}],
        [
            "errors.high_confidence_errors",
            "errors.underperforming_slice",
            "evaluation.miscalibration",
            "production.data_drift",
        ],
        meas,
        model=model,
    )
