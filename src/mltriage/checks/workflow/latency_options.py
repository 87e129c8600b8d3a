"""The options that make a model faster, each measured, never guessed (`latency_options`):

- batching: the p99 at the target rate with dynamic batching up to each measured batch size (same
  outputs: no accuracy risk);
- threads: one thread against every core (same outputs);
- a smaller model of the same family: fewer trees or boosting iterations, a clone refitted on half
  of the rows with the target (not applicable without `--target`, or for a model without trees);
- a distilled surrogate: a shallow decision tree and a linear model fitted to the model's outputs
  on that half.

Each is timed on single rows as the model itself was; its accuracy change is measured on the other
half of the rows against the target: a smaller model against the same model refitted at full size
on the same half (the change the size alone makes), a surrogate against the model itself.
Ranking: options that meet the target first; then by the share of the p99 they remove minus
`loss_weight` times the headline metric they lose; options whose accuracy could not be measured
(no `--target`) after those that were.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...positive import negative_of, positive_scores
from ...stats.distill import refit, smaller_variants, surrogate
from ...stats.latency import batches, plan_reps, predictor, quiet, time_pairs
from ...stats.metrics import HEADLINE, headline
from ...stats.queueing import simulate
from .latency_state import LatencyState, batching_table, features, latency_state, threads_for

if TYPE_CHECKING:
    from ...context import Context


@dataclass
class Split:
    """Half of the labelled rows to fit on, the other half to measure accuracy on."""

    X_fit: pd.DataFrame
    y_fit: np.ndarray
    X_eval: pd.DataFrame
    y_eval: np.ndarray
    model_metric: float  # the model's own headline metric on the evaluation half


def latency_options(ctx: Context) -> dict[str, Any]:
    """The options table (cached on the run's Context)."""
    return ctx.cached("latency:options", lambda: _options(ctx))


def _options(ctx: Context) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    c = ctx.case
    st = latency_state(ctx)
    p = ctx.config.params("latency.target_missed")
    t0 = time.perf_counter()
    rows = [_row("current", "the model as it is", st.single.samples, ctx, accuracy=0.0, risk="none")]
    batching = batching_table(ctx, st)
    rows += _batching_row(batching, c.target_p99_ms)
    rows += _threads_row(ctx, st)
    split = _split(ctx)
    with threadpool_limits(limits=st.threads):  # the options are timed as the model was
        rows += _smaller_rows(ctx, st, split)
        rows += _surrogate_rows(ctx, st, split)
    _rank(rows, c.target_p99_ms, p.loss_weight)
    for r in rows:  # JSON has no infinity: an unservable rate is `servable: false`
        at_rate = r.get("p99_at_rate_ms")
        r["servable"] = (
            None
            if not c.qps or not r.get("applicable")
            else bool(at_rate is not None and np.isfinite(at_rate))
        )
        if at_rate is not None and not np.isfinite(at_rate):
            r["p99_at_rate_ms"] = None
    metric = HEADLINE.get(c.task)
    return {
        "rows": sorted(rows, key=lambda r: r["rank"]),
        "batching": batching,
        "metric": metric if split is not None else None,
        "fit_rows": len(split.X_fit) if split is not None else 0,
        "eval_rows": len(split.X_eval) if split is not None else 0,
        "seconds": time.perf_counter() - t0,
        "ranking": (
            "options meeting the target first, then by the share of the p99 removed minus "
            f"{p.loss_weight:g} x the {metric} lost; options whose accuracy was not measured last"
        ),
    }


def _p99_at_rate(ctx: Context, samples: np.ndarray) -> float | None:
    c = ctx.case
    if not c.qps:
        return None
    p = ctx.config.params("latency.target_missed")
    q = simulate({1: samples}, c.qps, workers=p.workers, requests=p.sim_requests, seed=ctx.config.seed)
    return q.p99_ms if q.stable else float("inf")


def _row(
    option: str,
    change: str,
    samples: np.ndarray,
    ctx: Context,
    *,
    current: np.ndarray | None = None,
    accuracy: float | None = None,
    risk: str = "",
    fidelity: float | None = None,
) -> dict[str, Any]:
    """An option's row. `current`: the model's own times measured in alternation with the
    option's (the reference its benefit is judged against; else the main measurement's)."""
    ms = np.asarray(samples) * 1000
    ref = None if current is None else _judged(ctx, np.asarray(current))
    return {
        "option": option,
        "change": change,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "p99_at_rate_ms": _p99_at_rate(ctx, np.asarray(samples)),
        "reference_ms": ref,
        "reference_p50_ms": None if current is None else float(np.percentile(np.asarray(current) * 1000, 50)),
        "accuracy_change": accuracy,
        "fidelity": fidelity,
        "risk": risk,
    }


def _judged(ctx: Context, samples: np.ndarray) -> float:
    at_rate = _p99_at_rate(ctx, samples)
    return at_rate if at_rate is not None else float(np.percentile(samples * 1000, 99))


def _batching_row(table: list[dict[str, Any]], target: float | None) -> list[dict[str, Any]]:
    if len(table) < 2:
        return []
    meets = [r for r in table if r["meets_target"]]
    stable = [r for r in table[1:] if r["stable"]]
    best = meets[0] if meets else min(stable, key=lambda r: r["p99_ms"]) if stable else table[-1]
    if best["max_batch"] == 1:
        return []
    return [
        {
            "option": "batching",
            "change": f"score up to {best['max_batch']} waiting requests per call"
            + (" (the smallest batch that meets the target)" if meets else ""),
            "p50_ms": best["p50_ms"],
            "p99_ms": None,
            "p99_at_rate_ms": best["p99_ms"] if best["stable"] else float("inf"),
            "reference_ms": None,
            "reference_p50_ms": None,
            "accuracy_change": 0.0,
            "fidelity": 1.0,
            "risk": "none (same outputs)",
        }
    ]


def _threads_row(ctx: Context, st: LatencyState) -> list[dict[str, Any]]:
    """One thread against every core, timed in alternation on the same rows (both sides set
    their thread count per call, a few microseconds each, so that neither pays more)."""
    from threadpoolctl import ThreadpoolController

    cores = threads_for(0)
    other = 1 if st.threads > 1 else cores
    if other == st.threads:
        return []
    p = ctx.config.params("latency.target_missed")
    controller = ThreadpoolController()
    fn = quiet(predictor(ctx.case.model.obj)[0])  # type: ignore[union-attr]

    def under(n: int) -> Any:
        def call(X: Any) -> Any:
            with controller.limit(limits=n):
                return fn(X)

        return st.clock.wrap(call)

    rows = batches(features(ctx), 1, seed=ctx.config.seed)
    reps = plan_reps(under(other), rows, p.budget_s / 2, min_reps=p.min_reps, max_reps=p.max_reps)
    reps = int(min(reps, max(p.min_reps, p.budget_s / 2 / max(st.single.p50 / 1000, 1e-6))))
    opt, cur = time_pairs(under(other), under(st.threads), rows, rows, reps, deadline_s=3 * p.budget_s)
    label = "1 thread" if other == 1 else f"{other} threads (every core)"
    change = f"{label} instead of {st.threads}"
    return [_row("threads", change, opt, ctx, current=cur, accuracy=0.0, risk="none (same outputs)")]


def _split(ctx: Context) -> Split | None:
    """Halves of the labelled rows (at most refit_rows each), or None without a target."""
    c = ctx.case
    frame = ctx.frame("train")
    if not c.target or c.target not in frame.columns:
        return None
    p = ctx.config.params("latency.target_missed")
    labelled = np.flatnonzero(frame[c.target].notna().to_numpy())
    if len(labelled) < 40:
        return None
    order = np.random.default_rng(ctx.config.seed).permutation(labelled)
    half = len(order) // 2
    fit_idx, eval_idx = np.sort(order[:half][: p.refit_rows]), np.sort(order[half:][: p.refit_rows])
    X = features(ctx)
    y = frame[c.target].to_numpy()
    split = Split(X.iloc[fit_idx], y[fit_idx], X.iloc[eval_idx], y[eval_idx], float("nan"))
    split.model_metric = _metric(ctx, ctx.case.model.obj, split)  # type: ignore[union-attr]
    return split


def _metric(ctx: Context, model: Any, split: Split) -> float:
    """The headline metric of a model's outputs on the evaluation half."""
    c = ctx.case
    X, y = split.X_eval, split.y_eval
    with_proba = c.task in ("binary", "multiclass") and hasattr(model, "predict_proba")
    if c.task == "binary" and with_proba:
        proba = np.asarray(model.predict_proba(X))
        classes = list(getattr(model, "classes_", c.classes or [0, 1]))
        score = positive_scores(proba, classes, c.positive)
        label = np.where(score >= ctx.threshold, c.positive, negative_of(classes, c.positive))
        return headline(c.task, y, score, label, positive=c.positive)[0]
    raw = np.asarray(model.predict(X))
    score = raw.astype(float) if c.task in ("regression", "ranking") else np.ones(len(raw))
    return headline(c.task, y, score, raw, positive=c.positive)[0]


def _smaller_rows(ctx: Context, st: LatencyState, split: Split | None) -> list[dict[str, Any]]:
    model = ctx.case.model.obj  # type: ignore[union-attr]
    variants = smaller_variants(model)
    if not variants:
        return [_na("smaller model", "not applicable: the model has no trees or boosting iterations to drop")]
    if split is None:
        return [_na("smaller model", "not measured: refitting needs the target (--target) in the rows")]
    try:
        full = _fit(ctx, model, {}, split)
    except Exception as exc:  # a model that cannot be cloned or refitted on these rows
        return [
            _na("smaller model", f"not measured: the refit failed ({type(exc).__name__}: {str(exc)[:120]})")
        ]
    full_metric = _metric(ctx, full, split)
    out = []
    for change, params in variants:
        small = _fit(ctx, model, params, split)
        samples, current = _time_paired(ctx, st, small)
        acc = _metric(ctx, small, split) - full_metric
        out.append(
            _row("smaller model", change, samples, ctx, current=current, accuracy=acc, risk=_risk(acc))
        )
    return out


def _surrogate_rows(ctx: Context, st: LatencyState, split: Split | None) -> list[dict[str, Any]]:
    c = ctx.case
    if c.task == "ranking":
        return [_na("surrogate", "not applicable to ranking models")]
    p = ctx.config.params("latency.target_missed")
    model = c.model.obj  # type: ignore[union-attr]
    X = features(ctx)
    fit_X = (
        split.X_fit if split is not None else X.iloc[ctx.sample_index("train", p.refit_rows, ctx.config.seed)]
    )
    outputs = _outputs(ctx, model, fit_X)
    out = []
    for kind, label in (("tree", f"decision tree of depth {p.surrogate_depth}"), ("linear", "linear model")):
        try:
            sur = surrogate(
                kind,
                fit_X,
                outputs,
                c.task,
                list(c.categorical),
                classes=_surrogate_classes(c),
                depth=p.surrogate_depth,
            )
        except Exception as exc:  # e.g. a column type the small encoders cannot read
            out.append(
                _na("surrogate", f"{label}: could not be fitted ({type(exc).__name__}: {str(exc)[:120]})")
            )
            continue
        samples, current = _time_paired(ctx, st, sur)
        fid = _fidelity(ctx, model, sur, split.X_eval if split is not None else fit_X)
        acc = _metric(ctx, sur, split) - split.model_metric if split is not None else None
        risk = _risk(acc) if acc is not None else "accuracy not measured (no --target)"
        out.append(
            _row(
                "surrogate",
                f"{label} fitted to the model's outputs",
                samples,
                ctx,
                accuracy=acc,
                risk=risk,
                fidelity=fid,
            )
        )
    return out


def _surrogate_classes(c: Any) -> list | None:
    """A surrogate's classes: binary [negative, positive] (it predicts P(positive) as its last column)."""
    if c.task == "binary" and c.classes:
        return [negative_of(c.classes, c.positive), c.positive]
    return c.classes


def _outputs(ctx: Context, model: Any, X: pd.DataFrame) -> np.ndarray:
    """What a surrogate learns: binary P(positive), regression the value, multiclass the class."""
    c = ctx.case
    if c.task == "binary" and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X))
        classes = list(getattr(model, "classes_", c.classes or [0, 1]))
        return positive_scores(proba, classes, c.positive)
    return np.asarray(model.predict(X))


