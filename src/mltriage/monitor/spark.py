"""`mltriage monitor log --engine spark`: a batch of partitioned Parquet logged with PySpark.

The same batch logged on one machine (monitor.ingest) and with Spark gives the same window
summaries: the rows are validated with the same rules (quarantined with the same reasons), fall
in the same windows ([floor(ts / window) * window, + window), UTC, from the epoch), and each
window's features, scores and latencies are counted on the reference's bins by Spark SQL
(`spark_profile`: comparisons with the edges, one aggregation; no row is collected for it). Only
the aggregates reach the driver, which writes them with the store's own batch writer
(`store.writing_batch`: the summaries merged into the windows, one transaction, idempotent per
batch id). The driver also streams the (id, score) of every good row to `predictions` (what
labels join to), the full rows the sampling settings keep to `rows_sample`, and the quarantined
rows with their reasons: these go to the store one chunk at a time, so memory stays bounded.

Spark runs where the session says: the active session when there is one (a notebook, a job
submitted to a cluster), else a local one (`local[*]`, or the master in MLTRIAGE_SPARK_MASTER). Partition folders (`day=.../hour=...`) are read recursively and
their names are not taken for columns. Scores must be logged (the prediction column): scoring
rows with the stored model is the single-machine path's job.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, listing
from ..stats.production import PRED_COL
from ..stats.profile import CategoricalProfile, NumericProfile, Profile
from .ingest import Ingest, Plan
from .sampling import stratified
from .spark_profile import numeric_expr, profile_groups, spark_types, sql_name
from .store import Store
from .windows import LATENCY_EDGES, pack

STREAM_ROWS = 100_000  # rows per chunk streamed to the store
SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # no progress bars over the command's output
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.legacy.parquet.nanosAsLong": "true",  # pandas writes ns timestamps: read as epoch ns
    "spark.sql.shuffle.partitions": "8",
}
LATENCY = "__latency__"
ROW_ID, TS_NS, WIN, SCORE, REASON, ORDER = "__rid", "__ts_ns", "__win", "__score", "__reason", "__ord"


def need_pyspark() -> Any:
    try:
        import pyspark
    except ImportError:
        raise InputError(
            "--engine spark needs PySpark (and Java 17 or later)", "pip install 'mltriage[spark]'"
        ) from None
    return pyspark


def spark_session(master: str = "local[*]", app: str = "mltriage-monitor", **conf: str) -> Any:
    """A Spark session bound to 127.0.0.1 with its web UI off (extra settings as keywords,
    dots written as underscores are not converted: pass a dict with ** for those)."""
    need_pyspark()
    from pyspark.sql import SparkSession

    b = SparkSession.builder.master(master).appName(app)
    for k, v in {**SPARK_CONF, **conf}.items():
        b = b.config(k, v)
    try:
        s = b.getOrCreate()
    except Exception as e:  # no Java, or a JVM that does not start
        raise InputError(
            f"Spark did not start: {str(e).strip().splitlines()[0][:300]}",
            "install Java 17 or later (JAVA_HOME), or log without --engine spark",
        ) from None
    s.sparkContext.setLogLevel("ERROR")
    return s


def read_batch(spark: Any, path: Path) -> Any:
    """The batch's rows: one Parquet file or a folder of them (partition folders included)."""
    if not path.exists():
        raise InputError(f"batch {str(path)!r} does not exist", "check --batch")
    try:
        frame = spark.read.option("recursiveFileLookup", "true").parquet(str(path))
        frame.schema  # noqa: B018 - reading the schema reads the footers: a corrupt file fails here
        # a pandas index written with the rows is the rows' index, not a column (as pandas reads it)
        index_cols = [c for c in frame.columns if re.fullmatch(r"__index_level_\d+__", c)]
        frame = frame.drop(*index_cols) if index_cols else frame
    except Exception as e:
        raise InputError(
            f"Spark cannot read the batch {str(path)!r} ({str(e).strip().splitlines()[0][:200]}); "
            "nothing of it was logged",
            "export the batch again as Parquet and re-run `monitor log`",
        ) from None
    return frame


