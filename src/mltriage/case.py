"""The inputs of one diagnosis, validated once.

`build_case(...)` takes what a user has (pandas or polars frames, CSV or Parquet paths, a model
object or file, or a column of precomputed predictions) and returns a `Case`: frames, target,
task, column roles and the model adapter. Every problem with the inputs is raised here as an
`InputError` that names what is wrong and how to fix it, so that no check has to re-validate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .case_outputs import check_probability_columns, column_classes, prediction_columns
from .costs import costs
from .errors import InputError, closest, listing
from .findings import TASKS
from .io import read_frame, read_history
from .metric_names import check_metric
from .model import ModelAdapter
from .model_inputs import restore_inputs
from .positive import choose_positive
from .stats.rows import scalar

if TYPE_CHECKING:
    from .stats.profile import Profile


@dataclass
class Case:
    train: pd.DataFrame  # in a batch-only comparison (`mltriage drift`): the reference rows, if any
    test: pd.DataFrame | None  # None in a batch-only comparison: no evaluation rows
    target: str
    task: str
    features: list[str]  # columns the model takes (its feature_names_in_ when known)
    categorical: list[str]  # features (and extra columns) treated as categorical
    model: ModelAdapter | None = None
    current: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    time_column: str | None = None
    group_column: str | None = None
    prediction_column: str | None = None
    # every column of model outputs: the prediction column, or the per-class probability columns
    # it names (comma-separated, or a prefix such as proba_)
    prediction_columns: list[str] = field(default_factory=list)
    metric: str | None = None
    threshold: float | None = None
    cost: dict[str, float] | None = None
    # classification: cost of predicting column-class when the truth is row-class (index and
    # columns are the classes); from --cost-matrix, or built from --cost for binary tasks
    cost_matrix: pd.DataFrame | None = None
    extra_columns: list[str] = field(default_factory=list)  # other columns present (not model inputs)
    classes: list | None = None  # sorted class labels (classification)
    positive: Any = None  # the positive class (binary)
    positive_how: str | None = None  # how it was chosen (--positive-class, or the default)
    notes: list[str] = field(default_factory=list)  # what was inferred, reported to the user
    dropped_target_rows: dict[str, int] = field(default_factory=dict)
    # a batch-only comparison (`mltriage drift`): the reference's profile, and the batch's when it
    # came as a profile (no rows; `current` is then None)
    reference: Profile | None = None
    current_profile: Profile | None = None
    model_b: ModelAdapter | None = None  # `mltriage compare --model-b`: a second model version
    segment: str | None = None  # `mltriage compare --segment`: a pandas query on the current rows
    candidate: ModelAdapter | None = None  # `mltriage gate`: the candidate model (or its logged outputs)
    gate_slices: list[dict] | None = None  # `mltriage gate --slices FILE`: [{"name", "slice": predicates}]
    target_p99_ms: float | None = None  # `mltriage latency --target-p99-ms`: the p99 latency target
    qps: float | None = None  # `mltriage latency --qps`: the request rate the target holds at

    @property
    def is_classification(self) -> bool:
        return self.task in ("binary", "multiclass")

    @property
    def numeric(self) -> list[str]:
        cat = set(self.categorical)
        return [c for c in self.features if c not in cat]

    @property
    def has_evaluation(self) -> bool:
        """Training and evaluation rows are both there (not a batch-only comparison)."""
        return self.test is not None

    @property
    def has_current_labels(self) -> bool:
        return (
            self.current is not None
            and self.target in self.current.columns
            and self.current[self.target].notna().mean() > 0.5
        )

    def frame(self, which: str) -> pd.DataFrame:
        df = {"train": self.train, "test": self.test, "current": self.current}[which]
        if df is None:
            raise KeyError(f"no {which} set")
        return df

    def y(self, which: str) -> np.ndarray:
        return self.frame(which)[self.target].to_numpy()

    def summary(self) -> dict[str, Any]:
        rows: dict[str, int | None] = {
            k: (None if v is None else int(len(v)))
            for k, v in (("train", self.train), ("test", self.test), ("current", self.current))
        }
        if self.reference is not None:
            rows["reference"] = self.reference.rows
        if self.current_profile is not None and self.current is None:
            rows["current"] = self.current_profile.rows
        return {
            "task": self.task,
            "target": self.target,
            "rows": rows,
            "features": len(self.features),
            "categorical": list(self.categorical),
            "model": self.model.description if self.model else None,
            "time_column": self.time_column,
            "group_column": self.group_column,
            "metric": self.metric,
            "threshold": self.threshold,
            "cost": self.cost,
            "classes": [str(c) for c in self.classes] if self.classes is not None else None,
            "positive_class": scalar(self.positive) if self.positive is not None else None,
            "positive_class_how": self.positive_how,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------- inference


def _is_categorical_dtype(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
        or pd.api.types.is_bool_dtype(s.dtype)
    )


def infer_task(y: pd.Series, group_column: str | None) -> tuple[str, str]:
    if group_column:
        return "ranking", f"a group column ({group_column!r}) was given"
    y = y.dropna()
    n_unique = y.nunique()
    if _is_categorical_dtype(y):
        return (
            "binary" if n_unique <= 2 else "multiclass"
        ), f"the target is categorical with {n_unique} values"
    values = pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)
    integral = bool(np.all(np.isfinite(values)) and np.all(np.mod(values, 1) == 0))
    if n_unique <= 2:
        return "binary", f"the target has {n_unique} distinct values"
    if integral and n_unique <= 20:
        return "multiclass", f"the target has {n_unique} distinct integer values"
    return "regression", f"the target is numeric with {n_unique} distinct values"


# ---------------------------------------------------------------------------- build


def build_case(
    train: Any,
    test: Any,
    target: str,
    *,
    task: str | None = None,
    model: Any = None,
    current: Any = None,
    history: Any = None,
    time_column: str | None = None,
    group_column: str | None = None,
    categorical: list[str] | str | None = None,
    prediction_column: str | None = None,
    metric: str | None = None,
    threshold: float | None = None,
    cost: Any = None,
    cost_matrix: Any = None,
    positive_class: Any = None,
) -> Case:
    """Validate every input once and return the Case every check reads. `positive_class`: the
    positive class of a binary task (a label, or its text); default the model's last class."""
    notes: list[str] = []
    metric = check_metric(metric)  # before reading any file: a typo is refused at once
    tr = read_frame(train, "train")
    te = read_frame(test, "test")
    cur = read_frame(current, "current") if current is not None else None
    hist = read_history(history) if history is not None else None
    if isinstance(categorical, str):
        categorical = [c.strip() for c in categorical.split(",") if c.strip()]

    _check_target_present(tr, te, target)
    pcols = prediction_columns(prediction_column, tr) if model is None and prediction_column else []
    single = prediction_column if len(pcols) <= 1 else None
    _check_role_columns(tr, target, model, time_column, group_column, single)
    tr, te, dropped = _drop_unlabelled(tr, te, target, notes)
    adapter = ModelAdapter.load(model, prediction_column)
    task = _resolve_task(task, tr[target], group_column, notes, adapter)
    classes = _classes(tr, te, target, task)
    if len(pcols) > 1 and adapter is not None:
        adapter.prediction_columns = pcols
        adapter.column_classes = column_classes(pcols, prediction_column or "", classes, task, notes)
    positive, positive_how = choose_positive(
        positive_class, classes, adapter.classes if adapter is not None else None, task, target
    )
    roles = {r for r in (target, time_column, group_column, single, *pcols) if r is not None}
    features, extra = _features(tr, te, adapter, roles, notes)
    restore_inputs(adapter, features, ((train, tr), (test, te), (current, cur)), notes)
    cats = _categoricals(tr, features, extra, categorical, roles, notes)
    _check_numeric_in_test(tr, te, features, set(cats))
    if time_column:
        _parse_time_column(time_column, tr, te, cur)
    if len(pcols) > 1:
        check_probability_columns(pcols, tr, te)
    elif prediction_column and adapter is not None:
        if adapter.kind == "precomputed":
            _check_precomputed_column(prediction_column, tr, te, task)
        else:
            _check_logged_column(prediction_column, cur, task, classes)
    threshold = _threshold(threshold, task)
    cost, cmatrix = costs(cost, cost_matrix, classes, positive, task)
    if cur is not None and not set(cur.columns) & set(features):
        raise InputError(
            "the current batch has no column in common with the model's features",
            f"the features are: {listing(features)}",
        )
    return Case(
        train=tr,
        test=te,
        target=target,
        task=task,
        features=features,
        categorical=cats,
        model=adapter,
        current=cur,
        history=hist,
        time_column=time_column,
        group_column=group_column,
        prediction_column=prediction_column,
        prediction_columns=pcols,
        metric=metric,
        threshold=threshold,
        cost=cost,
        cost_matrix=cmatrix,
        extra_columns=extra,
        classes=classes,
        positive=positive,
        positive_how=positive_how,
        notes=notes,
        dropped_target_rows=dropped,
    )


