"""Read the fitted preprocessing steps of a saved model and find out which rows they learned from.

`audit_preprocessing(estimator, sets, y, features)` walks a scikit-learn Pipeline /
ColumnTransformer / FeatureUnion tree. For every fitted transformer that stores statistics of its
input (`n_samples_seen_`, `statistics_`, `mean_`, `var_`, `scale_`, `data_min_`, `data_max_`,
`categories_`, `variances_`, `quantiles_`, `lambdas_`, `bin_edges_`, ...) it

1. rebuilds the exact input that step saw, by sending each candidate set of rows through the
   *fitted* steps that precede it (so a scaler behind an imputer sees imputed values);
2. refits a clone of the step on the training rows, and on the training plus evaluation rows
   (plus the production batch when there is one);
3. compares the learned statistics, feature by feature (relative tolerance 1e-7): a step whose
   statistics equal the refit on train+test, but not the refit on train, learned from the test
   rows. Its `n_samples_seen_` against the training row count and encoder categories that only
   the evaluation rows contain give independent evidence.

Each step's input columns are traced back to the model's input features (through
ColumnTransformer column selections and `get_feature_names_out`), so a finding names them.
Nothing here predicts or refits the model itself; the steps are small and vectorised. On very
large inputs the refits are skipped (`max_rows`) and only the row counts are compared.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# statistics a transformer learns from its input rows
STAT_ATTRS = (
    "n_samples_seen_",
    "statistics_",
    "mean_",
    "var_",
    "scale_",
    "data_min_",
    "data_max_",
    "max_abs_",
    "center_",
    "categories_",
    "variances_",
    "quantiles_",
    "lambdas_",
    "bin_edges_",
    "scores_",
    "encodings_",
    "target_mean_",
)


@dataclass
class StepAudit:
    path: str  # e.g. "prep/num/scale"
    kind: str  # class name of the step
    columns: list[str]  # model input features the step covers
    n_seen: float | None = None  # rows the step saw (max over features)
    n_train: int = 0  # rows (non-missing values) the training set gives it
    n_test: int = 0
    verdict: str = "unknown"  # "train" | "train+test" | "train+test+current" | "unknown" | "not refitted"
    leaked_columns: list[str] = field(default_factory=list)  # features whose statistics show it
    test_only_categories: dict[str, list] = field(default_factory=dict)
    other_categories: dict[str, list] = field(default_factory=dict)  # in neither train nor test
    stats: list[dict] = field(default_factory=list)  # per-feature fitted vs refits (means)
    note: str = ""

    def row(self) -> dict[str, Any]:
        return {
            "step": self.path,
            "transformer": self.kind,
            "n_samples_seen": self.n_seen,
            "train_rows": self.n_train,
            "test_rows": self.n_test,
            "learned_from": self.verdict,
            "columns": ", ".join(self.leaked_columns or self.columns)[:200],
        }


def has_preprocessing(est: Any) -> bool:
    return hasattr(est, "steps") or hasattr(est, "transformers_") or hasattr(est, "transformer_list")


# ---------------------------------------------------------------------------- helpers


def _take(X: Any, idx: list[int]) -> Any:
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, idx]
    if hasattr(X, "tocsc"):  # scipy sparse
        return X.tocsc()[:, idx]
    return np.asarray(X)[:, idx]


def _by_name(ct: Any, idx: list[int], names: list[str], Xs: dict[str, Any]) -> list[str] | None:
    """The columns a ColumnTransformer's transformer takes, by name, when the frames do not hold
    every column it was fitted with (the columns it drops left out); None when they do."""
    fitted = getattr(ct, "feature_names_in_", None)
    if fitted is None or len(names) == len(fitted) or max(idx) >= len(fitted):
        return None
    cols = [str(fitted[i]) for i in idx]
    frames = all(isinstance(v, pd.DataFrame) for v in Xs.values())
    return cols if frames and set(cols) <= set(names) else None


def _concat(parts: list[Any]) -> Any:
    if all(isinstance(p, pd.DataFrame) for p in parts):
        return pd.concat(parts, ignore_index=True)
    if any(hasattr(p, "tocsr") for p in parts):
        import scipy.sparse as sp

        return sp.vstack([p if hasattr(p, "tocsr") else sp.csr_matrix(p) for p in parts]).tocsr()
    return np.vstack([np.asarray(p) for p in parts])


def _out_names(step: Any, names: list[str] | None, width: int) -> list[str]:
    try:
        out = step.get_feature_names_out(names) if names is not None else step.get_feature_names_out()
        out = [str(n) for n in out]
        if len(out) == width:
            return out
    except Exception:
        pass
    return [f"x{i}" for i in range(width)]


def _width(X: Any) -> int:
    return int(X.shape[1]) if getattr(X, "ndim", 2) == 2 else 1


def _map_origin(in_names: list[str], in_origin: list[tuple], out_names: list[str]) -> list[tuple]:
    """Trace output columns of a step back to its input columns' origins."""
    if len(out_names) == len(in_names) and all(a == b for a, b in zip(in_names, out_names)):
        return list(in_origin)
    union = tuple(dict.fromkeys(o for orig in in_origin for o in orig))
    out = []
    for name in out_names:
        bare = name.split("__", 1)[1] if "__" in name else name
        best = None
        for i, n in enumerate(in_names):
            if (bare == n or bare.startswith(n + "_") or name == n) and (
                best is None or len(n) > len(in_names[best])
            ):
                best = i
        out.append(in_origin[best] if best is not None else union)
    if len(out_names) == len(in_names) and all(o == union for o in out):
        return list(in_origin)  # same width, names changed (e.g. a scaler renamed nothing useful)
    return out


