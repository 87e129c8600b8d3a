"""pipeline.train_serving_skew: a feature computed differently in serving, inferred from the batch
(the transformation under which it matches the training distribution again: stats/skew.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...findings import CRITICAL, Finding
from ...registry import Findings, Interval, Param, Params, check
from ...stats.drift import FeatureDrift
from ...stats.skew import SkewResult, TextSkew

if TYPE_CHECKING:
    from ...context import Context

PIPELINE_BUG = (
    "This is a pipeline bug, not a change in the world: fix the serving path; do not "
    "retrain on these values (the model would learn the bug)."
)


def _unit_finding(col: str, res: SkewResult, fd: FeatureDrift) -> Finding:
    return Finding(
        "pipeline.train_serving_skew",
        CRITICAL,
        f"{col}: {res.description}; undoing it ({res.transform['undo']}) brings the batch back "
        f"to the training distribution (PSI {res.psi_before:.2f} -> {res.psi_after:.3f})",
        columns=[col],
        evidence={"inferred": res.to_dict(), "drift": fd.to_dict()},
        root_cause="the serving path computes this feature differently from the training "
        "pipeline (another unit, a scaling step applied twice or not at all, "
        "another default for missing values)",
        fix=f"{res.fix}. {PIPELINE_BUG}",
        impact=1.0,
    )


def _text_finding(col: str, res: TextSkew, fd: FeatureDrift) -> Finding:
    return Finding(
        "pipeline.train_serving_skew",
        CRITICAL,
        f"{col}: {res.share:.0%} of batch values are training categories written "
        f"differently (case or spaces), e.g. "
        + ", ".join(f"{k!r} -> {v!r}" for k, v in list(res.mapping.items())[:3]),
        columns=[col],
        evidence={"inferred": res.to_dict(), "drift": fd.to_dict()},
        root_cause="the serving path normalises text differently from training (case, "
        "whitespace), so the encoder sees unknown categories",
        fix=f"apply the training normalisation to {col} in serving (same case and trimming). " + PIPELINE_BUG,
        impact=1.0,
    )


@check(
    "pipeline.train_serving_skew",
    requires=("current",),
    skew_min_psi=Param(
        0.25,
        Interval(float, 0, None, closed="neither"),
        "PSI from which a numeric feature's drift is examined for a serving transformation (data_drift's critical level)",
    ),
    skew_max_psi_after=Param(
        0.05,
        Interval(float, 0, None, closed="neither"),
        "PSI the batch must fall under once the transformation is undone (0.05: indistinguishable from training)",
    ),
)
def train_serving_skew(ctx: Context, p: Params) -> Findings:
    """A feature computed differently in serving: the batch matches training after undoing it.

    What it detects
        For every feature that drifts strongly (PSI >= skew_min_psi, 0.25), transformations that
        a broken serving path typically applies are tried on the batch: a unit change by a power
        of ten (x10 ... x1e6 and the inverses), values already standardised or min-max scaled, a
        changed default for missing values (another fill value, or NaN where training filled);
        and for categorical features, categories written differently (case, spaces). A feature
        is reported when undoing one of them brings its PSI under skew_max_psi_after (0.05): the
        inferred transformation is the root cause, not a population change.
    Why it matters
        The model receives numbers on another scale than it learned: predictions are wrong for
        every row, silently. Retraining on these values would bake the bug in.
    How to confirm
        Compare the batch column's quantiles with training's: a constant ratio (x100), a mean of 0
        and std of 1, or one fill value swapped for another. Trace the feature's code in serving.
    Fix
        Use the same feature code (or the same transformation artifact) in training and serving;
        fix the unit, scaling or default named in the finding. Do not retrain.
    """
    inp = ctx.production()
    out = []
    for col, res in inp.skews(p).items():
        fd = inp.report.features[col]
        out.append(
            _unit_finding(col, res, fd) if isinstance(res, SkewResult) else _text_finding(col, res, fd)
        )
    return out
