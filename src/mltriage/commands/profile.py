"""`mltriage profile`: summarise reference rows into a mergeable profile (bins, counts, quantiles,
schema) that `mltriage drift --reference` reads instead of the rows.

    mltriage profile --data train.parquet --out ref.json [--model model.joblib] [--chunk-rows N]

Several files (or profile JSONs) merge into one profile. The first file fixes the bin edges unless
`like` names a reference profile; later files and chunks are profiled on those edges and merged.
Parquet files larger than the memory allows (or with `chunk_rows`) are read in row batches. With a
model, the profile also holds the model's outputs on the rows (for prediction drift later).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, listing
from ..io import is_profile_path, load_model, read_profile, read_rows, too_large
from ..model import ModelAdapter
from ..stats.production import PRED_COL, model_outputs
from ..stats.profile import Profile, ProfileError, build_profile
from ..stats.profile_merge import merge
from ..stats.rows import scalar


class _Profiler:
    """Profiles frames on shared bin edges (the reference's, or the first frame's) and merges them."""

    def __init__(
        self, categorical: list[str], drop: set[str], adapter: ModelAdapter | None, base: Profile | None
    ) -> None:
        self.cat, self.drop, self.adapter, self.base = categorical, drop, adapter, base
        self.total: Profile | None = None

    def add(self, p: Profile) -> None:
        if self.base is None:
            self.base = p
        if self.total is None:
            self.total = p
            return
        try:
            self.total = merge(self.total, p)
        except ProfileError as exc:
            raise InputError(
                f"cannot merge the profiles: {exc}",
                "profile every part with --like the same reference profile",
            ) from None

    def frame(self, df: pd.DataFrame) -> Profile:
        df = df[[c for c in df.columns if c not in self.drop and c != PRED_COL]]
        if df.shape[1] == 0:
            raise InputError(
                "no columns left to profile once the excluded ones are set aside",
                "check --target / --prediction-column",
            )
        p = build_profile(df, like=self.base, categorical=self.cat)
        if self.adapter is not None:
            self._outputs(p, df, self.adapter)
        return p

    def _outputs(self, p: Profile, df: pd.DataFrame, adapter: ModelAdapter) -> None:
        """The model's outputs on the rows, as the profile's prediction column."""
        feats = adapter.feature_names or list(df.columns)
        missing = [f for f in feats if f not in df.columns]
        if missing:
            raise InputError(
                f"the model needs columns the data lacks: {listing(missing)}",
                "profile the data the model scores, or leave out --model",
            )
        out = model_outputs(adapter, df[feats])
        base = self.base
        pp = build_profile(
            pd.DataFrame({PRED_COL: out.values.to_numpy()}),
            like=base if base is not None and PRED_COL in base.columns else None,
            categorical=[PRED_COL] if out.kind == "categorical" else [],
        )
        p.columns[PRED_COL] = pp.columns[PRED_COL]
        p.meta["prediction"] = {"task": out.task, "kind": out.kind}
        if out.task == "binary" and len(adapter.classes or []) == 2:
            # the outputs are about the model's last class: `mltriage drift --positive-class` reads it
            p.meta["prediction"]["positive"] = scalar((adapter.classes or [])[-1])

    def path(self, p: Path, chunk_rows: int | None) -> None:
        """Profile one data file: in row batches when it is Parquet and large (or asked to)."""
        if not p.exists():
            raise InputError(f"data file {str(p)!r} does not exist", "check the path given to --data")
        big, need, have = too_large(p)
        if p.suffix.lower() in (".parquet", ".pq") and (chunk_rows or big):
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(p)
            rows = chunk_rows or max(
                10_000, int(pf.metadata.num_rows * ((have or 0) / 4) / max(need or 1, 1))
            )
            for batch in pf.iter_batches(batch_size=int(rows)):
                self.add(self.frame(batch.to_pandas()))
        elif big:
            raise InputError(
                f"{str(p)!r} is too large for the memory available and is not Parquet",
                "convert it to Parquet (read in chunks), or profile parts of it and "
                "merge: --data part1.json --data part2.json",
            )
        else:
            self.add(self.frame(read_rows(p, "data")))


def profile(
    data: Iterable[str | Path] | str | Path,
    *,
    target: str | None = None,
    exclude: Iterable[str | None] = (),
    categorical: Iterable[str] = (),
    model: Any = None,
    like: str | Path | Profile | None = None,
    chunk_rows: int | None = None,
) -> Profile:
    """Profile one or more data files (or merge profile JSONs) into one Profile.

    `data`: CSV/Parquet paths or profile JSONs (merged). `target` and `exclude`: columns to leave
    out. `model`: also profile its outputs on the rows (for prediction drift later; loading a
    pickle runs its code: trust the file). `like`: a reference profile whose bins to reuse (to
    profile a batch, or parts to merge). `chunk_rows`: read Parquet in batches of this many rows
    (automatic when the file exceeds memory). Write it with `Profile.to_json(path)`.
    """
    if chunk_rows is not None and chunk_rows < 1:
        raise InputError(f"chunk_rows = {chunk_rows} is not positive", "give a number of rows, e.g. 500000")
    paths = [data] if isinstance(data, (str, Path)) else list(data)
    if not paths:
        raise InputError("no data to profile", "pass --data FILE (CSV, Parquet or a profile JSON)")
    base = like if isinstance(like, Profile) else read_profile(like) if like else None
    drop = {c for c in (target, *exclude) if c}
    prof = _Profiler(list(categorical), drop, load_model(model), base)
    for path in paths:
        p = Path(path)
        if is_profile_path(p):
            prof.add(read_profile(p))
        else:
            prof.path(p, chunk_rows)
    assert prof.total is not None
    prof.total.meta.setdefault("sources", [str(x) for x in paths])
    return prof.total
