"""`monitor check`: every closed window evaluated, alerts replayed, routed and explained.

1. Metrics (monitor.metrics) for each closed window whose summary is new or changed: drift per
   feature and of the scores, missing/schema/OOD shares, volume, latency, CBPE estimate; the
   realised performance of each window whose labelled count changed (labels up to `as_of`).
2. Alerts (monitor.alerts): each rule's smoothed series replayed over all closed windows.
3. A new alert runs the production rung (the registered checks, through the one runner, as
   `mltriage drift` does) on its opening window: the Report is stored with the window, and its
   findings give the alert's title, root cause, fix and likely cause; the retrain trigger is
   judged on the window's metrics.
4. New events (opened, escalated, resolved) go to the routes (monitor.routes).
5. Sampling: rows of alerting windows kept, errors kept once labelled, pending rows past
   sampling.hold pruned to the stratified sample; retention applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from ..findings import Severity
from . import metrics as M
from . import performance as P
from .alerts import (
    Diagnosis,
    Episode,
    Group,
    cause,
    columns_of,
    default_title,
    episodes,
    group_by_code,
    metric_series,
    retrain_trigger,
    smooth,
)
from .config import parse_duration
from .reference import Loaded, load, reference_rows
from .routes import send
from .sampling import error_ids, stratified
from .store import Store, iso, now, to_time

Echo = Callable[[str], None]


@dataclass
class CheckResult:
    windows: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"windows": self.windows, "alerts": self.alerts}

    def exit_code(self, fail_on: str) -> int:
        if fail_on == "never":
            return 0
        floor = Severity(fail_on).rank
        live = [a for a in self.alerts if a["status"] in ("open", "escalated")]
        return 1 if any(Severity(a["severity"]).rank >= floor for a in live) else 0


# ---------------------------------------------------------------------------------------------
# 1. metrics


def _compute_new(store: Store, L: Loaded, starts: list[datetime]) -> dict[datetime, dict[str, Any]]:
    """Drift, shares and the CBPE estimate of windows whose summary is new or changed."""
    if not starts:
        return {}
    ref = L.reference
    listed = store.windows_at(starts)  # the stored summaries, decoded for all windows at once
    drift = M.drift_metrics(ref, listed)
    shares = M.share_metrics_many(ref, listed)
    cal = None
    if ref.task == "binary" and ref.scores is not None and ref.labels is not None and len(ref.scores) > 10:
        cal = P.Calibrator(ref.scores, ref.labels)
    scores = store.scores_by_window(starts) if cal is not None else {}
    est = P.estimated_many(
        ref, cal, {s: scores.get(s, np.empty(0)) for s in starts}, P.reference_performance(ref)
    )
    out: dict[datetime, dict[str, Any]] = {}
    for s, d, sh in zip(starts, drift, shares):
        m = {**d, **sh}
        m["estimated"] = est.get(s)
        m["estimated_drop"] = P.drop(m["estimated"])
        out[s] = m
    return out


def _realised(
    store: Store, L: Loaded, starts: list[datetime], rows: Mapping[datetime, int], as_of: datetime
) -> dict[datetime, dict[str, Any] | None]:
    if not starts:
        return {}
    lab = store.labelled_at(starts, as_of)
    refp = P.reference_performance(L.reference) or {}
    out: dict[datetime, dict[str, Any] | None] = {}
    groups = dict(tuple(lab.groupby("window_start"))) if not lab.empty else {}
    for s in starts:
        g = groups.get(pd.Timestamp(s))
        out[s] = P.realised_performance(L.reference, g, rows[s], refp) if g is not None else None
    return out


def update_metrics(store: Store, L: Loaded, as_of: datetime) -> tuple[list[dict[str, Any]], set[datetime]]:
    """The metrics of every closed window (computing what changed); returns the windows (oldest
    first, with window_start/window_end/rows/metrics) and the starts whose labels changed."""
    wins = [w for w in store.window_rows() if w["window_end"] <= as_of]
    todo = [w["window_start"] for w in wins if w["checked_at"] is None]
    new = _compute_new(store, L, todo)
    counts = store.label_counts(as_of)
    relabel = [w["window_start"] for w in wins if counts.get(w["window_start"], 0) != w["labelled_rows"]]
    rows = {w["window_start"]: w["rows"] for w in wins}
    real = _realised(store, L, relabel, rows, as_of)
    drops = M.volume_drops([w["rows"] for w in wins])
    changed = []
    for w, vd in zip(wins, drops):
        s = w["window_start"]
        m = new.get(s, w["metrics"] or {})
        dirty = s in new
        if s in real:
            r = real[s]
            m["realised"] = r
            m["realised_drop"] = P.drop(r)
            m["concept_gap"] = P.concept_gap(m.get("estimated"), r)
            m["labelled_share"] = (r or {}).get("labelled_share", 0.0)
            m["label_lag_hours"] = (r or {}).get("label_lag_hours")
            dirty = True
        m.setdefault("realised", None)
        m.setdefault("realised_drop", 0.0)
        if m.get("volume_drop") != vd:
            m["volume_drop"] = vd
            dirty = True
        w["metrics"] = m
        w["labelled_rows"] = counts.get(s, 0)
        if dirty:
            changed.append((s, m, w["labelled_rows"]))
    if changed:
        store.save_window_metrics(changed)
    return wins, set(relabel)


# ---------------------------------------------------------------------------------------------
# 2-4. alerts


def _group_alert(g: Group, wins: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    start = iso(wins[g.first]["window_start"])
    code = g.primary.rule.code
    return {
        "id": f"{code}@{start}",
        "rule": ", ".join(dict.fromkeys(e.rule.name for e in g.episodes)),
        "window_start": start,
        "window_end": iso(wins[g.last]["window_end"]),
        "code": code,
        "severity": g.severity,
        "status": g.status,
        "windows_in_row": g.windows,
        "detail": {
            "rules": [
                {
                    "rule": e.rule.name,
                    "metric": e.rule.metric,
                    "threshold": e.rule.threshold,
                    "severity": e.rule.severity,
                    "value": round(e.value, 5),
                    "peak": round(e.peak, 5),
                    "opened_window": iso(wins[e.opened]["window_start"]),
                }
                for e in g.episodes
            ],
            "opened_window": iso(wins[g.opened]["window_start"]),
            "escalated_window": iso(wins[g.escalated]["window_start"]) if g.escalated is not None else None,
            "resolved_window": iso(wins[g.resolved]["window_start"]) if g.resolved is not None else None,
        },
    }


def replay(wins: Sequence[Mapping[str, Any]], L: Loaded) -> list[tuple[Group, dict[str, Any]]]:
    """Every rule replayed over the closed windows; episodes of one code merged into alerts."""
    cfg = L.config
    sm = cfg.smoothing
    eps: list[Episode] = []
    metrics = [w["metrics"] or {} for w in wins]
    rows = [int(w["rows"]) for w in wins]
    for rule in cfg.rules:
        floor = (
            rule.min_rows
            if rule.metric == "realised_drop"
            else max(rule.min_rows, int(sm.get("min_rows", 0)))
        )
        probe = replace(rule, min_rows=floor)
        vals = smooth(
            metric_series(probe, metrics, rows), str(sm["method"]), float(sm["alpha"]), int(sm["size"])
        )
        eps.extend(episodes(rule, vals, cfg))
    return [(g, _group_alert(g, wins)) for g in group_by_code(eps)]


def like_reference(cur: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Kept rows with the reference's dtypes where the store keeps them as text (booleans)."""
    for c in cur.columns:
        if c in ref.columns and pd.api.types.is_bool_dtype(ref[c].dtype):
            cur[c] = cur[c].map(
                {"True": True, "False": False, "true": True, "false": False, "1": True, "0": False}
            )
    return cur


