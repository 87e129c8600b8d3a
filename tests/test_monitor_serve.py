"""`mltriage monitor serve`: the dashboard's JSON API and the page in headless Chromium.

The store is a real one: eight daily windows logged, labelled and checked with `mltriage monitor`
(feature `a` drifts from day 5, so `check` opens alerts and diagnoses their windows). The server
runs in a thread on a free port of 127.0.0.1 and is stopped after the module. The browser tests
skip, saying why, where chromium or the playwright package is missing (the `browser` fixture of
test_report_html)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mltriage.commands import monitor as mon
from mltriage.monitor.server import DashboardServer, make_server
from mltriage.monitor.store import open_store
from monitor_helpers import FEATURES, frame, write_batch
from test_report_html import browser  # noqa: F401 - the headless Chromium fixture

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def checked_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB store with 8 daily windows, labels for the first 4, alerts from day 5 on."""
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    d = tmp_path_factory.mktemp("serve")
    ref = frame(5000, np.random.default_rng(0))
    ref.to_parquet(d / "ref.parquet")
    joblib.dump(LogisticRegression().fit(ref[FEATURES], ref["y"]), d / "model.joblib")
    url = str(d / "monitor.duckdb")
    mon.init(
        url, str(d / "ref.parquet"), "y", model=str(d / "model.joblib"), id_column="id", time_column="ts"
    )
    for day in range(8):
        b, lab = write_batch(d, day, n=1000, shift=1.5 if day >= 5 else 0.0)
        mon.log(url, b)
        if day < 4:
            mon.label(url, lab, labelled_at_column="labelled_at")
    mon.check(url, as_of="2024-01-10")
    return url


def _start(url: str, token: str | None) -> DashboardServer:
    server = make_server(open_store(url), host="127.0.0.1", port=0, token=token)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def server(checked_store: str) -> Iterator[DashboardServer]:
    s = _start(checked_store, TOKEN)
    try:
        yield s
    finally:
        s.shutdown()
        s.server_close()


