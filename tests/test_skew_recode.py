"""Integer codes re-encoded (an encoder fitted apart) told from a shifted population and from
small-sample noise: stats/skew_recode.py and its use by pipeline.train_serving_skew. Generated data
and scikit-learn's wine (never the benchmark's)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import OrdinalEncoder

import checkhelp
from mltriage.case import build_case
from mltriage.checks.pipeline.skew import train_serving_skew
from mltriage.context import Context
from mltriage.stats.drift import DriftConfig, psi
from mltriage.stats.profile import build_profile
from mltriage.stats.skew import infer_skew
from mltriage.stats.skew_recode import others_for, recode_test

REGIONS = ["alder", "birch", "cedar", "dogwood", "elm", "fir"]
SHARES = [0.35, 0.25, 0.15, 0.1, 0.1, 0.05]


def _regions(n: int, seed: int, shares=SHARES) -> pd.DataFrame:
    """A categorical feature (6 regions) that moves two other columns and the label, plus noise."""
    g = np.random.default_rng(seed)
    r = g.choice(len(REGIONS), n, p=shares)
    income = 30 + 8 * r + g.normal(0, 6, n)
    age = 50 - 3 * ((r * 7) % 6) + g.normal(0, 5, n)
    noise = g.normal(0, 1, n)
    y = (g.random(n) < 1 / (1 + np.exp(-(income - 50) / 8))).astype(int)
    return pd.DataFrame(
        {"region": np.array(REGIONS)[r], "income": income, "age": age, "noise": noise, "y": y}
    )


def _encoded(train: pd.DataFrame, test: pd.DataFrame, apart: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """region as integer codes; `apart`: the evaluation set's encoder fitted on its own rows in
    order of first appearance (another code for each region) instead of training's."""
    enc = OrdinalEncoder().fit(train[["region"]])
    tr, te = train.copy(), test.copy()
    tr["region"] = enc.transform(train[["region"]]).ravel()
    if apart:
        cats = list(pd.unique(test["region"]))
        te["region"] = OrdinalEncoder(categories=[cats]).fit_transform(test[["region"]]).ravel()
    else:
        te["region"] = enc.transform(test[["region"]]).ravel()
    return tr, te


def _case(tr: pd.DataFrame, te: pd.DataFrame):
    model = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(tr.drop(columns="y"), tr["y"])
    return build_case(tr, te, "y", task="binary", model=model)


@pytest.mark.fires("pipeline.train_serving_skew", severity="critical")
def test_codes_from_an_encoder_fitted_apart_are_a_skew():
    tr, te = _encoded(_regions(3000, 0), _regions(1000, 1), apart=True)
    f = checkhelp.run(train_serving_skew, Context(_case(tr, te)))
    assert [x.columns for x in f] == [["region"]]
    inferred = f[0].evidence["inferred"]
    assert inferred["kind"] == "recoded" and "another order" in f[0].title
    ev = inferred["transform"]["evidence"]
    assert ev["p_value"] <= 1e-3 and ev["misfit_mapped"] <= ev["null_misfit_q99"] < ev["misfit_identity"]
    # the inferred map is the true one: each evaluation code goes back to the region's training code
    truth = {float(c): float(REGIONS.index(r)) for c, r in enumerate(pd.unique(_regions(1000, 1)["region"]))}
    assert {float(k): v for k, v in inferred["transform"]["mapping"].items()} == {
        k: v for k, v in truth.items() if k != v
    }


@pytest.mark.silent("pipeline.train_serving_skew")
def test_a_population_with_other_shares_of_the_codes_is_not_a_skew():
    """The same codes, the batch drawn with the regions' shares reversed: the old frequency rule
    (send each code to the training code of its frequency rank) matched it and called it a
    re-encoding; the regions still relate to income and age as in training."""
    tr, te = _encoded(_regions(3000, 0), _regions(1000, 1, SHARES[::-1]), apart=False)
    ref = build_profile(tr).columns["region"]
    before = psi(tr["region"].value_counts().sort_index(), te["region"].value_counts().sort_index())
    rank = dict(
        zip(te["region"].value_counts().index, tr["region"].value_counts().index)
    )  # the old rule's map
    after = psi(tr["region"].value_counts().sort_index(), te["region"].map(rank).value_counts().sort_index())
    assert before > 1.0 and after < 0.05  # a permutation matches the shares: no evidence by itself
    assert (
        infer_skew(ref, te["region"], DriftConfig(), others_for("region", tr, te, ["income", "age", "y"]))
        is None
    )
    assert checkhelp.run(train_serving_skew, Context(_case(tr, te))) == []


def _wine_bands() -> pd.DataFrame:
    """Wine's columns with an ordered score 1..12 (proline in twelve bands of unequal width)."""
    df = load_wine(as_frame=True).frame
    df = pd.concat([df] * 4, ignore_index=True)
    edges = np.quantile(df["proline"], np.linspace(0, 1, 13)[1:-1] ** 1.6)
    df["band"] = (np.searchsorted(edges, df["proline"]) + 1).astype(float)
    return df.drop(columns="proline")