def _same(a: Any, b: Any) -> np.ndarray | bool:
    """Per-feature equality of a learned statistic (tolerant for floats, NaN == NaN)."""
    if isinstance(a, list) or (
        isinstance(a, np.ndarray)
        and a.dtype == object
        and a.ndim == 1
        and len(a)
        and isinstance(a[0], np.ndarray)
    ):
        if not isinstance(b, (list, np.ndarray)) or len(a) != len(b):
            return False
        return np.array([_set(x) == _set(y) for x, y in zip(a, b)])
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "biuf" and b.dtype.kind in "biuf":
        af, bf = a.astype(float), b.astype(float)
        scale = np.nanmax(np.abs(bf)) if bf.size and np.isfinite(bf).any() else 1.0
        eq = np.isclose(af, bf, rtol=1e-7, atol=1e-12 * max(scale, 1e-300), equal_nan=True)
    else:
        eq = np.array(
            [(x == y) or (_isnan(x) and _isnan(y)) for x, y in zip(a.ravel(), b.ravel())], dtype=bool
        ).reshape(a.shape)
    if eq.ndim == 0:
        return bool(eq)
    if eq.ndim == 2:
        return eq.all(axis=0)
    return eq


def _isnan(x: Any) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _set(values: Any) -> frozenset:
    return frozenset("<NA>" if _isnan(v) else (v.item() if hasattr(v, "item") else v) for v in values)


def _nfeat(est: Any, X: Any) -> int:
    return int(getattr(est, "n_features_in_", _width(X)))


# ---------------------------------------------------------------------------- the walk


