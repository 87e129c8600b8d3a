"""data.label_noise judged against evaluation labels: the share of training labels that the
baselines' fold models contradict, and class-conditional flips (one class's labels turned into
another), compared with what the same fold models flag on the evaluation rows (the chance rate of
the detector on data whose labels are not noisier); and noise in regression targets (residual
outliers against a robust cross-validated model, over the spread expected at that prediction
level)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...findings import INFO, WARNING, Finding
from ...registry import Params
from ...stats.metrics import holm
from ...stats.noise import (
    confidence_shift,
    flagged_vs_evaluation,
    label_shift,
    pair_flips,
    residual_outliers,
)
from ...stats.rows import scalar

if TYPE_CHECKING:
    from ...context import Context
    from ...stats.baselines import BaselinesResult, ModelCV


def _eval_labels(res: BaselinesResult) -> np.ndarray | None:
    """The evaluation labels as class indices (-1 when unknown), or None without them."""
    if res.eval_y is None or res.classes is None or res.splitter.startswith("time"):
        return None
    pos = {v: i for i, v in enumerate(res.classes)}
    return np.array([pos.get(v, -1) for v in np.asarray(res.eval_y).tolist()])


def evaluation_premise(res: BaselinesResult, p: Params) -> dict[str, Any]:
    """Whether the evaluation labels can serve as the chance rate of the training labels: they
    must hold every class training holds, and the evaluation rows must not be more confidently
    predicted than held-out training rows under the same fold models (one-sided KS, D+ of at
    least `min_confidence_shift` with p below `alpha`, for any baseline): a curated evaluation
    set (borderline cases removed) or one filtered on the outcome makes training labels look
    noisier by selection. {"ok": bool, "reason": str, ...}."""
    y_ev = _eval_labels(res)
    if y_ev is None or res.classes is None:
        return {"ok": True, "reason": ""}
    k = len(res.classes)
    pos = {v: i for i, v in enumerate(res.classes)}
    y_tr = np.array([pos.get(v, -1) for v in res.y.tolist()])
    n_tr = np.bincount(y_tr[y_tr >= 0], minlength=k)
    n_ev = np.bincount(y_ev[y_ev >= 0], minlength=k)
    missing = [scalar(res.classes[c]) for c in range(k) if n_tr[c] > 0 and n_ev[c] == 0]
    if missing:
        return {
            "ok": False,
            "reason": f"the evaluation labels hold no row of class {', '.join(map(str, missing))}: "
            "no chance rate for training labels of that class",
        }
    shifts = {}
    for key in ("linear", "hgb"):
        m = res.models.get(key)
        if m is None or m.oof is None or m.oof.ndim != 2 or not m.eval_outs:
            continue
        ok = np.isfinite(m.oof).all(1)
        outs = [o for o in m.eval_outs if o.ndim == 2 and np.isfinite(o).all()]
        if ok.sum() >= 30 and outs:
            shifts[key] = confidence_shift(m.oof[ok], outs)
    bad = {
        k: r for k, r in shifts.items() if r["d_plus"] >= p.min_confidence_shift and r["p_value"] < p.alpha
    }
    if bad:
        key, r = next(iter(bad.items()))
        return {
            "ok": False,
            "reason": f"the evaluation rows are predicted more confidently than held-out training rows "
            f"by the same fold models ({key}: one-sided KS D+ {r['d_plus']:.2f}, p {r['p_value']:.1g}; "
            f"{r['evaluation_share_below_training_q25']:.0%} of evaluation rows in training's least "
            "confident quarter): a curated or filtered evaluation set, whose labels look cleaner by "
            "selection",
            "confidence_shift": shifts,
        }
    return {"ok": True, "reason": "", "confidence_shift": shifts}


Groups = tuple[np.ndarray, np.ndarray]


def _paired(
    res: BaselinesResult, m: ModelCV, ok: np.ndarray, y_idx: np.ndarray, p: Params
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray, np.ndarray] | None:
    """The model's out-of-fold probabilities and labels of the usable training rows, its fold
    models' probabilities on the evaluation rows with a known label, and those labels; None
    without evaluation labels, fold outputs on them, enough rows or two evaluation classes; and
    which evaluation rows were kept."""
    y_ev = _eval_labels(res)
    if y_ev is None or m.oof is None or not m.eval_outs or res.classes is None:
        return None
    ev_ok = y_ev >= 0
    if ev_ok.sum() < 30 or ok.sum() < p.min_rows:
        return None
    outs = [o[ev_ok] for o in m.eval_outs if o.ndim == 2 and len(o) == len(y_ev)]
    if not outs:
        return None
    y_e = y_ev[ev_ok]
    if len(np.unique(y_e)) < 2:  # a one-class evaluation target is no reference (data.target_suspect)
        return None
    return m.oof[ok], y_idx[ok], outs, y_e, ev_ok


def split_entities(ctx: Context, res: BaselinesResult) -> tuple[str, Groups] | None:
    """The entity column the split kept apart, and the entity of each of the baselines' training
    and evaluation rows; None when the split is by row. The case's group column, else any column
    but the target (a feature too: the model may take the household it serves) that holds entity
    ids in training and whose values on nearly all evaluation rows training never saw
    (stats.drift_entities.batch_entity: integer or text, each value on 1.5 rows or more, at least
    10 of them, 90% of evaluation rows on new ones). A random split by row leaves such a column's
    values on both sides; one kept apart says that the evaluation rows are a sample of entities,
    whose labels (a household's brand, a patient's diagnoses) move together."""
    from ...stats.drift_entities import batch_entity

    c = ctx.case
    tr, te = ctx.frame("train"), ctx.frame("test")
    roles = {c.target, c.time_column, c.prediction_column}
    ent = batch_entity(tr, te, [x for x in tr.columns if x not in roles], c.group_column)
    if ent is None or res.eval_y is None:
        return None
    g_ev = te[ent].to_numpy()[ctx.fresh_eval_positions()]
    if len(g_ev) != len(res.eval_y):
        return None
    return ent, (tr[ent].to_numpy()[res.index], g_ev)


def _kept(groups: Groups | None, ok: np.ndarray, ev_ok: np.ndarray) -> Groups | None:
    return None if groups is None else (groups[0][ok], groups[1][ev_ok])


def shift_without_signal(
    res: BaselinesResult,
    m: ModelCV,
    ok: np.ndarray,
    y_idx: np.ndarray,
    p: Params,
    groups: Groups | None = None,
) -> dict[str, Any] | None:
    """The label shift at the same features (stats.noise.label_shift) of fold models that do
    not beat the majority class: {"label_shift": table, "pair": pair or None}; None when the
    comparison cannot be made. Its null does not need models that rank rows: fold models
    calibrated on the training labels leave a mean residual of about 0 on the held-out training
    rows and, when both sets share one labelling, on the evaluation rows too; models without
    signal predict the training class mix, so the test compares the class mix of the two sets'
    labels (under a random or stratified split of one population they differ by sampling only).
    The rows the models place in each class (pair_flips) and the share of labels they contradict
    need models with signal and are not read here."""
    both = _paired(res, m, ok, y_idx, p)
    if both is None or res.classes is None:
        return None
    P_tr, y_tr, outs, y_e, ev_ok = both
    shift = _shifted_pair(label_shift(P_tr, y_tr, outs, y_e, _kept(groups, ok, ev_ok)), res.classes, p)
    return {"label_shift": shift["table"], "pair": shift["pair"]}


def versus_evaluation(
    res: BaselinesResult,
    m: ModelCV,
    ok: np.ndarray,
    y_idx: np.ndarray,
    p: Params,
    groups: Groups | None = None,
) -> dict[str, Any] | None:
    """The flagged share and the class pairs of the best model, training vs evaluation labels;
    None without evaluation labels, fold outputs on them, or enough rows (time-ordered folds
    predict the future and are pessimistic by design: not compared). `groups`: each training and
    evaluation row's entity when the split kept the entities apart (split_entities), for the
    label shift's spreads."""
    both = _paired(res, m, ok, y_idx, p)
    if both is None or res.classes is None:
        return None
    P_tr, y_tr, outs, y_e, ev_ok = both
    flagged = flagged_vs_evaluation(P_tr, y_tr, outs, y_e, p.threshold)
    pairs = pair_flips(P_tr, y_tr, outs, y_e)
    adj = holm([r["p_value"] for r in pairs]) if pairs else np.zeros(0)
    for r, pa in zip(pairs, adj):
        r["p_adjusted"] = float(pa)
        r["true"], r["given"] = scalar(res.classes[r["true"]]), scalar(res.classes[r["given"]])
    sig = [r for r in pairs if r["p_adjusted"] < p.alpha and r["flipped_share"] >= p.min_pair_share]
    shift = _shifted_pair(label_shift(P_tr, y_tr, outs, y_e, _kept(groups, ok, ev_ok)), res.classes, p)
    return {
        "flagged": flagged,
        "pairs": pairs[:10],
        "label_shift": shift["table"],
        "pair": sig[0] if sig else shift["pair"],
        "fires": bool(flagged["excess"] >= p.min_excess and flagged["p_value"] < p.alpha),
    }


