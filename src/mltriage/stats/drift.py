"""Drift statistics, computed from two profiles (see `profile.py`), plus the multivariate
domain classifier and the train/serving skew inference.

Per feature
    numeric      PSI on the reference's quantile bins (with under/overflow bins and a bin for
                 missing/unparsed values when either side has them), KS statistic from the two
                 binned CDFs (a lower bound of the exact KS; p-value from the Kolmogorov
                 distribution with the effective size n*m/(n+m)), Wasserstein-1 distance from
                 the two histograms' quantile functions, normalised by the reference's std
                 (IQR/1.349 when the std is 0), and a chi-square test on the binned counts.
    categorical  PSI, chi-square test and Jensen-Shannon distance (base 2, in [0, 1]) on the
                 category counts (top categories, "other", missing); new categories listed.

Decision (documented defaults, all in `DriftConfig`, all overridable)
    A feature has drifted when its PSI is at least `psi_warning` (0.1) AND the chi-square test on
    the same bins rejects "same distribution" at `alpha` (0.001). Severity is critical at
    `psi_critical` (0.25). PSI is the effect size: on millions of rows a shift of 0.01 sd has a
    p-value of 1e-30 but a PSI of 1e-4 and does not alarm; on a tiny batch a PSI of 0.2 made of
    noise fails the test and does not alarm either. p-values alone never decide. Batches with fewer
    than `min_rows` (30) values in a column are not tested.

Smoothing: bin shares are (count + 0.5) / (n + 0.5 * bins), so an empty bin on one side gives a
large but finite PSI term.

Multivariate: `domain_classifier` trains a gradient-boosted classifier to tell reference rows
from current rows on a balanced subsample (5,000 rows a side by default), reports its held-out
ROC AUC with an interval and the features it relies on (permutation importance on the held-out
half). AUC near 0.5 means the two sets are indistinguishable; the default alarm is AUC >= 0.6
with the interval's lower end above 0.55 (critical at 0.75).

The train/serving skew inference (which transformation of the batch undoes the drift) is in
`skew.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .bins import to_float_array
from .metrics import auc_interval, roc_auc
from .profile import CategoricalProfile, NumericProfile, Profile, build_profile, hist_support
from .rows import scalar


@dataclass
class DriftConfig:
    psi_warning: float = 0.1  # PSI at which a feature counts as drifted
    psi_critical: float = 0.25  # PSI at which the drift is critical (retrain trigger)
    alpha: float = 1e-3  # significance gate (chi-square on the binned counts)
    min_rows: int = 30  # fewer values in the batch: not tested
    smoothing: float = 0.5  # pseudo-count per bin
    # multivariate domain classifier
    mv_sample: int = 5000  # rows per side
    mv_auc_warning: float = 0.6
    mv_auc_critical: float = 0.75
    mv_auc_lower: float = 0.55  # the AUC interval's lower end must exceed this
    # skew inference
    skew_min_psi: float = 0.25  # only features drifting at least this much are examined
    skew_max_psi_after: float = 0.05  # the transformed batch must match this well
    skew_max_ratio_after: float = 0.2  # ... and at most this share of the drift may remain
    seed: int = 0

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any] | None) -> DriftConfig:
        cfg = cls()
        for k, v in (m or {}).items():
            if hasattr(cfg, k):
                setattr(cfg, k, type(getattr(cfg, k))(v))
        return cfg


# ---------------------------------------------------------------------------------------------
# elementary statistics on counts


def _shares(counts: ArrayLike, smoothing: float) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    return (counts + smoothing) / (counts.sum() + smoothing * len(counts))


def psi(ref_counts: ArrayLike, cur_counts: ArrayLike, smoothing: float = 0.5) -> float:
    """Population stability index sum((q - p) * ln(q / p)) over bins, with additive smoothing."""
    p = _shares(np.asarray(ref_counts), smoothing)
    q = _shares(np.asarray(cur_counts), smoothing)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_terms(ref_counts: ArrayLike, cur_counts: ArrayLike, smoothing: float = 0.5) -> np.ndarray:
    p = _shares(np.asarray(ref_counts), smoothing)
    q = _shares(np.asarray(cur_counts), smoothing)
    return (q - p) * np.log(q / p)


def chi2_test(ref_counts, cur_counts) -> tuple[float, float]:
    """Chi-square test of homogeneity on a 2 x K table (empty columns dropped)."""
    from scipy.stats import chi2

    a = np.asarray(ref_counts, dtype=np.float64)
    b = np.asarray(cur_counts, dtype=np.float64)
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    if len(a) < 2 or a.sum() == 0 or b.sum() == 0:
        return 0.0, 1.0
    tot = a + b
    na, nb, n = a.sum(), b.sum(), a.sum() + b.sum()
    ea, eb = tot * na / n, tot * nb / n
    stat = float(np.sum((a - ea) ** 2 / ea) + np.sum((b - eb) ** 2 / eb))
    return stat, float(chi2.sf(stat, len(a) - 1))


def psi_rows(ref: np.ndarray, cur: np.ndarray, smoothing: float) -> np.ndarray:
    """`psi` of ref against each row of cur (many windows at once, as `mltriage monitor` needs)."""
    p = (ref + smoothing) / (ref.sum() + smoothing * len(ref))
    q = (cur + smoothing) / (cur.sum(axis=1, keepdims=True) + smoothing * cur.shape[1])
    return np.sum((q - p) * np.log(q / p), axis=1)


def chi2_rows(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """The p-value of `chi2_test` of ref against each row of cur (empty columns dropped row by
    row; 1 where a row or ref is empty or fewer than two columns are left)."""
    from scipy.stats import chi2

    tot = ref + cur
    keep = tot > 0
    na, nb = ref.sum(), cur.sum(axis=1, keepdims=True)
    n = na + nb
    with np.errstate(divide="ignore", invalid="ignore"):
        ea, eb = tot * na / n, tot * nb / n
        terms = np.where(keep, (ref - ea) ** 2 / ea + (cur - eb) ** 2 / eb, 0.0)
    stat = terms.sum(axis=1)
    dof = keep.sum(axis=1) - 1
    pv = np.ones(len(cur))
    ok = (dof >= 1) & (nb[:, 0] > 0) & (na > 0)
    pv[ok] = chi2.sf(stat[ok], dof[ok])
    return pv


def ks_from_counts(ref_counts, cur_counts) -> tuple[float, float]:
    """KS statistic from two binned CDFs (a lower bound of the exact one) and its p-value."""
    from scipy.stats import kstwo

    a = np.asarray(ref_counts, dtype=np.float64)
    b = np.asarray(cur_counts, dtype=np.float64)
    na, nb = a.sum(), b.sum()
    if na == 0 or nb == 0:
        return 0.0, 1.0
    d = float(np.max(np.abs(np.cumsum(a) / na - np.cumsum(b) / nb)))
    ne = max(int(round(na * nb / (na + nb))), 1)
    return d, float(kstwo.sf(d, ne))


def js_distance(ref_counts, cur_counts) -> float:
    """Jensen-Shannon distance (base 2: 0 identical, 1 disjoint)."""
    p = np.asarray(ref_counts, dtype=np.float64)
    q = np.asarray(cur_counts, dtype=np.float64)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(x, y):
        nz = x > 0
        return float(np.sum(x[nz] * np.log2(x[nz] / y[nz])))

    return float(math.sqrt(max(0.5 * kl(p, m) + 0.5 * kl(q, m), 0.0)))


def _quantile_fn(p: NumericProfile, counts: np.ndarray | None = None):
    """(cumulative shares, x positions) of p's histogram: its piecewise-linear quantile fn."""
    counts = p.counts if counts is None else counts
    x = hist_support(p)
    c = np.concatenate(([0.0], np.cumsum(counts, dtype=np.float64)))
    c = c / max(c[-1], 1.0)
    if p.quantiles_exact and p.quantiles:
        # the exact quantiles stored in a fresh profile sharpen the tails (the outer bins)
        qp = np.array(list(p.quantiles.keys()), dtype=np.float64)
        qx = np.array(list(p.quantiles.values()), dtype=np.float64)
        c = np.concatenate((c, qp))
        x = np.concatenate((x, qx))
        order = np.lexsort((x, c))
        c, x = c[order], np.maximum.accumulate(x[order])
    return c, x


