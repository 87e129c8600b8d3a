"""The checks, one package (or module) per rung of the debugging ladder. Every module below this
package is imported, recursively, so that its `@check` functions register; adding a check needs no
edit here. A package that wants its checks to run in ladder order imports its modules in that
order in its own `__init__.py` (the walk then finds them already imported)."""

from __future__ import annotations

import importlib
import pkgutil

for _info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
    if not any(part.startswith("_") for part in _info.name.split(".")):
        importlib.import_module(_info.name)
