"""Comparing attributions between two sides (two data sets, two model versions, a segment and
the rest): the statistics behind `mltriage compare`.

- `stratified_sample`: row positions drawn per stratum (the target's classes or quintiles, and a
  segment oversampled up to a share of the sample), with the weights that undo the oversampling;
- `shift_table`: per input column, the mean |SHAP| and its share of the total on each side, and the
  shift of each with a percentile bootstrap interval (rows resampled on each side; the same
  resample on both sides when they explain the same rows);
- `dependence_curve`: a feature's dependence curve (binned value -> mean SHAP) on each side, on the
  reference's bins, and how far it moved, relative to the feature's mean |SHAP|;
- `refit_with_seed`: a clone of a model fitted again with another random seed (the spread of
  attributions across seeds is the noise floor of a comparison between two models).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .explain import Attribution
from .rows import scalar


def _allocate(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Rows to draw per stratum: proportional, largest remainders, never above a stratum's size."""
    total = int(sizes.sum())
    if budget >= total:
        return sizes.copy()
    raw = sizes * budget / max(total, 1)
    take = np.minimum(np.floor(raw).astype(int), sizes)
    left = budget - int(take.sum())
    for j in np.argsort(-(raw - take)):
        if left <= 0:
            break
        if take[j] < sizes[j]:
            take[j] += 1
            left -= 1
    return take


def stratified_sample(
    n_rows: int,
    size: int,
    *,
    strata: np.ndarray | None = None,
    focus: np.ndarray | None = None,
    focus_share: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted row positions, weights): `size` rows drawn proportionally within each stratum; with
    a `focus` mask (a segment), its rows take up to `focus_share` of the sample. A row's weight is
    its stratum's size over the rows drawn from it, so weighted means estimate the whole set's."""
    rng = np.random.default_rng(seed)
    codes = np.zeros(n_rows, dtype=np.int64) if strata is None else pd.factorize(strata)[0].astype(np.int64)
    codes = np.where(codes < 0, codes.max(initial=0) + 1, codes)
    if focus is not None:
        codes = codes * 2 + np.asarray(focus, dtype=np.int64)
    groups = np.unique(codes)
    sizes = np.array([(codes == g).sum() for g in groups])
    if focus is not None:
        in_focus = groups % 2 == 1
        n_focus = min(int(sizes[in_focus].sum()), int(round(size * focus_share)))
        take = np.zeros_like(sizes)
        take[in_focus] = _allocate(sizes[in_focus], n_focus)
        take[~in_focus] = _allocate(sizes[~in_focus], size - int(take[in_focus].sum()))
    else:
        take = _allocate(sizes, size)
    pos, wts = [], []
    for g, n_g, t in zip(groups, sizes, take):
        if t <= 0:
            continue
        rows = np.flatnonzero(codes == g)
        pick = rows if t >= n_g else rng.choice(rows, t, replace=False)
        pos.append(pick)
        wts.append(np.full(len(pick), n_g / len(pick)))
    p, w = np.concatenate(pos), np.concatenate(wts)
    order = np.argsort(p)
    return p[order], w[order] * len(p) / w.sum()


def target_strata(y: pd.Series, task: str) -> np.ndarray:
    """Stratum labels of a target: the classes, or the quintiles of a numeric target."""
    if task in ("binary", "multiclass"):
        return y.astype(str).to_numpy()
    v = pd.to_numeric(y, errors="coerce")
    return pd.qcut(v, 5, labels=False, duplicates="drop").fillna(-1).to_numpy()


def boot_means(values: np.ndarray, weights: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(n_boot, F) weighted column means of `values` under bootstrap resample counts (n_boot, n)."""
    cw = counts * weights[None, :]
    return np.asarray(cw @ values / np.maximum(cw.sum(axis=1, keepdims=True), 1e-12))


def resample_counts(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)


