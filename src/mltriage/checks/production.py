"""Rung 8, production: the production batch (`--current`) against the reference and the model.

The reference for the inputs is the training set (what the model learned from); the reference for
the model's outputs and performance is the evaluation set (scores on training rows are optimistic).
The reference side is summarised once into a mergeable `Profile` (stats/profile.py) and every
check here reads the same cached profiles and drift report (stats/drift.py). The same logic serves
`mltriage drift --reference REF --current CUR`, where REF may be a saved profile (no rows).

Retrain or fix: drift of the population (PSI >= 0.25 on an important feature, a drop in AUC or
accuracy over 0.05) is a retrain trigger; a train/serving skew, a schema change or a
serialization mismatch is a pipeline bug, and retraining on such data would only hide it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..findings import CRITICAL, WARNING, Finding
from ..registry import NotApplicable, check
from ..stats.drift import (
    DomainClassifierResult,
    DriftConfig,
    DriftReport,
    compare_numeric,
    compare_profiles,
    domain_classifier,
    infer_skew,
)
from ..stats.profile import (
    CategoricalProfile,
    NumericProfile,
    Profile,
    build_profile,
    is_numeric_dtype,
    profile_categorical,
    profile_numeric,
)

RETRAIN = (
    "This is a change in the population, not a bug: if it hurts (PSI >= 0.25 on an important "
    "feature, or estimated/observed AUC or accuracy down by more than 0.05) retrain on recent "
    "data that includes it; otherwise keep monitoring. Rule out a pipeline bug first "
    "(pipeline.train_serving_skew, production.schema_change): retraining on broken inputs "
    "would hide the bug."
)
PIPELINE_BUG = (
    "This is a pipeline bug, not a change in the world: fix the serving path; do not "
    "retrain on these values (the model would learn the bug)."
)

DRIFT_PARAMS = dict(
    psi_warning=0.1,
    psi_critical=0.25,
    alpha=0.001,
    min_rows=30,
    mv_auc_warning=0.6,
    mv_auc_critical=0.75,
    mv_sample=5000,
    important_share=0.05,
)


# ---------------------------------------------------------------------------------------------
# shared state: profiles, drift report, importance (computed once per run)


@dataclass
class ProductionInputs:
    """What the production checks read, from a diagnose Context or from `mltriage drift`."""

    ref: Profile  # reference profile (training rows)
    current: pd.DataFrame  # the batch (rows)
    features: list[str]  # columns compared (the model's inputs)
    categorical: list[str]
    report: DriftReport
    cur_profile: Profile
    ignore: set[str] = field(default_factory=set)  # target, prediction column, role columns
    importance: dict[str, float] | None = None  # feature -> share of the model's sensitivity
    ref_frame: pd.DataFrame | None = None  # reference rows, when available
    skews: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # columns left out, and why
    missing_severity: Any = CRITICAL  # a reference column absent from the batch

    @property
    def common(self) -> list[str]:
        return [c for c in self.features if c in self.current.columns and c in self.ref.columns]


def drift_config(p: Mapping[str, Any] | None) -> DriftConfig:
    return DriftConfig.from_mapping(
        {k: v for k, v in (p or {}).items() if k in DriftConfig.__dataclass_fields__}
    )


def make_inputs(
    ref: Profile | pd.DataFrame,
    current: pd.DataFrame,
    features: list[str],
    categorical: Iterable[str],
    cfg: DriftConfig,
    ignore: Iterable[str] = (),
    importance: dict[str, float] | None = None,
    ref_rows: pd.DataFrame | None = None,
) -> ProductionInputs:
    cat = [c for c in categorical]
    ref_frame = None
    skipped: dict[str, str] = {}
    for c in features:  # time stamps always "drift"; identifiers are new in every batch
        if c in current.columns and pd.api.types.is_datetime64_any_dtype(current[c]):
            skipped[c] = "a date/time column (later batches always differ)"
    features = [c for c in features if c not in skipped]
    if not isinstance(ref, Profile):
        ref_frame = ref
    if ref_rows is not None:
        ref_frame = ref_rows
    if ref_frame is not None:
        for c in features:  # integer row identifiers: every value unique
            if (
                c in ref_frame.columns
                and c not in cat
                and len(ref_frame) >= 200
                and pd.api.types.is_integer_dtype(ref_frame[c])
                and ref_frame[c].is_unique
            ):
                skipped[c] = "an identifier-like column (every value unique)"
        features = [c for c in features if c not in skipped]
    if not isinstance(ref, Profile):
        ref = build_profile(ref[[c for c in features if c in ref.columns]], categorical=cat)
    for c in features:
        rp = ref.columns.get(c)
        if isinstance(rp, CategoricalProfile) and rp.n >= 200 and rp.n_unique >= 0.5 * rp.n and c not in cat:
            skipped[c] = "an identifier-like column (mostly unique values)"
    features = [c for c in features if c not in skipped]
    common = [c for c in features if c in current.columns and c in ref.columns]
    cur_profile = build_profile(current[common], like=ref, categorical=cat)
    report = compare_profiles(ref, cur_profile, cfg, common)
    report.only_in_current = [c for c in current.columns if c not in ref.columns]
    if importance:
        report.set_importance(importance)
    return ProductionInputs(
        ref=ref,
        current=current,
        features=list(features),
        categorical=cat,
        report=report,
        cur_profile=cur_profile,
        ignore=set(ignore),
        importance=importance,
        ref_frame=ref_frame,
        skipped=skipped,
    )


def _drift_params(ctx) -> dict[str, Any]:
    return dict(ctx.config.params("production.data_drift"))


def _inputs(ctx) -> ProductionInputs:
    c = ctx.case
    if c.current is None:
        raise NotApplicable("no production batch (--current) was given")

    def compute():
        cfg = drift_config(_drift_params(ctx))
        ignore = {c.target, c.prediction_column, c.time_column, c.group_column} - {None}
        features = [f for f in c.features if f not in ignore]
        ref_frame = ctx.frame("train")
        inp = make_inputs(ref_frame, c.current, features, c.categorical, cfg, ignore)
        inp.importance = _importance(ctx)
        if inp.importance:
            inp.report.set_importance(inp.importance)
        return inp

    return ctx.cached("production:inputs", compute)


def model_sensitivity(
    model, X: pd.DataFrame, task: str, columns: list[str], positive_index: int | None = None, seed: int = 0
) -> dict[str, float] | None:
    """Each feature's share of the model's sensitivity: the mean change of its output when the
    feature's values are permuted across rows (a cheap permutation importance without labels)."""
    rng = np.random.default_rng(seed)

    def out(df):
        if task in ("binary", "multiclass") and model.has_proba:
            pr = model.predict_proba(df)
            return pr if pr is not None else None
        v = model.predict_raw(df)
        return pd.to_numeric(pd.Series(np.asarray(v).ravel()), errors="coerce").to_numpy(float)

    try:
        base = out(X)
    except Exception:
        return None
    if base is None:
        return None
    scale = 1.0 if base.ndim == 2 else (float(np.nanstd(base)) or 1.0)
    raw: dict[str, float] = {}
    for col in columns:
        if col not in X.columns:
            continue
        Xp = X.copy()
        Xp[col] = X[col].to_numpy()[rng.permutation(len(X))]
        try:
            o = out(Xp)
        except Exception:
            continue
        d = np.abs(o - base)
        raw[col] = float(np.nanmean(d.sum(axis=1) / 2 if d.ndim == 2 else d / scale))
    tot = sum(raw.values())
    if tot <= 0:
        return {k: 0.0 for k in raw}
    return {k: v / tot for k, v in raw.items()}


