"""The course's widgets in a real browser: JupyterLab driven by Playwright in the system Chromium.

pytest checks the widgets' Python side; this test checks what a learner sees. For
each edition (lessons/, and lessons/zh/ when it exists) one JupyterLab serves a
temporary copy of the lessons; the test opens a lesson, runs the cell that makes
its widget, uses it (types, clicks, picks), saves, and at the end reopens every
saved lesson with a new kernel and finds its widgets drawn from the saved state.
It fails on a cell that raises, a widget that does not answer, a widget missing
after reopening, and any error in the browser console.
Screenshots go to build/screenshots/ (kept by CI, ignored by git).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from phi_course.i18n import _catalog
from tests import lab_page, lab_server
from tests.lab_page import Notebook, wait_for_change, widget_error_text

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# For any one page action (a page load, a widget answering). Normally a few seconds; a CI
# machine shared with other jobs can be ten times slower, and a timeout is not a finding.
PAGE_DEADLINE_MS = 90_000
EDITIONS = {"en": ROOT / "lessons", "zh": ROOT / "lessons" / "zh"}


def editions() -> list[str]:
    """English always; Chinese once lessons/zh/ holds lessons."""
    return [name for name, folder in EDITIONS.items() if any(folder.glob("[0-9][0-9]_*.ipynb"))]


def lesson(edition: str, number: str) -> str:
    """The lesson's path as JupyterLab serves it (relative to the copied course)."""
    found = sorted(EDITIONS[edition].glob(f"{number}_*.ipynb"))
    assert found, f"no lesson {number} in {EDITIONS[edition]}"
    return found[0].relative_to(ROOT).as_posix()


