"""The web book builds offline, with a page for every lesson and the figures of the lessons that ran.

The test runs one lesson (02: figures and a widget) into its own folder of saved
runs and builds the book from it with `--no-execute`, as `make book` does from the
runs `make test` saves: every lesson gets a page, lesson 02's page shows each of
its figures and its widget as a static snapshot, and the book loads nothing from
the network.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "tools" / "book" / "build.py"
RAN = "02_phi_family"


def image_outputs(nb: dict) -> int:
    """Figures the notebook's cells drew (PNG outputs), widgets' own figures left out."""
    return sum("image/png" in out.get("data", {}) for c in nb["cells"] for out in c.get("outputs", []))


def lesson_pages() -> list[Path]:
    return [p.relative_to(ROOT).with_suffix(".html")
            for folder in ("lessons", "lessons/zh") for p in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))]


@pytest.mark.slow
def test_book_has_every_lesson_and_the_figures_of_those_that_ran(standin, keyless, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # figures into the outputs
    lesson = ROOT / "lessons" / f"{RAN}.ipynb"
    nb = nbformat.read(lesson, as_version=4)
    work = tmp_path / "lessons"
    work.mkdir()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    executed = tmp_path / "executed"
    (executed / "lessons").mkdir(parents=True)
    nbformat.write(nb, executed / "lessons" / lesson.name)

    out = tmp_path / "book"
    done = subprocess.run([sys.executable, str(BUILD), "--no-execute", "--executed", str(executed),
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"the book did not build:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert f"lessons/{RAN}.ipynb: saved run, 1 widget snapshot(s)" in done.stdout, done.stdout

    index = (out / "index.html").read_text()
    for page in lesson_pages():
        assert (out / page).exists(), f"no page for {page.with_suffix('.ipynb')}"
        assert page.as_posix() in index, f"the book's contents do not link {page}"

    html = (out / "lessons" / f"{RAN}.html").read_text()
    figures = re.findall(r'<img[^>]+src="(\.\./_images/[^"]+)"', html)
    wanted = image_outputs(json.loads((executed / "lessons" / lesson.name).read_text()))
    assert wanted >= 3 and len(figures) == wanted, f"{len(figures)} figures on the page, {wanted} in the run"
    for src in figures:
        assert (out / "lessons" / src).resolve().is_file(), f"the page shows {src}, which the book lacks"
    snapshot = html[html.index("widget-snapshot"):]
    assert "Phi-3.5-mini" in snapshot and "data:image/png;base64," in snapshot, \
        "the family explorer's snapshot lacks its model or its chart"
    assert "ipywidgets" not in html, "the page loads the widget JavaScript (from a CDN) instead of a snapshot"
    # Offline: no script or stylesheet is loaded from another host.
    remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)
    assert not remote, f"the page loads {remote}"
