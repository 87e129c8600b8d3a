"""stats.metrics.roc_auc: scikit-learn's ROC AUC computed the same way without its per-call
validation (the per-feature and per-class loops call it hundreds of times a run)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

from mltriage.stats.metrics import roc_auc


def test_same_value_as_scikit_learn_with_ties_and_label_codings():
    rng = np.random.default_rng(7)
    for trial in range(400):
        n = int(rng.integers(2, 1500))
        s = [rng.random(n), rng.random(n).round(1), rng.integers(0, 4, n).astype(float)][trial % 3]
        y = rng.random(n) < rng.random()
        if y.all() or not y.any():
            continue
        coded = [y, y.astype(int), y.astype(float), np.where(y, 1, -1)][trial % 4]
        assert roc_auc(coded, s) == pytest.approx(roc_auc_score(coded, s), abs=1e-12)


def test_same_value_on_breast_cancer_features():
    X, y = load_breast_cancer(return_X_y=True)
    for j in range(X.shape[1]):
        assert roc_auc(y, X[:, j]) == pytest.approx(roc_auc_score(y, X[:, j]), abs=1e-12)
    assert roc_auc(y, X[:, 0].astype(np.float32)) == pytest.approx(
        roc_auc_score(y, X[:, 0].astype(np.float32))
    )


def test_other_inputs_go_to_scikit_learn():
    y = np.array(["a", "b", "a", "b"])  # string labels: scikit-learn's own choice of positive
    assert roc_auc(y, [0.1, 0.2, 0.4, 0.3]) == roc_auc_score(y, [0.1, 0.2, 0.4, 0.3])
    with pytest.warns(Warning):  # one class: scikit-learn's warning and NaN
        assert np.isnan(roc_auc(np.ones(4), [0.1, 0.2, 0.3, 0.4]))
    with pytest.raises(ValueError):  # non-finite scores are refused as before
        roc_auc(np.array([0, 1, 0, 1]), [0.1, np.nan, 0.3, 0.4])