def diagnose_window(store: Store, L: Loaded, window_start: Any) -> dict[str, Any] | None:
    """The production rung on one window (its kept rows, else its summary): the Report as a
    dict, stored with the window."""
    from ..commands.drift import drift
    from ..stats.profile import Profile
    from .windows import unpack_profile

    st = L.settings
    feats = list(st["features"])
    rows = store.sample_rows(window_start)
    common = dict(
        task=st["task"],
        threshold=st.get("threshold"),
        target=st.get("target"),
        categorical=st.get("categorical"),
    )
    try:
        if len(rows) >= 30:
            cur = rows[[c for c in feats if c in rows.columns]].copy()
            if rows["score"].notna().any():
                cur["__score__"] = rows["score"].to_numpy()
            ref_rows = reference_rows(store)
            if ref_rows is not None:
                cur = like_reference(cur, ref_rows)
            ref_rows = ref_rows if ref_rows is not None else L.reference.profile
            report = drift(
                ref_rows,
                cur,
                model=L.model_path,
                prediction_column="__score__" if "__score__" in cur.columns else None,
                **common,
            )
        else:
            summ = store.window_summary(window_start)
            if not summ:
                return None
            prof = unpack_profile(summ["profile"], L.reference.profile)
            ref_prof = Profile(columns=dict(L.reference.profile.columns), rows=L.reference.profile.rows)
            report = drift(ref_prof, prof, **{k: v for k, v in common.items() if k != "categorical"})
    except Exception as e:  # the alert stands without its diagnosis; say why
        return {"error": f"{type(e).__name__}: {str(e)[:300]}", "findings": []}
    d = report.to_dict()
    store.save_window_report(window_start, d)
    return d


