"""The scenarios of the generalisation suite.

SUITE (the default, 116 scenarios, ~12 minutes on a loaded 2-core machine) puts every kind
on one to three data sets, the capabilities of issue 9 on two or three; FULL adds scenarios so
that every kind is on three data sets (`run.py --full`). Model families and sizes are mixed;
each data set has a clean control with a family its planted cases use."""

from __future__ import annotations

from planting import Spec

S = Spec

CONTROLS: list[Spec] = [
    S("clean", "penguins", "multiclass", "hgb"),
    S("clean", "affairs", "binary", "logreg"),
    S("clean", "flights", "binary", "lgbm", 20000),
    S("clean", "computers", "regression", "rf", 3000),
    S("clean", "cars", "regression", "xgb"),
    S("clean", "males", "regression", "ridge"),
    S("clean", "affairs", "binary", "linsvc"),
    S("clean", "penguins", "multiclass", "sgd"),
    S("clean", "flights", "binary", "ridgecls", 8000),
    S("ranking_clean", "fishing", "ranking", "hgb"),
]

SUITE: list[Spec] = CONTROLS + [
    # --- capabilities of issue 9 (two or three data sets each)
    S("label_leakage", "affairs", "binary", "logreg", 200, variant="weak"),
    S("label_leakage", "flights", "binary", "rf", 300, variant="weak"),
    S("label_leakage", "males", "regression", "ridge", 300, variant="weak"),
    S("oversampled_copies", "penguins", "multiclass", "rf", 150),
    S("oversampled_copies", "cars", "multiclass", "hgb"),
    S("oversampled_copies", "seattle", "multiclass", "rf", 400),
    S("entity_overlap", "males", "regression", "rf", None, variant="group"),
    S("entity_overlap", "wages", "regression", "hgb"),
    S("entity_overlap", "cigar", "regression", "rf", None, variant="group"),
    S("eval_skew", "flights", "binary", "hgb", 6000),
    S("eval_skew", "cars", "regression", "ridge"),
    S("eval_skew", "affairs", "binary", "logreg"),
    S("hidden_slice", "affairs", "binary", "hgb"),
    S("hidden_slice", "computers", "regression", "hgb"),
    S("hidden_slice", "flights", "binary", "linsvc", 8000),
    S("hidden_slice", "males", "regression", "ridge", None, variant="unused"),
    S("confident_region", "affairs", "binary", "ridgecls"),
    S("confident_region", "flights", "binary", "hgb", 10000),
    S("label_noise", "penguins", "multiclass", "sgd", None, variant="classcond"),
    S("label_noise", "affairs", "binary", "hgb", 2000, variant="classcond"),
    S("label_noise", "computers", "regression", "hgb", 2000, variant="regression"),
    S("label_noise", "cars", "regression", "rf", None, variant="regression"),
    S("out_of_distribution", "flights", "binary", "lgbm", 10000, variant="few"),
    S("out_of_distribution", "penguins", "multiclass", "rf", None, variant="few"),
    S("target_suspect", "computers", "regression", "hgb", None, variant="censored"),
    S("target_suspect", "males", "regression", "ridge", None, variant="censored"),
    S("target_suspect", "affairs", "binary", "logreg", None, variant="constant"),
    S("estimated_performance_drop", "affairs", "binary", "logreg", None, variant="curated"),
    S("estimated_performance_drop", "flights", "binary", "hgb", 20000, variant="curated"),
    # confused_classes: the generator verifies its plant by the pair's excess over chance (>= 0.4
    # of the errors, >= 40 errors in the pair); only penguins' other classes are predicted well
    # enough for a pair to hold that (fishing, seattle, cars, anes, cracker, yogurt, doctor,
    # catsup, ketchup: at most 0.31, or too few errors): penguins rf and fishing rf (predonly)
    # were replaced by penguins lgbm (predonly) and penguins rf.
    S("confused_classes", "penguins", "multiclass", "lgbm", None, variant="predonly"),
    S("confused_classes", "penguins", "multiclass", "rf"),
    # airports (sources_extra.py) added for it: time zones a model predicts from the location
    # (unplanted accuracy 0.98); every family tried verifies (rf, hgb, logreg, lgbm: pair excess
    # 0.50-0.83 of the errors, 43-121 pair errors). The data set draws alarms of its own (its clean
    # control, in EXTRA, is not quiet: longitude alone predicts the zone, macro AUC 0.99, read as
    # data.label_leakage; airports cluster in cities, 7-14% near copies in quantile bins, read as
    # data.duplicates and data.train_test_overlap: distinct airports, 10-90% of the pairs 11-111 km
    # apart, none within 2.6 km, a false alarm of the near-copy chance model, sources_extra.py).
    # Its three airfields listed twice are dropped before the split (hgb's pair is now
    # Chicago/New_York, 116 of 119 errors, excess 0.69; lgbm 119 of 121, 0.69). No third host
    # was found (sources_extra.py).
    S("confused_classes", "airports", "multiclass", "hgb"),
    S("confused_classes", "airports", "multiclass", "lgbm", None, variant="predonly"),
    S("drift_second_half", "flights", "binary", "hgb", 10000),
    S("drift_second_half", "affairs", "binary", "logreg"),
    S("train_serving_skew", "penguins", "regression", "ridge"),
    S("train_serving_skew", "cars", "regression", "hgb"),
    S("train_serving_skew", "males", "regression", "ridge"),
    # --- kinds of the public benchmark (one or two data sets each here; three with --full)
    S("label_leakage", "flights", "binary", "hgb", 8000),
    S("train_test_overlap", "affairs", "binary", "rf", 3000),
    S("duplicates", "flights", "binary", "lgbm", 10000),
    S("missing_values", "computers", "regression", "xgb"),
    S("unseen_categories", "flights", "binary", "hgb", 10000),
    S("label_noise", "penguins", "multiclass", "hgb"),
    S("label_misalignment", "affairs", "binary", "hgb"),
    S("evaluated_on_train", "computers", "regression", "rf"),
    S("preprocessing_leakage", "affairs", "binary", "logreg"),
    S("version_mismatch", "cars", "regression", "rf"),
    S("overfit", "affairs", "binary", "tree", 1200),
    S("underfit", "computers", "regression", "linreg"),
    S("prediction_collapse", "flights", "binary", "rf", 5000),
    S("wrong_output_type", "affairs", "binary", "rf"),
    S("unhandled_imbalance", "fishing", "multiclass", "logreg"),
    S("imbalance_threshold", "flights", "binary", "logreg", 20000),
    S("imbalance_threshold", "flights", "binary", "hgb", 8000, variant="predonly"),
    S("miscalibration", "flights", "binary", "hgb", 10000, variant="undersampled"),
    S("divergence", "affairs", "binary", "mlp"),
    S("temporal_split", "computers", "regression", "hgb"),
    S("data_drift", "seattle", "regression", "ridge"),
    S("concept_drift", "flights", "binary", "hgb", 10000),
    S("schema_change", "males", "regression", "ridge"),
    S("serialization_mismatch", "flights", "binary", "xgb", 8000),
    S("confused_classes", "penguins", "multiclass", "logreg"),
    S("ranking_hard_negatives", "computers", "ranking", "hgb"),
    S("ranking_hard_positives", "computers", "ranking", "hgb"),
]

# --- rebuilt from peer tools' test suites and documented examples (kinds_peers*.py cite each)
PEERS: list[Spec] = [
    S("conflicting_labels", "penguins", "multiclass", "rf"),
    S("mixed_nulls", "affairs", "binary", "hgb"),
    S("string_mismatch", "flights", "binary", "hgb", 6000),
    S("identifier_label", "affairs", "binary", "rf", 3000),
    S("single_value", "cars", "regression", "ridge"),
    S("near_duplicates", "flights", "binary", "lgbm", 6000),
    S("date_leakage", "flights", "binary", "hgb", 8000),
    S("train_only_leak", "affairs", "binary", "logreg"),
    S("boosting_overfit", "affairs", "binary", "gbm", 2000),
    S("simple_model_comparison", "penguins", "multiclass", "knn"),
    S("batch_dependent", "penguins", "regression", "ridge"),
    S("multivariate_drift", "computers", "regression", "hgb", 3000),
    S("cbpe_shift", "flights", "binary", "hgb", 10000),
    S("dle_shift", "affairs", "regression", "hgb"),
    S("underconfidence", "penguins", "binary", "rf"),
]
SUITE += PEERS

