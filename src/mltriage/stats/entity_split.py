"""Whether the evaluation split follows an entity (country, patient, user, device): the column
whose evaluation entities are, for the most part, not in training, when a split by row would
have put most of them there. The cross-validation that judges the held-out score (the model
baselines) then splits by that entity too: a model scored on entities it never saw is compared
with baselines scored on entities they never saw, not with baselines that know every entity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# a split by row puts an evaluation row's entity in training unless all its other rows went to
# evaluation too; the split follows the entity when the rows of seen entities fall short of
# that expectation at this z (one-sided, about 1 in 740 under the null) ...
Z_BELOW_ROW_SPLIT = 3.0
# ... and when most evaluation rows are of unseen entities: the held-out score is then mostly a
# score on new entities, which cross-validation by entity measures and by row does not
MAX_SHARE_SEEN = 0.5


@dataclass
class EntitySplit:
    column: str
    named_by_user: bool
    evaluation_rows: int
    rows_of_seen_entities: int
    expected_under_row_split: float  # rows of seen entities a random split by row would give
    z: float
    training_entities: int

    @property
    def share_seen(self) -> float:
        return self.rows_of_seen_entities / self.evaluation_rows if self.evaluation_rows else 0.0

    def evidence(self) -> dict[str, Any]:
        return {
            "entity_column": self.column,
            "named_by_user": self.named_by_user,
            "evaluation_rows": self.evaluation_rows,
            "evaluation_rows_of_seen_entities": self.rows_of_seen_entities,
            "expected_under_split_by_row": round(self.expected_under_row_split, 1),
            "z": round(self.z, 2) if np.isfinite(self.z) else None,
            "training_entities": self.training_entities,
        }


def judge_column(train: pd.Series, test: pd.Series) -> EntitySplit | None:
    """The split judged on one entity column: None when it does not follow it. Under a random
    split by row with a share q of the rows in evaluation, an evaluation row whose entity has N
    rows in both sets has its entity in training with probability 1 - q^(N-1); the rows of seen
    entities are a sum of such Bernoulli draws (mean and variance summed, normal tail)."""
    tr = train.dropna().astype(str)
    te = test.astype(str).where(test.notna(), None)
    ok = test.notna().to_numpy()
    n = int(ok.sum())
    if n == 0 or len(tr) == 0:
        return None
    known = pd.Index(pd.unique(tr))
    seen = int((te[ok].isin(known)).sum())
    q = n / (n + len(tr))
    sizes = tr.value_counts().add(te[ok].value_counts(), fill_value=0)
    n_of_row = te[ok].map(sizes).to_numpy(dtype=float)
    p = 1.0 - q ** (n_of_row - 1.0)
    mean, var = float(p.sum()), float((p * (1 - p)).sum())
    z = (seen - mean) / np.sqrt(var) if var > 0 else (0.0 if seen >= mean else -np.inf)
    if seen > MAX_SHARE_SEEN * n or z > -Z_BELOW_ROW_SPLIT:
        return None
    return EntitySplit(
        column=str(train.name),
        named_by_user=False,
        evaluation_rows=n,
        rows_of_seen_entities=seen,
        expected_under_row_split=mean,
        z=float(z),
        training_entities=len(known),
    )


def entity_split(train: pd.DataFrame, test: pd.DataFrame, candidates: list[str]) -> EntitySplit | None:
    """The entity the evaluation split follows, among `candidates` (columns of both sets that look
    like entity ids): of those it follows, the coarsest (fewest training entities), since a
    split by hospital keeps each patient on one side too and the folds must follow the hospital."""
    found = [
        s for c in candidates if c in test.columns and (s := judge_column(train[c], test[c])) is not None
    ]
    if not found:
        return None
    return min(found, key=lambda s: s.training_entities)