def _shifted_pair(table: list[dict[str, Any]], classes: list, p: Params) -> dict[str, Any]:
    """The class whose training labels under-record it at the same features (stats.noise.
    label_shift; Holm over the classes at `alpha`, at least `min_pair_share` of its rows), paired
    with the class most over-recorded: a class-conditional flip, as a pair of pair_flips' shape."""
    adj = holm([r["p_value"] for r in table]) if table else np.zeros(0)
    for r, pa in zip(table, adj):
        r["p_adjusted"] = float(pa)
    # the labels moved, not the model's view of the rows: the mean probability of a moved less
    # than half as much as the labels did (features transformed between the sets move both)
    sig = [
        r
        for r in table
        if r["p_adjusted"] < p.alpha
        and r["under_recorded_share"] >= p.min_pair_share
        and abs(r["predicted_evaluation"] - r["predicted_training"]) <= 0.5 * abs(r["gap"])
    ]
    out = [{**r, "class": scalar(classes[r["class"]])} for r in table]
    if not sig:
        return {"table": out, "pair": None}
    top = max(sig, key=lambda r: r["gap"])
    given = min(table, key=lambda r: r["gap"])
    t, g = scalar(classes[top["class"]]), scalar(classes[given["class"]])
    lo, hi = top["ci"]
    text = (
        f"class {t!s} labelled {g!s}: at the same features the evaluation labels say {t!s} in "
        f"{top['share_evaluation']:.0%} of rows where the training labelling predicts "
        f"{top['share_evaluation'] - top['gap']:.0%}, so about {top['under_recorded_share']:.0%} of "
        f"class {t!s}'s training labels (95% CI {max(lo, 0):.0%} to {min(hi, 1):.0%}) were recorded as "
        f"another class (or the evaluation set was drawn with another class mix)"
    )
    pair = {
        "true": t,
        "given": g,
        "flipped_share": top["under_recorded_share"],
        "ci": top["ci"],
        "p_adjusted": top["p_adjusted"],
        "share_evaluation": top["share_evaluation"],
        "from": "label_shift",
        "text": text,
    }
    return {"table": out, "pair": pair}


