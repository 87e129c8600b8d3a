"""errors.underperforming_slice's regression label mix (`slice_judge.label_mix`): the target
inside a slice counts as different between training and evaluation only when the rank test
agrees with the difference of means (HOLDOUT4's batting: 8% of training targets entered x10 or
x0.1 moved a slice's training mean from 38 to 59 while its median stayed at 39). A slice whose
target really moved differs; one whose training mean a few mis-entered targets carry does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from mltriage.case import build_case
from mltriage.checks.error_analysis.common import errors_of
from mltriage.checks.error_analysis.slice_judge import label_mix, overall
from mltriage.context import Context
from mltriage.stats.slices import Slice, slice_mask

PRED = [{"column": "grp", "op": "==", "value": "b"}]


def _mix(seed: int, kind: str) -> dict:
    rng = np.random.default_rng(seed)
    n = 3000
    df = pd.DataFrame({"x": rng.normal(size=n), "grp": pd.Series(rng.choice(["a", "b"], n), dtype="str")})
    df["y"] = 40 + 10 * df["x"].to_numpy() + rng.normal(scale=5, size=n)
    train, test = df.iloc[:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True)
    in_tr = slice_mask(train, PRED)
    if kind == "unit":  # 8% of the slice's training targets entered in another unit, x10 or x0.1
        u = rng.uniform(size=len(train))
        train.loc[in_tr & (u < 0.04), "y"] *= 10
        train.loc[in_tr & (u >= 0.04) & (u < 0.08), "y"] *= 0.1
    elif kind == "moved":  # the slice's target moved by one sd in evaluation
        in_te = slice_mask(test, PRED)
        test.loc[in_te, "y"] -= 12
    model = LinearRegression().fit(train[["x"]], train["y"])
    ctx = Context(build_case(train, test, "y", task="regression", model=model, categorical=["grp"]))
    p = ctx.config.params("errors.underperforming_slice")
    whole = overall(ctx, errors_of(ctx), p)
    m = slice_mask(test, PRED)
    s = Slice(PRED, int(m.sum()), float(m.mean()), 1.0, 1.0, (0.0, 1.0), 1.0, 0.5, 0.01, m)
    s.confirm_rows = rng.uniform(size=len(test)) < 0.5
    out = label_mix(ctx, s, whole, p, 0.01)
    assert out is not None
    return out


def test_a_moved_target_differs():
    out = _mix(0, "moved")
    assert out["differs"] and out["p_value_ranks"] < 1e-6 and out["p_value_means"] < 1e-6


def test_a_few_mis_entered_training_targets_are_no_change_of_rule():
    out = _mix(0, "unit")
    # the means differ significantly, carried by the mis-entered values ...
    assert out["p_value_means"] < 0.01 and abs(out["standardised_difference"]) >= 0.1
    # ... the ranks do not: no change of the slice's rule
    assert out["p_value_ranks"] > 0.01 and not out["differs"]
    assert abs(out["median_in_training"] - out["median_in_evaluation"]) < 3


def test_the_same_rows_without_a_change_do_not_differ():
    assert not _mix(0, "none")["differs"]
