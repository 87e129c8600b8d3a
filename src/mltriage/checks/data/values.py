"""Rung 1, data: values a model cannot use (infinities), missing values it never learned to handle,
and categories it never saw."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.rows import row_hashes
from .sentinels import sentinel_alarm, sentinel_rows

if TYPE_CHECKING:
    from ...context import Context


def model_columns(ctx: Context, df: pd.DataFrame) -> list[str]:
    """The model features present in `df`, in the model's order."""
    return [f for f in ctx.case.features if f in df.columns]


def value_hashes(s: pd.Series) -> np.ndarray:
    """One uint64 per value of a column, equal for equal values whatever the dtype (the row
    identity of `stats.rows` over this one column)."""
    return row_hashes(s.to_frame(name="v"), ["v"])


# ---------------------------------------------------------------------------- infinite values


@check(
    "data.infinite_values",
    max_share=Param(
        0.0,
        Interval(float, 0, 1),
        "largest share of a set's rows holding +/-inf in one feature that passes (0: any inf alarms)",
    ),
)
def infinite_values(ctx: Context, p: Params) -> Findings:
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


# ---------------------------------------------------------------------------- missing values


def _missing_rises(ctx: Context, p: Params, cols: list[str], r_tr: pd.Series) -> tuple[list, list]:
    """Features whose missing share rose in the test or current set: (alarms, small rises)."""
    from ...stats.metrics import two_proportion_p

    n_tr = len(ctx.frame("train"))
    alarms, info_rows = [], []
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
    return alarms, info_rows


def risen_missing(ctx: Context, which: str = "test") -> list[dict[str, Any]]:
    """The model features whose share of missing values in `which` rose significantly and
    substantially above training's (data.missing_values's warnings, with its parameters): one row
    per feature (column, missing, share, train_share, p_value). Empty when the set is absent."""
    if not ctx.has(which):
        return []
    tr = ctx.frame("train")
    cols = model_columns(ctx, tr)
    if not cols:
        return []
    alarms, _ = _missing_rises(ctx, ctx.config.params("data.missing_values"), cols, tr[cols].isna().mean())
    return [a for a in alarms if a["set"] == which]


def _missing_alarm(alarms: list[dict[str, Any]]) -> Finding:
    cols_bad = list(dict.fromkeys(r["column"] for r in alarms))
    worst = max(alarms, key=lambda r: r["share"] - r["train_share"])
    never = [r["column"] for r in alarms if r["train_share"] == 0]
    return Finding(
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


def _empty_columns(empty: list[str]) -> Finding:
    """Features missing in every training row: nothing to learn from, most likely a broken join."""
    return Finding(
        "data.missing_values",
        WARNING,
        f"{', '.join(empty[:5])}{f' (+{len(empty) - 5} more)' if len(empty) > 5 else ''} "
        f"{'is' if len(empty) == 1 else 'are'} missing in every training row: the model learned "
        f"nothing from {'it' if len(empty) == 1 else 'them'}",
        columns=empty,
        evidence={"missing_in_every_training_row": empty},
        impact=0.5,
        root_cause="the column was never filled for the training rows: a failed join, a renamed "
        "source field or a feature job that did not run",
        fix="fix the source of the column and retrain, or drop it from the model's inputs",
    )


# spellings of a missing value in text columns: pandas.read_csv's default `na_values`, compared
# after strip() and casefold() (whitespace-only text is the empty string)
NULL_TOKENS = frozenset(
    ["", "#n/a", "#n/a n/a", "#na", "-1.#ind", "-1.#qnan", "-nan", "1.#ind", "1.#qnan", "<na>", "n/a", "na"]
    + ["nan", "null", "none"]
)


def null_spellings(s: pd.Series) -> dict[str, int]:
    """How a text column writes its missing values: {'<null>': real NaN/None count, token: count}."""
    out: dict[str, int] = {}
    k = int(s.isna().sum())
    if k:
        out["<null>"] = k
    if not (s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype))):
        return out
    v = s.dropna().astype(str)
    key = v.str.strip().str.casefold()
    hit = key.isin(NULL_TOKENS)
    for tok, n in v[hit].value_counts().items():
        out[str(tok)] = int(n)
    return out