def wasserstein_from_profiles(ref: NumericProfile, cur: NumericProfile, grid: int = 2000) -> float:
    """W1 = integral over u of |Q_ref(u) - Q_cur(u)|, the quantile functions interpolated inside
    the histogram bins (outer bins span up to each side's own min/max)."""
    if ref.n == 0 or cur.n == 0:
        return 0.0
    cr, xr = _quantile_fn(ref)
    cc, xc = _quantile_fn(cur)
    u = np.unique(np.concatenate((np.linspace(0.0, 1.0, grid + 1), cr, cc)))
    qr = np.interp(u, cr, xr)
    qc = np.interp(u, cc, xc)
    d = np.abs(qr - qc)
    return float(np.sum(0.5 * (d[1:] + d[:-1]) * np.diff(u)))


def rebin(p: NumericProfile, edges: np.ndarray) -> NumericProfile:
    """p's histogram moved onto other edges (mass spread uniformly inside each source bin);
    used when a batch profile was not computed `like` its reference."""
    c, x = _quantile_fn(p)
    targets = np.concatenate(([-np.inf], np.asarray(edges, np.float64), [np.inf]))
    # cumulative mass below each target edge by interpolating the CDF (x -> c)
    xs, idx = np.unique(x, return_index=True)
    cdf_at = np.interp(np.clip(targets, xs[0], xs[-1]), xs, np.maximum.accumulate(c)[idx])
    cdf_at[0], cdf_at[-1] = 0.0, 1.0
    counts = np.round(np.diff(cdf_at) * p.n).astype(np.int64)
    q = NumericProfile.from_dict(p.name, p.to_dict())
    q.edges, q.counts = np.asarray(edges, np.float64), counts
    return q


