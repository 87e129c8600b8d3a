"""Generators of label failures: label noise (random, class-conditional, in regression targets),
labels misaligned with their rows, suspect targets (censored, constant in the evaluation set)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from planting import Spec, headline, kind, load, rng, split_data, train_model
from scenario import Scenario, rnd

# --------------------------------------------------------------------------- labels


@kind("label_noise", ["data.label_noise"])
def label_noise(spec: Spec) -> Scenario:
    """Variants: '' 20% of training labels replaced by a random other class; 'classcond' one class
    labelled as another in 40% of its training rows (an annotator's confusion, issue 9 cap. 6);
    'regression' 8% of training targets entered in another unit (x10 or /10, a data-entry slip)."""
    data = load(spec)
    tr, te = split_data(data, spec)
    g = rng(spec)
    y = tr[data.target].copy()
    clean_model = train_model(data, spec.family, tr, spec.seed)
    if data.task == "regression":
        k = int(0.08 * len(tr))
        idx = g.choice(len(tr), k, replace=False)
        factor = np.where(g.random(k) < 0.5, 10.0, 0.1)
        y.iloc[idx] = y.iloc[idx] * factor
        planted = "8% of training targets entered in another unit (x10 or x0.1)"
        flipped = k / len(tr)
    elif spec.variant == "classcond":
        counts = y.value_counts()
        src = counts.index[1] if len(counts) > 1 else counts.index[0]
        dst = counts.index[0] if src != counts.index[0] else counts.index[-1]
        idx = np.flatnonzero((y == src).to_numpy())
        pick = g.choice(idx, int(0.4 * len(idx)), replace=False)
        y.iloc[pick] = dst
        planted = (
            f"40% of training rows of class {str(src)!r} labelled {str(dst)!r} (one annotator's confusion)"
        )
        flipped = len(pick) / len(tr)
    else:
        classes = np.array(sorted(y.unique(), key=str))
        k = int(0.2 * len(tr))
        idx = g.choice(len(tr), k, replace=False)
        for i in idx:
            others = classes[classes != y.iloc[i]]
            y.iloc[i] = others[g.integers(len(others))]
        planted = "20% of training labels replaced by a random other class"
        flipped = k / len(tr)
    tr2 = tr.copy()
    tr2[data.target] = y.astype(tr[data.target].dtype)
    model = train_model(data, spec.family, tr2, spec.seed)
    meas = headline(model, data, tr2, te)
    meas.update(
        {
            f"clean_labels_{k}": v
            for k, v in headline(clean_model, data, tr, te).items()
            if k.startswith("test_")
        }
    )
    meas["corrupted_share_of_train"] = rnd(flipped)
    acc = ["evaluation.miscalibration", "model.underfit"]
    if spec.variant == "classcond":
        acc += [
            "errors.confused_classes",
            "errors.high_confidence_errors",
            "errors.underperforming_slice",
            "model.unhandled_imbalance",
        ]
    if data.task == "regression":
        acc += ["data.target_suspect", "model.overfit"]
    return Scenario(
        spec.name,
        f"label_noise{'_' + spec.variant if spec.variant else ''}",
        data,
        spec.family,
        tr2,
        te,
        planted,
        [{"code": "data.label_noise"}],
        acc,
        meas,
        "Test labels are clean; clean_labels_* is the same model trained on clean labels.",
        model=model,
    )


@kind("label_misalignment", ["data.label_misalignment"])
def label_misalignment(spec: Spec) -> Scenario:
    """Features sorted by one key and labels by another, then joined by position (a bad merge)."""
    data = load(spec)
    tr, te = split_data(data, spec)
    g = rng(spec)

    def shuffle(df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        out[data.target] = df[data.target].to_numpy()[g.permutation(len(df))]
        return out

    tr2, te2 = shuffle(tr), shuffle(te)
    model = train_model(data, spec.family, tr2, spec.seed)
    aligned = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr2, te2)
    meas.update(
        {f"aligned_{k}": v for k, v in headline(aligned, data, tr, te).items() if k.startswith("test_")}
    )
    meas["share_rows_label_moved"] = rnd((tr2[data.target].astype(str) != tr[data.target].astype(str)).mean())
    return Scenario(
        spec.name,
        "label_misalignment",
        data,
        spec.family,
        tr2,
        te2,
        "labels joined by position after the feature table was re-sorted: labels no longer belong to their rows",
        [{"code": "data.label_misalignment"}],
        [
            "data.label_noise",
            "evaluation.miscalibration",
            "model.prediction_collapse",
            "model.underfit",
            "model.unhandled_imbalance",
            "evaluation.wrong_metric",
            "model.overfit",
        ],
        meas,
        model=model,
    )


@kind("target_suspect", ["data.target_suspect"])
def target_suspect(spec: Spec) -> Scenario:
    """Variants: 'censored' the target is top-coded at a cap (a survey or a system that stores
    at most a value), piling 15-25% of rows at the cap; 'constant' the evaluation set was filtered
    to one class by a leftover WHERE clause, so its target is constant (issue 9, cap. 9)."""
    data = load(spec)
    tr, te = split_data(data, spec)
    if spec.variant == "constant":
        keep = te[data.target].value_counts().index[0]
        te = te[te[data.target] == keep].reset_index(drop=True)
        model = train_model(data, spec.family, tr, spec.seed)
        meas = {"test_target_values": [str(v) for v in te[data.target].unique()], "test_rows": len(te)}
        meas.update({k: v for k, v in headline(model, data, tr, te).items() if "auc" not in k})
        return Scenario(
            spec.name,
            "target_suspect_constant",
            data,
            spec.family,
            tr,
            te,
            f"the evaluation set holds only {data.target} == {keep!r} (filtered by a leftover WHERE clause)",
            [{"code": "data.target_suspect"}],
            ["evaluation.wrong_metric", "model.underfit", "data.class_imbalance"],
            meas,
            model=model,
        )
    cap = float(data.frame[data.target].quantile(0.8))
    for df in (tr, te):
        df[data.target] = df[data.target].clip(upper=cap)
    model = train_model(data, spec.family, tr, spec.seed)
    meas = headline(model, data, tr, te)
    meas.update(
        cap=rnd(cap),
        share_train_at_cap=rnd((tr[data.target] >= cap).mean()),
        share_test_at_cap=rnd((te[data.target] >= cap).mean()),
    )
    return Scenario(
        spec.name,
        "target_suspect_censored",
        data,
        spec.family,
        tr,
        te,
        f"{data.target} top-coded at {cap:g}: {meas['share_train_at_cap']:.0%} of rows pile up at the cap",
        [{"code": "data.target_suspect"}],
        ["errors.underperforming_slice", "model.underfit", "errors.high_confidence_errors"],
        meas,
        model=model,
    )
