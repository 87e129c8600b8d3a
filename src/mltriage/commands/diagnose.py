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
                named = _name_empty_features(exc, case.frame(which), case.features, which)
                reason = None if named is not exc else _refused_rows(ctx, which, exc)
                if reason is None:
                    raise named from None
                ctx.refuse_set(which, reason)
    return run_checks(ctx, command="diagnose", scope=on_the_ladder, progress=progress)


def _refused_rows(ctx: Context, which: str, exc: InputError) -> str | None:
    """Why the model refuses set `which`, when the cause is some of its rows: rows holding inf or
    NaN in a model feature, without which the model scores the set. That is a defect of the data
    (data.infinite_values, data.missing_values report it), not bad input: the run goes on with the
    checks that need these predictions not applicable. None when the rows do not explain it."""
    import numpy as np
    import pandas as pd

    df = ctx.case.frame(which)
    masks: dict[tuple[str, str], np.ndarray] = {}  # (kind, column) -> rows holding it
    for f in ctx.case.features:
        if f not in df.columns:
            continue
        s = df[f]
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            inf = np.isinf(s.to_numpy(dtype=float, na_value=np.nan))
            if inf.any():
                masks[("inf", f)] = inf
        na = s.isna().to_numpy()
        if na.any():
            masks[("NaN", f)] = na
    if not masks:
        return None
    bad = np.logical_or.reduce(list(masks.values()))
    good = df.loc[~bad].iloc[:200]
    if good.empty or not _scores(ctx, good, which):
        return None
    # the values it rejects: each column's bad value put into rows it scores
    culprits = {}
    for (kind, f), m in masks.items():
        probe = good.iloc[:20].copy()
        probe[f] = df.loc[m, f].iloc[0]
        if not _scores(ctx, probe, which):
            culprits[(kind, f)] = m
    if not culprits:
        return None
    rows = np.logical_or.reduce(list(culprits.values()))
    k, n = int(rows.sum()), len(df)
    held = "; ".join(
        f"{kind} in {listing([f for kk, f in culprits if kk == kind], 4)}"
        for kind in ("inf", "NaN")
        if any(kk == kind for kk, _ in culprits)
    )
    return (
        f"the model cannot score {k} of {n} {which} rows ({k / n:.1%}): they hold {held}, which it "
        f"rejects ({exc.message[:160]}); it scores the other rows, so the checks that need its "
        f"predictions on the {which} set are not applicable until those values are fixed "
        "(data.infinite_values, data.missing_values)"
    )


def _scores(ctx: Context, rows: Any, which: str) -> bool:
    """Whether the model scores these rows of set `which` without raising."""
    try:
        ctx.predictions_on(rows, like=which)
    except (InputError, NotApplicable):
        return False
    return True


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
