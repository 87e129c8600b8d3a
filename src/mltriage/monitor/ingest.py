"""`monitor log`: a batch file read in chunks, validated, scored, summarised per window and written
in one transaction (see store.writing_batch).

Per chunk (CHUNK_ROWS rows, so memory stays bounded on files of any size):
- rows that break the schema are quarantined with the reason (never dropped silently): a missing
  or duplicated id (in the batch, or logged before by another batch), a missing or unreadable timestamp, a value that is not a number in a numeric
  column, a logged score that is not a number (or outside [0, 1] for a binary model);
- the score is the logged one (the prediction column), else the model's (stored at init);
- each row falls in the window [floor(ts / window) * window, + window) (UTC, from the epoch);
- per window, a mergeable summary (windows.summarise) on the reference's bins; every
  prediction's (id, score) goes to `predictions`; full rows to `rows_sample` (all of them while
  sampling.hold > 0, pruned by `check` later; else a stratified sample at once).
A file that cannot be read (corrupt, truncated) is refused: InputError, nothing of it written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, listing
from ..positive import positive_scores
from ..stats.bins import is_numeric_dtype
from ..stats.profile import NumericProfile, Profile
from .sampling import stratified
from .store import Store, now
from .windows import summarise_dense

CHUNK_ROWS = 250_000


@dataclass
class Ingest:
    """What a `log` call did."""

    batch_id: str
    logged: bool  # False: the batch id was already in the store (nothing changed)
    rows: int = 0
    quarantined: int = 0
    windows: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "logged": self.logged,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "windows": self.windows,
            "quarantine_reasons": self.reasons,
            "notes": self.notes,
        }


# ---------------------------------------------------------------------------------------------
# reading


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _corrupt(path: Path, exc: BaseException) -> InputError:
    return InputError(
        f"the batch file {str(path)!r} is corrupt or truncated ({type(exc).__name__}: {str(exc)[:200]}); "
        "nothing of it was logged",
        "export the batch again (a complete Parquet or CSV file) and re-run `monitor log`",
    )


def read_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The batch's rows in chunks; a file that cannot be read raises InputError (exit 2)."""
    if not path.exists() or not path.is_file():
        raise InputError(f"batch file {str(path)!r} does not exist", "check --batch")
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        yield from _csv_chunks(path, chunk_rows, "\t" if name.endswith(".tsv") else ",")
        return
    yield from _parquet_chunks(path, chunk_rows)


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Row group by row group (sliced to chunk_rows), which keeps Arrow's memory flat; files with
    very large row groups are streamed in batches instead (without pre-buffering)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path, pre_buffer=False)
        md = pf.metadata
        largest = max((md.row_group(i).num_rows for i in range(md.num_row_groups)), default=0)
        if largest <= 4 * chunk_rows:
            for i in range(md.num_row_groups):
                t = pf.read_row_group(i)
                for off in range(0, t.num_rows, chunk_rows):
                    yield t.slice(off, chunk_rows).to_pandas()
                del t
            return
        for b in pf.iter_batches(batch_size=chunk_rows, use_threads=False):
            yield pa.Table.from_batches([b]).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as e:
        raise _corrupt(path, e) from None


def _csv_chunks(path: Path, chunk_rows: int, sep: str) -> Iterator[pd.DataFrame]:
    try:
        reader = pd.read_csv(path, sep=sep, chunksize=chunk_rows, low_memory=False, on_bad_lines="error")
        yield from reader
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, pd.errors.EmptyDataError) as e:
        raise _corrupt(path, e) from None


# ---------------------------------------------------------------------------------------------
# one chunk


@dataclass
class Plan:
    """The store's settings a chunk is read with."""

    settings: dict[str, Any]
    reference: Profile
    window_ns: int
    hold: bool
    rows_per_window: int
    strata: int
    row_columns: dict[str, str]
    ood_margin: float
    model: Any = None  # a ModelAdapter when the store has a model
    logged_at: datetime = field(default_factory=now)
    # duplicated ids: looked for row by row (64-bit hashes of every id read), or only counted in
    # the store before committing, the batch then logged again row by row (duplicates are rare)
    exact_ids: bool = False
    known_ids: Any = None  # with exact_ids: ids -> which another batch logged (BatchWriter.logged_before)

    @property
    def layout(self) -> Any:
        """The stored layout of window summaries (from the reference, as the store's)."""
        from .summary_codec import Layout

        if self._layout is None:
            self._layout = Layout.from_profile(self.reference)
        return self._layout

    _layout: Any = None

    @property
    def features(self) -> list[str]:
        return list(self.settings["features"])


