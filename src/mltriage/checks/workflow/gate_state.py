"""What the gate.* checks share, built once per run: both models' outputs on the same rows, the
slices to compare them on, and every statistic on the same bootstrap resamples (`gate_state`).

- The baseline is the case's model (`ctx.predictions("test")`); the candidate is scored by the same
  code on the same rows (a second Context over the same case with the candidate as its model), so
  that a logged column and a model file are read alike.
- Slices: the error-analysis slice search (`stats.slices.find_slices`) run three times on a random
  half of the rows (the discovery half): on the baseline's errors, on the candidate's errors and on
  where the candidate errs and the baseline does not. Those slices are then compared on the other
  half only (the test half), so that a slice chosen because the candidate looked bad there is not
  judged on the rows that chose it. Slices named in a file are compared on every row.
- The paired bootstrap (`stats.paired`): `n_boot` resamples of the rows (gate.regression_overall's
  parameter), drawn once from the run's seed; every metric of both models, overall and per slice,
  the ECE and the positive rate are evaluated on the same resamples.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...model import Predictions
from ...registry import NotApplicable
from ...stats import paired
from ...stats.paired import GREATER_IS_BETTER, Difference, Resampler, Stat
from ...stats.slices import describe_predicates, find_slices, slice_mask

if TYPE_CHECKING:
    from ...context import Context

SIDES = ("baseline", "candidate")
METRICS = {
    "binary": ("roc_auc", "accuracy", "balanced_accuracy", "precision", "recall", "f1", "log_loss", "brier"),
    "multiclass": ("accuracy", "balanced_accuracy", "log_loss"),
    "regression": ("r2", "mae", "rmse"),
}
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
# the metrics of the decisions at the threshold in use, compared besides the headline metric
DECISION = {
    "binary": ("accuracy", "precision", "recall", "f1"),
    "multiclass": ("accuracy", "balanced_accuracy"),
    "regression": ("mae", "rmse"),
}
SOURCES = {
    "file": "named in the slices file",
    "baseline": "found in the baseline's errors",
    "candidate": "found in the candidate's errors",
    "worse": "found where the candidate errs and the baseline does not",
}
MIN_CLASS_ROWS = 5  # fewest rows of each class in a slice for its ROC AUC


@dataclass
class Side:
    """One model's outputs on the evaluation rows, in the forms the metrics take."""

    pred: Predictions
    score: np.ndarray  # binary: P(positive) or score; multiclass: top probability; regression: value
    hit: np.ndarray | None  # classification: the decision at the threshold is right
    pred_pos: np.ndarray | None  # binary: predicted positive at the threshold
    proba: np.ndarray | None  # classification: (n, k) probabilities in the order of case.classes


@dataclass
class GateSlice:
    """A slice the models are compared on: its predicates, where it came from, its rows."""

    predicates: list[dict]
    source: str  # a key of SOURCES
    name: str
    rows: int  # rows of the slice among all evaluation rows
    share: float
    tested: np.ndarray = field(repr=False)  # the rows it is compared on (bool over all rows)
    metrics: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return describe_predicates(self.predicates)


@dataclass
class GateState:
    task: str
    metric: str  # the headline metric
    decision: list[str]  # decision metrics at the threshold in use (besides the headline)
    rows: int
    n_boot: int
    seed: int
    sides: dict[str, Side]
    slices: list[GateSlice]
    point: dict[str, float]  # statistic name -> value on the rows
    boot: dict[str, np.ndarray]  # statistic name -> (n_boot,) values on the resamples

    def compare(self, stat: str, margin: float) -> Difference:
        """candidate - baseline of `stat` ("METRIC" or "slice:i:METRIC", "ece", "positive_rate")."""
        b, c = f"baseline:{stat}", f"candidate:{stat}"
        return paired.compare(
            self.point[b],
            self.point[c],
            self.boot[b],
            self.boot[c],
            greater_is_better=greater_is_better(stat.rsplit(":", 1)[-1]),
            margin=margin,
        )

    def has(self, stat: str) -> bool:
        return f"baseline:{stat}" in self.point and f"candidate:{stat}" in self.point


