"""errors.underperforming_slice's surprise test on rows of shared entities (benchmarks/variants/
holdout-run.md: HOLDOUT's clean crime control, a county panel split by county, warned on a slice
of police per head that is two counties; HOLDOUT5's clean penn control on a few countries). Rows
of one entity share what no column records, as rows of one day do: the surprise test counts the
entities too (the id column data.train_test_overlap recognises, or the group column), and a
bias and a trend need more entities than coefficients. A rule spread over many entities stays a
surprise."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.error_analysis.common import entity_codes
from mltriage.checks.error_analysis.slices import underperforming_slice
from mltriage.context import Context
from mltriage.stats.slices import slice_mask
from mltriage.stats.slices.expected import by_units, residual_surprise, share_bias


def test_two_entities_at_their_own_levels_are_no_trend():
    # HOLDOUT's crime slice: 4 rows of one county predicted 0.02 and erring +0.03, 3 rows of
    # another predicted 0.057 and erring -0.046; per row a strong trend (p 0.0013 there)
    pred = np.array([0.0218, 0.0201, 0.0205, 0.0201, 0.0575, 0.0568, 0.0568])
    resid = np.array([0.018, 0.0267, 0.0326, 0.0589, -0.0471, -0.0478, -0.0428])
    exp_abs = np.full(7, 0.0089)
    rows = np.ones(7, dtype=bool)
    per_row = residual_surprise(resid, pred, exp_abs, rows)
    assert per_row["p_value"] < 0.01
    county = np.array([0, 0, 0, 0, 1, 1, 1])
    by_county = residual_surprise(resid, pred, exp_abs, rows, county)
    assert by_county["days"] == 2 and by_county["p_value"] == 1.0
    out = by_units(residual_surprise, (resid, pred, exp_abs, rows), None, [("county_id", county)])
    assert out["entities"] == 2 and out["entity_column"] == "county_id"
    assert out["p_value"] == 1.0 and out["p_value_rows"] == per_row["p_value"]


def test_a_bias_over_many_entities_stays_a_surprise():
    rng = np.random.default_rng(4)
    ent = np.repeat(np.arange(30), 4)
    pred = rng.normal(size=ent.size)
    resid = rng.normal(size=ent.size) * 0.5 + 1.0 + 0.3 * rng.normal(size=30)[ent]
    out = residual_surprise(resid, pred, np.full(ent.size, 0.5), np.ones(ent.size, dtype=bool), ent)
    assert out["days"] == 30 and out["p_value"] < 1e-6


def _panel(seed: int, planted: bool):
    """A county panel: 120 counties x 7 years, a target linear in two features plus a county
    effect no column records (sd 1.5, the noise 0.5), split by county. Planted: a rule for
    counties with high x2 in the eighties' last years, spread over many counties."""
    rng = np.random.default_rng(seed)
    n_c, n_y = 120, 7
    county = np.repeat(np.arange(n_c), n_y)
    year = np.tile(np.arange(1981, 1981 + n_y), n_c)
    x1 = rng.normal(size=n_c)[county] + 0.3 * rng.normal(size=county.size)
    x2 = rng.normal(size=county.size)
    y = 2 * x1 + x2 + 1.5 * rng.normal(size=n_c)[county] + 0.5 * rng.normal(size=county.size)
    df = pd.DataFrame({"county_id": county, "year": year, "x1": x1, "x2": x2})
    rule = [{"column": "x2", "op": ">=", "value": 1.0}, {"column": "year", "op": ">=", "value": 1985}]
    sl = slice_mask(df, rule)
    if planted:
        y = np.where(sl, y - 6.0, y)
    df["y"] = y
    test_c = county >= 84
    train, test = df[~test_c], df[test_c].reset_index(drop=True)
    if planted:
        keep = ~sl[~test_c] | (rng.uniform(size=int((~test_c).sum())) < 0.05)
        train = train[keep]
    train = train.reset_index(drop=True)
    model = LinearRegression().fit(train[["year", "x1", "x2"]], train["y"])
    case = build_case(train, test, "y", task="regression", model=model)
    return Context(case), slice_mask(test, rule)


def test_the_panel_names_its_entity_column():
    ctx, _ = _panel(0, planted=False)
    assert [name for name, _ in entity_codes(ctx)] == ["county_id"]


def test_county_effects_alone_do_not_warn():
    for seed in (0, 1, 2):
        ctx, _ = _panel(seed, planted=False)
        assert not alarms(run(underperforming_slice, ctx))


def test_a_rule_over_many_counties_warns():
    ctx, planted = _panel(0, planted=True)
    test = ctx.frame("test")
    out = alarms(run(underperforming_slice, ctx))
    assert any(f.slice and (slice_mask(test, f.slice) & planted).sum() >= 0.5 * planted.sum() for f in out)


def test_a_label_share_of_few_entities_is_no_bias():
    # HOLDOUT's clean cracker control: 12 confirmation rows of 6 households, 92% one brand where
    # the model's probabilities say 15-30%: per row p < 1e-5; six households are six units
    ent = np.repeat(np.arange(6), 2)
    hit = np.ones(12)
    hit[0] = 0.0
    q = np.full(12, 0.2)
    rows = np.ones(12, dtype=bool)
    per_row = share_bias(hit, [q], rows)
    by_household = share_bias(hit, [q], rows, [("household", ent)])
    assert per_row["p_value"] < 1e-4 and by_household["p_value"] > 0.01
    # the same share over 40 households is a bias
    ent = np.repeat(np.arange(40), 2)
    hit, q, rows = np.ones(80), np.full(80, 0.2), np.ones(80, dtype=bool)
    assert share_bias(hit, [q], rows, [("household", ent)])["p_value"] < 1e-6
