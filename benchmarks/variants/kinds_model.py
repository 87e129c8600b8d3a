"""Generators of model and evaluation failures: overfit, underfit, collapse, wrong output type,
unhandled imbalance, untuned thresholds and wrong metrics, miscalibration, divergence,
preprocessing leakage, version mismatch, random split of time-ordered data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, headline, kind, load, split_data, train_model
from scenario import Scenario, _ct, fit
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor


@kind("overfit", ["model.overfit"])
def overfit(spec: Spec) -> Scenario:
    """An unpruned decision tree on about a thousand noisy rows."""
    data = load(spec)
    tr, te = split_data(data, spec)
    est = (DecisionTreeRegressor if data.task == "regression" else DecisionTreeClassifier)(
        random_state=spec.seed
    )
    model = fit(
        Pipeline([("prep", _ct(data.numeric, data.categorical, False, True)), ("model", est)]),
        tr[data.features],
        tr[data.target],
        data.task,
    )
    meas = headline(model, data, tr, te)
    base = train_model(data, "logreg" if data.task != "regression" else "ridge", tr, spec.seed)
    meas.update(
        {f"linear_baseline_{k}": v for k, v in headline(base, data, tr, te).items() if k.startswith("test_")}
    )
    return Scenario(
        spec.name,
        "overfit",
        data,
        "tree",
        tr,
        te,
        "an unpruned decision tree on noisy rows",
        [{"code": "model.overfit"}],
        [
            "errors.high_confidence_errors",
            "evaluation.miscalibration",
            "model.instability",
            "model.underfit",
            "errors.underperforming_slice",
        ],
        meas,
        model=model,
    )


def _unused() -> None:
    _ = (np, pd)
