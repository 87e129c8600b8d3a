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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import INFO, Finding
from ...registry import Interval, Param, Params
from ...stats.twin_labels import LabelAgreement, collision_chance, label_agreement

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
        min_label_groups=Param(
            10, Interval(int, 2, None), "fewest feature vectors with twins for the labels to be judged"
        ),
    )


def label_test(ctx: Context, which: str) -> LabelAgreement:
    """The target agreement of the twins by features (`stats.twin_labels.label_agreement`): within
    training (which="train") or evaluation rows against training rows (which="test")."""

    def chance() -> np.ndarray:
        h = ctx.row_hashes("train", with_target=False, roles=True)
        return collision_chance(ctx.encoded("train"), ctx.y("train"), h, ctx.case.task, seed=ctx.config.seed)

    def compute() -> LabelAgreement:
        q = ctx.cached("twin_label_chance", chance)
        htr = ctx.row_hashes("train", with_target=False, roles=True)
        if which == "train":
            return label_agreement(htr, ctx.y("train"), q, seed=ctx.config.seed)
        hte = ctx.row_hashes("test", with_target=False, roles=True)
        return label_agreement(htr, ctx.y("train"), q, hte, ctx.y("test"), seed=ctx.config.seed)

    return ctx.cached(f"twin_labels:{which}", compute)


def labels_allow(la: LabelAgreement, which: str) -> float:
    """The most copies the labels allow (95%): within a set a copy and its original both gain an
    agreeing twin, so two judged rows per copy."""
    return max(la.copy_high, 0.0) * la.rows / (2.0 if which == "train" else 1.0)


def natural_repeats(ctx: Context, which: str, f: CopyFit, p: Params, versus: str, ev: dict) -> Finding | None:
    """An info finding when the twins' labels say they are natural repeats: the upper bound of
    the share of twin rows that carry a copied label is below `label_max_share` (see the module
    doc for the null). None when the labels cannot tell (few twin groups, labels so predictable
    that the interval reaches it) or point to copies: the twin counts decide."""
    la = label_test(ctx, which)
    if la.groups < p.min_label_groups or la.copy_high >= p.label_max_share:
        return None
    allowed = labels_allow(la, which)
    code = "data.duplicates" if which == "train" else "data.train_test_overlap"
    share = la.rows / f.rows if f.rows else 0.0
    alike = (
        f"targets more alike than chance (beyond chance in {la.copy_share:.0%} of them, 95% CI "
        f"{la.copy_low:.0%} to {la.copy_high:.0%}: {la.observed:.1%} of twin pairs agree where "
        f"p(y|x) gives {la.expected:.1%}), far from the agreement of copies"
        if la.p_value < p.alpha
        else f"targets no more alike than chance ({la.observed:.1%} of twin pairs agree where p(y|x) "
        f"gives {la.expected:.1%}; beyond chance in {la.copy_share:.0%}, 95% CI {la.copy_low:.0%} to "
        f"{la.copy_high:.0%})"
    )
    return Finding(
        code,
        INFO,
        f"{versus}, but these are natural repeats, not copies: {share:.0%} of the rows share their "
        f"feature vector with another row, with {alike}; a copy carries its label, so the labels "
        f"allow at most {allowed:,.0f} copies where the twin counts claimed {f.copy_share * f.rows:,.0f}"
        + (
            ""
            if allowed < f.copy_low * f.rows
            else " (a few copies among natural repeats would agree as an entity's persisting outcome does: "
            "the labels cannot tell them apart)"
        )
        + ". Coarse features or the same entity several times; if rows are the same entities, pass "
        "--group-column",
        evidence=ev | la.as_dict() | {"copies_labels_allow_at_most": allowed},
        impact=share,
        root_cause="repeated observations of the same configuration or entity (a person over years, "
        "a store-week seen by every household): their targets are drawn afresh",
        fix="if the repeats are the same entity, split and cross-validate by entity (--group-column); "
        "otherwise nothing to do",
    )