def greater_is_better(metric: str) -> bool:
    return GREATER_IS_BETTER.get(metric, True) if metric != "ece" else False


def margin_for(metric: str, max_drop: float, baseline_value: float) -> float:
    """The tolerated drop in a metric's units: `max_drop` itself for metrics bounded by 1, a share
    of the baseline's value for unbounded error metrics (log loss, MAE, RMSE)."""
    if metric in paired.BOUNDED:
        return max_drop
    return max_drop * abs(baseline_value) if np.isfinite(baseline_value) else max_drop


# ------------------------------------------------------------------------------ the state


def gate_state(ctx: Context) -> GateState:
    """The shared state of the gate.* checks (cached on the run's Context)."""
    return ctx.cached("gate:state", lambda: _build(ctx))


def _build(ctx: Context) -> GateState:
    c = ctx.case
    if c.candidate is None:
        raise NotApplicable("no candidate model (--candidate or --candidate-column) was given")
    if c.task not in METRICS:
        raise NotApplicable(f"the gate compares binary, multiclass and regression models, not {c.task}")
    overall = ctx.config.params("gate.regression_overall")
    y = ctx.y("test")
    sides = {
        "baseline": _side(ctx, ctx.predictions("test"), y),
        "candidate": _side(ctx, candidate(ctx), y),
    }
    metric = c.metric or DEFAULT_METRIC[c.task]
    decision = [m for m in DECISION[c.task] if m != metric]
    slices = _slices(ctx, sides, y)
    stats = _stats(ctx, sides, y, [metric, *decision], slices)
    for m in [metric, *decision]:
        if f"baseline:{m}" not in stats:
            ctx.note(f"{m} is not compared: one of the models gives no probabilities")
    res = Resampler(len(y), int(overall.n_boot), seed=ctx.config.seed)
    return GateState(
        task=c.task,
        metric=metric,
        decision=decision,
        rows=len(y),
        n_boot=int(overall.n_boot),
        seed=ctx.config.seed,
        sides=sides,
        slices=slices,
        point=res.point(stats),
        boot=res.run(stats),
    )


def candidate(ctx: Context) -> Predictions:
    """The candidate's outputs on the evaluation rows, computed as the baseline's are (cached)."""
    return ctx.cached("gate:candidate", lambda: _candidate(ctx))


def _candidate(ctx: Context) -> Predictions:
    from ...context import Context as _Context

    c = ctx.case
    cand = c.candidate
    assert cand is not None
    features = cand.feature_names or [f for f in c.features if f != cand.prediction_column]
    case = dataclasses.replace(
        c, model=cand, features=features, prediction_column=cand.prediction_column, notes=[]
    )
    return _Context(case, ctx.config).predictions("test")


def _side(ctx: Context, pred: Predictions, y: np.ndarray) -> Side:
    c = ctx.case
    if c.task == "regression":
        return Side(pred, np.asarray(pred.score, dtype=float), None, None, None)
    hit = _same(pred.label, y)
    proba = _aligned_proba(pred, c.classes or [])
    if c.task == "binary":
        pos = _same(pred.label, np.full(len(y), c.positive, dtype=object))
        return Side(pred, np.asarray(pred.score, dtype=float), hit, pos, proba)
    score = proba.max(axis=1) if proba is not None else np.asarray(pred.score, dtype=float)
    return Side(pred, score, hit, None, proba)


def _same(a: Any, b: Any) -> np.ndarray:
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    try:
        return np.asarray(a == b, dtype=bool)
    except (TypeError, ValueError):  # pragma: no cover - mixed label types
        return np.array([str(x) == str(z) for x, z in zip(a, b)], dtype=bool)


def _aligned_proba(pred: Predictions, classes: list) -> np.ndarray | None:
    """The probabilities with columns in the order of the case's classes (None without them)."""
    if not pred.has_proba or pred.proba is None or pred.classes is None:
        return None
    own = [str(k) for k in pred.classes]
    if sorted(own) != sorted(str(k) for k in classes):
        return None
    return np.asarray(pred.proba, dtype=float)[:, [own.index(str(k)) for k in classes]]


# ------------------------------------------------------------------------------ statistics


