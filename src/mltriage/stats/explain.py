"""SHAP values per input column, for any model, with sizes fixed up front.

`Explainer(model, ...)` decides once how a model is explained and on how many rows:

- tree models (scikit-learn's HistGradientBoosting, random forests, gradient boosting, LightGBM,
  XGBoost), alone or at the end of a Pipeline: shap's TreeExplainer on the final estimator, fed the
  preprocessed features; the attributions of transformed columns are summed back into the input
  columns they come from (`stats.attribution.shap_slices.map_to_inputs`). The exact algorithm
  costs about 0.6 ns per leaf x depth^2 per row (measured: 0.77 ms a row on a 171-tree, 5,301-leaf
  HistGradientBoosting, 35 ms on a 100-tree random forest with 68,167 leaves), so the rows
  explained are capped by `max_tree_ops`; when that would leave fewer than `min_rows`, the Saabas
  approximation (cost linear in depth) is used instead, and the method says so;
- any other model: the permutation estimate of SHAP values (Strumbelj and Kononenko; what shap's
  PermutationExplainer computes, with an independent masker) over the input columns, one antithetic
  pair of random orders per row and a small background of reference rows, vectorised so that
  every model call scores many rows at once. shap's own PermutationExplainer calls the model once
  per explained row: 16 ms a row on a 4-column logistic pipeline (measured), 30 s for 2,000 rows;
  this costs `2 (F + 1) B` model rows per explained row, capped by `max_evals`.

Sizes depend on the model and the sample size only, never on the clock: two runs explain the same
rows the same way. `attribution_shares` is what an emitted regression test recomputes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..positive import positive_index
from .attribution.shap_slices import (
    by_input_column,
    is_tree_model,
    map_to_inputs,
    model_inputs,
    output_kind,
    shap_matrix,
    split_pipeline,
)
from .hgb_shap import CategoricalSplit, augment, has_categorical_splits, input_names, shap_model, tree_inputs

NS_PER_OP = 0.6e-9  # seconds per leaf x depth^2 per row of exact tree SHAP (measured, see above)


class ShapMissing(ImportError):
    """The optional `shap` package is needed (tree models) and not installed."""


@dataclass
class Attribution:
    """SHAP values of some rows, per input column.

    abs     (n, F) |SHAP| summed into input columns (multiclass: summed over the classes too).
    signed  (n, F) signed SHAP (binary: toward the positive class; regression: the prediction);
            None for multiclass models.
    """

    columns: list[str]
    abs: np.ndarray
    signed: np.ndarray | None
    method: str
    output: str

    def mean_abs(self, weights: np.ndarray | None = None) -> np.ndarray:
        w = np.ones(len(self.abs)) if weights is None else weights
        return np.asarray(w @ self.abs / max(float(w.sum()), 1e-12))

    def shares(self, weights: np.ndarray | None = None) -> dict[str, float]:
        """Each input column's share of the total mean |SHAP|."""
        m = self.mean_abs(weights)
        total = float(m.sum()) or 1.0
        return {c: float(v / total) for c, v in zip(self.columns, m)}


def transformed_inputs(
    model: Any, X: pd.DataFrame, features: list[str]
) -> tuple[pd.DataFrame, list[str | None]]:
    """What the final estimator of a Pipeline sees for rows X (a frame, one column per transformed
    feature) and, per column, the input column it comes from (None when unknown). A model without
    preprocessing sees X itself."""
    prep, _ = split_pipeline(model)
    Xt, names = model_inputs(prep, X[features], features)
    frame = Xt if isinstance(Xt, pd.DataFrame) else pd.DataFrame(np.asarray(Xt), columns=names)
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame, map_to_inputs(list(frame.columns), features)


