"""Whether a confirmed slice is a warning of errors.underperforming_slice, and its cause.

A slice whose error is significantly and substantially above the rest (the search's confirmation)
is judged against the error the model itself expects there (`stats.slices.expected`): where the
model is surprised (confidently wrong) it is a failure, a warning; where it knows it is uncertain
the region is hard, info, and irreducible with these features when training shows the same label
mix there and holds its share of the region's rows (an under-represented region is not called
irreducible: its few training rows say little about its label mix, and more rows may help). The
causes the evidence supports are named: a column the model does not take, the slice
under-represented in training, a label rate that differs inside it between training and
evaluation, the model doing worse than a constant on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...registry import Params
from ...stats.metrics import holm, wilson
from ...stats.slices import Slice, slice_mask
from ...stats.slices.expected import (
    by_entity_p,
    by_units,
    expected_abs_error,
    expected_error_binary,
    expected_error_rate,
    proportion_diff,
    rate_surprise,
    recalibrated_share,
    residual_surprise,
    share_bias,
)
from .common import baseline_error, entity_codes, is_positive, recording_days, skill

if TYPE_CHECKING:
    from ...context import Context


@dataclass
class Overall:
    """The model's error and skill on all evaluation rows, whether it works on aggregate, and what
    its own confidence says (classification: the margin of each decision; regression: residuals)."""

    kind: str  # "error rate" or "absolute error"
    raw: np.ndarray  # per-row error
    y: np.ndarray
    fin: np.ndarray  # rows with an error
    error: float
    skill: float
    works: bool
    auc: float | None
    auc_p: float = 1.0  # binary: one-sided p-value of the AUC against 0.5 (Hanley-McNeil)
    margin: np.ndarray | None = None  # classification: confidence of the decision (None: no scores)
    face: np.ndarray | None = (
        None  # with probabilities: the error they predict per row (1 - p of the decision)
    )
    pred: np.ndarray | None = None  # regression: the prediction
    score: np.ndarray | None = None  # binary: the score of the positive class
    decided: np.ndarray | None = None  # binary: the decision is the positive class
    resid: np.ndarray | None = None  # regression: y - prediction
    proba: np.ndarray | None = None  # multiclass: the class probabilities (columns: `classes`)
    classes: list[Any] | None = None
    days: np.ndarray | None = None  # the calendar day each row was recorded (`recording_days`)
    entities: list[tuple[str, np.ndarray]] = field(default_factory=list)  # `entity_codes`

    @property
    def total_error(self) -> float:
        return float(self.raw[self.fin].sum())


def overall(ctx: Context, e: dict[str, Any], p: Params) -> Overall:
    kind = e["kind"]
    raw, y = e["raw"], np.asarray(e["y"])
    fin = np.isfinite(raw)
    err = float(np.nanmean(raw)) if fin.any() else float("nan")
    skill_all = skill(err, baseline_error(y[fin], kind))
    works = bool(np.isfinite(skill_all) and skill_all >= p.min_skill_overall)
    auc_all, auc_p = binary_auc(ctx, y) if kind == "error rate" and not works else (None, 1.0)
    whole = Overall(kind, raw, y, fin, err, skill_all, works, auc_all, auc_p)
    if auc_all is not None and auc_all >= p.min_auc_overall and not collapsed(ctx, e, y, fin):
        whole.works = True
    pred = e["pred"]
    whole.days = recording_days(ctx)
    whole.entities = entity_codes(ctx)
    if kind == "error rate":
        whole.margin = _margin(ctx, pred)
        whole.face = _face_value(ctx, pred)
        if ctx.task == "binary" and whole.margin is not None:
            whole.score = np.asarray(pred.score, dtype=float)
            whole.decided = is_positive(ctx, pred.label)
        elif pred.has_proba and pred.proba is not None and pred.classes is not None:
            whole.proba = np.asarray(pred.proba, dtype=float)
            whole.classes = list(pred.classes)
    else:
        whole.pred = np.asarray(pred.score, dtype=float)
        whole.resid = np.asarray(y, dtype=float) - whole.pred
    return whole


def _margin(ctx: Context, pred: Any) -> np.ndarray | None:
    """How sure the model is of each decision: the distance of a binary score to the threshold in
    use, the probability of the predicted class (multiclass); None without scores."""
    try:
        if ctx.task == "binary":
            s = np.asarray(pred.score, dtype=float)
            return np.abs(s - ctx.threshold) if np.isfinite(s).any() else None
        if pred.has_proba and pred.proba is not None:
            return np.asarray(pred.proba, dtype=float).max(axis=1)
    except (TypeError, ValueError):
        return None
    return None


def _face_value(ctx: Context, pred: Any) -> np.ndarray | None:
    """The error each decision has by the model's own probabilities taken at face value: one
    minus the probability of the decided class; None without probabilities."""
    if not pred.has_proba:
        return None
    try:
        if ctx.task == "binary":
            s = np.asarray(pred.score, dtype=float)
            if not (np.nanmin(s) >= 0 and np.nanmax(s) <= 1):
                return None
            return np.where(s >= ctx.threshold, 1 - s, s)
        if pred.proba is not None and pred.classes is not None:
            P = np.asarray(pred.proba, dtype=float)
            col = {str(c): i for i, c in enumerate(pred.classes)}
            idx = np.array([col.get(str(v), -1) for v in np.asarray(pred.label, dtype=object)])
            out = 1 - P[np.arange(len(idx)), np.maximum(idx, 0)]
            return np.where(idx >= 0, out, np.nan)
    except (TypeError, ValueError):
        return None
    return None


def binary_auc(ctx: Context, y: np.ndarray) -> tuple[float | None, float]:
    """ROC AUC of a binary model's score on the evaluation rows and its one-sided p-value against
    0.5 (Hanley-McNeil standard error under the null); (None, 1.0) when not computable."""
    if ctx.case.task != "binary":
        return None, 1.0
    try:
        from scipy import stats

        from ...stats.metrics import auc_se, roc_auc

        score = np.asarray(ctx.predictions("test").score, dtype=float)
        pos = is_positive(ctx, y)
        ok = np.isfinite(score) & ~pd.isna(pd.Series(y)).to_numpy()
        if ok.sum() < 20 or pos[ok].all() or not pos[ok].any():
            return None, 1.0
        a = roc_auc(pos[ok], score[ok])
        n1 = int(pos[ok].sum())
        se0 = auc_se(0.5, n1, int(ok.sum()) - n1)
        pv = float(stats.norm.sf((a - 0.5) / se0)) if np.isfinite(se0) and se0 > 0 else 1.0
        return a, pv
    except (TypeError, ValueError, AttributeError):
        return None, 1.0


def collapsed(ctx: Context, e: dict[str, Any], y: np.ndarray, fin: np.ndarray) -> bool:
    """Whether a binary model's decisions sit (nearly) all on one class: its aggregate AUC does
    not make it a working classifier then (lower rungs explain its errors)."""
    pos_y = is_positive(ctx, y).astype(float)
    pos_pred = is_positive(ctx, e["pred"].label)
    prev, rate = float(pos_y[fin].mean()), float(pos_pred[fin].mean())
    return not (0.2 * prev <= rate <= 1 - 0.2 * (1 - prev))


@dataclass
class Judged:
    """A confirmed slice with its figures, whether the model is surprised there, the causes the
    evidence supports, and whether it is a warning."""

    slice: Slice
    rows: np.ndarray  # its rows that have an error
    err_in: float
    err_out: float
    skill_in: float
    skill_share: float  # skill inside over skill overall
    train_share: float | None
    surprise: dict[str, Any]
    surprised: bool = False
    strong: bool = False
    causes: list[dict[str, Any]] = field(default_factory=list)
    label_mix: dict[str, Any] | None = None
    irreducible: bool = False


def family_size(slices: list[Slice]) -> int:
    """How many slices the tests on the confirmation half must be corrected for: every candidate
    the search's confirmation tested, not only those it kept (it chose them on the same rows)."""
    return max([len(slices), *(int(getattr(s, "family", 1)) for s in slices)])


