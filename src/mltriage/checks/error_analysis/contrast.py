"""What sets errors and slices apart, for errors.underperforming_slice: the info finding on the
features that separate errors from correct rows, SHAP by slice for tree models, and the compact
table put first in a slice's evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import INFO, Finding
from ...stats.attribution import contrast_summary, keys, shap_by_slice
from .common import contrast

if TYPE_CHECKING:
    from ...context import Context


def contrast_finding(ctx: Context) -> Finding | None:
    """Info: the features that separate errors from correct rows, per true class."""
    res = contrast(ctx)
    if not res or not res["table"]:
        return None
    summary = contrast_summary(res)
    top = [f for g in res["groups"] for f in g.get("top", [])]
    absent = [f for f in dict.fromkeys(top) if ctx.case.features and f not in ctx.case.features]
    cat = "features" if absent else "model capacity"
    n_err = sum(g["n_errors"] for g in res["groups"])
    n_sig = sum(1 for r in res["table"] if r["p_adj"] < 0.05)
    ev = {
        "separating_features": summary or "no feature separates errors from correct rows",
        "errors": n_err,
        "rows_compared": res["rows"],
        "tests": res["tests"],
        "significant_in_table": n_sig,
        "alpha": 0.05,
        "correction": "Holm over every (class, feature) test",
        "root_cause_category": cat,
        "errors_vs_correct": res["table"],
        "groups": res["groups"],
    }
    return Finding(
        "errors.underperforming_slice",
        INFO,
        f"What separates errors from correct rows ({n_err} errors): "
        + (summary.split(";")[0] if summary else "nothing significant"),
        columns=list(dict.fromkeys(top))[:6],
        evidence=ev,
        root_cause=f"[{cat}] the errors of each class concentrate where these features differ",
        fix="look at the listed features first: a feature that separates errors but is not a "
        "model input is a candidate feature; one that is an input points to an interaction "
        "the model misses",
        impact=0.0,
        gain="not estimated: this is where errors differ, not a fix"
        + (f"; {', '.join(absent)} separate errors but are not model features" if absent else ""),
        show=bool(summary),
    )


def attribution(ctx: Context, masks: list[np.ndarray], budget_s: float) -> dict:
    """SHAP by slice for a tree model, or the reason it did not run."""
    m = ctx.case.model
    if m is None or m.kind != "estimator":
        return {"ok": False, "reason": "no fitted model object to explain (precomputed predictions)"}
    pos_index = None
    if ctx.task == "binary":
        cls = m.classes or ctx.case.classes or []
        ck = list(keys(cls)) if cls else []
        pk = keys([ctx.case.positive])[0]
        pos_index = ck.index(pk) if pk in ck else 1
    return shap_by_slice(
        m.estimator,
        ctx.frame("test"),
        list(ctx.case.features),
        masks,
        task=ctx.task,
        positive_index=pos_index,
        budget_s=budget_s,
        seed=ctx.config.seed,
    )


def attribution_evidence(shap_res: dict | None, k: int) -> dict[str, Any]:
    """The evidence keys of the k-th warning slice's SHAP attribution (`shap_res` None: the slice
    is info, SHAP was not computed for it)."""
    if shap_res is None:
        return {"attribution_method": "standardised differences (SHAP is computed for warning slices only)"}
    if not shap_res.get("ok"):
        return {"attribution_method": f"standardised differences ({shap_res['reason']})"}
    t = shap_res["slices"][k]
    if "rows" not in t:
        return {"attribution_method": f"standardised differences ({t['reason']})"}
    return {
        "attribution_method": f"SHAP {shap_res['method']}, {shap_res['rows']} rows, {shap_res['output']}",
        "attribution": t["rows"],
        "top_attribution_shift": t["rows"][0]["feature"],
    }


def _why_rows(ev: dict) -> list[dict]:
    rows = []
    for r in ev.get("attribution", [])[:4]:
        sl, rest = (
            (r.get("mean_shap_slice"), r.get("mean_shap_rest"))
            if "mean_shap_slice" in r
            else (r["mean_abs_shap_slice"], r["mean_abs_shap_rest"])
        )
        rows.append(
            {
                "feature": r["feature"],
                "measure": "mean SHAP" if "mean_shap_slice" in r else "mean |SHAP|",
                "slice": sl,
                "rest": rest,
                "shift": sl - rest,
            }
        )
    for r in ev.get("distinguishing_features", [])[: 4 if not rows else 2]:
        if r["kind"] == "categorical":
            rows.append(
                {
                    "feature": f"{r['column']} == {r['value']!s}",
                    "measure": "share (std diff)",
                    "slice": r["share_in_slice"],
                    "rest": r["share_in_rest"],
                    "shift": r["std_diff"],
                }
            )
        else:
            rows.append(
                {
                    "feature": r["column"],
                    "measure": "mean (std diff)",
                    "slice": r["mean_in_slice"],
                    "rest": r["mean_in_rest"],
                    "shift": r["std_diff"],
                }
            )
    return rows


WHY_TABLE = "what_sets_it_apart"


def why_table_first(ev: dict) -> dict:
    """The evidence with one compact table (`WHY_TABLE`) ahead of the other tables: what sets the
    slice apart, SHAP shifts when computed, then the features that differ most."""
    rows = _why_rows(ev)
    if not rows:
        return ev
    return {
        **{k: v for k, v in ev.items() if not isinstance(v, (list, dict))},
        WHY_TABLE: rows,
        **{k: v for k, v in ev.items() if isinstance(v, (list, dict))},
    }
