"""Where each generator plants its failure on the third held-out data sets (sources_holdout3.py).

Chosen from what the columns mean, before any scoring (never from what the tool reports), and
written down here before the blind run: the post-outcome column a project on that data could log
(a pension fund's status code, the pay an employer reported, an exit-poll code, a discharge
code), the unit a serving path could get wrong (income in DM instead of thousands of DM,
experience in months, an installation cost in cents), a real shift of the data set itself (later
survey waves, later football seasons, larger classes, the capital instead of the provinces), a
sub-population of 4-8% of rows (the shares were measured on the table, nothing else). Ranking
sessions: the six vehicles a stated-preference respondent was shown (carpref, relevance 1 for the
one chosen) and the pupils of one class (pupils, relevance the quintile of the language score in
the class). The generators verify their own plant (they raise instead of writing a scenario whose
truth does not hold)."""

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
        "health5": (
            "pension_fund_status",
            "the pension fund's contribution status, recorded once the employment status was known",
        ),
        "wages76": (
            "employer_reported_pay",
            "the pay the employer reported to the survey after the interview",
        ),
        "plebiscite": ("exit_poll_code", "the code the follow-up exit interview assigned from the answer"),
        "medicare": ("discharge_status_code", "the discharge status code written when the stay ended"),
        "bundes": (
            "match_report_code",
            "the code of the referee's match report, filed after the final whistle",
        ),
    }
)

kinds_data._UNSEEN.update(
    {
        "health5": ("edu_track", None),
        "plebiscite": ("zone", None),
        "heating": ("climate_zone", None),
    }
)

kinds_errors.SLICES.update(
    {
        "health5": [  # 4.5% of person-years: self-employed men
            {"column": "self_employed", "op": "==", "value": 1.0},
            {"column": "is_female", "op": "==", "value": 0.0},
        ],
        "wages76": [  # 6.8% of men: black men living outside the south in 1976
            {"column": "afro_american", "op": "==", "value": "yes"},
            {"column": "south_76", "op": "==", "value": "no"},
        ],
        "plebiscite": [  # 7.6% of respondents: university-educated, high income
            {"column": "school_stage", "op": "==", "value": "PS"},
            {"column": "monthly_pesos", "op": ">=", "value": 75000.0},
        ],
        "pupils": [  # 6.9% of pupils: mixed-grade classes, high family status
            {"column": "mixed_grade", "op": "==", "value": "yes"},
            {"column": "family_ses", "op": ">=", "value": 35.0},
        ],
    }
)

kinds_prod._SKEW.update(
    {
        "health5": ("hh_net_income", 1000.0, 0.0, "household income sent in DM instead of thousands of DM"),
        "wages76": ("work_exp_yrs", 12.0, 0.0, "work experience sent in months instead of years"),
        "heating": ("install_usd_gas_central", 100.0, 0.0, "the central-gas installation cost sent in cents"),
    }
)

kinds_prod._CONCEPT.update(
    {
        "health5": (
            [{"column": "is_female", "op": "==", "value": 1.0}],
            "a parental-leave rule changed which women the registry counts as out of work",
        ),
        "wages76": (
            [{"column": "south_76", "op": "==", "value": "yes"}],
            "a regional wage agreement raised wages in the south",
        ),
    }
)

kinds_prod.DRIFTS.update(
    {
        "health5": (
            lambda df: (df["survey_wave"] <= 1985, df["survey_wave"] >= 1988),
            "training on the 1984-85 waves, production batch from the 1988 wave (older panel, higher incomes)",
        ),
        "bundes": (
            lambda df: (df["season_start"] < 1980, df["season_start"] >= 2000),
            "training on the 1963-79 seasons, production batch from the 2000-08 seasons",
        ),
        "pupils": (
            lambda df: (df["class_size"] <= 24, df["class_size"] >= 31),
            "training on pupils of small grades (24 or fewer), production batch from grades of 31 or more",
        ),
        "plebiscite": (
            lambda df: (df["zone"].isin(["N", "C", "S"]), df["zone"].isin(["SA", "M"])),
            "training on respondents from the provinces, production batch from metropolitan Santiago",
        ),
    }
)


def _carpref_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per stated-preference respondent (2,000 drawn), the six vehicles shown as
    items, relevance 1 for the one chosen (a real choice)."""
    d = load(Spec("clean", "carpref", "multiclass", "hgb")).frame
    d = d.sample(n=min(2000, len(d)), random_state=spec.seed).reset_index(drop=True)
    num = [
        "price_k",
        "range_100mi",
        "accel_s",
        "top_speed_10mph",
        "emissions_idx",
        "size_class",
        "cargo_space",
        "run_cost_cpm",
        "refuel_station_share",
    ]
    cat = ["body", "fuel"]
    parts = []
    for i in range(1, 7):
        part = pd.DataFrame({kinds_rank.QUERY: np.arange(len(d))})
        for c in num + cat:
            part[c] = d[f"{c}_{i}"].astype(str).to_numpy() if c in cat else d[f"{c}_{i}"].to_numpy()
        part["slot"] = i
        part[kinds_rank.GRADE] = (d["chosen"] == i).astype(int).to_numpy()
        parts.append(part)
    df = pd.concat(parts).sort_values([kinds_rank.QUERY, "slot"]).drop(columns="slot").reset_index(drop=True)
    return df, num, cat


def _pupil_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per class of at least 8 pupils, relevance the quintile of the language score
    inside the class (rank a class's pupils by expected attainment)."""
    d = load(Spec("clean", "pupils", "regression", "hgb")).frame
    d = d[d.groupby("class_id")["class_id"].transform("size") >= 8].copy()
    d[kinds_rank.GRADE] = d.groupby("class_id")["lang_points"].transform(
        lambda s: pd.qcut(s.rank(method="first"), 5, labels=False)
    )
    d[kinds_rank.QUERY] = pd.factorize(d["class_id"])[0]
    num = ["verbal_iq", "family_ses", "class_size"]
    out = d[[kinds_rank.QUERY, *num, "mixed_grade", kinds_rank.GRADE]]
    return out.sort_values(kinds_rank.QUERY, kind="stable").reset_index(drop=True), num, ["mixed_grade"]


kinds_rank.TABLES.update({"carpref": _carpref_sessions, "pupils": _pupil_sessions})
