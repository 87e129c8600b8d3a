"""pipeline.preprocessing_leakage and pipeline.version_mismatch: what can be read off the saved
model artifact itself.

The fitted preprocessing steps of a Pipeline remember the rows they were fitted on (row counts,
means, medians, ranges, category lists); the unpickling warnings remember the library versions the
artifact was saved with. Both are checked here without refitting the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ...findings import CRITICAL, INFO, WARNING, Finding, Severity
from ...registry import Findings, Interval, NotApplicable, Param, Params, check
from ...stats.inspect_pipeline import audit_preprocessing, has_preprocessing
from .batch import probe_batch_dependence

if TYPE_CHECKING:
    from ...context import Context


@check(
    "pipeline.preprocessing_leakage",
    max_rows=Param(
        400_000,
        Interval(int, 1, None),
        "most training plus evaluation rows on which the steps are refitted (above: row counts only)",
    ),
)
def preprocessing_leakage(ctx: Context, p: Params) -> Findings:
    """Fitted preprocessing steps whose statistics were learned from more than the training rows.

    What it detects
        Scalers, imputers, encoders and selectors inside the model's Pipeline/ColumnTransformer
        that were fitted on the training rows plus the evaluation rows (or on a larger data set
        before the split). Each step is refitted on the training rows, and on the training plus
        evaluation rows, after the same fitted steps that precede it; a step whose learned
        statistics (`n_samples_seen_`, `statistics_`, `mean_`/`var_`, `data_min_`/`data_max_`,
        `categories_`, ...) equal the train+test refit and not the train refit learned from the
        test rows. Independent evidence: `n_samples_seen_` above the training row count, encoder
        categories that only the evaluation rows contain. A step fitted on fewer rows than the
        training set (a subsample) is not leakage.
    Why it matters
        Statistics of the evaluation rows leak into the features the model is scored with: the
        held-out estimate is no longer held out (usually slightly optimistic, sometimes a lot, as
        with target encoders or feature selectors fitted on all rows), and the artifact cannot be
        reproduced from the training data alone.
        Also a step that learns its statistics at predict time from the batch it is given
        (`FunctionTransformer(scale)`, a per-batch normaliser): 64 evaluation rows are predicted as
        one batch, again (the model must be deterministic), and in chunks of 4; outputs that change
        beyond rounding (relative 1e-6) mean a row's prediction depends on the other rows (the
        check of Giskard's data-leakage detector). Any model, with or without a Pipeline.
    How to confirm
        Compare `model[...].n_samples_seen_` with `len(train)`; refit the step on the training
        rows only and compare its `mean_`/`statistics_` with the saved ones.
    Without a fitted step to read (no Pipeline, or predictions only)
        The data files themselves can carry the leak: a table imputed as a whole before the split
        holds one computed value in every gap of a column. A numeric feature whose most repeated
        training value (5 times or more) is off the column's recording step and equals the
        column's mean or median over training plus evaluation rows (to 1e-9), not over the
        training rows alone, is reported as a warning (`fill_values.baked_fills`; suite kind
        leak_impute_all_baked: mean fills on computers and affairs).
    Fix
        Split first, then fit the whole Pipeline (preprocessing included) on the training rows
        only; cross-validate the Pipeline, never data transformed beforehand.
    """
    if ctx.case.model is not None:
        batch = _batch_finding(ctx)
        if batch is not None:
            return batch
    try:
        found = _artifact_finding(ctx, p)
    except NotApplicable:
        baked = _baked_finding(ctx)
        if baked is None:
            raise
        return baked
    if found is not None and found.severity != INFO:
        return found
    return _baked_finding(ctx) or found


def _artifact_finding(ctx: Context, p: Params) -> Finding | None:
    """The saved model's preprocessing steps audited against refits on train and train + test."""
    c = ctx.case
    if c.model is None or c.model.kind != "estimator":
        raise NotApplicable("no fitted model to read preprocessing steps from")
    est = c.model.estimator
    for _ in range(3):  # a search or wrapper around the pipeline: audit the fitted pipeline inside
        inner = getattr(est, "best_estimator_", None)
        if inner is None or has_preprocessing(est):
            break
        est = inner
    if not has_preprocessing(est):
        raise NotApplicable(
            "the model has no fitted preprocessing steps (not a Pipeline or ColumnTransformer)"
        )
    sets = {"train": ctx.frame("train"), "test": ctx.frame("test")}
    if ctx.has("current") and all(f in ctx.frame("current").columns for f in c.features):
        sets["current"] = ctx.frame("current")
    y = {"train": ctx.y("train"), "test": ctx.y("test")}
    audits = ctx.cached(
        "pipeline:audit", lambda: audit_preprocessing(est, sets, y, c.features, max_rows=int(p.max_rows))
    )
    if not audits:
        raise NotApplicable("no fitted preprocessing step stores statistics of its input")
    n_tr, n_te = len(sets["train"]), len(sets["test"])
    n_cur = len(sets["current"]) if "current" in sets else 0
    dropped = int(c.dropped_target_rows.get("train", 0)) + int(c.dropped_target_rows.get("test", 0))
    leaks, table, stats, reasons = [], [], [], []
    severity: Severity | None = None
    columns: list[str] = []
    smaller = []
    for a in audits:
        table.append(a.row())
        why = []
        sev = None
        if a.verdict.startswith("train+test"):
            why.append(
                f"{a.path} ({a.kind}) learned exactly the statistics of the {a.verdict.replace('+', ' + ')} "
                "rows, not those of the training rows"
            )
            sev = CRITICAL
        if a.n_seen is not None and a.n_seen > a.n_train + dropped:
            hit_test = any(
                abs(a.n_seen - (a.n_train + extra)) <= max(1, dropped)
                for extra in (n_te, n_te + n_cur)
                if extra
            )
            why.append(
                f"{a.path} ({a.kind}) saw {a.n_seen:,.0f} rows while the training set has {a.n_train:,}"
                + (f" (train + test = {a.n_train + n_te:,})" if hit_test else "")
            )
            sev = CRITICAL if (hit_test or sev == CRITICAL) else WARNING
        elif a.n_seen is not None and a.n_seen < a.n_train and a.verdict != "train":
            smaller.append(f"{a.path} saw {a.n_seen:,.0f} of {a.n_train:,} training rows")
        if a.test_only_categories:
            desc = "; ".join(f"{k}: {', '.join(v[:3])}" for k, v in list(a.test_only_categories.items())[:3])
            why.append(f"{a.path} ({a.kind}) knows categories that only the evaluation rows contain ({desc})")
            sev = sev or WARNING
        if not why or sev is None:
            continue
        leaks.append(a)
        reasons.extend(why)
        severity = sev if severity is None or sev.rank > severity.rank else severity
        cols = (
            list(a.test_only_categories)
            if (
                a.test_only_categories
                and not a.verdict.startswith("train+test")
                and not (a.n_seen or 0) > a.n_train
            )
            else (a.leaked_columns or a.columns)
        )
        columns += [x for col in cols for x in col.split("+")]
        stats += a.stats
    if not leaks or severity is None:
        if smaller:
            return Finding(
                "pipeline.preprocessing_leakage",
                INFO,
                "Preprocessing was fitted on a subsample of the training rows (not leakage): "
                + "; ".join(smaller[:3]),
                evidence={"steps": table},
                root_cause="the pipeline was fitted on a sample, or on a different version of the training data",
                fix="nothing to fix if the sample was intended; otherwise refit on the full training set",
            )
        return None
    columns = [x for x in dict.fromkeys(columns) if x in set(c.features)] or list(dict.fromkeys(columns))
    return Finding(
        "pipeline.preprocessing_leakage",
        severity,
        f"Preprocessing learned from more than the training rows: {reasons[0]}",
        columns=columns,
        evidence={
            "reasons": reasons,
            "steps": table,
            "statistics": stats[:30],
            "train_rows": n_tr,
            "test_rows": n_te,
            "current_rows": n_cur or None,
        },
        impact=min(1.0, 0.3 + 0.1 * len(leaks)),
        root_cause="the preprocessing (or the whole pipeline) was fitted before the train/test split, "
        "or on train and test concatenated",
        fix="split first, then fit the Pipeline on the training rows only (Pipeline.fit(X_train, y_train)); "
        "re-evaluate the refitted model on the untouched test rows",
    )


