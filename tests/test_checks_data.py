"""The data rung: each check fires on a small synthetic case built to show its failure, and stays
silent on a clean one."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import leakage, misalignment, noise, rows, target, values
from mltriage.context import Context
from mltriage.findings import Severity
from mltriage.registry import NotApplicable

# every check of the data layer by name, wherever its module is
D = SimpleNamespace(
    infinite_values=values.infinite_values,
    missing_values=values.missing_values,
    unseen_categories=values.unseen_categories,
    duplicates=rows.duplicates,
    train_test_overlap=rows.train_test_overlap,
    class_imbalance=target.class_imbalance,
    target_suspect=target.target_suspect,
    label_misalignment=misalignment.label_misalignment,
    label_leakage=leakage.label_leakage,
    label_noise=noise.label_noise,
)


def run(fn, ctx, **over):
    """The check's findings (through the registry's runner, so that the fires/silent marks see it)."""
    return checkhelp.run(fn, ctx, **over)


def alarms(fn, ctx, **over):
    return checkhelp.alarms(run(fn, ctx, **over))


def binary_frame(n=1500, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.exponential(2.0, size=n),
            "cat": rng.choice(["x", "y", "z"], size=n),
        }
    )
    logit = 2.0 * df.a - 1.5 * df.b + 0.5 * (df.cat == "x") + rng.logistic(scale=noise, size=n) * 0.5
    df["y"] = (logit > 0).astype(int)
    return df


def split(df, frac=0.7):
    k = int(len(df) * frac)
    return df.iloc[:k].reset_index(drop=True), df.iloc[k:].reset_index(drop=True)


def ctx_of(train, test, task="binary", model=None, **kw):
    return Context(build_case(train, test, "y", task=task, model=model, **kw))


@pytest.fixture(scope="module")
def clean():
    tr, te = split(binary_frame())
    return ctx_of(tr, te)


# ---------------------------------------------------------------- missing values


@pytest.mark.fires("data.missing_values")
def test_missing_values_fires_on_new_nans():
    tr, te = split(binary_frame())
    te.loc[te.sample(frac=0.25, random_state=0).index, "a"] = np.nan
    found = alarms(D.missing_values, ctx_of(tr, te))
    assert found and found[0].columns == ["a"]


@pytest.mark.silent("data.missing_values")
def test_missing_values_silent_when_rates_match():
    tr, te = split(binary_frame())
    rng = np.random.default_rng(1)
    tr.loc[rng.random(len(tr)) < 0.05, "b"] = np.nan
    te.loc[rng.random(len(te)) < 0.05, "b"] = np.nan
    assert alarms(D.missing_values, ctx_of(tr, te)) == []


# ---------------------------------------------------------------- unseen categories


@pytest.mark.fires("data.unseen_categories")
def test_unseen_categories_fires_and_rare_is_info():
    tr, te = split(binary_frame())
    te.loc[:99, "cat"] = "new"
    found = alarms(D.unseen_categories, ctx_of(tr, te))
    assert found and found[0].columns == ["cat"]
    te2 = split(binary_frame())[1]
    te2.loc[:2, "cat"] = "rare"
    out = run(D.unseen_categories, ctx_of(tr, te2))
    assert out and all(f.severity == Severity.INFO for f in out)


def test_unseen_category_on_small_data_is_judged_against_chance():
    """18 of 144 evaluation rows on a value no training row holds is no accident of the split
    (p ~ 1e-10), though fewer than the former 20-row floor; 6 singletons of a long-tailed column
    (4% of rows) are what a random split does with rare values: info."""
    rng = np.random.default_rng(0)
    n_tr, n_te = 400, 144
    tr = pd.DataFrame({"x": rng.normal(size=n_tr), "area": rng.choice(["a", "b", "c"], n_tr)})
    tr["y"] = (tr["x"] + rng.normal(size=n_tr) > 0).astype(int)
    te = pd.DataFrame({"x": rng.normal(size=n_te), "area": rng.choice(["a", "b", "c"], n_te)})
    te["y"] = (te["x"] > 0).astype(int)
    te2 = te.copy()
    te2.loc[:17, "area"] = "preferred"
    found = alarms(D.unseen_categories, ctx_of(tr, te2))
    assert found and found[0].columns == ["area"] and found[0].evidence["table"][0]["p_chance"] < 1e-6
    te3 = te.copy()
    te3.loc[:5, "area"] = [f"rare{i}" for i in range(6)]
    out = run(D.unseen_categories, ctx_of(tr, te3))
    assert out and all(f.severity == Severity.INFO for f in out)


def test_unseen_category_on_a_165_row_table():
    """6 of 54 evaluation rows on a category that none of 111 training rows holds: all six miss
    training by chance with probability (54/165)^6 = 0.0012, below alpha 0.01 (a warning); three
    such rows, 0.035, are what a random split can do (info)."""
    rng = np.random.default_rng(3)
    n_tr, n_te = 111, 54
    tr = pd.DataFrame({"x": rng.normal(size=n_tr), "race": rng.choice(["white", "other"], n_tr)})
    tr["y"] = (tr["x"] + rng.normal(size=n_tr) > 0).astype(int)
    te = pd.DataFrame({"x": rng.normal(size=n_te), "race": rng.choice(["white", "other"], n_te)})
    te["y"] = (te["x"] > 0).astype(int)
    six, three = te.copy(), te.copy()
    six.loc[:5, "race"] = "black"
    three.loc[:2, "race"] = "black"
    found = alarms(D.unseen_categories, ctx_of(tr, six))
    assert found and found[0].columns == ["race"]
    assert 0.001 < found[0].evidence["table"][0]["p_chance"] < 0.002
    out = run(D.unseen_categories, ctx_of(tr, three))
    assert out and all(f.severity == Severity.INFO for f in out)


@pytest.mark.silent("data.unseen_categories")
def test_unseen_categories_silent(clean):
    assert alarms(D.unseen_categories, clean) == []


# ---------------------------------------------------------------- duplicates and overlap


@pytest.mark.fires("data.duplicates")
def test_duplicates_fires_on_copies():
    tr, te = split(binary_frame(2000))
    tr = pd.concat([tr, tr.sample(frac=0.25, random_state=0)], ignore_index=True)
    found = alarms(D.duplicates, ctx_of(tr, te))
    assert found and 0.1 < found[0].evidence["copy_share"] < 0.3


@pytest.mark.silent("data.duplicates")
def test_duplicates_silent_on_natural_repeats():
    # coarse columns repeat by nature: many identical rows, none of them a copy
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame(
        {
            "g": rng.choice(list("ab"), n),
            "k": rng.integers(0, 3, n),
            "m": rng.integers(0, 2, n),
            "z": rng.normal(size=n),
        }
    )
    df["y"] = (df.k + rng.normal(size=n) > 1).astype(int)
    df.loc[: n // 2, "z"] = 0.0  # half the rows have no continuous value: repeats are natural
    tr, te = split(df)
    assert alarms(D.duplicates, ctx_of(tr, te)) == []


@pytest.mark.fires("data.train_test_overlap", severity="critical")
def test_train_test_overlap_fires():
    tr, te = split(binary_frame(2000))
    te = pd.concat([te.iloc[:400], tr.iloc[:200]], ignore_index=True)
    found = alarms(D.train_test_overlap, ctx_of(tr, te))
    assert found and found[0].severity == Severity.CRITICAL


@pytest.mark.silent("data.train_test_overlap")
def test_train_test_overlap_silent(clean):
    assert alarms(D.train_test_overlap, clean) == []


def iris_split(copy_frac=0.0, seed=0, model=True):
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    d = load_iris(as_frame=True).frame.rename(columns={"target": "y"})
    d = d.sample(frac=1, random_state=seed).reset_index(drop=True)
    tr, te = d.iloc[:100].reset_index(drop=True), d.iloc[100:].reset_index(drop=True)
    if copy_frac:
        k = int(round(copy_frac * len(te)))
        te = pd.concat([te.iloc[k:], tr.sample(k, random_state=seed)], ignore_index=True)
    m = (
        RandomForestClassifier(n_estimators=30, random_state=0).fit(tr.drop(columns="y"), tr.y)
        if model
        else None
    )
    return ctx_of(tr, te, task="multiclass", model=m)


@pytest.mark.silent("data.train_test_overlap")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_test_overlap_silent_on_iris_natural_twins(seed):
    # 150 rows at one decimal place: natural twins happen, and are judged against chance
    found = run(D.train_test_overlap, iris_split(seed=seed))
    assert checkhelp.alarms(found) == []
    for f in found:
        assert "nan" not in f.title


@pytest.mark.fires("data.train_test_overlap", severity="critical")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_test_overlap_fires_on_iris_with_15pc_copies(seed):
    found = alarms(D.train_test_overlap, iris_split(0.15, seed=seed))
    assert found and found[0].severity == Severity.CRITICAL
    ev = found[0].evidence
    assert (
        ev["twins_chance_can_explain_at_most"] < 0.5 * ev["rows_with_twin"] and ev["copy_share_ci"][0] > 0.03
    )
    assert "nan" not in found[0].title


@pytest.mark.fires("data.duplicates")
def test_duplicates_fires_on_small_coarse_data_with_copies():
    from sklearn.datasets import load_iris

    d = load_iris(as_frame=True).frame.rename(columns={"target": "y"})
    tr = pd.concat([d, d.sample(15, random_state=1)], ignore_index=True)
    assert alarms(D.duplicates, ctx_of(tr, d.iloc[:30], task="multiclass"))


@pytest.mark.silent("data.duplicates")
def test_duplicates_silent_on_rounded_correlated_columns():
    # breast cancer rounded to one significant digit: many natural twins between correlated columns
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer(as_frame=True).frame.iloc[:, list(range(6)) + [30]].rename(columns={"target": "y"})
    for c in d.columns[:-1]:
        d[c] = d[c].round(-int(np.floor(np.log10(d[c].abs().median()))))
    tr, te = split(d.sample(frac=1, random_state=0).reset_index(drop=True))
    assert alarms(D.duplicates, ctx_of(tr, te)) == []
    assert alarms(D.train_test_overlap, ctx_of(tr, te)) == []


def listing_sessions(n_sessions=150, per=20, seed=0):
    """Sessions of 20 listings from a monthly catalogue of 40 configurations (a few popular): the
    same configuration at the same price grade repeats inside a session by nature, and the rows
    of a session depend on each other through their month."""
    rng = np.random.default_rng(seed)
    parts = []
    for s in range(n_sessions):
        if s % 5 == 0:  # a new month, a new catalogue
            cat = pd.DataFrame(
                {
                    "speed": rng.choice([25, 33, 50, 66, 75, 100], 40, p=[0.1, 0.2, 0.3, 0.2, 0.1, 0.1])
                    + 0.0,
                    "ram": rng.choice([2, 4, 8, 16, 32], 40, p=[0.1, 0.4, 0.3, 0.15, 0.05]) + 0.0,
                    "disk": rng.choice(np.arange(80, 600, 40), 40) + 0.0,
                    "screen": rng.choice([14, 15, 17], 40) + 0.0,
                    "cd": rng.choice(["yes", "no"], 40),
                }
            )
        pick = cat.iloc[rng.choice(40, per, p=np.r_[[0.15, 0.1, 0.05], np.full(37, 0.7 / 37)])]
        pick = pick.reset_index(drop=True)
        price = (
            10 * pick.speed + 30 * pick.ram + pick.disk + 100 * (pick.cd == "yes") + rng.normal(0, 150, per)
        )
        pick["month"], pick["session"] = float(s // 5), s
        pick["y"] = pd.qcut(price.rank(method="first"), 5, labels=False).astype(int)
        parts.append(pick)
    d = pd.concat(parts, ignore_index=True)
    return d[d.session % 3 != 0].reset_index(drop=True), d[d.session % 3 == 0].reset_index(drop=True)


@pytest.mark.silent("data.duplicates")
@pytest.mark.parametrize("seed", [0, 1])
def test_duplicates_silent_on_natural_repeats_of_dependent_sessions(seed):
    # 13% of rows repeat one of their session: the chance model with independent columns expected
    # none (the old warning: "13.4% copies"); the near twins of the same data expect them all
    tr, te = listing_sessions(seed=seed)
    ctx = ctx_of(tr, te, task="ranking", group_column="session")
    found = run(D.duplicates, ctx)
    assert checkhelp.alarms(found) == []
    ev = found[0].evidence
    assert ev["duplicate_rows"] > 0.1 * len(tr) and ev["twin_pairs_ratio_ci"][0] < 1.2
    assert checkhelp.alarms(run(D.train_test_overlap, ctx)) == []


@pytest.mark.fires("data.duplicates")
@pytest.mark.fires("data.train_test_overlap")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_copies_found_in_small_coarse_dependent_data(seed):
    # 150 rows at one decimal place (as iris), columns that depend on each other, 15 copies planted in
    # training (and 10 training rows copied into the evaluation set)
    rng = np.random.default_rng(seed)
    n = 150
    a = rng.normal(5, 1, n)
    d = pd.DataFrame({"a": a.round(1), "b": (0.8 * a + rng.normal(0, 0.6, n)).round(1)})
    d["c"] = (0.5 * a + rng.normal(0, 0.8, n)).round(1)
    d["y"] = (d.a + rng.normal(0, 0.5, n) > 5).astype(int)
    tr, te = d.iloc[:100].reset_index(drop=True), d.iloc[100:].reset_index(drop=True)
    tr2 = pd.concat([tr, tr.sample(15, random_state=seed)], ignore_index=True)
    found = alarms(D.duplicates, ctx_of(tr2, te))
    assert found and found[0].evidence["copy_share_ci"][0] > 0.03
    te2 = pd.concat([te.iloc[10:], tr.sample(10, random_state=seed)], ignore_index=True)
    found = alarms(D.train_test_overlap, ctx_of(tr, te2))
    assert found and "nan" not in found[0].title


def entity_frame(n_entities=300, per=5, seed=0):
    # each patient has a hidden trait that drives the outcome; features identify the patient
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n_entities), per)
    trait = rng.normal(size=n_entities)[ids]
    home = rng.normal(size=(n_entities, 2))[ids] + rng.normal(0, 0.05, size=(len(ids), 2))
    df = pd.DataFrame({"patient_id": ids, "h1": home[:, 0], "h2": home[:, 1], "x": rng.normal(size=len(ids))})
    df["y"] = (trait + 0.3 * df.x + rng.normal(0, 0.3, len(ids)) > 0).astype(int)
    return df.sample(frac=1, random_state=seed).reset_index(drop=True)


def fitted(tr):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=50, random_state=0).fit(tr[["h1", "h2", "x"]], tr.y)


@pytest.mark.fires("data.train_test_overlap")
def test_train_test_overlap_names_an_entity_id_the_model_does_not_take():
    # returning and new patients in the evaluation set, split by row
    df = entity_frame()
    new = df.patient_id >= 240
    tr = df[~new].iloc[:900].reset_index(drop=True)
    te = pd.concat([df[~new].iloc[900:], df[new]], ignore_index=True)
    found = [f for f in alarms(D.train_test_overlap, ctx_of(tr, te, model=fitted(tr))) if f.columns]
    assert found and found[0].columns == ["patient_id"] and found[0].severity == Severity.WARNING
    ev = found[0].evidence
    assert ev["accuracy_on_seen_rows"] > ev["accuracy_on_unseen_rows"] + 0.1


@pytest.mark.fires("data.train_test_overlap")
def test_train_test_overlap_entity_seen_in_every_evaluation_row_judged_by_grouped_cv():
    # a panel split by row: every evaluation patient is in training, nothing unseen to compare
    # with, so cross-validation by row is compared with cross-validation by patient
    tr, te = split(entity_frame(200, 10))
    found = [f for f in alarms(D.train_test_overlap, ctx_of(tr, te, model=fitted(tr))) if f.columns]
    assert found and found[0].columns == ["patient_id"]
    ev = found[0].evidence
    assert ev["share_seen"] > 0.95 and ev["cv_accuracy_random_folds"] > ev["cv_accuracy_grouped_folds"] + 0.05


@pytest.mark.fires("data.train_test_overlap")
def test_train_test_overlap_few_entities_many_rows_each_are_entities():
    # 25 sites observed 40 times each (fewer values than 5% of the rows), split by row
    df = entity_frame(25, 40, seed=3).rename(columns={"patient_id": "site"})
    tr, te = split(df)
    found = [f for f in alarms(D.train_test_overlap, ctx_of(tr, te, model=fitted(tr))) if f.columns]
    assert found and found[0].columns == ["site"]
    assert found[0].evidence["cv_accuracy_random_folds"] > found[0].evidence["cv_accuracy_grouped_folds"]


@pytest.mark.fires("data.train_test_overlap")
def test_train_test_overlap_few_unseen_rows_judged_by_grouped_cv():
    # a row split of a panel plus one-visit patients: the unseen evaluation rows (about 5%) are
    # only the one-visit patients, no fair reference; row-wise vs grouped CV judges instead
    df = entity_frame(400, 5, seed=4)
    once = entity_frame(100, 1, seed=5)
    once["patient_id"] += 1000
    tr, te = split(pd.concat([df, once], ignore_index=True).sample(frac=1, random_state=0))
    found = [f for f in alarms(D.train_test_overlap, ctx_of(tr, te, model=fitted(tr))) if f.columns]
    assert found and found[0].columns == ["patient_id"]
    ev = found[0].evidence
    assert 0.8 < ev["share_seen"] < 0.99 and "cv_accuracy_grouped_folds" in ev


@pytest.mark.silent("data.train_test_overlap")
def test_train_test_overlap_silent_on_an_id_that_carries_nothing():
    # record batches of 40 rows (an id-like column) whose rows are independent draws: split by
    # row, every batch is on both sides, and grouping by it changes nothing
    rng = np.random.default_rng(6)
    n = 1200
    df = pd.DataFrame({"batch": np.arange(n) // 40, "h1": rng.normal(size=n), "h2": rng.normal(size=n)})
    df["x"] = rng.normal(size=n)
    df["y"] = (df.h1 + 0.5 * df.x + rng.normal(0, 0.5, n) > 0).astype(int)
    tr, te = split(df.sample(frac=1, random_state=0).reset_index(drop=True))
    assert alarms(D.train_test_overlap, ctx_of(tr, te, model=fitted(tr))) == []


@pytest.mark.fires("data.train_test_overlap", severity="critical")
def test_train_test_overlap_group_column_seen_entities_is_critical():
    df = entity_frame()
    # most evaluation rows are of seen patients, a fifth of unseen ones
    new = df.patient_id >= 240
    tr = df[~new].iloc[:900]
    te = pd.concat([df[~new].iloc[900:], df[new]], ignore_index=True)
    ctx = ctx_of(tr.reset_index(drop=True), te, model=fitted(tr), task="binary", group_column="patient_id")
    found = [f for f in alarms(D.train_test_overlap, ctx) if f.columns == ["patient_id"]]
    assert found and found[0].severity == Severity.CRITICAL
    assert found[0].evidence["accuracy_on_seen_rows"] > found[0].evidence["accuracy_on_unseen_rows"]


@pytest.mark.silent("data.train_test_overlap")
def test_train_test_overlap_silent_on_a_grouped_split():
    df = entity_frame()
    tr, te = df[df.patient_id < 210].reset_index(drop=True), df[df.patient_id >= 210].reset_index(drop=True)
    assert alarms(D.train_test_overlap, ctx_of(tr, te, model=fitted(tr))) == []
    ctx = ctx_of(tr, te, model=fitted(tr), task="binary", group_column="patient_id")
    assert alarms(D.train_test_overlap, ctx) == []


# ---------------------------------------------------------------- class imbalance


@pytest.mark.fires("data.class_imbalance")
def test_class_imbalance_fires_when_rare():
    df = binary_frame(3000)
    rng = np.random.default_rng(0)
    df["y"] = (rng.random(len(df)) < 0.03).astype(int)
    tr, te = split(df)
    found = alarms(D.class_imbalance, ctx_of(tr, te))
    assert found and found[0].classes == [1]


@pytest.mark.silent("data.class_imbalance")
def test_class_imbalance_silent_at_quarter(clean):
    # about a quarter positives: ordinary, not an alarm
    assert alarms(D.class_imbalance, clean) == []


# ---------------------------------------------------------------- target suspect


@pytest.mark.fires("data.target_suspect", severity="critical")
def test_target_suspect_fires_on_row_id():
    df = binary_frame(600)
    df["y"] = np.arange(len(df))
    tr, te = split(df)
    found = alarms(D.target_suspect, ctx_of(tr, te, task="regression"))
    assert found and found[0].severity == Severity.CRITICAL


@pytest.mark.fires("data.target_suspect")
def test_target_suspect_fires_when_mostly_missing():
    tr, te = split(binary_frame(1000))
    tr.loc[: int(len(tr) * 0.7), "y"] = np.nan
    assert alarms(D.target_suspect, ctx_of(tr, te))


@pytest.mark.silent("data.target_suspect")
def test_target_suspect_silent(clean):
    assert alarms(D.target_suspect, clean) == []


def diabetes_split(cap=None):
    from sklearn.datasets import load_diabetes

    d = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "y"})
    if cap is not None:
        d["y"] = d["y"].clip(upper=d["y"].quantile(cap))
    return split(d.sample(frac=1, random_state=0).reset_index(drop=True))


@pytest.mark.fires("data.target_suspect")
def test_target_suspect_fires_on_a_target_capped_at_a_ceiling():
    # 10% of the disease-progression scores top-coded at their 90th percentile (442 rows)
    tr, te = diabetes_split(cap=0.9)
    found = alarms(D.target_suspect, ctx_of(tr, te, task="regression"))
    assert found and found[0].severity == Severity.WARNING
    piles = found[0].evidence["piled_up_ends"]
    assert [pl["end"] for pl in piles] == ["cap"] and 0.05 < piles[0]["share"] < 0.15


@pytest.mark.silent("data.target_suspect")
def test_target_suspect_silent_on_an_uncensored_regression_target():
    tr, te = diabetes_split()
    assert alarms(D.target_suspect, ctx_of(tr, te, task="regression")) == []


@pytest.mark.fires("data.target_suspect", severity="critical")
def test_target_suspect_fires_on_a_constant_evaluation_target():
    tr, te = split(binary_frame(1000))
    te = te[te.y == 0].reset_index(drop=True)
    found = alarms(D.target_suspect, ctx_of(tr, te))
    assert (
        found and found[0].severity == Severity.CRITICAL and "evaluation target is constant" in found[0].title
    )


# ---------------------------------------------------------------- label leakage


@pytest.mark.fires("data.label_leakage")
def test_label_leakage_fires_on_post_outcome_column():
    df = binary_frame(2000)
    rng = np.random.default_rng(3)
    df["calls_after"] = np.where(df.y == 1, rng.poisson(5.0, len(df)), rng.poisson(0.05, len(df)))
    tr, te = split(df)
    found = alarms(D.label_leakage, ctx_of(tr, te))
    assert found and found[0].columns == ["calls_after"]


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_a_strong_driver():
    # regression: one real driver explains most of the variance, but far from all
    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame({"size": rng.exponential(1.0, n), "q": rng.integers(0, 5, n), "w": rng.normal(size=n)})
    df["y"] = 3 * df["size"] + 0.4 * df.q + 0.5 * df.w + rng.normal(0, 0.6, n)
    tr, te = split(df)
    assert alarms(D.label_leakage, ctx_of(tr, te, task="regression")) == []


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_a_strong_category_inflated_by_copies():
    # a real 300-level category (a region's base rate) in a training set where every row was
    # appended 5 times (oversampling before the split): each level then looks frequent and its
    # out-of-fold mean is the row's own label; scored on unique rows it is a driver, not a leak
    rng = np.random.default_rng(4)
    n = 1200
    region = rng.integers(0, 300, n)
    rate = rng.beta(2, 2, 300)[region]
    df = pd.DataFrame({"region": region.astype(str), "a": rng.normal(size=n)})
    df["y"] = (rng.random(n) < 0.7 * rate + 0.3 * (df.a > 0)).astype(int)
    tr, te = split(df)
    tr = pd.concat([tr] * 5, ignore_index=True)
    ctx = ctx_of(tr, te, categorical=["region"])
    assert alarms(D.label_leakage, ctx) == []


def _diabetes(n=None, seed=0):
    from sklearn.datasets import load_diabetes

    df = load_diabetes(as_frame=True).frame.rename(columns={"target": "y"})
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return df.iloc[:n] if n else df


@pytest.mark.fires("data.label_leakage")
def test_label_leakage_fires_on_a_weak_leak_in_small_data():
    # 250 diabetes rows plus a column recorded after the outcome: the target plus noise, R^2 about
    # 0.8 alone (far from perfect) while all ten real features together reach about 0.45
    df = _diabetes(250)
    rng = np.random.default_rng(5)
    df["followup_score"] = (df.y + rng.normal(0, 0.45 * df.y.std(), len(df))).round(0)
    tr, te = split(df)
    found = alarms(D.label_leakage, ctx_of(tr, te, task="regression"))
    assert found and found[0].columns == ["followup_score"]
    vr = found[0].evidence["versus_rest"]
    assert vr["low"] > 0.1 and vr["explaining_away_ratio"] > -0.5


@pytest.mark.fires("data.label_leakage")
def test_label_leakage_fires_on_a_not_near_perfect_binary_leak_with_few_rows():
    # 220 rows: a count recorded after the outcome (AUC about 0.85 alone) beside real features
    # that together reach about 0.75; critical because the model's AUC leans on it
    df = binary_frame(220, seed=7, noise=4.0)
    rng = np.random.default_rng(8)
    df["calls_after"] = rng.poisson(np.where(df.y == 1, 2.2, 0.4)).astype(float)
    tr, te = split(df)
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = tr.drop(columns="y")
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["cat"]), remainder="passthrough"),
        LogisticRegression(max_iter=1000),
    ).fit(X, tr.y)
    found = alarms(D.label_leakage, ctx_of(tr, te, model=model))
    assert found and found[0].columns == ["calls_after"]
    assert found[0].evidence["versus_rest"]["feature_alone"] < 0.95
    assert found[0].severity == Severity.CRITICAL
    assert found[0].evidence["evaluation_score_without_it"]["low"] > 0


def _permit_frame(wrong, seed=1, n=700):
    # 4 classes driven by four features; a permit category recorded with the outcome, replaced by
    # a random one for a share `wrong` of the rows
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    p = np.exp(0.9 * X)
    p /= p.sum(1, keepdims=True)
    y = np.array([rng.choice(4, p=pi) for pi in p])
    df = pd.DataFrame(X, columns=["f0", "f1", "f2", "f3"]).round(2)
    df["y"] = np.array(["a", "b", "c", "d"])[y]
    k = y.copy()
    noise = rng.random(n) < wrong
    k[noise] = rng.integers(0, 4, noise.sum())
    df["permit"] = np.array(["p1", "p2", "p3", "p4"])[k]
    return split(df)


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_calls_a_weak_categorical_record_of_a_multiclass_outcome_a_suspicion():
    # the permit right for 55% of rows plus chance: macro AUC about 0.07 above all the others
    # together, signature of a record read clearly, but it leaves far more than half of their
    # error, as a legitimate dominant driver does (anes96's self-placement for party): info only
    tr, te = _permit_frame(0.45)
    found = run(D.label_leakage, ctx_of(tr, te, task="multiclass", categorical=["permit"]))
    assert checkhelp.alarms(found) == [] and found[0].columns == ["permit"]
    vr = found[0].evidence["versus_rest"]
    assert vr["low"] > 0 and vr["error_left_share"] > 0.5
    assert vr["ratio_low"] > -0.5 and vr["ratio_high"] < 0.5


@pytest.mark.fires("data.label_leakage")
def test_label_leakage_fires_on_a_categorical_record_of_a_multiclass_outcome():
    # the same permit right for 85% of rows plus chance: it halves the others' error
    tr, te = _permit_frame(0.15)
    found = alarms(D.label_leakage, ctx_of(tr, te, task="multiclass", categorical=["permit"]))
    assert found and found[0].columns == ["permit"]
    assert found[0].evidence["versus_rest"]["error_left_share"] <= 0.5


@pytest.mark.fires("data.label_leakage")
def test_label_leakage_fires_on_a_partial_record_that_decides_the_class_of_most_rows():
    # the permit right for 70% of rows plus chance: its macro AUC leaves more than half of the
    # others' error (as a dominant legitimate driver's does), but it decides the class of about
    # two thirds of the rows beyond chance where the others together decide about a quarter
    tr, te = _permit_frame(0.30)
    found = alarms(D.label_leakage, ctx_of(tr, te, task="multiclass", categorical=["permit"]))
    assert found and found[0].columns == ["permit"] and found[0].severity == Severity.CRITICAL
    vr = found[0].evidence["versus_rest"]
    assert vr["error_left_share"] > 0.5 and vr["undecided_left_share"] <= 0.5
    assert vr["decided_alone"] > 0.5 > vr["decided_by_others"]


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_a_dominant_cause_that_decides_the_class_of_most_rows():
    # a region that sets the class of 70% of the rows, beside four features that set it for the
    # rest: it decides the class of as many rows as the permit above (kappa about 0.67, the
    # others about 0.10), but it is a cause: given the class it trades off against the others
    # (explaining-away ratio about -0.8), as a record of the outcome does not
    rng = np.random.default_rng(2)
    n = 700
    X = rng.normal(size=(n, 4))
    p = np.exp(1.2 * X)
    p /= p.sum(1, keepdims=True)
    from_x = np.array([rng.choice(4, p=pi) for pi in p])
    region = rng.integers(0, 4, n)
    df = pd.DataFrame(X, columns=["f0", "f1", "f2", "f3"]).round(2)
    df["region"] = np.array(["r1", "r2", "r3", "r4"])[region]
    df["y"] = np.array(["a", "b", "c", "d"])[np.where(rng.random(n) < 0.7, region, from_x)]
    tr, te = split(df)
    ctx = ctx_of(tr, te, task="multiclass", categorical=["region"])
    assert alarms(D.label_leakage, ctx) == []
    c = ctx.case
    res = leakage.versus_rest(
        "multiclass",
        ctx.encoded("train"),
        ctx.encoder.categorical_mask,
        ctx.y("train"),
        c.features.index("region"),
        c.classes,
        c.positive,
        0,
    )
    k_alone, k_others = res["decided"]
    assert (1 - k_alone) / (1 - k_others) <= 0.5 and res["signature"].ratio < -0.5


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_a_dominant_concurrent_measurement():
    # a reading score beside the math score it predicts: both measure one ability, which four weak
    # background features drive. Reading alone (R^2 about 0.45) beats them all together (about
    # 0.18) by far more than the margin, and given the target it reads like a record of it
    # (explaining-away ratio about 0.2, the others screened off), yet it leaves two thirds of
    # their error: a suspicion (info), not a leak (it does not far exceed them)
    rng = np.random.default_rng(0)
    n = 1500
    Z = rng.normal(size=(n, 4))
    ability = 0.25 * Z.sum(1) + rng.normal(0, 1.0, n)
    df = pd.DataFrame(Z, columns=["z0", "z1", "z2", "z3"]).round(2)
    df["reading"] = (ability + rng.normal(0, 1.0, n)).round(1)
    df["y"] = (ability + rng.normal(0, 0.5, n)).round(2)
    tr, te = split(df)
    found = run(D.label_leakage, ctx_of(tr, te, task="regression"))
    assert checkhelp.alarms(found) == []
    vr = found[0].evidence["versus_rest"]
    assert vr["low"] > 0.1 and vr["error_left_share"] > 0.6


@pytest.mark.fires("data.label_leakage")
def test_label_leakage_fires_when_the_others_leave_less_room_than_the_margin():
    # five real drivers together reach R^2 about 0.88; an invoiced amount recorded after the
    # outcome (the target scaled, plus noise) reaches about 0.97 alone: no feature can beat 0.88
    # by the 0.10 margin, but this one leaves a quarter of their error, with the signature of a
    # record of the outcome (ratio about 0) and the others screened off
    rng = np.random.default_rng(0)
    n = 1400
    X = rng.normal(size=(n, 5))
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).round(3)
    df["y"] = X @ np.array([1.0, 0.8, 0.6, 0.5, 0.4]) + rng.normal(0, 0.55, n)
    df["invoice"] = (1.1 * df.y + rng.normal(0, 0.3, n)).round(2)
    tr, te = split(df)
    found = alarms(D.label_leakage, ctx_of(tr, te, task="regression"))
    assert found and found[0].columns == ["invoice"]
    vr = found[0].evidence["versus_rest"]
    assert vr["difference"] < 0.10 and vr["error_left_share"] < 0.5 and vr["far_beyond_at"] < 0.10


def _production(seed=0, n=2000, noise=0.05):
    """Log output of firms from their log material inputs, staff and capital (Cobb-Douglas), all of
    which grow with the firm's size: materials alone reach R^2 about 0.97, the others about 0.94."""
    rng = np.random.default_rng(seed)
    size = rng.normal(0, 1.0, n)
    df = pd.DataFrame(
        {
            "log_inputs": size + rng.normal(0, 0.2, n),
            "log_staff": size + rng.normal(0, 0.5, n),
            "log_capital": size + rng.normal(0, 0.6, n),
        }
    ).round(3)
    df["y"] = 0.65 * df.log_inputs + 0.2 * df.log_staff + 0.15 * df.log_capital + rng.normal(0, noise, n)
    return df


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_a_production_function_the_others_complete():
    # materials dominate output and given output they barely trade off against staff and capital
    # (all measure size; ratio about -0.03), and beside them the others add little in absolute
    # terms (kept about 0.03): every earlier signature reads a record. But all three together
    # remove about half the error that a record of output would leave beside staff and capital
    tr, te = split(_production())
    ctx = ctx_of(tr, te, task="regression")
    assert alarms(D.label_leakage, ctx) == []  # before this rule: critical


