"""Secrets never leak, and every lesson reruns in the same kernel.

Every lesson runs with fake keys set for every route, the services played as
they answer today (phi_course.fault_server: Foundry serving Phi-4 and 410 for
its retired models, NIM's listing; GitHub Models retired, so never called) and
the classroom route on the local stand-in, so the *live* code paths run (keys
sent in real headers).
Then every output and every file the run wrote is scanned for the keys.
Each lesson runs twice in one kernel: the second run must succeed too, and a
greedy answer must come out the same.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from phi_course.fault_server import FaultServer

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
CANARIES = {
    "GITHUB_TOKEN": "ghp_canaryGH0123456789abcdefghijklmnopqr",
    "AZURE_AI_API_KEY": "canaryAZ0123456789abcdef0123456789ab",
    "NVIDIA_API_KEY": "nvapi-canaryNV0123456789abcdefghijklmnop",
    "PHI_COURSE_API_KEY": "sk-canaryCU0123456789abcdefghijklmn",
}
PIECE = 12  # a leak of any 12 characters of a key counts


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


def run_twice(path: Path, cwd: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """Execute the notebook, then every cell again in the same kernel."""
    first = nbformat.read(path, as_version=4)
    client = NotebookClient(first, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    with client.setup_kernel():
        for index, cell in enumerate(first.cells):
            client.execute_cell(cell, index)
        second = nbformat.read(path, as_version=4)
        client.nb = second
        for index, cell in enumerate(second.cells):
            client.execute_cell(cell, index)
    return first, second


@pytest.fixture(scope="module")
def canary_env(standin, tmp_path_factory):
    """Fake keys for every route, the services as they answer today, the classroom on the stand-in."""
    work = tmp_path_factory.mktemp("canary")
    saved = dict(os.environ)
    with FaultServer() as today:
        os.environ.update(CANARIES)
        os.environ.update({
            "AZURE_AI_ENDPOINT": today.url("foundry", "/models"),  # a Foundry resource's azure-ai-inference form
            "NIM_BASE_URL": today.url("nim"),
            "PHI_COURSE_BASE_URL": standin.base_url,
            "PHI_COURSE_CACHE": str(work / "cache"),
        })
        os.environ.pop("GITHUB_MODELS_ENDPOINT", None)  # GitHub's own address: retired, so never called
        yield work
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_with_fake_keys_leaks_nothing_and_reruns(lesson, canary_env, standin):
    # A copy of the folders a lesson may read or write, so the scan sees all it wrote.
    copy = canary_env / lesson.stem
    shutil.copytree(ROOT / "lessons", copy / "lessons", ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    if (ROOT / "img").exists():
        shutil.copytree(ROOT / "img", copy / "img")
    cwd = copy / "lessons"
    first, second = run_twice(lesson, cwd)
    for nb in (first, second):
        assert not leaked(output_text(nb)), f"{lesson.name} printed a key"
    for file in canary_env.rglob("*"):
        if file.is_file() and file.stat().st_size < 50_000_000:
            text = file.read_bytes().decode("utf-8", errors="ignore")
            assert not leaked(text), f"{file} holds a key"
    log = standin.log_tail(100_000)
    assert not leaked(log), "the stand-in logged a key"
    # Greedy cells give the same answer the second time: at least one cell's
    # output is identical in both runs, and no cell failed in either.
    same = [a for a, b in zip(first.cells, second.cells, strict=True)
            if a.cell_type == "code" and streams(a) and streams(a) == streams(b)]
    assert same, f"{lesson.name}: no cell gave the same output twice"
