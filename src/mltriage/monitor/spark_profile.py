"""Profiles of groups of rows (windows) computed by Spark, on a reference profile's bins.

`profile_groups(frame, like, group)` is the Spark counterpart of calling
`build_profile(rows_of_one_group, like=like)` for every group: for each group value, a `Profile`
whose numeric columns are counted on the reference's bin edges and whose categorical columns keep
the reference's categories, so it merges with profiles built on one machine
(`stats.profile_merge.merge`) and gives the same drift statistics bin for bin.

How: every numeric column is read as a double (text through `try_cast`, so a value that is not a
number counts as unparsed), sorted into a state (finite, missing, +inf, -inf, unparsed) and, when
finite, into its bin by comparisons with the edges (Spark SQL expressions, no Python per row).
The columns are stacked into (group, column, state, bin, value) rows and ONE aggregation gives,
per (group, column, state, bin): count, min, max, mean, population variance and the count of
non-whole values. Only those aggregates (a few rows per bin) reach the driver, which adds them up
into the profile (means and variances combined with Chan's formula, as profile_merge does).
Categorical columns: one value count per (group, value).

What differs from a profile built on one machine, and why it does not matter for drift: quantiles
are interpolated from the bins (`quantiles_exact` False, as after any merge: computing exact ones
would sort every column of every group); point masses are counted for the reference's point-mass
values only; mean and variance agree to floating-point rounding. Bin counts, missing, infinite and
unparsed counts, min and max are exact, so PSI, chi-square and KS per feature are identical.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..stats.bins import POINT_MASS_SHARE
from ..stats.profile import (
    DEFAULT_TOP_CATEGORIES,
    QUANTILE_PROBS,
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    Profile,
    hist_quantile,
)
from ..stats.rows import scalar

FINITE, MISSING, POS_INF, NEG_INF, UNPARSED = 0, 1, 2, 3, 4


def sql_name(name: str) -> str:
    """A Spark SQL identifier."""
    return "`" + str(name).replace("`", "``") + "`"


def _lit(v: float) -> str:
    """A double literal Spark parses back to exactly the same value."""
    return f"CAST('{float(v)!r}' AS DOUBLE)"


def numeric_expr(name: str, spark_type: str) -> str:
    """The column as a double: numbers cast, text parsed (NULL when it is not a number)."""
    c = sql_name(name)
    if spark_type in ("string", "varchar", "char"):
        return f"try_cast(trim({c}) AS DOUBLE)"
    if spark_type == "boolean":
        return f"CAST(CAST({c} AS INT) AS DOUBLE)"
    return f"CAST({c} AS DOUBLE)"


def state_expr(name: str, spark_type: str) -> str:
    """FINITE, MISSING (null or NaN), POS_INF, NEG_INF or UNPARSED (text that is not a number)."""
    x = numeric_expr(name, spark_type)
    unparsed = (
        f"WHEN {sql_name(name)} IS NOT NULL AND {x} IS NULL THEN {UNPARSED} "
        if spark_type == "string"
        else ""
    )
    return (
        f"CASE {unparsed}WHEN {x} IS NULL OR isnan({x}) THEN {MISSING} "
        f"WHEN {x} = double('inf') THEN {POS_INF} WHEN {x} = double('-inf') THEN {NEG_INF} "
        f"ELSE {FINITE} END"
    )


def bin_expr(x: str, edges: np.ndarray) -> str:
    """The bin of a finite value on `edges`, as `bins.bin_counts_sorted` counts it: 0 below e0,
    i for e_{i-1} <= x < e_i, k (= len(edges) - 1) for e_{k-1} <= x <= e_k (the last inner bin is
    closed), k + 1 above e_k. Written as a sum of comparisons: no branch per bin."""
    e = [float(v) for v in edges]
    terms = [f"CAST({x} >= {_lit(v)} AS INT)" for v in e[:-1]]
    terms.append(f"CAST({x} > {_lit(e[-1])} AS INT)")
    return "(" + " + ".join(terms) + ")"


def point_mass_expr(x: str, values: Iterable[float]) -> str:
    """Which of the reference's point-mass values x equals (its index), else NULL."""
    whens = " ".join(f"WHEN {x} = {_lit(v)} THEN {i}" for i, v in enumerate(values))
    return f"CASE {whens} END" if whens else "CAST(NULL AS INT)"


def spark_types(frame: Any) -> dict[str, str]:
    """Column -> Spark SQL type name ("double", "bigint", "string", ...)."""
    return {f.name: f.dataType.simpleString() for f in frame.schema.fields}


def _sql_string(s: str) -> str:
    return "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"


