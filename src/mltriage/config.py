"""Settings: defaults, then `mltriage.toml` (or `[tool.mltriage]` in `pyproject.toml`), then the
command line. Thresholds of individual checks live under `[checks."CODE"]`:

    # mltriage.toml
    fail_on = "critical"
    ignore = ["features.redundant"]
    select = ["data", "model", "evaluation"]
    max_refit_rows = 50000

    [checks."model.overfit"]
    auc_gap = 0.15

On the command line the same is `--set model.overfit.auc_gap=0.15`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, closest

if TYPE_CHECKING:
    from .registry import Params

FAIL_ON = ("warning", "critical", "never")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass
class Config:
    fail_on: str = "critical"
    ignore: list[str] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    fast: bool = False
    strict: bool = False  # a check that crashes makes the run fail (exit 2)
    seed: int = 0
    cv_folds: int = 3
    max_refit_rows: int = 10_000
    n_jobs: int = 1  # threads for mltriage's own refits (one is fastest for many small fits)
    # threads for the model's predictions on whole sets (0: one per core). One by default: on this
    # shared 2-core machine under load, the predictions of 8 public scenarios (train, test, current)
    # took 25 s with one thread against 91-124 s with two (OpenMP workers spin waiting for a core;
    # 35 scenarios: 65 s against 442 s); set 0 on a machine of your own with idle cores
    predict_jobs: int = 1
    # threads that fit the baselines' (model, fold) pairs side by side (0: one per core). One by
    # default: on a quiet 2-core machine two threads (each held to one OpenMP thread) were 9-26%
    # slower in wall time than one fit using both cores (farm-bench, public data_drift,
    # serialization_mismatch, divergence); side by side pays only when the cores are busy anyway
    refit_workers: int = 1
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str | None = None

    SETTINGS = (
        "fail_on",
        "ignore",
        "select",
        "fast",
        "strict",
        "seed",
        "cv_folds",
        "max_refit_rows",
        "n_jobs",
        "predict_jobs",
        "refit_workers",
    )

    def wants(self, code: str) -> bool:
        """Is this code selected and not ignored? (a layer, a code, or a code prefix)"""

        def hit(patterns):
            return any(code == p or code.startswith(p.rstrip(".") + ".") for p in patterns)

        if self.select and not hit(self.select):
            return False
        return not hit(self.ignore)

    def params(self, code: str) -> Params:
        """The validated parameters of the check for `code` (defaults, then the settings)."""
        from .registry import load_all

        return load_all()[code].resolve(self.checks.get(code, {}))

    def validate(self) -> None:
        """Refuse every setting that would otherwise be silently ignored: an unknown code or layer
        in select/ignore, an unknown check or parameter, a value outside a parameter's
        constraint, an unknown fail_on."""
        from .findings import LAYERS
        from .registry import load_all

        checks = load_all()
        if self.fail_on not in FAIL_ON:
            raise InputError(
                f"fail_on = {self.fail_on!r} is not one of {', '.join(FAIL_ON)}.{closest(self.fail_on, FAIL_ON)}",
                "use warning, critical or never",
            )
        known = [*LAYERS, *checks]
        for option in ("select", "ignore"):
            for pattern in getattr(self, option):
                name = pattern.rstrip(".")
                if name in known or any(c.startswith(name + ".") for c in checks):
                    continue
                raise InputError(
                    f"--{option} {pattern!r} names no layer or check.{closest(name, known)}",
                    f"layers: {', '.join(LAYERS)}; `mltriage codes` lists every check",
                )
        for code, values in self.checks.items():
            if code not in checks:
                raise InputError(
                    f"no check has the code {code!r} (in --set or [checks]).{closest(code, checks)}",
                    "`mltriage codes` lists them",
                )
            checks[code].resolve(values)

    def apply(self, values: dict[str, Any], source: str) -> None:
        for k, v in values.items():
            if k == "checks":
                if not isinstance(v, dict):
                    raise InputError(f"{source}: [checks] must be a table of tables")
                for code, params in v.items():
                    self.checks.setdefault(code, {}).update(params)
            elif k in self.SETTINGS:
                if k in ("ignore", "select") and isinstance(v, str):
                    v = [x.strip() for x in v.split(",") if x.strip()]
                setattr(self, k, _typed(k, v, type(getattr(Config(), k)), source))
            else:
                raise InputError(
                    f"{source}: unknown setting {k!r}.{closest(k, self.SETTINGS)}",
                    f"known settings: {', '.join(self.SETTINGS)}, checks",
                )

    def set_param(self, assignment: str) -> None:
        """Apply one `CODE.NAME=VALUE` from the command line."""
        if "=" not in assignment:
            raise InputError(
                f"--set {assignment!r} is not CODE.NAME=VALUE", "for example --set model.overfit.auc_gap=0.15"
            )
        key, value = assignment.split("=", 1)
        code, _, name = key.strip().rpartition(".")
        if not code or not name:
            raise InputError(
                f"--set {assignment!r} is not CODE.NAME=VALUE", "for example --set model.overfit.auc_gap=0.15"
            )
        try:
            parsed: Any = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            parsed = value.strip()
        self.checks.setdefault(code, {})[name] = parsed


def _typed(name: str, value: Any, kind: type, source: str) -> Any:
    """A setting's value checked against the type of its default."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return list(value) if isinstance(value, list) else value
    raise InputError(
        f"{source}: setting {name} = {value!r} is not {'a list' if kind is list else 'a ' + kind.__name__}",
        f"give {name} a {kind.__name__} value",
    )


def load_config(path: str | Path | None = None, start: Path | None = None) -> Config:
    """Read settings from `path`, or from mltriage.toml / pyproject.toml in `start` or above."""
    cfg = Config()
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise InputError(f"config file {str(p)!r} does not exist", "check the path given to --config")
        _apply_file(cfg, p)
        return cfg
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "mltriage.toml").exists():
            _apply_file(cfg, d / "mltriage.toml")
            return cfg
        if (d / "pyproject.toml").exists():
            data = _read_toml(d / "pyproject.toml")
            if "mltriage" in data.get("tool", {}):
                cfg.apply(data["tool"]["mltriage"], str(d / "pyproject.toml"))
                cfg.source = str(d / "pyproject.toml")
                return cfg
    return cfg


def _read_toml(p: Path) -> dict:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise InputError(f"cannot read config {str(p)!r}: {exc}", "fix the TOML syntax") from None


def _apply_file(cfg: Config, p: Path) -> None:
    data = _read_toml(p)
    if p.name == "pyproject.toml":
        data = data.get("tool", {}).get("mltriage", {})
    cfg.apply(data, str(p))
    cfg.source = str(p)