def call(
    server: DashboardServer, path: str, method: str = "GET", body: Any = None, headers: dict | None = None
) -> tuple[int, Any, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        server.url.rstrip("/") + path, data=data, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw, status, hdrs = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, dict(e.headers)
    ctype = hdrs.get("Content-Type", "")
    return status, (json.loads(raw) if ctype.startswith("application/json") else raw), hdrs


# ------------------------------------------------------------------ the API
def test_windows_as_columns_for_the_charts(server):
    status, got, hdrs = call(server, "/api/windows")
    assert status == 200 and got["count"] == 8
    s = got["series"]
    assert s["window_start"][0] == "2024-01-01T00:00:00" and len(s["window_start"]) == 8
    assert all(len(v) == 8 for v in s.values())
    assert got["features"][0] == "a"  # the most important feature (the model's sensitivity)
    assert set(got["features"]) <= set(FEATURES)
    psi_a = got["psi"]["a"]
    assert max(psi_a[:5]) < 0.1 and min(psi_a[5:]) > 0.25  # the drift from day 5
    assert s["volume"] == [1000] * 8
    assert all(v is not None for v in s["estimated"]) and s["realised"][0] is not None
    assert s["realised"][7] is None and s["labelled_share"][0] == 1.0
    assert s["latency_p95"][0] > s["latency_p50"][0] > 0
    assert hdrs["Cache-Control"] == "no-store"


def test_windows_filtered_by_time_and_features(server):
    _, got, _ = call(server, "/api/windows?start=2024-01-03&end=2024-01-05T00:00:00&features=b,c")
    assert got["series"]["window_start"] == ["2024-01-03T00:00:00", "2024-01-04T00:00:00"]
    assert got["features"] == ["b", "c"] and set(got["psi"]) == {"b", "c"}
    _, rows, _ = call(server, "/api/windows?start=2024-01-08&format=rows")
    assert [w["window_start"] for w in rows["windows"]] == ["2024-01-08T00:00:00"]
    assert rows["windows"][0]["psi"]["a"] > 0.25
    status, err, _ = call(server, "/api/windows?start=yesterday-ish")
    assert status == 400 and "not a time" in err["error"]


def test_alerts_and_drill_down(server):
    _, got, _ = call(server, "/api/alerts")
    codes = {a["code"] for a in got["alerts"]}
    assert "production.data_drift" in codes
    drift = next(a for a in got["alerts"] if a["code"] == "production.data_drift")
    assert drift["columns"] == ["a"] and drift["status"] == "open"
    _, one, _ = call(server, f"/api/windows/{drift['window_start']}/report")
    assert one["window"]["window_start"] == drift["window_start"]
    assert one["window"]["drifted"]["a"] in ("warning", "critical")
    assert any(a["id"] == drift["id"] for a in one["alerts"])
    assert one["report"] is not None
    assert "production.data_drift" in {f["code"] for f in one["report"]["findings"]}
    status, _, _ = call(server, "/api/windows/2031-01-01/report")
    assert status == 404


def test_writes_need_the_token(checked_store, server):
    _, got, _ = call(server, "/api/alerts?status=open,escalated")
    target = got["alerts"][-1]
    path = f"/api/alerts/{target['id']}/acknowledge"
    assert call(server, path, "POST", {})[0] == 401
    assert call(server, path, "POST", {}, {"Authorization": "Bearer wrong"})[0] == 401
    status, body, _ = call(server, path, "POST", {"note": "looking"}, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and body["alert"]["detail"]["acknowledged"]["note"] == "looking"
    status, body, _ = call(
        server, f"/api/alerts/{target['id']}/resolve", "POST", {}, {"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200 and body["alert"]["status"] == "resolved"
    stored = [a for a in open_store(checked_store).alerts() if a["id"] == target["id"]][0]
    assert stored["status"] == "resolved" and stored["detail"]["acknowledged"]["by"] == "dashboard"
    assert (
        call(server, "/api/alerts/nope/resolve", "POST", {}, {"Authorization": f"Bearer {TOKEN}"})[0] == 404
    )


def test_no_token_means_no_writes(checked_store):
    s = _start(checked_store, None)
    try:
        status, body, _ = call(s, "/api/alerts/x/resolve", "POST", {}, {"Authorization": "Bearer anything"})
        assert status == 401 and "--token" in body["error"]
        assert call(s, "/api/alerts")[0] == 200  # reading needs no token
    finally:
        s.shutdown()
        s.server_close()


def test_page_assets_and_headers(server):
    status, page, hdrs = call(server, "/")
    assert status == 200 and b"/static/dashboard.js" in page
    assert "default-src 'none'" in hdrs["Content-Security-Policy"]
    assert b"http" not in page.replace(b"http-equiv", b"")  # nothing fetched from elsewhere
    for name in ("dashboard.js", "dashboard.css", "favicon.svg"):
        status, body, _ = call(server, f"/static/{name}")
        assert status == 200 and len(body) > 100
    js = call(server, "/static/dashboard.js")[1]
    assert b"http://" not in js.replace(b"http://www.w3.org/2000/svg", b"") and b"https://" not in js
    assert call(server, "/static/../server.py")[0] == 404
    assert call(server, "/nothing")[0] == 404


def test_only_loopback_host_names(server):
    status, body, _ = call(server, "/api/alerts", headers={"Host": "evil.example:80"})
    assert status == 403 and "127.0.0.1" in body["error"]
    assert call(server, "/api/alerts", headers={"Host": f"localhost:{server.server_address[1]}"})[0] == 200


def test_new_windows_show_without_a_restart(checked_store, server, tmp_path):
    import numpy as np

    b, _ = write_batch(tmp_path, 9, n=300, seed=7)
    mon.log(checked_store, b)
    server.dashboard.cache.refresh(force=True)
    _, got, _ = call(server, "/api/windows")
    assert got["count"] == 9 and got["series"]["volume"][-1] == 300
    assert got["series"]["estimated"][-1] is None  # logged, not yet checked
    assert np.isfinite(got["series"]["volume"]).all()


# ------------------------------------------------------------------ the page
def open_dashboard(browser, url: str):  # noqa: F811 - the fixture imported above
    """The page, with console errors and requests to anything but the server."""
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith((url, "data:", "about:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="networkidle")
    return page, errors, outside


@pytest.mark.browser
def test_dashboard_in_the_browser(browser, server):  # noqa: F811 - the fixture imported above
    page, errors, outside = open_dashboard(browser, server.url)
    page.wait_for_selector("#alert-list table")
    assert errors == [], f"console errors: {errors}"
    assert outside == [], f"requests leaving 127.0.0.1: {outside}"
    alerts = page.inner_text("#alert-list")
    assert "production.data_drift" in alerts and "critical" in alerts
    # every panel drew a chart (latency and labels too), with alert markers on the charts
    assert page.locator("figure.panel svg[role=img]").count() == 8
    assert page.locator("figure.panel .alert-marker").count() >= 8
    assert "Drift of important features" in page.inner_text("#p-drift")
    # drill-down: an alert row opens its window and the findings of its diagnosis
    page.locator("#alert-list tr.alert-row", has_text="production.data_drift").first.click()
    page.wait_for_selector("#detail .finding h4 code")
    detail = page.inner_text("#detail")
    assert "2024-01-06" in detail and "production.data_drift" in detail
    # clicking a chart picks a window too
    page.locator("#p-volume svg").click(position={"x": 80, "y": 100})
    page.wait_for_selector("#detail-h:has-text('2024-01-01')")
    assert errors == [], f"console errors: {errors}"
    page.close()


@pytest.mark.browser
def test_token_in_the_page_resolves_an_alert(browser, server):  # noqa: F811
    from playwright.sync_api import expect

    page, errors, _ = open_dashboard(browser, server.url)
    page.wait_for_selector("#alert-list table")
    row = page.locator("#alert-list tr.alert-row", has=page.locator("button[data-act=resolve]")).first
    button = row.locator("button[data-act=resolve]")
    button.click()  # no token: refused, the message shows
    page.wait_for_selector("#alert-list .msg")
    assert "token" in page.inner_text("#alert-list .msg")
    before = page.locator("button[data-act=resolve]").count()
    page.fill("#token", TOKEN)
    page.locator("button[data-act=resolve]").first.click()
    expect(page.locator("button[data-act=resolve]")).to_have_count(before - 1)
    errors = [e for e in errors if "401" not in e]  # the refused request logs its status
    assert errors == [], f"console errors: {errors}"
    page.close()


def test_static_files_are_package_data():
    root = Path(__file__).resolve().parent.parent
    py = (root / "pyproject.toml").read_text()
    assert "monitor/static/*" in py


def test_serve_refuses_a_store_that_is_not_there(tmp_path):
    from typer.testing import CliRunner

    from mltriage.cli import app

    missing = tmp_path / "typo.duckdb"
    r = CliRunner().invoke(app, ["monitor", "serve", "--store", str(missing), "--port", "0"])
    # the console wraps long paths at its width, so the words are compared with their spacing undone
    assert r.exit_code == 2 and "not an initialised monitor store" in " ".join(r.output.split())
    assert not missing.exists()  # looking did not create it


def test_the_api_on_a_postgres_store(pg_server, monitor_case, tmp_path):
    """The same API over a postgresql:// store (a server the test session starts)."""
    url = pg_server.new_database()
    case = monitor_case
    mon.init(
        url,
        str(case / "ref.parquet"),
        "y",
        model=str(case / "model.joblib"),
        id_column="id",
        time_column="ts",
    )
    for day in range(3):
        b, _ = write_batch(tmp_path, day, n=800, shift=2.0 if day == 2 else 0.0)
        mon.log(url, b)
    mon.check(url, as_of="2024-01-05", diagnose=False)
    s = _start(url, TOKEN)
    try:
        _, got, _ = call(s, "/api/windows")
        assert got["count"] == 3 and got["series"]["volume"] == [800] * 3
        assert got["psi"]["a"][2] > 0.25 and got["store"].startswith("PostgreSQL store")
        _, alerts, _ = call(s, "/api/alerts")
        drift = next(a for a in alerts["alerts"] if a["code"] == "production.data_drift")
        _, one, _ = call(s, f"/api/windows/{drift['window_start']}/report")
        assert one["window"]["drifted"]["a"] in ("warning", "critical")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        status, body, _ = call(s, f"/api/alerts/{drift['id']}/resolve", "POST", {}, auth)
        assert status == 200 and body["alert"]["status"] == "resolved"
        b, _ = write_batch(tmp_path, 3, n=500)
        mon.log(url, b)
        s.dashboard.cache.refresh(force=True)
        assert call(s, "/api/windows")[1]["count"] == 4
    finally:
        s.shutdown()
        s.server_close()
