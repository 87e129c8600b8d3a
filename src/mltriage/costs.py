"""The cost of errors: `--cost fp=1,fn=10` (binary) and `--cost-matrix FILE` (rows: the true
class, columns: the predicted class), validated and each built from the other where it can be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, listing


def parse_cost_matrix(data: Any, classes: list | None, task: str) -> pd.DataFrame | None:
    """A square cost matrix (rows: true class, columns: predicted class) aligned to `classes`."""
    if data is None:
        return None
    if task not in ("binary", "multiclass") or not classes:
        raise InputError(
            f"a cost matrix needs a classification task, not {task}",
            "drop --cost-matrix, or use --task binary/multiclass",
        )
    if isinstance(data, (str, Path)):
        p = Path(data)
        if not p.exists():
            raise InputError(f"cost matrix file {str(p)!r} does not exist", "check the --cost-matrix path")
        try:
            if p.suffix.lower() == ".json":
                import json

                m = pd.DataFrame(json.loads(p.read_text(encoding="utf-8"))).T
            else:
                m = pd.read_csv(p, index_col=0)
        except Exception as exc:
            raise InputError(
                f"cannot read cost matrix {str(p)!r}: {exc}",
                "give a CSV whose first column and header row are the class labels "
                "(rows: true class, columns: predicted class)",
            ) from None
    elif isinstance(data, dict):
        m = pd.DataFrame(data).T
    elif isinstance(data, pd.DataFrame):
        m = data
    else:
        raise InputError(
            f"the cost matrix is a {type(data).__name__}",
            "give a DataFrame, a dict of dicts {true: {pred: cost}} or a CSV path",
        )
    by_name = {str(c): c for c in classes}
    try:
        m.index = [by_name[str(i)] for i in m.index]
        m.columns = [by_name[str(i)] for i in m.columns]
    except KeyError as exc:
        raise InputError(
            f"the cost matrix names class {exc.args[0]!r}, which the target does not have",
            f"its classes are: {listing(map(str, classes))}",
        ) from None
    missing = [c for c in classes if c not in m.index or c not in m.columns]
    if missing:
        raise InputError(
            f"the cost matrix lacks class(es) {listing(map(str, missing))}",
            "give a row and a column for every class",
        )
    m = m.loc[classes, classes].apply(pd.to_numeric, errors="coerce")
    if m.isna().any().any() or (m.to_numpy() < 0).any():
        raise InputError(
            "the cost matrix has missing, non-numeric or negative entries",
            "give a number >= 0 for every (true, predicted) pair",
        )
    return m.astype(float)


def parse_cost(cost: Any) -> dict[str, float] | None:
    if cost is None or cost == "" or cost == {}:
        return None
    if isinstance(cost, str):
        out = {}
        for part in cost.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise InputError(f"cannot read the cost {cost!r}", "write it as fp=1,fn=10")
            k, v = part.split("=", 1)
            out[k.strip().lower()] = v.strip()
        cost = out
    try:
        cost = {str(k).lower(): float(v) for k, v in dict(cost).items()}
    except (TypeError, ValueError):
        raise InputError(f"cannot read the cost {cost!r}", "give numbers, as fp=1,fn=10") from None
    unknown = set(cost) - {"fp", "fn", "tp", "tn"}
    if unknown or not {"fp", "fn"} <= set(cost):
        raise InputError(
            f"the cost {cost} must name fp and fn (and optionally tp, tn)", "write it as fp=1,fn=10"
        )
    if any(v < 0 or not np.isfinite(v) for v in cost.values()) or cost["fp"] + cost["fn"] <= 0:
        raise InputError(f"the cost {cost} has negative or non-finite values", "use costs >= 0")
    return cost


def costs(
    cost: Any, cost_matrix: Any, classes: list | None, positive: Any, task: str
) -> tuple[dict[str, float] | None, pd.DataFrame | None]:
    """The binary cost dict and the cost matrix, each built from the other when only one is given."""
    parsed = parse_cost(cost)
    cmatrix = parse_cost_matrix(cost_matrix, classes, task)
    if parsed is not None and task != "binary":
        raise InputError(
            "--cost fp=..,fn=.. is for binary tasks",
            "for multiclass give --cost-matrix FILE (rows: true class, columns: predicted)",
        )
    if cmatrix is None and parsed is not None and classes is not None and len(classes) == 2:
        neg = [k for k in classes if k != positive][0]
        cmatrix = pd.DataFrame(
            [[parsed.get("tn", 0.0), parsed["fp"]], [parsed["fn"], parsed.get("tp", 0.0)]],
            index=[neg, positive],
            columns=[neg, positive],
        )
    elif cmatrix is not None and parsed is None and task == "binary" and classes is not None:
        neg = [k for k in classes if k != positive][0]
        parsed = {
            "fp": float(cmatrix.loc[neg, positive]),
            "fn": float(cmatrix.loc[positive, neg]),
            "tp": float(cmatrix.loc[positive, positive]),
            "tn": float(cmatrix.loc[neg, neg]),
        }
    return parsed, cmatrix
