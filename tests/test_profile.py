"""Mergeable profiles: exact statistics, JSON round trip, merge == profile of the union."""

import json

import numpy as np
import pandas as pd
import pytest

from mltriage.stats.bins import bin_counts
from mltriage.stats.profile import (
    CategoricalProfile,
    NumericProfile,
    Profile,
    ProfileError,
    build_profile,
    hist_quantile,
)
from mltriage.stats.profile_merge import merge


def frame(n, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(10 + shift, 2, n)
    x[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "k": rng.integers(0, 4, n),  # discrete
            "z": np.where(rng.random(n) < 0.3, 0.0, rng.exponential(5, n)),  # point mass at 0
            "c": pd.Series(rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]), dtype="str"),
        }
    )


def test_numeric_statistics_are_exact():
    df = frame(5000)
    p = build_profile(df)
    x = df["x"].to_numpy()
    fin = x[np.isfinite(x)]
    px = p["x"]
    assert isinstance(px, NumericProfile)
    assert px.n == len(fin) and px.missing == int(np.isnan(x).sum())
    assert px.min == fin.min() and px.max == fin.max()
    assert px.mean == pytest.approx(fin.mean())
    assert px.var == pytest.approx(fin.var(ddof=1))
    assert px.quantile(0.5) == pytest.approx(np.quantile(fin, 0.5))
    assert px.counts.sum() == px.n
    assert px.counts[0] == 0 and px.counts[-1] == 0  # no under/overflow in its own edges
    assert len(px.edges) - 1 <= 21 + 2  # about 20 quantile bins
    # the histogram agrees with counting the rows directly
    assert np.array_equal(bin_counts(x, px.edges), px.counts)
    assert p.rows == 5000 and p.schema()["x"]["nullable"] is True


def test_discrete_column_gets_one_bin_per_value_and_point_mass_is_isolated():
    df = frame(4000)
    pk = build_profile(df)["k"]
    inner = pk.counts[1:-1]
    assert len(inner) == 4 and inner.sum() == 4000
    assert pk.integer
    pz = build_profile(df)["z"]
    # 0.0 holds about 30% of rows: it is a point mass with its own bin
    assert pz.point_masses[0.0] == int((df["z"] == 0).sum())
    i = int(np.searchsorted(pz.edges, 0.0, side="right"))  # bin index (1 + inner index)
    assert pz.counts[i] == int((df["z"] == 0).sum())


def test_categorical_counts_and_top_n():
    df = frame(3000)
    pc = build_profile(df)["c"]
    assert isinstance(pc, CategoricalProfile)
    assert pc.counts == df["c"].value_counts().to_dict()
    ids = pd.DataFrame({"id": [f"u{i}" for i in range(500)]})
    pid = build_profile(ids, top=10)["id"]
    assert len(pid.counts) == 10 and pid.other == 490 and pid.n_unique == 500


def test_json_round_trip(tmp_path):
    p = build_profile(frame(2000), categorical=["k"])
    text = p.to_json()
    q = Profile.from_json(text)
    assert q.to_dict() == json.loads(text)
    path = tmp_path / "ref.json"
    p.to_json(str(path))
    r = Profile.from_json(str(path))
    assert r.to_dict() == p.to_dict()
    assert r["k"].kind == "categorical" and set(r["k"].counts) == {0, 1, 2, 3}


def test_merge_is_profile_of_union():
    a_df, b_df = frame(3000, seed=1), frame(2000, seed=2, shift=1.0)
    ref = build_profile(a_df)
    a = build_profile(a_df, like=ref)
    b = build_profile(b_df, like=ref)
    m = merge(a, b)
    u = build_profile(pd.concat([a_df, b_df], ignore_index=True), like=ref)
    assert m.rows == u.rows == 5000
    for c in ("x", "k", "z"):
        assert np.array_equal(m[c].counts, u[c].counts)
        assert m[c].n == u[c].n and m[c].missing == u[c].missing
        assert m[c].mean == pytest.approx(u[c].mean)
        assert m[c].var == pytest.approx(u[c].var)
        assert (m[c].min, m[c].max) == (u[c].min, u[c].max)
    assert m["c"].counts == u["c"].counts
    # quantiles after a merge come from the histogram: close to the exact ones
    assert m["x"].quantile(0.5) == pytest.approx(u["x"].quantile(0.5), abs=0.15)
    assert not m["x"].quantiles_exact
    # merged profiles survive JSON too
    assert Profile.from_json(m.to_json()).to_dict() == m.to_dict()


def test_merge_refuses_different_edges():
    a = build_profile(frame(1000, seed=1))
    b = build_profile(frame(1000, seed=2, shift=3))
    with pytest.raises(ProfileError, match="bin edges"):
        merge(a, b)


def test_batch_like_reference_reads_numeric_text():
    ref = build_profile(pd.DataFrame({"g": np.arange(100.0)}))
    batch = pd.DataFrame({"g": pd.Series(["1", "2", "oops", None, "5"], dtype="str")})
    p = build_profile(batch, like=ref)
    g = p["g"]
    assert g.kind == "numeric" and g.n == 3 and g.unparsed == 1 and g.missing == 1
    assert g.dtype == "str"  # the schema keeps the arriving dtype


def test_bad_profile_json():
    with pytest.raises(ProfileError):
        Profile.from_json('{"rows": 3}')
    with pytest.raises(ProfileError):
        Profile.from_json("{not json")


def test_hist_quantile_and_empty_columns():
    p = build_profile(pd.DataFrame({"e": [np.nan, np.nan, np.nan], "i": [1.0, np.inf, -np.inf]}))
    assert p["e"].n == 0 and p["e"].missing == 3 and p["e"].min is None
    assert p["i"].n == 1 and p["i"].pos_inf == 1 and p["i"].neg_inf == 1
    assert hist_quantile(p["e"], 0.5) is None
    Profile.from_json(p.to_json())  # no NaN in JSON


def test_polars_frame():
    pl = pytest.importorskip("polars")
    df = frame(500)
    p = build_profile(pl.from_pandas(df))
    assert p["x"].n == build_profile(df)["x"].n
