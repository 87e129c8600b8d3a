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
    """

    score: np.ndarray
    label: np.ndarray
    raw: np.ndarray
    proba: np.ndarray | None = None
    classes: list[Any] | None = None
    has_proba: bool = False
    notes: list[str] = field(default_factory=list)


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
        self.obj = obj
        self.prediction_column = prediction_column
        self.source = source
        self.load_warnings = load_warnings or []
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
    def feature_names(self) -> list[str] | None:
        names = getattr(self.obj, "feature_names_in_", None)
        if names is None and hasattr(self.obj, "feature_name_"):  # LightGBM
            names = self.obj.feature_name_
        if names is None and hasattr(self.obj, "get_booster"):  # XGBoost
            try:
                names = self.obj.get_booster().feature_names
            except Exception:
                names = None
        return [str(n) for n in names] if names is not None else None

    @property
    def classes(self) -> list[Any] | None:
        c = getattr(self.obj, "classes_", None)
        return list(c) if c is not None else None

    @property
    def has_proba(self) -> bool:
        if self.kind == "precomputed":
            return False  # handled by the Context from the column's content
        return hasattr(self.obj, "predict_proba")

    @property
    def description(self) -> str:
        if self.kind == "precomputed":
            return f"precomputed predictions in column {self.prediction_column!r}"
        obj = self.obj
        if hasattr(obj, "steps"):
            return "Pipeline(" + " → ".join(type(s).__name__ for _, s in obj.steps) + ")"
        return type(obj).__name__

    # ------------------------------------------------------------------ predicting
    def _call(self, method: str, X: pd.DataFrame) -> np.ndarray:
        fn = self.obj if self.kind == "callable" and method == "predict" else getattr(self.obj, method)
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

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        if self.kind == "precomputed":
            return np.asarray(X[self.prediction_column].to_numpy())
        out = self._call("predict", X)
        return out.ravel() if out.ndim > 1 and out.shape[1] == 1 else out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray | None:
        if self.kind == "precomputed" or not self.has_proba:
            return None
        return self._call("predict_proba", X).astype(float)
