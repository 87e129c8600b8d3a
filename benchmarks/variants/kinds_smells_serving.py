"""Failure kinds between training and serving, rebuilt from outside sources not used elsewhere in
the suite (see kinds_smells.py for the data-set kinds). Each generator verifies its plant and
records the measurement in truth.json; the production batch has no labels.

Sources:
- E. Breck, N. Polyzotis, S. Roy, S. Whang, M. Zinkevich, "Data Validation for Machine Learning",
  SysML 2019, and TensorFlow Data Validation's anomaly reference (g3doc/anomalies.md:
  ENUM_TYPE_UNEXPECTED_STRING_VALUES, FEATURE_TYPE_LOW_FRACTION_PRESENT, the L-infinity
  distribution-skew comparator for categorical features): schema skew, feature skew, distribution
  skew between training and serving, a feature missing in serving, a domain that changes.
- M. Zinkevich, "Rules of Machine Learning" (Google): rule 29 (log the features used at serving
  time), rule 32 (re-use code between the training and the serving pipeline), rule 37 (measure
  training/serving skew).
- D. Sculley et al., "Hidden Technical Debt in Machine Learning Systems", NeurIPS 2015 (glue code
  and pipeline jungles: a feature vector assembled by position in the serving code).
- H. Foidl, M. Felderer, R. Ramler, "Data Smells", CAIN 2022: "Suspect Sign", "Unit
  Inconsistency" smells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from kinds_prod import PROD_ACC, _three_way
from planting import Spec, headline, kind, load, psi, rng, train_model
from scenario import Scenario, rnd, scores


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"plant does not hold: {what}")


def _served(meas: dict, model, data, tr, cur_ok: pd.DataFrame, cur_bad: pd.DataFrame) -> None:
    """The batch's headline with its true values and as served, and the mean score change."""
    ok = headline(model, data, tr, cur_ok)
    bad = headline(model, data, tr, cur_bad)
    meas.update({f"current_true_{k[5:]}": v for k, v in ok.items() if k.startswith("test_")})
    meas.update({f"current_as_served_{k[5:]}": v for k, v in bad.items() if k.startswith("test_")})
    s_ok = np.asarray(scores(model, cur_ok[data.features], data.task), dtype=float)
    s_bad = np.asarray(scores(model, cur_bad[data.features], data.task), dtype=float)
    meas["mean_abs_score_change"] = rnd(np.mean(np.abs(s_ok - s_bad)))


def _prod_scenario(
    spec, kind_name, data, tr, te, cur_bad, planted, expected, acc, meas, note, model, meta=None
):
    return Scenario(
        spec.name,
        kind_name,
        data,
        spec.family,
        tr,
        te,
        planted,
        expected,
        sorted(set(PROD_ACC + acc) - {e["code"] for e in expected}),
        meas,
        note + " current has no labels.",
        model=model,
        current=cur_bad.drop(columns=[data.target]),
        meta=meta or {},
    )


# --------------------------------------------------------------------------- suspect sign

_SIGN = {"computers": "disk_mb", "cars": "displacement_ci", "penguins": "culmen_dep", "affairs": "years_wed"}


@kind("suspect_sign", ["production.out_of_distribution"])
def suspect_sign(spec: Spec) -> Scenario:
    """Foidl et al. 2022, believability smell "Suspect Sign" (a value whose sign contradicts what
    it measures). A new client of the scoring service sends one always-positive reading with a
    minus sign (a debit convention) in its requests, 20% of the production batch."""
    data = load(spec)
    g = rng(spec)
    col = _SIGN[spec.dataset]
    tr, te, cur = _three_way(data, spec)
    _check(bool((tr[col] > 0).all()), f"{col} is positive in training")
    model = train_model(data, spec.family, tr, spec.seed)
    bad = cur.copy()
    flip = g.random(len(cur)) < 0.2
    bad.loc[flip, col] = -bad.loc[flip, col]
    meas = headline(model, data, tr, te)
    _served(meas, model, data, tr, cur, bad)
    meas.update(column=col, negative_share=rnd((bad[col] < 0).mean()), train_min=rnd(tr[col].min()))
    return _prod_scenario(
        spec,
        "suspect_sign",
        data,
        tr,
        te,
        bad,
        f"{col} arrives negated in {flip.mean():.0%} of the production rows (always positive in training)",
        [{"code": "production.out_of_distribution", "columns": [col]}],
        ["pipeline.train_serving_skew", "production.schema_change"],
        meas,
        "Foidl et al. 2022 'Suspect Sign' smell.",
        model,
    )


