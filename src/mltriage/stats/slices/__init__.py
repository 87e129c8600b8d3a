"""Slice discovery: which subgroups of rows does the model get wrong far more often than the rest?

`find_slices(frame, error, columns)` searches conjunctions of up to `max_order` predicates over
categorical values and quantile-binned numeric ranges (single bins, ranges of adjacent bins and
open-ended `<= x` / `> x`), scores them in the spirit of SliceLine (error excess against size), and
reports only slices whose excess error survives an honest test:

1. the rows are split at random into a discovery half and a confirmation half;
2. the search, the merging of overlapping candidates (Jaccard of rows > 0.5, simplest description
   wins) and the refinement of numeric thresholds all happen on the discovery half (on a random
   sample of it when it is large);
3. the few candidates taken to confirmation are tested on the confirmation half alone (one-sided
   binomial test for 0/1 errors, Welch's t test otherwise), with Holm's correction over all of them;
4. the confirmed slices are described with statistics computed on all rows.

Speed: every column is encoded once into small integer codes (uint8); level-1 and level-2
statistics come from `np.bincount` over combined codes (one pass per column for all its pairs) and
tiny matrix products that sum bins into ranges; level 3 extends only the best level-2 slices. No
Python loop runs over rows.

Files:
- search.py: `find_slices` and its steps (sample, levels 1-3, choice, confirmation);
- refine.py: refinement of numeric thresholds and pruning of weak predicates;
- score.py: the scores, the confirmation test and intervals, the search state (`Sample`, `Cand`);
- codes.py: columns encoded into small integer codes with their items (`Col`), `is_categorical`;
- result.py: `Slice`, `describe_predicates`, and for reports `slice_mask` and
  `standardized_differences`.
"""

from __future__ import annotations

from .codes import is_categorical
from .result import Slice, describe_predicates, slice_mask, standardized_differences
from .search import find_slices

__all__ = [
    "Slice",
    "describe_predicates",
    "find_slices",
    "is_categorical",
    "slice_mask",
    "standardized_differences",
]
