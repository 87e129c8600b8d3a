"""A Report in a notebook, as a person sees it: a notebook built here is executed by a real
kernel (nbclient + ipykernel); the cell that displays a Report must give HTML holding every
finding, and a long step must show its progress as a display that refreshes in place."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed: pip install -e '.[test]'")
pytest.importorskip("ipykernel", reason="ipykernel is not installed: pip install -e '.[test]'")

TESTS = Path(__file__).resolve().parent


def run_notebook(*sources: str) -> list:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(TESTS)}}
    )
    client.execute()
    return nb.cells


def _html(outputs: list) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in outputs if "data" in o)


def test_a_report_displays_as_html_with_its_findings():
    cells = run_notebook(
        "from test_report_html import ladder_report\nreport = ladder_report()",
        "report",
        "[f.code for f in report.findings]",
        "from mltriage.progress import Progress\n"
        "with Progress(3, what='step') as tick:\n"
        "    for s in ('a', 'b', 'c'):\n"
        "        tick(s)",
    )
    assert [o["output_type"] for o in cells[1].outputs] == ["execute_result"]  # one display, no stray text
    html = _html(cells[1].outputs)
    codes = eval(cells[2].outputs[0]["data"]["text/plain"])
    assert html.startswith("<div class='mlt'") and "<html" not in html
    assert codes and all(code in html for code in codes)
    assert html.count("<figure class='plot'") >= len({*codes})
    # progress in a notebook: a display refreshed in place (a widget, or HTML with a display id)
    progress = cells[3].outputs
    assert progress, "no progress shown in the notebook"
    shown = _html(progress) + "".join(str(o.get("data", {})) for o in progress)
    assert "application/vnd.jupyter.widget-view+json" in shown or "3/3" in shown or "step" in shown
