"""The HTML report as a person sees it: rendered from real reports and opened in headless
Chromium (Debian's `chromium`, driven by Playwright). In the page: no console error, no request
leaving the page, every finding's code in the text, the expected number of plots, contents links
that land on an element, filters that hide what is unticked.

Skipped, with the reason, where chromium or the playwright package is missing."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mltriage import Finding
from mltriage.report import Report
from mltriage.report.plots import charts_for, report_charts
from mltriage.report.plots.chart import Line, Rule
from mltriage.runner import rank_and_gate

CHROMIUM = os.environ.get("MLTRIAGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# ------------------------------------------------------------------ reports to render
def _f(code: str, severity: str, title: str, evidence: dict, **kw) -> Finding:
    return Finding(code, severity, title, evidence=evidence, root_cause="why", fix="what to do", **kw)


def ladder_report() -> Report:
    """A report with a finding on every rung that has plots, its evidence in the shapes the
    checks write (taken from runs on the public scenarios, trimmed)."""
    reliability = [
        {"bin": i + 1, "low": i / 8, "high": (i + 1) / 8, "rows": 400, "mean_predicted": (i + 0.5) / 8,
         "observed": (i + 0.5) / 16, "gap": (i + 0.5) / 16}
        for i in range(8)
    ]  # fmt: skip
    fs = [
        _f("data.label_leakage", "critical", "calls_next_month alone predicts the target (AUC 0.963)",
           {"metric": "AUC", "rows": 20000, "other_features_together": 0.776, "single_feature": [
               {"column": "calls_next_month", "score": 0.963, "low": 0.959, "high": 0.967},
               {"column": "pay_0", "score": 0.712, "low": 0.703, "high": 0.722}]},
           columns=["calls_next_month"], impact=0.4),
        _f("data.label_noise", "warning", "21.6% of training labels get a probability below 0.1",
           {"threshold": 0.1, "table": [
               {"model": "linear", "rows": 1257, "observed": 0.213, "expected": 0.137, "excess": 0.077},
               {"model": "hgb", "rows": 1257, "observed": 0.216, "expected": 0.145, "excess": 0.071}],
            "by_class": [
               {"class": 0, "rows": 420, "flagged": 97, "share": 0.231, "low": 0.193, "high": 0.273, "expected": 0.14},
               {"class": 1, "rows": 437, "flagged": 88, "share": 0.201, "low": 0.167, "high": 0.241, "expected": 0.15},
               {"class": 2, "rows": 400, "flagged": 86, "share": 0.215, "low": 0.178, "high": 0.258, "expected": 0.145}]}),
        _f("model.divergence", "warning", "Training diverged: loss explodes after epoch 11",
           {"epochs": 30, "loss_column": "loss", "first_loss": 0.514, "min_loss": 0.438, "min_epoch": 11,
            "last_loss": 1966270.7, "first_jump_epoch": 12, "problems": ["loss explodes after epoch 11"],
            "history": [{"epoch": e, "loss": v, "val_loss": w, "nonfinite": w is None} for e, v, w in [
                (1, 0.514, 0.456), (5, 0.449, 0.433), (11, 0.438, 0.431), (12, 31.2, 28.0), (20, 8.1e4, None),
                (30, 1966270.7, None)]]}),
        _f("evaluation.miscalibration", "warning", "Probabilities are miscalibrated: ECE 0.396",
           {"ece": 0.396, "probability": "P(1)", "reliability": reliability}),
        _f("evaluation.untuned_threshold", "warning", "Threshold 0.5 costs 0.480 per row",
           {"cost": {"fp": 1.0, "fn": 10.0}, "threshold_in_use": 0.5, "cost_per_row_at_threshold": 0.48,
            "best_threshold": 0.085, "cost_per_row_at_best_in_sample": 0.335,
            "cost_per_row_tuned_cross_fitted": 0.343, "saving_share": 0.29,
            "curve": [{"threshold": t, "cost_per_row": c, "recall": r} for t, c, r in [
                (0.0, 0.883, 1.0), (0.05, 0.37, 0.93), (0.085, 0.335, 0.85), (0.25, 0.38, 0.6), (0.5, 0.48, 0.37),
                (0.75, 0.62, 0.2), (1.0, 0.898, 0.0)]]}, gain="saves 0.137 per row"),
        _f("errors.confused_classes", "warning", "99% of errors are confusions between B and C",
           {"labels": ["A", "B", "C"], "confusion_matrix_normalised": [[1, 0, 0], [0, 0.8, 0.2], [0, 0.4, 0.6]],
            "pair": {"classes": ["B", "C"], "errors": 764, "share_of_errors": 0.99}}, classes=["B", "C"]),
        _f("errors.underperforming_slice", "warning", "Error rate 59% in the slice vs 13% elsewhere",
           {"slice_size": 365, "slice_share": 0.0456, "slice_error": 0.586, "rest_error": 0.132,
            "error_kind": "error rate", "ci": [0.535, 0.636],
            "confirmation": {"rows": 179, "slice_error": 0.564, "rest_error": 0.134}},
           slice=[{"column": "hours", "op": ">", "value": 45}]),
        _f("errors.underperforming_slice", "info", "Error rate 20% in a small slice vs 15% elsewhere",
           {"slice_size": 90, "slice_share": 0.01, "slice_error": 0.2, "rest_error": 0.15,
            "error_kind": "error rate", "ci": [0.13, 0.29]}, slice=[{"column": "age", "op": "<=", "value": 20}]),
        _f("ranking.underperforming_queries", "warning", "NDCG@10 0.548 for these queries vs 0.688",
           {"queries": 42, "ndcg@10_slice": 0.548, "ndcg@10_other": 0.688, "random_order_ndcg@10_slice": 0.363,
            "random_order_ndcg@10_other": 0.404, "overview": {"queries": 300, "ndcg@10": 0.669, "k": 10},
            "ndcg_histogram": {"edges": [i / 20 for i in range(21)],
                               "counts": [0, 1, 2, 4, 6, 9, 12, 14, 17, 18, 19, 20, 22, 24, 25, 24, 22, 20, 19, 22],
                               "slice_counts": [0, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 1, 1, 1],
                               "other_counts": [0, 0, 1, 2, 4, 6, 9, 11, 14, 15, 16, 17, 19, 21, 23, 22, 20, 19, 18, 21]}}),
        _f("production.data_drift", "critical", "2 feature(s) drifted in the production batch",
           {"thresholds": {"psi_warning": 0.1, "psi_critical": 0.25}, "drifted": [
               {"column": "limit_bal", "kind": "numeric", "psi": 2.29, "severity": "critical"},
               {"column": "age", "kind": "numeric", "psi": 0.2, "severity": "warning"}]},
           columns=["limit_bal", "age"]),
        _f("production.out_of_distribution", "warning", "2.8% of production rows lie outside the training range",
           {"share": 0.028, "rows": 166, "by_column": [
               {"column": "carat", "rows": 165, "train_range": [0.2, 4.5], "allowed": [-0.23, 4.93],
                "batch_range_outside": [5.2, 34.06]}]}),
    ]  # fmt: skip
    rank_and_gate(fs)
    baselines = {
        "metric": "roc_auc", "splitter": "stratified K-fold", "rows": 1200, "folds": 3, "subsampled": False,
        "models": [
            {"model": "dummy baseline", "key": "dummy", "cv_mean": 0.5, "cv_std": 0.0, "train_mean": 0.5,
             "eval_mean": 0.5, "seconds": 0.02},
            {"model": "linear model", "key": "linear", "cv_mean": 0.75, "cv_std": 0.02, "train_mean": 0.82,
             "eval_mean": 0.73, "seconds": 0.1},
        ],
    }  # fmt: skip
    return Report(
        findings=fs,
        case={"task": "binary", "target": "y", "rows": {"train": 1200, "test": 800}, "features": 9},
        passed=["data.duplicates"],
        not_applicable=[{"code": "pipeline.version_mismatch", "reason": "no model file"}],
        baselines=baselines,
        headline={"metric": "roc_auc", "test": {"value": 0.72, "low": 0.70, "high": 0.74}},
    )


# every finding of the ladder report has one plot but the drift (PSI bars only: no summaries),
# and the model baselines have one
LADDER_PLOTS = 12


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A small synthetic case with failures planted on several rungs: a leaking column, a cost
    that calls for another threshold, a diverging training history, a drifted production batch."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from conftest import make_binary

    df = make_binary(3000, seed=3)
    rng = np.random.default_rng(3)
    df["leak"] = df["y"] + rng.normal(0, 0.05, len(df))
    train, test = df.iloc[:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True)
    # the model takes the leak (a column its ColumnTransformer drops is not one of its features)
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["x1", "x2", "x3", "leak"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["color"]),
        ]
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(train.drop(columns="y"), train["y"])
    current = test.drop(columns="y").copy()
    current["x1"] = current["x1"] + 2.0
    loss = [0.7 - 0.02 * i for i in range(10)] + [1e3 * 10**i for i in range(10)]
    hpath = tmp_path_factory.mktemp("hist") / "history.csv"
    pd.DataFrame({"epoch": range(1, 21), "loss": loss}).to_csv(hpath, index=False)
    return {"train": train, "test": test, "model": model, "current": current, "history": str(hpath)}


@pytest.fixture(scope="module")
def real_diagnosis(planted):
    import mltriage

    p = planted
    return mltriage.diagnose(
        p["train"], p["test"], "y", model=p["model"], current=p["current"], history=p["history"],
        cost="fp=1,fn=10", progress=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def clean_diagnosis(binary_case):
    import mltriage

    train, test, model = binary_case
    return mltriage.diagnose(train, test, "y", model=model, fast=True, progress=False)


def _drift_command():
    import importlib

    import mltriage

    fn = getattr(mltriage, "drift", None)
    if callable(fn):
        return fn
    try:
        return importlib.import_module("mltriage.commands.drift").drift
    except (ImportError, AttributeError):
        return None


@pytest.fixture(scope="module")
def drift_report(planted, real_diagnosis):
    """The drift command's report where the command exists; else the production findings of the
    diagnosis, with the per-feature summaries that a drift report carries in its details."""
    drift = _drift_command()
    if drift is not None:
        return drift(planted["train"].drop(columns="y"), planted["current"], model=planted["model"])
    production = [f for f in real_diagnosis.findings if f.layer == "production"]
    summary = {
        "median_ref": 0.0,
        "median_cur": 2.0,
        "min_ref": -3.2,
        "max_ref": 3.1,
        "min_cur": -1.0,
        "max_cur": 5.3,
    }
    features = {
        c: {"column": c, "kind": "numeric", "psi": 2.0, "summary": summary}
        for f in production
        for c in f.columns
    }
    return Report(
        findings=production,
        command="drift",
        case=real_diagnosis.case,
        details={"drift": {"features": features}},
    )


# ------------------------------------------------------------------ the browser
@pytest.fixture(scope="module")
def browser():
    sync = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed: pip install -e '.[test]'"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: apt-get install chromium (Debian's package)")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_report(browser, path: Path):
    """The page, with what went wrong on the way: console errors, requests leaving the page."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return page, errors, outside


