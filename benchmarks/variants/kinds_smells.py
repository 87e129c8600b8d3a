"""Failure kinds rebuilt from outside sources not used elsewhere in the suite: the data-smell
catalogue of Foidl, Felderer & Ramler (2022), Evidently's data-quality test preset, and the
leakage cases of Kaufman, Rosset, Perlich & Stitelman (2012). Data-set kinds here; the
training/serving kinds (TFDV, Breck et al. 2019, Google's Rules of ML, Sculley et al. 2015) are in
kinds_smells_serving.py. Each generator cites its source, verifies its plant (it raises instead of
writing a scenario whose truth does not hold) and records the measurement in truth.json.

Sources:
- H. Foidl, M. Felderer, R. Ramler, "Data Smells: Categories, Causes and Consequences, and
  Detection of Suspicious Data in AI-based Systems", CAIN 2022 (arXiv:2203.10384): a catalogue of
  36 smells in three categories (believability: Dummy Value, Suspect Sign, Extreme Value...;
  understandability: Integer as String, Date as String, Casing...; consistency: Unit
  Inconsistency, Spacing Inconsistency...).
- Evidently `DataQualityTestPreset` (evidently/test_preset/data_quality.py: TestAllColumnsShareOfNulls,
  TestNumberOfConstantColumns, TestNumberOfDuplicatedColumns, TestNumberOfDuplicatedRows,
  TestHighlyCorrelatedFeatures).
- S. Kaufman, S. Rosset, C. Perlich, O. Stitelman, "Leakage in data mining: formulation,
  detection, and avoidance", ACM TKDD 6(4), 2012 (KDD-Cup 2008: patient ids that encode the
  source of the record and so the outcome; fields filled in after the fact).
"""

from __future__ import annotations

import numpy as np
from planting import Spec, headline, kind, load, rng, split_data, train_model
from scenario import Scenario, rnd
from sklearn.metrics import roc_auc_score


def _auc(y, s) -> float:
    a = roc_auc_score(y, s)
    return float(max(a, 1 - a))


def _key(task: str) -> str:
    return {"binary": "test_auc", "regression": "test_r2"}.get(task, "test_accuracy")


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"plant does not hold: {what}")


# --------------------------------------------------------------------------- dummy value

# dataset -> the numeric column whose gaps the source system codes with a sentinel
_DUMMY = {"cars": "hp", "affairs": "years_wed", "penguins": "flipper_mm", "flights": "wind_mph"}


@kind("dummy_value", ["data.missing_values"])
def dummy_value(spec: Spec) -> Scenario:
    """Foidl et al. 2022, believability smell "Dummy Value" (a placeholder such as -999 or 9999
    standing for an unknown value; consequence: models take it as a real magnitude). Also Great
    Expectations `expect_column_values_to_not_be_in_set`. The source system writes -999 where a
    reading is missing (20% of rows of one numeric column), in training and evaluation alike; the
    model (a linear one here) fits -999 as a number. Variant `eval`: training had real nulls
    (imputed by the Pipeline), the evaluation extract went through the legacy export that writes
    -999 instead, so only the evaluation rows carry the sentinel."""
    data = load(spec)
    g = rng(spec)
    col = _DUMMY[spec.dataset]
    tr, te = split_data(data, spec)
    _check(bool((tr[col] > 0).all()), f"{col} is a positive reading")
    clean_tr, clean_te = tr.copy(), te.copy()
    miss_tr, miss_te = g.random(len(tr)) < 0.2, g.random(len(te)) < 0.2
    if spec.variant == "eval":
        tr.loc[miss_tr, col] = np.nan
    else:
        tr.loc[miss_tr, col] = -999.0
    te.loc[miss_te, col] = -999.0
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    # what the same rows give when the gaps are real nulls that the Pipeline imputes
    tr_n, te_n = clean_tr.copy(), clean_te.copy()
    tr_n.loc[miss_tr, col] = np.nan
    te_n.loc[miss_te, col] = np.nan
    m_ok = train_model(data, spec.family, tr_n, spec.seed)
    meas.update({f"as_nulls_{k}": v for k, v in headline(m_ok, data, tr_n, te_n).items()})
    k = _key(data.task)
    meas.update(
        column=col,
        sentinel=-999,
        train_sentinel_share=rnd((tr[col] == -999).mean()),
        test_sentinel_share=rnd((te[col] == -999).mean()),
        score_cost=rnd(meas[f"as_nulls_{k}"] - meas[k]),
    )
    _check(meas["test_sentinel_share"] > 0.1, "sentinel in the evaluation rows")
    where = (
        "evaluation rows only (training had nulls)" if spec.variant == "eval" else "training and evaluation"
    )
    return Scenario(
        spec.name,
        "dummy_value",
        data,
        spec.family,
        tr,
        te,
        f"{col}: missing readings coded as -999 in {where} ({meas['test_sentinel_share']:.0%} of "
        f"evaluation rows); the model takes -999 as a magnitude",
        [{"code": "data.missing_values", "columns": [col]}],
        [
            "production.out_of_distribution",
            "pipeline.train_serving_skew",
            "errors.underperforming_slice",
            "errors.high_confidence_errors",
            "model.underfit",
            "evaluation.miscalibration",
        ],
        meas,
        "Foidl et al. 2022 'Dummy Value' smell; Great Expectations expect_column_values_to_not_be_in_set.",
        model=model,
    )


