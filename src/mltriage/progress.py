"""Progress on long work: the step, how many of how many, and the time taken so far.

Where it shows, chosen by where it runs:
- a terminal: one live line on stderr (rich), gone when the work ends;
- a notebook (an IPython kernel): a progress bar widget when ipywidgets is installed, otherwise a
  line of HTML refreshed in place (IPython.display with a display_id);
- anything else (CI logs, a pipe): a few plain lines on stderr (the first step, every quarter,
  and the end), so a log is not flooded.

    with Progress(total=27, what="check") as tick:
        for code in codes:
            tick(code)  # called as each step starts
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

Tick = Callable[[str], None]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not a plain IPython terminal)."""
    ip = sys.modules.get("IPython")
    if ip is None:
        return False
    try:
        shell = ip.get_ipython()
    except AttributeError:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _elapsed(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class Progress:
    """A context manager returning `tick(step)`, to call as each of `total` steps starts."""

    def __init__(
        self, total: int, what: str = "check", stream: TextIO | None = None, mode: str | None = None
    ):
        self.total = max(int(total), 0)
        self.what = what
        self.stream = stream or sys.stderr
        self.mode = mode or self._mode()
        self.done = 0
        self.step = ""
        self.t0 = time.perf_counter()
        self._view: Any = None

    def _mode(self) -> str:
        if in_notebook():
            return "notebook"
        isatty = getattr(self.stream, "isatty", None)
        return "terminal" if callable(isatty) and isatty() else "plain"

    def text(self) -> str:
        """The progress in words: step, count and fraction, elapsed time."""
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        return (
            f"mltriage: {self.what} {self.done}/{self.total}{share} {self.step}, "
            f"{_elapsed(time.perf_counter() - self.t0)}"
        )

    # ------------------------------------------------------------ context manager
    def __enter__(self) -> Tick:
        self.t0 = time.perf_counter()
        start = {"terminal": self._start_terminal, "notebook": self._start_notebook}.get(self.mode)
        if start is not None:
            try:
                start()
            except Exception:  # a display that cannot start falls back to plain lines
                self.mode = "plain"
        return self.tick

    def tick(self, step: str) -> None:
        self.done += 1
        self.step = step
        if self.mode == "terminal":
            self._view[0].update(self._view[1], description=step, completed=self.done)
        elif self.mode == "notebook":
            self._update_notebook()
        else:
            every = max(1, self.total // 4)
            if self.done == 1 or self.done % every == 0:
                print(self.text(), file=self.stream, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.mode == "terminal" and self._view is not None:
            self._view[0].__exit__(*exc)
        elif self.mode == "notebook" and self._view is not None:
            self.step = "done"
            self._update_notebook(final=True)
        elif self.done and self.done % max(1, self.total // 4):
            self.step = "done"
            print(self.text(), file=self.stream, flush=True)

    # ------------------------------------------------------------ displays
    def _start_terminal(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        bar = RichProgress(
            TextColumn(f"[bold]mltriage[/] {self.what}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),  # last: a long step name does not move the bar
            console=Console(file=self.stream),
            transient=True,
        )
        bar.__enter__()
        self._view = (bar, bar.add_task("starting", total=self.total))

    def _start_notebook(self) -> None:
        from IPython.display import HTML, display

        try:
            import ipywidgets as w

            bar = w.IntProgress(value=0, min=0, max=max(self.total, 1), description=self.what)
            label = w.Label(value=self.text())
            display(w.HBox([bar, label]))
            self._view = ("widget", bar, label)
        except ImportError:
            handle = display(HTML(self._html()), display_id=True)
            if handle is None:  # no frontend to display in
                raise RuntimeError("no display") from None
            self._view = ("html", handle, HTML)

    def _html(self) -> str:
        from html import escape

        pct = 100 * self.done / self.total if self.total else 100
        return (
            f"<div style='font-family:monospace'><progress value='{pct:.0f}' max='100'></progress> "
            f"{escape(self.text())}</div>"
        )

    def _update_notebook(self, final: bool = False) -> None:
        kind = self._view[0]
        if kind == "widget":
            _, bar, label = self._view
            bar.value = self.done
            label.value = self.text()
            if final:
                bar.bar_style = "success"
        else:
            _, handle, html = self._view
            handle.update(html(self._html()))
