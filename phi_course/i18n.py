"""The helper speaks the lesson's language: English, or Chinese in lessons/zh/.

Introduced in lessons/00_setup.ipynb (its setup cell, `start()`, picks the language).

The language is, first to last: what `start(..., lang=...)` or `set_language()` chose,
the environment variable PHI_COURSE_LANG, and the folder the kernel runs in (nbmake and
JupyterLab start a notebook's kernel in its folder, so a lesson in lessons/zh/ gets
Chinese without a word in its code). English is the default.

Messages go through Python's gettext: `_("...")` marks a message and looks it up in
phi_course/locale/<lang>/LC_MESSAGES/phi_course.mo at the moment it is shown, so a
message built before the language was chosen still shows in the right one when it
is rendered again. Placeholders are named (`_("{label} was retired").format(label=...)`)
so a translation can put them in its own order. tools/i18n.py extracts the messages
and compiles the catalogs; tests/test_i18n.py checks each has a translation.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

__all__ = ["DOMAIN", "LANG_VAR", "LANGUAGES", "LOCALE_DIR", "N_", "_", "language", "set_language"]

DOMAIN = "phi_course"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANG_VAR = "PHI_COURSE_LANG"
LANGUAGES = ("en", "zh")  # English is the source language: it has no catalog

_chosen: str | None = None


def _check(lang: str) -> str:
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGUAGES:
        raise ValueError(f"unknown course language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return code


def _from_folder(cwd: Path) -> str | None:
    """zh for a kernel running in lessons/zh/ (or a folder below it), else None."""
    parts = cwd.parts
    for i in range(len(parts) - 1):
        if parts[i] == "lessons" and parts[i + 1] in LANGUAGES:
            return parts[i + 1]
    return None


def set_language(lang: str | None) -> str:
    """Choose the language (None: back to the environment and the folder); return the one in use."""
    global _chosen
    _chosen = None if lang is None else _check(lang)
    return language()


def language() -> str:
    """The language messages are shown in now."""
    if _chosen:
        return _chosen
    if os.environ.get(LANG_VAR, "").strip():
        return _check(os.environ[LANG_VAR])
    try:
        cwd = Path.cwd()
    except OSError:  # the folder was deleted under a running kernel
        return "en"
    return _from_folder(cwd) or "en"


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])


def _(message: str) -> str:
    """`message` in the current language (itself when the catalog has no translation)."""
    return _catalog(language()).gettext(message)


def N_(message: str) -> str:
    """Mark a message for translation where it is defined (a table's data); `_()` translates it when shown."""
    return message
