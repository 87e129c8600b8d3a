"""The summary a manager reads first: the verdict in one line and, for each finding to act on,
the evidence in one number (what that number is, in words)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .terminal import fmt

if TYPE_CHECKING:
    from ..findings import Finding
    from . import Report

Getter = Callable[[dict[str, Any]], tuple[Any, str]]


def _pct(v: Any) -> str:
    return f"{float(v):.1%}" if abs(float(v)) < 0.1 else f"{float(v):.0%}"


# code -> (evidence -> (number, what it is)); a code not listed shows its impact, if any
KEY_NUMBER: dict[str, Getter] = {
    "data.missing_values": lambda e: (
        _pct(e["table"][0]["share"]),
        f"of {e['table'][0]['set']} rows missing",
    ),
    "data.label_leakage": lambda e: (
        fmt(e["single_feature"][0]["score"]),
        f"{e.get('metric', 'score')} of {e['single_feature'][0]['column']} alone",
    ),
    "data.label_noise": lambda e: (_pct(e["table"][0]["excess"]), "of training labels likely wrong"),
    "data.label_misalignment": lambda e: (fmt(e["table"][0]["score"]), "best model's score (dummy level)"),
    "data.duplicates": lambda e: (_pct(e["share"]), "of training rows are copies"),
    "data.train_test_overlap": lambda e: (_pct(e["share"]), "of evaluation rows also in training"),
    "data.class_imbalance": lambda e: (_pct(e["minority_share"]), "of rows in the minority class"),
    "data.unseen_categories": lambda e: (_pct(e["table"][0]["share"]), "of rows hold unseen values"),
    "model.overfit": lambda e: (fmt(e["gap"]), f"{e.get('metric', '')} gap, training vs held out"),
    "model.underfit": lambda e: (_pct(e["share_of_lift_missed"]), "of the achievable lift missed"),
    "model.prediction_collapse": lambda e: (_pct(e["share_of_predictions"]), "of rows get the same class"),
    "model.unhandled_imbalance": lambda e: (_pct(e["table"][0]["recall"]), "recall of the rare class"),
    "model.divergence": lambda e: (fmt(e["last_loss"]), f"last loss (lowest {fmt(e['min_loss'])})"),
    "evaluation.evaluated_on_train": lambda e: (
        _pct(e["share_in_train"]),
        "of evaluation rows are training rows",
    ),
    "evaluation.wrong_metric": lambda e: (
        f"{fmt(e['accuracy'])} vs {fmt(e['accuracy_always_majority'])}",
        "accuracy vs always the majority class",
    ),
    "evaluation.miscalibration": lambda e: (fmt(e["ece"]), "expected calibration error"),
    "evaluation.untuned_threshold": lambda e: (
        (_pct(e["saving_share"]), "of the cost saved by tuning")
        if "saving_share" in e
        else (f"+{fmt(e['f1_gain'])}", "F1 from tuning the threshold")
    ),
    "evaluation.temporal_split": lambda e: (
        _pct(e["share_train_rows_after_median_test_row"]),
        "of training rows later than the median evaluation row",
    ),
    "errors.underperforming_slice": lambda e: (
        f"{fmt(e['slice_error'])} vs {fmt(e['rest_error'])}",
        f"{e.get('error_kind', 'error')}, slice vs rest",
    ),
    "errors.confused_classes": lambda e: (_pct(e["pair"]["share_of_errors"]), "of errors are this pair"),
    "ranking.underperforming_queries": lambda e: (
        f"{fmt(e['ndcg@10_slice'])} vs {fmt(e['ndcg@10_other'])}",
        "NDCG@10, these queries vs the others",
    ),
    "production.data_drift": lambda e: (fmt(e["drifted"][0]["psi"]), f"PSI of {e['drifted'][0]['column']}"),
    "production.concept_drift": lambda e: (f"-{fmt(e['drop'])}", f"{e['metric']} in production"),
    "production.estimated_performance_drop": lambda e: (f"-{fmt(e['drop'])}", f"estimated {e['metric']}"),
    "production.prediction_drift": lambda e: (fmt(e["drift"]["psi"]), "PSI of the model's outputs"),
    "production.out_of_distribution": lambda e: (
        _pct(e["share"]),
        "of batch rows outside the training range",
    ),
    "pipeline.serialization_mismatch": lambda e: (_pct(e["mismatch_share"]), "of rows scored differently"),
}


def key_number(f: Finding) -> tuple[str, str] | None:
    """The finding's evidence in one number and what it is; None when there is none to give."""
    getter = KEY_NUMBER.get(f.code)
    if getter is not None:
        try:
            value, what = getter(f.evidence)
            return str(value), what
        except (KeyError, IndexError, TypeError, ValueError):
            pass
    if f.impact:
        return _pct(f.impact), "estimated impact"
    return None


def verdict(report: Report) -> str:
    """One line: how bad, and what to do first."""
    counts = report.counts()
    top = report.top(1)
    if counts["critical"]:
        head = f"{counts['critical']} critical problem{'s' if counts['critical'] > 1 else ''}"
        tail = (
            f" and {counts['warning']} warning{'s' if counts['warning'] != 1 else ''}"
            if counts["warning"]
            else ""
        )
        return f"Not ready: {head}{tail}. Fix {top[0].code} first." if top else f"Not ready: {head}{tail}."
    if counts["warning"]:
        n = counts["warning"]
        return f"Usable with care: {n} warning{'s' if n > 1 else ''}, no critical problem. Start with {top[0].code}."
    if report.failed:
        return (
            f"No problem found, but {len(report.failed)} check(s) failed to run: see the end of the report."
        )
    return "No warning or critical finding: nothing on the ladder looks wrong."


def waiting(report: Report, top: list[Finding]) -> list[Finding]:
    """Warnings and criticals that wait for a lower rung's fix, not already among the top."""
    ids = {id(f) for f in top}
    return [f for f in report.alarms if f.conditional_on and id(f) not in ids]
