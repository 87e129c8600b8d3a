"""The run's context: the validated Case plus every shared computation, computed once.

Checks read predictions, encoded matrices and the cross-validated model baselines from here, so that
two checks needing the same thing never compute it twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .case import Case
from .config import Config
from .model import Predictions
from .positive import HOW_CHOSEN, negative_of, positive_index
from .registry import NotApplicable
from .stats.encode import Encoder
from .stats.rows import row_hashes

if TYPE_CHECKING:
    from .stats.baselines import BaselinesResult
    from .stats.entity_split import EntitySplit
    from .stats.production import ProductionInputs


class Context:
    def __init__(self, case: Case, config: Config | None = None) -> None:
        self.case = case
        self.config = config or Config()
        self.notes: list[str] = list(case.notes)  # run-level notes shown in the report
        self._cache: dict[str, Any] = {}
        self._refused: dict[str, str] = {}  # set -> why the model cannot score it (refuse_set)

    # ---------------------------------------------------------------- generic memo
    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """compute() once per run under `key`; a failure is cached too and raised again."""
        if key not in self._cache:
            try:
                self._cache[key] = compute()
            except Exception as exc:
                self._cache[key] = _Failed(exc)
        value = self._cache[key]
        if isinstance(value, _Failed):
            raise value.exc
        return value

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # ---------------------------------------------------------------- data
    @property
    def task(self) -> str:
        return self.case.task

    def has(self, which: str) -> bool:
        return which in ("train", "test") or (which == "current" and self.case.current is not None)

    def frame(self, which: str) -> pd.DataFrame:
        return self.case.frame(which)

    def y(self, which: str) -> np.ndarray:
        if which == "current" and not self.case.has_current_labels:
            raise NotApplicable("the current batch has no labels")
        return self.case.y(which)

    def sample_index(self, which: str, n: int, seed: int = 0) -> np.ndarray:
        """A fixed random subset of at most n row positions of a set (all rows when smaller)."""
        size = len(self.frame(which))
        if size <= n:
            return np.arange(size)
        return np.sort(np.random.default_rng(seed).choice(size, n, replace=False))

    @property
    def encoder(self) -> Encoder:
        c = self.case
        return self.cached("encoder", lambda: Encoder.fit(c.train, c.features, c.categorical))

    def encoded(self, which: str) -> np.ndarray:
        """The model features of a set as one float32 matrix (categoricals as codes)."""
        return self.cached(f"encoded:{which}", lambda: self.encoder.transform(self.frame(which)))

    # ---------------------------------------------------------------- predictions
    @property
    def decision_scores(self) -> bool:
        """A binary model whose scores are decision_function margins (no predict_proba)."""
        m = self.case.model
        return self.case.task == "binary" and m is not None and m.has_decision

    @property
    def threshold(self) -> float:
        """The decision threshold in use: --threshold, else 0.5 on probabilities; on decision
        margins it is 0, where predict() switches class."""
        if self.decision_scores:
            return 0.0
        return self.case.threshold if self.case.threshold is not None else 0.5

    def predictions(self, which: str) -> Predictions:
        """The model's outputs on train, test or current (cached)."""
        if self.case.model is None:
            raise NotApplicable("no model and no prediction column were given")
        if which in self._refused:
            raise NotApplicable(self._refused[which])
        if which == "current" and self.case.current is None:
            raise NotApplicable("no current batch was given")
        if which == "current":
            return self.cached("pred:current", self._predict_current)
        return self.cached(f"pred:{which}", lambda: self._predict(which))

    def _predict_current(self) -> Predictions:
        # A production batch that the model cannot score (a renamed column, a type change) is a
        # finding of the production rung, not bad input: checks get NotApplicable with the reason.
        from .errors import InputError

        try:
            return self._predict("current")
        except InputError as exc:
            raise NotApplicable(f"the model cannot score the current batch: {exc.message}") from None

    def predictions_on(self, df: pd.DataFrame, like: str = "test") -> Predictions:
        """The model's outputs on rows given as a frame (with the columns of set `like`), uncached:
        e.g. the evaluation rows with a column repaired."""
        if self.case.model is None:
            raise NotApplicable("no model and no prediction column were given")
        if like in self._refused:
            raise NotApplicable(self._refused[like])
        return self._predict(like, df)

    def refuse_set(self, which: str, reason: str) -> None:
        """The model cannot score set `which` (rows it rejects: a data finding, not bad input):
        every check that needs its predictions is not applicable, with `reason`."""
        self._refused[which] = reason
        self.note(reason)

    def _predict(self, which: str, frame: pd.DataFrame | None = None) -> Predictions:
        c, m = self.case, self.case.model
        assert m is not None  # predictions() refuses a case without a model
        df = self.frame(which) if frame is None else frame
        thr = self.threshold
        known_classes: list = list(c.classes or [])
        if m.kind == "precomputed" and not m.per_class_columns:
            return self._precomputed(which, df, known_classes)
        need = m.prediction_columns if m.per_class_columns else c.features
        missing = [f for f in need if f not in df.columns]
        if missing:
            raise NotApplicable(f"the {which} set lacks model features {missing[:5]}")
        X = df[need]
        # predict_jobs threads (one by default: spinning OpenMP workers on a busy machine cost more
        # than a second core gains; 0 uses every core)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.config.predict_jobs or os.cpu_count() or 1):
            proba = m.predict_proba(X) if c.task in ("binary", "multiclass") else None
            dec = m.decision_function(X) if proba is None and c.is_classification else None
            classes: list = list(m.classes or known_classes)
            if proba is not None and proba.ndim == 2 and proba.shape[1] == len(classes):
                # predict() of a probabilistic classifier is the argmax: not a second pass
                raw = np.asarray(classes)[np.argmax(proba, axis=1)]
            else:
                raw = m.predict_raw(X)
        if c.task in ("regression", "ranking"):
            v = (
                np.asarray(raw, dtype=float)
                if raw.dtype.kind in "biuf"
                else pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
            )
            return Predictions(score=v, label=v, raw=raw, kind="value")
        if dec is not None and (got := from_decision(dec, raw, classes, c.positive, c.task)) is not None:
            if c.threshold is not None:
                self.note(
                    f"--threshold {c.threshold:g} is a probability, but the model gives decision_function "
                    "margins: the threshold in use is 0, where predict() switches class"
                )
            return got
        if m.kind == "callable" and proba is None:
            got = callable_probability(raw, known_classes, c.positive, c.task, thr)
            if got is not None:
                self.note(f"the model callable returns {got.notes[0]}")
                return got
        if proba is not None and proba.ndim == 2 and proba.shape[1] == len(classes):
            if c.task == "binary":
                pos_idx = positive_index(classes, c.positive)
                s = proba[:, pos_idx]
                neg = classes[1 - pos_idx]
                label = np.where(s >= thr, classes[pos_idx], neg)
                return Predictions(
                    score=s,
                    label=label,
                    raw=raw,
                    proba=proba,
                    classes=classes,
                    has_proba=True,
                    kind="probability",
                )
            label = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
            if np.asarray(c.y("train")).dtype.kind in "biuf":
                label = label.astype(np.asarray(c.y("train")).dtype)
            return Predictions(
                score=proba.max(axis=1),
                label=label,
                raw=raw,
                proba=proba,
                classes=classes,
                has_proba=True,
                kind="probability",
            )
        # no usable probabilities
        known = set(pd.unique(pd.Series(raw)).tolist()) <= set(known_classes)
        if c.task == "binary":
            if known:
                return Predictions(
                    score=(raw == c.positive).astype(float), label=raw, raw=raw, classes=classes
                )
            s = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
            neg = [k for k in known_classes if k != c.positive][0]
            return Predictions(
                score=s,
                label=np.where(s >= thr, c.positive, neg),
                raw=raw,
                classes=c.classes,
                notes=["predict() returned values that are not classes"],
                kind="score",
            )
        return Predictions(score=np.ones(len(raw)), label=raw, raw=raw, classes=classes)

    def _precomputed(self, which: str, df: pd.DataFrame, known_classes: list) -> Predictions:
        """The model's outputs read from the prediction column of a set (no model)."""
        c, thr = self.case, self.threshold
        col = c.prediction_column
        if col not in df.columns:
            raise NotApplicable(f"the {which} set has no prediction column {col!r}")
        raw = df[col].to_numpy()
        if c.task == "binary":
            p = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            in_unit = bool(np.nanmin(p) >= 0 and np.nanmax(p) <= 1)
            neg = negative_of(known_classes, c.positive)
            label = np.where(p >= thr, c.positive, neg)
            proba = np.column_stack([1 - p, p]) if in_unit else None
            if c.positive_how == HOW_CHOSEN:
                self.note(f"the prediction column {col!r} is read as P({c.positive!r}), the positive class")
            return Predictions(
                score=p,
                label=label,
                raw=raw,
                proba=proba,
                classes=[neg, c.positive],
                has_proba=in_unit,
                kind="probability" if in_unit else "score",
            )
        if c.task == "multiclass":
            return Predictions(score=np.ones(len(raw)), label=raw, raw=raw, classes=c.classes)
        v = raw.astype(float)
        return Predictions(score=v, label=v, raw=raw, kind="value")

    def role_columns(self) -> list[str]:
        """The group (query) and time columns that are not model features."""
        c = self.case
        return [r for r in (c.group_column, c.time_column) if r and r not in c.features]

    def row_hashes(self, which: str, with_target: bool = True, roles: bool = False) -> np.ndarray:
        """One 64-bit hash per row of a set over the model's features (and the target), cached:
        the single row identity every check uses (see `stats.rows`). With `roles`, the group and
        time columns count too, so that the same item in two queries or on two dates is not a
        copy (the identity the duplicate and overlap checks judge)."""
        c = self.case
        cols = c.features + (self.role_columns() if roles else []) + ([c.target] if with_target else [])
        key = f"hash:{which}:{with_target}:{roles and bool(self.role_columns())}"
        return self.cached(key, lambda: row_hashes(self.frame(which), cols))

    def fresh_eval_rows(self, n: int = 10_000) -> pd.DataFrame:
        """A sample of evaluation rows that do not also appear in the training set."""
        return self.frame("test").iloc[self.fresh_eval_positions(n)]

    def fresh_eval_positions(self, n: int = 10_000) -> np.ndarray:
        """The positions in the evaluation set of `fresh_eval_rows(n)`."""
        test = self.frame("test")
        fresh = ~np.isin(self.row_hashes("test"), self.row_hashes("train"))
        idx = np.flatnonzero(fresh)
        if self.case.group_column:  # whole queries only
            g = test[self.case.group_column].to_numpy()
            keep = pd.unique(g[idx])[: max(1, int(n / max(1, len(idx) / max(1, len(pd.unique(g[idx]))))))]
            idx = idx[np.isin(g[idx], keep)]
        elif len(idx) > n:
            idx = np.sort(np.random.default_rng(self.config.seed).choice(idx, n, replace=False))
        return idx

    def unseen_eval_rows(self) -> np.ndarray:
        """Which of the baselines' evaluation rows (`fresh_eval_positions()`) have features that
        no training row has: where memorising training rows cannot pay, so a model and the
        baselines' fold models are compared on them like for like."""
        idx = self.fresh_eval_positions()
        seen = self.row_hashes("train", with_target=False)
        return ~np.isin(self.row_hashes("test", with_target=False)[idx], seen)

    @property
    def workers(self) -> int:
        """Threads that fit independent models side by side (refit_workers; 0: one per core)."""
        return self.config.refit_workers or os.cpu_count() or 1

    # ---------------------------------------------------------------- the model baselines
    def split_entity(self) -> EntitySplit | None:
        """The entity the evaluation split follows, inferred (`stats.entity_split`) among the
        columns data.train_test_overlap reads as entity ids, when no group or time column was
        given (those set the baselines' folds themselves); None when the split is by row."""
        from .checks.data.entities import entity_candidates
        from .stats.entity_split import entity_split

        def compute() -> EntitySplit | None:
            c = self.case
            if c.group_column or c.time_column or c.test is None:
                return None
            p = self.config.params("data.train_test_overlap")
            cols, _ = entity_candidates(self, p.min_entities)
            return entity_split(c.train, c.test, cols)

        result: EntitySplit | None = self.cached("split_entity", compute)
        return result

    def baselines(self) -> BaselinesResult:
        """The cross-validated model baselines (dummy, linear, HGB, your model refitted)."""
        from .stats.baselines import run_baselines

        def compute():
            cfg = self.config
            split = self.split_entity()
            res = run_baselines(
                self.case,
                max_rows=cfg.max_refit_rows,
                n_splits=cfg.cv_folds,
                seed=cfg.seed,
                include_user=not cfg.fast,
                eval_frame=self.fresh_eval_rows(),
                workers=self.workers,
                split_by=split.column if split is not None else None,
            )
            if split is not None:
                self.note(
                    f"the evaluation rows are of {split.column} values not in training "
                    f"({split.rows_of_seen_entities:,} of {split.evaluation_rows:,} rows seen, "
                    f"{split.expected_under_row_split:,.0f} expected from a split by row): the model "
                    f"baselines cross-validate by {split.column} too"
                )
            if res.subsampled:
                self.note(
                    f"the model baselines refits used a random sample of {res.n_rows:,} of "
                    f"{len(self.case.train):,} training rows (max_refit_rows)"
                )
            return res

        return self.cached("baselines", compute)

    def user_refit(self) -> tuple[BaselinesResult, Any] | None:
        """(the baselines, your model refitted in them) when its out-of-fold class scores on the
        training rows exist; None under --fast, when the baselines failed or the refit did not run
        (a model that cannot be cloned)."""
        if self.config.fast:
            return None
        try:
            res = self.baselines()
        except Exception:
            return None
        user = res.models.get("user")
        if user is None or user.oof is None or res.classes is None:
            return None
        return res, user

    def full_fit_outputs(self, key: str) -> np.ndarray:
        """The baseline `key` fitted on all the baselines' training rows, its outputs on the
        baselines' evaluation rows (`fresh_eval_rows()`), computed once (model.overfit compares it
        with your model, trained on as many rows)."""
        from .stats.baselines import fit_on_all

        def compute() -> np.ndarray:
            res = self.baselines()
            return fit_on_all(self.case, res.index, key, self.config.seed, self.fresh_eval_rows())

        result: np.ndarray = self.cached(f"full_fit:{key}", compute)
        return result

    def computed(self, key: str) -> Any:
        """A cached value if it was computed (and did not fail) during the run, else None."""
        value = self._cache.get(key)
        return None if isinstance(value, _Failed) else value

    # ---------------------------------------------------------------- the production batch
    def production(self) -> ProductionInputs:
        """The production batch against its reference (profiles, per-feature drift, the model's
        sensitivity, train/serving skews), built once with production.data_drift's parameters
        (see `stats.production`)."""
        c = self.case
        if c.current is None and c.current_profile is None:
            raise NotApplicable("no production batch (--current) was given")
        from .stats.production import build_production

        def compute() -> ProductionInputs:
            seed = self.config.seed
            imp = self.importance() if c.reference is None else None
            inp = build_production(c, self.config.params("production.data_drift"), seed=seed, importance=imp)
            if c.has_evaluation and c.reference is None and not inp.current_is_profile:
                ev = self.evaluation_shift().report.features
                inp.natural_psi = {k: float(f.psi) for k, f in ev.items() if f.tested and f.kind == "numeric"}
            return inp

        return self.cached("production", compute)

    def importance(self) -> dict[str, float] | None:
        """The model's importance of each feature: its share of the model's sensitivity measured on
        a fixed sample of the training rows (`stats.production.feature_importance`), the one number
        that every check, report and command shows for a feature; None without a model that can
        be scored."""
        from .stats.production import feature_importance

        c = self.case
        return self.cached(
            "importance",
            lambda: feature_importance(c.model, c.train, c.task, list(c.features), self.config.seed),
        )

    def evaluation_shift(self) -> ProductionInputs:
        """The evaluation set against the training set, judged as a production batch would be
        (profiles on the training bins, per-feature drift, and on demand the skews that a
        preprocessing step applied to one set and not the other explains), with
        production.data_drift's parameters; cached."""
        c = self.case
        if not c.has_evaluation or c.reference is not None:
            raise NotApplicable("no evaluation set beside the training set")
        from .stats.production import drift_config, labels_in_both, make_inputs

        def compute() -> ProductionInputs:
            ignore = {r for r in (c.target, c.prediction_column, c.time_column, c.group_column) if r}
            features = [f for f in c.features if f not in ignore]
            cfg = drift_config(self.config.params("production.data_drift"))
            inp = make_inputs(c.train, c.test, features, c.categorical, cfg, ignore)
            inp.labels = labels_in_both(c.target, c.train, c.test)
            return inp

        return self.cached("evaluation_shift", compute)

    def evaluation_skews(self) -> dict[str, Any]:
        """Columns of the evaluation set transformed against training (pipeline.train_serving_skew's
        parameters; see `stats.skew`); empty when there is no evaluation set."""
        try:
            inp = self.evaluation_shift()
        except NotApplicable:
            return {}
        return inp.skews(self.config.params("pipeline.train_serving_skew"))


