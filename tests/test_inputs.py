"""Bad input: one clear message naming the problem and the fix (InputError; exit 2 in the CLI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mltriage
from mltriage.errors import InputError


def test_misspelled_target_suggests_closest(binary_case):
    train, test, model = binary_case
    with pytest.raises(InputError, match="Did you mean 'y'"):
        mltriage.diagnose(train, test, "Y", model=model)


def test_target_one_class(binary_case):
    train, test, _ = binary_case
    tr = train.assign(y=1)
    with pytest.raises(InputError, match="single class"):
        mltriage.diagnose(tr, test, "y", task="binary")


def test_target_all_nan(binary_case):
    train, test, _ = binary_case
    with pytest.raises(InputError, match="missing .NaN. in every train row"):
        mltriage.diagnose(train.assign(y=np.nan), test, "y")


def test_empty_frame(binary_case):
    train, test, _ = binary_case
    with pytest.raises(InputError, match="test data is empty"):
        mltriage.diagnose(train, test.iloc[:0], "y")


def test_different_columns(binary_case):
    train, test, _ = binary_case
    with pytest.raises(InputError, match="test lacks"):
        mltriage.diagnose(train, test.drop(columns="x2"), "y")


def test_model_columns_missing(binary_case):
    train, test, model = binary_case
    with pytest.raises(InputError, match="model takes 1 column"):
        mltriage.diagnose(train.drop(columns="x3"), test.drop(columns="x3"), "y", model=model)


def test_wrong_dtype(binary_case):
    train, test, _ = binary_case
    te = test.copy()
    te["x1"] = te["x1"].astype(str)
    te.loc[0, "x1"] = "oops"
    with pytest.raises(InputError, match="numeric in train but"):
        mltriage.diagnose(train, te, "y")


def test_model_that_raises(binary_case):
    train, test, _ = binary_case

    class Broken:
        classes_ = np.array([0, 1])

        def predict(self, X):
            raise RuntimeError("cannot predict today")

    with pytest.raises(InputError, match="raised in predict"):
        mltriage.diagnose(train, test, "y", model=Broken())


def test_pickle_that_fails(tmp_path, binary_case):
    train, test, _ = binary_case
    bad = tmp_path / "m.joblib"
    bad.write_bytes(b"not a pickle at all")
    with pytest.raises(InputError, match="cannot load model"):
        mltriage.diagnose(train, test, "y", model=str(bad))


def test_unreadable_file(tmp_path, binary_case):
    _, test, _ = binary_case
    p = tmp_path / "train.parquet"
    p.write_text("garbage")
    with pytest.raises(InputError, match="cannot read train file"):
        mltriage.diagnose(str(p), test, "y")
    with pytest.raises(InputError, match="does not exist"):
        mltriage.diagnose(str(tmp_path / "nope.csv"), test, "y")


def test_binary_with_three_classes(binary_case):
    train, test, _ = binary_case
    tr = train.copy()
    tr.loc[:10, "y"] = 2
    with pytest.raises(InputError, match="binary but the target"):
        mltriage.diagnose(tr, test, "y", task="binary")


def test_bad_cost_and_threshold(binary_case):
    train, test, model = binary_case
    with pytest.raises(InputError, match="fp=1,fn=10"):
        mltriage.diagnose(train, test, "y", model=model, cost="fp:1")
    with pytest.raises(InputError, match="outside"):
        mltriage.diagnose(train, test, "y", model=model, threshold=5, task="binary")


def test_unknown_categorical_and_task(binary_case):
    train, test, _ = binary_case
    with pytest.raises(InputError, match="categorical column"):
        mltriage.diagnose(train, test, "y", categorical=["colour"])
    with pytest.raises(InputError, match="unknown task"):
        mltriage.diagnose(train, test, "y", task="clustering")
    with pytest.raises(InputError, match="group"):
        mltriage.diagnose(train, test, "y", task="ranking")


def test_regression_on_text_target(binary_case):
    train, test, _ = binary_case
    with pytest.raises(InputError, match="not numeric"):
        mltriage.diagnose(train.assign(y="a"), test.assign(y="b"), "y", task="regression")


def test_precomputed_prediction_column_checks(binary_case):
    train, test, _ = binary_case
    with pytest.raises(InputError, match="prediction column"):
        mltriage.diagnose(train, test, "y", prediction_column="score")
    tr = train.assign(score="high")
    te = test.assign(score="low")
    with pytest.raises(InputError, match="not numeric"):
        mltriage.diagnose(tr, te, "y", prediction_column="score", task="binary")


def test_cost_matrix(tmp_path, binary_case):
    from mltriage.case import build_case

    train, test, model = binary_case
    p = tmp_path / "cost.csv"
    pd.DataFrame([[0, 1], [10, 0]], index=[0, 1], columns=[0, 1]).to_csv(p)
    case = build_case(train, test, "y", model=model, cost_matrix=str(p))
    assert case.cost == {"fp": 1.0, "fn": 10.0, "tp": 0.0, "tn": 0.0}
    case = build_case(train, test, "y", model=model, cost="fp=1,fn=5")
    assert case.cost_matrix.loc[1, 0] == 5 and case.cost_matrix.loc[0, 1] == 1
    bad = tmp_path / "bad.csv"
    pd.DataFrame([[0, 1], [10, 0]], index=[0, 7], columns=[0, 7]).to_csv(bad)
    with pytest.raises(InputError, match="class '7'"):
        build_case(train, test, "y", model=model, cost_matrix=str(bad))


def test_logged_prediction_column_validated_up_front(binary_case):
    train, test, model = binary_case
    cur = test.drop(columns="y").assign(logged="0.3")
    cur.loc[0, "logged"] = "n/a"
    with pytest.raises(InputError, match="neither scores nor class labels"):
        mltriage.diagnose(train, test, "y", model=model, current=cur, prediction_column="logged")
    with pytest.raises(InputError, match="not in the current batch"):
        mltriage.diagnose(train, test, "y", model=model, prediction_column="logged")
