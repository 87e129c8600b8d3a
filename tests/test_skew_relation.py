"""A free affine map (both coefficients fitted) is a serving bug only when the other columns do not
already account for the column's new values (stats/skew_relation.py)."""

import numpy as np
import pandas as pd

from mltriage.stats.drift import DriftConfig, drift_frames
from mltriage.stats.skew import find_skews, infer_skew
from mltriage.stats.skew_relation import relation_errors


def _frame(t: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    # a spending series that follows time and a second trending reading (population-like)
    return pd.DataFrame(
        {
            "year_no": t,
            "spend": 400.0 + 6.0 * t + rng.normal(0, 8, len(t)),
            "headcount": 200.0 + 1.5 * t + rng.normal(0, 2, len(t)),
        }
    )


def _skews(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    cfg = DriftConfig()
    report, rp, _ = drift_frames(ref, cur, cfg)
    return find_skews(rp, cur, report, list(ref.columns), cfg, ref_frame=ref)


def test_trending_drift_read_as_affine_is_silent():
    rng = np.random.default_rng(0)
    ref = _frame(rng.uniform(0, 100, 2000), rng)
    cur = _frame(rng.uniform(150, 250, 1500), rng)  # the same series years later
    cfg = DriftConfig()
    report, rp, _ = drift_frames(ref, cur, cfg)
    # the column alone: a location-scale move that a fitted affine map matches
    alone = infer_skew(rp.columns["spend"], cur["spend"], cfg)
    assert alone is not None and alone.kind == "affine" and alone.transform["b"] != 0.0
    # the other columns put spend where the batch has it: drift, not a serving map
    err = relation_errors(ref, cur, "spend", ["year_no"], alone.transform["a"], alone.transform["b"])
    assert err is not None and err[0] < err[1]
    assert "spend" not in _skews(ref, cur)


def test_affine_serving_error_fires():
    rng = np.random.default_rng(1)
    ref = _frame(rng.uniform(0, 100, 2000), rng)
    cur = _frame(rng.uniform(0, 100, 300), rng)
    cur["spend"] = 1.8 * cur["spend"] + 320.0  # another unit and origin in serving
    found = _skews(ref, cur)
    assert "spend" in found and found["spend"].kind == "affine"
    assert abs(found["spend"].transform["a"] - 1.8) < 0.2


def test_every_column_rescaled_keeps_the_map():
    # the other columns went through the broken path too: they predict nothing, the map stands
    rng = np.random.default_rng(2)
    ref = _frame(rng.uniform(0, 100, 2000), rng)
    cur = _frame(rng.uniform(0, 100, 300), rng)
    cur = (cur - ref.mean()) / ref.std()  # standardised in serving only...
    cur["spend"] = 1.8 * _frame(rng.uniform(0, 100, 300), rng)["spend"] + 320.0
    found = _skews(ref, cur)
    assert "spend" in found
