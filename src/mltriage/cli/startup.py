"""What the command line does before any command runs, to spare every run a fixed cost.

The garbage collector: `defer_collection` (before any import) turns it off, and `settle_heap`
(once a command has imported what it needs) moves every object alive then into the permanent
generation (`gc.freeze`) and turns it back on.
Importing pandas, scikit-learn and SciPy creates some 10^6 long-lived objects (modules,
functions, classes) that the collector otherwise traverses again at every full collection: in a
public benchmark run (miscalibration, label_noise) its passes took 0.25-0.37 s of CPU, 0.02-0.05 s
this way. The collector only frees unreachable cycles: what a run computes does not change,
nor, measured, its peak memory.

SciPy (1.15 and later) rewrites the docstring of each function it marks with `xp_capabilities`
(over 500, most of them imported by scikit-learn through `scipy.stats`) while importing it: it
parses the docstring with its numpydoc parser and appends a table of the array backends the
function supports. The command line never shows a SciPy docstring, and the parsing was 8-12% of
the CPU of a public benchmark run (py-spy: 0.2-0.3 s of `mltriage diagnose`). `skip_scipy_doc_notes`
installs an import hook that, when `scipy._lib._array_api` is first imported, replaces its
docstring parser by one that leaves each docstring as it is: the functions, their behaviour and
their capability table (`xp_capabilities_table`) are unchanged; only the appended note is missing.
It costs nothing when SciPy is never imported, does nothing once SciPy's module is loaded, and
steps aside (the parser kept) when a SciPy version has no such parser. Only the CLI installs it:
a program that imports mltriage keeps SciPy's docstrings.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import Any

_TARGET = "scipy._lib._array_api"


class _DocAsIs:
    """Stands in for SciPy's FunctionDoc in `xp_capabilities`, which does
    `doc = FunctionDoc(f); doc['Notes'].append(note); f.__doc__ = str(doc).split("\\n", 1)[1]`:
    a section is a fresh list (the note appended to it is dropped) and the text is the docstring
    as it was, after the signature line that the decorator strips."""

    def __init__(self, func: Any, *args: Any, **kwargs: Any) -> None:
        self._doc = getattr(func, "__doc__", None) or ""

    def __getitem__(self, section: str) -> list:
        return []

    def __str__(self) -> str:
        return "\n" + self._doc


class _PatchingLoader(Loader):
    """Runs the real loader, then swaps the module's docstring parser."""

    def __init__(self, loader: Loader) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, is_package, ...
        return getattr(self._loader, name)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        if hasattr(module, "FunctionDoc") and hasattr(module, "xp_capabilities"):
            module.FunctionDoc = _DocAsIs  # type: ignore[attr-defined]


class _ScipyDocNotes(MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != _TARGET:
            return None
        uninstall()
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader)
        return spec


_HOOK = _ScipyDocNotes()


def skip_scipy_doc_notes() -> None:
    """Install the hook (once), unless SciPy's module is already imported."""
    if _TARGET in sys.modules or _HOOK in sys.meta_path:
        return
    sys.meta_path.insert(0, _HOOK)


def uninstall() -> None:
    if _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def defer_collection() -> None:
    """No collection until `settle_heap` (the objects created meanwhile are imported modules)."""
    gc.disable()


def settle_heap() -> None:
    """Freeze the objects alive now (they are never collected again, nor traversed) and collect
    as usual from here on. Every command calls it (`handles_input_errors` before the command runs,
    or the command itself once its modules are imported: `imports_first`)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