def _batch_finding(ctx: Context) -> Finding | None:
    c = ctx.case
    assert c.model is not None
    if c.model.kind != "estimator" or not all(f in ctx.frame("test").columns for f in c.features):
        return None
    try:
        probe = probe_batch_dependence(c.model, ctx.frame("test")[c.features])
    except Exception:  # a model that cannot predict here is other checks' finding, not this one's
        return None
    if probe is None or not probe.deterministic or probe.changed_share == 0:
        return None
    return Finding(
        "pipeline.preprocessing_leakage",
        CRITICAL,
        f"Predictions depend on the batch: {probe.changed_share:.0%} of {probe.rows} evaluation rows get "
        f"another output when predicted in batches of {probe.chunk} instead of all at once (largest "
        f"change {probe.max_change:.4g}; outputs spread {probe.output_scale:.4g}); the model is "
        "deterministic, so a step computes statistics from the rows it is given",
        columns=list(c.features),
        evidence={
            "rows_probed": probe.rows,
            "chunk_rows": probe.chunk,
            "changed_share": probe.changed_share,
            "max_change": probe.max_change,
            "output_spread": probe.output_scale,
            "same_batch_twice_identical": probe.deterministic,
        },
        impact=0.6,
        root_cause="a preprocessing step (FunctionTransformer(scale), a per-batch normaliser or rank "
        "transform) learns its statistics from the batch at predict time instead of from the training "
        "rows: the evaluation set's own statistics enter its predictions, and a service scoring one "
        "request at a time gets other predictions",
        fix="replace it with a fitted transformer (StandardScaler, QuantileTransformer) inside the "
        "Pipeline, so its statistics come from the training rows; predicting one row alone must give "
        "the same output as predicting it in a batch",
    )