# ---------------------------------------------------------------------------------------------
# per-feature comparison


@dataclass
class FeatureDrift:
    column: str
    kind: str
    n_ref: int
    n_cur: int
    psi: float = 0.0
    p_value: float = 1.0  # chi-square on the bins (the significance gate)
    chi2: float = 0.0
    dof: int = 0  # the chi-square's degrees of freedom (non-empty bins - 1)
    ks: float | None = None
    ks_p_value: float | None = None
    wasserstein: float | None = None
    wasserstein_norm: float | None = None
    js: float | None = None
    drifted: bool = False
    severity: str = "none"  # none, warning, critical
    tested: bool = True
    reason: str = ""
    summary: dict[str, Any] = field(default_factory=dict)  # means, quantiles, shares moved
    importance: float | None = None  # the feature's importance to the model, when known

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in list(d.items()):
            if isinstance(v, float):
                d[k] = round(v, 6) if math.isfinite(v) else None
        return d


def extra_bin(ref_p, cur_p) -> tuple[list[int], list[int]]:
    """A bin for values that are missing, infinite or unparsable, when either side has some."""

    def nonfinite(p):
        if isinstance(p, NumericProfile):
            return p.missing + p.unparsed + p.pos_inf + p.neg_inf
        return p.missing

    a, b = nonfinite(ref_p), nonfinite(cur_p)
    return ([a], [b]) if (a or b) else ([], [])


def _grade(fd: FeatureDrift, cfg: DriftConfig) -> FeatureDrift:
    if fd.n_cur < cfg.min_rows or fd.n_ref < cfg.min_rows:
        fd.tested = False
        fd.reason = f"too few values to test ({fd.n_ref} reference, {fd.n_cur} current; need {cfg.min_rows})"
        return fd
    significant = fd.p_value < cfg.alpha
    if fd.psi >= cfg.psi_warning and significant:
        fd.drifted = True
        fd.severity = "critical" if fd.psi >= cfg.psi_critical else "warning"
        fd.reason = f"PSI {fd.psi:.3f} >= {cfg.psi_warning} and p = {fd.p_value:.2g} < {cfg.alpha}"
    elif fd.psi >= cfg.psi_warning:
        fd.reason = f"PSI {fd.psi:.3f} but not significant (p = {fd.p_value:.2g}): batch too small"
    elif significant:
        fd.reason = f"significant (p = {fd.p_value:.2g}) but PSI {fd.psi:.4f} below the effect floor {cfg.psi_warning}"
    return fd


