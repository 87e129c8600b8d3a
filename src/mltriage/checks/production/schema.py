"""production.schema_change: the batch against the schema inferred from the reference (columns,
types, category sets, domains), with the likely rename of a missing column found from values."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...findings import CRITICAL, WARNING, Finding, Severity
from ...registry import Findings, Interval, Param, Params, check
from ...stats.drift import compare_numeric
from ...stats.production import ProductionInputs
from ...stats.profile import (
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    profile_categorical,
    profile_numeric,
)
from ..pipeline.skew import PIPELINE_BUG

if TYPE_CHECKING:
    from ...context import Context


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


def _categorical_psi(rp: CategoricalProfile, cp: CategoricalProfile) -> float | None:
    """PSI of a candidate column's categories against the missing one's, when they share most."""
    shared = sum(v for k, v in cp.counts.items() if k in rp.counts) / cp.n
    if shared < 0.5:
        return None
    return float(
        np.sum(
            [
                (cp.counts.get(k, 0) / cp.n - v / rp.n)
                * math.log((cp.counts.get(k, 0) + 0.5) / (cp.n + 0.5) / ((v + 0.5) / (rp.n + 0.5)))
                for k, v in rp.counts.items()
            ]
        )
    )


def _psi_vs_missing(rp: ColumnProfile | None, s: pd.Series, name: str, missing: str) -> float | None:
    """How far the values of batch column `name` are from the missing reference column's."""
    if isinstance(rp, NumericProfile):
        try:
            cp = profile_numeric(s, name, edges=rp.edges)
            cp.name = missing
            if cp.n >= max(5, 0.5 * len(s) * (1 - rp.missing_rate)):
                return compare_numeric(rp, cp).psi
        except Exception:
            return None
    elif isinstance(rp, CategoricalProfile):
        cc = profile_categorical(s, name, keep=rp.counts)
        if cc.n:
            return _categorical_psi(rp, cc)
    return None


def _rename_candidates(inp: ProductionInputs, missing: str, extras: list[str]) -> list[dict]:
    """Batch columns the reference lacks, scored by how well their values match `missing`."""
    rp = inp.ref.columns.get(missing)
    out: list[dict[str, Any]] = []
    for e in extras:
        name_sim = difflib.SequenceMatcher(None, missing.lower(), e.lower()).ratio()
        psi_v = _psi_vs_missing(rp, inp.current[e], e, missing)
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


@dataclass
class _Issues:
    """The schema problems found so far, the columns they name and the worst severity."""

    items: list[dict] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    severity: Severity | None = None

    def add(self, kind: str, cols: list[str], text: str, severity: Severity, **ev: Any) -> None:
        self.items.append({"kind": kind, "columns": cols, "detail": text, **ev})
        for c in cols:
            if c not in self.columns:
                self.columns.append(c)
        if self.severity is None or severity.rank > self.severity.rank:
            self.severity = severity


def _missing_column(issues: _Issues, inp: ProductionInputs, col: str, extras: list[str]) -> None:
    cands = _rename_candidates(inp, col, extras)
    if not cands:
        issues.add("missing", [col], f"{col!r} is missing from the batch", inp.missing_severity)
        return
    best = cands[0]
    if best["values_match"]:
        psi_txt = f", PSI {best['psi_vs_missing']:.3f})" if best["psi_vs_missing"] is not None else ")"
        why = " (its values match the training distribution" + psi_txt
    else:
        why = " (similar name)"
    issues.add(
        "renamed",
        [col, best["column"]],
        f"{col!r} is missing; {best['column']!r} is probably it renamed" + why,
        CRITICAL,
        candidates=cands[:3],
    )