# --------------------------------------------------------------------------- duplicated columns

# dataset -> (column, copy name, factor): copy = column * factor (1.0: an exact copy)
_DUPCOL = {
    "penguins": [("flipper_mm", "flipper_cm", 0.1), ("culmen_len", "bill_len_mm", 1.0)],
    "computers": [("disk_mb", "disk_gb", 0.001), ("memory_mb", "ram_mb", 1.0)],
    "affairs": [("resp_years", "resp_age_months", 12.0), ("n_kids", "children_n", 1.0)],
}


@kind("duplicated_columns", ["features.redundant"])
def duplicated_columns(spec: Spec) -> Scenario:
    """Evidently `TestNumberOfDuplicatedColumns` and `TestHighlyCorrelatedFeatures` (both in the
    `DataQualityTestPreset`, evidently/test_preset/data_quality.py): a table joined twice carries
    the same column under two names. The feature table was built from two joined sources: one
    reading appears again under another name (an exact copy) and another again in other units
    (mm and cm, MB and GB): identical information, four features for two."""
    data = load(spec)
    df = data.frame
    pairs = _DUPCOL[spec.dataset]
    for col, copy, f in pairs:
        df[copy] = df[col] * f
        data.numeric.append(copy)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    corr = {f"{c}~{k}": rnd(tr[c].corr(tr[k]), 6) for c, k, _ in pairs}
    _check(all(v > 0.999999 for v in corr.values()), "copies correlate perfectly")
    meas.update(pearson=corr)
    return Scenario(
        spec.name,
        "duplicated_columns",
        data,
        spec.family,
        tr,
        te,
        "; ".join(f"{k} is {c}" + ("" if f == 1.0 else f" x {f:g}") for c, k, f in pairs),
        [{"code": "features.redundant", "columns": [c, k]} for c, k, _ in pairs],
        ["model.overfit", "model.instability"],
        meas,
        "Evidently DataQualityTestPreset: TestNumberOfDuplicatedColumns, TestHighlyCorrelatedFeatures.",
        model=model,
    )


# --------------------------------------------------------------------------- filled after the fact


