"""Rung 1, data and features: problems in the rows, the labels and the columns, found before any
modelling.

- `values.py`: values the model cannot use or never saw: infinite values, missing values that rose
  or that training never had, unseen categories (`data.infinite_values`, `data.missing_values`,
  `data.unseen_categories`).
- `rows.py`: copies, judged among the rows that should be unique: duplicates in training and rows
  shared with the evaluation set (`data.duplicates`, `data.train_test_overlap`).
- `target.py`: the target column: class imbalance and a target that looks wrong
  (`data.class_imbalance`, `data.target_suspect`).
- `misalignment.py`: labels that no longer belong to their rows, from the model baselines
  (`data.label_misalignment`).
- `leakage.py`: a feature that predicts the target on its own (`data.label_leakage`).
- `noise.py`: wrong training labels, from the model baselines (`data.label_noise`).
- `features.py`: constant and redundant features (`features.constant`, `features.redundant`).

The modules are imported here in ladder order, the order in which their checks run (and in which
findings of equal severity and impact are listed).
"""

from __future__ import annotations

# isort: off
from . import values, rows, target, misalignment, leakage, noise, features  # noqa: F401
# isort: on
