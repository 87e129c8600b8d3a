"""What one batch writes inside its transaction (`Store.writing_batch`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .store_base import to_time

if TYPE_CHECKING:
    from .store_base import StoreBase as Store


class BatchWriter:
    """Rows and window summaries of one batch, written inside its transaction (writing_batch);
    full rows on a side connection (see writing_batch)."""

    def __init__(self, store: Store, con: Any, batch_id: str = "") -> None:
        self.store, self.con, self.batch_id = store, con, batch_id
        self.rows = 0
        self.quarantined = 0
        self._windows: dict[datetime, tuple[datetime, dict[str, Any], np.ndarray]] = {}
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
        """How many ids appear more than once among this batch's predictions, or were logged
        before by another batch (joined from this batch's side: the smaller one)."""
        sql = (
            "SELECT COUNT(*) FROM (SELECT row_id FROM predictions WHERE batch_id = ? "
            "GROUP BY row_id HAVING COUNT(*) > 1) d"
        )
        within = int(self.store._exec(self.con, sql, [batch_id]).fetchall()[0][0])
        before = (
            "SELECT COUNT(*) FROM (SELECT row_id FROM predictions WHERE batch_id = ?) b "
            "JOIN predictions o ON o.row_id = b.row_id WHERE o.batch_id <> ?"
        )
        return within + int(self.store._exec(self.con, before, [batch_id, batch_id]).fetchall()[0][0])

    def logged_before(self, ids: pd.Series) -> np.ndarray:
        """Which of these ids another batch already logged (one join in the store)."""
        st, con = self.store, self.con
        st._exec(con, "CREATE TEMPORARY TABLE IF NOT EXISTS chunk_ids (pos BIGINT, row_id TEXT)")
        st._exec(con, "DELETE FROM chunk_ids")
        st._insert_frame(
            con, "chunk_ids", pd.DataFrame({"pos": np.arange(len(ids)), "row_id": ids.to_numpy()})
        )
        got = st._exec(
            con,
            "SELECT DISTINCT c.pos FROM chunk_ids c JOIN predictions p ON p.row_id = c.row_id "
            "WHERE p.batch_id <> ?",
            [self.batch_id],
        ).fetchall()
        st._exec(con, "DELETE FROM chunk_ids")
        hit = np.zeros(len(ids), dtype=bool)
        hit[[int(r[0]) for r in got]] = True
        return hit

    def add_summary(self, window_start: Any, window_end: Any, summary: Mapping[str, Any]) -> None:
        """Merge a summary (dict) of part of a window into the batch's summary of that window."""
        from .summary_codec import encode

        sparse, dense = encode(summary, self.store.layout())
        self.add_encoded(window_start, window_end, sparse, dense)

    def add_encoded(
        self, window_start: Any, window_end: Any, sparse: dict[str, Any], dense: np.ndarray
    ) -> None:
        """add_summary of a summary in the stored form (summary_codec): a window seen before in
        this batch is merged (decoded, merged, encoded: once per chunk boundary)."""
        from .summary_codec import decode, encode
        from .windows import merge_summaries

        ws, we = to_time(window_start), to_time(window_end)
        assert ws is not None and we is not None
        got = self._windows.get(ws)
        if got is None:
            self._windows[ws] = (we, sparse, dense)
            return
        lay = self.store.layout()
        merged = merge_summaries(decode(got[1], got[2], lay), decode(sparse, dense, lay))
        self._windows[ws] = (we, *encode(merged, lay))

    def summaries(self) -> list[dict[str, Any]]:
        """{"window_start", "window_end", "sparse", "dense"} of the batch (the stored form)."""
        return [
            {"window_start": k, "window_end": v[0], "sparse": v[1], "dense": v[2]}
            for k, v in sorted(self._windows.items())
        ]
