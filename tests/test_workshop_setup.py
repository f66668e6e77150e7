"""What a workshop machine meets: lessons that stay clean in git after JupyterLab saves them,
`make lab` as root and without a screen, and widget state saved with a notebook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "00_setup.ipynb"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def saved_by_jupyterlab(path: Path) -> None:
    """Change a notebook the way running it in JupyterLab and saving does."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["execution_count"] = 1
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["Phi course 0.1.0 · 00 · seed 0\n"]}]
    code["metadata"]["execution"] = {"iopub.execute_input": "2026-12-01T10:00:00Z"}
    nb["metadata"]["kernelspec"]["display_name"] = "Python 3 (another venv)"
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def test_a_lesson_saved_by_jupyterlab_leaves_git_clean(tmp_path):
    repo = tmp_path / "course"
    (repo / "lessons").mkdir(parents=True)
    (repo / "tools").mkdir()
    shutil.copy(ROOT / ".gitattributes", repo)
    shutil.copy(ROOT / "tools" / "nbclean.py", repo / "tools")
    shutil.copy(LESSON, repo / "lessons")
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "git-filter", f"PYTHON={sys.executable}"],
                   cwd=repo, check=True, capture_output=True)
    assert git(repo, "config", "--get", "filter.nbclean.clean").strip().endswith("tools/nbclean.py --stdin")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "lessons")
    saved_by_jupyterlab(repo / "lessons" / LESSON.name)
    assert "execution_count\": 1" in (repo / "lessons" / LESSON.name).read_text()  # the disk keeps outputs
    assert git(repo, "diff") == ""  # git sees no change in content...
    git(repo, "add", "-A")
    assert git(repo, "status", "--porcelain") == ""  # ...and `git add` finds nothing to commit
    # A real edit still shows.
    nb = json.loads((repo / "lessons" / LESSON.name).read_text())
    nb["cells"][0]["source"] = ["# changed\n"]
    (repo / "lessons" / LESSON.name).write_text(json.dumps(nb, indent=1) + "\n")
    assert git(repo, "status", "--porcelain").strip() == f"M lessons/{LESSON.name}"


def test_the_filter_passes_what_is_not_a_notebook_through():
    broken = "<<<<<<< HEAD\n{not json\n"
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "nbclean.py"), "--stdin"], input=broken,
                         capture_output=True, text=True, check=True).stdout
    assert out == broken


def _lab_command(env: dict[str, str]) -> str:
    done = subprocess.run(["make", "-n", "-s", "lab"], cwd=ROOT, capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_make_lab_runs_as_root_and_without_a_screen():
    headless = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    command = _lab_command(headless)
    assert command.endswith("jupyter lab --allow-root --no-browser lessons/") if os.getuid() == 0 \
        else command.endswith("jupyter lab  --no-browser lessons/")
    with_screen = _lab_command({**headless, "DISPLAY": ":0"})
    assert "--no-browser" not in with_screen


def test_jupyterlab_saves_widget_state_with_the_notebook():
    settings = json.loads((ROOT / "tools" / "jupyterlab-overrides.json").read_text())
    assert settings["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(installed.read_text()) == settings  # `make install` put it where JupyterLab reads it


def test_the_codespaces_container_runs_the_same_setup():
    import re

    text = (ROOT / ".devcontainer" / "devcontainer.json").read_text()
    config = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))  # JSON with // comments
    targets = config["postCreateCommand"].split()[1:]
    makefile = (ROOT / "Makefile").read_text()
    assert config["postCreateCommand"].startswith("make ") and targets
    assert all(re.search(rf"^{t}:", makefile, flags=re.M) for t in targets)
    assert config["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"] == ".venv/bin/python"
