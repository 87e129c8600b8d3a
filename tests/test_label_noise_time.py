"""data.label_noise on regression targets under time-ordered folds: a fold's validation rows are
forecasts (the block after its training rows), so their residual tail is compared with the
evaluation rows in the same time span under the same fold model, not with a Laplace tail.
Built on a synthetic monthly series (a random walk with drift, a centred rolling mean of it as a
feature, rows split at random), not on benchmark data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import noise
from mltriage.context import Context


def _series(unit_errors: float, n: int = 480, seed: int = 3) -> Context:
    rng = np.random.default_rng(seed)
    y = 10 + np.cumsum(rng.normal(-0.02, 0.6, n))  # a saving rate drifting over 40 years
    month = pd.date_range("1967-07-31", periods=n, freq="ME")
    df = pd.DataFrame(
        {
            "year_no": month.year.astype(float),
            "level_3m_centered": pd.Series(y).rolling(3, center=True, min_periods=1).mean().round(3),
            "jobless_k": (4000 + np.cumsum(rng.normal(5, 80, n))).round(0),
            "obs_month": month,
            "y": y.round(1),
        }
    )
    test = rng.uniform(size=n) < 0.3
    tr, te = df[~test].reset_index(drop=True), df[test].reset_index(drop=True)
    m = rng.uniform(size=len(tr)) < unit_errors  # entered in another unit
    tr.loc[m, "y"] = tr.loc[m, "y"] * 10
    return Context(build_case(tr, te, "y", task="regression", time_column="obs_month"))


@pytest.mark.silent("data.label_noise")
def test_label_noise_silent_on_a_series_whose_forecasts_have_heavy_tails():
    found = checkhelp.run(noise.label_noise, _series(0.0))
    assert found and all(f.severity.value == "info" for f in found)
    ev = found[0].evidence
    assert ev["expected_from"].startswith("evaluation rows in each fold's validation time span")
    # the forecasts' tail is heavier than a Laplace one: that null (1.6%) would have warned
    assert ev["flagged_training"] > 2 * np.exp(-4 * 1.4826 * np.log(2))


@pytest.mark.fires("data.label_noise")
def test_label_noise_fires_on_a_series_with_targets_in_another_unit():
    found = checkhelp.alarms(checkhelp.run(noise.label_noise, _series(0.08)))
    assert found
    ev = found[0].evidence
    assert ev["expected_from"].startswith("evaluation rows in each fold's validation time span")
    assert ev["excess_ci"][0] > 0
