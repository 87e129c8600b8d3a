"""The expected cost of errors under a cost matrix.

`cost_summary`: the expected cost per row at the decision in use and at the cost-optimal one
(binary: the best threshold; multiclass: the Bayes decision from the probabilities), with a
two-fold cross-fitted estimate of the optimum's cost, overall and per slice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .contrast import keys


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
