"""Build the course's web book (build/book) from the lessons with their outputs, offline.

    python tools/book/build.py               # what `make book` runs
    python tools/book/build.py --no-execute  # lessons not yet run appear without outputs

Why Sphinx with myst-nb: it is pure Python, so it installs from PyPI like the
rest of the course and builds with no network. Jupyter Book 2 needs Node.js and
fetches its page theme when it builds; mkdocs-jupyter sits on MkDocs, whose 1.x
line no longer gets releases. myst-nb reads .ipynb files as they are and shows
their saved outputs (nb_execution_mode "off"): it never runs a lesson.

The outputs come from the test run: tests/test_canary.py saves every lesson it
runs (learner without keys, the tests' quick settings) under build/executed/.
A lesson is run here only when it has no saved run, or when its code changed
since (prose edits alone reuse the run). Widgets become static snapshots
(snapshot.py). lessons/zh/, when it holds lessons, becomes the book's second part.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from snapshot import snapshot_widgets

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EXECUTED = ROOT / "build" / "executed"
EDITIONS = {"lessons": "Lessons", "lessons/zh": "中文版 (Chinese edition)"}
INLINE = "module://matplotlib_inline.backend_inline"  # a Jupyter kernel's default backend
RUN_TIMEOUT = 600  # seconds for one cell; lesson 11's training runs several minutes at full size


def lessons(root: Path = ROOT) -> dict[str, list[Path]]:
    """Each edition's lessons, by folder (relative to root); lessons/zh/ only when it holds some."""
    found = {folder: sorted((root / folder).glob("[0-9][0-9]_*.ipynb")) for folder in EDITIONS}
    return {folder: paths for folder, paths in found.items() if paths}


def code_of(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def with_outputs(lesson: dict, run: dict) -> dict | None:
    """The lesson as written now, with the outputs of `run`; None if their code differs."""
    if code_of(lesson) != code_of(run):
        return None
    ran = iter(c for c in run["cells"] if c["cell_type"] == "code")
    for cell in lesson["cells"]:
        if cell["cell_type"] == "code":
            done = next(ran)
            cell["outputs"], cell["execution_count"] = done.get("outputs", []), done.get("execution_count")
    if "widgets" in run.get("metadata", {}):
        lesson["metadata"]["widgets"] = run["metadata"]["widgets"]
    return lesson


def execute(path: Path, saved: Path) -> None:
    """Run a lesson as the tests do (in a copy of the lessons, so nothing lands in the repo); save it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "lessons"
        shutil.copytree(ROOT / "lessons", copy, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
        if (ROOT / "img").exists():
            shutil.copytree(ROOT / "img", Path(work) / "img")
        folder = copy / path.parent.relative_to(ROOT / "lessons")
        folder.mkdir(parents=True, exist_ok=True)
        NotebookClient(nb, timeout=RUN_TIMEOUT, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(folder)}}).execute()
    saved.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, saved)


def page_for(path: Path, run_missing: bool, executed: Path) -> tuple[dict, str]:
    """The notebook the book shows for `path`, and where its outputs came from."""
    lesson = json.loads(path.read_text())
    saved = executed / path.relative_to(ROOT)
    if saved.exists():
        merged = with_outputs(lesson, json.loads(saved.read_text()))
        if merged is not None:
            return merged, "saved run"
    if not run_missing:
        return lesson, "no outputs (not run)"
    print(f"running {path.relative_to(ROOT)} (no saved run of this code)", flush=True)
    execute(path, saved)
    return with_outputs(lesson, json.loads(saved.read_text())), "run now"


def index_page(parts: dict[str, list[Path]]) -> str:
    lines = ["# Phi small language models: the course", "",
             "Every lesson of the course with its outputs and figures, as it ran on a CPU with no keys "
             "and no network (the course's embedded models and local stand-in servers answer). "
             "Widgets are shown as they were drawn; open a lesson in JupyterLab (`make lab`) to use them.", ""]
    for folder, paths in parts.items():
        lines += ["```{toctree}", ":maxdepth: 1", f":caption: {EDITIONS[folder]}", ""]
        lines += [p.relative_to(ROOT).with_suffix("").as_posix() for p in paths]
        lines += ["```", ""]
    return "\n".join(lines)


def build(out: Path, run_missing: bool, executed: Path = EXECUTED) -> int:
    parts = lessons()
    source = out.parent / (out.name + "-source")
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    if (ROOT / "img").exists():
        shutil.copytree(ROOT / "img", source / "img")  # lessons link ../img/...
    for paths in parts.values():
        for path in paths:
            nb, origin = page_for(path, run_missing, executed)
            widgets = snapshot_widgets(nb)
            target = source / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(nb, ensure_ascii=False))
            print(f"{path.relative_to(ROOT)}: {origin}, {widgets} widget snapshot(s)")
    (source / "index.md").write_text(index_page(parts))
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(HERE), str(source), str(out)]
    return subprocess.run(command, env={**os.environ, "PYTHONPATH": str(HERE)}).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book", help="where the HTML goes")
    parser.add_argument("--executed", type=Path, default=EXECUTED, help="where saved runs are read (and written)")
    parser.add_argument("--no-execute", action="store_true", help="never run a lesson; show unrun ones bare")
    args = parser.parse_args(argv)
    os.environ["MPLBACKEND"] = INLINE  # lessons run here draw their figures into the notebook
    code = build(args.out.resolve(), not args.no_execute, args.executed.resolve())
    if code == 0:
        print(f"the book: {args.out / 'index.html'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
