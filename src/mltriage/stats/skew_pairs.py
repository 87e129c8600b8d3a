"""Two columns exchanged by the serving path (Sculley et al. 2015, glue code: a feature vector
assembled by position; Zinkevich, Rules of ML 32): each batch column matches the other column's
training distribution while it drifts from its own. No parameter is fitted, so the bound is the
inference's own: the swapped batch must match training as well as sampling allows (the 99th
percentile of the PSI between two samples of one distribution, or skew_max_psi_after) and to at
most skew_max_ratio_after of each column's drift. Two columns of distinct training distributions
(a drift of skew_min_psi or more each) cannot both land on each other's by a population change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .drift import DriftConfig, DriftReport
from .profile import NumericProfile, Profile

if TYPE_CHECKING:
    import pandas as pd

    from .skew import SkewResult


def find_swaps(
    ref: Profile, current: pd.DataFrame, report: DriftReport, columns: Iterable[str], cfg: DriftConfig
) -> dict[str, SkewResult]:
    """Pairs of drifting numeric columns that match training once exchanged: {column: result}."""
    from .skew import SkewResult, _limit, _trial

    cand = []
    for c in columns:
        fd, rp = report.features.get(c), ref.columns.get(c)
        if fd is not None and fd.tested and fd.kind == "numeric" and isinstance(rp, NumericProfile):
            if fd.psi >= cfg.skew_min_psi:
                cand.append(c)
    fits: list[tuple[float, str, str, float, float]] = []
    for i, a in enumerate(cand):
        for b in cand[i + 1 :]:
            ta = _trial(ref.columns[b], current[a], cfg, None)  # type: ignore[arg-type]
            tb = _trial(ref.columns[a], current[b], cfg, None)  # type: ignore[arg-type]
            if ta is None or tb is None:
                continue
            pa, pb = report.features[a].psi, report.features[b].psi
            if ta.before <= _limit(ta) and tb.before <= _limit(tb):
                if ta.before <= cfg.skew_max_ratio_after * pa and tb.before <= cfg.skew_max_ratio_after * pb:
                    fits.append((ta.before + tb.before, a, b, ta.before, tb.before))
    out: dict[str, SkewResult] = {}
    for _, a, b, after_a, after_b in sorted(fits):
        if a in out or b in out:
            continue
        for col, other, after in ((a, b, after_a), (b, a, after_b)):
            out[col] = SkewResult(
                col,
                "swapped",
                f"{col} and {other} arrive exchanged (each matches the other's training distribution)",
                {"type": "swapped", "with": other, "undo": f"exchange {col} and {other}"},
                report.features[col].psi,
                after,
                f"build the serving feature vector by name, not by position: {col} and {other} are exchanged",
            )
    return out
