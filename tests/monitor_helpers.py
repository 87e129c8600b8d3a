"""Fixtures and data for the `mltriage monitor` tests.

`store_url` is parametrised over both backends: a DuckDB file in the test's folder and a fresh
database on a real PostgreSQL server that the session starts itself (initdb + pg_ctl in a
temporary folder, on a free port, its unix socket in that folder; run as the `postgres` user when
the tests run as root). The Postgres cases skip, saying why, only where no server binary exists.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PG_DIRS = (
    "/usr/local/bin",
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/14/bin",
)
FEATURES = ["a", "b", "c", "d"]


def _pg_bin(name: str) -> str | None:
    for d in PG_DIRS:
        p = Path(d) / name
        if p.exists():
            return str(p)
    return shutil.which(name)


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self, folder: str, port: int) -> None:
        self.folder, self.port = folder, port
        self._n = itertools.count()

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@/{db}?host={self.folder}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._n)}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    if os.geteuid() == 0:
        try:
            subprocess.run(["id", "-u", "postgres"], check=True, capture_output=True)
        except (subprocess.CalledProcessError, FileNotFoundError):
            pytest.skip("running as root and there is no `postgres` user to run the server as")
    folder = tempfile.mkdtemp(prefix="mltriage-pg-")
    os.chmod(folder, 0o777)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = os.path.join(folder, "data")
    subprocess.run(
        _as_postgres([initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    opts = f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off -c max_connections=50"
    subprocess.run(
        _as_postgres([pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(folder, "log"), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield PgServer(folder, port)
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]), capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL on each backend."""
    if request.param == "duckdb":
        return str(tmp_path / "monitor.duckdb")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


# ---------------------------------------------------------------------------------------------
# data


def frame(n: int, rng: np.random.Generator, shift: float = 0.0, concept: bool = False) -> pd.DataFrame:
    """Four numeric features and a categorical one; y depends on a, b, c (a flips sign under
    `concept`); `shift` moves a."""
    X = rng.normal(size=(n, 4))
    X[:, 0] += shift
    w = np.array([-1.5 if concept else 1.5, -1.0, 0.5, 0.0])
    logit = X @ w
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame(X, columns=FEATURES)
    df["cat"] = rng.choice(["x", "y"], n)
    df["y"] = y
    return df


def batch(day: int, n: int, rng: np.random.Generator, start: str = "2024-01-01", **kw) -> pd.DataFrame:
    """One day of logged rows (id, ts, features, latency_ms) with the label column y."""
    f = frame(n, rng, **kw)
    f.insert(0, "id", [f"d{day}-{i}" for i in range(n)])
    f["ts"] = (
        pd.Timestamp(start) + pd.Timedelta(days=day) + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")
    )
    f["latency_ms"] = rng.lognormal(3, 0.5, n)
    return f


@pytest.fixture(scope="session")
def monitor_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ref.parquet (5,000 rows), model.joblib (logistic regression on a..d)."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    d = tmp_path_factory.mktemp("monitor_case")
    rng = np.random.default_rng(0)
    ref = frame(5000, rng)
    ref.to_parquet(d / "ref.parquet")
    joblib.dump(LogisticRegression().fit(ref[FEATURES], ref["y"]), d / "model.joblib")
    return d


def write_batch(folder: Path, day: int, n: int = 1500, seed: int | None = None, **kw) -> tuple[Path, Path]:
    """batch<day>.parquet (no label) and labels<day>.parquet (id, y, labelled_at 7 days later)."""
    rng = np.random.default_rng(1000 + day if seed is None else seed)
    f = batch(day, n, rng, **kw)
    b, lab = folder / f"batch{day}.parquet", folder / f"labels{day}.parquet"
    f.drop(columns=["y"]).to_parquet(b)
    labels = f[["id", "y"]].copy()
    labels["labelled_at"] = f["ts"] + pd.Timedelta(days=7)
    labels.to_parquet(lab)
    return b, lab


def wait_for(pred, timeout: float = 30.0) -> bool:
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        if pred():
            return True
        time.sleep(0.05)
    return False
