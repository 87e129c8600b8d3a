"""Rung 1, data: rows that are copies, within the training set or across the split.

Both checks compare rows by the one row identity (`ctx.row_hashes`, backed by `stats.rows`) and
judge the share of copies among the rows that should be unique, since real data repeats its
common, coarse rows naturally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from .values import value_hashes

if TYPE_CHECKING:
    from ...context import Context


def identity_hashes(ctx: Context, which: str, with_target: bool = True) -> np.ndarray:
    """A row's identity for copies: model features, target, and the group and time columns."""
    return ctx.row_hashes(which, with_target=with_target, roles=True)


def row_log_chance(ctx: Context, which: str, with_target: bool = True) -> np.ndarray:
    """Per row of a set, log of the chance that one random training row equals it if the columns
    were independent: sum over columns of log(share of the row's value in training).

    A row whose expected number of chance twins (n_train * exp(log_chance)) is tiny should be
    unique: continuous values, or a rare combination. Duplicates among such rows are copies, not
    coincidences, even when real data also holds natural repeats of its common, coarse rows."""

    def compute() -> np.ndarray:
        c = ctx.case
        cols = list(c.features) + ctx.role_columns() + ([c.target] if with_target else [])
        tr, df = ctx.frame("train"), ctx.frame(which)
        n = len(tr)
        out = np.zeros(len(df))
        for col in cols:
            if col not in tr.columns or col not in df.columns:
                continue
            freq = pd.Series(value_hashes(tr[col])).value_counts() / n
            share = pd.Series(value_hashes(df[col])).map(freq).to_numpy(dtype=float, na_value=np.nan)
            out += np.log(np.where(np.isfinite(share), share, 0.5 / n))
        return out

    return ctx.cached(f"rowchance:{which}:{with_target}", compute)


def _share_among_unique(ctx: Context, which: str, hit: np.ndarray, level: float) -> tuple[int, int, float]:
    """Among the rows of a set that should have no chance twin in training (expected number below
    `level`): their count, how many of them `hit` marks, and that share."""
    unique = np.log(len(ctx.frame("train"))) + row_log_chance(ctx, which) < np.log(level)
    n_u = int(unique.sum())
    k_u = int((hit & unique).sum())
    return n_u, k_u, k_u / n_u if n_u else float("nan")


# ---------------------------------------------------------------------------- duplicates


@check(
    "data.duplicates",
    warn_share=Param(
        0.03,
        Interval(float, 0, 1, closed="right"),
        "share of copies among the training rows that should be unique from which to warn",
    ),
    min_count=Param(30, Interval(int, 1, None), "fewest copies among those rows for a warning"),
    info_share=Param(
        0.005,
        Interval(float, 0, 1, closed="right"),
        "share of duplicate training rows (of all rows) from which to report info",
    ),
    unique_level=Param(
        1e-6,
        Interval(float, 0, None, closed="neither"),
        "expected number of chance twins (columns independent) below which a row should be unique",
    ),
    min_unique_rows=Param(
        200, Interval(int, 1, None), "fewest rows that should be unique for the share among them to count"
    ),
)
def duplicates(ctx: Context, p: Params) -> Findings:
    """Duplicate rows inside the training set that are copies, not coincidences.

    What it detects
        Training rows that repeat another training row exactly (features and target, by row
        hash). Real data repeats its common, coarse rows naturally, so the share is judged among
        the rows that should be unique: those whose expected number of chance twins, if columns
        were independent, is below `unique_level` (a continuous value or a rare combination). A
        warning when copies reach `warn_share` of those rows.
    Why it matters
        Copies over-weight part of the data and leak across cross-validation folds: a row and its
        copy land in different folds, so the validation score is optimistic and model selection
        favours memorisation. They usually come from a join that fans out, a concatenation run
        twice, or oversampling done before the split.
    How to confirm
        `train.duplicated().mean()`; look at how many times the copies repeat and where they come
        from (which source, which date).
    Fix
        Drop the duplicates (`drop_duplicates()`) before splitting, or fix the join; if copies are
        intentional weights, pass sample weights and split by a group key instead.
    """
    h = identity_hashes(ctx, "train")
    n = len(h)
    if n < 50:
        raise NotApplicable("fewer than 50 training rows")
    s = pd.Series(h)
    dup = s.duplicated().to_numpy()
    k = int(dup.sum())
    if k == 0:
        return None
    share = k / n
    n_u, k_u, share_u = _share_among_unique(ctx, "train", dup, p.unique_level)
    counts = s.value_counts()
    groups = counts[counts > 1]
    hx = pd.Series(identity_hashes(ctx, "train", with_target=False))
    conflict = int((pd.DataFrame({"h": hx, "y": h}).groupby("h")["y"].nunique() > 1).sum())
    ev = {
        "rows": n,
        "duplicate_rows": k,
        "share": share,
        "rows_that_should_be_unique": n_u,
        "copies_among_them": k_u,
        "share_among_unique": share_u,
        "groups": int(len(groups)),
        "max_copies": int(groups.max()) if len(groups) else 1,
        "feature_duplicates": int(hx.duplicated().sum()),
        "feature_groups_with_conflicting_labels": conflict,
    }
    if n_u >= p.min_unique_rows and share_u >= p.warn_share and k_u >= p.min_count:
        return Finding(
            "data.duplicates",
            WARNING,
            f"{share:.1%} of training rows are exact copies of other rows ({k:,}); {share_u:.1%} "
            f"among rows that cannot coincide by chance",
            evidence=ev,
            impact=min(1.0, share),
            root_cause="a join that fans out, data appended twice, or oversampling before the split",
            fix="drop duplicates before splitting (train.drop_duplicates()), or fix the upstream "
            "join; for deliberate weighting use sample weights and a grouped split",
        )
    if share >= p.info_share:
        return Finding(
            "data.duplicates",
            INFO,
            f"{share:.2%} of training rows repeat another row ({k:,}), mostly common coarse rows "
            f"({share_u:.2%} among rows that should be unique)",
            evidence=ev,
            impact=share,
            root_cause="natural repeats of common rows, or a small copy upstream",
            fix="check whether these are real repeated observations; drop them if they are copies",
        )
    return None