# ---------------------------------------------------------------------------------------------
# validation: ingest's rules as Spark SQL


def _time_ns(name: str, spark_type: str) -> str:
    c = sql_name(name)
    if spark_type == "bigint":  # pandas' ns timestamps read as epoch ns (nanosAsLong)
        return c
    if spark_type in ("int", "smallint", "tinyint"):
        return f"CAST({c} AS BIGINT)"
    if spark_type in ("timestamp", "timestamp_ntz", "date"):
        return f"unix_micros(CAST({c} AS TIMESTAMP)) * 1000"
    return f"unix_micros(try_cast({c} AS TIMESTAMP)) * 1000"


def _reason_sql(frame: Any, plan: Plan) -> tuple[str, str, str, str]:
    """SQL of the row id, time (epoch ns), score and the first reason to quarantine the row
    (NULL when fine): the rules of monitor.ingest, in its order."""
    st, types = plan.settings, spark_types(frame)
    reasons: list[tuple[str, str]] = []
    idc, tc, pc = st.get("id_column"), st.get("time_column"), st.get("prediction_column")
    rid = f"coalesce(CAST({sql_name(idc)} AS STRING), '')" if idc else "NULL"  # ingest's "" for none
    if idc:
        reasons.append((f"{sql_name(idc)} IS NULL", f"{idc} (id) is missing"))
        dup = f"row_number() OVER (PARTITION BY {rid} ORDER BY {ORDER}) > 1"
        reasons.append((dup, f"{idc} (id) is duplicated"))
    ts = _time_ns(tc, types[tc]) if tc else "NULL"
    if tc:
        reasons.append((f"({ts}) IS NULL", f"{tc} (time) is missing or not a time"))
    for c in plan.features:
        rp = plan.reference.columns.get(c)
        if c in types and isinstance(rp, NumericProfile) and types[c] == "string":
            reasons.append(
                (f"{sql_name(c)} IS NOT NULL AND ({numeric_expr(c, 'string')}) IS NULL", f"{c}: not a number")
            )
    score = "CAST(NULL AS DOUBLE)"
    if pc and pc in types:
        score = numeric_expr(pc, types[pc])
        bad = f"({score}) IS NULL OR isnan({score}) OR abs({score}) = double('inf')"
        if st.get("task") == "binary":
            reasons.append((f"{bad} OR ({score}) < 0 OR ({score}) > 1", f"{pc} (score) is not a probability"))
        else:
            reasons.append((bad, f"{pc} (score) is not a number"))
    whens = " ".join(f"WHEN {cond} THEN '{text.replace(chr(39), chr(39) * 2)}'" for cond, text in reasons)
    return rid, ts, score, (f"CASE {whens} END" if whens else "CAST(NULL AS STRING)")


def validated(frame: Any, plan: Plan, batch_id: str) -> Any:
    """The frame with the row id, time (ns), window start (ns), score and quarantine reason."""
    from pyspark.sql import functions as F

    f = frame.withColumn(ORDER, F.monotonically_increasing_id())
    rid, ts, score, reason = _reason_sql(f, plan)
    if rid == "NULL":
        rid = f"concat('{batch_id.replace(chr(39), chr(39) * 2)}:', CAST({ORDER} AS STRING))"
    if ts == "NULL":
        stamp = pd.Timestamp(plan.logged_at).value
        ts = f"CAST({stamp} AS BIGINT)"
    wns = int(plan.window_ns)
    return f.selectExpr(
        "*", f"{rid} AS {ROW_ID}", f"{ts} AS {TS_NS}", f"{score} AS {SCORE}", f"{reason} AS {REASON}"
    ).selectExpr("*", f"{TS_NS} - pmod({TS_NS}, CAST({wns} AS BIGINT)) AS {WIN}")


