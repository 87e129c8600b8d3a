"""Where each generator plants its failure on the sixth held-out data sets (sources_holdout6.py).

Chosen from what the columns mean, before any scoring (never from what the tool reports; the tool
was not run on any of these tables), and written down here before the blind run: the post-outcome
column a project on that data could log (the positive urine screens recorded during the relapse
follow-up, the retest visits booked once a reinfection was diagnosed, the newborn's days in
neonatal intensive care, the degree code copied from an alumni registry once the survey was
linked), the unit a serving path could get wrong (a mother's weight in kilograms instead of pounds,
days in the programme sent as weeks, a patient's age in months), a real shift of the data set
itself (the 1995-2007 economy after training on 1967-85, the last weeks of the feeding trial after
its first weeks, older respondents after students, the richest households after the others), a
labelling rule changed for one large group (a partner-notification programme for patients with
several partners, aftercare added to the long programme), a sub-population of 4-9% of rows (the
shares were measured on the table, nothing else: white patients with two or more partners 8.1%,
pigs on the high copper dose in weeks 10-12 9.0%, entrants aged 40+ who injected recently 8.3%,
graduates who rate themselves 6 on the first conscientiousness item 4.2%). Ranking sessions: the
four modes offered to one intercity traveller (relevance 1 for the one taken) and the four modes
open to one commuter (the same, in wide form: cost and minutes of each mode). The generators
verify their own plant (they raise instead of writing a scenario whose truth does not hold)."""

from __future__ import annotations

import kinds_data
import kinds_errors
import kinds_prod
import kinds_rank
import pandas as pd
from planting import Spec, load
from sources_holdout6 import _MODES

kinds_data._LEAKS.update(
    {
        "relapse": (
            "positive_urine_screens",
            "the positive urine screens recorded during the follow-up in which relapse was assessed",
        ),
        "clinic": (
            "retest_visits_booked",
            "the clinic retest visits booked during follow-up, most of them once a reinfection was diagnosed",
        ),
        "babies": ("nicu_days", "the newborn's days in neonatal intensive care, recorded after the birth"),
        "persona": (
            "registry_degree_code",
            "the highest-degree code copied from an alumni registry once the survey answers were linked",
        ),
    }
)

kinds_data._UNSEEN.update(
    {
        "clinic": ("marital_state", None),
        "persona": ("schooling_level", None),
        "babies": ("mother_race", None),
    }
)

kinds_errors.SLICES.update(
    {
        "clinic": [  # 8.1% of patients: white, two or more partners in the last 30 days
            {"column": "patient_race", "op": "==", "value": "white"},
            {"column": "partners_30d", "op": ">=", "value": 2.0},
        ],
        "pigs": [  # 9.0% of weighings: the high copper dose in weeks 10-12
            {"column": "copper_dose", "op": "==", "value": "cu175"},
            {"column": "week_no", "op": ">=", "value": 10.0},
        ],
        "relapse": [  # 8.3% of entrants: 40 or older who injected recently
            {"column": "age_at_entry", "op": ">=", "value": 40.0},
            {"column": "injection_history", "op": "==", "value": "recent"},
        ],
        "persona": [  # 4.2% of respondents: graduates rating the first conscientiousness item 6
            {"column": "schooling_level", "op": "==", "value": "graduate"},
            {"column": "consc_item1", "op": ">=", "value": 6.0},
        ],
    }
)

kinds_prod._SKEW.update(
    {
        "babies": (
            "mother_weight_lb",
            0.45359,
            0.0,
            "the mother's weight at the last menstrual period sent in kilograms instead of pounds",
        ),
        "relapse": ("days_in_programme", 1 / 7, 0.0, "the days in the programme sent as weeks"),
        "clinic": ("patient_age", 12.0, 0.0, "the patient's age sent in months instead of years"),
    }
)

kinds_prod._CONCEPT.update(
    {
        "clinic": (
            [{"column": "partners_30d", "op": ">=", "value": 2.0}],
            "a partner-notification programme now treats the partners of patients with several partners",
        ),
        "relapse": (
            [{"column": "long_programme", "op": "==", "value": "yes"}],
            "aftercare added to the long programme changed who relapses after it",
        ),
    }
)

kinds_prod.DRIFTS.update(
    {
        "economy": (
            lambda df: (df["year_no"] <= 1985, df["year_no"] >= 1995),
            "training on the 1967-85 economy, production batch from 1995-2007",
        ),
        "pigs": (
            lambda df: (df["week_no"] <= 6, df["week_no"] >= 9),
            "training on the feeding trial's weeks 2-6, production batch from weeks 9-12",
        ),
        "persona": (
            lambda df: (df["age_yrs"] <= 25, df["age_yrs"] >= 35),
            "training on respondents aged 25 or under, production batch from respondents aged 35 and over",
        ),
        "lake": (
            lambda df: (df["income_band"] <= 5, df["income_band"] >= 6),
            "training on households in income bands 1-5, production batch from bands 6-9",
        ),
    }
)


def _travel_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per intercity traveller: the four modes offered (plane, rail, coach, auto) as
    items with their waiting time, fare, time in the vehicle and generalised cost, relevance 1 for
    the mode taken (real choices; rank the options a traveller is shown by how likely each is)."""
    d = load(Spec("clean", "travel", "binary", "hgb")).frame
    num = ["terminal_wait_min", "fare_in_vehicle", "minutes_in_vehicle", "generalised_cost", "party_size"]
    out = pd.DataFrame({kinds_rank.QUERY: d["traveller_no"].to_numpy()})
    for c in num:
        out[c] = d[c].to_numpy()
    out["travel_option"] = d["travel_option"].astype(str).to_numpy()
    out[kinds_rank.GRADE] = d["was_chosen"].astype(int).to_numpy()
    return out.sort_values(kinds_rank.QUERY, kind="stable").reset_index(drop=True), num, ["travel_option"]


def _commute_sessions(spec: Spec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One session per commuter: the four modes (drive, car pool, bus, train) as items with their
    cost and minutes, relevance 1 for the mode taken (the commuter's real choice)."""
    d = load(Spec("clean", "commute", "multiclass", "hgb")).frame.reset_index(drop=True)
    parts = [
        pd.DataFrame(
            {
                kinds_rank.QUERY: d.index.to_numpy(),
                "mode_cost_usd": d[f"cost_{m}_usd"].to_numpy(),
                "mode_minutes": d[f"mins_{m}"].to_numpy(),
                "commute_mode": m,
                kinds_rank.GRADE: (d["mode_taken"].astype(str) == m).astype(int).to_numpy(),
            }
        )
        for m in _MODES
    ]
    df = pd.concat(parts).sort_values(kinds_rank.QUERY, kind="stable").reset_index(drop=True)
    return df, ["mode_cost_usd", "mode_minutes"], ["commute_mode"]


kinds_rank.TABLES.update({"travel": _travel_sessions, "commute": _commute_sessions})
