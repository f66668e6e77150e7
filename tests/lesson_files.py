"""Where the lessons are: the English edition in lessons/, the Chinese one in lessons/zh/.

Each Chinese lesson has the same file name as its English twin; tests/test_translation.py
checks that the two stay the same code.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = ROOT / "lessons"
CHINESE = ENGLISH / "zh"
PATTERN = "[0-9][0-9]_*.ipynb"

EN_LESSONS = sorted(ENGLISH.glob(PATTERN))
ZH_LESSONS = sorted(CHINESE.glob(PATTERN))
ALL_LESSONS = EN_LESSONS + ZH_LESSONS


def lesson_id(path: Path) -> str:
    """A test id that tells the editions apart: 03_github_models, zh/03_github_models."""
    return path.stem if path.parent == ENGLISH else f"{path.parent.name}/{path.stem}"


def english_twin(path: Path) -> Path:
    return ENGLISH / path.name
