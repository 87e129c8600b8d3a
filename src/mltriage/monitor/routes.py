"""Where alerts go: the log (always: a line per event on the terminal, and a JSON line per event
in a file when a log route names a path), webhooks (POST of the alert JSON) and the exit code
(`check --fail-on`).

Each alert records in `sent` what was delivered: {"event", "route", "at", "ok"}. An event (opened,
escalated, resolved) is delivered once per route: a later check re-sends only what failed (a
webhook that was down), never what already went out.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .store import iso, now

WEBHOOK_TIMEOUT = 5.0
EVENTS = ("opened", "escalated", "resolved")


def payload(event: str, alert: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON an alert event is delivered as."""
    keys = (
        "id", "window_start", "window_end", "code", "severity", "columns", "title", "root_cause",
        "fix", "status", "cause", "retrain", "first_seen", "last_seen", "windows_in_row",
    )  # fmt: skip
    body = {k: alert.get(k) for k in keys}
    body["retrain_reason"] = (alert.get("detail") or {}).get("retrain_reason")
    return {"event": event, "alert": body}


def _route_name(r: Mapping[str, Any]) -> str:
    return f"webhook:{r['url']}" if r["type"] == "webhook" else f"log:{r.get('path') or '-'}"


def _post(url: str, body: Mapping[str, Any]) -> tuple[bool, str]:
    data = json.dumps(body, default=str).encode("utf-8")
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=WEBHOOK_TIMEOUT) as resp:
            ok = 200 <= resp.status < 300
            return ok, f"HTTP {resp.status}"
    except urllib.error.HTTPError as e:
        return False, f"HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        return False, str(getattr(e, "reason", e))[:200]


def _deliver(route: Mapping[str, Any], body: Mapping[str, Any]) -> tuple[bool, str]:
    if route["type"] == "webhook":
        return _post(str(route["url"]), body)
    path = route.get("path")
    if path:
        try:
            with open(Path(path), "a", encoding="utf-8") as fh:
                fh.write(json.dumps(body, default=str) + "\n")
        except OSError as e:
            return False, e.strerror or str(e)
    return True, "logged"


def delivered(alert: Mapping[str, Any], event: str, route: str) -> bool:
    return any(
        s.get("event") == event and s.get("route") == route and s.get("ok") for s in alert.get("sent") or []
    )


def send(
    alert: dict[str, Any],
    events: Sequence[str],
    routes: Sequence[Mapping[str, Any]],
    echo: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Deliver the alert's events not yet delivered on each route; append the records to
    alert["sent"] and return the new ones."""
    new: list[dict[str, Any]] = []
    all_routes = [{"type": "log"}, *routes]
    for event in events:
        body = payload(event, alert)
        for r in all_routes:
            name = _route_name(r)
            if delivered(alert, event, name):
                continue
            ok, info = _deliver(r, body)
            if r["type"] == "log" and not r.get("path") and echo is not None:
                echo(
                    f"[{event}] {alert['severity']} {alert['code']} {alert['window_start']}..{alert['window_end']}: "
                    f"{alert.get('title', '')}"
                )
            rec = {
                "event": event,
                "route": name,
                "at": iso(now()),
                "ok": ok,
                "info": info,
                "alert": alert["id"],
            }
            alert.setdefault("sent", []).append(rec)
            new.append(rec)
    return new


def failed(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if not r.get("ok")]