@pytest.mark.fires("data.label_leakage")
def test_label_leakage_fires_on_a_record_of_output_beside_a_production_function():
    # the reported output (output plus a recording error) beside the same inputs, where the firms'
    # productivity varies (the inputs reach R^2 about 0.8): all the features together do no better
    # than the record and the inputs combined
    df = _production(seed=1, noise=0.5)
    rng = np.random.default_rng(2)
    df["reported_output"] = (df.y + rng.normal(0, 0.1, len(df))).round(3)
    tr, te = split(df)
    found = alarms(D.label_leakage, ctx_of(tr, te, task="regression"))
    assert found and found[0].columns == ["reported_output"]


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_breast_cancer_where_the_others_are_near_perfect():
    # the others together come near AUC 1, so the margin shrinks to half their error: the
    # strongest legitimate measurements (worst perimeter, area) still do not beat them
    from sklearn.datasets import load_breast_cancer

    df = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    tr, te = split(df.sample(frac=1.0, random_state=0).reset_index(drop=True))
    assert alarms(D.label_leakage, ctx_of(tr, te)) == []


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_diabetes_strongest_driver():
    # bmi and s5 are strong, but the other features together reach comparable power
    df = _diabetes()
    tr, te = split(df)
    assert alarms(D.label_leakage, ctx_of(tr, te, task="regression")) == []


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_a_dominant_binary_driver_beside_weak_others():
    # one cause far stronger than the others together (AUC 0.9 vs 0.6), acting beside them: once
    # the class is fixed it trades off against them (explaining away), as a leak does not
    rng = np.random.default_rng(1)
    n = 3000
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})
    df["y"] = (3 * df.a + 0.7 * df.b + 0.5 * df.c + rng.logistic(size=n) > 0).astype(int)
    tr, te = split(df)
    assert alarms(D.label_leakage, ctx_of(tr, te)) == []


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_a_driver_confounded_with_the_others():
    # size drives the price; quality is worse on bigger items (so alone it predicts little) but
    # adds its value beside size: the others keep their power, as they would not beside a leak
    rng = np.random.default_rng(6)
    n = 2000
    size = rng.exponential(1.0, n)
    quality = -0.8 * (size - 1.0) + rng.normal(0, 0.6, n)
    df = pd.DataFrame({"size": size, "quality": quality, "w": rng.normal(size=n)})
    df["y"] = 3 * df["size"] + 1.5 * df.quality + 0.3 * df.w + rng.normal(0, 0.4, n)
    tr, te = split(df)
    assert alarms(D.label_leakage, ctx_of(tr, te, task="regression")) == []


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent_on_a_driver_measured_by_the_others():
    # age drives the outcome and three markers that rise with age: age alone (AUC about 0.85)
    # beats the markers together (about 0.72) and screens them off, as a leak would, but it
    # shares with them at fixed outcome more than across outcomes (ratio about 2): the markers
    # measure age, a record of the outcome would be linked to them only through the outcome
    rng = np.random.default_rng(0)
    n = 3000
    z = rng.normal(size=n)
    df = pd.DataFrame({"age": (60 + 10 * z).round(0)})
    for name in ("marker_a", "marker_b", "marker_c"):
        df[name] = (0.35 * z + rng.normal(0, 0.7, n)).round(2)
    df["sex"] = rng.integers(0, 2, n)
    df["y"] = (1.8 * z + 0.2 * df.sex + rng.logistic(size=n) > 1.5).astype(int)
    tr, te = split(df)
    assert alarms(D.label_leakage, ctx_of(tr, te)) == []


