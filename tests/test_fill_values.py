"""pipeline.preprocessing_leakage from the data files: gaps filled on the whole table before the
split (Kapoor & Narayanan L1.2, imputation on train + test), with no imputer left in the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import checkhelp
from mltriage.case import build_case
from mltriage.checks.pipeline.artifact import preprocessing_leakage
from mltriage.context import Context


def diabetes_with_gaps(seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    d = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "y"})
    g = np.random.default_rng(seed)
    cols = ["bmi", "bp"]
    for c in cols:
        d.loc[g.random(len(d)) < 0.15, c] = np.nan
    return d.sample(frac=1, random_state=seed).reset_index(drop=True), cols


def run(tr: pd.DataFrame, te: pd.DataFrame, bare: bool = True):
    # a bare estimator (no imputer to read), or a scaler fitted on the training rows only
    model = (Ridge() if bare else make_pipeline(StandardScaler(), Ridge())).fit(tr.drop(columns="y"), tr.y)
    ctx = Context(build_case(tr, te, "y", task="regression", model=model))
    return checkhelp.alarms(checkhelp.run(preprocessing_leakage, ctx))


@pytest.mark.fires("pipeline.preprocessing_leakage")
@pytest.mark.parametrize("seed", [0, 2])
def test_fires_when_the_whole_table_was_imputed_before_the_split(seed):
    # (a median fill of coarse data is a recorded value: it cannot be told from one; mean fills)
    stat = "mean"
    d, cols = diabetes_with_gaps(seed)
    fill = getattr(d[cols], stat)()
    d[cols] = d[cols].fillna(fill)
    tr, te = d.iloc[:300].reset_index(drop=True), d.iloc[300:].reset_index(drop=True)
    found = run(tr, te)
    assert found and set(found[0].columns) == set(cols)
    assert found[0].evidence["fills"][0]["statistic"] == stat


@pytest.mark.silent("pipeline.preprocessing_leakage")
def test_silent_when_the_fill_was_learned_on_the_training_rows():
    d, cols = diabetes_with_gaps(1)
    tr, te = d.iloc[:300].reset_index(drop=True), d.iloc[300:].reset_index(drop=True)
    fill = tr[cols].mean()
    tr[cols], te[cols] = tr[cols].fillna(fill), te[cols].fillna(fill)
    assert run(tr, te, bare=False) == []


@pytest.mark.silent("pipeline.preprocessing_leakage")
def test_silent_on_natural_repeated_values():
    # iris repeats its one-decimal values and its medians are data values: nothing was filled
    d = load_iris(as_frame=True).frame.rename(columns={"target": "y"})
    d = d.sample(frac=1, random_state=0).reset_index(drop=True)
    assert run(d.iloc[:100].reset_index(drop=True), d.iloc[100:].reset_index(drop=True), bare=False) == []
