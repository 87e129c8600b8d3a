"""`mltriage monitor`: the production checklist run continuously over a prediction store.

    mltriage monitor init   --store STORE --reference train.parquet --target y [--model model.joblib]
                            [--prediction-column p] [--id-column id] [--time-column ts]
                            [--window 1d] [--config monitor.toml] [--evaluation holdout.parquet]
    mltriage monitor log    --store STORE --batch batch.parquet [--batch-id B]
    mltriage monitor label  --store STORE --labels labels.parquet
    mltriage monitor check  --store STORE [--json OUT] [--fail-on warning|critical|never]
    mltriage monitor report --store STORE --window START [--html OUT]

STORE is a DuckDB file path or a postgresql:// URL (monitor.store). The work is in the monitor
package: reference.py (init), ingest.py (log), evaluate.py (check: metrics, alerts, routes,
sampling); the production rung of one window runs through `commands.drift` and the one runner.
Errors of input or of the store raise InputError (exit 2) saying what was kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, listing
from ..monitor.config import read_config
from ..monitor.evaluate import CheckResult, diagnose_window, run_check
from ..monitor.ingest import Ingest, Plan, log_batch
from ..monitor.reference import InitOptions, build, label_values, load
from ..monitor.store import ROW_META_COLUMNS, Store, StoreError, now, open_store, to_time
from ..report import Report


def _store(url: str, must_exist: bool = True) -> Store:
    store = open_store(url)
    if must_exist and not store.exists():
        raise InputError(
            f"{store.describe()} is not an initialised monitor store",
            "create it first: mltriage monitor init --store STORE --reference train.parquet --target y",
        )
    return store


# ---------------------------------------------------------------------------------------------
# init


def init(
    store: str,
    reference: Any,
    target: str,
    *,
    model: str | None = None,
    prediction_column: str | None = None,
    id_column: str | None = None,
    time_column: str | None = None,
    window: str | None = None,
    config: str | Path | None = None,
    evaluation: Any = None,
    categorical: list[str] | None = None,
    task: str | None = None,
    threshold: float = 0.5,
    latency_column: str = "latency_ms",
    force: bool = False,
    positive_class: Any = None,
) -> dict[str, Any]:
    """Create a store for one model: the reference profile, settings and alert rules.
    `positive_class`: binary, the class the scores and labels are about (default the model's last
    class, else the last label)."""
    cfg = read_config(config)
    if window:
        cfg.window = window
        cfg.validate()
    st = _store(store, must_exist=False)
    if st.exists() and not force:
        raise InputError(
            f"{st.describe()} is already initialised",
            "log into it, or pass --force to start it again (its contents are kept, the reference replaced)",
        )
    opts = InitOptions(
        reference=reference,
        target=target,
        model=model,
        prediction_column=prediction_column,
        id_column=id_column,
        time_column=time_column,
        latency_column=latency_column,
        categorical=tuple(categorical or ()),
        evaluation=evaluation,
        task=task,
        threshold=threshold,
        config=cfg,
        positive_class=positive_class,
    )
    meta, row_columns = build(opts)
    clash = [c for c in row_columns if c in ROW_META_COLUMNS]
    if clash:
        raise InputError(f"feature names clash with the store's own columns: {listing(clash)}", "rename them")
    st.init(meta, row_columns)
    s = meta["settings"]
    imp = s.get("importance") or {}
    return {
        "store": st.describe(),
        "features": len(s["features"]),
        "task": s["task"],
        "window": cfg.window,
        "rules": len(cfg.rules),
        "important": sorted(imp, key=lambda f: -imp[f])[:5] if imp else [],
        "scores": "model" if model else ("logged" if prediction_column else "none"),
    }


# ---------------------------------------------------------------------------------------------
# log


def _plan(st: Store) -> Plan:
    L = load(st)
    cfg = L.config
    from ..config import Config
    from ..monitor.config import parse_duration

    margin = float(Config().params("production.out_of_distribution")["margin"])
    return Plan(
        settings=L.settings,
        reference=L.reference.profile,
        window_ns=int(cfg.window_delta.total_seconds() * 1e9),
        hold=parse_duration(str(cfg.sampling.get("hold", "7d")), allow_zero=True).total_seconds() > 0,
        rows_per_window=int(cfg.sampling.get("rows_per_window", 1000)),
        strata=int(cfg.sampling.get("strata", 10)),
        row_columns=L.row_columns,
        ood_margin=margin,
        model=L.model() if L.model_path else None,
    )


def store_failure(st: Store, what: str, exc: BaseException) -> StoreError:
    """A store error while writing, saying what was kept."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = msg.lower()
    if "no space" in low or "disk full" in low or "enospc" in low:
        head = f"the disk is full: {what} could not be written"
    elif "connection" in low or "server closed" in low or "terminat" in low:
        head = f"the connection to the store was lost while writing {what}"
    else:
        head = f"writing {what} failed ({type(exc).__name__}: {msg[:200]})"
    return StoreError(
        head + "; it was rolled back, nothing of it was kept. Batches committed before it are intact.",
        "fix the cause and run the same command again: logging is idempotent per batch id",
    )


