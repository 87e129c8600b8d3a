"""The monitor store: one schema on DuckDB and PostgreSQL (every test runs on both backends), and
the window summaries it merges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mltriage.monitor.metrics import Reference, drift_metrics
from mltriage.monitor.store import StoreError, open_store
from mltriage.monitor.windows import merge_summaries, pack, summarise, summarise_windows, unpack_profile
from mltriage.stats.drift import DriftConfig, compare_profiles
from mltriage.stats.production import PRED_COL
from mltriage.stats.profile import build_profile
from monitor_helpers import frame


@pytest.fixture
def ref_profile():
    rng = np.random.default_rng(0)
    ref = frame(3000, rng).drop(columns=["y"])
    p = build_profile(ref)
    p.columns[PRED_COL] = build_profile(pd.DataFrame({PRED_COL: rng.random(3000)})).columns[PRED_COL]
    return p


def _summary(df, ref, batch_id):
    return summarise(
        df,
        ref,
        ["a", "b", "c", "d", "cat"],
        scores=np.random.default_rng(1).random(len(df)),
        batch_id=batch_id,
    )


def _init(url, ref):
    st = open_store(url)
    st.init({"reference": ref.to_dict(), "settings": {"features": ["a"]}}, {"a": "number", "cat": "text"})
    return st


def test_init_and_meta_round_trip(store_url, ref_profile):
    st = open_store(store_url)
    assert not st.exists()
    with pytest.raises(StoreError, match="not"):
        st.meta()
    st = _init(store_url, ref_profile)
    assert st.exists()
    assert st.settings() == {"features": ["a"]}
    assert st.reference().columns["a"].counts.tolist() == ref_profile.columns["a"].counts.tolist()
    assert st.counts()["windows"] == 0


def test_write_batch_is_idempotent_and_merges_windows(store_url, ref_profile):
    st = _init(store_url, ref_profile)
    rng = np.random.default_rng(2)
    df = frame(400, rng).drop(columns=["y"])
    s1 = _summary(df.iloc[:200], ref_profile, "b1")
    item = {"window_start": "2024-01-01", "window_end": "2024-01-02", "summary": s1}
    preds = pd.DataFrame(
        {
            "row_id": [f"r{i}" for i in range(200)],
            "batch_id": "b1",
            "ts": pd.Timestamp("2024-01-01 03:00"),
            "window_start": pd.Timestamp("2024-01-01"),
            "score": rng.random(200),
            "predicted": None,
        }
    )
    assert st.write_batch({"batch_id": "b1"}, [item], predictions=preds)
    assert not st.write_batch({"batch_id": "b1"}, [item], predictions=preds)  # same id: nothing changes
    assert st.counts()["predictions"] == 200
    # a second part of the same window, through the path Spark uses
    s2 = _summary(df.iloc[200:], ref_profile, "b2")
    assert st.merge_window_summaries([{**item, "summary": s2}], batch_id="b2")
    assert not st.merge_window_summaries([{**item, "summary": s2}], batch_id="b2")
    w = st.windows()
    assert len(w) == 1 and w[0]["rows"] == 400 and w[0]["window_start"] == "2024-01-01T00:00:00"
    merged = st.window_summary("2024-01-01")
    whole = _summary(df, ref_profile, "x")
    for c in ("a", "b", "cat"):
        assert merged["profile"]["columns"][c]["counts"] == whole["profile"]["columns"][c]["counts"]
    assert [b["batch_id"] for b in st.batches()] == ["b1", "b2"]


def test_labels_alerts_and_rows(store_url, ref_profile):
    st = _init(store_url, ref_profile)
    ws = pd.Timestamp("2024-01-01")
    preds = pd.DataFrame(
        {
            "row_id": ["1", "2", "3"],
            "batch_id": "b",
            "ts": ws,
            "window_start": ws,
            "score": [0.9, 0.2, 0.7],
            "predicted": None,
        }
    )
    rows = pd.DataFrame(
        {
            "row_id": ["1", "2", "3"],
            "batch_id": "b",
            "window_start": ws,
            "ts": ws,
            "score": [0.9, 0.2, 0.7],
            "keep": "pending",
            "a": [1.0, 2.0, None],
            "cat": ["x", None, "y"],
        }
    )
    st.write_batch({"batch_id": "b"}, [], predictions=preds, rows=rows)
    lab = pd.DataFrame(
        {"row_id": ["1", "2", "zz"], "label": [1.0, 1.0, 0.0], "labelled_at": pd.Timestamp("2024-01-05")}
    )
    assert st.add_labels(lab) == 2
    lab2 = pd.DataFrame({"row_id": ["2"], "label": [0.0], "labelled_at": pd.Timestamp("2024-01-06")})
    assert st.add_labels(lab2) == 1  # upsert: the later label replaces the earlier
    got = st.labelled_at(["2024-01-01"]).sort_values("row_id")
    assert got["label"].tolist() == [1.0, 0.0]
    assert st.label_counts(as_of="2024-01-05T12:00") == {ws.to_pydatetime(): 1}
    st.mark_rows(ws, "error", ["2"])
    assert st.prune_rows(ws, ["1"]) == 1  # row 3 dropped; 1 kept as sample; 2 kept as an error
    kept = st.sample_rows(ws).set_index("row_id")["keep"].to_dict()
    assert kept == {"1": "sample", "2": "error"}
    alert = {
        "id": "x@1",
        "window_start": ws,
        "window_end": "2024-01-02",
        "code": "production.data_drift",
        "severity": "warning",
        "columns": ["a"],
        "status": "open",
        "sent": [{"event": "opened"}],
    }
    st.save_alert(alert)
    st.save_alert({**alert, "status": "resolved"})
    (a,) = st.alerts()
    assert a["status"] == "resolved" and a["columns"] == ["a"] and a["sent"] == [{"event": "opened"}]
    assert st.alerts(status=["open"]) == []


def test_summaries_merge_exactly_and_drift_matches_the_drift_statistics(ref_profile):
    rng = np.random.default_rng(5)
    parts = [frame(500, rng, shift=s).drop(columns=["y"]) for s in (0.0, 0.3, 1.0)]
    sums = [_summary(p, ref_profile, str(i)) for i, p in enumerate(parts)]
    ref = Reference(
        profile=ref_profile, features=["a", "b", "c", "d", "cat"], task="binary", drift=DriftConfig()
    )
    metrics = drift_metrics(ref, sums)
    for s, m in zip(sums, metrics):
        rep = compare_profiles(ref_profile, unpack_profile(s["profile"], ref_profile), DriftConfig())
        for c in ("a", "b", "cat"):
            assert m["psi"][c] == pytest.approx(rep.features[c].psi, abs=1e-5)
            assert (c in m["drifted"]) == rep.features[c].drifted
    assert "a" in metrics[2]["drifted"] and metrics[2]["top_features"][0] == "a"
    merged = merge_summaries(sums[0], sums[1])
    whole = _summary(pd.concat(parts[:2]), ref_profile, "w")
    for c in ("a", "d"):
        m, w = merged["profile"]["columns"][c], whole["profile"]["columns"][c]
        assert m["counts"] == w["counts"] and m["n"] == w["n"]
        assert m["mean"] == pytest.approx(w["mean"]) and m["m2"] == pytest.approx(w["m2"])


def test_many_windows_at_once_count_as_the_profile_of_each(ref_profile):
    rng = np.random.default_rng(9)
    n = 3000
    cur = frame(n, rng, shift=0.2).drop(columns=["y"])
    cur.loc[:4, "a"] = np.nan
    cur.loc[5:8, "b"] = np.inf
    cur["cat"] = cur["cat"].where(rng.random(n) > 0.05)
    cur["d"] = cur["d"].astype(object)
    cur.loc[9, "d"] = "oops"
    keys = rng.integers(0, 4, n)
    many = dict(summarise_windows(cur, keys, ref_profile, ["a", "b", "c", "d", "cat"]))
    for k in range(4):
        prof = build_profile(cur[keys == k].reset_index(drop=True), like=ref_profile)
        for c in ("a", "b", "d"):
            want, got = pack(prof.columns[c]), many[k]["profile"]["columns"][c]
            for key in ("counts", "n", "missing", "pos_inf", "neg_inf", "unparsed", "min", "max"):
                assert got[key] == want[key], (k, c, key)
            assert got["m2"] == pytest.approx(want["m2"])
        want_cat = pack(prof.columns["cat"])
        got_cat = many[k]["profile"]["columns"]["cat"]
        assert dict(map(tuple, got_cat["counts"])) == dict(map(tuple, want_cat["counts"]))
        assert got_cat["missing"] == want_cat["missing"]


def test_vectorised_kernels_equal_the_per_window_ones(ref_profile):
    from mltriage.monitor.metrics import hist_quantiles
    from mltriage.monitor.performance import grouped_weighted_auc
    from mltriage.stats.drift_performance import weighted_auc
    from mltriage.stats.profile import hist_quantile

    rng = np.random.default_rng(4)
    g = rng.integers(0, 4, 4000)
    s = np.round(rng.random(4000), 2)  # ties
    p = rng.random(4000)
    got = grouped_weighted_auc(g, s, p, 5)
    assert np.allclose(got[:4], [weighted_auc(s[g == k], p[g == k]) for k in range(4)]) and np.isnan(got[4])
    # windows logged without any score (summaries only): NaN for every window, no IndexError
    empty = np.empty(0)
    assert np.isnan(grouped_weighted_auc(empty.astype(int), empty, empty, 3, presorted=True)).all()
    parts = [frame(n, rng, shift=sh).drop(columns=["y"]) for n, sh in ((300, 0.0), (50, 2.0), (800, -1.0))]
    packed = [_summary(x, ref_profile, "b")["profile"]["columns"]["a"] for x in parts] + [None]
    probs = [0.0, 0.05, 0.5, 0.99, 1.0]
    q = hist_quantiles(packed, ref_profile.columns["a"].edges, probs)
    for i, d in enumerate(packed[:3]):
        prof = unpack_profile({"rows": 1, "columns": {"a": d}}, ref_profile).columns["a"]
        assert np.allclose(q[i], [hist_quantile(prof, t) for t in probs])
    assert np.isnan(q[3]).all()


def test_stored_form_round_trips_exactly(ref_profile):
    from mltriage.monitor.summary_codec import Layout, decode, encode

    rng = np.random.default_rng(3)
    cur = frame(800, rng, shift=0.4).drop(columns=["y"])
    cur.loc[:3, "a"] = np.nan
    cur["d"] = cur["d"].astype(object)
    cur.loc[7, "d"] = "text"
    lay = Layout.from_profile(ref_profile)
    s = summarise(
        cur, ref_profile, ["a", "b", "c", "d", "cat"], scores=rng.random(800), latency=rng.random(800)
    )
    sparse, dense = encode(s, lay)
    assert "a" not in sparse["profile"]["columns"] and "cat" in sparse["profile"]["columns"]
    assert sparse["numeric_meta"]["d"]["dtype"] == "object"  # only what differs from the reference
    assert decode(sparse, dense, lay) == s
    odd = {
        **s,
        "profile": {
            **s["profile"],
            "columns": {**s["profile"]["columns"], "a": {"kind": "numeric", "counts": [1, 2]}},
        },
    }
    sp2, de2 = encode(odd, lay)  # a column on other bins is kept whole in the sparse part
    assert sp2["profile"]["columns"]["a"] == {"kind": "numeric", "counts": [1, 2]}
    assert decode(sp2, de2, lay) == odd


def test_a_store_of_the_older_schema_is_upgraded_and_a_newer_one_refused(store_url, ref_profile):
    import json

    st = _init(store_url, ref_profile)
    df = frame(300, np.random.default_rng(2)).drop(columns=["y"])
    s = _summary(df, ref_profile, "b1")
    st.merge_window_summaries(
        [{"window_start": "2024-01-01", "window_end": "2024-01-02", "summary": s}], "b1"
    )
    with st.transaction() as con:  # back to schema 1: the whole summary as JSON, no dense column
        st._exec(con, "UPDATE windows SET summary = ?", [json.dumps(s)])
        st._exec(con, "ALTER TABLE windows DROP COLUMN dense")
        st._exec(con, "DELETE FROM meta WHERE key IN ('summary_layout', 'schema_version')")
        st._exec(con, "INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    old = open_store(store_url)
    assert old.window_summary("2024-01-01") == s  # upgraded in place on first read
    assert old.meta()["schema_version"] == 2
    assert open_store(store_url).window_summaries()[0]["summary"] == s
    with st.transaction() as con:
        st._exec(con, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer mltriage"):
        open_store(store_url).meta()


def test_row_wise_psi_and_chi2_equal_the_one_pair_kernels():
    from mltriage.stats.drift import chi2_rows, chi2_test, psi, psi_rows

    rng = np.random.default_rng(6)
    ref = rng.integers(0, 50, 12).astype(float)
    cur = rng.integers(0, 50, (6, 12)).astype(float)
    cur[2, :5] = 0.0
    ref[7] = 0.0
    assert psi_rows(ref, cur, 0.5) == pytest.approx([psi(ref, c, 0.5) for c in cur], rel=1e-12)
    assert chi2_rows(ref, cur) == pytest.approx([chi2_test(ref, c)[1] for c in cur], rel=1e-9)