def compare_numeric(ref: NumericProfile, cur: NumericProfile, cfg: DriftConfig | None = None) -> FeatureDrift:
    cfg = cfg or DriftConfig()
    if len(ref.edges) != len(cur.edges) or not np.array_equal(ref.edges, cur.edges):
        cur = rebin(cur, ref.edges)
    xa, xb = extra_bin(ref, cur)
    rc = np.concatenate((ref.counts, xa)).astype(np.float64)
    cc = np.concatenate((cur.counts, xb)).astype(np.float64)
    fd = FeatureDrift(column=ref.name, kind="numeric", n_ref=int(rc.sum()), n_cur=int(cc.sum()))
    if fd.n_ref == 0 or fd.n_cur == 0:
        fd.tested, fd.reason = False, "no values on one side"
        return fd
    fd.psi = psi(rc, cc, cfg.smoothing)
    fd.chi2, fd.p_value = chi2_test(rc, cc)
    fd.dof = int(np.count_nonzero((rc + cc) > 0)) - 1
    fd.ks, fd.ks_p_value = ks_from_counts(ref.counts, cur.counts)
    if ref.n and cur.n:
        w = wasserstein_from_profiles(ref, cur)
        fd.wasserstein = w
        fd.wasserstein_norm = w / ref.scale()
    terms = psi_terms(rc, cc, cfg.smoothing)
    fd.summary = {
        "mean_ref": ref.mean if ref.n else None,
        "mean_cur": cur.mean if cur.n else None,
        "std_ref": ref.std,
        "std_cur": cur.std,
        "median_ref": ref.quantile(0.5),
        "median_cur": cur.quantile(0.5),
        "min_ref": ref.min,
        "max_ref": ref.max,
        "min_cur": cur.min,
        "max_cur": cur.max,
        "missing_rate_ref": ref.missing_rate,
        "missing_rate_cur": cur.missing_rate,
        "share_below_ref_min": float(cur.counts[0] / cur.n) if cur.n else 0.0,
        "share_above_ref_max": float(cur.counts[-1] / cur.n) if cur.n else 0.0,
        "top_bin_psi_share": float(terms.max() / fd.psi) if fd.psi > 0 else 0.0,
    }
    return _grade(fd, cfg)


def compare_categorical(
    ref: CategoricalProfile, cur: CategoricalProfile, cfg: DriftConfig | None = None
) -> FeatureDrift:
    cfg = cfg or DriftConfig()
    keys = list(ref.counts) + [k for k in cur.counts if k not in ref.counts]
    rc = [ref.counts.get(k, 0) for k in keys] + [ref.other]
    cc = [cur.counts.get(k, 0) for k in keys] + [cur.other]
    if ref.missing or cur.missing:
        rc.append(ref.missing)
        cc.append(cur.missing)
    rc_a, cc_a = np.asarray(rc, np.float64), np.asarray(cc, np.float64)
    fd = FeatureDrift(column=ref.name, kind="categorical", n_ref=int(rc_a.sum()), n_cur=int(cc_a.sum()))
    if fd.n_ref == 0 or fd.n_cur == 0:
        fd.tested, fd.reason = False, "no values on one side"
        return fd
    fd.psi = psi(rc_a, cc_a, cfg.smoothing)
    fd.chi2, fd.p_value = chi2_test(rc_a, cc_a)
    fd.dof = int(np.count_nonzero((rc_a + cc_a) > 0)) - 1
    fd.js = js_distance(rc_a, cc_a)
    new = [k for k in cur.counts if k not in ref.counts] if ref.other == 0 else []
    nr, nc = max(ref.n, 1), max(cur.n, 1)
    moved = sorted(keys, key=lambda k: -abs(cur.counts.get(k, 0) / nc - ref.counts.get(k, 0) / nr))
    fd.summary = {
        "new_categories": {str(scalar(k)): round(cur.counts[k] / nc, 6) for k in new[:20]},
        "new_share": float(sum(cur.counts[k] for k in new) / nc),
        "largest_moves": [
            {
                "category": scalar(k),
                "share_ref": round(ref.counts.get(k, 0) / nr, 6),
                "share_cur": round(cur.counts.get(k, 0) / nc, 6),
            }
            for k in moved[:5]
        ],
        "missing_rate_ref": ref.missing_rate,
        "missing_rate_cur": cur.missing_rate,
    }
    return _grade(fd, cfg)


