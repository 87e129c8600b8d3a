"""The prediction store of `mltriage monitor`: one schema, two backends. This file holds the
schema, the helpers and `StoreBase` (connections, meta, batches); `store.py` adds windows,
labels, rows and alerts (`Store`) and `open_store`; `backends.py` the DuckDB and PostgreSQL
classes; `batch_writer.py` what a batch writes in its transaction.

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
    windows      window_start (primary key), window_end, rows, labelled_rows, summary and dense
                 (the window summary in its stored form, see below), metrics (JSON written by
                 `check`), checked_at, report (the Report JSON of the window's production-rung
                 diagnosis, written by `check` for alerting windows).
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

Window summary: the layout is documented in `monitor.windows` (rows, the features and scores
    counted on the reference's bins as packed column profiles, latency histogram, schema counts,
    out-of-distribution rows, quarantined rows, batch ids). Build one with
    `windows.summarise(frame, reference, features, scores=...)`; parts of a window merge with
    `windows.merge_summaries` (what `merge_window_summaries` and `write_batch` do). Stored
    (`monitor.summary_codec`) as `dense`, one float64 vector per window holding the numeric
    column profiles on the layout of meta "summary_layout" (BLOB/BYTEA, read for all windows with
    one np.frombuffer), and `summary`, the rest as JSON; the readers return the dict.

Schema versions (meta "schema_version", SCHEMA_VERSION): 1 kept the whole summary as JSON; a
    store of version 1 is upgraded in place the first time it is opened (its summaries
    re-encoded in one transaction); a store of a newer version is refused with a message.

Errors: `StoreError` (a ValueError, exit code 2 in the CLI) says what failed and what was kept.
DuckDB lets one process write a file at a time: the store opens a connection per operation (or per
`session()`), retrying while another process holds the file, so concurrent writers queue.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InputError

if TYPE_CHECKING:
    from .batch_writer import BatchWriter

SCHEMA_VERSION = 2  # 2: window summaries as sparse JSON + dense float64 vectors (summary_codec)
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
        labelled_rows BIGINT, summary TEXT, metrics TEXT, checked_at TIMESTAMP, report TEXT,
        dense BYTEA)""",
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
)
# secondary indexes of the large tables: PostgreSQL uses them; DuckDB does not create them (its
# joins hash, its range filters use the zone maps of rows appended in time order, and keeping an
# ART index up to date on every logged row costs more than a third of the insert)
INDEXES = (
    "CREATE INDEX IF NOT EXISTS predictions_window ON predictions (window_start)",
    "CREATE INDEX IF NOT EXISTS predictions_row ON predictions (row_id)",
    "CREATE INDEX IF NOT EXISTS rows_window ON rows_sample (window_start)",
)

ALERT_COLUMNS = (
    "id", "rule", "window_start", "window_end", "code", "severity", "columns", "title", "root_cause",
    "fix", "cause", "retrain", "status", "first_seen", "last_seen", "windows_in_row", "sent", "detail",
)  # fmt: skip
ALERT_JSON: dict[str, Any] = {"columns": [], "sent": [], "detail": {}}


class StoreError(InputError):
    """The store could not be opened, read or written; the message says what was kept."""


# ---------------------------------------------------------------------------------------------
# helpers


