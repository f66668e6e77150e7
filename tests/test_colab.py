"""Colab: each lesson's badge opens that lesson, and the setup cell installs the course there
without replacing Colab's own torch (phi_course/colab.py)."""

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from phi_course import colab

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted([*ROOT.glob("lessons/[0-9][0-9]_*.ipynb"), *ROOT.glob("lessons/zh/[0-9][0-9]_*.ipynb")])


def test_the_badge_opens_the_lesson_it_sits_in():
    url = colab.colab_url("lessons/03_github_models.ipynb", "someone/course", "dev")
    assert url == "https://colab.research.google.com/github/someone/course/blob/dev/lessons/03_github_models.ipynb"
    assert colab.badge("lessons/03_github_models.ipynb", "someone/course", "dev") == (
        f"[![Open In Colab]({colab.BADGE_IMAGE})]({url})")


def test_a_path_that_is_not_a_notebook_is_refused_with_an_example():
    with pytest.raises(ValueError, match="e.g. lessons/00_setup.ipynb"):
        colab.colab_url("lessons/03_github_models")


@pytest.mark.parametrize("modules, installed, expected", [
    ({"google.colab", "sys"}, False, True),   # a fresh Colab machine
    ({"google.colab", "sys"}, True, False),   # Colab, second run of the cell
    ({"sys", "ipykernel"}, False, False),     # JupyterLab without the course: make lab installs it, not this cell
    ({"sys", "ipykernel"}, True, False),
])
def test_the_setup_cell_installs_only_on_colab_and_only_once(modules, installed, expected):
    assert colab.should_install(modules, installed) is expected


def test_colab_keeps_its_torch_family_and_extras_stay_out():
    requires = ["torch<2.15,>=2.4", "Torch_Audio", "torchvision>=0.1; python_version > '3.8'",
                "transformers<6,>=5.0", "ollama[async]>=0.4", 'pytest; extra == "dev"', "tqdm"]
    assert colab.requirements_to_install(requires, keep=("torch", "torchvision", "torch-audio")) == [
        "transformers<6,>=5.0", "ollama[async]>=0.4", "tqdm"]


def test_what_colab_installs_is_the_course_requirements_without_torch():
    requires = metadata.requires("phi-course")
    wanted = colab.requirements_to_install(requires)
    assert any(r.startswith("torch") for r in requires)
    assert not any(colab._name(r) in colab.KEEP_FROM_COLAB for r in wanted)
    assert len(wanted) == len(requires) - 1  # the course asks for torch only; Colab has it
    assert colab.course_source().startswith("phi-course @ git+https://github.com/")


def test_every_lesson_has_its_own_badge_and_the_setup_cell_before_its_first_code():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "colab_badges.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    for path in LESSONS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        assert colab.colab_url(path.relative_to(ROOT).as_posix()) in "".join(cells[0]["source"]), path.name
        first_code = next(c for c in cells if c["cell_type"] == "code")
        assert "colab-setup" in first_code["metadata"]["tags"], path.name


def test_the_setup_cell_does_nothing_off_colab(tmp_path):
    """The real cell, in a fresh Python that has no phi_course (no site-packages) and is not Colab."""
    cells = json.loads(LESSONS[0].read_text(encoding="utf-8"))["cells"]
    source = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
    probe = source + "\nprint('installed' if 'phi_course' in sys.modules else 'nothing done')"
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "nothing done", "")
