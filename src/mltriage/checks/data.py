"""Rung 1, data: problems in the rows and the labels, found before any modelling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..findings import CRITICAL, INFO, WARNING, Finding
from ..registry import NotApplicable, check


@check("data.infinite_values", max_share=0.0)
def infinite_values(ctx, p):
    """Numeric features that hold +inf or -inf.

    What it detects
        Numeric feature columns with +/-inf values in the training, evaluation or production set.
    Why it matters
        Most estimators either raise on inf or treat it as an extreme value; scalers turn it into NaN
        or inf means, and a division by zero upstream usually produced it.
    How to confirm
        `np.isinf(df[col]).sum()` per set; look at the rows and the formula that computes the column.
    Fix
        Fix the computation that divides by zero, or replace inf by NaN and impute explicitly.
    """
    c = ctx.case
    num = [f for f in c.numeric if pd.api.types.is_numeric_dtype(c.train[f])]
    if not num:
        raise NotApplicable("no numeric features")
    rows = []
    for which in ("train", "test", "current"):
        if not ctx.has(which):
            continue
        df = ctx.frame(which)
        cols = [f for f in num if f in df.columns and pd.api.types.is_float_dtype(df[f])]
        if not cols:
            continue
        counts = np.isinf(df[cols].to_numpy(dtype=float, na_value=np.nan)).sum(axis=0)
        for col, k in zip(cols, counts):
            if k > 0:
                rows.append({"set": which, "column": col, "count": int(k), "share": k / len(df)})
    bad = [r for r in rows if r["share"] > p.max_share]
    if not bad:
        return None
    cols = list(dict.fromkeys(r["column"] for r in bad))
    worst = max(r["share"] for r in bad)
    return Finding(
        "data.infinite_values",
        CRITICAL if worst > 0.01 else WARNING,
        f"{len(cols)} feature(s) hold infinite values (up to {worst:.1%} of a set): {', '.join(cols[:5])}",
        columns=cols,
        evidence={"table": rows},
        impact=worst,
        root_cause="a division by zero or a log of zero upstream, or an overflow in a ratio feature",
        fix="fix the computation at the source, or map inf to NaN and impute it inside the pipeline",
    )


# ---------------------------------------------------------------------------- helpers


def _model_cols(ctx, df: pd.DataFrame) -> list[str]:
    return [f for f in ctx.case.features if f in df.columns]


def _identity_cols(ctx) -> list[str]:
    """The columns that identify a row's content: the model features plus the group (query) and
    time columns, so that the same item in two queries or two dates is not a copy."""
    c = ctx.case
    roles = [r for r in (c.group_column, c.time_column) if r and r not in c.features]
    return list(c.features) + roles


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _hash_series(s: pd.Series) -> np.ndarray:
    """uint64 hash per value, equal for equal values whatever the dtype (1 == 1.0, category == str)."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        v = np.where(v == 0, 0.0, v)  # -0.0 == 0.0
        return pd.util.hash_array(v)
    if pd.api.types.is_datetime64_any_dtype(s):
        return pd.util.hash_array(s.astype("int64").to_numpy())
    return pd.util.hash_array(np.asarray(s.astype(object).where(s.notna(), None), dtype=object))