def _importance(ctx) -> dict[str, float] | None:
    c = ctx.case
    if c.model is None or c.model.kind == "precomputed":
        return None

    def compute():
        idx = ctx.sample_index("test", 800, seed=ctx.config.seed)
        X = ctx.frame("test").iloc[idx][c.features].reset_index(drop=True)
        return model_sensitivity(c.model, X, c.task, list(c.features), seed=ctx.config.seed)

    try:
        return ctx.cached("production:importance", compute)
    except Exception:
        return None


def _fmt_share(v: float | None) -> str:
    return "?" if v is None else f"{v:.0%}" if v >= 0.01 else f"{v:.1%}"


# ---------------------------------------------------------------------------------------------
# the findings, as functions of ProductionInputs (shared with `mltriage drift`)


def data_drift_findings(
    inp: ProductionInputs, p: Mapping[str, Any], mv: DomainClassifierResult | None = None
) -> list[Finding]:
    rep = inp.report
    order = "importance" if inp.importance else "psi"
    drifted = rep.drifted(order)
    imp_share = float(p.get("important_share", 0.05))
    table = []
    for f in drifted:
        row = {
            "column": f.column,
            "kind": f.kind,
            "psi": round(f.psi, 4),
            "p_value": f.p_value,
            "severity": f.severity,
            "importance": None if f.importance is None else round(f.importance, 4),
        }
        if f.kind == "numeric":
            row.update(
                ks=round(f.ks or 0, 4),
                wasserstein_norm=round(f.wasserstein_norm or 0, 4),
                mean_ref=f.summary.get("mean_ref"),
                mean_cur=f.summary.get("mean_cur"),
            )
        else:
            row.update(
                js=round(f.js or 0, 4),
                chi2=round(f.chi2, 2),
                largest_moves=f.summary.get("largest_moves", [])[:3],
                new_categories=f.summary.get("new_categories"),
            )
        if f.column in inp.skews:
            row["likely_skew"] = inp.skews[f.column].description
        table.append(row)
    evidence: dict[str, Any] = {
        "drifted": table,
        "tested": sum(1 for f in rep.features.values() if f.tested),
        "rows": {"reference": rep.n_ref, "current": rep.n_cur},
        "thresholds": {
            "psi_warning": rep.config.psi_warning,
            "psi_critical": rep.config.psi_critical,
            "alpha": rep.config.alpha,
            "rule": "drifted when PSI >= psi_warning and the chi-square p-value < alpha",
        },
        "ranked_by": "importance to the model" if inp.importance else "PSI (no model importance)",
    }
    if inp.skipped:
        evidence["not_compared"] = inp.skipped
    if mv is not None:
        evidence["multivariate"] = mv.to_dict()
    if drifted:

        def important(f):
            return f.importance is None or f.importance >= imp_share

        crit = [f for f in drifted if f.severity == "critical" and important(f)]
        sev = CRITICAL if crit else WARNING
        parts = []
        for f in drifted[:4]:
            imp = "" if f.importance is None else f", importance {_fmt_share(f.importance)}"
            parts.append(f"{f.column} (PSI {f.psi:.2f}{imp})")
        more = f" and {len(drifted) - 4} more" if len(drifted) > 4 else ""
        title = f"{len(drifted)} feature(s) drifted in the production batch: {', '.join(parts)}{more}"
        if not crit and any(f.severity == "critical" for f in drifted):
            title += "; the strongest drift is on features the model barely uses"
        mv_txt = (
            f" A classifier tells reference from batch rows with AUC {mv.auc:.2f}." if mv is not None else ""
        )
        skew_cols = [f.column for f in drifted if f.column in inp.skews]
        root = (
            "the batch comes from a different population than the training rows (new customers, "
            "season, product change) or an upstream change of how the features are computed." + mv_txt
        )
        if skew_cols:
            root += (
                f" {', '.join(skew_cols)} look(s) like a serving bug rather than real drift "
                "(see pipeline.train_serving_skew)."
            )
        return [
            Finding(
                "production.data_drift",
                sev,
                title,
                columns=[f.column for f in drifted],
                evidence=evidence,
                root_cause=root,
                fix=RETRAIN,
                impact=min(1.0, max(f.psi for f in drifted) / 2),
            )
        ]
    if mv is not None and mv.drifted:
        top = mv.top(5)
        title = (
            f"The batch as a whole is distinguishable from the reference (domain classifier AUC "
            f"{mv.auc:.2f}) though no single feature drifts past PSI {rep.config.psi_warning}: "
            f"mostly {', '.join(top[:3]) or 'several features'}"
        )
        return [
            Finding(
                "production.data_drift",
                WARNING,
                title,
                columns=top,
                evidence=evidence,
                root_cause="a change in how features move together (their joint distribution), "
                "too small per feature for univariate tests",
                fix=RETRAIN,
                impact=max(mv.auc - 0.5, 0.0),
            )
        ]
    return []


def _dtype_family(dtype: str) -> str:
    d = str(dtype).lower()
    if d.startswith(("int", "uint", "float", "int64", "float64")) or d in ("int32", "float32"):
        return "numeric"
    if d.startswith("bool"):
        return "bool"
    if "datetime" in d:
        return "datetime"
    if d == "category":
        return "category"
    return "text"


def _rename_candidates(inp: ProductionInputs, missing: str, extras: list[str]) -> list[dict]:
    """Batch columns the reference lacks, scored by how well their values match `missing`."""
    rp = inp.ref.columns.get(missing)
    out = []
    for e in extras:
        s = inp.current[e]
        name_sim = difflib.SequenceMatcher(None, missing.lower(), e.lower()).ratio()
        psi_v = None
        if isinstance(rp, NumericProfile):
            try:
                cp = profile_numeric(s, e, edges=rp.edges)
                cp.name = missing
                if cp.n >= max(5, 0.5 * len(s) * (1 - rp.missing_rate)):
                    psi_v = compare_numeric(rp, cp).psi
            except Exception:
                psi_v = None
        elif isinstance(rp, CategoricalProfile):
            cp = profile_categorical(s, e, keep=rp.counts)
            if cp.n:
                shared = sum(v for k, v in cp.counts.items() if k in rp.counts) / cp.n
                psi_v = (
                    None
                    if shared < 0.5
                    else float(
                        np.sum(
                            [
                                (cp.counts.get(k, 0) / cp.n - v / rp.n)
                                * math.log(
                                    (cp.counts.get(k, 0) + 0.5) / (cp.n + 0.5) / ((v + 0.5) / (rp.n + 0.5))
                                )
                                for k, v in rp.counts.items()
                            ]
                        )
                    )
                )
        match = psi_v is not None and psi_v < 0.1
        if match or name_sim >= 0.75:
            out.append(
                {
                    "column": e,
                    "psi_vs_missing": None if psi_v is None else round(psi_v, 4),
                    "name_similarity": round(name_sim, 2),
                    "values_match": match,
                }
            )
    out.sort(
        key=lambda d: (
            not d["values_match"],
            d["psi_vs_missing"] if d["psi_vs_missing"] is not None else 9,
            -d["name_similarity"],
        )
    )
    return out


