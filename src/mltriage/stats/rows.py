"""Row identity: one 64-bit hash per row, the single definition every check uses.

Values are hashed, not dtypes: `1` and `1.0`, a category and its text hash alike, and a missing
value hashes the same whatever its sentinel (NaN, None, pd.NA). Two rows get the same hash when
and only when they hold the same values in the hashed columns (up to 64-bit collisions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .metrics import wilson


def row_hashes(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One uint64 hash per row of `df` over `columns` (those present), independent of dtypes."""
    cols = [c for c in columns if c in df.columns]
    if not cols:
        return np.zeros(len(df), dtype=np.uint64)
    part = pd.DataFrame(index=range(len(df)))
    for c in cols:
        s = df[c].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            part[c] = s.astype(float) + 0.0  # -0.0 and 0.0 are the same value
        else:
            part[c] = _as_text(s)
    return pd.util.hash_pandas_object(part, index=False).to_numpy()


# the dtype of `.astype(str)`: pandas' default text dtype (missing values stay missing in it)
_TEXT = pd.Series(["x"], dtype=object).astype(str).dtype


def _as_text(s: pd.Series) -> pd.Series:
    """`s` as the text that row_hashes hashes (a missing value as one text). Dates and durations
    are turned into text once per distinct value and gathered: converting every date to a
    Timestamp and then to text took 52 ms a call on 15,000 rows (public temporal_split's date
    column, 3.6 ms this way); a column already of the text dtype `.astype(str)` gives is that
    text itself (the round trip through objects returns it unchanged, missing values included:
    1.4 ms of 1.8 ms a call on 12,000 rows); other columns are converted row by row (no faster
    this way)."""
    if s.dtype == _TEXT:
        return s
    if s.dtype.kind not in "mM":
        return s.astype(object).where(s.notna(), None).astype(str)
    codes, _ = pd.factorize(s, use_na_sentinel=True)
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    once = s.iloc[first]
    text = once.astype(object).where(once.notna(), None).astype(str)
    return text.iloc[inverse.ravel()].set_axis(s.index)


