"""Alert rules over the windows' metrics: smoothing, streaks, hysteresis, escalation, resolution,
and what each alert says (cause, retrain trigger).

Alerts are a function of the series of closed windows, replayed from the first window on every
`check` (`episodes`): a rule opens an alert when its smoothed metric is at or above the threshold
for `windows` judged windows in a row (a window with fewer rows than the rule's minimum sample is
not judged and changes nothing); the alert stays open while the metric stays above
threshold * clear_ratio (hysteresis) and resolves after clear_windows judged windows below it; a
warning still open after escalation.after windows escalates to critical. Because the replay is
deterministic, an alert keeps its id (code and first window) from one check to the next, and only
its new events (opened, escalated, resolved) are routed: a repeated alert is never re-sent. The
episodes of rules sharing a code whose spans overlap are one alert (`group_by_code`).

The cause an alert names (`cause`), from the production rung's findings on its window and the
window's metrics: "pipeline" when the rung finds train/serving skew or a schema change (or the
rule is about the schema): a bug, do not retrain; "concept" when labels show a drop that the
inputs do not explain (no important input moved, or the realised AUC falls below the CBPE
estimate, which follows covariate shift); "drift" for drift on an important feature;
"drift_minor" for drift on features the model barely uses; "ood"; "estimated".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import MonitorConfig, Rule

# what the columns of an alert are, per metric
_COLUMNS = {
    "feature_psi": "top_features",
    "important_feature_psi": "top_important",
    "missing_share": "missing_columns",
    "schema_share": "schema_columns",
    "ood_share": "ood_columns",
}

PIPELINE_CODES = ("pipeline.train_serving_skew", "production.schema_change")


def smooth(values: np.ndarray, method: str, alpha: float, size: int) -> np.ndarray:
    """EWMA (weight alpha on the newest), rolling mean of the last `size` judged values, or none;
    NaN (a window not judged) stays NaN and does not move the smoother."""
    out = np.full(len(values), np.nan)
    if method == "none":
        return values.astype(np.float64)
    state = np.nan
    recent: list[float] = []
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        if method == "ewma":
            state = v if not np.isfinite(state) else alpha * v + (1 - alpha) * state
            out[i] = state
        else:
            recent = (recent + [float(v)])[-size:]
            out[i] = float(np.mean(recent))
    return out


@dataclass
class Episode:
    """One alert of one rule: from the first window of its streak to its resolution."""

    rule: Rule
    first: int  # index of the first window of the streak
    opened: int  # index of the window where it opened
    last: int  # last window at or above the clear level
    peak: float
    value: float  # smoothed value at opening
    escalated: int | None = None
    resolved: int | None = None
    windows: int = 1  # judged windows while open

    @property
    def status(self) -> str:
        return (
            "resolved" if self.resolved is not None else "escalated" if self.escalated is not None else "open"
        )

    @property
    def severity(self) -> str:
        return "critical" if self.escalated is not None else self.rule.severity


def metric_series(rule: Rule, metrics: Sequence[Mapping[str, Any]], rows: Sequence[int]) -> np.ndarray:
    """The rule's metric per window, NaN where the window is not judged (too few rows or
    labelled rows, or the metric is unknown)."""
    out = np.full(len(metrics), np.nan)
    for i, (m, n) in enumerate(zip(metrics, rows)):
        v = m.get(rule.metric)
        sample = (
            int((m.get("realised") or {}).get("labelled", 0)) if rule.metric == "realised_drop" else int(n)
        )
        if v is None or sample < rule.min_rows:
            continue
        out[i] = float(v)
    return out


def episodes(rule: Rule, values: np.ndarray, cfg: MonitorConfig) -> list[Episode]:
    """Replay one rule over the smoothed series (see the module docstring)."""
    thr = float(rule.threshold)
    clear_at = thr * float(cfg.hysteresis.get("clear_ratio", 0.8))
    clear_n = int(cfg.hysteresis.get("clear_windows", 2))
    after = int(cfg.escalation.get("after", 3))
    out: list[Episode] = []
    cur: Episode | None = None
    streak: list[int] = []
    below = 0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        if cur is None:
            streak = streak + [i] if v >= thr else []
            if len(streak) >= rule.windows:
                cur = Episode(rule, first=streak[0], opened=i, last=i, peak=float(v), value=float(v))
                out.append(cur)
                streak, below = [], 0
            continue
        if v >= clear_at:
            below = 0
            cur.last, cur.peak = i, max(cur.peak, float(v))
            cur.windows += 1
            if cur.escalated is None and rule.severity == "warning" and cur.windows > after:
                cur.escalated = i
        else:
            below += 1
            if below >= clear_n:
                cur.resolved = i
                cur = None
    return out


@dataclass
class Group:
    """The episodes of rules sharing a code whose spans overlap: one alert."""

    episodes: list[Episode]

    @property
    def primary(self) -> Episode:
        """The most severe episode (then the earliest): the one the alert is described by."""
        rank = {"warning": 1, "critical": 2}
        return sorted(self.episodes, key=lambda e: (-rank[e.severity], e.opened))[0]

    @property
    def first(self) -> int:
        return min(e.first for e in self.episodes)

    @property
    def opened(self) -> int:
        return min(e.opened for e in self.episodes)

    @property
    def last(self) -> int:
        return max(e.last for e in self.episodes)

    @property
    def resolved(self) -> int | None:
        r = [e.resolved for e in self.episodes]
        return None if any(x is None for x in r) else max(x for x in r if x is not None)

    @property
    def escalated(self) -> int | None:
        r = [e.escalated for e in self.episodes if e.escalated is not None]
        return min(r) if r else None

    @property
    def status(self) -> str:
        return (
            "resolved" if self.resolved is not None else "escalated" if self.escalated is not None else "open"
        )

    @property
    def severity(self) -> str:
        return "critical" if any(e.severity == "critical" for e in self.episodes) else "warning"

    @property
    def windows(self) -> int:
        return max(e.windows for e in self.episodes)


def group_by_code(eps: Sequence[Episode]) -> list[Group]:
    """Episodes of one code whose spans (first window to resolution) overlap form one alert."""
    by: dict[str, list[Episode]] = {}
    for e in eps:
        by.setdefault(e.rule.code, []).append(e)
    out: list[Group] = []
    for es in by.values():
        es.sort(key=lambda e: e.first)
        cur, end = [es[0]], _end(es[0])
        for e in es[1:]:
            if e.first <= end:
                cur.append(e)
                end = max(end, _end(e))
            else:
                out.append(Group(cur))
                cur, end = [e], _end(e)
        out.append(Group(cur))
    return sorted(out, key=lambda g: (g.first, g.primary.rule.code))


def _end(e: Episode) -> int:
    return e.resolved if e.resolved is not None else 1 << 60


# ---------------------------------------------------------------------------------------------
# what an alert says


@dataclass
class Diagnosis:
    """The production rung's findings on an alert's window (from its Report)."""

    findings: list[dict[str, Any]] = field(default_factory=list)

    def codes(self) -> set[str]:
        return {f["code"] for f in self.findings if f.get("severity") in ("warning", "critical")}

    def finding(self, code: str) -> dict[str, Any] | None:
        for f in self.findings:
            if f["code"] == code and f.get("severity") in ("warning", "critical"):
                return f
        return None


def cause(
    code: str, m: Mapping[str, Any], diag: Diagnosis, important: Sequence[str], retrain_psi: float
) -> tuple[str, str]:
    """(kind, sentence): pipeline (skew or schema change), concept, drift, drift_minor, ood,
    estimated (see the module docstring)."""
    pipe = [c for c in PIPELINE_CODES if c in diag.codes()]
    if code == "production.schema_change" or pipe:
        f = diag.finding(pipe[0]) if pipe else None
        cols = ", ".join((f or {}).get("columns", [])[:3]) or ", ".join(m.get("schema_columns", [])[:3])
        where = f" ({cols})" if cols else ""
        return (
            "pipeline",
            f"train/serving skew or schema change{where}: a pipeline bug, not a change of population. "
            "Fix the pipeline; do not retrain (a model retrained on broken inputs hides the bug).",
        )
    drifted = list(m.get("top_features") or [])
    imp = [f for f in drifted if f in important]
    if code == "production.concept_drift":
        gap, fall = float(m.get("concept_gap") or 0.0), float(m.get("realised_drop") or 0.0)
        if float(m.get("important_feature_psi") or 0.0) < retrain_psi or gap >= max(0.02, 0.5 * fall):
            return (
                "concept",
                "concept drift: the labels show a performance drop that the inputs do not explain (they "
                "are stable, or the estimate from the model's confidence on them stays higher), so the "
                "relation between inputs and label changed. Retrain on recent labelled data.",
            )
        return (
            "drift",
            f"covariate shift with a realised drop: {', '.join(imp[:3]) or 'inputs'} moved and performance fell. "
            "Retrain on recent data that includes the new population.",
        )
    if code == "production.out_of_distribution":
        cols = ", ".join(m.get("ood_columns", [])[:3])
        return (
            "ood",
            f"rows far outside the training range ({cols}): entry or unit errors upstream (fix them, do not "
            "retrain on them) or a genuinely new segment (collect labels for it).",
        )
    if imp:
        return (
            "drift",
            f"data drift on an important feature: {', '.join(imp[:3])} (PSI {m['psi'].get(imp[0], 0):.2f}). "
            "A change of population the model relies on.",
        )
    if drifted:
        return (
            "drift_minor",
            f"data drift on features the model barely uses ({', '.join(drifted[:3])}): keep monitoring.",
        )
    if code == "production.estimated_performance_drop":
        return (
            "estimated",
            "the population moved to where the model is unsure (estimated from its confidence; confirm "
            "when labels arrive).",
        )
    return ("drift", "the model's outputs moved; no single input explains it (see the window's report).")


def retrain_trigger(kind: str, m: Mapping[str, Any], cfg: MonitorConfig) -> tuple[bool, str]:
    """Whether the retrain trigger is met on a window's metrics, and why."""
    auc_drop, psi_max = float(cfg.retrain.get("auc_drop", 0.05)), float(cfg.retrain.get("psi", 0.25))
    if kind == "pipeline":
        return False, "not while the inputs are broken: fix the pipeline first"
    why = []
    if float(m.get("realised_drop") or 0.0) > auc_drop:
        why.append(
            f"realised {(m.get('realised') or {}).get('metric', 'AUC')} down {m['realised_drop']:.3f} > {auc_drop}"
        )
    if float(m.get("estimated_drop") or 0.0) > auc_drop:
        why.append(f"estimated AUC down {m['estimated_drop']:.3f} > {auc_drop}")
    if float(m.get("important_feature_psi") or 0.0) > psi_max:
        why.append(f"PSI {m['important_feature_psi']:.2f} > {psi_max} on an important feature")
    if why:
        return True, "; ".join(why)
    return False, f"not met (needs an AUC drop > {auc_drop} or PSI > {psi_max} on an important feature)"


def columns_of(rule: Rule, m: Mapping[str, Any], important: Sequence[str]) -> list[str]:
    key = _COLUMNS.get(rule.metric)
    if key == "top_important":
        return [f for f in m.get("top_features", []) if f in important]
    return list(m.get(key, [])) if key else []


def default_title(rule: Rule, value: float, start: str, n: int) -> str:
    return (
        f"{rule.metric.replace('_', ' ')} {value:.3g} at or above {rule.threshold:g} "
        f"for {n} window(s) from {start}"
    )