def pair_text(pair: dict[str, Any]) -> str:
    if "text" in pair:
        return str(pair["text"])
    lo, hi = pair["ci"]
    return (
        f"class {pair['true']!s} labelled {pair['given']!s}: {pair['flipped_share']:.0%} of the rows the "
        f"models place in {pair['true']!s} (95% CI {lo:.0%} to {hi:.0%}) beyond the "
        f"{pair['share_evaluation']:.0%} of evaluation labels"
    )


def evaluation_finding(vs: dict[str, Any], model: str) -> Finding:
    """A warning from the comparison with evaluation labels (flagged share or a pair of classes)."""
    f, pair = vs["flagged"], vs["pair"]
    lo, hi = f["excess_ci"]
    if pair is not None:
        title = f"training labels of one class flipped into another: {pair_text(pair)}"
        classes = [pair["true"], pair["given"]]
        impact = pair["flipped_share"]
    else:
        title = (
            f"{f['flagged_training']:.1%} of training labels get an out-of-fold probability below the "
            f"threshold vs {f['flagged_evaluation']:.1%} of evaluation labels under the same fold models "
            f"(excess {f['excess']:.1%}, 95% CI {lo:.1%} to {hi:.1%}): likely wrong training labels"
        )
        classes = []
        impact = f["excess"]
    return Finding(
        "data.label_noise",
        WARNING,
        title,
        classes=classes,
        evidence={
            "model": model,
            "flagged_vs_evaluation": f,
            "class_pairs": vs["pairs"],
            "flipped_pair": pair,
            "chance_rate": "what the same fold models flag among evaluation labels (weighted to the "
            "training class mix)",
            "split_entity": vs.get("entity"),
        },
        impact=float(min(1.0, max(0.0, impact))),
        root_cause="training labels flipped or mislabelled more often than the evaluation labels"
        + (
            f" (class {pair['true']!s} recorded as {pair['given']!s}: a mapping or labelling-rule error)"
            if pair
            else ""
        ),
        fix="audit a sample of the flagged training rows against the evaluation labelling process; "
        "relabel or drop the wrong ones, or fix the mapping that turns one class into another",
    )