def numeric_aggregates(frame: Any, like: Profile, group: str, columns: list[str]) -> list[tuple]:
    """(group, column, state, bin, point_mass, n, min, max, mean, var_pop, not_whole) rows for the
    numeric `columns` of `frame`, on `like`'s edges: the columns stacked, one aggregation."""
    from pyspark.sql import functions as F

    if not columns:
        return []
    types = spark_types(frame)
    # each value read as a number once (x_i), its state once (s_i); then the stack refers to them
    read = [f"{sql_name(group)} AS g"]
    states = ["g"]
    parts: list[str] = []
    for i, c in enumerate(columns):
        ref = like.columns[c]
        assert isinstance(ref, NumericProfile)
        x, s = f"__x{i}", f"__s{i}"
        read.append(f"{numeric_expr(c, types[c])} AS {x}")
        unparsed = ""
        if types[c] == "string":
            read.append(f"{sql_name(c)} IS NOT NULL AS __nn{i}")
            unparsed = f"WHEN __nn{i} AND {x} IS NULL THEN {UNPARSED} "
        states += [
            x,
            f"CASE {unparsed}WHEN {x} IS NULL OR isnan({x}) THEN {MISSING} WHEN {x} = double('inf') "
            f"THEN {POS_INF} WHEN {x} = double('-inf') THEN {NEG_INF} ELSE {FINITE} END AS {s}",
        ]
        fin = f"{s} = {FINITE}"
        parts += [
            _sql_string(c),
            s,
            f"CASE WHEN {fin} THEN {bin_expr(x, ref.edges)} END",
            f"CASE WHEN {fin} THEN {point_mass_expr(x, ref.point_masses)} END",
            f"CASE WHEN {fin} THEN {x} END",
        ]
    stacked = (
        frame.selectExpr(*read)
        .selectExpr(*states)
        .selectExpr("g", f"stack({len(columns)}, {', '.join(parts)}) AS (col, state, bin, pm, x)")
    )
    agg = stacked.groupBy("g", "col", "state", "bin", "pm").agg(
        F.count(F.lit(1)).alias("n"),
        F.min("x"),
        F.max("x"),
        F.avg("x"),
        F.var_pop("x"),
        F.sum(F.when(F.col("x") != F.floor("x"), 1).otherwise(0)),
    )
    return [tuple(r) for r in agg.collect()]


def categorical_counts(frame: Any, group: str, column: str) -> list[tuple]:
    """(group, value, count) rows of a categorical column (NaN counted as missing: NULL)."""
    types = spark_types(frame)
    c = sql_name(column)
    v = f"CASE WHEN isnan({c}) THEN NULL ELSE {c} END" if types[column] in ("double", "float") else c
    return [
        tuple(r)
        for r in frame.selectExpr(f"{sql_name(group)} AS g", f"{v} AS v").groupBy("g", "v").count().collect()
    ]


# ---------------------------------------------------------------------------------------------
# the driver side: aggregates -> profiles


