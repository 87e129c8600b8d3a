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
    it is a copy (one of them is its original, always equal). So the share of copies is the
    weighted mean of (K - n q) / (1 - q), weights (1 - q) / (n q), the inverse of the chance
    variance n q (1 - q) times (1 - q): the big groups of natural repeats, whose agreement is the
    noisiest, weigh less than the lone pairs a copy makes. Its interval and the one-sided test come
    from a bootstrap over feature vectors (a row sits in many pairs; a group's pairs are not
    independent): the test is normal on the bootstrap standard error."""
    from scipy import stats as st

    t = _group_table(h_a, y_a, chance_a, h_b, y_b)
    m = len(t)
    if m == 0 or t["pairs"].sum() <= 0:
        return LabelAgreement(0.0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    q = t["q"].clip(lower=min_chance, upper=1 - min_chance).to_numpy()
    pairs, agree = t["pairs"].to_numpy(), t["agree"].to_numpy()
    s = t["ref"].to_numpy() * q
    mult = 2.0 if h_b is None else 1.0  # within a set a pair is a twin of each of its two rows
    num = mult * (agree - pairs * q) / s  # per group: sum over its rows of (K - n q) / (n q)
    den = t["rows"].to_numpy() * (1 - q) / s
    c = float(num.sum() / den.sum())
    rng = np.random.default_rng(seed)
    w = rng.multinomial(m, np.full(m, 1 / m), size=n_boot).astype(float)  # (boot, groups)
    bn, bd = w @ num, w @ den
    cb = bn / np.maximum(bd, 1e-12)
    lo, hi = np.quantile(cb, [0.025, 0.975]) if m > 1 else (c, c)
    se = float(np.std(cb)) if m > 1 else 0.0
    pval = float(st.norm.sf(c / se)) if se > 0 else (1.0 if c <= 0 else 0.0)
    obs = float(agree.sum() / pairs.sum())
    exp = float((pairs * q).sum() / pairs.sum())
    rows = int(t["rows"].sum())
    return LabelAgreement(float(pairs.sum()), m, rows, obs, exp, c, float(lo), float(hi), pval)


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