def expected_plots(report: Report) -> int:
    return sum(len(charts_for(f, report)) for f in report.findings) + len(report_charts(report))


def check_page(browser, report: Report, path: Path, plots: int) -> object:
    report.to_html(path)
    page, errors, outside = open_report(browser, path)
    assert errors == [], f"console errors: {errors}"
    assert outside == [], f"requests leaving the page: {outside}"
    text = page.inner_text("body")
    for f in report.findings:
        assert f.code in text, f"{f.code} not visible in the page"
    assert page.locator("figure.plot").count() == plots
    assert page.locator("figure.plot svg[role=img][aria-label] > title").count() == plots
    assert page.locator("figure.plot figcaption").count() == plots
    hrefs = page.eval_on_selector_all("a[href^='#']", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs, "no contents links"
    for h in hrefs:
        assert page.locator(f"[id='{h[1:]}']").count() == 1, f"link {h} lands nowhere"
    return page


@pytest.mark.browser
def test_ladder_report_in_the_browser(browser, tmp_path):
    report = ladder_report()
    assert expected_plots(report) == LADDER_PLOTS  # a builder that fails draws nothing: caught here
    page = check_page(browser, report, tmp_path / "ladder.html", LADDER_PLOTS)
    summary = page.inner_text("section[id=summary]")
    assert "Not ready" in summary and "Act on these first" in summary
    assert "see #1 above" in page.inner_text("section.rung[data-rung='1']")
    # filters: untick info, then a rung
    info = page.locator("article.finding[data-severity=info]")
    assert info.count() == 1 and info.first.is_visible()
    page.locator("input[data-sev=info]").uncheck()
    assert not info.first.is_visible()
    page.locator("input[data-rung='6']").uncheck()
    assert not page.locator("section.rung[data-rung='6']").is_visible()
    assert page.locator("section.rung[data-rung='1']").is_visible()


@pytest.mark.browser
def test_real_diagnosis_in_the_browser(browser, real_diagnosis, tmp_path):
    plotted = {f.code for f in real_diagnosis.alarms if charts_for(f, real_diagnosis)}
    assert {"data.label_leakage", "production.data_drift"} <= plotted, real_diagnosis.codes()
    check_page(browser, real_diagnosis, tmp_path / "real.html", expected_plots(real_diagnosis))


@pytest.mark.browser
def test_drift_report_in_the_browser(browser, drift_report, tmp_path):
    report = drift_report
    assert any(f.code == "production.data_drift" for f in report.findings)
    n = expected_plots(report)
    assert n >= 2  # PSI bars and at least one reference-vs-batch distribution
    page = check_page(browser, report, tmp_path / "drift.html", n)
    assert "x1" in page.inner_text("section[id=details]")  # the per-feature drift table


@pytest.mark.browser
def test_clean_report_in_the_browser(browser, clean_diagnosis, tmp_path):
    assert not clean_diagnosis.alarms
    page = check_page(browser, clean_diagnosis, tmp_path / "clean.html", expected_plots(clean_diagnosis))
    assert "nothing on the ladder looks wrong" in page.inner_text("section[id=summary]")


# ------------------------------------------------------------------ without a browser
def test_html_is_self_contained_and_small():
    html = ladder_report().to_html()
    # the only URL is the SVG namespace (a name, never fetched)
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^'\" )]*", html)) - {"http://www.w3.org/2000/svg"}
    assert urls == set(), urls
    assert "<link" not in html and "@import" not in html and "@font-face" not in html
    assert len(html.encode()) < 150_000


def test_notebook_fragments_do_not_collide():
    r = ladder_report()
    a, b = r._repr_html_(), r._repr_html_()
    ids_a = set(re.findall(r"id='([^']+)'", a))
    assert ids_a and not ids_a & set(re.findall(r"id='([^']+)'", b))
    assert "<html" not in a


def test_plots_draw_the_tables_the_checks_write():
    """The threshold curve, the loss curves, the share by class and the NDCG distribution are
    drawn from the evidence tables; a finding without them keeps its summary plot."""
    r = ladder_report()
    by_code = {f.code: charts_for(f, r) for f in r.findings if f.severity.value != "info"}
    thr = by_code["evaluation.untuned_threshold"][0]
    lines = [m for m in thr.marks if isinstance(m, Line)]
    assert len(lines[0].xs) == 7 and {0.5, 0.085} <= {m.value for m in thr.marks if isinstance(m, Rule)}
    assert "Over 7 thresholds" in thr.alt
    div = by_code["model.divergence"][0]
    assert [m.name for m in div.marks if isinstance(m, Line)] == ["training loss", "validation loss"]
    assert div.log_y and "NaN/inf from epoch 20" in div.alt
    noise = by_code["data.label_noise"][0]
    assert noise.categories[0] == "class 0" and noise.title.startswith("Class 0: 23%")
    assert noise.marks[0].low is not None  # Wilson intervals as whiskers
    ndcg = by_code["ranking.underperforming_queries"][0]
    assert ndcg.layout == "xy" and ndcg.percent_y and "These queries: 42 queries" in ndcg.alt
    # without the tables: the summaries, as before
    for f in r.findings:
        for key in ("curve", "history", "by_class", "ndcg_histogram"):
            f.evidence.pop(key, None)
    assert all(len(charts_for(f, r)) == 1 for f in r.findings if f.code in by_code)
    # a ranking case where no group stands out: the distribution of all queries
    info = _f("ranking.underperforming_queries", "info", "NDCG@10 0.712 over 300 queries; no group",
              {"overview": {"k": 10, "queries": 300, "ndcg@10": 0.712},
               "ndcg_histogram": {"edges": [i / 20 for i in range(21)], "counts": [0] * 10 + [30] * 10}})  # fmt: skip
    (c,) = charts_for(info, r)
    assert "300 queries" in c.title and "All queries: 300 queries, 0% below 0.5" in c.alt
    info.evidence.pop("ndcg_histogram")
    assert charts_for(info, r) == []  # nothing to draw (not an error)


def test_every_plot_has_a_title_axes_and_text_alternative():
    r = ladder_report()
    for f in r.findings:
        for c in charts_for(f, r):
            assert c.title and c.alt, f.code
            assert c.layout == "heat" or c.x_label, f.code
