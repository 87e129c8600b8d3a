"""pipeline.train_serving_skew: a feature computed differently in serving, inferred from the batch
(the transformation under which it matches the training distribution again: stats/skew.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...findings import CRITICAL, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.drift import FeatureDrift
from ...stats.skew import SkewResult, TextSkew

if TYPE_CHECKING:
    from ...context import Context

PIPELINE_BUG = (
    "This is a pipeline bug, not a change in the world: fix the serving path; do not "
    "retrain on these values (the model would learn the bug)."
)


EVAL_BUG = (
    "The evaluation rows went through another preprocessing than the training rows: the held-out "
    "score measures that mismatch, not the model. Apply one fitted preprocessing (a Pipeline) to "
    "both sets and evaluate again."
)


def _unit_title(col: str, res: SkewResult, where: str) -> str:
    undo = "" if res.kind == "clipped" else f"; undoing it ({res.transform['undo']})"
    what = "batch" if where == "current" else "evaluation set"
    head = ("" if where == "current" else "In the evaluation set, ") + f"{col}: {res.description}{undo}"
    ev = res.transform.get("evidence")
    if res.kind == "recoded" and ev:
        return (
            f"{head} makes the other columns relate to the codes as in training (misfit of the per-code "
            f"means {ev['misfit_identity']:.0f} -> {ev['misfit_mapped']:.0f}; by chance up to "
            f"{ev['null_misfit_q99']:.0f}, p = {ev['p_value']:.4f}) and keeps the codes' shares "
            f"(PSI {res.psi_before:.2f} -> {res.psi_after:.3f})"
        )
    if res.transform.get("on_training_values"):  # identified by the values (stats/skew_maps.py)
        return (
            f"{head} puts the {what} back on the values training recorded (PSI {res.psi_before:.2f} -> "
            f"{res.psi_after:.3f}: the values, not the distribution, identify the unit)"
        )
    return f"{head} brings the {what} back to the training distribution (PSI {res.psi_before:.2f} -> {res.psi_after:.3f})"


def _unit_finding(col: str, res: SkewResult, fd: FeatureDrift, where: str) -> Finding:
    return Finding(
        "pipeline.train_serving_skew",
        CRITICAL,
        _unit_title(col, res, where),
        columns=[col],
        evidence={"set": where, "inferred": res.to_dict(), "drift": fd.to_dict()},
        root_cause=(
            "the serving path computes this feature differently from the training "
            "pipeline (another unit, a scaling step applied twice or not at all, "
            "another default for missing values)"
            if where == "current"
            else "the evaluation rows were preprocessed differently from the training rows "
            "(another unit, a scaler or encoder fitted or applied on one set only)"
        ),
        fix=f"{res.fix}. {PIPELINE_BUG if where == 'current' else EVAL_BUG}",
        impact=1.0,
    )


def _text_finding(col: str, res: TextSkew, fd: FeatureDrift, where: str) -> Finding:
    what = "batch" if where == "current" else "evaluation-set"
    return Finding(
        "pipeline.train_serving_skew",
        CRITICAL,
        f"{col}: {res.share:.0%} of {what} values are training categories written "
        f"differently (case or spaces), e.g. "
        + ", ".join(f"{k!r} -> {v!r}" for k, v in list(res.mapping.items())[:3]),
        columns=[col],
        evidence={"set": where, "inferred": res.to_dict(), "drift": fd.to_dict()},
        root_cause="the serving path normalises text differently from training (case, "
        "whitespace), so the encoder sees unknown categories",
        fix=f"apply the training normalisation to {col} in serving (same case and trimming). "
        + (PIPELINE_BUG if where == "current" else EVAL_BUG),
        impact=1.0,
    )


@check(
    "pipeline.train_serving_skew",
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
    """A feature computed differently in serving (or in the evaluation set) than in training: the
    batch matches training after undoing it.

    What it detects
        On the production batch and on the evaluation set, each against training: for every
        feature that drifts strongly (PSI >= skew_min_psi, 0.25), transformations that a broken
        pipeline typically applies are tried: a unit change by a power of ten (x10 ... x1e6 and
        the inverses), any other scale or affine map a * x + b (minutes for hours, months for
        years, Fahrenheit for Celsius; fitted by matching 19 quantiles, accepted only when the map
        differs from the identity beyond its bootstrap spread and the set's central 90% lies
        outside training's, or, for a factor of 2 or more, its values left training's grid (whole
        numbers, repeated values), or training piles its rows against an end of its range beyond
        chance and the map carries that pile outside training's range (a -10..10 score sent on
        its 0..20 form: a population crowds against a bound, it does not move it): a smaller
        shape-preserving move is population drift, and so is a map with both coefficients fitted
        whose column the other features (those no transformation explains) already account for: a
        least-squares line of the column on them, fitted on training, predicts the set's values
        better than the map of those predictions does and closer (root mean squared error) than
        the gap between the two sets' central 90%, which a serving map leaving the other columns
        intact cannot do (the economy ten years later, the same pigs weeks later:
        stats/skew_relation.py); a scale by 2 or more that puts a set which
        arrived off training's recorded values back on them, 90% of its rows and 5 distinct
        values exactly, is accepted on that evidence alone, whatever PSI is left: on a column of
        few clustered values, the fathers of a few dozen families, sets of other families sit
        apart by nature and no distribution test can confirm a unit), values already
        standardised or min-max scaled, a logarithm, values clipped at a bound, integer codes of a
        categorical feature in another order (only when, under the inferred map, the other columns
        and the label relate to the codes as in training and under the identity they do not,
        beyond a parametric bootstrap null that allows any change of the codes' shares, p <= 0.001
        or 1% shared among the integer-coded columns, stats/skew_recode.py: a permutation that
        matches the shares better exists for any shifted population, so the shares alone are no
        evidence; integer-coded columns are examined even without drift, as a permutation of
        near-equal shares leaves them as they were), a changed default for missing values (another fill
        value, or NaN where training filled), a default written for a missing input (a value no
        training row holds, off training's recorded values or training's mean, holding 1% or more
        of the set, without which the rest matches training: stats/skew_maps.py), two numeric
        columns exchanged (each matches the other's training distribution: stats/skew_pairs.py),
        any of these in the rows of one level of a categorical feature only while every other row
        matches training (one source's feed in another unit: stats/skew_groups.py), and there
        also an affine map of slope != 1 that stays inside training's range when the level's
        quantiles lie on its line as closely as training's own resamples do, its slope is off 1
        by 1.25 or more beyond that bootstrap null and the other levels' slopes (p <= 1% over
        columns x levels), and no other column moved in the level's rows (a source whose
        population changed moves them too: stats/skew_units.py);
        and for categorical features, categories written differently (case, spaces) or sent as
        integer codes. A feature is reported when undoing
        one of them brings its PSI under skew_max_psi_after (0.05), or under what sampling allows
        on a small set (the 99th percentile of the PSI between two samples of these sizes from one
        distribution, about (1/n + 1/m) chi2(bins - 1)), and to at most a fifth of its PSI: the
        inferred transformation is the root cause, not a population change. On a production
        batch a named transformation (nothing fitted: a power of ten, standardised, ...) may
        also leave as much PSI as the evaluation set itself has against training, plus that
        limit: sets of other entities (a grouped split) sit apart by nature, and a batch undone
        to the evaluation set's distance is the unit change (a fare sent in guilders instead of
        cents: 0.38 after undoing, the evaluation set 0.57; on the 116 production scenarios of
        seven sets nothing else changed). On the evaluation
        set it explains a held-out score that collapses (model.overfit defers to it).
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
    out: list[Finding] = []
    sets = []
    if ctx.case.has_evaluation and ctx.case.reference is None:
        sets.append(("test", ctx.evaluation_shift()))
    if ctx.has("current") or ctx.case.current_profile is not None:
        sets.append(("current", ctx.production()))
    if not sets:
        raise NotApplicable("neither an evaluation set nor a production batch to compare with training")
    for where, inp in sets:
        for col, res in inp.skews(p).items():
            fd = inp.report.features[col]
            out.append(
                _unit_finding(col, res, fd, where)
                if isinstance(res, SkewResult)
                else _text_finding(col, res, fd, where)
            )
    return out