@pytest.mark.silent("data.label_leakage")
def test_label_leakage_silent(clean):
    assert alarms(D.label_leakage, clean) == []


# ---------------------------------------------------------------- misalignment and noise (ladder)


@pytest.mark.fires("data.label_misalignment", severity="critical")
def test_label_misalignment_fires_on_shuffled_labels():
    df = binary_frame(3000)
    df["y"] = np.random.default_rng(0).permutation(df["y"].to_numpy())
    tr, te = split(df)
    found = alarms(D.label_misalignment, ctx_of(tr, te))
    assert found and found[0].severity == Severity.CRITICAL


@pytest.mark.silent("data.label_misalignment")
def test_label_misalignment_silent(clean):
    assert alarms(D.label_misalignment, clean) == []


def multiclass_frame(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    k = 4
    y = rng.integers(0, k, n)
    centres = rng.normal(scale=2.0, size=(k, 5))
    X = centres[y] + rng.normal(size=(n, 5))
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    df["y"] = y
    return df


@pytest.mark.fires("data.label_noise")
def test_label_noise_fires_on_flipped_labels():
    df = multiclass_frame()
    rng = np.random.default_rng(1)
    flip = rng.random(len(df)) < 0.25
    df.loc[flip, "y"] = (df.loc[flip, "y"] + rng.integers(1, 4, flip.sum())) % 4
    tr, te = split(df)
    found = alarms(D.label_noise, ctx_of(tr, te, task="multiclass"))
    assert found
    by_class = found[0].evidence["by_class"]  # per class, the share flagged, for the plot
    assert sorted(r["class"] for r in by_class) == [0, 1, 2, 3]
    for r in by_class:
        assert 0 <= r["low"] <= r["share"] <= r["high"] <= 1 and r["flagged"] <= r["rows"]
        assert r["share"] == pytest.approx(r["flagged"] / r["rows"], abs=1e-4)
    # the classes together make the share of the title
    n = sum(r["rows"] for r in by_class)
    share = sum(r["flagged"] for r in by_class) / n
    assert f"{share:.1%} of training labels" in found[0].title
    # flipped labels: more flagged than calibrated probabilities predict
    assert share > sum(r["expected"] * r["rows"] for r in by_class) / n


@pytest.mark.fires("data.label_noise")
def test_label_noise_fires_on_binary_flips_in_training_labels_only():
    # binary flips are absorbed by calibrated models; the train-vs-evaluation label gap shows them
    tr, te = split(binary_frame(4000, seed=3))
    rng = np.random.default_rng(2)
    flip = rng.random(len(tr)) < 0.2
    tr.loc[flip, "y"] = 1 - tr.loc[flip, "y"]
    found = alarms(D.label_noise, ctx_of(tr, te))
    assert found and "noisier than the evaluation labels" in found[0].title
    assert 0.05 < found[0].evidence["implied_wrong_label_share"] < 0.4
    by_class = found[0].evidence["by_class"]
    assert [r["class"] for r in by_class] == [0, 1] and all(0 <= r["low"] <= r["high"] <= 1 for r in by_class)


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_on_clean_binary_labels():
    tr, te = split(binary_frame(4000, seed=3))
    assert alarms(D.label_noise, ctx_of(tr, te)) == []


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_on_clean_labels():
    tr, te = split(multiclass_frame())
    assert alarms(D.label_noise, ctx_of(tr, te, task="multiclass")) == []


def _curated(te, margin=1.0):
    """The evaluation rows without their borderline cases (|true logit| below `margin`)."""
    keep = (2.0 * te.a - 1.5 * te.b + 0.5 * (te.cat == "x")).abs() >= margin
    return te[keep].reset_index(drop=True)


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_when_the_evaluation_set_is_curated():
    """Clean training labels, an evaluation set with its borderline cases removed: its labels look
    cleaner by selection, so it cannot be the chance rate; the fold models predict it more
    confidently than held-out training rows (one-sided KS), and the comparison is skipped."""
    tr, te = split(binary_frame(4000, seed=3))
    out = run(D.label_noise, ctx_of(tr, _curated(te)))
    assert checkhelp.alarms(out) == []
    note = [f for f in out if "not compared with evaluation labels" in f.title]
    assert note and "more confidently" in note[0].title
    assert max(r["d_plus"] for r in note[0].evidence["confidence_shift"].values()) >= 0.1


@pytest.mark.fires("data.label_noise")
def test_label_noise_still_fires_with_a_random_evaluation_set_of_the_same_size():
    """The same flips as above with an evaluation set that is a random sample (as many rows as
    the curated one): the premise holds (D+ small) and the comparison finds the noisier labels."""
    tr, te = split(binary_frame(4000, seed=3))
    rng = np.random.default_rng(2)
    flip = rng.random(len(tr)) < 0.2
    tr.loc[flip, "y"] = 1 - tr.loc[flip, "y"]
    te = te.sample(n=len(_curated(te)), random_state=0).reset_index(drop=True)
    assert alarms(D.label_noise, ctx_of(tr, te))


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_when_the_evaluation_target_is_constant():
    """An evaluation set holding one class (filtered on the outcome) gives no chance rate for the
    other class's training labels: no comparison, and the reason is said."""
    tr, te = split(binary_frame(4000, seed=3))
    out = run(D.label_noise, ctx_of(tr, te[te.y == 0].reset_index(drop=True)))
    assert checkhelp.alarms(out) == []
    assert any("hold no row of class 1" in f.title for f in out)


def test_label_noise_not_applicable_without_signal():
    df = binary_frame(800)
    df["y"] = np.random.default_rng(0).permutation(df["y"].to_numpy())
    tr, te = split(df)
    with pytest.raises(NotApplicable):
        run(D.label_noise, ctx_of(tr, te))


# ---------------------------------------------------------------- through diagnose, with a model


def test_diagnose_runs_the_data_rung_with_a_model():
    import mltriage

    tr, te = split(binary_frame())
    X = tr[["a", "b", "c"]]
    model = HistGradientBoostingClassifier(max_iter=30).fit(X, tr["y"])
    rep = mltriage.diagnose(
        tr[["a", "b", "c", "y"]], te[["a", "b", "c", "y"]], "y", model=model, task="binary", select=["data"]
    )
    bad = [f for f in rep.findings if f.severity.rank >= 1]
    assert bad == [], [f.title for f in bad]


# ---------------------------------------------------------------- multiclass generalisation


@pytest.mark.silent("data.class_imbalance")
def test_class_imbalance_multiclass_one_rare_class_among_balanced_is_info():
    rng = np.random.default_rng(1)
    n = 4000
    y = rng.choice(["a", "b", "c", "d", "rare"], size=n, p=[0.3, 0.25, 0.23, 0.19, 0.03])
    df = pd.DataFrame({"x": rng.normal(size=n), "y": y})
    tr, te = split(df)
    assert alarms(D.class_imbalance, ctx_of(tr, te, task="multiclass")) == []
    assert run(D.class_imbalance, ctx_of(tr, te, task="multiclass"))[0].classes == ["rare"]


@pytest.mark.fires("data.class_imbalance")
def test_class_imbalance_multiclass_fires_when_majority_dominates():
    rng = np.random.default_rng(2)
    n = 4000
    y = rng.choice(["a", "b", "rare"], size=n, p=[0.8, 0.17, 0.03])
    df = pd.DataFrame({"x": rng.normal(size=n), "y": y})
    tr, te = split(df)
    found = alarms(D.class_imbalance, ctx_of(tr, te, task="multiclass"))
    assert found and found[0].classes == ["rare"]


def weak_dominant_multiclass(n=3000, seed=0):
    """A dominant class (~75%) and a weak signal: accuracy barely beats the majority, yet every
    class is ranked well above chance."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    logits = np.stack([np.full(n, 2.2), 0.9 * X[:, 0], 0.9 * X[:, 1] - 0.3], axis=1)
    y = np.argmax(logits + rng.gumbel(size=(n, 3)), axis=1)
    df = pd.DataFrame(X, columns=["u", "v", "w"])
    df["y"] = np.array(["major", "left", "right"])[y]
    return df


@pytest.mark.silent("data.label_misalignment")
def test_label_misalignment_silent_on_weak_signal_multiclass():
    tr, te = split(weak_dominant_multiclass())
    assert alarms(D.label_misalignment, ctx_of(tr, te, task="multiclass")) == []


@pytest.mark.fires("data.label_misalignment", severity="critical")
def test_label_misalignment_fires_on_shifted_multiclass_labels():
    df = weak_dominant_multiclass()
    df = pd.concat(
        [df, multiclass_frame(3000).rename(columns={f"f{i}": f"g{i}" for i in range(5)}).drop(columns="y")],
        axis=1,
    )
    df["y"] = np.roll(df["y"].to_numpy(), 11)
    tr, te = split(df)
    found = alarms(D.label_misalignment, ctx_of(tr, te, task="multiclass"))
    assert found and found[0].severity == Severity.CRITICAL


# ---------------------------------------------------------------- infinite values


@pytest.mark.fires("data.infinite_values", severity="critical")
def test_infinite_values_fires_on_a_division_by_zero():
    tr, te = split(binary_frame())
    te["c"] = te["a"] / np.where(np.arange(len(te)) % 20 == 0, 0.0, 1.0)  # 5% of rows divide by zero
    found = alarms(D.infinite_values, ctx_of(tr, te))
    assert found and found[0].columns == ["c"] and found[0].severity == Severity.CRITICAL


@pytest.mark.silent("data.infinite_values")
def test_infinite_values_silent(clean):
    assert run(D.infinite_values, clean) == []


# ---------------------------------------------------------------- row identity


def ranking_frame(n_queries=300, per_query=10, seed=0):
    """Queries that draw items from one small catalogue: the same item (same features, same
    relevance) appears in many queries, which is no copy."""
    rng = np.random.default_rng(seed)
    items = pd.DataFrame({"price": rng.lognormal(3, 1, 400), "rating": rng.uniform(1, 5, 400)})
    items["y"] = (items.rating > 3.5).astype(int) + (items.rating > 4.5).astype(int)
    pick = np.concatenate([rng.choice(len(items), per_query, replace=False) for _ in range(n_queries)])
    df = items.iloc[pick].reset_index(drop=True)
    df["query"] = np.repeat(np.arange(n_queries), per_query)
    return df


@pytest.mark.silent("data.duplicates")
def test_duplicates_count_the_query_in_a_rows_identity():
    df = ranking_frame()
    tr, te = df[df["query"] < 200].reset_index(drop=True), df[df["query"] >= 200].reset_index(drop=True)
    ctx = ctx_of(tr, te, task="ranking", group_column="query")
    # by features and target alone, most rows repeat; with the query, none does
    assert pd.Series(ctx.row_hashes("train")).duplicated().mean() > 0.5
    assert not pd.Series(rows.identity_hashes(ctx, "train")).duplicated().any()
    assert alarms(D.duplicates, ctx) == []
    assert alarms(D.train_test_overlap, ctx) == []


def test_parameters_are_validated():
    from mltriage.errors import InputError

    with pytest.raises(InputError):
        D.missing_values.check.resolve({"alpha": 5})
    with pytest.raises(InputError):
        D.duplicates.check.resolve({"min_count": 0.5})


# ---------------------------------------------------------------- label noise: pairs, regression, small data


def _cancer(n_train: int, flip_share: float = 0.0, seed: int = 0):
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    d = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    d.columns = [c.replace(" ", "_") for c in d.columns]
    d = d.sample(frac=1, random_state=seed).reset_index(drop=True)
    tr, te = d.iloc[:n_train].copy(), d.iloc[n_train:].reset_index(drop=True)
    if flip_share:  # one annotator records class 1 as 0
        rng = np.random.default_rng(seed)
        m = (tr["y"] == 1).to_numpy() & (rng.uniform(size=len(tr)) < flip_share)
        tr.loc[m, "y"] = 0
    tr = tr.reset_index(drop=True)
    feats = [c for c in d.columns if c != "y"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(tr[feats], tr["y"])
    return ctx_of(tr, te, model=model)


@pytest.mark.fires("data.label_noise")
def test_label_noise_names_a_class_conditional_flip_on_150_rows():
    found = alarms(D.label_noise, _cancer(150, flip_share=0.3))
    assert found and [str(c) for c in found[0].classes] == ["1", "0"]
    pair = found[0].evidence["flipped_pair"]
    lo, hi = pair["ci"]
    assert 0 < lo <= pair["flipped_share"] <= hi and pair["share_evaluation"] < pair["share_training"]


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_on_150_clean_rows():
    assert alarms(D.label_noise, _cancer(150)) == []


def _regression(n: int, unit_errors: float, seed: int = 4):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(1, 3, size=n)})
    df["y"] = 50 + 20 * df["a"] + 15 * df["b"] + rng.normal(scale=3.0, size=n)
    tr, te = split(df)
    tr = tr.copy()
    m = rng.uniform(size=len(tr)) < unit_errors  # entered in another unit
    tr.loc[m, "y"] = tr.loc[m, "y"] * 10
    return ctx_of(tr, te, task="regression")


@pytest.mark.fires("data.label_noise")
def test_label_noise_fires_on_regression_targets_in_another_unit():
    found = alarms(D.label_noise, _regression(600, 0.08))
    assert found
    ev = found[0].evidence
    assert ev["flagged_training"] > ev["flagged_expected"] and ev["excess_ci"][0] > 0
    assert ev["examples"][0]["residual_over_spread"] > 4


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_on_clean_regression_targets():
    f = run(D.label_noise, _regression(600, 0.0))
    assert f and all(x.severity == Severity.INFO for x in f)


@pytest.mark.silent("data.label_misalignment")
def test_label_misalignment_silent_when_a_few_regression_targets_are_in_another_unit():
    """Targets x10 in 8% of rows wreck R^2 and Pearson's r of the fold models' predictions, not
    the order of the targets: the rank correlation still shows labels that belong to their rows
    (that is data.label_noise, not misalignment)."""
    out = run(D.label_misalignment, _regression(1500, 0.08))
    assert checkhelp.alarms(out) == []


@pytest.mark.fires("data.label_misalignment", severity="critical")
def test_label_misalignment_fires_on_shuffled_regression_targets_with_unit_errors():
    ctx = _regression(1500, 0.08)
    tr = ctx.case.train.copy()
    tr["y"] = np.random.default_rng(0).permutation(tr["y"].to_numpy())
    found = alarms(D.label_misalignment, ctx_of(tr, ctx.case.test, task="regression"))
    assert found and found[0].evidence["table"][0]["spearman"] < 0.1


def _weak_binary(flip_share: float, shift: float = 0.0, seed: int = 3, n: int = 2000):
    """Weak features (AUC about 0.7, as in survey data): 1,400 training and 600 evaluation rows;
    `flip_share` of class 1's training labels recorded as 0; `shift` moves the evaluation rows'
    features (their labels follow the same rule)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    X[1400:, 0] += shift
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-0.8 + 0.7 * X[:, 0] + 0.4 * X[:, 1])))).astype(int)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    tr, te = df.iloc[:1400].copy(), df.iloc[1400:].reset_index(drop=True)
    m = (tr["y"] == 1).to_numpy() & (rng.uniform(size=len(tr)) < flip_share)
    tr.loc[m, "y"] = 0
    model = LogisticRegression().fit(tr[["a", "b", "c"]], tr["y"])
    return ctx_of(tr, te, model=model)