@dataclass
class DriftReport:
    features: dict[str, FeatureDrift]
    n_ref: int
    n_cur: int
    only_in_reference: list[str] = field(default_factory=list)
    only_in_current: list[str] = field(default_factory=list)
    config: DriftConfig = field(default_factory=DriftConfig)

    def drifted(self, order: str = "psi") -> list[FeatureDrift]:
        """Drifted features, by importance to the model (when known) then PSI, or by PSI."""
        out = [f for f in self.features.values() if f.drifted]
        if order == "importance":
            return sorted(out, key=lambda f: (-(f.importance or 0.0), -f.psi))
        return sorted(out, key=lambda f: -f.psi)

    def set_importance(self, importance: Mapping[str, float]) -> None:
        for c, f in self.features.items():
            if c in importance:
                f.importance = float(importance[c])

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_ref": self.n_ref,
            "n_cur": self.n_cur,
            "only_in_reference": self.only_in_reference,
            "only_in_current": self.only_in_current,
            "config": asdict(self.config),
            "features": {c: f.to_dict() for c, f in self.features.items()},
        }


def compare_profiles(
    ref: Profile, cur: Profile, cfg: DriftConfig | None = None, columns: Iterable[str] | None = None
) -> DriftReport:
    """Per-feature drift of `cur` against `ref`, from the two profiles alone."""
    cfg = cfg or DriftConfig()
    cols = [
        c for c in (columns if columns is not None else ref.columns) if c in ref.columns and c in cur.columns
    ]
    feats: dict[str, FeatureDrift] = {}
    for c in cols:
        r, k = ref.columns[c], cur.columns[c]
        if isinstance(r, NumericProfile) and isinstance(k, NumericProfile):
            feats[c] = compare_numeric(r, k, cfg)
        elif isinstance(r, CategoricalProfile) and isinstance(k, CategoricalProfile):
            feats[c] = compare_categorical(r, k, cfg)
        else:  # kind changed: a schema problem, not a distribution one
            feats[c] = FeatureDrift(
                column=c,
                kind=r.kind,
                n_ref=r.rows,
                n_cur=k.rows,
                tested=False,
                reason=f"{r.kind} in the reference, {k.kind} in the batch",
            )
    return DriftReport(
        features=feats,
        n_ref=ref.rows,
        n_cur=cur.rows,
        only_in_reference=[c for c in ref.columns if c not in cur.columns],
        only_in_current=[c for c in cur.columns if c not in ref.columns],
        config=cfg,
    )


def drift_frames(
    reference: pd.DataFrame | Profile,
    current: pd.DataFrame | Profile,
    cfg: DriftConfig | None = None,
    categorical: Iterable[str] = (),
    columns: Iterable[str] | None = None,
) -> tuple[DriftReport, Profile, Profile]:
    """Profile what is not yet a profile (the batch on the reference's edges) and compare."""
    cfg = cfg or DriftConfig()
    cols = list(columns) if columns is not None else None
    ref = (
        reference
        if isinstance(reference, Profile)
        else build_profile(reference, categorical=categorical, columns=cols)
    )
    cur = (
        current
        if isinstance(current, Profile)
        else build_profile(current, like=ref, categorical=categorical, columns=cols)
    )
    return compare_profiles(ref, cur, cfg, cols), ref, cur


# ---------------------------------------------------------------------------------------------
# multivariate: a classifier telling reference rows from current rows


@dataclass
class DomainClassifierResult:
    auc: float
    auc_low: float
    auc_high: float
    n_per_side: int
    importances: dict[str, float]  # held-out AUC lost when the feature is permuted
    drifted: bool = False
    severity: str = "none"

    def top(self, k: int = 5, min_importance: float = 0.005) -> list[str]:
        ranked = sorted(self.importances.items(), key=lambda kv: -kv[1])
        return [c for c, v in ranked[:k] if v >= min_importance]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # how much each feature tells the batch from the reference (AUC lost when permuted): not the
        # model's importance, which has one number per feature across the report
        d.pop("importances")
        d["separation"] = {
            k: round(v, 5) for k, v in sorted(self.importances.items(), key=lambda kv: -kv[1])[:15]
        }
        return d


