"""Where each generator plants its failure on the fifth held-out data sets (sources_holdout5.py).

Chosen from what the columns mean, before any scoring (never from what the tool reports), and
written down here before the blind run: the post-outcome column a project on that data could log
(UN mediation requests filed once a dispute began, the state's performance index computed from
the same test results, the payroll title code assigned with the rank, hospice referrals recorded
during follow-up), the unit a serving path could get wrong (a father's height in centimetres, a
fare in guilders instead of cents, a Polity score on its 0-20 form instead of -10..10), a real
shift of the data set itself (the 1980-85 world economy after training on 1960-70, the 1989-90
firms after 1983-85, long-peaceful country pairs after recently hostile ones, the families of tall
fathers after those of short ones), a sub-population of 4-9% of rows (the shares were measured on
the table, nothing else). Ranking sessions: the two tickets of one stated-preference question
(relevance 1 for the one chosen) and the children of one family (relevance the quintile of adult
height inside the family). The generators verify their own plant (they raise instead of writing
a scenario whose truth does not hold)."""

from __future__ import annotations

import kinds_data
import kinds_errors
import kinds_prod
import kinds_rank
import pandas as pd
from planting import Spec, load

kinds_data._LEAKS.update(
    {
        "disputes": (
            "un_mediation_requests",
            "the UN mediation requests logged for the pair that year, filed once a dispute had begun",
        ),
        "schools": (
            "state_api_index",
            "the state's Academic Performance Index, computed from the same spring test results",
        ),
        "profs": ("payroll_title_code", "the payroll title code that HR assigns together with the rank"),
        "colon": ("hospice_referrals", "the hospice referrals recorded during the trial's follow-up"),
        "rail": (
            "booked_fare_code",
            "the fare code the booking system recorded once the respondent had picked a ticket",
        ),
    }
)

kinds_data._UNSEEN.update(
    {
        "windsor": ("preferred_area", None),
        "schools": ("county_name", None),
        "colon": ("spread_depth", None),
    }
)

kinds_errors.SLICES.update(
    {
        "disputes": [  # 5.7% of dyad-years: a major power and a neighbour
            {"column": "major_power_in_pair", "op": "==", "value": "yes"},
            {"column": "share_border", "op": "==", "value": "yes"},
        ],
        "galton": [  # 8.4% of children: daughters of fathers 71.5 in or taller
            {"column": "child_sex", "op": "==", "value": "female"},
            {"column": "father_in", "op": ">=", "value": 71.5},
        ],
        "colon": [  # 8.3% of patients: 70 and older on levamisole plus 5-FU
            {"column": "trial_arm", "op": "==", "value": "lev_5fu"},
            {"column": "age_yrs", "op": ">=", "value": 70.0},
        ],
        "firms": [  # 4.4% of firm-years: capital-heavy firms with a negative cash flow
            {"column": "cash_flow", "op": "<", "value": 0.0},
            {"column": "log_capital", "op": ">=", "value": 6.0},
        ],
    }
)

kinds_prod._SKEW.update(
    {
        "galton": ("father_in", 2.54, 0.0, "the father's height sent in centimetres instead of inches"),
        "rail": ("fare_a_cents", 0.01, 0.0, "the first ticket's fare sent in guilders instead of cents"),
        "disputes": (
            "democracy_max",
            1.0,
            10.0,
            "the more democratic state's Polity score sent on its 0-20 form instead of -10..10",
        ),
    }
)

kinds_prod._CONCEPT.update(
    {
        "disputes": (
            [{"column": "share_border", "op": "==", "value": "yes"}],
            "a regional settlement regime: neighbouring pairs now enter disputes at another rate",
        ),
        "colon": (
            [{"column": "trial_arm", "op": "==", "value": "lev_5fu"}],
            "a second-line treatment introduced later changed survival in the combination arm",
        ),
    }
)

kinds_prod.DRIFTS.update(
    {
        "penn": (
            lambda df: (df["year_no"] <= 1970, df["year_no"] >= 1980),
            "training on the 1960-70 economies, production batch from 1980-85",
        ),
        "firms": (
            lambda df: (df["year_no"] <= 1985, df["year_no"] >= 1989),
            "training on the 1983-85 firm accounts, production batch from 1989-90",
        ),
        "disputes": (
            lambda df: (df["years_at_peace"] <= 15, df["years_at_peace"] >= 25),
            "training on pairs at most 15 years after their last dispute, production batch from pairs at peace 25+ years",
        ),
        "galton": (
            lambda df: (df["father_in"] < 69.0, df["father_in"] >= 71.0),
            "training on families whose father is under 69 in, production batch from fathers of 71 in and taller",
        ),
    }
)


def _rail_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per respondent: every ticket the respondent was offered over the questions (two
    a question, about 25 a session) as items (fare, travel time, transfers, comfort class),
    relevance 1 for the tickets the respondent chose (real choices; rank the tickets a traveller is
    shown by how likely they are to be bought)."""
    d = load(Spec("clean", "rail", "binary", "hgb")).frame.reset_index(drop=True)
    parts = []
    for side, chosen in (("a", 1), ("b", 0)):
        parts.append(
            pd.DataFrame(
                {
                    kinds_rank.QUERY: d["respondent"].to_numpy(),
                    "fare_cents": d[f"fare_{side}_cents"].to_numpy(),
                    "travel_minutes": d[f"minutes_{side}"].to_numpy(),
                    "n_transfers": d[f"transfers_{side}"].to_numpy(),
                    "comfort_class": d[f"comfort_{side}"].astype(str).to_numpy(),
                    kinds_rank.GRADE: (d["chose_first"] == chosen).astype(int).to_numpy(),
                }
            )
        )
    df = pd.concat(parts).sort_values(kinds_rank.QUERY, kind="stable").reset_index(drop=True)
    return df, ["fare_cents", "travel_minutes", "n_transfers"], ["comfort_class"]


def _galton_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per family with five or more grown children, the children as items, relevance
    the quintile of adult height inside the family (rank a family's children by expected height)."""
    d = load(Spec("clean", "galton", "regression", "hgb")).frame
    size = d.groupby("family_code")["family_code"].transform("size")
    d = d[size >= 5].copy()
    d[kinds_rank.GRADE] = d.groupby("family_code")["adult_height_in"].transform(
        lambda s: pd.qcut(s.rank(method="first"), 5, labels=False)
    )
    d[kinds_rank.QUERY] = pd.factorize(d["family_code"])[0]
    num = ["birth_order", "n_children", "father_in", "mother_in"]
    out = d[[kinds_rank.QUERY, *num, "child_sex", kinds_rank.GRADE]]
    return out.sort_values(kinds_rank.QUERY, kind="stable").reset_index(drop=True), num, ["child_sex"]


kinds_rank.TABLES.update({"rail": _rail_sessions, "galton": _galton_sessions})