def judge_all(ctx: Context, slices: list[Slice], whole: Overall, p: Params) -> list[Judged]:
    """Every confirmed slice judged. The surprise tests share one Holm correction over every
    candidate the confirmation tested (those it dropped count as p = 1, which only makes the
    correction more conservative than Holm over all of them); the cause tests are Bonferroni
    corrected over the same family."""
    rows = [_measure(ctx, s, whole) for s in slices]
    fam = family_size(slices)
    pv = [r.surprise.get("p_value", 1.0) for r in rows]
    adj = holm(pv + [1.0] * (fam - len(rows)))[: len(rows)] if rows else np.zeros(0)
    for r, pa in zip(rows, adj):
        r.surprise["p_adjusted"] = float(pa)
        r.surprise["family"] = fam
        r.surprised = bool(pa < p.alpha and _substantial(r.surprise, whole, p))
        # a surprise by rows that the rows of a few days or entities carry (Bonferroni bound)
        by_rows = r.surprise.get("p_value_rows", 1.0) * fam < p.alpha and _substantial(r.surprise, whole, p)
        r.surprise["few_units"] = bool(by_rows and not r.surprised)
        r.causes, r.label_mix = causes(ctx, r, whole, p, p.alpha / fam)
        if whole.kind == "error rate":
            r.surprise["constant"] = against_constant(r, whole, p.alpha / fam)
            r.surprise["label_bias"] = label_bias(ctx, r, whole, p.alpha / fam, p.min_label_shift)
        # irreducible only where training saw the region: a slice under-represented there has
        # too few training rows to show the same label mix, and more rows may well help
        scarce = any(c["cause"] == "under-represented" for c in r.causes)
        reducible = bool(r.surprise.get("constant", {}).get("reducible", False))
        r.irreducible = bool(
            not r.surprised
            and not scarce
            and not reducible
            and r.label_mix is not None
            and not r.label_mix.get("differs", False)
        )
        works = _works(r, whole, p) or (_ranks(whole, p) and _known_cause(r, p))
        r.strong = bool(works and _lifted(r, whole, p) and _alarming(r, p))
    return rows


