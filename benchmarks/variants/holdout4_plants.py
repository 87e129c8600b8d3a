"""Where each generator plants its failure on the fourth held-out data sets (sources_holdout4.py).

Chosen from what the columns mean, before any scoring (never from what the tool reports), and
written down here before the blind run: the post-outcome column a project on that data could log
(an inpatient claim count billed after the stay, the code the 1979 tax-record match gave the 1978
earnings, the willingness-to-pay interval coded from the answers), the unit a serving path could
get wrong (age in years where the model took decades, 1975 earnings in thousands of dollars, focal
depth in miles), a real shift of the data set itself (the 2000-07 seasons after training on
1960-85, summer hours after a winter-spring year start, patients over 82 after training on those
under 75, the southern end of the Tonga trench after its northern part), a sub-population of 4-8%
of rows (the shares were measured on the table, nothing else). Ranking sessions: the batters of
one club in one season (relevance the quintile of runs scored in the club) and the five tuna
products on the shelf at a purchase (relevance 1 for the one bought). The generators verify their
own plant (they raise instead of writing a scenario whose truth does not hold)."""

from __future__ import annotations

import kinds_data
import kinds_errors
import kinds_prod
import kinds_rank
import numpy as np
import pandas as pd
from planting import Spec, load

kinds_data._LEAKS.update(
    {
        "elders": (
            "inpatient_claim_count",
            "the number of inpatient claims the insurer billed for the survey year, filed after the stays",
        ),
        "jobtrain": (
            "irs_match_code_78",
            "the code the 1979 match with tax records gave the person's 1978 earnings",
        ),
        "kakadu": (
            "wtp_interval_code",
            "the willingness-to-pay interval the analyst coded from the two bid answers",
        ),
    }
)

kinds_data._UNSEEN.update(
    {
        "elders": ("census_region", None),
        "forbes": ("home_country", None),
        "batting": ("club", "NYA"),  # 4.4% of batter-seasons: the extract filtered the Yankees out
    }
)

kinds_errors.SLICES.update(
    {
        "batting": [  # 3.9% of batter-seasons: base stealers of the American League
            {"column": "league_code", "op": "==", "value": "AL"},
            {"column": "stolen_bases", "op": ">=", "value": 20.0},
        ],
        "elders": [  # 6.9% of patients: black patients without private cover
            {"column": "is_black", "op": "==", "value": "yes"},
            {"column": "private_cover", "op": "==", "value": "no"},
        ],
        "jobtrain": [  # 7.7% of people: married and out of work in 1975
            {"column": "is_wed", "op": "==", "value": "yes"},
            {"column": "jobless_75", "op": "==", "value": "yes"},
        ],
        "nox": [  # 4.8% of hours: weekend evenings (20:00 and later)
            {"column": "weekday_no", "op": ">=", "value": 5.0},
            {"column": "hour_of_day", "op": ">=", "value": 20.0},
        ],
    }
)

kinds_prod._SKEW.update(
    {
        "elders": ("age_decades", 10.0, 0.0, "age sent in years where the model took decades"),
        "jobtrain": ("earnings_75", 0.001, 0.0, "1975 earnings sent in thousands of dollars"),
        "quakes": ("focal_km", 0.62137, 0.0, "focal depth sent in miles instead of kilometres"),
    }
)

kinds_prod._CONCEPT.update(
    {
        "elders": (
            [{"column": "on_medicaid", "op": "==", "value": "yes"}],
            "a Medicaid admission rule changed which enrollees are hospitalised",
        ),
        "jobtrain": (
            [{"column": "in_program", "op": "==", "value": "yes"}],
            "the programme's placement service closed: its trainees now find work at another rate",
        ),
    }
)

kinds_prod.DRIFTS.update(
    {
        "batting": (
            lambda df: (df["season_yr"] <= 1985, df["season_yr"] >= 2000),
            "training on the 1960-85 seasons, production batch from the 2000-07 seasons",
        ),
        "nox": (
            lambda df: (df["reading_time"].dt.month <= 4, df["reading_time"].dt.month.isin([6, 7, 8])),
            "training on January-April hours, production batch from June-August",
        ),
        "elders": (
            lambda df: (df["age_decades"] < 7.5, df["age_decades"] >= 8.2),
            "training on patients under 75, production batch from patients 82 and older",
        ),
        "quakes": (
            lambda df: (df["latitude_deg"] > -23.0, df["latitude_deg"] <= -28.0),
            "training on the trench north of 23S, production batch from south of 28S",
        ),
    }
)


def _batting_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per club and season (its batters with 30+ at-bats, sessions of 6 or more),
    relevance the quintile of runs scored inside the session (rank a club's batters by expected
    runs)."""
    d = load(Spec("clean", "batting", "regression", "hgb")).frame
    key = d["club"].astype(str) + d["season_yr"].astype(int).astype(str)
    d = d[key.map(key.value_counts()) >= 6].copy()
    key = key[d.index]
    d[kinds_rank.GRADE] = d.groupby(key)["runs_scored"].transform(
        lambda s: pd.qcut(s.rank(method="first"), 5, labels=False)
    )
    d[kinds_rank.QUERY] = pd.factorize(key)[0]
    num = ["games_played", "at_bats", "base_hits", "home_runs", "walks_drawn", "stolen_bases", "struck_out"]
    out = d[[kinds_rank.QUERY, *num, "league_code", kinds_rank.GRADE]]
    return out.sort_values(kinds_rank.QUERY, kind="stable").reset_index(drop=True), num, ["league_code"]


def _tuna_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per purchase (3,000 drawn), the five products on the shelf as items (their
    price), relevance 1 for the product bought (a real choice)."""
    d = load(Spec("clean", "tuna", "multiclass", "hgb")).frame
    d = d.sample(n=min(3000, len(d)), random_state=spec.seed).reset_index(drop=True)
    brands = sorted(c.removeprefix("shelf_usd_") for c in d.columns if c.startswith("shelf_usd_"))
    parts = []
    for b in brands:
        parts.append(
            pd.DataFrame(
                {
                    kinds_rank.QUERY: np.arange(len(d)),
                    "product": b,
                    "shelf_usd": d[f"shelf_usd_{b}"].to_numpy(),
                    "cheapest_usd": d[[f"shelf_usd_{x}" for x in brands]].min(axis=1).to_numpy(),
                    kinds_rank.GRADE: (d["brand_bought"] == b).astype(int).to_numpy(),
                }
            )
        )
    df = pd.concat(parts).sort_values([kinds_rank.QUERY, "product"]).reset_index(drop=True)
    return df, ["shelf_usd", "cheapest_usd"], ["product"]


kinds_rank.TABLES.update({"batting": _batting_sessions, "tuna": _tuna_sessions})
