"""Lessons (both editions) are committed without outputs, with the python3 kernel, in order."""

import json
import re
import subprocess
import sys

from tests.lesson_files import ALL_LESSONS as LESSONS
from tests.lesson_files import EN_LESSONS, ROOT, ZH_LESSONS


def test_lessons_exist_and_are_numbered_in_order():
    assert EN_LESSONS, "no lessons found"
    numbers = [int(p.name[:2]) for p in EN_LESSONS]
    assert numbers == sorted(set(numbers))
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name) for p in LESSONS)


def test_every_chinese_lesson_has_an_english_twin_of_the_same_name():
    english = {p.name for p in EN_LESSONS}
    assert [p.name for p in ZH_LESSONS if p.name not in english] == []


def test_lessons_carry_no_outputs():
    for path in LESSONS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path.name


def test_nbclean_check_agrees():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "nbclean.py"), "--check", str(ROOT / "lessons")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_every_lesson_opens_with_title_goal_and_one_setup_cell():
    for path in LESSONS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# "), path.name
        code = [c for c in cells if c["cell_type"] == "code" and "colab-setup" not in c["metadata"].get("tags", [])]
        assert "from phi_course.lesson import start" in "".join(code[0]["source"]), path.name
        assert sum("lesson import start" in "".join(c["source"]) for c in code) == 1, path.name
