"""The setup cell every lesson opens with: `from phi_course.lesson import start`.

Introduced in lessons/00_setup.ipynb.
"""

from __future__ import annotations

import logging
import os
import random

from phi_course import __version__, errors, i18n, settings
from phi_course.i18n import _

__all__ = ["SEED", "quiet_libraries", "seed_everything", "start"]

SEED = 0


def seed_everything(seed: int = SEED) -> None:
    """Fix Python's, NumPy's and torch's random seeds so reruns give the same output."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def quiet_libraries() -> None:
    """Hide library chatter that says nothing to a learner (load bars of tiny models, hints)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("transformers", "httpx", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def start(lesson: str, seed: int = SEED, lang: str | None = None) -> None:
    """Seed, quiet the logs, explain errors plainly, and say in one line how this lesson will run.

    `lang` ("en" or "zh") sets the language of the helper's messages; without it the
    language follows PHI_COURSE_LANG, then the lesson's folder (lessons/zh/: Chinese).
    """
    i18n.set_language(lang)
    seed_everything(seed)
    quiet_libraries()
    settings.fit_threads()
    errors.install_notebook_handler()
    mode = []
    if settings.quick():
        mode.append(_("quick mode (shortened for tests)"))
    if settings.offline():
        mode.append(_("offline: stand-ins only"))
    env = settings.dotenv_path()
    mode.append(_("keys from {path}").format(path=env) if env else _("no .env file (keys from the environment only)"))
    print(_("Phi course {version} · {lesson} · seed {seed} · ").format(version=__version__, lesson=lesson, seed=seed)
          + " · ".join(mode))