# ---------------------------------------------------------------------------------------------
# window summaries


def _like(plan: Plan, features: list[str], with_scores: bool, with_latency: bool) -> Profile:
    """The reference profile the Spark profile counts on: the features present, the scores
    (PRED_COL) and the latency histogram's edges."""
    cols: dict[str, NumericProfile | CategoricalProfile] = {c: plan.reference.columns[c] for c in features}
    rp = plan.reference.columns.get(PRED_COL)
    if with_scores and isinstance(rp, NumericProfile):
        cols[PRED_COL] = rp
    if with_latency:
        cols[LATENCY] = NumericProfile(
            name=LATENCY,
            dtype="float64",
            edges=LATENCY_EDGES,
            counts=np.zeros(len(LATENCY_EDGES) + 1, np.int64),
        )
    return Profile(columns=cols, rows=plan.reference.rows)


def far_outside_sql(plan: Plan, features: list[str], types: dict[str, str]) -> dict[str, str]:
    """Per numeric feature, SQL true when the row's value is far outside the reference's range
    (windows.far_outside: beyond [min, max] by more than ood_margin of the range; NaN is not)."""
    out = {}
    for c in features:
        ref = plan.reference.columns.get(c)
        if not isinstance(ref, NumericProfile) or ref.min is None or ref.max is None:
            continue
        span = ref.max - ref.min
        m = plan.ood_margin * (span if span > 0 else max(abs(ref.max), 1.0))
        x = numeric_expr(c, types[c])
        lo, hi = float(ref.min - m), float(ref.max + m)
        out[c] = f"coalesce(NOT isnan({x}) AND ({x} < {lo!r} OR {x} > {hi!r}), false)"
    return out


def far_counts(good: Any, plan: Plan, features: list[str]) -> dict[int, tuple[int, int, dict[str, int]]]:
    """window -> (rows, rows with any feature far outside, {feature: rows far outside})."""
    from pyspark.sql import functions as F

    far = far_outside_sql(plan, features, spark_types(good))
    anyf = " OR ".join(f"({e})" for e in far.values()) or "false"
    aggs = [F.count(F.lit(1)), F.expr(f"sum(CAST({anyf} AS INT))")]
    aggs += [F.expr(f"sum(CAST({e} AS INT))") for e in far.values()]
    out = {}
    for r in good.groupBy(WIN).agg(*aggs).collect():
        per = {c: int(k or 0) for c, k in zip(far, r[3:]) if k}
        out[int(r[0])] = (int(r[1]), int(r[2] or 0), per)
    return out


def _dtypes(path: Path, features: list[str]) -> dict[str, str]:
    """The pandas dtype of each column as the single-machine reader would give it."""
    try:
        import pyarrow.dataset as ds

        schema = ds.dataset(str(path), format="parquet").schema
        empty = schema.empty_table().to_pandas()
        return {c: str(empty[c].dtype) for c in features if c in empty.columns}
    except Exception:  # the Spark type names then
        return {}


