"""The targets of twin rows as a second witness for `data.duplicates` and `data.train_test_overlap`.

A copy carries its label; distinct observations that share a feature vector (coarse features, the
same entity observed several times) draw their targets from p(y | x). `stats.twin_labels` measures
the share c of twin rows whose targets agree beyond chance; here it decides between the two.

The null of natural repeats: rows that share their feature vector are distinct observations of
it (other people with the same coarse answers, or the same person, store or device observed
again), whose targets agree beyond p(y | x) only through what the features miss about the entity
(a person who sees a doctor one year tends to the next): c is that persistence, well below 1.
A copy is a row whose label always equals its original's: c = 1 for it. So the twins are natural
repeats when the labels bound c below `label_max_share` (at most half the twin rows can carry a
copied label): randhie person-years 0.13-0.31 (upper ends up to 0.45), Cracker store-weeks -0.2,
generated entities with fresh draws up to 0.3; every planted copy case of the suites and the
public benchmark 0.65 or more (30% copies among randhie's natural repeats 0.66 [0.53, 0.78]).
The twin counts alone cannot make this call: the same entity observed again agrees on every
feature, which the near twins that give their chance rate cannot foresee, and a persisting
outcome makes its label agree too (randhie's twin pairs run 1.15 to 1.35 times the chance rate on
every clean split). What this gives up, and says in the finding: copies diluted among many
natural repeats (a few percent of rows where most rows repeat anyway) raise c as an entity's
persistence does, and the labels cannot tell the two apart; the finding gives the most copies the
labels allow. Where the labels cannot judge (fewer than `min_label_groups` feature vectors with
twins, or labels so predictable that c's interval reaches `label_max_share`), the twin counts
decide.

Where the labels' bound reaches `label_max_share`, a second null: under a random split the twins
across the split agree in their targets as the twins within training do (an entity's rows and a
feature vector's draws land on both sides alike, so persistence raises both agreements), while
copies made on one side raise that side's only (`agree_as_elsewhere`: one-sided test of the
difference at `alpha`; not when the other side agrees as copies do, from `label_copy_level`
0.65, the lowest planted copy case, since copies made before the split raise both). randhie
person-years with a rare outcome (5% and 8%): within 0.71 [0.50, 0.92] and 0.51 [0.29, 0.71],
across 0.57 [0.29, 0.86] and 0.63 [0.40, 0.82], no difference; 30% of evaluation rows re-pulled
from training on randhie: across 0.70 [0.61, 0.80] against 0.23 within; an evaluation set that is
the training file (aids): 0.97 against -0.11.

The agreement is weighed per feature vector by what it can say about copies
(`stats.twin_labels._group_copies`, random effects): in a big group of natural repeats (a
store-week's prices seen by 200 households) a copy moves one twin pair in 20,000 while the
group's own label mix departs from the model's p(y | x) by far more, so such groups weigh
little; before, every group weighed alike and the ketchup panel's bound was 0.94 (now 0.37).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import INFO, Finding
from ...registry import Interval, Param, Params
from ...stats.rows import record_columns, row_hashes
from ...stats.twin_labels import LabelAgreement, TwinRates, collision_chance, label_agreement, twin_rates

if TYPE_CHECKING:
    from ...context import Context
    from ...stats.rows import CopyFit


def label_params() -> dict[str, Any]:
    return dict(
        label_max_share=Param(
            0.5,
            Interval(float, 0, 1),
            "upper bound of the share of twin rows whose targets agree beyond chance below which "
            "the twins are natural repeats (at most half of them can carry a copied label; the "
            "null: distinct observations whose targets agree only through an entity's persisting "
            "outcome): copies give 0.65 to 1 and more (every planted case of the suites and the "
            "public benchmark, 30% copies among randhie's natural repeats: 0.66 [0.53, 0.78]); "
            "natural repeats -0.2 to 0.31 (randhie person-years 0.13-0.31, upper ends up to 0.45; "
            "cracker store-weeks -0.2; generated entities with fresh draws up to 0.3)",
        ),
        label_copy_level=Param(
            0.65,
            Interval(float, 0, 1),
            "share of twin rows agreeing beyond chance from which the twins of the other side of the "
            "split agree as copies do, so that agreeing alike is no sign of natural repeats (copies "
            "made before the split): every planted copy case 0.65 or more",
        ),
        min_label_groups=Param(
            10, Interval(int, 2, None), "fewest feature vectors with twins for the labels to be judged"
        ),
    )


def record_extra(ctx: Context) -> list[str]:
    """The record's other columns that copies repeat too (`stats.rows.record_columns`): those of
    both files beside the model's features, the target, the group and time columns and the
    model's outputs."""
    c = ctx.case

    def compute() -> list[str]:
        te = ctx.frame("test") if c.test is not None else ctx.frame("train").iloc[:0]
        ident = c.features + ctx.role_columns() + [c.target]
        return record_columns(ctx.frame("train"), te, ident, skip=c.prediction_columns)

    return ctx.cached("record_columns", compute)


