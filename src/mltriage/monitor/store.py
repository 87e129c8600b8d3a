"""The prediction store of `mltriage monitor` (the schema and tables are documented in
`store_base.py`): `Store` adds windows, labels, sampled rows, quarantine and alerts to `StoreBase`;
`open_store(url)` opens a DuckDB file or a postgresql:// URL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from .store_base import (  # noqa: F401
    ALERT_COLUMNS,
    ALERT_JSON,
    COMMITTED_ROWS,
    DUCKDB_MEMORY,
    LOCK_WAIT_SECONDS,
    ROW_META_COLUMNS,
    SCHEMA_VERSION,
    TABLES,
    StoreBase,
    StoreError,
    alert_dict,
    dumps,
    first_line,
    iso,
    loads,
    now,
    quote,
    range,
    times,
    to_time,
)


class Store(StoreBase):
    """The whole store: `StoreBase` plus windows, labels, rows and alerts."""

    def windows(self, start: Any = None, end: Any = None) -> list[dict[str, Any]]:
        """The windows in [start, end) by window_start, oldest first: window_start, window_end,
        rows, labelled_rows, checked_at and the metrics `check` computed (per-feature drift PSI,
        missing/OOD shares, score distribution, estimated and realised performance with
        intervals, label lag, latency percentiles, ...; see monitor.windows.window_metrics)."""
        where, params = range(start, end)
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
        where, params = range(start, end)
        self.layout()  # an older store is upgraded before it is read
        rows = self._query(
            "SELECT window_start, window_end, summary, dense FROM windows" + where + " ORDER BY window_start",
            params,
        )
        return [
            {"window_start": iso(a), "window_end": iso(b), "summary": self._decode(s, d)}
            for a, b, s, d in rows
        ]

    def _decode(self, sparse: str | None, dense: Any) -> dict[str, Any]:
        from .summary_codec import decode, from_bytes

        lay = self.layout()
        return decode(loads(sparse, {}), from_bytes(dense, lay), lay)

    def windows_at(self, starts: Sequence[Any]) -> Any:
        """The summaries of the given windows (in that order) as `check` reads them: a
        summary_codec.Windows (dense vectors as one matrix, sparse parts decoded), in one query."""
        import json

        import numpy as np

        from .summary_codec import Windows

        lay = self.layout()
        order = [t for t in (to_time(s) for s in starts) if t is not None]
        if not order:
            return Windows.from_blobs([], [], lay)
        got, texts, dense = self._summary_parts(min(order), max(order), lay.width)
        at = {t: i for i, t in enumerate(got)}
        pick = np.array([at.get(t, -1) for t in order], dtype=np.int64)
        # one JSON array for all the sparse parts: one parser call instead of one per window
        sparse = json.loads(
            "[" + ",".join((texts[i] if i >= 0 else None) or "{}" for i in pick.tolist()) + "]"
        )
        mat = np.zeros((len(order), lay.width))
        mat[pick >= 0] = dense[pick[pick >= 0]]
        return Windows(lay, mat, sparse)

    def _summary_parts(self, lo: datetime, hi: datetime, width: int) -> tuple[list[Any], list[Any], Any]:
        """window_start (datetimes), summary (JSON text) and the dense vectors as a (windows,
        width) matrix (zeros where missing) of the windows in [lo, hi]."""
        from .summary_codec import stack_blobs

        rows = self._query(
            "SELECT window_start, summary, dense FROM windows WHERE window_start >= ? AND window_start <= ?",
            [lo, hi],
        )
        dense = stack_blobs([r[2] for r in rows], width)
        return [to_time(r[0]) for r in rows], [r[1] for r in rows], dense

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
        want = times(starts)
        if not want:
            return {}
        self.layout()
        rows = self._query(
            "SELECT window_start, summary, dense FROM windows WHERE window_start >= ? AND window_start <= ?",
            [min(want), max(want)],
        )
        return {
            t: self._decode(sm, de) for ws, sm, de in rows if (t := to_time(ws)) is not None and t in want
        }

    def _columns(self, sql: str, params: Sequence[Any], columns: Sequence[str]) -> dict[str, Any]:
        """A query's result as numpy arrays by column (DuckDB: fetched as numpy directly)."""
        df = self._frame(sql, params, columns)
        return {c: df[c].to_numpy() for c in columns}

    def scores_by_window(self, starts: Sequence[Any]) -> dict[datetime, Any]:
        """window_start -> numpy array of the logged scores, for the given windows."""
        import numpy as np

        want = times(starts)
        if not want:
            return {}
        cols = self._columns(
            "SELECT window_start, score FROM predictions WHERE window_start >= ? AND window_start <= ?",
            [min(want), max(want)],
            ["window_start", "score"],
        )
        ws = pd.to_datetime(cols["window_start"]).to_numpy()
        if not len(ws):
            return {}
        sc = cols["score"]
        if np.ma.isMaskedArray(sc):  # DuckDB: NULL scores masked
            sc = np.ma.filled(sc.astype(np.float64), np.nan)
        sc = pd.to_numeric(pd.Series(sc), errors="coerce").to_numpy(np.float64)
        # by window: a stable sort of rows logged in time order is close to a linear pass
        order = np.argsort(ws, kind="stable")
        ws, sc = ws[order], sc[order]
        cut = np.flatnonzero(ws[1:] != ws[:-1]) + 1
        out = {}
        for a, b in zip(np.r_[0, cut], np.r_[cut, len(ws)]):
            key = pd.Timestamp(ws[a]).to_pydatetime()
            if key in want:
                out[key] = sc[a:b]
        return out

    def window_summary(self, window_start: Any) -> dict[str, Any] | None:
        self.layout()
        rows = self._query(
            "SELECT summary, dense FROM windows WHERE window_start = ?", [to_time(window_start)]
        )
        return self._decode(rows[0][0], rows[0][1]) if rows else None

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
        where, params = range(start, end, "p.window_start")
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
        want = times(starts)
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
        where, params = range(start, end)
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
        return [alert_dict(r) for r in rows]

    def save_alert(self, alert: Mapping[str, Any]) -> None:
        """Insert or replace an alert (by id)."""
        self.save_alerts([alert])

    def save_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        with self.transaction() as con:
            for a in alerts:
                vals = []
                for k in ALERT_COLUMNS:
                    v = a.get(k)
                    if k in ALERT_JSON:
                        v = dumps(ALERT_JSON[k] if v is None else v)
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


def open_store(url: str) -> Store:
    """The store at `url`: a `postgresql://` (or `postgres://`) URL, else a DuckDB file path."""
    from .backends import DuckDBStore, PostgresStore

    u = str(url)
    if u.startswith(("postgresql://", "postgres://")):
        return PostgresStore(u)
    return DuckDBStore(u)
