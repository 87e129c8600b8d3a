"""evaluation.evaluated_on_train where rows repeat by nature (few coarse features, second
held-out set, benchmarks/variants/holdout2-run.md): the file evaluated on itself has every row
exactly as often on both sides; a random split of the same rows does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from checkhelp import alarms, run
from mltriage.case import build_case
from mltriage.checks.evaluation.split import evaluated_on_train
from mltriage.context import Context


def _coarse(seed: int, n: int = 2800) -> pd.DataFrame:
    """Four coarse columns (3-5 levels, a 10-year age band) and a weakly related binary target:
    most rows repeat another row exactly."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "region": rng.choice(["n", "s", "e", "w"], n, p=[0.6, 0.2, 0.1, 0.1]),
            "kind": rng.choice(["a", "b", "c"], n, p=[0.85, 0.1, 0.05]),
            "band": rng.integers(2, 7, n) * 10.0,
            "flag": rng.choice(["y", "n"], n, p=[0.95, 0.05]),
        }
    )
    df["y"] = (rng.random(n) < 0.4 + 0.05 * (df["band"] > 40)).astype(int)
    return df


def _ctx(train: pd.DataFrame, test: pd.DataFrame) -> Context:
    return Context(build_case(train, test, "y", task="binary"))


@pytest.mark.fires("evaluation.evaluated_on_train")
def test_file_evaluated_on_itself_fires_despite_natural_repeats():
    for seed in (0, 1):
        df = _coarse(seed)
        tr = df.iloc[: int(0.7 * len(df))].reset_index(drop=True)
        te = tr.sample(frac=1, random_state=seed).reset_index(drop=True)
        found = alarms(run(evaluated_on_train, _ctx(tr, te)))
        assert found, "the training file evaluated on itself was not flagged"
        ev = found[0].evidence
        assert ev["train_rows_repeated_within_train"] > 0.5  # the excess rule alone cannot fire
        assert ev["rows_with_equal_counts"] == 1.0 and ev["rows_with_equal_counts_by_chance"] < 0.5


@pytest.mark.silent("evaluation.evaluated_on_train")
def test_random_split_of_repeating_rows_stays_silent():
    for seed in (0, 1, 2):
        df = _coarse(seed).sample(frac=1, random_state=seed).reset_index(drop=True)
        cut = int(0.7 * len(df))
        tr, te = df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)
        assert alarms(run(evaluated_on_train, _ctx(tr, te))) == []
        # the same sizes as train: most evaluation rows are in train, their counts differ
        te2 = df.sample(n=cut, replace=True, random_state=seed).reset_index(drop=True)
        assert alarms(run(evaluated_on_train, _ctx(tr, te2))) == []
