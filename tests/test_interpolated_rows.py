"""data.train_test_overlap on interpolated rows: SMOTE-like oversampling before the split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.neighbors import NearestNeighbors

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import rows as D
from mltriage.context import Context
from mltriage.stats.interpolation import label_blind_test, segment_hits, value_grid


def smote(df: pd.DataFrame, target: str, seed: int = 0) -> pd.DataFrame:
    """Bring every class up to the largest one with SMOTE (k=5), as imbalanced-learn does."""
    g = np.random.default_rng(seed)
    num = [c for c in df.columns if c != target]
    counts = df[target].value_counts()
    parts = [df]
    for cls, cnt in counts.items():
        need = int(counts.max() - cnt)
        if need <= 0:
            continue
        X = df.loc[df[target] == cls, num].to_numpy(float)
        z = (X - X.mean(0)) / X.std(0)
        _, idx = NearestNeighbors(n_neighbors=6).fit(z).kneighbors(z)
        base = g.integers(0, len(X), need)
        nb = idx[base, g.integers(1, 6, need)]
        new = pd.DataFrame(X[base] + g.random((need, 1)) * (X[nb] - X[base]), columns=num)
        new[target] = cls
        parts.append(new)
    return pd.concat(parts, ignore_index=True)


def wine(minority_keep: int = 20) -> pd.DataFrame:
    d = load_wine(as_frame=True).frame.rename(columns={"target": "y"})
    # make two classes rare (how SMOTE is used), keep all of the largest
    keep = pd.concat([d[d.y == 1], d[d.y == 0].iloc[:minority_keep], d[d.y == 2].iloc[:minority_keep]])
    return keep.reset_index(drop=True)


def split(df: pd.DataFrame, seed: int = 0, frac: float = 0.7):
    df = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    k = int(len(df) * frac)
    return df.iloc[:k].reset_index(drop=True), df.iloc[k:].reset_index(drop=True)


def overlap_alarms(tr, te):
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(tr.drop(columns="y"), tr.y)
    ctx = Context(build_case(tr, te, "y", task="multiclass", model=model))
    return checkhelp.alarms(checkhelp.run(D.train_test_overlap, ctx))


@pytest.mark.fires("data.train_test_overlap")
@pytest.mark.parametrize("seed", [0, 1])
def test_overlap_fires_on_smote_before_the_split(seed):
    tr, te = split(smote(wine(), "y", seed), seed)
    found = overlap_alarms(tr, te)
    assert found and "segment" in found[0].title
    ev = found[0].evidence
    assert ev["rows_on_a_same_class_segment"] > 10 * max(1.0, ev["same_class_rows_expected_by_chance"])


@pytest.mark.silent("data.train_test_overlap")
def test_overlap_silent_when_smote_is_applied_to_the_training_rows_only():
    tr, te = split(wine())
    assert overlap_alarms(smote(tr, "y"), te) == []


@pytest.mark.silent("data.train_test_overlap")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_overlap_silent_on_coarse_rows_that_line_up_by_chance(seed):
    # iris: one decimal, four columns, many rows line up on its grid; no interpolation
    d = load_iris(as_frame=True).frame.rename(columns={"target": "y"})
    tr, te = split(d, seed)
    assert [f for f in overlap_alarms(tr, te) if "segment" in f.title] == []


def test_segment_hits_exact_midpoint_and_label_blind_rate():
    rng = np.random.default_rng(0)
    Xtr = rng.normal(size=(200, 3))
    ytr = np.repeat(["a", "b"], 100)
    Xte = np.vstack([0.3 * Xtr[0] + 0.7 * Xtr[1], rng.normal(size=(20, 3))])
    yte = np.array(["a"] * 21)
    h = segment_hits(Xtr, ytr, Xte, yte, k=50)
    assert h.same[0] and h.same.sum() == 1 and h.other.sum() == 0
    p, expected = label_blind_test(h)
    assert expected == 0.0 and p == pytest.approx(1.0 - np.exp(-1.0))
    # on a one-decimal grid, a natural midpoint is on the grid: not counted
    G = np.array([[0.0, 0.0], [0.2, 0.4], [5.3, 5.1], [0.1, 0.2]])
    g = value_grid(G)
    assert list(g) == [0.1, 0.1]
    lab = np.array(["a", "a", "a"])
    assert not segment_hits(G[:3], lab, G[3:], np.array(["a"]), k=3, grid=g).same.any()
    assert segment_hits(G[:3], lab, G[3:], np.array(["a"]), k=3).same.all()
