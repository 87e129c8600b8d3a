"""stats.twin_labels: a copy carries its label, a natural repeat of a feature vector does not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mltriage.stats.rows import row_hashes
from mltriage.stats.twin_labels import collision_chance, label_agreement


def coarse(n: int, seed: int, task: str = "binary") -> tuple[np.ndarray, np.ndarray]:
    """Two coarse features (many natural repeats) and a target drawn from p(y | x)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, size=(n, 2)).astype(float)
    return x, draw(x, rng, task)


def draw(x: np.ndarray, rng: np.random.Generator, task: str) -> np.ndarray:
    lin = 0.6 * x[:, 0] - 0.4 * x[:, 1]
    if task == "binary":
        return (rng.random(len(x)) < 1 / (1 + np.exp(-lin))).astype(int)
    return rng.poisson(np.exp(0.3 * lin)).astype(float)


def entities(n: int, seed: int, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Entities with fixed attributes observed 1 to 4 times, each time a fresh draw of p(y | x):
    every repeat of a feature vector is the same entity, none is a copy."""
    rng = np.random.default_rng(seed)
    base = np.column_stack([rng.integers(0, 6, size=(n, 2)), np.round(rng.normal(size=n), 1)]).astype(float)
    x = np.repeat(base, rng.integers(1, 5, size=n), axis=0)
    return x, draw(x, rng, task)


def hashes(x: np.ndarray) -> np.ndarray:
    cols = [f"c{j}" for j in range(x.shape[1])]
    return row_hashes(pd.DataFrame(x, columns=cols), cols)


def test_natural_repeats_agree_as_chance_says():
    """Copies would give a copy share near 1; the same entities drawn afresh stay far below it
    (the binned equality rate of a count under-counts a little: 0.11 [0.04, 0.18] here)."""
    for task in ("binary", "regression"):
        x, y = entities(800, 1, task)
        h = hashes(x)
        la = label_agreement(h, y, collision_chance(x, y, h, task))
        assert la.pairs > 1000
        assert abs(la.observed - la.expected) < 0.05
        assert la.copy_high < 0.3, la


def test_big_natural_groups_cannot_tell():
    """36 feature vectors of 80 rows each: a copy would add 1 agreeing twin to 80; the interval
    says the labels cannot tell (it holds 0 and spans far above 1)."""
    x, y = coarse(3000, 1)
    h = hashes(x)
    la = label_agreement(h, y, collision_chance(x, y, h, "binary"))
    assert la.groups == 36 and la.p_value > 0.001
    assert la.copy_low < 0 < la.copy_high and la.copy_high > 1


def test_copies_carry_their_label_within_and_between():
    x, y = coarse(1500, 2)
    # a finer third column: rows unique but for their copies
    rng = np.random.default_rng(3)
    x = np.column_stack([x, np.round(rng.normal(size=len(x)), 1)])
    cp = rng.choice(len(x), 150, replace=False)
    xc, yc = np.vstack([x, x[cp]]), np.concatenate([y, y[cp]])
    h = row_hashes(pd.DataFrame(xc, columns=list("abc")), list("abc"))
    q = collision_chance(xc, yc, h, "binary")
    la = label_agreement(h, yc, q)
    # 72% of the rows have natural twins: the copies are diluted, but the labels' upper bound on
    # copies (c_high x rows / 2) does not rule out the 150 planted
    assert la.rows > 1000 and la.copy_high * la.rows / 2 > 150
    # between: half the evaluation rows copied from training
    tr, te = np.arange(1200), np.arange(1200, 1500)
    xte = x[te].copy()
    xte[:150] = x[tr[:150]]
    yte = y[te].copy()
    yte[:150] = y[tr[:150]]
    htr = row_hashes(pd.DataFrame(x[tr], columns=list("abc")), list("abc"))
    hte = row_hashes(pd.DataFrame(xte, columns=list("abc")), list("abc"))
    qtr = collision_chance(x[tr], y[tr], htr, "binary")
    lb = label_agreement(htr, y[tr], qtr, hte, yte)
    assert lb.copy_share > 0.5 and lb.copy_low > 0.3 and lb.p_value < 1e-6


def test_relabelled_copies_agree_less_than_chance():
    x, y = coarse(600, 4)
    rng = np.random.default_rng(5)
    x = np.column_stack([x, np.round(rng.normal(size=len(x)), 2)])
    cp = rng.choice(len(x), 60, replace=False)
    xc, yc = np.vstack([x, x[cp]]), np.concatenate([y, 1 - y[cp]])
    h = row_hashes(pd.DataFrame(xc, columns=list("abc")), list("abc"))
    la = label_agreement(h, yc, collision_chance(xc, yc, h, "binary"))
    assert la.observed < 0.2 and la.copy_high < 0 and la.p_value > 0.5


def test_no_twins_and_single_group():
    h = np.arange(50, dtype=np.uint64)
    la = label_agreement(h, np.zeros(50), np.full(50, 0.5))
    assert la.pairs == 0 and la.p_value == 1.0
    assert np.isnan(collision_chance(np.zeros((5, 1)), np.zeros(5), np.zeros(5, np.uint64), "binary")).all()