@kind("filled_after_outcome", ["data.label_leakage"])
def filled_after_outcome(spec: Spec) -> Scenario:
    """Kaufman et al. 2012, "Leakage in data mining", section 2 (leaking features: a field that
    is filled in after the outcome is known, so its presence, not its value, gives the outcome
    away). A follow-up field `followup_score` exists only for records whose case was worked after
    the outcome: present in 85% of positive rows and 8% of negative ones, its value itself
    uninformative (a 1-10 rating); the Pipeline's imputer turns the gaps into the median, so the
    model reads "not the median" as "positive"."""
    data = load(spec)
    g = rng(spec)
    col = "followup_score"
    y = data.frame[data.target].to_numpy()
    present = g.random(len(y)) < np.where(y == 1, 0.85, 0.08)
    vals = g.integers(1, 11, len(y)).astype(float)
    # keep the median away from the filled values' support: the rating is on a 1-10 scale,
    # gaps become the median of the present values
    data.frame[col] = np.where(present, vals, np.nan)
    data.numeric.append(col)
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    others = [c for c in data.features if c != col]
    m0 = train_model(data, spec.family, tr, spec.seed, features=others)
    meas = headline(model, data, tr, te)
    meas.update({f"without_{k}": v for k, v in headline(m0, data, tr, te, others).items()})
    meas.update(
        column=col,
        presence_auc=rnd(_auc(te[data.target], te[col].notna().astype(float))),
        value_auc_where_present=rnd(_auc(te.loc[te[col].notna(), data.target], te.loc[te[col].notna(), col])),
        present_share=rnd(te[col].notna().mean()),
    )
    _check(meas["test_auc"] - meas["without_test_auc"] > 0.05, "the leak lifts the headline")
    return Scenario(
        spec.name,
        "filled_after_outcome",
        data,
        spec.family,
        tr,
        te,
        f"{col} is filled only after the outcome (present in 85% of positives, 8% of negatives; "
        f"presence AUC {meas['presence_auc']}, value AUC {meas['value_auc_where_present']})",
        [{"code": "data.label_leakage", "columns": [col]}],
        [
            "data.missing_values",
            "model.overfit",
            "errors.high_confidence_errors",
            "evaluation.miscalibration",
            "errors.underperforming_slice",
        ],
        meas,
        "Kaufman et al. 2012: a field filled after the fact (its presence leaks the outcome).",
        model=model,
    )


# --------------------------------------------------------------------------- id leak (KDD-Cup 2008)


@kind("source_id_leak", ["data.label_leakage"])
def source_id_leak(spec: Spec) -> Scenario:
    """Kaufman et al. 2012, section 1 and Perlich et al. (KDD-Cup 2008 breast-cancer
    screening: the patient id carried the outcome because ids were assigned per source, and
    one source held mostly confirmed cases). Records merged from three sources, each numbered in
    its own block (screening 100000+, clinic 400000+, referral registry 800000+); the registry
    holds the confirmed cases, so the record id, kept as a feature, tells the outcome far better
    than the real features."""
    data = load(spec)
    g = rng(spec)
    df = data.frame.sample(frac=1, random_state=spec.seed).reset_index(drop=True)
    y = df[data.target].to_numpy()
    # positives: 70% from the registry; negatives: 90% from screening
    src = np.where(
        y == 1,
        np.where(g.random(len(y)) < 0.7, 2, g.integers(0, 2, len(y))),
        np.where(g.random(len(y)) < 0.9, 0, 1),
    )
    ids = np.zeros(len(df))
    for s, base in ((0, 100000), (1, 400000), (2, 800000)):
        m = src == s
        ids[m] = base + np.sort(g.choice(200000, int(m.sum()), replace=False))
    df["record_id"] = ids
    data.frame = df
    data.numeric.append("record_id")
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    others = [c for c in data.features if c != "record_id"]
    m0 = train_model(data, spec.family, tr, spec.seed, features=others)
    meas = headline(model, data, tr, te)
    meas.update({f"without_{k}": v for k, v in headline(m0, data, tr, te, others).items()})
    meas["record_id_auc"] = rnd(_auc(te[data.target], te["record_id"]))
    _check(meas["record_id_auc"] > meas["without_test_auc"] + 0.05, "the id beats all the others")
    return Scenario(
        spec.name,
        "source_id_leak",
        data,
        spec.family,
        tr,
        te,
        f"record_id is numbered per source and one source holds the confirmed cases (id alone AUC "
        f"{meas['record_id_auc']}, all real features {meas['without_test_auc']})",
        [{"code": "data.label_leakage", "columns": ["record_id"]}],
        ["model.overfit", "data.target_suspect", "errors.underperforming_slice", "evaluation.miscalibration"],
        meas,
        "Kaufman et al. 2012 / KDD-Cup 2008: an identifier that encodes the record's source.",
        model=model,
    )
