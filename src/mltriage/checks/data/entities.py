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
from ...stats.rows import identifier_kind

if TYPE_CHECKING:
    from ...context import Context


@dataclass
class EntityResult:
    findings: list[Finding] = field(default_factory=list)
    tests: int = 0  # significance tests done (for the Bonferroni correction of the check)


def entity_candidates(ctx: Context, min_entities: int) -> tuple[list[str], bool]:
    """(columns to judge as entity ids, whether the user named it): the group column, else the
    columns the model does not take that are integer or text, with at least `min_entities`
    distinct values, each held by 1.5 training rows on average. No share of the rows is asked of
    the values: 46 states observed for 30 years each are entities (a panel's units are few), and
    whether a column groups dependent rows is for the grouped-vs-row test to say, not its shape."""
    c = ctx.case
    if c.group_column:
        return [c.group_column], True
    tr, te = ctx.frame("train"), ctx.frame("test")
    roles = {c.target, c.time_column, c.prediction_column} | set(c.features)
    out = []
    for col in tr.columns:
        if col in roles or col not in te.columns:
            continue
        if identifier_kind(tr[col], min_entities) == "entity":
            out.append(col)
    return out, False


def _cv_rows(
    X: np.ndarray, yy: np.ndarray, g: np.ndarray, cls: bool, kw: dict[str, Any], seed: int
) -> dict[str, np.ndarray]:
    """Per training row, accuracy (or minus the absolute error) under 3-fold CV by row and by entity."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.model_selection import GroupKFold, KFold

    per_row: dict[str, np.ndarray] = {}
    for name, splitter in (
        ("random", KFold(3, shuffle=True, random_state=seed)),
        ("grouped", GroupKFold(3)),
    ):
        out = np.zeros(len(yy))
        for a, b in splitter.split(X, yy, g if name == "grouped" else None):
            est = (HistGradientBoostingClassifier if cls else HistGradientBoostingRegressor)(**kw).fit(
                X[a], yy[a]
            )
            pred = est.predict(X[b])
            out[b] = (pred == yy[b]).astype(float) if cls else -np.abs(pred - yy[b])
        per_row[name] = out
    return per_row


def grouped_gap(ctx: Context, col: str, max_rows: int = 4000) -> dict[str, Any]:
    """How much better a model does when rows of the same entity sit on both sides: gradient
    boosting on the training rows (at most `max_rows`), 3-fold cross-validated by row and by
    entity; per row, accuracy (or absolute error) of each; the mean paired difference with its
    standard error over entities (rows of one entity are not independent) and a one-sided test.
    Under the null that an entity's other rows teach nothing beyond the features, both agree."""
    from scipy import stats as st
    from threadpoolctl import threadpool_limits

    c = ctx.case
    idx = ctx.sample_index("train", max_rows, ctx.config.seed)
    X = ctx.encoded("train")[idx]
    y = np.asarray(ctx.y("train"))[idx]
    g = ctx.frame("train")[col].astype(str).to_numpy()[idx]
    if len(pd.unique(g)) < 6 or len(idx) < 60:
        return {}
    cls = c.task in ("binary", "multiclass")
    mask = ctx.encoder.categorical_mask
    kw: dict[str, Any] = dict(
        max_iter=100, random_state=ctx.config.seed, categorical_features=mask if mask.any() else None
    )
    yy = pd.factorize(pd.Series(y).astype(str))[0] if cls else y.astype(float)
    per_row = {}
    with threadpool_limits(limits=1):  # small refits: OpenMP threads only wait on a busy machine
        per_row = _cv_rows(X, yy, g, cls, kw, ctx.config.seed)
    d = pd.Series(per_row["random"] - per_row["grouped"]).groupby(g).mean()
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    gain = float(d.mean())
    if not cls:  # relative to the grouped mean absolute error
        gain = gain / max(float(-per_row["grouped"].mean()), 1e-12)
        se = se / max(float(-per_row["grouped"].mean()), 1e-12)
    pval = float(st.norm.sf(gain / se)) if se > 0 else (0.0 if gain > 0 else 1.0)
    name = "accuracy" if cls else "mae"
    return {
        f"cv_{name}_random_folds": float(per_row["random"].mean())
        if cls
        else float(-per_row["random"].mean()),
        f"cv_{name}_grouped_folds": float(per_row["grouped"].mean())
        if cls
        else float(-per_row["grouped"].mean()),
        "score_gain_on_seen": gain,
        "p_value_seen_better": pval,
        "compared": "cross-validation by row vs by entity on training rows",
    }


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
    if n - k < max(p.min_count * 4, 0.1 * n):
        # unseen entities are too few to serve as the reference (under a row split of a panel
        # they are the entities with the fewest rows, a selected group): cross-validate the
        # training rows by row and by entity instead (one test either way)
        ev.update(seen_vs_unseen(ctx, seen))
        ev.pop("score_gain_on_seen", None)
        ev.pop("p_value_seen_better", None)
        ev.update(grouped_gap(ctx, col))
    else:
        ev.update(seen_vs_unseen(ctx, seen))
    inflated = _inflated(ev, p, tests)
    metric = "accuracy" if "accuracy_on_seen_rows" in ev else "mae"
    scores = ""
    if f"cv_{metric}_grouped_folds" in ev:
        scores = (
            f"; cross-validated {metric} {ev[f'cv_{metric}_random_folds']:.3g} split by row vs "
            f"{ev[f'cv_{metric}_grouped_folds']:.3g} split by {col}"
        )
    elif f"{metric}_on_unseen_rows" in ev and ev.get(f"{metric}_on_seen_rows") is not None:
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
        f"{share:.1%} of evaluation rows have a {col} already seen in training ({what}; "
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


def _inflated(ev: dict[str, Any], p: Params, tests: int) -> bool:
    """A significant (Bonferroni over `tests`) gain of at least `min_gain` on seen entities."""
    return bool(
        ev.get("p_value_seen_better", 1.0) < p.alpha / max(tests, 1)
        and ev.get("score_gain_on_seen", 0.0) >= p.min_gain
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
