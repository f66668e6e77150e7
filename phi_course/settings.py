"""Settings and secrets: the environment first, then a `.env` file.

Introduced in lessons/00_setup.ipynb.

Every key the course uses is read through `get_secret`, which never prompts
(so notebooks run unattended under test) and whose value is only ever shown
through `mask`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from pathlib import Path

from dotenv import dotenv_values, find_dotenv

from phi_course import i18n

__all__ = ["CACHE_VAR", "DotenvError", "NO_DOTENV_VAR", "OFFLINE_VAR", "QUICK_VAR", "REAL_MODELS_VAR", "cache_dir",
           "dotenv_path", "fit_threads", "get_secret", "get_setting", "mask", "mask_url", "offline", "quick",
           "real_models", "reload", "torch_threads"]

# Environment switches, documented in README.md and .env.example.
QUICK_VAR = "PHI_COURSE_QUICK"  # "1": heavy settings shrink (set by `make test`)
OFFLINE_VAR = "PHI_COURSE_OFFLINE"  # "1": never call a remote service, even with keys
NO_DOTENV_VAR = "PHI_COURSE_NO_DOTENV"  # "1": ignore .env (tests, CI)
CACHE_VAR = "PHI_COURSE_CACHE"  # where built ONNX models and other caches go
REAL_MODELS_VAR = "PHI_COURSE_REAL_MODELS"  # "1": use (and if needed download) the real Phi models

_dotenv_cache: dict[str, str] | None = None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def quick() -> bool:
    """True when heavy settings should shrink (CI, `make test`, a rehearsal)."""
    return _truthy(os.environ.get(QUICK_VAR))


def offline() -> bool:
    """True when every route must use a local stand-in, keys or not."""
    return _truthy(os.environ.get(OFFLINE_VAR))


def real_models() -> bool:
    """True when the learner asked for the real (multi-GB) Phi models (environment or .env)."""
    return _truthy(get_setting(REAL_MODELS_VAR))


def fit_threads() -> int:
    """Use one CPU thread for torch unless real Phi weights are in play; return the count.

    The embedded models' matrices are so small that keeping two threads in step
    costs more than it saves: one thread generated 6-20x faster on the
    course's 2-core test machine. A real 3.8B model wants every core, so the
    opt-in (PHI_COURSE_REAL_MODELS=1) and a GPU keep torch's default.
    """
    try:
        import torch
    except ImportError:
        return 0
    if not real_models() and not torch.cuda.is_available():
        torch.set_num_threads(1)
    return torch.get_num_threads()


@contextlib.contextmanager
def torch_threads(count: int):
    """Run the block on `count` torch threads, then restore the caller's setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def dotenv_path() -> Path | None:
    """The `.env` file in use: found from the working directory upwards."""
    if _truthy(os.environ.get(NO_DOTENV_VAR)):
        return None
    found = find_dotenv(filename=".env", usecwd=True)
    return Path(found) if found else None


class DotenvError(ValueError):
    """The `.env` file exists but cannot be read: `what` names the file and the fault, `todo` the fix."""

    def __init__(self, what: str, todo: str):
        super().__init__(f"{what} {todo}")
        self.what, self.todo = what, todo


def _read_dotenv(path: Path) -> dict[str, str | None]:
    try:
        raw = path.read_bytes()
    except OSError as error:  # a permission problem, a folder called .env, ...
        raise DotenvError(
            i18n._("The settings file {path} cannot be read ({error}).").format(
                path=path, error=error.strerror or type(error).__name__),
            i18n._("Make it a readable text file (on Linux or macOS: chmod u+r {name}), or delete it "
                   "to run without keys.").format(name=path.name)) from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw:  # UTF-16, with or without its mark
        raise DotenvError(
            i18n._("The settings file {path} is saved as UTF-16 (Windows Notepad's 'Unicode').").format(path=path),
            i18n._("Save it again as UTF-8 (Notepad: File > Save as > Encoding: UTF-8), then run the cell again."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DotenvError(
            i18n._("The settings file {path} is not UTF-8 text: byte {byte} on line {line} is "
                   "from another encoding (Latin-1 or Windows-1252, say).").format(
                path=path, byte=f"0x{raw[error.start]:02x}", line=line),
            i18n._("Save the file as UTF-8, or retype that line; keys themselves are plain ASCII.")) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a malformed line is skipped; the good ones still count
        return dotenv_values(stream=io.StringIO(text))


def _dotenv() -> dict[str, str]:
    global _dotenv_cache
    if _dotenv_cache is None:
        path = dotenv_path()
        raw = _read_dotenv(path) if path is not None else {}
        _dotenv_cache = {k: v for k, v in raw.items() if v}
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
        return i18n._("(not set)")
    head = value[:4] if len(value) >= 12 else ""
    return i18n._("{head}…({n} chars)").format(head=head, n=len(value))


# Query parameters that carry a secret when someone pastes a key into a URL.
_SECRET_PARAMS = re.compile(r"(?i)([?&](?:api[-_]?key|key|token|access_token|code|sig|signature)=)([^&#]+)")


def mask_url(url: str | None) -> str:
    """A URL safe to print: a password in it (user:key@host) or a key parameter (?api-key=...) is masked."""
    if not url:
        return i18n._("(not set)")
    text = str(url)
    userinfo = re.match(r"^([a-zA-Z][\w+.-]*://)([^/@]*)@", text)
    if userinfo:
        user, _, secret = userinfo.group(2).partition(":")
        shown = f"{user}:{mask(secret)}" if secret else mask(user)
        text = userinfo.group(1) + shown + "@" + text[userinfo.end():]
    return _SECRET_PARAMS.sub(lambda m: m.group(1) + mask(m.group(2)), text)


def cache_dir() -> Path:
    """Where the course keeps what it builds (ONNX models); made on demand."""
    root = os.environ.get(CACHE_VAR) or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "phi_course"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path
