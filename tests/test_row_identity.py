"""stats.rows.row_hashes: dates and durations are turned into text once per distinct value, and a
column already of pandas' text dtype is its own text (`_as_text`), with the hashes of converting
every row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mltriage.stats.rows import _as_text, row_hashes


def row_by_row(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None).astype(str)


DATES = pd.to_datetime(
    ["2024-01-03 00:00", None, "2024-01-01 12:30", "2024-01-03 00:00", None, "2023-12-31 00:00"]
)


@pytest.mark.parametrize(
    "values",
    [
        DATES,
        DATES.tz_localize("Europe/Paris"),
        pd.to_timedelta([3, None, 1, 3, 2, None], unit="h"),
        pd.to_datetime([None, None, None]),
        pd.to_datetime([]),
        ["b", None, "a", "b", "None", "a"],
        pd.array(["b", None, "", "b", "None", float("nan")], dtype="str"),
        pd.array(["b", None, "a"], dtype="string"),
        pd.Series(["b", None, 1.5, "b"], dtype=object),
        pd.Categorical(["x", None, "y", "x"]),
        [True, False, True],
    ],
)
def test_text_of_a_column_is_that_of_each_row(values):
    s = pd.Series(values, index=np.arange(100, 100 + len(values)))
    got, want = _as_text(s), row_by_row(s)
    pd.testing.assert_series_equal(got, want)
    assert np.array_equal(row_hashes(s.to_frame("d"), ["d"]), row_hashes(want.to_frame("d"), ["d"]))


def test_dates_hash_by_value():
    a = pd.DataFrame(
        {"d": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-01"]), "x": [1, 2, 3, 1]}
    )
    h = row_hashes(a, ["d", "x"])
    assert h[0] == h[3] and len(set(h.tolist())) == 3
    b = a.iloc[::-1].reset_index(drop=True)
    assert np.array_equal(row_hashes(b, ["d", "x"]), h[::-1])