@pytest.mark.fires("data.label_noise")
def test_label_noise_class_conditional_flip_with_weak_features_is_a_label_shift():
    # the models absorb a uniform flip (calibrated to the noisy labels): only the evaluation
    # labels show it, as more class 1 at the same features than the training labelling predicts
    found = alarms(D.label_noise, _weak_binary(0.4))
    assert found and [int(c) for c in found[0].classes] == [1, 0]
    pair = found[0].evidence["flipped_pair"]
    assert pair["from"] == "label_shift" and pair["ci"][0] < 0.4 < pair["ci"][1]


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_when_only_the_features_move_between_the_sets():
    # a covariate shift changes the class mix of the evaluation set, but the models' probabilities
    # move with the features: no label shift at the same features
    assert alarms(D.label_noise, _weak_binary(0.0, shift=0.8)) == []


def _iris_with_text_column(seed: int):
    """Iris with a text field `lab_site` missing in 15% of rows (real nulls in training)."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    rng = np.random.default_rng(seed)
    df = X.assign(lab_site=rng.choice(["north", "south", "east"], len(X)).astype(object), kind=y.astype(str))
    df = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    df.loc[rng.random(len(df)) < 0.15, "lab_site"] = None
    return df.iloc[:100].reset_index(drop=True), df.iloc[100:].reset_index(drop=True)


@pytest.mark.fires("data.missing_values")
def test_missing_values_spelled_as_text_only_in_evaluation():
    """Deepchecks' MixedNulls: the evaluation export writes the gaps as 'N/A', '', 'null'."""
    tr, te = _iris_with_text_column(0)
    te["lab_site"] = te["lab_site"].astype(object)
    miss = te["lab_site"].isna().to_numpy()
    te.loc[miss, "lab_site"] = np.resize(np.array(["N/A", " ", "null"], dtype=object), int(miss.sum()))
    found = checkhelp.run(
        values.missing_values, Context(build_case(tr, te, "kind", categorical=["lab_site"])), min_count=3
    )
    warn = [f for f in found if f.severity == Severity.WARNING]
    assert warn and warn[0].columns == ["lab_site"] and "N/A" in warn[0].title
    assert warn[0].evidence["table"][0]["train_spellings"] == {"<null>": int(tr["lab_site"].isna().sum())}


