"""Where a drop of performance on a labelled batch concentrates: the one-predicate segment whose
loss rose more than the loss of the rest of the batch (a difference of differences against the
evaluation set), tested with Holm's correction over the segments tried.

Pure kernel: frames, per-row losses and column lists in, a dict out (no Context)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

MAX_LEVELS = 20  # the most frequent levels of a categorical column tried as segments
FEW_DISTINCT = 10  # a numeric column with at most this many values is split by value


def candidate_segments(
    ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str], min_rows: int
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(description, mask on ref, mask on cur) for each level of a categorical or few-valued
    column and each quartile (of the reference) of a numeric one, with >= min_rows on both sides."""
    out = []
    for col in columns:
        if col not in ref.columns or col not in cur.columns:
            continue
        r, c = ref[col], cur[col]
        numeric = pd.api.types.is_numeric_dtype(r) and not isinstance(r.dtype, pd.CategoricalDtype)
        numeric = numeric and not pd.api.types.is_bool_dtype(r)
        if numeric and r.nunique() > FEW_DISTINCT:
            rv = r.to_numpy(dtype=float, na_value=np.nan)
            cv = pd.to_numeric(c, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            q = np.unique(np.nanquantile(rv, [0.25, 0.5, 0.75]))
            edges = [-np.inf, *q.tolist(), np.inf]
            for lo, hi in zip(edges[:-1], edges[1:]):
                mr, mc = (rv > lo) & (rv <= hi), (cv > lo) & (cv <= hi)
                name = (
                    f"{col} <= {hi:.4g}"
                    if lo == -np.inf
                    else (f"{col} > {lo:.4g}" if hi == np.inf else f"{lo:.4g} < {col} <= {hi:.4g}")
                )
                out.append((name, mr, mc))
        else:
            for v in c.value_counts().index[:MAX_LEVELS]:
                out.append((f"{col} == {v}", (r == v).to_numpy(), (c == v).to_numpy()))
    return [(n, mr, mc) for n, mr, mc in out if mr.sum() >= min_rows and mc.sum() >= min_rows]


def concentrated_drop(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    columns: list[str],
    ref_loss: np.ndarray,
    cur_loss: np.ndarray,
    min_rows: int = 30,
    alpha: float = 0.05,
) -> dict[str, Any] | None:
    """The segment whose loss rose most beyond the rise of the rest of the batch, when that
    excess is significant after Holm's correction over every segment tried (one-sided z test of
    (cur_S - ref_S) - (cur_rest - ref_rest), each mean's variance from its own rows); None
    when no segment holds the drop more than the rest does (a drop spread over the batch)."""
    ref_loss = np.asarray(ref_loss, dtype=float)
    cur_loss = np.asarray(cur_loss, dtype=float)
    best: dict[str, Any] | None = None
    best_z = -np.inf
    tried = 0
    for name, mr, mc in candidate_segments(ref, cur, columns, min_rows):
        parts = (cur_loss[mc], ref_loss[mr], cur_loss[~mc], ref_loss[~mr])
        if min(len(p) for p in parts) < min_rows:
            continue
        tried += 1
        m = [float(np.mean(p)) for p in parts]
        var = sum(float(np.var(p, ddof=1)) / len(p) for p in parts)
        excess = (m[0] - m[1]) - (m[2] - m[3])
        if var <= 0:
            continue
        z = excess / np.sqrt(var)
        if z > best_z:
            best_z = float(z)
            best = {
                "segment": name,
                "rows": {"evaluation": int(mr.sum()), "current": int(mc.sum())},
                "share_of_batch": float(mc.mean()),
                "loss": {"evaluation": m[1], "current": m[0]},
                "loss_rest": {"evaluation": m[3], "current": m[2]},
                "excess_rise": excess,
                "z": float(z),
            }
    if best is None:
        return None
    best["segments_tried"] = tried
    best["p_adjusted"] = min(1.0, float(stats.norm.sf(best["z"])) * tried)  # Holm's first step
    return best if best["p_adjusted"] < alpha else None