def row_hashes(ctx, which: str, with_target: bool = True) -> np.ndarray:
    """One uint64 per row over the model features (and the target), cached per set."""

    def compute():
        df = ctx.frame(which)
        cols = _identity_cols(ctx) + ([ctx.case.target] if with_target else [])
        h = np.zeros(len(df), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for c in cols:
                hc = _hash_series(df[c]) if c in df.columns else np.zeros(len(df), dtype=np.uint64)
                h = h * np.uint64(1_000_003) + hc
        return h

    return ctx.cached(f"rowhash:{which}:{with_target}", compute)


def row_log_chance(ctx, which: str, with_target: bool = True) -> np.ndarray:
    """Per row of a set, log of the chance that one random training row equals it if the columns
    were independent: sum over columns of log(share of the row's value in training).

    A row whose expected number of chance twins (n_train * exp(log_chance)) is tiny should be
    unique: continuous values, or a rare combination. Duplicates among such rows are copies, not
    coincidences, even when real data also holds natural repeats of its common, coarse rows."""

    def compute():
        cols = _identity_cols(ctx) + ([ctx.case.target] if with_target else [])
        tr, df = ctx.frame("train"), ctx.frame(which)
        n = len(tr)
        out = np.zeros(len(df))
        for c in cols:
            if c not in tr.columns or c not in df.columns:
                continue
            freq = pd.Series(_hash_series(tr[c])).value_counts() / n
            share = pd.Series(_hash_series(df[c])).map(freq).to_numpy(dtype=float, na_value=np.nan)
            out += np.log(np.where(np.isfinite(share), share, 0.5 / n))
        return out

    return ctx.cached(f"rowchance:{which}:{with_target}", compute)


# ---------------------------------------------------------------------------- missing values


@check("data.missing_values", min_share=0.01, min_count=20, min_ratio=2.0, alpha=0.001, mostly_missing=0.5)
def missing_values(ctx, p):
    """Missing values (NaN/None) that the model never learned to handle, or whose rate rose.

    What it detects
        Model features whose share of missing values in the evaluation or production set is
        significantly and substantially higher than in training (one-sided two-proportion test,
        Bonferroni over features, at least `min_ratio` times the training rate and `min_share` of
        rows), in particular missing values in a column that had none in training; and, as info,
        features missing in most training rows.
    Why it matters
        A model learns what to do with missing values only from the training rows. A column that
        had none in training gets no learned treatment: gradient boosting silently routes NaN down
        a default branch, a scaler or linear model propagates it, and an imputer fills a value that
        says nothing about why it is missing. Rows with the new missing values get systematically
        worse predictions while the aggregate metric moves little.
    How to confirm
        Compare `df[col].isna().mean()` between train and test/current; compare the error rate of
        the rows with and without the missing value; look at the join or the upstream job that
        produces the column.
    Fix
        Fix the pipeline that drops the values (a failed join, a renamed source field); if missing
        values are legitimate, make training see them (an imputer plus a missing-indicator inside
        the pipeline, trained on data with the same missingness).
    """
    from ..stats.metrics import two_proportion_p

    tr = ctx.frame("train")
    cols = _model_cols(ctx, tr)
    if not cols:
        raise NotApplicable("no model features in the training data")
    r_tr = tr[cols].isna().mean()
    n_tr = len(tr)
    rows, alarms, info_rows = [], [], []
    sets = [w for w in ("test", "current") if ctx.has(w)]
    m_tests = max(1, len(cols) * len(sets))
    for which in sets:
        df = ctx.frame(which)
        cs = [f for f in cols if f in df.columns]
        if not cs:
            continue
        k_s = df[cs].isna().sum()
        for f in cs:
            k, n = int(k_s[f]), len(df)
            share, base = k / n, float(r_tr[f])
            if k == 0 or share <= base:
                continue
            pval = two_proportion_p(k, n, int(round(base * n_tr)), n_tr, "greater")
            row = {
                "set": which,
                "column": f,
                "missing": k,
                "share": share,
                "train_share": base,
                "p_value": pval,
            }
            rows.append(row)
            big = (
                share >= p.min_share
                and k >= p.min_count
                and share >= p.min_ratio * base
                and pval * m_tests < p.alpha
            )
            if big:
                alarms.append(row)
            elif base == 0 or pval < 0.01:
                info_rows.append(row)
    out = []
    if alarms:
        cols_bad = list(dict.fromkeys(r["column"] for r in alarms))
        worst = max(alarms, key=lambda r: r["share"] - r["train_share"])
        never = [r["column"] for r in alarms if r["train_share"] == 0]
        out.append(
            Finding(
                "data.missing_values",
                WARNING,
                f"{worst['column']} is missing in {worst['share']:.1%} of {worst['set']} rows vs "
                f"{worst['train_share']:.1%} in training"
                + (f" (+{len(cols_bad) - 1} more feature(s))" if len(cols_bad) > 1 else ""),
                columns=cols_bad,
                evidence={"table": alarms, "never_missing_in_training": never},
                impact=min(1.0, worst["share"] - worst["train_share"]),
                root_cause=(
                    f"the model never saw missing values in {', '.join(never[:5])} during training"
                    if never
                    else "missing values became far more frequent than in training"
                )
                + ": an upstream join, a renamed source field or a failed feature job",
                fix="fix the upstream source of the missing values; if they are legitimate, train on data "
                "with the same missingness and impute inside the pipeline (with a missing indicator)",
            )
        )
    mostly = [{"column": f, "train_share": float(r_tr[f])} for f in cols if r_tr[f] >= p.mostly_missing]
    if info_rows or mostly:
        out.append(
            Finding(
                "data.missing_values",
                INFO,
                f"missing values: {len(info_rows)} small rise(s) in evaluation/production, "
                f"{len(mostly)} feature(s) mostly missing in training",
                columns=list(dict.fromkeys([r["column"] for r in info_rows] + [m["column"] for m in mostly])),
                evidence={"small_rises": info_rows[:20], "mostly_missing": mostly[:20]},
                root_cause="rare new missing values, or sparsely filled features",
                fix="check that the pipeline imputes these columns the same way in training and serving",
            )
        )
    return out


# ---------------------------------------------------------------------------- unseen categories


@check("data.unseen_categories", min_share=0.01, min_count=20)
def unseen_categories(ctx, p):
    """Categorical values in the evaluation or production set that training never saw.

    What it detects
        For every categorical model feature, the rows of the test and current sets whose value
        does not occur in the training rows. A warning when such rows reach `min_share` of a set
        and `min_count` rows; rarer unseen values are reported as info.
    Why it matters
        The model has learned nothing about an unseen category: a one-hot encoder with
        `handle_unknown='ignore'` turns it into all zeros, an ordinal encoder into a default code,
        and the prediction for those rows rests on the other features alone. Errors concentrate
        on them, silently.
    How to confirm
        `set(test[col]) - set(train[col])` and the error rate of the rows holding those values.
    Fix
        Train on data that covers the values (retrain, or stratify the split by the category),
        map new values to a known one or an explicit 'other' level, or alert on them in serving.
    """
    c = ctx.case
    tr = ctx.frame("train")
    cats = [f for f in c.features if f in set(c.categorical) and f in tr.columns]
    if not cats:
        raise NotApplicable("no categorical features")
    known = {f: pd.Index(np.unique(_hash_series(tr[f].dropna()))) for f in cats}
    rows = []
    for which in ("test", "current"):
        if not ctx.has(which):
            continue
        df = ctx.frame(which)
        for f in cats:
            if f not in df.columns:
                continue
            s = df[f]
            nn = s.notna().to_numpy()
            h = _hash_series(s)
            new = nn & (known[f].get_indexer(h) < 0)
            k = int(new.sum())
            if k:
                top = s[new].astype(object).value_counts().head(5)
                rows.append(
                    {
                        "set": which,
                        "column": f,
                        "rows": k,
                        "share": k / len(df),
                        "values": {str(v): int(n) for v, n in top.items()},
                    }
                )
    if not rows:
        return None
    bad = [r for r in rows if r["share"] >= p.min_share and r["rows"] >= p.min_count]
    rare = [r for r in rows if r not in bad]
    out = []
    if bad:
        worst = max(bad, key=lambda r: r["share"])
        cols = list(dict.fromkeys(r["column"] for r in bad))
        vals = ", ".join(repr(v) for v in list(worst["values"])[:3])
        out.append(
            Finding(
                "data.unseen_categories",
                WARNING,
                f"{worst['column']}: {worst['share']:.1%} of {worst['set']} rows hold values never seen in "
                f"training ({vals})" + (f"; {len(cols) - 1} more feature(s)" if len(cols) > 1 else ""),
                columns=cols,
                evidence={"table": bad},
                impact=min(1.0, worst["share"]),
                slice=[{"column": worst["column"], "op": "in", "value": list(worst["values"])}]
                if len(worst["values"]) <= 5
                else [],
                root_cause="the split or the training window does not cover every category, or a new "
                "category appeared upstream",
                fix="retrain on data that covers the category (or stratify the split by it), or map "
                "unknown values to an explicit 'other' level that training contains",
            )
        )
    if rare:
        out.append(
            Finding(
                "data.unseen_categories",
                INFO,
                f"{sum(r['rows'] for r in rare)} row(s) hold rare categorical values unseen in training",
                columns=list(dict.fromkeys(r["column"] for r in rare)),
                evidence={"table": rare},
                root_cause="rare categories that the training sample happens not to contain",
                fix="usually harmless; group rare levels into 'other' if they keep appearing",
            )
        )
    return out


# ---------------------------------------------------------------------------- duplicates


@check(
    "data.duplicates", warn_share=0.03, min_count=30, info_share=0.005, unique_level=1e-6, min_unique_rows=200
)
def duplicates(ctx, p):
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
    h = row_hashes(ctx, "train")
    n = len(h)
    if n < 50:
        raise NotApplicable("fewer than 50 training rows")
    s = pd.Series(h)
    dup = s.duplicated().to_numpy()
    k = int(dup.sum())
    if k == 0:
        return None
    share = k / n
    unique = np.log(n) + row_log_chance(ctx, "train") < np.log(p.unique_level)
    n_u = int(unique.sum())
    k_u = int((dup & unique).sum())
    share_u = k_u / n_u if n_u else float("nan")
    counts = s.value_counts()
    groups = counts[counts > 1]
    hx = pd.Series(row_hashes(ctx, "train", with_target=False))
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


@check(
    "data.train_test_overlap",
    warn_share=0.02,
    critical_share=0.10,
    min_count=10,
    unique_level=1e-6,
    min_unique_rows=100,
)
def train_test_overlap(ctx, p):
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
    htr = row_hashes(ctx, "train")
    hte = row_hashes(ctx, "test")
    shared = np.isin(hte, htr)
    k = int(shared.sum())
    if k == 0:
        return None
    n = len(hte)
    share = k / n
    unique = np.log(len(htr)) + row_log_chance(ctx, "test") < np.log(p.unique_level)
    n_u = int(unique.sum())
    k_u = int((shared & unique).sum())
    share_u = k_u / n_u if n_u else float("nan")
    ev = {
        "test_rows": n,
        "shared_rows": k,
        "share": share,
        "rows_that_should_be_unique": n_u,
        "shared_among_them": k_u,
        "share_among_unique": share_u,
    }
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


# ---------------------------------------------------------------------------- class imbalance


@check(
    "data.class_imbalance",
    tasks=("binary", "multiclass"),
    warn_share=0.05,
    min_ratio=10.0,
    info_share=0.15,
    dominant_share=0.5,
)
def class_imbalance(ctx, p):
    """A class rare enough that accuracy and the default threshold mislead.

    What it detects
        The rarest class of the training target. A warning when its share is below `warn_share`,
        the largest class is at least `min_ratio` times larger and the largest class dominates
        (holds at least `dominant_share` of the rows, so that accuracy and argmax mostly reflect
        it; automatic in binary tasks); info when it is below `info_share`, or for one rare class
        among several balanced ones in a multiclass task.
    Why it matters
        With a rare class, predicting the majority everywhere already scores a high accuracy; the
        default 0.5 threshold (argmax) then almost never predicts the rare class, and the model's
        loss is dominated by the majority. Metrics, thresholds and training must account for it.
    How to confirm
        `y.value_counts(normalize=True)`; compare the model's accuracy with the all-majority
        baseline and look at the rare class's recall and precision (PR curve).
    Fix
        Report PR-AUC, recall at a precision, or a cost-based metric; tune the decision threshold
        on validation data; use class weights or resampling inside the cross-validation.
    """
    y = pd.Series(ctx.y("train"))
    vc = y.value_counts()
    if len(vc) < 2:
        raise NotApplicable("a single class")
    shares = vc / vc.sum()
    rare, top = _plain(vc.index[-1]), _plain(vc.index[0])
    share = float(shares.iloc[-1])
    ratio = float(vc.iloc[0] / max(vc.iloc[-1], 1))
    table = [{"class": _plain(k), "count": int(v), "share": float(v / vc.sum())} for k, v in vc.items()]
    ev = {
        "table": table,
        "minority_share": share,
        "majority_to_minority": ratio,
        "majority_accuracy": float(shares.iloc[0]),
    }
    if share < p.warn_share and ratio >= p.min_ratio and float(shares.iloc[0]) >= p.dominant_share:
        return Finding(
            "data.class_imbalance",
            WARNING,
            f"class {rare!r} is {share:.1%} of training rows ({int(vc.iloc[-1]):,}), "
            f"{ratio:.0f}x rarer than {top!r}"
            + (
                f"; always predicting {top!r} scores accuracy {float(shares.iloc[0]):.1%}"
                if ctx.case.task == "binary"
                else ""
            ),
            classes=[rare],
            evidence=ev,
            impact=1 - share,
            root_cause="a rare outcome: the majority class dominates the loss, accuracy and the "
            "default threshold",
            fix="judge the model with PR-AUC / recall at a fixed precision or a cost; tune the "
            "threshold; use class weights or resampling inside cross-validation",
        )
    if share < p.info_share and (ctx.case.task == "binary" or ratio >= 3):
        return Finding(
            "data.class_imbalance",
            INFO,
            f"class {rare!r} is {share:.1%} of training rows (majority {top!r} {float(shares.iloc[0]):.1%})",
            classes=[rare],
            evidence=ev,
            impact=1 - share,
            root_cause="an unbalanced target",
            fix="prefer threshold-free or class-aware metrics (ROC/PR-AUC, balanced accuracy)",
        )
    return None


# ---------------------------------------------------------------------------- target suspect


@check("data.target_suspect", mostly_missing=0.5)
def target_suspect(ctx, p):
    """The target looks wrong: constant, an identifier, continuous where classes are expected, or
    mostly missing.

    What it detects
        A training target that is (nearly) constant; integer values that are all distinct and
        consecutive (a row id); many non-integer values with a classification task; only two
        values with a regression task; most training rows without a target; classes in the
        evaluation set that training never had.
    Why it matters
        Everything downstream (metrics, every other check) assumes the target column holds the
        outcome. A wrong column name, a join that blanked it, or an id picked by mistake makes the
        whole diagnosis meaningless.
    How to confirm
        `y.describe()`, `y.nunique()`, `y.isna().mean()` on the raw data; check the column's
        definition with its owner.
    Fix
        Point to the right column, fix the join that fills it, or use the task that fits it.
    """
    c = ctx.case
    y = pd.Series(ctx.y("train"))
    n = len(y)
    issues, sev = [], WARNING
    dropped = int(c.dropped_target_rows.get("train", 0))
    miss = dropped / (dropped + n) if dropped + n else 0.0
    if miss >= p.mostly_missing:
        issues.append(f"{miss:.0%} of training rows have no target value")
    nun = int(y.nunique())
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if nun <= 1:
        issues.append(f"the target is constant ({y.iloc[0]!r})")
        sev = CRITICAL
    elif numeric and n >= 50:
        v = y.to_numpy(dtype=float)
        integral = bool(np.all(np.mod(v, 1) == 0))
        if integral and nun == n and (v.max() - v.min() + 1) <= 1.05 * n:
            issues.append("every target value is a distinct consecutive integer: it looks like a row id")
            sev = CRITICAL
        if c.task in ("binary", "multiclass") and not integral and nun > 20:
            issues.append(
                f"a {c.task} task but the target has {nun} distinct non-integer values "
                "(a continuous quantity)"
            )
            sev = CRITICAL
        if c.task == "regression" and nun == 2:
            issues.append("a regression task but the target has only two values (a class label)")
        if c.task == "regression" and nun > 2:
            top = float(y.value_counts(normalize=True).iloc[0])
            if top >= 0.99:
                issues.append(f"{top:.1%} of training targets hold the same value")
    if c.task in ("binary", "multiclass"):
        new = sorted(set(pd.unique(pd.Series(ctx.y("test")))) - set(pd.unique(y)), key=str)
        if new:
            issues.append(f"the evaluation set has class(es) never seen in training: {new[:5]}")
    if not issues:
        return None
    return Finding(
        "data.target_suspect",
        sev,
        "the target looks wrong: " + "; ".join(issues),
        evidence={
            "issues": issues,
            "distinct_values": nun,
            "rows": n,
            "missing_share": miss,
            "dtype": str(y.dtype),
        },
        impact=1.0,
        root_cause="the wrong column was given as target, or the join that fills it failed",
        fix="check the target column's name and definition, and the task (binary, multiclass, regression)",
    )


# ---------------------------------------------------------------------------- baseline helpers


def _baseline_folds(ctx, res) -> np.ndarray:
    """The validation fold of each baseline row (-1: never validated)."""
    return res.fold


def _oof_skill(task: str, res, m, positive) -> dict | None:
    """Pooled out-of-fold score of one baseline model with a 95% interval, or None."""
    from ..stats.metrics import auc_interval, wilson

    oof = m.oof
    if oof is None or m.error and not np.isfinite(oof).any():
        return None
    y = res.y
    if task == "binary":
        pos = list(res.classes).index(positive) if positive in list(res.classes) else -1
        s = oof[:, pos]
        ok = np.isfinite(s)
        yy = (y[ok] == positive).astype(int)
        if ok.sum() < 30 or yy.min() == yy.max():
            return None
        from sklearn.metrics import roc_auc_score

        a = float(roc_auc_score(yy, s[ok]))
        lo, hi = auc_interval(a, int(yy.sum()), int(len(yy) - yy.sum()))
        return {"metric": "roc_auc", "score": a, "low": lo, "high": hi, "dummy": 0.5, "rows": int(ok.sum())}
    if task == "multiclass":
        ok = np.isfinite(oof).all(1)
        if ok.sum() < 30:
            return None
        # prevalence-weighted one-vs-rest AUC: unlike accuracy, it stays at 0.5 only when the
        # probabilities carry no information (a weak-signal target with a dominant class leaves the
        # accuracy at the majority's while every class is still ranked far above chance)
        from sklearn.metrics import roc_auc_score

        pred = np.asarray(res.classes, dtype=object)[np.argmax(oof[ok], axis=1)]
        yy = y[ok]
        acc = float(np.mean(pred.astype(str) == yy.astype(str)))
        ys = yy.astype(str)
        num = var = wsum = 0.0
        for j, k in enumerate(res.classes):
            pos = ys == str(k)
            n1 = int(pos.sum())
            if n1 < 5 or n1 > len(ys) - 5:
                continue
            a = float(roc_auc_score(pos.astype(int), oof[ok, j]))
            lo_k, hi_k = auc_interval(a, n1, len(ys) - n1)
            w = n1 / len(ys)
            num += w * a
            var += (w * (hi_k - lo_k) / 3.92) ** 2
            wsum += w
        if wsum <= 0:
            lo, hi = wilson(acc * ok.sum(), ok.sum())
            major = float(pd.Series(yy).value_counts(normalize=True).iloc[0])
            return {
                "metric": "accuracy",
                "score": acc,
                "low": lo,
                "high": hi,
                "dummy": major,
                "rows": int(ok.sum()),
            }
        a = num / wsum
        se = float(np.sqrt(var)) / wsum
        return {
            "metric": "weighted one-vs-rest AUC",
            "score": a,
            "low": a - 1.96 * se,
            "high": a + 1.96 * se,
            "dummy": 0.5,
            "rows": int(ok.sum()),
            "accuracy": acc,
        }
    ok = np.isfinite(oof)
    if ok.sum() < 30:
        return None
    yy, pp = y[ok].astype(float), oof[ok]
    ss = float(np.sum((yy - yy.mean()) ** 2))
    if ss <= 0:
        return None
    r2 = 1 - float(np.sum((yy - pp) ** 2)) / ss
    r = float(np.corrcoef(yy, pp)[0, 1]) if np.std(pp) > 0 else 0.0
    half = 1.96 / np.sqrt(max(ok.sum() - 3, 1))
    hi_r = float(np.tanh(np.arctanh(np.clip(r, -0.999999, 0.999999)) + half))
    return {
        "metric": "r2",
        "score": r2,
        "low": float("nan"),
        "high": max(0.0, hi_r) ** 2,
        "dummy": 0.0,
        "rows": int(ok.sum()),
    }


# ---------------------------------------------------------------------------- label misalignment


@check(
    "data.label_misalignment",
    tasks=("binary", "multiclass", "regression"),
    slow=True,
    auc_margin=0.05,
    r2_margin=0.03,
)
def label_misalignment(ctx, p):
    """Labels that no longer belong to their rows: every model is no better than the dummy baseline.

    What it detects
        The cross-validated baselines (linear model, gradient boosting and the user's model refitted)
        where no model beats the dummy baseline with confidence: the upper end of each model's
        95% interval (binary: AUC; multiclass: prevalence-weighted one-vs-rest AUC, since accuracy
        stays at the majority's share on weak-signal targets; regression: R^2 — all of the pooled
        out-of-fold predictions) stays within a small margin of the dummy's score.
    Why it matters
        When labels are shuffled or shifted against their rows (a merge on the wrong key, a sort
        applied to one column, an off-by-one join), the features carry no information about the
        target any more: every model, however good, learns noise, and every metric is meaningless.
    How to confirm
        Check the join/merge that attaches the labels (keys, sort order, an index reset); look at a
        few rows by hand; a simple, known-good relation (a feature that must correlate with the
        target) that has vanished confirms it.
    Fix
        Rebuild the training table joining labels on a unique key (and assert it is unique); never
        align by position after a sort or filter.
    """
    c = ctx.case
    res = ctx.baselines()
    margin = {"binary": p.auc_margin, "multiclass": p.auc_margin, "regression": p.r2_margin}[c.task]
    rows = []
    for key in ("linear", "hgb", "user"):
        m = res.models.get(key)
        if m is None:
            continue
        sk = _oof_skill(c.task, res, m, c.positive)
        if sk is not None:
            sk["model"] = key
            rows.append(sk)
    if not rows or not any(r["model"] in ("linear", "hgb") for r in rows):
        raise NotApplicable("the baseline models produced no out-of-fold predictions")
    if res.n_rows < 200:
        raise NotApplicable("fewer than 200 training rows: too few to tell chance from signal")
    best = max(rows, key=lambda r: r["score"])
    no_better = all(r["high"] < r["dummy"] + margin for r in rows)
    if not no_better:
        return None
    ev = {"table": rows, "margin": margin, "splitter": res.splitter, "rows": res.n_rows}
    try:
        from ..stats.metrics import auc

        pr = ctx.predictions("test")
        yt = ctx.y("test")
        if c.task == "binary":
            ev["test_auc_of_your_model"] = auc((yt == c.positive).astype(int), pr.score)
        elif c.task == "multiclass":
            ev["test_accuracy_of_your_model"] = float(
                np.mean(np.asarray(pr.label).astype(str) == yt.astype(str))
            )
    except Exception:
        pass
    return Finding(
        "data.label_misalignment",
        CRITICAL,
        f"no model beats the dummy baseline: best cross-validated {best['metric']} {best['score']:.3f} "
        f"(95% upper bound {best['high']:.3f}) vs dummy {best['dummy']:.3f}",
        evidence=ev,
        impact=1.0,
        root_cause="the labels do not belong to their rows (a merge on the wrong key, a sort or "
        "shift applied to the label column), or the features carry no signal at all",
        fix="rebuild the table joining labels on a unique key and check a few rows by hand; if the "
        "join is right, the features cannot predict this target",
    )


# ---------------------------------------------------------------------------- label leakage


def _rest_score(ctx, X, y, task, mask, drop: int, classes, positive, seed: int = 0) -> float:
    """Cross-validated score (same metric as the single-feature scores) of gradient boosting on
    every feature but `drop`."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.model_selection import KFold, StratifiedKFold

    from ..stats.leakage import _score

    keep = [j for j in range(X.shape[1]) if j != drop]
    if not keep:
        return float("nan")
    Xr, cm = X[:, keep], mask[keep]
    kw = dict(
        max_iter=100,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=10,
        random_state=seed,
        categorical_features=cm if cm.any() else None,
    )
    if task in ("binary", "multiclass"):
        if task == "binary":
            Y = (np.asarray(y) == positive).astype(float)[:, None]
            yy = Y[:, 0].astype(int)
        else:
            cls = list(classes)
            pos = {v: i for i, v in enumerate(cls)}
            yy = np.array([pos[v] for v in np.asarray(y).tolist()])
            present = [j for j in range(len(cls)) if (yy == j).sum() >= 2]
            Y = np.stack([(yy == j).astype(float) for j in present], axis=1)
        counts = np.bincount(yy)
        splitter = (
            StratifiedKFold(3, shuffle=True, random_state=seed)
            if counts[counts > 0].min() >= 3
            else KFold(3, shuffle=True, random_state=seed)
        )
        pred = np.zeros_like(Y)
        for a, b in splitter.split(Xr, yy):
            est = HistGradientBoostingClassifier(**kw).fit(Xr[a], yy[a])
            pr = est.predict_proba(Xr[b])
            if task == "binary":
                pred[b, 0] = pr[:, list(est.classes_).index(1)] if 1 in est.classes_ else 0.0
            else:
                for jj, j in enumerate(present):
                    if j in est.classes_:
                        pred[b, jj] = pr[:, list(est.classes_).index(j)]
        return _score(task, Y, pred)[0]
    yy = np.asarray(y, dtype=float)
    pred = np.zeros(len(yy))
    for a, b in KFold(3, shuffle=True, random_state=seed).split(Xr):
        pred[b] = HistGradientBoostingRegressor(**kw).fit(Xr[a], yy[a]).predict(Xr[b])
    return _score("regression", yy[:, None], pred[:, None])[0]


@check(
    "data.label_leakage",
    max_rows=20_000,
    rest_rows=6_000,
    perfect_auc=0.98,
    strong_auc=0.90,
    auc_gap=0.10,
    perfect_r2=0.98,
    strong_r2=0.95,
    r2_gap=0.20,
    shortfall_ratio=0.4,
)
def label_leakage(ctx, p):
    """A single feature that predicts the target almost perfectly on its own.

    What it detects
        Every feature's cross-validated predictive power on its own (out-of-fold binned target
        means: AUC for classification, R^2 for regression). Critical when one feature alone is
        near perfect (`perfect_auc`, `perfect_r2`); a warning when it is very strong
        (`strong_auc`, `strong_r2`) and far above what all the other features reach together
        (a cross-validated gradient boosting model without it, `auc_gap`, `r2_gap`, or leaving at
        most `shortfall_ratio` of the error that the other features leave).
    Why it matters
        A feature that knows the answer is usually recorded after the outcome (a collections call
        after a default, a discharge code after a diagnosis) or derived from the target. The model
        leans on it, scores brilliantly offline, and fails in production where the value is not
        yet known at prediction time.
    How to confirm
        Ask when and how the column is recorded relative to the outcome; drop it and compare the
        cross-validated score; look at its values for the two classes.
    Fix
        Remove the column (or rebuild it from information available at prediction time, with a
        point-in-time join).
    """
    from ..stats.leakage import single_feature_scores

    c = ctx.case
    task = "regression" if c.task == "ranking" else c.task
    X = ctx.encoded("train")
    y = ctx.y("train")
    idx = ctx.sample_index("train", p.max_rows, ctx.config.seed)
    if len(idx) < 100:
        raise NotApplicable("fewer than 100 training rows")
    mask = ctx.encoder.categorical_mask
    scores = single_feature_scores(
        X[idx], c.features, mask, y[idx], task, c.classes, c.positive, seed=ctx.config.seed
    )
    scores = [s for s in scores if np.isfinite(s.score)]
    if not scores:
        return None
    top = scores[0]
    reg = task == "regression"
    perfect, strong, gap = (
        (p.perfect_r2, p.strong_r2, p.r2_gap) if reg else (p.perfect_auc, p.strong_auc, p.auc_gap)
    )
    metric = "R^2" if reg else ("AUC" if task == "binary" else "macro AUC")
    table = [{"column": s.column, "score": s.score, "low": s.low, "high": s.high} for s in scores[:5]]
    ev = {"metric": metric, "single_feature": table, "rows": int(len(idx))}
    if top.score < strong:
        return None
    if top.score >= perfect and top.low >= strong:
        sev = CRITICAL
    else:
        j = c.features.index(top.column)
        ridx = idx if len(idx) <= p.rest_rows else ctx.sample_index("train", p.rest_rows, ctx.config.seed + 1)
        rest = _rest_score(ctx, X[ridx], y[ridx], task, mask, j, c.classes, c.positive, ctx.config.seed)
        ev["other_features_together"] = rest
        # far above the rest: by an absolute gap, or by removing most of the shortfall that the
        # other features leave (0.98 vs 0.90 leaves a fifth of the error: a leak on strong data)
        relative = top.low > rest and (1 - top.score) <= p.shortfall_ratio * (1 - rest)
        if not (np.isfinite(rest) and (top.low - rest >= gap or relative)):
            return None
        sev = WARNING
    others = (
        f"; the other features together reach {ev['other_features_together']:.3f}"
        if "other_features_together" in ev
        else ""
    )
    return Finding(
        "data.label_leakage",
        sev,
        f"{top.column} alone predicts the target with cross-validated {metric} {top.score:.3f}"
        f" (next feature {scores[1].score:.3f}{others})"
        if len(scores) > 1
        else f"{top.column} alone predicts the target with cross-validated {metric} {top.score:.3f}",
        columns=[top.column],
        evidence=ev,
        impact=float(min(1.0, max(0.0, top.score))),
        root_cause=f"{top.column} is probably recorded after the outcome or derived from the target",
        fix=f"check when {top.column} becomes known; drop it or rebuild it from information "
        "available at prediction time",
    )


# ---------------------------------------------------------------------------- label noise


def _label_quality_gap(ctx, res, p) -> dict | None:
    """Fold models scored on training labels (held-out folds) and on evaluation labels.

    The same models, trained on the same rows, should score alike on both when the two sets
    share one distribution and one labelling; when they score far better on the evaluation
    labels, the training labels are the noisier ones (flipped labels depress the held-out-fold
    score, not the evaluation score). Time-ordered folds predict the future and are pessimistic
    by design, so this is not used with a time column."""
    if res.splitter.startswith("time") or res.eval_rows < p.min_rows:
        return None
    rows = []
    for key in ("linear", "hgb"):
        m = res.models.get(key)
        if m is None or m.error or len(m.eval_scores) < 2:
            continue
        dummy = res.models["dummy"].mean if "dummy" in res.models else float("nan")
        if np.isfinite(dummy) and not (m.mean > dummy + 0.02):
            continue
        cv, ev = m.mean, m.eval_mean
        n = res.eval_rows
        se_eval = np.sqrt(max(ev * (1 - ev), 1e-4) / (n * (0.25 if res.metric == "roc_auc" else 1.0)))
        se_cv = m.std / np.sqrt(len(m.fold_scores)) if np.isfinite(m.std) else 0.0
        gap = ev - cv
        z = gap / np.sqrt(se_eval**2 + se_cv**2)
        if res.metric == "roc_auc":  # flips at rate r shrink AUC - 0.5 by about (1 - 2r)
            implied = 0.5 * (1 - (cv - 0.5) / (ev - 0.5)) if ev > 0.5 else float("nan")
        else:  # and accuracy by about (1 - r)
            implied = 1 - cv / ev if ev > 0 else float("nan")
        rows.append(
            {
                "model": key,
                "metric": res.metric,
                "held_out_training_labels": cv,
                "evaluation_labels": ev,
                "gap": gap,
                "z": float(z),
                "implied_wrong_label_share": implied,
            }
        )
    if not rows:
        return None
    fires = all(r["gap"] >= p.min_gap and r["z"] >= p.min_z for r in rows)
    return {"table": rows, "fires": fires, "eval_rows": res.eval_rows}


@check(
    "data.label_noise",
    tasks=("binary", "multiclass"),
    slow=True,
    threshold=0.1,
    min_excess=0.03,
    min_z=4.0,
    min_rows=200,
    floor_error=0.12,
    plateau_ratio=1.3,
    min_gap=0.05,
)
def label_noise(ctx, p):
    """A sizeable share of training labels is likely wrong (confident learning, calibrated).

    What it detects
        Labels that the out-of-fold models of the baselines (linear and gradient boosting)
        contradict with confidence (probability of the given label below `threshold`), in excess
        of what the models' own probabilities predict for a calibrated model (each fold adjusted
        to its class shares first). A warning when every model shows an excess of at least
        `min_excess` of the rows with z >= `min_z` (twice that when only one model has signal).
        Also a warning when the baselines' fold models score far better on the evaluation labels
        than on held-out training labels (by `min_gap` with z >= `min_z`, for every model):
        the same models on the same distribution should score alike, so the training labels are
        the noisier ones. A model trained on many noisy rows learns the
        noise and stays calibrated to it; then the only sign is an error floor (even the 10% of
        rows the gradient boosting model is surest about are wrong at least `floor_error` of the
        time, and the next 30% no more often, within `plateau_ratio`), which weak features
        produce as well: it is reported as info, not as an alarm. The share of issues found by
        cleanlab's `find_label_issues` is given as evidence.
    Why it matters
        Every data set has hard examples near the class boundaries; flipped labels are different:
        they sit deep inside another class's region. They cap the achievable accuracy, bias the
        model toward the noise and make the evaluation labels unreliable too.
    How to confirm
        Inspect the rows with the lowest out-of-fold probability of their own label (evidence
        `examples`); relabel a random sample of them and measure the error rate of the labels.
    Fix
        Fix the labelling process (guidelines, consensus of annotators), relabel or drop the
        flagged rows, or train with a noise-robust loss; then re-evaluate on clean labels.
    """
    from ..stats.noise import calibrated_noise

    c = ctx.case
    res = ctx.baselines()
    folds = _baseline_folds(ctx, res)
    pos = {v: i for i, v in enumerate(res.classes)}
    y_idx = np.array([pos.get(v, -1) for v in res.y.tolist()])
    per_model, best = [], None
    for key in ("linear", "hgb"):
        m = res.models.get(key)
        if m is None or m.oof is None:
            continue
        ok = np.isfinite(m.oof).all(1) & (y_idx >= 0)
        if ok.sum() < p.min_rows:
            continue
        dummy = res.models["dummy"].mean if "dummy" in res.models else float("nan")
        if np.isfinite(dummy) and not (m.mean > dummy + 0.02):
            continue  # a model without signal cannot say which labels are wrong
        est = calibrated_noise(m.oof[ok], y_idx[ok], folds[ok], p.threshold)
        per_model.append(
            {
                "model": key,
                "rows": est.n,
                "observed": est.observed,
                "expected": est.expected,
                "excess": est.excess,
                "z": est.z,
                "confident_region_error": est.floor_error,
                "confident_region_expected_error": est.floor_expected,
                "next_tier_error": est.tier_error,
            }
        )
        if best is None or m.mean > best[1].mean:
            best = (key, m, ok)
    if not per_model:
        raise NotApplicable("no baseline model beats the dummy baseline: nothing to judge labels by")
    from ..stats.metrics import wilson

    excess = min(r["excess"] for r in per_model)
    # one model alone may simply be overconfident: ask twice the excess of it
    need = p.min_excess * (1 if len(per_model) > 1 else 2)
    calib = excess >= need and all(r["z"] >= p.min_z for r in per_model)
    quality = _label_quality_gap(ctx, res, p)
    if not calib and quality is not None and quality["fires"]:
        q = quality["table"]
        worst = min(q, key=lambda r: r["gap"])
        implied = float(np.nanmedian([r["implied_wrong_label_share"] for r in q]))
        return Finding(
            "data.label_noise",
            WARNING,
            f"training labels look noisier than the evaluation labels: the same fold models score "
            f"{worst['held_out_training_labels']:.3f} {worst['metric']} on held-out training rows but "
            f"{worst['evaluation_labels']:.3f} on evaluation rows (roughly {implied:.0%} of training "
            "labels wrong)",
            evidence={
                "label_quality_gap": q,
                "evaluation_rows": quality["eval_rows"],
                "implied_wrong_label_share": implied,
                "confident_learning": per_model,
            },
            impact=float(min(1.0, max(0.0, implied))),
            root_cause="training labels flipped or mislabelled (a faulty labelling rule, a mapping "
            "error, noisy annotators) while the evaluation labels are cleaner",
            fix="audit a random sample of training labels against the evaluation labelling process; "
            "relabel or drop the wrong ones, or train with a noise-robust method",
        )
    ref = next((r for r in per_model if r["model"] == "hgb"), per_model[-1])
    k_top = max(1, ref["rows"] // 10)
    lo = wilson(ref["confident_region_error"] * k_top, k_top)[0]
    floor = (
        ref["confident_region_error"] >= p.floor_error
        and lo >= 0.75 * p.floor_error
        and ref["next_tier_error"] <= p.plateau_ratio * ref["confident_region_error"]
    )
    if not calib:
        if floor:
            return Finding(
                "data.label_noise",
                INFO,
                f"even the 10% of training rows the model is surest about disagree with their label "
                f"{ref['confident_region_error']:.1%} of the time (the next 30%: "
                f"{ref['next_tier_error']:.1%}): wrong labels, or features too weak for any row",
                evidence={"table": per_model},
                impact=ref["confident_region_error"],
                root_cause="label noise that the models absorbed, or an outcome the features only "
                "weakly determine",
                fix="relabel a random sample of the most confidently predicted rows to tell the two apart",
            )
        return None
    key, m, ok = best
    P = m.oof[ok]
    P = P / np.maximum(P.sum(1, keepdims=True), 1e-12)
    yk = y_idx[ok]
    ev = {"table": per_model, "threshold": p.threshold}
    try:
        from cleanlab.filter import find_label_issues

        issues = find_label_issues(yk, P)
        ev["cleanlab_issue_share"] = float(np.mean(issues))
    except Exception:
        pass
    own = P[np.arange(len(yk)), yk]
    worst = np.argsort(own)[:10]
    rows = res.index[np.flatnonzero(ok)[worst]]
    ev["examples"] = [
        {
            "row": int(r),
            "label": res.classes[yk[w]],
            "p_label": float(own[w]),
            "predicted": res.classes[int(np.argmax(P[w]))],
        }
        for r, w in zip(rows, worst)
    ]
    share = float(np.mean(own < p.threshold))
    title = (
        f"{share:.1%} of training labels get an out-of-fold probability below {p.threshold:g}, "
        f"{excess:.1%} of rows more than calibrated models allow: likely wrong labels"
    )
    return Finding(
        "data.label_noise",
        WARNING,
        title,
        evidence=ev,
        impact=float(min(1.0, excess * 3)),
        root_cause="labels flipped or mislabelled in a sizeable share of rows (annotation errors, "
        "a faulty labelling rule or mapping)",
        fix="relabel or drop the flagged rows (start with evidence.examples), fix the labelling "
        "process, or train with a noise-robust method; evaluate on verified labels",
    )