def _baked_finding(ctx: Context) -> Finding | None:
    """Fill values in the data files learned from the evaluation rows (`fill_values.baked_fills`)."""
    from .fill_values import baked_fills

    hits = baked_fills(ctx)
    if not hits:
        return None
    h = hits[0]
    return Finding(
        "pipeline.preprocessing_leakage",
        WARNING,
        f"{h['column']} holds {h['fill_value']:.6g} in {h['train_rows_with_it']:,} training rows (and "
        f"{h['evaluation_rows_with_it']:,} evaluation rows): exactly its {h['statistic']} over the training "
        f"plus evaluation rows ({h['statistic_train_plus_evaluation']:.6g}), not over the training rows "
        f"({h['statistic_train_only']:.6g}): the gaps were filled before the split",
        columns=[x["column"] for x in hits],
        evidence={"fills": hits},
        impact=0.3,
        root_cause="missing values were imputed on the whole table (train and evaluation rows together) "
        "before splitting; the imputer is not in the saved model",
        fix="split first, then impute inside the Pipeline (SimpleImputer fitted on the training rows only)",
    )


_VERSION_RE = re.compile(r"unpickle estimator (\w+) from version ([\w.\-]+) when using version ([\w.\-]+)")
_OTHER_RE = re.compile(
    r"(older|newer|different|previous) version|from version|saved (with|by|in) .{0,40}version", re.IGNORECASE
)


def _vtuple(v: str) -> tuple[int, ...] | None:
    nums = re.findall(r"\d+", str(v))
    return tuple(int(x) for x in nums[:3]) if nums and not str(v).startswith("pre") else None


def _level(a: str, b: str) -> str:
    ta, tb = _vtuple(a), _vtuple(b)
    if ta is None or tb is None:
        return "unknown"
    ta, tb = ta + (0,) * (3 - len(ta)), tb + (0,) * (3 - len(tb))
    if ta[0] != tb[0]:
        return "major"
    if ta[1] != tb[1]:
        return "minor"
    if ta[2] != tb[2]:
        return "patch"
    return "same"


def _walk(est: Any, depth: int = 0) -> Iterator[Any]:
    yield est
    if depth > 6:
        return
    for attr in ("steps", "transformers_", "transformer_list"):
        for item in getattr(est, attr, None) or []:
            sub = item[1] if isinstance(item, tuple) else item
            if sub is not None and not isinstance(sub, str):
                yield from _walk(sub, depth + 1)
    for attr in ("estimator", "estimator_", "base_estimator", "final_estimator_"):
        sub = getattr(est, attr, None)
        if sub is not None and not isinstance(sub, str) and hasattr(sub, "get_params"):
            yield from _walk(sub, depth + 1)


