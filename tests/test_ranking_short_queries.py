"""ranking.hard_positives / hard_negatives on queries of at most k items (choice sets of 4
options, benchmarks/variants/holdout-run.md): the metric counts such a query whole, so an item is
misplaced against the ideal cut (a relevant item below an irrelevant one, an irrelevant one above
a relevant one), and the position shift a trait needs is scaled to the places the query offers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.error_analysis.hard_items import hard_negatives, hard_positives
from mltriage.context import Context


def choices(n_q: int, seed: int, plant: str | None) -> pd.DataFrame:
    """n_q choice sets of 4 options (price, appeal); the chosen option (relevance 1) follows the
    appeal. Planted 'positives': `bundle` options (not a model feature) are chosen although they
    look poor. Planted 'negatives': `sold_out` options look best but are never chosen (a query
    keeps its chosen option)."""
    rng = np.random.default_rng(seed)
    n = n_q * 4
    q = np.repeat(np.arange(n_q), 4)
    appeal = rng.normal(size=n)
    price = rng.uniform(1, 5, n)
    utility = appeal - 0.3 * price + rng.gumbel(size=n)
    flag = np.zeros(n, dtype=int)
    if plant == "positives":
        flag = (rng.uniform(size=n) < 0.15).astype(int)
        utility = np.where(flag == 1, utility + 4.0 - 1.5 * appeal, utility)
    rel = (utility == pd.Series(utility).groupby(q).transform("max").to_numpy()).astype(int)
    if plant == "negatives":
        flag = ((rel == 0) & (appeal > 0.8) & (rng.uniform(size=n) < 0.6)).astype(int)
        appeal = np.where(flag == 1, appeal + 2.0, appeal)
    return pd.DataFrame({"query": q, "appeal": appeal, "price": price, "flag": flag, "chosen": rel})


def ctx_for(plant: str | None, seed: int = 0) -> Context:
    train, test = choices(1500, seed, plant), choices(900, seed + 1, plant)
    model = LinearRegression().fit(train[["appeal", "price"]], train["chosen"])
    c = build_case(train, test, "chosen", task="ranking", model=model, group_column="query", metric="ndcg@10")
    return Context(c)


@pytest.mark.fires("ranking.hard_positives")
def test_buried_chosen_options_in_four_item_sets_are_found():
    f = alarms(run(hard_positives, ctx_for("positives")))
    assert f and f[0].slice == [{"column": "flag", "op": "==", "value": 1}]
    assert f[0].evidence["ndcg_cost"]["mean_over_queries_ci"][0] > 0


@pytest.mark.fires("ranking.hard_negatives")
def test_unchosen_options_above_the_chosen_one_are_found():
    f = alarms(run(hard_negatives, ctx_for("negatives")))
    assert f and f[0].slice == [{"column": "flag", "op": "==", "value": 1}]


@pytest.mark.silent("ranking.hard_positives")
@pytest.mark.silent("ranking.hard_negatives")
def test_four_item_sets_without_a_trait_are_silent():
    for seed in (0, 3):
        ctx = ctx_for(None, seed)
        assert alarms(run(hard_positives, ctx)) == []
        assert alarms(run(hard_negatives, ctx)) == []
