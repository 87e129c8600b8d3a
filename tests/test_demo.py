"""The demo finds what it plants, on the real data shipped in the package."""

from mltriage import diagnose
from mltriage.demo import PLANTED, build_demo_case, load_adult


def test_shipped_data_loads():
    df = load_adult()
    assert len(df) == 6000 and "income" in df.columns


def test_demo_finds_its_planted_failures():
    train, test, model = build_demo_case()
    report = diagnose(train, test, "income", model=model, task="binary")
    found = set(report.codes("warning")) & set(PLANTED)
    assert found == set(PLANTED), report.codes("warning")
    leak = [f for f in report.findings if f.code == "data.label_leakage"][0]
    assert "collections_flag" in leak.columns
