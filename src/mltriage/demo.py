"""`mltriage demo`: a real data set (UCI Adult, shipped in the package) with three realistic
failures planted at run time, diagnosed end to end in a few seconds.

Planted:
  1. label leakage: `collections_flag`, a field filled in *after* the outcome is known (it is set
     for nearly every high earner by a later account review), sits among the features;
  2. train/test overlap: a quarter of the evaluation rows are copies of training rows (a sloppy
     concatenation before the split);
  3. preprocessing leakage: the pipeline's scaler and imputers were fitted on train + test.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

if TYPE_CHECKING:
    from .report import Report

PLANTED = {
    "data.label_leakage": "collections_flag is recorded after the outcome",
    "data.train_test_overlap": "25% of the test rows are copies of training rows",
    "pipeline.preprocessing_leakage": "the scaler and imputers were fitted on train + test",
}
CATEGORICAL = [
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
]
NUMERIC = ["age", "fnlwgt", "capital_gain", "capital_loss", "hours_per_week", "collections_flag"]


def load_adult() -> pd.DataFrame:
    with resources.files("mltriage.data").joinpath("adult_sample.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def build_demo_case(seed: int = 0):
    """(train, test, model): the Adult sample with the three failures planted."""
    rng = np.random.default_rng(seed)
    df = load_adult()
    # 1. a post-outcome field: flagged for 97% of high earners, 1% of the others
    df["collections_flag"] = np.where(
        df["income"] == 1, rng.uniform(size=len(df)) < 0.97, rng.uniform(size=len(df)) < 0.01
    ).astype(int)
    train, test = df.iloc[:4000].reset_index(drop=True), df.iloc[4000:].reset_index(drop=True)
    # 2. a quarter of test replaced by copies of training rows
    k = len(test) // 4
    test.iloc[:k] = train.sample(k, random_state=seed).to_numpy()
    test = test.astype(train.dtypes.to_dict())
    # 3. preprocessing fitted on everything, classifier on the training rows only
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=20, sparse_output=False),
                ),
                CATEGORICAL,
            ),
        ]
    )
    both = pd.concat([train, test], ignore_index=True)
    pre.fit(both.drop(columns="income"))
    clf = HistGradientBoostingClassifier(max_iter=150, random_state=seed)
    clf.fit(pre.transform(train.drop(columns="income")), train["income"])
    model = Pipeline([("preprocess", pre), ("model", clf)])
    return train, test, model


def run_demo(console: Any = None, verbose: bool = False) -> Report:
    from rich.console import Console
    from rich.panel import Panel

    from .commands.diagnose import diagnose
    from .report.terminal import render

    console = console or Console()
    console.print(
        Panel(
            "A gradient-boosting model predicts [bold]income > 50K[/] on 6,000 real census rows "
            "(UCI Adult, CC BY 4.0).\nIts test AUC looks superb. Three realistic failures were planted:\n"
            + "\n".join(f"  • {v}" for v in PLANTED.values())
            + "\nmltriage does not know which; watch it find them.",
            title="mltriage demo",
            title_align="left",
        )
    )
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        train, test, model = build_demo_case()
    report = diagnose(train, test, "income", model=model, task="binary", progress=True)
    for part in render(report, verbose=verbose):
        console.print(part)
    found = {c for c in report.codes("warning") if c in PLANTED}
    console.print(
        f"\n[bold]planted failures found: {len(found)}/{len(PLANTED)}[/] "
        f"({', '.join(sorted(found)) or 'none'})"
    )
    return report
