"""What one misplaced item costs a ranking metric: the NDCG@k its query would gain if that item
alone were put where it belongs (an irrelevant item moved to the bottom of its query, a relevant
one to the top), every other item keeping its order.

Per item, in NDCG@k points of its own query (gain 2^rel - 1, discount 1/log2(position + 1) down
to position k, 0 below):
    demote i (at p_i of n):  sum_{j below i} g_j (d(p_j - 1) - d(p_j)) + g_i (d(n) - d(p_i))
    promote i (at p_i):      sum_{j above i} g_j (d(p_j + 1) - d(p_j)) + g_i (d(1) - d(p_i))
each divided by the query's ideal DCG@k (0 for a query with no gain, which NDCG ignores).
An irrelevant item below every relevant one, or a relevant one above every irrelevant one, costs
nothing (or, with graded relevance, only what the order among equals costs). Summed over a set of
items it is the set's cost moved one at a time, which is the exact joint cost when the set holds
one item per query (choice sessions) and a first-order one otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _discount(pos: np.ndarray, k: int) -> np.ndarray:
    pos = np.asarray(pos, float)
    return np.where((pos >= 1) & (pos <= k), 1.0 / np.log2(np.maximum(pos, 1.0) + 1.0), 0.0)


def placement_gain(groups: np.ndarray, rel: np.ndarray, pos: np.ndarray, k: int, which: str) -> np.ndarray:
    """Per item, the NDCG@k its query gains when the item alone moves to the bottom
    (`which="demote"`) or to the top (`which="promote"`) of the query. `pos` is the item's
    position in its query (1 = top, every position once)."""
    if which not in ("demote", "promote"):
        raise ValueError(which)
    gain = np.power(2.0, np.nan_to_num(np.asarray(rel, float))) - 1.0
    pos = np.asarray(pos, float)
    t = pd.DataFrame({"g": np.asarray(groups), "gain": gain, "pos": pos})
    size = t.groupby("g", sort=False)["pos"].transform("size").to_numpy(float)
    ideal = t.groupby("g", sort=False)["gain"].rank(method="first", ascending=False).to_numpy()
    idcg = (
        pd.Series(gain * _discount(ideal, k))
        .groupby(t["g"].to_numpy(), sort=False)
        .transform("sum")
        .to_numpy()
    )
    order = np.lexsort((pos, pd.factorize(t["g"])[0]))
    s = t.iloc[order]
    g_codes = pd.factorize(s["g"])[0]
    sg, sp = s["gain"].to_numpy(), s["pos"].to_numpy()
    if which == "demote":
        step = sg * (_discount(sp - 1, k) - _discount(sp, k))  # what j gains moving one place up
        # the sum over the items below: the group's suffix sum, without the item itself
        total = pd.Series(step).groupby(g_codes).transform("sum").to_numpy()
        upto = pd.Series(step).groupby(g_codes).cumsum().to_numpy()
        moved = total - upto
        own = sg * (_discount(size[order], k) - _discount(sp, k))
    else:
        step = sg * (_discount(sp + 1, k) - _discount(sp, k))  # what j loses moving one place down
        moved = pd.Series(step).groupby(g_codes).cumsum().to_numpy() - step  # the items above
        own = sg * (_discount(np.ones_like(sp), k) - _discount(sp, k))
    out = np.empty(len(pos))
    out[order] = moved + own
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(idcg > 0, out / np.where(idcg > 0, idcg, 1.0), 0.0)