def encode_for_classifier(
    frames: list[pd.DataFrame], columns: list[str], categorical: set[str]
) -> np.ndarray:
    """Numeric columns as floats (text parsed), categorical ones as shared integer codes."""
    n = sum(len(f) for f in frames)
    X = np.empty((n, len(columns)), dtype=np.float64)
    for j, c in enumerate(columns):
        parts = [f[c] for f in frames]
        if c in categorical or not all(pd.api.types.is_numeric_dtype(p.dtype) for p in parts):
            joined = pd.concat([p.astype(object) for p in parts], ignore_index=True)
            if c not in categorical:  # numeric in one frame, text in the other: parse
                num = pd.to_numeric(joined, errors="coerce")
                if num.notna().mean() >= 0.9 * joined.notna().mean():
                    X[:, j] = num.to_numpy(np.float64, na_value=np.nan)
                    continue
            codes, _ = pd.factorize(joined.astype(str).where(joined.notna(), None))
            X[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            X[:, j] = np.concatenate([to_float_array(p)[0] for p in parts])
    X[~np.isfinite(X)] = np.nan
    return X


def _one_thread():
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="openmp")
    except Exception:  # pragma: no cover - threadpoolctl ships with scikit-learn
        import contextlib

        return contextlib.nullcontext()


def domain_classifier(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str],
    categorical: Iterable[str] = (),
    cfg: DriftConfig | None = None,
) -> DomainClassifierResult | None:
    """Train a classifier to tell reference rows from current rows on a balanced subsample."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    cfg = cfg or DriftConfig()
    columns = [c for c in columns if c in reference.columns and c in current.columns]
    m = min(len(reference), len(current), cfg.mv_sample)
    if not columns or m < 50:
        return None
    rng = np.random.default_rng(cfg.seed)
    ri = np.sort(rng.choice(len(reference), m, replace=False))
    ci = np.sort(rng.choice(len(current), m, replace=False))
    X = encode_for_classifier(
        [reference[columns].iloc[ri], current[columns].iloc[ci]], columns, set(categorical)
    )
    y = np.r_[np.zeros(m), np.ones(m)]
    half = rng.permutation(2 * m)
    tr, te = half[:m], half[m:]
    clf = HistGradientBoostingClassifier(
        max_iter=40,
        learning_rate=0.2,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        early_stopping=False,
        random_state=cfg.seed,
    )
    # one OpenMP thread: on this small sample more threads gain little, and on a busy machine
    # OpenMP's spinning threads make HistGradientBoosting 10-30x slower
    with _one_thread():
        clf.fit(X[tr], y[tr])
        Xte, yte = X[te], y[te]
        auc = roc_auc(yte, clf.predict_proba(Xte)[:, 1])
        lo, hi = auc_interval(auc, int(yte.sum()), int(len(yte) - yte.sum()))
        imps: dict[str, float] = {}
        if auc > 0.55:  # importances only mean something when there is something to explain
            keep = rng.permutation(len(yte))[:2000]  # permutation importance on <= 2,000 rows
            Xte, yte = Xte[keep], yte[keep]
            base = roc_auc(yte, clf.predict_proba(Xte)[:, 1])
            for j, c in enumerate(columns):
                saved = Xte[:, j].copy()
                Xte[:, j] = saved[rng.permutation(len(saved))]
                imps[c] = max(base - roc_auc(yte, clf.predict_proba(Xte)[:, 1]), 0.0)
                Xte[:, j] = saved
    res = DomainClassifierResult(auc=auc, auc_low=lo, auc_high=hi, n_per_side=m, importances=imps)
    if auc >= cfg.mv_auc_warning and lo > cfg.mv_auc_lower:
        res.drifted = True
        res.severity = "critical" if auc >= cfg.mv_auc_critical else "warning"
    return res