def scalar(v: object) -> object:
    """A numpy/pandas scalar as a plain Python value (whole floats as int), for keys and JSON."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


# ------------------------------------------------------------------ twins expected by chance


def column_codes(frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> list[np.ndarray]:
    """Per frame, an (n, d) int64 matrix of value codes over `columns`, shared across the frames:
    two cells get the same code when they hold the same value (the identity of `row_hashes`)."""
    cols = [c for c in columns if all(c in f.columns for f in frames)]
    sizes = [len(f) for f in frames]
    out = [np.zeros((n, len(cols)), dtype=np.int64) for n in sizes]
    for j, c in enumerate(cols):
        h = np.concatenate([row_hashes(f[[c]], [c]) for f in frames])
        codes = pd.factorize(h)[0]
        start = 0
        for k, n in enumerate(sizes):
            out[k][:, j] = codes[start : start + n]
            start += n
    return out


def code_hashes(codes: np.ndarray) -> np.ndarray:
    """One hash per row of a `column_codes` matrix: codes are shared across frames, so equal code
    rows are equal rows (the identity of `row_hashes`, at a fraction of its cost)."""
    return pd.util.hash_pandas_object(pd.DataFrame(codes), index=False).to_numpy()


@dataclass
class TwinModel:
    """The chance that a random row equals a given row, learned from unique rows only.

    Columns independent: P(row) = prod_j f_j(value_j), with f_j the value shares among the pool's
    unique rows (so copies cannot inflate them). Real columns depend on each other, which makes
    natural twins likelier than the product says; the factor `dependence` corrects for it with
    what copies cannot create: among the unique rows, the pairs that agree on every column but one
    (near twins), observed vs expected under the product, ratio rho. Each agreeing column is taken
    to multiply the chance by the same factor, so d agreeing columns get rho ** (d / (d - 1)).
    `dependence_high` uses the Poisson 95% upper bound of the near twins observed."""

    log_freq: list[np.ndarray]  # per column, log share of each code among the unique rows
    dependence: float
    dependence_high: float
    near_observed: int
    near_expected: float
    unique_rows: int

    def log_chance(self, codes: np.ndarray) -> np.ndarray:
        """Per row, log P(a random row equals it) with columns independent (no dependence factor)."""
        out = np.zeros(len(codes))
        for j, lf in enumerate(self.log_freq):
            out += lf[codes[:, j]]
        return out

    def expected_with_twin(self, codes: np.ndarray, n_ref: int, high: bool = False) -> float:
        """Expected number of these rows that have at least one chance twin among n_ref rows."""
        dep = self.dependence_high if high else self.dependence
        lam = n_ref * np.exp(self.log_chance(codes)) * dep
        return float(np.sum(-np.expm1(-lam)))


def _multipliers(d: int, seed: int = 12345) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(1, 2**63 - 1, size=d, dtype=np.int64).astype(np.uint64) | np.uint64(1)


def twin_model(unique_codes: np.ndarray, max_rows: int = 20_000, seed: int = 0) -> TwinModel:
    """A TwinModel from the codes of a pool's unique rows (see `TwinModel`)."""
    n, d = unique_codes.shape
    log_freq = []
    for j in range(d):
        cnt = np.bincount(unique_codes[:, j], minlength=int(unique_codes[:, j].max(initial=0)) + 1)
        with np.errstate(divide="ignore"):
            log_freq.append(np.log(np.maximum(cnt, 0.5) / max(n, 1)))
    varying = [j for j in range(d) if len(np.unique(unique_codes[:, j])) > 1]
    sample = unique_codes
    if n > max_rows:
        sample = unique_codes[np.random.default_rng(seed).choice(n, max_rows, replace=False)]
    m = len(sample)
    obs, exp = 0, 0.0
    if len(varying) >= 2 and m >= 2:
        mult = _multipliers(d)
        with np.errstate(over="ignore"):
            parts = sample.astype(np.uint64) * mult[None, :]
            full = parts.sum(axis=1, dtype=np.uint64)
        logp = np.zeros(m)
        lf_cells = np.column_stack([log_freq[j][sample[:, j]] for j in range(d)])
        logp = lf_cells.sum(axis=1)
        for j in varying:
            with np.errstate(over="ignore"):
                rest = full - parts[:, j]
            _, cnt = np.unique(rest, return_counts=True)
            obs += int(np.sum(cnt * (cnt - 1) // 2))
            exp += 0.5 * (m - 1) * float(np.sum(np.exp(logp - lf_cells[:, j]) - np.exp(logp)))
    k = max(len(varying), 2)
    power = k / (k - 1)
    rho = max(1.0, (obs + 0.5) / (exp + 0.5))
    rho_hi = max(1.0, (obs + 1.96 * np.sqrt(obs) + 2.0) / (exp + 0.5))
    return TwinModel(log_freq, float(rho**power), float(rho_hi**power), obs, exp, n)


@dataclass
class CopyFit:
    """Twins explained as chance plus copies: by their density (`fit_copies`), or by the twin pairs
    beyond those the near twins predict (`copies_beyond_chance`)."""

    rows: int
    twins: int
    chance_expected: float  # twins that chance explains (the others are copies)
    chance_most: float  # the most twins chance can explain (scale at its bound; copies at their low)
    copy_share: float  # share of rows that are copies
    copy_low: float  # its 95% interval
    copy_high: float
    p_value: float  # one-sided test of no copies
    scale: float  # fitted factor on the chance model; or observed / expected twin pairs


def fit_copies(lam: np.ndarray, twin: np.ndarray, max_scale: float = 4.0) -> CopyFit:
    """Maximum likelihood of P(row has a twin) = 1 - (1 - c) * exp(-s * lam): `lam` is the row's
    expected number of chance twins from a `TwinModel`, s in (0, max_scale] rescales it (chance
    twins follow the density whatever the scale), c is the share of rows that are copies (a copy
    is blind to density: a row that should be unique has a twin). Copies cannot inflate s beyond
    `max_scale`, and on data where every row has the same chance, s and c are told apart by that
    bound alone."""
    from scipy import stats as st

    lam = np.asarray(lam, float)
    twin = np.asarray(twin, bool)
    n, k = len(lam), int(twin.sum())
    ll = np.log(np.clip(lam, 1e-12, None))
    edges = np.linspace(ll.min(), ll.max() + 1e-9, 81) if n else np.zeros(2)
    b = np.clip(np.searchsorted(edges, ll, side="right") - 1, 0, 79)
    nb = np.bincount(b, minlength=80).astype(float)
    kb = np.bincount(b, weights=twin.astype(float), minlength=80)
    lb = np.bincount(b, weights=lam, minlength=80) / np.maximum(nb, 1)
    keep = nb > 0
    nb, kb, lb = nb[keep], kb[keep], lb[keep]
    s_grid = np.concatenate([[0.0], np.geomspace(1e-3, max_scale, 60)])
    c_grid = np.concatenate([np.linspace(0, 0.2, 401), np.linspace(0.2005, 0.999, 800)])
    # log-likelihood per (s, c), summed over bins: the rows without a twin contribute
    # (nb - kb) * (log(1 - c) - s * lb) in closed form; the rows with one need log(1 - stay) only
    # in the bins that hold a twin
    with np.errstate(divide="ignore"):
        log_keep = np.maximum(np.log1p(-c_grid), np.log(1e-300))  # (c,)
    ll_sc = float(np.sum(nb - kb)) * log_keep[None, :] - s_grid[:, None] * float(np.sum((nb - kb) * lb))
    hit = kb > 0
    if hit.any():
        p0 = np.exp(-s_grid[:, None] * lb[None, hit])  # (s, bins): P(no chance twin)
        stay = (1 - c_grid)[None, :, None] * p0[:, None, :]  # (s, c, bins)
        ll_sc = ll_sc + np.log(np.clip(1 - stay, 1e-300, None)) @ kb[hit]
    prof = ll_sc.max(axis=0)  # profile over s, per c
    best_c = int(np.argmax(prof))
    s_best = float(s_grid[int(np.argmax(ll_sc[:, best_c]))])
    lr = max(0.0, 2 * (prof[best_c] - prof[0]))
    pval = 0.5 * float(st.chi2.sf(lr, 1)) if lr > 0 else 1.0
    inside = np.flatnonzero(prof >= prof[best_c] - 1.92)
    return CopyFit(
        rows=n,
        twins=k,
        chance_expected=float(np.sum(nb * (1 - np.exp(-s_best * lb)))),
        chance_most=float(np.sum(nb * (1 - np.exp(-max_scale * lb)))),
        copy_share=float(c_grid[best_c]),
        copy_low=float(c_grid[inside.min()]),
        copy_high=float(c_grid[inside.max()]),
        p_value=pval,
        scale=s_best,
    )


def coarsen(
    frames: Sequence[pd.DataFrame], columns: Sequence[str], bins: int = 50, min_distinct: int = 50
) -> list[pd.DataFrame]:
    """The frames with every numeric column of more than `min_distinct` (and `bins`) distinct values
    (a continuous reading; coarser columns keep their exact values) replaced by its
    bin among `bins` quantile bins of the first frame (NaN kept): near copies (a row re-rounded,
    re-scaled by a hair) become exact copies, and the chance-twin model then judges them as it
    judges coarse data."""
    out = [f[list(columns)].copy() for f in frames]
    ref = frames[0]
    for c in columns:
        s = ref[c]
        if (
            not pd.api.types.is_numeric_dtype(s)
            or pd.api.types.is_bool_dtype(s)
            or s.nunique() <= max(bins, min_distinct)
        ):
            continue
        edges = np.unique(np.nanquantile(s.to_numpy(dtype=float), np.linspace(0, 1, bins + 1)[1:-1]))
        for f in out:
            v = f[c].to_numpy(dtype=float)
            f[c] = np.where(np.isnan(v), np.nan, np.searchsorted(edges, v, side="right").astype(float))
    return out


def identifier_kind(s: pd.Series, min_values: int = 20, min_share: float = 0.0) -> str | None:
    """Whether a column holds identifiers rather than a measured attribute, from its values alone:
    "entity" (integer or text, at least `min_values` distinct values and `min_share` of the rows,
    each value held by 1.5 rows on average: a person, patient, user or device seen several times;
    no share by default, a panel's units being few: 46 states x 30 years),
    "row" (integer or text, every value unique in 200 rows or more: a row number or key), or None.
    Booleans, dates and non-integer numbers are never identifiers."""
    v = s.dropna()
    if v.empty or pd.api.types.is_bool_dtype(v) or pd.api.types.is_datetime64_any_dtype(v):
        return None
    if pd.api.types.is_numeric_dtype(v) and not bool(np.all(np.mod(v.to_numpy(dtype=float), 1) == 0)):
        return None
    nun = int(v.nunique())
    if nun >= max(min_values, min_share * len(s)) and len(v) >= 1.5 * nun:
        return "entity"
    if len(v) >= 200 and nun == len(v):
        return "row"
    return None


def record_columns(
    train: pd.DataFrame,
    test: pd.DataFrame,
    identity: Sequence[str],
    skip: Sequence[str] = (),
    min_values: int = 20,
) -> list[str]:
    """The columns of both files beyond `identity` (and `skip`) that a copy of a row repeats too:
    a copy is the whole record again (a join that fans out, an extract re-pulled, oversampling),
    so a row equal to another in the model's columns but not in these is another record, not a
    copy (another household at the same shelf prices, another date). Left out, since they could
    hide copies: a row key (every value unique in either file: it may be numbered afresh per file
    or per copy), and a column whose evaluation values never occur in training (a file's own
    stamp: the export date) unless it names entities (`identifier_kind`: a split by entity puts
    each entity's rows on one side, so an evaluation row of an unseen entity is no copy)."""
    ident = set(identity) | set(skip)
    out = []
    for c in train.columns:
        if c in ident or c not in test.columns:
            continue
        a, b = train[c], test[c]
        if any(len(s) > 1 and s.nunique(dropna=False) == len(s) for s in (a, b)):
            continue
        shared = np.isin(row_hashes(test, [c]), row_hashes(train, [c])).any()
        if not shared and identifier_kind(a, min_values) != "entity":
            continue
        out.append(c)
    return out


# ------------------------------------------------------ twins expected by chance, from near twins


@dataclass
class ChanceTwins:
    """Twin pairs (rows equal on every column) observed against those expected by chance.

    The chance rate comes from the pairs of rows that differ, which copies cannot create: for two
    columns j and k, among the pairs that agree on every other column, those that agree on j only
    (`N_j`), on k only (`N_k`) and on neither (`D`) give the pairs expected to agree on both when
    agreeing on j and agreeing on k are independent there (odds ratio 1): N_j * N_k / D. Every
    dependence between the other columns (a session's rows sharing their configurations, rounded
    correlated readings) is in the counts themselves; a copy adds a pair that agrees everywhere,
    which none of the three counts holds. The estimates of the column pairs are pooled on the
    log scale, weighted by their inverse variance (Woolf), over the central half of that weight (an
    interquartile mean), so that two columns that
    depend on each other directly (a label computed from one feature) do not drag the estimate
    down; the ratio observed / expected gets its
    interval and one-sided test from a delete-a-block jackknife over rows (pairs are not
    independent: a common row is in many)."""

    observed: float  # twin pairs observed
    expected: float  # twin pairs expected by chance
    expected_high: float  # its 95% upper bound
    ratio: float  # (observed + 0.5) / (expected + 0.5)
    ratio_low: float  # 95% interval of the ratio
    ratio_high: float
    p_value: float  # one-sided: more twin pairs than chance
    near_twins: float  # pairs that differ in exactly one column, what the estimate rests on


def _pair_counts(h: np.ndarray, blk: np.ndarray, g: int, n_a: int | None) -> np.ndarray:
    """Pairs of rows with equal `h` (within the rows, or between the first `n_a` rows and the
    rest), on all rows and with each of `g` blocks of rows deleted: a vector of g + 1 counts."""
    inv = np.unique(h, return_inverse=True)[1].ravel()
    ng = int(inv.max(initial=-1)) + 1
    if n_a is None:
        tot = np.bincount(inv, minlength=ng).astype(float)
        keep = tot[inv] >= 2
        m = np.bincount(inv[keep] * g + blk[keep], minlength=ng * g).reshape(ng, g)[tot >= 2]
        t = tot[tot >= 2][:, None]
        rest = t - m
        return np.concatenate([[float(np.sum(t * (t - 1) / 2))], np.sum(rest * (rest - 1) / 2, axis=0)])
    ia, ib = inv[:n_a], inv[n_a:]
    ca = np.bincount(ia, minlength=ng).astype(float)
    cb = np.bincount(ib, minlength=ng).astype(float)
    both = (ca > 0) & (cb > 0)
    ka, kb = both[ia], both[ib]
    ma = np.bincount(ia[ka] * g + blk[:n_a][ka], minlength=ng * g).reshape(ng, g)[both]
    mb = np.bincount(ib[kb] * g + blk[n_a:][kb], minlength=ng * g).reshape(ng, g)[both]
    xa, xb = ca[both][:, None], cb[both][:, None]
    return np.concatenate([[float(np.sum(xa * xb))], np.sum((xa - ma) * (xb - mb), axis=0)])


def _central_mean(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The weighted mean, per column of `v` (rows: estimates; column 0 all rows, then the jackknife
    replicates), of the estimates in the central half of the weight on all rows (an interquartile
    mean): robust to a few pairs of columns far off, and the same pairs in every replicate."""
    order = np.argsort(v[:, 0])
    cw = np.cumsum(w[order]) / np.sum(w)
    keep = order[(cw >= 0.25) & (cw - w[order] / np.sum(w) <= 0.75)]
    return np.asarray(w[keep] @ v[keep] / np.sum(w[keep]))


def chance_twins(
    a: np.ndarray,
    b: np.ndarray | None = None,
    blocks: int = 20,
    max_column_pairs: int = 120,
    max_rows: int = 60_000,
    seed: int = 0,
) -> ChanceTwins:
    """Twin pairs within the value codes `a` (n, d) (or between `a` and `b`) against chance, as
    `ChanceTwins` explains. Columns that never vary are left out; with more than
    `max_column_pairs` pairs of columns a fixed random sample of them is pooled; above
    `max_rows` rows the ratio is measured on a random sample of them."""
    from scipy import stats as st

    rng = np.random.default_rng(seed)
    x = a if b is None else np.vstack([a, b])
    n_a = None if b is None else len(a)
    g = blocks
    blk = rng.permutation(len(x)) % g
    varying = [j for j in range(x.shape[1]) if len(np.unique(x[:, j])) > 1]
    parts = x.astype(np.uint64) * _multipliers(x.shape[1])[None, :]
    with np.errstate(over="ignore"):
        full = parts.sum(axis=1, dtype=np.uint64)
    observed = float(_pair_counts(full, blk, g, n_a)[0])
    if len(varying) < 2 or not len(x):
        return ChanceTwins(observed, observed, observed, 1.0, 1.0, 1.0, 1.0, 0.0)
    if len(x) > max_rows:  # the ratio on a sample of rows; the counts scaled back to all rows
        pick = np.sort(rng.choice(len(x), max_rows, replace=False))
        if n_a is not None:
            n_a = int(np.sum(pick < n_a))
        parts, full, blk = parts[pick], full[pick], blk[pick]
    pairs = [(j, k) for i, j in enumerate(varying) for k in varying[i + 1 :]]
    if len(pairs) > max_column_pairs:
        pairs = [pairs[i] for i in np.sort(rng.choice(len(pairs), max_column_pairs, replace=False))]

    def count(drop: tuple[int, ...]) -> np.ndarray:
        h = full.copy()
        with np.errstate(over="ignore"):
            for j in drop:
                h -= parts[:, j]
        return _pair_counts(h, blk, g, n_a)

    a0 = count(())
    a1 = {j: count((j,)) for j in sorted({j for p in pairs for j in p})}
    log_t, weights = [], []
    for j, k in pairs:
        nj, nk = a1[j] - a0, a1[k] - a0
        d = count((j, k)) - a1[j] - a1[k] + a0
        if d[0] <= 0:  # no pair differs in both: nothing to read the joint agreement from
            continue
        log_t.append(np.log(nj + 0.5) + np.log(nk + 0.5) - np.log(np.maximum(d, 0) + 0.5))
        weights.append(1.0 / (1 / (nj[0] + 0.5) + 1 / (nk[0] + 0.5) + 1 / (max(d[0], 0) + 0.5)))
    if not log_t:  # no two rows agree on all columns but two: twins are not expected by chance
        log_t, weights = [np.full(g + 1, np.log(0.5))], [1.0]
    lt = _central_mean(np.asarray(log_t), np.asarray(weights))  # (g + 1,): all rows, each deletion
    theta = np.log(a0 + 0.5) - np.log(np.exp(lt) + 0.5)

    def jack_se(v: np.ndarray) -> float:
        r = v[1:]
        return float(np.sqrt((g - 1) / g * np.sum((r - r.mean()) ** 2)))

    se, se_t = jack_se(theta), jack_se(lt)
    ratio = float(np.exp(theta[0]))
    scale = observed / max(a0[0], 1e-12) if a0[0] > 0 else 1.0
    expected = float(np.exp(lt[0])) * scale
    if se > 0:
        p = float(st.norm.sf(theta[0] / se))
    else:
        p = 1.0 if theta[0] <= 0 else 0.0
    return ChanceTwins(
        observed=observed,
        expected=expected,
        expected_high=expected * float(np.exp(1.96 * se_t)),
        ratio=ratio,
        ratio_low=float(np.exp(theta[0] - 1.96 * se)),
        ratio_high=float(np.exp(theta[0] + 1.96 * se)),
        p_value=p,
        near_twins=float(sum(a1[j][0] - a0[0] for j in a1)) * scale,
    )


def copies_beyond_chance(ct: ChanceTwins, twins: int, rows: int, pairs_per_copy: float = 1.0) -> CopyFit:
    """Rows that are copies, from twin pairs against chance (`chance_twins`): a copy adds a pair
    with its original and with every row equal to it, `pairs_per_copy` on average (1 where rows
    are unique by nature; where they repeat by nature, the size of a random row's group of
    twins, `pairs_per_copy_of`), so the excess pairs (observed minus expected, with the
    ratio's interval) over it estimate the copies, at most the `twins` rows that have a twin.
    The twins chance explains are the rest."""
    per = max(float(pairs_per_copy), 1.0)

    def copies(ratio: float) -> float:
        return float(min(twins, max(0.0, ct.observed * (1 - 1 / ratio) / per)))

    c, lo, hi = copies(ct.ratio), copies(ct.ratio_low), copies(ct.ratio_high)
    n = max(rows, 1)
    return CopyFit(
        rows=rows,
        twins=twins,
        chance_expected=twins - c,
        chance_most=twins - lo,
        copy_share=c / n,
        copy_low=lo / n,
        copy_high=hi / n,
        p_value=ct.p_value,
        scale=ct.ratio,
    )


def pairs_per_copy_of(chance_pairs: float, rows: int) -> float:
    """The twin pairs one copy of a random row adds where rows repeat by nature: the size of that
    row's group of equal rows, whose mean over rows is sum m^2 / n = 1 + 2 P / n for P twin pairs
    among n rows; P the pairs chance explains (`ChanceTwins.expected`), which copies do not
    inflate (the observed pairs would make 20% planted copies among unique rows read 15%)."""
    return 1.0 + 2.0 * max(chance_pairs, 0.0) / max(rows, 1)


def same_count_share(h_a: np.ndarray, h_b: np.ndarray, reps: int = 20, seed: int = 0) -> tuple[float, float]:
    """Share of the rows of `h_b` (row hashes) whose hash occurs exactly as often in `h_a`, and
    that share's mean over `reps` random re-splits of the pooled rows into parts of the same
    sizes (the chance rate: rows that repeat by nature land on both sides in random numbers).
    A file evaluated on itself has every count equal (share 1) however often rows repeat."""
    n_a = len(h_a)
    if not n_a or not len(h_b):
        return 0.0, 0.0
    _, inv = np.unique(np.concatenate([h_a, h_b]), return_inverse=True)
    k = int(inv.max()) + 1

    def share(order: np.ndarray) -> float:
        a, b = order[:n_a], order[n_a:]
        ca, cb = np.bincount(a, minlength=k), np.bincount(b, minlength=k)
        return float(np.mean((ca == cb)[b]))

    rng = np.random.default_rng(seed)
    null = [share(rng.permutation(inv)) for _ in range(reps)]
    return share(inv), float(np.mean(null))


def copy_evidence(f: CopyFit) -> dict[str, Any]:
    """The observed twins against chance, for a finding's evidence."""
    lo, hi = wilson(f.twins, f.rows)
    return {
        "rows": f.rows,
        "rows_with_twin": f.twins,
        "share_with_twin": f.twins / f.rows if f.rows else 0.0,
        "share_with_twin_ci": [lo, hi],
        "twins_expected_by_chance": f.chance_expected,
        "twins_chance_can_explain_at_most": f.chance_most,
        "coarseness": f.chance_most / f.rows if f.rows else 0.0,
        "copy_share": f.copy_share,
        "copy_share_ci": [f.copy_low, f.copy_high],
        "p_value_no_copies": f.p_value,
        "chance_scale": f.scale,
    }


def pair_evidence(ct: ChanceTwins) -> dict[str, Any]:
    """The twin pairs against the chance rate read off the near twins, for a finding's evidence."""
    return {
        "twin_pairs": ct.observed,
        "twin_pairs_expected_by_chance": ct.expected,
        "twin_pairs_expected_at_most": ct.expected_high,
        "twin_pairs_ratio_ci": [ct.ratio_low, ct.ratio_high],
        "near_twin_pairs": ct.near_twins,
    }
