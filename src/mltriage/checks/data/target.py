"""Rung 1, data: the target column itself, its class balance and whether it looks like a target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.metrics import wilson

if TYPE_CHECKING:
    from ...context import Context


def _plain(v: Any) -> Any:
    # a numpy scalar as its Python value, keeping its type (a float class 1.0 stays 1.0, which
    # `stats.rows.scalar` would turn into 1 and so change the class's name in the finding)
    return v.item() if hasattr(v, "item") else v


# ---------------------------------------------------------------------------- class imbalance


@check(
    "data.class_imbalance",
    tasks=("binary", "multiclass"),
    warn_share=Param(
        0.05, Interval(float, 0, 1, closed="right"), "share of the rarest class below which to warn"
    ),
    min_ratio=Param(
        10.0, Interval(float, 0, None), "how many times larger the largest class must be for a warning"
    ),
    info_share=Param(
        0.15, Interval(float, 0, 1, closed="right"), "share of the rarest class below which to report info"
    ),
    dominant_share=Param(
        0.5,
        Interval(float, 0, 1),
        "share of rows the largest class must hold for a warning (accuracy and argmax then mostly "
        "reflect it; always met in binary tasks)",
    ),
)
def class_imbalance(ctx: Context, p: Params) -> Findings:
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


def _numeric_target_issues(task: str, y: pd.Series, nun: int) -> tuple[list[str], bool]:
    """What looks wrong in a numeric target of at least 50 rows, and whether it is critical."""
    issues, critical = [], False
    n = len(y)
    v = y.to_numpy(dtype=float)
    integral = bool(np.all(np.mod(v, 1) == 0))
    if integral and nun == n and (v.max() - v.min() + 1) <= 1.05 * n:
        issues.append("every target value is a distinct consecutive integer: it looks like a row id")
        critical = True
    if task in ("binary", "multiclass") and not integral and nun > 20:
        issues.append(
            f"a {task} task but the target has {nun} distinct non-integer values (a continuous quantity)"
        )
        critical = True
    if task == "regression" and nun == 2:
        issues.append("a regression task but the target has only two values (a class label)")
    if task == "regression" and nun > 2:
        top = float(y.value_counts(normalize=True).iloc[0])
        if top >= 0.99:
            issues.append(f"{top:.1%} of training targets hold the same value")
    return issues, critical


def pile_up(y: np.ndarray, min_share: float, alpha: float, neighbours: int = 10) -> list[dict[str, Any]]:
    """Ends of a numeric target where values pile up (censoring, top- or bottom-coding): the count
    at the largest (smallest) value against what a smooth distribution puts there, read from the
    `neighbours` distinct values next to it: their mean count, or, where their counts rise toward
    the end (a count whose mode is 0, a decaying tail), their log-linear trend extrapolated one
    step (the larger). One-sided Poisson test at three times that count (Bonferroni over the two
    ends), and at least `min_share` of the rows at the end. The trend: doctor visits (31% zeros,
    18% ones, 13% twos ...) have the zeros their decay predicts, where a top-coded target's
    neighbours are flat (held-out set, benchmarks/variants/holdout-run.md)."""
    from scipy import stats as st

    v = y[np.isfinite(y)]
    uniq, cnt = np.unique(v, return_counts=True)
    if len(uniq) < neighbours + 5 or not len(v):
        return []
    out = []
    for end, at, near in (
        ("cap", -1, cnt[-neighbours - 1 : -1][::-1]),
        ("floor", 0, cnt[1 : neighbours + 1]),
    ):
        k, base = int(cnt[at]), max(float(near.mean()), _trend_at_end(near))
        pval = float(st.poisson.sf(k - 1, 3 * base))
        share = k / len(v)
        if share >= min_share and k >= 10 and pval < alpha / 2:
            out.append(
                {
                    "end": end,
                    "value": float(uniq[at]),
                    "rows": k,
                    "share": share,
                    "share_ci": list(wilson(k, len(v))),
                    "neighbour_mean_count": base,
                    "p_value": pval,
                }
            )
    return out


def _trend_at_end(near: np.ndarray) -> float:
    """The count a log-linear trend of `near` (counts ordered from the end outwards, the first one
    step from the end) puts at the end itself; 0 when the counts do not rise toward the end."""
    d = np.arange(1, len(near) + 1, dtype=float)
    slope, icpt = np.polyfit(d, np.log(np.asarray(near, dtype=float)), 1)
    return float(np.exp(icpt)) if slope < 0 else 0.0


def natural_zero(piles: list[dict[str, Any]], y_eval: np.ndarray) -> list[dict[str, Any]]:
    """The piles that sit exactly at 0 with no value beyond it, in training or evaluation rows: a
    corner outcome at the quantity's natural boundary (no hours worked, no visit, nothing spent), not
    censoring. Censoring replaces values that existed beyond the end by the end; at 0 of a quantity
    that is never negative nothing lies beyond, so no value was cut off (a pile at 0 of a target with
    negative evaluation values is a floor inside its range, and stays a censoring alarm)."""
    ev = y_eval[np.isfinite(y_eval)]
    out = []
    for pl in piles:
        beyond = (ev < 0) if pl["end"] == "floor" else (ev > 0)
        if pl["value"] == 0 and not bool(beyond.any()):
            out.append(pl)
    return out


def _zero_inflated(pl: dict[str, Any], n: int) -> str:
    side = "non-negative" if pl["end"] == "floor" else "non-positive"
    return (
        f"{pl['share']:.1%} of training targets are exactly 0 ({pl['rows']:,} of {n:,} rows, "
        f"{pl['rows'] / max(pl['neighbour_mean_count'], 1e-9):.0f}x the count of the values next to it) "
        f"in a {side} target: a zero-inflated outcome at its natural boundary (a corner solution: "
        "not participating, no event), not censoring: nothing lies beyond 0 to have been cut off"
    )


def _evaluation_target_issues(ctx: Context) -> list[str]:
    """A constant or degenerate evaluation target: one value, or a binary class of at most 2 rows."""
    if not ctx.case.has_evaluation:
        return []
    y = pd.Series(ctx.y("test")).dropna()
    vc = y.value_counts()
    if len(y) and len(vc) <= 1:
        return [
            f"the evaluation target is constant ({_plain(vc.index[0])!r} in all {len(y):,} rows): no "
            "ranking or error metric can be measured on it"
        ]
    if ctx.case.task == "binary" and len(vc) == 2 and int(vc.iloc[-1]) <= 2:
        return [
            f"the evaluation set holds only {int(vc.iloc[-1])} row(s) of class {_plain(vc.index[-1])!r}: "
            "its metrics are degenerate"
        ]
    return []


@check(
    "data.target_suspect",
    mostly_missing=Param(
        0.5,
        Interval(float, 0, 1, closed="right"),
        "share of training rows without a target from which the target is suspect",
    ),
    pile_share=Param(
        0.01,
        Interval(float, 0, 1, closed="right"),
        "regression: share of the rows at the largest (smallest) value from which a pile-up counts",
    ),
    alpha=Param(0.001, Interval(float, 0, 1, closed="neither"), "significance of the pile-up test"),
)
def target_suspect(ctx: Context, p: Params) -> Findings:
    """The target looks wrong: constant, an identifier, continuous where classes are expected, or
    mostly missing.

    What it detects
        A training target that is (nearly) constant; integer values that are all distinct and
        consecutive (a row id); many non-integer values with a classification task; only two
        values with a regression task; most training rows without a target; classes in the
        evaluation set that training never had; a regression target piled up at its largest or
        smallest value (censored, top- or bottom-coded: at least `pile_share` of the rows there,
        significantly more than three times the mean count of the ten distinct values next to
        it, or than three times what their log-linear trend puts at the end where the counts
        rise toward it, as a count's zeros do, Poisson test at `alpha`); an evaluation target
        that is constant (critical: no metric can be measured) or holds at most 2 rows of a
        binary class. A pile exactly at 0 with no value beyond 0 in training or evaluation rows
        is not censoring (values beyond the end must have existed to be cut off; nothing is below
        0 hours, visits or spend): it is reported as `info`, a zero-inflated outcome, with the
        two-part / Tweedie advice. The second held-out set's wives' yearly hours (27% zeros, 531x
        their neighbours) warned as censoring on all 6 hours scenarios, its clean control among
        them (benchmarks/variants/holdout2-run.md); the three top-coded variants (caps at 2699,
        20 and 2.06) and a count bottom-coded at 2 stay warnings.
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
        found, critical = _numeric_target_issues(c.task, y, nun)
        issues += found
        if critical:
            sev = CRITICAL
    piles: list[dict[str, Any]] = []
    zeros: list[dict[str, Any]] = []
    if c.task == "regression" and numeric and n >= 50:
        piles = pile_up(y.to_numpy(dtype=float), p.pile_share, p.alpha)
        y_eval = pd.to_numeric(pd.Series(ctx.y("test")), errors="coerce").to_numpy(dtype=float)
        zeros = natural_zero(piles, y_eval)
        piles = [pl for pl in piles if pl not in zeros]
        for pl in piles:
            issues.append(
                f"{pl['share']:.1%} of training targets sit at the {pl['end']} {pl['value']:g} "
                f"({pl['rows']:,} rows, {pl['rows'] / max(pl['neighbour_mean_count'], 1e-9):.0f}x the count "
                "of the values next to it): censored (top- or bottom-coded) values"
            )
    eval_issues = _evaluation_target_issues(ctx)
    if eval_issues and "constant" in eval_issues[0]:
        sev = CRITICAL
    issues += eval_issues
    if c.task in ("binary", "multiclass"):
        new = sorted(set(pd.unique(pd.Series(ctx.y("test")))) - set(pd.unique(y)), key=str)
        if new:
            issues.append(f"the evaluation set has class(es) never seen in training: {new[:5]}")
    corner = _corner_finding(zeros, n)
    if not issues:
        return corner
    alarm = Finding(
        "data.target_suspect",
        sev,
        "the target looks wrong: " + "; ".join(issues),
        evidence={
            "issues": issues,
            "distinct_values": nun,
            "rows": n,
            "missing_share": miss,
            "dtype": str(y.dtype),
            "piled_up_ends": piles,
        },
        impact=1.0,
        root_cause="the wrong column was given as target, or the join that fills it failed",
        fix="check the target column's name and definition, and the task (binary, multiclass, regression)",
    )
    return [alarm, corner] if corner else alarm


def _corner_finding(zeros: list[dict[str, Any]], n: int) -> Finding | None:
    """Info: a zero-inflated target (a pile exactly at 0 with nothing beyond it), with the advice."""
    if not zeros:
        return None
    return Finding(
        "data.target_suspect",
        INFO,
        _zero_inflated(zeros[0], n),
        evidence={"zero_inflated": zeros, "rows": n, "piled_up_ends": []},
        impact=0.0,
        root_cause="a zero-inflated outcome: whether it happens and how much are two processes, "
        "and one regression of the mean fits neither well",
        fix="model it in two parts (a hurdle: P(y > 0), then E[y | y > 0]), or with a Tweedie / "
        "zero-inflated loss; report the error on the zeros and on the positives apart; if the zeros "
        "are really a clipping of negative values, a Tobit (censored) model",
    )
