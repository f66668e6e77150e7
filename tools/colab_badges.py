"""Give every lesson its "Open in Colab" badge and the Colab setup cell, or check that it has them.

    python tools/colab_badges.py           # write them (after changing phi_course.colab.REPOSITORY)
    python tools/colab_badges.py --check   # exit 1 naming each lesson that is out of date

The badge goes under the lesson's title; the setup cell (tagged "colab-setup") goes right before
the lesson's first code cell. Both are rebuilt from phi_course/colab.py, so running this twice
changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from phi_course import colab  # noqa: E402

TAG = "colab-setup"
COMMENT = {
    "en": "# On Google Colab: install the course, keeping Colab's own torch. Anywhere else this does nothing.",
    "zh": "# 在 Google Colab 上：安装本课程，保留 Colab 自带的 torch。在其他环境中这个单元格什么也不做。",
}


def setup_source(lang: str = "en") -> str:
    """The setup cell: install the package alone, then its requirements except the torch family."""
    return "\n".join([
        COMMENT[lang],
        "import importlib.util",
        "import subprocess",
        "import sys",
        "",
        'if "google.colab" in sys.modules and importlib.util.find_spec("phi_course") is None:',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",',
        f'                    "{colab.course_source()}"], check=True)',
        "    from phi_course import colab",
        "",
        "    colab.install()",
    ])


def lessons() -> list[Path]:
    return sorted([*ROOT.glob("lessons/[0-9][0-9]_*.ipynb"), *ROOT.glob("lessons/zh/[0-9][0-9]_*.ipynb")])


def updated(path: Path) -> nbformat.NotebookNode:
    """The lesson with its badge and setup cell as phi_course.colab says they should be."""
    nb = nbformat.read(path, as_version=4)
    lang = "zh" if path.parent.name == "zh" else "en"
    nb.cells = [c for c in nb.cells if TAG not in c.metadata.get("tags", [])]
    title = nb.cells[0]
    lines = [line for line in title.source.split("\n") if "colab-badge.svg" not in line]
    # the title line, the badge, then the rest as it was
    title.source = "\n".join([lines[0], "", colab.badge(path.relative_to(ROOT).as_posix()), *lines[1:]]).replace(
        "\n\n\n", "\n\n")
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    cell = nbformat.v4.new_code_cell(setup_source(lang), metadata={"tags": [TAG]})
    nb.cells.insert(first_code, cell)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/colab_badges.py")
    parser.add_argument("--check", action="store_true", help="only report lessons that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for path in lessons():
        before = nbformat.read(path, as_version=4)
        after = updated(path)
        same = [(c.cell_type, c.source) for c in before.cells] == [(c.cell_type, c.source) for c in after.cells]
        if same:
            continue
        stale.append(path.relative_to(ROOT).as_posix())
        if not args.check:
            nbformat.write(after, path)
    if args.check and stale:
        print("Colab badge or setup cell out of date (run `python tools/colab_badges.py`):", *stale, sep="\n  ")
        return 1
    if not args.check:
        print(f"updated {len(stale)} lesson(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
