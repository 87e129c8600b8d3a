"""A production batch of other entities than training (a grouped split: countries, families): the
evaluation set itself sits far from training by PSI, so neither the bulk-moved test of
production.out_of_distribution nor the serving-transformation inference of
pipeline.train_serving_skew can read a large PSI as a population change or a poor match
(HOLDOUT5, benchmarks/variants/holdout5-run.md: out_of_distribution penn/ridge,
train_serving_skew galton/ridge and disputes/rf)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import checkhelp
from mltriage.case import build_case
from mltriage.context import Context
from mltriage.registry import load_all
from mltriage.stats.drift import DriftConfig
from mltriage.stats.ood import column_tail
from mltriage.stats.profile import build_profile
from mltriage.stats.skew import _psi_sorted, infer_skew

# ---------------------------------------------------------------- out of distribution


def _entities(rng: np.random.Generator, first: int, count: int, rows: int = 10, scale: float = 1.0):
    """Rows of `count` entities: each entity's size is its own (lognormal across entities) and
    varies little over its rows, so sets of other entities differ by nature."""
    mu = np.exp(rng.normal(3.0, 0.6, count)) * scale
    x = np.repeat(mu, rows) * np.exp(rng.normal(0, 0.15, count * rows))
    z = rng.normal(size=count * rows)
    d = pd.DataFrame({"size": x, "z": z, "entity": np.repeat(np.arange(first, first + count), rows)})
    d["y"] = np.log(d["size"]) + d["z"] + rng.normal(0, 0.3, len(d))
    return d


def _sets(seed: int, batch_scale: float = 1.0):
    rng = np.random.default_rng(seed)
    tr, te = _entities(rng, 0, 80), _entities(rng, 80, 40)
    cur = _entities(rng, 120, 40, scale=batch_scale).drop(columns="y")
    far = rng.choice(len(cur), 12, replace=False)  # 3% of the rows, 5-10 times training's maximum
    cur.loc[far, "size"] = tr["size"].max() * rng.uniform(5, 10, len(far))
    return tr, te, cur


def _tail(tr: pd.DataFrame, te: pd.DataFrame, cur: pd.DataFrame, natural: bool):
    ref = build_profile(tr[["size"]]).columns["size"]
    nat = _psi_sorted(ref, np.sort(te["size"].to_numpy(float)), 0, DriftConfig()) if natural else 0.0
    return column_tail(ref, cur["size"].to_numpy(float), 0.1, 1e-6, 0.1, natural_psi=nat), nat


def test_a_tail_of_other_entities_is_no_bulk_move():
    """The batch's rows inside the range sit from training about as far as the evaluation set's do:
    judged against the evaluation set's own PSI the bulk did not move (before: it did)."""
    for seed in (1, 3, 4):
        tr, te, cur = _sets(seed)
        before, _ = _tail(tr, te, cur, natural=False)
        after, nat = _tail(tr, te, cur, natural=True)
        assert nat > 0.1  # other entities sit apart by nature
        assert before is not None and before.bulk_moved
        assert after is not None and not after.bulk_moved and int(after.far.sum()) == 12


def test_a_batch_of_larger_entities_is_still_a_bulk_move():
    for seed in (0, 1, 2):
        tr, te, cur = _sets(seed, batch_scale=2.0)  # every entity twice as large: drift
        after, nat = _tail(tr, te, cur, natural=True)
        assert after is not None and after.bulk_moved, (seed, nat, after.summary)


def _ood(tr: pd.DataFrame, te: pd.DataFrame, cur: pd.DataFrame):
    model = LinearRegression().fit(tr[["size", "z"]], tr["y"])
    case = build_case(
        tr.drop(columns="entity"),
        te.drop(columns="entity"),
        "y",
        task="regression",
        model=model,
        current=cur.drop(columns="entity"),
    )
    fn = load_all()["production.out_of_distribution"].fn
    return checkhelp.alarms(checkhelp.run(fn, Context(case)))


