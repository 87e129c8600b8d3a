"""Rung 6, production: a production batch against the reference and the model.

In `mltriage diagnose --current` the reference for the inputs is the training set (what the model
learned from) and the reference for the model's outputs and performance is the evaluation set
(scores on training rows are optimistic). In `mltriage drift` the reference is a set of rows or a
saved profile, and the checks that need the evaluation set are not applicable. Every check reads
the same shared state, built once per run: `Context.production()` (stats/production.py).

- `drift.py`: the batch's inputs and the model's outputs moved (`production.data_drift`,
  `production.prediction_drift`).
- `performance.py`: the model's performance on the batch, measured with labels or estimated
  without them (`production.concept_drift`, `production.estimated_performance_drop`).
- `schema.py`: the batch breaks the reference's schema (`production.schema_change`).
- `ood.py`: rows far outside the training range (`production.out_of_distribution`).

Retrain or fix: drift of the population (PSI >= 0.25 on an important feature, a drop in AUC or
accuracy over 0.05) is a retrain trigger; a train/serving skew, a schema change or a
serialization mismatch is a pipeline bug, and retraining on such data would only hide it.

The modules are imported here in the order in which their checks run (and in which findings of
equal severity and impact are listed).
"""

from __future__ import annotations

# isort: off
from . import drift, performance, schema, ood  # noqa: F401
# isort: on
