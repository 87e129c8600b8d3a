"""What is particular to a gate's report (`Report.details`): the verdict with its rollback
criteria and what improved, the per-metric and per-slice tables with the paired intervals, the
calibration, positive-rate and latency comparisons."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..report import Report


def gate_details(ctx: Context, report: Report) -> dict[str, Any]:
    from ..checks.workflow.gate import metric_rows, slice_rows
    from ..checks.workflow.gate_latency import LatencyPair
    from ..checks.workflow.gate_state import gate_state, greater_is_better

    alarms = report.alarms
    verdict: dict[str, Any] = {
        "decision": "rollback" if alarms else "promote",
        "rollback_criteria": [f"{f.code}: {f.title}" for f in alarms],
        "improved": [],
    }
    try:
        state = gate_state(ctx)
    except Exception:  # the failure is in the report already (every check that needed it failed)
        return {"verdict": verdict}
    po = ctx.config.params("gate.regression_overall")
    ps = ctx.config.params("gate.regression_slice")
    metrics = metric_rows(state, [state.metric, *state.decision], po.max_drop)
    gated = {state.metric, *(state.decision if po.decision_metrics else [])}
    for r in metrics:
        r["gated"] = r["metric"] in gated
    slices = slice_rows(state, ps.max_drop, ps.min_share)

    def better(r: dict[str, Any]) -> bool:
        return r["low"] > 0 if greater_is_better(r["metric"]) else r["high"] < 0

    verdict["improved"] = [
        f"{r['metric']} {r['difference']:+.3g} [{r['low']:+.3g}, {r['high']:+.3g}]"
        for r in metrics
        if better(r)
    ] + [
        f"{r['metric']} on {r['slice']} {r['difference']:+.3g} [{r['low']:+.3g}, {r['high']:+.3g}]"
        for r in slices
        if better(r)
    ]
    out: dict[str, Any] = {
        "verdict": verdict,
        "metric": state.metric,
        "threshold": ctx.threshold if state.task == "binary" else None,
        "rows": state.rows,
        "resamples": state.n_boot,
        "seed": state.seed,
        "metrics": metrics,
        "slices": slices,
    }
    if state.has("ece"):
        out["calibration"] = state.compare(
            "ece", ctx.config.params("gate.calibration_regression").max_increase
        ).to_dict()
    if state.has("positive_rate"):
        out["positive_rate"] = state.compare("positive_rate", 0.0).to_dict()
    pair = ctx.computed("gate:latency")
    if isinstance(pair, LatencyPair):
        out["latency"] = pair.summary(state.seed)
    return out
