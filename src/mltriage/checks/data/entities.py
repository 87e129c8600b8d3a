"""The same entity (person, patient, user, device) on both sides of the split, for
`data.train_test_overlap`: the group column when one is given, else columns that look like entity
ids and that the model does not take."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...registry import Params
from ...stats.metrics import wilson

if TYPE_CHECKING:
    from ...context import Context


@dataclass
class EntityResult:
    findings: list[Finding] = field(default_factory=list)
    tests: int = 0  # significance tests done (for the Bonferroni correction of the check)


def entity_candidates(ctx: Context, min_entities: int) -> tuple[list[str], bool]:
    """(columns to judge as entity ids, whether the user named it): the group column, else the
    columns the model does not take that are integer or text, with at least `min_entities`
    distinct values and 5% of the training rows, each value held by 1.5 rows on average."""
    c = ctx.case
    if c.group_column:
        return [c.group_column], True
    tr, te = ctx.frame("train"), ctx.frame("test")
    roles = {c.target, c.time_column, c.prediction_column} | set(c.features)
    out = []
    for col in tr.columns:
        if col in roles or col not in te.columns:
            continue
        s = tr[col].dropna()
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        if pd.api.types.is_numeric_dtype(s) and not bool(np.all(np.mod(s.to_numpy(dtype=float), 1) == 0)):
            continue
        nun = int(s.nunique())
        if nun >= max(min_entities, 0.05 * len(tr)) and len(s) >= 1.5 * nun:
            out.append(col)
    return out, False


def _one(ctx: Context, p: Params, col: str, given: bool, tests: int) -> Finding | None:
    from .rows import seen_vs_unseen

    tr, te = ctx.frame("train"), ctx.frame("test")
    known = pd.Index(pd.unique(tr[col].dropna().astype(str)))
    vals = te[col].astype(str).where(te[col].notna(), None)
    seen = vals.isin(known).to_numpy() & te[col].notna().to_numpy()
    n, k = len(seen), int(seen.sum())
    share = k / n if n else 0.0
    if k == 0 or share < p.entity_share:
        return None
    lo, hi = wilson(k, n)
    ev: dict[str, Any] = {
        "entity_column": col,
        "named_by_user": given,
        "evaluation_rows": n,
        "rows_of_seen_entities": k,
        "share_seen": share,
        "share_seen_ci": [lo, hi],
        "entities_in_training": int(len(known)),
        "evaluation_entities_seen": int(te.loc[seen, col].nunique()),
        "evaluation_entities": int(te[col].nunique()),
    }
    ev.update(seen_vs_unseen(ctx, seen))
    inflated = bool(
        ev.get("p_value_seen_better", 1.0) < p.alpha / max(tests, 1)
        and ev.get("score_gain_on_seen", 0.0) >= p.min_gain
    )
    metric = "accuracy" if "accuracy_on_seen_rows" in ev else "mae"
    scores = ""
    if f"{metric}_on_unseen_rows" in ev and ev.get(f"{metric}_on_seen_rows") is not None:
        scores = (
            f"; {metric} {ev[f'{metric}_on_seen_rows']:.3g} on seen vs "
            f"{ev[f'{metric}_on_unseen_rows']:.3g} on unseen entities"
        )
    if given:
        sev = CRITICAL if inflated else WARNING
    else:
        sev = WARNING if inflated else INFO
    what = "the group column" if given else "a column that looks like an entity id"
    return Finding(
        "data.train_test_overlap",
        sev,
        f"{share:.1%} of evaluation rows belong to a {col} already seen in training ({what}; "
        f"{ev['evaluation_entities_seen']:,} of {ev['evaluation_entities']:,} entities){scores}",
        columns=[col],
        evidence=ev,
        impact=min(1.0, share),
        root_cause=f"the split was made by row, not by {col}: the model is scored on entities whose "
        "other rows it trained on, which a held-out score above the grouped cross-validation "
        "score also shows",
        fix=f"split by {col} (GroupShuffleSplit / GroupKFold on {col}) and re-evaluate on entities "
        "the model never saw",
    )


def entity_findings(ctx: Context, p: Params) -> EntityResult:
    """One finding per entity column whose values are shared across the split."""
    cols, given = entity_candidates(ctx, p.min_entities)
    res = EntityResult(tests=len(cols))
    for col in cols:
        f = _one(ctx, p, col, given, 1 + len(cols))
        if f is not None:
            res.findings.append(f)
    return res
