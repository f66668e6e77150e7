"""Driving JupyterLab's page as a learner does, the way JupyterLab's own UI tests (Galata) do.

Cells are found by the code they hold, run with the notebook toolbar's Run button,
and finished when their prompt shows an execution count. Widget errors are
collected from the browser console and from the page (ipywidgets writes "Error
displaying widget" where a widget should be).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page

KERNEL_DEADLINE_MS = 120_000  # a kernel starting on a 2-core machine busy with other jobs
WIDGET_ERROR = "Error displaying widget"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def system_chromium() -> str | None:
    """The machine's own Chromium (Debian's package on CI; `.ci/run` installs it)."""
    chosen = os.environ.get("PHI_COURSE_CHROMIUM")
    if chosen:
        return chosen
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def is_loopback(url: str) -> bool:
    """True for an address on this machine (JupyterLab's own pages and files)."""
    from urllib.parse import urlsplit

    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


@dataclass
class Console:
    """Every error the page reported: console.error calls and uncaught exceptions.

    Pictures from the web (the lessons' Colab badges) cannot load on a machine offline, and the
    browser reports each as a console error; those are kept apart in `offline`, not failures.
    """

    errors: list[str] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and url and not is_loopback(url):
            self.offline.append(url)
        else:
            self.errors.append(f"{message.text} ({url})" if url else message.text)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))


class Notebook:
    """One notebook open in JupyterLab, in a fresh workspace."""

    def __init__(self, page: Page, url: str, source: Path):
        self.page = page
        self.source = source  # the notebook's file, which says where each cell is
        page.goto(url)
        self.panel = page.locator(".jp-NotebookPanel:visible")
        self.wait_idle()

    def wait_idle(self, timeout_ms: int = KERNEL_DEADLINE_MS) -> None:
        """Wait until the kernel is connected and has nothing left to run."""
        self.page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout_ms)

    @property
    def dirty(self) -> bool:
        """True when the tab shows unsaved changes."""
        return self.page.locator(".jp-mod-current.jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty").count() > 0

    def cell(self, code: str) -> Locator:
        """The code cell whose source contains `code` (exactly one must).

        Found in the file, not the page: the editor draws only the lines in view of a long cell.
        """
        cells = json.loads(self.source.read_text())["cells"]
        found = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and code in "".join(c["source"])]
        assert len(found) == 1, f"{len(found)} cells of {self.source.name} contain {code!r}; the test needs one"
        cell = self.panel.locator(".jp-Cell").nth(found[0])
        cell.wait_for()
        return cell

    @staticmethod
    def output(cell: Locator) -> Locator:
        return cell.locator(".jp-Cell-outputArea")

    def select(self, cell: Locator) -> None:
        cell.locator(".jp-InputPrompt").click()

    def run(self, cell: Locator, timeout_s: float = 180) -> None:
        """Run `cell` as the toolbar's Run button does and wait for its execution count.

        A click that lands while JupyterLab is still settling the freshly opened notebook can
        be lost (seen once in a full `make test`: the prompt stayed empty for 180 s); a learner
        would click again, and so does this, once, if the cell shows neither [*] nor a count.
        """
        prompt = cell.locator(".jp-InputPrompt")
        for _attempt in range(2):
            self.select(cell)
            self.page.locator("jp-button[data-command='notebook:run-cell-and-select-next']").click()
            deadline = time.monotonic() + 15
            while not re.search(r"\[(\*|\d+)\]", prompt.inner_text()) and time.monotonic() < deadline:
                time.sleep(0.1)
            if re.search(r"\[(\*|\d+)\]", prompt.inner_text()):
                break
        self.wait_ran(cell, timeout_s)

    def run_all_above(self, cell: Locator) -> None:
        """Run > Run All Above Selected Cell (returns at once; the cells run in order)."""
        self.select(cell)
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text="Run All Above Selected Cell").click()

    def wait_ran(self, cell: Locator, timeout_s: float = 180) -> None:
        prompt = cell.locator(".jp-InputPrompt")
        deadline = time.monotonic() + timeout_s
        while not re.search(r"\[\d+\]", prompt.inner_text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"the cell did not finish within {timeout_s:.0f} s: "
                                     f"{cell.locator('.cm-content').inner_text()[:120]!r}")
            time.sleep(0.1)
        # A traceback fails the run; stderr alone (progress bars, warnings) does not.
        tracebacks = cell.locator("[data-mime-type='application/vnd.jupyter.error']")
        assert tracebacks.count() == 0, f"the cell raised:\n{tracebacks.first.inner_text()[:2000]}"

    def save(self) -> None:
        """File > Save (the toolbar button), then wait until the tab is clean."""
        self.page.locator("jp-button[data-command='docmanager:save']").click()
        deadline = time.monotonic() + 15
        while self.dirty:
            assert time.monotonic() < deadline, "the notebook was still unsaved 15 s after Save"
            time.sleep(0.1)


def widget_error_text(area: Locator) -> str | None:
    """What an output area shows instead of a widget, if it does ("Error displaying widget ...")."""
    text = area.inner_text()
    return text[text.index(WIDGET_ERROR):][:300] if WIDGET_ERROR in text else None


def wait_for_change(read, before, what: str, timeout_s: float = 60):
    """Poll `read()` until it differs from `before`; return the new value."""
    deadline = time.monotonic() + timeout_s
    while (now := read()) == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not change within {timeout_s:.0f} s")
        time.sleep(0.1)
    return now