# --------------------------------------------------------------------------- unit inconsistency

# dataset -> (column, factor, offset, the rows' source column, story)
_UNITS = {
    "flights": ("temp_f", 5 / 9, -32 * 5 / 9, "from_airport", "one airport's feed sends Celsius"),
    "penguins": ("mass_g", 0.001, 0.0, "colony", "one colony's field team records kilograms"),
    "computers": ("screen_in", 2.54, 0.0, "premium_brand", "one vendor's listings give the screen in cm"),
}


@kind("unit_inconsistency", ["pipeline.train_serving_skew"])
def unit_inconsistency(spec: Spec) -> Scenario:
    """Foidl et al. 2022, consistency smell "Unit Inconsistency" (one attribute recorded in several
    units). In the production batch the rows of one source (one value of a categorical column,
    about a third of the rows) send a column in another unit; the other sources still send the
    training unit, so the column is a mixture."""
    data = load(spec)
    col, a, b, by, story = _UNITS[spec.dataset]
    _check(col in data.features and by in data.features, "columns are features")
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    vc = cur[by].astype(str).value_counts(normalize=True)
    src = (vc - 0.33).abs().idxmin()
    rows = cur[by].astype(str) == src
    bad = cur.copy()
    bad.loc[rows, col] = cur.loc[rows, col] * a + b
    meas = headline(model, data, tr, te)
    _served(meas, model, data, tr, cur, bad)
    meas.update(
        column=col,
        factor=rnd(a, 6),
        offset=rnd(b, 6),
        source_column=by,
        source_value=src,
        converted_share=rnd(rows.mean()),
        psi_train_vs_current=rnd(psi(tr[col], bad[col])),
    )
    _check(0.15 < rows.mean() < 0.6, "a sizeable minority of rows converted")
    return _prod_scenario(
        spec,
        "unit_inconsistency",
        data,
        tr,
        te,
        bad,
        f"{story}: {col} x{a:.4g}{' + ' + format(b, '.4g') if b else ''} in the rows with {by} == "
        f"{src} ({rows.mean():.0%} of the batch)",
        [{"code": "pipeline.train_serving_skew", "columns": [col]}],
        ["errors.underperforming_slice"],
        meas,
        "Foidl et al. 2022 'Unit Inconsistency' smell.",
        model,
    )


# --------------------------------------------------------------------------- serving default fill

_DEFAULT = {"affairs": "marriage_score", "cars": "mass_lb", "flights": "route_miles", "males": "school_yrs"}


@kind("serving_default", ["pipeline.train_serving_skew"])
def serving_default(spec: Spec) -> Scenario:
    """Breck et al. 2019 (feature skew: a feature takes other values at serving than in training)
    and Zinkevich's Rules of ML, rules 29 and 37. The serving code fetches one feature from a
    store with a timeout; on a timeout (40% of requests in this batch) it fills the training mean,
    the "safe default" of the serving config, so the model scores those rows as average."""
    data = load(spec)
    g = rng(spec)
    col = _DEFAULT[spec.dataset]
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    fill = float(tr[col].mean())
    bad = cur.copy()
    miss = g.random(len(cur)) < 0.4
    bad.loc[miss, col] = fill
    meas = headline(model, data, tr, te)
    _served(meas, model, data, tr, cur, bad)
    meas.update(
        column=col,
        default=rnd(fill),
        defaulted_share=rnd(miss.mean()),
        train_share_at_default=rnd((tr[col] == fill).mean()),
    )
    _check(meas["train_share_at_default"] < 0.05, "the default is not a common training value")
    return _prod_scenario(
        spec,
        "serving_default",
        data,
        tr,
        te,
        bad,
        f"{col}: the feature lookup timed out for {miss.mean():.0%} of requests and serving filled "
        f"the training mean {fill:.4g}",
        [{"code": "pipeline.train_serving_skew", "columns": [col]}],
        ["data.missing_values"],
        meas,
        "Breck et al. 2019 feature skew; Rules of ML 29/37.",
        model,
    )