def _fidelity(ctx: Context, model: Any, sur: Any, X: pd.DataFrame) -> float:
    """How closely the surrogate follows the model: R² of the scores (binary, regression), the
    share of equal classes (multiclass)."""
    a, b = _outputs(ctx, model, X), _outputs(ctx, sur, X)
    if ctx.case.task == "multiclass":
        return float(np.mean(a.astype(str) == b.astype(str)))
    a, b = a.astype(float), b.astype(float)
    sst = float(((a - a.mean()) ** 2).sum())
    return 1.0 - float(((a - b) ** 2).sum()) / sst if sst > 0 else float("nan")


def _time_paired(ctx: Context, st: LatencyState, option: Any) -> tuple[np.ndarray, np.ndarray]:
    """Single-row times of an option and of the model, call by call in alternation on the same
    rows (a burst of load on the machine hits both)."""
    p = ctx.config.params("latency.target_missed")
    model = ctx.case.model.obj  # type: ignore[union-attr]
    fn_opt = st.clock.wrap(quiet(predictor(option)[0]))
    fn_cur = st.clock.wrap(quiet(predictor(model)[0]))
    rows = batches(features(ctx), 1, seed=ctx.config.seed)
    per_call = max(st.single.p50 / 1000, 1e-6)
    reps = plan_reps(fn_opt, rows, p.budget_s / 2, min_reps=p.min_reps, max_reps=p.max_reps)
    reps = int(min(reps, max(p.min_reps, p.budget_s / 2 / per_call)))
    opt, cur = time_pairs(fn_opt, fn_cur, rows, rows, reps, deadline_s=3 * p.budget_s)
    return opt, cur


