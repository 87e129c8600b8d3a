"""Rung 2, pipeline: the path from raw rows to the model's inputs, in training and in serving.

- `artifact.py`: what can be read off the saved model artifact itself: fitted preprocessing steps
  that learned from more than the training rows, and the library versions it was saved with
  (`pipeline.preprocessing_leakage`, `pipeline.version_mismatch`).
- `skew.py`: a feature computed differently in serving, inferred from the production batch
  (`pipeline.train_serving_skew`); also the advice shared by every pipeline bug (`PIPELINE_BUG`).
- `serialization.py`: the saved model does not reproduce the scores production logged
  (`pipeline.serialization_mismatch`).

The batch checks read the production rung's shared state (`Context.production()`). The modules are
imported here in the order in which their checks run (and in which findings of equal severity and
impact are listed).
"""

from __future__ import annotations

# isort: off
from . import artifact, skew, serialization  # noqa: F401
# isort: on
