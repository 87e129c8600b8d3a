"""Rung 1, data: rows that are copies, within the training set or across the split.

Both checks compare rows as whole records (`repeats.record_hashes`: the model's columns and the
record's other columns, backed by `stats.rows`) and judge the share of copies among the rows that
should be unique, since real data repeats its common, coarse rows naturally; near copies are
judged on the model's columns (`ctx.row_hashes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, INFO, WARNING, Finding
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.rows import (
    ChanceTwins,
    CopyFit,
    TwinModel,
    chance_twins,
    coarsen,
    code_hashes,
    column_codes,
    copies_beyond_chance,
    copy_evidence,
    fit_copies,
    pair_evidence,
    pairs_per_copy_of,
    twin_model,
)
from .repeats import label_params, label_test, natural_repeats, rates_say_copies, record_extra, record_hashes

if TYPE_CHECKING:
    from ...context import Context


from .rows_line import _near_params, line_column, line_fit, near_words, readings, space_fit
from .rows_seen import _hits, _near_finding, seen_vs_unseen  # noqa: F401


def identity_hashes(ctx: Context, which: str, with_target: bool = True) -> np.ndarray:
    """A row's identity in the model's columns: model features, target, and the group and time
    columns (near copies are judged on these; exact copies on the whole record,
    `repeats.record_hashes`)."""
    return ctx.row_hashes(which, with_target=with_target, roles=True)


def other_records(ctx: Context, which: str, k: int) -> str:
    """How many rows of `which` equal a training row in the model's columns but not as records,
    for a message: '' when none or when the record has no other columns."""
    extra = record_extra(ctx)
    h = identity_hashes(ctx, which)
    if which == "train":
        m = int(pd.Series(h).duplicated().sum())
    else:
        m = int(np.isin(h, identity_hashes(ctx, "train")).sum())
    if not extra or m <= k:
        return ""
    n = len(h)
    return (
        f" ({m:,} of {n:,}, {m / n:.1%}, in the model's columns; {m - k:,} of them differ in "
        f"{', '.join(extra[:4])}{' ...' if len(extra) > 4 else ''}: other records, not copies)"
    )


def copy_fit(ctx: Context, which: str) -> tuple[CopyFit, ChanceTwins]:
    """Copies among the twins of a set's rows (test: a twin in training; train: an earlier
    training row), from the twin pairs beyond those chance gives (`stats.rows.chance_twins`: the
    rate is read off the pairs that differ in one or two columns, which copies cannot create) by
    `stats.rows.copies_beyond_chance`. Rows are compared as whole records (`repeats.record_hashes`:
    the model's columns and the record's other columns, which a copy repeats too)."""

    def compute() -> tuple[CopyFit, ChanceTwins]:
        c = ctx.case
        cols = c.features + ctx.role_columns() + record_extra(ctx) + [c.target]
        ctr, cte = column_codes([ctx.frame("train"), ctx.frame("test")], cols)
        htr = record_hashes(ctx, "train")
        ct_tr = ctx.cached("chance_twins:train", lambda: chance_twins(ctr, seed=ctx.config.seed))
        # a copy of a training row adds a pair with each of its natural twins in training
        per = pairs_per_copy_of(ct_tr.expected, len(htr))
        if which == "test":
            twin = np.isin(record_hashes(ctx, "test"), htr)
            ct = chance_twins(ctr, cte, seed=ctx.config.seed)
            return copies_beyond_chance(ct, int(twin.sum()), len(twin), per), ct
        dup = int(pd.Series(htr).duplicated().sum())
        return copies_beyond_chance(ct_tr, dup, len(htr), per), ct_tr

    return ctx.cached(f"copies:{which}", compute)


def near_copy_fit(
    ctx: Context, max_scale: float, bins: int, which: str = "train"
) -> tuple[CopyFit, np.ndarray]:
    """Near copies among the rows that are not exact twins (those are `copy_fit`'s), on the rows
    coarsened (`stats.rows.coarsen`: continuous columns in `bins` quantile bins of training):
    re-rounded, jittered or slightly re-scaled readings of the same record become exact copies
    there. `which` "train": a training row against the earlier training rows; "test": an
    evaluation row against every training row. Judged by their density (`stats.rows.fit_copies`)
    against a chance-twin model learned on the coarsened unique rows of both sets
    (`stats.rows.TwinModel`): a near copy differs from its original in the columns whose bin edge
    it crossed, so the near twins of `copy_fit`'s chance rate would count the near copies
    themselves as chance."""

    def compute() -> tuple[CopyFit, np.ndarray]:
        ctr, cte, htr, hte, model, rest = _near_base(ctx, bins)
        n_ref = int(pd.Series(htr).nunique())
        if which == "test":
            # rows not exact twins of training rows (`copy_fit`'s): a twin's binned row is its original's
            lam = n_ref * np.exp(model.log_chance(cte[rest])) * model.dependence
            twin = np.isin(hte[rest], htr)
            seen = np.zeros(len(rest), bool)
            seen[np.flatnonzero(rest)[twin]] = True
            return fit_copies(lam, twin, max_scale=max_scale), seen
        lam = 0.5 * max(n_ref - 1, 0) * np.exp(model.log_chance(ctr)) * model.dependence
        twin = pd.Series(htr).duplicated().to_numpy()
        return fit_copies(lam, twin, max_scale=max_scale), twin

    return ctx.cached(f"near_copies:{which}:{bins}", compute)


def _near_base(
    ctx: Context, bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, TwinModel, np.ndarray]:
    """What both near-copy fits share, once per resolution: codes and hashes of the binned unique
    training rows and evaluation rows, their chance-twin model, the evaluation rows that are not
    exact twins of a training row."""

    def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, TwinModel, np.ndarray]:
        c = ctx.case
        cols = c.features + ctx.role_columns() + [c.target]
        # the target stays exact: binning a continuous target would turn neighbours in price into
        # twins the chance model under-counts (clean computers: 12% false copies); so does the
        # group (query, session) column: an id, whose neighbours in number are other sessions
        exact = [x for x in (c.target, c.group_column) if x]
        h_tr = identity_hashes(ctx, "train")
        fresh = ~pd.Series(h_tr).duplicated().to_numpy()
        tr = ctx.frame("train")[fresh].reset_index(drop=True)
        te = ctx.frame("test").reset_index(drop=True)
        rest = ~np.isin(identity_hashes(ctx, "test"), h_tr)
        a, b = coarsen([tr, te], [x for x in cols if x not in exact], bins)
        for x in exact:
            a[x], b[x] = tr[x].to_numpy(), te[x].to_numpy()
        ctr, cte = column_codes([a, b], cols)
        # codes are shared across the sets, so equal code rows are equal rows
        htr, hte = code_hashes(ctr), code_hashes(cte)
        first = ~pd.Series(np.concatenate([htr, hte])).duplicated().to_numpy()
        model = twin_model(np.vstack([ctr, cte])[first], seed=ctx.config.seed)
        return ctr, cte, htr, hte, model, rest

    return ctx.cached(f"near_base:{bins}", compute)


def near_judged(ctx: Context, p: Params, which: str, tests: int) -> tuple[CopyFit, np.ndarray, bool, int]:
    """The near-copy fit of `which` at two resolutions (`near_bins` and 2/5 of it: fewer bins
    keep jittered copies together on small data, more keep natural rows apart on large data),
    the most significant of those judgeable (chance alone gives at most `near_max_coarse` of the
    rows a binned twin) with its rows that have a near twin, whether it is an alarm with `tests`
    other tests of the check (Bonferroni), and the number of near-copy tests."""
    col = line_column(ctx, int(p.near_bins))
    if col is not None:  # one continuous reading: the neighbour-ratio null (`rows_line`)
        f, seen = line_fit(ctx, p, which, col)
        return f, seen, bool(f.rows) and copies_judged(f, p, tests + 1), 1
    if len(readings(ctx, int(p.near_bins))) > 1:  # several: the neighbour gaps (`stats.near_space`)
        f, seen = space_fit(ctx, p, which)
        return f, seen, bool(f.rows) and copies_judged(f, p, tests + 1), 1
    grid = sorted({int(p.near_bins), max(2, int(p.near_bins) * 2 // 5)})
    fits = [near_copy_fit(ctx, p.max_scale, b, which) for b in grid]
    judgeable = [fm for fm in fits if fm[0].rows and fm[0].chance_most / fm[0].rows <= p.near_max_coarse]
    near, seen = min(judgeable or fits, key=lambda fm: fm[0].p_value)
    alarm = bool(judgeable) and copies_judged(near, p, tests + len(grid), p.coarse_bias)
    return near, seen, alarm, len(grid)


def copies_judged(f: CopyFit, p: Params, tests: int = 1, coarse_bias: float = 0.0) -> bool:
    """Copies beyond chance: the share of copies is at least `warn_share`, at least `min_count`
    copies, the test of no copies is significant at `alpha` / `tests` (Bonferroni over the tests
    of the check), and the copy share's lower bound clears `coarse_bias` times the share of rows
    that chance alone could give a twin (near copies: their density model's bias on coarse data)."""
    coarse = f.chance_most / f.rows if f.rows else 0.0
    return bool(
        f.copy_share >= p.warn_share
        and f.copy_low >= coarse_bias * coarse
        and f.copy_share * f.rows >= p.min_count
        and f.p_value < p.alpha / max(tests, 1)
    )


def _copy_params(warn_share: float, min_count: int) -> dict[str, Any]:
    return dict(
        warn_share=Param(
            warn_share,
            Interval(float, 0, 1, closed="right"),
            "estimated share of the rows that are copies (beyond chance) from which to warn",
        ),
        min_count=Param(min_count, Interval(int, 1, None), "fewest estimated copies for a warning"),
        alpha=Param(
            0.001,
            Interval(float, 0, 1, closed="neither"),
            "significance of the test of no copies (Bonferroni over the tests of the check)",
        ),
        **label_params(),
    )


# ---------------------------------------------------------------------------- duplicates


@check(
    "data.duplicates",
    **_copy_params(0.03, 5),
    **_near_params(),
)
def duplicates(ctx: Context, p: Params) -> Findings:
    """Duplicate rows inside the training set that are copies, not coincidences.

    What it detects
        Training rows that repeat an earlier training row exactly as a record: the features, the
        target, the group and time columns, and the other columns that both files hold
        (`stats.rows.record_columns`: a household or person id, a date), since a copy repeats the
        whole record, while rows equal in the model's columns only are other records (another
        household at the same shelf prices). Left out, since they could hide copies: a row key
        (unique in either file: numbered afresh per file or per copy) and a column whose
        evaluation values never occur in training unless it names entities (an export stamp).
        Measured: the canned-tuna scanner panel (354 shelf-price vectors in 13,705 purchases)
        repeats 5,149 of 5,673 training rows in the model's columns, 326 as records (a household
        buying the same brand again at the same prices), 0.79 times the chance pairs, where the
        model's columns alone gave 2.24 times and "60% copies"; cracker, catsup, ketchup and
        medicare panels 1.06-1.31 as records (none significant, 1.49-2.97 in the model's
        columns); 20% copies planted in the AIDS table, missed in the model's columns (1.08
        times chance among 1,971 natural repeats), are 498 record twins at 39.6 times chance.
        Real data repeats its common, coarse rows by chance, and its columns and
        rows depend on each other (a session's listings share their month's configurations), so
        the twins are judged against the twin pairs expected by chance as read off the pairs of
        rows that differ, which copies cannot create (`stats.rows.chance_twins`): for two
        columns, among the pairs that agree on every other column, those that agree on one of
        the two only and those that agree on neither give the pairs that agree on both (odds
        ratio 1), pooled over pairs of columns (inverse-variance weights, central half); a
        delete-a-block jackknife over rows gives the interval of observed / expected pairs and
        the one-sided test. The pairs beyond chance are the copies (each adds a pair with every row
        equal to it: 1 where rows are unique, the mean group size of a random row, 1 + 2 x pairs /
        rows, where they repeat by nature; `stats.rows.copies_beyond_chance`: before, one pair per
        copy made the 61,081 twin pairs of a scanner panel's store-week prices, 1.49 times the
        near twins' rate, 20,000 copies, every twin row, and "chance explains 0.0"). A warning when the estimated copy share
        reaches `warn_share` (3%), there are at least `min_count` copies and the test of no
        copies is significant at `alpha` (Bonferroni over the three tests). Measured on the
        generalisation suite and the public benchmark (ratio observed / expected, p): on the 16
        clean splits the ratio's interval holds 1 or lies below it, the smallest p 0.05
        (computers sessions, 3.5% of rows repeating in their session: 149 pairs for 162
        expected, where the independent-columns model expected 16 and called 3.1% copies;
        coarse affairs: 1,095 for 1,074); every planted case p 1e-9 or less (150-row penguins
        oversampled: 56 pairs for 0.3; affairs with 20% duplicates: 2,904 for 1,701). Near copies
        (cleanlab's near_duplicate): among the training rows that are not exact twins, the rows
        with every continuous column cut in quantile bins (50 and 20 per column; the target and
        the group column stay exact), so that a record re-entered with re-rounded readings
        becomes a copy; judged by their density against a chance-twin model of the binned
        unique rows (`stats.rows.TwinModel`, `stats.rows.fit_copies`: a near copy differs from
        its original where it crossed a bin edge, so near twins would count it as chance), where
        chance alone gives at most `near_max_coarse` of the rows a binned twin, the near-copy
        share's lower bound clearing `coarse_bias` times that share; Bonferroni over the three
        tests. Where the model's columns hold one continuous reading (the others coarse: small
        integers, flags, categories), the density model fails: the same entity observed again
        (a dyad the next year, its reading drifted a little) is a binned twin it cannot foresee
        (HOLDOUT5 disputes' clean dyad-years: 137 of 2,187 rows where it expected 10.7, "5.8%
        near copies"). There the null needs no density (`stats.near_line`): among rows of the same
        other values, a row's distances to its nearest and second-nearest neighbours in the
        reading are the first two arrivals of a locally Poisson process, so their ratio is
        uniform by chance; a near copy sits far nearer its original than the next row. Rows with
        the ratio under `line_ratio` are t of the rows by chance, the excess the copies (two rows
        each); a floor, rows with fewer than two neighbours of the same other values are not
        judged. Measured on the 112 one-reading scenarios of the suites (default, holdout to
        holdout5, outside2; no public one): none fires; the most excess 2.1% of training rows
        (disputes dyad-years, p 5e-8, under `warn_share`), the eleven other disputes ones 0-1.4%.
        With several continuous readings the density model fails the same way wherever rows lie
        on a low-dimensional structure: a monthly series, whose neighbouring months share the
        bins of every slowly moving column (HOLDOUT6 economy, "7% near copies" across a clean
        random split), a firm or professor seen again a year later (HOLDOUT5), airports along a
        coast ("12%"). There the null is the same one in several dimensions
        (`stats.near_space`): every numeric column of more than two values is an axis in units
        of its robust spread (the regression target and the time column too), the other columns
        and the pattern of missing values must be equal; with r1 <= r2 <= r3 a row's distances to
        its nearest rows, a locally Poisson process of dimension d >= 1 gives r1 / r2 < t and
        (r2 / r3)^2 < t each with probability at most t, whatever the density, so at most
        1 - (1 - t)^2 of the rows have either by chance (t = `line_ratio`); one jittered copy
        makes the first small, an original with two copies the second, while a series'
        previous and next months are about equally near. Measured on 1,223 sides (training,
        evaluation) of 618 scenarios of every set (13 with a logged-score column left out): the
        near-copy plants only (default flights re-rounded copies: 34% of training rows, p 0;
        OUTSIDE2 fishing's two jittered copies per row: 21% of training and 23% of evaluation
        rows for 4% by chance, p 1e-95), every other
        side p 0.84 or more (at most 3.2% of its rows); silent on economy, airports, firms,
        profs and lake, where the density model warned.
        The twins' labels are a second witness (`checks/data/repeats.py`): a copy carries its
        label, a natural repeat of a feature vector draws its target from p(y | x); when the share
        of twin rows whose targets agree beyond chance is bounded below `label_max_share`, the
        finding is info (the null and what it gives up: `checks/data/repeats.py`; natural repeats:
        randhie person-years, Cracker store-weeks, where every planted copy case gives 0.65 or
        more).
    Why it matters
        Copies over-weight part of the data and leak across cross-validation folds: a row and its
        copy land in different folds, so the validation score is optimistic and model selection
        favours memorisation. They usually come from a join that fans out, a concatenation run
        twice, or oversampling done before the split.
    How to confirm
        `train.duplicated().mean()`; look at how many times the copies repeat and where they come
        from (which source, which date).
    Fix
        Drop the duplicates (`drop_duplicates()`) before splitting, or fix the join; if copies are
        intentional weights, pass sample weights and split by a group key instead.
    """
    h = record_hashes(ctx, "train")
    n = len(h)
    if n < 20:
        raise NotApplicable("fewer than 20 training rows")
    s = pd.Series(h)
    dup = s.duplicated().to_numpy()
    k = int(dup.sum())
    # near copies at two resolutions (finest `near_bins`): fewer bins keep jittered copies together
    # on small data, more bins keep natural rows apart on large data; Bonferroni over all tests.
    # At 8 bins the chance-twin model under-counts natural twins of strongly correlated columns
    # (penguins, cars: false copies), hence no coarser level.
    # near copies are identifiable only where independent binned rows rarely collide: above
    # `near_max_coarse` the chance-twin model (value shares of unique rows) under-counts them
    near, _, near_alarm, n_near = near_judged(ctx, p, "train", 1)
    if k == 0:
        return _near_finding(near, *near_words(ctx, p, "train")) if near_alarm else None
    f, ct = copy_fit(ctx, "train")
    counts = s.value_counts()
    groups = counts[counts > 1]
    hx = pd.Series(record_hashes(ctx, "train", with_target=False))
    conflict = int((pd.DataFrame({"h": hx, "y": h}).groupby("h")["y"].nunique() > 1).sum())
    ev = (
        copy_evidence(f)
        | pair_evidence(ct)
        | {
            "duplicate_rows": k,
            "share": k / n,
            "groups": int(len(groups)),
            "max_copies": int(groups.max()) if len(groups) else 1,
            "feature_duplicates": int(hx.duplicated().sum()),
            "feature_groups_with_conflicting_labels": conflict,
            "record_columns": record_extra(ctx),
            "duplicate_rows_in_model_columns": int(
                pd.Series(identity_hashes(ctx, "train")).duplicated().sum()
            ),
        }
    )
    versus = (
        f"{k:,} of {n:,} training rows ({k / n:.1%}) repeat an earlier row"
        + (" as whole records" if record_extra(ctx) else "")
        + other_records(ctx, "train", k)
        + f"; chance explains {f.chance_expected:.1f} (at most {f.chance_most:.1f})"
    )
    ev["near_copies"] = copy_evidence(near)
    if copies_judged(f, p, 1 + n_near):
        natural = natural_repeats(ctx, "train", f, p, versus, ev)
        if natural is not None:
            return _near_finding(near, *near_words(ctx, p, "train")) if near_alarm else natural
        ev |= label_test(ctx, "train").as_dict()
        why, rates = rates_say_copies(ctx, "train", p)
        return Finding(
            "data.duplicates",
            WARNING,
            f"{versus}: about {f.copy_share:.1%} of training rows are copies "
            f"(95% CI {f.copy_low:.1%} to {f.copy_high:.1%}, p = {f.p_value:.1g}){why}",
            evidence=ev | rates,
            impact=min(1.0, f.copy_share),
            root_cause="a join that fans out, data appended twice, or oversampling before the split",
            fix="drop duplicates before splitting (train.drop_duplicates()), or fix the upstream "
            "join; for deliberate weighting use sample weights and a grouped split",
        )
    if near_alarm:
        return _near_finding(near, *near_words(ctx, p, "train"))
    return Finding(
        "data.duplicates",
        INFO,
        f"{versus}: not more than chance explains ({ct.observed:,.0f} twin pairs where the rows that "
        f"differ in one or two columns predict {ct.expected:,.0f}; copy share {f.copy_share:.1%}, "
        f"95% CI {f.copy_low:.1%} to {f.copy_high:.1%})",
        evidence=ev,
        impact=k / n,
        root_cause="natural repeats of common rows, or a few copies",
        fix="check whether these are real repeated observations; drop them if they are copies",
    )


@check(
    "data.train_test_overlap",
    **_copy_params(0.02, 5),
    critical_share=Param(
        0.10,
        Interval(float, 0, 1, closed="right"),
        "estimated copy share from which the overlap is critical even without a measured inflation",
    ),
    entity_share=Param(
        0.05,
        Interval(float, 0, 1, closed="right"),
        "share of evaluation rows whose entity (group or id column) was seen in training from which "
        "to report it",
    ),
    min_gain=Param(
        0.02,
        Interval(float, 0, 1),
        "gain of the model on seen over unseen rows (accuracy points, or relative MAE) that matters",
    ),
    min_entities=Param(20, Interval(int, 2, None), "fewest distinct values for a column to be an entity id"),
    **_near_params(),
)
def train_test_overlap(ctx: Context, p: Params) -> Findings:
    """Rows, or entities, shared between the training and the evaluation set.

    What it detects
        Copies: evaluation rows equal to a training row as a record (features, target, group and
        time columns, and the record's other columns, as `data.duplicates` compares them: the
        tuna panel's split by household leaves 2,282 of 2,327 evaluation rows equal to a training
        row in the model's columns and none as a record; every planted overlap keeps its rows),
        judged as `data.duplicates` judges its twins: the twin pairs between the two
        sets against those expected by chance from the pairs that differ in one or two columns
        (`stats.rows.chance_twins`, which copies cannot inflate: oversampling before the split
        makes every row repeat, not the near twins), the excess pairs the copies. A warning when
        the estimated copy share reaches `warn_share`, at least `min_count` copies and the test
        of no copies is significant (Bonferroni over every test of the check); critical when the
        copies make the score better on them than on the other rows (one-sided test) or reach
        `critical_share`: the headline is inflated. Measured: clean splits of the suite and the
        public benchmark, smallest p 0.11 (coarse affairs: 990 pairs for 913 expected); planted
        overlaps p 3e-5 (150-row iris, 15% copies) to 0.
        Natural repeats (the same entity or a coarse feature vector on both sides, targets drawn
        afresh) are told from copies by the twins' labels as in `data.duplicates` and reported as
        info.
        Near copies (Lones 2021, augmentation before the split): when the exact copies are not
        beyond chance, the evaluation rows that are not exact twins are matched against the
        training rows with every continuous column in quantile bins of training (`near_bins` and
        2/5 of it), judged by their density against the chance-twin model of the binned unique
        rows of both sets, as `data.duplicates` judges near copies inside training (same
        parameters, Bonferroni over every test of the check); critical as above. The share is a
        floor (a copy whose jitter crosses a bin edge is missed): jitter of 1-2% of a column's sd
        on diabetes or breast cancer is found, 5% on 13 or 30 columns is not. Measured: on the
        36 public scenarios and the 268 of the generalisation suite (default, full and held-out,
        clean controls included) it fires only where evaluation rows are jittered or interpolated
        training rows: SMOTE before the split (seattle, 95 of 423 rows binned twins, with the
        interpolation finding) and two jittered copies per row before the split (outside2 fishing:
        96 of 909 for 0 expected, p 2e-46, where no row is an exact copy). With one continuous
        reading among the model's columns, the neighbour-ratio null of `data.duplicates` (an
        evaluation row's two nearest training rows of the same other values); with several, its
        nearest-neighbour gaps (`stats.near_space`: evaluation rows against training rows).
        Interpolated rows (classification, two or more numeric features): evaluation rows that
        lie exactly (to 1e-6 of the span) inside the segment between two of their 8 nearest
        training rows of their own class, in at least two coordinates, as SMOTE-like
        oversampling before the split makes them (`stats.interpolation`). The chance rate is
        label-blind: rows that line up with pairs involving another class measure how often
        this data's value grid lines up by coincidence; a binomial test of the same-class rows
        against that share, excess share from `warn_share` and `min_count` rows. Measured: the
        suite's 14 clean controls and the oversampled-copies kind give no excess (p 0.26 or
        more; coarse computers listings: 3 same-class vs 10 other-class rows); SMOTE before the
        split (kind leak_smote) gives 63 rows against 11 expected (fishing, p 4e-15) and 104
        against 0 (seattle, p 1e-32).
        Entities: a person, patient, user or device on both sides. With `--group-column` (for
        any task: the entity column, not only the ranking query), the share of evaluation rows
        whose entity appears in training is reported from `entity_share`, critical when the
        model scores better on seen entities than on unseen ones. Without it, columns the model
        does not take that look like entity ids (integer or text, at least `min_entities` values,
        repeated within training) are tried; the null is that the model does as well on rows of
        seen entities as on unseen ones, since it cannot see the id; when unseen evaluation rows
        are fewer than 4 x `min_count` or 10% of them (under a row split of a panel they are the
        entities with the fewest rows, a selected group, not a fair reference), the null is
        instead that cross-validating the training rows by row scores no better than by entity:
        a significant gain of at least `min_gain` is a warning. Measured on the generalisation
        suite's panels (kinds entity_overlap, leak_nonindependence): Males split by row, 93% of
        evaluation rows of seen respondents, the 41 unseen rows show no gain (p 0.45) while
        row-wise CV beats grouped CV by 5.5% of the MAE (p 0.0005).
    Why it matters
        A model is scored on rows (or people) it has memorised: the evaluation metric is
        optimistic by an amount that grows with the model's capacity, and comparisons between
        models reward memorisation. A held-out score above the grouped cross-validation score is
        the sign, not reassurance. It comes from splitting after augmentation or oversampling,
        from duplicates in the source, or from splitting rows rather than entities.
    How to confirm
        `test.merge(train, how='inner')`; `test[id].isin(train[id]).mean()`; compare the metric on
        the shared rows (seen entities) with the rest.
    Fix
        Deduplicate before splitting, split by entity (`GroupShuffleSplit` on the id) and rebuild
        the evaluation set from rows and entities the model never saw; re-evaluate.
    """
    from . import interpolated
    from .entities import entity_findings

    entity = entity_findings(ctx, p)
    interp = interpolated.applies(ctx)
    near, near_seen, near_alarm, n_near = near_judged(ctx, p, "test", 1 + entity.tests + int(interp))
    tests = 1 + entity.tests + int(interp) + n_near

    def blends() -> list[Finding]:
        f = interpolated.interpolation_finding(ctx, p, tests) if interp else None
        f_near = _near_overlap(ctx, p, near, near_seen, tests) if near_alarm else None
        return [x for x in (f, f_near) if x is not None]

    htr = record_hashes(ctx, "train")
    hte = record_hashes(ctx, "test")
    shared = np.isin(hte, htr)
    k = int(shared.sum())
    n = len(hte)
    if k == 0:
        note = other_records(ctx, "test", 0)
        if not note:
            return [*entity.findings, *blends()]
        # rows equal in the model's columns only: other records (another household, another date)
        return [
            *entity.findings,
            *blends(),
            Finding(
                "data.train_test_overlap",
                INFO,
                f"No evaluation row equals a training row as a whole record{note}",
                evidence={"test_rows": n, "shared_rows": 0, "record_columns": record_extra(ctx)},
                impact=0.0,
                root_cause="repeated values of the model's columns in distinct records",
                fix="nothing to do for copies; if the repeats are one entity seen again, split by it",
            ),
        ]
    f, ct = copy_fit(ctx, "test")
    ev = copy_evidence(f) | pair_evidence(ct) | {"test_rows": n, "shared_rows": k, "share": k / n}
    ev["record_columns"] = record_extra(ctx)
    versus = (
        f"{k:,} of {n:,} evaluation rows ({k / n:.1%}) equal a training row"
        + (" as whole records" if record_extra(ctx) else "")
        + other_records(ctx, "test", k)
        + f"; chance explains {f.chance_expected:.1f} (at most {f.chance_most:.1f})"
    )
    if not copies_judged(f, p, tests):
        return [
            *entity.findings,
            *blends(),
            Finding(
                "data.train_test_overlap",
                INFO,
                f"{versus}: not more than chance explains ({ct.observed:,.0f} twin pairs where the "
                f"rows that differ in one or two columns predict {ct.expected:,.0f}; copy share "
                f"{f.copy_share:.1%}, 95% CI {f.copy_low:.1%} to {f.copy_high:.1%})",
                evidence=ev,
                impact=k / n,
                root_cause="coincident common rows, or a few copies",
                fix="usually harmless at this share; deduplicate across the split if they are copies",
            ),
        ]
    natural = natural_repeats(ctx, "test", f, p, versus, ev)
    if natural is not None:
        return [*entity.findings, *blends(), natural]
    ev |= label_test(ctx, "test").as_dict()
    why, rates = rates_say_copies(ctx, "test", p)
    ev |= rates
    ev.update(seen_vs_unseen(ctx, shared))
    inflated = (
        ev.get("p_value_seen_better", 1.0) < p.alpha / tests and ev.get("score_gain_on_seen", 0) >= p.min_gain
    )
    sev = CRITICAL if inflated or f.copy_share >= p.critical_share else WARNING
    return [
        *entity.findings,
        Finding(
            "data.train_test_overlap",
            sev,
            f"{versus}: about {f.copy_share:.1%} of evaluation rows are copies of training rows "
            f"(95% CI {f.copy_low:.1%} to {f.copy_high:.1%}, p = {f.p_value:.1g}){why}",
            evidence=ev,
            impact=min(1.0, f.copy_share),
            root_cause="the evaluation set was drawn from a pool that includes training rows "
            "(duplicates before the split, augmentation or oversampling before splitting)",
            fix="deduplicate before splitting, split by entity, and re-evaluate on rows the model never saw",
        ),
    ]


def _near_overlap(ctx: Context, p: Params, f: CopyFit, seen: np.ndarray, tests: int) -> Finding:
    """Evaluation rows that are near copies of training rows (jittered, re-rounded), beyond the
    chance twins of the binned rows: critical when the model scores better on them or they reach
    `critical_share`."""
    lead, verb, floor = near_words(ctx, p, "test")
    ev = {"near_copies": copy_evidence(f)} | seen_vs_unseen(ctx, seen)
    inflated = (
        ev.get("p_value_seen_better", 1.0) < p.alpha / tests and ev.get("score_gain_on_seen", 0) >= p.min_gain
    )
    return Finding(
        "data.train_test_overlap",
        CRITICAL if inflated or f.copy_share >= p.critical_share else WARNING,
        f"Near copies across the split: {lead}, {f.twins:,} of {f.rows:,} evaluation rows {verb} where "
        f"chance explains {f.chance_expected:.1f} (at most {f.chance_most:.1f}): about {f.copy_share:.1%} "
        f"of evaluation rows are near copies of training rows (95% CI {f.copy_low:.1%} to "
        f"{f.copy_high:.1%}, p = {f.p_value:.1g}; a floor: {floor})",
        evidence=ev,
        impact=min(1.0, f.copy_share),
        root_cause="jittered or re-rounded versions of the same records on both sides of the split "
        "(augmentation or oversampling with noise before splitting, a source re-exported at another precision)",
        fix="split by original record (keep an id through augmentation and use GroupShuffleSplit on it), "
        "augment the training rows only, and re-evaluate on rows the model never saw",
    )
