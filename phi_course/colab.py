"""Google Colab: the "Open in Colab" badge each lesson starts with, and the install its setup cell runs.

Introduced in lessons/00_setup.ipynb. Colab gives every notebook a fresh machine with its own
CUDA build of torch and no phi_course. The setup cell installs the course there in two steps:
the package alone (`--no-deps`, seconds), then the course's requirements except the torch family,
so Colab's torch, built for its GPU, is never replaced by a multi-GB download. Anywhere else the
cell does nothing. The decisions are pure functions here, so tests check them without Colab.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

__all__ = ["BRANCH", "KEEP_FROM_COLAB", "REPOSITORY", "badge", "colab_url", "course_source",
           "install", "requirements_to_install", "should_install"]

# Where the course is published on GitHub (owner/name): the one place to change when it moves;
# `python tools/colab_badges.py` then rewrites every lesson's badge and setup cell to match.
REPOSITORY = "phi-course/phi-course"
BRANCH = "main"
# Colab ships these, built for its GPU; the course works with any release its ranges admit.
KEEP_FROM_COLAB = ("torch", "torchvision", "torchaudio")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab_url(lesson: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    """The address that opens `lesson` (a path such as lessons/00_setup.ipynb) in Colab."""
    if not lesson.endswith(".ipynb"):
        raise ValueError(f"{lesson!r} is not a notebook: give its path, e.g. lessons/00_setup.ipynb")
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/{lesson.lstrip('/')}"


def badge(lesson: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    """The markdown of the badge: an image that links to the lesson in Colab."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(lesson, repository, branch)})"


def should_install(loaded_modules, course_installed: bool) -> bool:
    """Install only on Colab (its `google.colab` module is loaded) and only when the course is missing."""
    return "google.colab" in loaded_modules and not course_installed


def course_source(repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    """What pip installs the course from."""
    return f"phi-course @ git+https://github.com/{repository}@{branch}"


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def requirements_to_install(requires: list[str], keep=KEEP_FROM_COLAB) -> list[str]:
    """The course's requirements (as package metadata lists them) without what Colab's own builds provide.

    Optional extras (`; extra == ...`) are left out: the lessons need only the main ones.
    """
    kept = {k.lower() for k in keep}
    return [r for r in requires if "extra ==" not in r.replace('"', "").replace("'", "")
            and _name(r) not in kept]


def install() -> list[str]:
    """On Colab, once the package itself is there: install its requirements but the torch family."""
    import subprocess

    wanted = requirements_to_install(metadata.requires("phi-course") or [])
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *wanted], check=True)
    return wanted
