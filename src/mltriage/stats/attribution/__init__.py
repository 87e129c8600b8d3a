"""What sets errors apart: feature contrasts, tree SHAP by slice, and the expected cost of errors.

Files:
- contrast.py: `error_contrast` (per true class, the features that separate the rows the model
  gets wrong from the rows it gets right, Holm-adjusted), `contrast_summary`, and `keys` (labels
  as comparable strings);
- shap_slices.py: `shap_by_slice` (mean SHAP and |SHAP| per input column inside each slice vs the
  rest, for tree models, within a time budget), `map_to_inputs`, `is_tree_model`;
- cost.py: `cost_summary` (expected cost per row at the decision in use and at the cost-optimal
  one, overall and per slice), `decision_cost`, `best_threshold`.
"""

from __future__ import annotations

from .contrast import contrast_summary, error_contrast, keys
from .cost import best_threshold, cost_summary, decision_cost
from .shap_slices import is_tree_model, map_to_inputs, shap_by_slice

__all__ = [
    "best_threshold",
    "contrast_summary",
    "cost_summary",
    "decision_cost",
    "error_contrast",
    "is_tree_model",
    "keys",
    "map_to_inputs",
    "shap_by_slice",
]
