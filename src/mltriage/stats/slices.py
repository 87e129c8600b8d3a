"""Slice discovery: which subgroups of rows does the model get wrong far more often than the rest?

`find_slices(frame, error, columns)` searches conjunctions of up to `max_order` predicates over
categorical values and quantile-binned numeric ranges (single bins, ranges of adjacent bins and
open-ended `<= x` / `> x`), scores them in the spirit of SliceLine (error excess against size), and
reports only slices whose excess error survives an honest test:

1. the rows are split at random into a discovery half and a confirmation half;
2. the search, the merging of overlapping candidates (Jaccard of rows > 0.5, simplest description
   wins) and the refinement of numeric thresholds all happen on the discovery half (on a random
   sample of it when it is large);
3. the few candidates taken to confirmation are tested on the confirmation half alone (one-sided
   binomial test for 0/1 errors, Welch's t test otherwise), with Holm's correction over all of them;
4. the confirmed slices are described with statistics computed on all rows.

Speed: every column is encoded once into small integer codes (uint8); level-1 and level-2
statistics come from `np.bincount` over combined codes (one pass per column for all its pairs) and
tiny matrix products that sum bins into ranges; level 3 extends only the best level-2 slices. No
Python loop runs over rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .metrics import holm

__all__ = ["Slice", "find_slices", "slice_mask", "standardized_differences"]

KMAX = 32  # codes per column fit in 5 bits (uint8 storage)
MAX_CAT_LEVELS = KMAX - 2  # most frequent categories kept; the rest share an "other" code


# --------------------------------------------------------------------------- result


@dataclass
class Slice:
    """One confirmed underperforming slice. Statistics are over all rows of `frame`."""

    predicates: list[dict]
    size: int
    support: float
    error: float
    rest_error: float
    ci: tuple[float, float]
    lift: float
    share_of_errors: float
    p_value: float
    mask: np.ndarray = field(repr=False)
    score: float = 0.0
    overall_error: float = 0.0
    confirm_size: int = 0
    confirm_error: float = 0.0
    confirm_rest_error: float = 0.0

    @property
    def columns(self) -> list[str]:
        out: list[str] = []
        for p in self.predicates:
            if p["column"] not in out:
                out.append(p["column"])
        return out

    @property
    def order(self) -> int:
        return len(self.predicates)

    def describe(self) -> str:
        return describe_predicates(self.predicates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slice": [dict(p) for p in self.predicates],
            "size": int(self.size),
            "support": float(self.support),
            "error": float(self.error),
            "rest_error": float(self.rest_error),
            "overall_error": float(self.overall_error),
            "ci": [float(self.ci[0]), float(self.ci[1])],
            "lift": float(self.lift),
            "share_of_errors": float(self.share_of_errors),
            "p_value": float(self.p_value),
            "score": float(self.score),
        }


def _fmt_value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    return str(v)


def describe_predicates(predicates: list[dict]) -> str:
    parts = []
    for p in predicates:
        if p["op"] == "between":
            lo, hi = p["value"]
            parts.append(f"{_fmt_value(lo)} <= {p['column']} <= {_fmt_value(hi)}")
        else:
            parts.append(f"{p['column']} {p['op']} {_fmt_value(p['value'])}")
    return " and ".join(parts) if parts else "all rows"


# --------------------------------------------------------------------------- encoding


def _py(v: Any) -> Any:
    """numpy scalar -> plain Python (JSON-friendly)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return v  # keep floats as floats; callers decide
    return v


