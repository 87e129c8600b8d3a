"""Near copies where the model's columns hold one continuous reading (`stats.near_line`): a coarse
panel (small integers and flags, one reading per row) repeats its entities year after year with the
reading drifted a little, which the binned twins' density model took for near copies (HOLDOUT5
disputes, issue 9 item 1). The neighbour-ratio null (uniform in one dimension) stays silent on such
natural repeats and fires on re-rounded copies of the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import rows
from mltriage.context import Context
from mltriage.stats.near_line import neighbour_ratio, ratio_copies


def _panel(entities: int = 300, years: int = 10, seed: int = 0) -> pd.DataFrame:
    """Dyad-years as in HOLDOUT5's disputes: two fixed scores per dyad (-10..10), years at peace,
    a border flag, and one reading (the dyad's power ratio, drifting 3% a year, four decimals); a
    dispute persists (80% the year after one). The binned twins' density model called 15% of its
    training rows near copies (324 of 2,098 binned twins where it expected 0.0)."""
    g = np.random.default_rng(seed)
    out = []
    for _ in range(entities):
        base, s1, s2 = g.lognormal(0, 1), int(g.integers(-10, 11)), int(g.integers(-10, 11))
        border, peace = int(g.random() < 0.3), int(g.integers(0, 5))
        for _ in range(years):
            base *= np.exp(g.normal(0, 0.03))
            dispute = int(g.random() < (0.8 if peace == 0 else 0.05) + 0.1 * border)
            peace = 0 if dispute else peace + 1
            out.append(
                {
                    "s1": s1,
                    "s2": s2,
                    "peace": min(peace, 30),
                    "border": border,
                    "ratio": round(base, 4),
                    "y": dispute,
                }
            )
    return pd.DataFrame(out)


def _ctx(tr: pd.DataFrame, te: pd.DataFrame) -> Context:
    m = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(tr.drop(columns="y"), tr["y"])
    return Context(build_case(tr, te, "y", task="binary", model=m))


def _split(df: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    k = int(0.7 * len(df))
    return df.iloc[:k].reset_index(drop=True), df.iloc[k:].reset_index(drop=True)


def _near_copies(df: pd.DataFrame, share: float, seed: int = 1) -> pd.DataFrame:
    """`share` of the rows again, the reading re-scaled by ~0.2% and re-rounded (no exact copy)."""
    g = np.random.default_rng(seed)
    twins = df.sample(frac=share, random_state=seed).copy()
    twins["ratio"] = (
        twins["ratio"] * (1 + g.choice([-1, 1], len(twins)) * g.uniform(0.001, 0.003, len(twins)))
    ).round(4)
    out = pd.concat([df, twins], ignore_index=True)
    return out.drop_duplicates().sample(frac=1, random_state=seed).reset_index(drop=True)


def test_neighbour_ratio_is_uniform_by_chance_and_near_zero_for_copies():
    g = np.random.default_rng(0)
    x = g.lognormal(0, 1, 4000)
    key = g.integers(0, 400, 4000)  # ten rows per value of the other columns
    u = neighbour_ratio(x, key)
    assert abs(np.mean(u < 0.05) - 0.05) < 0.012 and abs(np.mean(u < 0.5) - 0.5) < 0.03
    f = ratio_copies(u, 0.05, within=True)
    assert f.p_value > 0.01 and f.copy_low == 0.0
    y = np.concatenate([x, x[:400] * 1.0005])
    f2 = ratio_copies(neighbour_ratio(y, np.concatenate([key, key[:400]])), 0.05, within=True)
    assert f2.p_value < 1e-20 and 0.06 < f2.copy_share < 0.12  # 400 copies of 4,400 rows: 9.1%


@pytest.mark.silent("data.duplicates")
@pytest.mark.silent("data.train_test_overlap")
def test_near_copies_silent_on_a_coarse_panel_of_natural_repeats():
    tr, te = _split(_panel())
    ctx = _ctx(tr, te)
    near, _, alarm, _ = rows.near_judged(ctx, rows.duplicates.check.resolve({}), "train", 1)
    assert not alarm and near.rows > 100
    assert checkhelp.alarms(checkhelp.run(rows.duplicates, ctx)) == []
    assert checkhelp.alarms(checkhelp.run(rows.train_test_overlap, ctx)) == []


@pytest.mark.fires("data.duplicates")
def test_duplicates_fires_on_near_copies_in_a_coarse_panel():
    tr, te = _split(_panel())
    tr2 = _near_copies(tr, 0.2)
    found = checkhelp.alarms(checkhelp.run(rows.duplicates, _ctx(tr2, te)))
    assert len(found) == 1 and "the one continuous reading" in found[0].title
    assert "nan" not in found[0].title
    assert 0.04 < found[0].evidence["near_copies"]["copy_share"] < 0.2  # a floor of the 16.7% appended


@pytest.mark.fires("data.train_test_overlap")
def test_overlap_fires_on_near_copies_made_before_the_split():
    tr, te = _split(_near_copies(_panel(), 0.3))
    found = checkhelp.alarms(checkhelp.run(rows.train_test_overlap, _ctx(tr, te)))
    assert any(f.title.startswith("Near copies across the split: in ratio") for f in found), [
        f.title for f in found
    ]
