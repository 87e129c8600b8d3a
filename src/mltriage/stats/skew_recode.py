"""Integer codes assigned in another order (an encoder fitted apart), told from a shifted population.

A categorical feature stored as integer codes can reach the model through an encoder fitted apart
from training's: every category keeps its rows but gets another code. Matching the codes'
frequencies alone cannot tell this from a population shift: with k levels and any change in their
shares, some permutation of the codes matches training's shares better than the identity, so "a
permutation lowers the PSI" has no null (a 90-row sample of training's own distribution, or a
population that simply has more of one level, finds one every time).

What a re-encoding leaves and a population shift does not: the codes' *relation to the other
columns* is permuted too. The rows that arrive with code c are the rows training had at code
pi(c): their other columns (and the label, when the set has one) are distributed as training's
at pi(c), not at c. A population shift changes how many rows each code has but keeps what each
code means, so the identity keeps matching the per-code distributions of the other columns.

The test (`recode_test`):

- Each other column is put on training's scale by its empirical CDF (a value becomes the share of
  training values below it: robust to units, outliers and skew); a categorical column becomes
  indicators of its frequent categories. The columns most related to the code in training (the
  largest share of variance between codes, eta squared) are kept: at most `MAX_COLUMNS`.
- For a map pi (batch code -> training code), the misfit D(pi) sums, over batch codes c and kept
  columns j, the squared difference of the per-code means, batch at c against training at pi(c),
  each over its sampling variance (training code pi(c)'s within-code variance, shrunk towards the
  pooled one by `SHRINK` rows, times 1/n_batch(c) + 1/n_train(pi(c))): about a chi-square with
  (codes x columns) degrees of freedom when pi is right.
- The best map pi* minimises D (a linear assignment: exact over all k! permutations). The
  statistic is the gain D(identity) - D(pi*).
- The null (H0: the codes mean what they meant in training; the batch's shares of the codes may
  be anything): the batch's per-code means are drawn around training's per-code means with that
  code's within-code covariance over n_batch(c) rows, training's own means around them over
  n_train(c) rows (a parametric bootstrap of both sets' sampling noise, the search over all maps
  repeated on every draw, `N_SIMS` draws or more). The p-value is the share of draws whose best
  map gains at least as much as observed; the 99th percentile of the identity's misfit under H0
  says how well a right map can fit.

`recode_test` returns the measured numbers; the decision (stats/skew.py `_try_recoded`) asks for
p <= `ALPHA` (0.001), or less when more integer-coded columns are examined in one set: the
family-wise `FAMILY_ALPHA` (1%) shared among them (Bonferroni; each search over all maps is
already inside the null; the draws are raised so that p can get there); an identity that
misfits beyond sampling (D(identity) over the null's 99th percentile of D(identity));
a map that fits the per-code relations as a sample of training would (D(pi*) under that
percentile) and explains most of the identity's misfit (D(pi*) <= `MAX_RATIO` D(identity), the
share skew_max_ratio_after leaves of the drift to the other transformations: the effect; a real
shift of the relations on codes that are near-exchangeable, adjacent pixel intensities of a
digits split by writer, lets a map of neighbours absorb part of it: 239 -> 150, a ratio of 0.63,
p = 0.001 among 64 coded columns; the suite's real re-encodings below leave 0.00-0.17); and shares that match training's under the map as well as sampling allows (PSI
under skew_max_psi_after or the sampling bound `skew.null_psi`; not the fifth of the drift asked
of the other transformations: on a small set the shares keep their noise, the evidence is the
relation). Codes that are ordered numbers (1..5 scores, months) re-ordered by chance is the
likelier story than an encoder fitted apart, so the relation evidence is required for every
integer column: with no other column related to the code (no reference rows, a lone feature, a
code unrelated to everything, as weekday in the suite's flights data), the column's drift stays
data drift. Because the evidence is the relation, an integer-coded column (3 to 30 whole-number
values) is examined even when its shares do not drift: codes of near-equal shares (months)
permuted leave the shares as they were.

Measured (generalisation suite, `benchmarks/variants/out`; the old rule sent each batch code to
the training code of the same frequency rank): label_leakage_weak__flights_rf_300, a 90-row
evaluation set drawn like training's 210 rows, season_month (12 codes): the old rule matched the
shares (PSI 0.25 -> 0.038, critical); the relation test keeps the identity (misfit 71, its null's
99th percentile 136, best-map p = 0.42). estimated_performance_drop_curated__affairs_logreg_all,
a batch selected where the model is unsure, marriage_score (5 scores): the old rule matched the
shares (PSI 0.57 -> 0.037, critical); the selection bends the per-score relations (misfit 280,
null 41); the best map leaves 44 (no fit) and sends the shares elsewhere (PSI 0.57 -> 3.1): no
skew. Real re-encodings (the codes permuted at random): on the clean affairs evaluation set
(1,910 rows) marriage_score is found 10 times of 10 (p = 1/2001: no null draw gained as much;
shares PSI 1.3-3.4 -> 0.004); on the clean flights evaluation set (6,000 rows) season_month (12
near-uniform months, shares PSI 0.005 before and after: no drift) and dep_hour (19 hours) 3 of 3
each; on the 90-row flights evaluation set season_month 3 of 4 (shares PSI 0.15-0.29 -> 0.18,
within the 0.39 that 90 rows allow; the fourth leaves a ratio of 0.39: 186 -> 72). weekday is unrelated to the other flights columns (eta squared under
`MIN_ETA2`): its re-encodings are not found, and nothing is inferred on it. tests/test_skew_recode.py
has the generated and scikit-learn cases (an encoder fitted apart, with and without drift of the
shares, a population with reversed shares, 90-row samples, the null's level on 40 reweighted
samples).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .profile import NumericProfile, Profile

MAX_COLUMNS = 8  # other columns kept (the most related to the code in training)
N_SIMS = 2000  # parametric bootstrap draws of the null
ALPHA = 1e-3  # p-value for the gain of the best map (at most; less when more columns are examined)
FAMILY_ALPHA = 0.01  # ... over all integer-coded columns examined in one set (Bonferroni)
MIN_ETA2 = 0.01  # a column explaining less of its variance by the code carries no evidence
TOP_LEVELS = 5  # indicator columns per categorical column
SHRINK = 10  # rows of the pooled within-code covariance added to each code's own
MAX_RATIO = 0.2  # the best map leaves at most this share of the identity's misfit (skew_max_ratio_after)


@dataclass
class Others:
    """The other columns of both sets for the re-encoding test of one column: training's codes
    and other columns (row-aligned), the batch's other columns (row-aligned with its codes)."""

    ref_codes: np.ndarray
    ref: pd.DataFrame
    cur: pd.DataFrame
    alpha: float = ALPHA  # the p-value the best map's gain must reach (multiple testing inside)
    scaled: Scaled | None = None  # the other columns already on training's scale


