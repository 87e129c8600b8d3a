"""One adapter over every kind of model mltriage accepts.

- a scikit-learn estimator or Pipeline, as an object or a joblib/pickle file;
- any object with `predict` (and optionally `predict_proba`), such as LightGBM's or XGBoost's
  scikit-learn estimators, or a plain callable `f(X) -> predictions`;
- no model at all: a column of precomputed outputs in every frame (binary: the probability of
  the positive class; multiclass: the predicted class; regression and ranking: the prediction).

Checks never see the difference: they ask the run's Context for `Predictions` of a set.

Loading a pickle or joblib file runs code from that file: load only files you trust.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError


@dataclass
class Predictions:
    """A model's outputs on one set of rows, in the shapes every check expects.

    score   binary: probability (or score) of the positive class; multiclass: probability of the
            predicted class; regression and ranking: the prediction itself.
    label   classification: the predicted class at the threshold in use; regression/ranking: the
            prediction.
    proba   classification with probabilities: an (n, k) array whose columns follow `classes`.
    raw     what `predict` returned, untouched (for output-type checks).
    decision  classification without probabilities: what `decision_function` returned, (n,) for
            binary (oriented so that larger means the positive class) or (n, k) in `classes` order.
    kind    what `score` is: "probability", "decision" (a margin, larger = positive class; the
            threshold in use is 0), "score" (other continuous values), "label" (hard classes
            only) or "value" (regression and ranking).
    """

    score: np.ndarray
    label: np.ndarray
    raw: np.ndarray
    proba: np.ndarray | None = None
    classes: list[Any] | None = None
    has_proba: bool = False
    notes: list[str] = field(default_factory=list)
    decision: np.ndarray | None = None
    kind: str = "label"


class ModelAdapter:
    """Wraps a model (or a prediction column) behind predict_raw / predict_proba."""

    kind: str = "estimator"  # "estimator" | "callable" | "precomputed"

    def __init__(
        self,
        obj: Any = None,
        *,
        prediction_column: str | None = None,
        source: str | None = None,
        load_warnings: list[dict[str, Any]] | None = None,
    ) -> None:
        from .boosters import is_booster, wrap

        if is_booster(obj):
            obj = wrap(obj)
        self.obj = obj
        self._input_spec: dict[str, tuple[str, list]] | None = None
        self.prediction_column = prediction_column
        self.source = source
        self.load_warnings = load_warnings or []
        # precomputed per-class probabilities: one column per class (`column_classes` in order)
        self.prediction_columns: list[str] = [prediction_column] if prediction_column else []
        self.column_classes: list[Any] | None = None
        if obj is None:
            self.kind = "precomputed"
        elif hasattr(obj, "predict"):
            self.kind = "estimator"
        elif callable(obj):
            self.kind = "callable"
        else:
            raise InputError(
                f"the model ({type(obj).__name__}) has no predict method and is not callable",
                "pass a fitted estimator, an object with predict/predict_proba, a callable, "
                "or no model and --prediction-column",
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, model: Any, prediction_column: str | None = None) -> ModelAdapter | None:
        if model is None:
            return cls(None, prediction_column=prediction_column) if prediction_column else None
        if isinstance(model, (str, Path)):
            return cls.from_file(Path(model), prediction_column)
        return cls(model, prediction_column=prediction_column, source=type(model).__name__)

    @classmethod
    def from_file(cls, path: Path, prediction_column: str | None = None) -> ModelAdapter:
        if not path.exists():
            raise InputError(f"model file {str(path)!r} does not exist", "check the path given to --model")
        import joblib

        from .model_files import load_special

        if (obj := load_special(path)) is not None:
            return cls(obj, prediction_column=prediction_column, source=str(path))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                obj = joblib.load(path)
            except ModuleNotFoundError as exc:
                raise InputError(
                    f"cannot load model {str(path)!r}: it needs the module {exc.name!r}, "
                    "which is not installed",
                    f"install the library the model was built with (pip install {exc.name})",
                ) from None
            except Exception as exc:
                raise InputError(
                    f"cannot load model {str(path)!r}: {type(exc).__name__}: {exc}",
                    "save it with joblib.dump(model, path) under compatible library versions, "
                    "or pass its predictions with --prediction-column",
                ) from None
        recs = []
        for w in caught:
            rec = {"category": w.category.__name__, "message": str(w.message)}
            for attr in ("original_sklearn_version", "current_sklearn_version"):
                if hasattr(w.message, attr):
                    rec[attr] = getattr(w.message, attr)
            recs.append(rec)
        return cls(obj, prediction_column=prediction_column, source=str(path), load_warnings=recs)

    # ------------------------------------------------------------------ properties
    @property
    def estimator(self) -> Any:
        """The fitted object, or None for precomputed predictions."""
        return self.obj

    @property
    def fitted_names(self) -> list[str] | None:
        """The column names the model was fitted with (None when it was fitted on an array: the
        Column_0... names LightGBM makes up are not names)."""
        names = getattr(self.obj, "feature_names_in_", None)
        if names is None and hasattr(self.obj, "feature_name_"):  # LightGBM
            names = self.obj.feature_name_
            if names is not None and all(str(n) == f"Column_{i}" for i, n in enumerate(names)):
                names = None
        if names is None and hasattr(self.obj, "get_booster"):  # XGBoost
            try:
                names = self.obj.get_booster().feature_names
            except Exception:
                names = None
        return [str(n) for n in names] if names is not None else None

    @property
    def feature_names(self) -> list[str] | None:
        """The columns the model takes, in its order: the names it was fitted with, less those
        its ColumnTransformer drops (`dropped_inputs`)."""
        names = self.fitted_names
        if names is None:
            return None
        dropped = set(self.dropped_inputs)
        used = [n for n in names if n not in dropped]
        return used if used else names

    @property
    def n_inputs(self) -> int | None:
        """The number of columns a model fitted without names takes (n_features_in_)."""
        n = getattr(self.obj, "n_features_in_", None)
        try:
            return int(n) if n is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def dropped_inputs(self) -> list[str]:
        """Columns the model was fitted with but never uses: those its first ColumnTransformer
        drops (remainder='drop' or a 'drop' transformer), e.g. an id, a timestamp, or the target
        itself when the whole frame was passed to fit()."""
        obj = self.obj
        ct = obj if hasattr(obj, "transformers_") else None
        steps = getattr(obj, "steps", None)
        if ct is None and steps and hasattr(steps[0][1], "transformers_"):
            ct = steps[0][1]
        names = getattr(ct, "feature_names_in_", None)
        idx = getattr(ct, "_transformer_to_input_indices", None)
        if ct is None or names is None or not isinstance(idx, dict):
            return []
        used: set[int] = set()
        for name, trans, _ in ct.transformers_:
            if not (isinstance(trans, str) and trans == "drop"):
                used.update(int(i) for i in idx.get(name, []))
        return [str(n) for i, n in enumerate(names) if i not in used]

    @property
    def categorical_inputs(self) -> tuple[dict[str, list | None], str]:
        """The columns the model was trained on as pandas categoricals, with their training
        categories in the model's order (None when the model does not record them), and where
        that comes from: LightGBM's pandas_categorical, XGBoost's feature_types and categories,
        scikit-learn's HistGradientBoosting is_categorical_. ({}, "") for other models."""
        obj = self.obj
        if obj is None:
            return {}, ""
        if getattr(obj, "booster_", None) is not None:
            from .stats.replay.ranges import lightgbm_record

            _, cats = lightgbm_record(obj)
            return {k: list(v) for k, v in cats.items()}, "LightGBM pandas_categorical"
        if hasattr(obj, "get_booster"):
            return _xgboost_categories(obj), "XGBoost feature_types"
        mask = getattr(obj, "is_categorical_", None)
        names = self.feature_names
        if mask is not None and names is not None and len(names) == len(mask):
            learned = _hgb_categories(obj, int(np.sum(mask)))
            cols = [n for n, m in zip(names, mask) if m]
            return dict(zip(cols, learned)), "HistGradientBoosting is_categorical_"
        return {}, ""

    @property
    def text_inputs(self) -> list[str]:
        """Input columns whose fitted encoders (OneHotEncoder, OrdinalEncoder, TargetEncoder inside
        a ColumnTransformer, at any depth of a Pipeline) learned text categories: the model saw
        these columns as strings (codes such as '01234' that a CSV reader turns into numbers)."""
        out: list[str] = []
        for ct in _column_transformers(self.obj):
            for _, trans, cols in getattr(ct, "transformers_", []):
                if not isinstance(cols, (list, tuple)) or not cols or not isinstance(cols[0], str):
                    continue
                cats = _encoder_categories(trans)
                if cats is None or len(cats) != len(cols):
                    continue
                for col, k in zip(cols, cats):
                    vals = [v for v in list(k) if v is not None and not (isinstance(v, float) and v != v)]
                    if vals and all(isinstance(v, str) for v in vals):
                        out.append(col)
        return out

    @property
    def per_class_columns(self) -> bool:
        """Precomputed outputs given as one probability column per class."""
        return self.kind == "precomputed" and self.column_classes is not None

    @property
    def classes(self) -> list[Any] | None:
        if self.per_class_columns:
            return list(self.column_classes or [])
        c = getattr(self.obj, "classes_", None)
        return list(c) if c is not None else None

    @property
    def has_proba(self) -> bool:
        if self.kind == "precomputed":
            return self.per_class_columns  # one column: handled by the Context from its content
        return hasattr(self.obj, "predict_proba")

    @property
    def has_decision(self) -> bool:
        """A classifier without predict_proba that has decision_function (SVMs, SGD with hinge
        loss, ridge classifiers, alone or at the end of a Pipeline)."""
        if self.kind != "estimator" or self.has_proba:
            return False
        return hasattr(self.obj, "decision_function")

    @property
    def description(self) -> str:
        if self.per_class_columns:
            return f"precomputed class probabilities in columns {', '.join(self.prediction_columns)}"
        if self.kind == "precomputed":
            return f"precomputed predictions in column {self.prediction_column!r}"
        obj = self.obj
        if type(obj).__module__ == "mltriage.boosters":
            return repr(obj)
        if hasattr(obj, "steps"):
            return "Pipeline(" + " → ".join(type(s).__name__ for _, s in obj.steps) + ")"
        return type(obj).__name__

    # ------------------------------------------------------------------ predicting
    @property
    def is_regressor(self) -> bool:
        """A fitted regressor (scikit-learn's tags, or a LightGBM/XGBoost regressor)."""
        if self.kind != "estimator":
            return False
        try:
            from sklearn.base import is_regressor

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if is_regressor(self.obj):
                    return True
        except Exception:
            pass
        return getattr(self.obj, "_estimator_type", None) == "regressor"

    @property
    def numeric_only(self) -> bool:
        """A LightGBM or XGBoost model: it refuses object columns (pandas reads a bool column
        with a missing value as one)."""
        mod = type(self.obj).__module__.split(".")[0]
        return mod in ("lightgbm", "xgboost") or type(self.obj).__module__ == "mltriage.boosters"

    @property
    def input_spec(self) -> dict[str, tuple[str, list]]:
        """The columns the model needs in a form a file cannot carry: ("category", its training
        categories) for pandas categoricals, ("text", learned categories) for columns its encoders
        learned as text. Computed once."""
        spec = self._input_spec
        if spec is None:
            spec = {}
            try:
                cats, _ = self.categorical_inputs
                spec.update({c: ("category", list(k)) for c, k in cats.items() if k})
                text = set(self.text_inputs)
                for ct in _column_transformers(self.obj):
                    for _, trans, cols in getattr(ct, "transformers_", []):
                        learned = _encoder_categories(trans)
                        if isinstance(cols, (list, tuple)) and learned and len(learned) == len(cols):
                            spec.update({c: ("text", list(k)) for c, k in zip(cols, learned) if c in text})
            except Exception:  # a model we cannot read this from is called as it is
                spec = {}
            self._input_spec = spec
        return spec

    def _call(self, method: str, X: pd.DataFrame) -> np.ndarray:
        fn = self.obj if self.kind == "callable" and method == "predict" else getattr(self.obj, method)
        if self.kind == "estimator" and self.input_spec:
            from .model_inputs import model_frame

            X = model_frame(X, self.input_spec)
        if self.kind == "estimator" and self.numeric_only:
            from .model_inputs import bools_as_numbers

            X = bools_as_numbers(X)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn(X)
        except Exception as exc:
            raise InputError(
                f"the model raised in {method}() on {len(X)} rows: {type(exc).__name__}: {str(exc)[:300]}",
                "check that the data has the columns and dtypes the model was fitted on "
                f"({len(X.columns)} columns passed)",
            ) from None
        return np.asarray(out)

    def _column_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The per-class probability columns as an (n, k) array whose rows sum to 1."""
        P = X[self.prediction_columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        tot = P.sum(axis=1, keepdims=True)
        return np.divide(P, tot, out=np.full_like(P, np.nan), where=tot > 0)

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        if self.per_class_columns:
            P = self._column_proba(X)
            return np.asarray(self.column_classes, dtype=object)[
                np.argmax(np.nan_to_num(P, nan=-1.0), axis=1)
            ]
        if self.kind == "precomputed":
            return np.asarray(X[self.prediction_column].to_numpy())
        out = self._call("predict", X)
        return out.ravel() if out.ndim > 1 and out.shape[1] == 1 else out

    def decision_function(self, X: pd.DataFrame) -> np.ndarray | None:
        if not self.has_decision:
            return None
        return self._call("decision_function", X).astype(float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray | None:
        if self.per_class_columns:
            return self._column_proba(X)
        if self.kind == "precomputed" or not self.has_proba:
            return None
        return self._call("predict_proba", X).astype(float)


def _xgboost_categories(obj: Any) -> dict[str, list | None]:
    """XGBoost: the features of type "c" and, when the booster stores them (xgboost >= 3.1), their
    training categories."""
    try:
        booster = obj.get_booster()
        names, types = booster.feature_names or [], booster.feature_types or []
    except Exception:
        return {}
    cats: dict[str, list | None] = {str(n): None for n, t in zip(names, types) if t == "c"}
    if not cats:
        return {}
    try:
        stored = booster.get_categories(export_to_arrow=True).to_arrow()
        for name, arr in stored:
            if arr is not None and str(name) in cats:
                cats[str(name)] = arr.to_pylist()
    except Exception:
        pass
    return cats


def _hgb_categories(obj: Any, k: int) -> list[list | None]:
    """HistGradientBoosting: the training categories of its k categorical features, from the
    ordinal encoder it fits on them (None each when it is not there)."""
    for _, trans, _cols in getattr(getattr(obj, "_preprocessor", None), "transformers_", []):
        cats = getattr(trans, "categories_", None)
        if cats is not None and len(cats) == k:
            return [list(c) for c in cats]
    return [None] * k


def _column_transformers(obj: Any, depth: int = 0) -> list[Any]:
    """The fitted ColumnTransformers of a model (inside Pipelines, at any depth)."""
    if obj is None or depth > 5:
        return []
    if hasattr(obj, "transformers_"):
        return [obj]
    out = []
    for _, step in getattr(obj, "steps", []):
        out += _column_transformers(step, depth + 1)
    return out


def _encoder_categories(trans: Any) -> list | None:
    """The learned categories of an encoder (or of the last encoder in a pipeline of steps)."""
    if hasattr(trans, "categories_"):
        return list(trans.categories_)
    for _, step in reversed(getattr(trans, "steps", [])):
        if hasattr(step, "categories_"):
            return list(step.categories_)
    return None
