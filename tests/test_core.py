"""The core: registry contract, findings JSON, ranking and gating, config."""

from __future__ import annotations

import json

import pytest

import mltriage
from mltriage.config import load_config
from mltriage.errors import InputError
from mltriage.findings import CODES, Finding
from mltriage.registry import DOC_SECTIONS, load_all, parse_doc
from mltriage.runner import rank_and_gate


def test_every_check_is_documented_and_coded():
    checks = load_all()
    assert checks, "no check registered"
    for code, chk in checks.items():
        assert code in CODES
        for section in DOC_SECTIONS:
            assert chk.doc.get(section), f"{code} lacks section {section!r}"
        assert chk.summary


def test_parse_doc_sections():
    summary, doc = parse_doc("""Summary line.

    What it detects
        one
    Why it matters
        two
        lines
    How to confirm
        three
    Fix
        four
    """)
    assert summary == "Summary line."
    assert doc == {
        "What it detects": "one",
        "Why it matters": "two lines",
        "How to confirm": "three",
        "Fix": "four",
    }


def test_unknown_code_refused():
    with pytest.raises(ValueError):
        Finding("data.nonsense", "warning", "x")


def test_ranking_and_gating():
    fs = [
        Finding("evaluation.miscalibration", "warning", "a", impact=0.1),
        Finding("data.label_leakage", "critical", "b"),
        Finding("model.overfit", "warning", "c"),
        Finding("data.duplicates", "warning", "d"),
        Finding("production.data_drift", "warning", "e"),
    ]
    rank_and_gate(fs)
    assert [f.code for f in fs] == [
        "data.label_leakage",
        "data.duplicates",
        "model.overfit",
        "evaluation.miscalibration",
        "production.data_drift",
    ]
    assert fs[2].conditional_on == ["data.label_leakage"]
    assert fs[0].conditional_on == [] and fs[1].conditional_on == []
    assert fs[4].conditional_on == []


def test_a_slice_along_a_leaking_or_skewed_column_is_folded_into_its_cause():
    leak = Finding("data.label_leakage", "warning", "followup alone", columns=["followup"])
    skew = Finding("pipeline.train_serving_skew", "critical", "units", columns=["temp"])
    on_leak = Finding("errors.underperforming_slice", "warning", "s1", columns=["score", "followup"])
    on_skew = Finding("errors.underperforming_slice", "warning", "s2", columns=["temp"])
    other = Finding("errors.underperforming_slice", "warning", "s3", columns=["region"])
    fs = [leak, skew, on_leak, on_skew, other]
    rank_and_gate(fs)
    assert on_leak.severity.rank == 0 and on_leak.evidence["symptom_of"]["code"] == "data.label_leakage"
    assert "a symptom of data.label_leakage on followup" in on_leak.title
    assert on_skew.severity.rank == 0 and on_skew.evidence["symptom_of"]["columns"] == ["temp"]
    # a slice on a column no cause names stays a warning; an info cause does not fold anything
    assert other.severity.rank == 1 and "symptom_of" not in other.evidence
    quiet = Finding("data.label_leakage", "info", "lead", columns=["region"])
    kept = Finding("errors.underperforming_slice", "warning", "s4", columns=["region"])
    rank_and_gate([quiet, kept])
    assert kept.severity.rank == 1


def test_a_slice_with_no_data_cause_is_folded_into_model_underfit():
    under = Finding("model.underfit", "warning", "linear vs boosting")
    capacity = Finding("errors.underperforming_slice", "warning", "s1", columns=["tax"])
    capacity.evidence["causes"] = []
    sparse = Finding("errors.underperforming_slice", "warning", "s2", columns=["age"])
    sparse.evidence["causes"] = ["under-represented", "worse than a constant"]
    rank_and_gate([under, capacity, sparse])
    assert capacity.severity.rank == 0 and capacity.evidence["symptom_of"]["code"] == "model.underfit"
    assert "a symptom of model.underfit" in capacity.title
    # a slice the evidence ties to the data stays a warning
    assert sparse.severity.rank == 1 and "symptom_of" not in sparse.evidence


def test_a_slice_with_no_data_cause_stays_a_warning_without_an_underfit_finding():
    quiet = Finding("model.underfit", "info", "within noise")
    capacity = Finding("errors.underperforming_slice", "warning", "s1", columns=["tax"])
    capacity.evidence["causes"] = []
    rank_and_gate([quiet, capacity])
    assert capacity.severity.rank == 1 and "symptom_of" not in capacity.evidence


def test_finding_json_is_plain():
    import numpy as np

    f = Finding(
        "model.overfit",
        "warning",
        "gap",
        evidence={"gap": np.float64(0.3), "nan": float("nan"), "arr": np.arange(3)},
    )
    d = f.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["evidence"] == {"gap": 0.3, "nan": None, "arr": [0, 1, 2]}
    assert d["layer"] == "model"


