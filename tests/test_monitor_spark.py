"""`mltriage monitor log --engine spark` against the single-machine path.

A day of logged rows, written once as one Parquet file (logged by monitor.ingest) and once as
partitioned Parquet (hour=HH/ folders, logged by PySpark in local mode: master local[1], web UI
off, driver on 127.0.0.1), into two stores initialised alike. Both must hold the same windows
with the same summaries: the same PSI per feature (and of the scores) within 1e-9 on the same
bins, the same counts, out-of-distribution and schema figures, the same quarantined rows with the
same reasons. Skipped, saying why, where Java or pyspark is missing."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mltriage.commands import monitor as mon
from mltriage.errors import InputError
from mltriage.monitor.reference import load
from mltriage.monitor.store import open_store
from mltriage.monitor.windows import unpack_profile
from mltriage.stats.drift import compare_profiles
from mltriage.stats.production import PRED_COL
from monitor_helpers import FEATURES, batch, frame


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[test]'")
    if _java() is None:
        pytest.skip("no Java (java on PATH or JAVA_HOME): PySpark needs Java 17 or later")
    from mltriage.monitor.spark import spark_session

    s = spark_session("local[1]", app="mltriage-test")
    assert s.conf.get("spark.ui.enabled") == "false" and s.conf.get("spark.driver.host") == "127.0.0.1"
    yield s
    s.stop()


def _scores(df: pd.DataFrame) -> np.ndarray:
    z = 1.5 * df["a"] - df["b"] + 0.5 * df["c"]
    return 1 / (1 + np.exp(-z.to_numpy(np.float64)))


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ref.parquet (with scores p), day.parquet (one file) and day/ (hour=HH/ partitions) of
    the same 4,000 rows: `a` drifted, NaN and inf in `b`, `d` logged as text (one value is not a
    number), a few rows to quarantine, an extra column, latencies."""
    d = tmp_path_factory.mktemp("spark")
    rng = np.random.default_rng(5)
    ref = frame(4000, rng)
    ref["p"] = _scores(ref)
    ref.to_parquet(d / "ref.parquet")
    f = batch(3, 4000, rng, shift=0.7).drop(columns=["y"])
    f["p"] = _scores(f)
    f.loc[::37, "b"] = np.nan
    f.loc[5::91, "b"] = np.inf
    f.loc[7::93, "c"] = 40.0  # far outside the reference's range
    f["d"] = f["d"].round(6).astype(str)
    f.loc[11, "d"] = "oops"  # not a number: quarantined
    f.loc[12, "id"] = None  # no id
    f.loc[13, "id"] = f.loc[14, "id"]  # a duplicated id (the first one is kept)
    f.loc[15, "p"] = 1.7  # not a probability
    f.loc[16, "ts"] = pd.NaT  # no time
    f["extra"] = 1
    f.to_parquet(d / "day.parquet")
    hours = f["ts"].dt.hour.fillna(0).astype(int)
    for h, part in f.groupby(hours):
        folder = d / "day" / f"hour={h:02d}"
        folder.mkdir(parents=True)
        part.to_parquet(folder / "part-0.parquet")
    return d


def _init(d: Path, name: str) -> str:
    url = str(d / f"{name}.duckdb")
    mon.init(
        url, str(d / "ref.parquet"), "y", prediction_column="p", id_column="id", time_column="ts", window="6h"
    )
    return url


@pytest.fixture(scope="module")
def logged(day: Path, spark) -> tuple[str, str, object, object]:
    local, distributed = _init(day, "local"), _init(day, "spark")
    r1 = mon.log(local, day / "day.parquet", batch_id="day-3")
    r2 = mon.log(distributed, day / "day", batch_id="day-3", engine="spark")
    return local, distributed, r1, r2


def test_same_psi_per_feature_on_the_same_bins(logged):
    local, distributed, r1, r2 = logged
    assert r1.logged and r2.logged and r1.windows == r2.windows and len(r1.windows) == 4
    ref = load(open_store(local)).reference.profile
    a = open_store(local).window_summaries()
    b = open_store(distributed).window_summaries()
    assert [w["window_start"] for w in a] == [w["window_start"] for w in b]
    checked = 0
    for wa, wb in zip(a, b):
        pa, pb = unpack_profile(wa["summary"]["profile"], ref), unpack_profile(wb["summary"]["profile"], ref)
        da, db = compare_profiles(ref, pa), compare_profiles(ref, pb)
        assert set(da.features) == set(db.features) == {*FEATURES, "cat", PRED_COL}
        for c, fa in da.features.items():
            fb = db.features[c]
            assert abs(fa.psi - fb.psi) <= 1e-9, (wa["window_start"], c, fa.psi, fb.psi)
            assert abs(fa.p_value - fb.p_value) <= 1e-9 and fa.drifted == fb.drifted
            checked += 1
        assert da.features["a"].psi > 0.1  # the drift is there, on both sides
        for c in pa.columns:  # the same bins, counts and moments
            ca, cb = pa.columns[c].to_dict(), pb.columns[c].to_dict()
            for k, v in ca.items():
                if isinstance(v, float):
                    assert cb[k] == pytest.approx(v, rel=1e-9, abs=1e-9), (c, k)
                elif k != "dtype":
                    assert cb[k] == v, (c, k)
    assert checked == 4 * 6