def record_hashes(ctx: Context, which: str, with_target: bool = True) -> np.ndarray:
    """A row's identity as a record, the one the duplicate and overlap checks count copies by: the
    model's features, the target, the group and time columns, and the record's other columns
    (`record_extra`): a copy repeats all of them; a row equal to another in the model's columns
    only is another record."""
    c = ctx.case
    cols = c.features + ctx.role_columns() + record_extra(ctx) + ([c.target] if with_target else [])
    return ctx.cached(f"record_hash:{which}:{with_target}", lambda: row_hashes(ctx.frame(which), cols))


def label_test(ctx: Context, which: str) -> LabelAgreement:
    """The target agreement of the twins by features (`stats.twin_labels.label_agreement`): within
    training (which="train") or evaluation rows against training rows (which="test"). Twins are
    equal records but for the target (`record_hashes`), the rows the copy counts judge."""

    def chance() -> np.ndarray:
        h = record_hashes(ctx, "train", with_target=False)
        return collision_chance(ctx.encoded("train"), ctx.y("train"), h, ctx.case.task, seed=ctx.config.seed)

    def compute() -> LabelAgreement:
        q = ctx.cached("twin_label_chance", chance)
        htr = record_hashes(ctx, "train", with_target=False)
        if which == "train":
            return label_agreement(htr, ctx.y("train"), q, seed=ctx.config.seed)
        hte = record_hashes(ctx, "test", with_target=False)
        return label_agreement(htr, ctx.y("train"), q, hte, ctx.y("test"), seed=ctx.config.seed)

    return ctx.cached(f"twin_labels:{which}", compute)


def labels_allow(la: LabelAgreement, which: str) -> float:
    """The most copies the labels allow (95%): within a set a copy and its original both gain an
    agreeing twin, so two judged rows per copy."""
    return max(la.copy_high, 0.0) * la.rows / (2.0 if which == "train" else 1.0)


def agree_as_elsewhere(ctx: Context, which: str, la: LabelAgreement, p: Params) -> bool:
    """Whether the twins of `which` agree in their targets no more than the twins of the other
    comparison do (within training against between training and evaluation, or the reverse):
    the two-sample null of natural repeats under a random split, which scatters an entity's rows
    and a feature vector's draws alike over both sides, so an outcome that persists raises both
    agreements alike, where copies made on one side (a join that fans out in training, rows
    re-pulled into the evaluation set) raise that side's only. Not where the other side agrees
    as copies do (its lower bound at `label_copy_level`: copies made before the split raise
    both), nor with fewer than `min_label_groups` feature vectors with twins there. The
    difference is tested one-sided at `alpha` on the two bootstrap standard errors."""
    from scipy import stats as st

    ref = label_test(ctx, "test" if which == "train" else "train")
    if ref.groups < p.min_label_groups or ref.copy_low >= p.label_copy_level:
        return False
    se = np.hypot(la.copy_high - la.copy_low, ref.copy_high - ref.copy_low) / (2 * 1.96)
    diff = la.copy_share - ref.copy_share
    pval = float(st.norm.sf(diff / se)) if se > 0 else (1.0 if diff <= 0 else 0.0)
    return pval >= p.alpha and rate_test(ctx).p_value(which) >= p.alpha


