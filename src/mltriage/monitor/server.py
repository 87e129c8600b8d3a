"""`mltriage monitor serve`: the dashboard, a local page over a small JSON API.

    GET  /                                   the page (static/index.html, dashboard.js, dashboard.css)
    GET  /api/windows?start=&end=&features=  the windows in [start, end) as columns, for the charts
    GET  /api/windows?format=rows            the same windows as store.windows() gives them
    GET  /api/windows/<start>/report         one window: its metrics, its alerts and the findings of
                                             its production-rung diagnosis (null if not diagnosed)
    GET  /api/alerts?status=open,escalated   the alerts
    POST /api/alerts/<id>/acknowledge        mark an alert acknowledged (token needed)
    POST /api/alerts/<id>/resolve            resolve an alert (token needed)

Anything that writes needs the token given at start (`--token` or MLTRIAGE_TOKEN) as
`Authorization: Bearer <token>`; without it, 401. Bound to 127.0.0.1 by default, and then only
requests naming a loopback host are served (a web page elsewhere cannot reach the dashboard by
rebinding a DNS name). The page loads nothing from outside (Content-Security-Policy 'self'): the
charts are hand-written SVG in static/dashboard.js.

Speed: the store keeps each window's metrics as JSON; parsing a year of hourly windows takes
about a second, so the server keeps the numbers the charts draw in memory (`SeriesCache`) and
refreshes only the windows whose (checked_at, rows, labelled rows) changed, which one cheap
query tells. A dashboard query is then a slice and a JSON encoding.
"""

from __future__ import annotations

import hmac
import json
import math
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .store import Store, iso, now, to_time

STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
STATIC_FILES = ("index.html", "dashboard.js", "dashboard.css", "favicon.svg")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
DRIFT_FEATURES = 6  # features drawn in the drift panel when none are asked for
ANSWERS_KEPT = 32  # encoded /api/windows answers kept per version of the windows
REFRESH_SECONDS = 1.0  # the windows' fingerprint is read again at most this often
WARM_WHILE_USED_SECONDS = 600.0  # the refresher keeps the cache warm this long after a request

# what the charts draw, per window: name -> path in store.windows()'s dict
SERIES: dict[str, tuple[str, ...]] = {
    "volume": ("rows",),
    "labelled_rows": ("labelled_rows",),
    "feature_psi": ("feature_psi",),
    "prediction_psi": ("prediction_psi",),
    "missing_share": ("missing_share",),
    "ood_share": ("ood_share",),
    "schema_share": ("schema_share",),
    "score_mean": ("score", "mean"),
    "score_p05": ("score", "p05"),
    "score_p25": ("score", "p25"),
    "score_p50": ("score", "p50"),
    "score_p75": ("score", "p75"),
    "score_p95": ("score", "p95"),
    "estimated": ("estimated", "value"),
    "estimated_low": ("estimated", "low"),
    "estimated_high": ("estimated", "high"),
    "realised": ("realised", "value"),
    "realised_low": ("realised", "low"),
    "realised_high": ("realised", "high"),
    "labelled_share": ("realised", "labelled_share"),
    "label_lag_hours": ("realised", "label_lag_hours"),
    "latency_p50": ("latency", "p50"),
    "latency_p95": ("latency", "p95"),
    "latency_p99": ("latency", "p99"),
}


