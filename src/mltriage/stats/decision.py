"""Probabilities for a classifier that gives only decision_function margins (SVMs, SGD with hinge
loss, ridge classifiers), estimated on labelled rows by Platt scaling (a logistic regression of the
label on the margins: binary, one margin; multiclass, multinomial on the k margins) cross-fitted
over two halves, so that each row's probability comes from a fit that did not see its label.

Used where a check needs the confidence of a prediction (confident mistakes), never to judge the
calibration of the model itself: these probabilities are calibrated by construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def platt_margins(decision: np.ndarray, y: np.ndarray, classes: list[Any], seed: int = 0) -> np.ndarray:
    """(n, k) probabilities of `classes` from margins `decision` ((n,) binary, oriented towards
    classes[1]; or (n, k)), Platt-scaled on labels `y` and cross-fitted over two random halves.
    A half whose fitting rows lack a class gets that half's class frequencies instead."""
    from sklearn.linear_model import LogisticRegression

    d = np.asarray(decision, dtype=float)
    Z = d.reshape(len(d), -1)
    Z = np.where(np.isfinite(Z), Z, 0.0)
    y = np.asarray(y, dtype=object)
    k = len(classes)
    idx = {c: i for i, c in enumerate(classes)}
    yi = np.array([idx.get(v, -1) for v in y])
    out = np.full((len(Z), k), np.nan)
    half = np.random.default_rng(seed).permutation(len(Z)) < len(Z) // 2
    for fit_on in (half, ~half):
        rows = fit_on & (yi >= 0)
        present = np.unique(yi[rows])
        if len(present) < 2:
            freq = np.bincount(yi[rows], minlength=k) / max(rows.sum(), 1)
            out[~fit_on] = freq
            continue
        lr = LogisticRegression(C=1e4, max_iter=1000).fit(Z[rows], yi[rows])
        p = lr.predict_proba(Z[~fit_on])
        full = np.zeros((p.shape[0], k))
        full[:, lr.classes_] = p
        out[~fit_on] = full
    return out
