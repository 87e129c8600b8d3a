"""production.data_drift on a batch of other entities (stats/drift_entities.py): rows of one entity
share its attributes, so a batch of 20 new entities is a sample of 20 units; the chi-square gate
is divided by each column's design effect measured on training (entity halves over row halves).
Silent when the new entities differ as entities do; fires when they all moved. (Few entities
leave the chi-square on 20 bins little power: 20 stores must move by 5 sd to be seen.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import checkhelp
from mltriage.case import build_case
from mltriage.checks.production.drift import data_drift
from mltriage.context import Context
from mltriage.stats.drift_entities import design_effects
from mltriage.stats.profile import build_profile


def _panel(n_ent: int, per: int, seed: int, first_id: int = 0, shift: float = 0.0) -> pd.DataFrame:
    """Stores observed `per` times: `size` is the store's (constant), `traffic` varies row by row."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(first_id, first_id + n_ent), per)
    size = np.repeat(rng.lognormal(3 + shift, 0.6, n_ent), per)
    traffic = rng.normal(100, 15, n_ent * per)
    y = 0.5 * size + 0.2 * traffic + rng.normal(0, 5, n_ent * per)
    return pd.DataFrame({"store_id": ids, "size": size, "traffic": traffic, "sales": y})


def _ctx(train: pd.DataFrame, cur: pd.DataFrame) -> Context:
    model = LinearRegression().fit(train[["size", "traffic"]], train["sales"])
    test = _panel(50, 6, 9, first_id=5000)
    return Context(
        build_case(train, test, "sales", task="regression", model=model, current=cur.drop(columns="sales"))
    )


@pytest.fixture(scope="module")
def train():
    return _panel(100, 6, 1)


@pytest.mark.silent("production.data_drift")
def test_data_drift_counts_new_entities_not_rows(train):
    # 50 other stores from the same population: their sizes differ from training's 100 by the
    # sampling of 50 stores (PSI 0.85 on 300 rows), which a row-counting chi-square takes for drift
    cur = _panel(50, 6, 2, first_id=1000)
    f = checkhelp.run(data_drift, _ctx(train, cur))
    assert all(x.severity.value == "info" for x in f)
    if f:  # said, as info, with the design effect
        ent = f[0].evidence["entities"]
        assert ent["entity_column"] == "store_id" and ent["design_effects"]["size"] > 3


@pytest.mark.fires("production.data_drift")
def test_data_drift_fires_when_the_new_entities_moved(train):
    # the 50 new stores are all larger (log-size + 1, 1.7 sd): beyond what 50 stores vary
    cur = _panel(50, 6, 2, first_id=1000, shift=1.0)
    f = checkhelp.run(data_drift, _ctx(train, cur))
    assert len(f) == 1 and f[0].severity.value in ("warning", "critical") and "size" in f[0].columns
    assert f[0].evidence["entities"]["entity_column"] == "store_id"


def test_design_effect_near_one_for_a_row_level_column(train):
    ref = build_profile(train[["size", "traffic"]])
    d = design_effects(ref, train, "store_id", ["size", "traffic"], 0.5)
    assert d["size"] > 3 and d["traffic"] < 2  # constant per store vs varying row by row
    assert d["size"] <= 6  # at most the rows per entity
