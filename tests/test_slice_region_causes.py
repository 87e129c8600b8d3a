"""errors.underperforming_slice: a region whose errors are not what its labels allow, judged
against a chance rate (issue 9, capability 4), on generated data.

- classification: a region the model is uncertain about (scores near the threshold) where the
  labels are mostly one class, under-represented in training, warns (a constant beats the model
  there, and the labels are far from what its probabilities predict); the same region with
  coin-flip labels stays info;
- regression: a region whose residuals carry a systematic bias (the model is surprised) warns
  even when its total error is less than 1.5 times what the model's spread expects there; a
  noisier region with centred residuals stays info;
- the slice search tests the shared parent of several sub-slices of one region.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.error_analysis.common import errors_of
from mltriage.checks.error_analysis.slice_judge import judge_all, overall
from mltriage.checks.error_analysis.slices import underperforming_slice
from mltriage.context import Context
from mltriage.stats.slices import Slice, find_slices, slice_mask


def _jaccard(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


def _hits(out, test, region):
    return [x for x in out if x.slice and _jaccard(slice_mask(test, x.slice), region) >= 0.5]


def _uncertain_region_case(rate: float, seed: int = 11, n: int = 12000):
    """Labels follow x1 (logit 3 x1) except in the region north & group g1 & |x1| < 0.15, where
    they are positive with probability `rate` whatever x1; training keeps 5% of the region's
    rows. A logistic model on x1, x2 and region (group is not a feature) scores the region
    between 0.39 and 0.61: uncertain there, deciding on both sides of 0.5."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "region": pd.Series(rng.choice(["north", "south", "east", "west"], n), dtype="str"),
            "group": pd.Series(rng.choice(["g1", "g2"], n), dtype="str"),
        }
    )
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-3.0 * df["x1"].to_numpy()))).astype(int)
    inside = _in_region(df)
    y[inside] = (rng.uniform(size=inside.sum()) < rate).astype(int)
    df["y"] = y
    train, test = df.iloc[: n // 2], df.iloc[n // 2 :].reset_index(drop=True)
    train = train[~_in_region(train) | (rng.uniform(size=len(train)) < 0.05)].reset_index(drop=True)
    cols = ["x1", "x2", "region"]
    X = pd.get_dummies(train[cols], dtype=float)
    fitted = LogisticRegression(max_iter=500).fit(X, train["y"])

    class _Model:
        classes_ = fitted.classes_
        feature_names_in_ = np.array(cols, dtype=object)

        def _X(self, d):
            return pd.get_dummies(d[cols], dtype=float).reindex(columns=X.columns, fill_value=0.0)

        def predict_proba(self, d):
            return fitted.predict_proba(self._X(d))

        def predict(self, d):
            return fitted.predict(self._X(d))

    case = build_case(train, test, "y", task="binary", model=_Model(), categorical=["region", "group"])
    return Context(case), test


def _in_region(df):
    return (
        (df["region"] == "north").to_numpy()
        & (df["group"] == "g1").to_numpy()
        & (np.abs(df["x1"]) < 0.15).to_numpy()
    )


def _judge_region(ctx, test):
    """The region judged as a confirmed slice would be (a random half as its confirmation rows,
    a family of one): the rule, whatever slice the search reports."""
    p = underperforming_slice.check.resolve({})
    e = errors_of(ctx)
    whole = overall(ctx, e, p)
    preds = [
        {"column": "region", "op": "==", "value": "north"},
        {"column": "group", "op": "==", "value": "g1"},
        {"column": "x1", "op": "between", "value": [-0.15, 0.15]},
    ]
    m = slice_mask(test, preds)
    err = e["raw"]
    s = Slice(
        preds,
        int(m.sum()),
        float(m.mean()),
        float(err[m].mean()),
        float(err[~m].mean()),
        (0.0, 1.0),
        float(err[m].mean() / err.mean()),
        0.0,
        0.0,
        m,
    )
    s.confirm_rows = np.random.default_rng(0).uniform(size=m.size) < 0.5
    return judge_all(ctx, [s], whole, p)[0]


def test_uncertain_region_a_constant_beats_warns_with_its_data_cause():
    # the model errs there about as often as its probabilities predict (it is not confidently
    # wrong), but the region's labels are 90% positive: a constant errs far less, and the labels
    # are far from what its probabilities predict. Under-represented in training: a warning
    ctx, test = _uncertain_region_case(rate=0.9)
    j = _judge_region(ctx, test)
    assert not j.surprised and "under-represented" in [c["cause"] for c in j.causes]
    const, bias = j.surprise["constant"], j.surprise["label_bias"]
    assert const["reducible"] and bias["biased"] and const["constant_error"] < const["model_error"]
    assert j.strong and not j.irreducible


@pytest.mark.silent("errors.underperforming_slice")
def test_uncertain_region_with_coin_flip_labels_stays_info():
    # the same region with coin-flip labels: no constant does better and the labels follow the
    # model's probabilities; under-represented, but no error beyond what its labels allow
    ctx, test = _uncertain_region_case(rate=0.5)
    j = _judge_region(ctx, test)
    assert not j.surprised and not j.strong
    assert not j.surprise["constant"]["reducible"] and not j.surprise["label_bias"]["biased"]
    assert alarms(run(underperforming_slice, ctx)) == []


def _biased_region_case(shift: float, noise_inside: float, keep: float, seed: int = 5, n: int = 8000):
    """y = x1 + N(0, 1); in the region north & x2 > 0.5 the target moves by `shift` and its noise
    has sd `noise_inside`; training keeps `keep` of the region's rows; a linear model on x1, x2."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "region": pd.Series(rng.choice(["north", "south", "east", "west"], n), dtype="str"),
        }
    )
    inside = (df["region"] == "north").to_numpy() & (df["x2"] > 0.5).to_numpy()
    noise = rng.normal(size=n) * np.where(inside, noise_inside, 1.0)
    df["y"] = df["x1"].to_numpy() + noise + np.where(inside, shift, 0.0)
    train, test = df.iloc[: n // 2], df.iloc[n // 2 :].reset_index(drop=True)
    tin = (train["region"] == "north").to_numpy() & (train["x2"] > 0.5).to_numpy()
    train = train[~tin | (rng.uniform(size=len(train)) < keep)].reset_index(drop=True)
    model = LinearRegression().fit(train[["x1", "x2"]], train["y"])
    case = build_case(train, test, "y", task="regression", model=model, categorical=["region"])
    region = (test["region"] == "north").to_numpy() & (test["x2"] > 0.5).to_numpy()
    return Context(case), test, region


@pytest.mark.fires("errors.underperforming_slice")
def test_biased_region_warns_below_the_total_error_ratio():
    # a bias of 0.9 noise sd: the slice's mean absolute error is about 1.4 times what the
    # model's spread expects there (below min_surprise = 1.5), but its residuals are not
    # centred (systematic share about 1.1): the model is surprised, a failure
    ctx, test, region = _biased_region_case(shift=0.9, noise_inside=1.0, keep=0.05)
    out = run(underperforming_slice, ctx)
    hit = [x for x in _hits(out, test, region) if x.severity.value == "warning"]
    assert hit, [(x.severity.value, x.title) for x in out]
    sp = hit[0].evidence["surprise"]
    assert sp["ratio"] < 1.5 and sp["systematic_share"] >= 0.5 and hit[0].evidence["surprised"]


@pytest.mark.silent("errors.underperforming_slice")
def test_noisier_region_with_centred_residuals_stays_info():
    ctx, test, region = _biased_region_case(shift=0.0, noise_inside=2.5, keep=1.0)
    out = run(underperforming_slice, ctx)
    assert alarms(out) == [], [x.title for x in alarms(out)]


def test_search_tests_the_shared_parent_of_sub_slices():
    # one region (a == 1 and b == 1) whose errors concentrate further in corners defined by
    # other columns: the search reports the region, not only its corners
    rng = np.random.default_rng(3)
    n = 6000
    df = pd.DataFrame({c: rng.integers(0, 4, n) for c in ("a", "b", "c", "d", "e")})
    region = (df["a"] == 1).to_numpy() & (df["b"] == 1).to_numpy()
    p = np.where(region, 0.45, 0.1)
    corner = region & (((df["c"] == 0) & (df["d"] == 0)) | ((df["c"] == 0) & (df["e"] == 0))).to_numpy()
    p = np.where(corner, 0.95, p)
    err = (rng.uniform(size=n) < p).astype(float)
    found = find_slices(df, err, categorical=set(df.columns), top_k=10, seed=0)
    assert any(_jaccard(s.mask, region) >= 0.8 for s in found), [s.describe() for s in found]


def _flipped_region_case(flip_outside_corner: float, seed: int = 4, n: int = 12000):
    """Labels follow x1 (logit 2.5 x1) except in the region north & x2 > 0.5, where they follow
    the opposite rule: flipped in its corner x1 > 0, flipped with probability
    `flip_outside_corner` in the rest of it; training keeps 5% of the region's rows."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "region": pd.Series(rng.choice(["north", "south", "east", "west"], n), dtype="str"),
        }
    )
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-2.5 * df["x1"].to_numpy()))).astype(int)
    region = (df["region"] == "north").to_numpy() & (df["x2"] > 0.5).to_numpy()
    corner = region & (df["x1"] > 0).to_numpy()
    flip = corner | (region & ~corner & (rng.uniform(size=n) < flip_outside_corner))
    df["y"] = np.where(flip, 1 - y, y)
    train, test = df.iloc[: n // 2], df.iloc[n // 2 :].reset_index(drop=True)
    tr = (train["region"] == "north").to_numpy() & (train["x2"] > 0.5).to_numpy()
    train = train[~tr | (rng.uniform(size=len(train)) < 0.05)].reset_index(drop=True)
    model = LogisticRegression().fit(train[["x1", "x2"]], train["y"])
    case = build_case(train, test, "y", task="binary", model=model, categorical=["region"])
    return Context(case), test


def _judge_with_corner(ctx, test):
    from mltriage.checks.error_analysis.slices import _corners

    p = underperforming_slice.check.resolve({})
    e = errors_of(ctx)
    whole = overall(ctx, e, p)
    region = [{"column": "region", "op": "==", "value": "north"}, {"column": "x2", "op": ">", "value": 0.5}]
    corner = [*region, {"column": "x1", "op": ">", "value": 0.0}]
    half = np.random.default_rng(0).uniform(size=len(test)) < 0.5
    slices = []
    for preds in (region, corner):
        m = slice_mask(test, preds)
        err = e["raw"]
        s = Slice(
            preds,
            int(m.sum()),
            float(m.mean()),
            float(err[m].mean()),
            float(err[~m].mean()),
            (0.0, 1.0),
            float(err[m].mean() / err.mean()),
            0.0,
            0.0,
            m,
        )
        s.confirm_rows, s.family = half, 2
        slices.append(s)
    rows = judge_all(ctx, slices, whole, p)
    assert rows[0].strong and rows[1].strong
    return rows, _corners(rows, whole, p.alpha)


def test_corner_no_worse_than_its_region_is_one_region():
    # the whole region follows the opposite rule: its corner x1 > 0 errs as the rest of it does,
    # so it is the same region told twice: info, pointing at the region
    ctx, test = _flipped_region_case(flip_outside_corner=1.0)
    rows, corners = _judge_with_corner(ctx, test)
    assert 1 in corners and rows[0].strong and not rows[1].strong


def test_corner_worse_than_its_region_stays_a_warning():
    # only the corner follows the opposite rule fully (half of the region's other rows): it errs
    # significantly more than the rest of the region, a failure of its own
    ctx, test = _flipped_region_case(flip_outside_corner=0.3)
    rows, corners = _judge_with_corner(ctx, test)
    assert corners == {} and rows[0].strong and rows[1].strong
