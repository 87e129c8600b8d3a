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
