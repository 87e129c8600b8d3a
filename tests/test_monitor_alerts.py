"""Alert rules: smoothing, streaks, hysteresis, escalation, one alert per code and episode; routes:
a webhook POST to a local server the test starts, no re-send of a repeated alert, resolution sent,
a failed delivery retried."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from mltriage.commands import monitor as mon
from mltriage.errors import InputError
from mltriage.monitor.alerts import episodes, group_by_code, smooth
from mltriage.monitor.config import MonitorConfig, Rule, read_config
from monitor_helpers import write_batch

NAN = np.nan


def test_smoothing_skips_unjudged_windows():
    v = np.array([0.0, 1.0, NAN, 1.0])
    np.testing.assert_allclose(smooth(v, "ewma", 0.5, 3), [0.0, 0.5, NAN, 0.75])
    np.testing.assert_allclose(smooth(v, "rolling", 0.5, 2), [0.0, 0.5, NAN, 1.0])
    np.testing.assert_allclose(smooth(v, "none", 0.5, 2), v)


def test_streak_hysteresis_and_escalation():
    cfg = MonitorConfig.from_dict(
        {"hysteresis": {"clear_ratio": 0.5, "clear_windows": 2}, "escalation": {"after": 2}}
    )
    rule = Rule(metric="feature_psi", threshold=0.2, windows=2)
    v = np.array([0.3, 0.0, 0.3, 0.3, 0.15, 0.3, 0.05, 0.3, 0.05, 0.05, 0.3])
    (ep, *rest) = episodes(rule, v, cfg)
    # one high window is not a streak; two in a row open; 0.15 is above the clear level (0.1)
    assert (ep.first, ep.opened) == (2, 3)
    assert ep.escalated == 5 and ep.severity == "critical"  # still open after 2 more windows
    assert ep.resolved == 9  # two windows in a row below 0.1 (one alone does not clear)
    assert rest == []  # the last 0.3 is one window: no new streak yet
    crit = Rule(metric="important_feature_psi", threshold=0.25, severity="critical")
    e2 = episodes(crit, np.array([0.0, 0.3, 0.3, 0.0, 0.0]), cfg)
    groups = group_by_code([ep, *e2])
    assert len(groups) == 1 and groups[0].first == 1 and groups[0].severity == "critical"


def test_rules_are_validated():
    with pytest.raises(InputError, match="unknown alert metric"):
        Rule(metric="psi_of_everything", threshold=1)
    with pytest.raises(InputError, match="needs a code"):
        Rule(metric="volume_drop", threshold=0.5)
    assert (
        Rule(metric="volume_drop", threshold=0.5, code="production.schema_change").code
        == "production.schema_change"
    )
    with pytest.raises(InputError, match="smoothing.method"):
        MonitorConfig.from_dict({"smoothing": {"method": "kalman"}})
    with pytest.raises(InputError, match="webhook"):
        MonitorConfig.from_dict({"routes": [{"type": "webhook"}]})


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).status == 200:
            type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    _Hook.received = []
    _Hook.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", _Hook
    server.shutdown()
    server.server_close()


def test_webhook_opened_once_then_resolved(hook, monitor_case, tmp_path):
    url, handler = hook
    conf = tmp_path / "monitor.toml"
    conf.write_text(
        f"""
[hysteresis]
clear_windows = 1
[[rules]]
metric = "important_feature_psi"
threshold = 0.25
severity = "critical"
[[routes]]
type = "webhook"
url = "{url}"
[[routes]]
type = "log"
path = "{tmp_path / "alerts.jsonl"}"
"""
    )
    assert len(read_config(conf).rules) == 1
    store = str(tmp_path / "s.duckdb")
    mon.init(
        store,
        str(monitor_case / "ref.parquet"),
        "y",
        model=str(monitor_case / "model.joblib"),
        id_column="id",
        time_column="ts",
        config=conf,
    )
    shift = {2: 1.0, 3: 1.0}
    handler.status = 500  # the receiver is down at first
    for day in range(6):
        b, _ = write_batch(tmp_path, day, n=1200, shift=shift.get(day, 0.0))
        mon.log(store, b)
        res = mon.check(store)
        if day == 2:
            assert [e["ok"] for e in res.events if e["route"].startswith("webhook")] == [False]
            handler.status = 200
    events = [(m["event"], m["alert"]["code"], m["alert"]["window_start"]) for m in handler.received]
    assert events == [
        ("opened", "production.data_drift", "2024-01-03T00:00:00"),  # re-sent once the receiver was up
        ("resolved", "production.data_drift", "2024-01-03T00:00:00"),
    ]
    body = handler.received[0]["alert"]
    assert {
        "window_start",
        "window_end",
        "code",
        "severity",
        "columns",
        "title",
        "root_cause",
        "fix",
        "status",
    } <= set(body)
    assert body["columns"] == ["a"] and body["retrain"] is True
    lines = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert [x["event"] for x in lines] == ["opened", "resolved"]
    again = mon.check(store)
    assert again.events == [] and len(handler.received) == 2  # nothing re-sent
