"""The prediction store of `mltriage monitor`: one schema, two backends.

    store = open_store("monitor.duckdb")                  # embedded DuckDB file (the default)
    store = open_store("postgresql://user@host:5432/db")  # PostgreSQL (psycopg 3), for a team

Both backends run the same plain SQL (placeholders written `?`, turned into `%s` for psycopg).
Times are stored as naive UTC TIMESTAMPs and returned as ISO strings ("2024-01-31T00:00:00").
JSON is stored as TEXT.

Tables
    meta         key -> JSON value: "reference" (the reference Profile.to_dict(), with the prediction
                 column under PRED_COL), "settings" (columns and roles, window, task, threshold,
                 classes, importance, config), "model" (path of the model, or null).
    batches      batch_id (primary key), logged_at, rows, quarantined, status ("committed"), source,
                 sha256 of the file. A batch is written in one transaction with everything it adds,
                 so a batch_id present here means the whole batch is in the store.
    windows      window_start (primary key), window_end, rows, labelled_rows, summary (JSON, see
                 below), metrics (JSON written by `check`), checked_at, report (the Report JSON of
                 the window's production-rung diagnosis, written by `check` for alerting windows).
    predictions  one row per logged prediction: row_id, batch_id, ts, window_start, score,
                 predicted (class label as text, or null). What realised performance joins labels to.
    labels       row_id (primary key), label (number: regression target, or 1/0 for the positive
                 class of a binary task, or the class index for multiclass), labelled_at.
    rows_sample  full logged rows: row_id, batch_id, window_start, ts, score, keep (why kept:
                 "pending" until the window is checked, then "sample", "alert" or "error"), then one
                 column per logged feature (DOUBLE PRECISION or TEXT, created at `init`).
    quarantine   rows that broke the schema: batch_id, row_number, row_id, reason, data (JSON).
    alerts       id (primary key), rule, window_start (first window), window_end (last window),
                 code, severity, columns (JSON list), title, root_cause, fix, cause, retrain
                 (trigger met), status (open / escalated / resolved), first_seen, last_seen,
                 windows_in_row, sent (JSON list of route events), detail (JSON).

Window summary (the `summary` JSON): the layout is documented in `monitor.windows` (rows, the
    features and scores counted on the reference's bins as packed column profiles, latency
    histogram, schema counts, out-of-distribution rows, quarantined rows, batch ids). Build one
    with `windows.summarise(frame, reference, features, scores=...)`; parts of a window merge with
    `windows.merge_summaries` (what `merge_window_summaries` and `write_batch` do).

Errors: `StoreError` (a ValueError, exit code 2 in the CLI) says what failed and what was kept.
DuckDB lets one process write a file at a time: the store opens a connection per operation (or per
`session()`), retrying while another process holds the file, so concurrent writers queue.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ..errors import InputError

SCHEMA_VERSION = 1
LOCK_WAIT_SECONDS = 120.0
# DuckDB's memory cap (it spills to disk past it): MLTRIAGE_DUCKDB_MEMORY, else 1GB
DUCKDB_MEMORY = os.environ.get(
    "MLTRIAGE_DUCKDB_MEMORY", "1GB"
)  # how long a writer waits for another process holding a DuckDB file

ROW_META_COLUMNS = ("row_id", "batch_id", "window_start", "ts", "score", "keep")
# the full rows of committed batches only (see Store.writing_batch)
COMMITTED_ROWS = "batch_id IN (SELECT batch_id FROM batches)"

TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    """CREATE TABLE IF NOT EXISTS batches (
        batch_id TEXT PRIMARY KEY, logged_at TIMESTAMP, rows BIGINT, quarantined BIGINT,
        status TEXT, source TEXT, sha256 TEXT)""",
    """CREATE TABLE IF NOT EXISTS windows (
        window_start TIMESTAMP PRIMARY KEY, window_end TIMESTAMP, rows BIGINT,
        labelled_rows BIGINT, summary TEXT, metrics TEXT, checked_at TIMESTAMP, report TEXT)""",
    """CREATE TABLE IF NOT EXISTS predictions (
        row_id TEXT, batch_id TEXT, ts TIMESTAMP, window_start TIMESTAMP,
        score DOUBLE PRECISION, predicted TEXT)""",
    """CREATE TABLE IF NOT EXISTS labels (
        row_id TEXT PRIMARY KEY, label DOUBLE PRECISION, labelled_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id TEXT, row_number BIGINT, row_id TEXT, reason TEXT, data TEXT)""",
    """CREATE TABLE IF NOT EXISTS alerts (
        id TEXT PRIMARY KEY, rule TEXT, window_start TIMESTAMP, window_end TIMESTAMP, code TEXT,
        severity TEXT, columns TEXT, title TEXT, root_cause TEXT, fix TEXT, cause TEXT,
        retrain BOOLEAN, status TEXT, first_seen TIMESTAMP, last_seen TIMESTAMP,
        windows_in_row BIGINT, sent TEXT, detail TEXT)""",
    "CREATE INDEX IF NOT EXISTS predictions_window ON predictions (window_start)",
    "CREATE INDEX IF NOT EXISTS predictions_row ON predictions (row_id)",
)

ALERT_COLUMNS = (
    "id", "rule", "window_start", "window_end", "code", "severity", "columns", "title", "root_cause",
    "fix", "cause", "retrain", "status", "first_seen", "last_seen", "windows_in_row", "sent", "detail",
)  # fmt: skip
_ALERT_JSON: dict[str, Any] = {"columns": [], "sent": [], "detail": {}}


class StoreError(InputError):
    """The store could not be opened, read or written; the message says what was kept."""


# ---------------------------------------------------------------------------------------------
# helpers


def to_time(v: Any) -> datetime | None:
    """A naive UTC datetime from a datetime, pandas Timestamp or ISO string (None stays None)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    ts = pd.Timestamp(v)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def iso(v: Any) -> str | None:
    """The ISO string of a stored time (seconds precision)."""
    t = to_time(v)
    return None if t is None else t.isoformat(timespec="seconds")


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def dumps(v: Any) -> str:
    from ..stats.rows import scalar

    return json.dumps(v, default=scalar, allow_nan=False)