# --------------------------------------------------------------------------- swapped columns

_SWAP = {
    "penguins": ("culmen_len", "culmen_dep"),
    "seattle": ("tmax_c", "tmin_c"),
    "affairs": ("resp_years", "years_wed"),
}


@kind("swapped_columns", ["pipeline.train_serving_skew"])
def swapped_columns(spec: Spec) -> Scenario:
    """Sculley et al. 2015 (glue code: the serving feature vector assembled by position) and
    Zinkevich's Rules of ML, rule 32 (re-use code between training and serving). Also Great
    Expectations `expect_column_pair_values_A_to_be_greater_than_B`. The serving code builds the
    request from a list of fields in another order: two columns of the same unit arrive swapped
    in every production row."""
    data = load(spec)
    a, b = _SWAP[spec.dataset]
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    bad = cur.copy()
    bad[a], bad[b] = cur[b].to_numpy(), cur[a].to_numpy()
    meas = headline(model, data, tr, te)
    _served(meas, model, data, tr, cur, bad)
    meas.update(
        columns=[a, b],
        train_means=[rnd(tr[a].mean()), rnd(tr[b].mean())],
        served_means=[rnd(bad[a].mean()), rnd(bad[b].mean())],
        train_share_a_gt_b=rnd((tr[a] > tr[b]).mean()),
    )
    return _prod_scenario(
        spec,
        "swapped_columns",
        data,
        tr,
        te,
        bad,
        f"serving sends {a} and {b} swapped in every row",
        [{"code": "pipeline.train_serving_skew", "columns": [a, b]}],
        [],
        meas,
        "Sculley et al. 2015 glue code; Rules of ML 32.",
        model,
    )


# --------------------------------------------------------------------------- domain change


@kind("domain_change", ["production.schema_change"])
def domain_change(spec: Spec) -> Scenario:
    """TFDV anomaly ENUM_TYPE_UNEXPECTED_STRING_VALUES and Breck et al. 2019 (a feature whose
    domain changes: an upstream release re-codes a categorical). After an upstream release one
    categorical column's values are spelled in a new code ('grade_3' becomes 'G3', 'Torgersen'
    becomes 'TOR') in every production row: the model sees only unknown values."""
    data = load(spec)
    col = data.categorical[0]
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    vals = sorted(tr[col].astype(str).unique())

    def recode(v: str) -> str:
        tail = v.rsplit("_", 1)[-1]
        return ("G" + tail) if tail.isdigit() else v[:3].upper()

    mapping = {v: recode(v) for v in vals}
    _check(len(set(mapping.values())) == len(mapping), "the new codes stay distinct")
    bad = cur.copy()
    bad[col] = cur[col].astype(str).map(mapping).fillna(cur[col].astype(str))
    if isinstance(cur[col].dtype, pd.CategoricalDtype):
        bad[col] = bad[col].astype(str)
    meas = headline(model, data, tr, te)
    _served(meas, model, data, tr, cur, bad)
    unseen = ~bad[col].astype(str).isin(set(vals))
    meas.update(column=col, mapping=mapping, unseen_share=rnd(unseen.mean()))
    _check(unseen.mean() > 0.95, "the batch's values are all new")
    return _prod_scenario(
        spec,
        "domain_change",
        data,
        tr,
        te,
        bad,
        f"{col} re-coded upstream in every production row ({', '.join(f'{k}->{v}' for k, v in list(mapping.items())[:3])}...)",
        [{"code": "production.schema_change", "columns": [col]}],
        ["data.unseen_categories", "pipeline.train_serving_skew"],
        meas,
        "TFDV ENUM_TYPE_UNEXPECTED_STRING_VALUES; Breck et al. 2019 domain change.",
        model,
    )