def _lifted(r: Judged, whole: Overall, p: Params) -> bool:
    """The effect size. Regression: the slice's mean absolute error at least `min_surprise` times
    the error the model's own predictive spread expects there (the absolute errors of the other
    rows at the same prediction level, on the confirmation half). Classification: the slice's
    error at least `min_lift` times the overall error, or, with a data cause established
    (under-represented in training, a label rate that differs), times the other rows' error (the
    slice's own errors not counted against it: a large slice with a known cause drags the
    overall error up). Without a cause the bar stays the overall error: on the generalisation
    suite, surprised slices with no cause reach 2x the rest (not 2x overall) in models that do
    not work (miscalibrated undersampling, out-of-distribution rows)."""
    known = any(c["cause"] in ("under-represented", "label rate differs") for c in r.causes)
    if whole.kind != "error rate":
        return bool(r.surprise.get("ratio", 0.0) >= p.min_surprise or (known and r.surprised))
    if r.slice.lift >= p.min_lift:
        return True
    return bool(known and lift_over_rest(r.slice) >= p.min_lift)


def lift_over_rest(s: Slice) -> float:
    """The slice's error over the other rows' (the search's error scale)."""
    return float(s.error / s.rest_error) if s.rest_error > 0 else float("inf")


def _alarming(r: Judged, p: Params) -> bool:
    """Surprised (confidently wrong), or erring significantly beyond its own confidence (the
    surprise test survives Holm, whatever the ratio) with a data cause established on evidence the
    search did not select: the slice is under-represented in training, or its label rate differs
    between training and the confirmation half. A real problem whose cause is known is a warning
    even where the model's scores are near the threshold; with neither, a model that knows it is
    uncertain stays info."""
    return bool(r.surprised or _known_cause(r, p))


def _known_cause(r: Judged, p: Params) -> bool:
    """A data cause no threshold produces (under-represented in training, a label rate that
    differs between training and the confirmation half) and errors that are not what the labels
    allow: significantly beyond the model's own confidence there (its surprise test survives
    Holm), or, classification, significantly more than a constant's on the confirmation half
    (`reducible`: the model is uncertain where the labels are not, so the errors are the model's;
    the paired test is Bonferroni-corrected over the family like the cause tests)."""
    known = any(c["cause"] in ("under-represented", "label rate differs") for c in r.causes)
    if not known:
        return False
    red = r.surprise.get("constant", {})
    bias = r.surprise.get("label_bias") or {}
    return bool(
        r.surprise.get("p_adjusted", 1.0) < p.alpha
        or red.get("reducible", False)
        or bias.get("biased", False)
    )