def schema_findings(inp: ProductionInputs, p: Mapping[str, Any]) -> list[Finding]:
    cur = inp.current
    issues: list[dict] = []
    columns: list[str] = []
    sev = None
    ref_cols = set(inp.ref.columns)
    extras = [c for c in cur.columns if c not in ref_cols and c not in inp.ignore]
    new_share = float(p.get("new_category_share", 0.005))
    domain_share = float(p.get("domain_share", 0.005))

    def add(kind, cols, text, severity, **ev):
        nonlocal sev
        issues.append({"kind": kind, "columns": cols, "detail": text, **ev})
        for c in cols:
            if c not in columns:
                columns.append(c)
        if sev is None or severity.rank > sev.rank:
            sev = severity

    for col in inp.features:
        rp = inp.ref.columns.get(col)
        if rp is None:
            continue
        if col not in cur.columns:
            cands = _rename_candidates(inp, col, extras)
            if cands:
                best = cands[0]
                add(
                    "renamed",
                    [col, best["column"]],
                    f"{col!r} is missing; {best['column']!r} is probably it renamed"
                    + (
                        " (its values match the training distribution"
                        + (
                            f", PSI {best['psi_vs_missing']:.3f})"
                            if best["psi_vs_missing"] is not None
                            else ")"
                        )
                        if best["values_match"]
                        else " (similar name)"
                    ),
                    CRITICAL,
                    candidates=cands[:3],
                )
            else:
                add("missing", [col], f"{col!r} is missing from the batch", inp.missing_severity)
            continue
        s = cur[col]
        fam_ref, fam_cur = _dtype_family(rp.dtype), _dtype_family(str(s.dtype))
        n_nonnull = int(s.notna().sum())
        if n_nonnull == 0 and rp.missing_rate < 0.5:
            add(
                "empty",
                [col],
                f"{col!r} arrives empty (all missing) but is {1 - rp.missing_rate:.0%} filled in training",
                CRITICAL,
            )
            continue
        if (
            isinstance(rp, NumericProfile)
            and fam_ref in ("numeric", "bool")
            and fam_cur not in ("numeric", "bool")
        ):
            num = pd.to_numeric(s, errors="coerce")
            parse = float(num.notna().sum() / max(n_nonnull, 1))
            bad = s[num.isna() & s.notna()]
            add(
                "type",
                [col],
                f"{col!r} was {rp.dtype} in training and arrives as {s.dtype} "
                f"({parse:.0%} of its values parse as numbers)",
                CRITICAL,
                dtype_reference=rp.dtype,
                dtype_current=str(s.dtype),
                parse_rate=round(parse, 4),
                examples=[str(v) for v in s.dropna().astype(str).head(3)] + [str(v) for v in bad.head(3)],
            )
            continue
        if (
            isinstance(rp, CategoricalProfile)
            and fam_ref != fam_cur
            and {fam_ref, fam_cur} != {"text", "category"}
        ):
            add(
                "type",
                [col],
                f"{col!r} was {rp.dtype} in training and arrives as {s.dtype}",
                CRITICAL,
                dtype_reference=rp.dtype,
                dtype_current=str(s.dtype),
            )
            continue
        cp = inp.cur_profile.columns.get(col)
        if isinstance(rp, CategoricalProfile) and isinstance(cp, CategoricalProfile) and rp.other == 0:
            new = {k: v for k, v in cp.counts.items() if k not in rp.counts}
            share = (sum(new.values()) + cp.other) / max(cp.n, 1)
            if new and share >= new_share:
                top = sorted(new.items(), key=lambda kv: -kv[1])[:5]
                add(
                    "new_categories",
                    [col],
                    f"{col!r} carries {len(new)} categor{'y' if len(new) == 1 else 'ies'} unseen in "
                    f"training in {share:.1%} of rows: "
                    + ", ".join(f"{k!r} ({v / cp.n:.1%})" for k, v in top),
                    WARNING if share < 0.2 else CRITICAL,
                    new_categories={str(k): v for k, v in top},
                    share=round(share, 4),
                )
        if isinstance(rp, NumericProfile) and isinstance(cp, NumericProfile) and cp.n:
            x = pd.to_numeric(s, errors="coerce").to_numpy(np.float64, na_value=np.nan)
            x = x[np.isfinite(x)]
            if rp.min is not None and rp.min >= 0 and len(x):
                neg = float(np.mean(x < 0))
                if neg >= domain_share:
                    add(
                        "domain",
                        [col],
                        f"{col!r} has negative values in {neg:.1%} of rows; training "
                        f"never had any (min {rp.min:g})",
                        WARNING,
                        share=round(neg, 4),
                    )
            if rp.integer and rp.n >= 50 and len(x):
                frac = float(np.mean(x != np.round(x)))
                if frac >= max(domain_share, 0.05):
                    add(
                        "domain",
                        [col],
                        f"{col!r} was always a whole number in training; "
                        f"{frac:.0%} of batch values have decimals",
                        WARNING,
                        share=round(frac, 4),
                    )
    if not issues:
        return []
    kinds = sorted({i["kind"] for i in issues})
    title = (
        f"The batch breaks the training schema ({', '.join(kinds)}): "
        + "; ".join(i["detail"] for i in issues[:3])
        + (f"; {len(issues) - 3} more" if len(issues) > 3 else "")
    )
    fix_parts = []
    for i in issues:
        if i["kind"] == "renamed":
            fix_parts.append(
                f"rename {i['columns'][1]!r} back to {i['columns'][0]!r} in the serving "
                "path (or map it in the feature store)"
            )
        elif i["kind"] == "type":
            fix_parts.append(
                f"cast {i['columns'][0]!r} to {i.get('dtype_reference', 'its training type')} "
                "before the model and find the step that serialises it as text"
            )
        elif i["kind"] == "new_categories":
            fix_parts.append(
                f"decide what {i['columns'][0]!r}'s new values mean: map them to a known "
                "category, or retrain with them once labelled rows exist (a real new value "
                "is population change)"
            )
        elif i["kind"] in ("missing", "empty"):
            fix_parts.append(f"restore {i['columns'][0]!r} in the batch (the model needs it)")
        elif i["kind"] == "domain":
            fix_parts.append(f"validate {i['columns'][0]!r}'s range at ingestion")
    return [
        Finding(
            "production.schema_change",
            sev,
            title,
            columns=columns,
            evidence={"issues": issues, "extra_columns": extras[:20]},
            root_cause="the producer of the batch changed (a renamed field, a new export format, "
            "a new category upstream) without the model's input contract changing with it",
            fix="; ".join(dict.fromkeys(fix_parts)) + ". " + PIPELINE_BUG,
            impact=1.0 if sev == CRITICAL else 0.3,
        )
    ]


