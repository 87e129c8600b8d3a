"""`mltriage latency`: where the milliseconds go (latency.target_missed, latency.slow_step). The
measurements are in latency_state.py, the measured options in latency_options.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...findings import WARNING, Finding
from ...registry import Findings, Interval, Param, Params, check
from .latency_options import latency_options
from .latency_state import latency_state, timing_table

if TYPE_CHECKING:
    from ...context import Context

SECONDS = Interval(float, 0, None, closed="neither")
COUNT = Interval(int, 1, None)


MIN_BENEFIT = 0.05  # an option that removes less than 5% of the latency is within the noise


def _best(options: dict[str, Any]) -> dict[str, Any] | None:
    """The first-ranked option that removes a real share of the latency for less than it is worth
    in accuracy (`loss_weight`), or None."""
    rows = [
        r
        for r in options["rows"]
        if r.get("applicable")
        and r["option"] != "current"
        and (r.get("benefit") or 0) >= MIN_BENEFIT
        and (r.get("score") or 0) > 0  # worth more than the accuracy it loses
    ]
    return rows[0] if rows else None


def _option_text(r: dict[str, Any], current: dict[str, Any]) -> str:
    if r.get("servable") is False:
        speed = "the rate stays unservable"
    elif r["p99_at_rate_ms"] is not None:
        speed = f"p99 {r['p99_at_rate_ms']:.3g} ms at the rate"
    else:
        ref = r.get("reference_p50_ms") or current["p50_ms"]
        speed = f"median call {ref / r['p50_ms']:.2g}x faster, p99 {r['p99_ms']:.3g} ms"
    acc = r["accuracy_change"]
    acc_text = "accuracy not measured" if acc is None else f"headline metric {acc:+.3g}"
    return f"{r['option']}: {r['change']} ({speed}, {acc_text})"


def _fix(options: dict[str, Any]) -> str:
    best = _best(options)
    current = options["rows"][0]
    tail = " The options table ranks every measured option by latency saved against accuracy lost."
    if best is None:
        return (
            "No measured option makes it clearly faster: serve on faster hardware or with more workers."
            + tail
        )
    if best["meets_target"]:
        return "Best measured option: " + _option_text(best, current) + "." + tail
    return (
        "No single measured option meets the target; the most useful: "
        + _option_text(best, current)
        + ", then combine it with the next ones or add workers."
        + tail
    )


@check(
    "latency.target_missed",
    requires=("estimator", "latency_target"),
    budget_s=Param(
        1.0, SECONDS, "seconds of timed calls per batch size (repetitions fixed from it up front)"
    ),
    min_reps=Param(10, COUNT, "fewest timed calls per batch size, whatever the budget"),
    max_reps=Param(1000, COUNT, "most timed calls per batch size"),
    threads=Param(
        0,
        Interval(int, 0, None),
        "BLAS/OpenMP threads while timing (0: every core, as a server runs by default)",
    ),
    workers=Param(1, COUNT, "workers serving the requests in the queueing estimate (one process)"),
    sim_requests=Param(20_000, Interval(int, 1000, None), "requests simulated at the target rate"),
    refit_rows=Param(
        10_000,
        Interval(int, 20, None),
        "most rows a smaller model or a surrogate is fitted on, and evaluated on (three refits of a "
        "200-iteration boosted pipeline on 10,000 rows: about a minute on a busy 2-core machine)",
    ),
    surrogate_depth=Param(6, Interval(int, 1, 30), "depth of the distilled decision-tree surrogate"),
    loss_weight=Param(
        10.0,
        Interval(float, 0, None),
        "ranking: share of the p99 that one unit of headline metric lost costs (10: losing 0.01 "
        "ROC AUC must save 10% of the p99)",
    ),
)
def target_missed(ctx: Context, p: Params) -> Findings:
    """The model does not meet its p99 latency target at the target request rate on this machine.

    What it detects
        The model's per-call latency on single rows and batches (1, 8, 64, 512, 4096 rows, capped by
        the rows given), measured after a warm-up over as many calls as fit in `budget_s` per batch
        size (fixed from a quick calibration, between `min_reps` and `max_reps`), with `threads`
        threads. With `--qps`, the p99 of a request at that rate comes from a queueing simulation
        on the measured times (Poisson arrivals, `workers` worker, first come first served; see
        `stats.queueing`); without it, the single-row p99. It fails when that p99 exceeds
        `--target-p99-ms`. The evidence ranks the options measured on the same rows: batching,
        thread settings, a smaller model of the same family and distilled surrogates, each with its
        latency and its accuracy change on the rows (with `--target`).
    Why it matters
        A model that misses its latency budget times out in production: the caller falls back to a
        default, retries (more load) or waits, whatever the model's accuracy.
    How to confirm
        Time the model where it is served (same machine type, threads and batch policy); the
        per-batch-size table and the queueing estimate show which of the two misses the target:
        the model's own time, or the queue at that rate.
    Fix
        The best measured option (first in the options table), weighed against its accuracy change:
        batching and thread settings keep the outputs; a smaller model or a surrogate trades
        accuracy for time.
    """
    c = ctx.case
    st = latency_state(ctx)
    judged = st.judged_p99()
    assert c.target_p99_ms is not None
    stable = st.queue is None or st.queue.stable
    if stable and judged <= c.target_p99_ms:
        return None
    options = latency_options(ctx)
    where = f"at {c.qps:g} requests/s" if c.qps else "on single rows"
    if not stable:
        title = (
            f"The model cannot serve {c.qps:g} requests/s on this machine: one call takes "
            f"{st.single.p50:.3g} ms (p50), the queue grows without bound"
        )
    else:
        title = f"The p99 latency {where} is {judged:.3g} ms, above the target of {c.target_p99_ms:g} ms"
    return Finding(
        code="latency.target_missed",
        severity=WARNING,
        title=title,
        evidence={
            "target_p99_ms": c.target_p99_ms,
            "qps": c.qps,
            "p99_ms": judged if stable else None,
            "stable": stable,
            "queue": st.queue.to_dict() if st.queue is not None else None,
            "threads": st.threads,
            "timings": timing_table(st),
            "options": options["rows"],
        },
        root_cause=(
            f"{st.method} takes {st.single.p50:.3g} ms per single row (p99 {st.single.p99:.3g} ms)"
            + (f"; at {c.qps:g} requests/s the queue adds the rest" if c.qps and stable else "")
        ),
        fix=_fix(options),
        primary_table="options",
        impact=float(min(1.0, 1 - c.target_p99_ms / judged)) if judged > 0 and stable else 1.0,
    )


@check(
    "latency.slow_step",
    requires=("estimator",),
    max_share=Param(
        0.5,
        Interval(float, 0, 1, closed="neither"),
        "share of a single-row prediction's time from which one preprocessing step is the bottleneck",
    ),
    step_reps=Param(
        20, COUNT, "timed calls per step on a single row (a quarter of them on the largest batch)"
    ),
)
def slow_step(ctx: Context, p: Params) -> Findings:
    """One pipeline step takes most of the prediction time.

    What it detects
        Each fitted step of a scikit-learn Pipeline timed on its own (its transform on the output of
        the steps before it; the final estimator's prediction last; a ColumnTransformer's
        transformers on their columns) on a single row and on the largest batch. It fails when a
        preprocessing step, not the model itself, takes at least `max_share` of a single row's
        prediction time.
    Why it matters
        Per-call overhead of preprocessing (pandas column selection, one-hot encoding of one row,
        a Python function step) often dwarfs the model on single rows: shrinking the model would
        not help, changing that step would.
    How to confirm
        The step table in the evidence lists each step's milliseconds and share on one row and on
        the largest batch; time the step alone on a row.
    Fix
        Make the step cheaper per call: precompute it upstream, replace a Python function by a
        vectorised one, select columns by position on arrays, or batch requests so that its fixed
        cost is shared.
    """
    st = latency_state(ctx)
    rows = st.steps.get(1) or []
    top = [r for r in rows if not r["part"]]
    if len(top) < 2:
        return None
    slow = max(top[:-1], key=lambda r: r["share"])
    if slow["share"] < p.max_share:
        return None
    parts = [r for r in rows if r["part"] and r["step"].startswith(slow["step"] + "/")]
    worst = max(parts, key=lambda r: r["seconds"]) if parts else None
    inside = f" (mostly {worst['step']}, a {worst['kind']})" if worst else ""
    return Finding(
        code="latency.slow_step",
        severity=WARNING,
        title=(
            f"Step {slow['step']} ({slow['kind']}) takes {slow['share']:.0%} of a single-row prediction "
            f"({slow['ms']:.3g} ms of {sum(r['ms'] for r in top):.3g} ms){inside}"
        ),
        columns=[],
        evidence={
            "step": slow["step"],
            "kind": slow["kind"],
            "share": slow["share"],
            "steps": [{k: r[k] for k in ("step", "kind", "ms", "share", "part")} for r in rows],
        },
        root_cause=(
            f"the {slow['kind']} step costs more per call than the model itself: on one row its fixed "
            "per-call cost dominates"
        ),
        fix=(
            f"Make {slow['step']} cheaper per call (precompute it upstream, vectorise a Python "
            "function step, work on arrays rather than one-row frames), or batch requests so that its "
            "fixed cost is shared."
        ),
        primary_table="steps",
        impact=float(slow["share"]),
    )
