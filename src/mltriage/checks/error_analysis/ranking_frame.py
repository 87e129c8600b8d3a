"""The ranking frame shared by the ranking checks (ranking.*): per item its query, relevance,
score, position and ideal position; per query NDCG@k, MRR and average precision, the NDCG a random
order would reach, and the query's own attributes; the overview of the whole evaluation set."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...registry import NotApplicable

if TYPE_CHECKING:
    from ...context import Context


def cutoff(ctx: Context) -> int:
    """k of the headline metric (ndcg@k), 10 when it names none."""
    m = re.search(r"@(\d+)", str(ctx.case.metric or ""))
    return int(m.group(1)) if m else 10


def item_columns(ctx: Context) -> list[str]:
    """Every item column of the evaluation set but the relevance, the prediction and the query."""
    c = ctx.case
    drop = {c.target, c.prediction_column, c.group_column}
    return [col for col in ctx.frame("test").columns if col not in drop]


def ranking_frame(ctx: Context) -> dict[str, Any]:
    """Per item: query, relevance, score, position (1 = top) and ideal position (cached)."""

    def compute() -> Any:
        c = ctx.case
        if not c.group_column:
            raise NotApplicable("no group (query) column")
        df = ctx.frame("test")
        rel = pd.to_numeric(df[c.target], errors="coerce").to_numpy(dtype=float)
        score = np.asarray(ctx.predictions("test").score, dtype=float)
        g = df[c.group_column].to_numpy()
        t = pd.DataFrame({"g": g, "rel": rel, "s": np.nan_to_num(score, nan=-np.inf)})
        pos = t.groupby("g", sort=False)["s"].rank(method="first", ascending=False).to_numpy()
        ideal = t.groupby("g", sort=False)["rel"].rank(method="first", ascending=False).to_numpy()
        size = t.groupby("g", sort=False)["s"].transform("size").to_numpy()
        lo, hi = np.nanmin(rel), np.nanmax(rel)
        cut = (lo + hi) / 2.0
        return {
            "groups": g,
            "rel": rel,
            "score": score,
            "pos": pos,
            "ideal": ideal,
            "size": size,
            "relevant": rel >= cut if hi > lo else np.zeros(len(rel), bool),
            "irrelevant": rel < cut if hi > lo else np.zeros(len(rel), bool),
            "cut": cut,
            "k": cutoff(ctx),
        }

    return ctx.cached("ranking:frame", compute)


def per_query(ctx: Context) -> pd.DataFrame:
    """NDCG@k, MRR and average precision per query (cached)."""

    def compute() -> Any:
        r = ranking_frame(ctx)
        k = r["k"]
        t = pd.DataFrame(
            {
                "g": r["groups"],
                "rel": r["rel"],
                "pos": r["pos"],
                "ideal": r["ideal"],
                "relevant": r["relevant"],
            }
        )
        gain = np.power(2.0, np.nan_to_num(t["rel"].to_numpy())) - 1.0
        t["dcg"] = np.where(t["pos"] <= k, gain / np.log2(t["pos"] + 1.0), 0.0)
        t["idcg"] = np.where(t["ideal"] <= k, gain / np.log2(t["ideal"] + 1.0), 0.0)
        t["rr"] = np.where(t["relevant"], 1.0 / t["pos"], 0.0)
        t = t.sort_values(["g", "pos"])
        t["hits"] = t.groupby("g")["relevant"].cumsum()
        t["prec"] = np.where(t["relevant"], t["hits"] / t["pos"], 0.0)
        agg = t.groupby("g").agg(
            dcg=("dcg", "sum"),
            idcg=("idcg", "sum"),
            mrr=("rr", "max"),
            ap_sum=("prec", "sum"),
            n_rel=("relevant", "sum"),
            items=("pos", "size"),
        )
        agg["ndcg"] = (agg["dcg"] / agg["idcg"].replace(0.0, np.nan)).fillna(1.0)
        agg["map"] = (agg["ap_sum"] / agg["n_rel"].replace(0, np.nan)).fillna(0.0)
        return agg[["ndcg", "mrr", "map", "n_rel", "items"]]

    return ctx.cached("ranking:per_query", compute)


def random_ndcg(ctx: Context) -> pd.Series:
    """Expected NDCG@k of a random order, per query: E[DCG@k] = mean gain x sum of discounts."""

    def compute() -> Any:
        r = ranking_frame(ctx)
        k = r["k"]
        gain = np.power(2.0, np.nan_to_num(r["rel"])) - 1.0
        t = pd.DataFrame({"g": r["groups"], "gain": gain, "ideal": r["ideal"]})
        t["idcg"] = np.where(t["ideal"] <= k, gain / np.log2(t["ideal"] + 1.0), 0.0)
        agg = t.groupby("g").agg(mean_gain=("gain", "mean"), n=("gain", "size"), idcg=("idcg", "sum"))
        disc = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))
        edcg = agg["mean_gain"] * disc[np.minimum(agg["n"].to_numpy(), k) - 1]
        return (edcg / agg["idcg"].replace(0.0, np.nan)).fillna(1.0)

    return ctx.cached("ranking:random_ndcg", compute)


def _mean_ci(x: np.ndarray) -> list[float]:
    x = x[np.isfinite(x)]
    if x.size < 2:
        return [float("nan"), float("nan")]
    h = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    return [float(x.mean() - h), float(x.mean() + h)]


def overview(ctx: Context) -> dict[str, Any]:
    """NDCG@k, MRR and MAP over the queries, with 95% intervals."""
    q = per_query(ctx)
    k = ranking_frame(ctx)["k"]
    return {
        "k": k,
        "queries": int(len(q)),
        f"ndcg@{k}": float(q["ndcg"].mean()),
        f"ndcg@{k}_ci": _mean_ci(q["ndcg"].to_numpy()),
        "mrr": float(q["mrr"].mean()),
        "mrr_ci": _mean_ci(q["mrr"].to_numpy()),
        "map": float(q["map"].mean()),
        "map_ci": _mean_ci(q["map"].to_numpy()),
    }


def query_frame(ctx: Context) -> pd.DataFrame:
    """One row per query: the columns constant within each query, numeric means, query size."""
    c = ctx.case
    df = ctx.frame("test")
    g = df[c.group_column]
    cols = [col for col in item_columns(ctx)]
    gb = df.groupby(g, sort=True)
    out = {}
    nun = gb[cols].nunique(dropna=False)
    for col in cols:
        if (nun[col] <= 1).all():
            out[col] = gb[col].first()
        elif pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            out[f"mean_{col}"] = gb[col].mean()
    out["query_items"] = gb.size()
    return pd.DataFrame(out)
