"""data.duplicates and data.train_test_overlap read the twins' labels: a copy carries its label,
the same entity observed again draws its target afresh (stats.twin_labels, checks/data/repeats)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import rows
from mltriage.context import Context


def entities(n: int = 900, seed: int = 0, task: str = "binary") -> pd.DataFrame:
    """Entities with fixed attributes (coarse, one at two decimals: mostly one entity per feature vector) observed 1 to 5 times, each time
    a fresh draw of p(y | x): rows repeat their features for real, none is a copy."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {
            "k": rng.integers(0, 4, n),
            "m": rng.integers(0, 2, n),
            "z": np.round(rng.normal(size=n), 2),
        }
    )
    d = base.loc[np.repeat(np.arange(n), rng.integers(1, 6, n))].reset_index(drop=True)
    lin = 0.8 * d.k - 0.7 * d.m + 0.6 * d.z - 1.0
    if task == "binary":
        d["y"] = (rng.random(len(d)) < 1 / (1 + np.exp(-lin))).astype(int)
    else:
        d["y"] = rng.poisson(np.exp(0.4 * lin)).astype(float)
    return d.sample(frac=1, random_state=seed).reset_index(drop=True)


def ctx_of(tr: pd.DataFrame, te: pd.DataFrame, task: str) -> Context:
    return Context(build_case(tr, te, "y", task=task))


def split(d: pd.DataFrame, frac: float = 0.7) -> tuple[pd.DataFrame, pd.DataFrame]:
    k = int(len(d) * frac)
    return d.iloc[:k].reset_index(drop=True), d.iloc[k:].reset_index(drop=True)


@pytest.mark.silent("data.duplicates")
@pytest.mark.silent("data.train_test_overlap")
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_same_entities_observed_again_are_natural_repeats(task):
    ctx = ctx_of(*split(entities(task=task)), task)
    for fn in (rows.duplicates, rows.train_test_overlap):
        found = checkhelp.run(fn, ctx)
        assert checkhelp.alarms(found) == [], found
        (f,) = [f for f in found if f.code == fn.check.code]
        assert "natural repeats" in f.title and "--group-column" in f.title
        assert f.evidence["label_copy_share_ci"][1] < 0.5
        # the twin counts alone call them copies (an alarm before the labels were read): entities
        # observed again agree on every column, which near twins cannot foresee
        assert f.evidence["p_value_no_copies"] < 0.001 and f.evidence["copy_share_ci"][0] > 0.03


@pytest.mark.fires("data.duplicates")
@pytest.mark.fires("data.train_test_overlap")
def test_oversampling_before_the_split_on_coarse_wine():
    from sklearn.datasets import load_wine

    d = load_wine(as_frame=True).frame.rename(columns={"target": "y"}).round(1)
    d = pd.concat([d, d[d.y == 2], d[d.y == 2]], ignore_index=True)  # minority oversampled x3
    tr, te = split(d.sample(frac=1, random_state=0).reset_index(drop=True))
    ctx = ctx_of(tr, te, "multiclass")
    for fn in (rows.duplicates, rows.train_test_overlap):
        found = checkhelp.alarms(checkhelp.run(fn, ctx))
        assert found and found[0].code == fn.check.code


def visits(n: int = 500, seed: int = 0) -> pd.DataFrame:
    """Patients described by seven yes/no flags and an age, seen once or twice, whose outcome
    persists between visits (kept 90% of the time): the flag vectors repeat naturally, and twins'
    labels agree as copies' nearly do on both sides of a random split."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 7)) < 0.3).astype(int)
    p = 1 / (1 + np.exp(-(x @ np.array([1.0, -0.8, 0.6, 0.5, -0.4, 0.3, 0.2]) - 0.5)))
    first = (rng.random(n) < p).astype(int)
    idx = np.repeat(np.arange(n), rng.integers(1, 3, n))
    d = pd.DataFrame(x[idx], columns=[f"flag{i}" for i in range(7)])
    d["y"] = np.where(rng.random(len(idx)) < 0.9, first[idx], (rng.random(len(idx)) < p[idx]).astype(int))
    d["age"] = (20 + np.arange(n) % 40)[idx]
    return d.sample(frac=1, random_state=seed).reset_index(drop=True)


@pytest.mark.silent("data.duplicates")
def test_persisting_outcomes_repeat_alike_on_both_sides():
    tr, te = split(visits())
    ctx = ctx_of(tr, te, "binary")
    (f,) = [f for f in checkhelp.run(rows.duplicates, ctx) if f.code == "data.duplicates"]
    assert f.severity == "info" and "natural repeats" in f.title
    assert abs(f.evidence["twin_rate_z_under_random_split"]) < 2


@pytest.mark.fires("data.duplicates")
def test_copies_appended_after_the_split_raise_trainings_twin_rate(monkeypatch):
    """A join that fans out in training after the split: the copies' labels agree as the
    persisting outcomes across the split nearly do (too few cross-split twins to tell the
    agreements apart), but training's rows have twins far more often than evaluation's."""
    from mltriage.checks.data import repeats
    from mltriage.stats.twin_labels import TwinRates

    tr, te = split(visits())
    tr = pd.concat([tr, tr.sample(frac=0.25, random_state=1)], ignore_index=True)
    (f,) = checkhelp.alarms(checkhelp.run(rows.duplicates, ctx_of(tr, te, "binary")))
    assert f.code == "data.duplicates" and f.evidence["copy_share_ci"][0] > 0.2
    # the rate test is what tells: without it the labels read as natural repeats
    monkeypatch.setattr(repeats, "rate_test", lambda ctx: TwinRates(0.0, 0.0, 0.0, 0))
    assert checkhelp.alarms(checkhelp.run(rows.duplicates, ctx_of(tr, te, "binary"))) == []


def test_twin_rates_under_a_random_split_and_after_copies():
    from mltriage.stats.twin_labels import twin_rates

    rng = np.random.default_rng(0)
    h = rng.integers(0, 3000, 1000)  # coarse rows: a fifth have a natural twin, split at random
    r = twin_rates(h[:700], h[700:])
    assert abs(r.z) < 3 and abs(r.within - r.across) < 0.05 and 0.1 < r.across < 0.3
    copied = np.concatenate([h[:700], h[:100]])  # a tenth of training appended again
    assert twin_rates(copied, h[700:]).p_value("train") < 1e-6
    assert twin_rates(h[:700], np.concatenate([h[700:], h[:300]])).p_value("test") < 1e-6