def test_config_file_and_set(tmp_path):
    (tmp_path / "mltriage.toml").write_text(
        'fail_on = "warning"\nignore = ["features"]\n[checks."data.infinite_values"]\nmax_share = 0.5\n'
    )
    cfg = load_config(start=tmp_path)
    assert cfg.fail_on == "warning" and not cfg.wants("features.constant") and cfg.wants("data.duplicates")
    assert cfg.params("data.infinite_values")["max_share"] == 0.5
    cfg.set_param("data.infinite_values.max_share=0.25")
    assert cfg.params("data.infinite_values").max_share == 0.25
    cfg.set_param("data.infinite_values.other=1")
    with pytest.raises(InputError, match="no parameter 'other'"):
        cfg.validate()


def test_pyproject_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.mltriage]\nselect = ["data"]\n')
    cfg = load_config(start=tmp_path)
    assert cfg.select == ["data"] and not cfg.wants("model.overfit")


def test_bad_config_key(tmp_path):
    (tmp_path / "mltriage.toml").write_text("nonsense = 1\n")
    with pytest.raises(InputError, match="unknown setting"):
        load_config(start=tmp_path)


def test_select_layer_limits_checks(binary_case):
    train, test, model = binary_case
    rep = mltriage.diagnose(train, test, "y", model=model, select=["model"], fast=True)
    assert all(f.layer == "model" for f in rep.findings)
    assert {"code": "data.infinite_values", "reason": "deselected (--select/--ignore)"} in rep.skipped


def test_broken_check_is_counted_as_failed(binary_case, monkeypatch):
    from mltriage.registry import REGISTRY

    chk = REGISTRY["data.infinite_values"]

    def boom(ctx, p):
        raise RuntimeError("kaput")

    monkeypatch.setattr(chk, "fn", boom)
    train, test, model = binary_case
    rep = mltriage.diagnose(train, test, "y", model=model, select=["data.infinite_values"])
    assert rep.findings == [] and rep.passed == []
    [failed] = rep.failed
    assert failed["code"] == "data.infinite_values" and "kaput" in failed["error"]
    assert rep.summary()["checks"]["failed"] == 1
    assert "1 check failed" in rep.to_text()
    assert rep.exit_code("critical") == 0 and rep.exit_code("critical", strict=True) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"select": ["dta"]}, "names no layer or check. Did you mean 'data'"),
        ({"ignore": ["model.overfitt"]}, "Did you mean 'model.overfit'"),
        ({"set_params": ["model.overfit.auc_gpa=0.2"]}, "no parameter 'auc_gpa'"),
        ({"set_params": ["model.overfitt.auc_gap=0.2"]}, "no check has the code"),
        ({"set_params": ["errors.underperforming_slice.alpha=5"]}, "must be a number in"),
    ],
)
def test_settings_are_validated_not_ignored(binary_case, kwargs, message):
    train, test, model = binary_case
    with pytest.raises(InputError, match=message):
        mltriage.diagnose(train, test, "y", model=model, **kwargs)


def test_report_lists_passed_checks_and_loads_back(binary_case, tmp_path):
    from mltriage import Report

    train, test, model = binary_case
    rep = mltriage.diagnose(train, test, "y", model=model, select=["data"], fast=True)
    assert "data.infinite_values" in rep.passed
    path = tmp_path / "r.json"
    rep.to_json(path)
    back = Report.load(path)
    assert back.to_dict() == rep.to_dict()
    assert "mltriage diagnosis" in repr(back)  # the terminal rendering, not one line
    assert rep.headline["metric"] == "roc_auc" and 0.5 < rep.headline["test"]["value"] <= 1
    with pytest.raises(InputError):
        Report.load(tmp_path / "missing.json")


def test_encoder_handles_float_inf_and_dates():
    import numpy as np
    import pandas as pd

    from mltriage.stats.encode import Encoder

    df = pd.DataFrame(
        {
            "f": [1.5, np.inf, np.nan],
            "c": ["a", "b", None],
            "d": pd.to_datetime(["1970-01-01", "1970-01-02", None]).astype("datetime64[us]"),
        }
    )
    X = Encoder.fit(df, ["f", "c", "d"], ["c"]).transform(df)
    assert np.isnan(X[1, 0]) and np.isnan(X[2, 0]) and X[0, 0] == 1.5
    assert X[0, 1] in (0, 1) and np.isnan(X[2, 1])
    assert X[1, 2] == 86400 and np.isnan(X[2, 2])


def test_holm_adjustment():
    import numpy as np

    from mltriage.stats.metrics import holm

    adj = holm([0.01, 0.04, 0.03])
    assert np.allclose(adj, [0.03, 0.06, 0.06])