def from_decision(
    dec: np.ndarray, raw: np.ndarray, classes: list, positive: Any, task: str
) -> Predictions | None:
    """Predictions of a classifier without predict_proba from its decision_function: binary
    margins oriented towards the positive class (the threshold in use is 0), multiclass one
    column per class; the labels are predict()'s. None when the shape does not fit the classes."""
    dec = np.asarray(dec, dtype=float)
    note = "scores are decision_function margins (the model has no predict_proba)"
    if task == "binary" and (dec.ndim == 1 or dec.shape[1] == 1):
        d = dec.ravel()
        if len(classes) == 2 and positive_index(classes, positive) == 0:
            d = -d  # sklearn's margin points to classes_[1]: flipped when the positive class is classes_[0]
        return Predictions(
            score=d, label=raw, raw=raw, classes=classes, decision=d, kind="decision", notes=[note]
        )
    if task == "multiclass" and dec.ndim == 2 and dec.shape[1] == len(classes):
        return Predictions(
            score=dec.max(axis=1),
            label=raw,
            raw=raw,
            classes=classes,
            decision=dec,
            kind="decision",
            notes=[note],
        )
    return None


def callable_probability(
    raw: np.ndarray, classes: list, positive: Any, task: str, threshold: float
) -> Predictions | None:
    """A plain callable's outputs read as probabilities: binary, one number per row in [0, 1] that
    is not a class label (P(positive)), or an (n, k) array of rows in [0, 1] (one column per
    class); None otherwise (the output-type check judges them)."""
    a = np.asarray(raw)
    if a.dtype.kind not in "fiu" or a.size == 0:
        return None
    a = a.astype(float)
    ok = np.isfinite(a)
    if not ok.any() or np.nanmin(a) < 0 or np.nanmax(a) > 1:
        return None
    if a.ndim == 2 and a.shape[1] == len(classes) and a.shape[1] >= 2:
        lab = np.asarray(classes, dtype=object)[np.argmax(np.nan_to_num(a, nan=-1.0), axis=1)]
        if task == "binary":
            pos = positive_index(classes, positive)
            score, lab = a[:, pos], np.where(a[:, pos] >= threshold, positive, classes[1 - pos])
        else:
            score = a.max(axis=1)
        note = f"an array of {a.shape[1]} columns in [0, 1]: read as the probabilities of {classes}"
        return Predictions(
            score=score,
            label=lab,
            raw=raw,
            proba=a,
            classes=classes,
            has_proba=True,
            kind="probability",
            notes=[note],
        )
    if task != "binary" or a.ndim != 1 or set(np.unique(a[ok])) <= {float(k) for k in _numeric(classes)}:
        return None
    neg = [k for k in classes if k != positive][0]
    return Predictions(
        score=a,
        label=np.where(a >= threshold, positive, neg),
        raw=raw,
        proba=np.column_stack([1 - a, a]),
        classes=[neg, positive],
        has_proba=True,
        kind="probability",
        notes=[f"one number per row in [0, 1]: read as P({positive!r})"],
    )


def _numeric(values: list) -> list[float]:
    out = []
    for v in values:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            pass
    return out


class _Failed:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc
