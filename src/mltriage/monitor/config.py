"""The monitor's settings: defaults, then a TOML file given at `monitor init --config` (stored in
the store, so every later command uses the same). Every key is optional:

    window = "1d"                 # window length: 15min, 1h, 6h, 1d, 7d ...
    fail_on = "critical"          # the exit-code route: warning | critical | never

    [smoothing]                   # applied to every alerting metric's series of windows
    method = "ewma"               # ewma | rolling | none
    alpha = 0.5                   # EWMA weight of the newest window
    size = 3                      # rolling: windows averaged
    min_rows = 500                # a window with fewer rows is not judged (its metrics shown)

    [hysteresis]
    clear_ratio = 0.8             # an alert clears below threshold * clear_ratio ...
    clear_windows = 2             # ... for this many windows in a row

    [escalation]
    after = 3                     # a warning still open after this many windows becomes critical

    [retrain]                     # the retrain trigger each alert reports
    auc_drop = 0.05               # realised (or estimated) AUC down by more than this
    psi = 0.25                    # PSI over this on an important feature

    [sampling]
    rows_per_window = 1000        # full rows kept per window, stratified by score
    strata = 10                   # score strata (quantiles of the window's scores)
    hold = "7d"                   # every row is kept this long waiting for labels and alerts
    [retention]
    rows = "90d"                  # kept full rows (sample, alerting windows, errors)
    predictions = "400d"          # (id, score) of every prediction; window summaries are kept for ever

    [[rules]]                     # replaces the default rules (DEFAULT_RULES) when present
    metric = "feature_psi"        # see METRICS
    threshold = 0.2
    windows = 2                   # windows in a row at or above the threshold
    min_rows = 500                # minimum sample (labelled rows for realised_drop)
    severity = "warning"          # warning | critical
    # code = "production.data_drift"   # default by metric; a production.* or pipeline.* code

    [[routes]]                    # the log and the exit code always apply
    type = "webhook"              # webhook | log
    url = "http://127.0.0.1:9000/alerts"
    # type = "log" with path = "alerts.jsonl" appends one JSON line per event
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError, closest

try:  # standard from Python 3.11
    import tomllib
except ImportError:  # pragma: no cover
    import tomli as tomllib

SEVERITIES = ("warning", "critical")

# metric -> (default code, what it measures, needs labels)
METRICS: dict[str, tuple[str | None, str]] = {
    "feature_psi": ("production.data_drift", "largest PSI of a feature whose chi-square test is significant"),
    "important_feature_psi": (
        "production.data_drift",
        "largest significant PSI of a feature holding >= important_share of the model's sensitivity",
    ),
    "prediction_psi": ("production.prediction_drift", "PSI of the scores against the reference's"),
    "missing_share": (
        "production.schema_change",
        "largest rise of a feature's missing share over the reference",
    ),
    "schema_share": (
        "production.schema_change",
        "share of rows quarantined, with a value of the wrong type, or lacking a reference column",
    ),
    "ood_share": ("production.out_of_distribution", "share of rows far outside the reference range"),
    "estimated_drop": (
        "production.estimated_performance_drop",
        "reference AUC (or accuracy) minus its CBPE estimate, when the estimate's interval excludes the reference",
    ),
    "realised_drop": (
        "production.concept_drift",
        "reference AUC (or accuracy, or relative MAE rise) minus the realised value on labelled rows, when significant",
    ),
    "volume_drop": (None, "1 - rows / median rows of the previous 7 windows"),
    "latency_p95": (None, "95th percentile of latency_ms"),
    "latency_p99": (None, "99th percentile of latency_ms"),
}

DEFAULT_RULES: list[dict[str, Any]] = [
    {"metric": "feature_psi", "threshold": 0.1, "severity": "warning"},
    {"metric": "important_feature_psi", "threshold": 0.25, "severity": "critical"},
    {"metric": "prediction_psi", "threshold": 0.1, "severity": "warning"},
    {"metric": "missing_share", "threshold": 0.05, "severity": "warning"},
    {"metric": "schema_share", "threshold": 0.01, "severity": "critical"},
    {"metric": "ood_share", "threshold": 0.005, "severity": "warning"},
    {"metric": "estimated_drop", "threshold": 0.03, "severity": "warning"},
    {"metric": "realised_drop", "threshold": 0.05, "severity": "critical", "min_rows": 200},
]


@dataclass
class Rule:
    metric: str
    threshold: float
    windows: int = 1
    min_rows: int = 500
    severity: str = "warning"
    code: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise InputError(
                f"unknown alert metric {self.metric!r}.{closest(self.metric, METRICS)}",
                f"use one of {', '.join(METRICS)}",
            )
        if self.severity not in SEVERITIES:
            raise InputError(f"rule {self.metric}: severity {self.severity!r}", "use warning or critical")
        if self.windows < 1 or self.min_rows < 0:
            raise InputError(f"rule {self.metric}: windows must be >= 1 and min_rows >= 0", "fix the rule")
        self.code = self.code or (METRICS[self.metric][0] or "")
        if not self.code.startswith(("production.", "pipeline.")):
            raise InputError(
                f"rule {self.metric}: needs a code from the catalogue (production.* or pipeline.*)",
                'add e.g. code = "production.schema_change" to the rule',
            )
        from ..registry import load_all

        if self.code not in load_all():
            raise InputError(f"rule {self.metric}: unknown code {self.code!r}", "use a code of the catalogue")
        self.name = self.name or self.metric


@dataclass
class MonitorConfig:
    window: str = "1d"
    fail_on: str = "critical"
    smoothing: dict[str, Any] = field(
        default_factory=lambda: {"method": "ewma", "alpha": 0.5, "size": 3, "min_rows": 500}
    )
    hysteresis: dict[str, Any] = field(default_factory=lambda: {"clear_ratio": 0.8, "clear_windows": 2})
    escalation: dict[str, Any] = field(default_factory=lambda: {"after": 3})
    retrain: dict[str, Any] = field(default_factory=lambda: {"auc_drop": 0.05, "psi": 0.25})
    sampling: dict[str, Any] = field(
        default_factory=lambda: {"rows_per_window": 1000, "strata": 10, "hold": "7d"}
    )
    retention: dict[str, Any] = field(default_factory=lambda: {"rows": "90d", "predictions": "400d"})
    rules: list[Rule] = field(default_factory=lambda: [Rule(**r) for r in DEFAULT_RULES])
    routes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rules"] = [asdict(r) for r in self.rules]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> MonitorConfig:
        d = dict(d or {})
        cfg = cls()
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            k = sorted(unknown)[0]
            raise InputError(
                f"unknown monitor setting {k!r}.{closest(k, cls.__dataclass_fields__)}",
                f"settings: {', '.join(cls.__dataclass_fields__)}",
            )
        for k in ("smoothing", "hysteresis", "escalation", "retrain", "sampling", "retention"):
            if k in d:
                merged = {**getattr(cfg, k), **dict(d[k])}
                setattr(cfg, k, merged)
        if "rules" in d:
            cfg.rules = [Rule(**dict(r)) for r in d["rules"]]
        if "routes" in d:
            cfg.routes = [dict(r) for r in d["routes"]]
        for k in ("window", "fail_on"):
            if k in d:
                setattr(cfg, k, str(d[k]))
        cfg.validate()
        return cfg

    def validate(self) -> None:
        parse_duration(self.window)
        if self.fail_on not in ("warning", "critical", "never"):
            raise InputError(f"fail_on = {self.fail_on!r}", "use warning, critical or never")
        sm = self.smoothing
        if sm.get("method") not in ("ewma", "rolling", "none"):
            raise InputError(f"smoothing.method = {sm.get('method')!r}", "use ewma, rolling or none")
        if not 0 < float(sm.get("alpha", 0.5)) <= 1:
            raise InputError("smoothing.alpha must be in (0, 1]", "e.g. 0.5")
        if int(sm.get("size", 3)) < 1:
            raise InputError("smoothing.size must be >= 1", "e.g. 3")
        if not 0 < float(self.hysteresis.get("clear_ratio", 0.8)) <= 1:
            raise InputError("hysteresis.clear_ratio must be in (0, 1]", "e.g. 0.8")
        parse_duration(str(self.sampling.get("hold", "7d")), allow_zero=True)
        for k in ("rows", "predictions"):
            parse_duration(str(self.retention.get(k, "90d")))
        for r in self.routes:
            if r.get("type") not in ("webhook", "log"):
                raise InputError(f"route type {r.get('type')!r}", "use webhook (with url) or log (with path)")
            if r["type"] == "webhook" and not str(r.get("url", "")).startswith(("http://", "https://")):
                raise InputError("a webhook route needs url = 'http://...'", "add the url to the route")

    @property
    def window_delta(self) -> timedelta:
        return parse_duration(self.window)


def read_config(path: str | Path | None) -> MonitorConfig:
    """The settings of a TOML file (defaults when None)."""
    if path is None:
        return MonitorConfig()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read the monitor config {path}: {e.strerror}", "check --config") from None
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path} is not valid TOML: {e}", "fix the file") from None
    return MonitorConfig.from_dict(d.get("monitor", d))


_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, allow_zero: bool = False) -> timedelta:
    """'15min', '1h', '1d', '2w', '90s' -> timedelta ('0d' only with allow_zero)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d|w)\s*", str(text))
    if not m:
        raise InputError(f"cannot read the duration {text!r}", "write e.g. 15min, 1h, 1d or 7d")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise InputError(f"duration {text!r} is not positive", "write e.g. 1h or 1d")
    return timedelta(seconds=seconds)
