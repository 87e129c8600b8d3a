"""The command line: one typer app; each file of this package registers a group of commands
(ladder: diagnose, demo, explain, codes; batch: drift, profile; release: gate, latency;
inspect: replay, compare; monitor). Commands only parse options and render: the logic is in
`mltriage.commands`.

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad input or usage.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import InputError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    help="Debug machine-learning models the way a senior ML engineer does: climb the "
    "debugging ladder (data, pipeline, model, evaluation, errors, production) and "
    "get ranked findings with evidence and fixes.\n\n"
    "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input.",
)
out = Console()
err = Console(stderr=True)


def handles_input_errors(fn):
    """Turn InputError into one clear message on stderr and exit code 2. The garbage collector,
    off while the CLI starts (`startup.defer_collection`), is back on before the command runs,
    unless the command turns it on itself once its modules are imported (`imports_first`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not getattr(fn, "imports_first", False):
            from .startup import settle_heap

            settle_heap()
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            # the message and hint are plain text: brackets (`mltriage[shap]`, lists) are not markup
            err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, markup=True)
            if exc.hint:
                err.print(f"  [green]fix:[/] {escape(exc.hint)}", highlight=False)
            raise typer.Exit(2) from None
        except MemoryError:
            err.print("[bold red]error:[/] out of memory while reading or diagnosing the data")
            err.print(
                "  [green]fix:[/] pass a sample of the rows, or use `mltriage profile` to summarise "
                "the reference in chunks"
            )
            raise typer.Exit(2) from None

    return wrapper


def imports_first(fn):
    """Mark a command that imports its modules and then calls `startup.settle_heap` itself (the
    imports run without garbage collection, and what they create is frozen, not traversed)."""
    fn.imports_first = True
    return fn


def fail_on_option(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.lower()
    if v not in ("warning", "critical", "never"):
        raise typer.BadParameter("use warning, critical or never")
    return v


def split_list(s: str | None) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()] if s else []


def finish(
    report, json_out, html_out, quiet: bool, verbose: bool, fail_on: str, strict: bool, markdown_out=None
) -> None:
    """Write the files asked for, render to the terminal, exit with the gate's code."""
    if json_out:
        report.to_json(json_out)
    if html_out:
        report.to_html(html_out)
    if markdown_out:
        report.to_markdown(markdown_out, html_link=str(html_out) if html_out else None)
    if not quiet:
        from ..report.terminal import render

        for part in render(report, verbose=verbose):
            out.print(part)
    raise typer.Exit(report.exit_code(fail_on, strict=strict))


def main() -> None:
    from .startup import defer_collection, skip_scipy_doc_notes

    defer_collection()
    skip_scipy_doc_notes()
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        err.print("interrupted")
        _leave(130)
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: Any) -> None:
    """End the command with `code` as sys.exit would, without the interpreter's teardown.

    Once the reports are written, a normal exit still frees every module, frame and array one by
    one: 0.3-0.45 s of CPU after a diagnose run (public temporal_split, 5.2 s in all). Here the
    output streams are flushed and the exit handlers run (atexit: logging, temporary files,
    multiprocessing children), then the process ends. Only when the main thread is the last one:
    a thread still running gets the normal exit, which waits for it."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    import threading

    if threading.active_count() > 1:
        sys.exit(status)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be written
            pass
    os._exit(status)


def output_path(value: Path | None) -> Path | None:
    """A report file to write: its folder is created now, before any work, and a path that cannot
    be written (a folder, a file in the way of the folder) is refused now, not after the run."""
    if value is None:
        return None
    p = Path(value)
    if p.is_dir():
        raise typer.BadParameter(f"{str(p)!r} is a folder; give a file name, e.g. {str(p / 'report')!r}")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot create the folder {str(p.parent)!r} for {str(p)!r}: {exc.strerror or exc}"
        ) from None
    if not os.access(p.parent, os.W_OK):
        raise typer.BadParameter(f"the folder {str(p.parent)!r} is not writable")
    return p


# Options several commands share, declared once (each call makes a fresh typer.Option).
def json_option() -> Any:
    return typer.Option(None, "--json", callback=output_path, help="write the JSON report here")


def html_option() -> Any:
    return typer.Option(None, "--html", callback=output_path, help="write an HTML report here")


def strict_option() -> Any:
    return typer.Option(False, "--strict", help="exit 2 when a check fails to run (crashes)")


def quiet_option() -> Any:
    return typer.Option(False, "--quiet", "-q", help="print nothing but errors")


def positive_class_option() -> Any:
    return typer.Option(
        None,
        "--positive-class",
        help="binary: the class that precision, recall, thresholds and P(positive) are about, "
        "e.g. churn or 1 (default: the model's last class, as in scikit-learn)",
    )


def config_option() -> Any:
    return typer.Option(
        None, "--config", help="settings file (default: mltriage.toml or \\[tool.mltriage] in pyproject.toml)"
    )


# the command groups register themselves on `app` (imported last: they use the names above)
from . import batch, inspect, ladder, monitor, release  # noqa: E402,F401
