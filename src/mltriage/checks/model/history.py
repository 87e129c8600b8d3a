"""model.divergence: the training history (loss by epoch) shows NaN/inf, an exploding loss, or a
loss that never decreases."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, WARNING, Finding, Severity
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.rows import scalar

if TYPE_CHECKING:
    from ...context import Context

LOSS_COLUMNS = ("loss", "train_loss", "training_loss", "train")
VAL_LOSS_COLUMNS = ("val_loss", "valid_loss", "validation_loss", "eval_loss", "test_loss")
EPOCH_COLUMNS = ("epoch", "iteration", "step", "iter")


def _pick(cols: Iterable[Any], names: Iterable[str]) -> Any:
    """The first of `names` among the columns (compared in lower case), or None."""
    low = {c.lower(): c for c in cols}
    for n in names:
        if n in low:
            return low[n]
    return None


def _nonfinite(
    series: list[tuple[Any, np.ndarray | None]], epochs: np.ndarray, ev: dict[str, Any], problems: list[str]
) -> Severity:
    """NaN or inf in the loss or the validation loss: critical."""
    sev = WARNING
    for name, v in series:
        if v is None:
            continue
        bad = ~np.isfinite(v)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            problems.append(f"{name} is NaN/inf from epoch {epochs[first]} ({int(bad.sum())} epoch(s))")
            ev[f"{name}_first_nonfinite_epoch"] = epochs[first]
            sev = CRITICAL
    return sev


def _after_best(
    p: Params, main: str, lv: np.ndarray, ep: np.ndarray, i_min: int, ev: dict[str, Any], problems: list[str]
) -> None:
    """After its best value, a loss that explodes (`explode_ratio`) or keeps rising (`rise_ratio`)."""
    best = float(lv[i_min])
    after = lv[i_min + 1 :]
    i_max = int(np.argmax(after)) + i_min + 1
    peak = float(lv[i_max])
    ev["max_loss_after_min"] = peak
    scale = abs(best) if best != 0 else max(np.std(lv[: i_min + 1]), 1e-12)
    ratio = (peak - best) / scale + 1 if best > 0 else (peak - best) / scale
    if best > 0 and peak > p.explode_ratio * best or best <= 0 and ratio > p.explode_ratio:
        above = after > best * math.sqrt(p.explode_ratio) if best > 0 else after > best + scale
        jump = int(np.flatnonzero(above)[0]) + i_min + 1
        problems.append(
            f"{main} explodes: {best:.4g} at epoch {ep[i_min]} -> {peak:.4g} (first jump at epoch {ep[jump]})"
        )
        ev["first_jump_epoch"] = ep[jump]
        ev["explosion_ratio"] = peak / best if best > 0 else None
        ev["recovered"] = bool(lv[-1] <= best * 2) if best > 0 else None
    elif best > 0 and len(after) >= 2 and lv[-1] > p.rise_ratio * best and np.median(after) > 1.5 * best:
        problems.append(
            f"{main} rises after epoch {ep[i_min]}: best {best:.4g}, last {lv[-1]:.4g} ({lv[-1] / best:.1f}x)"
        )
        ev["rise_ratio"] = lv[-1] / best


def _loss_shape(
    p: Params, main: str, loss: np.ndarray, epochs: np.ndarray, ev: dict[str, Any], problems: list[str]
) -> None:
    """The finite part of the loss: explosion or rise after its best value, or no improvement."""
    fin = np.isfinite(loss)
    if fin.sum() < 2:
        return
    lv = loss[fin]
    ep = epochs[fin]
    i_min = int(np.argmin(lv))
    best = float(lv[i_min])
    ev.update(
        {"first_loss": float(lv[0]), "min_loss": best, "min_epoch": ep[i_min], "last_loss": float(lv[-1])}
    )
    if len(lv) > i_min + 1:
        _after_best(p, main, lv, ep, i_min, ev, problems)
    if len(lv) >= p.min_epochs and lv[0] != 0:
        improvement = (lv[0] - best) / abs(lv[0])
        ev["improvement"] = improvement
        if improvement < p.min_improvement:
            problems.append(
                f"{main} never decreases: first {lv[0]:.4g}, best {best:.4g}, "
                f"last {lv[-1]:.4g} over {len(lv)} epochs"
            )


def _sig(v: float) -> float | None:
    """A loss rounded to 4 significant digits; None for NaN/inf (marked in the row instead)."""
    return float(f"{v:.4g}") if np.isfinite(v) else None


def _keep(n: int, must: list[int], most: int) -> np.ndarray:
    """At most `most` row positions of `n`: the `must` ones (first, last, best, first jump, first
    NaN/inf), then evenly spaced ones."""
    if n <= most:
        return np.arange(n)
    fixed = np.unique(np.array(must, dtype=int))[:most]
    even = np.unique(np.linspace(0, n - 1, most).round().astype(int))
    fill = np.setdiff1d(even, fixed)
    room = most - len(fixed)
    if room <= 0 or len(fill) == 0:
        return fixed
    pick = np.unique(np.linspace(0, len(fill) - 1, room).round().astype(int))
    return np.union1d(fixed, fill[pick])


def _history_table(
    epochs: np.ndarray, loss: np.ndarray, val: np.ndarray | None, ev: dict[str, Any], most: int = 200
) -> list[dict[str, Any]]:
    """The history (epoch, loss, val_loss) for the plot, downsampled to at most `most` rows; a
    NaN/inf value is kept as None with `nonfinite` true on its row."""
    bad = ~np.isfinite(loss) if val is None else ~np.isfinite(loss) | ~np.isfinite(val)
    must = [0, len(loss) - 1]
    fin = np.flatnonzero(np.isfinite(loss))
    if len(fin):
        must.append(int(fin[np.argmin(loss[fin])]))
    if bad.any():
        must.append(int(np.flatnonzero(bad)[0]))
    if ev.get("first_jump_epoch") is not None:
        must += [int(i) for i in np.flatnonzero(epochs == ev["first_jump_epoch"])[:1]]
    rows = []
    for i in _keep(len(loss), must, most):
        row: dict[str, Any] = {"epoch": scalar(epochs[i]), "loss": _sig(loss[i])}
        if val is not None:
            row["val_loss"] = _sig(val[i])
        row["nonfinite"] = bool(bad[i])
        rows.append(row)
    return rows


@check(
    "model.divergence",
    requires=("history",),
    explode_ratio=Param(
        10.0,
        Interval(float, 1, None),
        "a loss rising above this multiple of its best value has exploded",
    ),
    rise_ratio=Param(
        3.0,
        Interval(float, 1, None),
        "a loss ending above this multiple of its best value (and mostly above it) keeps rising",
    ),
    min_improvement=Param(
        0.01,
        Interval(float, 0, 1),
        "smallest improvement, as a share of the first loss, of a loss that does decrease",
    ),
    min_epochs=Param(
        5, Interval(int, 1, None), "fewest epochs before a loss that never decreases is flagged"
    ),
)
def divergence(ctx: Context, p: Params) -> Findings:
    """The training history shows NaN/inf, an exploding loss, or a loss that never decreases.

    What it detects
        In the history (columns epoch, loss, val_loss): any NaN or infinite loss; a training loss
        that rises above `explode_ratio` (10) times its best value after reaching it, or ends at
        more than `rise_ratio` (3) times its best value; a training loss that never improves by `min_improvement` (1%) of its first value over at least
        `min_epochs` (5) epochs. The validation loss is reported alongside; a rising validation
        loss with a falling training loss is overfitting, not divergence, and is not flagged here.
    Why it matters
        A diverged run is numerically broken: the learning rate is too high, the inputs are
        unscaled, or the gradients explode. A checkpoint saved before the blow-up may look fine,
        but the run cannot be reproduced or continued, and the next retrain may ship the broken state.
    How to confirm
        Plot loss and val_loss by epoch; find the first epoch of the jump; rerun with a lower
        learning rate or gradient clipping and compare.
    Fix
        Lower the learning rate (or use a schedule/adaptive optimiser), clip gradients, scale the
        inputs, check for NaN/inf in the features and labels, and stop on the validation loss.
    """
    h = ctx.case.history
    if h is None or len(h) == 0:
        raise NotApplicable("the training history is empty")
    loss_col = _pick(h.columns, LOSS_COLUMNS)
    val_col = _pick(h.columns, VAL_LOSS_COLUMNS)
    if loss_col is None and val_col is None:
        raise NotApplicable(f"the history has no loss column (columns: {list(h.columns)[:8]})")
    ep_col = _pick(h.columns, EPOCH_COLUMNS)
    if ep_col is not None:
        h = h.sort_values(ep_col, kind="stable")
    epochs = h[ep_col].to_numpy() if ep_col is not None else np.arange(1, len(h) + 1)
    main = loss_col or val_col
    loss = pd.to_numeric(h[main], errors="coerce").to_numpy(dtype=float)
    val = (
        pd.to_numeric(h[val_col], errors="coerce").to_numpy(dtype=float)
        if val_col and val_col != main
        else None
    )
    ev: dict[str, Any] = {"epochs": int(len(loss)), "loss_column": main}
    problems: list[str] = []
    sev = _nonfinite([(main, loss), (val_col, val)], epochs, ev, problems)
    _loss_shape(p, main, loss, epochs, ev, problems)
    if val is not None and np.isfinite(val).any():
        ev["val_loss_min"] = float(np.nanmin(np.where(np.isfinite(val), val, np.nan)))
        ev["val_loss_last"] = float(val[np.isfinite(val)][-1])
    if not problems:
        return None
    history = _history_table(epochs, loss, val, ev)
    return Finding(
        "model.divergence",
        sev,
        f"Training diverged: {problems[0]}",
        evidence={**ev, "problems": problems, "history": history},
        plot_data=["history"],
        impact=0.8 if sev == CRITICAL else 0.5,
        root_cause="the optimisation is numerically unstable: learning rate too high, unscaled inputs, "
        "exploding gradients, or NaN/inf reaching the loss",
        fix="lower the learning rate (or use an adaptive optimiser/schedule), clip gradients, scale inputs, "
        "check features and labels for NaN/inf, and early-stop on the validation loss",
    )