# --- a new user's files (kinds_inputs.py): ordinary failures in awkward inputs (issue 9, 10/15/16)
NEW_USER: list[Spec] = [
    S("new_user", "affairs", "binary", "lgbm", 3000, variant="codes_booster"),
    S("new_user", "affairs", "binary", "linsvc", 3000, variant="strings_svc"),
    S("new_user", "penguins", "multiclass", "hgb", None, variant="extra_columns"),
]
SUITE += NEW_USER
# cases rebuilt from outside sources (kinds_leaktax.py): Kapoor & Narayanan's leakage taxonomy
# and scikit-learn's "Common pitfalls"; small and mid sizes
LEAKTAX: list[Spec] = [
    S("leak_select_all", "affairs", "binary", "logreg", 600),
    S("leak_select_all", "computers", "regression", "ridge", 2000),
    S("leak_impute_all", "penguins", "multiclass", "rf"),
    S("leak_impute_all", "flights", "binary", "hgb", 3000),
    S("leak_impute_all", "computers", "regression", "hgb", 1500, variant="baked"),
    S("leak_impute_all", "affairs", "binary", "rf", 800, variant="baked"),
    S("leak_smote", "fishing", "multiclass", "rf"),
    S("leak_smote", "seattle", "multiclass", "hgb", 600),
    S("leak_nonindependence", "males", "regression", "hgb", 2000),
    S("leak_nonindependence", "cigar", "regression", "rf"),
    S("leak_temporal", "flights", "binary", "rf", 4000),
    S("leak_proxy", "cars", "regression", "hgb"),
    S("leak_proxy", "fishing", "multiclass", "logreg"),
    S("leak_no_test", "penguins", "multiclass", "rf"),
    S("leak_no_test", "affairs", "binary", "hgb", 1500, variant="alldata"),
    S("inconsistent_preprocessing", "cars", "regression", "ridge"),
    S("inconsistent_preprocessing", "fishing", "multiclass", "logreg"),
]

# one scenario per rebuilt kind (and variant) in the default suite; the rest with --full
SUITE += [
    S("leak_select_all", "affairs", "binary", "logreg", 600),
    S("leak_impute_all", "penguins", "multiclass", "rf"),
    S("leak_impute_all", "computers", "regression", "hgb", 1500, variant="baked"),
    S("leak_smote", "seattle", "multiclass", "hgb", 600),
    S("leak_nonindependence", "males", "regression", "hgb", 2000),
    S("leak_temporal", "flights", "binary", "rf", 4000),
    S("leak_proxy", "fishing", "multiclass", "logreg"),
    S("leak_no_test", "affairs", "binary", "hgb", 1500, variant="alldata"),
    S("inconsistent_preprocessing", "cars", "regression", "ridge"),
]
assert all(s in LEAKTAX for s in SUITE[-9:])

# cases rebuilt from outside sources not used above (kinds_smells*.py): Foidl et al.'s data smells,
# TFDV / Breck et al., Evidently's data-quality preset, Rules of ML / Sculley et al., Kaufman et al.
SMELLS: list[Spec] = [
    S("dummy_value", "cars", "regression", "ridge"),
    S("dummy_value", "affairs", "binary", "logreg", 3000, variant="eval"),
    S("duplicated_columns", "penguins", "multiclass", "logreg"),
    S("filled_after_outcome", "affairs", "binary", "hgb", 3000),
    S("source_id_leak", "flights", "binary", "hgb", 5000),
    S("suspect_sign", "computers", "regression", "hgb", 3000),
    S("unit_inconsistency", "flights", "binary", "hgb", 6000),
    S("unit_inconsistency", "penguins", "multiclass", "logreg"),
    S("serving_default", "affairs", "binary", "logreg"),
    S("swapped_columns", "penguins", "multiclass", "rf"),
    S("swapped_columns", "seattle", "multiclass", "hgb"),
    S("domain_change", "affairs", "binary", "rf"),
    S("category_skew", "males", "regression", "ridge"),
    S("feature_absent_serving", "cars", "regression", "xgb"),
]
# part of the default suite: 14 scenarios, about 50 s of CPU to score (median 6 s each unloaded)
SUITE += SMELLS

# a second round of outside sources (kinds_outside2*.py, outside2-run.md): Lones 2021, Humbatova et
# al. 2020, Sambasivan et al. 2021, cleanlab Datalab null, Deepchecks CalibrationScore /
# PercentOfNulls, Rabanser et al. 2019 / Alibi Detect, Deequ, Evidently value-range tests, Suresh &
# Guttag 2021 / Slice Finder. Not in the default suite (`--outside2` selects it); scored blind once.
OUTSIDE2: list[Spec] = [
    S("clean_current", "flights", "binary", "lgbm", 20000),
    S("augment_before_split", "fishing", "multiclass", "rf"),
    S("augment_before_split", "affairs", "binary", "hgb", 1500),
    S("annotator_rules", "flights", "binary", "hgb", 8000),
    S("null_rows_join", "flights", "binary", "hgb", 6000),
    S("missing_normalisation", "flights", "binary", "sgd", 6000),
    S("missing_normalisation", "affairs", "binary", "sgd"),
    S("class_codes_regressed", "penguins", "multiclass", "ridge"),
    S("class_codes_regressed", "fishing", "multiclass", "rf"),
    S("unbalanced_training", "seattle", "multiclass", "logreg"),
    S("overconfident_network", "affairs", "binary", "mlp", 2000),
    S("accuracy_on_imbalanced", "flights", "binary", "hgb", 20000),
    S("subset_shift", "flights", "binary", "lgbm", 20000),
    S("knockout_shift", "affairs", "binary", "logreg"),
    S("type_change", "computers", "regression", "rf", 3000),
    S("out_of_range_share", "computers", "regression", "hgb", 3000),
    S("out_of_range_share", "cars", "regression", "ridge"),
    S("representation_bias", "penguins", "regression", "hgb"),
]

EXTRA: list[Spec] = [
    # the clean control of airports (not quiet: see confused_classes in SUITE)
    S("clean", "airports", "multiclass", "rf"),
    S("new_user", "affairs", "binary", "logreg", None, variant="semicolon"),
    S("new_user", "affairs", "binary", "xgb", 3000, variant="xgb_json"),
    S("new_user", "penguins", "multiclass", "rf", None, variant="one_row"),
    S("hidden_slice", "flights", "binary", "lgbm", 100000),
    S("ranking_clean", "computers", "ranking", "lgbm"),
    S("ranking_clean", "flights", "ranking", "hgb"),
    S("ranking_hard_negatives", "fishing", "ranking", "hgb"),
    S("ranking_hard_negatives", "flights", "ranking", "lgbm"),
    S("ranking_hard_positives", "fishing", "ranking", "lgbm"),
    S("ranking_hard_positives", "flights", "ranking", "hgb"),
    S("label_leakage", "computers", "regression", "ridge", 2000),
    S("train_test_overlap", "flights", "binary", "rf", 5000),
    S("missing_values", "flights", "binary", "lgbm", 10000),
    S("unseen_categories", "penguins", "regression", "ridge"),
    S("train_serving_skew", "flights", "binary", "hgb", 6000),
    S("drift_second_half", "fishing", "multiclass", "rf"),
    S("estimated_performance_drop", "affairs", "binary", "hgb"),
    S("imbalance_threshold", "affairs", "binary", "hgb"),
    S("label_leakage", "affairs", "binary", "xgb", 3000),
    S("eval_skew", "computers", "regression", "rf", 3000),
    S("eval_skew", "males", "regression", "hgb"),
    S("confident_region", "affairs", "binary", "lgbm"),
    S("label_noise", "fishing", "multiclass", "logreg", None, variant="classcond"),
    S("label_noise", "penguins", "regression", "ridge", None, variant="regression"),
    S("out_of_distribution", "computers", "regression", "hgb"),
    S("out_of_distribution", "affairs", "binary", "logreg"),
    S("target_suspect", "flights", "regression", "hgb", 8000, variant="censored"),
    S("target_suspect", "penguins", "multiclass", "hgb", None, variant="constant"),
    S("estimated_performance_drop", "flights", "binary", "lgbm", 20000),
    # confused_classes on cars/rf (plain and predonly) dropped and fishing/hgb replaced by
    # penguins/hgb: no pair's plant verifies on cars (Europe/Japan 0.47 of the errors beyond
    # chance but 18 errors in 118 evaluation rows) or fishing (boat/charter 0.27).
    S("confused_classes", "penguins", "multiclass", "hgb"),
    S("train_test_overlap", "computers", "regression", "rf", 2000),
    S("duplicates", "affairs", "binary", "rf"),
    S("duplicates", "cars", "regression", "hgb"),
    S("missing_values", "affairs", "binary", "hgb"),
    S("unseen_categories", "males", "regression", "ridge"),
    S("label_noise", "fishing", "multiclass", "hgb"),
    S("label_misalignment", "penguins", "multiclass", "rf"),
    S("label_misalignment", "computers", "regression", "ridge"),
    S("evaluated_on_train", "affairs", "binary", "hgb"),
    S("evaluated_on_train", "penguins", "multiclass", "logreg"),
    S("preprocessing_leakage", "flights", "binary", "logreg", 5000),
    S("preprocessing_leakage", "cars", "regression", "ridge"),
    S("version_mismatch", "affairs", "binary", "logreg"),
    S("version_mismatch", "penguins", "multiclass", "hgb"),
    S("overfit", "flights", "binary", "tree", 1500),
    S("overfit", "males", "regression", "tree", 1500),
    S("underfit", "cigar", "regression", "linreg"),
    S("underfit", "flights", "regression", "linreg", 30000),
    S("prediction_collapse", "affairs", "binary", "logreg"),
    S("prediction_collapse", "cars", "regression", "ridge"),
    S("wrong_output_type", "flights", "binary", "linreg", 5000),
    S("wrong_output_type", "affairs", "binary", "hgb", 3000),
    S("unhandled_imbalance", "affairs", "binary", "logreg"),
    S("unhandled_imbalance", "flights", "binary", "logreg", 30000),
    S("imbalance_threshold", "affairs", "binary", "logreg", None, variant="predonly"),
    S("miscalibration", "affairs", "binary", "nb"),
    S("miscalibration", "flights", "binary", "nb", 8000),
    S("miscalibration", "affairs", "binary", "rf", None, variant="undersampled"),
    S("divergence", "flights", "binary", "mlp", 5000),
    S("divergence", "penguins", "multiclass", "mlp", None, variant="flat"),
    S("temporal_split", "flights", "binary", "hgb", 10000),
    S("temporal_split", "seattle", "multiclass", "rf"),
    S("data_drift", "flights", "binary", "lgbm", 30000),
    S("data_drift", "computers", "regression", "hgb"),
    S("concept_drift", "affairs", "binary", "rf"),
    S("concept_drift", "computers", "regression", "lgbm"),
    S("schema_change", "affairs", "binary", "hgb"),
    S("schema_change", "flights", "binary", "lgbm", 8000),
    S("serialization_mismatch", "affairs", "binary", "logreg"),
    S("serialization_mismatch", "computers", "regression", "hgb"),
]

