"""Shared pieces of the generators: model families, splits, measurements, the scenario writer."""

from __future__ import annotations

import json
import platform
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.svm import LinearSVC
from sources import Data, check_names

META_KEYS = (
    "task",
    "target",
    "train",
    "test",
    "current",
    "model",
    "history",
    "time_column",
    "group_column",
    "categorical",
    "prediction_column",
    "metric",
    "threshold",
    "cost",
)

FAMILIES_CLS = ("hgb", "rf", "logreg", "lgbm", "xgb", "linsvc", "sgd", "ridgecls")
FAMILIES_REG = ("hgb", "rf", "ridge", "lgbm", "xgb", "linreg")


# --------------------------------------------------------------------------- models


def _ct(num: list[str], cat: list[str], scale: bool, onehot: bool) -> ColumnTransformer:
    num_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        num_steps.append(("scale", StandardScaler()))
    if onehot:
        enc: Any = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    else:
        enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    cat_pipe = Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", enc)])
    parts: list[tuple[str, Any, list[str]]] = [("num", Pipeline(num_steps), num)]
    if cat:
        parts.append(("cat", cat_pipe, cat))
    return ColumnTransformer(parts)


def make_model(family: str, task: str, num: list[str], cat: list[str], seed: int = 0, **kw) -> Any:
    """A model of `family` for `task`: scikit-learn Pipelines with a ColumnTransformer, or bare
    LightGBM/XGBoost estimators (which take pandas `category` columns, see `as_category`)."""
    cls = task in ("binary", "multiclass")
    if family == "hgb":
        est: Any = (HistGradientBoostingClassifier if cls else HistGradientBoostingRegressor)(
            max_iter=kw.pop("max_iter", 300),
            early_stopping=kw.pop("early_stopping", True),
            random_state=seed,
            **kw,
        )
        return Pipeline([("prep", _ct(num, cat, False, False)), ("model", est)])
    if family == "rf":
        est = (RandomForestClassifier if cls else RandomForestRegressor)(
            n_estimators=kw.pop("n_estimators", 120),
            min_samples_leaf=kw.pop("min_samples_leaf", 3),
            random_state=seed,
            n_jobs=1,
            **kw,
        )
        return Pipeline([("prep", _ct(num, cat, False, True)), ("model", est)])
    if family == "logreg":
        est = LogisticRegression(max_iter=2000, **kw)
        return Pipeline([("prep", _ct(num, cat, True, True)), ("model", est)])
    if family == "linsvc":
        return Pipeline([("prep", _ct(num, cat, True, True)), ("model", LinearSVC(random_state=seed, **kw))])
    if family == "sgd":
        est = SGDClassifier(loss="hinge", random_state=seed, max_iter=2000, **kw)
        return Pipeline([("prep", _ct(num, cat, True, True)), ("model", est)])
    if family == "ridgecls":
        return Pipeline([("prep", _ct(num, cat, True, True)), ("model", RidgeClassifier(**kw))])
    if family == "ridge":
        return Pipeline([("prep", _ct(num, cat, True, True)), ("model", Ridge(**kw))])
    if family == "linreg":
        return Pipeline([("prep", _ct(num, cat, True, True)), ("model", LinearRegression(**kw))])
    if family == "lgbm":
        import lightgbm as lgb

        est = (lgb.LGBMClassifier if cls else lgb.LGBMRegressor)(
            n_estimators=kw.pop("n_estimators", 200),
            learning_rate=0.05,
            random_state=seed,
            n_jobs=1,
            verbose=-1,
            **kw,
        )
        return est
    if family == "xgb":
        import xgboost as xgb

        est = (xgb.XGBClassifier if cls else xgb.XGBRegressor)(
            n_estimators=kw.pop("n_estimators", 200),
            learning_rate=0.05,
            max_depth=4,
            enable_categorical=True,
            tree_method="hist",
            random_state=seed,
            n_jobs=1,
            **kw,
        )
        return est
    raise ValueError(f"unknown family {family}")


def needs_category(family: str) -> bool:
    return family in ("lgbm", "xgb")


def as_category(frames: list[pd.DataFrame], cat: list[str]) -> list[pd.DataFrame]:
    """Give categorical columns one pandas `category` dtype with the union of categories (how a
    project feeds LightGBM/XGBoost), in every frame."""
    out = [f.copy() for f in frames]
    for c in cat:
        cats = sorted(set().union(*[set(f[c].dropna().astype(str)) for f in out if c in f]))
        for f in out:
            if c in f:
                f[c] = pd.Categorical(f[c].astype(str), categories=cats)
    return out


