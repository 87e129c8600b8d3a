"""evaluation.wrong_metric, accuracy on imbalanced classes on one scale for any number of classes:
the majority's share measured from balance (1/K) towards all rows, and the model's skill over
always predicting it judged by its interval's upper end (generated data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.evaluation.metric import wrong_metric
from mltriage.context import Context


def _ctx(df: pd.DataFrame, task: str) -> Context:
    tr, te = df.iloc[: len(df) // 2], df.iloc[len(df) // 2 :].reset_index(drop=True)
    model = LogisticRegression(max_iter=500).fit(tr[["a", "b"]], tr["y"])
    return Context(build_case(tr, te, "y", model=model, task=task, metric="accuracy"))


@pytest.mark.fires("evaluation.wrong_metric")
def test_accuracy_headline_on_a_95_5_task_misleads():
    rng = np.random.default_rng(0)
    n = 6000
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] * 0.8 + rng.logistic(size=n) > 3.3).astype(int)  # about 5% positives
    assert 0.03 < y.mean() < 0.07
    found = alarms(run(wrong_metric, _ctx(pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y}), "binary")))
    assert len(found) == 1 and "Accuracy misleads" in found[0].title
    ev = found[0].evidence
    assert ev["majority_dominance"] > 0.85 and ev["errors_removed_upper"] < 0.5


@pytest.mark.silent("evaluation.wrong_metric")
def test_weak_model_on_four_classes_with_a_52_percent_majority_is_not_misled():
    # four brands, one holding about 52% of the purchases, a weak model (like a scanner panel)
    rng = np.random.default_rng(1)
    n = 6000
    X = rng.normal(size=(n, 2))
    logits = np.stack([np.full(n, 1.2), 0.5 * X[:, 0], 0.5 * X[:, 1], -0.4 + 0.3 * X[:, 0]], axis=1)
    y = np.argmax(logits + rng.gumbel(size=(n, 4)), axis=1)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})
    assert 0.45 < (y == 0).mean() < 0.6
    out = run(wrong_metric, _ctx(df, "multiclass"))
    assert alarms(out) == []
    ev = out[0].evidence
    assert ev["majority_dominance"] < 0.5 and ev["errors_removed_vs_majority"] < 0.3