FULL: list[Spec] = (
    SUITE + EXTRA + [s for s in LEAKTAX if s not in SUITE] + [s for s in SMELLS if s not in SUITE] + OUTSIDE2
)

# --- the held-out set (`run.py --holdout`): the public benchmark's kinds on data sets that no
# detection change was measured on (sources_holdout.py; plants chosen in holdout_plants.py before
# any scoring), mixed families and sizes, one clean control per data set (two for the larger).
# Every public kind is here; temporal_split runs on fx, the only one of these data sets with
# dates (daily quotes). Ranking runs on the two scanner panels (purchase occasions as
# sessions). confident_region, eval_skew and the issue-9
# capabilities are not public kinds (the held-back set is "of the same kinds as the public one").
# Combinations whose plant failed the generator's own verification (so the failure is absent)
# were replaced before any scoring: underfit on fx and rhie (a linear model is as good as
# boosting there), the threshold case on rhie/hgb (an optimal threshold saves < 10%),
# confused_classes on anes (rf, logreg, hgb), yogurt (rf, hgb), cracker/hgb (no pair holds half
# of the errors); kept: underfit on cracker (logistic) and crime, confused_classes cracker/logreg
# (dropped later, when the generator came to verify the pair's excess over chance: see below).
HOLDOUT_CONTROLS: list[Spec] = [
    S("clean", "rhie", "binary", "hgb", 8000),
    S("clean", "rhie", "regression", "ridge", 20000),
    S("clean", "anes", "binary", "logreg"),
    S("clean", "anes", "multiclass", "rf"),
    S("clean", "star", "regression", "hgb"),
    S("clean", "star", "binary", "lgbm"),
    S("clean", "cracker", "multiclass", "hgb"),
    S("clean", "benefits", "binary", "xgb"),
    S("clean", "benefits", "binary", "linsvc"),
    S("clean", "crime", "regression", "rf"),
    S("clean", "lfp", "binary", "logreg"),
    S("clean", "fx", "regression", "hgb"),
    S("ranking_clean", "cracker", "ranking", "hgb"),
    S("ranking_clean", "yogurt", "ranking", "lgbm"),
]

HOLDOUT: list[Spec] = HOLDOUT_CONTROLS + [
    S("label_leakage", "benefits", "binary", "hgb", 3000),
    S("label_leakage", "star", "regression", "ridge"),
    S("label_leakage", "anes", "multiclass", "rf"),
    S("train_test_overlap", "rhie", "binary", "rf", 5000),
    S("train_test_overlap", "crime", "regression", "hgb"),
    S("duplicates", "benefits", "binary", "lgbm"),
    S("duplicates", "star", "regression", "hgb", 3000),
    S("missing_values", "rhie", "regression", "xgb", 6000),
    S("missing_values", "lfp", "binary", "hgb"),
    S("unseen_categories", "benefits", "binary", "hgb"),
    S("unseen_categories", "rhie", "binary", "logreg", 10000),
    S("unseen_categories", "crime", "regression", "ridge"),
    S("label_noise", "anes", "multiclass", "hgb"),
    S("label_noise", "cracker", "multiclass", "rf"),
    S("label_misalignment", "benefits", "binary", "rf"),
    S("label_misalignment", "star", "regression", "ridge", 3000),
    S("evaluated_on_train", "crime", "regression", "rf"),
    S("evaluated_on_train", "anes", "binary", "logreg"),
    S("preprocessing_leakage", "lfp", "binary", "logreg"),
    S("preprocessing_leakage", "rhie", "regression", "ridge", 3000),
    S("version_mismatch", "star", "regression", "rf", 3000),
    S("version_mismatch", "anes", "multiclass", "hgb"),
    S("overfit", "rhie", "binary", "tree", 1200),
    S("overfit", "benefits", "binary", "tree", 1500),
    S("underfit", "crime", "regression", "linreg"),
    S("underfit", "cracker", "multiclass", "logreg"),
    S("prediction_collapse", "benefits", "binary", "logreg"),
    S("prediction_collapse", "star", "regression", "ridge"),
    S("wrong_output_type", "anes", "binary", "rf"),
    S("wrong_output_type", "benefits", "binary", "linreg"),
    S("unhandled_imbalance", "cracker", "multiclass", "logreg"),
    S("unhandled_imbalance", "benefits", "binary", "logreg"),
    S("imbalance_threshold", "rhie", "binary", "logreg", 20000),
    S("imbalance_threshold", "benefits", "binary", "hgb"),
    S("imbalance_threshold", "rhie", "binary", "logreg", 20000, variant="predonly"),
    S("imbalance_threshold", "lfp", "binary", "logreg", None, variant="predonly"),
    S("miscalibration", "benefits", "binary", "nb"),
    S("miscalibration", "rhie", "binary", "hgb", 8000, variant="undersampled"),
    S("divergence", "benefits", "binary", "mlp"),
    S("divergence", "anes", "multiclass", "mlp"),
    S("temporal_split", "fx", "regression", "hgb"),
    S("temporal_split", "fx", "regression", "rf"),
    S("data_drift", "crime", "regression", "ridge"),
    S("data_drift", "rhie", "binary", "lgbm", 10000),
    S("data_drift", "benefits", "binary", "hgb"),
    S("data_drift", "fx", "regression", "hgb"),
    S("concept_drift", "benefits", "binary", "hgb"),
    S("concept_drift", "star", "regression", "lgbm"),
    S("schema_change", "rhie", "regression", "ridge", 5000),
    S("schema_change", "anes", "binary", "hgb"),
    S("serialization_mismatch", "benefits", "binary", "logreg"),
    S("serialization_mismatch", "crime", "regression", "hgb"),
    S("train_serving_skew", "benefits", "binary", "hgb"),
    S("train_serving_skew", "crime", "regression", "ridge"),
    S("train_serving_skew", "lfp", "binary", "logreg"),
    S("out_of_distribution", "anes", "binary", "rf"),
    S("out_of_distribution", "rhie", "regression", "hgb", 10000),
    S("estimated_performance_drop", "benefits", "binary", "hgb"),
    S("estimated_performance_drop", "rhie", "binary", "logreg", 10000),
    # confused_classes cracker/logreg dropped (the generator's pair-excess verification: at most
    # 0.02 beyond chance on cracker; anes 0.29, yogurt 0.14: no held-out data set hosts the plant)
    S("hidden_slice", "benefits", "binary", "hgb"),
    S("hidden_slice", "anes", "binary", "logreg"),
    S("hidden_slice", "star", "regression", "hgb"),
    S("hidden_slice", "rhie", "regression", "hgb", 8000),
    S("ranking_hard_negatives", "cracker", "ranking", "hgb"),
    S("ranking_hard_negatives", "yogurt", "ranking", "lgbm"),
    S("ranking_hard_positives", "cracker", "ranking", "lgbm"),
    S("ranking_hard_positives", "yogurt", "ranking", "hgb"),
]

