"""The terminal table of `mltriage drift`: the per-feature statistics in `Report.details`."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _verdict(f: dict[str, Any]) -> str:
    if f.get("drifted"):
        return str(f.get("severity"))
    return "untested" if not f.get("tested") else "ok"


def drift_table(details: dict[str, Any], most: int = 25) -> Table | None:
    """The features with the largest PSI first (None when the report holds no drift table)."""
    drift = details.get("drift") or {}
    feats = drift.get("features") or {}
    if not feats:
        return None
    rows = details.get("rows") or {}
    title = f"drift: {rows.get('current') or 0:,} batch rows vs {rows.get('reference') or 0:,} reference rows"
    t = Table(title=title, show_lines=False)
    for h in ("feature", "kind", "PSI", "KS / JS", "W (norm)", "p", "importance", "verdict"):
        t.add_column(h)
    for f in sorted(feats.values(), key=lambda f: -(f.get("psi") or 0))[:most]:
        t.add_row(
            str(f["column"]),
            str(f["kind"]),
            f"{f['psi']:.3f}" if f.get("psi") is not None else "-",
            f"{(f.get('ks') if f['kind'] == 'numeric' else f.get('js')) or 0:.3f}",
            f"{f['wasserstein_norm']:.3f}" if f.get("wasserstein_norm") is not None else "-",
            f"{f['p_value']:.2g}" if f.get("p_value") is not None else "-",
            f"{f['importance']:.0%}" if f.get("importance") is not None else "-",
            _verdict(f),
        )
    return t
