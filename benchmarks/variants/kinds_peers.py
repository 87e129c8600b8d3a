"""Failure kinds rebuilt from peer tools' own test suites and documented examples (issue 9: "cases
rebuilt from outside sources ... tried as a new user would"). Each generator cites the test or
gallery example it follows: how that source plants the issue, rebuilt on one of our real data
sets. Data-integrity kinds here; model and production kinds in kinds_peers_model.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, headline, kind, load, rng, split_data, train_model
from scenario import Scenario, rnd
from sklearn.metrics import roc_auc_score


def _auc(y: pd.Series, s) -> float:
    a = roc_auc_score(y, s)
    return max(a, 1 - a)


# --------------------------------------------------------------------------- conflicting labels


@kind("conflicting_labels", ["data.label_noise"])
def conflicting_labels(spec: Spec) -> Scenario:
    """Deepchecks `ConflictingLabels` (tests/tabular/checks/integrity/conflicting_labels_test.py,
    test_label_ambiguity: rows with identical features carry different labels,
    `label: [1, 1, 2, 2, 3, 4] * 100` over `col1..col3: [1, 1, 1, 2, 2, 2] * 100`). Here a second
    annotation pass was merged in: 15% of training rows appear again with identical features and
    another class, so the training set holds two contradictory labels for the same case."""
    data = load(spec)
    g = rng(spec)
    tr, te = split_data(data, spec)
    y = tr[data.target].astype(str)
    classes = sorted(y.unique())
    pick = g.random(len(tr)) < 0.15
    twins = tr[pick].copy()
    other = [g.choice([c for c in classes if c != v]) for v in y[pick]]
    twins[data.target] = pd.Series(other, index=twins.index).astype(tr[data.target].dtype)
    tr2 = pd.concat([tr, twins]).sample(frac=1, random_state=spec.seed).reset_index(drop=True)
    model = train_model(data, spec.family, tr2, spec.seed)
    meas = headline(model, data, tr2, te)
    feats = tr2[data.features].astype(str).agg("|".join, axis=1)
    conflicting = tr2.groupby(feats)[data.target].transform("nunique") > 1
    meas.update(
        conflicting_row_share=rnd(conflicting.mean()),
        twins_added=int(pick.sum()),
        wrong_label_share_of_train=rnd(pick.sum() / len(tr2)),
    )
    return Scenario(
        spec.name,
        "conflicting_labels",
        data,
        spec.family,
        tr2,
        te,
        f"{int(pick.sum())} training rows appear twice with identical features and different labels "
        f"({conflicting.mean():.0%} of training rows are in a conflicting pair)",
        [{"code": "data.label_noise"}],
        ["data.duplicates", "model.overfit", "model.underfit", "evaluation.miscalibration"],
        meas,
        "Deepchecks ConflictingLabels (identical samples, different labels).",
        model=model,
    )


# --------------------------------------------------------------------------- mixed nulls


@kind("mixed_nulls", ["data.missing_values"])
def mixed_nulls(spec: Spec) -> Scenario:
    """Deepchecks `MixedNulls` (tests/tabular/checks/integrity/mixed_nulls_test.py and the gallery
    plot_mixed_nulls.py: one column holding `None`, `'null'`, `'nan'`, `'Nan'`, `''`, `'None'`).
    A categorical field is missing in 15% of rows; training wrote it as a real null, the
    evaluation extract (a CSV export) wrote the same gaps as 'N/A', '', 'null' and 'None', so
    the model sees four new category values where training had missing values."""
    data = load(spec)
    g = rng(spec)
    col = data.categorical[0]
    tr, te = split_data(data, spec)
    tr[col] = tr[col].astype(object)
    te[col] = te[col].astype(object)
    tr.loc[g.random(len(tr)) < 0.15, col] = None
    miss = g.random(len(te)) < 0.15
    tokens = np.array(["N/A", "", "null", "None"], dtype=object)
    te.loc[miss, col] = tokens[g.integers(0, len(tokens), int(miss.sum()))]
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        column=col,
        train_null_share=rnd(tr[col].isna().mean()),
        test_null_token_share=rnd(miss.mean()),
        test_true_null_share=rnd(te[col].isna().mean()),
    )
    return Scenario(
        spec.name,
        "mixed_nulls",
        data,
        spec.family,
        tr,
        te,
        f"{col}: missing as a real null in training, as 'N/A', '', 'null', 'None' strings in "
        f"{miss.mean():.0%} of evaluation rows",
        [{"code": "data.missing_values", "columns": [col]}],
        [
            "data.unseen_categories",
            "production.schema_change",
            "pipeline.train_serving_skew",
            "errors.underperforming_slice",
        ],
        meas,
        "Deepchecks MixedNulls (several spellings of null in one column).",
        model=model,
    )


# --------------------------------------------------------------------------- string mismatch


@kind("string_mismatch", ["data.unseen_categories"])
def string_mismatch(spec: Spec) -> Scenario:
    """Deepchecks `StringMismatchComparison` (tests/tabular/checks/integrity/
    string_mismatch_comparison_test.py: `['Deep', 'deep', 'deep!!!', '$deeP$', ...]` in one set
    against `['Deep', ...]` in the other: variants of the same base string). The evaluation
    extract came through another system that lower-cases and pads the codes: 40% of its values
    of a categorical column are spelled 'dl', 'DL ' where training had 'DL'."""
    data = load(spec)
    g = rng(spec)
    col = data.categorical[0]
    tr, te = split_data(data, spec)
    te[col] = te[col].astype(str).astype(object)
    pick = g.random(len(te)) < 0.4
    form = g.integers(0, 3, len(te))
    v = te[col].astype(str)
    alt = np.where(form == 0, v.str.lower(), np.where(form == 1, v + " ", " " + v.str.lower()))
    te.loc[pick, col] = alt[pick]
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    unseen = ~te[col].astype(str).isin(set(tr[col].astype(str)))
    meas.update(column=col, variant_share_of_test=rnd(unseen.mean()))
    return Scenario(
        spec.name,
        "string_mismatch",
        data,
        spec.family,
        tr,
        te,
        f"{col}: {unseen.mean():.0%} of evaluation values are case/whitespace variants of training values",
        [{"code": "data.unseen_categories", "columns": [col]}],
        [
            "production.schema_change",
            "pipeline.train_serving_skew",
            "errors.underperforming_slice",
            "errors.high_confidence_errors",
            "evaluation.miscalibration",
        ],
        meas,
        "Deepchecks StringMismatchComparison (case and punctuation variants of one category).",
        model=model,
    )


# --------------------------------------------------------------------------- identifier leak


@kind("identifier_label", ["data.label_leakage"])
def identifier_label(spec: Spec) -> Scenario:
    """Deepchecks `IdentifierLabelCorrelation` (tests/tabular/checks/methodology/
    identifier_label_correlation_test.py: an index column whose order follows the label, so
    the identifier alone predicts it). The export sorted the rows by outcome before numbering
    them, and the row number `record_no` went into the features."""
    data = load(spec)
    g = rng(spec)
    df = data.frame.sample(frac=1, random_state=spec.seed)
    df = df.sort_values(data.target, kind="stable").reset_index(drop=True)
    df["record_no"] = np.arange(100001, 100001 + len(df)) + g.integers(0, 3, len(df))
    data.frame = df
    data.numeric.append("record_no")
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    if data.task == "binary":
        meas["record_no_auc"] = rnd(_auc(te[data.target], te["record_no"]))
    return Scenario(
        spec.name,
        "identifier_label",
        data,
        spec.family,
        tr,
        te,
        "a row number assigned after sorting by the outcome is among the features",
        [{"code": "data.label_leakage", "columns": ["record_no"]}],
        ["data.target_suspect", "model.overfit", "features.redundant"],
        meas,
        "Deepchecks IdentifierLabelCorrelation.",
        model=model,
    )


# --------------------------------------------------------------------------- single value


@kind("single_value", ["features.constant"])
def single_value(spec: Spec) -> Scenario:
    """Deepchecks `IsSingleValue` (tests/tabular/checks/integrity/is_single_value_test.py: a column
    `['a', 'a', 'a']`, and `[1, 1, np.nan]` which is single-valued once nulls are ignored).
    Two fields of the export carry nothing: `site_name` is the same string on every row and
    `consent_flag` is 1 or missing."""
    data = load(spec)
    g = rng(spec)
    df = data.frame
    df["site_name"] = "main_site"
    df["consent_flag"] = np.where(g.random(len(df)) < 0.2, np.nan, 1.0)
    data.categorical.append("site_name")
    data.numeric.append("consent_flag")
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(consent_flag_null_share=rnd(tr["consent_flag"].isna().mean()))
    return Scenario(
        spec.name,
        "single_value",
        data,
        spec.family,
        tr,
        te,
        "site_name is one string on every row; consent_flag is 1 or missing",
        [{"code": "features.constant", "columns": ["site_name", "consent_flag"]}],
        ["data.missing_values"],
        meas,
        "Deepchecks IsSingleValue (also single-valued with nulls ignored).",
        model=model,
    )


# --------------------------------------------------------------------------- near duplicates


@kind("near_duplicates", ["data.duplicates"])
def near_duplicates(spec: Spec) -> Scenario:
    """cleanlab Datalab `near_duplicate` issue (tests/datalab/issue_manager/test_duplicate.py:
    copies of rows with a tiny perturbation, found by nearest-neighbour distances far below the
    typical spacing). A second feed of the same records was appended: 20% of training rows again,
    with the continuous readings re-rounded (one decimal less) instead of exact copies."""
    data = load(spec)
    g = rng(spec)
    tr, te = split_data(data, spec)
    pick = g.random(len(tr)) < 0.2
    twins = tr[pick].copy()
    cont = [c for c in data.numeric if tr[c].nunique() > 50]
    for c in cont:
        twins[c] = (twins[c] * (1 + g.normal(0, 0.002, len(twins)))).round(1)
    tr2 = pd.concat([tr, twins]).sample(frac=1, random_state=spec.seed).reset_index(drop=True)
    model = train_model(data, spec.family, tr2, spec.seed)
    meas = headline(model, data, tr2, te)
    exact = tr2[data.features + [data.target]].astype(str).duplicated().mean()
    meas.update(
        near_copies=int(pick.sum()),
        near_copy_share=rnd(pick.sum() / len(tr2)),
        exact_duplicate_share=rnd(exact),
        perturbed_columns=cont,
    )
    return Scenario(
        spec.name,
        "near_duplicates",
        data,
        spec.family,
        tr2,
        te,
        f"{int(pick.sum())} training rows appended again with re-rounded readings ({', '.join(cont)})",
        [{"code": "data.duplicates"}],
        ["model.overfit", "data.train_test_overlap"],
        meas,
        "cleanlab Datalab near_duplicate.",
        model=model,
    )


# --------------------------------------------------------------------------- date leakage


@kind("date_leakage", ["evaluation.temporal_split"])
def date_leakage(spec: Spec) -> Scenario:
    """Deepchecks `DateTrainTestLeakageOverlap` (tests/tabular/checks/methodology/
    date_train_test_leakage_overlap_test.py: test dates that fall before the last training date).
    Time-stamped rows split at random: most evaluation rows have a training row from the same
    day, and same-day conditions (weather) let the model recall the day's outcome."""
    data = load(spec)
    tcol = data.time
    tr, te = split_data(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    before = (te[tcol] < tr[tcol].max()).mean()
    # the honest score: train on the earlier 70%, evaluate on the later 30%
    df = data.frame.sort_values(tcol).reset_index(drop=True)
    k = int(len(df) * 0.7)
    m2 = train_model(data, spec.family, df.iloc[:k], spec.seed)
    meas.update(
        {
            f"time_split_{k2}": v
            for k2, v in headline(m2, data, df.iloc[:k], df.iloc[k:]).items()
            if "test" in k2
        }
    )
    meas.update(test_rows_before_last_train_date=rnd(before))
    return Scenario(
        spec.name,
        "date_leakage",
        data,
        spec.family,
        tr,
        te,
        f"time-stamped rows split at random: {before:.0%} of evaluation rows precede the last training row",
        [{"code": "evaluation.temporal_split", "columns": [tcol]}],
        ["model.overfit", "production.data_drift"],
        meas,
        "Deepchecks DateTrainTestLeakageOverlap.",
        model=model,
        meta={"time_column": tcol},
    )