def ood_findings(inp: ProductionInputs, p: Mapping[str, Any]) -> list[Finding]:
    cur = inp.current
    margin = float(p.get("margin", 0.1))
    min_share = float(p.get("min_share", 0.005))
    min_rows = int(p.get("min_rows", 5))
    any_far = np.zeros(len(cur), dtype=bool)
    per_col: list[dict] = []
    cols_far: dict[str, np.ndarray] = {}
    # a column whose whole distribution moved (critical PSI) is drift, reported by data_drift:
    # out-of-distribution is about a minority of rows far outside an otherwise familiar batch
    moved = {c for c, f in inp.report.features.items() if f.drifted and f.severity == "critical"}
    for col in inp.common:
        if col in moved:
            continue
        rp = inp.ref.columns[col]
        if not isinstance(rp, NumericProfile) or rp.min is None or rp.max is None:
            continue
        x = (
            pd.to_numeric(cur[col], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            if not is_numeric_dtype(cur[col])
            else cur[col].to_numpy(np.float64, na_value=np.nan)
        )
        span = rp.max - rp.min
        m = margin * (span if span > 0 else max(abs(rp.max), 1.0))
        lo, hi = rp.min - m, rp.max + m
        far = (x < lo) | (x > hi)  # NaN compares False; +/-inf counts as far
        k = int(far.sum())
        if k:
            any_far |= far
            cols_far[col] = far
            xf = x[far]
            per_col.append(
                {
                    "column": col,
                    "rows": k,
                    "share": round(k / len(cur), 5),
                    "train_range": [rp.min, rp.max],
                    "allowed": [lo, hi],
                    "batch_range_outside": [float(np.min(xf)), float(np.max(xf))],
                }
            )
    n_far = int(any_far.sum())
    share = n_far / max(len(cur), 1)
    if n_far < min_rows or share < min_share:
        return []
    per_col.sort(key=lambda d: -d["rows"])
    flagged = [d for d in per_col if d["rows"] >= max(min_rows, 0.1 * n_far)] or per_col[:1]
    cols = [d["column"] for d in flagged]
    rows = np.flatnonzero(any_far)[:5]
    examples = []
    for r in rows:
        ex = {"row": int(r)}
        for c in cols[:4]:
            ex[c] = cur[c].iloc[r] if not isinstance(cur[c].iloc[r], (np.generic,)) else cur[c].iloc[r].item()
        examples.append(ex)
    sev = CRITICAL if share >= float(p.get("critical_share", 0.05)) else WARNING
    title = f"{share:.1%} of production rows ({n_far:,}) lie far outside the training range, in " + ", ".join(
        f"{d['column']} (up to {d['batch_range_outside'][1]:.4g} vs training max {d['train_range'][1]:.4g})"
        if d["batch_range_outside"][1] > d["train_range"][1]
        else f"{d['column']} (down to {d['batch_range_outside'][0]:.4g} vs training min "
        f"{d['train_range'][0]:.4g})"
        for d in flagged[:3]
    )
    return [
        Finding(
            "production.out_of_distribution",
            sev,
            title,
            columns=cols,
            evidence={
                "share": round(share, 5),
                "rows": n_far,
                "by_column": per_col,
                "examples": examples,
                "rule": f"a value is far outside when beyond the training [min, max] by more "
                f"than {margin:.0%} of the range",
                "left_to_data_drift": sorted(moved),
            },
            root_cause="rows the model has never seen anything like: it extrapolates there "
            "(trees flatten, linear models explode). Often an entry or unit error "
            "upstream for a few rows, or a genuinely new segment.",
            fix=(
                "Route these rows to a fallback (reject, flag for review, or a conservative "
                "default) and validate ranges at ingestion. If they are errors, fix the "
                "producer (a pipeline bug: do not retrain on them); if they are a real new "
                "segment, collect labels and retrain with it."
            ),
            impact=min(share * 5, 1.0),
        )
    ]


def _categorical_skew(rp: CategoricalProfile, s: pd.Series) -> dict | None:
    """New batch categories that are training categories written differently (case, spaces)."""
    if rp.other:
        return None
    norm = lambda v: str(v).strip().casefold()  # noqa: E731
    ref_norm = {norm(k): k for k in rp.counts}
    vc = s.dropna().astype(str).value_counts()
    new = {k: int(v) for k, v in vc.items() if k not in {str(r) for r in rp.counts}}
    if not new:
        return None
    mapped = {k: ref_norm[norm(k)] for k in new if norm(k) in ref_norm}
    share_new = sum(new.values()) / max(int(vc.sum()), 1)
    share_mapped = sum(new[k] for k in mapped) / max(sum(new.values()), 1)
    if share_new >= 0.05 and share_mapped >= 0.8:
        return {"mapping": {k: str(v) for k, v in list(mapped.items())[:10]}, "share": round(share_new, 4)}
    return None


def skew_findings(inp: ProductionInputs, p: Mapping[str, Any], cfg: DriftConfig) -> list[Finding]:
    out = []
    for col in inp.common:
        fd = inp.report.features.get(col)
        rp = inp.ref.columns[col]
        if fd is None or not fd.tested:
            continue
        if isinstance(rp, NumericProfile) and fd.kind == "numeric" and fd.psi >= cfg.skew_min_psi:
            res = infer_skew(rp, inp.current[col], cfg)
            if res is None:
                continue
            inp.skews[col] = res
            out.append(
                Finding(
                    "pipeline.train_serving_skew",
                    CRITICAL,
                    f"{col}: {res.description}; undoing it ({res.transform['undo']}) brings the batch back "
                    f"to the training distribution (PSI {res.psi_before:.2f} -> {res.psi_after:.3f})",
                    columns=[col],
                    evidence={"inferred": res.to_dict(), "drift": fd.to_dict()},
                    root_cause="the serving path computes this feature differently from the training "
                    "pipeline (another unit, a scaling step applied twice or not at all, "
                    "another default for missing values)",
                    fix=f"{res.fix}. {PIPELINE_BUG}",
                    impact=1.0,
                )
            )
        elif isinstance(rp, CategoricalProfile) and fd.kind == "categorical" and fd.drifted:
            res = _categorical_skew(rp, inp.current[col])
            if res is None:
                continue
            inp.skews[col] = type("S", (), {"description": "categories written differently"})()
            out.append(
                Finding(
                    "pipeline.train_serving_skew",
                    CRITICAL,
                    f"{col}: {res['share']:.0%} of batch values are training categories written "
                    f"differently (case or spaces), e.g. "
                    + ", ".join(f"{k!r} -> {v!r}" for k, v in list(res["mapping"].items())[:3]),
                    columns=[col],
                    evidence={"inferred": {"kind": "text_normalisation", **res}, "drift": fd.to_dict()},
                    root_cause="the serving path normalises text differently from training (case, "
                    "whitespace), so the encoder sees unknown categories",
                    fix=f"apply the training normalisation to {col} in serving (same case and trimming). "
                    + PIPELINE_BUG,
                    impact=1.0,
                )
            )
    return out


def prediction_drift_finding(
    ref_scores: pd.Series | None,
    cur_scores: pd.Series,
    kind: str,
    cfg: DriftConfig,
    extra: dict | None = None,
    ref_profile: Profile | None = None,
) -> Finding | None:
    """kind: numeric (scores, regression outputs) or categorical (predicted classes).
    ref_profile: a profile with a "prediction" column instead of the reference's scores."""
    cat = ["prediction"] if kind == "categorical" else []
    rp = (
        ref_profile
        if ref_profile is not None
        else build_profile(pd.DataFrame({"prediction": ref_scores}), categorical=cat)
    )
    cp = build_profile(pd.DataFrame({"prediction": cur_scores}), like=rp, categorical=cat)
    fd = compare_profiles(rp, cp, cfg).features["prediction"]
    ev = {"drift": fd.to_dict(), **(extra or {})}
    if not fd.drifted:
        return None
    sev = CRITICAL if fd.severity == "critical" else WARNING
    if kind == "numeric":
        s = fd.summary
        what = (
            f"mean {s['mean_ref']:.4g} -> {s['mean_cur']:.4g}, median {s['median_ref']:.4g} -> "
            f"{s['median_cur']:.4g}"
        )
    else:
        moves = fd.summary.get("largest_moves", [])[:2]
        what = ", ".join(f"{m['category']!r} {m['share_ref']:.0%} -> {m['share_cur']:.0%}" for m in moves)
    if extra and "positive_rate" in extra:
        pr = extra["positive_rate"]
        what += f"; predicted positive rate {pr['reference']:.1%} -> {pr['current']:.1%}"
    return Finding(
        "production.prediction_drift",
        sev,
        f"The model's outputs moved between the evaluation set and the batch (PSI {fd.psi:.2f}): {what}",
        evidence=ev,
        root_cause="the inputs drifted in directions the model uses, or a serving bug "
        "changed its inputs; the output distribution is the first place it shows",
        fix="find the input that explains it (production.data_drift ranks them by "
        "importance; pipeline.train_serving_skew and production.schema_change rule out "
        "bugs). " + RETRAIN,
        impact=min(fd.psi / 2, 1.0),
    )


# ---------------------------------------------------------------------------------------------
# the checks


@check("production.data_drift", requires=("current",), **DRIFT_PARAMS)
def data_drift(ctx, p):
    """Features whose production distribution differs from the training distribution.

    What it detects
        Per feature: PSI on the training set's quantile bins (numeric; with under/overflow bins)
        or categories (categorical), with KS, normalised Wasserstein, chi-square and
        Jensen-Shannon as supporting statistics. A feature has drifted when PSI >= psi_warning
        (0.1) and the chi-square test on the same bins gives p < alpha (0.001); critical at
        psi_critical (0.25) on a feature holding at least important_share (5%) of the model's
        sensitivity. PSI is the effect-size floor, so trivial shifts on millions of rows never
        alarm. A domain classifier (reference rows vs batch rows, 5,000 a side) adds the
        multivariate view: its AUC and the features it relies on. Drifted features are ranked by
        their importance to the model.
    Why it matters
        A model is only validated on the population it was evaluated on; drift on a feature the
        model relies on moves its error in ways the offline metrics never measured.
    How to confirm
        Compare histograms of the feature in training and in the batch (the evidence lists PSI,
        means and the categories that moved); `mltriage profile` + `mltriage drift` repeat it on
        later batches against the same reference.
    Fix
        Rule out pipeline bugs first (train_serving_skew, schema_change). Real population change
        with PSI >= 0.25 on an important feature, or an AUC drop over 0.05, is a retrain trigger:
        retrain on recent data. Drift on unimportant features: monitor only.
    """
    inp = _inputs(ctx)
    if not inp.common:
        raise NotApplicable("the batch shares no model feature with the training set")
    cfg = inp.report.config
    c = ctx.case
    mv = ctx.cached(
        "production:mv",
        lambda: domain_classifier(ctx.frame("train"), c.current, inp.common, c.categorical, cfg),
    )
    if not inp.skews:  # let the data-drift table point at skews when they exist
        try:
            skew_findings(inp, {}, cfg)
        except Exception:
            pass
    return data_drift_findings(inp, p, mv)


@check(
    "production.prediction_drift",
    requires=("model", "current"),
    psi_warning=0.1,
    psi_critical=0.25,
    alpha=0.001,
)
def prediction_drift(ctx, p):
    """The distribution of the model's outputs moved between the evaluation set and the batch.

    What it detects
        PSI (with a chi-square significance gate) between the model's scores on the evaluation
        set and on the production batch: the positive-class probability (binary), the predicted
        class (multiclass) or the prediction (regression), plus the predicted positive rate.
    Why it matters
        Output drift is visible before labels arrive and is what downstream decisions feel: a
        shifted score distribution changes how many cases pass the threshold.
    How to confirm
        Histogram the scores of the evaluation set and of the batch; compare the share above the
        threshold in use.
    Fix
        Find the inputs that explain it (production.data_drift ranks them by importance) and rule
        out a serving bug; a real population change that hurts is a retrain trigger.
    """
    c = ctx.case
    ref, cur = ctx.predictions("test"), ctx.predictions("current")
    cfg = drift_config(p)
    extra: dict[str, Any] = {}
    if c.task == "multiclass":
        f = prediction_drift_finding(
            pd.Series(ref.label).astype(str), pd.Series(cur.label).astype(str), "categorical", cfg
        )
    else:
        if c.task == "binary":
            thr = ctx.threshold
            extra["positive_rate"] = {
                "reference": float(np.nanmean(ref.score >= thr)),
                "current": float(np.nanmean(cur.score >= thr)),
                "threshold": thr,
            }
        f = prediction_drift_finding(
            pd.Series(ref.score, dtype=float), pd.Series(cur.score, dtype=float), "numeric", cfg, extra
        )
    return f


def _headline(ctx) -> tuple[str, bool]:
    c = ctx.case
    if c.task == "binary":
        m = c.metric if c.metric in ("roc_auc", "accuracy", "f1") else "roc_auc"
        return m, True
    if c.task == "multiclass":
        return "accuracy", True
    if c.task == "regression":
        return ("mae", False) if c.metric in ("mae", None, "rmse") else ("r2", True)
    raise NotApplicable(f"no performance comparison for {c.task} tasks")


def _metric_fn(name: str, positive, threshold: float):
    from sklearn import metrics as skm

    def f(y, score, label):
        if name == "roc_auc":
            yy = (y == positive).astype(int)
            return float(skm.roc_auc_score(yy, score)) if 0 < yy.sum() < len(yy) else float("nan")
        if name == "accuracy":
            return float(np.mean(y == label))
        if name == "f1":
            yy = y == positive
            pp = label == positive
            tp = np.sum(yy & pp)
            den = 2 * tp + np.sum(~yy & pp) + np.sum(yy & ~pp)
            return float(2 * tp / den) if den else float("nan")
        if name == "mae":
            return float(np.mean(np.abs(y.astype(float) - score)))
        if name == "r2":
            return float(skm.r2_score(y.astype(float), score))
        raise ValueError(name)

    return f


@check(
    "production.concept_drift",
    requires=("model", "current", "current_labels"),
    tasks=("binary", "multiclass", "regression"),
    min_drop=0.05,
    min_rel_drop=0.2,
    n_boot=200,
    stable_psi=0.25,
)
def concept_drift(ctx, p):
    """With labels in the batch: performance dropped against the evaluation set while inputs held.

    What it detects
        The headline metric (ROC AUC or the metric you report; accuracy for multiclass; MAE or
        R2 for regression) on the labelled batch against the evaluation set, with a bootstrap
        interval of the difference. A drop of at least min_drop (0.05 absolute; min_rel_drop
        (20%) of the error for MAE) whose interval excludes zero is flagged. If no important
        input drifted (no feature with PSI >= stable_psi holding 5% of the model's
        sensitivity), the cause is the relation between features and label: concept drift
        (critical). If inputs moved too, part of the drop may be covariate shift (warning).
    Why it matters
        The model's learned P(y | x) no longer holds: it is confidently wrong in ways no input
        monitor can see, and only labelled feedback reveals it.
    How to confirm
        Compare the metric on recent labelled rows with the evaluation set per segment, and the
        label rate per segment (a segment whose outcome rate changed at equal inputs).
    Fix
        Retrain on recent labelled data (the AUC drop > 0.05 is a retrain trigger); consider a
        shorter retraining cycle or weighting recent rows, and add the drivers of the change as
        features.
    """
    c = ctx.case
    metric, greater = _headline(ctx)
    ref, cur = ctx.predictions("test"), ctx.predictions("current")
    y_ref = np.asarray(ctx.y("test"))
    y_cur = np.asarray(ctx.y("current"))
    ok = pd.notna(y_cur)
    fn = _metric_fn(metric, c.positive, ctx.threshold)
    rs, rl = np.asarray(ref.score, float), np.asarray(ref.label)
    cs, cl = np.asarray(cur.score, float)[ok], np.asarray(cur.label)[ok]
    y_cur = y_cur[ok]
    if len(y_cur) < 30:
        raise NotApplicable(f"only {len(y_cur)} labelled rows in the batch")
    m_ref, m_cur = fn(y_ref, rs, rl), fn(y_cur, cs, cl)
    if not (np.isfinite(m_ref) and np.isfinite(m_cur)):
        raise NotApplicable(f"{metric} is undefined on one of the sets (a single class?)")
    rng = np.random.default_rng(ctx.config.seed)
    diffs = []
    nr, nc = min(len(y_ref), 20000), min(len(y_cur), 20000)
    for _ in range(int(p.n_boot)):
        i = rng.integers(0, len(y_ref), nr)
        j = rng.integers(0, len(y_cur), nc)
        d = fn(y_ref[i], rs[i], rl[i]) - fn(y_cur[j], cs[j], cl[j])
        if np.isfinite(d):
            diffs.append(d if greater else -d)
    drop = (m_ref - m_cur) if greater else (m_cur - m_ref)
    lo, hi = (
        (float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))) if diffs else (np.nan, np.nan)
    )
    floor = float(p.min_drop) if greater else float(p.min_rel_drop) * abs(m_ref)
    ev: dict[str, Any] = {
        "metric": metric,
        "evaluation": round(m_ref, 4),
        "current": round(m_cur, 4),
        "drop": round(drop, 4),
        "drop_interval": [round(lo, 4), round(hi, 4)],
        "rows": {"evaluation": len(y_ref), "current": int(len(y_cur))},
    }
    if c.task == "binary":
        ev["label_rate"] = {
            "evaluation": float(np.mean(y_ref == c.positive)),
            "current": float(np.mean(y_cur == c.positive)),
        }
    if not (drop >= floor and lo > 0):
        return None
    inp = _inputs(ctx)
    imp_share = float(_drift_params(ctx)["important_share"])
    moved = [
        f
        for f in inp.report.features.values()
        if f.drifted and f.psi >= float(p.stable_psi) and (f.importance is None or f.importance >= imp_share)
    ]
    max_psi = max((f.psi for f in inp.report.features.values() if f.tested), default=0.0)
    ev["inputs"] = {
        "max_feature_psi": round(max_psi, 4),
        "moved_important_features": [f.column for f in moved],
    }
    fmt = (lambda v: f"{v:.3f}") if greater else (lambda v: f"{v:.4g}")
    if not moved:
        sev = CRITICAL
        title = (
            f"Concept drift: {metric} {fmt(m_ref)} on the evaluation set vs {fmt(m_cur)} on the "
            f"labelled batch (drop {drop:.3g}, 95% interval {lo:.3g} to {hi:.3g}) while the inputs "
            f"are stable (max feature PSI {max_psi:.3f})"
        )
        root = "the relation between the features and the label changed: same inputs, other outcomes"
    else:
        sev = WARNING
        title = (
            f"{metric} dropped from {fmt(m_ref)} to {fmt(m_cur)} on the labelled batch (drop {drop:.3g}); "
            f"inputs moved too ({', '.join(f.column for f in moved[:3])}), so part of it may be "
            "covariate shift rather than concept drift"
        )
        root = "performance fell; with drifted inputs it cannot be attributed to the label relation alone"
    if "label_rate" in ev:
        lr = ev["label_rate"]
        title += f"; the positive rate went {lr['evaluation']:.1%} -> {lr['current']:.1%}"
    return Finding(
        "production.concept_drift",
        sev,
        title,
        evidence=ev,
        root_cause=root,
        fix="Retrain on recent labelled data (a drop over 0.05 is a retrain trigger), "
        "shorten the retraining cycle or weight recent rows, and look for the "
        "segment whose outcome rate changed (errors.underperforming_slice on the batch).",
        impact=min(abs(drop) * 5, 1.0),
    )