def against_constant(r: Judged, whole: Overall, alpha: float) -> dict[str, Any]:
    """The model against a constant on the slice's confirmation half (classification): the
    constant is the slice's most frequent label on its discovery half (chosen on rows the test
    does not use), the rows are paired (each row: the model wrong, the constant wrong), and the
    one-sided exact sign test on the discordant rows has the null "the model errs no more often
    than the constant there". `reducible`: p below `alpha` (the family's Bonferroni level). A
    region the model knows is uncertain is irreducible only where a constant cannot do better:
    where its labels are mostly one class that the model still misses, the errors are the
    model's (too few training rows there, or a rule it has not learned)."""
    s = r.slice
    half = s.confirm_rows if s.confirm_rows is not None else np.ones(len(s.mask), dtype=bool)
    conf = s.mask & whole.fin & half
    disc = s.mask & whole.fin & ~half
    if conf.sum() < 2:
        return {"rows": int(conf.sum()), "p_value": 1.0, "reducible": False}
    ys = pd.Series(whole.y).astype(str).to_numpy()
    pool = disc if disc.any() else conf
    top = pd.Series(ys[pool]).value_counts().index[0]
    model_wrong = whole.raw[conf] > 0.5
    const_wrong = ys[conf] != top
    b = int(np.sum(model_wrong & ~const_wrong))
    c = int(np.sum(~model_wrong & const_wrong))
    from scipy import stats

    pv = float(stats.binom.sf(b - 1, b + c, 0.5)) if b + c > 0 else 1.0
    # the rows of one entity count as one unit too (`by_entity_p`)
    units = [(name, codes[conf]) for name, codes in whole.entities]
    pv = max(pv, by_entity_p(model_wrong.astype(float) - const_wrong, units))
    return {
        "rows": int(conf.sum()),
        "constant": top,
        "model_error": float(model_wrong.mean()),
        "constant_error": float(const_wrong.mean()),
        "p_value": pv,
        "reducible": bool(pv < alpha),
    }


def label_bias(ctx: Context, r: Judged, whole: Overall, alpha: float, min_shift: float) -> dict[str, Any]:
    """The slice's class share against the share the model's probabilities predict there, on
    its confirmation half (classification; `stats.slices.expected.share_bias`): binary, the
    positive class; multiclass, the slice's most frequent class on its discovery half. The
    expectation is the closer of the probabilities at face value and recalibrated on the other
    rows (what a probability of that class means there). `biased`: the difference at least
    `min_shift` (the bar of a label rate that differs between training and evaluation) and
    significant at `alpha` (the family's Bonferroni level). A label rule that changed inside a
    slice shows in the model's outputs as this bias even where its scores sit near the
    threshold and its error is what that uncertainty predicts."""
    s = r.slice
    half = s.confirm_rows if s.confirm_rows is not None else np.ones(len(s.mask), dtype=bool)
    conf, rest = s.mask & whole.fin & half, ~s.mask & whole.fin
    if whole.score is not None:
        hit = is_positive(ctx, whole.y).astype(float)
        x = whole.score
        label: Any = ctx.case.positive
    elif whole.proba is not None and whole.classes is not None:
        ys = pd.Series(whole.y).astype(str).to_numpy()
        disc = s.mask & whole.fin & ~half
        label = pd.Series(ys[disc if disc.any() else conf]).value_counts().index[0]
        cols = [str(c) for c in whole.classes]
        if label not in cols:
            return {"p_value": 1.0, "biased": False}
        x = whole.proba[:, cols.index(label)]
        hit = (ys == label).astype(float)
    else:
        return {"p_value": 1.0, "biased": False}
    expect = [recalibrated_share(x, hit, rest)]
    if np.nanmin(x) >= 0 and np.nanmax(x) <= 1:
        expect.append(x)
    out = share_bias(np.where(whole.fin, hit, np.nan), expect, conf, whole.entities)
    out["class"] = label
    diff = out.get("difference", 0.0)
    out["biased"] = bool(out["p_value"] < alpha and abs(diff) >= min_shift)
    return out


