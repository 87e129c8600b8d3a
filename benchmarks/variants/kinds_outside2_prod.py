"""Failure kinds rebuilt from a second round of outside sources (see kinds_outside2.py): the
production kinds and a slice kind. Each generator cites its source, says which code it maps to,
verifies its plant and records the measurement; the production batch has no labels.

Sources:
- S. Rabanser, S. Guennemann, Z. Lipton, "Failing Loudly: An Empirical Study of Methods for
  Detecting Dataset Shift", NeurIPS 2019 (shifts simulated as a "subset" of the population and a
  "knock-out" of a share of one class), as implemented in Alibi Detect's drift detectors
  (`KSDrift`, `ClassifierDrift`, examples cd_ks_cifar10 / cd_clf_adult).
- S. Schelter, D. Lange, P. Schmidt, M. Celikel, F. Biessmann, A. Grafberger, "Automating
  Large-Scale Data Quality Verification", VLDB 2018 (Deequ constraints: `hasDataType`,
  `isContainedIn`).
- Evidently `TestShareOfOutRangeValues` / `TestValueRange` (values outside the reference's range).
- Y. Chung, T. Kraska, N. Polyzotis, K. H. Tae, S. E. Whang, "Slice Finder: Automated Data
  Slicing for Model Validation", ICDE 2019, and H. Suresh, J. Guttag, "A Framework for
  Understanding Sources of Harm throughout the Machine Learning Life Cycle", EAAMO 2021
  (representation bias: a group under-sampled in training).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from kinds_prod import PROD_ACC, _three_way
from planting import Spec, error_vector, headline, kind, load, psi, rng, split_data, train_model
from scenario import Scenario, rnd, scores


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"plant does not hold: {what}")


def _prod(spec, kind_name, data, tr, te, cur, planted, expected, acc, meas, note, model) -> Scenario:
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
        current=cur.drop(columns=[data.target]),
    )


# --------------------------------------------------------------------------- subset shift


@kind("subset_shift", ["production.data_drift"])
def subset_shift(spec: Spec) -> Scenario:
    """Rabanser et al. 2019 "subset shift" / Alibi Detect KSDrift: the production batch comes
    from a sub-population (flights: the winter months only, after the model was trained on the
    whole year). Real rows, no value altered: temperature (and the columns that move with it) lie
    in another part of their range. Code `production.data_drift`, naming the month and weather
    columns that moved."""
    data = load(spec)
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    winter = cur[cur["season_month"].isin([12, 1, 2])].reset_index(drop=True)
    meas = headline(model, data, tr, te)
    meas.update(
        {f"current_{k[5:]}": v for k, v in headline(model, data, tr, winter).items() if k.startswith("test_")}
    )
    moved = {c: rnd(psi(tr[c], winter[c])) for c in ("season_month", "temp_f", "humidity_pct", "wind_mph")}
    meas.update(psi=moved, current_rows=len(winter))
    _check(moved["temp_f"] > 0.5, "temperature moved")
    return _prod(
        spec,
        "subset_shift",
        data,
        tr,
        te,
        winter,
        f"the production batch holds winter flights only (PSI temp_f {moved['temp_f']}, season_month "
        f"{moved['season_month']})",
        [{"code": "production.data_drift", "columns": ["season_month", "temp_f"]}],
        [],
        meas,
        "Rabanser et al. 2019 subset shift; Alibi Detect KSDrift.",
        model,
    )


# --------------------------------------------------------------------------- knock-out shift


@kind("knockout_shift", ["production.prediction_drift"])
def knockout_shift(spec: Spec) -> Scenario:
    """Rabanser et al. 2019 "knock-out shift" (a share of one class removed from the target
    distribution; label shift) as in Alibi Detect's classifier-output drift examples. In the
    production batch 85% of the negative rows are gone (a new intake filter sends mostly likely
    cases), so the class prior moves from a third positive to about three quarters. No feature
    changes its relation to the label; the model's outputs move. Code
    `production.prediction_drift` ("the distribution of the model's outputs moved")."""
    data = load(spec)
    g = rng(spec)
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    y = cur[data.target].to_numpy()
    keep = (y == 1) | (g.random(len(y)) < 0.15)
    shifted = cur[keep].reset_index(drop=True)
    s_ref = scores(model, te[data.features], data.task)
    s_cur = scores(model, shifted[data.features], data.task)
    meas = headline(model, data, tr, te)
    meas.update(
        positive_share_test=rnd(te[data.target].mean()),
        positive_share_current=rnd(shifted[data.target].mean()),
        mean_score_test=rnd(np.mean(s_ref)),
        mean_score_current=rnd(np.mean(s_cur)),
        score_psi=rnd(psi(pd.Series(s_ref), pd.Series(s_cur))),
    )
    _check(meas["score_psi"] > 0.25, "the outputs moved")
    return _prod(
        spec,
        "knockout_shift",
        data,
        tr,
        te,
        shifted,
        f"85% of negatives knocked out of the batch: positives {meas['positive_share_test']:.0%} -> "
        f"{meas['positive_share_current']:.0%}, mean score {meas['mean_score_test']:.2f} -> {meas['mean_score_current']:.2f}",
        [{"code": "production.prediction_drift"}],
        ["production.concept_drift"],
        meas,
        "Rabanser et al. 2019 knock-out shift (label shift).",
        model,
    )


# --------------------------------------------------------------------------- type change

_TYPED = {"computers": "clock_mhz", "cars": "accel_s", "penguins": "culmen_len"}


@kind("type_change", ["production.schema_change"])
def type_change(spec: Spec) -> Scenario:
    """Deequ `hasDataType` (Schelter et al. 2018: a column's inferred type must stay the same
    between runs). After an exporter moved to a German locale, one numeric column arrives as text
    with a decimal comma ("12,5") in every production row. Code `production.schema_change` ("a
    column ... of another type"), naming the column."""
    data = load(spec)
    col = _TYPED[spec.dataset]
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    bad = cur.copy()
    bad[col] = cur[col].map(lambda v: f"{v:.1f}".replace(".", ","))
    meas = headline(model, data, tr, te)
    meas.update(column=col, current_dtype=str(bad[col].dtype), example=str(bad[col].iloc[0]))
    _check(pd.to_numeric(bad[col], errors="coerce").isna().all(), "no value parses as a number")
    return _prod(
        spec,
        "type_change",
        data,
        tr,
        te,
        bad,
        f"{col} arrives as text with a decimal comma in every production row (e.g. '{meas['example']}')",
        [{"code": "production.schema_change", "columns": [col]}],
        ["pipeline.train_serving_skew", "data.missing_values"],
        meas,
        "Deequ hasDataType (Schelter et al. 2018).",
        model,
    )


# --------------------------------------------------------------------------- out-of-range share

_RANGE = {"computers": ("disk_mb", 4.0), "cars": ("mass_lb", 1.8), "flights": ("route_miles", 2.0)}


@kind("out_of_range_share", ["production.out_of_distribution"])
def out_of_range_share(spec: Spec) -> Scenario:
    """Evidently `TestShareOfOutRangeValues` / `TestValueRange` (the share of current values
    outside the reference's [min, max]). A new product line enters production: 12% of the batch
    are items whose reading is several times the largest seen in training (disk sizes of the next
    generation), the rest of each row ordinary. Code `production.out_of_distribution` ("production
    rows far outside the training range"), naming the column."""
    data = load(spec)
    g = rng(spec)
    col, f = _RANGE[spec.dataset]
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    bad = cur.copy()
    m = np.zeros(len(bad), bool)
    m[g.choice(len(bad), int(round(0.12 * len(bad))), replace=False)] = True
    hi = float(tr[col].max())
    bad.loc[m, col] = hi * f * g.uniform(1.0, 1.5, int(m.sum()))
    meas = headline(model, data, tr, te)
    meas.update(column=col, train_max=hi, out_of_range_share=rnd((bad[col] > hi).mean()))
    _check(meas["out_of_range_share"] > 0.08, "a share out of range")
    return _prod(
        spec,
        "out_of_range_share",
        data,
        tr,
        te,
        bad,
        f"{meas['out_of_range_share']:.0%} of the batch has {col} {f:g}-{1.5 * f:g}x the training maximum ({hi:g})",
        [{"code": "production.out_of_distribution", "columns": [col]}],
        ["pipeline.train_serving_skew"],
        meas,
        "Evidently TestShareOfOutRangeValues / TestValueRange.",
        model,
    )


# --------------------------------------------------------------------------- representation bias


def _perm_p(err: np.ndarray, sel: np.ndarray, g: np.random.Generator, n: int = 2000) -> float:
    """One-sided permutation p-value of the slice's mean error against random slices of its size."""
    obs = err[sel].mean()
    k = int(sel.sum())
    null = np.array([err[g.permutation(len(err))[:k]].mean() for _ in range(n)])
    return float((1 + np.sum(null >= obs)) / (n + 1))


_GROUP = {"males": "occ_group", "penguins": "taxon", "cars": "made_in", "flights": "airline"}


@kind("representation_bias", ["errors.underperforming_slice"])
def representation_bias(spec: Spec) -> Scenario:
    """Suresh & Guttag 2021 (representation bias: a group under-sampled when the training data
    was collected) found as in Slice Finder (Chung et al. 2019: a slice whose loss is
    significantly worse than its complement). The training extract kept 5% of one group's rows
    (the one whose target relation differs most from the rest: the group with the worst error
    when the model is trained without it); the evaluation set holds the group at its natural
    share. Code `errors.underperforming_slice`, the group as the slice."""
    data = load(spec)
    col = _GROUP[spec.dataset]
    g = rng(spec)
    tr, te = split_data(data, spec)
    vals = te[col].astype(str).value_counts()
    cands = [v for v, n in vals.items() if 0.05 * len(te) <= n <= 0.3 * len(te)]
    best, best_ratio, best_model, best_tr = None, 0.0, None, None
    for v in cands:
        grp = tr[col].astype(str) == v
        keep = ~grp | (g.random(len(tr)) < 0.05)
        t2 = tr[keep].reset_index(drop=True)
        m = train_model(data, spec.family, t2, spec.seed)
        err = error_vector(m, data, te)
        sel = (te[col].astype(str) == v).to_numpy()
        ratio = err[sel].mean() / max(err[~sel].mean(), 1e-9)
        if ratio > best_ratio:
            best, best_ratio, best_model, best_tr = v, ratio, m, t2
    _check(best is not None and best_ratio > 1.5, "the under-sampled group underperforms")
    model, tr = best_model, best_tr
    err = error_vector(model, data, te)
    sel = (te[col].astype(str) == best).to_numpy()
    meas = headline(model, data, tr, te)
    meas.update(
        group=f"{col} == {best}",
        train_share=rnd((tr[col].astype(str) == best).mean()),
        test_share=rnd(sel.mean()),
        slice_error=rnd(err[sel].mean()),
        rest_error=rnd(err[~sel].mean()),
        ratio=rnd(best_ratio),
        permutation_p=rnd(_perm_p(err, sel, g), 5),
    )
    _check(meas["permutation_p"] < 0.01, "the slice's excess error is beyond chance")
    return Scenario(
        spec.name,
        "representation_bias",
        data,
        spec.family,
        tr,
        te,
        f"{col} == {best} kept at 5% in training ({meas['train_share']:.1%} of rows vs {meas['test_share']:.0%} in "
        f"evaluation): its error {meas['slice_error']:.3g} vs {meas['rest_error']:.3g}",
        [{"code": "errors.underperforming_slice", "slice": [{"column": col, "op": "==", "value": best}]}],
        [
            "errors.high_confidence_errors",
            "production.data_drift",
            "model.underfit",
            "data.unseen_categories",
        ],
        meas,
        "Suresh & Guttag 2021 representation bias; Slice Finder (Chung et al. 2019).",
        model=model,
    )


# --------------------------------------------------------------------------- control


@kind("clean_current", [])
def clean_current(spec: Spec) -> Scenario:
    """The control for this file's production kinds: train, test and an unlabelled production
    batch drawn at random from the same table (whole year, no value altered), the same model
    family and size as `subset_shift`. Nothing is planted; any warning is a false alarm."""
    data = load(spec)
    tr, te, cur = _three_way(data, spec)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        {f"current_{k[5:]}": v for k, v in headline(model, data, tr, cur).items() if k.startswith("test_")}
    )
    return Scenario(
        spec.name,
        "clean_current",
        data,
        spec.family,
        tr,
        te,
        "nothing (control with a production batch)",
        [],
        [],
        meas,
        "Sound pipeline, random three-way split; current has no labels.",
        model=model,
        current=cur.drop(columns=[data.target]),
    )
