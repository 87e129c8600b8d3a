"""Ranking scenarios: sessions of items with graded relevance built from real data sets, a
ranker, and items sharing a trait the ranker does not see (hard negatives and hard positives).

- fishing: one session per angler, the four fishing modes as items (their cost and catch rate,
  the angler's earnings), relevance 1 for the mode the angler chose (a real choice data set).
- computers: sessions of 20 listings of one month, relevance the price quintile inside the
  session (rank listings by expected sale value).
- flights: one session per departure airport and day (15 flights), relevance graded by the
  arrival delay (rank flights by punctuality).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, kind, load
from scenario import Scenario, fit, make_model, rnd
from sources import Data

QUERY, GRADE = "session_id", "grade"


def _fishing() -> tuple[pd.DataFrame, list[str], list[str]]:
    d = load(Spec("clean", "fishing", "multiclass", "hgb"), extra=("cost_jetty", "cost_charter_boat")).frame
    modes = {"beach": "shore", "pier": "jetty", "boat": "private_boat", "charter": "charter_boat"}
    parts = []
    for m, name in modes.items():
        parts.append(
            pd.DataFrame(
                {
                    QUERY: np.arange(len(d)),
                    "mode_name": name,
                    "trip_cost": d[f"cost_{name}"].to_numpy(),
                    "catch_rate": d[f"yield_{name}"].to_numpy(),
                    "monthly_earnings": d["monthly_earnings"].to_numpy(),
                    GRADE: (d["trip_mode"] == m).astype(int).to_numpy(),
                }
            )
        )
    df = pd.concat(parts).sort_values([QUERY, "mode_name"]).reset_index(drop=True)
    return df, ["trip_cost", "catch_rate", "monthly_earnings"], ["mode_name"]


def _computers(seed: int) -> tuple[pd.DataFrame, list[str], list[str]]:
    d = load(Spec("clean", "computers", "regression", "hgb")).frame.sample(frac=1, random_state=seed)
    d = d.sort_values("month_index", kind="stable").reset_index(drop=True)
    d[QUERY] = d.groupby("month_index").cumcount() // 20 + 1000 * d["month_index"].astype(int)
    d = d[d.groupby(QUERY)[QUERY].transform("size") >= 10]
    d[GRADE] = d.groupby(QUERY)["list_price"].transform(
        lambda s: pd.qcut(s.rank(method="first"), 5, labels=False)
    )
    d[QUERY] = pd.factorize(d[QUERY])[0]
    feats = ["clock_mhz", "disk_mb", "memory_mb", "screen_in"]
    return (
        d[[QUERY, *feats, "has_cd", "has_multimedia", "premium_brand", GRADE]].reset_index(drop=True),
        feats,
        ["has_cd", "has_multimedia", "premium_brand"],
    )


def _flights(seed: int) -> tuple[pd.DataFrame, list[str], list[str]]:
    d = load(Spec("clean", "flights", "binary", "hgb", 60000, seed), extra=("arr_delay_min",)).frame
    d["day_key"] = d["sched_departure"].dt.strftime("%Y%m%d") + d["from_airport"].astype(str)
    d = d.sample(frac=1, random_state=seed)
    d = d[d.groupby("day_key").cumcount() < 15]
    d = d[d.groupby("day_key")["day_key"].transform("size") == 15]
    keys = d["day_key"].drop_duplicates().sample(n=min(900, d["day_key"].nunique()), random_state=seed)
    d = d[d["day_key"].isin(set(keys))]
    d[QUERY] = pd.factorize(d["day_key"])[0]
    delay = d["arr_delay_min"]
    d[GRADE] = np.select([delay <= -10, delay <= 5, delay <= 30], [3, 2, 1], 0)
    feats = ["dep_hour", "route_miles", "temp_f", "wind_mph", "precip_in", "visibility_mi"]
    cats = ["airline", "to_airport"]
    return d[[QUERY, *feats, *cats, GRADE]].sort_values(QUERY).reset_index(drop=True), feats, cats


# scanner panels whose purchase occasions become sessions (the held-out sets add theirs)
CHOICE_SETS = {"cracker", "yogurt"}
# data sets whose sessions a held-out set builds itself (holdout3_plants.py):
# name -> spec -> (frame with QUERY and GRADE, numeric features, categorical features)
TABLES: dict = {}


def _choice_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """A scanner panel's purchase occasions as sessions: the brands on the shelf as items (on
    display, in the flyer, shelf price), relevance 1 for the brand bought (a real choice)."""
    d = load(Spec("clean", spec.dataset, "multiclass", "hgb")).frame
    brands = sorted({c.split("_")[-1] for c in d.columns if c.startswith("shelf_cents_")})
    parts = []
    for b in brands:
        parts.append(
            pd.DataFrame(
                {
                    QUERY: np.arange(len(d)),
                    "brand_name": b,
                    "on_display": d[f"display_{b}"].to_numpy() if f"display_{b}" in d else 0.0,
                    "in_flyer": d[f"flyer_{b}"].to_numpy() if f"flyer_{b}" in d else 0.0,
                    "shelf_cents": d[f"shelf_cents_{b}"].to_numpy(),
                    GRADE: (d["brand_bought"] == b).astype(int).to_numpy(),
                }
            )
        )
    df = pd.concat(parts).sort_values([QUERY, "brand_name"]).reset_index(drop=True)
    num = [
        c
        for c, pre in (("on_display", "display_"), ("in_flyer", "flyer_"), ("shelf_cents", "shelf_cents_"))
        if any(k.startswith(pre) for k in d)
    ]
    return df.drop(columns=[c for c in ("on_display", "in_flyer") if c not in num]), num, ["brand_name"]


def _table(spec: Spec):
    if spec.dataset in TABLES:
        return TABLES[spec.dataset](spec)
    if spec.dataset in CHOICE_SETS:
        return _choice_sessions(spec)
    if spec.dataset == "fishing":
        return _fishing()
    if spec.dataset == "computers":
        return _computers(spec.seed)
    if spec.dataset == "flights":
        return _flights(spec.seed)
    raise ValueError(spec.dataset)


def ndcg_at(df: pd.DataFrame, score: np.ndarray, k: int = 10) -> float:
    out = []
    d = df.assign(_s=score)
    for _, g in d.groupby(QUERY):
        rel = g.sort_values("_s", ascending=False)[GRADE].to_numpy()[:k]
        ideal = np.sort(g[GRADE].to_numpy())[::-1][:k]
        disc = 1 / np.log2(np.arange(2, len(rel) + 2))
        idcg = float(((2.0**ideal - 1) * disc[: len(ideal)]).sum())
        if idcg > 0:
            out.append(float(((2.0**rel - 1) * disc).sum()) / idcg)
    return float(np.mean(out))


def _positions(df: pd.DataFrame, score: np.ndarray) -> pd.Series:
    return df.assign(_s=score).groupby(QUERY)["_s"].rank(ascending=False, method="first")


def _promote(df: pd.DataFrame, g: np.random.Generator) -> None:
    """Plant hard negatives: in about 30% of the sessions the best item (what the features say the
    session wants) is promoted and irrelevant. A session must keep a relevant item, or NDCG ignores
    it and the plant costs nothing (the held-out run's generator fault: choice sessions have one
    relevant item, the one bought): where demoting leaves none, the session's choice moves to one
    of its other items drawn at random (the promoted item looked best; the user took another)."""
    top = df[GRADE] >= df.groupby(QUERY)[GRADE].transform("max").clip(lower=1)
    promoted = top & (g.random(len(df)) < 0.3)
    df["promoted"] = promoted.astype(int)
    lost = df.loc[promoted, GRADE].groupby(df.loc[promoted, QUERY]).max()
    df.loc[promoted, GRADE] = 0
    empty = lost.index[df[df[QUERY].isin(lost.index)].groupby(QUERY)[GRADE].max().reindex(lost.index) == 0]
    cand = df[df[QUERY].isin(set(empty)) & ~promoted]
    pick = cand.assign(_r=g.random(len(cand))).groupby(QUERY)["_r"].idxmax()
    df.loc[pick.to_numpy(), GRADE] = lost.reindex(pick.index).to_numpy()


def _build(spec: Spec, trait: str | None):
    df, num, cat = _table(spec)
    g = np.random.default_rng(1000 * spec.seed + sum(map(ord, spec.name)))
    if trait == "negatives":  # promoted listings: look like the best items, irrelevant to the session
        _promote(df, g)
    elif trait == "positives":  # items the session wants for a reason no feature records
        low = df[GRADE] <= df.groupby(QUERY)[GRADE].transform("median")
        df["staff_pick"] = (low & (g.random(len(df)) < 0.2)).astype(int)
        df.loc[df["staff_pick"] == 1, GRADE] = int(df[GRADE].max())
    queries = df[QUERY].unique()
    test_q = set(g.choice(queries, len(queries) // 3, replace=False))
    te = df[df[QUERY].isin(test_q)].reset_index(drop=True)
    tr = df[~df[QUERY].isin(test_q)].reset_index(drop=True)
    data = Data(spec.dataset, "ranking", df, GRADE, num, cat, f"ranking sessions built from {spec.dataset}")
    if spec.family == "lgbm":
        import lightgbm as lgb
        from scenario import as_category

        tr, te = as_category([tr, te], cat)
        model = lgb.LGBMRanker(n_estimators=150, learning_rate=0.05, random_state=0, n_jobs=1, verbose=-1)
        model.fit(tr[num + cat], tr[GRADE], group=tr.groupby(QUERY, sort=False).size().to_numpy())
    else:
        model = fit(
            make_model("hgb", "regression", num, cat, spec.seed), tr[num + cat], tr[GRADE], "regression"
        )
    s_te = np.asarray(model.predict(te[num + cat]))
    meas = {
        "test_ndcg@10": rnd(ndcg_at(te, s_te)),
        "random_ndcg@10": rnd(ndcg_at(te, g.random(len(te)))),
        "train_ndcg@10": rnd(ndcg_at(tr, np.asarray(model.predict(tr[num + cat])))),
        "queries_train": int(tr[QUERY].nunique()),
        "queries_test": int(te[QUERY].nunique()),
    }
    return data, tr, te, model, s_te, meas


@kind("ranking_clean", [])
def ranking_clean(spec: Spec) -> Scenario:
    data, tr, te, model, _, meas = _build(spec, None)
    return Scenario(
        spec.name,
        "clean",
        data,
        spec.family,
        tr,
        te,
        "nothing (control)",
        [],
        [],
        meas,
        "Sessions split between train and test.",
        model=model,
        meta={"group_column": QUERY, "metric": "ndcg@10"},
    )


@kind("ranking_hard_negatives", ["ranking.hard_negatives"])
def ranking_hard_negatives(spec: Spec) -> Scenario:
    data, tr, te, model, s, meas = _build(spec, "negatives")
    pos = _positions(te, s)
    irr = te[GRADE] == 0
    t = te["promoted"] == 1
    # the ranking-quality cost: NDCG@10 of the sessions holding a promoted item, as ranked and
    # with the promoted items moved to the bottom of their session (a ranker that saw the trait)
    hit = te[QUERY].isin(set(te.loc[t, QUERY]))
    demoted = np.where(t, s.min() - 1.0, s)
    meas.update(
        trait_share=rnd(t.mean()),
        mean_position_irrelevant_promoted=rnd(pos[irr & t].mean()),
        mean_position_irrelevant_other=rnd(pos[irr & ~t].mean()),
        sessions_with_promoted_and_relevant=int(te[hit].groupby(QUERY)[GRADE].max().gt(0).sum()),
        ndcg_sessions_with_promoted=rnd(ndcg_at(te[hit], s[hit.to_numpy()])),
        ndcg_same_sessions_promoted_last=rnd(ndcg_at(te[hit], demoted[hit.to_numpy()])),
    )
    cost = meas["ndcg_same_sessions_promoted_last"] - meas["ndcg_sessions_with_promoted"]
    if cost < 0.05:
        raise ValueError(f"promoted items cost no ranking quality (NDCG {cost:+.3f}): {meas}")
    size = len(te) / te[QUERY].nunique()  # at least a tenth of a session's length higher
    if meas["mean_position_irrelevant_promoted"] > meas["mean_position_irrelevant_other"] - max(
        0.1 * size, 0.5
    ):
        raise ValueError(f"promoted items not ranked higher: {meas}")
    return Scenario(
        spec.name,
        "ranking_hard_negatives",
        data,
        spec.family,
        tr,
        te,
        "promoted items (a trait the ranker does not take) look like the best items but are irrelevant",
        [{"code": "ranking.hard_negatives", "slice": [{"column": "promoted", "op": "==", "value": 1}]}],
        ["errors.underperforming_slice", "model.underfit", "ranking.underperforming_queries"],
        meas,
        "promoted is stored in the files but is not a model feature.",
        model=model,
        meta={"group_column": QUERY, "metric": "ndcg@10"},
    )


@kind("ranking_hard_positives", ["ranking.hard_positives"])
def ranking_hard_positives(spec: Spec) -> Scenario:
    data, tr, te, model, s, meas = _build(spec, "positives")
    pos = _positions(te, s)
    top = te[GRADE] == te[GRADE].max()
    t = te["staff_pick"] == 1
    meas.update(
        trait_share=rnd(t.mean()),
        mean_position_relevant_picks=rnd(pos[top & t].mean()),
        mean_position_relevant_other=rnd(pos[top & ~t].mean()),
    )
    size = len(te) / te[QUERY].nunique()  # at least a tenth of a session's length lower
    if meas["mean_position_relevant_picks"] < meas["mean_position_relevant_other"] + max(0.1 * size, 0.5):
        raise ValueError(f"staff picks not buried: {meas}")
    return Scenario(
        spec.name,
        "ranking_hard_positives",
        data,
        spec.family,
        tr,
        te,
        "staff picks (a trait the ranker does not take) are relevant but look like poor items",
        [{"code": "ranking.hard_positives", "slice": [{"column": "staff_pick", "op": "==", "value": 1}]}],
        ["errors.underperforming_slice", "model.underfit", "ranking.underperforming_queries"],
        meas,
        "staff_pick is stored in the files but is not a model feature.",
        model=model,
        meta={"group_column": QUERY, "metric": "ndcg@10"},
    )
