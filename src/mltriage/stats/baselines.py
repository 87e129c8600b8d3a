"""The model baselines: dummy, linear, non-linear and the user's own model refitted, under the
splitter the data calls for, with out-of-fold predictions kept for the data checks.

Splitter: grouped (GroupKFold) with a group column, or by the entity the evaluation split follows
(`split_by`, see `stats.entity_split`), time-ordered (TimeSeriesSplit on rows sorted by time) with
a time column, stratified for classification, plain K-fold otherwise. Large
training sets are subsampled to `max_rows` (said in the report).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .encode import Encoder
from .metrics import GREATER_IS_BETTER, HEADLINE, score
from .threads import side_by_side

if TYPE_CHECKING:
    from ..case import Case

TRAIN_SCORE_ROWS = 3_000
# models whose fold models are scored on their training samples and the evaluation rows only when
# a check asks (ModelCV.complete): your model refitted, whose own training and evaluation scores
# are your model's (the headline); model.instability reads its fold models' evaluation scores
# when the fold spread is large. Each fold model is kept until then.
SCORED_LATER = ("user",)
LABELS = {
    "dummy": "dummy baseline",
    "linear": "linear model",
    "hgb": "gradient boosting (HGB)",
    "user": "your model, refitted",
}


@dataclass
class ModelCV:
    name: str
    fold_scores: list[float] = field(default_factory=list)
    train_scores: list[float] = field(default_factory=list)
    # each fold's model scored on the evaluation rows (those not also in train), when given
    eval_scores: list[float] = field(default_factory=list)
    oof: np.ndarray | None = None  # (n, k) probabilities or (n,) predictions; NaN where unscored
    # each fold model's outputs on the evaluation rows (probabilities or predictions), when given
    eval_outs: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    # scores the fold models on their training samples and the evaluation rows when first asked
    # (your model refitted: only model.instability reads them, and only sometimes)
    later: Callable[[], None] | None = field(default=None, repr=False)

    def complete(self) -> ModelCV:
        """Fill train_scores, eval_scores and eval_outs if they were left for later."""
        if self.later is not None:
            later, self.later = self.later, None
            later()
        return self

    @property
    def mean(self) -> float:
        v = [s for s in self.fold_scores if np.isfinite(s)]
        return float(np.mean(v)) if v else float("nan")

    @property
    def std(self) -> float:
        v = [s for s in self.fold_scores if np.isfinite(s)]
        return float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")

    @property
    def eval_mean(self) -> float:
        v = [s for s in self.eval_scores if np.isfinite(s)]
        return float(np.mean(v)) if v else float("nan")

    @property
    def train_mean(self) -> float:
        v = [s for s in self.train_scores if np.isfinite(s)]
        return float(np.mean(v)) if v else float("nan")


@dataclass
class BaselinesResult:
    metric: str
    splitter: str
    n_rows: int
    n_splits: int
    subsampled: bool
    index: np.ndarray  # rows of the training frame that were used
    y: np.ndarray
    models: dict[str, ModelCV]
    classes: list | None = None
    fold: np.ndarray | None = None  # validation fold of each used row (-1: never validated)
    eval_rows: int = 0  # evaluation rows the fold models were also scored on
    eval_y: np.ndarray | None = None  # and their labels

    @property
    def greater_is_better(self) -> bool:
        return GREATER_IS_BETTER.get(self.metric, True)

    def table(self) -> list[dict[str, Any]]:
        """One row per model; a model whose training and evaluation scores were left for later
        and never asked for has None there."""
        rows = []
        for name, m in self.models.items():
            pending = m.later is not None
            rows.append(
                {
                    "model": LABELS.get(name, name),
                    "key": name,
                    "metric": self.metric,
                    "cv_mean": m.mean,
                    "cv_std": m.std,
                    "train_mean": None if pending else m.train_mean,
                    "eval_mean": None if pending else m.eval_mean,
                    "folds": [round(s, 4) for s in m.fold_scores],
                    "seconds": round(m.seconds, 2),
                    "error": m.error,
                }
            )
        return rows


def _linear(task: str, mask: np.ndarray):
    num = np.flatnonzero(~mask)
    cat = np.flatnonzero(mask)
    parts = []
    if len(num):
        parts.append(
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()),
                num,
            )
        )
    if len(cat):
        parts.append(
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
                    OneHotEncoder(handle_unknown="ignore", max_categories=30),
                ),
                cat,
            )
        )
    est = LogisticRegression(max_iter=300) if task in ("binary", "multiclass") else Ridge(alpha=1.0)
    return make_pipeline(ColumnTransformer(parts), est)


def _hgb(task: str, mask: np.ndarray, seed: int):
    kw = dict(
        max_iter=100,
        learning_rate=0.1,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=10,
        random_state=seed,
        categorical_features=mask if mask.any() else None,
    )
    if task in ("binary", "multiclass"):
        return HistGradientBoostingClassifier(**kw)
    return HistGradientBoostingRegressor(**kw)


def _dummy(task: str):
    return DummyClassifier(strategy="prior") if task in ("binary", "multiclass") else DummyRegressor()


def splitter_for(task: str, y: np.ndarray, groups, times, n_splits: int, seed: int, by: str | None = None):
    if groups is not None:
        return "grouped K-fold" + (f" by {by}" if by else ""), GroupKFold(n_splits=n_splits)
    if times is not None:
        return "time-ordered split", TimeSeriesSplit(n_splits=n_splits)
    if task in ("binary", "multiclass"):
        counts = pd.Series(y).value_counts()
        if counts.min() >= n_splits:
            return "stratified K-fold", StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return "K-fold", KFold(n_splits=n_splits, shuffle=True, random_state=seed)


def _sample_rows(
    case: Case, max_rows: int, seed: int, split_by: str | None = None
) -> tuple[np.ndarray, bool]:
    """Positions of the training rows the baselines use: all, or a random `max_rows` (whole groups
    when there is a group column, or whole entities of `split_by`); and whether they were
    subsampled."""
    train = case.train
    idx = np.arange(len(train))
    if len(idx) <= max_rows:
        return idx, False
    rng = np.random.default_rng(seed)
    if case.group_column or split_by:
        groups = (
            train[case.group_column].to_numpy()
            if case.group_column
            else train[split_by].astype(str).to_numpy()
        )
        uniq = pd.unique(groups)
        keep = rng.permutation(uniq)[: max(2, int(len(uniq) * max_rows / len(idx)))]
        return idx[np.isin(groups, keep)], True
    return np.sort(rng.choice(idx, size=max_rows, replace=False)), True


@dataclass
class _CrossValidation:
    """The folds of the baselines' rows and how each model is fitted and scored on them."""

    case: Case
    df: pd.DataFrame  # the rows used, in the order the splitter sees them
    X: np.ndarray  # their encoded features
    y: np.ndarray
    groups: np.ndarray | None
    folds: list[tuple[np.ndarray, np.ndarray]]
    classes: list | None
    seed: int
    # the evaluation rows: (encoded, raw features, target, groups), or None
    ev: tuple[np.ndarray, pd.DataFrame, np.ndarray, np.ndarray | None] | None

    @property
    def metric(self) -> str:
        return HEADLINE[self.case.task]

    def _score(self, est: Any, Xs: Any, ys: np.ndarray, gs: np.ndarray | None) -> tuple[float, np.ndarray]:
        """The metric of a fitted model on a set, and its outputs there (probabilities or values)."""
        case, classes = self.case, self.classes
        if case.task in ("binary", "multiclass"):
            proba = _aligned_proba(est, Xs, classes)
            pred = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
            pred = (
                pred.astype(np.asarray(ys).dtype, copy=False) if np.asarray(ys).dtype.kind in "biuf" else pred
            )
            return score(self.metric, ys, pred, proba=proba, classes=classes, positive=case.positive), proba
        pred = np.asarray(est.predict(Xs), dtype=float)
        return score(self.metric, ys, pred, groups=gs), pred

    def inputs(self, a: np.ndarray, b: np.ndarray, encoded: bool) -> tuple[Any, Any]:
        """The features of the fitting rows `a` and the validation rows `b`."""
        if encoded:
            return self.X[a], self.X[b]
        return self.df.iloc[a][self.case.features], self.df.iloc[b][self.case.features]

    def fit_score(
        self, est: Any, a: np.ndarray, b: np.ndarray, Xa: Any, Xb: Any, encoded: bool, later: bool = False
    ) -> list[tuple[float, np.ndarray]] | tuple[tuple[float, np.ndarray], Callable[[], list]]:
        """Fit on rows `a` (features `Xa`); score on the validation rows `b` (`Xb`), on (a sample
        of) the training rows, and on the evaluation rows when given. With `later`, only the
        validation score now, and a function that returns the others. The caller silences the
        estimators' warnings (warnings.catch_warnings is not thread-safe)."""
        ya, yb = self.y[a], self.y[b]
        ga, gb = (None, None) if self.groups is None else (self.groups[a], self.groups[b])
        est.fit(Xa, ya)
        if later:
            return self._score(est, Xb, yb, gb), lambda: self._score_rest(est, Xa, ya, ga, encoded)
        return [self._score(est, Xb, yb, gb), *self._score_rest(est, Xa, ya, ga, encoded)]

    def _score_rest(
        self, est: Any, Xa: Any, ya: np.ndarray, ga: np.ndarray | None, encoded: bool
    ) -> list[tuple[float, np.ndarray]]:
        """A fitted fold model on (a sample of) its training rows and on the evaluation rows."""
        # the training-fold score only needs a sample (not for ranking: whole queries count)
        if ga is None and len(ya) > TRAIN_SCORE_ROWS:
            pick = np.random.default_rng(self.seed).choice(len(ya), TRAIN_SCORE_ROWS, replace=False)
            Xa = Xa.iloc[pick] if hasattr(Xa, "iloc") else Xa[pick]
            ya = ya[pick]
        sets: list[tuple[Any, np.ndarray, np.ndarray | None]] = [(Xa, ya, ga)]
        if self.ev is not None:
            sets.append((self.ev[0] if encoded else self.ev[1], self.ev[2], self.ev[3]))
        return [self._score(est, Xs, ys, gs) for Xs, ys, gs in sets]

    def run_all(self, specs: list[tuple[str, Callable[[], Any], bool]], workers: int) -> dict[str, ModelCV]:
        """Cross-validate every model on every fold (the rows are capped up front, so the result
        never depends on the machine's load). The (model, fold) fits are independent and each is
        deterministic, so `workers` threads fit them side by side with the same results as one
        thread: the costliest model's folds are handed out first."""
        tasks = [
            (key, i, factory, encoded)
            for key, factory, encoded in reversed(specs)
            for i in range(len(self.folds))
        ]

        def one(task: tuple[str, int, Callable[[], Any], bool]) -> Any:
            key, i, factory, encoded = task
            a, b = self.folds[i]
            return self.fit_score(factory(), a, b, *self.inputs(a, b, encoded), encoded, key in SCORED_LATER)

        if workers <= 1:  # a model's folds after one that failed are not fitted (not used)
            done: dict[tuple[str, int], tuple[Any, float]] = {}
            for t in tasks:
                failed = any(isinstance(done[(t[0], j)][0], Exception) for j in range(t[1]))
                done[(t[0], t[1])] = (None, 0.0) if failed else side_by_side(one, [t], 1)[0]
        else:
            done = dict(zip([(t[0], t[1]) for t in tasks], side_by_side(one, tasks, workers)))
        return {
            key: self._collect(key, [done[(key, i)] for i in range(len(self.folds))]) for key, _, _ in specs
        }

    def _collect(self, key: str, results: list[tuple[Any, float]]) -> ModelCV:
        """One model's folds in order; the first fold that failed ends it (its error is kept)."""
        m = ModelCV(key)
        n, k = len(self.df), len(self.classes) if self.classes is not None else 1
        oof = np.full((n, k) if self.classes is not None else n, np.nan)
        rests: list[Callable[[], list]] = []
        for (_, b), (outs, secs) in zip(self.folds, results):
            m.seconds += secs
            if isinstance(outs, Exception):
                m.error = f"{type(outs).__name__}: {str(outs)[:200]}"
                break
            if isinstance(outs, tuple):  # (the validation score, the rest for later)
                outs, rest = [outs[0]], outs[1]
                rests.append(rest)
            (s_val, out_val) = outs[0]
            m.fold_scores.append(s_val)
            if len(outs) > 1:
                self._add_rest(m, outs[1:])
            oof[b] = out_val
        m.oof = oof
        if rests:
            m.later = lambda: self._later(m, rests)
        return m

    @staticmethod
    def _add_rest(m: ModelCV, outs: list[tuple[float, np.ndarray]]) -> None:
        m.train_scores.append(outs[0][0])
        if len(outs) > 1:
            m.eval_scores.append(outs[1][0])
            m.eval_outs.append(np.asarray(outs[1][1], dtype=float))

    def _later(self, m: ModelCV, rests: list[Callable[[], list]]) -> None:
        """The scores left for later, fold by fold; a fold model that fails there ends them."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for rest in rests:
                try:
                    self._add_rest(m, rest())
                except Exception:
                    return


def run_baselines(
    case: Case,
    *,
    max_rows: int = 20_000,
    n_splits: int = 5,
    seed: int = 0,
    include_user: bool = True,
    eval_frame: pd.DataFrame | None = None,
    workers: int = 1,
    split_by: str | None = None,
) -> BaselinesResult:
    """Cross-validate the four rungs of the model baselines on (a sample of) the training rows.

    With `eval_frame` (evaluation rows with the target), every fold's model is also scored on
    it: a model validated on training labels and on evaluation labels should score alike, so a
    large difference says the two sets' labels (or distributions) differ. `workers` threads fit
    the (model, fold) pairs side by side (the results do not depend on it). `split_by`: a column
    (not the group column) whose entities the folds keep whole, as the evaluation split does."""
    task = case.task
    split_by = None if case.group_column else split_by
    idx, subsampled = _sample_rows(case, max_rows, seed, split_by)
    times = None
    if case.time_column and not case.group_column:
        order = np.argsort(case.train[case.time_column].to_numpy()[idx], kind="stable")
        idx = idx[order]
        times = True
    df = case.train.iloc[idx].reset_index(drop=True)
    y = df[case.target].to_numpy()
    groups = df[case.group_column].to_numpy() if case.group_column else None
    enc = Encoder.fit(df, case.features, case.categorical)
    X = enc.transform(df)
    fold_groups = df[split_by].astype(str).to_numpy() if split_by else groups
    name, splitter = splitter_for(task, y, fold_groups, times, n_splits, seed, split_by)
    folds = list(splitter.split(X, y, fold_groups))
    fold_of = np.full(len(df), -1)
    for i, (_, b) in enumerate(folds):
        fold_of[b] = i
    ev = None
    if eval_frame is not None and len(eval_frame):
        ev_df = eval_frame.reset_index(drop=True)
        ev = (
            enc.transform(ev_df),
            ev_df[case.features],
            ev_df[case.target].to_numpy(),
            ev_df[case.group_column].to_numpy() if case.group_column else None,
        )
    classes = case.classes if task in ("binary", "multiclass") else None
    cv = _CrossValidation(case, df, X, y, groups, folds, classes, seed, ev)
    specs: list[tuple[str, Callable[[], Any], bool]] = [
        ("dummy", lambda: _dummy(task), True),
        ("linear", lambda: _linear(task, enc.categorical_mask), True),
        ("hgb", lambda: _hgb(task, enc.categorical_mask, seed), True),
    ]
    est = case.model.estimator if case.model is not None else None
    if include_user and est is not None and hasattr(est, "get_params") and hasattr(est, "fit"):
        specs.append(("user", lambda: refit_clone(est), False))
    models = cv.run_all(specs, workers)
    return BaselinesResult(
        metric=cv.metric,
        splitter=name,
        n_rows=len(df),
        n_splits=len(folds),
        subsampled=subsampled,
        index=idx,
        y=y,
        models=models,
        classes=classes,
        fold=fold_of,
        eval_rows=0 if ev is None else len(ev[2]),
        eval_y=None if ev is None else ev[2],
    )


def fit_on_all(case: Case, index: np.ndarray, key: str, seed: int, frame: pd.DataFrame) -> np.ndarray:
    """The baseline `key` ("linear" or "hgb") fitted on all the baselines' rows (`index`, the
    positions `run_baselines` used), as the cross-validation fits it in each fold, and its outputs
    on `frame`: (n, k) probabilities in `case.classes` order, or predictions. A model trained on
    as many rows as yours, for comparisons with it on the same rows."""
    df = case.train.iloc[index]
    enc = Encoder.fit(df, case.features, case.categorical)
    est = (
        _linear(case.task, enc.categorical_mask)
        if key == "linear"
        else _hgb(case.task, enc.categorical_mask, seed)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(enc.transform(df), df[case.target].to_numpy())
        X = enc.transform(frame)
        if case.task in ("binary", "multiclass"):
            return _aligned_proba(est, X, case.classes)
        return np.asarray(est.predict(X), dtype=float)


def refit_clone(est: Any) -> Any:
    """An unfitted copy of the user's fitted model that fits as the user's fit did: a step whose
    `early_stopping="auto"` was resolved by the size of the user's training set (scikit-learn's
    gradient boosting stops early above 10,000 rows) keeps that resolution, so a refit on a
    sample or a fold below that size still stops early when the user's model did (and does not
    when it did not). Pinned only with a fixed random_state: the early-stopping split is drawn
    from it, and a refit must be deterministic."""
    new = clone(est)
    try:
        params = est.get_params(deep=True)
    except Exception:
        return new
    pins = {}
    for key, step in [("", est), *params.items()]:
        prefix = f"{key}__" if key else ""
        if not hasattr(step, "do_early_stopping_"):
            continue
        if params.get(prefix + "early_stopping", getattr(step, "early_stopping", None)) != "auto":
            continue
        if params.get(prefix + "random_state", getattr(step, "random_state", None)) is None:
            continue
        pins[prefix + "early_stopping"] = bool(step.do_early_stopping_)
    return new.set_params(**pins) if pins else new


def squashed_decision(est, X) -> np.ndarray:
    """A classifier without predict_proba: its decision_function squashed into rows that sum to 1
    (binary: a logistic of the margin; multiclass: a softmax), columns in `est.classes_` order.
    Not probabilities (nothing is calibrated) but the same order of rows and the same argmax:
    ROC AUC and accuracy are those of the margins."""
    d = np.asarray(est.decision_function(X), dtype=float)
    if d.ndim == 1 or d.shape[1] == 1:
        p1 = 1.0 / (1.0 + np.exp(-np.clip(d.ravel(), -500, 500)))
        return np.column_stack([1 - p1, p1])
    e = np.exp(d - d.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _aligned_proba(est, X, classes) -> np.ndarray:
    """predict_proba (or the squashed decision_function of a model without it) with columns in
    the order of `classes` (a fold may miss a class)."""
    if not hasattr(est, "predict_proba") and hasattr(est, "decision_function"):
        p = squashed_decision(est, X)
    else:
        p = np.asarray(est.predict_proba(X), dtype=float)
    est_classes = list(getattr(est, "classes_", classes))
    if est_classes == list(classes):
        return p
    out = np.zeros((len(p), len(classes)))
    pos = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(est_classes):
        if c in pos:
            out[:, pos[c]] = p[:, j]
    return out