def _fit(ctx: Context, model: Any, params: dict[str, Any], split: Split) -> Any:
    """A refit with the run's threads for mltriage's own fits (one by default: on a busy machine
    OpenMP workers of a fit spin against each other)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=max(1, ctx.config.n_jobs)):
        return refit(model, params, split.X_fit, split.y_fit)


def _risk(acc: float) -> str:
    return "none measured" if acc >= 0 else f"loses {-acc:.3g} of the headline metric"


def _na(option: str, why: str) -> dict[str, Any]:
    return {
        "option": option,
        "change": why,
        "p50_ms": None,
        "p99_ms": None,
        "p99_at_rate_ms": None,
        "reference_ms": None,
        "reference_p50_ms": None,
        "accuracy_change": None,
        "fidelity": None,
        "risk": "",
        "applicable": False,
    }


def _rank(rows: list[dict[str, Any]], target: float | None, weight: float) -> None:
    """Benefit, score and rank of every option; the current model is rank 0. The benefit is the
    share of the latency removed: of the p99 at the target rate when there is one (from the
    queueing simulation on the whole distribution), else of the median single-row call against
    the model's own calls timed in alternation with the option's (a p99 over a few dozen calls on
    a shared machine is mostly noise; the median is not)."""
    current = rows[0]
    for r in rows:
        j = _judged_row(r)
        r.setdefault("applicable", j is not None)
        r["meets_target"] = bool(target is not None and j is not None and j <= target)
        r["benefit"] = _option_benefit(r, current)
        loss = max(0.0, -(r["accuracy_change"] or 0.0))
        r["score"] = None if r["benefit"] is None else r["benefit"] - weight * loss
    current["rank"] = 0
    order = sorted(
        range(1, len(rows)),
        key=lambda i: (
            not rows[i]["applicable"],
            not rows[i]["meets_target"],
            rows[i]["accuracy_change"] is None,
            -(rows[i]["score"] if rows[i]["score"] is not None else -np.inf),
        ),
    )
    for rank, i in enumerate(order, 1):
        rows[i]["rank"] = rank


def _option_benefit(r: dict[str, Any], current: dict[str, Any]) -> float | None:
    if r is current:
        return 0.0
    at_rate = r["p99_at_rate_ms"]
    ref_rate = r["reference_ms"] if r.get("reference_ms") is not None else current["p99_at_rate_ms"]
    if at_rate is not None and ref_rate is not None:
        gained = _benefit(at_rate, ref_rate)
        if gained != 0.0 or np.isfinite(at_rate):
            return gained
        # the rate stays out of reach either way: the single-row median says how much closer
    ref_p50 = r.get("reference_p50_ms") or current["p50_ms"]
    return _benefit(r["p50_ms"], ref_p50)


def _judged_row(r: dict[str, Any]) -> float | None:
    return r["p99_at_rate_ms"] if r["p99_at_rate_ms"] is not None else r["p99_ms"]


def _benefit(value: float | None, ref: float | None) -> float | None:
    """The share of the reference latency removed (1 when an unservable rate becomes servable)."""
    if value is None or ref is None:
        return None
    if not np.isfinite(ref):
        return 1.0 if np.isfinite(value) else 0.0
    if not np.isfinite(value):
        return -1.0
    return 1 - value / ref if ref > 0 else 0.0