# --- the second held-out set (`run.py --holdout2`): the same kinds as HOLDOUT on nine data sets
# that neither the suite nor HOLDOUT used (sources_holdout2.py; plants chosen in holdout2_plants.py
# before any scoring), scored blind once (holdout2-run.md). Sizes from 200 (pima, weak leak) to
# 20,000 rows; temporal_split on aids (diagnosis dates, the only dated one), entity-grouped splits
# on vietnam (communes) and the two scanner panels (households), ranking on catsup and ketchup.
# One combination failed its generator's own verification (the failure was absent) and was
# replaced before any scoring: underfit on hours/linreg (R^2 0.187 vs boosting 0.203: a linear
# model is nearly as good); vietnam/linreg (0.041 vs 0.053) and doctor/logreg (accuracy 0.590 vs
# boosting 0.577) fail the same way; budget/linreg (0.308 vs 0.372, 8,000 rows) holds. After the
# blind run (holdout2-run.md): estimated_performance_drop on hdma/hgb drew a 17-row batch (the
# generator now requires 50 rows; hdma/logreg: 23) and was replaced by doctor/hgb (162 rows).
HOLDOUT2_CONTROLS: list[Spec] = [
    S("clean", "hdma", "binary", "logreg"),
    S("clean", "hdma", "binary", "hgb"),
    S("clean", "doctor", "multiclass", "rf"),
    S("clean", "doctor", "binary", "lgbm"),
    S("clean", "vietnam", "regression", "hgb", 10000),
    S("clean", "vietnam", "binary", "logreg", 20000),
    S("clean", "budget", "regression", "ridge", 20000),
    S("clean", "budget", "regression", "lgbm", 8000),
    S("clean", "catsup", "multiclass", "hgb"),
    S("clean", "aids", "binary", "rf"),
    S("clean", "pima", "binary", "logreg"),
    S("clean", "hours", "regression", "xgb"),
    S("clean", "ketchup", "multiclass", "logreg"),
    S("ranking_clean", "catsup", "ranking", "hgb"),
    S("ranking_clean", "ketchup", "ranking", "lgbm"),
]

HOLDOUT2: list[Spec] = HOLDOUT2_CONTROLS + [
    S("label_leakage", "hdma", "binary", "hgb"),
    S("label_leakage", "vietnam", "regression", "ridge", 5000),
    S("label_leakage", "doctor", "multiclass", "rf"),
    S("label_leakage", "pima", "binary", "logreg", 200, variant="weak"),
    S("train_test_overlap", "budget", "regression", "hgb", 6000),
    S("train_test_overlap", "hdma", "binary", "rf"),
    S("duplicates", "aids", "binary", "lgbm"),
    S("duplicates", "hours", "regression", "hgb"),
    S("missing_values", "vietnam", "regression", "xgb", 6000),
    S("missing_values", "pima", "binary", "hgb"),
    S("unseen_categories", "doctor", "binary", "hgb"),
    S("unseen_categories", "hours", "regression", "ridge"),
    S("unseen_categories", "budget", "regression", "lgbm", 8000),
    S("label_noise", "doctor", "multiclass", "hgb"),
    S("label_noise", "catsup", "multiclass", "rf"),
    S("label_misalignment", "hdma", "binary", "rf"),
    S("label_misalignment", "budget", "regression", "ridge", 3000),
    S("evaluated_on_train", "hours", "regression", "rf"),
    S("evaluated_on_train", "aids", "binary", "logreg"),
    S("preprocessing_leakage", "pima", "binary", "logreg"),
    S("preprocessing_leakage", "vietnam", "regression", "ridge", 3000),
    S("version_mismatch", "budget", "regression", "rf", 3000),
    S("version_mismatch", "doctor", "multiclass", "hgb"),
    S("overfit", "hdma", "binary", "tree"),
    S("overfit", "vietnam", "binary", "tree", 1500),
    S("underfit", "budget", "regression", "linreg", 8000),
    S("underfit", "catsup", "multiclass", "logreg"),
    S("prediction_collapse", "hdma", "binary", "logreg"),
    S("prediction_collapse", "budget", "regression", "ridge"),
    S("wrong_output_type", "aids", "binary", "rf"),
    S("wrong_output_type", "doctor", "binary", "linreg"),
    S("unhandled_imbalance", "catsup", "multiclass", "logreg"),
    S("unhandled_imbalance", "hdma", "binary", "logreg"),
    S("imbalance_threshold", "vietnam", "binary", "logreg", 20000),
    S("imbalance_threshold", "hdma", "binary", "hgb"),
    S("imbalance_threshold", "doctor", "binary", "logreg", None, variant="predonly"),
    S("imbalance_threshold", "pima", "binary", "logreg", None, variant="predonly"),
    S("miscalibration", "hdma", "binary", "nb"),
    S("miscalibration", "vietnam", "binary", "hgb", 8000, variant="undersampled"),
    S("divergence", "hdma", "binary", "mlp"),
    S("divergence", "doctor", "multiclass", "mlp"),
    S("temporal_split", "aids", "binary", "hgb"),
    S("temporal_split", "aids", "binary", "rf"),
    S("data_drift", "aids", "binary", "hgb"),
    S("data_drift", "vietnam", "binary", "lgbm", 10000),
    S("data_drift", "budget", "regression", "hgb", 10000),
    S("data_drift", "hours", "regression", "ridge"),
    S("concept_drift", "hdma", "binary", "hgb"),
    S("concept_drift", "hours", "regression", "lgbm"),
    S("schema_change", "vietnam", "regression", "ridge", 5000),
    S("schema_change", "doctor", "binary", "hgb"),
    S("serialization_mismatch", "hdma", "binary", "logreg"),
    S("serialization_mismatch", "budget", "regression", "hgb", 5000),
    S("train_serving_skew", "hdma", "binary", "hgb"),
    S("train_serving_skew", "budget", "regression", "ridge", 5000),
    S("train_serving_skew", "aids", "binary", "logreg"),
    S("out_of_distribution", "doctor", "binary", "rf"),
    S("out_of_distribution", "vietnam", "regression", "hgb", 10000),
    S("estimated_performance_drop", "doctor", "binary", "hgb"),
    S("estimated_performance_drop", "vietnam", "binary", "logreg", 10000),
    # confused_classes doctor/logreg and catsup/logreg dropped (the generator's pair-excess
    # verification: at most 0.19 and 0.08 beyond chance; ketchup 0.10: no data set here hosts it)
    S("hidden_slice", "hdma", "binary", "hgb"),
    S("hidden_slice", "doctor", "binary", "logreg"),
    S("hidden_slice", "budget", "regression", "hgb", 8000),
    S("hidden_slice", "hours", "regression", "hgb"),
    S("ranking_hard_negatives", "catsup", "ranking", "hgb"),
    S("ranking_hard_negatives", "ketchup", "ranking", "lgbm"),
    S("ranking_hard_positives", "catsup", "ranking", "lgbm"),
    S("ranking_hard_positives", "ketchup", "ranking", "hgb"),
]

# --- the third held-out set (`run.py --holdout3`): the same kinds as HOLDOUT2 on nine data sets
# that neither the suite, HOLDOUT nor HOLDOUT2 used (sources_holdout3.py; plants chosen in
# holdout3_plants.py before any scoring), built while the tool was being changed by others who never
# saw it, scored blind once with a frozen snapshot of main (holdout3-run.md). Sizes from 214 (glass)
# and 250 (medicare, weak leak) to 20,000 rows; temporal_split on bundes (match dates, the only dated
# one), entity-grouped splits on health5 (persons), pupils (classes) and medicare (providers),
# ranking on carpref (stated-preference choice sets) and pupils (classes, graded relevance).
# Seven combinations failed their generator's own verification (the failure was absent) and were
# replaced before any scoring: label_leakage on health5/hgb (the leak alone AUC 0.951 vs 0.876 for
# the other features: gain 0.075 < 0.08) by bundes/hgb; underfit on health5/linreg (R^2 0.194 vs
# boosting 0.210) by health5/logreg on the binary task (AUC 0.821 vs 0.887); imbalance_threshold on
# bundes/hgb and the predonly variant on medicare/logreg (an optimal threshold saves too little) by
# plebiscite/hgb and bundes/logreg; estimated_performance_drop on bundes/hgb (no real drop) by
# plebiscite/hgb; confused_classes on glass/rf (window float/non-float hold 0.43 of 14 errors) by
# glass/logreg (0.55 of 22) and on plebiscite/logreg (undecided/yes 0.36 of 247) by bundes/logreg
# (draw/home 0.50 of the errors). Also tried and failing the same way: underfit on plebiscite,
# heating and bundes (logreg), pupils and wages76 (linreg), medicare/logreg; confused_classes on
# glass/hgb, heating (logreg, rf, hgb), plebiscite (rf, hgb, lgbm), bundes/hgb.
HOLDOUT3_CONTROLS: list[Spec] = [
    # was logreg: the very combination underfit__health5_logreg_8000 measures as underfit (AUC 0.821 vs
    # boosting 0.887), so not a clean control; replaced after the blind run (holdout3-run.md)
    S("clean", "health5", "binary", "hgb", 8000),
    S("clean", "health5", "regression", "hgb", 10000),
    S("clean", "bundes", "multiclass", "hgb", 8000),
    S("clean", "bundes", "binary", "lgbm"),
    S("clean", "wages76", "regression", "ridge"),
    S("clean", "wages76", "regression", "xgb"),
    S("clean", "pupils", "regression", "rf"),
    S("clean", "heating", "multiclass", "logreg"),
    S("clean", "plebiscite", "multiclass", "rf"),
    S("clean", "plebiscite", "binary", "hgb"),
    S("clean", "medicare", "binary", "logreg"),
    S("clean", "glass", "multiclass", "rf"),
    S("ranking_clean", "carpref", "ranking", "lgbm"),
    S("ranking_clean", "pupils", "ranking", "hgb"),
]

