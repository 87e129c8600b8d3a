"""mltriage: debug machine-learning models the way a senior ML engineer does.

import mltriage
report = mltriage.diagnose(train=train_df, test=test_df, target="y", model=fitted_pipeline)
report.findings        # ranked Finding objects
report.to_json()       # the JSON report
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .commands.compare import compare
    from .commands.diagnose import diagnose
    from .commands.drift import drift
    from .commands.gate import gate
    from .commands.latency import latency
    from .commands.profile import profile
    from .commands.replay import replay
    from .errors import InputError
    from .findings import CODES, Finding, Severity
    from .report import Report

# each name of the API and the module that defines it: imported on first use (PEP 562), so that
# one command (`mltriage diagnose`) does not import and compile the modules of all the others
_API = {
    "diagnose": ".commands.diagnose",
    "compare": ".commands.compare",
    "drift": ".commands.drift",
    "gate": ".commands.gate",
    "latency": ".commands.latency",
    "profile": ".commands.profile",
    "replay": ".commands.replay",
    "Report": ".report",
    "Finding": ".findings",
    "Severity": ".findings",
    "InputError": ".errors",
    "CODES": ".findings",
}

__all__ = [
    "diagnose",
    "compare",
    "drift",
    "gate",
    "latency",
    "profile",
    "replay",
    "Report",
    "Finding",
    "Severity",
    "InputError",
    "CODES",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_API[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
