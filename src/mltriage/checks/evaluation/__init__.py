"""Rung 4, evaluation: is the number the model's owner reports trustworthy and the right one?

split.py        evaluated_on_train: the evaluation rows are (almost all) training rows
metric.py       wrong_metric: the headline metric misleads for this task and data
threshold.py    untuned_threshold: the decision threshold is left at its default although the
                costs of errors (or a rare class) call for another
calibration.py  miscalibration: predicted probabilities do not match observed frequencies
temporal.py     temporal_split: time-ordered data split at random, where time matters
common.py       helpers they share (the positive-class score and 0/1 target of a binary case)

The modules are imported in ladder order, so that the checks register (and run) in that order.
"""

from __future__ import annotations

import importlib

for _module in ("split", "metric", "threshold", "calibration", "temporal"):
    importlib.import_module(f"{__name__}.{_module}")