@check(
    "production.estimated_performance_drop",
    requires=("model", "current"),
    tasks=("binary", "multiclass", "regression"),
    min_drop=0.03,
    critical_drop=0.08,
    min_rel_increase=0.25,
    n_boot=200,
)
def estimated_performance_drop(ctx, p):
    """Without labels in the batch: estimated performance from the model's confidence dropped.

    What it detects
        Classification: the scores are calibrated on the evaluation set (isotonic), then the
        batch's expected accuracy, F1 and ROC AUC follow from the calibrated probabilities
        (confidence-based performance estimation, as NannyML's CBPE). Regression: a model of the
        absolute error learned on the evaluation set estimates the batch's MAE (direct loss
        estimation). Flagged when the estimate is worse than the evaluation set's realised value
        by at least min_drop (0.03; critical from 0.08) for accuracy/F1/AUC, or by min_rel_increase
        (25%) for MAE, and the bootstrap interval of the estimate excludes the reference.
    Why it matters
        Labels arrive late (weeks for churn or default); the estimate warns now that the batch
        falls where the model is unsure, before the loss shows in business numbers.
    How to confirm
        When labels arrive, compare with production.concept_drift; meanwhile look at the
        batch's score histogram (mass near the threshold) and at which inputs drifted.
    Fix
        If the drop comes from a new population (see production.data_drift), collect labels for
        it and retrain (an estimated AUC or accuracy drop over 0.05 is a retrain trigger); the
        estimate assumes P(y | x) is unchanged, so confirm with labels when they come.
    """
    c = ctx.case
    if c.has_current_labels:
        raise NotApplicable("the batch has labels: production.concept_drift measures performance directly")
    ref, cur = ctx.predictions("test"), ctx.predictions("current")
    y_ref = np.asarray(ctx.y("test"))
    from ..stats.drift_performance import cbpe_binary, cbpe_multiclass, dle_regression

    if c.task == "binary":
        if not ref.has_proba:
            raise NotApplicable("the model gives no probabilities to estimate performance from")
        metric = c.metric if c.metric in ("accuracy", "f1", "roc_auc") else "roc_auc"
        est = cbpe_binary(
            ref.score,
            (y_ref == c.positive).astype(float),
            cur.score,
            ctx.threshold,
            metric=metric,
            n_boot=int(p.n_boot),
            seed=ctx.config.seed,
        )
        floor, crit = float(p.min_drop), float(p.critical_drop)
        significant = est.high < est.reference
    elif c.task == "multiclass":
        if not ref.has_proba or ref.proba is None or cur.proba is None:
            raise NotApplicable("the model gives no probabilities to estimate performance from")
        est = cbpe_multiclass(
            ref.proba, np.asarray(ref.label) == y_ref, cur.proba, n_boot=int(p.n_boot), seed=ctx.config.seed
        )
        floor, crit = float(p.min_drop), float(p.critical_drop)
        significant = est.high < est.reference
    else:
        from ..stats.drift import _encode_for_classifier

        feats = [f for f in c.features if f in ctx.frame("current").columns]
        te_df, cu_df = ctx.frame("test"), ctx.frame("current")
        X = _encode_for_classifier([te_df[feats], cu_df[feats]], feats, set(c.categorical))
        Xr, Xc = X[: len(te_df)], X[len(te_df) :]
        est = dle_regression(
            Xr, ref.score, y_ref.astype(float), Xc, cur.score, n_boot=int(p.n_boot), seed=ctx.config.seed
        )
        floor = float(p.min_rel_increase) * est.reference
        crit = 2 * floor
        significant = est.low > est.reference
    ev = est.to_dict()
    if not (est.drop >= floor and significant):
        return None
    sev = CRITICAL if est.drop >= crit else WARNING
    better = "" if est.greater_is_better else " (lower is better)"
    title = (
        f"Estimated {est.metric} on the unlabelled batch is {est.estimate:.3f} (95% interval "
        f"{est.low:.3f} to {est.high:.3f}) vs {est.reference:.3f} realised on the evaluation set"
        f"{better}: the batch falls where the model is unsure"
    )
    return Finding(
        "production.estimated_performance_drop",
        sev,
        title,
        evidence=ev,
        root_cause="the batch's rows concentrate where the model's calibrated confidence is "
        "low (a shift towards a harder population), so its expected error rises",
        fix="Check which inputs moved (production.data_drift); collect labels for this "
        "population and retrain if the drop holds (an AUC or accuracy drop over 0.05 is "
        "a retrain trigger). The estimate assumes P(y | x) unchanged: confirm with labels.",
        impact=min(abs(est.drop) * 5, 1.0),
    )


