"""The headline metrics mltriage knows, by the names owners use (`--metric`): their aliases, the
task each belongs to, and the validation of a name given on the command line or the API."""

from __future__ import annotations

from .errors import InputError, closest

ALIASES = {
    "accuracy": "accuracy",
    "acc": "accuracy",
    "error_rate": "accuracy",
    "error": "accuracy",
    "roc_auc": "roc_auc",
    "auc": "roc_auc",
    "auroc": "roc_auc",
    "roc-auc": "roc_auc",
    "rocauc": "roc_auc",
    "roc_auc_ovr": "roc_auc",
    "roc_auc_ovo": "roc_auc",
    "pr_auc": "pr_auc",
    "average_precision": "pr_auc",
    "auprc": "pr_auc",
    "ap": "pr_auc",
    "f1": "f1",
    "f1_score": "f1",
    "f1_macro": "f1_macro",
    "macro_f1": "f1_macro",
    "f1_weighted": "f1",
    "precision": "precision",
    "recall": "recall",
    "sensitivity": "recall",
    "balanced_accuracy": "balanced_accuracy",
    "log_loss": "log_loss",
    "logloss": "log_loss",
    "cross_entropy": "log_loss",
    "brier": "brier",
    "brier_score": "brier",
    "mcc": "mcc",
    "r2": "r2",
    "r^2": "r2",
    "r_squared": "r2",
    "rsquared": "r2",
    "explained_variance": "r2",
    "mae": "mae",
    "mean_absolute_error": "mae",
    "mse": "mse",
    "mean_squared_error": "mse",
    "rmse": "rmse",
    "root_mean_squared_error": "rmse",
    "mape": "mape",
    "mean_absolute_percentage_error": "mape",
    "smape": "smape",
    "medae": "mae",
    "ndcg": "ndcg",
    "map": "map",
    "mrr": "mrr",
}
CLASSIFICATION = {
    "accuracy",
    "roc_auc",
    "pr_auc",
    "f1",
    "f1_macro",
    "precision",
    "recall",
    "balanced_accuracy",
    "log_loss",
    "brier",
    "mcc",
}
REGRESSION = {"r2", "mae", "mse", "rmse", "mape", "smape"}
RANKING = {"ndcg", "map", "mrr"}


def canonical_metric(name: str | None) -> str | None:
    """The metric's canonical name (`AUC` -> roc_auc, `ndcg@10` -> ndcg), or the name lowered."""
    if not name:
        return None
    m = str(name).strip().lower().replace(" ", "_")
    base = m.split("@")[0]
    if base.startswith("neg_"):
        base = base[4:]
    return ALIASES.get(base, ALIASES.get(base.replace("-", "_"), base))


# other metrics owners report, accepted as given (no check reasons about them specifically)
OTHER = {
    "specificity",
    "kappa",
    "cohen_kappa",
    "gini",
    "ks",
    "f1_micro",
    "precision_macro",
    "recall_macro",
    "top_k_accuracy",
    "hit_rate",
    "msle",
    "rmsle",
    "median_absolute_error",
    "poisson_deviance",
    "pinball",
    "huber",
    "wape",
    "mase",
}


def known_metrics() -> list[str]:
    """Every name `--metric` accepts (canonical names and aliases; ranking ones take `@k`)."""
    return sorted(set(ALIASES) | CLASSIFICATION | REGRESSION | RANKING | OTHER)


def check_metric(name: str | None) -> str | None:
    """`name` stripped, or InputError listing the known metrics when mltriage does not know it."""
    if name is None or not str(name).strip():
        return None
    canon = canonical_metric(name)
    if canon in CLASSIFICATION | REGRESSION | RANKING | OTHER:
        at = str(name).split("@", 1)
        if len(at) == 2 and not at[1].strip().isdigit():
            raise InputError(
                f"--metric {name!r}: the cut-off after @ is not a whole number",
                "write it as ndcg@10 (or map@5, mrr@20)",
            )
        return str(name).strip()
    base = str(name).strip().lower().split("@")[0]
    names = known_metrics()
    raise InputError(
        f"unknown metric {name!r}.{closest(base, names)}",
        f"use one of: {', '.join(sorted(CLASSIFICATION | REGRESSION | RANKING))} "
        "(ranking metrics take a cut-off, e.g. ndcg@10; aliases such as auc, acc, logloss work too)",
    )