def test_a_small_sample_of_the_same_distribution_is_not_a_reencoding():
    """90 rows drawn from training's own distribution, 12 ordered codes: the shares drift by
    chance (PSI >= 0.25) and some permutation matches them better; the per-code relation to the
    other columns keeps the identity."""
    df = _wine_bands()
    ref = build_profile(df).columns["band"]
    others = [c for c in df.columns if c != "band"]
    examined = 0
    for seed in range(120):
        te = df.sample(90, random_state=seed).reset_index(drop=True)
        if psi(ref.counts, build_profile(te, like=build_profile(df)).columns["band"].counts) < 0.25:
            continue
        examined += 1
        assert infer_skew(ref, te["band"], DriftConfig(), others_for("band", df, te, others)) is None
    assert examined >= 3


def test_a_reencoded_ordered_score_is_found_on_wine():
    df = _wine_bands()
    ref = build_profile(df).columns["band"]
    te = df.sample(300, random_state=0).reset_index(drop=True)
    perm = dict(zip(range(1, 13), [3, 7, 1, 12, 5, 9, 2, 11, 4, 10, 8, 6]))
    served = te.assign(band=te["band"].map(perm).astype(float))
    res = infer_skew(ref, served["band"], DriftConfig(), others_for("band", df, served, list(df.columns)))
    assert res is not None and res.kind == "recoded"
    back = {float(v): float(k) for k, v in perm.items() if k != v}
    assert {float(k): v for k, v in res.transform["mapping"].items()} == back


def test_without_the_other_columns_no_reencoding_is_inferred():
    """The shares alone: no null for "a permutation matches better", so no inference."""
    df = _wine_bands()
    ref = build_profile(df).columns["band"]
    te = df.sample(300, random_state=0).reset_index(drop=True)
    served = te["band"].map(dict(zip(range(1, 13), [3, 7, 1, 12, 5, 9, 2, 11, 4, 10, 8, 6]))).astype(float)
    res = infer_skew(ref, served, DriftConfig())
    assert res is None or res.kind != "recoded"


def test_the_null_holds_its_level():
    """Samples of training's distribution with the shares reweighted: the best map's gain is
    beyond the null's 99th percentile in about 1% of them at most (the search over maps is inside
    the null)."""
    tr = _regions(2000, 0)
    codes = tr["region"].map(REGIONS.index).to_numpy(float)
    hits = 0
    for seed in range(40):
        te = _regions(400, 100 + seed, SHARES[::-1] if seed % 2 else SHARES)
        t = recode_test(
            codes,
            tr[["income", "age"]],
            te["region"].map(REGIONS.index).to_numpy(float),
            te[["income", "age"]],
            list(range(6)),
            n_sims=400,
            max_ratio=1.0,  # always draw the null: its level is measured here
            seed=seed,
        )
        assert t is not None
        hits += t.p_value <= 0.01
    assert hits <= 3


def test_other_columns_with_nullable_integers_text_and_missing_values():
    """Nullable integers with missing values, text categories."""
    df = _wine_bands()
    df["ash_int"] = (df["ash"] * 10).round().astype("Int64")
    df.loc[::7, "ash_int"] = pd.NA
    df["colour"] = np.where(df["color_intensity"] > 5, "dark", "light")
    te = df.sample(300, random_state=0).reset_index(drop=True)
    perm = dict(zip(range(1, 13), [3, 7, 1, 12, 5, 9, 2, 11, 4, 10, 8, 6]))
    served = te.assign(band=te["band"].map(perm).astype(float))
    cols = ["ash_int", "colour", "hue", "flavanoids", "target"]
    t = recode_test(
        df["band"].to_numpy(float),
        df[cols],
        served["band"].to_numpy(float),
        served[cols],
        list(range(1, 13)),
        n_sims=500,
    )
    assert t is not None and t.p_value <= 0.01 and t.d_mapped <= t.null_d_q99 < t.d_identity
    truth = {float(v): float(k) for k, v in perm.items() if k != v}
    assert sum(t.mapping.get(c) == r for c, r in truth.items()) >= 8  # adjacent bands may swap
    assert others_for("band", df, served, cols) is not None


def test_codes_of_equal_shares_reencoded_without_any_drift_are_found():
    """Six regions of equal shares: a permutation leaves the shares as they were (no drift to
    examine), only the relation to the other columns shows the encoder fitted apart."""
    equal = [1 / 6] * 6
    tr, te = _encoded(_regions(3000, 0, equal), _regions(1000, 1, equal), apart=True)
    f = checkhelp.run(train_serving_skew, Context(_case(tr, te)))
    assert [x.columns for x in f] == [["region"]]
    assert f[0].evidence["drift"]["psi"] < 0.1 and "relate to the codes as in training" in f[0].title


def test_a_column_with_an_evaluation_skew_is_never_a_population_change_to_retrain_on():
    """Capability 13 on the evaluation set: the checks that judge the evaluation rows do not call
    the re-encoded column a population change nor advise retraining on it."""
    from mltriage.registry import load_all

    tr, te = _encoded(_regions(1500, 0), _regions(600, 1), apart=True)
    ctx = Context(_case(tr, te))
    assert [x.columns for x in checkhelp.run(train_serving_skew, ctx)] == [["region"]]
    checks = load_all()
    for code in ("model.overfit", "model.underfit", "errors.underperforming_slice"):
        for f in checkhelp.run(checks[code].fn, ctx):
            if "region" not in (f.columns or []) and "region" not in f.title:
                continue
            text = " ".join([f.title, f.root_cause or "", f.fix or ""]).lower().replace("do not retrain", "")
            assert "retrain" not in text and "population" not in text, (code, f.title)
