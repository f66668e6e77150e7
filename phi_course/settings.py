"""Settings and secrets: the environment first, then a `.env` file.

Introduced in lessons/00_setup.ipynb.

Every key the course uses is read through `get_secret`, which never prompts
(so notebooks run unattended under test) and whose value is only ever shown
through `mask`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from dotenv import dotenv_values, find_dotenv

# Environment switches, documented in README.md and .env.example.
QUICK_VAR = "PHI_COURSE_QUICK"  # "1": heavy settings shrink (set by `make test`)
OFFLINE_VAR = "PHI_COURSE_OFFLINE"  # "1": never call a remote service, even with keys
NO_DOTENV_VAR = "PHI_COURSE_NO_DOTENV"  # "1": ignore .env (tests, CI)
CACHE_VAR = "PHI_COURSE_CACHE"  # where built ONNX models and other caches go

_dotenv_cache: dict[str, str] | None = None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def quick() -> bool:
    """True when heavy settings should shrink (CI, `make test`, a rehearsal)."""
    return _truthy(os.environ.get(QUICK_VAR))


def offline() -> bool:
    """True when every route must use a local stand-in, keys or not."""
    return _truthy(os.environ.get(OFFLINE_VAR))


def dotenv_path() -> Path | None:
    """The `.env` file in use: found from the working directory upwards."""
    if _truthy(os.environ.get(NO_DOTENV_VAR)):
        return None
    found = find_dotenv(filename=".env", usecwd=True)
    return Path(found) if found else None


def _dotenv() -> dict[str, str]:
    global _dotenv_cache
    if _dotenv_cache is None:
        path = dotenv_path()
        values: dict[str, str] = {}
        if path is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = dotenv_values(path)
            values = {k: v for k, v in raw.items() if v}
        _dotenv_cache = values
    return _dotenv_cache


def reload() -> None:
    """Forget the cached `.env` so the next read sees edits to it."""
    global _dotenv_cache
    _dotenv_cache = None


def get_setting(name: str, default: str | None = None) -> str | None:
    """A non-secret setting (an endpoint, a model id): environment, then `.env`."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        value = _dotenv().get(name)
    return value.strip() if value else default


def get_secret(name: str) -> str | None:
    """A key or token: environment, then `.env`; None when unset. Never prompts.

    Print it with `mask(value)`, never as it is.
    """
    return get_setting(name)


def mask(value: str | None) -> str:
    """Show that a secret is set without showing it: 'ghp_…(40 chars)'."""
    if not value:
        return "(not set)"
    head = value[:4] if len(value) >= 12 else ""
    return f"{head}…({len(value)} chars)"


def cache_dir() -> Path:
    """Where the course keeps what it builds (ONNX models); made on demand."""
    root = os.environ.get(CACHE_VAR) or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "phi_course"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path