def log(
    store: str,
    batch: str | Path,
    batch_id: str | None = None,
    chunk_rows: int | None = None,
    engine: str = "local",
) -> Ingest:
    """Log one batch of predictions (idempotent per batch id). engine "spark": the batch (a
    Parquet file or a folder of partitioned Parquet) is summarised by PySpark (monitor.spark)."""
    if engine not in ("local", "spark"):
        raise InputError(f"unknown engine {engine!r}", "use --engine local (the default) or spark")
    st = _store(store)
    plan = _plan(st)
    kw = {"chunk_rows": chunk_rows} if chunk_rows else {}
    try:
        if engine == "spark":
            from ..monitor.spark import log_spark

            return log_spark(st, Path(batch), plan, batch_id)
        return log_batch(st, Path(batch), plan, batch_id, **kw)
    except (InputError, KeyboardInterrupt):
        raise
    except MemoryError:
        raise StoreError(
            f"out of memory while logging {batch}: nothing of it was kept", "lower MLTRIAGE_DUCKDB_MEMORY"
        ) from None
    except Exception as e:
        raise store_failure(st, f"batch {batch_id or Path(batch).name}", e) from None


# ---------------------------------------------------------------------------------------------
# label


def label(
    store: str,
    labels: str | Path | pd.DataFrame,
    *,
    id_column: str | None = None,
    target: str | None = None,
    labelled_at_column: str | None = None,
) -> dict[str, Any]:
    """Add labels (id + target), any time after the predictions; returns how many matched."""
    from ..io import read_rows

    st = _store(store)
    L = load(st)
    s = L.settings
    idc = id_column or s.get("id_column") or "id"
    tgt = target or s["target"]
    df = read_rows(labels, "labels")
    for c, what in ((idc, "id"), (tgt, "target")):
        if c not in df.columns:
            raise InputError(
                f"the labels have no {what} column {c!r}", f"their columns are: {listing(df.columns)}"
            )
    at = (
        pd.to_datetime(df[labelled_at_column], utc=True).dt.tz_convert(None)
        if labelled_at_column
        else pd.Series(pd.Timestamp(now()), index=df.index)
    )
    y = label_values(df[tgt], s["task"], s.get("positive"))
    ok = df[idc].notna().to_numpy() & np.isfinite(y)
    frame = pd.DataFrame(
        {"row_id": df[idc].astype(str).to_numpy()[ok], "label": y[ok], "labelled_at": at.to_numpy()[ok]}
    )
    try:
        matched = st.add_labels(frame)
    except InputError:
        raise
    except Exception as e:
        raise store_failure(st, "the labels", e) from None
    return {
        "labels": int(len(frame)),
        "matched": matched,
        "unmatched": int(len(frame) - matched),
        "refused": int((~ok).sum()),
    }


# ---------------------------------------------------------------------------------------------
# check, report


def check(
    store: str, as_of: Any = None, echo: Callable[[str], None] | None = None, diagnose: bool = True
) -> CheckResult:
    """Evaluate every closed window, raise/escalate/resolve alerts and route them."""
    st = _store(store)
    try:
        return run_check(st, as_of=as_of, echo=echo, diagnose=diagnose)
    except InputError:
        raise
    except Exception as e:
        from ..monitor.store import StoreError as _SE

        if isinstance(e, _SE):
            raise
        if type(e).__module__.split(".")[0] in ("duckdb", "psycopg"):
            raise store_failure(st, "the check's results", e) from None
        raise


def report(store: str, window: str) -> Report:
    """The production rung's diagnosis of one window (stored by `check`, else computed now)."""
    st = _store(store)
    ws = to_time(window)
    starts = {w["window_start"] for w in st.window_rows()}
    if ws not in starts:
        near = sorted(starts, key=lambda s: abs((s - ws).total_seconds()))[:3] if ws and starts else []
        raise InputError(
            f"no window starts at {window}",
            f"windows start e.g. at {', '.join(s.isoformat() for s in near)}"
            if near
            else "log batches first",
        )
    d = st.window_report(ws)
    if d is None:
        d = diagnose_window(st, load(st), ws)
    if d is None or d.get("error"):
        raise InputError(
            f"the window {window} could not be diagnosed: {(d or {}).get('error', 'no rows or summary')}",
            "check that the store's model file still exists",
        )
    return Report.from_dict(d)