@pytest.mark.fires("production.out_of_distribution")
def test_out_of_distribution_on_a_batch_of_other_entities():
    found = _ood(*_sets(1))
    assert len(found) == 1 and found[0].columns == ["size"] and found[0].evidence["rows"] == 12


@pytest.mark.silent("production.out_of_distribution")
def test_out_of_distribution_leaves_larger_entities_to_drift():
    assert _ood(*_sets(1, batch_scale=2.0)) == []


# ---------------------------------------------------------------- a pile at a bound that moved


def _scores(rng: np.random.Generator, n: int, top: float = 0.37) -> np.ndarray:
    """A -10..10 score (whole numbers) with a pile of `top` of the rows at its maximum."""
    rest = np.clip(np.round(rng.normal(-2, 5.5, n)), -10, 9)
    return np.where(rng.uniform(size=n) < top, 10.0, rest)


def test_a_bounded_score_sent_on_another_origin_is_a_skew():
    """The pile at the top of the -10..10 scale arrives at 20: a population crowds against a bound,
    it does not move it (before: the shift kept whole numbers and overlapped training: drift)."""
    rng = np.random.default_rng(0)
    ref = build_profile(pd.DataFrame({"s": _scores(rng, 1600)})).columns["s"]
    res = infer_skew(ref, _scores(rng, 800) + 10, DriftConfig())
    assert res is not None and res.kind == "affine" and res.transform["b"] == 10.0
    assert res.transform["a"] == 1.0


def test_a_population_that_moves_against_its_bound_is_no_skew():
    rng = np.random.default_rng(1)
    ref = build_profile(pd.DataFrame({"s": _scores(rng, 1600)})).columns["s"]
    # a more democratic population: the pile at the top grows, the bound stays
    assert infer_skew(ref, np.minimum(_scores(rng, 800, top=0.5) + 4, 10), DriftConfig()) is None
    # the same scale without a pile at its end (ages in whole years, all 8 years older)
    ages = pd.DataFrame({"s": np.round(rng.normal(40, 8, 1600))})
    ref = build_profile(ages).columns["s"]
    assert infer_skew(ref, np.round(rng.normal(40, 8, 800)) + 8, DriftConfig()) is None


# ---------------------------------------------------------------- a unit on clustered values


def _fathers(rng: np.random.Generator, families: int, lo: float = 62, hi: float = 78) -> np.ndarray:
    """Fathers' heights in whole inches, one per family, repeated over its 3-8 children."""
    h = np.round(rng.uniform(lo, hi, families))
    return np.repeat(h, rng.integers(3, 9, families)).astype(float)


def test_inches_sent_as_centimetres_on_clustered_values_is_a_skew():
    """Families sit apart by nature: undone, the batch does not match training's distribution, but
    divided by 2.54 its values are the inches training recorded (before: drift)."""
    rng = np.random.default_rng(0)
    ref = build_profile(pd.DataFrame({"h": _fathers(rng, 80)})).columns["h"]
    batch = _fathers(rng, 40, 63, 69) * 2.54  # other, shorter families, in centimetres
    res = infer_skew(ref, batch, DriftConfig())
    assert res is not None and res.transform["a"] == 2.54 and res.transform.get("on_training_values")


def test_other_families_in_the_training_unit_are_no_skew():
    rng = np.random.default_rng(1)
    ref = build_profile(pd.DataFrame({"h": _fathers(rng, 80)})).columns["h"]
    assert infer_skew(ref, _fathers(rng, 40, 70, 78), DriftConfig()) is None  # taller families
    # continuous readings (no recorded values to land on) scaled by 2.54: the grid says nothing
    cont = pd.DataFrame({"h": rng.normal(69, 2.6, 460)})
    ref = build_profile(cont).columns["h"]
    res = infer_skew(ref, rng.normal(66, 1.5, 240) * 2.54, DriftConfig())
    assert res is None or not res.transform.get("on_training_values")
