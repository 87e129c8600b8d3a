"""Where each generator plants its failure on the seventh held-out data sets (sources_holdout7.py).

Chosen from what the columns mean, before any scoring (never from what the tool reports; the tool
was not run on any of these tables), and written down here before the blind run: the post-outcome
column a project on that data could log (the week formula was started, known once nursing
stopped; citations counted years after the papers; the percentile printed on the score report;
patents later granted on a year's filings; a census region code filed with the county), the unit a
serving path could get wrong (a birth year sent as two digits, R&D spending logged base 10
instead of e, the verbal score sent in tens), a real shift of the data set itself (the 2011-15
housing market after training on 2000-07, the 1985-87 municipal budgets after 1979-82, evening
sessions after morning ones, students of prolific mentors after the others), a changed labelling
rule for one large group (a lactation-support programme for mothers who came late to prenatal
care, a small-firm patent-fee waiver), a sub-population of 4-9% of rows (the shares were measured
on the table, nothing else: respondents at least somewhat tired in sessions from 19:00 8.7%, towns
in the top fifth of grants in 1986-87 5.6%, teenage mothers who smoked 8.5%). Ranking sessions:
the seven heating systems offered for one new house (relevance 1 for the one installed) and one
month's Texas city markets (relevance the quintile of homes sold within the month). The
generators verify their own plant (they raise instead of writing a scenario whose truth does not
hold)."""

from __future__ import annotations

import kinds_data
import kinds_errors
import kinds_prod
import kinds_rank
import pandas as pd
from planting import Spec, load

kinds_data._LEAKS.update(
    {
        "nursing": (
            "formula_start_wk",
            "the week formula feeding was started, recorded at the follow-up once nursing had stopped",
        ),
        "chemists": (
            "citations_5yr",
            "citations of the student's papers counted five years after the PhD, when the survey was linked",
        ),
        "scores": (
            "quant_percentile",
            "the quantitative percentile printed on the score report the respondent copied from",
        ),
        "patents": (
            "grants_later",
            "patents granted in later years on the year's filings, added when the panel was updated",
        ),
        "counties": (
            "census_division_code",
            "the census division code filed with each county's record, which names its state's division",
        ),
    }
)

kinds_data._UNSEEN.update(
    {
        "patents": ("industry_code", None),
        "scores": ("school_stage", None),
        "nursing": ("mother_race", None),
    }
)

kinds_errors.SLICES.update(
    {
        "mood": [  # 8.7% of answers: at least somewhat tired in a session from 19:00
            {"column": "feel_tired", "op": ">=", "value": 2.0},
            {"column": "hour_of_session", "op": ">=", "value": 19.0},
        ],
        "towns": [  # 5.6% of town-years: the top fifth of grants per head in 1986-87
            {"column": "grants_per_head", "op": ">=", "value": 5.7},
            {"column": "fiscal_yr", "op": ">=", "value": 1986.0},
        ],
        "nursing": [  # 8.5% of mothers: smokers aged 19 or under at the birth
            {"column": "smoked_at_birth", "op": "==", "value": "yes"},
            {"column": "mother_age_at_birth", "op": "<=", "value": 19.0},
        ],
    }
)

kinds_prod._SKEW.update(
    {
        "nursing": ("birth_yr", 1.0, -1900.0, "the child's birth year sent as two digits (1982 as 82)"),
        "patents": ("log_rd_spend", 0.43429, 0.0, "the R&D spending logged base 10 instead of base e"),
        "scores": ("sat_verbal", 0.1, 0.0, "the verbal score sent in tens (600 as 60)"),
    }
)

kinds_prod._CONCEPT.update(
    {
        "nursing": (
            [{"column": "late_prenatal_care", "op": "==", "value": "yes"}],
            "a lactation-support programme now visits mothers who came late to prenatal care",
        ),
        "patents": (
            [{"column": "log_rd_spend", "op": "<=", "value": 4.0}],
            "a small-firm patent-fee waiver changed which of the smallest R&D spenders file",
        ),
    }
)

kinds_prod.DRIFTS.update(
    {
        "homes": (
            lambda df: (df["calendar_yr"] <= 2007, df["calendar_yr"] >= 2011),
            "training on the 2000-07 Texas housing market, production batch from 2011-15",
        ),
        "towns": (
            lambda df: (df["fiscal_yr"] <= 1982, df["fiscal_yr"] >= 1985),
            "training on the 1979-82 municipal budgets, production batch from 1985-87",
        ),
        "mood": (
            lambda df: (df["hour_of_session"] <= 12, df["hour_of_session"] >= 17),
            "training on sessions held by noon, production batch from sessions from 17:00",
        ),
        "chemists": (
            lambda df: (df["mentor_papers"] <= 10, df["mentor_papers"] >= 15),
            "training on students of mentors with 10 papers or fewer, production batch from mentors with 15 or more",
        ),
    }
)


def _hvac_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per new house: the seven heating (and cooling) systems offered as items with
    their install and running costs, relevance 1 for the system installed (a real choice)."""
    d = load(Spec("clean", "hvac", "binary", "hgb")).frame
    num = [
        "install_cost_usd",
        "running_cost_usd",
        "cooling_install_usd",
        "cooling_running_usd",
        "household_income_k",
    ]
    out = pd.DataFrame({kinds_rank.QUERY: d["house_no"].to_numpy()})
    for c in num:
        out[c] = d[c].to_numpy()
    out["system_offered"] = d["system_offered"].astype(str).to_numpy()
    out[kinds_rank.GRADE] = d["was_installed"].astype(int).to_numpy()
    return out.sort_values(kinds_rank.QUERY, kind="stable").reset_index(drop=True), num, ["system_offered"]


def _homes_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per month: the Texas city markets reported that month as items with their
    listings, months of supply and median price, relevance the quintile of homes sold among the
    month's cities (rank the month's markets by how many homes they sell)."""
    d = load(Spec("clean", "homes", "regression", "hgb")).frame
    q = pd.factorize(d["sale_month"].dt.strftime("%Y%m"), sort=True)[0]
    num = ["active_listings", "months_of_supply", "median_sale_usd"]
    out = pd.DataFrame({kinds_rank.QUERY: q})
    for c in num:
        out[c] = d[c].to_numpy()
    out["city_name"] = d["city_name"].astype(str).to_numpy()
    grade = (
        d.assign(_q=q)
        .groupby("_q")["homes_sold"]
        .transform(lambda s: pd.qcut(s.rank(method="first"), 5, labels=False))
    )
    out[kinds_rank.GRADE] = grade.astype(int).to_numpy()
    return out.sort_values(kinds_rank.QUERY, kind="stable").reset_index(drop=True), num, ["city_name"]


kinds_rank.TABLES.update({"hvac": _hvac_sessions, "homes": _homes_sessions})
