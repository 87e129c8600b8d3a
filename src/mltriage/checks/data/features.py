"""Rung 1, features: columns that carry no information or repeat another column."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check

if TYPE_CHECKING:
    from ...context import Context


@check(
    "features.constant",
    max_other=Param(
        0.001,
        Interval(float, 0, 1),
        "largest share of rows (and at least one row) that may differ from the top value for a warning",
    ),
    info_share=Param(
        0.99, Interval(float, 0, 1), "share of rows holding the top value from which to report info"
    ),
    max_rows=Param(200_000, Interval(int, 1, None), "training rows sampled to count values"),
    alpha=Param(
        0.05,
        Interval(float, 0, 1, closed="neither"),
        "a column with one value besides missing is constant unless its missingness tells the target "
        "apart at this significance (chi-square for classes, Welch t for regression)",
    ),
)
def constant(ctx: Context, p: Params) -> Findings:
    """A feature with a single value (or nearly) in the training set.

    What it detects
        Model features whose training values are all the same (missing counted as a value), or so
        nearly that at most `max_other` of rows (and at least one row) differ (warning); a
        feature with one value besides missing whose missingness does not tell the target apart
        (p >= `alpha`: chi-square for classes, Welch t for regression; the effect size, Cohen's h
        or d, is reported; otherwise info: a flag stored as value/missing);
        features whose most frequent value holds at least `info_share` of rows (info).
    Why it matters
        A constant feature carries no information: it costs memory and time, can break scalers
        (zero variance) and often signals a broken upstream job (a column filled with a default,
        a filter that left one category). A near-constant one lets the model memorise a handful
        of rows.
    How to confirm
        `df[col].value_counts(dropna=False)` on train, and on test/current (a column constant in
        training but not in serving is a schema problem).
    Fix
        Drop the column, or fix the job that fills it; for rare but meaningful flags, keep them
        and check their support.
    """
    c = ctx.case
    tr = ctx.frame("train")
    cols = [f for f in c.features if f in tr.columns]
    if not cols:
        raise NotApplicable("no model features in the training data")
    df = tr.iloc[ctx.sample_index("train", p.max_rows)]
    n = len(df)
    warn: list[dict[str, Any]] = []
    info: list[dict[str, Any]] = []
    for f in cols:
        vc = df[f].value_counts(dropna=False)
        top_share = float(vc.iloc[0] / n) if len(vc) else 1.0
        other = n - int(vc.iloc[0]) if len(vc) else 0
        row: dict[str, Any] = {
            "column": f,
            "top_value": vc.index[0] if len(vc) else None,
            "top_share": top_share,
            "distinct": int(len(vc)),
            "other_rows": other,
        }
        if len(vc) <= 1 or other <= max(1, int(p.max_other * n)):
            if ctx.has("test") and f in ctx.frame("test").columns:
                row["distinct_in_test"] = int(ctx.frame("test")[f].nunique(dropna=False))
            warn.append(row)
        elif len(vc) == 2 and vc.index.isna().any():
            # one value besides missing (Deepchecks' IsSingleValue with nulls ignored): only its
            # missingness can carry information; a flag stored as 1/missing that tells the target
            # apart is a feature, one that does not is a constant
            row |= _missingness_information(
                df[f].isna().to_numpy(), ctx.y("train")[df.index.to_numpy()], c.task
            )
            row["top_value"] = vc.index[~vc.index.isna()][0]
            row["single_value_besides_missing"] = True
            (warn if row["missing_p_value"] >= p.alpha else info).append(row)
        elif top_share >= p.info_share:
            info.append(row)
    out = []
    if warn:
        names = [r["column"] for r in warn]
        single = [r["column"] for r in warn if r["distinct"] <= 1]
        besides = [r for r in warn if r.get("single_value_besides_missing")]
        title = (
            f"{len(names)} feature(s) are constant in training"
            + ("" if len(single) + len(besides) == len(names) else " or nearly")
            + f": {', '.join(names[:6])}"
        )
        if besides:
            r0 = besides[0]
            title += (
                f"; {r0['column']} holds one value ({r0['top_value']}) besides missing ({r0['missing_share']:.0%} "
                f"of rows), and its missingness does not tell the target apart (effect {r0['missing_effect']:.2f}, "
                f"p = {r0['missing_p_value']:.2g})"
            )
        out.append(
            Finding(
                "features.constant",
                WARNING,
                title,
                columns=names,
                evidence={"table": warn},
                impact=len(names) / len(cols),
                root_cause="a column filled with a default value, a filter that left one category, or a "
                "broken upstream job",
                fix="drop the column from the model's inputs, or fix the job that should fill it",
            )
        )
    if info:
        flags = [r["column"] for r in info if r.get("single_value_besides_missing")]
        rare = [r["column"] for r in info if not r.get("single_value_besides_missing")]
        parts = []
        if rare:
            parts.append(
                f"{len(rare)} feature(s) hold one value in at least {p.info_share:.0%} of training rows: "
                + ", ".join(rare[:6])
            )
        if flags:
            parts.append(
                f"{len(flags)} feature(s) hold one value besides missing, a flag whose missingness tells the target apart: "
                + ", ".join(flags[:6])
            )
        out.append(
            Finding(
                "features.constant",
                INFO,
                "; ".join(parts),
                columns=[r["column"] for r in info],
                evidence={"table": info},
                root_cause="rare flags or sparse columns",
                fix="keep them if the rare values are meaningful; check their support",
            )
        )
    return out


def _missingness_information(miss: np.ndarray, y: np.ndarray, task: str) -> dict[str, Any]:
    """How much a column's missingness tells the target apart: p-value and effect size."""
    from scipy import stats as st

    a, b = y[miss], y[~miss]
    if min(len(a), len(b)) < 2:
        return {"missing_share": float(miss.mean()), "missing_p_value": 1.0, "missing_effect": 0.0}
    if task in ("binary", "multiclass"):
        labels, codes = np.unique(np.asarray(y).astype(str), return_inverse=True)
        tab = np.array(
            [
                np.bincount(codes[miss], minlength=len(labels)),
                np.bincount(codes[~miss], minlength=len(labels)),
            ]
        )
        tab = tab[:, tab.sum(axis=0) > 0]
        pv = float(st.chi2_contingency(tab)[1]) if tab.shape[1] > 1 else 1.0
        ra, rb = tab[0] / tab[0].sum(), tab[1] / tab[1].sum()
        eff = float(np.max(np.abs(2 * np.arcsin(np.sqrt(ra)) - 2 * np.arcsin(np.sqrt(rb)))))
    else:
        a, b = a.astype(float), b.astype(float)
        pv = float(st.ttest_ind(a, b, equal_var=False).pvalue)
        sd = float(np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2)) or 1.0
        eff = float((np.mean(a) - np.mean(b)) / sd)
    return {
        "missing_share": float(miss.mean()),
        "missing_p_value": pv if np.isfinite(pv) else 1.0,
        "missing_effect": eff,
    }