class SeenIds:
    """The ids already read in this batch, as sorted 64-bit hashes, one array per chunk (8 bytes an
    id; membership by binary search): duplicates across chunks found without a set of strings."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []

    @staticmethod
    def hashes(ids: pd.Series) -> np.ndarray:
        return pd.util.hash_pandas_object(ids, index=False).to_numpy()

    def contains(self, h: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(h), dtype=bool)
        for p in self.parts:
            i = np.minimum(np.searchsorted(p, h), len(p) - 1)
            hit |= p[i] == h
        return hit

    def add(self, h: np.ndarray) -> None:
        if len(h):
            self.parts.append(np.unique(h))


def _reason(reasons: np.ndarray, mask: np.ndarray, text: str) -> None:
    """Set `text` where mask holds and no reason is set yet."""
    reasons[mask & (reasons == "")] = text


def _validate(df: pd.DataFrame, plan: Plan, seen_ids: SeenIds) -> tuple[np.ndarray, dict[str, pd.Series]]:
    """Per row the first reason to quarantine it ("" when fine), and the parsed id/ts/score."""
    st = plan.settings
    n = len(df)
    reasons = np.full(n, "", dtype=object)
    parsed: dict[str, pd.Series] = {}
    idc, tc, pc = st.get("id_column"), st.get("time_column"), st.get("prediction_column")
    if idc:
        ids = df[idc]
        miss = ids.isna().to_numpy()
        sid = ids if pd.api.types.is_string_dtype(ids.dtype) else ids.astype(str)
        _reason(reasons, miss, f"{idc} (id) is missing")
        if plan.exact_ids:
            h = SeenIds.hashes(sid)
            dup = (pd.Series(h).duplicated(keep="first").to_numpy() | seen_ids.contains(h)) & ~miss
            parsed["id_hash"] = pd.Series(h)
            _reason(reasons, dup & ~miss, f"{idc} (id) is duplicated")
            if plan.known_ids is not None:
                _reason(
                    reasons, plan.known_ids(sid) & ~miss, f"{idc} (id) was logged before by another batch"
                )
        parsed["id"] = sid
    if tc:
        ts = pd.to_datetime(df[tc], errors="coerce", utc=True)
        _reason(reasons, ts.isna().to_numpy(), f"{tc} (time) is missing or not a time")
        parsed["ts"] = ts.dt.tz_convert(None)
    for c in plan.features:
        rp = plan.reference.columns.get(c)
        if c in df.columns and isinstance(rp, NumericProfile) and not is_numeric_dtype(df[c]):
            if pd.api.types.is_bool_dtype(df[c].dtype):
                continue
            num = pd.to_numeric(df[c], errors="coerce")
            bad = (num.isna() & df[c].notna()).to_numpy()
            if bad.any():
                _reason(reasons, bad, f"{c}: not a number")
    if pc and pc in df.columns:
        s = pd.to_numeric(df[pc], errors="coerce")
        bad = s.isna().to_numpy() | ~np.isfinite(s.to_numpy(np.float64, na_value=np.nan))
        if st.get("task") == "binary":
            v = s.to_numpy(np.float64, na_value=np.nan)
            bad |= (v < 0) | (v > 1)
            _reason(reasons, bad, f"{pc} (score) is not a probability")
        else:
            _reason(reasons, bad, f"{pc} (score) is not a number")
        parsed["score"] = s
    return reasons, parsed


def _quarantine_frame(
    df: pd.DataFrame, bad: np.ndarray, reasons: np.ndarray, batch_id: str, offset: int, ids: pd.Series
) -> pd.DataFrame:
    sub = df.loc[bad]
    data = sub.to_json(orient="records", lines=True, date_format="iso", default_handler=str).splitlines()
    return pd.DataFrame(
        {
            "batch_id": batch_id,
            "row_number": (np.flatnonzero(bad) + offset).astype(np.int64),
            "row_id": ids[bad].to_numpy(object),
            "reason": reasons[bad],
            "data": data if len(data) == len(sub) else [json.dumps(None)] * len(sub),
        }
    )


def _scores(df: pd.DataFrame, plan: Plan, parsed: Mapping[str, pd.Series], notes: list[str]) -> np.ndarray:
    if "score" in parsed:
        return parsed["score"].to_numpy(np.float64, na_value=np.nan)
    st, m = plan.settings, plan.model
    if m is None:
        return np.full(len(df), np.nan)
    feats = plan.features
    lacking = [f for f in feats if f not in df.columns]
    if lacking:
        note = f"the model cannot score the batch: it lacks {listing(lacking)} (no scores logged)"
        if note not in notes:
            notes.append(note)
        return np.full(len(df), np.nan)
    try:
        return _model_scores(m, df[feats], st)
    except InputError as e:  # a batch the model cannot score is logged without scores, and says so
        note = f"the model cannot score these rows ({e.message[:160]}): logged without scores"
        if note not in notes:
            notes.append(note)
        return np.full(len(df), np.nan)


def _model_scores(m: Any, X: pd.DataFrame, st: Mapping[str, Any]) -> np.ndarray:
    if st.get("task") == "binary" and m.has_proba:
        # P(the positive class monitor init stored), by the one rule every command uses
        p = positive_scores(np.asarray(m.predict_proba(X)), m.classes, st.get("positive"))
        return p.astype(np.float64)
    raw = m.predict_raw(X)
    return pd.to_numeric(pd.Series(np.asarray(raw).ravel()), errors="coerce").to_numpy(np.float64)


def _row_frame(good: pd.DataFrame, plan: Plan, meta: dict[str, Any]) -> pd.DataFrame:
    """The rows_sample columns of the good rows (features cast to the column types of init)."""
    out = pd.DataFrame(meta)
    for c, t in plan.row_columns.items():
        if c not in good.columns:
            out[c] = np.nan if t == "number" else None
        elif t == "number":
            out[c] = pd.to_numeric(good[c], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        else:
            v = good[c]
            out[c] = (
                v.astype(object).where(v.notna(), None).map(lambda x: x if x is None else str(x)).to_numpy()
            )
    return out


def process_chunk(
    df: pd.DataFrame, plan: Plan, batch_id: str, offset: int, seen_ids: SeenIds, result: Ingest
) -> tuple[list[tuple[datetime, datetime, dict[str, Any], np.ndarray]], dict[str, pd.DataFrame]]:
    """One chunk: the window summaries and the frames to insert (predictions, rows_sample,
    quarantine)."""
    df = df.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    st = plan.settings
    reasons, parsed = _validate(df, plan, seen_ids)
    n = len(df)
    ids = (
        parsed["id"]
        if "id" in parsed
        else pd.Series([f"{batch_id}:{offset + i}" for i in range(n)], dtype=object)
    )
    bad = reasons != ""
    frames: dict[str, pd.DataFrame] = {}
    if bad.any():
        frames["quarantine"] = _quarantine_frame(df, bad, reasons, batch_id, offset, ids)
        for r, k in pd.Series(reasons[bad]).value_counts().items():
            result.reasons[str(r)] = result.reasons.get(str(r), 0) + int(k)
    keep = ~bad
    clean = not bad.any()  # the usual chunk: no copy of it
    good = df if clean else df.loc[keep].reset_index(drop=True)
    gids = ids if clean else ids[keep].reset_index(drop=True)
    gids = gids if pd.api.types.is_string_dtype(gids.dtype) else gids.astype(str)
    if "id_hash" in parsed:
        seen_ids.add(parsed["id_hash"].to_numpy()[keep])
    ts = (
        parsed["ts"][keep].reset_index(drop=True)
        if "ts" in parsed
        else pd.Series(pd.Timestamp(plan.logged_at), index=range(len(good)))
    )
    sub_parsed = {k: v[keep].reset_index(drop=True) for k, v in parsed.items() if k == "score"}
    score = _scores(good, plan, sub_parsed, result.notes)
    tsv = ts.to_numpy("datetime64[ns]").astype(np.int64)
    wstart = (tsv // plan.window_ns) * plan.window_ns
    lat_col = st.get("latency_column") or "latency_ms"
    latency = (
        pd.to_numeric(good[lat_col], errors="coerce").to_numpy(np.float64)
        if lat_col in good.columns
        else None
    )
    extra = [c for c in df.columns if c not in _known_columns(st)]
    keys, dense, sparse = summarise_dense(
        good,
        wstart,
        plan.reference,
        plan.features,
        plan.layout,
        scores=score,
        latency=latency,
        batch_id=batch_id,
        ood_margin=plan.ood_margin,
        extra_columns=extra,
    )
    summaries = [
        (
            pd.Timestamp(int(w)).to_pydatetime(),
            pd.Timestamp(int(w) + plan.window_ns).to_pydatetime(),
            sm,
            dense[i],
        )
        for i, (w, sm) in enumerate(zip(keys.tolist(), sparse))
    ]
    if summaries and bad.any():  # quarantined rows count in the chunk's first window
        summaries[0][2]["quarantined"] = int(bad.sum())
    win = pd.to_datetime(wstart)
    frames["predictions"] = pd.DataFrame(
        {
            "row_id": gids,
            "batch_id": batch_id,
            "ts": ts.to_numpy(),
            "window_start": win,
            "score": score,
            "predicted": None,
        }
    )
    frames["rows_sample"] = _sampled_rows(good, plan, gids, ts, win, score, batch_id)
    return summaries, frames


def _sampled_rows(
    good: pd.DataFrame,
    plan: Plan,
    gids: pd.Series,
    ts: pd.Series,
    win: pd.DatetimeIndex,
    score: np.ndarray,
    batch_id: str,
) -> pd.DataFrame:
    if plan.hold:
        pick = np.arange(len(good))
        keep = "pending"
    else:
        pick = stratified(np.asarray(win.asi8), score, plan.rows_per_window, plan.strata)
        keep = "sample"
    meta = {
        "row_id": gids.to_numpy()[pick],
        "batch_id": batch_id,
        "window_start": win[pick],
        "ts": ts.to_numpy()[pick],
        "score": score[pick],
        "keep": keep,
    }
    return _row_frame(good.iloc[pick].reset_index(drop=True), plan, meta)


def _known_columns(st: Mapping[str, Any]) -> set[str]:
    roles = ("id_column", "time_column", "prediction_column", "target", "latency_column")
    return set(st["features"]) | {str(st[r]) for r in roles if st.get(r)} | {"latency_ms"}


# ---------------------------------------------------------------------------------------------
# the whole batch


def check_columns(first: pd.DataFrame, st: Mapping[str, Any]) -> list[str]:
    """Refuse a batch that cannot be logged at all; return notes on missing columns."""
    cols = {str(c) for c in first.columns}
    for role in ("id_column", "time_column"):
        c = st.get(role)
        if c and c not in cols:
            raise InputError(
                f"the batch has no {role.split('_')[0]} column {c!r} (set at `monitor init`)",
                f"its columns are: {listing(sorted(cols))}",
            )
    feats = list(st["features"])
    common = [f for f in feats if f in cols]
    if not common:
        raise InputError(
            "the batch has no column in common with the reference",
            f"reference columns: {listing(feats)}; batch columns: {listing(sorted(cols))}",
        )
    lacking = [f for f in feats if f not in cols]
    return (
        [f"the batch lacks {len(lacking)} reference column(s): {listing(lacking)} (a schema change)"]
        if lacking
        else []
    )


class _Duplicates(Exception):
    """The batch holds duplicated ids, or ids another batch logged: log it again, looking for
    them chunk by chunk."""


def log_batch(
    store: Store, path: Path, plan: Plan, batch_id: str | None = None, chunk_rows: int = CHUNK_ROWS
) -> Ingest:
    """Log one batch file (idempotent per batch id; the file's SHA-256 when no id is given)."""
    # the file's SHA-256 is the default batch id (re-logging the same file changes nothing); with an
    # explicit id, reading the whole file once more is not worth it
    digest = file_digest(path) if batch_id is None and path.exists() and path.is_file() else None
    bid = batch_id or (f"sha256:{digest[:16]}" if digest else path.name)
    result = Ingest(batch_id=bid, logged=False)
    if store.has_batch(bid):
        result.notes.append(f"batch {bid} is already in the store: nothing changed")
        return result
    try:
        return _write(store, path, plan, bid, digest, chunk_rows, result)
    except _Duplicates:  # rolled back: again, quarantining the duplicates
        plan.exact_ids = True
        return _write(store, path, plan, bid, digest, chunk_rows, Ingest(batch_id=bid, logged=False))


def _write(
    store: Store, path: Path, plan: Plan, bid: str, digest: str | None, chunk_rows: int, result: Ingest
) -> Ingest:
    chunks = read_chunks(path, chunk_rows)
    try:
        first = next(chunks)
    except StopIteration:
        raise InputError(f"the batch file {str(path)!r} has no rows", "check the export") from None
    result.notes.extend(check_columns(first, plan.settings))
    plan._layout = store.layout()  # summaries are encoded as the store keeps them
    seen = SeenIds()
    windows: set[datetime] = set()
    with store.writing_batch({"batch_id": bid, "source": str(path), "sha256": digest}) as w:
        if w is None:
            result.notes.append(f"batch {bid} is already in the store: nothing changed")
            return result
        plan.known_ids = w.logged_before if plan.exact_ids else None
        offset = 0
        chunk: pd.DataFrame | None = first
        while chunk is not None:
            summaries, frames = process_chunk(chunk, plan, bid, offset, seen, result)
            for ws, we, sp, de in summaries:
                w.add_encoded(ws, we, sp, de)
                windows.add(ws)
            for table in ("predictions", "rows_sample", "quarantine"):
                if table in frames:
                    w.add(table, frames[table])
            offset += len(chunk)
            del summaries, frames, chunk  # free this chunk before reading the next
            chunk = next(chunks, None)
        if plan.settings.get("id_column") and not plan.exact_ids and w.duplicated_ids(bid):
            raise _Duplicates
        result.rows, result.quarantined = w.rows, w.quarantined
    result.logged = True
    result.windows = [d.isoformat(timespec="seconds") for d in sorted(windows)]
    return result