class _Moments:
    """Count, mean and M2 merged part by part (Chan's formula), min and max."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0
        self.min: float | None = None
        self.max: float | None = None
        self.not_whole = 0

    def add(self, n: int, mn: float, mx: float, mean: float, var_pop: float, not_whole: int) -> None:
        total = self.n + n
        delta = mean - self.mean
        self.m2 += var_pop * n + delta * delta * self.n * n / total
        self.mean += delta * n / total
        self.n = total
        self.min = mn if self.min is None else min(self.min, mn)
        self.max = mx if self.max is None else max(self.max, mx)
        self.not_whole += int(not_whole or 0)


def numeric_profile(name: str, ref: NumericProfile, dtype: str, parts: list[tuple]) -> NumericProfile:
    """The NumericProfile of one column of one group from its aggregate rows
    (state, bin, point_mass, n, min, max, mean, var_pop, not_whole)."""
    counts = np.zeros(len(ref.edges) + 1, dtype=np.int64)
    by_state = [0, 0, 0, 0, 0]
    pm_values = list(ref.point_masses)
    pm: dict[float, int] = {}
    mom = _Moments()
    for state, b, pm_i, n, mn, mx, mean, var_pop, not_whole in sorted(parts, key=_part_order):
        by_state[int(state)] += int(n)
        if int(state) != FINITE:
            continue
        counts[int(b)] += int(n)
        if pm_i is not None:
            v = pm_values[int(pm_i)]
            pm[v] = pm.get(v, 0) + int(n)
        mom.add(int(n), float(mn), float(mx), float(mean), float(var_pop), int(not_whole or 0))
    out = NumericProfile(
        name=name,
        dtype=dtype,
        edges=np.asarray(ref.edges, np.float64).copy(),
        counts=counts,
        n=mom.n,
        missing=by_state[MISSING],
        pos_inf=by_state[POS_INF],
        neg_inf=by_state[NEG_INF],
        unparsed=by_state[UNPARSED],
        min=mom.min,
        max=mom.max,
        mean=mom.mean if mom.n else 0.0,
        m2=mom.m2 if mom.n else 0.0,
        integer=bool(mom.n) and mom.not_whole == 0,
        quantiles={},
        quantiles_exact=False,
        point_masses={v: c for v, c in pm.items() if c >= POINT_MASS_SHARE * mom.n},
    )
    if mom.n:
        for q in QUANTILE_PROBS:
            value = hist_quantile(out, q)
            if value is not None:
                out.quantiles[q] = value
        out.quantiles[0.0], out.quantiles[1.0] = float(mom.min or 0.0), float(mom.max or 0.0)
    return out


def _part_order(part: tuple) -> tuple:
    """A fixed order for adding parts up (Spark returns groups in any order)."""
    return tuple(-1 if v is None else v for v in part[:3])


def categorical_profile(
    name: str, ref: CategoricalProfile, dtype: str, values: list[tuple], top: int = DEFAULT_TOP_CATEGORIES
) -> CategoricalProfile:
    """The CategoricalProfile of one column of one group from its (value, count) rows, as
    `profile_categorical(..., keep=ref.counts)` keeps them: the top `top` by count (ties by
    value) and every category of the reference; the rest as "other"."""
    missing = sum(int(n) for v, n in values if v is None)
    present = sorted(
        ((scalar(v), int(n)) for v, n in values if v is not None), key=lambda kv: (-kv[1], str(kv[0]))
    )
    keep = set(ref.counts)
    counts: dict[Any, int] = {}
    other = 0
    for i, (k, n) in enumerate(present):
        if i < top or k in keep:
            counts[k] = counts.get(k, 0) + n
        else:
            other += n
    return CategoricalProfile(
        name=name, dtype=dtype, counts=counts, other=other, missing=missing, n_unique=len(present)
    )


def profile_groups(
    frame: Any,
    like: Profile,
    group: str,
    columns: Iterable[str] | None = None,
    dtypes: Mapping[str, str] | None = None,
) -> dict[Any, Profile]:
    """group value -> Profile of that group's rows on `like`'s bins and categories.

    frame: a Spark DataFrame with the `group` column. columns: which of `like`'s columns to
    profile (default: those the frame has). dtypes: column -> the pandas dtype name the
    single-machine path would record (default: derived from the Spark type)."""
    have = set(frame.columns)
    cols = [c for c in (columns if columns is not None else like.columns) if c in have and c in like.columns]
    types = spark_types(frame)
    dt = {c: (dtypes or {}).get(c) or pandas_dtype(types[c]) for c in cols}
    num = [c for c in cols if isinstance(like.columns[c], NumericProfile)]
    cat = [c for c in cols if isinstance(like.columns[c], CategoricalProfile)]
    parts: dict[Any, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for g, col, *rest in numeric_aggregates(frame, like, group, num):
        parts[g][col].append(tuple(rest))
    values: dict[Any, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for c in cat:
        for g, v, n in categorical_counts(frame, group, c):
            values[g][c].append((v, n))
    rows: dict[Any, int] = defaultdict(int)
    if num:  # every row is stacked once per numeric column: the first one's counts are the rows
        for g, col_parts in parts.items():
            rows[g] = sum(int(part[3]) for part in col_parts[num[0]])
    else:
        rows.update(group_sizes(frame, group))
    out: dict[Any, Profile] = {}
    for g, n_rows in rows.items():
        profs: dict[str, ColumnProfile] = {}
        for c in cols:
            ref = like.columns[c]
            if isinstance(ref, NumericProfile):
                profs[c] = numeric_profile(c, ref, dt[c], parts[g][c])
            else:
                profs[c] = categorical_profile(c, ref, dt[c], values[g][c])
        out[g] = Profile(columns=profs, rows=n_rows)
    return out


def group_sizes(frame: Any, group: str) -> dict[Any, int]:
    """group value -> rows."""
    return {r[0]: int(r[1]) for r in frame.groupBy(sql_name(group)).count().collect()}


_PANDAS_DTYPES = {
    "double": "float64",
    "float": "float32",
    "bigint": "int64",
    "int": "int32",
    "smallint": "int16",
    "tinyint": "int8",
    "boolean": "bool",
    "string": "str",
}


def pandas_dtype(spark_type: str) -> str:
    """The dtype pandas gives a Parquet column of this Spark type (what a profile records)."""
    return _PANDAS_DTYPES.get(spark_type, "object")
