"""Reading what the production commands compare: data files under a memory guard, and profiles.

`mltriage drift` and `mltriage profile` read files that may be larger than the memory available;
`guard_memory` refuses such a file with the way out (profile it in chunks) before reading it, and
`available_memory` honours MLTRIAGE_MEMORY_LIMIT (e.g. 4G) so that the limit can be set by hand.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, listing
from .model import ModelAdapter
from .stats.profile import Profile, ProfileError


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


def too_large(path: Path, factor: float = 2.0) -> tuple[bool, int | None, int | None]:
    """Whether reading `path` would need more than the memory available (with `factor` of slack),
    with the estimated need and the memory available in bytes (None when unknown)."""
    need, have = estimate_bytes(path), available_memory()
    return (need is not None and have is not None and need * factor > have), need, have


def guard_memory(path: Path, role: str, factor: float = 2.0) -> None:
    """Refuse a file too large to load, naming the way out (profile it in chunks)."""
    big, need, have = too_large(path, factor)
    if not big or need is None or have is None:
        return

    def gb(b: float) -> str:
        return f"{b / 2**30:.1f} GB"

    raise InputError(
        f"the {role} file {str(path)!r} needs about {gb(need * factor)} of memory to compare and "
        f"{gb(have)} is available",
        "profile it in chunks instead of loading it: `mltriage profile --data FILE --like ref.json "
        "--chunk-rows 500000 --out batch.json`, then `mltriage drift --reference ref.json --current "
        "batch.json`; or pass a random sample of its rows",
    )


def is_profile_path(p: str | Path) -> bool:
    return str(p).lower().endswith(".json")


def read_profile(path: str | Path) -> Profile:
    """A profile JSON written by `mltriage profile`; InputError naming the fix otherwise."""
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


def read_rows(data: Any, role: str) -> pd.DataFrame:
    """Rows from a frame or a CSV/Parquet path, refusing a file too large for the memory."""

    if isinstance(data, (str, Path)):
        p = Path(data)
        if p.exists() and p.is_file():
            guard_memory(p, role)
        return read_frame(str(p), role)
    return read_frame(data, role)


def load_model(model: Any) -> ModelAdapter | None:
    """The adapter of a fitted model (an object or a joblib path), or None."""
    if model is None:
        return None
    return ModelAdapter.load(str(model) if isinstance(model, Path) else model)


# ---------------------------------------------------------------------------- frames


def read_frame(data: Any, role: str) -> pd.DataFrame:
    """A pandas DataFrame from a pandas/polars frame or a CSV/Parquet path."""
    if data is None:
        raise InputError(f"no {role} data given", f"pass --{role} PATH (CSV or Parquet)")
    if isinstance(data, pd.DataFrame):
        df = data
    elif type(data).__module__.startswith("polars"):
        try:
            df = data.to_pandas()
        except Exception as exc:
            raise InputError(
                f"cannot convert the polars {role} frame to pandas: {exc}",
                "install pyarrow, or pass a pandas DataFrame",
            ) from None
    elif isinstance(data, (str, Path)):
        df = _read_path(Path(data), role)
    else:
        raise InputError(
            f"the {role} data is a {type(data).__name__}, not a DataFrame or a path",
            "pass a pandas or polars DataFrame, or a .csv/.parquet path",
        )
    if len(df.columns) == 0 or len(df) == 0:
        raise InputError(
            f"the {role} data is empty ({len(df)} rows, {len(df.columns)} columns)",
            f"check the {role} file or frame; mltriage needs rows and columns",
        )
    if df.columns.duplicated().any():
        dups = sorted(set(map(str, df.columns[df.columns.duplicated()])))
        raise InputError(
            f"the {role} data has duplicated column names: {listing(dups)}",
            "rename the columns so that each name is unique",
        )
    df = df.copy() if not isinstance(data, (str, Path)) else df
    df.columns = [str(c) for c in df.columns]
    return df.reset_index(drop=True)


def _read_path(path: Path, role: str) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{role} file {str(path)!r} does not exist", f"check the path given for {role}")
    if path.is_dir():
        raise InputError(
            f"{role} path {str(path)!r} is a folder, not a file", "pass the .csv or .parquet file itself"
        )
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith((".xlsx", ".xls", ".xlsm", ".ods")):
        return _read_spreadsheet(path, role)
    try:
        if suffix.endswith((".parquet", ".pq")):
            return _read_parquet(path)
        if suffix.endswith((".csv", ".csv.gz", ".txt", ".tsv", ".tsv.gz", ".txt.gz")):
            return _read_csv(path, role)
        try:
            return _read_parquet(path)
        except Exception:
            return _read_csv(path, role)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"cannot read {role} file {str(path)!r}: {type(exc).__name__}: {str(exc)[:200]}",
            "give a readable CSV or Parquet file",
        ) from None


def _read_spreadsheet(path: Path, role: str) -> pd.DataFrame:
    """The first sheet of a spreadsheet, when pandas has the reader for it."""
    try:
        return pd.read_excel(path)
    except ImportError as exc:
        raise InputError(
            f"the {role} file {str(path)!r} is a spreadsheet and its reader is not installed ({exc})",
            "save the sheet as CSV (File > Save As > CSV), or pip install openpyxl",
        ) from None
    except Exception as exc:
        raise InputError(
            f"cannot read the {role} spreadsheet {str(path)!r}: {type(exc).__name__}: {str(exc)[:200]}",
            "save the sheet as CSV and pass that file",
        ) from None


DELIMITERS = ",;\t|"


def _head(path: Path, size: int = 65536) -> str:
    """The first `size` characters of a text file (gzip read through), '' when unreadable."""
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            return str(fh.read(size))
    except OSError:
        return ""


def sniff_delimiter(text: str) -> str:
    """The field delimiter of CSV text among , ; tab and |: the one that splits every line of the
    head into the same number (> 1) of fields, the most fields first; ',' when none does."""
    import csv
    import io as _io

    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the head may cut the last line
    best, best_n = ",", 1
    for d in DELIMITERS:
        try:
            counts = {len(r) for r in csv.reader(_io.StringIO("\n".join(lines)), delimiter=d)}
        except csv.Error:
            continue
        if len(counts) == 1 and (n := counts.pop()) > best_n:
            best, best_n = d, n
    return best


def _read_csv(path: Path, role: str) -> pd.DataFrame:
    """A CSV (or TSV, or ; and | separated) file: the delimiter sniffed from its head, duplicated
    column names refused by name (pandas would rename them to `name.1` silently)."""
    import csv

    head = _head(path)
    sep = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else sniff_delimiter(head)
    first = next(csv.reader([head.splitlines()[0]], delimiter=sep), []) if head.strip() else []
    names = [n.strip() for n in first]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise InputError(
            f"the {role} file {str(path)!r} has duplicated column names: {listing(dups)} "
            f"({', '.join(f'{d!r} {names.count(d)} times' for d in dups[:5])})",
            "rename the columns so that each name is unique",
        )
    # ; separated files usually come from locales that write decimals with a comma: 1,5;2,25
    body = head.splitlines()[1:20]
    decimal = "," if sep == ";" and any(re.search(r"(^|;)-?\d+,\d+(;|$)", ln) for ln in body) else "."
    try:
        return pd.read_csv(path, sep=sep, decimal=decimal, low_memory=False)
    except UnicodeDecodeError:  # not UTF-8: a spreadsheet export in the Windows code page
        return pd.read_csv(
            path, sep=sep, decimal=decimal, low_memory=False, encoding="cp1252", encoding_errors="replace"
        )


def read_text_columns(data: Any, columns: list[str], rows: int) -> pd.DataFrame | None:
    """`columns` of a CSV file read again as text (None when `data` is not a CSV path, or the rows
    no longer line up)."""
    if not isinstance(data, (str, Path)):
        return None
    path = Path(data)
    if not path.name.lower().endswith((".csv", ".csv.gz", ".txt", ".tsv", ".tsv.gz", ".txt.gz")):
        return None
    try:
        head = _head(path)
        sep = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else sniff_delimiter(head)
        df = pd.read_csv(path, sep=sep, usecols=columns, dtype=str, keep_default_na=True)
    except Exception:
        return None
    return df.reset_index(drop=True) if len(df) == rows else None


def _read_parquet(path: Path) -> pd.DataFrame:
    """Parquet to pandas, releasing Arrow buffers as columns convert (about half the peak memory
    of pd.read_parquet on wide files)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return table.to_pandas(self_destruct=True, split_blocks=True)


def read_history(data: Any) -> pd.DataFrame:
    df = read_frame(data, "history")
    aliases = {
        "train_loss": "loss",
        "training_loss": "loss",
        "valid_loss": "val_loss",
        "validation_loss": "val_loss",
        "eval_loss": "val_loss",
        "iteration": "epoch",
        "step": "epoch",
    }
    cols: dict[str, str] = {}
    for c in df.columns:
        key = aliases.get(c.lower(), c.lower())
        cols.setdefault(key, c)
    if "epoch" not in cols and "loss" in cols:  # no epoch column: rows are epochs in order
        df = df.assign(epoch=np.arange(1, len(df) + 1))
        cols["epoch"] = "epoch"
    missing = [c for c in ("epoch", "loss") if c not in cols]
    if missing:
        raise InputError(
            f"the training history has no column {', '.join(missing)} (it has {listing(df.columns)})",
            "give a CSV with columns epoch, loss and optionally val_loss",
        )
    df = df.rename(columns={v: k for k, v in cols.items() if k in ("epoch", "loss", "val_loss")})
    for c in ("epoch", "loss", "val_loss"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df
