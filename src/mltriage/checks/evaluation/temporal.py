"""evaluation.temporal_split: time-ordered data split at random (training rows later than
evaluation rows) where time matters: the target or a feature drifts with time."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ...findings import INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.rows import scalar

if TYPE_CHECKING:
    from ...context import Context


@check(
    "evaluation.temporal_split",
    min_later=Param(
        0.2,
        Interval(float, 0, 1),
        "probability that a training row is later than an evaluation row from which the split is random "
        "(0: forward split, 0.5: random)",
    ),
    min_cramers_v=Param(
        0.1, Interval(float, 0, 1), "Cramer's V of class against time decile from which the target drifts"
    ),
    min_eta2=Param(
        0.01, Interval(float, 0, 1), "share of a quantity's variance explained by time decile that is drift"
    ),
    min_feature_drift=Param(
        0.5,
        Interval(float, 0, 1),
        "KS (or total variation) distance of a feature, first vs last third in time, that is drift",
    ),
    alpha=Param(
        0.001, Interval(float, 0, 1, closed="neither"), "level of the drift tests (target and features)"
    ),
    max_rows=Param(200_000, Interval(int, 1, None), "most rows of each set used (a random sample beyond)"),
    n_deciles=Param(10, Interval(int, 2, None), "time bins of the target drift test"),
)
def temporal_split(ctx: Context, p: Params) -> Findings:
    """Time-ordered data split at random: training rows come after evaluation rows.

    What it detects
        With a time column: the probability that a random training row is later than a random
        evaluation row (0 for a forward split, 0.5 for a random one), the share of training rows
        later than the earliest and the median evaluation row; flagged when that probability is at
        least `min_later` and time matters: the target drifts across time deciles (Cramer's V of at
        least `min_cramers_v` for classes, eta^2 of at least `min_eta2` for a quantity, p below
        `alpha`) or a feature does (KS between the first and last third of at least
        `min_feature_drift`). Without a time column, columns of dates (a datetime dtype, or text
        that parses as full dates in one format in 99% of the rows of both sets) are candidate time
        axes: reported as info, naming the inferred column and the option that sets it, when the
        target drifts along it, and silent otherwise (a birth date along which the outcome does
        not change is not a time axis). Not a warning: the same random split of time-stamped rows
        is right when the model fills in rows within the period rather than predicting forward,
        and only the owner knows which: the generalisation suite's clean controls are random
        splits of time-stamped flights and computer-price rows whose outcome drifts with the date
        (computer prices: R^2 0.83 refitted on a random subset, -0.14 refitted on the past and
        scored on the last third); one of them holds the very training rows of the planted
        date_leakage case, which differs from it only by the flag.
    Why it matters
        A model evaluated on a random split has seen the future of its evaluation rows: trends,
        later prevalence, features that identify the date. The reported metric is optimistic
        against deployment, where the model always predicts forward in time.
    How to confirm
        Refit on the rows before a cut-off date and evaluate on the rows after it; compare with the
        reported metric. Plot the target rate over time.
    Fix
        Split by time (train on the past, evaluate on the most recent period; TimeSeriesSplit for
        cross-validation) and drop features that encode the date itself.
    """
    c = ctx.case
    train, test = ctx.frame("train"), ctx.frame("test")
    given = c.time_column
    if given and given not in test.columns:
        raise NotApplicable(f"the evaluation set has no time column {given!r}")
    cols = {given: None} if given else _inferred_times(train, test, c.features + c.extra_columns)
    if not cols:
        raise NotApplicable("no time column given and no column of dates found")
    out = []
    for col, fmt in cols.items():
        f = _temporal_one(ctx, p, col, given=bool(given), fmt=fmt)
        if f is not None:
            out.append(f)
    return out or None


def _inferred_times(train: pd.DataFrame, test: pd.DataFrame, names: list[str]) -> dict[str, str | None]:
    """Columns that hold dates, without --time-column: a datetime dtype (format None), or text
    that parses as full dates (year, month, day) in one format in at least 99% of the filled rows
    of both sets (the format); month names or numbers alone are not a time axis."""
    from pandas.tseries.api import guess_datetime_format

    out: dict[str, str | None] = {}
    for col in names:
        if col not in test.columns or col not in train.columns:
            continue
        s = train[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = None
            continue
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        first = s.dropna().head(1).astype(str).tolist()
        if not first:
            continue
        for dayfirst in (False, True):
            with warnings.catch_warnings():  # pandas warns when the guess contradicts dayfirst
                warnings.simplefilter("ignore")
                fmt = guess_datetime_format(first[0], dayfirst=dayfirst)
            if (
                not fmt
                or not all(k in fmt for k in ("%Y", "%d"))
                or not ("%m" in fmt or "%b" in fmt or "%B" in fmt)
            ):
                continue
            ok = [_parsed_share(d[col], fmt) for d in (train, test)]
            if min(ok) >= 0.99:
                out[col] = fmt
                break
    return out


def _parsed_share(s: pd.Series, fmt: str) -> float:
    filled = s.dropna().astype(str)
    if filled.empty:
        return 0.0
    return float(pd.to_datetime(filled, format=fmt, errors="coerce").notna().mean())


def _as_seconds(s: pd.Series, fmt: str | None = None) -> np.ndarray:
    if fmt is not None:  # text dates in one format
        s = pd.to_datetime(s.astype("object").where(s.notna(), None), format=fmt, errors="coerce")
    if pd.api.types.is_datetime64_any_dtype(s):
        # seconds since the epoch, whatever the unit (ns, us, ...) and time zone of the column
        epoch = pd.Timestamp(0, tz=getattr(s.dt, "tz", None))
        return np.array((s - epoch).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan), copy=True)
    return np.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan), copy=True)


def _temporal_one(ctx: Context, p: Params, col: str, given: bool, fmt: str | None = None) -> Finding | None:
    c = ctx.case
    train, test = ctx.frame("train"), ctx.frame("test")
    seed = ctx.config.seed
    i_tr = ctx.sample_index("train", p.max_rows, seed)
    i_te = ctx.sample_index("test", p.max_rows, seed)
    t_tr = _as_seconds(train[col].iloc[i_tr], fmt)
    t_te = _as_seconds(test[col].iloc[i_te], fmt)
    m_tr, m_te = np.isfinite(t_tr), np.isfinite(t_te)
    if m_tr.sum() < 50 or m_te.sum() < 20:
        raise NotApplicable(f"too few rows with a time in {col!r}")
    a, b = t_tr[m_tr], t_te[m_te]
    # P(train later than test) + 0.5 P(tie): Mann-Whitney U / (n1 n2), via ranks
    ranks = sps.rankdata(np.concatenate([a, b]))
    u = ranks[: len(a)].sum() - len(a) * (len(a) + 1) / 2
    later = float(u / (len(a) * len(b)))
    after_first = float(np.mean(a > b.min()))
    after_median = float(np.mean(a > np.median(b)))
    ev: dict[str, Any] = {
        "time_column": col,
        "p_train_row_later_than_test_row": later,
        "share_train_rows_after_first_test_row": after_first,
        "share_train_rows_after_median_test_row": after_median,
        "train_period": [_fmt_time(train[col], a.min(), fmt), _fmt_time(train[col], a.max(), fmt)],
        "test_period": [_fmt_time(test[col], b.min(), fmt), _fmt_time(test[col], b.max(), fmt)],
        "time_column_inferred": not given,
    }
    if later < p.min_later:
        return None
    # does time matter? target drift across time deciles of train + test
    y = np.concatenate([np.asarray(ctx.y("train"))[i_tr][m_tr], np.asarray(ctx.y("test"))[i_te][m_te]])
    t = np.concatenate([a, b])
    dec = np.minimum((sps.rankdata(t, method="ordinal") - 1) * p.n_deciles // len(t), p.n_deciles - 1)
    drift = _target_drift(c.task, y, dec, p.n_deciles)
    ev.update(drift)
    feat = _feature_drift(ctx, i_tr, m_tr, a)
    ev.update(feat)
    matters = drift.get("target_drift_p", 1.0) < p.alpha and (
        drift.get("cramers_v", 0.0) >= p.min_cramers_v or drift.get("eta2", 0.0) >= p.min_eta2
    )
    # an inferred column is judged by the outcome alone: a feature that encodes the date (a
    # month number, an age beside a birth date) always "drifts" along it
    matters = matters or (
        given
        and feat.get("max_feature_drift", 0.0) >= p.min_feature_drift
        and feat.get("max_feature_drift_p", 1.0) < p.alpha
    )
    if not given and not matters:
        return None  # a date along which nothing changes (a birth date, a sign-up day): not a time axis
    severity = WARNING if (given and matters) else INFO
    why = _drift_reasons(p, drift, feat)
    title = (
        f"Random split of time-ordered data on {col!r}: {after_median:.0%} of the training rows are "
        f"later than the median evaluation row"
        if given
        else f"The rows carry dates in {col!r} and the split is random along them: {after_median:.0%} of "
        f"the training rows are later than the median evaluation row"
    )
    if why and matters:
        title += "; " + " and ".join(why)
    elif not matters:
        title += " (nothing drifts with time yet, so the metric is not visibly optimistic)"
    if not given:
        title += (
            f" ({col!r} holds dates and was inferred as a possible time axis: if the model predicts "
            f"forward in time along it, pass --time-column {col} to judge the split against it)"
        )
    return Finding(
        "evaluation.temporal_split",
        severity,
        title,
        columns=[col],
        evidence=ev,
        impact=float(min(1.0, 2 * later)),
        root_cause="the evaluation rows were drawn at random from the whole period, so the model was "
        "trained on rows that come after them",
        fix=f"split on {col!r}: train on the past, evaluate on the most recent period (TimeSeriesSplit "
        "for cross-validation); drop features that encode the date",
    )


def _drift_reasons(p: Params, drift: dict[str, Any], feat: dict[str, Any]) -> list[str]:
    """What drifts with time, in words: the target's rate or mean, the most drifting feature."""
    why = []
    if "target_by_time_decile" in drift:
        first, last = drift["target_by_time_decile"][0], drift["target_by_time_decile"][-1]
        if "rate" in first:
            why.append(f"the target rate goes from {first['rate']:.1%} to {last['rate']:.1%} over time")
        elif "mean" in first:
            why.append(f"the target mean goes from {first['mean']:.4g} to {last['mean']:.4g} over time")
    if feat.get("max_feature_drift", 0) >= p.min_feature_drift:
        why.append(
            f"feature {feat['most_drifting_feature']!r} drifts with time (KS or total variation "
            f"{feat['max_feature_drift']:.2f} first vs last third)"
        )
    return why


