"""Rung 3, model: is the model itself the problem?

The cross-validated baselines (dummy baseline, linear model, gradient boosting, your model
refitted; see `stats/baselines.py`) are shown in the report as a table by the core. The checks here
read them, and the model's own predictions on the training and evaluation sets:

fit.py        underfit: clearly beaten by a baseline, or barely beats dummy;
              overfit: large train vs held-out gap of the headline metric
outputs.py    prediction_collapse: (nearly) one output for every row;
              wrong_output_type: outputs that do not fit the task (scores where classes are due,
              classes where quantities are due)
imbalance.py  unhandled_imbalance: a rare class that is (almost) never predicted at the threshold
stability.py  instability: fold-to-fold spread of your model far above that of the baselines
history.py    divergence: the training history shows NaN/inf, exploding loss, or no decrease
common.py     helpers they share: the headline score per set (cached), number formats, the
              estimator inside a pipeline, the baselines table of the evidence

The modules are imported in ladder order, so that the checks register (and run) in that order.
"""

from __future__ import annotations

import importlib

for _module in ("fit", "outputs", "imbalance", "stability", "history"):
    importlib.import_module(f"{__name__}.{_module}")
