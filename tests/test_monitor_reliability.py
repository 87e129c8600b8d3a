"""Reliability of `monitor log`: SIGKILL in the middle of a write loses no committed batch and
leaves no partial one; two processes logging at once lose nothing; a full disk and a Postgres
connection lost mid-write are errors that say what was kept (both backends where it applies)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mltriage.commands import monitor as mon
from mltriage.monitor import batch_writer as S
from mltriage.monitor.store import StoreError, open_store
from monitor_helpers import wait_for, write_batch

# a `monitor log` that pauses inside its transaction once the first chunk of predictions is in
SLOW_LOG = textwrap.dedent(
    """
    import os, sys, time
    from mltriage.monitor import batch_writer as S
    from mltriage.commands import monitor as mon
    url, batch, marker, hold, chunk = sys.argv[1:6]
    orig = S.BatchWriter.add
    def add(self, table, df):
        orig(self, table, df)
        if table == "predictions" and not os.path.exists(marker):
            open(marker, "w").write("inside the transaction")
            time.sleep(float(hold))
    S.BatchWriter.add = add
    print(mon.log(url, batch, chunk_rows=int(chunk)).rows)
    """
)


def _init(url, case):
    mon.init(
        url,
        str(case / "ref.parquet"),
        "y",
        model=str(case / "model.joblib"),
        id_column="id",
        time_column="ts",
    )


def _slow_log(tmp_path: Path, url: str, batch: Path, marker: Path, hold: float, chunk: int = 500):
    script = tmp_path / "slow_log.py"
    script.write_text(SLOW_LOG)
    return subprocess.Popen(
        [sys.executable, str(script), url, str(batch), str(marker), str(hold), str(chunk)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_mid_log_keeps_committed_batches_and_no_partial_one(store_url, monitor_case, tmp_path):
    _init(store_url, monitor_case)
    first, _ = write_batch(tmp_path, 0, n=700)
    assert mon.log(store_url, first).rows == 700
    second, _ = write_batch(tmp_path, 1, n=3000)
    marker = tmp_path / "marker"
    proc = _slow_log(tmp_path, store_url, second, marker, hold=60)
    assert wait_for(marker.exists, 60), proc.communicate()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    st = open_store(store_url)
    counts = st.counts()
    assert counts["batches"] == 1 and counts["predictions"] == 700 and counts["windows"] == 1
    assert counts["rows_sample"] == 700  # nothing of the killed batch
    again = mon.log(store_url, second)  # the killed batch was never committed: it logs whole now
    assert again.logged and again.rows == 3000
    assert open_store(store_url).counts()["predictions"] == 3700


def test_two_processes_logging_at_once_lose_nothing(store_url, monitor_case, tmp_path):
    _init(store_url, monitor_case)
    a, _ = write_batch(tmp_path, 0, n=2000)
    b, _ = write_batch(tmp_path, 1, n=2000)
    m1, m2 = tmp_path / "m1", tmp_path / "m2"
    p1 = _slow_log(tmp_path, store_url, a, m1, hold=1.5)
    assert wait_for(m1.exists, 60)
    p2 = _slow_log(tmp_path, store_url, b, m2, hold=0)  # starts while p1 holds its transaction
    outs = [p.communicate(timeout=180) for p in (p1, p2)]
    assert [p.returncode for p in (p1, p2)] == [0, 0], outs
    st = open_store(store_url)
    assert st.counts()["batches"] == 2 and st.counts()["predictions"] == 4000
    assert [w["rows"] for w in st.windows()] == [2000, 2000]


def test_disk_full_simulated_says_what_was_kept(monkeypatch, monitor_case, tmp_path):
    url = str(tmp_path / "s.duckdb")
    _init(url, monitor_case)
    first, _ = write_batch(tmp_path, 0, n=500)
    mon.log(url, first)
    orig = S.BatchWriter.add

    def full(self, table, df):
        orig(self, table, df)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(S.BatchWriter, "add", full)
    second, _ = write_batch(tmp_path, 1, n=500)
    with pytest.raises(StoreError) as e:
        mon.log(url, second)
    msg = str(e.value)
    assert (
        "disk is full" in msg and "nothing of it was kept" in msg and "committed before it are intact" in msg
    )
    monkeypatch.undo()
    assert open_store(url).counts()["predictions"] == 500
    assert mon.log(url, second).logged


def test_disk_full_real(monitor_case, tmp_path):
    """A DuckDB store on a small tmpfs: the batch that does not fit is refused, the first stays."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({r.stderr.decode().strip()[:80]})")
    try:
        url = str(mnt / "s.duckdb")
        _init(url, monitor_case)
        small, _ = write_batch(tmp_path, 0, n=300)
        mon.log(url, small)
        big, _ = write_batch(tmp_path, 1, n=200_000)
        with pytest.raises(StoreError) as e:
            mon.log(url, big)
        assert "disk is full" in str(e.value) and "nothing of it was kept" in str(e.value)
        st = open_store(url)
        assert st.counts()["batches"] == 1 and st.counts()["predictions"] == 300
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_postgres_connection_lost_mid_write(monkeypatch, pg_server, monitor_case, tmp_path):
    import psycopg

    url = pg_server.new_database()
    _init(url, monitor_case)
    first, _ = write_batch(tmp_path, 0, n=500)
    mon.log(url, first)
    orig = S.BatchWriter.add

    def lose(self, table, df):
        orig(self, table, df)
        pid = self.con.info.backend_pid
        with psycopg.connect(url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    monkeypatch.setattr(S.BatchWriter, "add", lose)
    second, _ = write_batch(tmp_path, 1, n=500)
    with pytest.raises(StoreError) as e:
        mon.log(url, second)
    msg = str(e.value)
    assert "connection to the store was lost" in msg and "nothing of it was kept" in msg
    monkeypatch.undo()
    st = open_store(url)
    assert st.counts()["batches"] == 1 and st.counts()["predictions"] == 500
    assert mon.log(url, second).logged