@pytest.mark.silent("data.missing_values")
def test_missing_values_same_spelling_in_both_sets_is_silent():
    """Real nulls in both sets at the same rate: nothing to report above info."""
    tr, te = _iris_with_text_column(1)
    found = checkhelp.run(
        values.missing_values, Context(build_case(tr, te, "kind", categorical=["lab_site"])), min_count=3
    )
    assert not [f for f in found if f.severity != Severity.INFO]


def _diabetes_split():
    from sklearn.datasets import load_diabetes

    d = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "y"})
    return split(d.sample(frac=1, random_state=0).reset_index(drop=True))


@pytest.mark.fires("data.duplicates")
def test_duplicates_fires_on_near_copies():
    """cleanlab's near_duplicate: 20% of training rows appended again with every continuous
    reading re-scaled by ~0.2% and re-rounded (no exact copy among them)."""
    tr, te = _diabetes_split()
    rng = np.random.default_rng(3)
    twins = tr.sample(frac=0.2, random_state=3).copy()
    for c in ["bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]:
        twins[c] = (twins[c] * (1 + rng.normal(0, 0.002, len(twins)))).round(2)
    tr2 = pd.concat([tr, twins], ignore_index=True)
    assert not tr2.duplicated().any()
    found = alarms(D.duplicates, ctx_of(tr2, te, task="regression"))
    assert found and "Near copies" in found[0].title
    assert 0.03 < found[0].evidence["near_copies"]["copy_share"] < 0.2


@pytest.mark.silent("data.duplicates")
def test_duplicates_silent_on_clean_continuous_data():
    """Diabetes split at random: no near copy beyond what its coarse columns give by chance."""
    tr, te = _diabetes_split()
    assert not alarms(D.duplicates, ctx_of(tr, te, task="regression"))


def _diabetes_sets(seed=0):
    from sklearn.datasets import load_diabetes

    df = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "y"})
    return split(df.sample(frac=1, random_state=seed).reset_index(drop=True))


