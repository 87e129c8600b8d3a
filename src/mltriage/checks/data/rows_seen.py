"""data.duplicates / data.train_test_overlap helpers: the near-copy finding, and the score on rows whose record
or entity training saw vs the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import WARNING, Finding
from ...stats.rows import (
    CopyFit,
    copy_evidence,
)

if TYPE_CHECKING:
    from ...context import Context


def _near_finding(f: CopyFit, lead: str, verb: str, floor: str = "") -> Finding:
    return Finding(
        "data.duplicates",
        WARNING,
        f"Near copies: {lead}, {f.twins:,} of {f.rows:,} training rows {verb} where chance explains "
        f"{f.chance_expected:.1f} (at most {f.chance_most:.1f}): "
        f"about {f.copy_share:.1%} of training rows are near copies of another (95% CI {f.copy_low:.1%} to "
        f"{f.copy_high:.1%}, p = {f.p_value:.1g}{'; a floor: ' + floor if floor else ''}), not exact ones",
        evidence={"near_copies": copy_evidence(f)},
        impact=min(1.0, f.copy_share),
        root_cause="the same records entered twice with slightly different values (re-rounded or "
        "re-scaled readings, a second export or feed of the same source), or augmentation by jitter",
        fix="deduplicate on a record key or on rounded values before splitting; if the near copies "
        "are deliberate augmentation, do it after the split and inside cross-validation folds",
    )


# ---------------------------------------------------------------------------- train/test overlap


def _hits(ctx: Context) -> tuple[np.ndarray, str, bool] | None:
    """Per evaluation row, how well the model did: (values, name, higher is better), or None."""
    try:
        pr = ctx.predictions("test")
        y = ctx.y("test")
    except Exception:
        return None
    if ctx.case.task in ("binary", "multiclass"):
        return (np.asarray(pr.label).astype(str) == y.astype(str)).astype(float), "accuracy", True
    err = np.abs(np.asarray(pr.score, float) - y.astype(float))
    return err, "mae", False


def seen_vs_unseen(ctx: Context, seen: np.ndarray) -> dict[str, Any]:
    """The model's accuracy (or MAE) on the evaluation rows marked `seen` and on the others, and a
    one-sided test that it does better on the seen ones (two-proportion z / Mann-Whitney)."""
    from scipy import stats as st

    got = _hits(ctx)
    if got is None:
        return {}
    v, name, higher = got
    ok = np.isfinite(v)
    a, b = v[seen & ok], v[~seen & ok]
    ev: dict[str, Any] = {f"{name}_on_seen_rows": float(a.mean()) if len(a) else None}
    if not len(b):
        return ev
    ev[f"{name}_on_unseen_rows"] = float(b.mean())
    if len(a) < 2 or len(b) < 2:
        return ev
    if higher:
        pool = (a.sum() + b.sum()) / (len(a) + len(b))
        se = np.sqrt(max(pool * (1 - pool), 1e-12) * (1 / len(a) + 1 / len(b)))
        pval = float(st.norm.sf((a.mean() - b.mean()) / se))
        gain = float(a.mean() - b.mean())
    else:
        pval = float(st.mannwhitneyu(a, b, alternative="less").pvalue)
        gain = float((b.mean() - a.mean()) / b.mean()) if b.mean() > 0 else 0.0
    ev.update({"score_gain_on_seen": gain, "p_value_seen_better": pval})
    return ev