class ApiError(Exception):
    """An answer other than 200: status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _number(v: Any) -> float | int | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return v if math.isfinite(v) else None
    return None


def encode(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str).encode()


def _iso_fast(v: Any) -> str:
    """store.iso() of a stored window start, without pandas for the common case (a datetime)."""
    if isinstance(v, datetime) and v.tzinfo is None:
        return v.isoformat(timespec="seconds")
    return str(iso(v))


def _get(d: Mapping[str, Any], path: Sequence[str]) -> Any:
    cur: Any = d
    for k in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(k)
    return cur


def compact(w: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the charts draw from one window of store.windows()."""
    row: dict[str, Any] = {k: _number(_get(w, path)) for k, path in SERIES.items()}
    row["window_start"], row["window_end"] = w["window_start"], w["window_end"]
    perf = w.get("realised") or w.get("estimated") or {}
    row["reference"] = _number(perf.get("reference")) if isinstance(perf, Mapping) else None
    row["metric"] = perf.get("metric") if isinstance(perf, Mapping) else None
    psi = w.get("psi") or {}
    row["psi"] = {str(f): _number(v) for f, v in psi.items()} if isinstance(psi, Mapping) else {}
    return row


# ---------------------------------------------------------------------------------------------
# the charts' numbers, kept in memory


