"""What the other columns say a column's value should be: a second identification of a fitted
affine map (stats/skew_maps.try_affine).

A map a * x + b with both coefficients fitted matches any population that moved with its shape
intact, so the column's own distribution cannot tell a serving bug from real drift (the economy
ten years later: spending twice as large, a larger population; the same pigs weeks later, eating
more). The rest of the row can: a serving path that sends one column in another unit or origin
leaves the other columns as they were, so the column's values predicted from them (a linear
model fitted on training) stay on training's scale and the batch's values equal the map of those
predictions; a population that moved carries its other columns along, and the predictions follow
the observed values with no map needed.

`refuted_by_relation` compares the two hypotheses on the batch rows by their squared error in the
observed units (the Gaussian likelihood ratio of "observed = predicted" against "observed =
a * predicted + b", the map's two coefficients fitted and the identity's none, so the comparison
favours the map): the map is refuted when the identity explains the batch better and its root
mean squared error is under the gap between the two sets' central 90% (batch 5th percentile minus
training's 95th, or the reverse). Under the map with the other columns intact the predictions
keep training's distribution (their mean under training's 95th percentile) while the batch's mean
lies beyond its own 5th percentile, so the identity's error is at least that gap: an error under
it is impossible for a serving map. Other columns broken as well (every column rescaled by a
scaler fitted apart) give predictions far from both hypotheses, an error far above the gap, and
the map stands. Only a map accepted because the batch left training's range (a gap > 0) can be
refuted; one identified by the grid is not. The predictors
are the other numeric features that no serving transformation explains (a column the serving
path broke predicts nothing; with every column rescaled, say, nothing is left and the map stands).
When the other columns carry no information about the column, the predictions are one constant
and the fitted map, which matches location and scale, always wins: the test only ever removes a
map whose column the rest of the row already accounts for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .skew import Skew

MIN_ROWS = 30  # complete rows needed in each set


def _numeric(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in cols])


def predictors(
    ref_frame: pd.DataFrame, current: pd.DataFrame, columns: Iterable[str], col: str, broken: set[str]
) -> list[str]:
    """The numeric features other than `col` present in both sets and not explained by a serving
    transformation of their own."""
    out = []
    for c in columns:
        if c == col or c in broken or c not in ref_frame.columns or c not in current.columns:
            continue
        if pd.api.types.is_numeric_dtype(ref_frame[c]) and pd.api.types.is_numeric_dtype(current[c]):
            out.append(c)
    return out


def relation_errors(
    ref_frame: pd.DataFrame, current: pd.DataFrame, col: str, preds: list[str], a: float, b: float
) -> tuple[float, float] | None:
    """(mean squared error of observed = predicted, of observed = a * predicted + b) on the batch,
    the prediction a least-squares line of `col` on `preds` fitted on training; None when there
    are no predictors or too few complete rows."""
    if not preds:
        return None
    xr, xc = _numeric(ref_frame, preds), _numeric(current, preds)
    yr = pd.to_numeric(ref_frame[col], errors="coerce").to_numpy(dtype=float)
    yc = pd.to_numeric(current[col], errors="coerce").to_numpy(dtype=float)
    okr = np.isfinite(xr).all(axis=1) & np.isfinite(yr)
    okc = np.isfinite(xc).all(axis=1) & np.isfinite(yc)
    if okr.sum() < MIN_ROWS or okc.sum() < MIN_ROWS:
        return None
    mu, sd = xr[okr].mean(axis=0), xr[okr].std(axis=0)
    sd[sd == 0] = 1.0
    zr = np.column_stack([np.ones(int(okr.sum())), (xr[okr] - mu) / sd])
    beta = np.linalg.lstsq(zr, yr[okr], rcond=None)[0]
    zc = np.column_stack([np.ones(int(okc.sum())), (xc[okc] - mu) / sd])
    pred, obs = zc @ beta, yc[okc]
    return float(np.mean((obs - pred) ** 2)), float(np.mean((obs - (a * pred + b)) ** 2))


def refuted_by_relation(
    ref_frame: pd.DataFrame, current: pd.DataFrame, col: str, preds: list[str], a: float, b: float
) -> bool:
    """The batch's values of `col` sit where the other columns put them on training's scale, closer
    than the map a * x + b of those predictions: a population that moved, not a serving map."""
    err = relation_errors(ref_frame, current, col, preds, a, b)
    if err is None:
        return False
    yr = pd.to_numeric(ref_frame[col], errors="coerce").dropna().to_numpy(dtype=float)
    yc = pd.to_numeric(current[col], errors="coerce").dropna().to_numpy(dtype=float)
    r05, r95 = np.quantile(yr, [0.05, 0.95])
    c05, c95 = np.quantile(yc, [0.05, 0.95])
    gap = max(c05 - r95, r05 - c95)  # > 0 when the two central 90% do not overlap
    return bool(np.sqrt(err[0]) < gap and err[0] < err[1])


def drop_related(
    out: dict[str, Skew], ref_frame: pd.DataFrame, current: pd.DataFrame, columns: list[str]
) -> None:
    """Drop the free affine maps (both coefficients fitted) whose column the other columns already
    account for on training's scale (stats/skew_relation.py): drift, not a serving map."""
    from .skew import SkewResult, _complexity

    # the predictors: the other features, except those a transformation other than a free map
    # explains (a free map may be drift itself: every trending column is read as one)
    broken = {c for c, r in out.items() if not isinstance(r, SkewResult) or _complexity(r) != 2}
    for col in list(out):
        res = out[col]
        if not isinstance(res, SkewResult) or _complexity(res) != 2:
            continue
        tr = res.transform
        if tr.get("on_training_values") or "evidence" in tr or "where" in tr:
            continue
        preds = predictors(ref_frame, current, columns, col, broken)
        if refuted_by_relation(ref_frame, current, col, preds, float(tr["a"]), float(tr["b"])):
            del out[col]