@pytest.mark.fires("data.missing_values")
def test_missing_values_fires_on_a_number_standing_for_missing():
    # Foidl et al.'s "Dummy Value": the source writes -999 where the BMI was not measured
    tr, te = _diabetes_sets()
    rng = np.random.default_rng(2)
    tr.loc[rng.random(len(tr)) < 0.15, "bmi"] = -999.0
    te.loc[rng.random(len(te)) < 0.25, "bmi"] = -999.0
    found = alarms(D.missing_values, ctx_of(tr, te, task="regression"))
    assert len(found) == 1 and found[0].columns == ["bmi"] and "-999" in found[0].title
    assert {r["set"] for r in found[0].evidence["table"]} == {"train", "test"}


@pytest.mark.silent("data.missing_values")
def test_missing_values_silent_on_natural_modes_at_the_edge():
    # breast_cancer's concavity columns hold exact zeros next to tiny values; a zero-inflated
    # count (most rows 0) and a column capped at its maximum are modes of the data, not placeholders
    from sklearn.datasets import load_breast_cancer

    df = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    rng = np.random.default_rng(3)
    df["claims"] = np.where(rng.random(len(df)) < 0.9, 0.0, rng.integers(150, 4000, len(df)))
    df["capped"] = np.minimum(rng.lognormal(3, 1, len(df)), 60.0)
    tr, te = split(df.sample(frac=1, random_state=0).reset_index(drop=True))
    assert alarms(D.missing_values, ctx_of(tr, te)) == []