@check("pipeline.version_mismatch", requires=("estimator",))
def version_mismatch(ctx: Context, p: Params) -> Findings:
    """The model artifact was saved with library versions that differ from the running ones.

    What it detects
        The version warnings raised while unpickling the model (scikit-learn's
        InconsistentVersionWarning: saved under one version, loaded under another, per estimator),
        version markers left on the estimators (`_sklearn_version`), and other libraries' warnings
        about models saved by an older version. A patch-level difference is reported as info; a
        minor or major one as a warning.
    Why it matters
        Pickles are not a stable format: across minor versions estimators change their internal
        attributes and defaults, so a model may load and still predict differently, or fail on some
        inputs, and the results measured when it was saved no longer vouch for it.
    How to confirm
        Load the file with `warnings.simplefilter("error")` to see each warning; compare
        `sklearn.__version__` with the version of the environment that trained it, and compare its
        predictions on a few rows under both environments.
    Fix
        Pin the training versions in the serving environment, or retrain and re-save under the
        running ones; for long-lived artifacts use a versioned format (skops, ONNX) and record the
        environment next to the model.
    """
    import sklearn

    m = ctx.case.model
    assert m is not None  # requires a fitted model
    rows: list[dict[str, Any]] = []
    for rec in m.load_warnings:
        msg = str(rec.get("message", ""))
        orig, cur = rec.get("original_sklearn_version"), rec.get("current_sklearn_version")
        est_name = None
        hit = _VERSION_RE.search(msg)
        if hit:
            est_name = hit.group(1)
            orig, cur = orig or hit.group(2), cur or hit.group(3)
        if orig is not None or rec.get("category") == "InconsistentVersionWarning":
            rows.append(
                {
                    "library": "scikit-learn",
                    "estimator": est_name,
                    "saved_with": str(orig),
                    "running": str(cur or sklearn.__version__),
                }
            )
        elif _OTHER_RE.search(msg):
            rows.append(
                {
                    "library": rec.get("category", "warning"),
                    "estimator": None,
                    "saved_with": "?",
                    "running": "?",
                    "message": msg[:200],
                }
            )
    seen = {(r["estimator"], r["saved_with"]) for r in rows}
    for e in _walk(m.estimator):
        v = getattr(e, "_sklearn_version", None)
        if v and str(v) != sklearn.__version__ and (type(e).__name__, str(v)) not in seen:
            rows.append(
                {
                    "library": "scikit-learn",
                    "estimator": type(e).__name__,
                    "saved_with": str(v),
                    "running": sklearn.__version__,
                }
            )
    if not rows:
        return None
    levels = [_level(r["saved_with"], r["running"]) if r["saved_with"] != "?" else "unknown" for r in rows]
    for r, lv in zip(rows, levels):
        r["difference"] = lv
    if all(lv == "same" for lv in levels):
        return None
    serious = [r for r, lv in zip(rows, levels) if lv in ("major", "minor", "unknown")]
    sev = WARNING if serious else INFO
    first = (serious or rows)[0]
    ests = sorted({r["estimator"] for r in rows if r["estimator"]})
    title = (
        f"Model saved with {first['library']} {first['saved_with']}, running {first['running']}"
        f" ({first['difference']} version difference"
        + (f"; {len(ests)} estimator(s): {', '.join(ests[:5])}" if ests else "")
        + ")"
    )
    if first["saved_with"] == "?":
        title = f"Model load warned about a version difference: {first.get('message', '')[:120]}"
    return Finding(
        "pipeline.version_mismatch",
        sev,
        title,
        evidence={"table": rows, "versions": sorted({(r["saved_with"], r["running"]) for r in rows})},
        impact=0.5 if serious else 0.05,
        root_cause="the artifact was pickled in an environment with other library versions than this one",
        fix=f"install the versions it was saved with (e.g. scikit-learn=={first['saved_with']}) to serve it, "
        "or retrain and re-save under the running versions; record the environment with the model",
    )
