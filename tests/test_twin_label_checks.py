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
