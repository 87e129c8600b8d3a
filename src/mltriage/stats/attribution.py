"""What sets errors apart: feature contrasts, tree SHAP by slice, and the expected cost of errors.

- `error_contrast`: per true class, the rows the model gets wrong against the rows it gets right
  (binary: false negatives vs true positives, false positives vs true negatives), per feature: the
  standardised difference (numeric: Cohen's d; categorical: the level whose share differs most)
  and the Kolmogorov-Smirnov distance (categorical: total variation distance, its unordered
  analogue), with Holm-adjusted p-values over every test. Vectorised: one column-wise argsort of
  the group's rows per group.
- `shap_by_slice`: mean SHAP and mean |SHAP| per input column inside each slice vs the rest, for
  tree models (HistGradientBoosting, LightGBM, XGBoost, random forests, ...) alone or at the end of
  a Pipeline, through the optional `shap` package (imported lazily), on a stratified sample whose
  size is set from the measured cost per row so that the whole stays within a time budget.
  Transformed features are mapped back to input columns (ColumnTransformer prefixes, one-hot
  suffixes). Returns the reason instead of raising when it cannot run.
- `cost_summary`: the expected cost per row under a cost matrix at the decision in use and at the
  cost-optimal one (binary: the best threshold; multiclass: the Bayes decision from the
  probabilities), with a two-fold cross-fitted estimate of the optimum's cost.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from .metrics import holm as _holm
from .slices import _is_categorical

__all__ = [
    "error_contrast",
    "shap_by_slice",
    "map_to_inputs",
    "cost_summary",
    "decision_cost",
    "best_threshold",
]


# --------------------------------------------------------------------------- helpers


def keys(values: Any) -> np.ndarray:
    """Labels as comparable strings (1, 1.0 and "1" are the same class), vectorised."""
    s = pd.Series(np.asarray(values, dtype=object))
    num = pd.to_numeric(s, errors="coerce")
    txt = s.astype(str).to_numpy(dtype=object)
    fnum = num.to_numpy(dtype=float, na_value=np.nan)
    isnum = np.isfinite(fnum)
    if isnum.any():
        txt[isnum] = np.char.mod("%.12g", fnum[isnum]).astype(object)
    return txt.astype(str)


class _Encoded:
    """Numeric columns as one float matrix; categorical columns as integer codes (-1 missing)."""

    def __init__(self, frame: pd.DataFrame, columns: list[str], categorical: set[str]):
        self.num_cols: list[str] = []
        self.cat_cols: list[str] = []
        num, cat, self.cat_levels = [], [], []
        for c in columns:
            if c not in frame.columns:
                continue
            s = frame[c]
            if pd.api.types.is_datetime64_any_dtype(s.dtype):
                continue
            if _is_categorical(s, c, categorical):
                codes, uniq = pd.factorize(s, use_na_sentinel=True)
                if len(uniq) < 2 and not (codes < 0).any():
                    continue
                self.cat_cols.append(c)
                cat.append(codes.astype(np.int32))
                self.cat_levels.append(list(uniq))
            else:
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                v = np.where(np.isfinite(v), v, np.nan)
                if np.all(np.isnan(v)):
                    continue
                self.num_cols.append(c)
                num.append(v)
        n = len(frame)
        self.X = np.column_stack(num) if num else np.empty((n, 0))
        self.C = np.column_stack(cat) if cat else np.empty((n, 0), dtype=np.int32)


def _numeric_contrast(X: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(std_diff, ks, p, mean_err, mean_ok) per column of X between rows g and rows ~g."""
    from scipy.stats import kstwobign

    n1, n0 = int(g.sum()), int((~g).sum())
    A, B = X[g], X[~g]
    with np.errstate(invalid="ignore", divide="ignore"):
        m1, m0 = np.nanmean(A, axis=0), np.nanmean(B, axis=0)
        v1, v0 = np.nanvar(A, axis=0, ddof=1), np.nanvar(B, axis=0, ddof=1)
        sd = np.sqrt((v1 + v0) / 2.0)
        d = np.where(sd > 0, (m1 - m0) / sd, 0.0)
    # KS on every column at once: sort each column, walk the two empirical CDFs; missing values
    # sort last (a difference in missingness counts as a difference in distribution)
    F = np.where(np.isnan(X), np.inf, X)
    order = np.argsort(F, axis=0, kind="stable")
    S = np.take_along_axis(F, order, axis=0)
    G = g[order]
    c1 = np.cumsum(G, axis=0) / max(n1, 1)
    c0 = np.cumsum(~G, axis=0) / max(n0, 1)
    last = np.ones(S.shape, dtype=bool)
    last[:-1] = S[1:] != S[:-1]
    ks = np.where(last, np.abs(c1 - c0), 0.0).max(axis=0) if S.shape[0] else np.zeros(X.shape[1])
    en = math.sqrt(n1 * n0 / max(n1 + n0, 1))
    p = kstwobign.sf(ks * en)
    return np.nan_to_num(d), ks, p, m1, m0


