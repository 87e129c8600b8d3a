"""The generators' registry and the steps most of them share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scenario import Scenario, as_category, fit, make_model, measure, needs_category, split
from sklearn.model_selection import GroupShuffleSplit
from sources import Data, view


@dataclass(frozen=True)
class Spec:
    """One scenario to generate: a kind planted on a data set with a model family and size."""

    kind: str
    dataset: str
    task: str
    family: str
    n: int | None = None
    seed: int = 0
    variant: str = ""

    @property
    def name(self) -> str:
        size = "all" if self.n is None else f"{self.n}"
        v = f"_{self.variant}" if self.variant else ""
        if self.kind in ("clean", "ranking_clean", "clean_current"):
            pre = "clean_current" if self.kind == "clean_current" else "clean"
            return f"{pre}_{self.dataset}_{self.task}_{self.family}_{size}"
        return f"{self.kind}{v}__{self.dataset}_{self.family}_{size}"


Generator = Callable[[Spec], Scenario]
KINDS: dict[str, Generator] = {}
CODES: dict[str, list[str]] = {}


def kind(name: str, codes: list[str]) -> Callable[[Generator], Generator]:
    """Register a generator for failure kind `name`, which plants `codes`."""

    def deco(fn: Generator) -> Generator:
        KINDS[name] = fn
        CODES[name] = codes
        return fn

    return deco


def load(spec: Spec, n: int | None = None, extra: tuple[str, ...] = ()) -> Data:
    """The data set for `spec`; categorical columns become pandas categories for LightGBM/XGBoost
    (with the categories of the whole table, as a project that sets the dtype once would)."""
    data = view(spec.dataset, spec.task, spec.n if n is None else n, spec.seed, extra)
    if needs_category(spec.family) and data.categorical:
        data.frame = as_category([data.frame], data.categorical)[0]
    return data


def split_data(data: Data, spec: Spec, test_size: float = 0.3, grouped: bool | None = None):
    """A random split; grouped by the entity column when the data set has one (panel data), unless
    `grouped` is False (the entity-overlap generator plants exactly that)."""
    if grouped is None:
        grouped = data.entity is not None
    if grouped and data.entity:
        gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=spec.seed)
        i, j = next(gss.split(data.frame, groups=data.frame[data.entity]))
        return data.frame.iloc[i].reset_index(drop=True), data.frame.iloc[j].reset_index(drop=True)
    return split(data.frame, data.target, test_size, spec.seed)


def train_model(
    data: Data, family: str, tr: pd.DataFrame, seed: int = 0, features: list[str] | None = None, **kw
) -> Any:
    feats = features or data.features
    num = [c for c in feats if c in data.numeric or c not in data.categorical]
    cat = [c for c in feats if c in data.categorical]
    model = make_model(family, data.task, num, cat, seed, **kw)
    y = tr[data.target]
    if family == "xgb" and data.task == "multiclass":
        raise ValueError("xgb multiclass needs integer labels; use another family")
    return fit(model, tr[feats], y, data.task)


def headline(
    model: Any, data: Data, tr: pd.DataFrame, te: pd.DataFrame, features: list[str] | None = None
) -> dict:
    feats = features or data.features
    return {
        **measure(model, tr[feats], tr[data.target], data.task, "train_"),
        **measure(model, te[feats], te[data.target], data.task, "test_"),
    }


def rng(spec: Spec, salt: int = 0) -> np.random.Generator:
    return np.random.default_rng(1000 * spec.seed + salt + sum(map(ord, spec.name)))


def psi(a: pd.Series, b: pd.Series, bins: int = 10) -> float:
    """Population stability index of b against a (quantile bins of a)."""
    a = pd.to_numeric(a, errors="coerce").dropna()
    b = pd.to_numeric(b, errors="coerce").dropna()
    edges = np.unique(np.quantile(a, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        return 0.0
    edges[0], edges[-1] = -np.inf, np.inf
    pa = np.histogram(a, edges)[0] / len(a) + 1e-4
    pb = np.histogram(b, edges)[0] / len(b) + 1e-4
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def slice_rows(df: pd.DataFrame, preds: list[dict]) -> pd.Series:
    m = pd.Series(True, index=df.index)
    for p in preds:
        s, op, v = df[p["column"]], p["op"], p["value"]
        if op == "==":
            m &= s.astype(str) == str(v) if s.dtype.name in ("category", "object", "str") else s == v
        elif op == ">":
            m &= s > v
        elif op == ">=":
            m &= s >= v
        elif op == "<":
            m &= s < v
        elif op == "<=":
            m &= s <= v
        elif op == "in":
            m &= s.astype(str).isin([str(x) for x in v])
        else:
            raise ValueError(op)
    return m.fillna(False).astype(bool)


def error_vector(model: Any, data: Data, df: pd.DataFrame, features: list[str] | None = None) -> np.ndarray:
    """Per-row error: 0/1 misclassification, or absolute error for regression."""
    feats = features or data.features
    pred = np.asarray(model.predict(df[feats]))
    y = df[data.target].to_numpy()
    if data.task == "regression":
        return np.abs(pred.astype(float) - y.astype(float))
    return (pred.astype(str) != y.astype(str)).astype(float)
