"""Twin rows' targets: a copy carries its label, a natural repeat of a feature vector does not.

Rows that are copies of one another (a record appended twice, oversampling or augmentation before
the split) repeat the target with the features. Distinct observations that share a coarse feature
vector (the same configuration, the same store-week, the same person's fixed attributes) have
targets drawn from p(y | x). Among the pairs of rows that are equal in their features (twin pairs),
the share whose targets are equal is compared with the share expected from p(y | x) estimated
without the pair's own feature vector: the copies among twin pairs are
c = (agreement - expected) / (1 - expected).

p(y | x) comes from a model cross-validated with the folds grouped by feature vector
(`collision_chance`), so no row with the pair's feature vector informs its own estimate: a label
mix read off the twin group itself (leave-one-out included) is what copies make pure, and a
model trained with the group's rows would memorise the copied label. The model does not see an
entity's lasting traits that the features miss; whatever makes a person's outcomes alike across
years raises the agreement too (measured on the data, see the checks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class LabelAgreement:
    """Target agreement of twin pairs (rows equal in the features) against chance."""

    pairs: float  # twin pairs
    groups: int  # feature vectors holding a twin pair
    rows: int  # rows in a twin pair (within: of the set; between: of the second set)
    observed: float  # share of twin pairs whose targets are equal
    expected: float  # share expected from p(y | x) estimated without the pair's feature vector
    copy_share: float  # share of the rows in twin pairs that are copies (see `label_agreement`)
    copy_low: float  # 95% bootstrap interval over feature vectors (a row sits in many pairs)
    copy_high: float
    p_value: float  # one-sided: targets more alike than chance

    def as_dict(self) -> dict[str, float | int | list[float]]:
        return {
            "twin_pairs_by_features": self.pairs,
            "feature_vectors_with_twins": self.groups,
            "rows_in_twin_pairs": self.rows,
            "target_agreement": self.observed,
            "target_agreement_expected": self.expected,
            "label_copy_share": self.copy_share,
            "label_copy_share_ci": [self.copy_low, self.copy_high],
            "p_value_labels_copied": self.p_value,
        }


def _group_table(
    h_a: np.ndarray, y_a: np.ndarray, chance_a: np.ndarray, h_b: np.ndarray | None, y_b: np.ndarray | None
) -> pd.DataFrame:
    """Per feature vector with a twin pair: its pairs, the pairs with equal targets, the chance of
    equal targets `q`, the judged rows (within: the group's rows; between: its rows of `b`) and the
    reference rows each of them is compared with (within: the others; between: its rows of `a`)."""
    a = pd.DataFrame({"h": h_a, "y": pd.factorize(pd.Series(y_a).astype(str))[0], "q": chance_a})
    if h_b is None:
        n = a.groupby("h")["y"].transform("size").to_numpy()
        a = a[n >= 2]
        size = a.groupby("h").size()
        same = a.groupby(["h", "y"]).size()
        return pd.DataFrame(
            {
                "pairs": size * (size - 1) / 2.0,
                "agree": (same * (same - 1) / 2.0).groupby(level=0).sum().reindex(size.index),
                "q": a.groupby("h")["q"].mean(),
                "rows": size,
                "ref": size - 1,
            }
        ).astype(float)
    assert y_b is not None
    codes = pd.factorize(pd.concat([pd.Series(y_a), pd.Series(y_b)]).astype(str))[0]
    a["y"] = codes[: len(h_a)]
    b = pd.DataFrame({"h": h_b, "y": codes[len(h_a) :]})
    a = a[np.isin(h_a, h_b)]
    b = b[np.isin(h_b, a["h"].to_numpy())]
    na, nb = a.groupby("h").size(), b.groupby("h").size()
    idx = na.index
    sa, sb = a.groupby(["h", "y"]).size(), b.groupby(["h", "y"]).size()
    both = sa.to_frame("a").join(sb.to_frame("b"), how="inner")
    return pd.DataFrame(
        {
            "pairs": na * nb.reindex(idx),
            "agree": (both["a"] * both["b"]).groupby(level=0).sum().reindex(idx, fill_value=0),
            "q": a.groupby("h")["q"].mean().reindex(idx),
            "rows": nb.reindex(idx),
            "ref": na,
        }
    ).astype(float)


def label_agreement(
    h_a: np.ndarray,
    y_a: np.ndarray,
    chance_a: np.ndarray,
    h_b: np.ndarray | None = None,
    y_b: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    min_chance: float = 1e-3,
) -> LabelAgreement:
    """The target agreement of twin pairs: within the rows `a` (feature hashes `h_a`, targets
    `y_a`), or between `a` and the rows `b`, against `chance_a` (per row of `a`, the chance that two
    independent rows with its features have equal targets, `collision_chance`; floored at
    `min_chance`).

    The copy share is per judged row (within: a row of `a` in a twin group; between: a row of `b`
    with a twin in `a`): a row with `n` reference twins (within: the others of its group; between:
    its twins in `a`) of which `K` have its target has E[K] = n q by chance, and n q + (1 - q) when
    it is a copy (one of them is its original, always equal). So each feature vector gives a copy
    share c_g, and the share of copies is their mean weighted by the inverse of c_g's variance
    under chance plus the spread of p(y | x) between feature vectors that the model misses
    (`_group_copies`, a random-effects mean): the big groups of natural repeats, whose agreement
    says little about a copy, weigh little beside the lone pairs a copy makes. Its interval and the one-sided test come
    from a bootstrap over feature vectors (a row sits in many pairs; a group's pairs are not
    independent): the test is normal on the bootstrap standard error."""
    from scipy import stats as st

    t = _group_table(h_a, y_a, chance_a, h_b, y_b)
    m = len(t)
    if m == 0 or t["pairs"].sum() <= 0:
        return LabelAgreement(0.0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    q = t["q"].clip(lower=min_chance, upper=1 - min_chance).to_numpy()
    pairs, agree = t["pairs"].to_numpy(), t["agree"].to_numpy()
    c_g, w = _group_copies(t, q, within=h_b is None)
    c = float(w @ c_g / w.sum())
    rng = np.random.default_rng(seed)
    b = rng.multinomial(m, np.full(m, 1 / m), size=n_boot).astype(float)  # (boot, groups)
    cb = (b @ (w * c_g)) / np.maximum(b @ w, 1e-300)
    lo, hi = np.quantile(cb, [0.025, 0.975]) if m > 1 else (c, c)
    se = float(np.std(cb)) if m > 1 else 0.0
    pval = float(st.norm.sf(c / se)) if se > 0 else (1.0 if c <= 0 else 0.0)
    obs = float(agree.sum() / pairs.sum())
    exp = float((pairs * q).sum() / pairs.sum())
    rows = int(t["rows"].sum())
    return LabelAgreement(float(pairs.sum()), m, rows, obs, exp, c, float(lo), float(hi), pval)


def _group_copies(t: pd.DataFrame, q: np.ndarray, within: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per feature vector, its copy share c_g and its inverse-variance weight (random effects).

    d_g, the share of its twin pairs with equal targets minus q, is (n - 1) / (1 - q) * c_g
    within a set of n rows (a copy adds one agreeing pair; both its rows count as copied) and
    n_a / (1 - q) * c_g between (n_a reference rows). Its chance variance is that of a U-statistic
    of the kernel 1[y_i = y_j]: (4 (n - 2) z1 + 2 z2) / (n (n - 1)) within, ((n_a - 1) z1 +
    (n_b - 1) z1 + z2) / (n_a n_b) between, with z2 = q (1 - q) and z1 = z2 (2q - 1) / (2q) (exact
    for two classes, 0 for balanced ones). Real feature vectors differ in p(y | x) beyond what the
    cross-validated model says (a store's customers, a person's traits): that spread tau^2 of
    d_g is added to every group (DerSimonian-Laird moment estimate), so a big group of natural
    repeats, whose c_g scales its d_g by n, weighs as little as its information on copies: a
    copy moves one pair of its n (n - 1) / 2."""
    n_ref, n_rows = t["ref"].to_numpy(), t["rows"].to_numpy()
    pairs, agree = t["pairs"].to_numpy(), t["agree"].to_numpy()
    d = agree / pairs - q
    z2 = q * (1 - q)
    z1 = z2 * np.clip((2 * q - 1) / (2 * q), 0, None)
    if within:
        n = n_rows
        v = (4 * np.maximum(n - 2, 0) * z1 + 2 * z2) / (n * (n - 1))
        scale = (n - 1) / (1 - q)
    else:
        v = ((n_ref - 1) * z1 + (n_rows - 1) * z1 + z2) / (n_ref * n_rows)
        scale = n_ref / (1 - q)
    v = np.maximum(v, 1e-12)
    w0 = 1 / v
    mean = float(w0 @ d / w0.sum())
    big_q = float(w0 @ (d - mean) ** 2)
    denom = float(w0.sum() - (w0**2).sum() / w0.sum())
    tau2 = max(0.0, (big_q - (len(d) - 1)) / denom) if denom > 0 else 0.0
    return scale * d, 1 / (scale**2 * (v + tau2))


def collision_chance(
    x: np.ndarray,
    y: np.ndarray,
    h: np.ndarray,
    task: str,
    folds: int = 5,
    bins: int = 20,
    max_rows: int = 30_000,
    seed: int = 0,
) -> np.ndarray:
    """Per row, the chance that two independent rows with its features have equal targets, from
    gradient boosting cross-validated with the folds grouped by feature vector `h` (a row's
    estimate never sees a row with its features). Classification: sum_y p(y | x)^2 from the
    cross-validated probabilities. Regression: among rows in the same quantile bin (`bins`) of
    the cross-validated prediction, the share of pairs of rows with different feature vectors
    whose targets are exactly equal (a count's zeros collide often, a continuous reading never).
    Above `max_rows` rows the model is fitted on a random sample of them."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.model_selection import GroupKFold

    n = len(y)
    groups = pd.factorize(pd.Series(h))[0]
    k = int(min(folds, groups.max(initial=0) + 1))
    classify = task in ("binary", "multiclass")
    yc = pd.factorize(pd.Series(y).astype(str))[0] if classify else np.asarray(y, float)
    if k < 2:
        return np.full(n, np.nan)
    ncls = int(yc.max()) + 1 if classify else 0
    est: np.ndarray = np.zeros((n, ncls)) if classify else np.zeros(n)
    for tr, te in GroupKFold(n_splits=k).split(x, yc, groups):
        if len(tr) > max_rows:
            tr = np.random.default_rng(seed).choice(tr, max_rows, replace=False)
        if classify:
            present = np.unique(yc[tr])
            if len(present) < 2:
                est[np.ix_(te, present)] = 1.0
                continue
            mc = HistGradientBoostingClassifier(max_iter=100, random_state=seed).fit(x[tr], yc[tr])
            est[np.ix_(te, mc.classes_)] = mc.predict_proba(x[te])
        else:
            mr = HistGradientBoostingRegressor(max_iter=100, random_state=seed).fit(x[tr], yc[tr])
            est[te] = mr.predict(x[te])
    if classify:
        return np.asarray(np.sum(est**2, axis=1))
    return _binned_equality(yc, est, groups, bins)


def _binned_equality(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, bins: int) -> np.ndarray:
    """Per row, the share of equal targets among pairs of rows in its prediction bin that do not
    share a feature vector (the pairs within a vector are the ones being judged)."""
    edges = np.unique(np.quantile(pred, np.linspace(0, 1, bins + 1)[1:-1]))
    b = np.searchsorted(edges, pred, side="right")
    d = pd.DataFrame({"b": b, "g": groups, "y": pd.factorize(pd.Series(y))[0]})

    def pairs(s: pd.Series) -> pd.Series:
        return s * (s - 1) / 2.0

    all_pairs = pairs(d.groupby("b").size())
    all_same = pairs(d.groupby(["b", "y"]).size()).groupby(level=0).sum()
    in_pairs = pairs(d.groupby(["b", "g"]).size()).groupby(level=0).sum()
    in_same = pairs(d.groupby(["b", "g", "y"]).size()).groupby(level=0).sum()
    rate = ((all_same - in_same) / (all_pairs - in_pairs).replace(0, np.nan)).fillna(0.0)
    return rate.reindex(b).to_numpy(float)


@dataclass
class TwinRates:
    """How often a row has a twin among the training rows, on each side of the split."""

    within: float  # share of training rows equal to another training row
    across: float  # share of evaluation rows equal to a training row
    z: float  # (within - across) over its standard deviation under a random split
    permutations: int

    def p_value(self, side: str) -> float:
        """One-sided: `side`="train" when the training rows have twins more often, "test" when
        the evaluation rows do."""
        from scipy import stats as st

        return float(st.norm.sf(self.z if side == "train" else -self.z))

    def as_dict(self) -> dict[str, float | int]:
        return {
            "train_rows_with_twin_in_train": self.within,
            "test_rows_with_twin_in_train": self.across,
            "twin_rate_z_under_random_split": self.z,
            "twin_rate_permutations": self.permutations,
        }


def twin_rates(h_train: np.ndarray, h_test: np.ndarray, n_perm: int = 200, seed: int = 0) -> TwinRates:
    """The share of training rows with a twin among the other training rows against the share of
    evaluation rows with a twin among the training rows. Under a random split of exchangeable rows
    the two are equal in expectation (a row's n_train - 1 or n_train reference rows are drawn from
    the same pool), whatever makes rows repeat (coarse columns, an entity observed again); a copy
    made on one side after the split (a join that fans out in training, rows re-pulled into the
    evaluation set) raises that side's only. The null distribution of the difference comes from
    re-drawing the split on the pooled rows (`n_perm` permutations, sizes kept); its tail is read
    as normal on the permutations' standard deviation (the difference is a mean over many rows),
    so a small p-value does not need millions of draws. Not valid when the split itself follows
    the repeats (an entity-grouped or time split puts an entity's rows on one side): the caller
    uses it only where the random split is the null already assumed."""
    codes = pd.factorize(pd.Series(np.concatenate([h_train, h_test])))[0]
    n1, g = len(h_train), int(codes.max()) + 1 if len(codes) else 0

    def diff(tr: np.ndarray, te: np.ndarray) -> tuple[float, float]:
        ct = np.bincount(tr, minlength=g)
        return float((ct[tr] >= 2).mean()), float((ct[te] >= 1).mean()) if len(te) else 0.0

    within, across = diff(codes[:n1], codes[n1:])
    rng = np.random.default_rng(seed)
    null = np.empty(n_perm)
    for b in range(n_perm):
        perm = rng.permutation(codes)
        w, a = diff(perm[:n1], perm[n1:])
        null[b] = w - a
    sd = float(null.std(ddof=1)) if n_perm > 1 else 0.0
    d = within - across - float(null.mean())
    z = d / sd if sd > 0 else (0.0 if d == 0 else float(np.sign(d)) * np.inf)
    return TwinRates(within, across, float(z), n_perm)
