"""Window summaries: mergeable summaries of the predictions logged in one window.

A summary (see store.py for the layout) holds the window's features and scores profiled on the
reference's bins (`mltriage.stats.profile`), so that summaries of parts of a window (batches,
Spark partitions) merge exactly and the per-window drift is recomputed from merged bins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..stats.profile import NumericProfile, Profile
from ..stats.profile_merge import merge


def merge_summaries(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """The summary of the union of the rows behind two summaries of the same window."""
    out: dict[str, Any] = {"rows": int(a.get("rows", 0)) + int(b.get("rows", 0))}
    pa, pb = a.get("profile"), b.get("profile")
    if pa and pb:
        out["profile"] = merge(Profile.from_dict(pa), Profile.from_dict(pb)).to_dict()
    else:
        out["profile"] = pa or pb
    la, lb = a.get("latency"), b.get("latency")
    if la and lb:
        m = merge(_one("latency", la), _one("latency", lb))
        out["latency"] = m.columns["latency"].to_dict()
    else:
        out["latency"] = la or lb
    out["schema"] = {
        k: _add(a.get("schema", {}).get(k, {}), b.get("schema", {}).get(k, {}))
        for k in ("missing", "unparsed", "extra")
    }
    for k in ("ood_rows", "quarantined"):
        out[k] = int(a.get(k, 0)) + int(b.get(k, 0))
    out["batches"] = list(a.get("batches", [])) + [
        x for x in b.get("batches", []) if x not in a.get("batches", [])
    ]
    return out


def _one(name: str, d: Mapping[str, Any]) -> Profile:
    p = NumericProfile.from_dict(name, d)
    return Profile(columns={name: p}, rows=p.rows)


def _add(x: Mapping[str, int], y: Mapping[str, int]) -> dict[str, int]:
    out = dict(x)
    for k, v in y.items():
        out[k] = int(out.get(k, 0)) + int(v)
    return out
