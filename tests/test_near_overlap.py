"""data.train_test_overlap: near copies across the split (Lones 2021, "do not do data
augmentation before splitting"): jittered copies of one record on both sides of the split are
judged against the chance twins of the binned rows, as `data.duplicates` judges near copies inside
training. Built on scikit-learn's diabetes and breast-cancer data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

import checkhelp
from mltriage.case import build_case
from mltriage.checks.data import rows
from mltriage.context import Context


def _augmented(df: pd.DataFrame, sd: float, before: bool, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two copies of every row with Gaussian jitter of `sd` of each continuous column's standard
    deviation, made before a random 70/30 split (`before`) or on the training rows only."""
    g = np.random.default_rng(seed)
    num = [c for c in df.columns if c != "y" and df[c].nunique() > 10]
    df = df.sample(frac=1, random_state=seed).reset_index(drop=True)

    def jitter(d: pd.DataFrame) -> pd.DataFrame:
        out = [d]
        for _ in range(2):
            c = d.copy()
            for col in num:
                c[col] = c[col] + g.normal(0, sd * df[col].std(), len(c))
            out.append(c)
        return pd.concat(out, ignore_index=True)

    if before:
        a = jitter(df).sample(frac=1, random_state=seed).reset_index(drop=True)
        k = int(0.7 * len(a))
        return a.iloc[:k].reset_index(drop=True), a.iloc[k:].reset_index(drop=True)
    k = int(0.7 * len(df))
    return jitter(df.iloc[:k]).reset_index(drop=True), df.iloc[k:].reset_index(drop=True)


def _ctx(tr: pd.DataFrame, te: pd.DataFrame, task: str) -> Context:
    est = RandomForestRegressor if task == "regression" else RandomForestClassifier
    m = est(n_estimators=50, random_state=0).fit(tr.drop(columns="y"), tr["y"])
    return Context(build_case(tr, te, "y", task=task, model=m))


def _diabetes() -> pd.DataFrame:
    return load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "y"})


def _cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})


@pytest.mark.fires("data.train_test_overlap")
@pytest.mark.parametrize(("data", "task", "sd"), [(_diabetes, "regression", 0.02), (_cancer, "binary", 0.01)])
def test_overlap_fires_on_augmentation_before_the_split(data, task, sd):
    tr, te = _augmented(data(), sd, before=True)
    assert not te.merge(tr, how="inner").shape[0]  # no exact copy across the split
    found = checkhelp.alarms(checkhelp.run(rows.train_test_overlap, _ctx(tr, te, task)))
    assert len(found) == 1 and found[0].title.startswith("Near copies across the split")
    ev = found[0].evidence["near_copies"]
    assert ev["copy_share"] > 0.03 and ev["p_value_no_copies"] < 1e-6


@pytest.mark.silent("data.train_test_overlap")
@pytest.mark.parametrize(("data", "task"), [(_diabetes, "regression"), (_cancer, "binary")])
def test_overlap_silent_on_augmentation_after_the_split(data, task):
    # the same jittered copies, made from the training rows only: near copies inside training
    # (data.duplicates' business), none across the split
    tr, te = _augmented(data(), 0.01, before=False)
    assert checkhelp.alarms(checkhelp.run(rows.train_test_overlap, _ctx(tr, te, task))) == []
