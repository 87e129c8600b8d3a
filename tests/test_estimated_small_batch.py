"""production.estimated_performance_drop on batches under 30 rows (issue 9: small data is data):
the interval also refits the calibration on resampled evaluation rows, a drop it settles is
flagged, and what it does not settle (or a batch under 10 rows) is info with the estimate, its
interval and whether it allows a drop, never silence. Generated data (conftest.make_binary)."""

from __future__ import annotations

import numpy as np
import pytest

import checkhelp
from conftest import make_binary
from mltriage.case import build_case
from mltriage.context import Context
from mltriage.registry import load_all
from mltriage.stats.drift_performance import cbpe_binary


def _run(binary_case, current):
    train, test, model = binary_case
    case = build_case(train, test, "y", task="binary", model=model, current=current, categorical=["color"])
    return checkhelp.run(load_all()["production.estimated_performance_drop"].fn, Context(case))


def _unsure(binary_case, rows):
    pool = make_binary(30000, seed=21)
    p = binary_case[2].predict_proba(pool.drop(columns="y"))[:, 1]
    return pool[(p > 0.4) & (p < 0.6)].drop(columns="y").head(rows).reset_index(drop=True)


@pytest.mark.fires("production.estimated_performance_drop")
def test_small_unsure_batch_is_judged_with_the_calibration_refitted(binary_case):
    f = _run(binary_case, _unsure(binary_case, 17))
    assert len(f) == 1 and f[0].severity.value != "info", f
    ev = f[0].evidence
    assert ev["small_batch"]["rows"] == 17 and ev["interval"][1] < ev["reference"]
    assert "small batch of 17 rows" in f[0].title


@pytest.mark.silent("production.estimated_performance_drop")
def test_small_batch_like_the_evaluation_set_is_info_not_silence(binary_case):
    cur = make_binary(17, seed=12).drop(columns="y")
    f = _run(binary_case, cur)
    assert checkhelp.alarms(f) == [] and len(f) == 1
    assert "too small to judge" in f[0].title and f[0].evidence["small_batch"]["rows"] == 17


@pytest.mark.silent("production.estimated_performance_drop")
def test_batch_under_ten_rows_is_info_saying_the_interval_allows_a_drop(binary_case):
    f = _run(binary_case, _unsure(binary_case, 6))
    assert checkhelp.alarms(f) == [] and len(f) == 1
    assert "fewer than 10 rows" in f[0].title and f[0].evidence["allows_drop"] is True


def test_refitted_interval_is_wider_than_the_batch_only_one():
    rng = np.random.default_rng(0)
    s = rng.uniform(size=600)
    y = (rng.uniform(size=600) < s).astype(float)
    cur = rng.uniform(0.4, 0.6, 17)
    a = cbpe_binary(s, y, cur, 0.5, metric="accuracy", n_boot=300)
    b = cbpe_binary(s, y, cur, 0.5, metric="accuracy", n_boot=300, refit=True)
    assert a.estimate == b.estimate and (b.high - b.low) > (a.high - a.low)