@dataclass
class Scaled:
    """Columns of both sets on training's scale (`on_training_scale`), row-aligned with the frames."""

    ref: np.ndarray
    cur: np.ndarray
    names: list[str]
    sources: list[str]  # the frame column each one comes from

    def without(self, col: str) -> Scaled:
        keep = [i for i, src in enumerate(self.sources) if src != col]
        return Scaled(
            self.ref[:, keep],
            self.cur[:, keep],
            [self.names[i] for i in keep],
            [self.sources[i] for i in keep],
        )


def others_for(
    col: str,
    ref_frame: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    alpha: float = ALPHA,
    scaled: Scaled | None = None,
) -> Others | None:
    """`Others` for `col` from the reference rows and the batch, on `columns` (less `col`);
    `scaled`: those columns already on training's scale (computed once for every coded column)."""
    if col not in ref_frame.columns:
        return None
    cols = [c for c in columns if c != col and c in ref_frame.columns and c in current.columns]
    if not cols:
        return None
    codes = _floats(ref_frame[col])
    return Others(
        codes, ref_frame[cols], current[cols], alpha, None if scaled is None else scaled.without(col)
    )


@dataclass
class RecodeTest:
    """The per-code relation to the other columns under the identity and under the best map."""

    mapping: dict[float, float]  # batch code -> training code (the codes that change)
    d_identity: float  # misfit of the per-code means under the identity
    d_mapped: float  # ... under the best map
    p_value: float  # share of null draws whose best map gains as much
    null_gain_q99: float  # the 99th percentile of the gain under H0
    null_d_q99: float  # the 99th percentile of the identity's misfit under H0
    columns: list[str] = field(default_factory=list)  # the other columns used
    n_sims: int = N_SIMS

    @property
    def gain(self) -> float:
        return self.d_identity - self.d_mapped

    def to_dict(self) -> dict[str, object]:
        return {
            "test": "per-code means of the other columns, identity vs best map (parametric bootstrap null)",
            "misfit_identity": round(self.d_identity, 2),
            "misfit_mapped": round(self.d_mapped, 2),
            "p_value": round(self.p_value, 5),
            "null_gain_q99": round(self.null_gain_q99, 2),
            "null_misfit_q99": round(self.null_d_q99, 2),
            "columns": self.columns,
            "n_sims": self.n_sims,
        }

    def accepted(self, alpha: float = ALPHA, max_ratio: float = MAX_RATIO) -> bool:
        return (
            bool(self.mapping)
            and self.p_value <= alpha
            and self.d_identity > self.null_d_q99
            and self.d_mapped <= min(self.null_d_q99, max_ratio * self.d_identity)
        )