class Explainer:
    """How one model is explained (method and rows per side), decided once from its size."""

    def __init__(
        self,
        model: Any,
        features: list[str],
        *,
        task: str,
        classes: list[Any] | None,
        positive: Any,
        background: pd.DataFrame,
        sample: int,
        max_tree_ops: float,
        max_evals: int,
        min_rows: int = 200,
        seed: int = 0,
    ) -> None:
        self.model, self.features, self.task = model, list(features), task
        self.classes = list(classes) if classes is not None else None
        self.positive, self.seed = positive, seed
        self.background = background[self.features].reset_index(drop=True)
        self.prep, self.final = split_pipeline(model)
        self.tree = is_tree_model(self.final)
        self.approximate = False
        self._shap: Any = None
        self._splits: list[CategoricalSplit] | None = None  # HistGradientBoosting's categorical splits
        self.why = ""  # how the method or the number of rows was decided, when not the default
        if self.tree:
            self.rows, self.why = self._plan_tree(sample, max_tree_ops, min_rows)
            return
        per_row = 2 * (len(self.features) + 1) * len(self.background)
        self.rows = int(max(1, min(sample, max_evals // max(per_row, 1))))
        if self.rows < sample:
            self.why = (
                f"{self.rows:,} rows explained per side, not {sample:,}: the permutation explainer "
                f"scores {per_row:,} model rows per row explained, at most {max_evals:,} per side"
            )

    # ------------------------------------------------------------------ planning
    def _plan_tree(self, sample: int, max_tree_ops: float, min_rows: int) -> tuple[int, str]:
        try:
            import shap
        except ImportError as exc:
            raise ShapMissing(str(exc)) from None
        if has_categorical_splits(self.final):
            model, self._splits = shap_model(self.final, len(self.final.is_categorical_))
            self._shap = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        else:
            self._shap = shap.TreeExplainer(self.final, feature_perturbation="tree_path_dependent")
        ops = tree_ops(self._shap)
        if ops is None or not np.isfinite(max_tree_ops):
            return sample, ""
        afford = int(max_tree_ops // ops)
        if afford >= sample:
            return sample, ""
        if afford >= min_rows:
            return afford, (
                f"{afford:,} rows explained per side, not {sample:,}: exact tree SHAP costs about "
                f"{ops * NS_PER_OP * 1e3:.1f} ms a row on this model"
            )
        self.approximate = True
        return sample, (
            f"exact tree SHAP would cost about {ops * NS_PER_OP * 1e3:.0f} ms a row on this model: "
            "the Saabas approximation is used"
        )

    @property
    def method(self) -> str:
        if self.tree and self.approximate:
            return "TreeExplainer (Saabas approximation)"
        if self.tree:
            return "TreeExplainer (exact, tree path-dependent)"
        return f"permutation SHAP (one antithetic pair of orders per row, {len(self.background)} background rows)"

    def describe(self) -> dict[str, Any]:
        """What an emitted test needs to recompute the attributions the same way."""
        return {
            "method": "tree" if self.tree else "permutation",
            "approximate": self.approximate,
            "task": self.task,
            "classes": self.classes,
            "positive": self.positive,
            "features": self.features,
            "background_rows": 0 if self.tree else len(self.background),
            "seed": self.seed,
        }

    # ------------------------------------------------------------------ explaining
    def explain(self, X: pd.DataFrame) -> Attribution:
        X = X[self.features].reset_index(drop=True)
        if self.tree:
            return self._explain_tree(X)
        phi = permutation_shap(self._predict, X, self.background, seed=self.seed)
        if phi.ndim == 3:  # multiclass: one set of values per class
            return Attribution(
                self.features, np.abs(phi).sum(axis=2), None, self.method, _agnostic_output(self.task)
            )
        return Attribution(self.features, np.abs(phi), phi, self.method, _agnostic_output(self.task))

    def _explain_tree(self, X: pd.DataFrame) -> Attribution:
        Xt, names = model_inputs(self.prep, X, self.features)
        if self._splits is not None:  # categorical splits as indicator columns (stats.hgb_shap)
            Xp = tree_inputs(self.final, Xt)
            names = input_names(self.final, names)
            Xt = augment(Xp, self._splits)
            names = names + [names[sp.feature] for sp in self._splits]
        if self.approximate:
            values = self._shap.shap_values(Xt, check_additivity=False, approximate=True)
        else:
            values = self._shap.shap_values(Xt, check_additivity=False)
        signed, absval = shap_matrix(values, len(names), self._positive_index())
        owner = map_to_inputs(names, self.features)
        gnames, agg_abs, agg_sig = by_input_column(owner, names, signed, absval)
        order = [gnames.index(f) for f in self.features if f in gnames]
        cols = [gnames[j] for j in order]
        a = np.zeros((len(X), len(self.features)))
        s = None if agg_sig is None else np.zeros_like(a)
        for j, f in enumerate(self.features):
            if f in cols:
                a[:, j] = agg_abs[:, gnames.index(f)]
                if s is not None and agg_sig is not None:
                    s[:, j] = agg_sig[:, gnames.index(f)]
        out = output_kind(self.final, signed is not None, self.task)
        return Attribution(self.features, a, s, self.method, out)

    def _positive_index(self) -> int | None:
        if self.task != "binary":
            return None
        return positive_index(self.classes, self.positive)

    def _predict(self, Z: pd.DataFrame) -> np.ndarray:
        m = self.model
        if self.task in ("binary", "multiclass") and hasattr(m, "predict_proba"):
            proba = np.asarray(m.predict_proba(Z), dtype=float)
            if self.task == "binary":
                return proba[:, self._positive_index() or 0]
            return proba
        pred = m.predict(Z) if hasattr(m, "predict") else m(Z)
        return np.asarray(pred, dtype=float).ravel()


def _agnostic_output(task: str) -> str:
    return {
        "binary": "probability of the positive class",
        "multiclass": "sum over classes of |SHAP| on the probabilities",
    }.get(task, "prediction")


def tree_ops(explainer: Any) -> float | None:
    """Leaves x depth^2 summed over the trees of a shap TreeExplainer's model (the cost of exact
    tree SHAP per row, up to a constant), or None when shap does not expose the trees."""
    try:
        trees = explainer.model.trees
        depth = float(explainer.model.max_depth)
        leaves = sum(int((np.asarray(t.children_left) < 0).sum()) for t in trees)
    except Exception:
        return None
    return float(leaves) * max(depth, 1.0) ** 2


def permutation_shap(
    predict: Any, X: pd.DataFrame, background: pd.DataFrame, *, seed: int = 0, chunk_evals: int = 100_000
) -> np.ndarray:
    """Permutation estimates of SHAP values of `predict` at the rows of X, (n, F) or (n, F, K).

    For each row, a random order of the F columns and its reverse: walking an order, the columns
    met so far take the row's values and the others the background rows' (an independent masker);
    each column is credited with the change of the mean output when it joins. Exact for additive
    models; the antithetic pair cancels most of the order noise of pairwise interactions."""
    n, F = X.shape
    b = len(background)
    rng = np.random.default_rng(seed)
    orders = np.argsort(rng.random((n, F)), axis=1)
    per_row = 2 * (F + 1) * b
    step = max(1, chunk_evals // per_row)
    parts = [
        _permutation_chunk(predict, X, background, orders, slice(i, min(n, i + step)))
        for i in range(0, n, step)
    ]
    return np.concatenate(parts, axis=0) if parts else np.zeros((0, F))


def _permutation_chunk(
    predict: Any, X: pd.DataFrame, background: pd.DataFrame, orders: np.ndarray, rows: slice
) -> np.ndarray:
    cols = list(X.columns)
    F, b = len(cols), len(background)
    order = orders[rows]
    r = len(order)
    both = np.stack([order, order[:, ::-1]], axis=1)  # (r, 2, F): an order and its reverse
    pos = np.empty_like(both)
    np.put_along_axis(pos, both, np.broadcast_to(np.arange(F), both.shape).copy(), axis=2)
    joined = pos[:, :, None, :] < np.arange(F + 1)[None, None, :, None]  # (r, 2, F+1, F)
    frame = {}
    for j, c in enumerate(cols):
        x = X[c].to_numpy()[rows]
        v = np.where(
            joined[..., j][..., None], x[:, None, None, None], background[c].to_numpy()[None, None, None, :]
        )
        frame[c] = _like(v.reshape(-1), X[c])
    out = np.asarray(predict(pd.DataFrame(frame, columns=cols)), dtype=float)
    k = out.shape[1] if out.ndim == 2 else 0
    v = out.reshape((r, 2, F + 1, b) + ((k,) if k else ())).mean(axis=3)
    diff = v[:, :, 1:] - v[:, :, :-1]  # the change when the column at each position joins
    phi = np.zeros_like(diff)
    idx = both[..., None] if k else both
    np.put_along_axis(phi, np.broadcast_to(idx, diff.shape).copy() if k else idx, diff, axis=2)
    return np.asarray(phi.mean(axis=1))


def _like(values: np.ndarray, template: pd.Series) -> Any:
    """Values with the dtype of the column they came from (categories kept)."""
    if isinstance(template.dtype, pd.CategoricalDtype):
        return pd.Categorical(values, categories=template.cat.categories)
    if values.dtype == object and template.dtype != object:
        try:
            return pd.Series(values).astype(template.dtype).to_numpy()
        except (TypeError, ValueError):
            return values
    return values


def attribution_shares(model: Any, rows: pd.DataFrame, spec: dict[str, Any]) -> dict[str, float]:
    """Each input column's share of the mean |SHAP| of `model`, computed as `spec`
    (`Explainer.describe()`) says: what an emitted regression test recomputes. The first
    `spec["background_rows"]` rows are the permutation explainer's background, the others are
    explained (a tree model uses no background)."""
    b = int(spec.get("background_rows") or 0)
    ex = Explainer(
        model,
        list(spec["features"]),
        task=spec["task"],
        classes=spec.get("classes"),
        positive=spec.get("positive"),
        background=rows.iloc[:b],
        sample=max(len(rows) - b, 1),
        max_tree_ops=float("inf"),
        max_evals=2**62,
        seed=int(spec.get("seed") or 0),
    )
    ex.approximate = bool(spec.get("approximate")) and ex.tree
    return ex.explain(rows.iloc[b:]).shares()