def _describe(
    alert: dict[str, Any], m: Mapping[str, Any], report: Mapping[str, Any] | None, L: Loaded, g: Group
) -> None:
    diag = Diagnosis(list((report or {}).get("findings", [])))
    important = [f for f in L.reference.features if L.reference.important(f)]
    kind, why = cause(alert["code"], m, diag, important, float(L.config.retrain.get("psi", 0.25)))
    retrain, reason = retrain_trigger(kind, m, L.config)
    f = diag.finding(alert["code"])
    ep = g.primary
    cols = columns_of(ep.rule, m, important) or list((f or {}).get("columns", []))
    alert.update(
        columns=cols,
        title=(f or {}).get("title") or default_title(ep.rule, ep.value, alert["window_start"], g.windows),
        root_cause=why + ((" " + f["root_cause"]) if f and f.get("root_cause") else ""),
        fix=(f or {}).get("fix") or _fix(kind),
        cause=kind,
        retrain=retrain,
    )
    alert["detail"]["retrain_reason"] = reason
    if report and report.get("error"):
        alert["detail"]["diagnosis_error"] = report["error"]


def _fix(kind: str) -> str:
    return {
        "pipeline": "Find the upstream change (a renamed or retyped column, a unit, a default) and fix it; do not retrain.",
        "concept": "Retrain on recent labelled data; shorten the retraining cycle or weight recent rows.",
        "drift": "Confirm the population change, then retrain on recent data that includes it.",
        "drift_minor": "Keep monitoring; retrain only if an important feature or the performance moves.",
        "ood": "Route these rows to a fallback and validate ranges at ingestion; collect labels if they are a new segment.",
        "estimated": "Collect labels for the new population and confirm; retrain if the drop holds.",
    }.get(kind, "See the window's report (`mltriage monitor report --window START`).")


def _events(alert: Mapping[str, Any]) -> list[str]:
    ev = ["opened"]
    if alert["detail"].get("escalated_window"):
        ev.append("escalated")
    if alert["status"] == "resolved":
        ev.append("resolved")
    return ev


