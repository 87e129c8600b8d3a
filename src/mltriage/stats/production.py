"""The production batch against its reference, summarised once for every check that judges it.

`build_production(case, ...)` returns the `ProductionInputs` that the production rung and the
batch checks of the pipeline rung read (through `Context.production()`, which builds it once per
run with production.data_drift's parameters):

- the reference profile (the training rows in `mltriage diagnose`; the reference rows or a saved
  profile in `mltriage drift`) and the batch's profile on the reference's bins;
- the per-feature drift report (stats/drift.py), ranked by the model's sensitivity to each feature
  when a model can be permuted;
- the columns left out of the comparison (time stamps, identifiers) and why;
- on demand, once each: the inferred train/serving skews (with pipeline.train_serving_skew's
  thresholds: the skew check and data_drift ask with the same parameters, so the inference runs
  once and data_drift's output does not depend on which checks were selected), and, for a
  batch-only comparison, the model's outputs on the batch and on the reference rows.

Nothing here reads settings or writes findings: the checks decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..findings import CRITICAL, WARNING, Severity
from ..positive import positive_index
from .drift import DriftConfig, DriftReport, compare_profiles
from .profile import CategoricalProfile, Profile, build_profile
from .skew import Skew, find_skews, skew_config

if TYPE_CHECKING:
    from ..case import Case
    from ..model import ModelAdapter

PRED_COL = "__prediction__"  # the column of a profile that holds the model's outputs


# ---------------------------------------------------------------------------------------------
# the model's outputs, as drift compares them


@dataclass
class ModelOutputs:
    """A model's outputs on a frame in the form drift compares: binary P(positive) (numeric),
    multiclass the predicted class (categorical, as text), regression the prediction (numeric)."""

    kind: str  # "numeric" or "categorical"
    values: pd.Series  # what drift compares
    labels: pd.Series | None  # the predicted labels (binary at 0.5)
    task: str  # the task these outputs reveal: binary, multiclass or regression


def model_outputs(adapter: ModelAdapter, X: pd.DataFrame, positive: Any = None) -> ModelOutputs:
    """The model's outputs on X; the task follows from their shape (two probability columns:
    binary; more: multiclass; numbers without probabilities: regression). Binary outputs are
    about `positive` (P(positive), margins towards it; default the model's last class)."""
    proba = adapter.predict_proba(X) if adapter.has_proba else None
    dec = adapter.decision_function(X) if proba is None and adapter.classes else None
    if dec is not None and (dec.ndim == 1 or dec.shape[1] == 1) and len(adapter.classes or []) == 2:
        classes = list(adapter.classes or [])
        i = positive_index(classes, positive)
        d = np.asarray(dec, float).ravel() * (1.0 if i == 1 else -1.0)  # margins: > 0 is classes_[1]
        label = pd.Series(np.where(d > 0, classes[i], classes[1 - i]))
        return ModelOutputs("numeric", pd.Series(d, name="prediction"), label, "binary")
    if proba is not None and proba.ndim == 2 and proba.shape[1] == 2:
        classes = adapter.classes or [0, 1]
        i = positive_index(classes, positive)
        score = pd.Series(proba[:, i], name="prediction")
        label = pd.Series(np.where(proba[:, i] >= 0.5, classes[i], classes[1 - i]))
        return ModelOutputs("numeric", score, label, "binary")
    if proba is not None and proba.ndim == 2:
        classes_arr = np.asarray(adapter.classes or list(range(proba.shape[1])), dtype=object)
        lab = pd.Series(classes_arr[np.argmax(proba, axis=1)]).astype(str)
        return ModelOutputs("categorical", lab.rename("prediction"), lab, "multiclass")
    raw = np.asarray(adapter.predict_raw(X)).ravel()
    if raw.dtype.kind in "biuf":
        s = pd.Series(raw.astype(float), name="prediction")
        v = s.dropna()
        if adapter.kind == "callable" and len(v) and v.between(0, 1).all() and not (v % 1 == 0).all():
            # a plain function returning one number in [0, 1] per row: P(positive), as in diagnose
            return ModelOutputs("numeric", s, pd.Series(np.where(s >= 0.5, 1, 0)), "binary")
        return ModelOutputs("numeric", s, s, "regression")
    lab = pd.Series(raw).astype(str)
    return ModelOutputs("categorical", lab.rename("prediction"), lab, "multiclass")


def prediction_profile(ref: Profile) -> Profile | None:
    """The model's outputs saved in a reference profile (`mltriage profile --model`), as a profile
    of one column named "prediction"; None when the profile holds none."""
    if PRED_COL not in ref.columns:
        return None
    col = Profile.from_dict(
        {"mltriage_profile": 1, "rows": ref.rows, "columns": {"prediction": ref.columns[PRED_COL].to_dict()}}
    )
    for c in col.columns.values():
        c.name = "prediction"
    return col


SENSITIVITY_ROWS = 800  # rows the model's sensitivity is measured on (a second on a busy machine)


def sensitivity_rows(n: int, seed: int = 0, size: int = SENSITIVITY_ROWS) -> np.ndarray:
    """The row positions every command measures the model's sensitivity on: a seeded random
    sample of `size` of n rows, in order (all of them when fewer)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def feature_importance(
    model: ModelAdapter | None, frame: pd.DataFrame | None, task: str, features: list[str], seed: int = 0
) -> dict[str, float] | None:
    """The model's importance of each feature, the one number every command and report shows:
    its share of the model's sensitivity (`model_sensitivity`) on `sensitivity_rows` of the
    reference rows (the training rows in `mltriage diagnose`, the reference in `mltriage drift` and
    `mltriage monitor`). None without a model that can be scored or rows with its features."""
    if model is None or model.kind == "precomputed" or frame is None or len(frame) == 0:
        return None
    if not all(f in frame.columns for f in features):
        return None
    try:
        X = frame.iloc[sensitivity_rows(len(frame), seed)][features].reset_index(drop=True)
        return model_sensitivity(model, X, task, list(features), seed=seed) or None
    except Exception:
        return None


def model_sensitivity(
    model: ModelAdapter,
    X: pd.DataFrame,
    task: str,
    columns: list[str],
    positive_index: int | None = None,
    seed: int = 0,
) -> dict[str, float] | None:
    """Each feature's share of the model's sensitivity: the mean change of its output when the
    feature's values are permuted across rows (a cheap permutation importance without labels)."""
    rng = np.random.default_rng(seed)

    def out(df: pd.DataFrame) -> np.ndarray | None:
        if task in ("binary", "multiclass") and model.has_proba:
            return model.predict_proba(df)
        if task in ("binary", "multiclass") and model.has_decision:
            d = np.asarray(model.decision_function(df), float)
            return d.reshape(len(d), -1)
        v = model.predict_raw(df)
        return pd.to_numeric(pd.Series(np.asarray(v).ravel()), errors="coerce").to_numpy(float)

    try:
        base = out(X)
    except Exception:
        return None
    if base is None:
        return None
    scale = 1.0 if base.ndim == 2 else (float(np.nanstd(base)) or 1.0)
    raw: dict[str, float] = {}
    for col in columns:
        if col not in X.columns:
            continue
        Xp = X.copy()
        Xp[col] = X[col].to_numpy()[rng.permutation(len(X))]
        try:
            o = out(Xp)
        except Exception:
            continue
        d = np.abs(o - base)
        raw[col] = float(np.nanmean(d.sum(axis=1) / 2 if d.ndim == 2 else d / scale))
    tot = sum(raw.values())
    if tot <= 0:
        return {k: 0.0 for k in raw}
    return {k: v / tot for k, v in raw.items()}


# ---------------------------------------------------------------------------------------------
# the shared state


@dataclass
class ProductionInputs:
    """What the production checks read, from a diagnose case or from `mltriage drift`."""

    ref: Profile  # reference profile
    current: pd.DataFrame  # the batch (rows; empty when the batch is a profile)
    features: list[str]  # columns compared (the model's inputs, less the ones left out)
    categorical: list[str]
    report: DriftReport
    cur_profile: Profile
    ignore: set[str] = field(default_factory=set)  # target, prediction column, role columns
    importance: dict[str, float] | None = None  # feature -> share of the model's sensitivity
    ref_frame: pd.DataFrame | None = None  # reference rows, when available
    skipped: dict[str, str] = field(default_factory=dict)  # columns left out, and why
    missing_severity: Severity = CRITICAL  # a reference column absent from the batch
    current_is_profile: bool = False  # the batch came as a profile: no rows
    model: ModelAdapter | None = None  # batch-only comparison: the model that scores the batch
    model_features: list[str] = field(default_factory=list)  # ... and the columns it takes
    labels: list[str] = field(default_factory=list)  # outcome columns in both sets (the target)
    positive: Any = None  # binary: the class the model's outputs are about (P(positive))
    entities: dict[str, Any] | None = None  # the batch holds other entities: the drift test's correction
    # column -> PSI of the evaluation set against training (under skew_min_psi): how far a sample
    # nothing was done to already sits from training, the floor of what an undone batch must reach
    natural_psi: dict[str, float] = field(default_factory=dict)
    _skews: dict[tuple[float, float], dict[str, Skew]] = field(default_factory=dict, init=False, repr=False)

    @property
    def common(self) -> list[str]:
        batch = self.cur_profile.columns if self.current_is_profile else self.current.columns
        return [c for c in self.features if c in batch and c in self.ref.columns]

    def skews(self, params: Mapping[str, Any]) -> dict[str, Skew]:
        """Columns whose drift a serving transformation explains (see stats/skew.py), with the
        skew thresholds of `params` (pipeline.train_serving_skew's parameters); once per value."""
        if self.current_is_profile:
            return {}
        cfg = skew_config(self.report.config, params)
        key = (cfg.skew_min_psi, cfg.skew_max_psi_after)
        if key not in self._skews:
            self._skews[key] = find_skews(
                self.ref,
                self.current,
                self.report,
                self.common,
                cfg,
                self.ref_frame,
                self.labels,
                natural=self.natural_psi,
            )
        return self._skews[key]

    @property
    def can_score(self) -> bool:
        """A fitted model that the batch has every column for (batch-only comparison)."""
        m = self.model
        return (
            m is not None
            and m.kind != "precomputed"
            and not self.current_is_profile
            and all(f in self.current.columns for f in self.model_features)
        )

    @cached_property
    def outputs(self) -> ModelOutputs | None:
        """The model's outputs on the batch (batch-only comparison), None when it cannot score."""
        if not self.can_score or self.model is None:
            return None
        return model_outputs(self.model, self.current[self.model_features], self.positive)

    @cached_property
    def reference_outputs(self) -> pd.Series | None:
        """The model's outputs on the reference rows (batch-only comparison), when there are any."""
        ref = self.ref_frame
        if not self.can_score or self.model is None or ref is None:
            return None
        if not all(f in ref.columns for f in self.model_features):
            return None
        return model_outputs(self.model, ref[self.model_features], self.positive).values

    @property
    def reference_prediction(self) -> Profile | None:
        """The model's outputs saved in the reference profile, as a "prediction" profile."""
        return prediction_profile(self.ref)


def drift_config(p: Mapping[str, Any] | None) -> DriftConfig:
    """A DriftConfig from a check's parameters (the names DriftConfig knows)."""
    return DriftConfig.from_mapping(
        {k: v for k, v in (p or {}).items() if k in DriftConfig.__dataclass_fields__}
    )


def make_inputs(
    ref: Profile | pd.DataFrame,
    current: pd.DataFrame,
    features: list[str],
    categorical: Iterable[str],
    cfg: DriftConfig,
    ignore: Iterable[str] = (),
    importance: dict[str, float] | None = None,
    ref_rows: pd.DataFrame | None = None,
) -> ProductionInputs:
    """Profile the batch on the reference's bins and compare them, leaving out time stamps and
    identifier-like columns (later batches always differ on them)."""
    cat = list(categorical)
    ref_frame = ref_rows if ref_rows is not None else None if isinstance(ref, Profile) else ref
    skipped: dict[str, str] = {}
    for c in features:  # time stamps always "drift"; identifiers are new in every batch
        if c in current.columns and pd.api.types.is_datetime64_any_dtype(current[c]):
            skipped[c] = "a date/time column (later batches always differ)"
    features = [c for c in features if c not in skipped]
    if ref_frame is not None:
        skipped.update(_integer_identifiers(ref_frame, features, cat))
        features = [c for c in features if c not in skipped]
    if not isinstance(ref, Profile):
        ref = build_profile(ref[[c for c in features if c in ref.columns]], categorical=cat)
    for c in features:
        rp = ref.columns.get(c)
        if isinstance(rp, CategoricalProfile) and rp.n >= 200 and rp.n_unique >= 0.5 * rp.n and c not in cat:
            skipped[c] = "an identifier-like column (mostly unique values)"
    features = [c for c in features if c not in skipped]
    common = [c for c in features if c in current.columns and c in ref.columns]
    cur_profile = build_profile(current[common], like=ref, categorical=cat)
    report = compare_profiles(ref, cur_profile, cfg, common)
    report.only_in_current = [c for c in current.columns if c not in ref.columns]
    if importance:
        report.set_importance(importance)
    return ProductionInputs(
        ref=ref,
        current=current,
        features=list(features),
        categorical=cat,
        report=report,
        cur_profile=cur_profile,
        ignore=set(ignore),
        importance=importance,
        ref_frame=ref_frame,
        skipped=skipped,
    )


def _integer_identifiers(ref_frame: pd.DataFrame, features: list[str], cat: list[str]) -> dict[str, str]:
    """Integer row identifiers: every value unique (in a reference of 200 rows or more)."""
    return {
        c: "an identifier-like column (every value unique)"
        for c in features
        if c in ref_frame.columns
        and c not in cat
        and len(ref_frame) >= 200
        and pd.api.types.is_integer_dtype(ref_frame[c])
        and ref_frame[c].is_unique
    }


# ---------------------------------------------------------------------------------------------
# building it from a case


def build_production(
    case: Case,
    drift_params: Mapping[str, Any],
    *,
    seed: int = 0,
    importance: dict[str, float] | None = None,
) -> ProductionInputs:
    """The production state of a case with a batch (`case.current` rows or `case.current_profile`).

    The reference is `case.reference` when set (a batch-only comparison: `mltriage drift`), else the
    training rows. `drift_params` are production.data_drift's parameters. `importance` is the
    model's importance of each feature (`feature_importance`, from `Context.importance()` in a
    diagnosis); a batch-only comparison measures it on the reference rows (on the batch when the
    reference is a profile)."""
    cfg = drift_config(drift_params)
    c = case
    ignore = {
        r for r in (c.target, c.prediction_column, c.time_column, c.group_column, *c.prediction_columns) if r
    }
    features = [f for f in c.features if f not in ignore]
    if c.reference is None:
        assert c.current is not None
        inp = make_inputs(c.train, c.current, features, c.categorical, cfg, ignore)
        inp.importance = importance
        inp.entities = count_entities(inp, [x for x in c.train.columns if x not in features], c.group_column)
    elif c.current is None:
        inp = _profile_batch(c, c.reference, features, cfg, ignore)
    else:
        ref_rows = c.train if len(c.train.columns) else None
        inp = make_inputs(c.reference, c.current, features, c.categorical, cfg, ignore, ref_rows=ref_rows)
        inp.model, inp.model_features = c.model, list(c.features)
        if c.model is None or c.model.kind == "precomputed":
            # without a model nobody says the batch must carry every reference column (a label
            # column the batch has not yet got, say): a missing column is a warning, not critical
            inp.missing_severity = WARNING
        rows = ref_rows if ref_rows is not None and inp.can_score else inp.current if inp.can_score else None
        inp.importance = feature_importance(c.model, rows, c.task, inp.model_features, seed)
    if inp.importance:
        inp.report.set_importance(inp.importance)
    inp.labels = labels_in_both(c.target, inp.ref_frame, inp.current)
    inp.positive = c.positive
    return inp


def count_entities(inp: ProductionInputs, candidates: list[str], given: str | None) -> dict[str, Any] | None:
    """When the batch's rows belong to entities training never saw, re-test the drift report on the
    entities' information (stats/drift_entities.py); what was done, or None."""
    from .drift_entities import batch_entity, design_effects, regrade

    ref = inp.ref_frame
    if ref is None or inp.current_is_profile:
        return None
    ent = batch_entity(ref, inp.current, candidates, given)
    if ent is None:
        return None
    cfg = inp.report.config
    deff = design_effects(inp.ref, ref, ent, inp.common, cfg.smoothing, cfg.seed)
    return regrade(inp.report, deff, ent, int(inp.current[ent].nunique()))


def labels_in_both(target: str | None, ref: pd.DataFrame | None, cur: pd.DataFrame) -> list[str]:
    """[target] when both the reference rows and the batch carry it (a labelled batch)."""
    ok = target is not None and ref is not None and target in ref.columns and target in cur.columns
    return [target] if ok and target is not None else []


def _profile_batch(
    c: Case, ref: Profile, features: list[str], cfg: DriftConfig, ignore: set[str]
) -> ProductionInputs:
    """A batch given as a profile (made `--like` the reference): distributions only."""
    cur_p = c.current_profile
    assert cur_p is not None
    common = [f for f in features if f in cur_p.columns and f in ref.columns]
    return ProductionInputs(
        ref=ref,
        current=pd.DataFrame(),
        features=features,
        categorical=list(c.categorical),
        report=compare_profiles(ref, cur_p, cfg, common),
        cur_profile=cur_p,
        ignore=ignore,
        current_is_profile=True,
    )