def _ranks(whole: Overall, p: Params) -> bool:
    """A binary model that ranks: ROC AUC at least `min_auc_overall`, or significantly above 0.5
    (one-sided at `alpha`, Hanley-McNeil under the null). Its decisions may sit on one class or
    the signal may be weak: the threshold and the noise explain its errors at large, not a slice
    with a data cause, whose errors the surprise test reads against what the same margins mean
    elsewhere (the threshold's effect included). A model that ranks better than chance has an
    expectation to be surprised against; the AUC bar alone silenced planted slices in weak-signal
    data (held-out set: unemployment-insurance claims, AUC 0.61 on 1,464 rows, a slice with 0.35%
    of training rows vs 8.4% of evaluation rows erring 84% where its scores expect 28%)."""
    if whole.auc is None:
        return False
    return bool(whole.auc >= p.min_auc_overall or (whole.auc > 0.5 and whole.auc_p < p.alpha))


def _works(r: Judged, whole: Overall, p: Params) -> bool:
    """Whether the model works on aggregate, or at least on the rows outside the slice (a slice
    large enough to drag the aggregate down does not make the model a non-working one).
    Regression: its absolute errors on the other rows are significantly below those of their
    median, or its squared errors below those of their mean (one-sided paired tests at `alpha`/2
    each, Bonferroni; the null: no better than the constant of either loss), whatever the size of
    its skill (a wage model explaining 13% of the variance works; one worse than a constant has
    no expectation to be surprised against). The mean's test: a model fitted to squared error on
    a count with many zeros (held-out set: doctor visits, 31% zeros, R^2 0.10) errs more than the
    median in absolute terms while it explains part of the variance."""
    rest = ~r.slice.mask & whole.fin
    if whole.kind != "error rate":
        return beats_constant(whole.y[rest], whole.raw[rest], p.alpha / 2) or beats_mean(
            whole.y[rest], whole.resid[rest] if whole.resid is not None else None, p.alpha / 2
        )
    if whole.works:
        return True
    s_rest = skill(r.err_out, baseline_error(whole.y[rest], whole.kind))
    return bool(np.isfinite(s_rest) and s_rest >= p.min_skill_overall)


def beats_constant(y: np.ndarray, abs_err: np.ndarray, alpha: float) -> bool:
    """Whether absolute errors are significantly below those of the rows' median (one-sided
    paired z test over the rows; at least 10 rows)."""
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y) & np.isfinite(abs_err)
    if ok.sum() < 10:
        return False
    d = np.abs(y[ok] - np.median(y[ok])) - abs_err[ok]
    sd = float(d.std(ddof=1))
    if sd == 0:
        return bool(d.mean() > 0)
    from scipy import stats

    return bool(stats.norm.sf(float(d.mean()) / (sd / np.sqrt(d.size))) < alpha)


def beats_mean(y: np.ndarray, resid: np.ndarray | None, alpha: float) -> bool:
    """Whether squared errors are significantly below those of the rows' mean (one-sided paired z
    test; at least 10 rows): the constant a model fitted to squared error competes with. On a
    skewed target (a count with many zeros) such a model's absolute errors exceed the median's
    although it explains part of the variance."""
    if resid is None:
        return False
    y, r = np.asarray(y, dtype=float), np.asarray(resid, dtype=float)
    ok = np.isfinite(y) & np.isfinite(r)
    if ok.sum() < 10:
        return False
    d = (y[ok] - y[ok].mean()) ** 2 - r[ok] ** 2
    sd = float(d.std(ddof=1))
    if sd == 0:
        return bool(d.mean() > 0)
    from scipy import stats

    return bool(stats.norm.sf(float(d.mean()) / (sd / np.sqrt(d.size))) < alpha)


def _substantial(sp: dict[str, Any], whole: Overall, p: Params) -> bool:
    if whole.kind == "error rate":
        if "worse_than_constant" in sp:  # no scores: judged against a constant
            return bool(sp["worse_than_constant"])
        return bool(sp.get("ratio", 0.0) >= p.min_surprise)
    return bool(sp.get("systematic_share", 0.0) >= p.min_systematic)