HOLDOUT3: list[Spec] = HOLDOUT3_CONTROLS + [
    S("label_leakage", "bundes", "binary", "hgb", 5000),
    S("label_leakage", "wages76", "regression", "ridge"),
    S("label_leakage", "plebiscite", "multiclass", "rf"),
    S("label_leakage", "medicare", "binary", "logreg", 250, variant="weak"),
    S("train_test_overlap", "health5", "regression", "hgb", 6000),
    S("train_test_overlap", "plebiscite", "binary", "rf"),
    S("duplicates", "bundes", "binary", "lgbm"),
    S("duplicates", "pupils", "regression", "hgb"),
    S("missing_values", "wages76", "regression", "xgb"),
    S("missing_values", "medicare", "binary", "hgb"),
    S("unseen_categories", "health5", "binary", "hgb", 8000),
    S("unseen_categories", "plebiscite", "binary", "logreg"),
    S("unseen_categories", "heating", "multiclass", "rf"),
    S("label_noise", "bundes", "multiclass", "hgb", 8000),
    S("label_noise", "plebiscite", "multiclass", "logreg"),
    S("label_misalignment", "health5", "binary", "rf", 5000),
    S("label_misalignment", "wages76", "regression", "ridge"),
    S("evaluated_on_train", "pupils", "regression", "rf"),
    S("evaluated_on_train", "medicare", "binary", "logreg"),
    S("preprocessing_leakage", "plebiscite", "binary", "logreg"),
    S("preprocessing_leakage", "wages76", "regression", "ridge"),
    S("version_mismatch", "health5", "regression", "rf", 3000),
    S("version_mismatch", "heating", "multiclass", "hgb"),
    S("overfit", "health5", "binary", "tree", 1500),
    S("overfit", "bundes", "binary", "tree", 1200),
    S("underfit", "health5", "binary", "logreg", 8000),
    S("underfit", "glass", "multiclass", "logreg"),
    S("prediction_collapse", "plebiscite", "binary", "logreg"),
    S("prediction_collapse", "pupils", "regression", "ridge"),
    S("wrong_output_type", "medicare", "binary", "rf"),
    S("wrong_output_type", "bundes", "binary", "linreg"),
    S("unhandled_imbalance", "heating", "multiclass", "logreg"),
    S("unhandled_imbalance", "health5", "binary", "logreg"),
    S("imbalance_threshold", "health5", "binary", "logreg", 20000),
    S("imbalance_threshold", "plebiscite", "binary", "hgb"),
    S("imbalance_threshold", "plebiscite", "binary", "logreg", None, variant="predonly"),
    S("imbalance_threshold", "bundes", "binary", "logreg", None, variant="predonly"),
    S("miscalibration", "plebiscite", "binary", "nb"),
    S("miscalibration", "health5", "binary", "hgb", 8000, variant="undersampled"),
    S("divergence", "bundes", "binary", "mlp"),
    S("divergence", "heating", "multiclass", "mlp"),
    S("temporal_split", "bundes", "binary", "hgb"),
    S("temporal_split", "bundes", "multiclass", "rf", 8000),
    S("data_drift", "bundes", "binary", "hgb"),
    S("data_drift", "health5", "regression", "ridge"),
    S("data_drift", "pupils", "regression", "hgb"),
    S("data_drift", "plebiscite", "binary", "lgbm"),
    S("concept_drift", "health5", "binary", "hgb", 8000),
    S("concept_drift", "wages76", "regression", "lgbm"),
    S("schema_change", "health5", "regression", "ridge", 5000),
    S("schema_change", "plebiscite", "binary", "hgb"),
    S("serialization_mismatch", "medicare", "binary", "logreg"),
    S("serialization_mismatch", "pupils", "regression", "hgb"),
    S("train_serving_skew", "health5", "binary", "hgb", 8000),
    S("train_serving_skew", "wages76", "regression", "ridge"),
    S("train_serving_skew", "heating", "multiclass", "logreg"),
    S("out_of_distribution", "plebiscite", "binary", "rf"),
    S("out_of_distribution", "health5", "regression", "hgb", 10000),
    S("estimated_performance_drop", "health5", "binary", "logreg", 10000),
    S("estimated_performance_drop", "plebiscite", "binary", "hgb"),
    S("confused_classes", "glass", "multiclass", "logreg"),
    S("confused_classes", "bundes", "multiclass", "logreg"),
    S("hidden_slice", "health5", "binary", "hgb", 10000),
    S("hidden_slice", "wages76", "regression", "hgb"),
    S("hidden_slice", "plebiscite", "binary", "logreg"),
    S("hidden_slice", "pupils", "regression", "hgb"),
    S("ranking_hard_negatives", "carpref", "ranking", "hgb"),
    S("ranking_hard_negatives", "pupils", "ranking", "lgbm"),
    S("ranking_hard_positives", "carpref", "ranking", "lgbm"),
    S("ranking_hard_positives", "pupils", "ranking", "hgb"),
]

# --- the fourth held-out set (`run.py --holdout4`): the same kinds on nine data sets that no other
# set used (sources_holdout4.py; plants chosen in holdout4_plants.py before any scoring), built while
# the tool was being changed by others who never saw it, scored blind once with a frozen snapshot of
# main (holdout4-run.md). Sizes from 300 (jobtrain, weak leak) to 8,868 rows; temporal_split on nox
# (hourly readings, the only dated table), entity-grouped splits on batting (players) and tuna
# (households), ranking on batting (a club-season's batters, graded) and tuna (a purchase's shelf).
# Six combinations failed their generator's own verification and were replaced before any scoring:
# label_leakage weak on jobtrain/logreg 300 (the leak alone AUC 0.928 vs 0.921 for the other features)
# by kakadu/logreg 300 (0.891 vs 0.788); miscalibration undersampled on batting/hgb (ECE 0.026) by
# elders/hgb (0.204); estimated_performance_drop on batting/hgb and kakadu/hgb (batches of 47 and 44
# rows) by nox/hgb (243 rows, accuracy 0.49 vs 0.86) and elders/rf (113 rows, 0.58 vs 0.83);
# confused_classes on kakadu/rf (no pair above 0.20 of the errors beyond chance) by quakes/lgbm. One
# that verified was replaced for too little evidence: imbalance_threshold on jobtrain/hgb (the 5%
# subsample left 105 evaluation rows, 5 positives) by nox/hgb. Also tried and failing: label_leakage
# weak on elders/logreg 300, confused_classes on kakadu (hgb, logreg), tuna/hgb, jobless/hgb (when it
# was a 4-class exit route), quakes/logreg; imbalance_threshold on jobless (hgb, logreg).
HOLDOUT4_CONTROLS: list[Spec] = [
    S("clean", "batting", "regression", "hgb"),
    S("clean", "batting", "binary", "lgbm"),
    # five controls replaced before scoring, each not clean by the set's own measure (holdout4-run.md):
    # hgb on elders binary (train AUC 0.907, held-out 0.806, below logistic's 0.814), rf on elders
    # regression (R^2 0.64 / 0.17, below ridge's 0.20), xgb on jobtrain regression (0.77 / 0.53, below
    # ridge's 0.57), hgb on kakadu binary (0.971 / 0.883, below logistic's 0.891): overfit as the overfit
    # kind measures it; rf on quakes multiclass: the natural intermediate/shallow pair sits at the
    # confused_classes bar (34 pair errors, 0.398 of the errors beyond chance; bar 40 and 0.40)
    # (and jobless became a binary table: its 4-class exit route left part-time exits, 10.5%, unpredicted)
    S("clean", "elders", "binary", "logreg"),
    S("clean", "elders", "regression", "ridge"),
    S("clean", "jobtrain", "regression", "ridge"),
    S("clean", "jobtrain", "binary", "rf"),
    S("clean", "kakadu", "binary", "logreg"),
    S("clean", "tuna", "multiclass", "hgb", 8000),
    S("clean", "quakes", "regression", "ridge"),
    S("clean", "jobless", "binary", "logreg"),
    S("clean", "nox", "regression", "lgbm"),
    S("clean", "forbes", "regression", "xgb"),
    S("ranking_clean", "batting", "ranking", "hgb"),
    S("ranking_clean", "tuna", "ranking", "lgbm"),
]

