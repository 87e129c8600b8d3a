"""Where each generator plants its failure on the held-out data sets (sources_holdout.py).

Chosen from what the columns mean, before any scoring (never from what the tool reports): the
post-outcome column a project on that data could log, the unit a serving path could get wrong,
a real shift of the data set itself, a sub-population of 4-10% of rows. The generators verify
their own plant (they raise instead of writing a scenario whose truth does not hold)."""

from __future__ import annotations

import kinds_data
import kinds_errors
import kinds_prod

kinds_data._LEAKS.update(
    {
        "rhie": ("claims_filed", "insurance claims filed in the year, counted after the visits"),
        "anes": ("post_election_code", "a code the post-election interview assigned from the answers"),
        "star": ("rekeyed_math", "the math score as re-keyed by the district office after the test"),
        "cracker": ("receipt_item_code", "the receipt's item code, written at the checkout"),
        "benefits": ("ui_office_visits", "visits to the unemployment office logged after the claim"),
        "crime": ("offenses_reported_pc", "offenses reported per person, the count the rate comes from"),
        "lfp": ("payroll_months", "months of payroll contributions recorded in the survey year"),
        "fx": ("chf_close_quote", "the day's closing quote of the franc, published after the fixing"),
    }
)

kinds_data._UNSEEN.update(
    {
        "rhie": ("self_health", None),
        "benefits": ("loss_reason", None),
        "crime": ("area", None),
        "star": ("class_type", None),
    }
)

kinds_errors.SLICES.update(
    {
        "benefits": [
            {"column": "loss_reason", "op": "==", "value": "slack_work"},
            {"column": "worker_age", "op": ">", "value": 45.0},
        ],
        "anes": [
            {"column": "school_band", "op": ">=", "value": 7.0},
            {"column": "earnings_band", "op": ">=", "value": 20.0},
        ],
        "rhie": [
            {"column": "self_health", "op": "==", "value": "fair"},
            {"column": "chronic_count", "op": ">", "value": 10.0},
        ],
        "star": [
            {"column": "class_type", "op": "==", "value": "small_class"},
            {"column": "teacher_exp_yrs", "op": ">=", "value": 15.0},
        ],
        "crime": [
            {"column": "area", "op": "==", "value": "west"},
            {"column": "pop_density", "op": ">", "value": 1.0},
        ],
        "lfp": [
            {"column": "immigrant", "op": "==", "value": "yes"},
            {"column": "kids_under7", "op": ">=", "value": 1.0},
        ],
    }
)

kinds_prod._SKEW.update(
    {
        "star": ("teacher_exp_yrs", 12.0, 0.0, "teacher experience sent in months instead of years"),
        "benefits": ("state_max_benefit", 4.33, 0.0, "weekly maximum benefit sent as a monthly amount"),
        "crime": ("avg_sentence_days", 1 / 30.44, 0.0, "average sentence sent in months instead of days"),
        "lfp": ("age_decades", 10.0, 0.0, "age sent in years instead of decades"),
        "anes": ("resp_age", 12.0, 0.0, "age sent in months instead of years"),
        "rhie": ("log_max_spend", 1 / 2.302585, 0.0, "maximum spend sent as log10 instead of natural log"),
    }
)

kinds_prod._CONCEPT.update(
    {
        "benefits": (
            [{"column": "loss_reason", "op": "==", "value": "slack_work"}],
            "a new claim procedure for workers laid off for slack work changed who claims",
        ),
        "star": (
            [{"column": "class_type", "op": "==", "value": "small_class"}],
            "a new math curriculum in the small classes raised their scores",
        ),
        "rhie": (
            [{"column": "has_deductible", "op": "==", "value": "yes"}],
            "the deductible plans changed their terms: their members now see a doctor at another rate",
        ),
        "crime": (
            [{"column": "metro_county", "op": "==", "value": "yes"}],
            "metro counties changed how offenses are recorded",
        ),
    }
)

kinds_prod.DRIFTS.update(
    {
        "crime": (
            lambda df: (df["obs_yr"] <= 1983, df["obs_yr"] >= 1986),
            "training on 1981-83, production batch from 1986-87",
        ),
        "rhie": (
            lambda df: (df["log_coinsurance"] < 3.5, df["log_coinsurance"] >= 3.5),
            "training on the free-care and 25% coinsurance plans, production batch from the 50% and 95% plans",
        ),
        "benefits": (
            lambda df: (
                df["state_unemp_pct"] <= df["state_unemp_pct"].median(),
                df["state_unemp_pct"] > df["state_unemp_pct"].quantile(0.75),
            ),
            "training on claims from low-unemployment states, production batch from high-unemployment states",
        ),
        "fx": (
            lambda df: (df["quote_date"] < "1984-01-01", df["quote_date"] >= "1986-01-01"),
            "training on 1980-83 quotes, production batch from 1986-87",
        ),
    }
)