def _measure(ctx: Context, s: Slice, whole: Overall) -> Judged:
    m = s.mask & whole.fin
    err_in, err_out = float(whole.raw[m].mean()), float(whole.raw[~s.mask & whole.fin].mean())
    skill_in = skill(err_in, baseline_error(whole.y[m], whole.kind))
    s_all = whole.skill
    skill_share = (skill_in / s_all) if s_all and np.isfinite(s_all) and s_all > 0 else np.nan
    test_rows = s.confirm_rows if s.confirm_rows is not None else np.ones(len(m), dtype=bool)
    rest = ~s.mask & whole.fin
    if whole.kind == "error rate" and whole.margin is not None:
        # what its confidence means on the other rows, and (with probabilities) what they say at
        # face value: the model is surprised only when the error exceeds both
        if whole.score is not None and whole.decided is not None:
            q = expected_error_binary(whole.score, whole.decided, whole.raw, rest)
        else:
            q = expected_error_rate(whole.margin, whole.raw, rest)
        sp = by_units(rate_surprise, (whole.raw, q, m & test_rows), whole.days, whole.entities)
        sp["expected_all_rows"] = float(np.nanmean(q[m])) if m.any() else float("nan")
        if whole.face is not None:
            face = (whole.raw, whole.face, m & test_rows)
            fv = by_units(rate_surprise, face, whole.days, whole.entities)
            sp["expected_by_its_probabilities"] = fv["expected"]
            sp["ratio_to_its_probabilities"] = fv.get("ratio", float("nan"))
            sp["p_value"] = max(sp["p_value"], fv["p_value"])
            sp["ratio"] = min(sp.get("ratio", 0.0), fv.get("ratio", 0.0))
    elif whole.kind == "error rate":  # labels only: the model expects nothing; a constant is the bar
        mc = m & test_rows
        k, n = float(whole.raw[mc].sum()), int(mc.sum())
        base = baseline_error(whole.y[mc], whole.kind)
        lo = wilson(k, n)[0] if n else float("nan")
        sp = {"rows": n, "observed": k / n if n else float("nan"), "expected": base}
        sp["p_value"] = 0.0 if n and lo > base else 1.0
        sp["worse_than_constant"] = bool(n and lo > base)
    else:
        assert whole.pred is not None and whole.resid is not None
        q = expected_abs_error(whole.pred, whole.raw, rest)
        reg = (whole.resid, whole.pred, q, m & test_rows)
        sp = by_units(residual_surprise, reg, whole.days, whole.entities)
        if sp.get("expected", 0) > 0 and np.isfinite(sp.get("observed", np.nan)):
            sp["ratio"] = float(sp["observed"] / sp["expected"])
        sp["expected_all_rows"] = float(np.nanmean(q[m])) if m.any() else float("nan")
    from .common import train_share

    return Judged(s, m, err_in, err_out, skill_in, skill_share, train_share(ctx, s), sp)


def _train_rows(ctx: Context, s: Slice) -> np.ndarray | None:
    train = ctx.frame("train")
    try:
        if all(q["column"] in train.columns for q in s.predicates):
            return slice_mask(train, s.predicates)
    except (KeyError, TypeError, ValueError):
        return None
    return None