def to_time(v: Any) -> datetime | None:
    """A naive UTC datetime from a datetime, pandas Timestamp or ISO string (None stays None)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if type(v) is datetime and v.tzinfo is None:  # what the databases return: as it is
        return v
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


class StoreBase:
    """A monitor store. Methods open a connection per call unless inside `with store.session():`.

    Reading: meta(), reference(), settings(), windows(), window(), window_summary(), alerts(),
    window_report(), labelled(), sample_rows(), batches(), quarantined().
    Writing (each call one transaction): init(), write_batch(), merge_window_summaries(),
    add_labels(), save_window_metrics(), save_window_report(), save_alert(), keep_rows(),
    prune_rows()."""

    backend: str = "?"
    indexes: bool = True  # create INDEXES (see there)

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self._depth = 0
        self._layout: Any = None

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
            for sql in (*TABLES, rows_sql, *(INDEXES if self.indexes else ())):
                self._exec(con, sql)
            from ..stats.profile import Profile
            from .summary_codec import Layout

            layout = Layout.from_profile(Profile.from_dict(meta["reference"]))
            old = self._exec(con, "SELECT value FROM meta WHERE key = 'summary_layout'").fetchall()
            was = self._exec(con, "SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            items = {
                **meta,
                "schema_version": SCHEMA_VERSION,
                "row_columns": dict(row_columns),
                "summary_layout": layout.to_list(),
            }
            for k, v in items.items():
                self._exec(con, "DELETE FROM meta WHERE key = ?", [k])
                self._exec(con, "INSERT INTO meta (key, value) VALUES (?, ?)", [k, dumps(v)])
            if was and int(loads(was[0][0])) < 2:  # --force on a store of schema 1
                self._exec(con, "ALTER TABLE windows ADD COLUMN IF NOT EXISTS dense BYTEA")
                self._recode_windows(con, None, layout)
            elif old and Layout.from_list(loads(old[0][0])) != layout:  # --force, another reference
                self._recode_windows(con, Layout.from_list(loads(old[0][0])), layout)
        self._layout = None

    def layout(self) -> Any:
        """The layout of the stored window summaries (summary_codec.Layout), read once."""
        from ..stats.profile import Profile
        from .summary_codec import Layout

        if self._layout is None:
            meta = self.meta()  # upgrades a store of an older schema first
            items = meta.get("summary_layout")
            self._layout = (
                Layout.from_list(items)
                if items
                else Layout.from_profile(Profile.from_dict(meta["reference"]))
            )
        return self._layout

    def _recode_windows(self, con: Any, old: Any, new: Any) -> None:
        """Re-encode every window summary from layout `old` (None: summaries stored whole as JSON,
        schema version 1) to layout `new`, in the caller's transaction."""
        from .summary_codec import decode, encode, from_bytes, to_bytes

        dense = "dense" if old is not None else "NULL"
        rows = self._exec(con, f"SELECT window_start, summary, {dense} FROM windows").fetchall()
        out = []
        for ws, sm, de in rows:
            full = decode(loads(sm, {}), from_bytes(de, old) if old is not None else None, old or new)
            sp, de2 = encode(full, new)
            out.append((ws, dumps(sp), to_bytes(de2)))
        if not out:
            return
        self._exec(
            con,
            "CREATE TEMPORARY TABLE IF NOT EXISTS recoded (window_start TIMESTAMP, summary TEXT, dense BYTEA)",
        )
        self._exec(con, "DELETE FROM recoded")
        self._insert_frame(con, "recoded", pd.DataFrame(out, columns=["window_start", "summary", "dense"]))
        self._exec(
            con,
            "UPDATE windows SET summary = r.summary, dense = r.dense FROM recoded r "
            "WHERE windows.window_start = r.window_start",
        )
        self._exec(con, "DELETE FROM recoded")

    def _upgrade(self, version: int) -> None:
        """Bring a store of an older schema version to this one, in one transaction."""
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.describe()} was written by a newer mltriage (store schema {version}; this "
                f"version reads up to {SCHEMA_VERSION})",
                "upgrade mltriage (pip install -U mltriage) to read it",
            )
        if self._conn is not None:
            raise StoreError(
                f"{self.describe()} has store schema {version} (this version writes {SCHEMA_VERSION})",
                "run `mltriage monitor check --store ...` once to upgrade it in place",
            )
        from ..stats.profile import Profile
        from .summary_codec import Layout

        with self.transaction() as con:
            rows = self._exec(con, "SELECT value FROM meta WHERE key = 'reference'").fetchall()
            layout = Layout.from_profile(Profile.from_dict(loads(rows[0][0])))
            self._exec(con, "ALTER TABLE windows ADD COLUMN IF NOT EXISTS dense BYTEA")
            self._recode_windows(con, None, layout)
            for k, v in (("summary_layout", layout.to_list()), ("schema_version", SCHEMA_VERSION)):
                self._exec(con, "DELETE FROM meta WHERE key = ?", [k])
                self._exec(con, "INSERT INTO meta (key, value) VALUES (?, ?)", [k, dumps(v)])
        self._layout = None

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
                f"{self.describe()} is not a monitor store ({first_line(e)})",
                "create it with `mltriage monitor init --store ... --reference train.parquet`",
            ) from None
        if not rows:
            raise StoreError(
                f"{self.describe()} is not initialised",
                "run `mltriage monitor init --store ... --reference train.parquet` first",
            )
        out = {k: loads(v) for k, v in rows}
        version = int(out.get("schema_version") or 1)
        if version != SCHEMA_VERSION:  # an older store is upgraded in place (once); a newer refused
            self._upgrade(version)
            return self.meta()
        return out

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
            from .batch_writer import BatchWriter

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
        second, not 17,520 round trips). Each item holds "summary" (a dict) or its stored form
        "sparse" and "dense" (summary_codec, what a BatchWriter keeps)."""
        from .summary_codec import decode, encode, from_bytes, to_bytes
        from .windows import merge_summaries

        lay = self.layout()
        items = []
        for i in summaries:
            sp, de = (i["sparse"], i["dense"]) if "sparse" in i else encode(i["summary"], lay)
            items.append((to_time(i["window_start"]), to_time(i["window_end"]), sp, de))
        if not items:
            return
        starts = [s for s, _, _, _ in items if s is not None]
        got = self._exec(
            con, "SELECT window_start, summary, dense FROM windows WHERE window_start >= ? AND window_start <= ?",
            [min(starts), max(starts)],
        ).fetchall()  # fmt: skip
        old = {to_time(ws): (sm, de) for ws, sm, de in got}
        new_rows, upd_rows = [], []
        for start, end, sp, de in items:
            if start in old:
                o_sp, o_de = old[start]
                merged = merge_summaries(
                    decode(loads(o_sp, {}), from_bytes(o_de, lay), lay), decode(sp, de, lay)
                )
                sp, de = encode(merged, lay)
                upd_rows.append((start, int(merged.get("rows", 0)), dumps(sp), to_bytes(de)))
            else:
                new_rows.append((start, end, int(sp.get("rows", 0)), 0, dumps(sp), to_bytes(de)))
        if new_rows:
            cols = ["window_start", "window_end", "rows", "labelled_rows", "summary", "dense"]
            self._insert_frame(con, "windows", pd.DataFrame(new_rows, columns=cols))
        if upd_rows:
            self._exec(
                con,
                "CREATE TEMPORARY TABLE IF NOT EXISTS merged_windows "
                "(window_start TIMESTAMP, rows BIGINT, summary TEXT, dense BYTEA)",
            )
            self._exec(con, "DELETE FROM merged_windows")
            self._insert_frame(
                con,
                "merged_windows",
                pd.DataFrame(upd_rows, columns=["window_start", "rows", "summary", "dense"]),
            )
            self._exec(
                con,
                "UPDATE windows SET summary = m.summary, dense = m.dense, rows = m.rows, checked_at = NULL "
                "FROM merged_windows m WHERE windows.window_start = m.window_start",
            )
            self._exec(con, "DELETE FROM merged_windows")


def alert_dict(r: Sequence[Any]) -> dict[str, Any]:
    d = dict(zip(ALERT_COLUMNS, r))
    for k, default in ALERT_JSON.items():
        d[k] = loads(d[k], default)
    for k in ("window_start", "window_end", "first_seen", "last_seen"):
        d[k] = iso(d[k])
    d["retrain"] = bool(d["retrain"])
    d["windows_in_row"] = int(d["windows_in_row"] or 0)
    return d


def times(values: Sequence[Any]) -> set[datetime]:
    return {t for t in (to_time(v) for v in values) if t is not None}


def range(start: Any, end: Any, col: str = "window_start") -> tuple[str, list[Any]]:
    conds: list[str] = []
    params: list[Any] = []
    if start is not None:
        conds.append(f"{col} >= ?")
        params.append(to_time(start))
    if end is not None:
        conds.append(f"{col} < ?")
        params.append(to_time(end))
    return (" WHERE " + " AND ".join(conds) if conds else ""), params


def first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
