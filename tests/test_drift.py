"""Drift kernels: PSI/KS/Wasserstein/chi-square/JS from profiles, effect-size floor,
the domain classifier, and skew inference."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mltriage.stats.drift import (
    DriftConfig,
    compare_profiles,
    domain_classifier,
    drift_frames,
    js_distance,
    psi,
)
from mltriage.stats.profile import Profile, build_profile
from mltriage.stats.skew import infer_skew


def numeric(n, loc=0.0, scale=1.0, seed=0):
    return pd.DataFrame({"x": np.random.default_rng(seed).normal(loc, scale, n)})


def test_psi_basics():
    assert psi([10, 20, 30], [10, 20, 30]) == pytest.approx(0.0)
    assert psi([5000, 3000, 2000], [2000, 3000, 5000]) == pytest.approx(0.55, abs=0.01)
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)


def test_no_drift_on_same_distribution():
    rep, _, _ = drift_frames(numeric(20000, seed=1), numeric(5000, seed=2))
    f = rep.features["x"]
    assert not f.drifted and f.psi < 0.02 and f.wasserstein_norm < 0.05


def test_shift_is_flagged_with_sensible_effect_sizes():
    ref, cur = numeric(20000, seed=1), numeric(5000, loc=0.5, seed=2)
    rep, _, _ = drift_frames(ref, cur)
    f = rep.features["x"]
    assert f.drifted and f.severity in ("warning", "critical")
    assert f.wasserstein_norm == pytest.approx(0.5, abs=0.08)
    exact = stats.ks_2samp(ref["x"], cur["x"]).statistic
    assert f.ks <= exact + 1e-9 and f.ks == pytest.approx(exact, abs=0.03)
    big = drift_frames(ref, numeric(5000, loc=1.5, seed=2))[0].features["x"]
    assert big.severity == "critical" and big.psi > 0.25


def test_trivial_shift_on_millions_of_rows_does_not_alarm():
    ref, cur = numeric(1_000_000, seed=1), numeric(1_000_000, loc=0.02, seed=2)
    f = drift_frames(ref, cur)[0].features["x"]
    assert f.p_value < 1e-6  # "significant" ...
    assert not f.drifted  # ... but below the effect-size floor


def test_noise_on_a_tiny_batch_does_not_alarm():
    ref, cur = numeric(20000, seed=1), numeric(40, seed=3)
    f = drift_frames(ref, cur)[0].features["x"]
    assert not f.drifted
    tiny = drift_frames(ref, numeric(10, seed=3))[0].features["x"]
    assert not tiny.tested and "too few" in tiny.reason


def test_thresholds_are_configurable():
    ref, cur = numeric(20000, seed=1), numeric(5000, loc=0.25, seed=2)
    f = drift_frames(ref, cur)[0].features["x"]
    assert not f.drifted
    cfg = DriftConfig.from_mapping({"psi_warning": 0.02, "psi_critical": 0.04})
    g = drift_frames(ref, cur, cfg)[0].features["x"]
    assert g.drifted and g.severity == "critical"


def test_categorical_drift_and_new_categories():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"c": rng.choice(["x", "y", "z"], 20000, p=[0.5, 0.3, 0.2])})
    cur = pd.DataFrame({"c": rng.choice(["x", "y", "z", "new"], 5000, p=[0.2, 0.3, 0.4, 0.1])})
    f = drift_frames(ref, cur)[0].features["c"]
    assert f.drifted and f.severity == "critical" and f.js > 0.1
    assert "new" in f.summary["new_categories"]
    same = pd.DataFrame({"c": rng.choice(["x", "y", "z"], 5000, p=[0.5, 0.3, 0.2])})
    assert not drift_frames(ref, same)[0].features["c"].drifted


def test_drift_from_json_profiles_only():
    ref, cur = numeric(20000, seed=1), numeric(5000, loc=0.5, seed=2)
    pref = Profile.from_json(build_profile(ref).to_json())
    direct = drift_frames(ref, cur)[0].features["x"]
    via_json = drift_frames(pref, cur)[0].features["x"]
    assert via_json.psi == pytest.approx(direct.psi)
    # a batch profiled on its own (other edges) is re-binned onto the reference's edges
    own = build_profile(cur)
    rebinned = compare_profiles(pref, own).features["x"]
    assert rebinned.drifted and rebinned.psi == pytest.approx(direct.psi, rel=0.3)


def test_missing_rate_change_counts_as_drift():
    ref = numeric(20000, seed=1)
    cur = numeric(5000, seed=2)
    cur.loc[cur.index[:1500], "x"] = np.nan
    f = drift_frames(ref, cur)[0].features["x"]
    assert f.drifted and f.summary["missing_rate_cur"] == pytest.approx(0.3)


def test_domain_classifier():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(
        {"a": rng.normal(size=4000), "b": rng.normal(size=4000), "c": rng.choice(["p", "q"], 4000)}
    )
    cur = pd.DataFrame(
        {"a": rng.normal(size=4000), "b": rng.normal(1.0, 1, size=4000), "c": rng.choice(["p", "q"], 4000)}
    )
    res = domain_classifier(ref, cur, ["a", "b", "c"], categorical=["c"])
    assert res.drifted and res.auc > 0.7 and res.top(1) == ["b"]
    same = pd.DataFrame(
        {"a": rng.normal(size=4000), "b": rng.normal(size=4000), "c": rng.choice(["p", "q"], 4000)}
    )
    res0 = domain_classifier(ref, same, ["a", "b", "c"], categorical=["c"])
    assert not res0.drifted and res0.auc < 0.56


@pytest.fixture
def money():
    rng = np.random.default_rng(0)
    return pd.Series(np.round(rng.lognormal(6, 1.2, 20000) - 200, 0), name="balance")


def test_skew_unit_change(money):
    ref = build_profile(money.to_frame())["balance"]
    cur = money.sample(5000, random_state=1) * 100
    s = infer_skew(ref, cur)
    assert s is not None and s.kind == "scale" and s.transform["factor"] == 100
    assert s.psi_after < 0.05 < s.psi_before
    assert infer_skew(ref, money.sample(5000, random_state=1) / 1000).transform["factor"] == 0.001


def test_skew_standardised(money):
    ref = build_profile(money.to_frame())["balance"]
    cur = money.sample(5000, random_state=1)
    s = infer_skew(ref, (cur - money.mean()) / money.std())
    assert s is not None and s.kind == "standardised"


def test_skew_changed_fill_value():
    rng = np.random.default_rng(0)
    x = rng.normal(50, 10, 20000)
    x[rng.random(20000) < 0.1] = -1.0  # training fills missing with -1
    ref = build_profile(pd.DataFrame({"v": x}))["v"]
    y = rng.normal(50, 10, 5000)
    y[rng.random(5000) < 0.1] = 0.0  # serving fills with 0
    s = infer_skew(ref, y)
    assert s is not None and s.kind == "fill_value"
    assert s.transform["from"] == 0.0 and s.transform["to"] == -1.0
    z = rng.normal(50, 10, 5000)
    z[rng.random(5000) < 0.1] = np.nan  # serving leaves them missing
    s2 = infer_skew(ref, z)
    assert s2 is not None and s2.transform["from"] is None and s2.transform["to"] == -1.0


def test_genuine_shift_is_not_skew(money):
    ref = build_profile(money.to_frame())["balance"]
    cur = money.sample(5000, random_state=1)
    # a real change, not a unit: balances 1.8 times larger are still whole dollars (the exact
    # image cur * 1.8 lies on the grid k * 1.8, a scale: stats/skew_maps.grid_spacing)
    assert infer_skew(ref, (cur * 1.8).round()) is None
    assert infer_skew(ref, cur + 2000) is None
    assert infer_skew(ref, cur) is None  # no drift at all


def test_noise_on_a_mostly_zero_column_is_not_a_unit_change():
    # a column that is 97% zeros in training; the batch arrives noisy (e.g. a degraded sensor):
    # dividing it by 10 squeezes it back onto the zero spike, which is no evidence of a unit change
    rng = np.random.default_rng(0)
    x = np.where(rng.random(1000) < 0.97, 0.0, rng.integers(1, 16, 1000)).astype(float)
    ref = build_profile(pd.DataFrame({"px": x}))["px"]
    y = np.clip(np.round(rng.normal(0, 3.0, 400)), 0, 16)
    assert infer_skew(ref, y) is None
    # a mostly-zero column that really arrives x100 is still recognised
    z = np.where(rng.random(20000) < 0.6, 0.0, rng.lognormal(6, 1, 20000)).round()
    refz = build_profile(pd.DataFrame({"gain": z}))["gain"]
    s = infer_skew(refz, pd.Series(z[:5000] * 100))
    assert s is not None and s.kind == "scale" and s.transform["factor"] == 100


def test_whole_years_sent_in_months_keep_the_grid():
    # a whole-number column (years of experience) whose batch arrives in months: still whole
    # numbers, so only a factor that keeps the grid can explain it; the fitted scale (about 11.5,
    # the interpolated training quantiles blur a whole-number column) has 12 in its interval
    rng = np.random.default_rng(2)
    years = pd.Series(np.clip(np.round(rng.normal(6.6, 2.9, 3000)), 1, 18), name="tenure")
    ref = build_profile(years.to_frame())["tenure"]
    s = infer_skew(ref, years.sample(1000, random_state=1) * 12)
    assert s is not None and s.transform["a"] == 12.0 and s.transform["b"] == 0.0
    assert s.psi_after < 0.05 < s.psi_before


def test_whole_years_that_moved_are_not_a_unit():
    rng = np.random.default_rng(3)
    years = pd.Series(np.clip(rng.poisson(6.5, 3000), 0, None).astype(float), name="tenure")
    ref = build_profile(years.to_frame())["tenure"]
    assert infer_skew(ref, years.sample(1000, random_state=1) + 8) is None  # everyone 8 years older
    assert infer_skew(ref, pd.Series(rng.poisson(6.5, 1000).astype(float))) is None


def test_skew_default_written_for_a_missing_input():
    # a 1-5 rating; serving's lookup times out for 40% of requests and fills the training mean
    rng = np.random.default_rng(4)
    x = rng.choice([1.0, 2, 3, 4, 5], 6000, p=[0.05, 0.1, 0.2, 0.35, 0.3])
    ref = build_profile(pd.DataFrame({"rating": x}))["rating"]
    y = rng.choice([1.0, 2, 3, 4, 5], 2000, p=[0.05, 0.1, 0.2, 0.35, 0.3])
    y[rng.random(2000) < 0.4] = x.mean()
    s = infer_skew(ref, y)
    assert s is not None and s.kind == "fill_value"
    assert s.transform["from"] == pytest.approx(x.mean()) and s.transform["to"] is None
    # on a continuous column (diabetes' blood pressure, no repeated values to speak of): a fill of 0
    from sklearn.datasets import load_diabetes

    bp = load_diabetes(as_frame=True, scaled=False).frame["bp"].to_numpy(dtype=float)
    ref_bp = build_profile(pd.DataFrame({"bp": bp[:300]}))["bp"]
    served = bp[300:].copy()
    served[::3] = 0.0
    s2 = infer_skew(ref_bp, served)
    assert s2 is not None and s2.kind == "fill_value" and s2.transform["from"] == 0.0


def test_a_population_that_moved_onto_a_recorded_value_is_not_a_default():
    rng = np.random.default_rng(5)
    x = rng.choice([1.0, 2, 3, 4, 5], 6000, p=[0.05, 0.1, 0.2, 0.35, 0.3])
    ref = build_profile(pd.DataFrame({"rating": x}))["rating"]
    y = rng.choice([1.0, 2, 3, 4, 5], 2000, p=[0.05, 0.1, 0.2, 0.35, 0.3])
    y[rng.random(2000) < 0.4] = 5.0  # a channel of happy customers: a real value, more often
    s = infer_skew(ref, y)
    assert s is None or s.kind != "fill_value"
