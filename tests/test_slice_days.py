"""errors.underperforming_slice's surprise test on rows recorded on shared days
(benchmarks/variants/outside2-run.md: a clean flights control warned on summer afternoons early
in the week, 57 rows of 18 days). Where several rows share a calendar day the test counts days,
not rows: excess errors from two days' events are no pattern, the same excess spread over many
days is."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from mltriage.case import build_case
from mltriage.checks.error_analysis.common import recording_days
from mltriage.context import Context
from mltriage.stats.slices.expected import rate_surprise, residual_surprise


def test_excess_errors_of_two_days_are_not_a_surprise():
    # 20 days of 10 rows, 3 errors a day where the model's probabilities predict 30%; on two
    # days an event makes every row wrong
    days = np.repeat(np.arange(20), 10)
    q = np.full(days.size, 0.3)
    err = np.tile((np.arange(10) < 3).astype(float), 20)
    err[days < 2] = 1.0
    rows = np.ones(days.size, dtype=bool)
    per_row = rate_surprise(err, q, rows)
    by_day = rate_surprise(err, q, rows, days)
    assert per_row["p_value"] < 0.02  # rows taken as independent: a surprise
    assert by_day["days"] == 20 and by_day["p_value_rows"] == per_row["p_value"]
    assert by_day["p_value"] > 0.05  # two days' event: no pattern


def test_excess_errors_spread_over_many_days_are_a_surprise():
    rng = np.random.default_rng(1)
    days = np.repeat(np.arange(40), 3)
    q = np.full(days.size, 0.3)
    err = (rng.uniform(size=days.size) < 0.6).astype(float)  # twice the predicted rate, every day
    rows = np.ones(days.size, dtype=bool)
    out = rate_surprise(err, q, rows, days)
    assert out["p_value"] < 1e-4 and out["days"] == 40
    # one row per day: the test is the per-row one
    single = rate_surprise(err, q, rows, np.arange(days.size))
    assert "days" not in single


def test_residual_bias_by_day():
    rng = np.random.default_rng(2)
    pred = rng.normal(size=120)
    exp_abs = np.full(120, 0.8)
    rows = np.ones(120, dtype=bool)
    days = np.repeat(np.arange(40), 3)
    spread = rng.normal(size=120) + 0.8  # a bias on every day
    assert residual_surprise(spread, pred, exp_abs, rows, days)["p_value"] < 1e-4
    rng = np.random.default_rng(2)
    pred = rng.normal(size=120)
    three = 0.3 * rng.normal(size=120)
    three[days < 3] += 3.0  # three days far off, the rest centred
    per_row = residual_surprise(three, pred, exp_abs, rows)
    by_day = residual_surprise(three, pred, exp_abs, rows, days)
    assert per_row["p_value"] < 0.02
    assert by_day["p_value"] > 0.05 and by_day["days"] == 40


def test_recording_days_come_from_the_one_date_column():
    rng = np.random.default_rng(3)
    n = 200
    stamp = pd.Series(pd.to_datetime("2013-06-01") + pd.to_timedelta(rng.integers(0, 20 * 24, n), unit="h"))
    stamp.iloc[:3] = pd.NaT
    df = pd.DataFrame({"x": rng.normal(size=n), "when": stamp, "y": rng.normal(size=n)})
    model = LinearRegression().fit(df[["x"]], df["y"])
    ctx = Context(build_case(df, df.copy(), "y", task="regression", model=model))
    d = recording_days(ctx)
    assert d is not None and len(d) == n
    ok = stamp.notna().to_numpy()
    assert np.unique(d[ok]).size == stamp[ok].dt.floor("D").nunique()
    assert np.unique(d[~ok]).size == 3  # a row without a date is a day of its own
    two = df.assign(other=stamp)
    ctx2 = Context(build_case(two, two.copy(), "y", task="regression", model=model))
    assert recording_days(ctx2) is None  # two date columns and no time column: which day is unknown