def fit(model: Any, X: pd.DataFrame, y: pd.Series, task: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model


def scores(model: Any, X: pd.DataFrame, task: str) -> np.ndarray:
    """Binary: P(positive) or the decision function; multiclass: the probability matrix (or
    decision matrix); regression: the prediction."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "regression":
            return np.asarray(model.predict(X), dtype=float)
        if hasattr(model, "predict_proba"):
            p = np.asarray(model.predict_proba(X))
            return p[:, 1] if task == "binary" else p
        return np.asarray(model.decision_function(X))


def measure(model: Any, X: pd.DataFrame, y: pd.Series, task: str, prefix: str = "") -> dict:
    """Headline numbers of `model` on (X, y), rounded for truth.json."""
    s = scores(model, X, task)
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "regression":
            out["r2"] = r2_score(y, s)
            out["mae"] = mean_absolute_error(y, s)
        elif task == "binary":
            if len(np.unique(y)) == 2:
                out["auc"] = roc_auc_score(y, s)
            out["accuracy"] = accuracy_score(y, model.predict(X))
        else:
            out["accuracy"] = accuracy_score(y.astype(str), np.asarray(model.predict(X)).astype(str))
    return {f"{prefix}{k}": round(float(v), 6) for k, v in out.items()}


def split(df: pd.DataFrame, target: str | None, test_size: float, seed: int, stratify: bool = True):
    strat = df[target] if (stratify and target is not None and df[target].nunique() < 20) else None
    tr, te = train_test_split(df, test_size=test_size, random_state=seed, stratify=strat)
    return tr.reset_index(drop=True), te.reset_index(drop=True)


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    """Everything one scenario folder holds. `expected` uses the benchmark's truth format."""

    name: str
    kind: str
    data: Data
    family: str
    train: pd.DataFrame
    test: pd.DataFrame
    planted: str
    expected: list[dict]
    acceptable: list[str] = field(default_factory=list)
    measured: dict = field(default_factory=dict)
    notes: str = ""
    model: Any = None
    current: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)
    raw_model_bytes: bytes | None = None
    # how a new user's files look (kinds_inputs.py): "sep" (and "decimal", "ext") writes the
    # frames as delimited text instead of Parquet; "model" is "pickle", "lgb_txt" or "xgb_json"
    files: dict = field(default_factory=dict)


def default_metric(task: str) -> str:
    return {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2", "ranking": "ndcg@10"}[task]


def write(sc: Scenario, out: Path) -> Path:
    """Write `sc` in the public benchmark's format under out/<name>/."""
    d = out / sc.name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for f in (sc.train, sc.test, sc.current):
        if f is not None:
            check_names(f.columns)
    meta: dict[str, Any] = dict.fromkeys(META_KEYS)
    meta.update(
        task=sc.data.task,
        target=sc.data.target,
        train=_put(sc.train, d, "train", sc.files),
        test=_put(sc.test, d, "test", sc.files),
        categorical=list(sc.data.categorical) or None,
        metric=default_metric(sc.data.task),
    )
    if sc.current is not None:
        meta["current"] = _put(sc.current, d, "current", sc.files)
    if sc.raw_model_bytes is not None:
        (d / "model.joblib").write_bytes(sc.raw_model_bytes)
        meta["model"] = "model.joblib"
    elif sc.model is not None:
        meta["model"] = _save_model(sc.model, d, sc.files.get("model", "joblib"))
    if sc.history is not None:
        sc.history.to_csv(d / "history.csv", index=False)
        meta["history"] = "history.csv"
    meta.update(sc.meta)
    truth = {
        "scenario": sc.name,
        "task": sc.data.task,
        "kind": sc.kind,
        "dataset": sc.data.name,
        "family": sc.family,
        "rows": {
            "train": len(sc.train),
            "test": len(sc.test),
            "current": None if sc.current is None else len(sc.current),
        },
        "planted": sc.planted,
        "expected": sc.expected,
        "acceptable": sorted(set(sc.acceptable)),
        "measured": sc.measured,
        "notes": sc.notes,
        "base_data": sc.data.source,
        "built_with": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
        },
    }
    (d / "meta.json").write_text(json.dumps(meta, indent=2, default=_json) + "\n")
    (d / "truth.json").write_text(json.dumps(truth, indent=2, default=_json) + "\n")
    return d


def _put(df: pd.DataFrame, d: Path, stem: str, files: dict) -> str:
    """Write one frame as Parquet, or as delimited text when `files` says so; its file name."""
    if not files.get("sep"):
        df.to_parquet(d / f"{stem}.parquet", index=False)
        return f"{stem}.parquet"
    name = f"{stem}.{files.get('ext', 'csv')}"
    df.to_csv(d / name, index=False, sep=files["sep"], decimal=files.get("decimal", "."))
    return name


def _save_model(model: Any, d: Path, how: str) -> str:
    """Save the model as a user would: joblib, pickle, or a Booster's own save_model."""
    if how == "pickle":
        import pickle

        with open(d / "model.pkl", "wb") as fh:
            pickle.dump(model, fh)
        return "model.pkl"
    if how == "lgb_txt":
        model.booster_.save_model(str(d / "model.txt"))
        return "model.txt"
    if how == "xgb_json":
        model.get_booster().save_model(str(d / "model.json"))
        return "model.json"
    joblib.dump(model, d / "model.joblib")
    return "model.joblib"


def _json(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def rnd(v: float, k: int = 4) -> float:
    return round(float(v), k)