# ---------------------------------------------------------------------------- redundant


Pairs = dict[tuple[str, str], dict[str, Any]]


def _codes(s: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (NaN its own code)."""
    codes, _ = pd.factorize(s, use_na_sentinel=False)
    return codes.astype(np.int64)


def _closeness(r: dict[str, Any]) -> float:
    """1 for identical columns and recodings, else the weaker of |Pearson| and |Spearman|."""
    if r["kind"] != "correlated":
        return 1.0
    return min(abs(r["pearson"]), abs(r["spearman"]))


def _recodings(codes: dict[str, np.ndarray], card: dict[str, int], n: int, max_pairs: int) -> Pairs:
    """Pairs of columns of equal cardinality that partition the rows alike (one-to-one recodings);
    comparisons stop after `max_pairs` pairs."""
    by_card: dict[int, list[str]] = {}
    for f in codes:
        if 1 < card[f] < n:  # constants and all-distinct columns say nothing
            by_card.setdefault(card[f], []).append(f)
    pairs: Pairs = {}
    checked = 0
    for k, group in by_card.items():
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                a, b = group[i], group[j]
                checked += 1
                if checked > max_pairs:
                    break
                joint = np.unique(codes[a] * k + codes[b]).size
                if joint == k:
                    pairs[(a, b)] = {"a": a, "b": b, "kind": "one-to-one recoding", "distinct": k}
    return pairs


def _correlated(df: pd.DataFrame, num: list[str], min_abs_r: float, pairs: Pairs) -> None:
    """Adds to `pairs` the numeric columns whose Pearson and Spearman correlations both reach
    `min_abs_r` in absolute value (pairs already there are kept)."""
    X = df[num].to_numpy(dtype=float, na_value=np.nan)
    X = np.where(np.isfinite(X), X, np.nan)
    mu = np.nanmean(X, axis=0)
    X = np.where(np.isnan(X), mu, X)
    sd = X.std(axis=0)
    live = sd > 0
    X, numl = X[:, live], [f for f, ok in zip(num, live) if ok]
    if len(numl) < 2:
        return
    R = np.corrcoef(X, rowvar=False)
    ranks = np.argsort(np.argsort(X, axis=0, kind="stable"), axis=0).astype(float)
    S = np.corrcoef(ranks, rowvar=False)
    both = np.minimum(np.abs(R), np.abs(S))
    iu = np.triu_indices(len(numl), 1)
    hit = np.flatnonzero(both[iu] >= min_abs_r)
    for h in hit:
        i, j = iu[0][h], iu[1][h]
        key = (numl[i], numl[j])
        if key in pairs or key[::-1] in pairs:
            continue
        pairs[key] = {
            "a": numl[i],
            "b": numl[j],
            "kind": "correlated",
            "pearson": float(R[i, j]),
            "spearman": float(S[i, j]),
        }


@check(
    "features.redundant",
    min_abs_r=Param(
        0.98,
        Interval(float, 0, 1),
        "absolute Pearson and Spearman correlation from which two numeric features are redundant (info)",
    ),
    copy_abs_r=Param(
        0.9999,
        Interval(float, 0, 1),
        "absolute correlation from which a pair is a copy (warning): the same quantity in another unit",
    ),
    max_rows=Param(20_000, Interval(int, 1, None), "training rows sampled to compare columns"),
    max_pairs=Param(50_000, Interval(int, 1, None), "most column pairs compared for one-to-one recodings"),
)
def redundant(ctx: Context, p: Params) -> Findings:
    """Features that duplicate each other: identical, one-to-one recodings or near-perfectly correlated.

    What it detects
        Pairs of model features that are identical or a one-to-one recoding of each other (the
        same partition of rows, e.g. a category and its numeric code), and pairs of numeric
        features whose Pearson and Spearman correlations both reach `min_abs_r` in absolute
        value (one is a linear or monotone transform of the other). A warning for copies: identical
        columns, recodings, or correlations of at least `copy_abs_r` (the same quantity in another
        unit); info for near-perfect but natural correlations (radius and perimeter of a shape),
        which regularised and tree models absorb without harm.
    Why it matters
        A duplicated feature adds nothing but makes the model's importances and coefficients
        unstable (the weight is split arbitrarily between the copies), slows training, and often
        reveals the same quantity entering twice under two names, or in two units.
    How to confirm
        `df[[a, b]].corr()` and `pd.crosstab(df[a], df[b])`; check where both columns come from.
    Fix
        Keep one of each pair (the one available at prediction time with the clearest definition)
        and drop the other.
    """
    c = ctx.case
    tr = ctx.frame("train")
    cols = [f for f in c.features if f in tr.columns]
    if len(cols) < 2:
        raise NotApplicable("fewer than two features")
    df = tr.iloc[ctx.sample_index("train", p.max_rows)]

    # 1. one-to-one recodings (identical partitions), among columns of equal cardinality
    codes = {f: _codes(df[f]) for f in cols}
    card = {f: int(codes[f].max()) + 1 if len(codes[f]) else 0 for f in cols}
    pairs = _recodings(codes, card, len(df), p.max_pairs)

    # 2. near-perfect linear and monotone correlation between numeric features
    num = [
        f
        for f in cols
        if f not in set(c.categorical)
        and card[f] > 2
        and pd.api.types.is_numeric_dtype(df[f])
        and not pd.api.types.is_bool_dtype(df[f])
    ]
    if len(num) >= 2:
        _correlated(df, num, p.min_abs_r, pairs)
    if not pairs:
        return None
    rows = sorted(pairs.values(), key=lambda r: -_closeness(r))
    copies = [r for r in rows if _closeness(r) >= p.copy_abs_r]
    sev = WARNING if copies else INFO
    if copies:
        rows = copies + [r for r in rows if r not in copies]
    cols_hit = list(dict.fromkeys([r["a"] for r in rows] + [r["b"] for r in rows]))
    first = rows[0]
    desc = (
        f"{first['a']} and {first['b']} are a one-to-one recoding of each other"
        if first["kind"] != "correlated"
        else f"{first['a']} and {first['b']} correlate at r = {first['pearson']:.3f}"
    )
    if sev == INFO:
        desc += " (near-perfectly correlated, not a copy)"
    return Finding(
        "features.redundant",
        sev,
        desc + (f" (+{len(rows) - 1} more pair(s))" if len(rows) > 1 else ""),
        columns=cols_hit,
        evidence={"pairs": rows[:50], "rows": int(len(df))},
        impact=min(1.0, len(cols_hit) / len(cols)) * (1.0 if sev == WARNING else 0.2),
        root_cause="the same quantity enters the model twice (a copy, a recoding, another unit)",
        fix="keep one column of each pair and drop the other",
    )
