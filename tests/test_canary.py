"""Every lesson runs headlessly, twice in one kernel: without keys, then with keys. Nothing leaks.

Pass one is a learner with no keys, no GPU and no network: every cell must run
(cells tagged raises-exception may fail, as under nbmake, which executes a
notebook the same way; `make notebooks` runs nbmake itself). Pass two, in the
same kernel, gives every route a fake key, with the services played as they
answer today (phi_course.standin.faults: Foundry serving Phi-4 and 410 for its
retired models, NIM's listing; GitHub Models retired, so never called) and the
classroom route on the local stand-in, so the *live* code paths run (keys sent
in real headers) and the lesson proves it reruns. Then every output, every file
the runs wrote and the stand-in's log are scanned for the keys.

The Chinese lessons (lessons/zh/) run once, keyless: their code is the English
code (tests/test_translation.py checks it), so the keyed pass would only prove
again what the English run proves, at half the suite's time.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from phi_course.standin.faults import FaultServer
from tests.lesson_files import EN_LESSONS as LESSONS
from tests.lesson_files import ROOT, ZH_LESSONS, lesson_id

# Each lesson's keyless run is saved here: the web book (`make book`) shows these outputs
# instead of running every lesson a second time.
EXECUTED = ROOT / "build" / "executed"
INLINE = "module://matplotlib_inline.backend_inline"  # the backend a Jupyter kernel uses by default
CANARIES = {
    "GITHUB_TOKEN": "ghp_canaryGH0123456789abcdefghijklmnopqr",
    "AZURE_AI_API_KEY": "canaryAZ0123456789abcdef0123456789ab",
    "NVIDIA_API_KEY": "nvapi-canaryNV0123456789abcdefghijklmnop",
    "PHI_COURSE_API_KEY": "sk-canaryCU0123456789abcdefghijklmn",
}
PIECE = 12  # a leak of any 12 characters of a key counts
HAN = re.compile(r"[\u4e00-\u9fff]")


def leaked(text: str) -> list[str]:
    found = []
    for name, key in CANARIES.items():
        if any(key[i:i + PIECE] in text for i in range(len(key) - PIECE + 1)):
            found.append(name)
    return found


def output_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if isinstance(out.get("text"), str) else "".join(out.get("text", [])))
            for value in out.get("data", {}).values():
                parts.append(value if isinstance(value, str) else str(value))
            parts.extend(out.get("traceback", []))
            parts.append(str(out.get("evalue", "")))
    return "\n".join(parts)


def streams(cell) -> list[str]:
    """What a cell printed (execution counts and rich displays left out)."""
    return ["".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream"]


def switch_to_keys(env: dict[str, str | None]) -> str:
    """Code that gives the running kernel fake keys and today's services (None: unset)."""
    return ("import os as _os\n"
            + "".join(f"_os.environ.pop({k!r}, None)\n" if v is None else f"_os.environ[{k!r}] = {v!r}\n"
                      for k, v in env.items())
            + "from phi_course import routes as _routes, settings as _settings\n"
              "_settings.reload(); _routes.forget_listings()\n")


def run_keyless(path: Path, cwd: Path):
    """Execute the notebook once, as a learner without keys would (what nbmake checks)."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def run_keyless_then_keyed(path: Path, cwd: Path, keyed_env: dict[str, str | None]):
    """Execute the notebook as a learner without keys would, then again in the same kernel with keys.

    The first pass is what nbmake checks (every cell runs, no keys, no network); the
    second proves the lesson reruns in one kernel and runs the live code paths.
    """
    first = nbformat.read(path, as_version=4)
    client = NotebookClient(first, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    with client.setup_kernel():
        for index, cell in enumerate(first.cells):
            client.execute_cell(cell, index)
        client.set_widgets_metadata()  # the widgets' state, so the web book can draw them
        # The switch runs in a notebook of its own, so neither pass's cells include it.
        client.nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(switch_to_keys(keyed_env))])
        client.execute_cell(client.nb.cells[0], 0)
        second = nbformat.read(path, as_version=4)
        client.nb = second
        for index, cell in enumerate(second.cells):
            client.execute_cell(cell, index)
    return first, second


@pytest.fixture(scope="module")
def todays_services(standin, tmp_path_factory):
    """Fake keys for every route, the services as they answer today, the classroom on the stand-in."""
    work = tmp_path_factory.mktemp("canary")
    saved = dict(os.environ)
    os.environ["PHI_COURSE_CACHE"] = str(work / "cache")  # what the lessons build goes where it is scanned
    with FaultServer() as today:
        keyed = {**CANARIES,
                 "AZURE_AI_ENDPOINT": today.url("foundry", "/models"),  # a Foundry resource's /models form
                 "NIM_BASE_URL": today.url("nim"),
                 "PHI_COURSE_BASE_URL": standin.base_url,
                 "GITHUB_MODELS_ENDPOINT": None}  # GitHub's own address: retired, so never called
        yield work, keyed
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_keyless_then_with_keys_and_leaks_nothing(lesson, todays_services, standin, keyless,
                                                              monkeypatch):
    work, keyed = todays_services
    monkeypatch.setenv("MPLBACKEND", INLINE)  # figures in the outputs, as in JupyterLab (and in the web book)
    # A copy of the folders a lesson may read or write, so the scan sees all it wrote.
    copy = work / lesson.stem
    shutil.copytree(ROOT / "lessons", copy / "lessons", ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    if (ROOT / "img").exists():
        shutil.copytree(ROOT / "img", copy / "img")
    first, second = run_keyless_then_keyed(lesson, copy / "lessons", keyed)
    assert not leaked(output_text(first) + output_text(second)), f"{lesson.name} printed a key"
    saved = EXECUTED / lesson.relative_to(ROOT)
    saved.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(first, saved)
    for file in work.rglob("*"):
        if file.is_file() and file.stat().st_size < 50_000_000:
            text = file.read_bytes().decode("utf-8", errors="ignore")
            assert not leaked(text), f"{file} holds a key"
    assert not leaked(standin.log_tail(100_000)), "the stand-in logged a key"
    # The local models answer the same with or without keys: greedy decoding on the same
    # model gives the same text. At least one cell printed the same thing in both passes.
    same = [a for a, b in zip(first.cells, second.cells, strict=True)
            if a.cell_type == "code" and streams(a) and streams(a) == streams(b)]
    assert same, f"{lesson.name}: no cell gave the same output twice"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", ZH_LESSONS, ids=[lesson_id(p) for p in ZH_LESSONS])
def test_chinese_lesson_runs_keyless_and_speaks_chinese(lesson, standin, keyless, tmp_path, monkeypatch):
    monkeypatch.setenv("PHI_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PHI_COURSE_LANG", raising=False)
    monkeypatch.setenv("MPLBACKEND", INLINE)  # figures in the outputs, for the web book's second part
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons", ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    if (ROOT / "img").exists():
        shutil.copytree(ROOT / "img", tmp_path / "img")
    # The kernel starts in lessons/zh, as under nbmake and JupyterLab: the helper's language follows.
    nb = run_keyless(lesson, tmp_path / "lessons" / "zh")
    saved = EXECUTED / lesson.relative_to(ROOT)
    saved.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, saved)
    setup = next(c for c in nb.cells if c.cell_type == "code" and "colab-setup" not in c.metadata.get("tags", []))
    assert any(HAN.search(text) for text in streams(setup)), f"{lesson.name}: start() did not speak Chinese"