class _Col:
    """One column encoded to small codes, with its level-1 items (predicates over codes)."""

    def __init__(self, name: str, kind: str):
        self.name = name
        self.kind = kind  # "num" | "cat"
        self.K = 0  # number of codes in use
        self.items: list[tuple] = []  # ("range", lo, hi) | ("na",) | ("eq", code) | ("ne", code)
        self.R: np.ndarray | None = None  # membership matrix items x K (float64)
        # numeric
        self.series: pd.Series | None = None
        self._values: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        self.is_int = False
        # categorical
        self.codes: np.ndarray | None = None  # full-length uint8 codes
        self.labels: list[Any] = []
        self.missing_code: int | None = None
        self.other_code: int | None = None

    # numeric raw values, converted lazily (only for the few columns that reported slices use)
    def values(self) -> np.ndarray:
        if self._values is None:
            s = self.series
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            if not v.flags.writeable:
                v = v.copy()
            v[~np.isfinite(v)] = np.nan
            self._values = v
        return self._values

    def item_mask(self, item: tuple, rows: np.ndarray | None = None) -> np.ndarray:
        """Rows (all, or the index array `rows`) that the item selects."""
        kind = item[0]
        if self.kind == "num":
            v = self.values() if rows is None else self.values()[rows]
            if kind == "na":
                return np.isnan(v)
            lo, hi = item[1], item[2]
            with np.errstate(invalid="ignore"):
                if lo == -np.inf:
                    return v <= hi
                if hi == np.inf:
                    return v > lo
                return (v > lo) & (v <= hi)
        c = self.codes if rows is None else self.codes[rows]
        if kind == "eq":
            return c == item[1]
        if kind == "na":
            return c == self.missing_code
        if kind == "ne":
            m = c != item[1]
            if self.missing_code is not None:
                m &= c != self.missing_code
            return m
        raise ValueError(item)

    def predicate(self, item: tuple, values: np.ndarray | None = None) -> dict:
        """The JSON predicate of an item (numeric ranges read the data for exact bounds)."""
        kind = item[0]
        if kind == "na":
            return {"column": self.name, "op": "==", "value": None}
        if self.kind == "cat":
            op = "==" if kind == "eq" else "!="
            return {"column": self.name, "op": op, "value": self.labels[item[1]]}
        lo, hi = item[1], item[2]
        v = self.values() if values is None else values
        with np.errstate(invalid="ignore"):
            sel = v[(v > lo) & (v <= hi)]
        conv = (lambda x: int(round(x))) if self.is_int else (lambda x: float(x))
        if sel.size and sel.min() == sel.max():
            return {"column": self.name, "op": "==", "value": conv(sel.min())}
        if lo == -np.inf:
            return {"column": self.name, "op": "<=", "value": conv(_nice(hi, v, "le"))}
        if hi == np.inf:
            return {"column": self.name, "op": ">", "value": conv(_nice(lo, v, "gt"))}
        low = sel.min() if sel.size else lo
        return {"column": self.name, "op": "between", "value": [conv(low), conv(_nice(hi, v, "le"))]}


def _nice(t: float, v: np.ndarray, how: str) -> float:
    """A short number that selects exactly the same rows as threshold t (fewest digits)."""
    if not np.isfinite(t) or float(t).is_integer():
        return t
    with np.errstate(invalid="ignore"):
        target = int(np.count_nonzero(v <= t))
        for digits in range(1, 9):
            r = float(f"{t:.{digits}g}")
            if int(np.count_nonzero(v <= r)) == target:
                return r
    return t


def _is_categorical(s: pd.Series, name: str, categorical: set[str]) -> bool:
    if name in categorical:
        return True
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return True
    if pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_datetime64_any_dtype(dt):
        return False
    return True


def _encode_numeric(col: _Col, s: pd.Series, sample_rows: np.ndarray, n_bins: int) -> np.ndarray | None:
    """Codes of the sample rows; sets edges/items. None when the column cannot split rows."""
    col.series = s
    col.is_int = pd.api.types.is_integer_dtype(s.dtype)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return None
    v = pd.to_numeric(s.iloc[sample_rows], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    v = np.where(np.isfinite(v), v, np.nan)
    nan = np.isnan(v)
    ok = v[~nan]
    if ok.size == 0:
        return None
    uniq = np.unique(ok)
    if uniq.size <= n_bins:
        edges = uniq[:-1]
    else:
        q = np.quantile(ok, np.linspace(0, 1, n_bins + 1)[1:-1], method="inverted_cdf")
        edges = np.unique(q)
        edges = edges[edges < uniq[-1]]
    nb = edges.size + 1
    if nb < 2 and not nan.any():
        return None
    codes = np.searchsorted(edges, ok, side="left").astype(np.uint8)
    out = np.empty(v.size, dtype=np.uint8)
    out[~nan] = codes
    col.edges = edges
    col.K = nb
    if nan.any():
        col.missing_code = nb
        out[nan] = nb
        col.K = nb + 1
    lo_b = np.concatenate([[-np.inf], edges])
    hi_b = np.concatenate([edges, [np.inf]])
    items, rows = [], []
    for i in range(nb):
        for j in range(i, nb):
            if i == 0 and j == nb - 1:
                continue
            items.append(("range", float(lo_b[i]), float(hi_b[j])))
            r = np.zeros(col.K)
            r[i : j + 1] = 1
            rows.append(r)
    if col.missing_code is not None:
        items.append(("na",))
        r = np.zeros(col.K)
        r[col.missing_code] = 1
        rows.append(r)
    if not items:
        return None
    col.items, col.R = items, np.array(rows)
    return out


def _encode_categorical(col: _Col, s: pd.Series) -> bool:
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    n_levels = len(uniques)
    if n_levels == 0:
        return False
    counts = np.bincount(codes[codes >= 0], minlength=n_levels)
    order = np.argsort(-counts, kind="stable")
    keep = order[:MAX_CAT_LEVELS]
    lut = np.empty(n_levels + 1, dtype=np.uint8)  # index n_levels <- NA sentinel (-1)
    nxt = len(keep)
    other = n_levels > len(keep)
    lut[:n_levels] = nxt  # everything -> other ...
    lut[keep] = np.arange(len(keep), dtype=np.uint8)  # ... unless kept
    has_na = bool((codes < 0).any())
    K = len(keep) + (1 if other else 0)
    col.other_code = len(keep) if other else None
    if has_na:
        col.missing_code = K
        K += 1
    lut[n_levels] = col.missing_code if has_na else 0
    col.codes = lut[codes]  # codes == -1 -> lut[-1] == lut[n_levels]
    col.K = K
    col.labels = [_py(uniques[i]) for i in keep]
    n_used = len(keep) + (1 if other else 0)
    if n_used + (1 if has_na else 0) < 2:
        return False
    items, rows = [], []
    for c in range(len(keep)):
        items.append(("eq", c))
        r = np.zeros(K)
        r[c] = 1
        rows.append(r)
    if n_used > 2:
        for c in range(len(keep)):
            items.append(("ne", c))
            r = np.ones(K)
            r[c] = 0
            if has_na:
                r[col.missing_code] = 0
            rows.append(r)
    if has_na:
        items.append(("na",))
        r = np.zeros(K)
        r[col.missing_code] = 1
        rows.append(r)
    col.items, col.R = items, np.array(rows)
    return True


# --------------------------------------------------------------------------- scoring & tests


def _sl_score(se, ss, ebar: float, n: int, w: float):
    """SliceLine score: w * (slice error / average error - 1) - (1 - w) * (n / size - 1)."""
    se = np.asarray(se, dtype=np.float64)
    ss = np.asarray(ss, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = w * ((se / ss) / ebar - 1.0) - (1.0 - w) * (n / ss - 1.0)
    return np.where(ss > 0, sc, -np.inf)


def _one_sided_p(e_in: np.ndarray, e_out: np.ndarray, binary: bool) -> float:
    from scipy import stats

    n1, n0 = e_in.size, e_out.size
    if n1 < 2 or n0 < 2:
        return 1.0
    if binary:
        k = int(round(e_in.sum()))
        p0 = float(e_out.mean())
        if p0 <= 0.0:
            return 0.0 if k > 0 else 1.0
        if p0 >= 1.0:
            return 1.0
        return float(stats.binom.sf(k - 1, n1, p0))
    m1, m0 = float(e_in.mean()), float(e_out.mean())
    v1, v0 = float(e_in.var(ddof=1)) / n1, float(e_out.var(ddof=1)) / n0
    se = math.sqrt(v1 + v0)
    if se == 0.0:
        return 0.0 if m1 > m0 else 1.0
    t = (m1 - m0) / se
    df = (v1 + v0) ** 2 / ((v1**2) / (n1 - 1) + (v0**2) / (n0 - 1)) if (v1 + v0) > 0 else n1 + n0 - 2
    return float(stats.t.sf(t, df))


def _mean_ci(e: np.ndarray, binary: bool) -> tuple[float, float]:
    n = e.size
    if n == 0:
        return (float("nan"), float("nan"))
    if binary:
        k = float(e.sum())
        z = 1.959964
        p = k / n
        den = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
        return (max(0.0, mid - half), min(1.0, mid + half))
    m = float(e.mean())
    if n < 2:
        return (m, m)
    from scipy import stats

    h = float(stats.t.ppf(0.975, n - 1)) * float(e.std(ddof=1)) / math.sqrt(n)
    return (m - h, m + h)


# --------------------------------------------------------------------------- search


@dataclass
class _Cand:
    preds: list[tuple[int, tuple]]  # (column index, item)
    score: float = -np.inf
    size: int = 0
    err: float = 0.0
    mask: np.ndarray | None = None  # over the search sample
    by_mass: bool = False  # found and refined by excess error mass

    @property
    def order(self) -> int:
        return len(self.preds)


def _mass_score(se, ss, ebar: float, n: int, lift: float = 1.5):
    """Excess error mass: the error the slice holds above `lift` times the average rate, as a share
    of the total error (favours broad slices that hold much of the excess; `_sl_score` favours
    small extreme ones)."""
    se = np.asarray(se, dtype=np.float64)
    ss = np.asarray(ss, dtype=np.float64)
    return (se - lift * ebar * ss) / (ebar * n)


def _penalised(score: float, order: int, simplicity: float) -> float:
    """Score used to rank slices of different length: a longer description must earn its keep."""
    if score <= 0:
        return score * (1.0 + simplicity * (order - 1))
    return score / (1.0 + simplicity * (order - 1))


def find_slices(
    frame: pd.DataFrame,
    error: np.ndarray,
    columns: list[str] | None = None,
    *,
    categorical: set[str] | None = None,
    max_order: int = 3,
    n_bins: int = 8,
    min_support: float | int = 0.01,
    top_k: int = 10,
    alpha: float = 0.05,
    seed: int = 0,
    sl_alpha: float = 0.98,
    simplicity: float = 0.15,
    search_rows: int = 100_000,
    n_confirm: int | None = None,
    max_pair_columns: int = 16,
    level3_parents: int = 30,
    min_rows: int = 10,
    min_lift: float = 1.25,
) -> list[Slice]:
    """Slices of `frame` whose mean `error` is significantly worse than the rest's.

    error: per-row float >= 0 (0/1 misclassification, absolute error, NDCG shortfall, ...).
    min_support: share of rows (< 1) or a row count (>= 1); a slice must hold at least that many.
    alpha: family-wise error rate of the confirmation tests (Holm over every candidate tested).
    sl_alpha: SliceLine's weight of error against size in the score (SliceLine itself uses 0.95).
    simplicity: a slice with one more predicate must score (1 + simplicity) times higher.
    min_lift: effect-size gate; on the confirmation half the slice's mean error must be at least
        min_lift times the half's overall mean error (besides being significantly above the rest).
    Returns at most top_k slices, best first; [] when nothing survives the confirmation.
    """
    error = np.asarray(error, dtype=np.float64).ravel()
    n_all = len(frame)
    if error.size != n_all:
        raise ValueError(f"error has {error.size} values for {n_all} rows")
    columns = [c for c in (columns if columns is not None else list(frame.columns)) if c in frame.columns]
    valid = np.isfinite(error)
    if not valid.all():
        idx = np.flatnonzero(valid)
        sub = find_slices(
            frame.iloc[idx].reset_index(drop=True),
            error[idx],
            columns,
            categorical=categorical,
            max_order=max_order,
            n_bins=n_bins,
            min_support=min_support if min_support >= 1 else min_support,
            top_k=top_k,
            alpha=alpha,
            seed=seed,
            sl_alpha=sl_alpha,
            simplicity=simplicity,
            search_rows=search_rows,
            n_confirm=n_confirm,
            max_pair_columns=max_pair_columns,
            level3_parents=level3_parents,
            min_rows=min_rows,
            min_lift=min_lift,
        )
        for s in sub:
            full = np.zeros(n_all, dtype=bool)
            full[idx] = s.mask
            s.mask = full
        return sub
    n = n_all
    if n < 4 * min_rows or not columns:
        return []
    if (error < 0).any():
        raise ValueError("error must be >= 0")
    ebar_all = float(error.mean())
    if ebar_all <= 0:
        return []
    binary = bool(np.isin(error, (0.0, 1.0)).all())
    categorical = set(categorical or ())
    min_count = int(math.ceil(min_support * n)) if min_support < 1 else int(min_support)
    min_count = max(min_count, min_rows)
    n_confirm = n_confirm or max(2 * top_k, 10)

    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    half = n // 2
    disc, conf = np.sort(perm[:half]), np.sort(perm[half:])
    S = disc if disc.size <= search_rows else np.sort(rng.choice(disc, search_rows, replace=False))
    nS = S.size
    eS = error[S]
    ebar = float(eS.mean())
    if ebar <= 0:
        return []
    min_S = max(int(math.ceil(min_count * nS / n)), max(3, min_rows // 2))

    # ---- encode
    cols: list[_Col] = []
    code_list: list[np.ndarray] = []
    for name in columns:
        s = frame[name]
        if _is_categorical(s, name, categorical):
            c = _Col(name, "cat")
            if not _encode_categorical(c, s):
                continue
            code_list.append(c.codes[S])
        else:
            c = _Col(name, "num")
            codes = _encode_numeric(c, s, S, n_bins)
            if codes is None:
                continue
            code_list.append(codes)
        cols.append(c)
    p = len(cols)
    if p == 0:
        return []
    CS = np.empty((nS, p), dtype=np.uint8, order="F")
    for j, cs in enumerate(code_list):
        CS[:, j] = cs
    del code_list
    err_rows = np.flatnonzero(eS > 0)
    e_err = eS[err_rows]

    cands: list[_Cand] = []
    var_e = float(eS.var())

    # ---- level 1
    col_priority = np.full(p, -np.inf)
    for j, c in enumerate(cols):
        cnt = np.bincount(CS[:, j], minlength=c.K)[: c.K].astype(np.float64)
        ers = np.bincount(CS[err_rows, j], weights=e_err, minlength=c.K)[: c.K]
        ss, se = c.R @ cnt, c.R @ ers
        sc = _sl_score(se, ss, ebar, nS, sl_alpha)
        ok = (ss >= min_S) & (ss <= nS - min_S)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (se / ss - (ebar * nS - se) / (nS - ss)) / np.sqrt(var_e * (1 / ss + 1 / (nS - ss)))
        if ok.any():
            col_priority[j] = np.nanmax(np.where(ok, z, -np.inf))
        for i in np.flatnonzero(ok & (sc > -np.inf) & (se > ebar * ss)):
            cands.append(_Cand([(j, c.items[i])], float(sc[i]), int(ss[i]), float(se[i])))

    # ---- level 2
    pair_best: list[tuple[float, int, int, int, int]] = []
    if max_order >= 2 and p >= 2:
        order_cols = np.argsort(-col_priority, kind="stable")
        A = list(order_cols) if p <= max_pair_columns + 4 else list(order_cols[:max_pair_columns])
        Aset = set(int(a) for a in A)
        lev2_sc, lev2_ref, lev2_mass = [], [], []
        for a in A:
            a = int(a)
            bs = [b for b in range(p) if b != a and (b not in Aset or b > a)]
            if not bs:
                continue
            m = len(bs)
            idx = CS[:, bs].astype(np.int32)
            idx += (CS[:, a].astype(np.int32) * KMAX)[:, None]
            idx += (np.arange(m, dtype=np.int32) * (KMAX * KMAX))[None, :]
            cnt_all = np.bincount(idx.ravel(), minlength=m * KMAX * KMAX).astype(np.float64)
            ie = idx[err_rows]
            if binary:
                err_all = np.bincount(ie.ravel(), minlength=m * KMAX * KMAX).astype(np.float64)
            else:
                err_all = np.bincount(ie.ravel(), weights=np.repeat(e_err, m), minlength=m * KMAX * KMAX)
            del idx, ie
            ca = cols[a]
            for t, b in enumerate(bs):
                cb = cols[b]
                H = cnt_all[t * KMAX * KMAX : (t + 1) * KMAX * KMAX].reshape(KMAX, KMAX)[: ca.K, : cb.K]
                E = err_all[t * KMAX * KMAX : (t + 1) * KMAX * KMAX].reshape(KMAX, KMAX)[: ca.K, : cb.K]
                ss = ca.R @ H @ cb.R.T
                se = ca.R @ E @ cb.R.T
                sc = _sl_score(se, ss, ebar, nS, sl_alpha)
                sc = np.where((ss >= min_S) & (se > ebar * ss), sc, -np.inf)
                flat = sc.ravel()
                k = min(40, flat.size)
                top = np.argpartition(-flat, k - 1)[:k] if flat.size > k else np.arange(flat.size)
                top = top[np.isfinite(flat[top])]
                # plus the slices that hold the most excess error (broad slices that the
                # SliceLine score, which favours small extreme ones, would crowd out)
                mass = np.where(np.isfinite(sc), (se - ebar * ss).ravel().reshape(sc.shape), -np.inf).ravel()
                km = min(8, mass.size)
                topm = np.argpartition(-mass, km - 1)[:km] if mass.size > km else np.arange(mass.size)
                topm = topm[np.isfinite(mass[topm])]
                for f in np.unique(np.concatenate([top, topm])):
                    ia, ib = divmod(int(f), sc.shape[1])
                    lev2_sc.append(float(flat[f]))
                    lev2_ref.append((a, ia, b, ib, int(ss[ia, ib]), float(se[ia, ib])))
                    lev2_mass.append(float(mass[f]))
        if lev2_sc:
            arr = np.asarray(lev2_sc)
            keep = np.argsort(-arr)[:600]
            keep = np.unique(np.concatenate([keep, np.argsort(-np.asarray(lev2_mass))[:60]]))
            for f in keep:
                a, ia, b, ib, sz, er = lev2_ref[f]
                cands.append(_Cand([(a, cols[a].items[ia]), (b, cols[b].items[ib])], float(arr[f]), sz, er))

    # ---- level 3: extend the best level-2 slices by one more predicate
    if max_order >= 3 and p >= 3:
        lev2 = sorted((c for c in cands if c.order == 2), key=lambda c: -c.score)
        seen_pairs: set = set()
        n_par = 0
        for par in lev2:
            key = tuple(sorted((j, it) for j, it in par.preds))
            if key in seen_pairs:
                continue
            seen_pairs.add(key)
            n_par += 1
            if n_par > level3_parents:
                break
            pm = _cand_mask_codes(par, cols, CS)
            rows = np.flatnonzero(pm)
            if rows.size < 2 * min_S:
                continue
            used = {j for j, _ in par.preds}
            others = [c for c in range(p) if c not in used]
            m = len(others)
            sub = CS[rows][:, others].astype(np.int32)
            sub += (np.arange(m, dtype=np.int32) * KMAX)[None, :]
            cnt_all = np.bincount(sub.ravel(), minlength=m * KMAX).astype(np.float64)
            er = eS[rows]
            err_all = np.bincount(sub.ravel(), weights=np.repeat(er, m), minlength=m * KMAX)
            for t, cidx in enumerate(others):
                cc = cols[cidx]
                cnt = cnt_all[t * KMAX : t * KMAX + cc.K]
                ers = err_all[t * KMAX : t * KMAX + cc.K]
                ss, se = cc.R @ cnt, cc.R @ ers
                sc = _sl_score(se, ss, ebar, nS, sl_alpha)
                ok = (ss >= min_S) & (sc > par.score)
                for i in np.flatnonzero(ok):
                    cands.append(
                        _Cand(par.preds + [(cidx, cc.items[i])], float(sc[i]), int(ss[i]), float(se[i]))
                    )

    if not cands:
        return []

    # ---- rank with the simplicity penalty, merge overlapping candidates on the search sample
    cands.sort(key=lambda c: -_penalised(c.score, c.order, simplicity))
    accepted: list[_Cand] = []
    looked = 0
    for c in cands:
        if len(accepted) >= n_confirm or looked > 2000:
            break
        if not c.err > ebar * c.size:
            continue
        looked += 1
        c.mask = _cand_mask_codes(c, cols, CS)
        if any(_jaccard(c.mask, a.mask) > 0.5 for a in accepted):
            continue
        accepted.append(c)

    # a second pass by excess error mass (errors above the average rate the slice holds): the
    # score above favours small, extreme slices; a broad slice that holds most of the excess
    # error must be tested too
    extra = 0
    for c in sorted(
        cands, key=lambda c: -_penalised(_mass_score(c.err, c.size, ebar, nS), c.order, simplicity)
    ):
        if extra >= max(3, n_confirm // 3) or looked > 2500:
            break
        if not c.err > 1.5 * ebar * c.size:
            continue
        looked += 1
        if c.mask is None:
            c.mask = _cand_mask_codes(c, cols, CS)
        if any(_jaccard(c.mask, a.mask) > 0.5 for a in accepted):
            continue
        c.by_mass = True
        accepted.append(c)
        extra += 1

    # ---- refine numeric thresholds and drop predicates that do not earn their keep
    refined: list[_Cand] = []
    for c in accepted:
        c = _refine(c, cols, S, eS, ebar, nS, min_S, sl_alpha, simplicity, by_mass=c.by_mass)
        if c is None or not c.err > ebar * c.size:
            continue
        if any(_jaccard(c.mask, r.mask) > 0.5 for r in refined):
            continue
        refined.append(c)
    if not refined:
        return []

    # ---- confirmation on the other half, Holm over everything tested
    e_conf = error[conf]
    pvals = []
    conf_stats = []
    for c in refined:
        mk = _cand_mask_rows(c, cols, conf)
        e_in, e_out = e_conf[mk], e_conf[~mk]
        pvals.append(_one_sided_p(e_in, e_out, binary))
        conf_stats.append(
            (
                int(mk.sum()),
                float(e_in.mean()) if e_in.size else float("nan"),
                float(e_out.mean()) if e_out.size else float("nan"),
            )
        )
    adj = holm(pvals).tolist()

    total_err = float(error.sum())
    out: list[Slice] = []
    conf_mean = float(e_conf.mean()) if e_conf.size else 0.0
    for c, pa, cs in zip(refined, adj, conf_stats):
        if not pa < alpha:
            continue
        if not cs[1] >= min_lift * conf_mean:
            continue
        mk = _cand_mask_rows(c, cols, None)
        size = int(mk.sum())
        if size < min_count or size >= n:
            continue
        e_in = error[mk]
        e_out = error[~mk]
        err_in = float(e_in.mean())
        err_out = float(e_out.mean())
        if err_in <= err_out:
            continue
        preds = [cols[j].predicate(it) for j, it in c.preds]
        out.append(
            Slice(
                predicates=preds,
                size=size,
                support=size / n,
                error=err_in,
                rest_error=err_out,
                ci=_mean_ci(e_in, binary),
                lift=err_in / ebar_all,
                share_of_errors=float(e_in.sum()) / total_err,
                p_value=float(pa),
                mask=mk,
                score=float(_sl_score(e_in.sum(), size, ebar_all, n, sl_alpha)),
                overall_error=ebar_all,
                confirm_size=cs[0],
                confirm_error=cs[1],
                confirm_rest_error=cs[2],
            )
        )
    out.sort(key=lambda s: -_penalised(s.score, s.order, simplicity))
    return out[:top_k]


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.count_nonzero(a & b)
    if inter == 0:
        return 0.0
    return inter / np.count_nonzero(a | b)


def _item_member(col: _Col, item: tuple) -> np.ndarray:
    """Boolean lookup table over codes for an item that lies on bin boundaries."""
    kind = item[0]
    m = np.zeros(KMAX, dtype=bool)
    if kind == "na":
        m[col.missing_code] = True
    elif kind == "eq":
        m[item[1]] = True
    elif kind == "ne":
        m[: col.K] = True
        m[item[1]] = False
        if col.missing_code is not None:
            m[col.missing_code] = False
    else:  # numeric range on the edges
        lo, hi = item[1], item[2]
        lo_b = np.concatenate([[-np.inf], col.edges])
        hi_b = np.concatenate([col.edges, [np.inf]])
        nb = col.edges.size + 1
        m[:nb] = (lo_b >= lo) & (hi_b <= hi)
    return m


def _cand_mask_codes(c: _Cand, cols: list[_Col], CS: np.ndarray) -> np.ndarray:
    m = None
    for j, it in c.preds:
        mj = _item_member(cols[j], it)[CS[:, j]]
        m = mj if m is None else (m & mj)
    return m


def _cand_mask_rows(c: _Cand, cols: list[_Col], rows: np.ndarray | None) -> np.ndarray:
    m = None
    for j, it in c.preds:
        mj = cols[j].item_mask(it, rows)
        m = mj if m is None else (m & mj)
    return m


def _excess_z(e_in: np.ndarray, e_out: np.ndarray) -> float:
    """Welch z of mean(e_in) - mean(e_out) (inf when e_out is empty)."""
    if e_out.size < 2:
        return np.inf
    if e_in.size < 2:
        return -np.inf
    se = math.sqrt(e_in.var(ddof=1) / e_in.size + e_out.var(ddof=1) / e_out.size)
    d = float(e_in.mean() - e_out.mean())
    if se == 0:
        return np.inf if d > 0 else -np.inf
    return d / se


def _refine(
    c: _Cand,
    cols: list[_Col],
    S: np.ndarray,
    eS: np.ndarray,
    ebar: float,
    nS: int,
    min_S: int,
    w: float,
    simplicity: float,
    z_keep: float = 3.0,
    by_mass: bool = False,
) -> _Cand | None:
    """Move numeric thresholds to the best boundary (finer than the bins) on the search sample,
    then drop predicates whose removal does not lower the penalised score."""
    preds = list(c.preds)
    masks = [cols[j].item_mask(it, S) for j, it in preds]

    def total(ms):
        m = np.ones(nS, dtype=bool)
        for x in ms:
            m &= x
        return m

    for _round in range(2):
        for k, (j, it) in enumerate(preds):
            col = cols[j]
            if col.kind != "num" or it[0] != "range":
                continue
            other = total(masks[:k] + masks[k + 1 :])
            x = col.values()[S][other]
            e = eS[other]
            fin = ~np.isnan(x)
            x, e = x[fin], e[fin]
            if x.size < min_S:
                continue
            order = np.argsort(x, kind="stable")
            xs, es = x[order], e[order]
            ce = np.concatenate([[0.0], np.cumsum(es)])
            grid = np.unique(np.quantile(xs, np.linspace(0, 1, 65), method="inverted_cdf"))
            lo, hi = it[1], it[2]
            for side in ("lo", "hi"):
                if side == "lo":
                    cand_t = np.unique(np.concatenate([[-np.inf, lo], grid[:-1]]))
                    cand_t = cand_t[cand_t < hi]
                    a = np.searchsorted(xs, cand_t, side="right")
                    b = np.full_like(a, np.searchsorted(xs, hi, side="right"))
                else:
                    cand_t = np.unique(np.concatenate([[np.inf, hi], grid[:-1]]))
                    cand_t = cand_t[cand_t > lo]
                    b = np.searchsorted(xs, cand_t, side="right")
                    a = np.full_like(b, np.searchsorted(xs, lo, side="right"))
                ss = (b - a).astype(np.float64)
                se = ce[b] - ce[a]
                sc = _mass_score(se, ss, ebar, nS) if by_mass else _sl_score(se, ss, ebar, nS, w)
                sc = np.where(ss >= min_S, sc, -np.inf)
                if not np.isfinite(sc).any():
                    continue
                best = int(np.argmax(sc))
                if side == "lo":
                    lo = float(cand_t[best])
                else:
                    hi = float(cand_t[best])
            it_new = ("range", lo, hi)
            preds[k] = (j, it_new)
            masks[k] = col.item_mask(it_new, S)

    def stats(ms):
        m = total(ms)
        ss = int(m.sum())
        se = float(eS[m].sum())
        f = _mass_score if by_mass else (lambda a, b, c, d: _sl_score(a, b, c, d, w))
        sc = float(f(se, ss, ebar, nS)) if ss >= min_S else -np.inf
        return m, ss, se, sc

    # predicates that became trivial (-inf, inf) vanish
    keep = [
        k
        for k, (j, it) in enumerate(preds)
        if not (it[0] == "range" and it[1] == -np.inf and it[2] == np.inf)
    ]
    preds = [preds[k] for k in keep]
    masks = [masks[k] for k in keep]
    if not preds:
        return None
    m, ss, se, sc = stats(masks)
    changed = True
    while changed and len(preds) > 1:
        changed = False
        base = _penalised(sc, len(preds), simplicity)
        best = None
        for k in range(len(preds)):
            m2, ss2, se2, sc2 = stats(masks[:k] + masks[k + 1 :])
            pen = _penalised(sc2, len(preds) - 1, simplicity)
            # does predicate k remove rows whose error is clearly lower than the slice's?
            z = _excess_z(eS[m], eS[m2 & ~m])
            weak = z < z_keep or pen >= base
            if weak and (best is None or z < best[0]):
                best = (z, k, m2, ss2, se2, sc2)
        if best is not None:
            _, k, m, ss, se, sc = best
            preds.pop(k)
            masks.pop(k)
            changed = True
    return _Cand(preds, sc, ss, se, m, by_mass)


# --------------------------------------------------------------------------- helpers for reports


def slice_mask(frame: pd.DataFrame, predicates: list[dict]) -> np.ndarray:
    """Rows of `frame` that a conjunction of JSON predicates selects (missing values fail every
    predicate except `== null`)."""
    m = np.ones(len(frame), dtype=bool)
    for p in predicates:
        s = frame[p["column"]]
        op, v = p["op"], p["value"]
        if op == "==" and v is None:
            m &= s.isna().to_numpy()
            continue
        notna = s.notna().to_numpy()
        if op in ("==", "!=", "in"):
            vals = v if op == "in" else [v]
            hit = s.isin(vals).to_numpy(dtype=bool, na_value=False)
            m &= (~hit & notna) if op == "!=" else hit
            continue
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if op == "between":
                m &= (x >= v[0]) & (x <= v[1])
            elif op == "<":
                m &= x < v
            elif op == "<=":
                m &= x <= v
            elif op == ">":
                m &= x > v
            elif op == ">=":
                m &= x >= v
            else:
                raise ValueError(f"unknown op {op!r}")
    return m


def standardized_differences(
    frame: pd.DataFrame,
    mask: np.ndarray,
    columns: list[str],
    *,
    categorical: set[str] | None = None,
    top: int = 5,
) -> list[dict]:
    """Features whose distribution differs most between the rows in `mask` and the rest.

    Numeric: standardised mean difference (Cohen's d with the pooled sd). Categorical: the level
    whose share differs most, as a standardised difference of proportions. Sorted by |d|."""
    categorical = set(categorical or ())
    mask = np.asarray(mask, dtype=bool)
    out = []
    n1, n0 = int(mask.sum()), int((~mask).sum())
    if n1 < 2 or n0 < 2:
        return []
    for c in columns:
        if c not in frame.columns:
            continue
        s = frame[c]
        if _is_categorical(s, c, categorical):
            vc1 = s[mask].value_counts(normalize=True, dropna=False)
            vc0 = s[~mask].value_counts(normalize=True, dropna=False)
            levels = vc1.index.union(vc0.index)
            if len(levels) < 2:
                continue
            p1 = vc1.reindex(levels, fill_value=0.0).to_numpy(float)
            p0 = vc0.reindex(levels, fill_value=0.0).to_numpy(float)
            pbar = (p1 + p0) / 2
            with np.errstate(divide="ignore", invalid="ignore"):
                d = (p1 - p0) / np.sqrt(np.maximum(pbar * (1 - pbar), 1e-12))
            k = int(np.nanargmax(np.abs(d)))
            lev = levels[k]
            out.append(
                {
                    "column": c,
                    "kind": "categorical",
                    "value": _py(lev) if not pd.isna(lev) else None,
                    "share_in_slice": float(p1[k]),
                    "share_in_rest": float(p0[k]),
                    "std_diff": float(d[k]),
                }
            )
        else:
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            a, b = x[mask], x[~mask]
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            if a.size < 2 or b.size < 2:
                continue
            sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
            if sd == 0:
                continue
            d = (a.mean() - b.mean()) / sd
            out.append(
                {
                    "column": c,
                    "kind": "numeric",
                    "mean_in_slice": float(a.mean()),
                    "mean_in_rest": float(b.mean()),
                    "std_diff": float(d),
                }
            )
    out.sort(key=lambda r: -abs(r["std_diff"]))
    return out[:top]
