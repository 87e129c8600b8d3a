"""The one exception for bad input: what is wrong and how to fix it. The CLI prints it and
exits with code 2; the Python API raises it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InputError(ValueError):
    """Bad input or usage: `message` names the problem, `hint` says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message, self.hint = message, hint
        super().__init__(message + (f"\n  fix: {hint}" if hint else ""))


def closest(name: str, options: Iterable[str]) -> str:
    """' Did you mean 'x'?' or an empty string."""
    opts = [str(o) for o in options]
    lower = {o.lower(): o for o in opts}
    if name.lower() in lower:
        return f" Did you mean {lower[name.lower()]!r}?"
    match = difflib.get_close_matches(name, opts, n=1, cutoff=0.6)
    return f" Did you mean {match[0]!r}?" if match else ""


def listing(options: Iterable[str], most: int = 12) -> str:
    opts = [str(o) for o in options]
    head = ", ".join(opts[:most])
    return head + (f", … ({len(opts)} in all)" if len(opts) > most else "")
