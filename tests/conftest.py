"""Shared fixtures: small synthetic cases built in memory (fast, no files needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

# the `mltriage monitor` fixtures: a store on each backend (DuckDB, a real PostgreSQL server), a case
from monitor_helpers import monitor_case, pg_server, store_url  # noqa: F401


def make_binary(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "x3": rng.uniform(0, 10, size=n),
            "color": rng.choice(["red", "green", "blue"], size=n),
        }
    )
    logit = 1.2 * df["x1"] - 0.8 * df["x2"] + 0.1 * df["x3"] + (df["color"] == "red") * 0.7 - 0.5
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def binary_pipeline():
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["x1", "x2", "x3"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["color"]),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=500))


@pytest.fixture(scope="session")
def binary_case():
    """(train, test, fitted model) of a healthy binary problem."""
    df = make_binary(4000)
    train, test = df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)
    model = binary_pipeline().fit(train.drop(columns="y"), train["y"])
    return train, test, model


@pytest.fixture(scope="session")
def binary_files(tmp_path_factory, binary_case):
    """The healthy binary case written as parquet + joblib, for CLI tests."""
    import joblib

    train, test, model = binary_case
    d = tmp_path_factory.mktemp("case")
    train.to_parquet(d / "train.parquet")
    test.to_parquet(d / "test.parquet")
    joblib.dump(model, d / "model.joblib")
    return d


@pytest.fixture(scope="session")
def hgb_model(binary_case):
    train, _, _ = binary_case
    X = train.drop(columns="y").copy()
    X["color"] = X["color"].astype("category")
    return HistGradientBoostingClassifier(max_iter=50, categorical_features="from_dtype").fit(X, train["y"])


# ------------------------------------------------------------------ fires / silent markers
# `@pytest.mark.fires("CODE")`: the test must run the check for CODE (through the runner or
# `checkhelp.run`) and it must report a warning or critical finding (`severity="info"` lowers the
# bar for a case whose right answer is info). `@pytest.mark.silent("CODE")`: the check must run
# and report nothing at warning or above. `tests/test_contract.py` asks for both for every code.


@pytest.fixture(autouse=True)
def _fires_and_silent(request, monkeypatch):
    marks = [m for m in request.node.iter_markers() if m.name in ("fires", "silent")]
    if not marks:
        yield
        return
    from mltriage import registry

    seen: dict[str, list] = {}
    real = registry.run_check

    def recording(chk, ctx, params):
        out = real(chk, ctx, params)
        seen.setdefault(chk.code, []).extend(out)
        return out

    monkeypatch.setattr(registry, "run_check", recording)
    yield
    for m in marks:
        code = m.args[0]
        assert code in seen, f"marked {m.name}({code!r}) but the check never ran to completion"
        floor = {"info": 0, "warning": 1, "critical": 2}[m.kwargs.get("severity", "warning")]
        hits = [f for f in seen[code] if f.severity.rank >= (floor if m.name == "fires" else 1)]
        if m.name == "fires":
            assert hits, f"{code} was expected to fire (>= {m.kwargs.get('severity', 'warning')}) but did not"
        else:
            assert not hits, f"{code} was expected to stay silent but reported: {[f.title for f in hits]}"
