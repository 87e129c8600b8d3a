"""evaluation.evaluated_on_train: the evaluation rows are (almost all) training rows, by the one
row identity of mltriage (`ctx.row_hashes`: every model feature and the target)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.metrics import auc_ci, wilson
from ...stats.rows import row_hashes, same_count_share
from .common import binary_xy

if TYPE_CHECKING:
    from ...context import Context


def _screen_columns(df: pd.DataFrame, cols: list[str], k: int = 4) -> list[str]:
    """The k columns with the most distinct values in a sample: a cheap first hash that already
    separates almost every pair of distinct rows."""
    sample = df[cols].iloc[: min(len(df), 2000)]
    nun = sample.nunique(dropna=False).sort_values(ascending=False)
    return list(nun.index[:k])


def _train_test_gap(ctx: Context) -> dict[str, Any]:
    """Headline-like score on train and test (AUC, accuracy or R^2) and a tolerance for equality."""
    c = ctx.case
    if c.task == "binary":
        s_tr, y_tr, _ = binary_xy(ctx, "train")
        s_te, y_te, _ = binary_xy(ctx, "test")
        a_tr, a_te = auc_ci(y_tr, s_tr), auc_ci(y_te, s_te)
        tol = max(0.01, (a_te[2] - a_te[1]) / 2)
        return {
            "metric": "roc_auc",
            "train": a_tr[0],
            "test": a_te[0],
            "gap": a_tr[0] - a_te[0],
            "gap_tolerance": tol,
        }
    if c.task == "multiclass":
        acc = [float(np.mean(ctx.predictions(w).label == ctx.y(w))) for w in ("train", "test")]
        n = len(ctx.y("test"))
        tol = max(0.01, 1.96 * np.sqrt(acc[1] * (1 - acc[1]) / max(n, 1)))
        return {
            "metric": "accuracy",
            "train": acc[0],
            "test": acc[1],
            "gap": acc[0] - acc[1],
            "gap_tolerance": tol,
        }
    if c.task == "regression":
        from sklearn.metrics import r2_score

        r = [float(r2_score(ctx.y(w).astype(float), ctx.predictions(w).score)) for w in ("train", "test")]
        return {"metric": "r2", "train": r[0], "test": r[1], "gap": r[0] - r[1], "gap_tolerance": 0.01}
    raise NotApplicable("no train/test comparison for this task")


def _scores_alike(ctx: Context, ev: dict[str, Any]) -> bool:
    """The model scores as well on the evaluation rows as on the training rows (the gap, added to
    the evidence, within its tolerance)."""
    try:
        gap = _train_test_gap(ctx)
    except NotApplicable:
        return False
    ev.update(gap)
    return bool(gap["gap"] <= gap["gap_tolerance"])


@check(
    "evaluation.evaluated_on_train",
    min_share=Param(
        0.9, Interval(float, 0, 1), "share of the evaluation rows found in train that is critical"
    ),
    min_excess=Param(
        0.5,
        Interval(float, 0, 1),
        "that share must exceed the rate at which training rows repeat among themselves by this much",
    ),
    partial_share=Param(
        0.6,
        Interval(float, 0, 1),
        "from this share on, critical when the model scores alike on evaluation and training rows",
    ),
    max_test_rows=Param(
        200_000, Interval(int, 1, None), "most evaluation rows looked up (a random sample beyond)"
    ),
)
def evaluated_on_train(ctx: Context, p: Params) -> Findings:
    """The evaluation set is (almost) the training set.

    What it detects
        Rows of the evaluation set, hashed on every model feature and the target, that also occur
        in the training set, when they make up (nearly) all of it: at least `min_share` (90%) of the
        evaluation rows, and at least `min_excess` more than the rate at which training rows repeat
        among themselves (data with few distinct rows repeats by nature). From `partial_share`
        (60%) on it is also flagged (critical too: the headline is inflated) when the model scores as
        well on the evaluation rows as on the training rows, or when the evaluation set holds at
        least `min_share` of the training rows (at least `min_excess` above their natural repeat
        rate): the evaluation set is the training set plus other rows, the whole table evaluated
        (Kapoor & Narayanan's L1.1, no test set; generalisation suite kind leak_no_test_alldata:
        73% of the evaluation rows, 100% of the training rows, the train/test AUC gap outside its
        tolerance because of the 27% fresh rows). A smaller share is partial contamination
        (data.train_test_overlap). Where training rows repeat by nature too much for the excess
        over their repeat rate, it is flagged when at least `min_share` of the evaluation rows occur
        exactly as often in training as in evaluation, `min_excess` above that share's mean over 20
        random re-splits of the pooled rows (second held-out set, holdout2-run.md: aids, four coarse
        features, 79% of training rows repeat one; the file evaluated on itself has 100% equal
        counts).
    Why it matters
        A model scored on the rows it was fitted on reports how well it memorised them, not how it
        will do on new data: every reported number is optimistic by the train/test gap.
    How to confirm
        Hash the rows of both sets (`pd.util.hash_pandas_object(df[features + [target]],
        index=False)`) and count the evaluation hashes found in train; compare the reported metric
        with the metric on rows the model never saw.
    Fix
        Hold out an evaluation set before fitting (split by entity or time where rows are related),
        fit on the rest only, and report metrics on the held-out rows.
    """
    c = ctx.case
    train, test = ctx.frame("train"), ctx.frame("test")
    cols = [f for f in c.features if f in train.columns and f in test.columns] + [c.target]
    rows = ctx.sample_index("test", p.max_test_rows, seed=ctx.config.seed)
    # a cheap screen on a few high-cardinality columns: rows that differ there differ overall
    screen = list(dict.fromkeys(_screen_columns(train, cols[:-1]) + [c.target]))
    screened = np.isin(row_hashes(test.iloc[rows], screen), row_hashes(train, screen))
    if screened.mean() < min(p.partial_share, p.min_share):
        return None
    h_tr = ctx.row_hashes("train")
    inside = np.isin(ctx.row_hashes("test")[rows], h_tr)
    share = float(inside.mean())
    vc = pd.Series(h_tr).value_counts()
    natural = float(vc[vc > 1].sum() / len(h_tr)) if len(h_tr) else 0.0
    lo, hi = wilson(int(inside.sum()), len(inside))
    ev: dict[str, Any] = {
        "test_rows_checked": int(len(rows)),
        "test_rows_in_train": int(inside.sum()),
        "share_in_train": share,
        "share_ci": [lo, hi],
        "train_rows_repeated_within_train": natural,
        "columns_hashed": len(cols),
    }
    excess = share - natural
    # the other direction: the share of the training rows that the evaluation set holds (under a
    # split, only the rate at which rows repeat by nature; the whole table evaluated: all of them)
    cover = float(np.isin(h_tr, ctx.row_hashes("test")).mean()) if len(h_tr) else 0.0
    ev["train_rows_in_evaluation"] = cover
    severity = None
    if share >= p.min_share and excess >= p.min_excess:
        severity = CRITICAL
    elif share >= p.min_share:
        # rows repeat by nature (few coarse features): the same file twice still has every row
        # exactly as often on both sides, which random splits of the pooled rows rarely give
        same, chance = same_count_share(h_tr, ctx.row_hashes("test"), seed=ctx.config.seed)
        ev.update(rows_with_equal_counts=same, rows_with_equal_counts_by_chance=chance)
        if same >= p.min_share and same - chance >= p.min_excess:
            severity = CRITICAL
    elif share >= p.partial_share and cover >= p.min_share and cover - natural >= p.min_excess:
        # the evaluation set is the training set plus other rows (the whole table evaluated)
        severity = CRITICAL
    elif share >= p.partial_share and excess >= p.min_excess and c.model is not None:
        # most rows shared: flag when the evaluation score is as good as the training score
        # the headline is inflated by the shared rows: critical as well (results cannot be trusted)
        if _scores_alike(ctx, ev):
            severity = CRITICAL
    if severity is None:
        return None
    holds = (
        f"; it holds {cover:.0%} of the training rows (the whole table evaluated?)"
        if cover >= p.min_share and share < p.min_share
        else ""
    )
    return Finding(
        "evaluation.evaluated_on_train",
        severity,
        f"{share:.0%} of the evaluation rows are training rows (features and target identical){holds}: "
        "the reported metric is measured on data the model was fitted on",
        evidence=ev,
        impact=share,
        root_cause="the evaluation set was taken from the training data (the same file passed twice, "
        "a split done after fitting, or train = train + test)",
        fix="evaluate on rows held out before fitting; refit on the training part only and re-report "
        "every metric",
    )