def metric_stat(
    task: str, metric: str, side: Side, y: np.ndarray, classes: list, positive: Any
) -> Stat | None:
    """The weighted statistic of one metric of one model (None when the model's outputs lack
    what the metric needs, e.g. log loss without probabilities)."""
    if task == "regression":
        yv = np.asarray(y, dtype=float)
        err = side.score - yv
        return {
            "r2": lambda: paired.r2_of(yv, side.score),
            "mae": lambda: paired.mean_of(np.abs(err)),
            "rmse": lambda: paired.rmse_of(err),
        }[metric]()
    assert side.hit is not None
    if metric == "accuracy":
        return paired.mean_of(side.hit)
    y_codes = _codes(y, classes)
    if metric == "balanced_accuracy":
        return paired.balanced_accuracy_of(y_codes, side.hit, len(classes))
    if metric == "log_loss":
        if side.proba is None:
            return None
        p_true = np.clip(side.proba[np.arange(len(y)), y_codes], 1e-15, 1.0)
        return paired.mean_of(-np.log(p_true))
    true_pos = _same(y, np.full(len(y), positive, dtype=object))
    return _binary_stat(metric, side, true_pos)


def _binary_stat(metric: str, side: Side, true_pos: np.ndarray) -> Stat | None:
    assert side.pred_pos is not None
    if metric == "roc_auc":
        return paired.auc_of(true_pos, side.score)
    if metric == "brier":
        if not side.pred.has_proba:
            return None
        return paired.mean_of((side.score - true_pos) ** 2)
    return {"precision": paired.precision_of, "recall": paired.recall_of, "f1": paired.f1_of}[metric](
        side.pred_pos, true_pos
    )


def _codes(y: np.ndarray, classes: list) -> np.ndarray:
    index = {str(k): i for i, k in enumerate(classes)}
    return np.array([index.get(str(v), 0) for v in y], dtype=np.int64)


def calibration_inputs(
    task: str, side: Side, y: np.ndarray, positive: Any
) -> tuple[np.ndarray, np.ndarray] | None:
    """(confidence, hit) of a model's probabilities: binary P(positive) against the label,
    multiclass the top probability against being right (None without probabilities)."""
    if task == "binary" and side.pred.has_proba:
        return side.score, _same(y, np.full(len(y), positive, dtype=object)).astype(float)
    if task == "multiclass" and side.proba is not None and side.hit is not None:
        return side.proba.max(axis=1), side.hit.astype(float)
    return None


def _stats(
    ctx: Context, sides: dict[str, Side], y: np.ndarray, metrics: list[str], slices: list[GateSlice]
) -> dict[str, Stat]:
    c = ctx.case
    classes, task = list(c.classes or []), c.task
    out: dict[str, Stat] = {}
    for metric in metrics:
        built = {s: metric_stat(task, metric, sides[s], y, classes, c.positive) for s in SIDES}
        if all(v is not None for v in built.values()):
            out.update({f"{s}:{metric}": v for s, v in built.items() if v is not None})
    cal = {s: calibration_inputs(task, sides[s], y, c.positive) for s in SIDES}
    for s, inputs in cal.items():
        if all(v is not None for v in cal.values()) and inputs is not None:
            out[f"{s}:ece"] = paired.ece_of(*inputs)
    if task == "binary":
        for s in SIDES:
            pos = sides[s].pred_pos
            assert pos is not None
            out[f"{s}:positive_rate"] = paired.mean_of(pos)
    for i, sl in enumerate(slices):
        for metric in sl.metrics:
            for s in SIDES:
                fn = metric_stat(
                    task, metric, _restrict(sides[s], sl.tested), y[sl.tested], classes, c.positive
                )
                if fn is not None:
                    out[f"{s}:slice:{i}:{metric}"] = paired.on_rows(fn, sl.tested)
    return out