class SeriesCache:
    """The charts' numbers of every window, refreshed window by window as the store changes."""

    def __init__(self, store: Store, lock: threading.RLock, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.store, self.lock, self.refresh_seconds = store, lock, refresh_seconds
        self.rows: dict[str, dict[str, Any]] = {}  # window_start -> compact()
        self.stamps: dict[str, tuple] = {}
        self.fingerprint: tuple = ()
        self.answers: dict[tuple, bytes] = {}  # encoded /api/windows answers of this version
        self.starts: list[str] = []
        self.columns: dict[str, list[Any]] = {}
        self.psi_columns: dict[str, list[Any]] = {}
        self.checked = 0.0
        self.version = 0

    def _rows(self, sql: str) -> list[tuple]:
        with self.store.session(write=False) as con:
            return list(con.execute(sql).fetchall())

    def _fingerprint(self) -> tuple:
        """One row that changes whenever a window is added, merged into or checked again
        (`check` stamps checked_at; a merge clears it and changes rows)."""
        sql = (
            "SELECT COUNT(*), MAX(checked_at), SUM(rows), SUM(labelled_rows), MIN(window_start), "
            "MAX(window_start), COUNT(checked_at) FROM windows"
        )
        return tuple(self._rows(sql)[0])

    def _read_stamps(self) -> dict[str, tuple]:
        """window_start -> (checked_at, rows, labelled_rows): what changes when a window does."""
        got = self._rows("SELECT window_start, checked_at, rows, labelled_rows FROM windows")
        return {_iso_fast(ws): (c, n, nl) for ws, c, n, nl in got}

    def refresh(self, force: bool = False) -> None:
        with self.lock:
            if not force and time.monotonic() - self.checked < self.refresh_seconds:
                return
            fp = self._fingerprint()
            self.checked = time.monotonic()
            if fp == self.fingerprint:
                return
            stamps = self._read_stamps()
            changed = sorted(k for k, v in stamps.items() if self.stamps.get(k) != v)
            gone = [k for k in self.stamps if k not in stamps]
            for k in gone:
                self.rows.pop(k, None)
            if changed:
                end = to_time(changed[-1])
                assert end is not None
                for w in self.store.windows(changed[0], end + timedelta(microseconds=1)):
                    self.rows[w["window_start"]] = compact(w)
            self.stamps, self.fingerprint = stamps, fp
            if changed or gone:
                self._rebuild()

    def _rebuild(self) -> None:
        self.starts = sorted(self.rows)
        rows = [self.rows[k] for k in self.starts]
        keys = ("window_start", "window_end", *SERIES, "reference")
        self.columns = {k: [r[k] for r in rows] for k in keys}
        self.psi_columns = {}
        self.answers = {}
        self.version += 1

    def stale(self) -> bool:
        return time.monotonic() - self.checked >= self.refresh_seconds

    def psi(self, feature: str) -> list[Any]:
        col = self.psi_columns.get(feature)
        if col is None:
            col = [self.rows[k]["psi"].get(feature) for k in self.starts]
            self.psi_columns[feature] = col
        return col

    def span(self, start: str | None, end: str | None) -> tuple[int, int]:
        i0 = bisect_left(self.starts, start) if start else 0
        i1 = bisect_left(self.starts, end) if end else len(self.starts)
        return i0, max(i0, i1)

    def features(self) -> list[str]:
        seen: dict[str, None] = {}
        for k in self.starts:
            for f in self.rows[k]["psi"]:
                seen.setdefault(f, None)
        return list(seen)

    def metric(self) -> str | None:
        for k in reversed(self.starts):
            m = self.rows[k].get("metric")
            if m:
                return str(m)
        return None


def _iso_param(q: Mapping[str, list[str]], key: str) -> str | None:
    v = (q.get(key) or [""])[0].strip()
    if not v:
        return None
    try:
        return iso(v)
    except (ValueError, TypeError):
        raise ApiError(
            400, f"{key}={v!r} is not a time (write e.g. 2024-03-01 or 2024-03-01T12:00:00)"
        ) from None


# ---------------------------------------------------------------------------------------------
# the API, apart from HTTP


class Dashboard:
    """What the API answers, given a store; the HTTP handler only routes to it."""

    def __init__(self, store: Store, token: str | None = None) -> None:
        self.store = store
        self.token = token or None
        self.lock = threading.RLock()  # one store call at a time (a Store holds one connection)
        self.cache = SeriesCache(store, self.lock)
        self.last_request = time.monotonic()
        with self.reading():
            self.settings = store.settings()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One store connection for everything a request reads (opening a DuckDB file costs tens
        of milliseconds; the connection is closed when the request is answered, so `log` and
        `check` in other processes are kept waiting no longer than that)."""
        with self.lock, self.store.session(write=False):
            yield

    # -- reading -------------------------------------------------------------------------
    def important_features(self, i0: int, i1: int) -> list[str]:
        """The drift panel's features: the most important ones (the model's sensitivity, known
        at init), else those with the largest PSI in the range."""
        imp = self.settings.get("importance") or {}
        known = self.cache.features()
        if imp:
            ranked = sorted((f for f in known if f in imp), key=lambda f: -float(imp[f] or 0.0))
            if ranked:
                return ranked[:DRIFT_FEATURES]

        def peak(f: str) -> float:
            vals = [v for v in self.cache.psi(f)[i0:i1] if v is not None]
            return max(vals, default=0.0)

        return sorted(known, key=lambda f: -peak(f))[:DRIFT_FEATURES]

    def windows(self, q: Mapping[str, list[str]]) -> bytes:
        """The /api/windows answer, encoded (the same question on unchanged windows is answered
        from memory)."""
        start, end = _iso_param(q, "start"), _iso_param(q, "end")
        if (q.get("format") or [""])[0] == "rows":
            with self.reading():
                return encode({"windows": self.store.windows(start, end)})
        asked = tuple(f for f in ",".join(q.get("features", [])).split(",") if f)
        self.last_request = time.monotonic()
        with self.lock:
            if self.cache.stale():
                with self.store.session(write=False):
                    self.cache.refresh()
            return self._answer(start, end, asked)

    def _answer(self, start: str | None, end: str | None, asked: tuple[str, ...]) -> bytes:
        c = self.cache
        key = (start, end, asked)
        got = c.answers.get(key)
        if got is None:
            got = encode(self._series(start, end, list(asked)))
            if len(c.answers) >= ANSWERS_KEPT:
                c.answers.pop(next(iter(c.answers)))
            c.answers[key] = got
        return got

    def keep_warm(self) -> None:
        """Bring the cache up to date and encode the page's first question (every window, the
        important features) ahead of it: called by the server's refresher while the page is in
        use, so that a page loaded after `check` wrote new metrics is answered from memory."""
        if time.monotonic() - self.last_request > WARM_WHILE_USED_SECONDS:
            return
        with self.lock:
            with self.store.session(write=False):
                self.cache.refresh(force=True)
            self._answer(None, None, ())

    def _series(self, start: str | None, end: str | None, asked: list[str]) -> dict[str, Any]:
        c = self.cache
        i0, i1 = c.span(start, end)
        feats = asked or self.important_features(i0, i1)
        return {
            "store": self.store.describe(),
            "window": str(
                self.settings.get("window") or (self.settings.get("config") or {}).get("window", "")
            ),
            "count": i1 - i0,
            "start": start,
            "end": end,
            "metric": c.metric(),
            "features": feats,
            "series": {k: v[i0:i1] for k, v in c.columns.items()},
            "psi": {f: c.psi(f)[i0:i1] for f in feats},
        }

    def alerts(self, q: Mapping[str, list[str]]) -> dict[str, Any]:
        status = [s for s in ",".join(q.get("status", [])).split(",") if s] or None
        with self.reading():
            return {"alerts": self.store.alerts(status, _iso_param(q, "start"), _iso_param(q, "end"))}

    def window(self, start_text: str) -> dict[str, Any]:
        start = _iso_param({"start": [start_text]}, "start")
        ts = to_time(start)
        assert ts is not None
        with self.reading():
            got = self.store.windows(start, ts + timedelta(microseconds=1))
            if not got:
                raise ApiError(404, f"no window starts at {start}")
            w = got[0]
            return {
                "window": w,
                "alerts": self.store.alerts(None, w["window_start"], w["window_end"]),
                "report": self.store.window_report(start),
            }

    # -- writing -------------------------------------------------------------------------
    def authorised(self, header: str | None) -> None:
        if self.token is None:
            raise ApiError(
                401, "writes need a token: start `mltriage monitor serve` with --token or MLTRIAGE_TOKEN"
            )
        given = (header or "").removeprefix("Bearer ").strip()
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            raise ApiError(401, "missing or wrong token (send Authorization: Bearer <token>)")

    def alert_action(self, alert_id: str, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if action not in ("acknowledge", "resolve"):
            raise ApiError(404, f"unknown action {action!r}: acknowledge or resolve")
        with self.lock, self.store.session(write=True):
            found = [a for a in self.store.alerts() if a["id"] == alert_id]
            if not found:
                raise ApiError(404, f"no alert {alert_id!r}")
            a = found[0]
            detail = dict(a.get("detail") or {})
            stamp = {"at": iso(now()), "by": "dashboard", "note": str(body.get("note", ""))[:500]}
            if action == "acknowledge":
                detail["acknowledged"] = stamp
            else:
                detail["resolved_by"] = stamp
                a["status"] = "resolved"
            a["detail"] = detail
            self.store.save_alert(a)
            return {"alert": a}


# ---------------------------------------------------------------------------------------------
# HTTP


def static_file(name: str) -> bytes:
    return resources.files("mltriage.monitor").joinpath("static").joinpath(name).read_bytes()


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    protocol_version = "HTTP/1.1"
    server_version = "mltriage-monitor"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _send(self, status: int, body: bytes, ctype: str, extra: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, obj if isinstance(obj, bytes) else encode(obj), "application/json")

    def _host_ok(self) -> bool:
        if not self.server.loopback_only:
            return True
        host = (self.headers.get("Host") or "").strip()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in LOOPBACK_HOSTS

    def _handle(self, fn: Any) -> None:
        try:
            if not self._host_ok():
                raise ApiError(403, "this dashboard answers to 127.0.0.1 / localhost only")
            fn()
        except ApiError as e:
            self._json(e.status, {"error": str(e)})
        except Exception as e:  # a store error: say it, keep serving
            self._json(500, {"error": f"{type(e).__name__}: {e}"})

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_HEAD(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def _get(self) -> None:
        url = urlsplit(self.path)
        path, q = url.path, parse_qs(url.query)
        d = self.server.dashboard
        if path in ("/", "/index.html"):
            self._send(200, static_file("index.html"), STATIC_TYPES[".html"])
        elif path == "/favicon.ico":
            self._send(200, static_file("favicon.svg"), STATIC_TYPES[".svg"])
        elif path.startswith("/static/") and path[len("/static/") :] in STATIC_FILES:
            name = path[len("/static/") :]
            self._send(200, static_file(name), STATIC_TYPES["." + name.rsplit(".", 1)[1]])
        elif path == "/api/windows":
            self._json(200, d.windows(q))
        elif path.startswith("/api/windows/") and path.endswith("/report"):
            self._json(200, d.window(unquote(path[len("/api/windows/") : -len("/report")])))
        elif path == "/api/alerts":
            self._json(200, d.alerts(q))
        elif path == "/api/health":
            self._json(200, {"ok": True})
        else:
            raise ApiError(404, f"nothing at {path}")

    def _post(self) -> None:
        path = urlsplit(self.path).path
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(n, 65536)) if n > 0 else b""
        d = self.server.dashboard
        d.authorised(self.headers.get("Authorization"))
        parts = path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["api", "alerts"]:
            raise ApiError(404, f"nothing to write at {path}")
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            raise ApiError(400, "the body is not JSON") from None
        self._json(200, d.alert_action(unquote(parts[2]), parts[3], body if isinstance(body, dict) else {}))


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], dashboard: Dashboard, verbose: bool = False) -> None:
        super().__init__(address, Handler)
        self.dashboard = dashboard
        self.verbose = verbose
        self.loopback_only = address[0] in LOOPBACK_HOSTS
        self._stop = threading.Event()
        self._refresher = threading.Thread(target=self._refresh_loop, name="dashboard-refresher", daemon=True)

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.dashboard.cache.refresh_seconds):
            try:
                self.dashboard.keep_warm()
            except Exception as e:  # the store is busy or gone: requests will say so
                if self.verbose:
                    sys.stderr.write(f"refresh failed: {type(e).__name__}: {e}\n")

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        if not self._refresher.is_alive():
            self._refresher.start()
        super().serve_forever(poll_interval)

    def server_close(self) -> None:
        self._stop.set()
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that closes a connection early is no error; anything else is printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        h = str(host)
        return f"http://{'[' + h + ']' if ':' in h else h}:{port}/"


def make_server(
    store: Store, host: str = "127.0.0.1", port: int = 8765, token: str | None = None, verbose: bool = False
) -> DashboardServer:
    """The dashboard's server, bound (port 0: a free port) but not yet serving: call
    `serve_forever()` (in a thread for tests), then `shutdown()` and `server_close()`."""
    dash = Dashboard(store, token)
    dash.keep_warm()  # read the windows and answer the page's first question now, not on its load
    return DashboardServer((host, port), dash, verbose=verbose)


def serve(
    url: str,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    echo: Any = print,
    verbose: bool = False,
) -> None:
    """`mltriage monitor serve`: serve the dashboard of the store at `url` until interrupted."""
    from ..errors import InputError
    from .store import open_store

    store = open_store(url)
    file_missing = store.backend == "duckdb" and not Path(url).exists()  # do not create it by looking
    if file_missing or not store.exists():
        raise InputError(
            f"{store.describe()} is not an initialised monitor store",
            "create it first: mltriage monitor init --store STORE --reference train.parquet --target y",
        )
    try:
        server = make_server(store, host, port, token, verbose)
    except OSError as e:
        raise InputError(
            f"cannot listen on {host}:{port} ({e.strerror or e})", "pass another --port (0: any free port)"
        ) from None
    echo(f"dashboard of {store.describe()} at {server.url}  (Ctrl-C to stop)")
    echo("writes (acknowledge, resolve) " + ("need the token" if token else "are off: no --token given"))
    if not server.loopback_only:
        echo(f"warning: listening on {host}: anyone who can reach this machine can read the dashboard")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
