"""Coarse survey-like data whose rows repeat for real: people answer with a few coarse values
and are observed in several years, with an outcome that persists (a person who sees a doctor one
year tends to the next). Twins there are natural repeats, not copies (checks/data/repeats.py), and
repeated rows whose labels differ are not label noise (checks/data/noise.label_blind)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import noise, rows
from mltriage.context import Context


def survey(
    people: int = 700, seed: int = 0, intercept: float = 0.0, persist: float = 1.0, years: int = 4
) -> pd.DataFrame:
    """People with fixed coarse answers (age band, region, plan, chronic count, self-rated health,
    log income at one decimal: most people have a feature vector of their own) observed 1 to
    `years` years; each year's outcome is a draw of a logit model plus the person's own
    lasting propensity (sd `persist`): rows of one person repeat every feature and, more often
    than p(y | x) says, the outcome."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {
            "age_band": rng.choice(6, people, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05]).astype(float),
            "region": rng.choice(["n", "s", "e", "w"], people, p=[0.4, 0.3, 0.2, 0.1]),
            "plan": rng.choice(3, people, p=[0.5, 0.3, 0.2]).astype(float),
            "chronic": np.minimum(rng.poisson(0.8, people), 4).astype(float),
            "health": rng.choice(["excellent", "good", "fair", "poor"], people, p=[0.45, 0.35, 0.15, 0.05]),
            "log_income": np.round(rng.normal(10, 0.6, people), 1),
        }
    )
    trait = rng.normal(0, persist, people)
    seen = rng.integers(1, years + 1, people)
    d = base.loc[np.repeat(np.arange(people), seen)].reset_index(drop=True)
    u = np.repeat(trait, seen)
    lin = (
        intercept
        + 0.3 * d.age_band
        - 0.4 * d.plan
        + 0.5 * d.chronic
        + d.health.map({"excellent": -0.5, "good": 0.0, "fair": 0.5, "poor": 1.0})
        + u
    )
    d["y"] = (rng.random(len(d)) < 1 / (1 + np.exp(-lin))).astype(int)
    return d.sample(frac=1, random_state=seed).reset_index(drop=True)


def split(d: pd.DataFrame, frac: float = 0.7) -> tuple[pd.DataFrame, pd.DataFrame]:
    k = int(len(d) * frac)
    return d.iloc[:k].reset_index(drop=True), d.iloc[k:].reset_index(drop=True)


def ctx_of(tr: pd.DataFrame, te: pd.DataFrame) -> Context:
    return Context(build_case(tr, te, "y", task="binary", categorical=["region", "health"]))


@pytest.mark.silent("data.duplicates")
@pytest.mark.silent("data.train_test_overlap")
@pytest.mark.parametrize("seed", [0, 1])
def test_persisting_outcomes_of_people_observed_again_are_natural_repeats(seed):
    """The twin counts call these rows copies (same person, same answers, an outcome that
    persists), and on 1,700 rows the labels cannot rule out as many copies as the counts claim;
    but at most half the twin rows carry a copied label, where a copy carries it always."""
    tr, te = split(survey(seed=seed))
    ctx = ctx_of(tr, te)
    for fn in (rows.duplicates, rows.train_test_overlap):
        found = checkhelp.run(fn, ctx)
        assert checkhelp.alarms(found) == [], found
        (f,) = [f for f in found if f.code == fn.check.code]
        assert "natural repeats" in f.title
        assert f.evidence["p_value_no_copies"] < 0.001
        assert f.evidence["label_copy_share_ci"][1] < 0.5


@pytest.mark.fires("data.train_test_overlap")
def test_copies_among_people_observed_again_are_found():
    """The survey (each person once: few natural repeats) with a quarter of the evaluation rows
    re-pulled from training: the copies' labels agree with their originals always. (Copies among
    many people observed again agree as a persisting outcome does: not told apart, repeats.py.)"""
    tr, te = split(survey(1500, seed=2, years=1))
    k = len(te) // 4
    te = pd.concat([te.iloc[k:], tr.sample(k, random_state=2)], ignore_index=True)
    found = checkhelp.alarms(checkhelp.run(rows.train_test_overlap, ctx_of(tr, te)))
    assert found and found[0].code == "data.train_test_overlap"
    assert found[0].evidence["label_copy_share_ci"][1] >= 0.5


@pytest.mark.silent("data.label_noise")
@pytest.mark.parametrize("intercept", [0.0, -3.5])
def test_repeated_rows_with_other_labels_are_not_label_noise(intercept):
    """Evaluation rows equal to a training row are left out of the fold models' scoring (copies);
    on repeated rows that drops the repeats whose label agrees with training and keeps those that
    differ, which read as flipped labels unless training rows are chosen by the same rule.
    intercept -3.5: a rare outcome (about 8%), where almost every repeat agrees."""
    tr, te = split(survey(1200, seed=3, intercept=intercept))
    assert checkhelp.alarms(checkhelp.run(noise.label_noise, ctx_of(tr, te))) == []