def label_mix(ctx: Context, s: Slice, whole: Overall, p: Params, alpha: float) -> dict[str, Any] | None:
    """The label inside the slice in training vs evaluation: for classes, the share of the
    evaluation slice's most frequent class (Newcombe interval of the difference); for a numeric
    target, the difference of means over the pooled sd (Welch, and Mann-Whitney's rank test must
    agree: the larger p-value counts, so a difference carried by a few extreme targets is no
    change of the slice's rule; HOLDOUT4's batting, 8% of training targets entered x10 or x0.1:
    a slice's training mean 58.6 vs 37.8 in evaluation, ranks alike); the evaluation side is the
    slice's confirmation half. `differs`: significant at `alpha` and at least `min_label_shift`
    (a share, or a standardised difference)."""
    mtr = _train_rows(ctx, s)
    if mtr is None or mtr.sum() < 2:
        return None
    ytr = np.asarray(ctx.y("train"))[mtr]
    # the evaluation side on the confirmation half: the search chose the slice for errors on the
    # other half, which biases that half's labels against the model (and so against training)
    half = s.confirm_rows if s.confirm_rows is not None else np.ones(len(s.mask), dtype=bool)
    yte = whole.y[s.mask & whole.fin & half]
    if yte.size < 2:
        return None
    if whole.kind == "error rate":
        top = pd.Series(yte).value_counts().index[0]
        ktr = float(np.sum(pd.Series(ytr).astype(str).to_numpy() == str(top)))
        kte = float(np.sum(pd.Series(yte).astype(str).to_numpy() == str(top)))
        d = proportion_diff(kte, yte.size, ktr, ytr.size)
        out = {"class": top, "share_in_evaluation": kte / yte.size, "share_in_training": ktr / ytr.size}
        out.update({"difference": d["diff"], "ci": d["ci"], "p_value": d["p_value"]})
        out["differs"] = bool(d["p_value"] < alpha and abs(d["diff"]) >= p.min_label_shift)
        return out
    from scipy import stats

    a = pd.to_numeric(pd.Series(yte), errors="coerce").dropna().to_numpy(float)
    b = pd.to_numeric(pd.Series(ytr), errors="coerce").dropna().to_numpy(float)
    if a.size < 2 or b.size < 2:
        return None
    sd = float(np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)) or 1.0
    pval = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    # the rank test must agree: a difference of means carried by a few extreme targets (values
    # entered in another unit) is no change of the slice's rule
    p_rank = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    d = (a.mean() - b.mean()) / sd
    return {
        "mean_in_evaluation": float(a.mean()),
        "mean_in_training": float(b.mean()),
        "median_in_evaluation": float(np.median(a)),
        "median_in_training": float(np.median(b)),
        "standardised_difference": float(d),
        "p_value": max(pval, p_rank),
        "p_value_means": pval,
        "p_value_ranks": p_rank,
        "differs": bool(max(pval, p_rank) < alpha and abs(d) >= p.min_label_shift),
    }


def causes(
    ctx: Context, r: Judged, whole: Overall, p: Params, alpha: float
) -> tuple[list[dict[str, Any]], dict | None]:
    """The causes the evidence supports, strongest first, and the label mix in the slice; each
    test at level `alpha` (the family-wise level over the slices tested)."""
    s = r.slice
    out: list[dict[str, Any]] = []
    feats = set(ctx.case.features or [])
    absent = [col for col in s.columns if feats and col not in feats]
    if absent:
        out.append({"cause": "features", "columns": absent})
    mtr = _train_rows(ctx, s)
    if mtr is not None and mtr.size:
        k_te, n_te = float(s.mask.sum()), float(s.mask.size)
        d = proportion_diff(float(mtr.sum()), float(mtr.size), k_te, n_te)
        ratio = (mtr.mean() / s.support) if s.support > 0 else float("nan")
        if d["p_value"] < alpha and ratio <= p.max_train_share_ratio:
            out.append(
                {
                    "cause": "under-represented",
                    "share_in_training": float(mtr.mean()),
                    "share_in_evaluation": s.support,
                    "ratio": float(ratio),
                    "difference_ci": d["ci"],
                }
            )
    mix = label_mix(ctx, s, whole, p, alpha)
    if mix is not None and mix["differs"]:
        out.append({"cause": "label rate differs", **mix})
    m = r.rows
    if m.sum() >= 2:
        base = baseline_error(whole.y[m], whole.kind)
        if whole.kind == "error rate":
            lo = wilson(float(whole.raw[m].sum()), float(m.sum()))[0]
        else:  # paired: each row's absolute error against the slice median's
            yv = np.asarray(whole.y[m], dtype=float)
            dd = whole.raw[m] - np.abs(yv - np.nanmedian(yv))
            lo = float(dd.mean() - 1.96 * dd.std(ddof=1) / np.sqrt(dd.size)) + base
        if lo > base:
            out.append({"cause": "worse than a constant", "error": r.err_in, "constant_error": base})
    return out, mix
