"""Rung 7, ranking: where a ranker fails, query by query and item by item.

NDCG@k, MRR and MAP per query; irrelevant items that the ranker lifts into the top k (hard
negatives) and relevant items that it buries below k (hard positives), with the item trait they
share, found by an honest slice search over every item column, including the ones the ranker does
not take; and groups of queries whose NDCG is far below the rest.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..findings import INFO, WARNING, Finding
from ..registry import NotApplicable, check
from ..stats.slices import find_slices, standardized_differences


def _k(ctx) -> int:
    m = re.search(r"@(\d+)", str(ctx.case.metric or ""))
    return int(m.group(1)) if m else 10


def _item_columns(ctx) -> list[str]:
    c = ctx.case
    drop = {c.target, c.prediction_column, c.group_column}
    return [col for col in ctx.frame("test").columns if col not in drop]


def ranking_frame(ctx) -> dict[str, Any]:
    """Per item: query, relevance, score, position (1 = top) and ideal position (cached)."""

    def compute():
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
            "k": _k(ctx),
        }

    return ctx.cached("ranking:frame", compute)


def per_query(ctx) -> pd.DataFrame:
    """NDCG@k, MRR and average precision per query (cached)."""

    def compute():
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


def _random_ndcg(ctx) -> pd.Series:
    """Expected NDCG@k of a random order, per query: E[DCG@k] = mean gain x sum of discounts."""

    def compute():
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


def _overview(ctx) -> dict[str, Any]:
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


def _trait_finding(ctx, p, code: str, which: str) -> list[Finding] | None:
    r = ranking_frame(ctx)
    k = r["k"]
    df = ctx.frame("test")
    if which == "negatives":
        pool = r["irrelevant"] & (r["size"] > k)
        err = (r["pos"] <= k).astype(float)  # an irrelevant item in the top k
    else:
        pool = r["relevant"] & (r["size"] > k)
        err = (r["pos"] > k).astype(float)  # a relevant item below k
    idx = np.flatnonzero(pool)
    if idx.size < 100 or err[idx].sum() < 10:
        raise NotApplicable(
            f"too few {'irrelevant' if which == 'negatives' else 'relevant'} items in "
            f"queries longer than k={k}"
        )
    sub = df.iloc[idx].reset_index(drop=True)
    cols = _item_columns(ctx)
    feats = set(ctx.case.features or [])
    absent_cols = [c for c in cols if feats and c not in feats]
    cats = set(ctx.case.categorical or [])
    seed = getattr(ctx.config, "seed", 0)
    # two families, each at alpha/2: every item column, and the columns the ranker does not take
    # (the usual home of a missing signal, which the first search may rank below natural clusters)
    slices = find_slices(
        sub,
        err[idx],
        cols,
        categorical=cats,
        max_order=p.max_order,
        min_support=p.min_support,
        top_k=3,
        alpha=p.alpha / 2,
        seed=seed,
    )
    if absent_cols:
        extra = find_slices(
            sub,
            err[idx],
            absent_cols,
            categorical=cats,
            max_order=p.max_order,
            min_support=p.min_support,
            top_k=3,
            alpha=p.alpha / 2,
            seed=seed,
        )
        for s in extra:
            # the same rows described by a column the ranker cannot see: that description names
            # the root cause, so it replaces the other
            same = [t for t in slices if (s.mask & t.mask).sum() / max((s.mask | t.mask).sum(), 1) > 0.5]
            slices = [t for t in slices if not any(t is u for u in same)]
            if same:
                slices.insert(0, s)
            else:
                slices.append(s)
    pos = r["pos"][idx]
    out = []
    for s in slices:
        m = s.mask
        pos_in, pos_out = float(pos[m].mean()), float(pos[~m].mean())
        shift = (pos_out - pos_in) if which == "negatives" else (pos_in - pos_out)
        absent = [c for c in s.columns if feats and c not in feats]
        # a trait over columns the ranker takes is a trade-off it made (info); a trait it cannot
        # see is a missing signal (warning)
        strong = (
            bool(absent)
            and s.lift >= p.min_lift
            and shift >= p.min_position_shift
            and s.error - s.rest_error >= p.min_rate_gap
        )
        diffs = standardized_differences(
            sub,
            m,
            [c for c in cols if c not in s.columns],
            categorical=set(ctx.case.categorical or []),
            top=3,
        )
        what = "irrelevant" if which == "negatives" else "relevant"
        where = f"in the top {k}" if which == "negatives" else f"below position {k}"
        ev = {
            "items": int(s.size),
            "share_of_pool": s.support,
            f"rate_{where.replace(' ', '_')}": s.error,
            "rate_other_items": s.rest_error,
            "lift": s.lift,
            "p_value": s.p_value,
            "mean_position_slice": pos_in,
            "mean_position_other": pos_out,
            "position_shift": shift,
            "features_absent_from_model": absent,
            "distinguishing_features": diffs,
            "relevance_cut": r["cut"],
            "k": k,
            "overview": _overview(ctx),
        }
        miss = f"; the model has no such feature ({', '.join(absent)})" if absent else ""
        total_bad = float(err[idx].sum())
        moved = max(0.0, (s.error - s.rest_error) * s.size)
        share_moved = moved / total_bad if total_bad > 0 else 0.0
        ev["root_cause_category"] = "features" if absent else "model capacity"
        ev["expected_gain"] = {
            "text": (
                f"at the other {what} items' rate, about {moved:.0f} fewer {what} items "
                + ("in the top " if which == "negatives" else "below position ")
                + f"{k} "
                f"({share_moved:.0%} of all such items)"
            ),
            "items_moved": round(moved, 1),
            "share_of_misplaced_items": round(share_moved, 4),
        }
        if which == "negatives":
            title = (
                f"Irrelevant items with {s.describe()} sit {shift:.1f} places higher on average "
                f"({s.error:.0%} of them in the top {k} vs {s.rest_error:.0%} of other irrelevant items){miss}"
            )
            cause = (
                f"[{ev['root_cause_category']}] the ranker cannot see what makes these items irrelevant"
                + (f": it does not take {', '.join(absent)}" if absent else "")
            )
            fix = (
                f"add {', '.join(absent)} to the ranker's features"
                if absent
                else f"add a feature or training signal that demotes items with {s.describe()}"
            ) + "; add such items as labelled negatives to the training queries"
        else:
            title = (
                f"Relevant items with {s.describe()} sit {shift:.1f} places too low on average "
                f"({s.error:.0%} of them below position {k} vs {s.rest_error:.0%} of other relevant items){miss}"
            )
            cause = f"[{ev['root_cause_category']}] the ranker cannot see what makes these items relevant" + (
                f": it does not take {', '.join(absent)}" if absent else ""
            )
            fix = (
                f"add {', '.join(absent)} to the ranker's features"
                if absent
                else f"add a feature that promotes items with {s.describe()}"
            ) + "; check that training queries hold enough such relevant items"
        out.append(
            Finding(
                code,
                WARNING if strong else INFO,
                title,
                columns=s.columns,
                slice=s.predicates,
                evidence=ev,
                root_cause=cause,
                fix=fix,
                impact=float(min(1.0, max(0.0, share_moved))),
            )
        )
    return out or None


@check(
    "ranking.hard_negatives",
    tasks=("ranking",),
    requires=("model", "group"),
    min_support=0.02,
    max_order=2,
    alpha=0.05,
    min_lift=1.5,
    min_position_shift=3.0,
    min_rate_gap=0.1,
)
def hard_negatives(ctx, p):
    """Irrelevant items that the ranker lifts into the top k, sharing a trait.

    What it detects
        Among the irrelevant items (relevance below the middle of the grade range) of queries
        longer than k, a slice of items (a trait over any item column, including columns the
        ranker does not take) that lands in the top k at least `min_lift` times as often as the
        other irrelevant items, `min_rate_gap` more in absolute terms, and sits at least
        `min_position_shift` places higher on average; discovered and confirmed on disjoint
        halves with Holm's correction (two searches at alpha/2: all item columns, and the columns
        the ranker does not take). A warning needs a trait the ranker cannot see (a column it does
        not take); clusters over its own features are reported as info.
    Why it matters
        Irrelevant items near the top cost the most NDCG and user trust; when they share a trait,
        one missing signal explains them (sponsored, duplicate, out-of-stock items).
    How to confirm
        Compare the positions of irrelevant items with and without the trait; check whether the
        ranker's features can express the trait at all.
    Fix
        Add the trait (or what it stands for) as a feature, add such items as labelled negatives
        to training queries, or filter them before ranking.
    """
    return _trait_finding(ctx, p, "ranking.hard_negatives", "negatives")


@check(
    "ranking.hard_positives",
    tasks=("ranking",),
    requires=("model", "group"),
    min_support=0.02,
    max_order=2,
    alpha=0.05,
    min_lift=1.25,
    min_position_shift=2.0,
    min_rate_gap=0.1,
)
def hard_positives(ctx, p):
    """Relevant items that the ranker buries below k, sharing a trait.

    What it detects
        Among the relevant items (relevance at or above the middle of the grade range) of queries
        longer than k, a slice of items (a trait over any item column, including columns the
        ranker does not take) that falls below position k at least `min_lift` times as often as
        the other relevant items, `min_rate_gap` more in absolute terms, and sits at least
        `min_position_shift` places lower on average; discovered and confirmed on disjoint
        halves with Holm's correction (two searches at alpha/2: all item columns, and the columns
        the ranker does not take). A warning needs a trait the ranker cannot see (a column it does
        not take); clusters over its own features are reported as info.
    Why it matters
        Buried relevant items are lost to users; when they share a trait, the ranker lacks the
        signal that makes them relevant (a missing feature) or is biased against them (popularity).
    How to confirm
        Compare the positions of relevant items with and without the trait; check whether the
        ranker's features can express the trait.
    Fix
        Add the trait as a feature, de-bias popularity features, or add training queries in which
        such items are relevant.
    """
    return _trait_finding(ctx, p, "ranking.hard_positives", "positives")


def query_frame(ctx) -> pd.DataFrame:
    """One row per query: the columns constant within each query, numeric means, query size."""
    c = ctx.case
    df = ctx.frame("test")
    g = df[c.group_column]
    cols = [col for col in _item_columns(ctx)]
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


@check(
    "ranking.underperforming_queries",
    tasks=("ranking",),
    requires=("model", "group"),
    min_support=0.03,
    max_order=2,
    alpha=0.05,
    min_lift=2.0,
    min_ndcg_gap=0.15,
    max_skill_share=0.4,
)
def underperforming_queries(ctx, p):
    """A group of queries whose NDCG@k is far below the rest.

    What it detects
        Per-query NDCG@k (MRR and MAP reported beside it); a slice of queries, described by the
        query's own attributes (columns constant within a query, per-query means of numeric item
        columns, query length), whose NDCG shortfall (1 - NDCG) is at least `min_lift` times the
        overall shortfall, or whose skill over a random order (NDCG minus the NDCG a random order
        would reach on the same queries) is at most `max_skill_share` of the other queries' skill
        (random order caps the shortfall well below 1, so a ranker that is no better than chance
        on a query type can never double a healthy overall shortfall), and whose mean NDCG is at
        least `min_ndcg_gap` below the other queries, confirmed on a held-out half of the queries
        with Holm's correction.
    Why it matters
        A ranker tuned on the average query can fail a whole query type (long-tail queries, one
        category, one locale) while the mean NDCG looks fine.
    How to confirm
        Compare the NDCG distribution of the slice's queries with the rest; read a few of their
        rankings next to the ideal order.
    Fix
        Add training queries of that type, features that matter for it, or a dedicated ranker.
    """
    q = per_query(ctx)
    qf = query_frame(ctx).reindex(q.index)
    short = (1.0 - q["ndcg"].to_numpy()).clip(0, None)
    overview = _overview(ctx)
    if len(q) < 40:
        raise NotApplicable("fewer than 40 queries")
    slices = find_slices(
        qf.reset_index(drop=True),
        short,
        list(qf.columns),
        categorical=set(ctx.case.categorical or []) & set(qf.columns),
        max_order=p.max_order,
        min_support=p.min_support,
        top_k=3,
        alpha=p.alpha,
        seed=getattr(ctx.config, "seed", 0),
    )
    k = overview["k"]
    out = []
    nd = q["ndcg"].to_numpy()
    rnd = _random_ndcg(ctx).reindex(q.index).to_numpy()
    for s in slices:
        n_in, n_out = float(nd[s.mask].mean()), float(nd[~s.mask].mean())
        r_in, r_out = float(rnd[s.mask].mean()), float(rnd[~s.mask].mean())
        skill_share = (n_in - r_in) / (n_out - r_out) if n_out - r_out > 0.05 else float("nan")
        lost = np.isfinite(skill_share) and skill_share <= p.max_skill_share
        strong = (s.lift >= p.min_lift or lost) and (n_out - n_in) >= p.min_ndcg_gap
        gain_ndcg = max(0.0, (n_out - n_in) * s.support)
        short_all = float(short.sum())
        ev = {
            "queries": int(s.size),
            "share_of_queries": s.support,
            f"ndcg@{k}_slice": n_in,
            f"ndcg@{k}_other": n_out,
            "shortfall_lift": s.lift,
            "p_value": s.p_value,
            f"random_order_ndcg@{k}_slice": r_in,
            f"random_order_ndcg@{k}_other": r_out,
            "skill_over_random_share": skill_share,
            "root_cause_category": "data",
            "expected_gain": {
                "text": f"bringing these queries to the others' NDCG@{k} raises the mean "
                f"NDCG@{k} by {gain_ndcg:.3f}",
                "mean_ndcg_gain": round(gain_ndcg, 4),
                "share_of_shortfall_removed": round(gain_ndcg * len(q) / short_all, 4)
                if short_all > 0
                else 0.0,
            },
            "overview": overview,
        }
        out.append(
            Finding(
                "ranking.underperforming_queries",
                WARNING if strong else INFO,
                f"NDCG@{k} {n_in:.2f} for queries with {s.describe()} ({s.size} queries) vs "
                f"{n_out:.2f} for the others",
                columns=[c for c in s.columns if c in ctx.frame("test").columns],
                slice=[pr for pr in s.predicates if pr["column"] in ctx.frame("test").columns],
                evidence=ev,
                impact=float(min(1.0, ev["expected_gain"]["share_of_shortfall_removed"])),
                root_cause="[data] this query type is under-served: too few training queries "
                "like it, or the features that matter for it are missing",
                fix="add training queries of this type and features that matter for them; "
                "monitor NDCG per query type",
            )
        )
    if not out:
        out.append(
            Finding(
                "ranking.underperforming_queries",
                INFO,
                f"NDCG@{k} {overview[f'ndcg@{k}']:.3f}, MRR {overview['mrr']:.3f}, MAP "
                f"{overview['map']:.3f} over {overview['queries']} queries; no group of queries "
                "falls far below the rest",
                evidence={
                    "overview": overview,
                    "root_cause_category": "model capacity",
                    "expected_gain": {"text": "not estimated: no group of queries stands out"},
                },
            )
        )
    return out
