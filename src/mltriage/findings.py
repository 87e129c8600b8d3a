"""Finding, Severity and the catalogue of failure codes.

A finding is one result of one check: a code from the catalogue, a severity, a one-line title,
what it is about (columns, classes, slice), evidence (numbers and small tables), the likely root
cause and the fix. Every renderer reads findings through `Finding.to_dict()`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

# A code's prefix is its layer (fixed by the shared catalogue of failure codes). The debugging
# ladder groups the layers into six rungs, numbered one way everywhere (code, README, reports):
RUNGS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "data and features", ("data", "features")),
    (2, "pipeline", ("pipeline",)),
    (3, "model", ("model",)),
    (4, "evaluation", ("evaluation",)),
    (5, "error analysis", ("errors", "ranking")),
    (6, "production", ("production",)),
)
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression", "ranking")
# The workflow around a diagnosis: commands whose checks are not on the ladder (rung 0). Each has
# its own layer: `mltriage gate` (a retrained model against the one in production), `replay` (one
# production input through the pipeline), `compare` (attributions between versions), `latency`.
WORKFLOW_LAYERS: tuple[str, ...] = ("gate", "replay", "attribution", "latency")
LADDER_LAYERS: tuple[str, ...] = tuple(layer for _, _, layers in RUNGS for layer in layers)
LAYERS: tuple[str, ...] = LADDER_LAYERS + WORKFLOW_LAYERS
_RUNG_OF_LAYER = {layer: number for number, _, layers in RUNGS for layer in layers} | {
    layer: 0 for layer in WORKFLOW_LAYERS
}
RUNG_NAMES = {0: "workflow"} | {number: name for number, name, _ in RUNGS}


# code -> one-line meaning. Mirrors the shared failure-code table; the registry refuses a check
# whose code is not here, so a typo fails at import time, not in a user's report.
CODES: dict[str, str] = {
    "data.missing_values": "NaN or None in features that the model path does not handle, or whose rate differs between sets",
    "data.infinite_values": "+/-inf in numeric features",
    "data.label_misalignment": "labels no longer belong to their rows: every model is no better than the dummy baseline",
    "data.target_suspect": "the target looks wrong: constant, an identifier, continuous where a class is expected, or mostly missing",
    "data.label_leakage": (
        "a feature predicts the target almost perfectly on its own, or far better than all the "
        "other features together"
    ),
    "data.label_noise": "a sizeable share of training labels is likely wrong",
    "data.unseen_categories": "categorical values in the evaluation or production set that training never saw",
    "data.duplicates": "duplicate rows inside the training set",
    "data.train_test_overlap": "rows shared between training and evaluation sets",
    "data.class_imbalance": "the minority class is rare enough that accuracy and the default threshold mislead",
    "features.constant": "a feature with a single value (or nearly)",
    "features.redundant": "features that duplicate each other",
    "pipeline.preprocessing_leakage": "a fitted preprocessing step learned its statistics from more than the training rows",
    "pipeline.train_serving_skew": "a feature is computed differently in serving than in training",
    "pipeline.serialization_mismatch": "the saved model does not reproduce the predictions logged in production",
    "pipeline.version_mismatch": "the model artifact was saved with library versions that differ from the running ones",
    "model.underfit": "the model barely beats a dummy baseline or a simple linear model",
    "model.overfit": "the gap between training and held-out performance is large",
    "model.prediction_collapse": "(nearly) every prediction is the same class or value",
    "model.wrong_output_type": "the model's outputs do not fit the task",
    "model.unhandled_imbalance": "a rare class is almost never predicted",
    "model.instability": "performance varies widely across folds or seeds",
    "model.divergence": "the training history shows NaN or exploding loss, or a loss that never decreases",
    "evaluation.evaluated_on_train": "the evaluation set is (almost) the training set",
    "evaluation.wrong_metric": "the chosen headline metric misleads for this task",
    "evaluation.untuned_threshold": "the decision threshold is the default although prevalence or costs call for another",
    "evaluation.miscalibration": "predicted probabilities do not match observed frequencies",
    "evaluation.temporal_split": "time-ordered data split at random",
    "errors.underperforming_slice": "a subgroup whose error is much worse than overall",
    "errors.confused_classes": "a pair of classes that the model confuses far more than the rest",
    "errors.high_confidence_errors": "a cluster of confident mistakes",
    "ranking.hard_negatives": "irrelevant items that the ranker places near the top, sharing a trait",
    "ranking.hard_positives": "relevant items that the ranker buries, sharing a trait",
    "ranking.underperforming_queries": "a group of queries whose ranking quality is much worse than overall",
    "production.data_drift": "the production distribution of features differs from the reference",
    "production.prediction_drift": "the distribution of the model's outputs moved",
    "production.concept_drift": "the relation between features and label changed",
    "production.schema_change": "a column is missing, renamed, of another type, or carries values outside the training schema",
    "production.out_of_distribution": "production rows far outside the training range",
    "production.estimated_performance_drop": "with labels not yet arrived, estimated performance has dropped",
    # workflow commands (not on the ladder): gate, replay, compare, latency
    "gate.regression_overall": "the candidate model is significantly worse than the baseline on the same rows",
    "gate.regression_slice": "the candidate model is significantly worse than the baseline on a slice of the rows",
    "gate.calibration_regression": "the candidate model's probabilities are significantly less calibrated than the baseline's",
    "gate.positive_rate_shift": "the candidate model predicts the positive class at a significantly different rate",
    "gate.latency_regression": "the candidate model is significantly slower per row than the baseline",
    "replay.step_error": "a step of the saved pipeline raises on the replayed input",
    "replay.non_finite": "a step of the saved pipeline turns the replayed input into NaN or infinite values",
    "replay.out_of_range": "the replayed input lies outside the training range or holds categories the encoders never saw",
    "replay.prediction_mismatch": "the saved pipeline does not reproduce the prediction logged for the replayed input",
    "attribution.population_shift": "a feature's distribution moved while its effect on the prediction did not: a real population change",
    "attribution.preprocessing_bug": "a feature's transformed values moved while its raw values did not: scaling or encoding changed",
    "attribution.new_leakage": "a feature's attribution jumped while it became a near-perfect predictor",
    "attribution.training_artifact": "two models on the same data attribute differently beyond the spread across seeds",
    "attribution.segment_drivers": "the features whose attributions set a failing segment apart from the rest",
    "latency.target_missed": "the model does not meet its p99 latency target at the target request rate on this machine",
    "latency.slow_step": "one pipeline step takes most of the prediction time",
}


def layer_of(code: str) -> str:
    return code.split(".", 1)[0]


def rung_of(code_or_layer: str) -> int:
    """The ladder rung (1-6) of a code or a layer; 0 for the workflow commands' layers."""
    return _RUNG_OF_LAYER[layer_of(code_or_layer)]


def layer_order(layer: str) -> int:
    """Position of a layer on the ladder (the one order every ranking uses)."""
    return LAYERS.index(layer)


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ValueError(f"unknown severity {value!r}; use info, warning or critical") from None


INFO, WARNING, CRITICAL = Severity.INFO, Severity.WARNING, Severity.CRITICAL


@dataclass
class Finding:
    code: str
    severity: Severity
    title: str
    columns: list[str] = field(default_factory=list)
    classes: list[Any] = field(default_factory=list)
    slice: list[dict] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    root_cause: str = ""
    fix: str = ""
    # Estimated impact used to rank findings of equal layer and severity: a share in [0, 1]
    # (of rows affected, of errors explained, of cost saved, of metric lost). Larger first.
    impact: float = 0.0
    # Filled in by the ladder: codes of critical findings on lower layers that make this one
    # conditional ("fix those first, then re-check this").
    conditional_on: list[str] = field(default_factory=list)
    # What renderers show, declared here rather than hidden in evidence keys:
    gain: str = ""  # the expected gain of the fix, in words
    show: bool = False  # shown in the terminal's default view even when only info
    primary_table: str | None = None  # the evidence table to show first (a key of evidence)
    plot_data: list[str] = field(default_factory=list)  # evidence tables drawn, not printed as tables

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")
        self.severity = Severity.parse(self.severity)
        self.columns = [str(c) for c in self.columns]

    @property
    def layer(self) -> str:
        return layer_of(self.code)

    @property
    def rung(self) -> int:
        return rung_of(self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "layer": self.layer,
            "rung": self.rung,
            "severity": self.severity.value,
            "title": self.title,
            "columns": list(self.columns),
            "classes": [jsonable(c) for c in self.classes],
            "slice": jsonable(self.slice),
            "evidence": jsonable(self.evidence),
            "root_cause": self.root_cause,
            "fix": self.fix,
            "impact": jsonable(self.impact),
            "conditional_on": list(self.conditional_on),
            "gain": self.gain,
            "show": self.show,
            "primary_table": self.primary_table,
            "plot_data": list(self.plot_data),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        """The inverse of to_dict (for Report.load)."""
        keys = (
            "code",
            "severity",
            "title",
            "columns",
            "classes",
            "slice",
            "evidence",
            "root_cause",
            "fix",
            "impact",
            "conditional_on",
            "gain",
            "show",
            "primary_table",
        )
        return cls(**{k: d[k] for k in keys if k in d and d[k] is not None})


def jsonable(obj: Any) -> Any:
    """Turn numpy/pandas scalars, arrays and frames into plain JSON values (NaN -> None)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, Enum):
        return obj.value
    return _jsonable_other(obj)


def _jsonable_other(obj: Any) -> Any:
    """pandas objects, then anything with .item(), then its text."""
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return jsonable(obj.to_dict())
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    if hasattr(obj, "item"):
        try:
            return jsonable(obj.item())
        except (ValueError, TypeError):
            pass
    return str(obj)