def _null_spelling_rows(ctx: Context, p: Params, cols: list[str]) -> tuple[list, list]:
    """Text features whose evaluation/production rows spell missing values in ways training never
    used (the model treats them as a category, not as missing): (alarms, info rows). Deterministic
    facts, no chance rate: a spelling is either in the training rows or not."""
    tr = ctx.frame("train")
    alarms: list[dict[str, Any]] = []
    info_rows: list[dict[str, Any]] = []
    for f in cols:
        base = null_spellings(tr[f])
        if len([t for t in base if t != "<null>"]) and len(base) >= 2:
            info_rows.append({"set": "train", "column": f, "spellings": base})
        for which in ("test", "current"):
            if not ctx.has(which) or f not in ctx.frame(which).columns:
                continue
            df = ctx.frame(which)
            sp = null_spellings(df[f])
            new = {t: n for t, n in sp.items() if t not in base}
            k = sum(new.values())
            if not new:
                continue
            row = {
                "set": which,
                "column": f,
                "rows": k,
                "share": k / len(df),
                "new_spellings": new,
                "train_spellings": base,
            }
            (alarms if k >= p.min_count and k / len(df) >= p.min_share else info_rows).append(row)
    return alarms, info_rows


def _spelling_alarm(alarms: list[dict[str, Any]]) -> Finding:
    worst = max(alarms, key=lambda r: r["share"])
    cols = list(dict.fromkeys(r["column"] for r in alarms))
    toks = ", ".join(repr(t) for t in list(worst["new_spellings"])[:4])
    had = ", ".join(repr(t) if t != "<null>" else "real nulls" for t in worst["train_spellings"]) or "none"
    return Finding(
        "data.missing_values",
        WARNING,
        f"{worst['column']}: {worst['share']:.1%} of {worst['set']} rows spell a missing value as {toks}, "
        f"which training never used (training's missing values: {had}): the model reads them as a "
        "category, not as missing" + (f"; {len(cols) - 1} more feature(s)" if len(cols) > 1 else ""),
        columns=cols,
        evidence={"table": alarms},
        impact=min(1.0, worst["share"]),
        root_cause="the sets were exported by different code: one writes missing values as nulls, the "
        "other as text ('N/A', '', 'null', 'None'), so the pipeline's imputer never sees them",
        fix="normalise missing values when reading every set (pd.read_csv(na_values=...) or "
        "replace the tokens with NaN) before the model's pipeline",
    )


