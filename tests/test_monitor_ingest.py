"""`mltriage monitor init/log/label` on both backends: idempotent logging, quarantine with the
reason, scoring with the model, labels joined later, bad files refused with exit code 2."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mltriage.cli import app
from mltriage.commands import monitor as mon
from mltriage.errors import InputError
from mltriage.monitor.store import open_store
from monitor_helpers import FEATURES, write_batch


def _init(url, case, **kw):
    opts = dict(model=str(case / "model.joblib"), id_column="id", time_column="ts")
    opts.update(kw)
    return mon.init(url, str(case / "ref.parquet"), "y", **opts)


def test_log_is_idempotent_and_scores_with_the_model(store_url, monitor_case, tmp_path):
    info = _init(store_url, monitor_case)
    assert info["task"] == "binary" and info["features"] == 4 and info["important"][0] == "a"
    b, _ = write_batch(tmp_path, 0, n=800)
    r = mon.log(store_url, b)
    assert r.logged and r.rows == 800 and r.quarantined == 0 and r.windows == ["2024-01-01T00:00:00"]
    again = mon.log(store_url, b)  # same file: same default id (its SHA-256)
    assert not again.logged and "nothing changed" in again.notes[0]
    assert mon.log(store_url, b, batch_id=r.batch_id).logged is False
    st = open_store(store_url)
    assert st.counts()["predictions"] == 800 and st.counts()["batches"] == 1
    # no score column in the batch: the model's probabilities were stored
    model = joblib.load(monitor_case / "model.joblib")
    df = pd.read_parquet(b)
    want = model.predict_proba(df[FEATURES])[:, 1]
    got = st.predictions().set_index("row_id").loc[df["id"], "score"].to_numpy()
    np.testing.assert_allclose(got, want)


def test_quarantine_names_the_reason(store_url, monitor_case, tmp_path):
    _init(store_url, monitor_case, model=None, prediction_column="p")
    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame(rng.normal(size=(n, 4)), columns=FEATURES).astype(object)
    df["cat"] = "x"
    df.insert(0, "id", [f"r{i}" for i in range(n)])
    df["ts"] = pd.Timestamp("2024-02-01 10:00").isoformat()
    df["p"] = rng.random(n)
    df.loc[0, "id"] = None  # missing id
    df.loc[2, "id"] = "r1"  # duplicated id
    df.loc[3, "ts"] = "yesterday"  # not a time
    df.loc[4, "a"] = "abc"  # text in a numeric column
    df.loc[5, "p"] = 1.7  # not a probability
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    r = mon.log(store_url, path)
    assert r.rows == n - 5 and r.quarantined == 5
    q = open_store(store_url).quarantined()
    reasons = dict(zip(q["row_number"], q["reason"]))
    assert reasons == {
        0: "id (id) is missing",
        2: "id (id) is duplicated",
        3: "ts (time) is missing or not a time",
        4: "a: not a number",
        5: "p (score) is not a probability",
    }
    assert '"abc"' in q.set_index("row_number").loc[4, "data"]
    (w,) = open_store(store_url).window_summaries()
    assert w["summary"]["quarantined"] == 5


def test_labels_join_any_time_later(store_url, monitor_case, tmp_path):
    _init(store_url, monitor_case)
    b, lab = write_batch(tmp_path, 0, n=500)
    early = mon.label(store_url, lab, labelled_at_column="labelled_at")  # before the predictions
    assert early["matched"] == 0 and early["unmatched"] == 500
    mon.log(store_url, b)
    st = open_store(store_url)
    assert sum(st.label_counts().values()) == 500  # kept labels join once the predictions arrive
    again = mon.label(store_url, lab, labelled_at_column="labelled_at")
    assert again["matched"] == 500
    got = st.labelled_at(["2024-01-01"])
    truth = pd.read_parquet(lab).set_index("id")["y"]
    assert (got.set_index("row_id")["label"] == truth.loc[got["row_id"]].to_numpy()).all()


def test_schema_change_lacking_column(store_url, monitor_case, tmp_path):
    _init(store_url, monitor_case)
    b, _ = write_batch(tmp_path, 0, n=400)
    df = pd.read_parquet(b).drop(columns=["c"])
    df.to_parquet(tmp_path / "noc.parquet")
    r = mon.log(store_url, tmp_path / "noc.parquet")
    assert r.rows == 400 and any("lacks 1 reference column" in n for n in r.notes)
    assert "cannot score" in " ".join(r.notes)
    (w,) = open_store(store_url).window_summaries()
    assert w["summary"]["schema"]["missing"] == {"c": 400}


def test_corrupt_or_truncated_batch_is_refused_with_exit_2(monitor_case, tmp_path):
    url = str(tmp_path / "s.duckdb")
    _init(url, monitor_case)
    b, _ = write_batch(tmp_path, 0, n=2000)
    data = b.read_bytes()
    trunc = tmp_path / "truncated.parquet"
    trunc.write_bytes(data[: len(data) // 2])
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1" + bytes(range(256)) * 20)
    for bad in (trunc, junk):
        with pytest.raises(InputError, match="corrupt or truncated"):
            mon.log(url, bad)
        res = CliRunner().invoke(app, ["monitor", "log", "--store", url, "--batch", str(bad)])
        assert res.exit_code == 2 and "nothing of it was logged" in " ".join(res.output.split())
    assert open_store(url).counts()["batches"] == 0
    res = CliRunner().invoke(
        app, ["monitor", "log", "--store", url, "--batch", str(tmp_path / "nope.parquet")]
    )
    assert res.exit_code == 2
    res = CliRunner().invoke(
        app, ["monitor", "log", "--store", str(tmp_path / "other.duckdb"), "--batch", str(b)]
    )
    assert res.exit_code == 2 and "not an initialised monitor store" in " ".join(res.output.split())


def test_ids_logged_before_by_another_batch_are_quarantined(store_url, monitor_case, tmp_path):
    _init(store_url, monitor_case)
    b, _ = write_batch(tmp_path, 0, n=300)
    first = mon.log(store_url, b)
    df = pd.read_parquet(b)
    again = df.copy()
    again["id"] = [f"new{i}" for i in range(len(df))]
    again.loc[:9, "id"] = df["id"].iloc[:10].to_numpy()  # 10 ids of the first batch
    again.to_parquet(tmp_path / "second.parquet")
    r = mon.log(store_url, tmp_path / "second.parquet")
    assert first.logged and r.logged and r.rows == 290 and r.quarantined == 10
    assert r.reasons == {"id (id) was logged before by another batch": 10}
    st = open_store(store_url)
    assert st.counts()["predictions"] == 590
    # a batch with fresh ids only: nothing quarantined
    fresh = df.assign(id=[f"z{i}" for i in range(len(df))])
    fresh.to_parquet(tmp_path / "third.parquet")
    assert mon.log(store_url, tmp_path / "third.parquet").quarantined == 0