def _shares(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(m.sum(axis=-1, keepdims=True), 1e-12)


def shift_table(
    ref: Attribution,
    w_ref: np.ndarray,
    cur: Attribution,
    w_cur: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
    paired: bool = False,
) -> list[dict[str, Any]]:
    """Per input column (the union of both sides'), the mean |SHAP| and share of each side and the
    shifts (current - reference) with 95% percentile bootstrap intervals, largest share first."""
    cols = list(dict.fromkeys(ref.columns + cur.columns))
    A = _aligned(ref, cols)
    B = _aligned(cur, cols)
    rng = np.random.default_rng(seed)
    ca = resample_counts(len(A), n_boot, rng)
    cb = ca if paired and len(A) == len(B) else resample_counts(len(B), n_boot, rng)
    ma, mb = boot_means(A, w_ref, ca), boot_means(B, w_cur, cb)
    sa, sb = _shares(ma), _shares(mb)
    pa = np.asarray(w_ref @ A / w_ref.sum())
    pb = np.asarray(w_cur @ B / w_cur.sum())
    share_a, share_b = _shares(pa), _shares(pb)
    ds, da = sb - sa, mb - ma
    rows: list[dict[str, Any]] = []
    for j, c in enumerate(cols):
        rows.append(
            {
                "feature": c,
                "mean_abs_ref": float(pa[j]),
                "mean_abs_cur": float(pb[j]),
                "share_ref": float(share_a[j]),
                "share_cur": float(share_b[j]),
                "share_shift": float(share_b[j] - share_a[j]),
                "share_shift_low": float(np.quantile(ds[:, j], 0.025)),
                "share_shift_high": float(np.quantile(ds[:, j], 0.975)),
                "share_ref_sd": float(sa[:, j].std()),
                "abs_shift": float(pb[j] - pa[j]),
                "abs_shift_low": float(np.quantile(da[:, j], 0.025)),
                "abs_shift_high": float(np.quantile(da[:, j], 0.975)),
            }
        )
    rows.sort(key=lambda r: -max(float(r["share_ref"]), float(r["share_cur"])))
    return rows


def _aligned(a: Attribution, cols: list[str]) -> np.ndarray:
    out = np.zeros((len(a.abs), len(cols)))
    for j, c in enumerate(cols):
        if c in a.columns:
            out[:, j] = a.abs[:, a.columns.index(c)]
    return out


# ------------------------------------------------------------------------------ dependence curves


def bin_values(
    x_ref: pd.Series, x_cur: pd.Series, categorical: bool, bins: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Bin codes of both sides on the reference's bins (numeric: its quantiles; categorical: its
    most frequent levels and "other"); missing values in a bin of their own."""
    if categorical:
        top = x_ref.astype("object").value_counts(dropna=True).index[: max(bins - 1, 1)]
        levels = pd.Index(top)

        def code(s: pd.Series) -> np.ndarray:
            c = levels.get_indexer(s.astype("object"))
            return np.where(s.isna().to_numpy(), len(levels) + 1, np.where(c < 0, len(levels), c))

        labels = [str(scalar(v)) for v in levels] + ["other", "missing"]
        return code(x_ref), code(x_cur), labels
    a = pd.to_numeric(x_ref, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    b = pd.to_numeric(x_cur, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    fin = a[np.isfinite(a)]
    edges = np.unique(np.quantile(fin, np.linspace(0, 1, bins + 1)[1:-1])) if fin.size else np.array([])

    def ncode(v: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(v), np.searchsorted(edges, v, side="right"), len(edges) + 1)

    e = [f"{v:.4g}" for v in edges]
    labels = (
        ([f"< {e[0]}"] + [f"[{lo}, {hi})" for lo, hi in zip(e[:-1], e[1:])] + [f">= {e[-1]}"])
        if e
        else ["all"]
    ) + ["missing"]
    return ncode(a), ncode(b), labels


def dependence_curve(
    codes_ref: np.ndarray,
    values_ref: np.ndarray,
    w_ref: np.ndarray,
    codes_cur: np.ndarray,
    values_cur: np.ndarray,
    w_cur: np.ndarray,
    labels: list[str],
    *,
    scale: float,
    min_rows: int = 20,
) -> dict[str, Any]:
    """Mean SHAP per bin on each side (current values times `scale`, to put two models' outputs on
    one scale) and how far the curve moved: the row-weighted mean |difference| over the bins both
    sides fill (>= min_rows rows each), over `scale_of` (the feature's mean |SHAP| on the
    reference). `comparable` needs two such bins holding half the current rows."""
    k = len(labels)
    n_r = np.bincount(codes_ref, minlength=k)[:k]
    n_c = np.bincount(codes_cur, minlength=k)[:k]
    m_r = _bin_means(codes_ref, values_ref, w_ref, k)
    m_c = _bin_means(codes_cur, values_cur, w_cur, k) * scale
    ok = (n_r >= min_rows) & (n_c >= min_rows)
    share_c = np.bincount(codes_cur, weights=w_cur, minlength=k)[:k] / max(float(w_cur.sum()), 1e-12)
    share_r = np.bincount(codes_ref, weights=w_ref, minlength=k)[:k] / max(float(w_ref.sum()), 1e-12)
    coverage = float(share_c[ok].sum())
    typical = float(np.average(np.abs(values_ref), weights=w_ref)) if len(values_ref) else 0.0
    wb = (share_c + share_r)[ok]
    moved = (
        float(np.sum(wb * np.abs(m_r[ok] - m_c[ok])) / max(float(wb.sum()), 1e-12))
        if ok.any()
        else float("nan")
    )
    rel = moved / typical if typical > 0 else float("nan")
    table = [
        {
            "bin": labels[j],
            "rows_ref": int(n_r[j]),
            "rows_cur": int(n_c[j]),
            "mean_shap_ref": float(m_r[j]) if n_r[j] else None,
            "mean_shap_cur": float(m_c[j]) if n_c[j] else None,
        }
        for j in range(k)
        if n_r[j] or n_c[j]
    ]
    return {
        "bins": table,
        "shift": rel,
        "coverage": coverage,
        "comparable": bool(ok.sum() >= 2 and coverage >= 0.5),
    }


def _bin_means(codes: np.ndarray, values: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    s = np.bincount(codes, weights=values * w, minlength=k)[:k]
    n = np.bincount(codes, weights=w, minlength=k)[:k]
    return np.where(n > 0, s / np.maximum(n, 1e-12), np.nan)


# ------------------------------------------------------------------------------ seeds


def refit_with_seed(model: Any, X: pd.DataFrame, y: np.ndarray, seed: int) -> Any | None:
    """A clone of `model` (every `random_state` parameter set to `seed`) fitted on X, y; None when
    the model cannot be cloned (not a scikit-learn compatible estimator)."""
    from sklearn.base import clone

    try:
        est = clone(model)
    except Exception:
        return None
    keys = [k for k in est.get_params(deep=True) if k == "random_state" or k.endswith("__random_state")]
    if keys:
        est.set_params(**{k: seed for k in keys})
    est.fit(X, y)
    return est


def seeded(model: Any) -> bool:
    """Whether refitting the model with another seed can change it (it has a random_state)."""
    try:
        params = model.get_params(deep=True)
    except Exception:
        return False
    return any(k == "random_state" or k.endswith("__random_state") for k in params)
