"""Tree SHAP by slice.

`shap_by_slice`: mean SHAP and mean |SHAP| per input column inside each slice vs the rest, for tree
models (HistGradientBoosting, LightGBM, XGBoost, random forests, ...) alone or at the end of a
Pipeline, through the optional `shap` package (imported lazily), on a stratified sample whose size
is set from the measured cost per row so that the whole stays within a time budget. Transformed
features are mapped back to input columns (ColumnTransformer prefixes, one-hot suffixes). Returns
the reason instead of raising when it cannot run.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

TREE_TYPES = (
    "HistGradientBoosting",
    "LGBM",
    "XGB",
    "RandomForest",
    "ExtraTrees",
    "GradientBoosting",
    "DecisionTree",
    "Booster",
    "CatBoost",
    "IsolationForest",
)


def split_pipeline(est: Any) -> tuple[Any | None, Any]:
    """(preprocessing, final estimator) of a Pipeline (unwrapping a fitted search's best model)."""
    for attr in ("best_estimator_",):
        if hasattr(est, attr):
            est = getattr(est, attr)
    if hasattr(est, "steps") and len(est.steps) > 0:
        final = est.steps[-1][1]
        prep = est[:-1] if len(est.steps) > 1 else None
        return prep, final
    return None, est


def is_tree_model(final: Any) -> bool:
    name = type(final).__name__
    return any(t in name for t in TREE_TYPES)


def map_to_inputs(names: list[str], inputs: list[str]) -> list[str | None]:
    """Map transformed feature names back to input columns: ColumnTransformer's `prefix__`,
    then the input column itself or a one-hot `column_level`; the longest matching column wins."""
    by_len = sorted(set(map(str, inputs)), key=len, reverse=True)
    exact = set(by_len)
    out = []
    for nm in names:
        nm = str(nm)
        cands = [nm]
        if "__" in nm:
            cands.append(nm.split("__", 1)[1])
        hit = None
        for c in cands:
            if c in exact:
                hit = c
                break
        if hit is None:
            for c in cands:
                hit = next(
                    (col for col in by_len if c.startswith(col + "_") or c.startswith(col + "=")), None
                )
                if hit is not None:
                    break
        out.append(hit)
    return out


def shap_matrix(values: Any, n_features: int, pos_index: int | None) -> tuple[np.ndarray | None, np.ndarray]:
    """(signed contributions, |contributions|) as (n, f) arrays from the many shapes shap returns."""
    if isinstance(values, list):
        arr = np.stack([np.asarray(v, dtype=float) for v in values], axis=-1)
    else:
        arr = np.asarray(values, dtype=float)
    if arr.ndim == 2:
        return arr, np.abs(arr)
    # (n, f, k): one output per class
    if arr.shape[-1] == 2 and pos_index is not None:
        s = arr[..., pos_index]
        return s, np.abs(s)
    return None, np.abs(arr).sum(axis=-1)


def shap_by_slice(
    estimator: Any,
    frame: pd.DataFrame,
    features: list[str],
    masks: list[np.ndarray],
    *,
    task: str,
    positive_index: int | None = None,
    budget_s: float = 1.2,
    max_rows: int = 2000,
    per_slice_rows: int = 300,
    min_rows: int = 40,
    top: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean SHAP and mean |SHAP| per input column inside each mask vs outside it.

    Returns {"ok": True, "method", "rows", "seconds", "slices": [table per mask]} or
    {"ok": False, "reason"}: it never raises."""
    t0 = time.perf_counter()
    try:
        prep, final = split_pipeline(estimator)
        if not is_tree_model(final):
            return {
                "ok": False,
                "reason": f"the model ({type(final).__name__}) is not a tree model; "
                "SHAP is computed for tree models only",
            }
        try:
            import shap
        except Exception as exc:
            return {
                "ok": False,
                "reason": f"the optional `shap` package is not available ({type(exc).__name__}: "
                f"{str(exc)[:80]}); install mltriage[shap]",
            }
        t_import = time.perf_counter() - t0
        rng = np.random.default_rng(seed)
        idx = _stratified_sample(masks, len(frame), rng, per_slice_rows, max_rows)
        Xt, names = model_inputs(prep, frame.iloc[idx][features], features)
        owner = map_to_inputs(names, features)
        mapped = sum(o is not None for o in owner)
        explainer = shap.TreeExplainer(final, feature_perturbation="tree_path_dependent")
        run = _Budget(explainer, Xt, t0, budget_s).explain(idx, positive_index, min_rows, rng)
        if isinstance(run, str):
            return {"ok": False, "reason": run}
        signed, absval, used, method, approximate = run
        gnames, agg_abs, agg_sig = by_input_column(owner, names, signed, absval)
        return {
            "ok": True,
            "method": method,
            "rows": int(used.size),
            "approximate": approximate,
            "seconds": round(time.perf_counter() - t0, 3),
            "import_seconds": round(t_import, 3),
            "mapped_to_inputs": f"{mapped} of {len(names)} model inputs mapped to input columns",
            "output": output_kind(final, signed is not None, task),
            "slices": _slice_tables(masks, used, gnames, agg_abs, agg_sig, min_rows, top),
        }
    except Exception as exc:
        return {"ok": False, "reason": f"SHAP failed: {type(exc).__name__}: {str(exc)[:160]}"}


def _stratified_sample(
    masks: list[np.ndarray], n: int, rng: np.random.Generator, per_slice_rows: int, max_rows: int
) -> np.ndarray:
    """Row positions: up to per_slice_rows rows of each slice and twice that of the rest."""
    pick: list[np.ndarray] = []
    for m in masks:
        rows = np.flatnonzero(m)
        if rows.size > per_slice_rows:
            rows = rng.choice(rows, per_slice_rows, replace=False)
        pick.append(rows)
    union = np.zeros(n, dtype=bool)
    for m in masks:
        union |= m
    rest = np.flatnonzero(~union)
    pick.append(rng.choice(rest, min(rest.size, per_slice_rows * 2), replace=False) if rest.size else rest)
    idx = np.unique(np.concatenate(pick)) if pick else np.arange(0)
    if idx.size > max_rows:
        idx = np.sort(rng.choice(idx, max_rows, replace=False))
    return idx


def model_inputs(prep: Any, X: pd.DataFrame, features: list[str]) -> tuple[Any, list[str]]:
    """What the final estimator sees (the preprocessing applied) and the names of its columns."""
    names = list(features)
    if prep is None:
        return X, names
    Xt = prep.transform(X)
    try:
        names = [str(v) for v in prep.get_feature_names_out()]
    except Exception:
        names = [f"x{i}" for i in range(Xt.shape[1])]
    if hasattr(Xt, "toarray"):
        Xt = Xt.toarray()
    if isinstance(Xt, pd.DataFrame):
        names = [str(c) for c in Xt.columns]
    else:
        Xt = np.asarray(Xt, dtype=float)
    return Xt, names


class _Budget:
    """SHAP values computed within a time budget counted from t0: the cost per row is measured on
    a few rows, then the sample is thinned to what the budget affords (the Saabas approximation
    when the exact algorithm is too slow)."""

    def __init__(self, explainer: Any, Xt: Any, t0: float, budget_s: float) -> None:
        self.explainer, self.Xt, self.t0, self.budget_s = explainer, Xt, t0, budget_s

    def values(self, rows: np.ndarray, approximate: bool = False) -> Any:
        part = self.Xt.iloc[rows] if isinstance(self.Xt, pd.DataFrame) else self.Xt[rows]
        if approximate:
            return self.explainer.shap_values(part, check_additivity=False, approximate=approximate)
        return self.explainer.shap_values(part, check_additivity=False)

    def probe(self, probe: np.ndarray, approximate: bool, n: int) -> tuple[Any, float, int]:
        """(the probe rows' values, seconds per row, rows the rest of the budget affords)."""
        t1 = time.perf_counter()
        first = self.values(probe, approximate=approximate)
        per_row = (time.perf_counter() - t1) / max(probe.size, 1)
        left = self.budget_s - (time.perf_counter() - self.t0)
        afford = int(left / per_row) if per_row > 0 else n
        return first, per_row, afford

    def explain(
        self, idx: np.ndarray, positive_index: int | None, min_rows: int, rng: np.random.Generator
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, str, bool] | str:
        """(signed values or None, |values|, the frame rows explained, method, approximate), or
        why the budget does not allow it."""
        probe = np.arange(min(20, idx.size))
        first, per_row, afford = self.probe(probe, False, idx.size)
        method = "TreeExplainer (exact, tree path-dependent)"
        approximate = False
        if afford < min(idx.size, 4 * min_rows):
            first, per_row, afford = self.probe(probe, True, idx.size)
            approximate = True
            method = "TreeExplainer (Saabas approximation: the exact algorithm is too slow for this model)"
        if afford < min(idx.size, 4 * min_rows):
            return (
                f"SHAP costs {per_row * 1000:.1f} ms per row on this model; "
                f"too slow for the {self.budget_s:.1f} s budget"
            )
        keep = np.arange(probe.size, idx.size)
        if keep.size > afford - probe.size:
            # keep every mask represented: thin each stratum proportionally
            keep = np.sort(rng.choice(keep, max(afford - probe.size, 0), replace=False))
        n_cols = self.Xt.shape[1]
        s1, a1 = shap_matrix(first, n_cols, positive_index)
        if not keep.size:
            return s1, a1, idx[probe], method, approximate
        s2, a2 = shap_matrix(self.values(keep, approximate=approximate), n_cols, positive_index)
        signed = None if s1 is None or s2 is None else np.vstack([s1, s2])
        used = np.concatenate([idx[probe], idx[keep]])
        return signed, np.vstack([a1, a2]), used, method, approximate


def by_input_column(
    owner: list[str | None], names: list[str], signed: np.ndarray | None, absval: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """Transformed features summed into input columns (unmapped ones keep their own name)."""
    groups: dict[str, list[int]] = {}
    for j, o in enumerate(owner):
        groups.setdefault(o if o is not None else names[j], []).append(j)
    gnames = list(groups)
    agg_abs = np.column_stack([absval[:, groups[g]].sum(axis=1) for g in gnames])
    agg_sig = None if signed is None else np.column_stack([signed[:, groups[g]].sum(axis=1) for g in gnames])
    return gnames, agg_abs, agg_sig


def _slice_tables(
    masks: list[np.ndarray],
    used: np.ndarray,
    gnames: list[str],
    agg_abs: np.ndarray,
    agg_sig: np.ndarray | None,
    min_rows: int,
    top: int,
) -> list[dict[str, Any]]:
    """Per mask: the `top` input columns whose SHAP differs most inside the mask vs outside."""
    scale = float(agg_abs.mean(axis=0).sum()) or 1.0
    tables: list[dict[str, Any]] = []
    for m in masks:
        inside = m[used]
        n_in, n_out = int(inside.sum()), int((~inside).sum())
        if n_in < min_rows or n_out < min_rows:
            tables.append({"reason": f"only {n_in} slice rows in the SHAP sample"})
            continue
        rows = _shift_rows(inside, gnames, agg_abs, agg_sig, scale, top)
        tables.append({"rows": rows, "n_slice": n_in, "n_rest": n_out})
    return tables


def _shift_rows(
    inside: np.ndarray,
    gnames: list[str],
    agg_abs: np.ndarray,
    agg_sig: np.ndarray | None,
    scale: float,
    top: int,
) -> list[dict[str, Any]]:
    ma_in, ma_out = agg_abs[inside].mean(axis=0), agg_abs[~inside].mean(axis=0)
    if agg_sig is not None:
        ms_in, ms_out = agg_sig[inside].mean(axis=0), agg_sig[~inside].mean(axis=0)
        diff = ms_in - ms_out
    else:
        ms_in = ms_out = None
        diff = ma_in - ma_out
    rows = []
    for j in np.argsort(-np.abs(diff))[:top]:
        r = {
            "feature": gnames[j],
            "mean_shap_slice": float(ms_in[j]) if ms_in is not None else None,
            "mean_shap_rest": float(ms_out[j]) if ms_out is not None else None,
            "mean_abs_shap_slice": float(ma_in[j]),
            "mean_abs_shap_rest": float(ma_out[j]),
            "shift_share": float(abs(diff[j]) / scale),
        }
        if ms_in is None:
            r.pop("mean_shap_slice")
            r.pop("mean_shap_rest")
        rows.append(r)
    return rows


def output_kind(final: Any, signed: bool, task: str) -> str:
    """What the SHAP values explain: the positive class's probability or log-odds, the
    prediction, or (multiclass) the sum of |SHAP| over the classes."""
    if signed and task == "binary":
        forest = any(t in type(final).__name__ for t in ("Forest", "Trees", "DecisionTree"))
        return ("probability" if forest else "log-odds") + " of the positive class"
    if task in ("regression", "ranking") and signed:
        return "prediction"
    return "sum over classes of |SHAP|"