def _restrict(side: Side, rows: np.ndarray) -> Side:
    def cut(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[rows]

    pred = dataclasses.replace(side.pred, score=side.pred.score[rows], label=side.pred.label[rows])
    return Side(pred, side.score[rows], cut(side.hit), cut(side.pred_pos), cut(side.proba))


# ------------------------------------------------------------------------------ slices


def _slices(ctx: Context, sides: dict[str, Side], y: np.ndarray) -> list[GateSlice]:
    """The named slices (compared on every row), then the slices the search finds on the discovery
    half (compared on the test half), without duplicates."""
    c = ctx.case
    p = ctx.config.params("gate.regression_slice")
    frame = ctx.frame("test")
    n = len(frame)
    out: dict[str, GateSlice] = {}
    everything = np.ones(n, dtype=bool)
    for named in c.gate_slices or []:
        mask = slice_mask(frame, named["slice"])
        sl = _gate_slice(named["slice"], "file", named.get("name") or "", mask, everything & mask, n)
        out.setdefault(sl.key, sl)
    if p.search and n >= 8 * p.min_rows:
        discovery = np.random.default_rng(ctx.config.seed).random(n) < 0.5
        for source, error in _search_errors(c.task, sides, y).items():
            for predicates in _search(ctx, frame, error, discovery, p):
                mask = slice_mask(frame, predicates)
                sl = _gate_slice(predicates, source, "", mask, mask & ~discovery, n)
                out.setdefault(sl.key, sl)
        ctx.note(
            "slices found by the search are compared on the half of the rows the search did not see "
            f"({int((~discovery).sum()):,} rows); named slices on every row"
        )
    elif p.search:
        ctx.note(f"too few rows ({n}) to search for slices: only named slices are compared")
    result = list(out.values())
    for sl in result:
        sl.metrics = _slice_metrics(
            c.task, ctx.case.metric or DEFAULT_METRIC[c.task], y[sl.tested], c.positive
        )
    return result


def _gate_slice(
    predicates: list[dict], source: str, name: str, mask: np.ndarray, tested: np.ndarray, n: int
) -> GateSlice:
    rows = int(mask.sum())
    return GateSlice(
        predicates=[dict(q) for q in predicates],
        source=source,
        name=name or describe_predicates(predicates),
        rows=rows,
        share=rows / max(n, 1),
        tested=tested,
    )


def _search_errors(task: str, sides: dict[str, Side], y: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row errors the search looks for slices in: each model's, and the candidate's excess."""
    b, cnd = sides["baseline"], sides["candidate"]
    if task == "regression":
        yv = np.asarray(y, dtype=float)
        eb, ec = np.abs(b.score - yv), np.abs(cnd.score - yv)
        return {"baseline": eb, "candidate": ec, "worse": np.maximum(ec - eb, 0.0)}
    assert b.hit is not None and cnd.hit is not None
    wb, wc = (~b.hit).astype(float), (~cnd.hit).astype(float)
    return {"baseline": wb, "candidate": wc, "worse": wc * (1 - wb)}


def _search(
    ctx: Context, frame: pd.DataFrame, error: np.ndarray, discovery: np.ndarray, p: Any
) -> list[list[dict]]:
    c = ctx.case
    err = np.where(np.isfinite(error), error, np.nan)
    drop = {c.target, c.prediction_column, c.candidate.prediction_column if c.candidate else None}
    columns = [col for col in frame.columns if col not in drop]
    idx = np.flatnonzero(discovery)
    found = find_slices(
        frame.iloc[idx].reset_index(drop=True),
        err[idx],
        columns,
        categorical=set(c.categorical or []),
        max_order=p.max_order,
        min_support=p.min_share,
        top_k=p.top_k,
        alpha=p.search_alpha,
        seed=ctx.config.seed,
        min_rows=p.min_rows,
    )
    return [s.predicates for s in found]


def _slice_metrics(task: str, headline: str, y: np.ndarray, positive: Any) -> list[str]:
    """The metrics a slice is compared on: the headline metric where it is defined on the slice's
    rows (ROC AUC needs both classes; R² is not compared within slices), and the error of the
    decisions (accuracy; MAE for regression)."""
    error = "mae" if task == "regression" else "accuracy"
    out = []
    if headline == "roc_auc":
        n_pos = int(_same(y, np.full(len(y), positive, dtype=object)).sum())
        if min(n_pos, len(y) - n_pos) >= MIN_CLASS_ROWS:
            out.append(headline)
    elif headline != "r2":
        out.append(headline)
    if error not in out:
        out.append(error)
    return out
