"""The scenarios of the generalisation suite: each failure kind on three data sets (where the
kind fits the data), model families and sizes mixed, and clean controls."""

from __future__ import annotations

from planting import Spec

S = Spec

SUITE: list[Spec] = [
    # clean controls: same data, same families as the planted cases, nothing planted
    S("clean", "penguins", "multiclass", "hgb"),
    S("clean", "affairs", "binary", "logreg"),
    S("clean", "flights", "binary", "lgbm", 20000),
    S("clean", "computers", "regression", "rf", 3000),
    S("clean", "cars", "regression", "xgb"),
    S("clean", "males", "regression", "hgb"),
    # data layer
    S("label_leakage", "flights", "binary", "hgb", 8000),
    S("label_leakage", "affairs", "binary", "xgb", 3000),
    S("label_leakage", "computers", "regression", "ridge", 2000),
    S("label_leakage", "affairs", "binary", "logreg", 200, variant="weak"),
    S("label_leakage", "flights", "binary", "rf", 300, variant="weak"),
    S("label_leakage", "males", "regression", "ridge", 300, variant="weak"),
    S("train_test_overlap", "affairs", "binary", "rf", 3000),
    S("train_test_overlap", "flights", "binary", "rf", 5000),
    S("train_test_overlap", "computers", "regression", "rf", 2000),
    S("oversampled_copies", "penguins", "multiclass", "rf", 150),
    S("oversampled_copies", "cars", "multiclass", "hgb"),
    S("oversampled_copies", "seattle", "multiclass", "rf", 400),
    S("entity_overlap", "males", "regression", "rf", None, variant="group"),
    S("entity_overlap", "wages", "regression", "hgb"),
    S("entity_overlap", "cigar", "regression", "rf", None, variant="group"),
    S("label_noise", "penguins", "multiclass", "rf", None, variant="classcond"),
    S("label_noise", "affairs", "binary", "hgb", 2000, variant="classcond"),
    S("label_noise", "fishing", "multiclass", "logreg", None, variant="classcond"),
    S("label_noise", "computers", "regression", "hgb", 2000, variant="regression"),
    S("label_noise", "penguins", "regression", "ridge", None, variant="regression"),
    S("label_noise", "cars", "regression", "rf", None, variant="regression"),
    # pipeline / production
    S("train_serving_skew", "penguins", "regression", "ridge"),
    S("train_serving_skew", "cars", "regression", "hgb"),
    S("train_serving_skew", "males", "regression", "lgbm"),
    S("train_serving_skew", "flights", "binary", "hgb", 6000),
    S("data_drift", "flights", "binary", "lgbm", 30000),
    S("data_drift", "computers", "regression", "hgb"),
    S("data_drift", "seattle", "regression", "ridge"),
    S("drift_second_half", "flights", "binary", "hgb", 10000),
    S("drift_second_half", "affairs", "binary", "logreg"),
    S("drift_second_half", "fishing", "multiclass", "rf"),
    # error analysis
    S("hidden_slice", "affairs", "binary", "hgb"),
    S("hidden_slice", "flights", "binary", "lgbm", 20000),
    S("hidden_slice", "computers", "regression", "hgb"),
    S("hidden_slice", "males", "regression", "rf", None, variant="unused"),
    # model
    S("overfit", "affairs", "binary", "tree", 1200),
    S("overfit", "flights", "binary", "tree", 1500),
    S("overfit", "males", "regression", "tree", 1500),
]