class _Walker:
    def __init__(self, sets: dict[str, Any], y: dict[str, Any], max_rows: int) -> None:
        self.sets = sets
        self.y = y
        self.refit = sum(len(v) for k, v in sets.items() if k in ("train", "test")) <= max_rows
        self.audits: list[StepAudit] = []

    def visit(self, est: Any, Xs: dict[str, Any], names: list[str], origin: list[tuple], path: str) -> None:
        if est is None or isinstance(est, str):
            return
        if hasattr(est, "steps"):
            steps = [(n, s) for n, s in est.steps if s is not None and not isinstance(s, str)]
            for i, (n, s) in enumerate(steps):
                sub = f"{path}/{n}" if path else n
                self.visit(s, Xs, names, origin, sub)
                later = [
                    t
                    for _, t in steps[i + 1 :]
                    if hasattr(t, "transform")
                    and (has_preprocessing(t) or any(hasattr(t, a) for a in STAT_ATTRS))
                ]
                if not later or not hasattr(s, "transform"):
                    break
                Xs = {k: self._transform(s, v) for k, v in Xs.items()}
                if any(v is None for v in Xs.values()):
                    return
                w = _width(Xs["train"])
                out = _out_names(s, names, w)
                origin = _map_origin(names, origin, out)
                names = out
            return
        if hasattr(est, "transformers_"):
            indices = getattr(est, "_transformer_to_input_indices", {})
            for n, t, _cols in est.transformers_:
                if isinstance(t, str) or n not in indices:
                    continue
                idx = list(indices[n])
                if not idx:
                    continue
                cols = _by_name(est, idx, names, Xs)
                if cols is not None:  # given only the columns it uses (it drops the others)
                    where = dict(zip(names, origin))
                    sub_X = {k: v[cols] for k, v in Xs.items()}
                    self.visit(t, sub_X, cols, [where[c] for c in cols], f"{path}/{n}" if path else n)
                    continue
                sub_X = {k: _take(v, idx) for k, v in Xs.items()}
                self.visit(
                    t, sub_X, [names[i] for i in idx], [origin[i] for i in idx], f"{path}/{n}" if path else n
                )
            return
        if hasattr(est, "transformer_list"):
            for n, t in est.transformer_list:
                self.visit(t, Xs, names, origin, f"{path}/{n}" if path else n)
            return
        self.audit_leaf(est, Xs, names, origin, path or type(est).__name__)

    @staticmethod
    def _transform(step: Any, X: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return step.transform(X)
        except Exception:
            return None

    def audit_leaf(
        self, est: Any, Xs: dict[str, Any], names: list[str], origin: list[tuple], path: str
    ) -> None:
        if not hasattr(est, "transform"):
            return
        attrs = [a for a in STAT_ATTRS if hasattr(est, a)]
        if attrs and "categories_" in attrs and getattr(est, "categories", "auto") != "auto":
            attrs.remove("categories_")  # categories given by the user, not learned
        if not attrs:
            return
        Xtr, Xte = Xs["train"], Xs["test"]
        cols = list(dict.fromkeys(o for orig in origin for o in orig))
        a = StepAudit(path=path, kind=type(est).__name__, columns=cols, n_train=len(Xtr), n_test=len(Xte))
        if hasattr(est, "n_samples_seen_"):
            ns = np.asarray(est.n_samples_seen_, dtype=float)
            a.n_seen = float(ns.max()) if ns.size else None
        fitted = {k: getattr(est, k) for k in attrs}
        refits = self._refits(est, attrs, Xs) if self.refit else {}
        if "train" not in refits:
            a.verdict = "not refitted"
        else:
            _judge(a, est, Xtr, fitted, refits, origin)
        if "categories_" in attrs:
            _encoder_categories(a, est.categories_, Xtr, Xte, origin)
        self.audits.append(a)

    def _refits(self, est: Any, attrs: list[str], Xs: dict[str, Any]) -> dict[str, dict]:
        """The statistics a clone of the step learns from train, train+test (and + current)."""
        from sklearn.base import clone

        Xtr, Xte = Xs["train"], Xs["test"]
        cands = {
            "train": (Xtr, self.y.get("train")),
            "train+test": (_concat([Xtr, Xte]), _cat_y(self.y.get("train"), self.y.get("test"))),
        }
        if "current" in Xs:
            cands["train+test+current"] = (_concat([Xtr, Xte, Xs["current"]]), None)
        refits: dict[str, dict] = {}
        for key, (X, y) in cands.items():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = clone(est)
                    try:
                        r.fit(X, y)
                    except Exception:
                        r = clone(est).fit(X)
                refits[key] = {k: getattr(r, k, None) for k in attrs}
            except Exception:
                continue
        return refits


def _judge(
    a: StepAudit, est: Any, Xtr: Any, fitted: dict[str, Any], refits: dict[str, dict], origin: list[tuple]
) -> None:
    """Which refit the saved statistics equal (the step's verdict), the features that show it and
    the per-feature statistics."""
    nf = _nfeat(est, Xtr)
    per_feature_train = np.ones(nf, dtype=bool)
    matches: dict[str, bool] = {}
    for key, ref in refits.items():
        ok = True
        for k, value in fitted.items():
            eq = _same(value, ref[k]) if ref[k] is not None else False
            if isinstance(eq, np.ndarray) and eq.shape == (nf,):
                ok &= bool(eq.all())
                if key == "train":
                    per_feature_train &= eq
            else:
                ok &= bool(np.all(eq))
        matches[key] = ok
    if matches.get("train"):
        a.verdict = "train"
    else:
        a.verdict = next((k for k in ("train+test", "train+test+current") if matches.get(k)), "unknown")
        bad = (
            np.flatnonzero(~per_feature_train) if per_feature_train.size == len(origin) else np.array([], int)
        )
        leaked = [o for i in bad for o in origin[i]]
        a.leaked_columns = list(dict.fromkeys(leaked)) or a.columns
    a.stats.extend(_statistics(a.path, fitted, refits, origin))
    if a.n_seen is not None and "n_samples_seen_" in refits.get("train", {}):
        a.n_train = int(np.asarray(refits["train"]["n_samples_seen_"], float).max())


def _statistics(
    path: str, fitted: dict[str, Any], refits: dict[str, dict], origin: list[tuple]
) -> list[dict]:
    """The first location statistic per feature (12 at most): saved, from train, from train+test."""
    for k in ("statistics_", "mean_", "data_min_", "data_max_"):
        if k in fitted and "train" in refits and np.asarray(fitted[k]).dtype.kind in "biuf":
            f, t = np.asarray(fitted[k], float), np.asarray(refits["train"][k], float)
            tt = np.asarray(refits.get("train+test", {}).get(k, np.full_like(t, np.nan)), float)
            return [
                {
                    "step": path,
                    "statistic": k.rstrip("_"),
                    "column": "+".join(origin[i]),
                    "fitted": f[i],
                    "from_train": t[i],
                    "from_train_and_test": tt[i],
                }
                for i in range(min(len(f), len(origin), 12))
            ]
    return []


def _encoder_categories(a: StepAudit, cats: Any, Xtr: Any, Xte: Any, origin: list[tuple]) -> None:
    """Encoder categories that only the evaluation rows hold (or that neither set holds)."""
    for j, c in enumerate(cats[: len(origin)]):
        learned = _set(c)
        tr_vals = _set(pd.unique(_column(Xtr, j)))
        te_vals = _set(pd.unique(_column(Xte, j)))
        extra = learned - tr_vals
        if not extra:
            continue
        name = "+".join(origin[j])
        in_test = sorted(map(str, extra & te_vals))
        if in_test:
            a.test_only_categories[name] = in_test[:10]
        rest = sorted(map(str, extra - te_vals))
        if rest:
            a.other_categories[name] = rest[:10]


def _column(X: Any, j: int) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, j].to_numpy()
    if hasattr(X, "tocsc"):
        return np.asarray(X.tocsc()[:, j].todense()).ravel()
    return np.asarray(X)[:, j]


def _cat_y(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return np.concatenate([np.asarray(a), np.asarray(b)])


def audit_preprocessing(
    estimator: Any,
    sets: dict[str, pd.DataFrame],
    y: dict[str, Any],
    features: list[str],
    max_rows: int = 400_000,
) -> list[StepAudit]:
    """Audit every fitted preprocessing step of `estimator` (see the module docstring).

    `sets` maps "train", "test" (and optionally "current") to frames holding `features`.
    """
    w = _Walker(sets={k: v[features] for k, v in sets.items()}, y=y, max_rows=max_rows)
    w.visit(estimator, w.sets, list(features), [(f,) for f in features], "")
    return w.audits