def _window_time(ns: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=int(ns) // 1000)


def window_summaries(good: Any, plan: Plan, batch_id: str, path: Path, extra: list[str]) -> list[tuple]:
    """(window_start, window_end, summary) of the good rows, as windows.summarise makes them."""
    types = spark_types(good)
    present = [c for c in plan.features if c in types and c in plan.reference.columns]
    lat_col = plan.settings.get("latency_column") or "latency_ms"
    has_lat = lat_col in types
    cols = [*present]
    frame = good.withColumnRenamed(SCORE, PRED_COL)
    if has_lat:
        frame = frame.selectExpr("*", f"{numeric_expr(lat_col, types[lat_col])} AS {LATENCY}")
    like = _like(plan, present, with_scores=True, with_latency=has_lat)
    cols += [c for c in (PRED_COL, LATENCY) if c in like.columns]
    dtypes = {**_dtypes(path, present), PRED_COL: "float64", LATENCY: "float64"}
    profiles = profile_groups(frame, like, WIN, cols, dtypes)
    ood = far_counts(good, plan, present)
    missing = [c for c in plan.features if c not in types]
    out = []
    for w in sorted(profiles):
        p, (n, far, per_column) = profiles[w], ood[int(w)]
        columns = {c: pack(p.columns[c]) for c in present}
        if PRED_COL in p.columns:
            columns[PRED_COL] = pack(p.columns[PRED_COL])
        summary = {
            "rows": n,
            "profile": {"rows": n, "columns": columns},
            "latency": pack(p.columns[LATENCY]) if LATENCY in p.columns else None,
            "schema": {"missing": {c: n for c in missing}, "unparsed": {}, "extra": {c: n for c in extra}},
            "ood_rows": far,
            "ood": per_column,
            "quarantined": 0,
            "batches": [batch_id],
        }
        start = _window_time(int(w))
        out.append((start, start + timedelta(microseconds=int(plan.window_ns) // 1000), summary))
    return out


# ---------------------------------------------------------------------------------------------
# rows streamed to the store


def _chunks(frame: Any, columns: list[str], rows: int = STREAM_ROWS) -> Iterator[pd.DataFrame]:
    """The frame's rows as pandas chunks (Spark's local iterator: one partition at a time)."""
    buf: list[tuple] = []
    for r in frame.select(*[sql_name(c) for c in columns]).toLocalIterator():
        buf.append(tuple(r))
        if len(buf) >= rows:
            yield pd.DataFrame(buf, columns=columns)
            buf = []
    if buf:
        yield pd.DataFrame(buf, columns=columns)


def _rows_sample(chunk: pd.DataFrame, plan: Plan, batch_id: str, keep: str) -> pd.DataFrame:
    """rows_sample's columns for the chunk's rows (features cast to the column types of init)."""
    out = pd.DataFrame(
        {
            "row_id": chunk[ROW_ID].astype(str).to_numpy(),
            "batch_id": batch_id,
            "window_start": pd.to_datetime(chunk[WIN].to_numpy(np.int64)),
            "ts": pd.to_datetime(chunk[TS_NS].to_numpy(np.int64)),
            "score": chunk[SCORE].to_numpy(np.float64, na_value=np.nan),
            "keep": keep,
        }
    )
    for c, t in plan.row_columns.items():
        if c not in chunk.columns:
            out[c] = np.nan if t == "number" else None
        elif t == "number":
            out[c] = pd.to_numeric(chunk[c], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        else:
            v = chunk[c].astype(object)
            out[c] = [None if x is None or x != x else str(x) for x in v]
    return out


def _write_rows(w: Any, good: Any, plan: Plan, batch_id: str) -> None:
    features = [c for c in plan.row_columns if c in good.columns]
    for chunk in _chunks(good, [ROW_ID, TS_NS, WIN, SCORE, *features]):
        ts = pd.to_datetime(chunk[TS_NS].to_numpy(np.int64))
        win = pd.to_datetime(chunk[WIN].to_numpy(np.int64))
        score = chunk[SCORE].to_numpy(np.float64, na_value=np.nan)
        w.add(
            "predictions",
            pd.DataFrame(
                {"row_id": chunk[ROW_ID].astype(str).to_numpy(), "batch_id": batch_id, "ts": ts,
                 "window_start": win, "score": score, "predicted": None}
            ),
        )  # fmt: skip
        if plan.hold:
            w.add("rows_sample", _rows_sample(chunk, plan, batch_id, "pending"))
        else:
            pick = stratified(np.asarray(win.asi8), score, plan.rows_per_window, plan.strata)
            w.add(
                "rows_sample", _rows_sample(chunk.iloc[pick].reset_index(drop=True), plan, batch_id, "sample")
            )


def _write_quarantine(w: Any, bad: Any, batch_id: str) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for chunk in _chunks(bad, [ORDER, ROW_ID, REASON, "__data"]):
        w.add(
            "quarantine",
            pd.DataFrame(
                {
                    "batch_id": batch_id,
                    "row_number": chunk[ORDER].to_numpy(np.int64),
                    "row_id": chunk[ROW_ID].to_numpy(object),
                    "reason": chunk[REASON].to_numpy(object),
                    "data": chunk["__data"].fillna(json.dumps(None)).to_numpy(object),
                }
            ),
        )
        for r, k in chunk[REASON].value_counts().items():
            reasons[str(r)] = reasons.get(str(r), 0) + int(k)
    return reasons


# ---------------------------------------------------------------------------------------------
# the batch


def _known(plan: Plan) -> set[str]:
    st = plan.settings
    roles = ("id_column", "time_column", "prediction_column", "target", "latency_column")
    return set(st["features"]) | {str(st[r]) for r in roles if st.get(r)} | {"latency_ms"}


def _check_columns(cols: list[str], plan: Plan) -> list[str]:
    st = plan.settings
    for role in ("id_column", "time_column"):
        c = st.get(role)
        if c and c not in cols:
            raise InputError(
                f"the batch has no {role.split('_')[0]} column {c!r} (set at `monitor init`)",
                f"its columns are: {listing(sorted(cols))}",
            )
    if not any(f in cols for f in st["features"]):
        raise InputError(
            "the batch has no column in common with the reference", f"batch columns: {listing(sorted(cols))}"
        )
    pc = st.get("prediction_column")
    if plan.model is not None and not (pc and pc in cols):
        raise InputError(
            "--engine spark needs the logged scores (the prediction column set at init)",
            "log the scores with the rows, or log this batch without --engine spark (the model scores it)",
        )
    lacking = [f for f in st["features"] if f not in cols]
    return (
        [f"the batch lacks {len(lacking)} reference column(s): {listing(lacking)} (a schema change)"]
        if lacking
        else []
    )


def log_spark(store: Store, path: Path, plan: Plan, batch_id: str | None = None, spark: Any = None) -> Ingest:
    """Log one batch (a Parquet file or a folder of partitioned Parquet) with Spark: idempotent
    per batch id (the folder's name when none is given)."""
    bid = batch_id or path.name
    result = Ingest(batch_id=bid, logged=False)
    if store.has_batch(bid):
        result.notes.append(f"batch {bid} is already in the store: nothing changed")
        return result
    if spark is None:
        need_pyspark()
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()  # the caller's session (a notebook, a test, a job)
    own = spark is None
    spark = spark or spark_session(os.environ.get("MLTRIAGE_SPARK_MASTER", "local[*]"))
    v = None
    try:
        frame = read_batch(spark, path)
        result.notes.extend(_check_columns(frame.columns, plan))
        extra = [c for c in frame.columns if c not in _known(plan)]
        v = validated(frame, plan, bid).cache()
        good = v.where(f"{REASON} IS NULL")
        row_json = f"to_json(struct({', '.join(sql_name(c) for c in frame.columns)})) AS __data"
        bad = v.where(f"{REASON} IS NOT NULL").selectExpr(ORDER, ROW_ID, REASON, row_json)
        summaries = window_summaries(good, plan, bid, path, extra)
        with store.writing_batch({"batch_id": bid, "source": str(path), "sha256": None}) as w:
            if w is None:
                result.notes.append(f"batch {bid} is already in the store: nothing changed")
                return result
            result.reasons = _write_quarantine(w, bad, bid)
            if summaries and w.quarantined:  # as ingest does: in the batch's first window
                summaries[0][2]["quarantined"] = w.quarantined
            for ws, we, s in summaries:
                w.add_summary(ws, we, s)
            _write_rows(w, good, plan, bid)
            result.rows, result.quarantined = w.rows, w.quarantined
    finally:
        if v is not None:
            v.unpersist()
        if own:
            spark.stop()
    result.logged = True
    result.windows = [ws.isoformat(timespec="seconds") for ws, _, _ in summaries]
    return result