@check("production.schema_change", requires=("current",), new_category_share=0.005, domain_share=0.005)
def schema_change(ctx, p):
    """The batch breaks the schema inferred from training: columns, types, categories, domains.

    What it detects
        Against the training schema (columns, dtypes, nullability, ranges, category sets): model
        columns missing from the batch, with the likely rename found from the values of the
        batch's unknown columns (their distribution matches the missing one's); numeric columns
        arriving as text (with the share that still parses); categorical columns that change
        type; categories never seen in training holding at least new_category_share (0.5%) of the
        rows; columns arriving empty; negative values where training had none and decimals where
        training had whole numbers.
    Why it matters
        A renamed or retyped column reaches the model as missing or garbage: the model predicts
        from its default path for every row, often without raising.
    How to confirm
        Compare `batch.dtypes` and column names with the training frame; `value_counts()` of the
        named categorical columns.
    Fix
        Fix the producer or map the batch back to the training schema in the serving path (rename,
        cast); a pipeline bug, so do not retrain on it. Genuinely new categories need labels and a
        retrain.
    """
    inp = _inputs(ctx)
    return schema_findings(inp, p)


@check(
    "production.out_of_distribution",
    requires=("current",),
    margin=0.1,
    min_share=0.005,
    min_rows=5,
    critical_share=0.05,
)
def out_of_distribution(ctx, p):
    """Production rows far outside the training range, by column and overall.

    What it detects
        Numeric model inputs beyond the training [min, max] by more than margin (10%) of the
        range; the share of batch rows with at least one such value (flagged from min_share,
        0.5%, and min_rows, 5; critical from critical_share, 5%), the columns responsible and
        example rows. Columns whose whole distribution moved (critical drift) are left to
        production.data_drift: this check is about a few rows far outside a familiar batch.
    Why it matters
        The model extrapolates on such rows: tree models flatten to their last leaf, linear
        models grow without bound; either way nothing validated these predictions.
    How to confirm
        Filter the batch on the listed columns beyond the training range and look at the rows
        (often an entry or unit error for a few rows).
    Fix
        Guard the model: reject or flag out-of-range rows, or fall back to a default; fix the
        producer if they are errors (a pipeline bug: do not retrain on them), retrain with the new
        segment if it is real.
    """
    inp = _inputs(ctx)
    return ood_findings(inp, p)