HOLDOUT4: list[Spec] = HOLDOUT4_CONTROLS + [
    S("label_leakage", "elders", "binary", "hgb"),
    S("label_leakage", "jobtrain", "regression", "ridge"),
    S("label_leakage", "kakadu", "multiclass", "rf"),
    S("label_leakage", "kakadu", "binary", "logreg", 300, variant="weak"),
    S("train_test_overlap", "batting", "regression", "hgb", 5000),
    S("train_test_overlap", "forbes", "regression", "rf"),
    S("duplicates", "tuna", "multiclass", "lgbm", 6000),
    S("duplicates", "nox", "regression", "hgb"),
    S("missing_values", "jobtrain", "regression", "xgb"),
    S("missing_values", "quakes", "regression", "hgb"),
    S("unseen_categories", "elders", "binary", "hgb"),
    S("unseen_categories", "forbes", "regression", "lgbm"),
    S("unseen_categories", "batting", "binary", "xgb"),
    S("label_noise", "quakes", "multiclass", "hgb", variant="classcond"),
    S("label_noise", "batting", "regression", "lgbm", variant="regression"),
    S("label_noise", "kakadu", "multiclass", "sgd", variant="classcond"),
    S("label_misalignment", "elders", "regression", "ridge"),
    S("label_misalignment", "nox", "binary", "rf"),
    S("evaluated_on_train", "jobless", "binary", "logreg"),
    S("evaluated_on_train", "forbes", "regression", "ridge"),
    S("preprocessing_leakage", "jobtrain", "binary", "logreg"),
    S("preprocessing_leakage", "kakadu", "binary", "logreg"),
    S("version_mismatch", "quakes", "multiclass", "rf"),
    S("version_mismatch", "elders", "regression", "hgb"),
    S("overfit", "batting", "binary", "tree", 1200),
    S("overfit", "elders", "binary", "tree", 1200),
    S("underfit", "quakes", "multiclass", "logreg"),
    S("underfit", "nox", "regression", "linreg"),
    S("prediction_collapse", "forbes", "regression", "ridge"),
    S("prediction_collapse", "jobtrain", "binary", "logreg"),
    S("wrong_output_type", "kakadu", "binary", "rf"),
    S("wrong_output_type", "nox", "binary", "linreg"),
    S("unhandled_imbalance", "elders", "binary", "logreg"),
    S("unhandled_imbalance", "tuna", "multiclass", "logreg", 6000),
    S("imbalance_threshold", "batting", "binary", "hgb"),
    S("imbalance_threshold", "nox", "binary", "hgb"),
    S("imbalance_threshold", "elders", "binary", "logreg", None, variant="predonly"),
    S("imbalance_threshold", "nox", "binary", "logreg", None, variant="predonly"),
    S("miscalibration", "jobtrain", "binary", "nb"),
    S("miscalibration", "elders", "binary", "hgb", variant="undersampled"),
    S("divergence", "elders", "binary", "mlp"),
    S("divergence", "quakes", "multiclass", "mlp"),
    S("temporal_split", "nox", "regression", "hgb"),
    S("temporal_split", "nox", "binary", "rf"),
    S("data_drift", "batting", "regression", "hgb"),
    S("data_drift", "nox", "regression", "ridge"),
    S("data_drift", "elders", "binary", "lgbm"),
    S("data_drift", "quakes", "multiclass", "rf"),
    S("concept_drift", "elders", "binary", "hgb"),
    S("concept_drift", "jobtrain", "binary", "rf"),
    S("schema_change", "forbes", "regression", "hgb"),
    S("schema_change", "jobless", "binary", "logreg"),
    S("serialization_mismatch", "kakadu", "binary", "logreg"),
    S("serialization_mismatch", "batting", "regression", "hgb"),
    S("train_serving_skew", "elders", "binary", "hgb"),
    S("train_serving_skew", "jobtrain", "regression", "ridge"),
    S("train_serving_skew", "quakes", "regression", "rf"),
    S("out_of_distribution", "nox", "regression", "hgb"),
    S("out_of_distribution", "jobless", "binary", "logreg"),
    S("estimated_performance_drop", "nox", "binary", "hgb"),
    S("estimated_performance_drop", "elders", "binary", "rf"),
    S("confused_classes", "quakes", "multiclass", "hgb"),
    S("confused_classes", "quakes", "multiclass", "lgbm"),
    S("hidden_slice", "batting", "binary", "linsvc"),
    S("hidden_slice", "elders", "regression", "hgb"),
    S("hidden_slice", "jobtrain", "regression", "hgb"),
    S("hidden_slice", "nox", "regression", "hgb"),
    S("ranking_hard_negatives", "batting", "ranking", "hgb"),
    S("ranking_hard_negatives", "tuna", "ranking", "lgbm"),
    S("ranking_hard_positives", "batting", "ranking", "lgbm"),
    S("ranking_hard_positives", "tuna", "ranking", "hgb"),
]

# --- the fifth held-out set (`run.py --holdout5`): the same kinds on nine data sets that no other
# set used (sources_holdout5.py; plants chosen in holdout5_plants.py before any scoring), built while
# the tool was being changed by others who never saw it, scored blind once with a frozen snapshot of
# main (holdout5-run.md). Sizes from 300 (colon, weak leak) and 393 (profs) to 5,904 rows (firms);
# temporal_split on penn and firms (yearly observations), entity-grouped splits on rail
# (respondents), galton (families), penn (countries) and firms, ranking on rail (a
# respondent's tickets) and galton (a family's children by height).
# Nine combinations failed their generator's own verification and were replaced before any scoring:
# label_leakage on disputes/hgb (the leak alone AUC 0.954 vs 0.939 for the other features: conflicts
# are already well predicted) by rail/hgb (0.955 vs 0.717); miscalibration undersampled on
# disputes/hgb (ECE 0.062) by windsor/hgb (0.188); estimated_performance_drop on disputes/hgb (a batch
# of 36 rows near the boundary) by rail/logreg (230 rows, real accuracy 0.58 vs 0.69);
# serialization_mismatch on colon/logreg and firms/hgb (the served model too close) by schools/hgb
# and rail/hgb; unhandled_imbalance on disputes/logreg (the rare class still predicted, recall 0.33)
# by rail/logreg; hidden_slice on colon/hgb (31 rows, too mild) by colon/logreg; ranking_hard_negatives
# on rail/hgb (promoted tickets not ranked higher) by galton/hgb; underfit on firms/logreg (accuracy
# 0.850 vs 0.843 for boosting) by nothing: no other table verifies (rail, disputes, colon, windsor
# binary; windsor, galton, schools, penn, profs, firms regression; profs multiclass: boosting at most
# 0.06 above the linear model, mostly below it). Also tried and failing: estimated_performance_drop on
# disputes (logreg, rf: batches of 30-32 rows), colon/logreg (no real drop), windsor/logreg (22 rows);
# miscalibration undersampled on disputes (rf, lgbm: ECE 0.062-0.065); hidden_slice on colon/rf.
HOLDOUT5_CONTROLS: list[Spec] = [
    S("clean", "rail", "binary", "logreg"),
    S("clean", "galton", "regression", "ridge"),
    S("clean", "penn", "regression", "ridge"),
    S("clean", "disputes", "binary", "hgb"),
    S("clean", "disputes", "binary", "lgbm"),
    S("clean", "colon", "binary", "logreg"),
    S("clean", "profs", "regression", "ridge"),
    S("clean", "profs", "multiclass", "logreg"),
    S("clean", "windsor", "regression", "ridge"),
    S("clean", "windsor", "binary", "logreg"),
    S("clean", "firms", "regression", "xgb"),
    S("clean", "schools", "regression", "rf"),
    S("ranking_clean", "rail", "ranking", "lgbm"),
    S("ranking_clean", "galton", "ranking", "hgb"),
]

HOLDOUT5: list[Spec] = HOLDOUT5_CONTROLS + [
    S("label_leakage", "rail", "binary", "hgb"),
    S("label_leakage", "schools", "regression", "ridge"),
    S("label_leakage", "profs", "multiclass", "rf"),
    S("label_leakage", "colon", "binary", "logreg", 300, variant="weak"),
    S("train_test_overlap", "firms", "regression", "hgb", 5000),
    S("train_test_overlap", "windsor", "regression", "rf"),
    S("duplicates", "disputes", "binary", "lgbm"),
    S("duplicates", "galton", "regression", "hgb"),
    S("missing_values", "schools", "regression", "xgb"),
    S("missing_values", "colon", "binary", "hgb"),
    S("unseen_categories", "windsor", "binary", "hgb"),
    S("unseen_categories", "schools", "regression", "lgbm"),
    S("unseen_categories", "colon", "binary", "xgb"),
    S("label_noise", "firms", "multiclass", "hgb", variant="classcond"),
    S("label_noise", "windsor", "regression", "lgbm", variant="regression"),
    S("label_noise", "rail", "binary", "sgd", variant="classcond"),
    S("label_misalignment", "windsor", "regression", "ridge"),
    S("label_misalignment", "disputes", "binary", "rf"),
    S("evaluated_on_train", "profs", "binary", "logreg"),
    S("evaluated_on_train", "galton", "regression", "ridge"),
    S("preprocessing_leakage", "colon", "binary", "logreg"),
    S("preprocessing_leakage", "disputes", "binary", "logreg"),
    S("version_mismatch", "firms", "multiclass", "rf"),
    S("version_mismatch", "windsor", "regression", "hgb"),
    S("overfit", "disputes", "binary", "tree", 1200),
    S("overfit", "rail", "binary", "tree", 1200),
    S("underfit", "profs", "binary", "logreg"),
    S("prediction_collapse", "schools", "regression", "ridge"),
    S("prediction_collapse", "colon", "binary", "logreg"),
    S("wrong_output_type", "rail", "binary", "rf"),
    S("wrong_output_type", "disputes", "binary", "linreg"),
    S("unhandled_imbalance", "rail", "binary", "logreg"),
    S("unhandled_imbalance", "firms", "multiclass", "logreg", 4000),
    S("imbalance_threshold", "disputes", "binary", "hgb"),
    S("imbalance_threshold", "rail", "binary", "hgb"),
    S("imbalance_threshold", "disputes", "binary", "logreg", None, variant="predonly"),
    S("imbalance_threshold", "rail", "binary", "logreg", None, variant="predonly"),
    S("miscalibration", "windsor", "binary", "nb"),
    S("miscalibration", "windsor", "binary", "hgb", variant="undersampled"),
    S("divergence", "colon", "binary", "mlp"),
    S("divergence", "profs", "multiclass", "mlp"),
    S("temporal_split", "penn", "regression", "hgb"),
    S("temporal_split", "firms", "multiclass", "rf"),
    S("data_drift", "penn", "regression", "ridge"),
    S("data_drift", "firms", "regression", "lgbm"),
    S("data_drift", "disputes", "binary", "hgb"),
    S("data_drift", "galton", "regression", "ridge"),
    S("concept_drift", "disputes", "binary", "hgb"),
    S("concept_drift", "colon", "binary", "rf"),
    S("schema_change", "schools", "regression", "hgb"),
    S("schema_change", "rail", "binary", "logreg"),
    S("serialization_mismatch", "schools", "regression", "hgb"),
    S("serialization_mismatch", "rail", "binary", "hgb"),
    S("train_serving_skew", "galton", "regression", "ridge"),
    S("train_serving_skew", "rail", "binary", "hgb"),
    S("train_serving_skew", "disputes", "binary", "rf"),
    S("out_of_distribution", "penn", "regression", "ridge"),
    S("out_of_distribution", "windsor", "binary", "logreg"),
    S("estimated_performance_drop", "rail", "binary", "logreg"),
    S("estimated_performance_drop", "rail", "binary", "hgb"),
    S("confused_classes", "firms", "multiclass", "hgb"),
    S("confused_classes", "firms", "multiclass", "lgbm"),
    S("hidden_slice", "disputes", "binary", "linsvc"),
    S("hidden_slice", "galton", "regression", "lgbm"),
    S("hidden_slice", "colon", "binary", "logreg"),
    S("hidden_slice", "firms", "regression", "hgb"),
    S("ranking_hard_negatives", "galton", "ranking", "hgb"),
    S("ranking_hard_negatives", "galton", "ranking", "lgbm"),
    S("ranking_hard_positives", "rail", "ranking", "lgbm"),
    S("ranking_hard_positives", "galton", "ranking", "hgb"),
]