def _floats(s: pd.Series) -> np.ndarray:
    """A column as floats (NaN for missing or unparsable, nullable integers included)."""
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


def on_training_scale(ref: pd.DataFrame, cur: pd.DataFrame) -> Scaled:
    """The columns of both frames on training's scale: a numeric column through training's
    empirical CDF (missing -> 0.5), a categorical one as indicators of its frequent categories."""
    rs: list[np.ndarray] = []
    cs: list[np.ndarray] = []
    names: list[str] = []
    sources: list[str] = []
    for col in ref.columns:
        if col not in cur.columns:
            continue
        r, c = ref[col], cur[col]
        if r.dtype.kind in "biuf":
            rn, cn = _floats(r), _floats(c)
            s = np.sort(rn[np.isfinite(rn)])
            if len(s) < 2 or s[0] == s[-1]:
                continue
            for x, out in ((rn, rs), (cn, cs)):
                u = (np.searchsorted(s, x, "left") + np.searchsorted(s, x, "right")) / (2.0 * len(s))
                out.append(np.where(np.isfinite(x), u, 0.5))
            names.append(str(col))
            sources.append(str(col))
            continue
        ra, ca = r.astype(str).to_numpy(), c.astype(str).to_numpy()
        vc = pd.Series(ra).value_counts(normalize=True)
        for lev in vc.index[:TOP_LEVELS]:
            if 0.05 <= vc[lev] <= 0.95:
                rs.append((ra == lev).astype(float))
                cs.append((ca == lev).astype(float))
                names.append(f"{col}={lev}")
                sources.append(str(col))
    if not names:
        return Scaled(np.empty((len(ref), 0)), np.empty((len(cur), 0)), [], [])
    return Scaled(np.column_stack(rs), np.column_stack(cs), names, sources)


def _means(idx: np.ndarray, X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n = np.bincount(idx, minlength=k).astype(float)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, idx, X)
    return n, sums / np.maximum(n, 1)[:, None]