def test_same_counts_shares_and_quarantine(logged):
    local, distributed, r1, r2 = logged
    a = open_store(local).window_summaries()
    b = open_store(distributed).window_summaries()
    for wa, wb in zip(a, b):
        sa, sb = wa["summary"], wb["summary"]
        for k in ("rows", "ood_rows", "ood", "quarantined", "schema", "batches"):
            assert sa[k] == sb[k], k
        assert sa["latency"]["counts"] == sb["latency"]["counts"]
        assert sa["latency"]["mean"] == pytest.approx(sb["latency"]["mean"], rel=1e-12)
    assert sum(w["summary"]["ood_rows"] for w in a) > 0
    assert a[0]["summary"]["schema"]["extra"]  # the extra column is counted on both sides
    assert r1.reasons == r2.reasons and r1.quarantined == r2.quarantined == 5
    qa, qb = open_store(local).quarantined(), open_store(distributed).quarantined()
    assert Counter(qa["reason"]) == Counter(qb["reason"])
    assert set(qa["row_id"].fillna("")) - {""} == set(qb["row_id"].fillna("")) - {""}
    ca, cb = open_store(local).counts(), open_store(distributed).counts()
    for t in ("windows", "predictions", "rows_sample", "quarantine", "batches"):
        assert ca[t] == cb[t], t
    pa = open_store(local).predictions().sort_values("row_id").reset_index(drop=True)
    pb = open_store(distributed).predictions().sort_values("row_id").reset_index(drop=True)
    assert (pa["row_id"] == pb["row_id"]).all() and np.allclose(pa["score"], pb["score"])
    assert (pd.to_datetime(pa["window_start"]) == pd.to_datetime(pb["window_start"])).all()


def test_metrics_of_check_agree(logged):
    local, distributed, _, _ = logged
    ra, rb = (
        mon.check(local, as_of="2024-01-06", diagnose=False),
        mon.check(distributed, as_of="2024-01-06", diagnose=False),
    )
    for wa, wb in zip(ra.windows, rb.windows):
        assert wa["psi"] == wb["psi"] and wa["prediction_psi"] == wb["prediction_psi"]
        assert wa["ood_share"] == wb["ood_share"] and wa["estimated"] == wb["estimated"]
    assert sorted(x["code"] for x in ra.alerts) == sorted(x["code"] for x in rb.alerts)


def test_logging_the_same_batch_again_changes_nothing(logged, day):
    _, distributed, _, _ = logged
    before = open_store(distributed).counts()
    again = mon.log(distributed, day / "day", batch_id="day-3", engine="spark")
    assert not again.logged and "nothing changed" in again.notes[0]
    assert open_store(distributed).counts() == before


def test_a_corrupt_batch_is_refused(logged, day, tmp_path):
    _, distributed, _, _ = logged
    bad = tmp_path / "bad"
    bad.mkdir()
    raw = (day / "day.parquet").read_bytes()
    (bad / "part-0.parquet").write_bytes(raw[: len(raw) // 2])
    before = open_store(distributed).counts()
    with pytest.raises(InputError, match="nothing of it was logged"):
        mon.log(distributed, bad, batch_id="bad", engine="spark")
    assert open_store(distributed).counts() == before


def test_cli_log_with_the_spark_engine(day, spark, tmp_path):
    from typer.testing import CliRunner

    from mltriage.cli import app

    url = str(tmp_path / "cli.duckdb")
    mon.init(
        url,
        str(day / "ref.parquet"),
        "y",
        prediction_column="p",
        id_column="id",
        time_column="ts",
        window="1d",
    )
    r = CliRunner().invoke(
        app, ["monitor", "log", "--store", url, "--batch", str(day / "day"), "--engine", "spark"]
    )
    assert r.exit_code == 0, r.output
    assert "logged batch day: 3,995 rows in 1 window(s), 5 quarantined" in r.output
    r = CliRunner().invoke(
        app, ["monitor", "log", "--store", url, "--batch", str(day / "day"), "--engine", "dask"]
    )
    assert r.exit_code == 2