# ---------------------------------------------------------------------------- train/test overlap


def _quality_on_shared(ctx: Context, shared: np.ndarray) -> dict[str, float]:
    """The model's accuracy (or MAE) on the shared evaluation rows and on the others, if it can."""
    ev: dict[str, float] = {}
    try:
        pr = ctx.predictions("test")
        y = ctx.y("test")
        if ctx.case.task in ("binary", "multiclass"):
            hit = np.asarray(pr.label).astype(str) == y.astype(str)
            ev["accuracy_on_shared_rows"] = float(hit[shared].mean())
            if (~shared).any():
                ev["accuracy_on_other_rows"] = float(hit[~shared].mean())
        elif ctx.case.task == "regression":
            err = np.abs(np.asarray(pr.score, float) - y.astype(float))
            ev["mae_on_shared_rows"] = float(np.nanmean(err[shared]))
            if (~shared).any():
                ev["mae_on_other_rows"] = float(np.nanmean(err[~shared]))
    except Exception:
        pass
    return ev


@check(
    "data.train_test_overlap",
    warn_share=Param(
        0.02,
        Interval(float, 0, 1, closed="right"),
        "share of shared rows among the evaluation rows that should be unique from which to warn",
    ),
    critical_share=Param(
        0.10, Interval(float, 0, 1, closed="right"), "that share from which the overlap is critical"
    ),
    min_count=Param(10, Interval(int, 1, None), "fewest shared rows among those rows for a warning"),
    unique_level=Param(
        1e-6,
        Interval(float, 0, None, closed="neither"),
        "expected number of chance twins in training (columns independent) below which an "
        "evaluation row should be unique",
    ),
    min_unique_rows=Param(
        100, Interval(int, 1, None), "fewest evaluation rows that should be unique for the share to count"
    ),
)
def train_test_overlap(ctx: Context, p: Params) -> Findings:
    """Rows shared between the training and the evaluation set.

    What it detects
        Evaluation rows whose features and target equal a training row (row hashes). Coarse rows
        coincide naturally, so the share is judged among the evaluation rows that should not have
        a twin in training by chance (expected chance twins below `unique_level` if columns were
        independent). A warning from `warn_share` of those rows, critical from `critical_share`.
    Why it matters
        A model is scored on rows it has memorised: the evaluation metric is optimistic by an
        amount that grows with the model's capacity, and comparisons between models reward
        memorisation. It comes from splitting after augmentation or oversampling, from duplicates
        in the source, or from a test set assembled from the training pool.
    How to confirm
        `test.merge(train, how='inner')`; compare the metric on the shared rows with the rest.
    Fix
        Deduplicate before splitting, split by entity (a group key) and rebuild the evaluation set
        from rows the model never saw; re-evaluate.
    """
    htr = identity_hashes(ctx, "train")
    hte = identity_hashes(ctx, "test")
    shared = np.isin(hte, htr)
    k = int(shared.sum())
    if k == 0:
        return None
    n = len(hte)
    share = k / n
    n_u, k_u, share_u = _share_among_unique(ctx, "test", shared, p.unique_level)
    ev: dict[str, Any] = {
        "test_rows": n,
        "shared_rows": k,
        "share": share,
        "rows_that_should_be_unique": n_u,
        "shared_among_them": k_u,
        "share_among_unique": share_u,
    }
    ev.update(_quality_on_shared(ctx, shared))
    if n_u >= p.min_unique_rows and share_u >= p.warn_share and k_u >= p.min_count:
        sev = CRITICAL if share_u >= p.critical_share else WARNING
        return Finding(
            "data.train_test_overlap",
            sev,
            f"{share:.1%} of evaluation rows also appear in training ({k:,} of {n:,}); {share_u:.1%} "
            "among rows that cannot coincide by chance",
            evidence=ev,
            impact=min(1.0, share),
            root_cause="the evaluation set was drawn from a pool that includes training rows "
            "(duplicates before the split, augmentation or oversampling before splitting)",
            fix="deduplicate before splitting, split by entity, and re-evaluate on rows the model never saw",
        )
    return Finding(
        "data.train_test_overlap",
        INFO,
        f"{k:,} evaluation row(s) ({share:.2%}) equal a training row, mostly common coarse rows "
        f"({share_u:.2%} among rows that should be unique)",
        evidence=ev,
        impact=share,
        root_cause="coincident common rows, or a few copies",
        fix="usually harmless at this share; deduplicate across the split if they are copies",
    )