@check("pipeline.train_serving_skew", requires=("current",), skew_min_psi=0.25, skew_max_psi_after=0.05)
def train_serving_skew(ctx, p):
    """A feature computed differently in serving: the batch matches training after undoing it.

    What it detects
        For every feature that drifts strongly (PSI >= skew_min_psi, 0.25), transformations that
        a broken serving path typically applies are tried on the batch: a unit change by a power
        of ten (x10 ... x1e6 and the inverses), values already standardised or min-max scaled, a
        changed default for missing values (another fill value, or NaN where training filled);
        and for categorical features, categories written differently (case, spaces). A feature
        is reported when undoing one of them brings its PSI under skew_max_psi_after (0.05): the
        inferred transformation is the root cause, not a population change.
    Why it matters
        The model receives numbers on another scale than it learned: predictions are wrong for
        every row, silently. Retraining on these values would bake the bug in.
    How to confirm
        Compare the batch column's quantiles with training's: a constant ratio (x100), a mean of 0
        and std of 1, or one fill value swapped for another. Trace the feature's code in serving.
    Fix
        Use the same feature code (or the same transformation artifact) in training and serving;
        fix the unit, scaling or default named in the finding. Do not retrain.
    """
    inp = _inputs(ctx)
    cfg = inp.report.config
    cfg = DriftConfig.from_mapping(
        {
            **{k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
            "skew_min_psi": p.skew_min_psi,
            "skew_max_psi_after": p.skew_max_psi_after,
        }
    )
    return skew_findings(inp, p, cfg)


@check("pipeline.serialization_mismatch", requires=("estimator", "current"), tolerance=1e-3, min_share=0.01)
def serialization_mismatch(ctx, p):
    """The saved model does not reproduce the scores production logged for the same rows.

    What it detects
        When the batch carries the scores production logged (`--prediction-column` with
        `--model`), the saved model rescores the same rows; rows whose logged and recomputed
        scores differ by more than tolerance (1e-3) are counted. Flagged when at least min_share
        (1%) of rows differ: the share, the size of the differences (mean, 95th percentile, max),
        how many decisions flip at the threshold in use, and the worst rows.
    Why it matters
        The model you are debugging is not the one serving: another version, another
        preprocessing, or different library versions. Every offline diagnosis is then about the
        wrong model.
    How to confirm
        Score a handful of logged rows with the artifact in the serving environment and compare;
        check the model registry's version and the library versions in both places.
    Fix
        Deploy the artifact you validated (pin its version and hash), align library versions, and
        log the model version with each score. A pipeline bug: do not retrain.
    """
    c = ctx.case
    col = c.prediction_column
    if not col:
        raise NotApplicable("no logged score column (--prediction-column) was given")
    cur_df = ctx.frame("current")
    if col not in cur_df.columns:
        raise NotApplicable(f"the batch has no column {col!r} of logged scores")
    rec = ctx.predictions("current")
    return serialization_finding(cur_df[col], rec.score, rec.label, c.task, c.classes, ctx.threshold, col, p)


def serialization_finding(
    logged_raw: pd.Series,
    rec_score,
    rec_label,
    task: str,
    classes,
    threshold: float,
    col: str,
    p: Mapping[str, Any],
) -> Finding | None:
    """Logged scores (or classes) against the ones the saved model recomputes for the same rows.
    Raises InputError when the logged column holds neither numbers nor class labels."""
    p = {"tolerance": 1e-3, "min_share": 0.01, **dict(p)}
    tolerance, min_share = float(p["tolerance"]), float(p["min_share"])
    logged = pd.to_numeric(logged_raw, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    parse = float(np.isfinite(logged).sum() / max(int(logged_raw.notna().sum()), 1))
    if task == "multiclass":
        logged, parse = None, 0.0  # multiclass logs are classes: compare labels
    label_mode = False
    if task in ("binary", "multiclass") and (logged is None or parse < 0.9):
        classes = {str(k) for k in (classes or [])}
        vals = set(logged_raw.dropna().astype(str).unique()[:1000])
        if vals and vals <= classes:
            label_mode = True
        else:
            raise InputError(
                f"the logged prediction column {col!r} holds {logged_raw.dtype} values "
                f"that are neither scores nor class labels (e.g. "
                f"{', '.join(map(repr, list(vals)[:3]))})",
                "pass the column of scores production logged (numbers), or the predicted classes",
            )
    if task in ("regression", "ranking") and parse < 0.9:
        raise InputError(
            f"the logged prediction column {col!r} is {logged_raw.dtype}, not numeric "
            f"({parse:.0%} of values are numbers)",
            "pass the column of predictions production logged",
        )
    if label_mode:
        rl = pd.Series(rec_label).astype(str).to_numpy()
        lg = logged_raw.astype(str).to_numpy()
        ok = logged_raw.notna().to_numpy()
        diff_mask = (rl != lg) & ok
        share = float(diff_mask.sum() / max(ok.sum(), 1))
        ev = {
            "compared": "predicted classes",
            "rows": int(ok.sum()),
            "mismatch_rows": int(diff_mask.sum()),
            "mismatch_share": round(share, 5),
        }
        sizes = None
    else:
        if task == "binary" and np.nanmin(logged) >= 0 and np.nanmax(logged) <= 1:
            recomputed = np.asarray(rec_score, float)
        elif task == "binary" and not (np.nanmin(logged) >= 0 and np.nanmax(logged) <= 1):
            raise NotApplicable(
                f"logged scores in {col!r} are outside [0, 1]; cannot compare with probabilities"
            )
        else:
            recomputed = np.asarray(rec_score, float)
        ok = np.isfinite(logged) & np.isfinite(recomputed)
        d = np.abs(logged - recomputed)
        tol = tolerance + 1e-6 * np.abs(recomputed)
        diff_mask = ok & (d > tol)
        share = float(diff_mask.sum() / max(ok.sum(), 1))
        dd = d[ok]
        sizes = {
            "mean_abs_diff": float(dd.mean()) if len(dd) else 0.0,
            "p95_abs_diff": float(np.quantile(dd, 0.95)) if len(dd) else 0.0,
            "max_abs_diff": float(dd.max()) if len(dd) else 0.0,
        }
        ev = {
            "compared": "scores",
            "rows": int(ok.sum()),
            "mismatch_rows": int(diff_mask.sum()),
            "mismatch_share": round(share, 5),
            "tolerance": tolerance,
            **sizes,
        }
        if task == "binary":
            thr = threshold
            flips = ok & ((logged >= thr) != (recomputed >= thr))
            ev["decision_flips"] = int(flips.sum())
            ev["decision_flip_share"] = round(float(flips.sum() / max(ok.sum(), 1)), 5)
        worst = np.argsort(-np.where(ok, d, -1))[:5]
        ev["examples"] = [
            {
                "row": int(i),
                "logged": float(logged[i]),
                "recomputed": float(recomputed[i]),
                "abs_diff": float(d[i]),
            }
            for i in worst
            if ok[i] and d[i] > 0
        ]
    if share < min_share:
        return None
    big = sizes is None or sizes["mean_abs_diff"] >= 0.01 or ev.get("decision_flip_share", 0) >= 0.001
    sev = CRITICAL if big else WARNING
    if sizes is not None:
        title = (
            f"The saved model does not reproduce the logged scores: {share:.1%} of rows differ by "
            f"more than {tolerance:g} (mean |diff| {sizes['mean_abs_diff']:.3g}, max "
            f"{sizes['max_abs_diff']:.3g}"
            + (f", {ev['decision_flips']} decisions flip" if "decision_flips" in ev else "")
            + ")"
        )
    else:
        title = f"The saved model predicts another class than production logged for {share:.1%} of rows"
    return Finding(
        "pipeline.serialization_mismatch",
        sev,
        title,
        evidence=ev,
        root_cause="production serves another model than this artifact (another version or "
        "training run), or the same model behind different preprocessing or "
        "library versions",
        fix="Deploy the validated artifact (pin version and hash), align library versions "
        "between training and serving, log the model version with every score. " + PIPELINE_BUG,
        impact=min(share * 2, 1.0),
    )
