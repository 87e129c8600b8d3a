"""Faster stand-ins for a fitted model, built to be measured (`mltriage latency`'s options):

- `smaller_variants(model)`: the same model with fewer trees or boosting iterations (a clone with
  the count halved and quartered, refitted); none for a model that has no trees to drop;
- `surrogate(kind, ...)`: a distilled surrogate fitted to the model's own outputs on the rows (not
  to the labels): a shallow decision tree (`tree`) or a linear model (`linear`), each with the
  small encoding it needs for categorical and missing values, so that it scores the same raw rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def final_step(model: Any) -> tuple[str, Any]:
    """(prefix of its parameters, the final estimator) of a Pipeline, or ("", model)."""
    steps = getattr(model, "steps", None)
    if steps:
        name, last = steps[-1]
        prefix, inner = final_step(last)
        return f"{name}__{prefix}", inner
    return "", model


def _fitted_count(est: Any, param: str) -> int | None:
    """How many trees or iterations the fitted model really has (early stopping included)."""
    for attr in ("n_iter_", "n_estimators_", "best_iteration_"):
        v = getattr(est, attr, None)
        if isinstance(v, (int, np.integer)) and v > 0:
            return int(v)
    if hasattr(est, "estimators_"):
        try:
            return len(est.estimators_)
        except TypeError:
            pass
    v = est.get_params(deep=False).get(param)
    return int(v) if isinstance(v, (int, np.integer)) and v > 0 else None


def size_parameter(est: Any) -> str | None:
    """The parameter that counts the trees or iterations of an ensemble, or None."""
    name = type(est).__name__
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    if name.startswith("HistGradientBoosting") and "max_iter" in params:
        return "max_iter"
    ensemble = hasattr(est, "estimators_") or any(k in name for k in ("LGBM", "XGB", "CatBoost"))
    if "n_estimators" in params and ensemble:
        return "n_estimators"
    return None


def smaller_variants(
    model: Any, fractions: tuple[float, ...] = (0.5, 0.25)
) -> list[tuple[str, dict[str, Any]]]:
    """(description, parameters to set on a clone) for each smaller size; [] when the model has
    no trees or iterations to drop (a linear model: nothing of its family is smaller)."""
    prefix, est = final_step(model)
    param = size_parameter(est)
    if param is None:
        return []
    count = _fitted_count(est, param)
    if count is None or count < 2:
        return []
    out = []
    seen = set()
    for f in fractions:
        k = max(1, int(count * f))
        if k in seen or k >= count:
            continue
        seen.add(k)
        out.append((f"{param} {count} -> {k}", {f"{prefix}{param}": k}))
    return out


def refit(model: Any, params: dict[str, Any], X: pd.DataFrame, y: np.ndarray) -> Any:
    """A clone of the model with `params` set, fitted on X, y."""
    from sklearn.base import clone

    est = clone(model)
    if params:
        est.set_params(**params)
    return est.fit(X, y)


class Surrogate:
    """A model fitted to another model's outputs (`predict` for every task)."""

    def __init__(self, pipe: Any, task: str, classes: list | None, link: str) -> None:
        self.pipe = pipe
        self.task = task
        self.classes_ = np.asarray(classes) if classes is not None else None
        self.link = link  # "identity", "logit" (binary outputs distilled on the logit scale), "class"

    def _binary(self, X: pd.DataFrame) -> np.ndarray:
        v = np.asarray(self.pipe.predict(X), dtype=float)
        p = 1 / (1 + np.exp(-v)) if self.link == "logit" else np.clip(v, 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if self.task == "binary" and self.classes_ is not None:
            return self.classes_[(self._binary(X)[:, 1] >= 0.5).astype(int)]
        return np.asarray(self.pipe.predict(X))


class ClassifierSurrogate(Surrogate):
    """A surrogate of a classifier: `predict_proba` too (binary from the distilled P(positive))."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.task == "binary":
            return self._binary(X)
        return np.asarray(self.pipe.predict_proba(X))


def _encoder(kind: str, X: pd.DataFrame, categorical: list[str]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    cats = [c for c in X.columns if c in set(categorical)]
    nums = [c for c in X.columns if c not in set(cats)]
    if kind == "tree":
        cat_enc: Any = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
        )
        num_enc: Any = SimpleImputer(strategy="median", keep_empty_features=True)
    else:
        cat_enc = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20)
        num_enc = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler())
    parts = ([("cat", cat_enc, cats)] if cats else []) + ([("num", num_enc, nums)] if nums else [])
    return ColumnTransformer(parts)


def surrogate(
    kind: str,
    X: pd.DataFrame,
    outputs: np.ndarray,
    task: str,
    categorical: list[str],
    *,
    classes: list | None = None,
    depth: int = 6,
    seed: int = 0,
) -> Surrogate:
    """Fit a `tree` (depth `depth`) or `linear` surrogate to the model's outputs on X: binary,
    P(positive) (the linear one on its logit); regression, the prediction; multiclass, the class."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    enc = _encoder(kind, X, categorical)
    link = "identity"
    target = np.asarray(outputs)
    if task == "multiclass":
        est: Any = (
            DecisionTreeClassifier(max_depth=depth, min_samples_leaf=20, random_state=seed)
            if kind == "tree"
            else LogisticRegression(max_iter=300)
        )
        link = "class"
    elif kind == "tree":
        est = DecisionTreeRegressor(max_depth=depth, min_samples_leaf=20, random_state=seed)
    else:
        est = Ridge(alpha=1.0)
        if task == "binary":
            p = np.clip(target.astype(float), 1e-6, 1 - 1e-6)
            target, link = np.log(p / (1 - p)), "logit"
    pipe = make_pipeline(enc, est).fit(X, target)
    kind_of = ClassifierSurrogate if task in ("binary", "multiclass") else Surrogate
    return kind_of(pipe, task, classes, link)