@pytest.mark.silent("data.missing_values")
def test_missing_values_silent_on_a_far_level_of_a_coded_column():
    # a plan's log-coinsurance takes three levels; the batch's third level lies far from the two
    # close others (many of their tiny interquartile ranges away): a level, not a placeholder
    tr, te = _diabetes_sets(seed=1)
    rng = np.random.default_rng(4)
    te["plan_level"] = rng.choice([4.5643, 4.6151, 3.9318], size=len(te), p=[0.4, 0.33, 0.27])
    tr["plan_level"] = rng.choice([4.5643, 4.6151, 3.9318], size=len(tr), p=[0.4, 0.33, 0.27])
    assert alarms(D.missing_values, ctx_of(tr, te, task="regression")) == []


# ---------------------------------------------------------------- label noise: no signal, grouped splits


def _no_signal(seed: int, flip: float = 0.0, n: int = 1500):
    """Three classes that the features do not predict, split at random; `flip` of class 1's
    training labels recorded as class 0 (the evaluation labels are clean)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(list("xyz"), n)})
    df["y"] = rng.choice(3, n, p=[0.45, 0.35, 0.2])
    tr, te = split(df)
    if flip:
        m = (tr["y"] == 1).to_numpy() & (rng.random(len(tr)) < flip)
        tr.loc[m, "y"] = 0
    return ctx_of(tr, te, task="multiclass")


@pytest.mark.fires("data.label_noise")
def test_label_noise_names_a_flipped_class_when_no_baseline_beats_the_majority():
    """No row can be judged, but the training labels say class 1 less often than the evaluation
    labels (at the same features: here the class mix): the pair is named with its share."""
    found = alarms(D.label_noise, _no_signal(5, flip=0.4))
    assert found and found[0].classes == [1, 0]
    pair = found[0].evidence["flipped_pair"]
    lo, hi = pair["ci"]
    assert lo < 0.4 < hi and lo > 0.1
    assert "no baseline beats the majority class" in found[0].title


def test_label_noise_not_applicable_without_signal_on_clean_classes():
    for seed in (5, 6):
        with pytest.raises(NotApplicable):
            run(D.label_noise, _no_signal(seed))


def _panel(seed: int = 0, flip: float = 0.0, n_hh: int = 300, per: int = 8, k: int = 4):
    """Households each loyal to their own brands (Dirichlet(0.3)-weighted shares) buying one of k
    brands, the prices moving the choice a little; the split keeps households apart (70/30), as a
    scanner panel's does. `flip`: that share of brand 1's training labels recorded as brand 0."""
    rng = np.random.default_rng(seed)
    pref = rng.dirichlet(0.3 * np.array([3, 2, 1.5, 1]), n_hh)
    hh = np.repeat(np.arange(n_hh), per)
    price = rng.normal(size=(len(hh), k)).round(2)
    logit = np.log(pref[hh] + 1e-3) - 0.7 * price
    pr = np.exp(logit - logit.max(1, keepdims=True))
    pr /= pr.sum(1, keepdims=True)
    y = (pr.cumsum(1) < rng.random((len(hh), 1))).sum(1)
    df = pd.DataFrame(price, columns=[f"price_{j}" for j in range(k)]).assign(household=hh, y=y)
    train_hh = rng.permutation(n_hh)[: int(0.7 * n_hh)]
    tr = df[df.household.isin(train_hh)].reset_index(drop=True)
    te = df[~df.household.isin(train_hh)].reset_index(drop=True)
    if flip:
        m = (tr["y"] == 1).to_numpy() & (rng.random(len(tr)) < flip)
        tr.loc[m, "y"] = 0
    return ctx_of(tr, te, task="multiclass")


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_on_a_panel_split_by_household():
    """90 households' brands differ from 210 households' by more than 720 independent rows would:
    the label shift's spreads are counted in households (cluster-robust), so the clean panel
    stays quiet where the row count alone calls one brand flipped into another (below)."""
    assert alarms(D.label_noise, _panel(3)) == []


def test_label_noise_counted_in_rows_names_a_pair_on_the_clean_panel(monkeypatch):
    """The comparison above with the split's entity unseen (spreads counted in rows)."""
    monkeypatch.setattr(noise, "split_entities", lambda ctx, res: None)
    assert alarms(D.label_noise, _panel(3))


