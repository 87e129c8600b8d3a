"""Where each generator plants its failure on the second held-out data sets (sources_holdout2.py).

Chosen from what the columns mean, before any scoring (never from what the tool reports): the
post-outcome column a project on that data could log, the unit a serving path could get wrong
(pesetas for euros, a percentage for a ratio, months for years), a real shift of the data set
itself (later diagnoses, other communes, older households, higher unemployment), a sub-population of
4-10% of rows (the shares were measured on the table, nothing else). The generators verify their
own plant (they raise instead of writing a scenario whose truth does not hold)."""

from __future__ import annotations

import kinds_data
import kinds_errors
import kinds_prod
import kinds_rank

kinds_data._LEAKS.update(
    {
        "hdma": ("underwriter_conditions", "conditions the underwriter listed in the decision letter"),
        "doctor": (
            "fund_rebate_code",
            "the health fund's rebate code, printed on claims once the cover is known",
        ),
        "vietnam": ("recheck_code", "a code the follow-up visit recorded from the household's answers"),
        "budget": (
            "diary_food_total",
            "the food total of the diary week, the share's own numerator re-keyed",
        ),
        "catsup": ("loyalty_scan_code", "the loyalty card's scan code of the item, written at the checkout"),
        "aids": (
            "registry_followup_code",
            "the registry's follow-up code, assigned at the end of observation",
        ),
        "pima": (
            "repeat_tolerance_test",
            "the repeat glucose tolerance test the diagnosis was confirmed with",
        ),
        "hours": ("payroll_hours", "hours the employer's payroll reported after the year"),
    }
)

kinds_data._UNSEEN.update(
    {
        "doctor": ("chronic", None),
        "hours": ("husband_job", None),
        "budget": ("town_band", None),
        "aids": ("home_state", None),
    }
)

kinds_errors.SLICES.update(
    {
        "hdma": [  # 5.6% of applications
            {"column": "single_applicant", "op": "==", "value": "yes"},
            {"column": "loan_to_value", "op": ">", "value": 0.9},
        ],
        "doctor": [  # 7.2% of respondents
            {"column": "chronic", "op": "==", "value": "nla"},
            {"column": "age_by_100", "op": ">=", "value": 0.42},
        ],
        "vietnam": [  # 7.0% of households
            {"column": "gender", "op": "==", "value": "female"},
            {"column": "school_level", "op": ">=", "value": 6.0},
        ],
        "budget": [  # 6.0% of households
            {"column": "town_band", "op": "==", "value": "band_5"},
            {"column": "hh_members", "op": ">=", "value": 4.0},
        ],
        "hours": [  # 10.0% of wives
            {"column": "husband_job", "op": "==", "value": "mp"},
            {"column": "kids_under5", "op": ">=", "value": 1.0},
        ],
        "aids": [  # 4.1% of patients
            {"column": "home_state", "op": "==", "value": "VIC"},
            {"column": "age_at_diagnosis", "op": ">=", "value": 45.0},
        ],
    }
)

kinds_prod._SKEW.update(
    {
        "hdma": ("loan_to_value", 100.0, 0.0, "loan-to-value sent as a percentage instead of a ratio"),
        "doctor": ("age_by_100", 100.0, 0.0, "age sent in years instead of years/100"),
        "vietnam": ("ill_days", 1 / 7, 0.0, "days ill sent in weeks"),
        "budget": ("total_spend_pts", 1 / 166.386, 0.0, "total spending sent in euros instead of pesetas"),
        "aids": ("age_at_diagnosis", 12.0, 0.0, "age sent in months instead of years"),
        "hours": ("other_income_100usd", 100.0, 0.0, "other income sent in dollars instead of hundreds"),
    }
)

kinds_prod._CONCEPT.update(
    {
        "hdma": (
            [{"column": "single_applicant", "op": "==", "value": "yes"}],
            "the lender changed its rules for single applicants: who is denied changed",
        ),
        "doctor": (
            [{"column": "chronic", "op": "==", "value": "la"}],
            "a new GP rebate for patients with a limiting chronic condition changed who sees a GP",
        ),
        "vietnam": (
            [{"column": "gender", "op": "==", "value": "female"}],
            "the survey changed how spending is recorded in households headed by women",
        ),
        "budget": (
            [{"column": "town_band", "op": "==", "value": "band_4"}],
            "a food price rise in the band-4 towns raised their food shares",
        ),
        "hours": (
            [{"column": "kids_under5", "op": ">=", "value": 1.0}],
            "a childcare subsidy changed the hours of mothers of young children",
        ),
        "aids": (
            [{"column": "home_state", "op": "==", "value": "NSW"}],
            "a new treatment programme in NSW changed who survives",
        ),
    }
)

kinds_prod.DRIFTS.update(
    {
        "aids": (
            lambda df: (df["diagnosed_on"] < "1988-01-01", df["diagnosed_on"] >= "1990-01-01"),
            "training on patients diagnosed 1982-87, production batch diagnosed 1990-91",
        ),
        "vietnam": (
            lambda df: (df["commune_id"] <= 100, df["commune_id"] > 150),
            "training on communes 1-100, production batch from communes 151-194 (other provinces)",
        ),
        "budget": (
            lambda df: (df["head_years"] < 50, df["head_years"] >= 65),
            "training on households headed by people under 50, production batch headed by people 65+",
        ),
        "hours": (
            lambda df: (df["county_unemp_pct"] <= 5.0, df["county_unemp_pct"] >= 8.0),
            "training on counties with low unemployment, production batch from high-unemployment counties",
        ),
    }
)

kinds_rank.CHOICE_SETS.update({"catsup", "ketchup"})
