"""The checks, one module per rung of the baselines. Every module in this package is imported so
that its `@check` functions register; adding a check needs no edit here."""

from __future__ import annotations

import importlib
import pkgutil

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if not _mod.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod}")
