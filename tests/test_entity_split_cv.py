"""The model baselines cross-validate by entity when the evaluation split does (stats.entity_split):
a plain model scored on entities it never saw is not called underfit against baselines that knew
every entity, and a real underfit on such data is still found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from checkhelp import run
from mltriage.case import build_case
from mltriage.checks.model.fit import underfit
from mltriage.context import Context
from mltriage.stats.entity_split import entity_split, judge_column


def _panel(nonlinear: bool = False, by_entity: bool = True, n_ent: int = 60, per: int = 10, seed: int = 0):
    """A panel of `n_ent` entities with `per` rows each: the target is the entity's own level
    (unrelated to the features) plus a function of x; `size` is constant within an entity, so a
    flexible model that has seen an entity's other rows recognises it and knows its level."""
    rng = np.random.default_rng(seed)
    ent = np.repeat(np.arange(n_ent), per)
    level = rng.normal(0, 1.5, n_ent)[ent]
    size = rng.normal(0, 1, n_ent)[ent] + rng.normal(0, 0.001, len(ent))
    x = rng.uniform(-2, 2, len(ent))
    y = (3 * np.sin(2 * x) if nonlinear else 1.5 * x) + level + rng.normal(0, 0.3, len(ent))
    df = pd.DataFrame({"x": x, "size": size, "y": y, "entity": [f"e{i}" for i in ent]})
    test = ent >= n_ent * 3 // 4 if by_entity else rng.random(len(ent)) < 0.25
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def _ctx(tr: pd.DataFrame, te: pd.DataFrame) -> Context:
    model = LinearRegression().fit(tr[["x", "size"]], tr["y"])
    return Context(build_case(tr, te, "y", model=model, task="regression"))


def test_split_by_entity_is_recognised_and_a_split_by_row_is_not():
    tr, te = _panel(by_entity=True)
    s = judge_column(tr["entity"], te["entity"])
    assert s is not None and s.column == "entity" and s.rows_of_seen_entities == 0
    assert s.expected_under_row_split > 0.9 * len(te) and s.z < -3
    tr, te = _panel(by_entity=False)
    assert judge_column(tr["entity"], te["entity"]) is None
    # a few entities on both sides: still a split by entity when most evaluation rows are unseen
    tr, te = _panel(by_entity=True)
    leak = tr[tr["entity"].isin(["e0", "e1", "e2"])].iloc[::3]
    s = judge_column(tr["entity"], pd.concat([te, leak])["entity"])
    assert s is not None and 0 < s.rows_of_seen_entities < 0.5 * s.evaluation_rows


def test_the_coarsest_entity_the_split_follows_is_chosen():
    tr, te = _panel(by_entity=True)
    for df in (tr, te):  # hospitals of five patients each: the split by hospital keeps both whole
        df["hospital"] = df["entity"].str[1:].astype(int).floordiv(5).map(lambda h: f"h{h}")
    s = entity_split(tr, te, ["entity", "hospital"])
    assert s is not None and s.column == "hospital"


def test_baselines_cross_validated_by_row_call_a_model_on_an_entity_split_underfit():
    """What the entity folds fix: with row folds, boosting recognises every entity by its size
    and outscores a linear model that is scored on entities it never saw."""
    tr, te = _panel(by_entity=True)
    before = _ctx(tr, te)
    before._cache["split_entity"] = None  # the row folds used before the split was read
    assert before.baselines().splitter == "K-fold"
    assert [f.code for f in run(underfit, before)] == ["model.underfit"]


@pytest.mark.silent("model.underfit")
def test_linear_model_on_an_entity_split_is_not_underfit_against_baselines_that_know_the_entities():
    tr, te = _panel(by_entity=True)
    ctx = _ctx(tr, te)
    assert ctx.split_entity() is not None
    assert ctx.baselines().splitter == "grouped K-fold by entity"
    assert run(underfit, ctx) == []
    assert any("cross-validate by entity" in n for n in ctx.notes)


@pytest.mark.fires("model.underfit")
def test_a_real_underfit_on_an_entity_split_is_still_found():
    tr, te = _panel(nonlinear=True, by_entity=True)
    ctx = _ctx(tr, te)
    out = run(underfit, ctx)
    assert ctx.baselines().splitter == "grouped K-fold by entity"
    assert [f.code for f in out] == ["model.underfit"] and out[0].severity.rank >= 1


def test_a_split_by_row_keeps_row_folds():
    tr, te = _panel(by_entity=False)
    ctx = _ctx(tr, te)
    assert ctx.split_entity() is None
    assert ctx.baselines().splitter == "K-fold"
