"""`mltriage diagnose`: the whole debugging ladder on a model and its data."""

from __future__ import annotations

from typing import Any

from ..case import build_case
from ..config import Config, load_config
from ..context import Context
from ..errors import InputError, listing
from ..findings import LADDER_LAYERS
from ..registry import Check, NotApplicable
from ..report import Report
from ..runner import run_checks


def settings(
    config: Config | None,
    *,
    fast: bool = False,
    strict: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    set_params: list[str] | None = None,
) -> Config:
    """The run's settings: the config file (or `config`), then these options; validated."""
    cfg = config or load_config()
    cfg.fast = cfg.fast or fast
    cfg.strict = cfg.strict or strict
    if select:
        cfg.select = list(select)
    if ignore:
        cfg.ignore = list(cfg.ignore) + list(ignore)
    for assignment in set_params or []:
        cfg.set_param(assignment)
    cfg.validate()
    return cfg


def diagnose(
    train: Any,
    test: Any,
    target: str,
    *,
    model: Any = None,
    task: str | None = None,
    current: Any = None,
    history: Any = None,
    time_column: str | None = None,
    group_column: str | None = None,
    categorical: Any = None,
    prediction_column: str | None = None,
    metric: str | None = None,
    threshold: float | None = None,
    positive_class: Any = None,
    cost: Any = None,
    cost_matrix: Any = None,
    config: Config | None = None,
    fast: bool = False,
    strict: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    set_params: list[str] | None = None,
    progress: bool = True,
) -> Report:
    """Diagnose a model and its data; returns a Report (see `Report.findings`, `to_json()`).

    `train`, `test`, `current`: pandas or polars DataFrames, or CSV/Parquet paths. `model`: a
    fitted estimator or Pipeline, any object with predict/predict_proba, a callable, a joblib
    path (loading a pickle runs its code: trust the file), or None with `prediction_column`.
    `positive_class`: binary, the class precision, recall, thresholds and P(positive) are about
    (a label, or its text: "1" names the label 1); default the model's last class (scikit-learn's).
    `select`/`ignore`: layers or codes; `set_params`: ["CODE.NAME=VALUE", ...].
    Raises InputError (a ValueError) on bad input or settings, naming the problem and the fix.
    """
    cfg = settings(config, fast=fast, strict=strict, select=select, ignore=ignore, set_params=set_params)
    case = build_case(
        train,
        test,
        target,
        task=task,
        model=model,
        current=current,
        history=history,
        time_column=time_column,
        group_column=group_column,
        categorical=categorical,
        prediction_column=prediction_column,
        metric=metric,
        threshold=threshold,
        cost=cost,
        cost_matrix=cost_matrix,
        positive_class=positive_class,
    )
    ctx = Context(case, cfg)
    if case.model is not None:  # a model that cannot predict on the data is bad input: say it now
        for which in ("test", "train"):
            try:
                ctx.predictions(which)
            except NotApplicable:
                pass
            except InputError as exc:
                raise _name_empty_features(exc, case.frame(which), case.features, which) from None
    return run_checks(ctx, command="diagnose", scope=on_the_ladder, progress=progress)


def _name_empty_features(exc: InputError, df: Any, features: list[str], which: str) -> InputError:
    """The model's error, with the features that hold no finite value in that set named first:
    a column NaN or inf in every row is the likely reason a model refuses the rows."""
    import numpy as np
    import pandas as pd

    empty = []
    for f in features:
        if f in df.columns and not isinstance(df[f].dtype, pd.CategoricalDtype):
            v = pd.to_numeric(df[f], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if df[f].notna().sum() == 0 or (
                pd.api.types.is_numeric_dtype(df[f]) and not np.isfinite(v).any()
            ):
                empty.append(f)
    if not empty:
        return exc
    return InputError(
        f"{listing(empty, 5)} {'is' if len(empty) == 1 else 'are'} NaN or inf in every {which} row, "
        f"and {exc.message}",
        f"fill {listing(empty, 5)} in the {which} data (a failed join or feature job?), or drop "
        f"{'it' if len(empty) == 1 else 'them'} from the model's inputs and refit",
    )


def on_the_ladder(chk: Check) -> bool:
    """The checks of the six rungs (not the workflow commands' own checks)."""
    return chk.layer in LADDER_LAYERS