@pytest.mark.fires("data.label_noise")
def test_flipped_labels_among_repeated_rows_are_found():
    """The same survey with 30% of the positive training labels recorded as negative."""
    tr, te = split(survey(1200, seed=4))
    rng = np.random.default_rng(4)
    pos = np.flatnonzero(tr.y.to_numpy() == 1)
    tr.loc[rng.choice(pos, int(0.3 * len(pos)), replace=False), "y"] = 0
    found = checkhelp.alarms(checkhelp.run(noise.label_noise, ctx_of(tr, te)))
    assert found and found[0].code == "data.label_noise"


def shelf_panel(purchases: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Purchases of one of four brands, the features the four shelf prices of the store-week
    (each price on a grid of 5 to 12 values): every household shopping that store-week sees the
    same prices, so about 150 price vectors hold every row, and the brand is a draw of the
    store's own mix (its customers' tastes, which no price records) shifted by the prices."""
    rng = np.random.default_rng(seed)
    weeks = 160
    prices = np.column_stack([rng.choice(np.arange(k) * 10.0 + 80, weeks) for k in (8, 12, 8, 5)])
    taste = rng.normal(0, 0.8, (weeks, 4))
    week = rng.choice(weeks, purchases, p=rng.dirichlet(np.ones(weeks)))
    util = taste[week] - 0.03 * prices[week] + np.array([1.0, 0.4, 0.0, -0.2])
    pr = np.exp(util - util.max(axis=1, keepdims=True))
    pr /= pr.sum(axis=1, keepdims=True)
    brand = (rng.random(purchases)[:, None] > np.cumsum(pr, axis=1)).sum(axis=1)
    d = pd.DataFrame(prices[week], columns=["p_a", "p_b", "p_c", "p_d"])
    d["y"] = np.array(["a", "b", "c", "d"])[np.minimum(brand, 3)]
    return d


def panel_ctx(tr: pd.DataFrame, te: pd.DataFrame) -> Context:
    return Context(build_case(tr, te, "y", task="multiclass"))


@pytest.mark.silent("data.duplicates")
@pytest.mark.silent("data.train_test_overlap")
def test_store_week_prices_seen_by_every_household_are_natural_repeats():
    """Almost every row repeats (the store-week's prices), and twin pairs run above the near
    twins' rate (a store's customers choose alike, beyond what the near twins foresee: the counts
    call every twin a copy). The labels, weighed by what a feature vector can say about copies
    (`stats.twin_labels._group_copies`), bound the copies within training below half the twin
    rows; across the split they agree as alike as within training (`repeats.agree_as_elsewhere`)."""
    tr, te = split(shelf_panel())
    ctx = panel_ctx(tr, te)
    for fn in (rows.duplicates, rows.train_test_overlap):
        found = checkhelp.run(fn, ctx)
        assert checkhelp.alarms(found) == [], found
        (f,) = [f for f in found if f.code == fn.check.code]
        assert "natural repeats" in f.title


def test_a_copy_adds_a_pair_with_each_natural_twin():
    """Twin pairs 1.49 times the chance rate among rows that repeat by nature (each row's group
    about 25 rows): the 20,000 excess pairs are about 800 copies, not 20,000 (every twin row, and
    "chance explains 0"); among unique rows a copy adds one pair."""
    from mltriage.stats.rows import ChanceTwins, copies_beyond_chance, pairs_per_copy_of

    ct = ChanceTwins(61081.0, 41081.0, 44735.0, 1.487, 1.396, 1.584, 1e-30, 230186.0)
    per = pairs_per_copy_of(ct.expected, 3446)
    f = copies_beyond_chance(ct, 3015, 3446, per)
    assert 20 < per < 30 and 600 < f.copy_share * 3446 < 1000 and f.chance_expected > 2000
    unique = copies_beyond_chance(
        ChanceTwins(700.0, 10.0, 15.0, 70.0, 60.0, 80.0, 0.0, 300.0), 690, 3000, pairs_per_copy_of(10.0, 3000)
    )
    assert unique.copy_share * 3000 > 680


def household_panel(purchases: int = 2500, households: int = 400, seed: int = 0) -> pd.DataFrame:
    """Purchases as a scanner panel records them: the four shelf prices of the store-week (a grid
    of 5 to 12 values; every household at that store that week sees the same prices), the brand
    bought, a draw of the household's own lasting taste shifted by the prices, and the household's
    id, which the model does not take: rows repeat each other in the model's columns by the
    hundred, and the households' loyalty makes their labels agree beyond p(y | prices)."""
    rng = np.random.default_rng(seed)
    stores, weeks = 8, 40
    prices = np.column_stack([rng.choice(np.arange(k) * 10.0 + 80, stores * weeks) for k in (8, 12, 8, 5)])
    home = rng.integers(0, stores, households)
    taste = rng.normal(0, 1.5, (households, 4))
    hh = rng.integers(0, households, purchases)
    sw = home[hh] * weeks + rng.integers(0, weeks, purchases)
    util = taste[hh] - 0.03 * prices[sw] + np.array([1.0, 0.4, 0.0, -0.2])
    pr = np.exp(util - util.max(axis=1, keepdims=True))
    pr /= pr.sum(axis=1, keepdims=True)
    brand = (rng.random(purchases)[:, None] > np.cumsum(pr, axis=1)).sum(axis=1)
    d = pd.DataFrame(prices[sw], columns=["p_a", "p_b", "p_c", "p_d"])
    d["household"] = hh
    d["y"] = np.array(["a", "b", "c", "d"])[np.minimum(brand, 3)]
    return d


