"""Rung 5, error analysis: where a model that works on aggregate still fails (errors.*), and where
a ranker fails, query by query and item by item (ranking.*).

Collect and categorise the errors (per-class metrics, confusion, confident mistakes), find where
they concentrate (slices of the evaluation rows, searched honestly: discovered on one half,
confirmed on the other with a multiple-testing correction) and name the likely root cause, the
design change and its expected gain.

slices.py         underperforming_slice: a subgroup whose error is far worse than the rest's
slice_judge.py    whether a slice is a warning: the model is confidently wrong there (observed error
                  well above the error it expects), and the causes the evidence supports
contrast.py       what sets errors and slices apart: features separating errors from correct rows
                  (an info finding), SHAP by slice, the compact table shown first
confusion.py      confused_classes: a pair of classes confused far more than the rest; per-class
                  precision, recall and F1; the expected cost of errors with a cost matrix
confident.py      high_confidence_errors: confident mistakes that cluster in a slice
label_errors.py   likely label errors among scattered confident mistakes (nearest training rows)
common.py         helpers of the errors.* checks: per-row errors, the cached slice search, skill
                  over the best constant, error contrast, expected cost, gain figures
hard_items.py     hard_negatives, hard_positives: misplaced items of a ranker sharing a trait
queries.py        underperforming_queries: a group of queries whose NDCG@k is far below the rest
ranking_frame.py  helpers of the ranking.* checks: positions, NDCG/MRR/MAP per query, the NDCG of
                  a random order, query attributes

The check modules are imported in ladder order, so that the checks register (and run) in that
order.
"""

from __future__ import annotations

import importlib

for _module in ("slices", "confusion", "confident", "hard_items", "queries"):
    importlib.import_module(f"{__name__}.{_module}")
