"""mltriage: debug machine-learning models the way a senior ML engineer does.

import mltriage
report = mltriage.diagnose(train=train_df, test=test_df, target="y", model=fitted_pipeline)
report.findings        # ranked Finding objects
report.to_json()       # the JSON report
"""

__version__ = "0.1.0"

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
