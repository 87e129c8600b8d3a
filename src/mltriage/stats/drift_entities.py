"""Drift of a batch of other entities: the rows of one entity are not independent.

When the training rows and the batch's rows belong to entities (counties observed for seven years,
pupils of one school, a customer's orders) and the batch holds other entities than training (a
grouped split; new customers), a batch of 23 counties is a sample of 23 units, not of 158
independent rows: the chi-square gate of the drift test, which counts rows, takes the differences
between two small sets of counties for a population change. The design effect of each column is
measured on training itself: the PSI between two halves of training split by entity, over the PSI
between two halves of the same sizes split by row (averaged over SPLITS random splits each). The
chi-square statistic divided by it (the first-order Rao-Scott correction) is the test on the
entities' information; PSI stays the effect size. A column that varies inside each entity as
freely as between them has a design effect near 1 and keeps its test.

The entity column is the case's group column when given, else a column the model does not take
that holds entity ids in training (stats/rows.py `identifier_kind`: integer or text, each value on
1.5 rows or more) and whose values on at least MIN_NEW_SHARE of the batch's rows training never
saw: a batch of the same entities in a later period is compared row by row as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .drift import DriftReport, _grade, psi
from .profile import NumericProfile, Profile
from .rows import identifier_kind

SPLITS = 30  # random splits of training, by entity and by row
MIN_ENTITIES = 10  # training entities needed to measure the design effect
MIN_NEW_SHARE = 0.9  # share of batch rows on entities training never saw


def batch_entity(
    ref_frame: pd.DataFrame, current: pd.DataFrame, candidates: Iterable[str], given: str | None = None
) -> str | None:
    """The entity column whose batch values are (nearly all) entities training never saw."""
    cols = [given] if given else list(candidates)
    for c in cols:
        if c is None or c not in ref_frame.columns or c not in current.columns:
            continue
        if not given and identifier_kind(ref_frame[c], MIN_ENTITIES) != "entity":
            continue
        seen = set(ref_frame[c].dropna().astype(str))
        cur = current[c].astype(str)
        if ref_frame[c].nunique() >= MIN_ENTITIES and float((~cur.isin(seen)).mean()) >= MIN_NEW_SHARE:
            return c
    return None


def _codes(ref: Profile, col: str, s: pd.Series) -> np.ndarray:
    """Each training row's bin (numeric, on the reference's edges; non-finite values a bin of
    their own) or category code (missing a code of its own)."""
    rp = ref.columns[col]
    if isinstance(rp, NumericProfile):
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        b = np.searchsorted(np.asarray(rp.edges, float), x, side="right")
        return np.where(np.isfinite(x), b, len(rp.edges) + 1)
    codes, _ = pd.factorize(s.astype(object).where(s.notna(), "__missing__"))
    return codes


def design_effects(
    ref: Profile,
    ref_frame: pd.DataFrame,
    entity: str,
    columns: Iterable[str],
    smoothing: float,
    seed: int = 0,
) -> dict[str, float]:
    """Per column: mean PSI between entity halves of training / mean PSI between row halves of the
    same sizes (at least 1, at most the size-weighted mean rows per entity)."""
    ids, uniq = pd.factorize(ref_frame[entity].astype(str))
    k = len(uniq)
    sizes = np.bincount(ids[ids >= 0])
    # 1 + (m - 1) * rho is at most m, the (size-weighted) mean rows per entity: the cap of an estimate
    # that small halves make noisy
    cap = float(np.sum(sizes.astype(float) ** 2) / max(int(sizes.sum()), 1))
    rng = np.random.default_rng(seed)
    halves = []
    for _ in range(SPLITS):
        a_ent = rng.permutation(k) < k // 2
        by_ent = a_ent[ids]
        by_row = np.zeros(len(ids), bool)
        by_row[rng.choice(len(ids), int(by_ent.sum()), replace=False)] = True
        halves.append((by_ent, by_row))
    out: dict[str, float] = {}
    for col in columns:
        if col not in ref.columns or col not in ref_frame.columns:
            continue
        codes = _codes(ref, col, ref_frame[col])
        nb = int(codes.max()) + 1
        ent: list[float] = []
        row: list[float] = []
        for by_ent, by_row in halves:
            for mask, acc in ((by_ent, ent), (by_row, row)):
                a = np.bincount(codes[mask], minlength=nb).astype(float)
                b = np.bincount(codes[~mask], minlength=nb).astype(float)
                acc.append(psi(a, b, smoothing))
        base = float(np.mean(row))
        out[col] = min(cap, max(1.0, float(np.mean(ent)) / base)) if base > 0 else 1.0
    return out


def regrade(report: DriftReport, deff: dict[str, float], entity: str, n_entities: int) -> dict[str, Any]:
    """Re-test every feature on its entities' information: chi-square / design effect (first-order
    Rao-Scott); returns what was done, for the evidence."""
    from scipy.stats import chi2

    cfg = report.config
    cleared = []
    for col, fd in report.features.items():
        d = deff.get(col, 1.0)
        if not fd.tested or d <= 1.0 or fd.dof < 1:
            continue
        was = fd.drifted
        fd.p_value = float(chi2.sf(fd.chi2 / d, fd.dof))
        fd.drifted, fd.severity = False, "none"
        _grade(fd, cfg)
        fd.reason += f" (rows of {entity} are not independent: design effect {d:.1f})"
        if was and not fd.drifted:
            cleared.append(col)
    return {
        "entity_column": entity,
        "batch_entities": n_entities,
        "design_effects": {c: round(v, 2) for c, v in deff.items()},
        "not_significant_once_entities_counted": cleared,
        "rule": "chi-square / design effect (PSI between training halves split by entity over "
        "halves split by row)",
    }
