"""Two models compared like for like (model.overfit): on the same
evaluation rows (a paired bootstrap over the rows) and under the same cross-validation folds
(the corrected resampled t-test of Nadeau & Bengio 2003 on the paired fold differences), and the
two independent pieces of evidence pooled (Stouffer's z).

Outputs: `(n, k)` probabilities whose columns follow `classes` (binary: the positive class's
column is scored by ROC AUC; multiclass: the arg-max by accuracy), or 1-D values (binary: the
positive class's score; multiclass: predicted labels; regression: predictions, scored by R²).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as sps

from ..positive import positive_scores
from .paired import Resampler, Stat, auc_of, mean_of, r2_of

# bootstrap resamples of the paired held-out difference: the z statistics are read at 1.96-3,
# where 400 resamples put the standard error within about 4% of its value
N_BOOT = 400


def row_stat(task: str, y: np.ndarray, out: np.ndarray, classes: list | None, positive: Any) -> Stat:
    """The task's headline metric of one model's outputs on the rows, as a bootstrap statistic."""
    a = np.asarray(out)
    if task == "regression":
        return r2_of(np.asarray(y, dtype=float), a.astype(float))
    if task == "binary":
        s = positive_scores(a, classes, positive) if a.ndim == 2 else a.astype(float)
        return auc_of(np.asarray(y) == positive, s)
    if a.ndim == 2:
        a = np.asarray(classes, dtype=object)[np.argmax(a, axis=1)]
    return mean_of((a.astype(str) == np.asarray(y).astype(str)).astype(float))


def paired_gap(
    task: str,
    y: np.ndarray,
    reference: list[np.ndarray],
    candidate: list[np.ndarray],
    classes: list | None,
    positive: Any,
    seed: int = 0,
) -> dict[str, float]:
    """reference - candidate on the same rows: each side is the mean of its models' scores (the
    fold models of a cross-validation, or one model), the difference's standard error from the
    same bootstrap resamples of the rows for every model (paired), and z = difference / se."""
    sides = {"r": reference, "c": candidate}
    stats = {
        f"{s}{i}": row_stat(task, y, o, classes, positive)
        for s, outs in sides.items()
        for i, o in enumerate(outs)
    }
    rs = Resampler(len(y), N_BOOT, seed)
    point, boot = rs.point(stats), rs.run(stats)
    ref = float(np.mean([point[f"r{i}"] for i in range(len(reference))]))
    cand = float(np.mean([point[f"c{i}"] for i in range(len(candidate))]))
    d = np.mean([boot[f"r{i}"] for i in range(len(reference))], axis=0) - np.mean(
        [boot[f"c{i}"] for i in range(len(candidate))], axis=0
    )
    d = d[np.isfinite(d)]
    se = float(np.std(d, ddof=1)) if len(d) > 1 else float("nan")
    gap = ref - cand
    z = gap / se if se > 0 else (math.inf if gap > 0 else 0.0)
    return {"reference": ref, "candidate": cand, "shortfall": gap, "se": se, "z": z, "rows": len(y)}


def corrected_t(diffs: np.ndarray, test_share: float) -> dict[str, float]:
    """The corrected resampled t-test (Nadeau & Bengio 2003; Bouckaert & Frank 2004 for repeated
    k-fold): J paired fold differences from splits that overlap in their training rows have a
    variance (1/J + n_test/n_train) s², not s²/J; t with J - 1 degrees of freedom. `test_share`
    is n_test / n_train (1 / (k - 1) for k folds). The one-sided p-value is turned into the
    normal z of the same tail, to be pooled with other evidence."""
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    j = len(d)
    if j < 2:
        return {
            "mean": float(d.mean()) if j else float("nan"),
            "t": float("nan"),
            "p": 1.0,
            "z": 0.0,
            "splits": j,
        }
    m, s2 = float(d.mean()), float(np.var(d, ddof=1))
    se = math.sqrt((1.0 / j + test_share) * s2)
    if se <= 0:
        t = math.inf if m > 0 else (-math.inf if m < 0 else 0.0)
    else:
        t = m / se
    p = float(sps.t.sf(t, j - 1)) if np.isfinite(t) else (0.0 if t > 0 else 1.0)
    z = float(sps.norm.isf(max(p, 1e-300))) if p < 1 else -math.inf
    return {"mean": m, "t": t, "p": p, "z": z, "splits": j}


def stouffer(*zs: float) -> float:
    """Independent one-sided z statistics pooled with equal weights."""
    v = [float(np.clip(z, -10.0, 10.0)) for z in zs if not np.isnan(z)]
    if not v:
        return float("nan")
    return float(sum(v) / math.sqrt(len(v)))
