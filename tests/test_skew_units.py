"""One source's rows in another unit that stays inside training's range (stats/skew_units.py):
found from the relation between the level's batch and training values (an affine quantile map of
slope != 1, nothing else moved in those rows, the other levels unchanged); silent when the
source's population changed (a season: its other columns move too; or another shape) and on a
clean batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import checkhelp
from mltriage.case import build_case
from mltriage.checks.pipeline.skew import train_serving_skew
from mltriage.checks.production.drift import data_drift
from mltriage.context import Context
from mltriage.stats.skew_units import accepted, level_affine

SITES = ["north", "harbour", "valley"]


def _weather(n: int, seed: int) -> pd.DataFrame:
    """Readings of three stations over a year: temperature (Fahrenheit) follows the month, humidity
    the temperature."""
    rng = np.random.default_rng(seed)
    month = rng.integers(1, 13, n)
    site = rng.choice(SITES, n)
    base = np.select([site == "north", site == "harbour"], [38.0, 44.0], 50.0)
    temp = base + 22 * np.sin((month - 4) / 12 * 2 * np.pi) + rng.normal(0, 7, n)
    hum = np.clip(75 - 0.3 * temp + rng.normal(0, 8, n), 5, 100)
    wind = rng.gamma(2.0, 4.0, n)
    df = pd.DataFrame(
        {"month": month.astype(float), "temp_f": temp.round(1), "humidity": hum, "wind": wind, "site": site}
    )
    logit = 0.04 * (df["temp_f"] - 55) - 0.02 * (df["humidity"] - 55) + 0.05 * df["wind"] - 0.5
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


@pytest.fixture(scope="module")
def weather():
    df = _weather(6000, 3)
    train, test, fresh = df.iloc[:3000], df.iloc[3000:4500], df.iloc[4500:]
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["month", "temp_f", "humidity", "wind"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["site"]),
        ]
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(train.drop(columns="y"), train["y"])
    return train.reset_index(drop=True), test.reset_index(drop=True), fresh.reset_index(drop=True), model


def _ctx(weather, cur):
    train, test, _, model = weather
    cur = cur.drop(columns="y").reset_index(drop=True)
    return Context(
        build_case(train, test, "y", task="binary", model=model, current=cur, categorical=["site"])
    )


@pytest.mark.fires("pipeline.train_serving_skew", severity="critical")
def test_unit_of_one_source_inside_the_range(weather):
    # the harbour station's feed sends Celsius, -8..21, inside the 18..70 its Fahrenheit spans in training
    cur = weather[2].copy()
    rows = cur["site"] == "harbour"
    cur.loc[rows, "temp_f"] = cur.loc[rows, "temp_f"] * 5 / 9 - 32 * 5 / 9
    ctx = _ctx(weather, cur)
    f = checkhelp.run(train_serving_skew, ctx)
    assert len(f) == 1 and f[0].columns == ["temp_f"]
    t = f[0].evidence["inferred"]["transform"]
    assert t["where"] == {"column": "site", "value": "harbour"} and t["type"] == "affine"
    assert abs(t["a"] - 5 / 9) < 0.05 and abs(t["b"] + 17.78) < 3
    assert t["evidence"]["p_value"] < 1e-6 and t["evidence"]["misfit"] <= t["evidence"]["null_misfit_q99"]
    # the column is left to the skew finding: no drift with retrain advice on it (capability 13)
    assert all("temp_f" not in d.columns for d in checkhelp.run(data_drift, ctx))


@pytest.mark.silent("pipeline.train_serving_skew")
def test_unit_silent_when_one_sources_season_changes(weather):
    # the harbour station now reports winter months only: its temperatures fall and narrow (a
    # line fits their quantiles with slope ~0.5), but its months and humidity moved with them
    train, _, fresh, _ = weather
    rng = np.random.default_rng(0)
    winter = fresh[(fresh["site"] == "harbour") & fresh["month"].isin([11, 12, 1, 2, 3])]
    harbour = winter.sample(int((fresh["site"] == "harbour").sum()), replace=True, random_state=1)
    cur = pd.concat([fresh[fresh["site"] != "harbour"], harbour]).sample(frac=1, random_state=2)
    cur["wind"] = cur["wind"] * rng.uniform(0.999, 1.001, len(cur))  # break exact repeats
    assert checkhelp.run(train_serving_skew, _ctx(weather, cur)) == []


@pytest.mark.silent("pipeline.train_serving_skew")
def test_unit_silent_when_one_sources_values_change_shape(weather):
    # the valley station's temperatures come from another shape (a skewed population), nothing else
    cur = weather[2].copy()
    rows = cur["site"] == "valley"
    rng = np.random.default_rng(5)
    cur.loc[rows, "temp_f"] = (25 + rng.gamma(1.2, 18.0, int(rows.sum()))).round(1)
    assert checkhelp.run(train_serving_skew, _ctx(weather, cur)) == []


@pytest.mark.silent("pipeline.train_serving_skew")
def test_unit_silent_on_a_clean_batch(weather):
    assert checkhelp.run(train_serving_skew, _ctx(weather, weather[2])) == []


def test_level_affine_nulls():
    # same population: the slope is within the bootstrap null; a x1.8 + 32 map is found, and a
    # change of spread under the effect-size floor (x1.1) is not accepted however many rows
    rng = np.random.default_rng(1)
    ref, same = rng.gamma(3, 5, 4000), rng.gamma(3, 5, 3000)
    unchanged = [(rng.gamma(3, 5, 2000), rng.gamma(3, 5, 1000))]
    ev = level_affine(ref, same, unchanged)
    assert ev is not None and not accepted(ev, 0.001)
    ev = level_affine(ref, same * 1.8 + 32, unchanged)
    assert ev is not None and accepted(ev, 0.001) and abs(ev["a"] - 1.8) < 0.1
    ev = level_affine(ref, same * 1.1, unchanged)
    assert ev is not None and not accepted(ev, 0.001)
