"""The seventh held-out data sets: real tables that neither the default suite nor `HOLDOUT` to
`HOLDOUT6` (nor any detection change) used, for `HOLDOUT7` in suite.py (a seventh proxy for the
held-back set issue 9 is judged on, built and scored blind once while the tool was being changed by
others who never saw it). Loaded offline from pydataset and from the data files plotnine ships
(read from its installed folder, without importing plotnine), every column renamed (check_names
keeps them apart from the public benchmark's). Not taken, though offered: lifelines' and
scikit-survival's tables (their wheels pin an older pandas than the suite's), azcabgptca, ohio,
titanic and OME (four to six coarse columns: most rows repeat another's features), PD (mostly
missing), Labour (a production function again, like `firms`), liver,
pbc and UKHouseOfCommons (under 420 complete rows), plotnine's economics, diamonds, its copy
of midwest (pydataset's is used), mpg and msleep (public benchmark, used, or under 250 rows), and everything
the earlier sets list as not taken. The largest unused table found is Texas's monthly housing
market (7,126 complete rows); sizes run from 437 to 7,126 rows.

| name | package | rows | tasks | roles |
| --- | --- | --- | --- | --- |
| homes | plotnine `txhousing` (ggplot2: Texas A&M real-estate center, 46 cities, 2000-2015, complete months) | 7,126 | regression (homes_sold), ranking (a month's city markets) | sale_month time |
| mood | pydataset `msq` (psych: Motivational State Questionnaire, 404 people in several sessions) | 3,568 | regression (neuroticism_pts), binary (extraverted) | respondent_no entity |
| towns | pydataset `MunExp` (Ecdat: 265 Swedish municipalities 1979-87) | 2,385 | regression (spending_per_head) | town_no entity |
| patents | pydataset `PatentsRD` (Ecdat: 181 European firms 1983-91) | 1,629 | regression (patents_filed), binary (filed_any) | firm_no entity |
| hvac | pydataset `HC` (Ecdat/mlogit: heating and cooling system chosen for 250 new Californian houses) | 250 houses (1,750 rows) | ranking (a house's seven systems), binary | house_no entity |
| nursing | pydataset `bfeed` (KMsurv: breast-feeding durations, completed spells) | 892 | regression (weeks_nursed), binary (weaned_by_wk4) | |
| chemists | pydataset `bioChemists` (pscl: articles of 915 biochemistry PhD students) | 915 | regression (papers_3yr), binary (published_any) | |
| counties | pydataset `midwest` (ggplot2: 1990 census of 437 Midwest counties) | 437 | regression (pct_in_poverty), binary (metro_county), multiclass (state_abbr) | |
| scores | pydataset `sat.act` (psych: self-reported SAT and ACT scores, complete rows) | 687 | binary (is_male), regression (sat_quant), multiclass (school_stage) | |
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
from sources_holdout import _pyd, _s


def _plotnine_csv(name: str) -> pd.DataFrame:
    """A data file plotnine ships (plotnine/data/NAME.csv), read without importing plotnine."""
    spec = importlib.util.find_spec("plotnine")
    if spec is None or spec.origin is None:
        raise SystemExit("the HOLDOUT7 set needs plotnine's data files: pip install plotnine")
    return pd.read_csv(Path(spec.origin).parent / "data" / f"{name}.csv")


@functools.cache
def _homes() -> pd.DataFrame:
    # months with any field missing (1,476 of 8,602, mostly small cities' early years) dropped
    d = _plotnine_csv("txhousing").dropna().reset_index(drop=True)
    when = pd.to_datetime({"year": d["year"], "month": d["month"], "day": 1})
    return pd.DataFrame(
        {
            "city_name": _s(d["city"]),
            "sale_month": when,
            "calendar_yr": d["year"].astype(float),
            "month_of_yr": d["month"].astype(float),
            "dollar_volume": d["volume"].astype(float),
            "median_sale_usd": d["median"].astype(float),
            "active_listings": d["listings"].astype(float),
            "months_of_supply": d["inventory"].astype(float),
            "homes_sold": d["sales"].astype(float),
        }
    )


# msq's mood items answered in (nearly) every session: the eight asked in only about half the sessions
# are left out, and calm and quiescent (missing in 82 and 136 sessions)
_MSQ_LATE = {"tranquil", "inactive", "idle", "anxious", "cheerful", "alone", "scornful", "kindly"}
_MSQ_META = {"EA", "TA", "PA", "NegAff", "Extraversion", "Neuroticism", "Lie", "Sociability"}
_MSQ_META |= {"Impulsivity", "MSQ_Round", "ID", "condition", "MSQ_Time", "TOD", "TOD24", "scale", "exper"}


@functools.cache
def _mood() -> pd.DataFrame:
    d = _pyd("msq")
    items = [c for c in d.columns if c not in _MSQ_META | _MSQ_LATE | {"calm", "quiescent"}]
    d = d.dropna(subset=[*items, "Extraversion", "Neuroticism", "TOD"]).reset_index(drop=True)
    out = {"respondent_no": d["ID"].astype(int)}
    for c in items:
        out["feel_" + c.replace(".", "_")] = d[c].astype(float)
    out["hour_of_session"] = d["TOD"].astype(float)
    out["neuroticism_pts"] = d["Neuroticism"].astype(float)
    # EPI extraversion of 15 or more (the upper half of the 0-24 scale's answers here)
    out["extraverted"] = (d["Extraversion"] >= 15).astype(int)
    return pd.DataFrame(out)


@functools.cache
def _towns() -> pd.DataFrame:
    d = _pyd("MunExp")
    return pd.DataFrame(
        {
            "town_no": d["id"].astype(int),
            "fiscal_yr": d["year"].astype(float),
            # the shipped figures are per head in million kronor: in thousand kronor here
            "revenue_per_head": (d["revenue"].astype(float) * 1000).round(4),
            "grants_per_head": (d["grants"].astype(float) * 1000).round(4),
            "spending_per_head": (d["expend"].astype(float) * 1000).round(4),
        }
    )


@functools.cache
def _patents() -> pd.DataFrame:
    d = _pyd("PatentsRD")
    return pd.DataFrame(
        {
            "firm_no": d["fi"].astype(int),
            "filing_yr": d["year"].astype(float),
            "industry_code": d["sector"].astype(int).map(lambda v: f"ind{v:02d}"),
            "home_region": d["geo"]
            .astype(int)
            .map({1: "region_a", 2: "region_b", 3: "region_c", 4: "region_d"}),
            "log_rd_spend": d["rdexp"].astype(float),
            "log_spillover_pool": d["spil"].astype(float),
            "patents_filed": d["patent"].astype(float),
            "filed_any": (d["patent"] > 0).astype(int),
        }
    )


_SYSTEMS = ("gcc", "ecc", "erc", "hpc", "gc", "ec", "er")
_SYSTEM_NAMES = {
    "gcc": "gas_central_cooled",
    "ecc": "elec_central_cooled",
    "erc": "elec_room_cooled",
    "hpc": "heat_pump",
    "gc": "gas_central",
    "ec": "elec_central",
    "er": "elec_room",
}


@functools.cache
def _hvac() -> pd.DataFrame:
    # seven rows a house, one per system offered; cooling adds its own install and running cost
    d = _pyd("HC").reset_index(drop=True)
    parts = []
    for s in _SYSTEMS:
        cooled = s.endswith("c") and len(s) == 3
        parts.append(
            pd.DataFrame(
                {
                    "house_no": np.arange(len(d)),
                    "system_offered": _SYSTEM_NAMES[s],
                    "with_cooling": int(cooled),
                    "install_cost_usd": d[f"ich.{s}"].astype(float) * 10,
                    "running_cost_usd": d[f"och.{s}"].astype(float),
                    "cooling_install_usd": (d["icca"].astype(float) * 10) if cooled else 0.0,
                    "cooling_running_usd": d["occa"].astype(float) if cooled else 0.0,
                    "household_income_k": d["income"].astype(float),
                    "was_installed": (_s(d["depvar"]) == s).astype(int),
                }
            )
        )
    df = pd.concat(parts).sort_values("house_no", kind="stable").reset_index(drop=True)
    return df


@functools.cache
def _nursing() -> pd.DataFrame:
    # completed spells only (892 of 927): the 35 still nursing at follow-up have no duration
    d = _pyd("bfeed")
    d = d[d["delta"] == 1].reset_index(drop=True)
    return pd.DataFrame(
        {
            "mother_race": d["race"].astype(int).map({1: "white", 2: "black", 3: "other"}),
            "below_poverty": np.where(d["poverty"] == 1, "yes", "no"),
            "smoked_at_birth": np.where(d["smoke"] == 1, "yes", "no"),
            "drank_at_birth": np.where(d["alcohol"] == 1, "yes", "no"),
            "mother_age_at_birth": d["agemth"].astype(float),
            "birth_yr": (1900 + d["ybirth"]).astype(float),
            "mother_school_yrs": d["yschool"].astype(float),
            "late_prenatal_care": np.where(d["pc3mth"] == 1, "yes", "no"),
            "weeks_nursed": d["duration"].astype(float),
            "weaned_by_wk4": (d["duration"] <= 4).astype(int),
        }
    )


@functools.cache
def _chemists() -> pd.DataFrame:
    d = _pyd("bioChemists")
    return pd.DataFrame(
        {
            "is_woman": np.where(_s(d["fem"]) == "Women", "yes", "no"),
            "is_married": np.where(_s(d["mar"]) == "Married", "yes", "no"),
            "kids_under_6": d["kid5"].astype(float),
            "phd_dept_prestige": d["phd"].astype(float),
            "mentor_papers": d["ment"].astype(float),
            # 8 stands for eight or more (11 of 915 students published 8 to 19)
            "papers_3yr": d["art"].clip(upper=8).astype(float),
            "published_any": (d["art"] > 0).astype(int),
        }
    )


@functools.cache
def _counties() -> pd.DataFrame:
    d = _pyd("midwest")
    return pd.DataFrame(
        {
            "state_abbr": _s(d["state"]),
            "land_area": d["area"].astype(float),
            "population": d["poptotal"].astype(float),
            "persons_per_area": d["popdensity"].astype(float).round(4),
            "pct_white": d["percwhite"].astype(float).round(5),
            "pct_black": d["percblack"].astype(float).round(5),
            "pct_native": d["percamerindan"].astype(float).round(5),
            "pct_asian": d["percasian"].astype(float).round(5),
            "pct_other_origin": d["percother"].astype(float).round(5),
            "adults": d["popadults"].astype(float),
            "pct_hs_diploma": d["perchsd"].astype(float).round(5),
            "pct_college_degree": d["percollege"].astype(float).round(5),
            "pct_professional": d["percprof"].astype(float).round(5),
            "pct_poverty_known": d["percpovertyknown"].astype(float).round(5),
            "pct_child_poverty": d["percchildbelowpovert"].astype(float).round(5),
            "pct_adult_poverty": d["percadultpoverty"].astype(float).round(5),
            "pct_elderly_poverty": d["percelderlypoverty"].astype(float).round(5),
            "pct_in_poverty": d["percbelowpoverty"].astype(float).round(5),
            "metro_county": d["inmetro"].astype(int),
        }
    )


@functools.cache
def _scores() -> pd.DataFrame:
    d = _pyd("sat.act").dropna().reset_index(drop=True)
    stage = {0: "hs_none", 1: "hs_final_yr", 2: "some_univ", 3: "in_univ", 4: "univ_grad", 5: "postgrad"}
    return pd.DataFrame(
        {
            "is_male": (d["gender"].astype(int) == 1).astype(int),
            "school_stage": d["education"].astype(int).map(stage),
            "years_old": d["age"].astype(float),
            "act_composite": d["ACT"].astype(float),
            "sat_verbal": d["SATV"].astype(float),
            "sat_quant": d["SATQ"].astype(float),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
SETS = {
    "homes": (
        _homes,
        {"regression": "homes_sold"},
        ["city_name"],
        "sale_month",
        None,
        "plotnine txhousing (ggplot2)",
        {"median_sale_usd": "USD", "dollar_volume": "USD", "months_of_supply": "months"},
    ),
    "mood": (
        _mood,
        {"regression": "neuroticism_pts", "binary": "extraverted"},
        [],
        None,
        "respondent_no",
        "pydataset msq (psych)",
        {"hour_of_session": "hours"},
    ),
    "towns": (
        _towns,
        {"regression": "spending_per_head"},
        [],
        None,
        "town_no",
        "pydataset MunExp (Ecdat)",
        {
            "revenue_per_head": "thousand SEK",
            "grants_per_head": "thousand SEK",
            "spending_per_head": "thousand SEK",
        },
    ),
    "patents": (
        _patents,
        {"regression": "patents_filed", "binary": "filed_any"},
        ["industry_code", "home_region"],
        None,
        "firm_no",
        "pydataset PatentsRD (Ecdat)",
        {},
    ),
    "hvac": (
        _hvac,
        {"binary": "was_installed"},
        ["system_offered"],
        None,
        "house_no",
        "pydataset HC (Ecdat)",
        {"install_cost_usd": "USD", "running_cost_usd": "USD per year"},
    ),
    "nursing": (
        _nursing,
        {"regression": "weeks_nursed", "binary": "weaned_by_wk4"},
        ["mother_race", "below_poverty", "smoked_at_birth", "drank_at_birth", "late_prenatal_care"],
        None,
        None,
        "pydataset bfeed (KMsurv)",
        {"weeks_nursed": "weeks", "mother_age_at_birth": "years"},
    ),
    "chemists": (
        _chemists,
        {"regression": "papers_3yr", "binary": "published_any"},
        ["is_woman", "is_married"],
        None,
        None,
        "pydataset bioChemists (pscl)",
        {},
    ),
    "counties": (
        _counties,
        {"regression": "pct_in_poverty", "binary": "metro_county", "multiclass": "state_abbr"},
        ["state_abbr"],
        None,
        None,
        "pydataset midwest (ggplot2)",
        {"land_area": "square degrees", "pct_in_poverty": "percent"},
    ),
    "scores": (
        _scores,
        {"binary": "is_male", "regression": "sat_quant", "multiclass": "school_stage"},
        ["school_stage"],
        None,
        None,
        "pydataset sat.act (psych)",
        {"years_old": "years"},
    ),
}

# never features: none beyond the roles
NOT_FEATURES: set[str] = set()
# per (data set, task): columns that restate the target (or are known only with it)
TASK_DROP = {
    # the dollar volume is the homes sold times their mean price
    ("homes", "regression"): {"dollar_volume"},
    ("mood", "regression"): {"extraverted"},
    ("mood", "binary"): {"neuroticism_pts"},
    ("patents", "regression"): {"filed_any"},
    ("patents", "binary"): {"patents_filed"},
    ("nursing", "regression"): {"weaned_by_wk4"},
    ("nursing", "binary"): {"weeks_nursed"},
    ("chemists", "regression"): {"published_any"},
    ("chemists", "binary"): {"papers_3yr"},
    # the poverty rate is the weighted mean of the child, adult and elderly rates
    ("counties", "regression"): {
        "metro_county",
        "pct_child_poverty",
        "pct_adult_poverty",
        "pct_elderly_poverty",
    },
    ("scores", "binary"): set(),
}