def _fmt_time(s: pd.Series, v: float, fmt: str | None = None) -> str | float | None:
    if fmt is not None or pd.api.types.is_datetime64_any_dtype(s):
        return str(pd.Timestamp(float(v), unit="s").date()) if np.isfinite(v) else None
    return float(v)


def _target_drift(task: str, y: np.ndarray, dec: np.ndarray, k: int) -> dict[str, Any]:
    n = len(y)
    if task in ("binary", "multiclass"):
        tab = pd.crosstab(dec, pd.Series(y, dtype=object).astype(str).to_numpy())
        if tab.shape[1] < 2 or tab.shape[0] < 2:
            return {}
        chi2, pv, _, _ = sps.chi2_contingency(tab.to_numpy())
        v = float(np.sqrt(chi2 / (n * (min(tab.shape) - 1))))
        rows = []
        top = tab.sum(axis=0).sort_values().index[0]  # the rarest class: its rate over time
        for d, r in tab.iterrows():
            rows.append(
                {
                    "decile": int(d) + 1,
                    "rows": int(r.sum()),
                    "class": scalar(top),
                    "rate": float(r[top] / max(r.sum(), 1)),
                }
            )
        return {"cramers_v": v, "target_drift_p": float(pv), "target_by_time_decile": rows}
    yy = np.asarray(y, float)
    ok = np.isfinite(yy)
    groups = [yy[ok & (dec == d)] for d in range(k)]
    groups = [g for g in groups if len(g) > 1]
    if len(groups) < 2:
        return {}
    h, pv = sps.kruskal(*groups)
    mean = np.nanmean(yy)
    ss_between = sum(len(g) * (g.mean() - mean) ** 2 for g in groups)
    ss_total = np.nansum((yy - mean) ** 2)
    eta2 = float(ss_between / ss_total) if ss_total > 0 else 0.0
    rows = [{"decile": i + 1, "rows": len(g), "mean": float(g.mean())} for i, g in enumerate(groups)]
    return {"eta2": eta2, "target_drift_p": float(pv), "target_by_time_decile": rows}