# --------------------------------------------------------------------------- categorical skew

_CATSKEW = {"flights": "airline", "males": "sector", "affairs": "job_grade"}


@kind("category_skew", ["production.data_drift"])
def category_skew(spec: Spec) -> Scenario:
    """TFDV's distribution-skew comparator for categorical features (L-infinity distance between
    the training and serving value shares, default threshold 0.01 in the TFDV guide's example
    config; Breck et al. 2019, "distribution skew"). The production batch comes from a channel
    that serves mostly one category: a value that is about a sixth of training is 60% of the
    batch (rows resampled from the same table, so every row is a real one)."""
    data = load(spec)
    g = rng(spec)
    col = _CATSKEW[spec.dataset]
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    share = tr[col].astype(str).value_counts(normalize=True)
    val = (share - 1 / 6).abs().idxmin()
    pool_in = cur[cur[col].astype(str) == val]
    pool_out = cur[cur[col].astype(str) != val]
    n = len(cur)
    k = int(0.6 * n)
    bad = pd.concat(
        [
            pool_in.iloc[g.integers(0, len(pool_in), k)],
            pool_out.iloc[g.permutation(len(pool_out))[: n - k]],
        ]
    ).sample(frac=1, random_state=spec.seed)
    bad = bad.reset_index(drop=True)
    meas = headline(model, data, tr, te)
    meas.update({f"current_{k2[5:]}": v for k2, v in headline(model, data, tr, bad).items() if "test" in k2})
    cur_share = bad[col].astype(str).value_counts(normalize=True)
    linf = float((cur_share.reindex(share.index, fill_value=0) - share).abs().max())
    meas.update(
        column=col, value=val, train_share=rnd(share[val]), current_share=rnd(cur_share[val]), linf=rnd(linf)
    )
    _check(linf > 0.3, "the L-infinity distance is large")
    return _prod_scenario(
        spec,
        "category_skew",
        data,
        tr,
        te,
        bad,
        f"{col} == {val}: {share[val]:.0%} of training, {cur_share[val]:.0%} of the production batch "
        f"(L-infinity {linf:.2f})",
        [{"code": "production.data_drift", "columns": [col]}],
        ["errors.underperforming_slice"],
        meas,
        "TFDV categorical distribution skew (L-infinity); Breck et al. 2019.",
        model,
    )


# --------------------------------------------------------------------------- feature missing in serving

_ABSENT = {"cars": "mass_lb", "computers": "memory_mb", "flights": "dep_hour"}


@kind("feature_absent_serving", ["production.schema_change"])
def feature_absent_serving(spec: Spec) -> Scenario:
    """TFDV anomaly FEATURE_TYPE_LOW_FRACTION_PRESENT (a feature present in fewer examples than
    the schema's `presence.min_fraction`) and Breck et al. 2019 ("a feature present in training
    but missing in serving"). The serving join that adds one feature broke: the column is still
    in the batch but null in every row; the model (which handles nulls natively, or imputes)
    scores without it and nothing fails."""
    data = load(spec)
    col = _ABSENT[spec.dataset]
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    bad = cur.copy()
    bad[col] = np.nan
    meas = headline(model, data, tr, te)
    _served(meas, model, data, tr, cur, bad)
    meas.update(column=col, train_null_share=rnd(tr[col].isna().mean()), current_null_share=1.0)
    _check(meas["train_null_share"] == 0.0, "present in every training row")
    return _prod_scenario(
        spec,
        "feature_absent_serving",
        data,
        tr,
        te,
        bad,
        f"{col} is null in every production row (a broken serving join); never null in training",
        [{"code": "production.schema_change", "columns": [col]}],
        ["data.missing_values", "pipeline.train_serving_skew"],
        meas,
        "TFDV FEATURE_TYPE_LOW_FRACTION_PRESENT; Breck et al. 2019 feature missing in serving.",
        model,
    )
