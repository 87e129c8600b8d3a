"""production.data_drift per time window of the batch: a change that starts inside the batch is
not averaged away (stats/batch_windows.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...findings import CRITICAL, WARNING, Finding
from ...registry import Params
from ...stats.batch_windows import WindowDrift, time_windows, window_drift
from ...stats.production import ProductionInputs

if TYPE_CHECKING:
    from ...context import Context


def batch_window_drift(ctx: Context, inp: ProductionInputs, p: Params, skip: set[str]) -> WindowDrift | None:
    """The batch's windows against the reference, when the batch has a time column and rows for
    two windows of p.window_min_rows; None otherwise."""
    tcol = ctx.case.time_column
    cur = inp.current
    if not tcol or inp.current_is_profile or tcol not in cur.columns:
        return None
    windows = time_windows(cur[tcol], int(p.window_min_rows))
    if len(windows) < 2:
        if len(cur) >= 2:
            ctx.note(
                f"the batch was not judged per time window: fewer than {2 * int(p.window_min_rows)} "
                f"rows with a readable {tcol!r} (window_min_rows)"
            )
        return None
    feats = [c for c in inp.common if c not in skip]
    cfg = inp.report.config
    return ctx.cached(
        "production:windows",
        lambda: window_drift(inp.ref, cur, windows, feats, inp.categorical, cfg),
    )


def apply_windows(
    findings: list[Finding], wd: WindowDrift, inp: ProductionInputs, p: Params, retrain: str
) -> list[Finding]:
    """Name where each drift starts on the whole-batch finding, or report the drift that only the
    later windows show (a change in the second half of the batch)."""
    starts = {c: i for c, i in wd.starts.items()}
    if not starts:
        if findings:
            findings[0].evidence["windows"] = wd.to_dict()
        return findings
    labels = {c: wd.windows[i].label for c, i in starts.items()}
    late = {c: i for c, i in starts.items() if i > 0}
    if findings:
        f = findings[0]
        f.evidence["windows"] = wd.to_dict()
        if late:
            f.title += "; " + ", ".join(f"{c} drifts from {labels[c]}" for c in list(late)[:3])
        new = [c for c in starts if c not in f.columns]
        f.columns += new
        return findings
    last = wd.table[-1]["features"]
    cols = sorted(starts, key=lambda c: (starts[c], -last.get(c, {}).get("psi", 0.0)))
    imp = inp.importance or {}
    crit = any(
        last.get(c, {}).get("psi", 0.0) >= inp.report.config.psi_critical
        and imp.get(c, 1.0) >= float(p.important_share)
        for c in cols
    )
    parts = []
    for c in cols[:4]:
        first = wd.table[starts[c]]["features"].get(c, {})
        whole = inp.report.features.get(c)
        parts.append(
            f"{c} from {labels[c]} (PSI {first.get('psi', 0.0):.2f} there"
            + (f", {whole.psi:.2f} over the whole batch" if whole is not None else "")
            + ")"
        )
    ev: dict[str, Any] = {"windows": wd.to_dict(), "drifted": cols}
    return [
        Finding(
            "production.data_drift",
            CRITICAL if crit else WARNING,
            f"{len(cols)} feature(s) drifted inside the production batch, hidden in its average: "
            + ", ".join(parts),
            columns=cols,
            evidence=ev,
            root_cause="the population changed part-way through the batch (a new source, a release, "
            "a season boundary) or an upstream change of how a feature is computed took effect then",
            fix="look at what changed at the start of the window named. " + retrain,
            impact=min(1.0, max(last.get(c, {}).get("psi", 0.0) for c in cols) / 2),
        )
    ]