def time_windows(ctx: Context, res: BaselinesResult) -> list[np.ndarray] | None:
    """Under time-ordered folds, per fold, the evaluation rows (`ctx.fresh_eval_rows`, those the
    baselines scored) whose time lies inside that fold's validation rows' time span: there the
    fold model predicts a held-out training row and an evaluation row at the same distance from
    its training window, so under a random split of the same rows the two are exchangeable (a
    fold's validation rows are the block after its training rows; compared with every evaluation
    row, most of them inside its training window, the evaluation rows look cleaner). None when
    the folds are not time-ordered or there are no evaluation labels."""
    c = ctx.case
    if not res.splitter.startswith("time") or res.eval_y is None or not c.time_column or res.fold is None:
        return None
    t_tr = c.train[c.time_column].to_numpy()[res.index]
    t_ev = ctx.fresh_eval_rows()[c.time_column].to_numpy()
    if len(t_ev) != len(res.eval_y):
        return None
    out = []
    for k in range(res.n_splits):
        w = t_tr[res.fold == k]
        out.append((t_ev >= w.min()) & (t_ev <= w.max()) if len(w) else np.zeros(len(t_ev), dtype=bool))
    return out


def regression_noise(
    res: BaselinesResult, p: Params, windows: list[np.ndarray] | None = None
) -> Finding | None:
    """Targets far from the cross-validated gradient-boosting (else linear) model's prediction,
    over the spread expected at that prediction level, against the same rule's share among
    evaluation rows (under time-ordered folds, those in each fold's validation time span,
    `windows`; without them, a Laplace tail)."""
    key = next((k for k in ("hgb", "linear") if k in res.models and res.models[k].oof is not None), None)
    if key is None:
        return None
    m = res.models[key]
    assert m.oof is not None
    if m.error or np.isfinite(m.oof).sum() < p.min_rows:
        return Finding(
            "data.label_noise",
            INFO,
            f"{int(np.isfinite(m.oof).sum())} training rows with an out-of-fold prediction: too few to judge "
            f"target noise (at least {p.min_rows})",
            evidence={"rows": int(np.isfinite(m.oof).sum()), "min_rows": p.min_rows},
            root_cause="[data] too few rows for a cross-validated model to tell noisy targets apart",
            fix="collect more rows, or audit a random sample of targets by hand",
        )
    y_ev = None if res.eval_y is None or (res.splitter.startswith("time") and windows is None) else res.eval_y
    outs = m.eval_outs if y_ev is not None else []
    source = "evaluation rows under the fold models"
    if windows is not None and y_ev is not None:
        outs = [np.where(w, np.asarray(o, dtype=float), np.nan) for o, w in zip(m.eval_outs, windows)]
        source = "evaluation rows in each fold's validation time span under that fold's model"
    out = residual_outliers(m.oof, res.y, outs, y_ev, p.outlier_cut, source)
    lo, hi = out["excess_ci"]
    ev = {k: v for k, v in out.items() if k not in ("flagged_index", "z")}
    ev["model"] = key
    z = out["z"]
    order = np.argsort(-z)[:10]
    idx = np.flatnonzero(np.isfinite(m.oof) & np.isfinite(np.asarray(res.y, dtype=float)))
    ev["examples"] = [
        {
            "row": int(res.index[idx[i]]),
            "target": float(res.y[idx[i]]),
            "predicted": float(m.oof[idx[i]]),
            "residual_over_spread": float(z[i]),
        }
        for i in order
    ]
    fires = out["excess"] >= p.min_excess and out["p_value"] < p.alpha
    text = (
        f"{out['flagged_training']:.1%} of training targets lie beyond {p.outlier_cut:g} robust spreads "
        f"of a cross-validated model's prediction vs {out['flagged_expected']:.1%} expected "
        f"({out['expected_from']}; excess {out['excess']:.1%}, 95% CI {lo:.1%} to {hi:.1%})"
    )
    return Finding(
        "data.label_noise",
        WARNING if fires else INFO,
        text + (": likely wrong targets" if fires else ""),
        evidence=ev,
        impact=float(min(1.0, max(0.0, out["excess"] * 3))),
        root_cause="targets recorded wrongly in a share of rows (unit or entry errors, a faulty join)"
        if fires
        else "residual outliers at the rate the data's own spread predicts",
        fix="audit the flagged targets (evidence.examples); correct or drop the wrong ones, or train with "
        "a robust loss (Huber, absolute error)",
        show=bool(fires),
    )
