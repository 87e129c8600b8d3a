"""The CLI's start-up: SciPy's docstring notes skipped, the garbage collector off while modules
are imported and back on (with the imported objects frozen) before a command's work."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_scipy_functions_and_their_capability_table_unchanged_without_the_doc_notes():
    code = """
        import sys
        from mltriage.cli.startup import skip_scipy_doc_notes
        if sys.argv[-1] == "hook":
            skip_scipy_doc_notes()
        import numpy as np
        from scipy import stats
        import scipy._lib._array_api as a
        r = stats.ttest_ind(np.arange(10.0), np.arange(10.0) + 1.5)
        doc = stats.ttest_ind.__doc__
        print(type(a.FunctionDoc).__name__, a.FunctionDoc.__name__, len(a.xp_capabilities_table),
              round(float(r.pvalue), 12), "Array API Standard Support" in doc, "Parameters" in doc)
    """
    plain = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), "plain"], capture_output=True, text=True, timeout=300
    )
    hooked = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), "hook"], capture_output=True, text=True, timeout=300
    )
    assert plain.returncode == 0 and hooked.returncode == 0, plain.stderr + hooked.stderr
    p, h = plain.stdout.split(), hooked.stdout.split()
    assert p[1] == "FunctionDoc" and h[1] == "_DocAsIs"
    assert p[2] == h[2] and int(p[2]) > 100  # every function still registered with its capabilities
    assert p[3] == h[3]  # same results
    assert h[5] == "True"  # the docstring itself is kept
    assert p[4] == "True" and h[4] == "False"  # only the appended note is gone


def test_the_hook_does_nothing_once_scipy_is_imported():
    out = _run(
        """
        import sys
        import scipy.stats
        from mltriage.cli import startup
        startup.skip_scipy_doc_notes()
        print(startup._HOOK in sys.meta_path)
        """
    )
    assert out == "False"


def test_collection_is_off_during_imports_and_back_on_with_the_heap_frozen():
    out = _run(
        """
        import gc
        from mltriage.cli import startup
        startup.defer_collection()
        off = gc.isenabled()
        import pandas  # noqa: F401
        startup.settle_heap()
        print(off, gc.isenabled(), gc.get_freeze_count() > 10_000)
        startup.settle_heap()  # again: nothing more to do
        print(gc.isenabled())
        """
    )
    assert out.split() == ["False", "True", "True", "True"]


def test_settle_heap_leaves_a_collecting_process_alone():
    out = _run(
        """
        import gc
        from mltriage.cli import startup
        startup.settle_heap()
        print(gc.isenabled(), gc.get_freeze_count())
        """
    )
    assert out.split() == ["True", "0"]


def test_every_command_runs_with_the_collector_on(tmp_path):
    """A command without `imports_first` gets the collector back before it runs; `diagnose`
    turns it on itself after its imports."""
    out = _run(
        """
        import gc, sys
        from mltriage import cli
        from mltriage.cli import startup
        seen = []
        startup.defer_collection()
        @cli.app.command("probe-gc")
        @cli.handles_input_errors
        def probe() -> None:
            seen.append(gc.isenabled())
        sys.argv = ["mltriage", "probe-gc"]
        try:
            cli.app()
        except SystemExit:
            pass
        print(seen)
        """
    )
    assert out == "[True]"


def test_diagnose_turns_the_collector_on_itself_after_its_imports():
    from mltriage.cli import ladder

    assert getattr(ladder.diagnose, "imports_first", False)