def by_household(d: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """70% of the households' purchases for training, the others' for evaluation."""
    hs = d.household.unique()
    np.random.default_rng(seed).shuffle(hs)
    m = d.household.isin(hs[: int(0.7 * len(hs))]).to_numpy()
    return d[m].reset_index(drop=True), d[~m].reset_index(drop=True)


def household_ctx(tr: pd.DataFrame, te: pd.DataFrame) -> Context:
    from sklearn.linear_model import LogisticRegression

    cols = ["p_a", "p_b", "p_c", "p_d"]
    model = LogisticRegression(max_iter=500).fit(tr[cols], tr.y)
    return Context(build_case(tr, te, "y", task="multiclass", model=model))


@pytest.mark.silent("data.duplicates")
@pytest.mark.silent("data.train_test_overlap")
def test_shelf_prices_of_other_households_are_other_records():
    """Half the training rows and 80% of the evaluation rows equal a training row in the model's
    columns (the twin pairs run above the near twins' rate, and the loyal households' labels
    agree as copies': before, a warning and a critical); as records, the household differs:
    3.7% of training rows repeat one (the same household buying again), no more than chance,
    and no evaluation row does."""
    tr, te = by_household(household_panel())
    ctx = household_ctx(tr, te)
    dup = checkhelp.run(rows.duplicates, ctx)
    assert checkhelp.alarms(dup) == [], dup
    (f,) = dup
    assert f.evidence["record_columns"] == ["household"]
    assert f.evidence["duplicate_rows_in_model_columns"] > 10 * f.evidence["duplicate_rows"]
    over = checkhelp.run(rows.train_test_overlap, ctx)
    assert checkhelp.alarms(over) == [], over
    (g,) = [x for x in over if x.code == "data.train_test_overlap"]
    assert g.title.startswith("No evaluation row equals a training row as a whole record")


@pytest.mark.fires("data.duplicates")
def test_whole_records_copied_in_training_are_found():
    """The same panel with a quarter of the training records appended again (a join that fans
    out): copies among rows that repeat by the hundred in the model's columns, found as records."""
    tr, te = by_household(household_panel())
    tr = pd.concat([tr, tr.sample(frac=0.25, replace=True, random_state=1)]).sample(frac=1, random_state=1)
    found = checkhelp.alarms(checkhelp.run(rows.duplicates, household_ctx(tr.reset_index(drop=True), te)))
    assert found and found[0].code == "data.duplicates"
    assert 0.1 < found[0].evidence["copy_share"] < 0.3


@pytest.mark.fires("data.train_test_overlap")
def test_records_re_pulled_into_the_evaluation_set_are_found():
    """A third of the evaluation rows re-pulled from training, each file with its own row number
    and extract stamp (which the copies do not keep): those columns are left out of the record
    (`stats.rows.record_columns`), the household is kept, and the copies are found."""
    tr, te = by_household(household_panel(seed=1), seed=1)
    k = len(te) // 3
    te = pd.concat([te.iloc[k:], tr.sample(k, random_state=1)], ignore_index=True)
    for d, stamp in ((tr, "2024-01"), (te, "2025-06")):
        d["row_no"] = np.arange(len(d))
        d["extract"] = stamp
    found = checkhelp.alarms(checkhelp.run(rows.train_test_overlap, household_ctx(tr, te)))
    assert found and found[0].code == "data.train_test_overlap"
    assert found[0].evidence["record_columns"] == ["household"]
    assert found[0].evidence["shared_rows"] >= k


def test_record_columns_leave_out_keys_and_stamps_but_keep_entities():
    """A row key (unique in a file), a file's stamp (its evaluation values never in training) and
    the model's own columns are left out; an entity id kept even when the split keeps each
    entity on one side; a date column shared by both files kept."""
    from mltriage.stats.rows import record_columns

    rng = np.random.default_rng(0)
    tr = pd.DataFrame(
        {
            "x": rng.normal(size=300),
            "key": np.arange(300),
            "stamp": "a",
            "person": np.repeat(np.arange(100), 3),
            "day": rng.choice(pd.date_range("2024-01-01", periods=30), 300),
        }
    )
    te = pd.DataFrame(
        {
            "x": rng.normal(size=90),
            "key": np.arange(90),
            "stamp": "b",
            "person": np.repeat(np.arange(100, 130), 3),
            "day": rng.choice(pd.date_range("2024-01-01", periods=30), 90),
        }
    )
    assert record_columns(tr, te, ["x"]) == ["person", "day"]
    assert record_columns(tr, te, ["x"], skip=["day"]) == ["person"]