def _categorical_contrast(codes: np.ndarray, levels: list, g: np.ndarray) -> dict:
    from scipy.stats import chi2

    k = len(levels) + 1  # last bin: missing
    c = np.where(codes < 0, k - 1, codes)
    h1 = np.bincount(c[g], minlength=k).astype(float)
    h0 = np.bincount(c[~g], minlength=k).astype(float)
    n1, n0 = h1.sum(), h0.sum()
    p1, p0 = h1 / max(n1, 1), h0 / max(n0, 1)
    tvd = 0.5 * float(np.abs(p1 - p0).sum())
    pbar = (h1 + h0) / max(n1 + n0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (p1 - p0) / np.sqrt(np.maximum(pbar * (1 - pbar), 1e-12))
        used = pbar > 0
        e1, e0 = n1 * pbar, n0 * pbar
        stat = float(
            np.nansum(
                np.where(
                    used, (h1 - e1) ** 2 / np.maximum(e1, 1e-12) + (h0 - e0) ** 2 / np.maximum(e0, 1e-12), 0.0
                )
            )
        )
    dof = max(int(used.sum()) - 1, 1)
    j = int(np.nanargmax(np.abs(np.where(used, d, 0.0))))
    lev = levels[j] if j < len(levels) else None
    if isinstance(lev, np.generic):
        lev = lev.item()
    return {
        "std_diff": float(d[j]),
        "ks": tvd,
        "p": float(chi2.sf(stat, dof)),
        "level": lev,
        "share_err": float(p1[j]),
        "share_ok": float(p0[j]),
    }


# --------------------------------------------------------------------------- errors vs correct rows


def error_contrast(
    frame: pd.DataFrame,
    y: np.ndarray,
    label: np.ndarray,
    columns: list[str],
    *,
    task: str,
    classes: list | None = None,
    positive: Any = None,
    categorical: set[str] | None = None,
    model_features: set[str] | None = None,
    max_rows: int = 20_000,
    min_rows: int = 20,
    max_groups: int = 6,
    top: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Per true class, the features that separate the rows the model gets wrong from the rows it
    gets right. Returns {"groups": [...], "table": [...], "tests": m, "rows": n}."""
    categorical = set(categorical or ())
    model_features = set(model_features or ())
    y = np.asarray(y, dtype=object)
    label = np.asarray(label, dtype=object)
    n = len(frame)
    keep = ~pd.isna(pd.Series(y)).to_numpy()
    idx = np.flatnonzero(keep)
    if idx.size > max_rows:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_rows, replace=False))
    sub = frame.iloc[idx]
    ys, ls = y[idx], label[idx]
    yk, lk = keys(ys), keys(ls)
    wrong = yk != lk
    enc = _Encoded(sub, columns, categorical)

    groups = []
    if task == "binary" and classes is not None and len(classes) == 2:
        neg = [c for c in classes if keys([c])[0] != keys([positive])[0]][0]
        groups.append((positive, "false negatives", "true positives"))
        groups.append((neg, "false positives", "true negatives"))
    else:
        cls = classes if classes is not None else pd.unique(pd.Series(ys)).tolist()
        counts = [(int(np.sum(wrong & (yk == keys([c])[0]))), c) for c in cls]
        counts.sort(key=lambda t: -t[0])
        for _, c in counts[:max_groups]:
            groups.append((c, f"class {c} rows misclassified", f"class {c} rows classified right"))

    rows, meta = [], []
    for cls, err_name, ok_name in groups:
        in_cls = yk == keys([cls])[0]
        e = wrong & in_cls
        ok = ~wrong & in_cls
        ne, no = int(e.sum()), int(ok.sum())
        info = {"true_class": cls, "errors": err_name, "vs": ok_name, "n_errors": ne, "n_correct": no}
        if ne < min_rows or no < min_rows:
            info["skipped"] = f"fewer than {min_rows} rows on one side"
            meta.append(info)
            continue
        sel = in_cls
        g = e[sel]
        if enc.X.shape[1]:
            d, ks, p, m1, m0 = _numeric_contrast(enc.X[sel], g)
            for j, c in enumerate(enc.num_cols):
                rows.append(
                    {
                        "true_class": cls,
                        "errors": err_name,
                        "feature": c,
                        "kind": "numeric",
                        "std_diff": float(d[j]),
                        "ks": float(ks[j]),
                        "p": float(p[j]),
                        "mean_errors": float(m1[j]),
                        "mean_correct": float(m0[j]),
                        "in_model": (c in model_features) if model_features else None,
                    }
                )
        for j, c in enumerate(enc.cat_cols):
            r = _categorical_contrast(enc.C[sel, j], enc.cat_levels[j], g)
            rows.append(
                {
                    "true_class": cls,
                    "errors": err_name,
                    "feature": c,
                    "kind": "categorical",
                    "std_diff": r["std_diff"],
                    "ks": r["ks"],
                    "p": r["p"],
                    "level": r["level"],
                    "share_errors": r["share_err"],
                    "share_correct": r["share_ok"],
                    "in_model": (c in model_features) if model_features else None,
                }
            )
        meta.append(info)
    if rows:
        adj = _holm(np.array([r["p"] for r in rows]))
        for r, a in zip(rows, adj):
            r["p_adj"] = float(a)
            del r["p"]
    table = []
    for info in meta:
        mine = [
            r
            for r in rows
            if str(r["true_class"]) == str(info["true_class"]) and r["errors"] == info["errors"]
        ]
        mine.sort(key=lambda r: (-(r["p_adj"] < 0.05), -r["ks"], -abs(r["std_diff"])))
        info["top"] = [r["feature"] for r in mine[:top] if r["p_adj"] < 0.05]
        for r in mine[:top]:
            row = {
                "true_class": r["true_class"],
                "errors": r["errors"],
                "n_errors": info["n_errors"],
                "n_correct": info["n_correct"],
                "feature": r["feature"],
                "std_diff": round(r["std_diff"], 3),
                "ks": round(r["ks"], 3),
                "p_adj": r["p_adj"],
            }
            if r["kind"] == "categorical":
                row["detail"] = (
                    f"{r['level']!s}: {r['share_errors']:.0%} of errors vs "
                    f"{r['share_correct']:.0%} of correct"
                )
            else:
                row["detail"] = f"mean {r['mean_errors']:.4g} in errors vs {r['mean_correct']:.4g}"
            if r["in_model"] is False:
                row["detail"] += " (not a model feature)"
            table.append(row)
    return {"groups": meta, "table": table, "tests": len(rows), "rows": int(idx.size), "of_rows": n}


def contrast_summary(res: dict) -> str:
    """One line per group: its top separating features."""
    parts = []
    for g in res["groups"]:
        if g.get("skipped"):
            continue
        rows = [
            r
            for r in res["table"]
            if str(r["true_class"]) == str(g["true_class"]) and r["errors"] == g["errors"]
        ]
        sig = [r for r in rows if r["p_adj"] < 0.05]
        if not sig:
            parts.append(f"{g['errors']}: no feature separates them from {g['vs']}")
            continue
        feats = ", ".join(f"{r['feature']} (d={r['std_diff']:+.2f}, KS={r['ks']:.2f})" for r in sig[:3])
        parts.append(f"{g['errors']} vs {g['vs']}: {feats}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- SHAP by slice

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


def _split_pipeline(est: Any) -> tuple[Any | None, Any]:
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


def _shap_matrix(values: Any, n_features: int, pos_index: int | None) -> tuple[np.ndarray, np.ndarray | None]:
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
        prep, final = _split_pipeline(estimator)
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
        n = len(frame)
        # stratified sample: rows of each slice and rows of the rest
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
        pick.append(
            rng.choice(rest, min(rest.size, per_slice_rows * 2), replace=False) if rest.size else rest
        )
        idx = np.unique(np.concatenate(pick)) if pick else np.arange(0)
        if idx.size > max_rows:
            idx = np.sort(rng.choice(idx, max_rows, replace=False))
        X = frame.iloc[idx][features]
        names = list(features)
        if prep is not None:
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
        else:
            Xt = X
        owner = map_to_inputs(names, features)
        mapped = sum(o is not None for o in owner)
        explainer = shap.TreeExplainer(final, feature_perturbation="tree_path_dependent")

        def explain(rows, approximate=False):
            part = Xt.iloc[rows] if isinstance(Xt, pd.DataFrame) else Xt[rows]
            return (
                explainer.shap_values(part, check_additivity=False, approximate=approximate)
                if approximate
                else explainer.shap_values(part, check_additivity=False)
            )

        # measure the cost per row on a few rows, then size the sample to the budget
        probe = np.arange(min(20, idx.size))
        t1 = time.perf_counter()
        first = explain(probe)
        per_row = (time.perf_counter() - t1) / max(probe.size, 1)
        left = budget_s - (time.perf_counter() - t0)
        method = "TreeExplainer (exact, tree path-dependent)"
        approximate = False
        afford = int(left / per_row) if per_row > 0 else idx.size
        if afford < min(idx.size, 4 * min_rows):
            t1 = time.perf_counter()
            first = explain(probe, approximate=True)
            per_row = (time.perf_counter() - t1) / max(probe.size, 1)
            left = budget_s - (time.perf_counter() - t0)
            afford = int(left / per_row) if per_row > 0 else idx.size
            approximate = True
            method = "TreeExplainer (Saabas approximation: the exact algorithm is too slow for this model)"
        if afford < min(idx.size, 4 * min_rows):
            return {
                "ok": False,
                "reason": f"SHAP costs {per_row * 1000:.1f} ms per row on this model; "
                f"too slow for the {budget_s:.1f} s budget",
            }
        keep = np.arange(probe.size, idx.size)
        if keep.size > afford - probe.size:
            # keep every mask represented: thin each stratum proportionally
            keep = np.sort(rng.choice(keep, max(afford - probe.size, 0), replace=False))
        vals_rest = explain(keep, approximate=approximate) if keep.size else None
        s1, a1 = _shap_matrix(first, Xt.shape[1], positive_index)
        if vals_rest is not None:
            s2, a2 = _shap_matrix(vals_rest, Xt.shape[1], positive_index)
            signed = None if s1 is None else np.vstack([s1, s2])
            absval = np.vstack([a1, a2])
            used = np.concatenate([idx[probe], idx[keep]])
        else:
            signed, absval, used = s1, a1, idx[probe]
        # aggregate transformed features into input columns (unmapped ones keep their own name)
        groups: dict[str, list[int]] = {}
        for j, o in enumerate(owner):
            groups.setdefault(o if o is not None else names[j], []).append(j)
        gnames = list(groups)
        agg_abs = np.column_stack([absval[:, groups[g]].sum(axis=1) for g in gnames])
        agg_sig = (
            None if signed is None else np.column_stack([signed[:, groups[g]].sum(axis=1) for g in gnames])
        )
        overall_abs = agg_abs.mean(axis=0)
        scale = float(overall_abs.sum()) or 1.0
        tables = []
        for m in masks:
            inside = m[used]
            n_in, n_out = int(inside.sum()), int((~inside).sum())
            if n_in < min_rows or n_out < min_rows:
                tables.append({"reason": f"only {n_in} slice rows in the SHAP sample"})
                continue
            ma_in, ma_out = agg_abs[inside].mean(axis=0), agg_abs[~inside].mean(axis=0)
            rows = []
            if agg_sig is not None:
                ms_in, ms_out = agg_sig[inside].mean(axis=0), agg_sig[~inside].mean(axis=0)
                diff = ms_in - ms_out
            else:
                ms_in = ms_out = None
                diff = ma_in - ma_out
            order = np.argsort(-np.abs(diff))[:top]
            for j in order:
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
            tables.append({"rows": rows, "n_slice": n_in, "n_rest": n_out})
        return {
            "ok": True,
            "method": method,
            "rows": int(used.size),
            "approximate": approximate,
            "seconds": round(time.perf_counter() - t0, 3),
            "import_seconds": round(t_import, 3),
            "mapped_to_inputs": f"{mapped} of {len(names)} model inputs mapped to input columns",
            "output": (
                (
                    "probability"
                    if any(t in type(final).__name__ for t in ("Forest", "Trees", "DecisionTree"))
                    else "log-odds"
                )
                + " of the positive class"
                if signed is not None and task == "binary"
                else "prediction"
                if task in ("regression", "ranking") and signed is not None
                else "sum over classes of |SHAP|"
            ),
            "slices": tables,
        }
    except Exception as exc:
        return {"ok": False, "reason": f"SHAP failed: {type(exc).__name__}: {str(exc)[:160]}"}


# --------------------------------------------------------------------------- expected cost


def decision_cost(C: np.ndarray, yi: np.ndarray, di: np.ndarray) -> np.ndarray:
    """Cost of each row: C[true index, decision index] (rows with an unknown class cost 0)."""
    ok = (yi >= 0) & (di >= 0)
    out = np.zeros(yi.size)
    out[ok] = C[yi[ok], di[ok]]
    return out


def best_threshold(score: np.ndarray, pos: np.ndarray, C: np.ndarray) -> tuple[float, float]:
    """(threshold, total cost) minimising sum of C[y, s >= t] for a 2x2 cost matrix C
    (index 0 negative, 1 positive); exact over every distinct score."""
    s = np.asarray(score, dtype=float)
    fin = np.isfinite(s)
    s, pos = s[fin], pos[fin]
    if s.size == 0:
        return float("nan"), float("nan")
    order = np.argsort(-s, kind="stable")
    ss, pp = s[order], pos[order]
    c1 = np.where(pp, C[1, 1], C[0, 1])  # cost when predicted positive
    c0 = np.where(pp, C[1, 0], C[0, 0])  # cost when predicted negative
    # predicting the top k rows positive: cost = sum c1[:k] + sum c0[k:]
    tot = np.concatenate([[0.0], np.cumsum(c1)]) + (c0.sum() - np.concatenate([[0.0], np.cumsum(c0)]))
    # only cut between distinct scores
    valid = np.ones(ss.size + 1, dtype=bool)
    valid[1:-1] = ss[1:] != ss[:-1]
    tot = np.where(valid, tot, np.inf)
    k = int(np.argmin(tot))
    if k == 0:
        thr = float(np.nextafter(ss[0], np.inf))
    elif k == ss.size:
        thr = float(ss[-1])
    else:
        thr = float((ss[k - 1] + ss[k]) / 2.0)
    return thr, float(tot[k])


def cost_summary(
    C: pd.DataFrame,
    y: np.ndarray,
    label: np.ndarray,
    *,
    task: str,
    score: np.ndarray | None = None,
    proba: np.ndarray | None = None,
    proba_classes: list | None = None,
    positive: Any = None,
    threshold: float = 0.5,
    masks: list[np.ndarray] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Expected cost per row at the decision in use and at the cost-optimal decision.

    Binary (with scores): the best threshold on these rows, plus a two-fold cross-fitted cost (the
    threshold chosen on one half, paid on the other) that is not optimistic. Multiclass (with
    probabilities): the Bayes decision argmin_j sum_i p_i C[i, j]. `masks`: per slice, the same
    figures on the slice's rows (binary: also the slice's own best threshold)."""
    classes = list(C.index)
    Cm = C.to_numpy(dtype=float)
    ck = keys(classes)
    pos_of = {k: i for i, k in enumerate(ck)}
    yk, lk = keys(y), keys(label)
    yi = pd.Series(yk).map(pos_of).fillna(-1).to_numpy(dtype=int)
    li = pd.Series(lk).map(pos_of).fillna(-1).to_numpy(dtype=int)
    pk = keys([positive])[0] if positive is not None else None
    n = max(int((yi >= 0).sum()), 1)
    cost_use = decision_cost(Cm, yi, li)
    out: dict[str, Any] = {
        "cost_matrix": {str(r): {str(c): float(C.loc[r, c]) for c in classes} for r in classes},
        "rows": int(n),
        "cost_per_row_in_use": float(cost_use.sum() / n),
    }
    opt_rows = None
    if task == "binary" and score is not None and len(classes) == 2:
        order = [1 - pos_of[pk], pos_of[pk]]
        C2 = Cm[np.ix_(order, order)]
        s = np.asarray(score, dtype=float)
        pos = yk == pk
        thr, tot = best_threshold(s, pos, C2)
        dec = s >= thr
        opt_rows = np.where(pos, np.where(dec, C2[1, 1], C2[1, 0]), np.where(dec, C2[0, 1], C2[0, 0]))
        # honest estimate: choose on one half, pay on the other, both ways
        half = np.random.default_rng(seed).random(s.size) < 0.5
        cf = 0.0
        for a in (half, ~half):
            t_a, _ = best_threshold(s[a], pos[a], C2)
            d_b = s[~a] >= t_a
            p_b = pos[~a]
            cf += float(
                np.where(p_b, np.where(d_b, C2[1, 1], C2[1, 0]), np.where(d_b, C2[0, 1], C2[0, 0])).sum()
            )
        dc = C2[0, 1] - C2[0, 0]
        dn = C2[1, 0] - C2[1, 1]
        out.update(
            {
                "threshold_in_use": float(threshold),
                "cost_optimal_threshold": thr,
                "bayes_threshold": float(dc / (dc + dn)) if dc + dn > 0 else None,
                "cost_per_row_at_optimum": float(tot / s.size),
                "cost_per_row_at_optimum_crossfit": float(cf / s.size),
                "optimum_chosen_on": "these rows (in-sample); the cross-fitted figure picks the "
                "threshold on one half and pays on the other",
            }
        )
    elif proba is not None and proba_classes is not None:
        pc = [pos_of.get(k, -1) for k in keys(proba_classes)]
        if all(i >= 0 for i in pc) and len(pc) == len(classes):
            Cp = Cm[np.ix_(pc, pc)]  # in proba's column order
            risk = np.asarray(proba, dtype=float) @ Cp  # (n, k): expected cost of deciding j
            dj = np.argmin(risk, axis=1)
            bayes = np.array(pc)[dj]
            opt_rows = decision_cost(Cm, yi, bayes)
            out.update(
                {
                    "decision_in_use": "the predicted class (highest probability)",
                    "optimal_decision": "Bayes: argmin_j sum_i p_i C[i, j]",
                    "cost_per_row_at_optimum": float(opt_rows.sum() / n),
                    "decisions_changed": float(np.mean(bayes != li)),
                }
            )
    if opt_rows is not None:
        out["saving_per_row"] = out["cost_per_row_in_use"] - out["cost_per_row_at_optimum"]
        out["saving_share"] = (
            out["saving_per_row"] / out["cost_per_row_in_use"] if out["cost_per_row_in_use"] > 0 else 0.0
        )
    if masks:
        per = []
        for m in masks:
            m = np.asarray(m, dtype=bool)
            k = max(int(m.sum()), 1)
            r = {
                "rows": int(m.sum()),
                "cost_per_row_in_use": float(cost_use[m].sum() / k),
                "cost_per_row_rest": float(cost_use[~m].sum() / max(int((~m).sum()), 1)),
            }
            if opt_rows is not None:
                r["cost_per_row_at_global_optimum"] = float(opt_rows[m].sum() / k)
            if task == "binary" and score is not None and "cost_optimal_threshold" in out and m.sum() >= 30:
                s_m = np.asarray(score, dtype=float)[m]
                pos_m = yk[m] == pk
                t_m, tot_m = best_threshold(s_m, pos_m, C2)
                r["slice_optimal_threshold"] = t_m
                r["cost_per_row_at_slice_optimum"] = float(tot_m / k)
            per.append(r)
        out["slices"] = per
    return out
