"""Turn the errors learners meet into one clear message: what happened, why, what to do.

Introduced in lessons/03_github_models.ipynb. `lesson.start()` installs
`install_notebook_handler()`, so in a lesson a failed call shows this message
instead of a long traceback; `%tb` still prints the full error.

`explain(exc)` works on the errors of the real SDKs (openai,
azure-ai-inference, ollama, httpx) and of this package, and never repeats a
key that may sit in a request header.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlparse

from . import catalog


@dataclass(frozen=True)
class Problem:
    """One failure, explained."""

    title: str
    what: str
    todo: str
    status: int | None = None
    route: str | None = None

    def __str__(self) -> str:
        return f"{self.title}\n  What happened: {self.what}\n  What to do: {self.todo}"


# Hosts of the real services, to name the route an error came from.
ROUTE_HOSTS = {
    "models.github.ai": "github",
    "models.inference.ai.azure.com": "github",
    "integrate.api.nvidia.com": "nim",
    "ai.api.nvidia.com": "nim",
}
KEY_VARS = {"github": "GITHUB_TOKEN", "azure": "AZURE_AI_API_KEY", "nim": "NVIDIA_API_KEY",
            "custom": "PHI_COURSE_API_KEY"}


def _route_of(url: str | None) -> str | None:
    if not url:
        return None
    parsed = urlparse(str(url))
    host = parsed.hostname or ""
    if host in ROUTE_HOSTS:
        return ROUTE_HOSTS[host]
    if host.endswith(".azure.com"):
        return "azure"
    if parsed.port == 11434 or "/api/" in parsed.path:
        return "ollama"
    return None


def _request_url(exc: BaseException) -> str | None:
    for attr in ("request", "response"):
        try:
            obj = getattr(exc, attr, None)
        except RuntimeError:  # httpx raises when an error carries no request
            obj = None
        if obj is None:
            continue
        if attr == "response":
            obj = getattr(obj, "request", None)
        url = getattr(obj, "url", None)
        if url:
            return str(url)
    return None


def _retry_after(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        return headers.get("retry-after")
    except AttributeError:
        return None


def _model_in(text: str) -> str | None:
    found = re.search(r"(?:[Uu]nknown model|model)[:\s'\"]+([\w./:-]+)", text)
    return found.group(1).strip("'\".") if found else None


def _status_problem(status: int, message: str, route: str | None, retry_after: str | None) -> Problem:
    where = {"github": "GitHub Models", "azure": "Azure AI Foundry", "nim": "NVIDIA NIM",
             "ollama": "Ollama", "custom": "the server"}.get(route or "", "the service")
    key_var = KEY_VARS.get(route or "", "the route's key")
    if status == 401:
        if "models" in message and "permission" in message:
            return Problem("GitHub token lacks the models permission", f"{where} answered 401: {message}",
                           "Create a fine-grained token with 'Models: read' (models:read), put it in .env "
                           "as GITHUB_TOKEN, and restart the kernel.", status, route)
        return Problem("The key was refused", f"{where} answered 401 Unauthorized: {message}",
                       f"Check {key_var} in .env (no quotes or spaces; not expired), then restart the kernel.",
                       status, route)
    if status == 403:
        return Problem("The key may not use this model", f"{where} answered 403 Forbidden: {message}",
                       "Check the key's permissions or the deployment's access, or choose another model.",
                       status, route)
    if status == 404:
        model = _model_in(message)
        retired = catalog.find_retired(model) if model else None
        if retired:
            successor = catalog.phi(retired.model).successor
            newer = catalog.model_id(retired.route, successor).id if successor else "a current model"
            return Problem("This model has been retired", f"{where} no longer serves {retired.id} ({retired.note}).",
                           f"Use {newer}: routes.resolve(...) picks it for you.", status, route)
        if route == "ollama":
            return Problem("Ollama does not have this model", f"Ollama answered 404: {message}",
                           f"Pull it first: `ollama pull {model or '<model>'}` (or check the name with `ollama list`).",
                           status, route)
        return Problem("Unknown model or wrong URL", f"{where} answered 404 Not Found: {message}",
                       "Check the model id against the service's catalog (phi_course.catalog) and the "
                       "base URL (it usually ends in /v1 or /inference).", status, route)
    if status == 429:
        wait = f"Wait {retry_after} s (the server's Retry-After) and run the cell again" if retry_after \
            else "Wait a minute and run the cell again"
        return Problem("Rate limit reached", f"{where} answered 429 Too Many Requests: {message}",
                       f"{wait}. The SDK already retried. GitHub's free tier allows about 15 requests a minute "
                       "and 150 a day; send fewer, shorter requests, or use the local stand-in "
                       "(PHI_COURSE_OFFLINE=1).", status, route)
    if status in (400, 413, 422) and ("context" in message.lower() or "too long" in message.lower()):
        return Problem("The prompt is longer than the model's context",
                       f"{where} answered {status}: {message}",
                       "Shorten the prompt or drop earlier turns of the conversation.", status, route)
    if status >= 500:
        return Problem("The service had a problem", f"{where} answered {status}: {message}",
                       "This is on the service's side. The SDK already retried; try again in a minute, "
                       "or use another route.", status, route)
    return Problem(f"The request was refused ({status})", f"{where} answered {status}: {message}",
                   "Read the message above; it usually names the field that is wrong.", status, route)


def explain(exc: BaseException, route: str | None = None) -> Problem | None:
    """A Problem for a known kind of failure, or None for anything else.

    `route` names the route when the caller knows it; otherwise it is guessed
    from the request's URL.
    """
    import httpx

    url = _request_url(exc)
    route = route or _route_of(url)
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency
        openai = None
    from .generation import ContextLengthError

    if isinstance(exc, ContextLengthError):
        return Problem("The prompt is longer than the model's context", str(exc),
                       "Shorten the prompt or drop earlier turns of the conversation.")
    if openai is not None:
        if isinstance(exc, openai.APIStatusError):
            body = getattr(exc, "body", None)
            message = body.get("message", "") if isinstance(body, dict) else ""
            return _status_problem(exc.status_code, message or exc.message, route, _retry_after(exc))
        if isinstance(exc, openai.APITimeoutError):
            return _timeout(url, route)
        if isinstance(exc, openai.APIConnectionError):
            return _connection(exc.__cause__ or exc, url, route)
    try:
        import ollama
    except ImportError:  # pragma: no cover
        ollama = None
    if ollama is not None and isinstance(exc, ollama.ResponseError):
        return _status_problem(exc.status_code, exc.error, "ollama", None)
    try:
        from azure.core import exceptions as azure_errors
    except ImportError:  # pragma: no cover
        azure_errors = None
    if azure_errors is not None:
        if isinstance(exc, azure_errors.DecodeError):  # a subclass of HttpResponseError: first
            return _not_json(route or "azure")
        if isinstance(exc, azure_errors.HttpResponseError) and exc.status_code:
            message = getattr(getattr(exc, "error", None), "message", None) or exc.reason or str(exc)
            return _status_problem(exc.status_code, message, route or "azure", _retry_after(exc))
        if isinstance(exc, azure_errors.ServiceResponseTimeoutError | azure_errors.ServiceRequestTimeoutError):
            return _timeout(url, route or "azure")
        if isinstance(exc, azure_errors.ServiceRequestError):
            return _connection(exc, url, route or "azure")
    if isinstance(exc, httpx.TimeoutException):
        return _timeout(url, route)
    if isinstance(exc, httpx.ConnectError):
        return _connection(exc, url, route)
    if isinstance(exc, json.JSONDecodeError):
        return _not_json(route)
    if isinstance(exc, ConnectionError) and "Ollama" in str(exc):
        cause = exc.__cause__ or exc.__context__  # the ollama client hides httpx's reason here
        if isinstance(cause, httpx.ConnectError):
            return _connection(cause, _request_url(cause), "ollama")
        return Problem("No Ollama server is running", str(exc).split(" https://")[0],
                       "Start it with `ollama serve` (or open the Ollama app), or leave OLLAMA_HOST unset "
                       "to use the course stand-in.", route="ollama")
    return None


def _timeout(url: str | None, route: str | None) -> Problem:
    return Problem("The request timed out", f"No answer from {url or 'the server'} in time.",
                   "The server may be overloaded or a proxy may be holding the request: try again, "
                   "ask for fewer tokens (max_tokens), or use another route.", route=route)


def _connection(cause: BaseException, url: str | None, route: str | None) -> Problem:
    text = str(cause)
    host = urlparse(url).hostname if url else None
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return Problem("The server's name cannot be resolved",
                       f"{host or 'The host'} could not be looked up: no internet, or a typo in the URL.",
                       "Check your connection and the base URL, or set PHI_COURSE_OFFLINE=1 to use "
                       "the local stand-in.", route=route)
    if route == "ollama":
        return Problem("No Ollama server is running", f"Nothing answered at {url}.",
                       "Start it with `ollama serve` (or open the Ollama app).", route=route)
    return Problem("Nothing is listening there", f"The connection to {url or 'the server'} was refused.",
                   "Start the server (or check the port in the base URL), or unset the override to use "
                   "the course stand-in.", route=route)


def _not_json(route: str | None) -> Problem:
    return Problem("The server's answer was not valid JSON",
                   "Something answered, but not with the API's JSON: often a proxy, a login page, or a "
                   "base URL that points at the wrong path.",
                   "Check the base URL (OpenAI-compatible ones end in /v1) and any proxy settings.",
                   route=route)


def install_notebook_handler() -> bool:
    """In IPython, show `explain()` messages instead of tracebacks for known failures.

    The cell still fails (so nbmake and "Run all" stop as before); `%tb` prints
    the full traceback. Returns False outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False

    def handler(shell, etype, value, tb, tb_offset=None):
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %tb
        problem = explain(value)
        if problem is None:
            lines = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
        else:
            lines = [f"{etype.__name__}: {problem.title}",
                     f"  What happened: {problem.what}",
                     f"  What to do: {problem.todo}",
                     "  (Run %tb for the full error.)"]
        # Publish it as the cell's error output: the cell still counts as failed
        # (nbmake reads error outputs, "Run all" stops), only the text is kinder.
        shell._showtraceback(etype, value, lines)
        return lines

    shell.set_custom_exc((Exception,), handler)
    return True