@pytest.mark.fires("data.label_noise")
def test_label_noise_names_a_flip_on_a_panel_split_by_household():
    """The same panel with 40% of brand 1's training labels recorded as brand 0: found, named."""
    found = alarms(D.label_noise, _panel(3, flip=0.4))
    assert found and found[0].classes == [1, 0]


def _small_shuffled_binary(n=575, seed=5):
    """About 400 training rows with a positive share near 20% (HOLDOUT6 relapse's shape): an
    AUC's 95% interval at chance is about +-0.07, wider than the check's margin (0.05)."""
    rng = np.random.default_rng(seed)
    df = binary_frame(n, seed=seed)
    df["y"] = (rng.uniform(size=n) < 0.2).astype(int)  # labels that do not belong to their rows
    return split(df)


@pytest.mark.fires("data.label_misalignment", severity="info")
def test_label_misalignment_says_it_cannot_judge_shuffled_labels_on_few_rows():
    tr, te = _small_shuffled_binary()
    out = run(D.label_misalignment, ctx_of(tr, te))
    assert len(out) == 1 and out[0].severity == Severity.INFO
    assert "cannot judge" in out[0].title
    table = out[0].evidence["table"]
    assert any(r["high"] >= r["dummy"] + out[0].evidence["margin"] for r in table)
    assert all(r["evaluation"] is not None for r in table)


@pytest.mark.silent("data.label_misalignment")
def test_label_misalignment_says_nothing_when_a_model_shows_signal_on_few_rows():
    """The same small shape with labels that belong to their rows: a model beats the dummy with
    confidence out of fold and on the evaluation rows, so silence is a verdict (not even info)."""
    tr, te = split(binary_frame(575, seed=5))
    assert run(D.label_misalignment, ctx_of(tr, te)) == []
