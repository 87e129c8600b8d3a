"""Model files that are not pickles: natively saved LightGBM/XGBoost Boosters and skops files are
loaded; formats mltriage cannot call (ONNX, PyTorch, Keras) are refused with the way out.

`load_special(path)` returns the loaded model, or None when the file should be read with joblib
(a joblib, pickle or cloudpickle file: joblib reads all three).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from .errors import InputError

NOT_CALLABLE = {
    ".onnx": "an ONNX model",
    ".pt": "a PyTorch model",
    ".pth": "a PyTorch model",
    ".h5": "a Keras model",
    ".keras": "a Keras model",
    ".pb": "a TensorFlow model",
}


def load_special(path: Path) -> Any | None:
    from .boosters import load_native, native_format

    if (library := native_format(path)) is not None:
        return _guarded(path, library, lambda: load_native(path, library))
    names = _zip_names(path)
    if "schema.json" in names:
        return _guarded(path, "skops", lambda: _load_skops(path))
    kind = NOT_CALLABLE.get(path.suffix.lower())
    if kind is None and "data.pkl" in {n.rsplit("/", 1)[-1] for n in names}:
        kind = "a PyTorch model"
    if kind is not None:
        raise InputError(
            f"model {str(path)!r} is {kind}, which mltriage cannot call",
            "pass its predictions instead: add a column of its outputs to every file and use "
            "--prediction-column (binary: P(positive)); or, from Python, pass a function "
            "f(DataFrame) -> predictions as model=",
        )
    return None


def _zip_names(path: Path) -> set[str]:
    try:
        if not zipfile.is_zipfile(path):
            return set()
        with zipfile.ZipFile(path) as z:
            return set(z.namelist()[:10000])
    except (OSError, zipfile.BadZipFile):
        return set()


def _load_skops(path: Path) -> Any:
    import skops.io as sio

    # like a pickle, a skops file the user passes is trusted: every type it holds is allowed
    return sio.load(path, trusted=sio.get_untrusted_types(file=path))


def _guarded(path: Path, library: str, load: Any) -> Any:
    """The model `load()` returns, or InputError naming the library to install or the fix."""
    try:
        return load()
    except ModuleNotFoundError:
        raise InputError(
            f"model {str(path)!r} was saved with {library} and {library} is not installed",
            f"pip install {library}",
        ) from None
    except Exception as exc:
        raise InputError(
            f"cannot load the {library} model {str(path)!r}: {type(exc).__name__}: {str(exc)[:200]}",
            f"save it again with {library} under the installed version, "
            "or pass its predictions with --prediction-column",
        ) from None