def _check_target_present(tr: pd.DataFrame, te: pd.DataFrame, target: str) -> None:
    if not target:
        raise InputError("no target column given", "pass --target COLUMN")
    for name, df in (("train", tr), ("test", te)):
        if target not in df.columns:
            raise InputError(
                f"target column {target!r} is not in the {name} data.{closest(target, df.columns)}",
                f"its columns are: {listing(df.columns)}",
            )


def _check_role_columns(
    tr: pd.DataFrame,
    target: str,
    model: Any,
    time_column: str | None,
    group_column: str | None,
    prediction_column: str | None,
) -> None:
    for role, col in (
        ("time column", time_column),
        ("group column", group_column),
        ("prediction column", prediction_column),
    ):
        if col and col not in tr.columns and not (role == "prediction column" and model is not None):
            raise InputError(
                f"{role} {col!r} is not in the train data.{closest(col, tr.columns)}",
                f"its columns are: {listing(tr.columns)}",
            )
        if col and col == target:
            raise InputError(f"the {role} {col!r} is the target", f"name a different {role}")


def _drop_unlabelled(
    tr: pd.DataFrame, te: pd.DataFrame, target: str, notes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Rows without a target value leave the metrics (said in a note); an all-missing target is refused."""
    dropped = {}
    for name, df in (("train", tr), ("test", te)):
        miss = int(df[target].isna().sum())
        if miss == len(df):
            raise InputError(
                f"the target {target!r} is missing (NaN) in every {name} row",
                "check the target column name and the join that filled it",
            )
        if miss:
            notes.append(f"{miss} {name} rows without a target value were left out of the metrics")
        dropped[name] = miss
    if dropped["train"]:
        tr = tr[tr[target].notna()].reset_index(drop=True)
    if dropped["test"]:
        te = te[te[target].notna()].reset_index(drop=True)
    return tr, te, dropped


def _resolve_task(
    task: str | None, y: pd.Series, group_column: str | None, notes: list[str], adapter: ModelAdapter | None
) -> str:
    if task:
        task = str(task).lower()
        if task not in TASKS:
            raise InputError(
                f"unknown task {task!r}.{closest(task, TASKS)}", f"use one of {', '.join(TASKS)}"
            )
    else:
        task, why = infer_task(y, group_column)
        if (
            task == "multiclass"
            and not _is_categorical_dtype(y)
            and adapter is not None
            and adapter.is_regressor
        ):
            # a few integer values (a count, a rating) and a regressor: a quantity, not classes
            task, why = "regression", f"{why}, and the model is a regressor"
        notes.append(f"task inferred as {task}: {why}")
    if task == "ranking" and not group_column:
        raise InputError("a ranking task needs the query (group) column", "pass --group-column COLUMN")
    return task


def _classes(tr: pd.DataFrame, te: pd.DataFrame, target: str, task: str) -> list | None:
    """The sorted class labels of a classification target (validated), None for other tasks."""
    if task not in ("binary", "multiclass"):
        if not pd.api.types.is_numeric_dtype(tr[target]) or pd.api.types.is_bool_dtype(tr[target]):
            raise InputError(
                f"task is {task} but the target {target!r} is not numeric (dtype {tr[target].dtype})",
                "use --task binary or multiclass for class labels, or convert the target",
            )
        return None
    ytr = tr[target]
    if isinstance(ytr.dtype, pd.CategoricalDtype):
        tr[target] = ytr.astype(ytr.cat.categories.dtype)
        te[target] = te[target].astype(ytr.cat.categories.dtype)
    values = pd.unique(pd.concat([tr[target], te[target]], ignore_index=True))
    n = len(values)
    if tr[target].nunique() < 2:
        raise InputError(
            f"the target {target!r} has a single class ({tr[target].iloc[0]!r}) in train",
            "a classifier needs at least two classes; check the filter that built the data",
        )
    if task == "binary" and n > 2:
        raise InputError(
            f"task is binary but the target {target!r} has {n} classes ({listing(map(str, values[:8]))})",
            "use --task multiclass, or binarise the target",
        )
    if task == "multiclass" and n > 200:
        raise InputError(
            f"the target {target!r} has {n} distinct values, too many for classes",
            "use --task regression if it is a quantity",
        )
    try:
        return sorted(values.tolist())
    except TypeError:
        return sorted(values.tolist(), key=str)


def _features(
    tr: pd.DataFrame, te: pd.DataFrame, adapter: ModelAdapter | None, roles: set[str], notes: list[str]
) -> tuple[list[str], list[str]]:
    """(the model's features, other columns present): the model's own names when it has them."""
    model_features = adapter.feature_names if adapter is not None else None
    dropped = adapter.dropped_inputs if model_features and adapter is not None else []
    if dropped:
        named = [c for c in dropped if c in roles] + [c for c in dropped if c not in roles]
        notes.append(
            f"the model's ColumnTransformer drops {len(dropped)} of the columns it was fitted "
            f"with ({listing(named, 6)}): they are not taken as model features"
        )
    if model_features:
        for name, df in (("train", tr), ("test", te)):
            missing = [c for c in model_features if c not in df.columns]
            if missing:
                hint = closest(missing[0], [c for c in df.columns if c not in model_features])
                raise InputError(
                    f"the model takes {len(missing)} column(s) that the {name} data lacks: "
                    f"{listing(missing)}.{hint}",
                    "pass the data the model was fitted on (same column names)",
                )
        features = list(model_features)
        extra = [c for c in tr.columns if c not in roles and c not in set(features)]
    else:
        features = [c for c in tr.columns if c not in roles]
        extra = []
        _check_unnamed_width(adapter, features)
        missing = [c for c in features if c not in te.columns]
        if missing:
            raise InputError(
                f"train and test have different columns: test lacks {listing(missing)}",
                "give both sets the same feature columns",
            )
    if not features:
        raise InputError(
            "no feature columns are left once the target and role columns are set aside",
            "check --target, --time-column, --group-column and --prediction-column",
        )
    return features, extra


def _check_unnamed_width(adapter: ModelAdapter | None, features: list[str]) -> None:
    """A model fitted on an array (no column names) that takes another number of columns than
    the files hold: refused up front, naming both counts (it would be called on the wrong columns)."""
    n = adapter.n_inputs if adapter is not None and adapter.kind == "estimator" else None
    if n is None or n == len(features):
        return
    raise InputError(
        f"the model was fitted on {n} unnamed columns (an array, not a DataFrame) but the data "
        f"has {len(features)} columns besides the target and role columns: {listing(features, 10)}",
        f"keep only the {n} columns the model takes, in the order it was fitted on (drop ids, "
        "timestamps and other extras), or refit it on a DataFrame so that it records its columns",
    )


def _categoricals(
    tr: pd.DataFrame,
    features: list[str],
    extra: list[str],
    categorical: list[str] | None,
    roles: set[str],
    notes: list[str],
) -> list[str]:
    """The categorical columns: those given (validated) or inferred from dtypes, plus any
    non-numeric feature."""
    if categorical:
        unknown = [c for c in categorical if c not in tr.columns]
        if unknown:
            raise InputError(
                f"categorical column(s) {listing(unknown)} not in the train data."
                f"{closest(unknown[0], tr.columns)}",
                f"its columns are: {listing(tr.columns)}",
            )
        cats = [c for c in dict.fromkeys(categorical) if c not in roles]
    else:
        cats = [c for c in features + extra if _is_categorical_dtype(tr[c])]
        if cats:
            notes.append(f"{len(cats)} categorical column(s) inferred from dtypes: {listing(cats, 8)}")
    auto = [
        c
        for c in features
        if c not in set(cats)
        and c in tr.columns
        and not (
            pd.api.types.is_numeric_dtype(tr[c])
            or pd.api.types.is_bool_dtype(tr[c])
            or pd.api.types.is_datetime64_any_dtype(tr[c])
        )
    ]
    if auto and categorical:
        notes.append(f"non-numeric feature(s) treated as categorical too: {listing(auto, 8)}")
    return cats + [c for c in auto if c not in cats]


def _check_numeric_in_test(tr: pd.DataFrame, te: pd.DataFrame, features: list[str], cats: set[str]) -> None:
    for c in features:
        if c in cats or pd.api.types.is_datetime64_any_dtype(tr[c]):
            continue
        s = te[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            conv = pd.to_numeric(s, errors="coerce")
            bad = conv.isna() & s.notna()
            example = f", e.g. {s[bad].iloc[0]!r}" if bad.any() else ""
            raise InputError(
                f"column {c!r} is numeric in train but {s.dtype} in test "
                f"({int(bad.sum())} values are not numbers{example})",
                f"convert {c!r} to numbers in the test data, or list it with --categorical",
            )


def _parse_time_column(
    time_column: str, tr: pd.DataFrame, te: pd.DataFrame, cur: pd.DataFrame | None
) -> None:
    """Read a text time column as dates, in place, in every set that has it."""
    frames = (tr, te) + ((cur,) if cur is not None and time_column in cur.columns else ())
    for df in frames:
        col = df[time_column]
        if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_numeric_dtype(col):
            continue
        conv = pd.to_datetime(col, errors="coerce")
        if conv.isna().mean() > 0.5:
            raise InputError(
                f"time column {time_column!r} cannot be read as dates or numbers",
                "give ISO dates, timestamps or numbers",
            )
        df[time_column] = conv


def _check_precomputed_column(prediction_column: str, tr: pd.DataFrame, te: pd.DataFrame, task: str) -> None:
    """Without a model, every set carries the model's outputs in the prediction column."""
    for name, df in (("train", tr), ("test", te)):
        if prediction_column not in df.columns:
            raise InputError(
                f"prediction column {prediction_column!r} is not in the {name} data",
                "without a model, every set needs the column of model outputs",
            )
        if task in ("binary", "regression", "ranking") and not pd.api.types.is_numeric_dtype(
            df[prediction_column]
        ):
            raise InputError(
                f"prediction column {prediction_column!r} is {df[prediction_column].dtype}, not numeric",
                "binary: give P(positive class); regression/ranking: the prediction",
            )


def _check_logged_column(
    prediction_column: str, cur: pd.DataFrame | None, task: str, classes: list | None
) -> None:
    """With a model, the prediction column holds the scores production logged in `current`."""
    if cur is None or prediction_column not in cur.columns:
        raise InputError(
            f"prediction column {prediction_column!r} is not in the current batch",
            "with --model, --prediction-column names the scores production logged in "
            "--current; drop it, or pass the batch that has it",
        )
    pc = cur[prediction_column]
    labels_ok = (
        task == "binary"
        and classes is not None
        and set(pc.dropna().astype(str).unique()) <= {str(k) for k in classes}
    )
    if (
        task in ("binary", "regression", "ranking")
        and not pd.api.types.is_numeric_dtype(pc)
        and not labels_ok
    ):
        conv = pd.to_numeric(pc, errors="coerce")
        bad = conv.isna() & pc.notna()
        example = f" (e.g. {pc[bad].iloc[0]!r})" if bad.any() else ""
        raise InputError(
            f"prediction column {prediction_column!r} in the current batch is "
            f"{pc.dtype}: neither scores nor class labels{example}",
            "log the model's score as a number (binary: P(positive class))",
        )


def _threshold(threshold: float | None, task: str) -> float | None:
    if threshold is None:
        return None
    threshold = float(threshold)
    if not 0.0 < threshold < 1.0 and task == "binary":
        raise InputError(
            f"threshold {threshold} is outside (0, 1)", "give a probability threshold such as 0.5"
        )
    return threshold
