"""The two backends of the prediction store: an embedded DuckDB file and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .store import Store
from .store_base import (
    DUCKDB_MEMORY,
    LOCK_WAIT_SECONDS,
    StoreError,
    first_line,
    quote,
    to_time,
)

# ---------------------------------------------------------------------------------------------
# DuckDB


class DuckDBStore(Store):
    """An embedded DuckDB file. One writing process at a time: others wait (LOCK_WAIT_SECONDS)."""

    backend = "duckdb"
    indexes = False

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
                        f"cannot open {self.describe()}: {first_line(e)}", _kept_hint()
                    ) from None
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)

    def _frame(self, sql: str, params: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
        with self.session(write=False) as con:
            df = con.execute(self._sql(sql), list(params)).df()
            df.columns = list(columns)
            return df

    def _columns(self, sql: str, params: Sequence[Any], columns: Sequence[str]) -> dict[str, Any]:
        with self.session(write=False) as con:
            got = con.execute(self._sql(sql), list(params)).fetchnumpy()
            return {c: got[k] for c, k in zip(columns, list(got))}

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
                f"cannot connect to {self.describe()}: {first_line(e)}",
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