def reconcile(
    store: Store, L: Loaded, wins: list[dict[str, Any]], as_of: datetime, echo: Echo | None, diagnose: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Replayed alerts against the stored ones: new ones diagnosed and described, events routed,
    stored alerts no longer supported resolved."""
    stored = {a["id"]: a for a in store.alerts()}
    by_start = {iso(w["window_start"]): w for w in wins}
    reports: dict[str, Any] = {}
    fresh, events = [], []
    stamp = iso(now())
    for g, a in replay(wins, L):
        old = stored.pop(a["id"], None)
        m = wins[g.last]["metrics"] or {}
        if old is None:
            ws = a["detail"]["opened_window"]
            if diagnose and ws not in reports:
                reports[ws] = diagnose_window(store, L, ws)
            _describe(a, by_start[ws]["metrics"] or {}, reports.get(ws), L, g)
            a.update(first_seen=stamp, sent=[])
        else:
            keep = ("columns", "title", "root_cause", "fix", "cause", "first_seen", "sent")
            a.update({k: old.get(k) for k in keep})
            a["detail"] = {**(old.get("detail") or {}), **a["detail"]}
            kind = a.get("cause") or "drift"
            a["retrain"], a["detail"]["retrain_reason"] = retrain_trigger(kind, m, L.config)
        a["last_seen"] = (
            stamp
            if a["status"] != "resolved" or old is None or old["status"] != "resolved"
            else old.get("last_seen")
        )
        events.extend(send(a, _events(a), L.config.routes, echo))
        fresh.append(a)
    for old in stored.values():  # late data changed the series: no episode supports it any more
        if old["status"] != "resolved":
            old["status"] = "resolved"
            old["detail"] = {
                **(old.get("detail") or {}),
                "resolved_because": "the windows no longer support it",
            }
            events.extend(send(old, ["resolved"], L.config.routes, echo))
        fresh.append(old)
    store.save_alerts(fresh)
    return fresh, events


# ---------------------------------------------------------------------------------------------
# 5. sampling and retention


def keep_rows(
    store: Store,
    L: Loaded,
    wins: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    relabelled: set[datetime],
    as_of: datetime,
) -> None:
    cfg = L.config
    alerting = set()
    for a in alerts:
        lo, hi = to_time(a["window_start"]), to_time(a["window_end"])
        alerting |= {w["window_start"] for w in wins if lo <= w["window_start"] < hi}
    for s in sorted(alerting):
        store.mark_rows(s, "alert")
    for s in sorted(relabelled - alerting):
        lab = store.labelled_at([s], as_of)
        ids = error_ids(lab, L.reference.task, L.reference.threshold)
        if ids:
            store.mark_rows(s, "error", ids)
    # hold and retention run on the data's clock (the newest closed window), so that a backfill
    # of old batches is kept like live traffic
    clock = max((w["window_end"] for w in wins), default=as_of)
    hold = parse_duration(str(cfg.sampling.get("hold", "7d")), allow_zero=True)
    n, k = int(cfg.sampling.get("rows_per_window", 1000)), int(cfg.sampling.get("strata", 10))
    for w in wins:
        s = w["window_start"]
        if s in alerting or w["window_end"] + hold > clock or not w.get("pending"):
            continue
        pend = store.pending(s)
        pick = stratified(np.zeros(len(pend)), pend["score"].to_numpy(np.float64), n, k)
        store.prune_rows(s, pend["row_id"].to_numpy()[pick].tolist())
    rr = parse_duration(str(cfg.retention.get("rows", "90d")))
    rp = parse_duration(str(cfg.retention.get("predictions", "400d")))
    store.drop_before("rows_sample", clock - rr)
    store.drop_before("predictions", clock - rp)


# ---------------------------------------------------------------------------------------------


def run_check(
    store: Store, as_of: Any = None, echo: Echo | None = None, diagnose: bool = True
) -> CheckResult:
    """Evaluate every window closed at `as_of` (default: now, UTC)."""
    L = load(store)  # (upgrades a store of an older schema, on its own connection)
    t = to_time(as_of) or now()
    with store.session():  # one connection for the metrics (a DuckDB connection costs ~0.1 s)
        wins, relabelled = update_metrics(store, L, t)
    alerts, events = reconcile(store, L, wins, t, echo, diagnose)
    with store.session():
        keep_rows(store, L, wins, alerts, relabelled, t)
    notes = []
    if not wins:
        notes.append("no closed window yet: log batches, then check after a window ends")
    stamp = iso(now())
    return CheckResult(
        windows=[
            {
                "window_start": iso(w["window_start"]),
                "window_end": iso(w["window_end"]),
                "rows": w["rows"],
                "labelled_rows": w["labelled_rows"],
                "checked_at": iso(w["checked_at"]) or stamp,
                **(w["metrics"] or {}),
            }
            for w in wins
        ],
        alerts=[a for a in store.alerts()],
        events=events,
        notes=notes,
    )