def _type_change(issues: _Issues, col: str, rp: ColumnProfile, s: pd.Series) -> bool:
    """An empty column or a type change (then nothing else is checked on the column)."""
    fam_ref, fam_cur = _dtype_family(rp.dtype), _dtype_family(str(s.dtype))
    n_nonnull = int(s.notna().sum())
    if n_nonnull == 0 and rp.missing_rate < 0.5:
        issues.add(
            "empty",
            [col],
            f"{col!r} arrives empty (all missing) but is {1 - rp.missing_rate:.0%} filled in training",
            CRITICAL,
        )
        return True
    if (
        isinstance(rp, NumericProfile)
        and fam_ref in ("numeric", "bool")
        and fam_cur not in ("numeric", "bool")
    ):
        num = pd.to_numeric(s, errors="coerce")
        parse = float(num.notna().sum() / max(n_nonnull, 1))
        bad = s[num.isna() & s.notna()]
        issues.add(
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
        return True
    if (
        isinstance(rp, CategoricalProfile)
        and fam_ref != fam_cur
        and {fam_ref, fam_cur} != {"text", "category"}
    ):
        issues.add(
            "type",
            [col],
            f"{col!r} was {rp.dtype} in training and arrives as {s.dtype}",
            CRITICAL,
            dtype_reference=rp.dtype,
            dtype_current=str(s.dtype),
        )
        return True
    return False


def _new_categories(
    issues: _Issues, col: str, rp: CategoricalProfile, cp: CategoricalProfile, p: Params
) -> None:
    new = {k: v for k, v in cp.counts.items() if k not in rp.counts}
    share = (sum(new.values()) + cp.other) / max(cp.n, 1)
    if not new or share < float(p.new_category_share):
        return
    top = sorted(new.items(), key=lambda kv: -kv[1])[:5]
    issues.add(
        "new_categories",
        [col],
        f"{col!r} carries {len(new)} categor{'y' if len(new) == 1 else 'ies'} unseen in "
        f"training in {share:.1%} of rows: " + ", ".join(f"{k!r} ({v / cp.n:.1%})" for k, v in top),
        WARNING if share < 0.2 else CRITICAL,
        new_categories={str(k): v for k, v in top},
        share=round(share, 4),
    )


def _domain(issues: _Issues, col: str, rp: NumericProfile, s: pd.Series, p: Params) -> None:
    """Negative values where training had none; decimals where training had whole numbers."""
    domain_share = float(p.domain_share)
    x = pd.to_numeric(s, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    x = x[np.isfinite(x)]
    if rp.min is not None and rp.min >= 0 and len(x):
        neg = float(np.mean(x < 0))
        if neg >= domain_share:
            issues.add(
                "domain",
                [col],
                f"{col!r} has negative values in {neg:.1%} of rows; training never had any (min {rp.min:g})",
                WARNING,
                share=round(neg, 4),
            )
    if rp.integer and rp.n >= 50 and len(x):
        frac = float(np.mean(x != np.round(x)))
        if frac >= max(domain_share, 0.05):
            issues.add(
                "domain",
                [col],
                f"{col!r} was always a whole number in training; {frac:.0%} of batch values have decimals",
                WARNING,
                share=round(frac, 4),
            )


def _fix_text(issues: list[dict]) -> str:
    parts = []
    for i in issues:
        col = i["columns"][0]
        if i["kind"] == "renamed":
            parts.append(
                f"rename {i['columns'][1]!r} back to {col!r} in the serving path (or map it in the feature store)"
            )
        elif i["kind"] == "type":
            parts.append(
                f"cast {col!r} to {i.get('dtype_reference', 'its training type')} "
                "before the model and find the step that serialises it as text"
            )
        elif i["kind"] == "new_categories":
            parts.append(
                f"decide what {col!r}'s new values mean: map them to a known "
                "category, or retrain with them once labelled rows exist (a real new value "
                "is population change)"
            )
        elif i["kind"] in ("missing", "empty"):
            parts.append(f"restore {col!r} in the batch (the model needs it)")
        elif i["kind"] == "domain":
            parts.append(f"validate {col!r}'s range at ingestion")
    return "; ".join(dict.fromkeys(parts)) + ". " + PIPELINE_BUG


def schema_findings(inp: ProductionInputs, p: Params) -> list[Finding]:
    """The schema finding of a batch (empty when it keeps the reference's schema)."""
    cur = inp.current
    issues = _Issues()
    ref_cols = set(inp.ref.columns)
    extras = [c for c in cur.columns if c not in ref_cols and c not in inp.ignore]
    for col in inp.features:
        rp = inp.ref.columns.get(col)
        if rp is None:
            continue
        if col not in cur.columns:
            _missing_column(issues, inp, col, extras)
            continue
        s = cur[col]
        if _type_change(issues, col, rp, s):
            continue
        cp = inp.cur_profile.columns.get(col)
        if isinstance(rp, CategoricalProfile) and isinstance(cp, CategoricalProfile) and rp.other == 0:
            _new_categories(issues, col, rp, cp, p)
        if isinstance(rp, NumericProfile) and isinstance(cp, NumericProfile) and cp.n:
            _domain(issues, col, rp, s, p)
    if not issues.items or issues.severity is None:
        return []
    kinds = sorted({i["kind"] for i in issues.items})
    title = (
        f"The batch breaks the training schema ({', '.join(kinds)}): "
        + "; ".join(i["detail"] for i in issues.items[:3])
        + (f"; {len(issues.items) - 3} more" if len(issues.items) > 3 else "")
    )
    return [
        Finding(
            "production.schema_change",
            issues.severity,
            title,
            columns=issues.columns,
            evidence={"issues": issues.items, "extra_columns": extras[:20]},
            root_cause="the producer of the batch changed (a renamed field, a new export format, "
            "a new category upstream) without the model's input contract changing with it",
            fix=_fix_text(issues.items),
            impact=1.0 if issues.severity == CRITICAL else 0.3,
        )
    ]


@check(
    "production.schema_change",
    requires=("current",),
    new_category_share=Param(
        0.005,
        Interval(float, 0, 1),
        "share of batch rows in categories unseen in training from which they are reported",
    ),
    domain_share=Param(
        0.005,
        Interval(float, 0, 1),
        "share of batch rows outside the training domain (negative values, decimals) reported",
    ),
)
def schema_change(ctx: Context, p: Params) -> Findings:
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
    return schema_findings(ctx.production(), p)