# --- the sixth held-out set (`run.py --holdout6`): the same kinds on nine data sets that no other
# set used (sources_holdout6.py; plants chosen in holdout6_plants.py before any scoring), built while
# the tool was being changed by others who never saw it, to be scored blind once with the session's
# final code (holdout6-run.md). Sizes from 184 (babies) to 2,236 rows (persona); temporal_split on
# economy (monthly series), an entity-grouped split on pigs (a pig's weekly weighings), ranking on
# travel (an intercity traveller's four modes) and commute (a commuter's four modes).
# Ten combinations were replaced or dropped before any scoring (no scenario of this set was ever run
# through mltriage). Failing their generator's own verification: underfit on commute/logreg
# (accuracy 0.647 vs 0.618 for boosting) by travel/logreg, the only table that verifies (also tried:
# persona multiclass 0.504 vs 0.499 and binary AUC 0.745 vs 0.719, relapse 0.756 vs 0.706, babies
# 0.721 vs 0.596, lake binary 0.794 vs 0.737, clinic logreg and linsvc 0.623 vs 0.595; linreg on
# lake, pigs, persona, economy R^2 0.317 vs 0.213, 0.932 vs 0.931, 0.143 vs 0.155, 0.914 vs 0.952, a
# gap under 0.06); imbalance_threshold on clinic/hgb and predonly relapse/logreg (the threshold saves
# too little) by lake/hgb and predonly lake/logreg (relapse/hgb and babies/hgb fail the same way);
# estimated_performance_drop on clinic/hgb (no real drop) by clinic/rf (relapse/hgb and lake/hgb:
# batches of 6 and 24 rows); hidden_slice on clinic/linsvc (17 rows, too mild) by persona/linsvc;
# confused_classes on commute/hgb and persona/lgbm dropped: no pair verifies on either multiclass
# table (commute bus/train 17 of 56 errors, excess over chance 0.19; lgbm 0.27; persona
# college_grad/some_college 97 of 344, excess 0.04; hgb alike). Failing the controls' own check
# (own sklearn code, not mltriage): clean clinic/hgb and clinic/lgbm (a logistic baseline beats
# them: held-out AUC 0.623 vs 0.595 and 0.578, 5-fold 0.596 vs 0.521 for boosting) by clinic/linsvc
# and pigs/rf (clinic/logreg: cross-validated ECE 0.058 above its null's 95th percentile 0.050);
# clean relapse/rf (0.706 vs 0.756 for the logistic model) by economy/rf (R^2 0.966 vs 0.913); clean
# lake/logreg (ECE 0.107 vs the null's p95 0.095, cross-validated 0.066 vs 0.056) by babies/logreg
# (0.106 vs 0.177; 0.075 vs 0.107).
HOLDOUT6_CONTROLS: list[Spec] = [
    S("clean", "relapse", "binary", "logreg"),
    S("clean", "babies", "regression", "ridge"),
    S("clean", "babies", "binary", "logreg"),
    S("clean", "pigs", "regression", "ridge"),
    S("clean", "pigs", "regression", "rf"),
    S("clean", "clinic", "binary", "linsvc"),
    S("clean", "persona", "binary", "logreg"),
    S("clean", "persona", "regression", "ridge"),
    S("clean", "commute", "multiclass", "logreg"),
    S("clean", "lake", "regression", "ridge"),
    S("clean", "economy", "regression", "xgb"),
    S("clean", "economy", "regression", "rf"),
    S("ranking_clean", "travel", "ranking", "lgbm"),
    S("ranking_clean", "commute", "ranking", "hgb"),
]

HOLDOUT6: list[Spec] = HOLDOUT6_CONTROLS + [
    S("label_leakage", "relapse", "binary", "hgb"),
    S("label_leakage", "babies", "regression", "ridge"),
    S("label_leakage", "persona", "multiclass", "rf"),
    S("label_leakage", "clinic", "binary", "logreg", 300, variant="weak"),
    S("train_test_overlap", "persona", "regression", "hgb"),
    S("train_test_overlap", "lake", "regression", "rf"),
    S("duplicates", "clinic", "binary", "lgbm"),
    S("duplicates", "pigs", "regression", "hgb"),
    S("missing_values", "lake", "regression", "xgb"),
    S("missing_values", "relapse", "binary", "hgb"),
    S("unseen_categories", "clinic", "binary", "hgb"),
    S("unseen_categories", "persona", "regression", "lgbm"),
    S("unseen_categories", "babies", "binary", "xgb"),
    S("label_noise", "persona", "multiclass", "hgb", variant="classcond"),
    S("label_noise", "pigs", "regression", "lgbm", variant="regression"),
    S("label_noise", "clinic", "binary", "sgd", variant="classcond"),
    S("label_misalignment", "lake", "regression", "ridge"),
    S("label_misalignment", "relapse", "binary", "rf"),
    S("evaluated_on_train", "babies", "binary", "logreg"),
    S("evaluated_on_train", "economy", "regression", "ridge"),
    S("preprocessing_leakage", "relapse", "binary", "logreg"),
    S("preprocessing_leakage", "clinic", "binary", "logreg"),
    S("version_mismatch", "commute", "multiclass", "rf"),
    S("version_mismatch", "babies", "regression", "hgb"),
    S("overfit", "persona", "binary", "tree", 1200),
    S("overfit", "clinic", "binary", "tree"),
    S("underfit", "travel", "binary", "logreg"),
    S("prediction_collapse", "persona", "regression", "ridge"),
    S("prediction_collapse", "lake", "binary", "logreg"),
    S("wrong_output_type", "clinic", "binary", "rf"),
    S("wrong_output_type", "persona", "binary", "linreg"),
    S("unhandled_imbalance", "clinic", "binary", "logreg"),
    S("unhandled_imbalance", "persona", "multiclass", "logreg"),
    S("imbalance_threshold", "persona", "binary", "hgb"),
    S("imbalance_threshold", "lake", "binary", "hgb"),
    S("imbalance_threshold", "persona", "binary", "logreg", None, variant="predonly"),
    S("imbalance_threshold", "lake", "binary", "logreg", None, variant="predonly"),
    S("miscalibration", "lake", "binary", "nb"),
    S("miscalibration", "persona", "binary", "hgb", variant="undersampled"),
    S("divergence", "relapse", "binary", "mlp"),
    S("divergence", "commute", "multiclass", "mlp"),
    S("temporal_split", "economy", "regression", "hgb"),
    S("temporal_split", "economy", "regression", "rf"),
    S("data_drift", "economy", "regression", "ridge"),
    S("data_drift", "pigs", "regression", "lgbm"),
    S("data_drift", "persona", "binary", "hgb"),
    S("data_drift", "lake", "regression", "ridge"),
    S("concept_drift", "clinic", "binary", "hgb"),
    S("concept_drift", "relapse", "binary", "rf"),
    S("schema_change", "lake", "regression", "hgb"),
    S("schema_change", "clinic", "binary", "logreg"),
    S("serialization_mismatch", "pigs", "regression", "hgb"),
    S("serialization_mismatch", "persona", "binary", "hgb"),
    S("train_serving_skew", "babies", "regression", "ridge"),
    S("train_serving_skew", "relapse", "binary", "hgb"),
    S("train_serving_skew", "clinic", "binary", "rf"),
    S("out_of_distribution", "pigs", "regression", "ridge"),
    S("out_of_distribution", "relapse", "binary", "logreg"),
    S("estimated_performance_drop", "persona", "binary", "logreg"),
    S("estimated_performance_drop", "clinic", "binary", "rf"),
    S("hidden_slice", "persona", "binary", "linsvc"),
    S("hidden_slice", "pigs", "regression", "lgbm"),
    S("hidden_slice", "relapse", "binary", "logreg"),
    S("hidden_slice", "persona", "regression", "hgb"),
    S("ranking_hard_negatives", "travel", "ranking", "hgb"),
    S("ranking_hard_negatives", "commute", "ranking", "lgbm"),
    S("ranking_hard_positives", "travel", "ranking", "lgbm"),
    S("ranking_hard_positives", "commute", "ranking", "hgb"),
]

