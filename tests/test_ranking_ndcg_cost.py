"""ranking.hard_negatives / hard_positives judge a trait's misplacement by what it costs the
metric beyond chance (stats/rank_costs.py: the NDCG@k a query gains when one item alone takes its
proper place, against the trait permuted within queries), not by a fixed number of places: in
sessions of 6 options with one chosen, an unchosen trait that sits one place higher costs NDCG
(HOLDOUT3's promoted cars, benchmarks/variants/holdout3-run.md). A trait in few sessions:
tests/test_ranking_small_traits.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.error_analysis.hard_items import hard_negatives
from mltriage.context import Context
from mltriage.stats.rank_costs import placement_gain


def _ndcg(rel: np.ndarray, pos: np.ndarray, k: int) -> float:
    g = 2.0**rel - 1
    d = np.where(pos <= k, 1 / np.log2(pos + 1), 0.0)
    ideal = np.sort(g)[::-1]
    i = np.arange(1, len(g) + 1)
    idcg = float((ideal * np.where(i <= k, 1 / np.log2(i + 1), 0.0)).sum())
    return float((g * d).sum()) / idcg if idcg > 0 else 1.0


def test_placement_gain_is_the_ndcg_change_of_moving_one_item():
    rng = np.random.default_rng(0)
    for _ in range(60):
        n, k = int(rng.integers(2, 14)), int(rng.integers(1, 12))
        rel, pos = rng.integers(0, 3, n).astype(float), rng.permutation(n) + 1.0
        for which in ("demote", "promote"):
            got = placement_gain(np.zeros(n), rel, pos, k, which)
            for i in range(n):
                order = [j for j in np.argsort(pos) if j != i]
                order = order + [i] if which == "demote" else [i] + order
                moved = np.empty(n)
                moved[order] = np.arange(1, n + 1)
                assert got[i] == pytest.approx(_ndcg(rel, moved, k) - _ndcg(rel, pos, k), abs=1e-12)
    # per query: two queries side by side are each their own
    g = np.repeat([7, 3], 3)
    two = placement_gain(g, np.array([0, 1, 0, 1, 0, 0.0]), np.array([1, 2, 3, 3, 1, 2.0]), 10, "demote")
    assert two[0] > 0 and two[2] == 0 and two[4] > 0 and two[5] > 0


def sessions(n_q: int, seed: int, rate: float, boost: float) -> pd.DataFrame:
    """n_q sessions of 6 options (appeal, price); the chosen one (relevance 1) has the highest
    utility. Planted: unchosen options flagged `flag` (not a model feature) at `rate` look
    `boost` more appealing than they are."""
    rng = np.random.default_rng(seed)
    n = n_q * 6
    q = np.repeat(np.arange(n_q), 6)
    appeal, price = rng.normal(size=n), rng.uniform(1, 5, n)
    util = appeal - 0.3 * price + rng.gumbel(size=n)
    chosen = (util == pd.Series(util).groupby(q).transform("max").to_numpy()).astype(int)
    flag = ((chosen == 0) & (rng.uniform(size=n) < rate)).astype(int)
    appeal = np.where(flag == 1, appeal + boost, appeal)
    return pd.DataFrame({"session": q, "appeal": appeal, "price": price, "flag": flag, "chosen": chosen})


def ctx_for(rate: float, boost: float, n_test: int) -> Context:
    train, test = sessions(1500, 0, rate, boost), sessions(n_test, 1, rate, boost)
    model = LinearRegression().fit(train[["appeal", "price"]], train["chosen"])
    c = build_case(
        train, test, "chosen", task="ranking", model=model, group_column="session", metric="ndcg@10"
    )
    return Context(c)


@pytest.mark.fires("ranking.hard_negatives")
def test_a_trait_one_place_too_high_in_six_item_sessions_is_a_warning():
    f = alarms(run(hard_negatives, ctx_for(0.3, 0.8, 700)))
    assert f and f[0].slice == [{"column": "flag", "op": "==", "value": 1}]
    ev = f[0].evidence
    assert ev["position_shift"] < 1.67  # under the fixed 3-of-9-places rule this replaced
    assert ev["ndcg_cost"]["mean_over_queries_ci"][0] > 0


@pytest.mark.silent("ranking.hard_negatives")
def test_a_trait_over_the_rankers_own_features_is_explained_by_them():
    f = run(hard_negatives, ctx_for(0.0, 0.0, 700))  # nothing planted: appealing options win
    own = [x for x in f if "appeal" in x.columns]
    assert own and alarms(f) == []
    mix = own[0].evidence["relevant_share"]
    assert mix["train"]["trait"] > mix["train"]["all"] and mix["test"]["trait"] > mix["test"]["all"]
    assert own[0].root_cause.startswith("[features] explained by the ranker's own features")
