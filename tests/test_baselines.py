"""The model baselines fit their (model, fold) pairs in worker threads with exactly the results of
one thread (issue 9: the median scenario under 5 s; capability 14: deterministic results)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mltriage.case import build_case
from mltriage.stats.baselines import run_baselines


def _same(a, b):
    assert a.splitter == b.splitter and a.n_splits == b.n_splits
    np.testing.assert_array_equal(a.index, b.index)
    assert list(a.models) == list(b.models)
    for key in a.models:
        ma, mb = a.models[key], b.models[key]
        assert ma.error == mb.error
        assert ma.fold_scores == mb.fold_scores and ma.train_scores == mb.train_scores
        assert ma.eval_scores == mb.eval_scores
        np.testing.assert_array_equal(ma.oof, mb.oof)
        for x, y in zip(ma.eval_outs, mb.eval_outs, strict=True):
            np.testing.assert_array_equal(x, y)


def _wine():
    d = load_wine(as_frame=True).frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    d["band"] = pd.cut(d["alcohol"], 4, labels=["a", "b", "c", "d"]).astype(str)
    return d.iloc[:120], d.iloc[120:]


def test_worker_threads_give_the_results_of_one_thread():
    tr, te = _wine()
    feats = [c for c in tr.columns if c not in ("target", "band")]
    model = make_pipeline(StandardScaler(), HistGradientBoostingClassifier(max_iter=30, random_state=0))
    model.fit(tr[feats], tr["target"])
    case = build_case(tr.drop(columns="band"), te.drop(columns="band"), "target", model=model)
    one = run_baselines(case, eval_frame=case.test, workers=1)
    two = run_baselines(case, eval_frame=case.test, workers=2)
    _same(one, two)
    assert set(one.models) == {"dummy", "linear", "hgb", "user"}
    assert all(m.error is None and len(m.fold_scores) == 5 for m in two.models.values())


def test_worker_threads_regression_with_categories():
    d = load_diabetes(as_frame=True).frame.sample(frac=1.0, random_state=2).reset_index(drop=True)
    d["sex"] = np.where(d["sex"] > 0, "f", "m")
    case = build_case(d.iloc[:300], d.iloc[300:], "target", categorical=["sex"])
    _same(run_baselines(case, n_splits=3, workers=1), run_baselines(case, n_splits=3, workers=3))


class _FailsOnSecondFit(ClassifierMixin, BaseEstimator):
    """Fits once (the user's fit), then every refit raises."""

    calls = 0

    def fit(self, X, y):
        type(self).calls += 1
        if type(self).calls > 1:
            raise RuntimeError("refit refused")
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_fold_ends_the_model_with_its_error(workers):
    tr, te = _wine()
    feats = [c for c in tr.columns if c not in ("target", "band")]
    _FailsOnSecondFit.calls = 0
    model = _FailsOnSecondFit().fit(tr[feats], tr["target"])
    case = build_case(tr.drop(columns="band"), te.drop(columns="band"), "target", model=model)
    res = run_baselines(case, n_splits=3, workers=workers)
    user = res.models["user"]
    assert user.error == "RuntimeError: refit refused"
    assert user.fold_scores == [] and np.isnan(user.oof).all()
    assert res.models["hgb"].error is None and len(res.models["hgb"].fold_scores) == 3


def test_instability_seed_refits_side_by_side_give_the_scores_of_one_thread():
    from mltriage.checks.model.stability import _seed_scores
    from mltriage.config import Config
    from mltriage.context import Context

    tr, te = _wine()
    feats = [c for c in tr.columns if c not in ("target", "band")]
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(tr[feats], tr["target"])
    case = build_case(tr.drop(columns="band"), te.drop(columns="band"), "target", model=model)
    got = []
    for workers in (1, 2):
        ctx = Context(case, Config(refit_workers=workers))
        got.append(_seed_scores(ctx, ctx.baselines(), 3, 5000))
    assert got[0] is not None and len(got[0][0]) == 3
    assert got[0] == got[1]


def _hgb_fitted(n: int, random_state):
    hgb = HistGradientBoostingClassifier(max_iter=20, random_state=random_state)
    return make_pipeline(StandardScaler(), hgb).fit(*_xy(n))


def test_refit_keeps_early_stopping_as_the_users_fit_resolved_it():
    """scikit-learn's early_stopping="auto" stops early above 10,000 rows: a refit on a fold
    below that size must still stop early when the user's fit did, and not when it did not."""
    from mltriage.stats.baselines import refit_clone

    big, small = _hgb_fitted(10_500, 0), _hgb_fitted(2_000, 0)
    assert big[-1].do_early_stopping_ and not small[-1].do_early_stopping_
    assert refit_clone(big).get_params()["histgradientboostingclassifier__early_stopping"] is True
    assert refit_clone(small).get_params()["histgradientboostingclassifier__early_stopping"] is False
    # an unfitted copy, the user's object untouched
    assert not hasattr(refit_clone(big)[-1], "do_early_stopping_")
    assert big.get_params()["histgradientboostingclassifier__early_stopping"] == "auto"


def test_refit_leaves_auto_without_a_fixed_seed():
    """Without a random_state the early-stopping split would differ from run to run: the refit
    keeps "auto" (deterministic on a fold below 10,000 rows)."""
    from mltriage.stats.baselines import refit_clone

    est = refit_clone(_hgb_fitted(10_500, None))
    assert est.get_params()["histgradientboostingclassifier__early_stopping"] == "auto"
    bare = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(*_xy(10_500))
    assert refit_clone(bare).get_params()["early_stopping"] is True


def _xy(n: int):
    from sklearn.datasets import make_classification

    return make_classification(n_samples=n, n_features=6, random_state=0)


def test_your_model_refitted_is_scored_on_train_and_evaluation_rows_only_when_asked():
    """The refit's training and evaluation scores are left for later (ModelCV.complete), with the
    same values as scoring them at once; the table shows none until then."""
    import mltriage.stats.baselines as B

    tr, te = _wine()
    feats = [c for c in tr.columns if c not in ("target", "band")]
    model = make_pipeline(StandardScaler(), HistGradientBoostingClassifier(max_iter=30, random_state=0))
    model.fit(tr[feats], tr["target"])
    case = build_case(tr.drop(columns="band"), te.drop(columns="band"), "target", model=model)
    lazy = run_baselines(case, eval_frame=case.test)
    user = lazy.models["user"]
    assert user.later is not None and not user.eval_scores and not user.train_scores
    row = next(r for r in lazy.table() if r["key"] == "user")
    assert row["eval_mean"] is None and row["train_mean"] is None and np.isfinite(row["cv_mean"])
    saved = B.SCORED_LATER
    try:
        B.SCORED_LATER = ()
        eager = run_baselines(case, eval_frame=case.test)
    finally:
        B.SCORED_LATER = saved
    assert eager.models["user"].later is None
    user.complete()
    assert user.later is None and len(user.eval_scores) == 5
    _same(lazy, eager)