def _costs(mb: np.ndarray, mr: np.ndarray, nb: np.ndarray, nr: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Cost of sending batch code c to training code r: the squared standardised differences of
    the per-code means (over the last axis), for arrays (..., kb, m) and (..., kr, m); `v` (kr, m)
    holds training code r's within-code variances."""
    d = ((mb[..., :, None, :] - mr[..., None, :, :]) ** 2 / v).sum(-1)
    return d / (1.0 / nb[:, None] + 1.0 / nr[None, :])


def _code_covariances(ri: np.ndarray, resid: np.ndarray, nr: np.ndarray) -> np.ndarray:
    """Each training code's within-code covariance of the kept columns, shrunk towards the pooled
    one by `SHRINK` rows (a code with few rows borrows the pooled spread)."""
    k, m = len(nr), resid.shape[1]
    pooled = resid.T @ resid / max(len(resid) - k, 1)
    covs = np.empty((k, m, m))
    for r in range(k):
        e = resid[ri == r]
        covs[r] = (e.T @ e + SHRINK * pooled) / (max(len(e) - 1, 0) + SHRINK)
    return covs


def _null(
    mr: np.ndarray,
    nr: np.ndarray,
    nb: np.ndarray,
    present: np.ndarray,
    covs: np.ndarray,
    n_sims: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Under H0, the best map's gain and the identity's misfit per draw: both sets' per-code means
    drawn around training's with each code's covariance over its rows."""
    from scipy.optimize import linear_sum_assignment

    w, vec = np.linalg.eigh(covs)
    roots = vec * np.sqrt(np.clip(w, 0, None))[:, None, :]  # (k, m, m): cov = root @ root.T
    v = np.einsum("kii->ki", covs)
    rng = np.random.default_rng(seed)
    k, m, kb = len(nr), mr.shape[1], len(present)
    gains, d_ids = np.empty(n_sims), np.empty(n_sims)
    for start in range(0, n_sims, 200):
        b = min(200, n_sims - start)
        zr = np.einsum("bkm,knm->bkn", rng.standard_normal((b, k, m)), roots) / np.sqrt(nr)[None, :, None]
        zb = np.einsum("bkm,knm->bkn", rng.standard_normal((b, kb, m)), roots[present])
        sim = _costs(mr[present][None] + zb / np.sqrt(nb)[None, :, None], mr[None] + zr, nb, nr, v)
        d_sim = sim[:, np.arange(kb), present].sum(-1)
        for i in range(b):
            r_, c_ = linear_sum_assignment(sim[i])
            gains[start + i] = d_sim[i] - sim[i][r_, c_].sum()
        d_ids[start : start + b] = d_sim
    return gains, d_ids


def recode_test(
    ref_codes: np.ndarray,
    ref_other: pd.DataFrame,
    cur_codes: np.ndarray,
    cur_other: pd.DataFrame,
    levels: list[float],
    n_sims: int = N_SIMS,
    seed: int = 0,
    max_ratio: float = MAX_RATIO,
    scaled: Scaled | None = None,
) -> RecodeTest | None:
    """Whether the batch's codes relate to the other columns as training's codes under another
    map (see the module's docstring); None when no other column relates to the code in training
    or fewer than 3 codes occur in the batch. When no map leaves at most `max_ratio` of the
    identity's misfit, the null is not drawn (p = 1: nothing to test). `scaled`: the other
    columns already on training's scale (else computed from `ref_other` and `cur_other`)."""
    from scipy.optimize import linear_sum_assignment

    lev = np.asarray(levels, float)
    k = len(lev)
    rc, cc = np.asarray(ref_codes, float), np.asarray(cur_codes, float)
    rok, cok = np.isin(rc, lev), np.isin(cc, lev)
    sc = scaled or on_training_scale(ref_other, cur_other)
    R, C, names = sc.ref[rok], sc.cur[cok], sc.names
    if not names:
        return None
    ri, ci = np.searchsorted(lev, rc[rok]), np.searchsorted(lev, cc[cok])
    nr, mr = _means(ri, R, k)
    nb_all, mb_all = _means(ci, C, k)
    resid = R - mr[ri]
    tot = ((R - R.mean(0)) ** 2).sum(0)
    eta2 = 1.0 - (resid**2).sum(0) / np.where(tot > 0, tot, np.inf)
    keep = np.argsort(-eta2)[:MAX_COLUMNS]
    keep = keep[(eta2[keep] >= MIN_ETA2) & ((resid[:, keep] ** 2).sum(0) > 1e-12)]
    present = np.flatnonzero(nb_all > 0)
    if len(keep) == 0 or len(present) < 3:
        return None
    mr, resid = mr[:, keep], resid[:, keep]
    covs = _code_covariances(ri, resid, nr)
    v = np.einsum("kii->ki", covs)
    nb, mb = nb_all[present], mb_all[present][:, keep]
    cost = _costs(mb, mr, nb, nr, v)
    rows_c, cols_c = linear_sum_assignment(cost)
    d_id = float(cost[np.arange(len(present)), present].sum())
    d_cond = float(cost[rows_c, cols_c].sum())
    # the reported map also matches the codes' shares (codes alike in the other columns are told
    # apart by their frequencies): each term a squared z-score of a batch count against the
    # training share it is sent to
    NB, NR = nb.sum(), nr.sum()
    pr = nr / NR
    freq = (nb[:, None] - NB * pr[None, :]) ** 2 / (NB * pr * (1 - pr) * (1 + NB / NR))[None, :]
    rows_f, cols_f = linear_sum_assignment(cost + freq)
    d_joint = float(cost[rows_f, cols_f].sum())
    cols_used = [names[j] for j in keep]
    if d_cond > max_ratio * d_id:  # no map explains most of the misfit: no need for the null
        return RecodeTest({}, d_id, d_cond, 1.0, float("nan"), float("nan"), cols_used, 0)
    gains, d_ids = _null(mr, nr, nb, present, covs, n_sims, seed)
    null_d_q99 = float(np.quantile(d_ids, 0.99))
    rows, cols, d_best = (rows_f, cols_f, d_joint) if d_joint <= null_d_q99 else (rows_c, cols_c, d_cond)
    return RecodeTest(
        mapping={float(lev[present[r]]): float(lev[c]) for r, c in zip(rows, cols) if present[r] != c},
        d_identity=d_id,
        d_mapped=d_best,
        p_value=float((1 + np.count_nonzero(gains >= d_id - d_cond - 1e-9)) / (n_sims + 1)),
        null_gain_q99=float(np.quantile(gains, 0.99)),
        null_d_q99=null_d_q99,
        columns=cols_used,
        n_sims=n_sims,
    )


def coded_columns(ref: Profile, columns: Iterable[str]) -> list[str]:
    """Numeric columns of 3 to 30 whole-number values (nearly all rows on them): integer codes
    that an encoder fitted apart could have re-ordered."""
    out = []
    for c in columns:
        rp = ref.columns.get(c)
        if isinstance(rp, NumericProfile) and rp.integer:
            pm = rp.point_masses
            if 3 <= len(pm) <= 30 and sum(pm.values()) >= 0.99 * rp.n:
                out.append(c)
    return out
