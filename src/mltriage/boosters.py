"""LightGBM and XGBoost Boosters (the native models, not the scikit-learn wrappers).

A Booster saved natively (LightGBM `save_model` -> .txt; XGBoost `save_model` -> .json or .ubj),
pickled, or passed as an object is read as the estimator it stands for: `predict_proba` for
probabilistic classification objectives (binary:logistic, multi:softprob, LightGBM binary and
multiclass), `decision_function` for margins (binary:logitraw), `predict` for the rest (regression,
ranking, hard-label objectives). The Booster's feature names become `feature_names_in_` (LightGBM's
`Column_0...` names of an unnamed fit are not names); class labels are those of the data, in
sorted order, as the Booster was trained on their codes 0..k-1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def is_booster(obj: Any) -> bool:
    """A native LightGBM or XGBoost Booster object."""
    t = type(obj)
    return t.__name__ == "Booster" and t.__module__.split(".")[0] in ("lightgbm", "xgboost")


def native_format(path: Path) -> str | None:
    """'lightgbm' or 'xgboost' when the file is a natively saved Booster, else None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None
    if head.startswith(b"tree\n") or head.startswith(b"tree\r\n"):
        return "lightgbm"
    stripped = head.lstrip()
    if stripped.startswith(b'{"learner"') or stripped.startswith(b"{L") and b"learner" in head:
        return "xgboost"
    return None


def load_native(path: Path, library: str) -> Any:
    """The Booster saved in `path` by `library`, wrapped as an estimator."""
    if library == "lightgbm":
        import lightgbm

        return wrap(lightgbm.Booster(model_file=str(path)))
    import xgboost

    booster = xgboost.Booster()
    booster.load_model(str(path))
    return wrap(booster)


def _objective(booster: Any, library: str) -> tuple[str, int]:
    """(objective name, number of classes; 1 for other tasks)."""
    if library == "lightgbm":
        obj = str((booster.params or {}).get("objective", ""))
        if not obj:
            for line in booster.model_to_string(num_iteration=1).splitlines()[:20]:
                if line.startswith("objective="):
                    obj = line.split("=", 1)[1]
                    break
        return obj.split()[0] if obj else "", int(booster.num_model_per_iteration())
    cfg = json.loads(booster.save_config())["learner"]
    k = int(float(cfg.get("learner_model_param", {}).get("num_class", 0) or 0))
    return str(cfg.get("objective", {}).get("name", "")), max(k, 1)


PROBABILISTIC = frozenset(
    {"binary", "cross_entropy", "xentropy", "multiclass", "softmax", "multiclassova", "multiclass_ova"}
    | {"ova", "binary:logistic", "multi:softprob"}
)


def wrap(booster: Any) -> Any:
    """The estimator a Booster stands for, by its objective."""
    library = type(booster).__module__.split(".")[0]
    objective, k = _objective(booster, library)
    probabilistic = objective in PROBABILISTIC
    if probabilistic:
        return BoosterClassifier(booster, library, objective, k)
    if objective == "binary:logitraw":
        return BoosterMargin(booster, library, objective, k)
    return BoosterModel(booster, library, objective, k)


class BoosterModel:
    """A native Booster behind `predict` (regression, ranking, hard labels)."""

    def __init__(self, booster: Any, library: str, objective: str, n_classes: int) -> None:
        self.booster = booster
        self.library = library
        self.objective = objective
        self.n_classes = n_classes
        names = booster.feature_name() if library == "lightgbm" else booster.feature_names
        names = [str(n) for n in names or []]
        auto = all(n == f"Column_{i}" or n == f"f{i}" for i, n in enumerate(names))
        if names and not auto:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        n = booster.num_feature() if library == "lightgbm" else booster.num_features()
        self.n_features_in_ = int(n)
        if library == "lightgbm":
            self.booster_ = booster  # where LightGBM's record (categories, ranges) is read

    def get_booster(self) -> Any:
        if self.library != "xgboost":
            raise AttributeError("get_booster")
        return self.booster

    def __repr__(self) -> str:
        return f"{self.library} Booster ({self.objective or 'unknown objective'})"

    def _raw(self, X: Any, margin: bool = False) -> np.ndarray:
        if self.library == "lightgbm":
            return np.asarray(self.booster.predict(X, raw_score=margin))
        import xgboost

        cat = isinstance(X, pd.DataFrame) and any(isinstance(t, pd.CategoricalDtype) for t in X.dtypes)
        d = xgboost.DMatrix(X, enable_categorical=cat)
        return np.asarray(self.booster.predict(d, output_margin=margin))

    def predict(self, X: Any) -> np.ndarray:
        return self._raw(X)


class BoosterClassifier(BoosterModel):
    """A Booster of a probabilistic classification objective."""

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self._raw(X)
        if p.ndim == 1:
            return np.column_stack([1.0 - p, p])
        return p

    def predict(self, X: Any) -> np.ndarray:
        return np.argmax(self.predict_proba(X), axis=1)


class BoosterMargin(BoosterModel):
    """A binary Booster whose outputs are margins (binary:logitraw)."""

    def decision_function(self, X: Any) -> np.ndarray:
        return self._raw(X)

    def predict(self, X: Any) -> np.ndarray:
        return (self._raw(X) > 0).astype(int)