class Run:
    """One edition's browser session: the page, its console, timings and screenshots."""

    def __init__(self, lab: lab_server.Lab, page, edition: str, started: float):
        self.lab, self.page, self.edition = lab, page, edition
        self.console = lab_page.Console()
        self.console.watch(page)
        self.timings: list[tuple[str, float]] = []
        self.started = started

    def open(self, path: str) -> Notebook:
        # Not checked here: a lesson marked modified on open. JupyterLab marks it a moment after
        # the kernel connects, so a check at open passes or fails by timing (seen both ways).
        return Notebook(self.page, self.lab.page_url(path), self.lab.root / path)

    def says(self, message: str) -> str:
        """What the widgets show for `message` in this edition (labels follow the lesson's language)."""
        return _catalog(self.edition).gettext(message)

    def shot(self, name: str, target=None) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (target or self.page).screenshot(path=str(SHOTS / f"{self.edition}-{name}.png"))

    def lap(self, step: str) -> None:
        """Note how long the run has taken so far (build/screenshots/EDITION-timings.txt)."""
        self.timings.append((step, time.monotonic() - self.started))
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / f"{self.edition}-timings.txt").write_text(
            "".join(f"{t:6.1f} s  {name}\n" for name, t in self.timings))

    def save_and_close(self, nb: Notebook, path: str) -> None:
        """Save, check the file holds the widget state, leave the page, shut the kernel down."""
        nb.save()
        saved = json.loads((self.lab.root / path).read_text())
        state = saved["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        assert state, f"{path} was saved without its widget state: a reopened lesson would show none"
        self.page.goto("about:blank")
        for session in self.lab.api("/api/sessions"):
            self.lab.api(f"/api/sessions/{session['id']}", method="DELETE")


def use_memory_calculator(run: Run, nb: Notebook) -> None:
    """Lesson 01: change the precision (the numbers follow), then the context (the figure too)."""
    cell = nb.cell("MemoryCalculator(")
    nb.run(cell)
    out = nb.output(cell)
    numbers, image = out.locator(".widget-html-content").first, out.locator("img").first
    shown, figure = numbers.inner_text(), image.get_attribute("src")
    out.locator(".widget-dropdown select").nth(1).select_option("fp16")
    shown = wait_for_change(numbers.inner_text, shown, "the memory numbers after picking fp16")
    readout = out.locator(".widget-readout").first
    context = readout.inner_text()
    out.locator(".noUi-handle").first.focus()
    run.page.keyboard.press("ArrowRight")  # one notch longer, as a learner does with the keys
    wait_for_change(readout.inner_text, context, "the context slider's readout")
    wait_for_change(numbers.inner_text, shown, "the memory numbers after a longer context")
    wait_for_change(lambda: image.get_attribute("src"), figure, "the memory figure after a longer context")
    run.shot("01-memory-calculator", cell)


def use_family_explorer(run: Run, nb: Notebook) -> None:
    """Lesson 02: pick the Phi-4 generation; the model list, the details and the chart follow."""
    cell = nb.cell("FamilyExplorer(")
    nb.run(cell)
    out = nb.output(cell)
    details = out.locator(".widget-html-content").first
    shown = details.inner_text()
    assert "Phi-3.5-mini" in shown, f"the explorer does not show the model the lesson picked:\n{shown[:300]}"
    out.locator(".widget-toggle-button", has_text="Phi-4").first.click()
    shown = wait_for_change(details.inner_text, shown, "the explorer's details after picking Phi-4")
    assert "Phi-4" in shown.split("\n", 1)[0], f"the details do not show a Phi-4 model:\n{shown[:300]}"
    picked = out.locator(".widget-dropdown select").first
    options = picked.locator("option").all_inner_texts()
    assert options and all("Phi-4" in o for o in options), f"the model list is not the Phi-4 generation: {options}"
    run.shot("02-family-explorer", cell)


def use_compare(run: Run, nb: Notebook) -> None:
    """Lesson 03: type a prompt, press Run; both columns answer and the table is redrawn."""
    cell = nb.cell("CompareWidget(")
    nb.run(cell)
    out = nb.output(cell)
    outputs = out.locator(".widget-output")  # the two answer columns, then the table
    table = outputs.last
    before = table.inner_text()
    prompt = "What is a small language model?"
    out.locator(".widget-textarea textarea").fill(prompt)
    out.locator(".widget-button", has_text=run.says("Run")).click()
    wait_for_change(table.inner_text, before, "the results table after pressing Run", timeout_s=120)
    status = out.locator(".widget-html-content").filter(has_text=run.says("done"))
    status.first.wait_for()
    for i in range(outputs.count() - 1):
        # Under load the page can draw a column a moment after the table and the status: poll for it.
        column = outputs.nth(i)
        answer = wait_for_change(lambda column=column: column.inner_text().strip(), "",
                                 f"column {i + 1}'s answer after Run (it stayed empty)")
        assert answer[:12] in table.inner_text(), f"the table does not show column {i + 1}'s answer {answer[:40]!r}"
    run.shot("03-compare", cell)


def use_chat_box(run: Run, nb: Notebook) -> None:
    """Lesson 05: type a message, Send; the reply streams in and the turn is counted. Clear empties it."""
    cell = nb.cell("ChatBox(")
    nb.run(cell)
    out = nb.output(cell)
    transcript, status = out.locator(".widget-output").first, out.locator(".widget-html-content").last
    turns = status.inner_text()
    question = "What does NIM stand for?"
    out.locator(".widget-text input").fill(question)
    out.locator(".widget-button", has_text=run.says("Send")).click()
    wait_for_change(status.inner_text, turns, "the chat status after Send", timeout_s=120)
    assert run.says("You: {question}").format(question=question) in transcript.inner_text(), \
        "the message is not in the transcript"
    wait_for_change(status.inner_text, run.says("thinking…"), "the chat status while the reply streams", timeout_s=120)
    counted = run.says("{turns} turn(s) · first token after {seconds:.2f} s").split("{seconds")[0].format(turns=3)
    assert status.inner_text().startswith(counted), f"the chat did not count the third turn: {status.inner_text()!r}"
    run.shot("05-chat-box", cell)
    out.locator(".widget-button", has_text=run.says("Clear")).click()
    deadline = time.monotonic() + 60
    while transcript.inner_text().strip():
        assert time.monotonic() < deadline, "Clear left the transcript as it was"
        time.sleep(0.1)
    assert status.inner_text() == run.says("cleared")


# The lesson, the code that makes its widget, how a learner uses it, and what proves it is drawn.
WIDGET_LESSONS = [
    ("01", "MemoryCalculator(", use_memory_calculator, ".noUi-handle"),
    ("02", "FamilyExplorer(", use_family_explorer, ".widget-toggle-button"),
    ("03", "CompareWidget(", use_compare, ".widget-textarea textarea"),
    ("05", "ChatBox(", use_chat_box, ".widget-text input"),
]

# The JavaScript side of the live-plot check: every picture the cell's output shows, in order.
RECORD_PICTURES = """cell => {
  window.__pictures = [];
  new MutationObserver(() => {
    for (const img of cell.querySelectorAll('.jp-Cell-outputArea img')) {
      if (window.__pictures.at(-1) !== img.src) window.__pictures.push(img.src);
    }
  }).observe(cell, {subtree: true, childList: true, attributes: true});
}"""


def watch_live_loss_plot(run: Run, nb: Notebook) -> None:
    """Lesson 11: run up to pre-training; the loss plot redraws while the model trains."""
    code = "losses = train_loop(model"
    training, after = nb.cell(code), nb.cell("for start_text in")
    training.evaluate(RECORD_PICTURES)
    nb.run_all_above(after)
    nb.wait_ran(training, timeout_s=300)
    pictures = run.page.evaluate("window.__pictures.length")
    # The empty axes, at least one redraw during training, and the final curve.
    assert pictures >= 3, f"the loss plot was drawn {pictures} time(s) while training: it is not live"
    run.shot("11-live-loss-plot", training)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("edition", editions())
def test_widgets_work_in_jupyterlab(edition, standin, keyless, tmp_path):
    chromium = lab_page.system_chromium()
    if chromium is None:
        message = "no Chromium on this machine: `apt-get install chromium` (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    os.environ["PHI_COURSE_CACHE"] = str(tmp_path / "cache")  # what lessons build stays in the test's folder
    started = time.monotonic()
    lab = lab_server.start(tmp_path)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(PAGE_DEADLINE_MS)
            run = Run(lab, page, edition, started)
            run.lap("JupyterLab and Chromium started")
            for number, _code, use, _drawn in WIDGET_LESSONS:
                path = lesson(edition, number)
                nb = run.open(path)
                use(run, nb)
                run.save_and_close(nb, path)
                run.lap(f"lesson {number}")
            nb = run.open(lesson(edition, "11"))
            watch_live_loss_plot(run, nb)
            run.page.goto("about:blank")
            run.lap("lesson 11")
            for number, code, _use, drawn in WIDGET_LESSONS:  # with new kernels: drawn from the saved state
                nb = run.open(lesson(edition, number))
                out = nb.output(nb.cell(code))
                # Whichever comes first: the widget drawn, or ipywidgets' message in its place.
                out.locator(drawn).or_(out.get_by_text(lab_page.WIDGET_ERROR)).first.wait_for()
                problem = widget_error_text(out)
                assert problem is None, f"lesson {number} reopened shows {problem!r} where its widget was"
                run.shot(f"{number}-reopened")
            run.lap("reopened")
            browser.close()
        assert not run.console.errors, "the browser console reported errors:\n" + "\n".join(run.console.errors)
    finally:
        lab.stop()
        os.environ.pop("PHI_COURSE_CACHE", None)