# --- the seventh held-out set (`run.py --holdout7`): the same kinds on nine data sets that no other
# set used (sources_holdout7.py; plants chosen in holdout7_plants.py before any scoring), built while
# the tool was being changed by others who never saw it, to be scored blind once (holdout7-run.md).
# Sizes from 437 (counties) to 7,126 rows (homes); temporal_split on homes (monthly city markets),
# entity-grouped splits on mood (a respondent's sessions), towns (a municipality's years), patents
# (a firm's years) and hvac (a house's seven systems), ranking on hvac (the seven systems
# offered for a house) and homes (a month's city markets).
# Ten combinations were replaced before any scoring (no scenario of this set was ever run
# through mltriage). Failing their generator's own verification: label_leakage weak on
# patents/logreg (leak alone AUC 0.851 vs 0.791 for the other columns) by chemists/logreg (0.879 vs
# 0.620); underfit on hvac/logreg (AUC 0.931 vs 0.944 for boosting) by homes/linreg (R^2 0.931
# vs 0.992; counties multiclass logreg also verifies, 0.659 vs 0.727; counties binary 0.841 vs
# 0.865, mood 0.641 vs 0.622, patents 0.707 vs 0.664, towns linreg 0.929 vs 0.901 do not);
# imbalance_threshold on mood/hgb and predonly mood/logreg (the threshold saves too little) by
# counties/hgb and predonly hvac/logreg (patents, hvac and nursing hgb and predonly
# patents/logreg fail the same way; predonly nursing and counties verify); miscalibration
# undersampled on mood/hgb (ECE 0.075) by hvac/hgb (0.110 vs 0.022 for the logistic baseline);
# estimated_performance_drop on mood/logreg (no real drop) and patents/rf (a batch of 32 rows) by
# scores/hgb (accuracy 0.657 -> 0.462 on 52 rows) and nursing/rf (0.713 -> 0.481 on 52 rows), the
# only two of 17 table-family pairs tried that verify. Failing the controls' own check (own sklearn
# code, not mltriage; holdout7-run.md): clean counties/logreg multiclass (accuracy 0.659 vs 0.765
# for boosting held out, 0.602 vs 0.700 in 5 folds) by counties/hgb multiclass (0.727); clean
# mood/logreg (cross-validated ECE 0.036 above its null's 95th percentile 0.025) by hvac/logreg
# (0.022 vs 0.032, cross-validated 0.009 vs 0.019); clean patents/rf regression (held-out R^2 -0.264
# vs 0.152 for ridge) by counties/rf binary (AUC 0.911 vs 0.841). One loader change: chemists'
# article count capped at 8 (the stratified split needs two rows of each count).
HOLDOUT7_CONTROLS: list[Spec] = [
    S("clean", "nursing", "binary", "logreg"),
    S("clean", "scores", "regression", "ridge"),
    S("clean", "scores", "binary", "logreg"),
    S("clean", "towns", "regression", "ridge"),
    S("clean", "counties", "binary", "rf"),
    S("clean", "chemists", "binary", "linsvc"),
    S("clean", "hvac", "binary", "logreg"),
    S("clean", "mood", "regression", "ridge"),
    S("clean", "counties", "multiclass", "hgb"),
    S("clean", "chemists", "regression", "ridge"),
    S("clean", "homes", "regression", "xgb"),
    S("clean", "homes", "regression", "rf"),
    S("ranking_clean", "hvac", "ranking", "lgbm"),
    S("ranking_clean", "homes", "ranking", "hgb"),
]

HOLDOUT7: list[Spec] = HOLDOUT7_CONTROLS + [
    S("label_leakage", "nursing", "binary", "hgb"),
    S("label_leakage", "scores", "regression", "ridge"),
    S("label_leakage", "counties", "multiclass", "rf"),
    S("label_leakage", "chemists", "binary", "logreg", 300, variant="weak"),
    S("train_test_overlap", "mood", "regression", "hgb"),
    S("train_test_overlap", "counties", "regression", "rf"),
    S("duplicates", "patents", "binary", "lgbm"),
    S("duplicates", "towns", "regression", "hgb"),
    S("missing_values", "homes", "regression", "xgb"),
    S("missing_values", "nursing", "binary", "hgb"),
    S("unseen_categories", "patents", "binary", "hgb"),
    S("unseen_categories", "scores", "regression", "lgbm"),
    S("unseen_categories", "nursing", "binary", "xgb"),
    S("label_noise", "counties", "multiclass", "hgb", variant="classcond"),
    S("label_noise", "homes", "regression", "lgbm", variant="regression"),
    S("label_noise", "patents", "binary", "sgd", variant="classcond"),
    S("label_misalignment", "chemists", "regression", "ridge"),
    S("label_misalignment", "nursing", "binary", "rf"),
    S("evaluated_on_train", "scores", "binary", "logreg"),
    S("evaluated_on_train", "homes", "regression", "ridge"),
    S("preprocessing_leakage", "nursing", "binary", "logreg"),
    S("preprocessing_leakage", "patents", "binary", "logreg"),
    S("version_mismatch", "counties", "multiclass", "rf"),
    S("version_mismatch", "scores", "regression", "hgb"),
    S("overfit", "mood", "binary", "tree", 1200),
    S("overfit", "patents", "binary", "tree"),
    S("underfit", "homes", "regression", "linreg"),
    S("prediction_collapse", "mood", "regression", "ridge"),
    S("prediction_collapse", "chemists", "binary", "logreg"),
    S("wrong_output_type", "patents", "binary", "rf"),
    S("wrong_output_type", "mood", "binary", "linreg"),
    S("unhandled_imbalance", "patents", "binary", "logreg"),
    S("unhandled_imbalance", "counties", "multiclass", "logreg"),
    S("imbalance_threshold", "counties", "binary", "hgb"),
    S("imbalance_threshold", "chemists", "binary", "hgb"),
    S("imbalance_threshold", "hvac", "binary", "logreg", None, variant="predonly"),
    S("imbalance_threshold", "chemists", "binary", "logreg", None, variant="predonly"),
    S("miscalibration", "chemists", "binary", "nb"),
    S("miscalibration", "hvac", "binary", "hgb", variant="undersampled"),
    S("divergence", "nursing", "binary", "mlp"),
    S("divergence", "counties", "multiclass", "mlp"),
    S("temporal_split", "homes", "regression", "hgb"),
    S("temporal_split", "homes", "regression", "rf"),
    S("data_drift", "homes", "regression", "ridge"),
    S("data_drift", "towns", "regression", "lgbm"),
    S("data_drift", "mood", "binary", "hgb"),
    S("data_drift", "chemists", "regression", "ridge"),
    S("concept_drift", "patents", "binary", "hgb"),
    S("concept_drift", "nursing", "binary", "rf"),
    S("schema_change", "chemists", "regression", "hgb"),
    S("schema_change", "patents", "binary", "logreg"),
    S("serialization_mismatch", "towns", "regression", "hgb"),
    S("serialization_mismatch", "mood", "binary", "hgb"),
    S("train_serving_skew", "scores", "regression", "ridge"),
    S("train_serving_skew", "nursing", "binary", "hgb"),
    S("train_serving_skew", "patents", "binary", "rf"),
    S("out_of_distribution", "towns", "regression", "ridge"),
    S("out_of_distribution", "nursing", "binary", "logreg"),
    S("estimated_performance_drop", "scores", "binary", "hgb"),
    S("estimated_performance_drop", "nursing", "binary", "rf"),
    S("hidden_slice", "mood", "binary", "linsvc"),
    S("hidden_slice", "towns", "regression", "lgbm"),
    S("hidden_slice", "nursing", "binary", "logreg"),
    S("hidden_slice", "mood", "regression", "hgb"),
    S("ranking_hard_negatives", "hvac", "ranking", "hgb"),
    S("ranking_hard_negatives", "homes", "ranking", "lgbm"),
    S("ranking_hard_positives", "hvac", "ranking", "lgbm"),
    S("ranking_hard_positives", "homes", "ranking", "hgb"),
]
