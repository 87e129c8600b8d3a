"""The terminal table of `mltriage compare`: each feature's share of the attribution on both sides
(`Report.details["attributions"]`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _pct(v: Any, sign: bool = False) -> str:
    return "-" if v is None else (f"{v:+.1%}" if sign else f"{v:.1%}")


def compare_table(details: dict[str, Any], most: int = 15) -> Table | None:
    """The features with the largest share first (None when the report holds no table)."""
    rows = details.get("attributions") or []
    if not rows:
        return None
    ex = details.get("explained") or {}
    title = (
        f"attribution: {ex.get('reference', 0):,} reference rows vs {ex.get('current', 0):,} current rows "
        f"({ex.get('method', '')})"
    )
    t = Table(title=title, show_lines=False)
    for h in ("feature", "share ref", "share cur", "shift", "95% CI", "curve moved", "PSI"):
        t.add_column(h)
    for r in rows[:most]:
        t.add_row(
            str(r["feature"]),
            _pct(r.get("share_ref")),
            _pct(r.get("share_cur")),
            _pct(r.get("share_shift"), sign=True),
            f"{_pct(r.get('share_shift_low'), True)} to {_pct(r.get('share_shift_high'), True)}",
            "-" if r.get("curve_shift") is None else f"{r['curve_shift']:.0%}",
            "-" if r.get("psi") is None else f"{r['psi']:.3f}",
        )
    return t