@check(
    "data.missing_values",
    min_share=Param(
        0.01, Interval(float, 0, 1), "smallest share of a set's rows missing in a feature for a warning"
    ),
    min_count=Param(20, Interval(int, 1, None), "fewest missing rows in a set for a warning"),
    min_ratio=Param(
        2.0,
        Interval(float, 0, None),
        "how many times the training share the missing share must reach for a warning",
    ),
    alpha=Param(
        0.001,
        Interval(float, 0, 1, closed="neither"),
        "significance of the one-sided two-proportion test, Bonferroni-adjusted over features and sets",
    ),
    mostly_missing=Param(
        0.5,
        Interval(float, 0, 1, closed="right"),
        "share of training rows missing from which a feature is reported (info) as mostly missing",
    ),
)
def missing_values(ctx: Context, p: Params) -> Findings:
    """Missing values (NaN/None) that the model never learned to handle, or whose rate rose.

    What it detects
        Model features whose share of missing values in the evaluation or production set is
        significantly and substantially higher than in training (one-sided two-proportion test,
        Bonferroni over features, at least `min_ratio` times the training rate and `min_share` of
        rows), in particular missing values in a column that had none in training; a feature
        missing in every training row (a warning: no chance rate is needed for a column that was
        never filled); and, as info, features missing in most training rows. Text columns: a
        missing value spelled in the evaluation or production set in a way training never used
        (pandas' default `na_values`: '', 'N/A', 'NA', 'null', 'None', 'nan', ..., case and
        whitespace ignored) in `min_share` and `min_count` rows is a warning (Deepchecks'
        MixedNulls); several spellings inside training alone are info. Numeric columns: a number
        standing for missing (-999, 9999: Foidl et al.'s "Dummy Value" smell) in any set, a value
        holding `min_share` and `min_count` rows at least 3 interquartile ranges beyond every
        other value, more rows than an exponential tail fitted beyond the others' 10% quantile
        allows (Poisson, `alpha` Bonferroni over features and sets; stats/sentinels.py).
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
    tr = ctx.frame("train")
    cols = model_columns(ctx, tr)
    if not cols:
        raise NotApplicable("no model features in the training data")
    r_tr = tr[cols].isna().mean()
    alarms, info_rows = _missing_rises(ctx, p, cols, r_tr)
    cats = set(ctx.case.categorical)
    text = [f for f in cols if f in cats or tr[f].dtype == object or isinstance(tr[f].dtype, pd.StringDtype)]
    spelled, spelled_info = _null_spelling_rows(ctx, p, text)
    sentinels = sentinel_rows(ctx, p, [f for f in cols if f not in cats])
    out = []
    if alarms:
        out.append(_missing_alarm(alarms))
    if spelled:
        out.append(_spelling_alarm(spelled))
    if sentinels:
        out.append(sentinel_alarm(sentinels))
    info_rows += spelled_info
    empty = [f for f in cols if r_tr[f] >= 1.0]
    if empty:
        out.append(_empty_columns(empty))
    mostly = [{"column": f, "train_share": float(r_tr[f])} for f in cols if p.mostly_missing <= r_tr[f] < 1.0]
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


def _unseen_rows(ctx: Context, cats: list[str]) -> list[dict[str, Any]]:
    """Per set and categorical feature, the rows whose value training never held."""
    tr = ctx.frame("train")
    known = {f: pd.Index(np.unique(value_hashes(tr[f].dropna()))) for f in cats}
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
            new = nn & (known[f].get_indexer(value_hashes(s)) < 0)
            k = int(new.sum())
            if k:
                counts = s[new].astype(object).value_counts()
                rows.append(
                    {
                        "set": which,
                        "column": f,
                        "rows": k,
                        "share": k / len(df),
                        "values": {str(v): int(n) for v, n in counts.head(5).items()},
                        "counts": counts.to_numpy(dtype=np.int64),
                        "set_rows": len(df),
                    }
                )
    return rows


def _by_chance(rows: list[dict[str, Any]], n_train: int, alpha: float) -> None:
    """Each row's `p_chance`: the Bonferroni-adjusted probability that its most frequent unseen
    value misses training by chance. Were training and this set one population split at random,
    each of a value's k rows would fall in training with probability n_train / (n_train + n_set),
    so all k fall outside it with probability (1 - f)^k; adjusted over every unseen value of
    every column and set. `rows` with `chance` False are beyond chance at `alpha`."""
    m = sum(len(r["counts"]) for r in rows)
    for r in rows:
        f = n_train / (n_train + r["set_rows"])
        k = int(r["counts"].max())
        r["p_chance"] = float(min(1.0, (1.0 - f) ** k * m))
        r["chance"] = r["p_chance"] > alpha
        del r["counts"], r["set_rows"]


@check(
    "data.unseen_categories",
    min_share=Param(
        0.01, Interval(float, 0, 1), "smallest share of a set's rows holding unseen values for a warning"
    ),
    min_count=Param(1, Interval(int, 1, None), "fewest rows holding unseen values for a warning"),
    alpha=Param(
        0.01,
        Interval(float, 0, 1),
        "level at which an unseen value's absence from training is beyond chance (Bonferroni)",
    ),
)
def unseen_categories(ctx: Context, p: Params) -> Findings:
    """Categorical values in the evaluation or production set that training never saw.

    What it detects
        For every categorical model feature, the rows of the test and current sets whose value
        does not occur in the training rows. A warning when such rows reach `min_share` of a set
        and a value is missing from training beyond chance: were the two sets one population
        split at random, each of a value's k rows would land in training with probability
        f = n_train / (n_train + n_set), so all k miss it with probability (1 - f)^k, adjusted
        (Bonferroni) over every unseen value at `alpha`. A category the split or the training
        window did not cover is that whatever the set's size: 18 of 144 evaluation rows on a
        value absent from 401 training rows is p 3e-11, while a handful of singletons of a
        long-tailed column is what chance does (info). The former fixed floor of 20 rows
        (`min_count`, now 1) left a 12.5% unseen category of a 545-row table at info. The test is
        exact under its null, so `alpha` is the false-alarm rate of a randomly split table; 0.01,
        not 0.001: on the tool's output for the 667 scenarios of eight generalisation sets, no
        unseen value that a plant did not put there has a chance below 0.05 (natural ones are
        singletons of long-tailed columns), while 6 of 54 evaluation rows of a 165-row table on a
        category absent from 111 training rows (HOLDOUT6 babies, after its blind run) is 0.0012.
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
    rows = _unseen_rows(ctx, cats)
    if not rows:
        return None
    _by_chance(rows, len(tr), float(p.alpha))
    bad = [r for r in rows if r["share"] >= p.min_share and r["rows"] >= p.min_count and not r["chance"]]
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