def loads(text: str | None, default: Any = None) -> Any:
    return default if text is None or text == "" else json.loads(text)


def quote(name: str) -> str:
    """A SQL identifier, double-quoted (both backends)."""
    return '"' + str(name).replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------
# the store


class Store:
    """A monitor store. Methods open a connection per call unless inside `with store.session():`.

    Reading: meta(), reference(), settings(), windows(), window(), window_summary(), alerts(),
    window_report(), labelled(), sample_rows(), batches(), quarantined().
    Writing (each call one transaction): init(), write_batch(), merge_window_summaries(),
    add_labels(), save_window_metrics(), save_window_report(), save_alert(), keep_rows(),
    prune_rows()."""

    backend: str = "?"

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self._depth = 0

    # -- backend hooks ---------------------------------------------------------------------
    def _connect(self, write: bool) -> Any:  # pragma: no cover - each backend defines it
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    def _insert_frame(self, con: Any, table: str, df: pd.DataFrame) -> None:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:
        return self.url

    # -- connections -----------------------------------------------------------------------
    @contextmanager
    def session(self, write: bool = True) -> Iterator[Any]:
        """Hold one connection for several operations (a DuckDB file stays locked meanwhile)."""
        if self._conn is not None:
            self._depth += 1
            try:
                yield self._conn
            finally:
                self._depth -= 1
            return
        self._conn = self._connect(write)
        self._depth = 1
        try:
            yield self._conn
        finally:
            self._depth = 0
            con, self._conn = self._conn, None
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One transaction: committed whole, or rolled back whole (then the error propagates)."""
        with self.session(write=True) as con:
            con.execute("BEGIN")
            try:
                yield con
            except BaseException:
                try:
                    con.execute("ROLLBACK")
                except Exception:  # the connection is gone: the server rolls back
                    pass
                raise
            con.execute("COMMIT")

    @contextmanager
    def _side_transaction(self, con: Any) -> Iterator[Any]:
        """A transaction on a connection of its own (a BatchWriter's side connection)."""
        con.execute("BEGIN")
        try:
            yield con
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:
                pass
            raise
        con.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.session(write=False) as con:
            cur = con.execute(self._sql(sql), list(params))
            return list(cur.fetchall())

    def _exec(self, con: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return con.execute(self._sql(sql), list(params))

    def _frame(self, sql: str, params: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
        """A query's result as a DataFrame (columnar on DuckDB)."""
        with self.session(write=False) as con:
            cur = self._exec(con, sql, params)
            return pd.DataFrame(cur.fetchall(), columns=list(columns))

    # -- set-up ----------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the store has been initialised (`monitor init`)."""
        try:
            return bool(self._query("SELECT value FROM meta WHERE key = ?", ["schema_version"]))
        except Exception:
            return False

    def init(self, meta: Mapping[str, Any], row_columns: Mapping[str, str]) -> None:
        """Create the tables and write the meta (reference, settings, model). `row_columns`: the
        logged feature columns -> "number" or "text", the columns of rows_sample."""
        types = {"number": "DOUBLE PRECISION", "text": "TEXT"}
        cols = ", ".join(f"{quote(c)} {types[t]}" for c, t in row_columns.items())
        rows_sql = (
            "CREATE TABLE IF NOT EXISTS rows_sample (row_id TEXT, batch_id TEXT, "
            "window_start TIMESTAMP, ts TIMESTAMP, score DOUBLE PRECISION, keep TEXT"
            + (", " + cols if cols else "")
            + ")"
        )
        with self.transaction() as con:
            for sql in (
                *TABLES,
                rows_sql,
                "CREATE INDEX IF NOT EXISTS rows_window ON rows_sample (window_start)",
            ):
                self._exec(con, sql)
            items = {**meta, "schema_version": SCHEMA_VERSION, "row_columns": dict(row_columns)}
            for k, v in items.items():
                self._exec(con, "DELETE FROM meta WHERE key = ?", [k])
                self._exec(con, "INSERT INTO meta (key, value) VALUES (?, ?)", [k, dumps(v)])

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as con:
            self._exec(con, "DELETE FROM meta WHERE key = ?", [key])
            self._exec(con, "INSERT INTO meta (key, value) VALUES (?, ?)", [key, dumps(value)])

    def meta(self) -> dict[str, Any]:
        """Every meta key -> its decoded value."""
        try:
            rows = self._query("SELECT key, value FROM meta WHERE key NOT IN ('reference_rows')")
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(
                f"{self.describe()} is not a monitor store ({_first_line(e)})",
                "create it with `mltriage monitor init --store ... --reference train.parquet`",
            ) from None
        if not rows:
            raise StoreError(
                f"{self.describe()} is not initialised",
                "run `mltriage monitor init --store ... --reference train.parquet` first",
            )
        return {k: loads(v) for k, v in rows}

    def meta_value(self, key: str, default: Any = None) -> Any:
        """One meta key (the large ones, such as "reference_rows", are read only this way)."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", [key])
        return loads(rows[0][0]) if rows else default

    def settings(self) -> dict[str, Any]:
        """The settings written at init: columns and roles, window, task, threshold, config."""
        return dict(self.meta().get("settings") or {})

    def reference(self) -> Any:
        """The reference Profile (features, and the scores under PRED_COL when known)."""
        from ..stats.profile import Profile

        return Profile.from_dict(self.meta()["reference"])

    # -- batches ---------------------------------------------------------------------------
    def has_batch(self, batch_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM batches WHERE batch_id = ?", [batch_id]))

    def batches(self) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT batch_id, logged_at, rows, quarantined, status, source, sha256 FROM batches "
            "ORDER BY logged_at, batch_id"
        )
        keys = ("batch_id", "logged_at", "rows", "quarantined", "status", "source", "sha256")
        return [{**dict(zip(keys, r)), "logged_at": iso(r[1])} for r in rows]

    @contextmanager
    def writing_batch(self, batch: Mapping[str, Any]) -> Iterator[BatchWriter | None]:
        """Write one batch in one transaction, streamed: yields a BatchWriter (add rows to
        predictions, rows_sample and quarantine as they are computed; add window summaries), or
        None when the batch id is already stored (logging a batch twice changes nothing). On
        leaving, the batch's `batches` row (batch_id, rows, quarantined, source, sha256) and its
        window summaries are written and everything commits at once; an error rolls it all
        back, so a batch is either wholly in the store or not at all.

        Full rows (rows_sample) are the exception that keeps memory bounded: they are committed
        chunk by chunk on a second connection, and every reader counts only the rows of
        committed batches (COMMITTED_ROWS). Rows of a batch that never committed (a killed
        `log`) are invisible, deleted when that batch id is logged again, and by retention."""
        bid = str(batch["batch_id"])
        with self.transaction() as con:
            self._lock_for_write(con)
            if self._exec(con, "SELECT 1 FROM batches WHERE batch_id = ?", [bid]).fetchall():
                yield None
                return
            w = BatchWriter(self, con, bid)
            try:
                yield w
            finally:
                w.close_side()
            self._exec(
                con,
                "INSERT INTO batches (batch_id, logged_at, rows, quarantined, status, source, sha256) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    bid,
                    now(),
                    int(batch.get("rows", w.rows)),
                    int(batch.get("quarantined", w.quarantined)),
                    "committed",
                    batch.get("source"),
                    batch.get("sha256"),
                ],
            )
            self._merge_summaries(con, w.summaries())

    def write_batch(
        self,
        batch: Mapping[str, Any],
        summaries: Sequence[Mapping[str, Any]],
        predictions: pd.DataFrame | None = None,
        rows: pd.DataFrame | None = None,
        quarantine: pd.DataFrame | None = None,
    ) -> bool:
        """Write one batch at once (see writing_batch): its window summaries, predictions, sampled
        rows and quarantined rows. Returns False (and writes nothing) when the batch id is already
        in the store."""
        with self.writing_batch(batch) as w:
            if w is None:
                return False
            for item in summaries:
                w.add_summary(item["window_start"], item["window_end"], item["summary"])
            for table, df in (
                ("predictions", predictions),
                ("rows_sample", rows),
                ("quarantine", quarantine),
            ):
                if df is not None:
                    w.add(table, df)
        return True

    def _lock_for_write(self, con: Any) -> None:
        """Serialise writers that merge into the same windows (Postgres; DuckDB has one writer)."""

    # -- windows ---------------------------------------------------------------------------
    def merge_window_summaries(
        self, summaries: Sequence[Mapping[str, Any]], batch_id: str | None = None
    ) -> bool:
        """Merge computed window summaries into `windows` in one transaction. Each item:
        {"window_start", "window_end", "summary"} (summary as described in the module docstring,
        on the reference's bins). With `batch_id`: recorded in `batches` in the same transaction,
        and a batch id already present makes this a no-op (returns False)."""
        if batch_id is not None:
            rows = sum(int(s["summary"].get("rows", 0)) for s in summaries)
            return self.write_batch({"batch_id": batch_id, "rows": rows, "source": "summaries"}, summaries)
        with self.transaction() as con:
            self._lock_for_write(con)
            self._merge_summaries(con, summaries)
        return True

    def _merge_summaries(self, con: Any, summaries: Sequence[Mapping[str, Any]]) -> None:
        """Merge summaries into `windows`: the existing ones read in one query, new windows
        inserted and changed ones updated in one statement each (a year of hourly windows in a
        second, not 17,520 round trips)."""
        from .windows import merge_summaries

        items = [(to_time(i["window_start"]), to_time(i["window_end"]), i["summary"]) for i in summaries]
        if not items:
            return
        starts = [s for s, _, _ in items if s is not None]
        got = self._exec(
            con, "SELECT window_start, summary FROM windows WHERE window_start >= ? AND window_start <= ?",
            [min(starts), max(starts)],
        ).fetchall()  # fmt: skip
        old = {to_time(ws): sm for ws, sm in got}
        new_rows, upd_rows = [], []
        for start, end, summ in items:  # a summary is a dict, or JSON text (from a BatchWriter)
            if start in old:
                merged = merge_summaries(loads(old[start]), loads(summ) if isinstance(summ, str) else summ)
                upd_rows.append((start, int(merged.get("rows", 0)), dumps(merged)))
            elif isinstance(summ, str):
                new_rows.append((start, end, _rows_of(summ), 0, summ))
            else:
                new_rows.append((start, end, int(summ.get("rows", 0)), 0, dumps(summ)))
        if new_rows:
            cols = ["window_start", "window_end", "rows", "labelled_rows", "summary"]
            self._insert_frame(con, "windows", pd.DataFrame(new_rows, columns=cols))
        if upd_rows:
            self._exec(
                con,
                "CREATE TEMPORARY TABLE IF NOT EXISTS merged_windows "
                "(window_start TIMESTAMP, rows BIGINT, summary TEXT)",
            )
            self._exec(con, "DELETE FROM merged_windows")
            self._insert_frame(
                con, "merged_windows", pd.DataFrame(upd_rows, columns=["window_start", "rows", "summary"])
            )
            self._exec(
                con,
                "UPDATE windows SET summary = m.summary, rows = m.rows, checked_at = NULL "
                "FROM merged_windows m WHERE windows.window_start = m.window_start",
            )
            self._exec(con, "DELETE FROM merged_windows")

    def windows(self, start: Any = None, end: Any = None) -> list[dict[str, Any]]:
        """The windows in [start, end) by window_start, oldest first: window_start, window_end,
        rows, labelled_rows, checked_at and the metrics `check` computed (per-feature drift PSI,
        missing/OOD shares, score distribution, estimated and realised performance with
        intervals, label lag, latency percentiles, ...; see monitor.windows.window_metrics)."""
        where, params = _range(start, end)
        rows = self._query(
            "SELECT window_start, window_end, rows, labelled_rows, metrics, checked_at FROM windows"
            + where
            + " ORDER BY window_start",
            params,
        )
        out = []
        for ws, we, n, nl, metrics, checked in rows:
            d = {"window_start": iso(ws), "window_end": iso(we), "rows": int(n or 0)}
            d["labelled_rows"] = int(nl or 0)
            d["checked_at"] = iso(checked)
            d.update(loads(metrics, {}) or {})
            out.append(d)
        return out

    def window_summaries(self, start: Any = None, end: Any = None) -> list[dict[str, Any]]:
        """[{"window_start", "window_end", "summary"}] in [start, end), oldest first."""
        where, params = _range(start, end)
        rows = self._query(
            "SELECT window_start, window_end, summary FROM windows" + where + " ORDER BY window_start",
            params,
        )
        return [{"window_start": iso(a), "window_end": iso(b), "summary": loads(s, {})} for a, b, s in rows]

    def window_rows(self) -> list[dict[str, Any]]:
        """Every window, oldest first, as `check` reads them: window_start and window_end
        (datetimes), rows, labelled_rows, metrics (dict or None), checked_at, pending (rows held)."""
        pend = dict(
            self._query(
                "SELECT window_start, COUNT(*) FROM rows_sample WHERE keep = 'pending' AND "
                + COMMITTED_ROWS
                + " GROUP BY window_start"
            )
        )
        rows = self._query(
            "SELECT window_start, window_end, rows, labelled_rows, metrics, checked_at FROM windows ORDER BY window_start"
        )
        return [
            {
                "window_start": to_time(ws),
                "window_end": to_time(we),
                "rows": int(n or 0),
                "labelled_rows": int(nl or 0),
                "metrics": loads(m),
                "checked_at": checked,
                "pending": int(pend.get(ws, 0)),
            }
            for ws, we, n, nl, m, checked in rows
        ]

    def summaries_at(self, starts: Sequence[Any]) -> dict[datetime, dict[str, Any]]:
        """window_start -> summary, for the given windows."""
        want = _times(starts)
        if not want:
            return {}
        rows = self._query(
            "SELECT window_start, summary FROM windows WHERE window_start >= ? AND window_start <= ?",
            [min(want), max(want)],
        )
        return {t: loads(sm, {}) for ws, sm in rows if (t := to_time(ws)) is not None and t in want}

    def scores_by_window(self, starts: Sequence[Any]) -> dict[datetime, Any]:
        """window_start -> numpy array of the logged scores, for the given windows."""
        import numpy as np

        want = _times(starts)
        if not want:
            return {}
        df = self._frame(
            "SELECT window_start, score FROM predictions WHERE window_start >= ? AND window_start <= ? "
            "ORDER BY window_start",
            [min(want), max(want)],
            ["window_start", "score"],
        )
        if df.empty:
            return {}
        ws = pd.to_datetime(df["window_start"]).to_numpy()
        sc = pd.to_numeric(df["score"], errors="coerce").to_numpy(np.float64)
        cut = np.flatnonzero(ws[1:] != ws[:-1]) + 1
        out = {}
        for a, b in zip(np.r_[0, cut], np.r_[cut, len(ws)]):
            key = pd.Timestamp(ws[a]).to_pydatetime()
            if key in want:
                out[key] = sc[a:b]
        return out

    def window_summary(self, window_start: Any) -> dict[str, Any] | None:
        rows = self._query("SELECT summary FROM windows WHERE window_start = ?", [to_time(window_start)])
        return loads(rows[0][0]) if rows else None

    def save_window_metrics(self, items: Sequence[tuple[Any, Mapping[str, Any], int]]) -> None:
        """Write (window_start, metrics, labelled_rows) for many windows in one transaction (one
        UPDATE joined to a temporary table, so a year of hourly windows is one statement)."""
        if not items:
            return
        stamp = now()
        df = pd.DataFrame(
            {
                "window_start": [to_time(ws) for ws, _, _ in items],
                "metrics": [dumps(m) for _, m, _ in items],
                "labelled_rows": [int(n) for _, _, n in items],
            }
        )
        with self.transaction() as con:
            self._exec(
                con,
                "CREATE TEMPORARY TABLE IF NOT EXISTS new_metrics "
                "(window_start TIMESTAMP, metrics TEXT, labelled_rows BIGINT)",
            )
            self._exec(con, "DELETE FROM new_metrics")
            self._insert_frame(con, "new_metrics", df)
            self._exec(
                con,
                "UPDATE windows SET metrics = n.metrics, labelled_rows = n.labelled_rows, checked_at = ? "
                "FROM new_metrics n WHERE windows.window_start = n.window_start",
                [stamp],
            )
            self._exec(con, "DELETE FROM new_metrics")

    def window_report(self, window_start: Any) -> dict[str, Any] | None:
        """The Report JSON (Report.to_dict()) of the window's production-rung diagnosis, or None
        when `check` has not diagnosed that window (it does for every alerting window)."""
        rows = self._query("SELECT report FROM windows WHERE window_start = ?", [to_time(window_start)])
        return loads(rows[0][0]) if rows and rows[0][0] else None

    def save_window_report(self, window_start: Any, report: Mapping[str, Any]) -> None:
        with self.transaction() as con:
            self._exec(
                con,
                "UPDATE windows SET report = ? WHERE window_start = ?",
                [dumps(report), to_time(window_start)],
            )

    # -- labels ----------------------------------------------------------------------------
    def add_labels(self, labels: pd.DataFrame) -> int:
        """Upsert labels (columns row_id, label as numbers, labelled_at) in one transaction;
        returns how many ids match a logged prediction."""
        if labels.empty:
            return 0
        df = labels[["row_id", "label", "labelled_at"]].drop_duplicates("row_id", keep="last")
        with self.transaction() as con:
            self._lock_for_write(con)
            self._exec(
                con,
                "CREATE TEMPORARY TABLE IF NOT EXISTS new_labels (row_id TEXT, label DOUBLE PRECISION, labelled_at TIMESTAMP)",
            )
            self._exec(con, "DELETE FROM new_labels")
            self._insert_frame(con, "new_labels", df)
            self._exec(con, "DELETE FROM labels WHERE row_id IN (SELECT row_id FROM new_labels)")
            self._exec(con, "INSERT INTO labels SELECT row_id, label, labelled_at FROM new_labels")
            got = self._exec(
                con,
                "SELECT COUNT(*) FROM new_labels n WHERE EXISTS "
                "(SELECT 1 FROM predictions p WHERE p.row_id = n.row_id)",
            ).fetchall()
            self._exec(con, "DELETE FROM new_labels")
        return int(got[0][0])

    def labelled(self, start: Any = None, end: Any = None) -> pd.DataFrame:
        """Predictions with their labels, in [start, end): window_start, row_id, ts, score,
        predicted, label, labelled_at."""
        where, params = _range(start, end, "p.window_start")
        rows = self._query(
            "SELECT p.window_start, p.row_id, p.ts, p.score, p.predicted, l.label, l.labelled_at "
            "FROM predictions p JOIN labels l ON p.row_id = l.row_id" + where,
            params,
        )
        cols = ["window_start", "row_id", "ts", "score", "predicted", "label", "labelled_at"]
        return pd.DataFrame(rows, columns=cols)

    def label_counts(self, as_of: Any = None) -> dict[datetime, int]:
        """window_start -> predictions with a label (labelled at or before as_of)."""
        sql, params = (
            "SELECT p.window_start, COUNT(*) FROM predictions p JOIN labels l ON p.row_id = l.row_id",
            list[Any](),
        )
        if as_of is not None:
            sql += " WHERE l.labelled_at <= ?"
            params.append(to_time(as_of))
        rows = self._query(sql + " GROUP BY p.window_start", params)
        return {t: int(n) for w, n in rows if (t := to_time(w)) is not None}

    def labelled_at(self, starts: Sequence[Any], as_of: Any = None) -> pd.DataFrame:
        """Labelled predictions of the given windows (labels at or before as_of): window_start,
        row_id, ts, score, label, labelled_at."""
        want = _times(starts)
        cols = ["window_start", "row_id", "ts", "score", "label", "labelled_at"]
        if not want:
            return pd.DataFrame(columns=cols)
        sql = (
            "SELECT p.window_start, p.row_id, p.ts, p.score, l.label, l.labelled_at FROM predictions p "
            "JOIN labels l ON p.row_id = l.row_id WHERE p.window_start >= ? AND p.window_start <= ?"
        )
        params: list[Any] = [min(want), max(want)]
        if as_of is not None:
            sql += " AND l.labelled_at <= ?"
            params.append(to_time(as_of))
        df = self._frame(sql, params, cols)
        if df.empty:
            return df
        df["window_start"] = pd.to_datetime(df["window_start"])
        return df[df["window_start"].isin([pd.Timestamp(w) for w in want])].reset_index(drop=True)

    def predictions(self, start: Any = None, end: Any = None) -> pd.DataFrame:
        where, params = _range(start, end)
        rows = self._query(
            "SELECT window_start, row_id, ts, score, predicted FROM predictions" + where, params
        )
        return pd.DataFrame(rows, columns=["window_start", "row_id", "ts", "score", "predicted"])

    # -- sampled rows ----------------------------------------------------------------------
    def sample_rows(self, window_start: Any = None, keep: Sequence[str] | None = None) -> pd.DataFrame:
        """Full logged rows kept for a window (all windows when None), optionally by `keep` reason."""
        sql, params = "SELECT * FROM rows_sample WHERE " + COMMITTED_ROWS, list[Any]()
        if window_start is not None:
            sql += " AND window_start = ?"
            params.append(to_time(window_start))
        if keep:
            sql += " AND keep IN (" + ", ".join("?" for _ in keep) + ")"
            params.extend(keep)
        with self.session(write=False) as con:
            cur = self._exec(con, sql, params)
            names = [d[0] for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=names)

    def mark_rows(
        self,
        window_start: Any,
        reason: str,
        row_ids: Sequence[str] | None = None,
        only: Sequence[str] = ("pending", "sample"),
    ) -> None:
        """Keep a window's rows (all, or the given ids) for `reason` ("alert", "error"): rows now
        marked `only` are re-marked; rows already kept for another reason stay as they are."""
        ws = to_time(window_start)
        cond = " AND keep IN (" + ", ".join("?" for _ in only) + ") AND " + COMMITTED_ROWS
        with self.transaction() as con:
            if row_ids is None:
                self._exec(
                    con, "UPDATE rows_sample SET keep = ? WHERE window_start = ?" + cond, [reason, ws, *only]
                )
                return
            ids = [str(i) for i in row_ids]
            self._exec(con, "CREATE TEMPORARY TABLE IF NOT EXISTS mark_ids (row_id TEXT)")
            self._exec(con, "DELETE FROM mark_ids")
            self._insert_frame(con, "mark_ids", pd.DataFrame({"row_id": ids}))
            self._exec(
                con,
                "UPDATE rows_sample SET keep = ? WHERE window_start = ? AND row_id IN (SELECT row_id FROM mark_ids)"
                + cond,
                [reason, ws, *only],
            )
            self._exec(con, "DELETE FROM mark_ids")

    def pending(self, window_start: Any) -> pd.DataFrame:
        """row_id and score of a window's rows still held as "pending"."""
        return self._frame(
            "SELECT row_id, score FROM rows_sample WHERE window_start = ? AND keep = 'pending' AND "
            + COMMITTED_ROWS,
            [to_time(window_start)],
            ["row_id", "score"],
        )

    def prune_rows(self, window_start: Any, keep_ids: Sequence[str]) -> int:
        """Drop a window's pending rows except `keep_ids` (which become "sample"); returns how
        many rows were dropped."""
        ws = to_time(window_start)
        with self.transaction() as con:
            self._exec(con, "CREATE TEMPORARY TABLE IF NOT EXISTS keep_ids (row_id TEXT)")
            self._exec(con, "DELETE FROM keep_ids")
            if keep_ids:
                self._insert_frame(con, "keep_ids", pd.DataFrame({"row_id": [str(i) for i in keep_ids]}))
            self._exec(
                con,
                "UPDATE rows_sample SET keep = 'sample' WHERE window_start = ? AND keep = 'pending' AND "
                + COMMITTED_ROWS
                + " "
                "AND row_id IN (SELECT row_id FROM keep_ids)",
                [ws],
            )
            n = self._exec(
                con,
                "SELECT COUNT(*) FROM rows_sample WHERE window_start = ? AND keep = 'pending' AND "
                + COMMITTED_ROWS,
                [ws],
            ).fetchall()[0][0]
            self._exec(
                con,
                "DELETE FROM rows_sample WHERE window_start = ? AND keep = 'pending' AND " + COMMITTED_ROWS,
                [ws],
            )
            self._exec(con, "DELETE FROM keep_ids")
        return int(n)

    def drop_before(self, table: str, cutoff: Any) -> int:
        """Retention: delete rows of `predictions` or `rows_sample` older than cutoff (window_start)."""
        if table not in ("predictions", "rows_sample"):
            raise ValueError(table)
        with self.transaction() as con:
            n = self._exec(
                con, f"SELECT COUNT(*) FROM {table} WHERE window_start < ?", [to_time(cutoff)]
            ).fetchall()
            self._exec(con, f"DELETE FROM {table} WHERE window_start < ?", [to_time(cutoff)])
        return int(n[0][0])

    def quarantined(self, batch_id: str | None = None) -> pd.DataFrame:
        sql, params = "SELECT batch_id, row_number, row_id, reason, data FROM quarantine", []
        if batch_id is not None:
            sql += " WHERE batch_id = ?"
            params.append(batch_id)
        rows = self._query(sql + " ORDER BY batch_id, row_number", params)
        return pd.DataFrame(rows, columns=["batch_id", "row_number", "row_id", "reason", "data"])

    # -- alerts ----------------------------------------------------------------------------
    def alerts(
        self, status: Sequence[str] | None = None, start: Any = None, end: Any = None
    ) -> list[dict[str, Any]]:
        """Alerts (dicts with ALERT_COLUMNS, times as ISO strings, JSON decoded), oldest first;
        filtered by status and by overlap with [start, end)."""
        sql, params = "SELECT " + ", ".join(ALERT_COLUMNS) + " FROM alerts WHERE 1 = 1", list[Any]()
        if status:
            sql += " AND status IN (" + ", ".join("?" for _ in status) + ")"
            params.extend(status)
        if start is not None:
            sql += " AND window_end > ?"
            params.append(to_time(start))
        if end is not None:
            sql += " AND window_start < ?"
            params.append(to_time(end))
        rows = self._query(sql + " ORDER BY window_start, id", params)
        return [_alert_dict(r) for r in rows]

    def save_alert(self, alert: Mapping[str, Any]) -> None:
        """Insert or replace an alert (by id)."""
        self.save_alerts([alert])

    def save_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        with self.transaction() as con:
            for a in alerts:
                vals = []
                for k in ALERT_COLUMNS:
                    v = a.get(k)
                    if k in _ALERT_JSON:
                        v = dumps(_ALERT_JSON[k] if v is None else v)
                    elif k in ("window_start", "window_end", "first_seen", "last_seen"):
                        v = to_time(v)
                    elif k == "retrain":
                        v = bool(v)
                    vals.append(v)
                self._exec(con, "DELETE FROM alerts WHERE id = ?", [a["id"]])
                self._exec(
                    con,
                    f"INSERT INTO alerts ({', '.join(ALERT_COLUMNS)}) VALUES ({', '.join('?' for _ in ALERT_COLUMNS)})",
                    vals,
                )

    # -- size ------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows per table."""
        out = {}
        for t in ("batches", "windows", "predictions", "labels", "rows_sample", "quarantine", "alerts"):
            where = " WHERE " + COMMITTED_ROWS if t == "rows_sample" else ""
            out[t] = int(self._query(f"SELECT COUNT(*) FROM {t}" + where)[0][0])
        return out


def _alert_dict(r: Sequence[Any]) -> dict[str, Any]:
    d = dict(zip(ALERT_COLUMNS, r))
    for k, default in _ALERT_JSON.items():
        d[k] = loads(d[k], default)
    for k in ("window_start", "window_end", "first_seen", "last_seen"):
        d[k] = iso(d[k])
    d["retrain"] = bool(d["retrain"])
    d["windows_in_row"] = int(d["windows_in_row"] or 0)
    return d


def _rows_of(summary_json: str) -> int:
    """The "rows" of a summary in JSON text (the first key `summarise` writes), without parsing it all."""
    head = summary_json[:40]
    if head.startswith('{"rows": '):
        return int(head[9:].split(",", 1)[0])
    return int(json.loads(summary_json).get("rows", 0))


def _times(values: Sequence[Any]) -> set[datetime]:
    return {t for t in (to_time(v) for v in values) if t is not None}


def _range(start: Any, end: Any, col: str = "window_start") -> tuple[str, list[Any]]:
    conds: list[str] = []
    params: list[Any] = []
    if start is not None:
        conds.append(f"{col} >= ?")
        params.append(to_time(start))
    if end is not None:
        conds.append(f"{col} < ?")
        params.append(to_time(end))
    return (" WHERE " + " AND ".join(conds) if conds else ""), params


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


class BatchWriter:
    """Rows and window summaries of one batch, written inside its transaction (writing_batch);
    full rows on a side connection (see writing_batch)."""

    def __init__(self, store: Store, con: Any, batch_id: str = "") -> None:
        self.store, self.con, self.batch_id = store, con, batch_id
        self.rows = 0
        self.quarantined = 0
        self._windows: dict[datetime, tuple[datetime, str]] = {}
        self._side: Any = None

    def _side_con(self) -> Any:
        if self._side is None:
            self._side = self.store._connect(True)
            with self.store._side_transaction(self._side) as c:  # rows of an earlier, killed attempt
                self.store._exec(c, "DELETE FROM rows_sample WHERE batch_id = ?", [self.batch_id])
        return self._side

    def close_side(self) -> None:
        if self._side is not None:
            side, self._side = self._side, None
            side.close()

    def add(self, table: str, df: pd.DataFrame) -> None:
        """Insert rows into predictions, rows_sample or quarantine (counted for the batch row)."""
        if table not in ("predictions", "rows_sample", "quarantine"):
            raise ValueError(table)
        if df is None or not len(df):
            return
        if table == "predictions":
            self.rows += len(df)
        elif table == "quarantine":
            self.quarantined += len(df)
        if table == "rows_sample" and self.batch_id:
            side = self._side_con()
            with self.store._side_transaction(side) as c:
                self.store._insert_frame(c, table, df)
            return
        self.store._insert_frame(self.con, table, df)

    def duplicated_ids(self, batch_id: str) -> int:
        """How many ids appear more than once among this batch's predictions."""
        sql = (
            "SELECT COUNT(*) FROM (SELECT row_id FROM predictions WHERE batch_id = ? "
            "GROUP BY row_id HAVING COUNT(*) > 1) d"
        )
        return int(self.store._exec(self.con, sql, [batch_id]).fetchall()[0][0])

    def add_summary(self, window_start: Any, window_end: Any, summary: Mapping[str, Any] | str) -> None:
        """Merge a summary of part of a window into the batch's summary of that window. Kept as
        JSON text (a year of hourly windows of 55 columns is ~100 MB as text, ~1 GB as dicts)."""
        from .windows import merge_summaries

        ws, we = to_time(window_start), to_time(window_end)
        assert ws is not None and we is not None
        got = self._windows.get(ws)
        if got is None:
            self._windows[ws] = (we, summary if isinstance(summary, str) else dumps(summary))
            return
        new = loads(summary) if isinstance(summary, str) else summary
        self._windows[ws] = (we, dumps(merge_summaries(loads(got[1]), new)))

    def summaries(self) -> list[dict[str, Any]]:
        """{"window_start", "window_end", "summary"} of the batch, the summary as JSON text."""
        return [
            {"window_start": k, "window_end": v[0], "summary": v[1]} for k, v in sorted(self._windows.items())
        ]


# ---------------------------------------------------------------------------------------------
# DuckDB


class DuckDBStore(Store):
    """An embedded DuckDB file. One writing process at a time: others wait (LOCK_WAIT_SECONDS)."""

    backend = "duckdb"

    def describe(self) -> str:
        return f"DuckDB store {self.url}"

    def _connect(self, write: bool) -> Any:
        try:
            import duckdb
        except ImportError:
            raise StoreError(
                "the DuckDB store needs the duckdb package", "pip install 'mltriage[monitor]'"
            ) from None
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        delay = 0.02
        while True:
            try:
                return duckdb.connect(self.url, config={"memory_limit": DUCKDB_MEMORY})
            except duckdb.IOException as e:
                msg = str(e)
                if "lock" not in msg.lower() or time.monotonic() > deadline:
                    raise StoreError(
                        f"cannot open {self.describe()}: {_first_line(e)}", _kept_hint()
                    ) from None
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)

    def _frame(self, sql: str, params: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
        with self.session(write=False) as con:
            df = con.execute(self._sql(sql), list(params)).df()
            df.columns = list(columns)
            return df

    def _insert_frame(self, con: Any, table: str, df: pd.DataFrame) -> None:
        con.register("_incoming", df)
        cols = ", ".join(quote(c) for c in df.columns)
        # no try/finally: after a failed insert the transaction is aborted and unregistering
        # would raise over the real error (a full disk)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming")
        con.unregister("_incoming")


# ---------------------------------------------------------------------------------------------
# PostgreSQL


class PostgresStore(Store):
    """A PostgreSQL database (psycopg 3). Writers that merge windows take a table lock."""

    backend = "postgres"

    def describe(self) -> str:
        return "PostgreSQL store " + _redact(self.url)

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def _connect(self, write: bool) -> Any:
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                "a postgresql:// store needs psycopg", "pip install 'mltriage[monitor]'"
            ) from None
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as e:
            raise StoreError(
                f"cannot connect to {self.describe()}: {_first_line(e)}",
                "check the URL and that the server runs",
            ) from None

    def _lock_for_write(self, con: Any) -> None:
        con.execute("LOCK TABLE windows IN SHARE ROW EXCLUSIVE MODE")

    def _insert_frame(self, con: Any, table: str, df: pd.DataFrame) -> None:
        cols = ", ".join(quote(c) for c in df.columns)
        with con.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
            for row in df.itertuples(index=False, name=None):
                cp.write_row([_pg_value(v) for v in row])


def _pg_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return to_time(v)
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def _redact(url: str) -> str:
    """The URL without its password."""
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _kept_hint() -> str:
    return "nothing of this operation was written; batches committed before it are intact"


# ---------------------------------------------------------------------------------------------


def open_store(url: str) -> Store:
    """The store at `url`: a `postgresql://` (or `postgres://`) URL, else a DuckDB file path."""
    u = str(url)
    if u.startswith(("postgresql://", "postgres://")):
        return PostgresStore(u)
    return DuckDBStore(u)
