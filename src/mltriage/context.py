"""The run's context: the validated Case plus every shared computation, computed once.

Checks read predictions, encoded matrices and the cross-validated model baselines from here, so that
two checks needing the same thing never compute it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .case import Case
from .config import Config
from .model import Predictions
from .registry import NotApplicable
from .stats.encode import Encoder
from .stats.rows import TwinModel, column_codes, row_hashes, twin_model

if TYPE_CHECKING:
    from .stats.baselines import BaselinesResult
    from .stats.production import ProductionInputs


class Context:
    def __init__(self, case: Case, config: Config | None = None) -> None:
        self.case = case
        self.config = config or Config()
        self.notes: list[str] = list(case.notes)  # run-level notes shown in the report
        self._cache: dict[str, Any] = {}

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
    def threshold(self) -> float:
        return self.case.threshold if self.case.threshold is not None else 0.5

    def predictions(self, which: str) -> Predictions:
        """The model's outputs on train, test or current (cached)."""
        if self.case.model is None:
            raise NotApplicable("no model and no prediction column were given")
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

    def _predict(self, which: str) -> Predictions:
        c, m = self.case, self.case.model
        assert m is not None  # predictions() refuses a case without a model
        df = self.frame(which)
        thr = self.threshold
        known_classes: list = list(c.classes or [])
        if m.kind == "precomputed":
            col = c.prediction_column
            if col not in df.columns:
                raise NotApplicable(f"the {which} set has no prediction column {col!r}")
            raw = df[col].to_numpy()
            if c.task == "binary":
                p = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
                in_unit = bool(np.nanmin(p) >= 0 and np.nanmax(p) <= 1)
                neg = [k for k in known_classes if k != c.positive][0]
                label = np.where(p >= thr, c.positive, neg)
                proba = np.column_stack([1 - p, p]) if in_unit else None
                return Predictions(
                    score=p, label=label, raw=raw, proba=proba, classes=[neg, c.positive], has_proba=in_unit
                )
            if c.task == "multiclass":
                return Predictions(score=np.ones(len(raw)), label=raw, raw=raw, classes=c.classes)
            v = raw.astype(float)
            return Predictions(score=v, label=v, raw=raw)

        missing = [f for f in c.features if f not in df.columns]
        if missing:
            raise NotApplicable(f"the {which} set lacks model features {missing[:5]}")
        X = df[c.features]
        # one big predict call amortises OpenMP start-up: use every core here (refits use one)
        import os

        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.config.predict_jobs or os.cpu_count() or 1):
            proba = m.predict_proba(X) if c.task in ("binary", "multiclass") else None
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
            return Predictions(score=v, label=v, raw=raw)
        if proba is not None and proba.ndim == 2 and proba.shape[1] == len(classes):
            if c.task == "binary":
                pos_idx = list(classes).index(c.positive) if c.positive in list(classes) else 1
                s = proba[:, pos_idx]
                neg = classes[1 - pos_idx]
                label = np.where(s >= thr, classes[pos_idx], neg)
                return Predictions(
                    score=s, label=label, raw=raw, proba=proba, classes=classes, has_proba=True
                )
            label = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
            if np.asarray(c.y("train")).dtype.kind in "biuf":
                label = label.astype(np.asarray(c.y("train")).dtype)
            return Predictions(
                score=proba.max(axis=1), label=label, raw=raw, proba=proba, classes=classes, has_proba=True
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
            )
        return Predictions(score=np.ones(len(raw)), label=raw, raw=raw, classes=classes)

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

    def twin_codes(self) -> tuple[TwinModel, np.ndarray, np.ndarray]:
        """The chance-twin model of the run's rows (`stats.rows.TwinModel`, learned on the unique
        rows of train and test together, by the copy identity of `row_hashes(roles=True)`) and the
        value codes of the training and evaluation rows."""

        def compute() -> tuple[TwinModel, np.ndarray, np.ndarray]:
            c = self.case
            cols = c.features + self.role_columns() + [c.target]
            ctr, cte = column_codes([self.frame("train"), self.frame("test")], cols)
            h = np.concatenate([self.row_hashes("train", roles=True), self.row_hashes("test", roles=True)])
            first = ~pd.Series(h).duplicated().to_numpy()
            model = twin_model(np.vstack([ctr, cte])[first], seed=self.config.seed)
            return model, ctr, cte

        return self.cached("twins", compute)

    def fresh_eval_rows(self, n: int = 10_000) -> pd.DataFrame:
        """A sample of evaluation rows that do not also appear in the training set."""
        test = self.frame("test")
        fresh = ~np.isin(self.row_hashes("test"), self.row_hashes("train"))
        idx = np.flatnonzero(fresh)
        if self.case.group_column:  # whole queries only
            g = test[self.case.group_column].to_numpy()
            keep = pd.unique(g[idx])[: max(1, int(n / max(1, len(idx) / max(1, len(pd.unique(g[idx]))))))]
            idx = idx[np.isin(g[idx], keep)]
        elif len(idx) > n:
            idx = np.sort(np.random.default_rng(self.config.seed).choice(idx, n, replace=False))
        return test.iloc[idx]

    # ---------------------------------------------------------------- the model baselines
    def baselines(self) -> BaselinesResult:
        """The cross-validated model baselines (dummy, linear, HGB, your model refitted)."""
        from .stats.baselines import run_baselines

        def compute():
            cfg = self.config
            res = run_baselines(
                self.case,
                max_rows=cfg.max_refit_rows,
                n_splits=cfg.cv_folds,
                seed=cfg.seed,
                include_user=not cfg.fast,
                eval_frame=self.fresh_eval_rows(),
            )
            if res.subsampled:
                self.note(
                    f"the model baselines refits used a random sample of {res.n_rows:,} of "
                    f"{len(self.case.train):,} training rows (max_refit_rows)"
                )
            return res

        return self.cached("baselines", compute)

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
            rows = None
            if c.has_evaluation and c.model is not None:
                rows = self.frame("test").iloc[self.sample_index("test", 800, seed=seed)]
            return build_production(c, self.config.params("production.data_drift"), seed=seed, eval_rows=rows)

        return self.cached("production", compute)


class _Failed:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc
