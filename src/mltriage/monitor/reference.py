"""What `monitor init` stores about the reference, and how later commands read it back.

The reference rows (`--reference`, with the target) give:
- the reference profile: every feature on its bins (stats.profile), plus the scores (PRED_COL):
  the model's on the reference rows, or the reference's own prediction column;
- the reference performance and the CBPE calibration: scores and labels of the evaluation rows
  (`--evaluation` when given, else the reference rows: the training rows make both optimistic,
  a held-out set is better), up to CALIBRATION_ROWS of them;
- the model's sensitivity to each feature (which features are important), with a model;
- a sample of REFERENCE_SAMPLE reference rows, for the production rung run on an alert's window
  (the domain classifier and the skew inference need rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..case import infer_task
from ..config import Config
from ..errors import InputError, listing
from ..io import load_model, read_rows
from ..model import ModelAdapter
from ..positive import choose_positive, positive_scores
from ..stats.bins import is_numeric_dtype
from ..stats.drift import DriftConfig
from ..stats.production import PRED_COL, feature_importance
from ..stats.profile import Profile, build_profile
from .config import MonitorConfig
from .metrics import Reference
from .store import Store

CALIBRATION_ROWS = 20_000
REFERENCE_SAMPLE = 5_000


@dataclass
class InitOptions:
    reference: Any
    target: str
    model: str | None = None
    prediction_column: str | None = None
    id_column: str | None = None
    time_column: str | None = None
    latency_column: str = "latency_ms"
    categorical: tuple[str, ...] = ()
    evaluation: Any = None
    task: str | None = None
    threshold: float = 0.5
    config: MonitorConfig | None = None
    positive_class: Any = None  # binary: the class the scores and labels are about


def _scores(
    adapter: ModelAdapter | None,
    df: pd.DataFrame,
    features: list[str],
    task: str,
    positive: Any,
    pred: str | None,
) -> np.ndarray | None:
    if adapter is not None and all(f in df.columns for f in features):
        if task == "binary" and adapter.has_proba:
            proba = adapter.predict_proba(df[features])
            return positive_scores(np.asarray(proba), adapter.classes, positive).astype(np.float64)
        raw = adapter.predict_raw(df[features])
        return pd.to_numeric(pd.Series(np.asarray(raw).ravel()), errors="coerce").to_numpy(np.float64)
    if pred and pred in df.columns:
        return pd.to_numeric(df[pred], errors="coerce").to_numpy(np.float64)
    return None


def label_values(y: pd.Series, task: str, positive: Any) -> np.ndarray:
    """Labels as numbers: 1/0 for the positive class of a binary task, else the values."""
    if task == "binary":
        return np.where(y.isna(), np.nan, (y.astype(str) == str(positive)).astype(np.float64))
    return pd.to_numeric(y, errors="coerce").to_numpy(np.float64)


def _positive(
    y: pd.Series, adapter: ModelAdapter | None, requested: Any, task: str, target: str
) -> tuple[Any, list[Any]]:
    """(the positive class, the classes): the one requested (validated against the labels), else
    the model's last class, else the last label."""
    classes = (
        list(adapter.classes)
        if adapter is not None and adapter.classes
        else sorted(pd.unique(y.dropna()).tolist(), key=str)
    )
    if requested is not None:
        labels = sorted(pd.unique(y.dropna()).tolist(), key=str) if task == "binary" else classes
        return choose_positive(requested, labels, adapter.classes if adapter else None, task, target)[
            0
        ], classes
    return (classes[-1] if classes else None), classes


def build(opts: InitOptions) -> tuple[dict[str, Any], dict[str, str]]:
    """The meta to store (reference profile, settings, calibration, sample, model) and the
    columns of rows_sample (feature -> number | text)."""
    cfg = opts.config or MonitorConfig()
    ref = read_rows(opts.reference, "reference")
    if opts.target not in ref.columns:
        raise InputError(
            f"the reference has no target column {opts.target!r}", f"its columns are: {listing(ref.columns)}"
        )
    adapter = load_model(opts.model)
    roles = {opts.target, opts.prediction_column, opts.id_column, opts.time_column, opts.latency_column} - {
        None
    }
    names = adapter.feature_names if adapter is not None else None
    features = [str(f) for f in (names or ref.columns) if f not in roles]
    lacking = [f for f in features if f not in ref.columns]
    if lacking:
        raise InputError(
            f"the reference lacks the model's columns {listing(lacking)}",
            "pass the rows the model was trained or validated on",
        )
    if not features:
        raise InputError("the reference has no feature columns", "check --reference and the role columns")
    y = ref[opts.target]
    task = opts.task or infer_task(y, None)[0]
    positive, classes = _positive(y, adapter, opts.positive_class, task, opts.target)
    # booleans are categories (as build_profile reads them), stored as text
    cat = [c for c in features if c in opts.categorical or not is_numeric_dtype(ref[c])]
    profile = build_profile(ref[features], categorical=cat)
    ref_scores = _scores(adapter, ref, features, task, positive, opts.prediction_column)
    if ref_scores is not None:
        profile.columns[PRED_COL] = build_profile(pd.DataFrame({PRED_COL: ref_scores})).columns[PRED_COL]
    ev = read_rows(opts.evaluation, "evaluation") if opts.evaluation is not None else ref
    ev_scores = (
        ref_scores
        if opts.evaluation is None
        else _scores(adapter, ev, features, task, positive, opts.prediction_column)
    )
    calib = None
    if ev_scores is not None and opts.target in ev.columns:
        lab = label_values(ev[opts.target], task, positive)
        ok = np.isfinite(ev_scores) & np.isfinite(lab)
        idx = np.flatnonzero(ok)
        if len(idx) > CALIBRATION_ROWS:
            idx = np.sort(np.random.default_rng(0).choice(idx, CALIBRATION_ROWS, replace=False))
        calib = {"score": ev_scores[idx].tolist(), "label": lab[idx].tolist()}
    importance = None
    if adapter is not None:
        # the same number `mltriage diagnose` and `mltriage drift` show for the same model and rows
        importance = feature_importance(adapter, ref, task, features, seed=0)
    rows = ref[features + [opts.target]]
    if len(rows) > REFERENCE_SAMPLE:
        rows = rows.sample(REFERENCE_SAMPLE, random_state=0)
    settings = {
        "features": features,
        "categorical": cat,
        "target": opts.target,
        "task": task,
        "positive": positive
        if positive is None
        else (positive.item() if hasattr(positive, "item") else positive),
        "classes": [c.item() if hasattr(c, "item") else c for c in classes],
        "threshold": float(opts.threshold),
        "id_column": opts.id_column,
        "time_column": opts.time_column,
        "prediction_column": opts.prediction_column,
        "latency_column": opts.latency_column,
        "importance": importance,
        "config": cfg.to_dict(),
    }
    meta = {
        "reference": profile.to_dict(),
        "settings": settings,
        "calibration": calib,
        "model": str(Path(opts.model).resolve()) if opts.model else None,
        "reference_rows": rows.reset_index(drop=True).to_json(orient="split", date_format="iso"),
    }
    row_columns = {f: ("text" if f in cat else "number") for f in features}
    return meta, row_columns


@dataclass
class Loaded:
    """A store's reference, settings and config, read once per command."""

    settings: dict[str, Any]
    config: MonitorConfig
    reference: Reference
    model_path: str | None
    row_columns: dict[str, str]

    def model(self) -> ModelAdapter | None:
        return load_model(self.model_path) if self.model_path else None


def load(store: Store) -> Loaded:
    meta = store.meta()
    st = dict(meta["settings"])
    cfg = MonitorConfig.from_dict(st.get("config"))
    base = Config()
    dp = base.params("production.data_drift")
    drift = DriftConfig.from_mapping({k: dp[k] for k in ("psi_warning", "psi_critical", "alpha", "min_rows")})
    calib = meta.get("calibration") or {}
    ref = Reference(
        profile=Profile.from_dict(meta["reference"]),
        features=list(st["features"]),
        task=str(st["task"]),
        drift=drift,
        importance=st.get("importance"),
        important_share=float(dp["important_share"]),
        threshold=float(st.get("threshold") or 0.5),
        scores=np.asarray(calib["score"], np.float64) if calib else None,
        labels=np.asarray(calib["label"], np.float64) if calib else None,
    )
    return Loaded(st, cfg, ref, meta.get("model"), dict(meta.get("row_columns") or {}))


def reference_rows(store: Store) -> pd.DataFrame | None:
    text = store.meta_value("reference_rows")
    if not text:
        return None
    from io import StringIO

    return pd.read_json(StringIO(text), orient="split")
