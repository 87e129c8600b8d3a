"""Model rung plots: the model baselines with their spread across folds, and the training
history behind model.divergence."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..terminal import fmt
from . import plot
from .chart import Bars, Chart, Line, Points, Rule

if TYPE_CHECKING:
    from ...findings import Finding
    from .. import Report


def baselines_chart(report: Report) -> Chart | None:
    """Each baseline's cross-validated score (bar), ±1 sd across folds (whiskers), the same fold
    models on evaluation rows (points), and the model's own evaluation score (dashed line)."""
    b = report.baselines
    if not b or not b.get("models"):
        return None
    rows = [m for m in b["models"] if m.get("cv_mean") is not None]
    if not rows:
        return None
    metric = str(b.get("metric", "score"))
    means = [float(m["cv_mean"]) for m in rows]
    sds = [float(m.get("cv_std") or 0.0) for m in rows]
    marks: list = [
        Bars(
            means,
            low=[a - s for a, s in zip(means, sds)],
            high=[a + s for a, s in zip(means, sds)],
            tones=["accent" if m.get("key") == "user" else "base" for m in rows],
            name="cross-validated mean ±1 sd",
        )
    ]
    ev = [m.get("eval_mean") for m in rows]
    if any(v is not None for v in ev):
        marks.append(
            Points(
                [v if v is not None else float("nan") for v in ev],
                list(range(len(rows))),
                "on evaluation rows",
            )
        )
    h = (report.headline or {}).get("test")
    alt_model = ""
    if h:
        marks.append(Rule(float(h["value"]), "x", "your model on evaluation", "alert"))
        alt_model = f" Your model scores {fmt(h['value'])} on the evaluation rows."
    best = max(range(len(rows)), key=lambda i: means[i])
    lowest = min(means + [v for v in ev if v is not None] + ([h["value"]] if h else []))
    return Chart(
        title=f"Model baselines: best is {rows[best]['model']} at {fmt(means[best])} {metric}",
        alt="Cross-validated "
        + metric
        + " of each baseline: "
        + "; ".join(f"{m['model']} {fmt(a)} ± {fmt(s)}" for m, a, s in zip(rows, means, sds))
        + "."
        + alt_model,
        x_label=f"{metric} ({b.get('folds')}-fold cross-validation on {b.get('rows', 0):,} training rows)",
        layout="bars",
        categories=[str(m["model"]) for m in rows],
        marks=marks,
        x_min=max(0.0, min(0.5, lowest - 0.05))
        if metric in ("roc_auc", "accuracy", "balanced_accuracy")
        else None,
        key="baselines",
    )


def _num(v: object) -> float:
    """A loss from the history table: None (NaN/inf in the run) as NaN, which is not drawn."""
    return float(v) if isinstance(v, (int, float)) else float("nan")


def _history_marks(e: dict, hist: list[dict]) -> tuple[list, str]:
    """Training and validation loss by epoch, the lowest loss, the first jump and the first
    NaN/inf epoch marked; and the marks in words."""
    xs = [float(r["epoch"]) for r in hist]
    marks: list = [Line(xs, [_num(r["loss"]) for r in hist], "training loss", markers=False)]
    if "val_loss" in hist[0]:
        marks.append(
            Line(xs, [_num(r["val_loss"]) for r in hist], "validation loss", "accent", markers=False)
        )
    words = []
    if e.get("min_epoch") is not None and e.get("min_loss") is not None:
        marks.append(
            Points([float(e["min_epoch"])], [float(e["min_loss"])], labels=[f"lowest {fmt(e['min_loss'])}"])
        )
    if e.get("first_jump_epoch") is not None:
        marks.append(
            Rule(float(e["first_jump_epoch"]), "x", f"first jump (epoch {e['first_jump_epoch']})", "alert")
        )
        words.append(f"the loss first jumps at epoch {e['first_jump_epoch']}")
    bad = [r for r in hist if r.get("nonfinite")]
    if bad:
        marks.append(Rule(float(bad[0]["epoch"]), "x", f"NaN/inf from epoch {bad[0]['epoch']}", "alert"))
        words.append(
            f"NaN/inf from epoch {bad[0]['epoch']} ({len(bad)} of the {len(hist)} plotted epochs, not drawn)"
        )
    return marks, "; ".join(words)


def _summary_marks(e: dict) -> list:
    """Without the history table: the first, lowest and last loss."""
    first = 1.0 if e["min_epoch"] >= 1 else 0.0
    last = first + float(e["epochs"]) - 1
    xs = [first, float(e["min_epoch"]), last]
    ys = [float(e["first_loss"]), float(e["min_loss"]), float(e["last_loss"])]
    marks: list = [
        Line(xs, ys, "training loss (first, lowest, last)", dashed=True, markers=False),
        Points(xs, ys, labels=[f"first {fmt(ys[0])}", f"lowest {fmt(ys[1])}", f"last {fmt(ys[2])}"]),
    ]
    if e.get("first_jump_epoch") is not None:
        marks.append(Rule(float(e["first_jump_epoch"]), "x", "first jump", "alert"))
    return marks


def _loss_label(col: str) -> str:
    return col if "loss" in col.lower() else f"loss ({col})"


@plot("model.divergence")
def divergence(f: Finding, report: Report) -> list[Chart]:
    """The loss curves by epoch from the evidence's `history` table with the divergence marked;
    without it, the first, lowest and last loss."""
    e = f.evidence
    hist = e.get("history")
    words = ""
    if isinstance(hist, list) and hist and isinstance(hist[0], dict):
        marks, words = _history_marks(e, hist)
    else:
        marks = _summary_marks(e)
    ys_all = [v for m in marks if isinstance(m, (Line, Points)) for v in m.ys if math.isfinite(v)]
    log = bool(ys_all) and min(ys_all) > 0 and max(ys_all) / min(ys_all) > 50
    problems = e.get("problems") or [f.title]
    val = (
        f" Validation loss: lowest {fmt(e['val_loss_min'])}, last {fmt(e.get('val_loss_last'))}."
        if e.get("val_loss_min") is not None
        else ""
    )
    return [
        Chart(
            title=f"Training loss: {problems[0]}"[:90],
            alt=f"Training loss over {e.get('epochs')} epochs: first {fmt(e.get('first_loss'))}, lowest "
            f"{fmt(e.get('min_loss'))} at epoch {e.get('min_epoch')}, last {fmt(e.get('last_loss'))}."
            + val
            + (f" Marked: {words}." if words else ""),
            x_label="epoch",
            y_label=_loss_label(str(e.get("loss_column", "loss"))) + (" (log scale)" if log else ""),
            marks=marks,
            log_y=log,
            key="history",
        )
    ]