def _feature_drift(ctx: Context, i_tr: np.ndarray, m_tr: np.ndarray, t_tr: np.ndarray) -> dict[str, Any]:
    """Largest drift of a model feature between the first and the last third (in time) of the
    training rows: the two-sample KS statistic for numbers, the total variation distance (the KS
    analogue) with a chi-square test for categories."""
    c = ctx.case
    train = ctx.frame("train")
    rows = np.asarray(i_tr)[m_tr]
    t = np.asarray(t_tr)
    if len(rows) > 30_000:  # 30k rows resolve drifts far below the flagging floor
        keep = np.sort(np.random.default_rng(ctx.config.seed).choice(len(rows), 30_000, replace=False))
        rows, t = rows[keep], t[keep]
    if len(rows) < 90:
        return {}
    order = np.argsort(t, kind="stable")
    k = len(order) // 3
    early, late = rows[order[:k]], rows[order[-k:]]
    cat = set(c.categorical)
    best: tuple[float, float, str | None] = (0.0, 1.0, None)
    for name in c.features:
        if name not in train.columns or name == c.time_column:
            continue
        col = train[name]
        if name in cat or not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            a = col.iloc[early].astype("object").fillna("<NA>").astype(str)
            b = col.iloc[late].astype("object").fillna("<NA>").astype(str)
            tab = pd.crosstab(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a.to_numpy(), b.to_numpy()])
            if tab.shape[1] < 2:
                continue
            prop = tab.to_numpy() / tab.to_numpy().sum(axis=1, keepdims=True)
            stat = float(0.5 * np.abs(prop[0] - prop[1]).sum())
            pv = float(sps.chi2_contingency(tab.to_numpy())[1])
        else:
            v = np.array(
                pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan), copy=True
            )
            a, b = v[early], v[late]
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            if len(a) < 30 or len(b) < 30:
                continue
            r = sps.ks_2samp(a, b)
            stat, pv = float(r.statistic), float(r.pvalue)
        if stat > best[0]:
            best = (stat, pv, name)
    if best[2] is None:
        return {}
    return {"max_feature_drift": best[0], "max_feature_drift_p": best[1], "most_drifting_feature": best[2]}
