"""production.out_of_distribution's handful test: a few rows (too few for the tail excess, none
alone of impossible magnitude under a long-tailed column's extrapolated tail) whose magnitudes
are, together, beyond what n independent draws of the reference give (HOLDOUT6
out_of_distribution relapse/logreg, benchmarks/variants/holdout6-run.md: 4 rows at 3-9 times
training's maximum in two correlated count columns, missed with no finding)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import checkhelp
from mltriage.case import build_case
from mltriage.context import Context
from mltriage.registry import load_all
from mltriage.stats.ood import ColumnTail, handful_test


def _population(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Two correlated long-tailed counts (visits and the days they span) and a normal score."""
    visits = np.round(np.exp(rng.normal(1.5, 0.8, n)))
    days = np.round(visits * np.exp(rng.normal(3.0, 0.4, n)))
    score = rng.normal(50, 10, n)
    lin = 0.1 * np.log1p(visits) + 0.02 * (score - 50)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-lin))).astype(int)
    return pd.DataFrame({"visits": visits, "days": days, "score": score, "y": y})


def _case(seed: int, planted: int, batch: int = 150):
    rng = np.random.default_rng(seed)
    tr, te = _population(rng, 300), _population(rng, 150)
    cur = _population(rng, batch).drop(columns="y")
    rows = rng.choice(batch, planted, replace=False)
    for c in ("visits", "days"):  # 3-8 times training's maximum in both columns
        cur.loc[rows, c] = np.round(tr[c].max() * rng.uniform(3, 8, planted))
    model = LogisticRegression(max_iter=1000).fit(tr[["visits", "days", "score"]], tr["y"])
    return build_case(tr, te, "y", task="binary", model=model, current=cur), rows


def _run(case):
    return checkhelp.run(load_all()["production.out_of_distribution"].fn, Context(case))


@pytest.mark.fires("production.out_of_distribution")
def test_a_handful_of_extreme_rows_is_flagged_by_the_handful_test():
    case, rows = _case(seed=2, planted=4)
    f = _run(case)
    assert len(f) == 1 and {"visits", "days"} <= set(f[0].columns)
    ev = f[0].evidence
    # neither older rule sees them: too few rows for the tail excess, none alone impossible
    assert ev["impossible_rows"] == 0 and ev["tail_test"]["rows_beyond_range"] < 5
    assert ev["handful_test"]["fired"] and ev["handful_test"]["p_value"] < 0.001
    assert set(int(e["row"]) for e in ev["examples"]) >= set(int(r) for r in rows)


@pytest.mark.silent("production.out_of_distribution")
@pytest.mark.parametrize("seed", [3, 5])
def test_a_long_tailed_batch_from_the_same_population_stays_silent(seed):
    """A large batch of the same long-tailed, correlated population reaches past training's
    maximum in a few rows by nature: no alarm."""
    case, _ = _case(seed=seed, planted=0, batch=3000)
    assert checkhelp.alarms(_run(case)) == []


def _uniform_tails(p: np.ndarray, names: list[str]) -> list[ColumnTail]:
    n = p.shape[0]
    return [
        ColumnTail(c, np.ones(n, bool), np.zeros(n, bool), False, {}, p[:, j]) for j, c in enumerate(names)
    ]


def test_the_handful_p_value_holds_its_level_under_dependent_columns():
    """Null rows (uniform tail chances), columns independent or identical (the worst case for a
    combination that assumed independence): the test rejects at most at its level."""
    rng = np.random.default_rng(0)
    alpha, sims, n = 0.05, 2000, 200
    for dup in (False, True):
        hits = 0
        for _ in range(sims):
            u = rng.uniform(size=(n, 1 if dup else 3))
            p = np.repeat(u, 3, axis=1) if dup else u
            h = handful_test(_uniform_tails(p, ["a", "b", "c"]), n, 10)
            hits += h is not None and h.p_value < alpha
        assert hits / sims <= alpha


def test_the_handful_test_finds_the_rows_and_ignores_rows_not_far():
    n = 500
    p = np.ones((n, 2))
    p[[7, 70, 300], 0] = [1e-5, 3e-5, 2e-5]
    h = handful_test(_uniform_tails(p, ["a", "b"]), n, 10)
    assert h is not None and h.k == 3 and set(np.flatnonzero(h.rows)) == {7, 70, 300}
    assert h.p_value < 1e-3
    assert handful_test(_uniform_tails(np.ones((n, 2)), ["a", "b"]), n, 10) is None


def _entity_case(seed: int):
    """Rows of entities (4 each) whose counts are the entity's own: the evaluation set and the
    batch each hold one entity at 2-3 times training's maximum, in all its rows."""
    rng = np.random.default_rng(seed)

    def entities(count: int) -> pd.DataFrame:
        level = np.exp(rng.normal(1.5, 0.5, count))
        visits = np.round(np.repeat(level, 4) * np.exp(rng.normal(0, 0.1, 4 * count)))
        d = pd.DataFrame({"visits": visits, "score": rng.normal(50, 10, 4 * count)})
        d["y"] = (rng.uniform(size=len(d)) < 0.5).astype(int)
        return d

    tr, te, cur = entities(100), entities(40), entities(40)
    for d in (te, cur):
        d.loc[:3, "visits"] = np.round(tr["visits"].max() * rng.uniform(2, 3)) + np.arange(4)
    model = LogisticRegression(max_iter=1000).fit(tr[["visits", "score"]], tr["y"])
    return build_case(tr, te, "y", task="binary", model=model, current=cur.drop(columns="y"))


@pytest.mark.silent("production.out_of_distribution")
@pytest.mark.parametrize("seed", [3, 4])
def test_the_handful_test_is_off_when_the_evaluation_set_fails_it_too(seed):
    """Entities share their extremes over their rows (a grouped split): the rows are not
    independent, and the evaluation set, nothing done to it, fails the test as the batch does."""
    from mltriage.checks.production.ood import ood_findings

    case = _entity_case(seed)
    ctx = Context(case)
    inp = ctx.production()
    p = load_all()["production.out_of_distribution"].resolve({})
    alone = ood_findings(inp, p)  # without the control the batch's entity reads as a handful
    assert alone and alone[0].evidence["handful_test"]["fired"]
    assert alone[0].evidence["impossible_rows"] == 0 and alone[0].evidence["tail_test"]["p_value"] >= 0.001
    assert checkhelp.alarms(_run(case)) == []
