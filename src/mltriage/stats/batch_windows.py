"""Time inside a production batch: the batch cut into windows, each compared with the reference.

A change that starts halfway through a batch is half as strong in the whole batch, and one that
starts on its last day a seventh as strong in a week: judged on the whole batch it is averaged
away. `time_windows` cuts the batch on its time column into calendar days when it spans at least
three days holding `min_rows` rows each, else into two halves at the median time (each at least
`min_rows`). `window_drift` compares every window with the reference on the reference's bins (the
same PSI and chi-square as the whole batch, stats/drift.py), with the significance gate divided
by windows x features (Bonferroni: every test counted), and for every feature that drifts in a
window, names the first window from which it drifts in every later window (where the change
starts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .drift import DriftConfig, compare_profiles
from .profile import Profile, build_profile


@dataclass
class Window:
    label: str  # "2024-03-05", or "first half (up to 2024-03-05 12:00)"
    start: str
    end: str
    rows: np.ndarray  # positions in the batch


def _as_time(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    if pd.api.types.is_numeric_dtype(s):
        return pd.Series(s.to_numpy(dtype=float), index=s.index)
    return pd.to_datetime(s, errors="coerce", utc=False, format="mixed")


def time_windows(t: pd.Series, min_rows: int) -> list[Window]:
    """Calendar days (>= 3 days of >= min_rows rows each) or halves at the median time (>= min_rows
    each); [] when the batch is too small or its times cannot be read."""
    try:
        tt = _as_time(t.reset_index(drop=True))
    except (TypeError, ValueError):
        return []
    ok = tt.notna().to_numpy()
    if ok.sum() < 2 * min_rows:
        return []
    pos = np.flatnonzero(ok)
    vals = tt[ok]
    if pd.api.types.is_datetime64_any_dtype(vals):
        days = vals.dt.floor("D")
        counts = days.value_counts().sort_index()
        if len(counts) >= 3 and int(counts.min()) >= min_rows:
            out = []
            dv = days.to_numpy()
            for d in counts.index:
                rows = pos[dv == np.datetime64(d)]
                lab = str(pd.Timestamp(d).date())
                out.append(Window(lab, lab, lab, rows))
            return out
    order = np.argsort(vals.to_numpy(), kind="stable")
    half = len(order) // 2
    first, second = np.sort(pos[order[:half]]), np.sort(pos[order[half:]])
    sv = vals.to_numpy()[order]

    def fmt(v: Any) -> str:
        return str(pd.Timestamp(v)) if isinstance(v, np.datetime64 | pd.Timestamp) else f"{v:g}"

    return [
        Window(f"first half ({fmt(sv[0])} to {fmt(sv[half - 1])})", fmt(sv[0]), fmt(sv[half - 1]), first),
        Window(f"second half ({fmt(sv[half])} to {fmt(sv[-1])})", fmt(sv[half]), fmt(sv[-1]), second),
    ]


@dataclass
class WindowDrift:
    windows: list[Window]
    table: list[dict[str, Any]]  # per window: per feature PSI and p-value
    starts: dict[str, int] = field(default_factory=dict)  # feature -> first window of lasting drift
    alpha: float = 0.0  # the gate per test after Bonferroni
    tests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": [{"label": w.label, "rows": len(w.rows)} for w in self.windows],
            "per_window": self.table,
            "starts": {c: self.windows[i].label for c, i in self.starts.items()},
            "alpha_per_test": self.alpha,
            "tests": self.tests,
            "rule": "drifted in a window when PSI >= psi_warning and the chi-square p-value < alpha / "
            "(windows x features); the change starts at the first window from which it drifts in every later one",
        }


def window_drift(
    ref: Profile,
    current: pd.DataFrame,
    windows: list[Window],
    features: list[str],
    categorical: list[str],
    cfg: DriftConfig,
) -> WindowDrift:
    """Every window against the reference, Bonferroni over windows x features."""
    tests = max(len(windows) * len(features), 1)
    alpha = cfg.alpha / tests
    wcfg = DriftConfig.from_mapping(
        {**{k: getattr(cfg, k) for k in cfg.__dataclass_fields__}, "alpha": alpha}
    )
    flags = np.zeros((len(windows), len(features)), dtype=bool)
    table = []
    for i, w in enumerate(windows):
        part = current.iloc[w.rows]
        prof = build_profile(part[features], like=ref, categorical=categorical)
        rep = compare_profiles(ref, prof, wcfg, features)
        row: dict[str, Any] = {"window": w.label, "rows": len(w.rows), "features": {}}
        for j, c in enumerate(features):
            fd = rep.features.get(c)
            if fd is None or not fd.tested:
                continue
            flags[i, j] = fd.drifted
            row["features"][c] = {"psi": round(fd.psi, 4), "p_value": fd.p_value, "drifted": fd.drifted}
        table.append(row)
    starts = {}
    for j, c in enumerate(features):
        col = flags[:, j]
        if not col.any():
            continue
        # the first window from which the feature drifts in every later window
        k = len(windows)
        while k > 0 and col[k - 1]:
            k -= 1
        if k < len(windows):
            starts[c] = k
    return WindowDrift(windows, table, starts, alpha, tests)
