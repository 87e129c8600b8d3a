"""The `mltriage drift` and `mltriage profile` commands (the CLI calls these; so can Python).

    mltriage profile --data train.parquet --out ref.json [--model model.joblib] [--chunk-rows N]
    mltriage drift --reference ref.json --current batch.parquet [--model model.joblib] [--json out.json]

`--reference` is a profile JSON (no reference rows needed) or a CSV/Parquet file. `--current` is a
batch of rows, or a profile JSON made `--like` the reference (for batches too large to load: profile
them in chunks first). A profile written with `--model` also holds the model's outputs on the
reference rows, so that `drift --model` can compare predictions without the reference rows.

Bad input raises InputError (exit code 2 in the CLI) with what is wrong and what to do: a batch with
no column in common with the reference, only empty (all-NaN) shared columns, fewer rows than
--min-rows, a prediction column that is neither numbers nor class labels, or a file too large for
the memory available (set MLTRIAGE_MEMORY_LIMIT, e.g. 4G, to cap it).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, listing
from .profile import Profile, ProfileError, build_profile, merge

PRED_COL = "__prediction__"


# ---------------------------------------------------------------------------------------------
# memory


def _parse_bytes(text: str) -> int | None:
    m = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        return None
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2)]
    return int(float(m.group(1)) * mult)


def available_memory() -> int | None:
    """Bytes we may use: MLTRIAGE_MEMORY_LIMIT if set, else MemAvailable from /proc/meminfo."""
    env = os.environ.get("MLTRIAGE_MEMORY_LIMIT")
    if env:
        return _parse_bytes(env)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def estimate_bytes(path: Path) -> int | None:
    """In-memory size of a data file, estimated without reading it."""
    try:
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            md = pq.ParquetFile(path).metadata
            return int(sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups)))
        return int(path.stat().st_size * 2)  # CSV text -> typed columns, roughly
    except Exception:
        return None


def guard_memory(path: Path, role: str, factor: float = 2.0) -> None:
    need, have = estimate_bytes(path), available_memory()
    if need is None or have is None or need * factor <= have:
        return
    gb = lambda b: f"{b / 2**30:.1f} GB"  # noqa: E731
    raise InputError(
        f"the {role} file {str(path)!r} needs about {gb(need * factor)} of memory to compare and "
        f"{gb(have)} is available",
        "profile it in chunks instead of loading it: `mltriage profile --data FILE --like ref.json "
        "--chunk-rows 500000 --out batch.json`, then `mltriage drift --reference ref.json --current "
        "batch.json`; or pass a random sample of its rows",
    )


# ---------------------------------------------------------------------------------------------
# reading


def _is_profile_path(p: str | Path) -> bool:
    return str(p).lower().endswith(".json")


def read_profile(path: str | Path) -> Profile:
    if not Path(path).exists():
        raise InputError(
            f"profile {str(path)!r} does not exist",
            "check the path, or write one with `mltriage profile --data REF --out ref.json`",
        )
    try:
        return Profile.from_json(str(path))
    except ProfileError as exc:
        hint = (
            ""
            if "mltriage profile" in str(exc)
            else "write it with `mltriage profile --data REF --out ref.json`"
        )
        raise InputError(f"{str(path)!r}: {exc}", hint) from None


def read_rows(path: str | Path, role: str) -> pd.DataFrame:
    from ..case import read_frame

    p = Path(path)
    if p.exists() and p.is_file():
        guard_memory(p, role)
    return read_frame(str(p), role)


def _model(model: Any):
    if model is None:
        return None
    from ..model import ModelAdapter

    return ModelAdapter.load(str(model) if isinstance(model, Path) else model)


def model_outputs(adapter, X: pd.DataFrame) -> tuple[str, pd.Series, pd.Series | None, str]:
    """(kind, outputs for drift, labels, task): binary -> P(positive) numeric; multiclass ->
    predicted class (categorical); regression -> the prediction (numeric)."""
    proba = adapter.predict_proba(X) if adapter.has_proba else None
    if proba is not None and proba.ndim == 2 and proba.shape[1] == 2:
        classes = adapter.classes or [0, 1]
        score = pd.Series(proba[:, 1], name="prediction")
        label = pd.Series(np.where(proba[:, 1] >= 0.5, classes[1], classes[0]))
        return "numeric", score, label, "binary"
    if proba is not None and proba.ndim == 2:
        classes = np.asarray(adapter.classes or list(range(proba.shape[1])), dtype=object)
        lab = pd.Series(classes[np.argmax(proba, axis=1)]).astype(str)
        return "categorical", lab.rename("prediction"), lab, "multiclass"
    raw = np.asarray(adapter.predict_raw(X)).ravel()
    if raw.dtype.kind in "biuf":
        s = pd.Series(raw.astype(float), name="prediction")
        return "numeric", s, s, "regression"
    lab = pd.Series(raw).astype(str)
    return "categorical", lab.rename("prediction"), lab, "multiclass"


def adapter_is_none(model: Any) -> bool:
    return model is None


def _prediction_profile(ref: Profile) -> Profile | None:
    if PRED_COL not in ref.columns:
        return None
    col = Profile.from_dict(
        {"mltriage_profile": 1, "rows": ref.rows, "columns": {"prediction": ref.columns[PRED_COL].to_dict()}}
    )
    for c in col.columns.values():
        c.name = "prediction"
    return col


# ---------------------------------------------------------------------------------------------
# profile


def run_profile(
    data: Iterable[str | Path],
    *,
    categorical: Iterable[str] = (),
    exclude: Iterable[str] = (),
    model: Any = None,
    like: str | Path | None = None,
    chunk_rows: int | None = None,
) -> Profile:
    """Profile one or more data files (or merge profile JSONs) into one Profile.

    The first file fixes the bin edges unless `like` names a reference profile; later files and
    chunks are profiled on those edges and merged. Parquet files larger than the memory allows
    (or with chunk_rows) are read in row batches."""
    cat = list(categorical)
    drop = set(exclude) - {None}
    adapter = _model(model)
    base = read_profile(like) if like else None
    total: Profile | None = None

    def add(p: Profile) -> None:
        nonlocal total, base
        if base is None:
            base = p
        if total is None:
            total = p
            return
        try:
            total = merge(total, p)
        except ProfileError as exc:
            raise InputError(
                f"cannot merge the profiles: {exc}",
                "profile every part with --like the same reference profile",
            ) from None

    def profile_frame(df: pd.DataFrame) -> Profile:
        df = df[[c for c in df.columns if c not in drop and c != PRED_COL]]
        if df.shape[1] == 0:
            raise InputError(
                "no columns left to profile once the excluded ones are set aside",
                "check --target / --prediction-column",
            )
        p = build_profile(df, like=base, categorical=cat)
        if adapter is not None:
            feats = adapter.feature_names or list(df.columns)
            if all(f in df.columns for f in feats):
                kind, out, _, task = model_outputs(adapter, df[feats])
                pp = build_profile(
                    pd.DataFrame({PRED_COL: out.to_numpy()}),
                    like=base if base is not None and PRED_COL in base.columns else None,
                    categorical=[PRED_COL] if kind == "categorical" else [],
                )
                p.columns[PRED_COL] = pp.columns[PRED_COL]
                p.meta["prediction"] = {"task": task, "kind": kind}
            else:
                missing = [f for f in feats if f not in df.columns]
                raise InputError(
                    f"the model needs columns the data lacks: {listing(missing)}",
                    "profile the data the model scores, or leave out --model",
                )
        return p

    paths = list(data)
    if not paths:
        raise InputError("no data to profile", "pass --data FILE (CSV, Parquet or a profile JSON)")
    for path in paths:
        p = Path(path)
        if _is_profile_path(p):
            add(read_profile(p))
            continue
        if not p.exists():
            raise InputError(f"data file {str(p)!r} does not exist", "check the path given to --data")
        need, have = estimate_bytes(p), available_memory()
        too_big = need is not None and have is not None and need * 2 > have
        if p.suffix.lower() in (".parquet", ".pq") and (chunk_rows or too_big):
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(p)
            rows = chunk_rows or max(10_000, int(pf.metadata.num_rows * (have / 4) / max(need, 1)))
            for batch in pf.iter_batches(batch_size=int(rows)):
                add(profile_frame(batch.to_pandas()))
        else:
            if too_big:
                raise InputError(
                    f"{str(p)!r} is too large for the memory available and is not Parquet",
                    "convert it to Parquet (read in chunks), or profile parts of it and "
                    "merge: --data part1.json --data part2.json",
                )
            add(profile_frame(read_rows(p, "data")))
    assert total is not None
    total.meta.setdefault("sources", [str(x) for x in paths])
    return total


# ---------------------------------------------------------------------------------------------
# drift


def run_drift(
    reference: str | Path | pd.DataFrame | Profile,
    current: str | Path | pd.DataFrame | Profile,
    *,
    model: Any = None,
    categorical: Iterable[str] = (),
    target: str | None = None,
    prediction_column: str | None = None,
    min_rows: int = 30,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Compare a batch with a reference; returns {"findings": [Finding...], "drift": ..., ...}."""
    from ..checks.production import (
        DRIFT_PARAMS,
        data_drift_findings,
        drift_config,
        make_inputs,
        model_sensitivity,
        ood_findings,
        prediction_drift_finding,
        schema_findings,
        serialization_finding,
        skew_findings,
    )
    from .drift import compare_profiles, domain_classifier

    t0 = time.perf_counter()
    params = {k: dict(v) for k, v in (params or {}).items()}
    dp = {**DRIFT_PARAMS, **params.get("production.data_drift", {})}
    cfg = drift_config(dp)
    cat = list(categorical)
    exclude = {target, prediction_column} - {None}
    notes: list[str] = []

    # reference
    ref_df = None
    if isinstance(reference, Profile):
        ref = reference
    elif isinstance(reference, pd.DataFrame) or not _is_profile_path(reference):
        ref_df = reference if isinstance(reference, pd.DataFrame) else read_rows(reference, "reference")
        ref_pred = ref_df[prediction_column] if prediction_column in ref_df.columns else None
        ref_df = ref_df[[c for c in ref_df.columns if c not in exclude]]
        ref = build_profile(ref_df, categorical=cat)
        if ref_pred is not None and adapter_is_none(model):
            # without a model, the reference's own prediction column is the reference output
            pp = build_profile(pd.DataFrame({PRED_COL: pd.to_numeric(ref_pred, errors="coerce")}))
            ref.columns[PRED_COL] = pp.columns[PRED_COL]
    else:
        ref = read_profile(reference)
    ref_cols = [c for c in ref.columns if c not in exclude and c != PRED_COL]
    if not ref_cols:
        raise InputError("the reference has no columns to compare", "check --reference")
    if all(ref.columns[c].rows == ref.columns[c].missing for c in ref_cols):
        raise InputError("every column of the reference is empty (all NaN)", "check the reference data")

    adapter = _model(model)
    features = [
        f
        for f in (adapter.feature_names if adapter is not None and adapter.feature_names else ref_cols)
        if f not in exclude
    ]

    # current as a profile: distribution comparison only
    if isinstance(current, Profile) or (not isinstance(current, pd.DataFrame) and _is_profile_path(current)):
        cur_p = current if isinstance(current, Profile) else read_profile(current)
        common = [f for f in features if f in cur_p.columns and f in ref.columns]
        if not common:
            raise InputError(
                "the batch profile has no column in common with the reference",
                f"reference columns: {listing(ref_cols)}; batch: {listing(cur_p.columns)}",
            )
        rep = compare_profiles(ref, cur_p, cfg, common)
        from ..checks.production import ProductionInputs

        inp = ProductionInputs(
            ref=ref,
            current=pd.DataFrame(),
            features=features,
            categorical=cat,
            report=rep,
            cur_profile=cur_p,
            ignore=exclude,
        )
        findings = data_drift_findings(inp, dp)
        notes.append(
            "the batch is a profile: schema, out-of-distribution, skew and prediction checks need its rows"
        )
        return {
            "findings": findings,
            "drift": rep.to_dict(),
            "multivariate": None,
            "notes": notes,
            "rows": {"reference": ref.rows, "current": cur_p.rows},
            "seconds": round(time.perf_counter() - t0, 3),
        }

    cur = current if isinstance(current, pd.DataFrame) else read_rows(current, "current")
    common = [f for f in features if f in cur.columns and f in ref.columns]
    if not common:
        raise InputError(
            "the batch has no column in common with the reference",
            f"reference columns: {listing(ref_cols)}; batch columns: {listing(cur.columns)}",
        )
    if len(cur) < min_rows:
        raise InputError(
            f"the batch has {len(cur)} row{'s' if len(cur) != 1 else ''}; comparing "
            f"distributions needs at least {min_rows}",
            "pass a larger batch (accumulate rows, e.g. a day instead of one request), or "
            "lower --min-rows knowingly",
        )
    empty = [c for c in common if cur[c].isna().all()]
    if len(empty) == len(common):
        raise InputError(
            f"every column the batch shares with the reference is empty (all NaN): {listing(empty)}",
            "check the export that produced the batch",
        )
    if empty:
        notes.append(f"{len(empty)} column(s) arrive empty (all NaN): {listing(empty)}")
    logged = None
    if prediction_column:
        if prediction_column not in cur.columns:
            raise InputError(
                f"prediction column {prediction_column!r} is not in the batch",
                f"its columns are: {listing(cur.columns)}",
            )
        logged = cur[prediction_column]
        num = pd.to_numeric(logged, errors="coerce")
        parse = float(num.notna().sum() / max(int(logged.notna().sum()), 1))
        if logged.notna().sum() == 0:
            raise InputError(
                f"prediction column {prediction_column!r} is empty", "pass the column of logged scores"
            )
        if parse < 0.9:
            classes = {str(c) for c in (adapter.classes or [])} if adapter is not None else set()
            vals = set(logged.dropna().astype(str).unique()[:1000])
            if not (classes and vals <= classes):
                raise InputError(
                    f"prediction column {prediction_column!r} holds {logged.dtype} values that "
                    f"are not scores{' or the model' + chr(39) + 's classes' if classes else ''} "
                    f"(e.g. {', '.join(map(repr, list(vals)[:3]))})",
                    "pass the column of numeric scores (binary: P(positive); regression: the prediction)",
                )

    inp = make_inputs(ref, cur, features, cat, cfg, exclude, ref_rows=ref_df)
    if adapter is None:
        # without a model nobody says the batch must carry every reference column (a label column
        # the batch has not yet got, say): a missing column is a warning, not critical
        from ..findings import WARNING

        inp.missing_severity = WARNING
    if inp.skipped:
        notes.append("not compared: " + "; ".join(f"{c} ({why})" for c, why in inp.skipped.items()))
    can_score = adapter is not None and all(f in cur.columns for f in features)
    if adapter is not None and not can_score:
        notes.append(
            "the model cannot score the batch (model columns missing): no importance, "
            "prediction drift or serialization check"
        )
    if can_score:
        idx = np.random.default_rng(0).permutation(len(cur))[:800]
        imp = model_sensitivity(
            adapter, cur.iloc[np.sort(idx)][features].reset_index(drop=True), "binary", features
        )
        if imp:
            inp.importance = imp
            inp.report.set_importance(imp)
    findings = []
    findings += skew_findings(inp, params.get("pipeline.train_serving_skew", {}), cfg)
    mv = None
    if ref_df is not None:
        mv = domain_classifier(ref_df, cur, inp.common, cat, cfg)
    else:
        notes.append("the reference is a profile: no multivariate (domain classifier) check")
    findings += data_drift_findings(inp, dp, mv)
    findings += schema_findings(inp, params.get("production.schema_change", {}))
    findings += ood_findings(
        inp,
        {
            "margin": 0.1,
            "min_share": 0.005,
            "min_rows": 5,
            **params.get("production.out_of_distribution", {}),
        },
    )
    # outputs
    if can_score:
        kind, out_cur, lab_cur, task = model_outputs(adapter, cur[features])
        rp = _prediction_profile(ref)
        ref_out = None
        if rp is None and ref_df is not None and all(f in ref_df.columns for f in features):
            _, ref_out, _, _ = model_outputs(adapter, ref_df[features])
        if rp is not None or ref_out is not None:
            f = prediction_drift_finding(ref_out, out_cur, kind, cfg, ref_profile=rp)
            if f:
                findings.append(f)
        else:
            notes.append("no reference predictions (profile the reference with --model): no prediction drift")
        if logged is not None:
            f = serialization_finding(
                logged,
                out_cur.to_numpy() if kind == "numeric" else None,
                lab_cur,
                task,
                adapter.classes,
                0.5,
                prediction_column,
                params.get("pipeline.serialization_mismatch", {}),
            )
            if f:
                findings.append(f)
    elif logged is not None:
        # no model: the batch's prediction column against the reference's outputs
        rp = _prediction_profile(ref)
        if rp is not None:
            f = prediction_drift_finding(
                None, pd.to_numeric(logged, errors="coerce"), "numeric", cfg, ref_profile=rp
            )
            if f:
                findings.append(f)
    return {
        "findings": findings,
        "drift": inp.report.to_dict(),
        "multivariate": mv.to_dict() if mv else None,
        "notes": notes,
        "rows": {"reference": ref.rows, "current": int(len(cur))},
        "seconds": round(time.perf_counter() - t0, 3),
    }
