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

import pandas as pd

from .errors import InputError
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
    from .case import read_frame

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
