"""Turn the errors learners meet into one clear message: what happened, why, what to do.

Introduced in lessons/00_setup.ipynb: its setup cell, `lesson.start()`, installs
`install_notebook_handler()`, so in a lesson a failed call shows this message
instead of a long traceback (`%tb` still prints the full error). Lesson 03 calls
`explain()` itself on the 410 of a retired service.

`explain(exc)` works on the errors of the real SDKs (openai,
azure-ai-inference, ollama, httpx) and of this package. What it says about a
service (retired since when, replaced by what, which variable holds its key)
comes from `phi_course.route_table`; what it says an SDK already did (how many
attempts) is measured in tests/test_faults.py. It never repeats a key, not
even one pasted into a URL.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlparse

from phi_course import route_table, routes, settings

__all__ = ["AZURE_RETRY_TOTAL", "IMAGE_WORDS", "Problem", "attempts", "explain", "install_notebook_handler"]

OPENAI, AZURE_INFERENCE, OLLAMA = "openai", "azure-ai-inference", "ollama"
AZURE_RETRY_TOTAL = 3  # azure-core's default retries, which the course's azure_client keeps
IMAGE_WORDS = ("image", "picture", "decompression", "pixels")


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


def attempts(sdk: str, status: int, retry_after: bool) -> int:
    """How many requests `sdk` sends before it raises for `status` (the route's clients, default settings)."""
    if sdk == OPENAI:  # retries 408, 409, 429 and 5xx, waiting as Retry-After says
        return 1 + routes.MAX_RETRIES if status in (408, 409, 429) or status >= 500 else 1
    if sdk == AZURE_INFERENCE:  # azure-core retries a POST on 500/503/504, and on 429 only with Retry-After
        if status == 429:
            return 1 + AZURE_RETRY_TOTAL if retry_after else 1
        return 1 + AZURE_RETRY_TOTAL if status in (500, 503, 504) else 1
    return 1  # the ollama client never retries


def _tried(sdk: str, status: int, retry_after: bool) -> str:
    n = attempts(sdk, status, retry_after)
    if n > 1:
        return f"The {sdk} SDK already sent the request {n} times."
    return f"The {sdk} SDK sent it once (it does not retry this)."


def _configured_route(url: str) -> str | None:
    """The route whose endpoint variable points at `url` (a self-hosted NIM, a classroom server...)."""
    theirs = urlparse(url)
    for facts in route_table.ROUTES.values():
        configured = settings.get_setting(facts.endpoint_var) if facts.endpoint_var else None
        if not configured:
            continue
        configured = configured if "//" in configured else "http://" + configured
        forms = routes.azure_endpoints(configured) if facts.name == "azure" else (configured,)
        for form in forms:
            mine = urlparse(form)
            if (mine.hostname, mine.port) == (theirs.hostname, theirs.port) and \
                    theirs.path.startswith(mine.path.rstrip("/")):
                return facts.name
    return None


def _route_of(url: str | None) -> str | None:
    if not url:
        return None
    found = route_table.route_of_host(url) or _configured_route(url)
    if found:
        return found
    parsed = urlparse(str(url))
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


def _requested_model(exc: BaseException) -> str | None:
    """The model the failed request asked for, read from its JSON body."""
    request = None
    for attr in ("request", "response"):
        try:
            request = getattr(exc, attr, None)
        except RuntimeError:
            request = None
        if attr == "response" and request is not None:
            request = getattr(request, "request", None)
        if request is not None:
            break
    body = getattr(request, "content", None)
    try:
        model = json.loads(body).get("model") if body else None
    except (ValueError, TypeError, AttributeError):
        return None
    return model if isinstance(model, str) else None


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


def _where(route: str | None) -> str:
    return route_table.ROUTES[route].label if route in route_table.ROUTES else "The server"


def _key_advice(route: str | None) -> str:
    facts = route_table.ROUTES.get(route or "")
    if facts is not None and facts.key_var:
        return (f"Check {facts.key_var} in .env or the environment (no quotes or spaces; not expired or "
                "revoked), then restart the kernel.")
    every = [f.key_var for f in route_table.ROUTES.values() if f.key_var]
    return (f"Check the key of the route you called ({', '.join(every)}) in .env or the environment, "
            "then restart the kernel.")


def _retired_service(route: str | None, status: int, code: str | None) -> Problem | None:
    """GitHub Models and any other retired route, from the route table."""
    if code == route_table.GITHUB_GONE_BODY["error"]["code"]:
        route = "github"
    facts = route_table.ROUTES.get(route or "")
    if facts is None or not facts.status.retired:
        return None
    gone = facts.status
    return Problem(
        f"{facts.label} has been retired",
        f"It answered {status}: {facts.label} was retired on {gone.since} ({gone.source}), for good. "
        "Ignore any wording in the answer about a brownout: the service is not coming back.",
        f"Move the same code to a route that serves Phi today: {facts.needs}. Offline, the course stand-in "
        f"runs it unchanged (unset {facts.endpoint_var}).",
        status, facts.name)


def _retired_model(route: str | None, model: str | None, status: int) -> Problem | None:
    """A model id the route table knows as retired, with its date and successor."""
    row = route_table.find_id(model, route) if model else None
    if row is None and model:
        row = route_table.find_id(model)
    if row is None or not row.retired:
        return None
    facts = route_table.route(row.route)
    newer = route_table.successor(row)
    instead = (f"Use {newer.id} (routes.resolve picks it for you)" if newer
               else f"Use a model {facts.label} serves today (phi_course.route_table.ids_on('{row.route}'))")
    if row.route == "azure":
        instead += ": deploy it in your Foundry resource and name that deployment in the request"
    return Problem(f"This model has been retired on {facts.label}",
                   f"It answered {status}: {row.id} was retired there on {row.status.since} ({row.status.source}).",
                   instead + ".", status, row.route)


def _status_problem(status: int, message: str, route: str | None, retry_after: str | None,
                    sdk: str, model: str | None = None, code: str | None = None) -> Problem:
    where = _where(route)
    lowered = message.lower()
    if status == 410 or code == route_table.GITHUB_GONE_BODY["error"]["code"]:
        retired = _retired_service(route, status, code)
        if retired:
            return retired
    if status == 401:
        if route == "ollama":
            return Problem("Something in front of Ollama wants a key",
                           f"Ollama answered 401 Unauthorized: {message}. Ollama itself takes no key, so a proxy "
                           "or a hosted server in front of it refused the request.",
                           f"Point {route_table.route('ollama').endpoint_var} at your own Ollama server (default "
                           f"{route_table.route('ollama').endpoint}), or give the proxy the credentials it asks for.",
                           status, route)
        return Problem("The key was refused", f"{where} answered 401 Unauthorized: {message}",
                       _key_advice(route), status, route)
    if status == 403:
        return Problem("The key may not use this model", f"{where} answered 403 Forbidden: {message}",
                       "Check the key's permissions or the deployment's access, or choose another model.",
                       status, route)
    if status in (404, 410):
        retired = _retired_model(route, _model_in(message) or model, status)
        if retired:
            return retired
    if status == 404:
        if route == "ollama":
            name = _model_in(message) or model
            return Problem("Ollama does not have this model", f"Ollama answered 404: {message}",
                           f"Pull it first: `ollama pull {name or '<model>'}` (or check the name with `ollama list`).",
                           status, route)
        if route == "azure":
            names = ", ".join(route_table.route("azure").model_vars.values())
            return Problem("No deployment by that name", f"{where} answered 404 Not Found: {message}",
                           f"Check the deployment name on your resource's Deployments page and put it in "
                           f"{names} (one per kind of model).", status, route)
        return Problem("Unknown model or wrong URL", f"{where} answered 404 Not Found: {message}",
                       "Check the model id against what the server lists (client.models.list()) and the "
                       "base URL (it usually ends in /v1).", status, route)
    if status == 410:
        return Problem("This is gone for good", f"{where} answered 410 Gone: {message}",
                       "The service retired this model or endpoint: ask it what it serves today "
                       "(client.models.list()) or use another route.", status, route)
    if status == 429:
        wait = f"Wait {retry_after} s (the server's Retry-After) and run the cell again" if retry_after \
            else "Wait a minute and run the cell again"
        return Problem("Rate limit reached", f"{where} answered 429 Too Many Requests: {message}",
                       f"{wait}. {_tried(sdk, status, bool(retry_after))} Send fewer, shorter requests, or use "
                       f"the local stand-in ({settings.OFFLINE_VAR}=1).", status, route)
    if any(word in lowered for word in IMAGE_WORDS) and (400 <= status < 500 or "decompression" in lowered):
        return Problem("The picture could not be used", f"{where} answered {status}: {message}",
                       "Send a real PNG or JPEG file of an ordinary size: shrink big pictures first "
                       "(image.thumbnail((1024, 1024))) and check the bytes are a whole picture.", status, route)
    if status in (400, 413, 422) and ("context" in lowered or "too long" in lowered):
        return Problem("The prompt is longer than the model's context",
                       f"{where} answered {status}: {message}",
                       "Shorten the prompt or drop earlier turns of the conversation.", status, route)
    if status >= 500:
        return Problem("The service had a problem", f"{where} answered {status}: {message}",
                       f"This is on the service's side. {_tried(sdk, status, bool(retry_after))} Try again in a "
                       "minute, or use another route.", status, route)
    return Problem(f"The request was refused ({status})", f"{where} answered {status}: {message}",
                   "Read the message above; it usually names the field that is wrong.", status, route)


def explain(exc: BaseException, route: str | None = None) -> Problem | None:
    """A Problem for a known kind of failure, or None for anything else.

    `route` names the route when the caller knows it; otherwise it is worked out
    from the request's URL (the service's host, or the variable that points there).
    """
    import httpx

    url = _request_url(exc)
    route = route or _route_of(url)
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency
        openai = None
    from phi_course.local.generation import ContextLengthError

    if isinstance(exc, settings.DotenvError):
        return Problem("The .env file cannot be read", exc.what, exc.todo)
    if isinstance(exc, ContextLengthError):
        return Problem("The prompt is longer than the model's context", str(exc),
                       "Shorten the prompt or drop earlier turns of the conversation.")
    if openai is not None:
        if isinstance(exc, openai.APIStatusError):
            body = getattr(exc, "body", None)
            message = body.get("message", "") if isinstance(body, dict) else ""
            code = body.get("code") if isinstance(body, dict) else None
            return _status_problem(exc.status_code, message or exc.message, route, _retry_after(exc),
                                   OPENAI, _requested_model(exc), code)
        if isinstance(exc, openai.APITimeoutError):
            return _timeout(url, route)
        if isinstance(exc, openai.APIConnectionError):
            return _connection(exc.__cause__ or exc, url, route)
    try:
        import ollama
    except ImportError:  # pragma: no cover
        ollama = None
    if ollama is not None and isinstance(exc, ollama.ResponseError):
        return _status_problem(exc.status_code, exc.error, "ollama", None, OLLAMA)
    try:
        from azure.core import exceptions as azure_errors
    except ImportError:  # pragma: no cover
        azure_errors = None
    if azure_errors is not None:
        if isinstance(exc, azure_errors.DecodeError):  # a subclass of HttpResponseError: first
            return _not_json(route or "azure")
        if isinstance(exc, azure_errors.HttpResponseError) and exc.status_code:
            error = getattr(exc, "error", None)
            message = getattr(error, "message", None) or exc.reason or str(exc)
            return _status_problem(exc.status_code, message, route or "azure", _retry_after(exc),
                                   AZURE_INFERENCE, _requested_model(exc), getattr(error, "code", None))
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
                       "Start it with `ollama serve` (or open the Ollama app), or leave "
                       f"{route_table.route('ollama').endpoint_var} unset to use the course stand-in.",
                       route="ollama")
    return None


def _timeout(url: str | None, route: str | None) -> Problem:
    return Problem("The request timed out", f"No answer from {settings.mask_url(url) if url else 'the server'} in time.",
                   "The server may be overloaded or a proxy may be holding the request: try again, "
                   "ask for fewer tokens (max_tokens), or use another route.", route=route)


def _connection(cause: BaseException, url: str | None, route: str | None) -> Problem:
    text = str(cause)
    host = urlparse(url).hostname if url else None
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return Problem("The server's name cannot be resolved",
                       f"{host or 'The host'} could not be looked up: no internet, or a typo in the URL.",
                       "Check your connection and the base URL, or set "
                       f"{settings.OFFLINE_VAR}=1 to use the local stand-in.", route=route)
    shown = settings.mask_url(url) if url else "the server"
    if route == "ollama":
        return Problem("No Ollama server is running", f"Nothing answered at {shown}.",
                       "Start it with `ollama serve` (or open the Ollama app).", route=route)
    return Problem("Nothing is listening there", f"The connection to {shown} was refused.",
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