def rates_say_copies(ctx: Context, which: str, p: Params) -> tuple[str, dict[str, Any]]:
    """The words and evidence of a warning that the twin rates decided (the labels agree as the
    other side's do, but `which`'s rows have twins more often than a random split allows), or
    nothing."""
    la = label_test(ctx, which)
    if la.groups < p.min_label_groups or la.copy_high < p.label_max_share:
        return "", {}
    ref = label_test(ctx, "test" if which == "train" else "train")
    if ref.groups < p.min_label_groups or ref.copy_low >= p.label_copy_level:
        return "", {}
    r = rate_test(ctx)
    if r.p_value(which) >= p.alpha:
        return "", {}
    return (
        f"; not natural repeats: {r.within:.0%} of training rows have a twin in training against "
        f"{r.across:.0%} of evaluation rows, where a random split makes the two alike (z = {r.z:.1f}): "
        f"the copies were made on the {'training' if which == 'train' else 'evaluation'} side",
        r.as_dict(),
    )


def rate_test(ctx: Context) -> TwinRates:
    """The twin rates on both sides of the split (`stats.twin_labels.twin_rates`), on the hashes
    the label test uses: the second witness of the same random-split null as `agree_as_elsewhere`.
    Copies made on one side make its rows twins more often than the other side's, where natural
    repeats land on both sides alike (HOLDOUT6 clinic: 20% copies appended to a table whose
    symptom-flag vectors repeat naturally; within training 42% of rows have a twin against 7% of
    evaluation rows, while the few cross-split twins leave their label agreement's interval
    too wide to differ)."""

    def compute() -> TwinRates:
        return twin_rates(
            record_hashes(ctx, "train", with_target=False),
            record_hashes(ctx, "test", with_target=False),
            seed=ctx.config.seed,
        )

    return ctx.cached("twin_rates", compute)


def natural_repeats(ctx: Context, which: str, f: CopyFit, p: Params, versus: str, ev: dict) -> Finding | None:
    """An info finding when the twins' labels say they are natural repeats: the upper bound of
    the share of twin rows that carry a copied label is below `label_max_share` (see the module
    doc for the null). None when the labels cannot tell (few twin groups, labels so predictable
    that the interval reaches it) or point to copies: the twin counts decide."""
    la = label_test(ctx, which)
    if la.groups < p.min_label_groups:
        return None
    alike = la.copy_high >= p.label_max_share
    if alike and not agree_as_elsewhere(ctx, which, la, p):
        return None
    allowed = labels_allow(la, which)
    code = "data.duplicates" if which == "train" else "data.train_test_overlap"
    share = la.rows / f.rows if f.rows else 0.0
    other = "across the split" if which == "train" else "within training"
    agree = (
        f"targets more alike than chance (beyond chance in {la.copy_share:.0%} of them, 95% CI "
        f"{la.copy_low:.0%} to {la.copy_high:.0%}: {la.observed:.1%} of twin pairs agree where "
        f"p(y|x) gives {la.expected:.1%}), far from the agreement of copies"
        if la.p_value < p.alpha
        else f"targets no more alike than chance ({la.observed:.1%} of twin pairs agree where p(y|x) "
        f"gives {la.expected:.1%}; beyond chance in {la.copy_share:.0%}, 95% CI {la.copy_low:.0%} to "
        f"{la.copy_high:.0%})"
    ) + (
        f", as alike as the twins {other} (a persisting outcome; copies on one side raise its own)"
        if alike
        else ""
    )
    return Finding(
        code,
        INFO,
        f"{versus}, but these are natural repeats, not copies: {share:.0%} of the rows share their "
        f"feature vector with another row, with {agree}; a copy carries its label, so the labels "
        f"allow at most {allowed:,.0f} copies where the twin counts claimed {f.copy_share * f.rows:,.0f}"
        + (
            ""
            if allowed < f.copy_low * f.rows
            else " (a few copies among natural repeats would agree as an entity's persisting outcome does: "
            "the labels cannot tell them apart)"
        )
        + ". Coarse features or the same entity several times; if rows are the same entities, pass "
        "--group-column",
        evidence=ev
        | la.as_dict()
        | (rate_test(ctx).as_dict() if alike else {})
        | {"copies_labels_allow_at_most": allowed},
        impact=share,
        root_cause="repeated observations of the same configuration or entity (a person over years, "
        "a store-week seen by every household): their targets are drawn afresh",
        fix="if the repeats are the same entity, split and cross-validate by entity (--group-column); "
        "otherwise nothing to do",
    )
