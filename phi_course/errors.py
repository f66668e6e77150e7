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
from phi_course.i18n import _

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
        return "\n".join([self.title, *self.explanation()])

    def explanation(self) -> list[str]:
        """The two indented lines under the title: what happened, what to do."""
        return [_("  What happened: {what}").format(what=self.what), _("  What to do: {todo}").format(todo=self.todo)]


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
        return _("The {sdk} SDK already sent the request {n} times.").format(sdk=sdk, n=n)
    return _("The {sdk} SDK sent it once (it does not retry this).").format(sdk=sdk)


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
    return route_table.ROUTES[route].label if route in route_table.ROUTES else _("The server")


def _key_advice(route: str | None) -> str:
    facts = route_table.ROUTES.get(route or "")
    if facts is not None and facts.key_var:
        return _("Check {var} in .env or the environment (no quotes or spaces; not expired or "
                 "revoked), then restart the kernel.").format(var=facts.key_var)
    every = [f.key_var for f in route_table.ROUTES.values() if f.key_var]
    return _("Check the key of the route you called ({vars}) in .env or the environment, "
             "then restart the kernel.").format(vars=", ".join(every))


def _retired_service(route: str | None, status: int, code: str | None) -> Problem | None:
    """GitHub Models and any other retired route, from the route table."""
    if code == route_table.GITHUB_GONE_BODY["error"]["code"]:
        route = "github"
    facts = route_table.ROUTES.get(route or "")
    if facts is None or not facts.status.retired:
        return None
    gone = facts.status
    return Problem(
        _("{label} has been retired").format(label=facts.label),
        _("It answered {status}: {label} was retired on {since} ({source}), for good. Ignore any wording in "
          "the answer about a brownout: the service is not coming back.").format(
            status=status, label=facts.label, since=gone.since, source=gone.source),
        _("Move the same code to a route that serves Phi today: {needs}. Offline, the course stand-in "
          "runs it unchanged (unset {var}).").format(needs=_(facts.needs), var=facts.endpoint_var),
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
    instead = (_("Use {id} (routes.resolve picks it for you)").format(id=newer.id) if newer
               else _("Use a model {label} serves today (phi_course.route_table.ids_on('{route}'))").format(
                   label=facts.label, route=row.route))
    if row.route == "azure":
        instead += _(": deploy it in your Foundry resource and name that deployment in the request")
    return Problem(_("This model has been retired on {label}").format(label=facts.label),
                   _("It answered {status}: {id} was retired there on {since} ({source}).").format(
                       status=status, id=row.id, since=row.status.since, source=row.status.source),
                   instead + _("."), status, row.route)


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
            return Problem(_("Something in front of Ollama wants a key"),
                           _("Ollama answered 401 Unauthorized: {message}. Ollama itself takes no key, so a proxy "
                             "or a hosted server in front of it refused the request.").format(message=message),
                           _("Point {var} at your own Ollama server (default {url}), or give the proxy the "
                             "credentials it asks for.").format(var=route_table.route('ollama').endpoint_var,
                                                               url=route_table.route('ollama').endpoint),
                           status, route)
        return Problem(_("The key was refused"),
                       _("{where} answered 401 Unauthorized: {message}").format(where=where, message=message),
                       _key_advice(route), status, route)
    if status == 403:
        return Problem(_("The key may not use this model"),
                       _("{where} answered 403 Forbidden: {message}").format(where=where, message=message),
                       _("Check the key's permissions or the deployment's access, or choose another model."),
                       status, route)
    if status in (404, 410):
        retired = _retired_model(route, _model_in(message) or model, status)
        if retired:
            return retired
    if status == 404:
        if route == "ollama":
            name = _model_in(message) or model
            return Problem(_("Ollama does not have this model"),
                           _("Ollama answered 404: {message}").format(message=message),
                           _("Pull it first: `ollama pull {name}` (or check the name with `ollama list`).").format(
                               name=name or "<model>"),
                           status, route)
        if route == "azure":
            names = ", ".join(route_table.route("azure").model_vars.values())
            return Problem(_("No deployment by that name"),
                           _("{where} answered 404 Not Found: {message}").format(where=where, message=message),
                           _("Check the deployment name on your resource's Deployments page and put it in "
                             "{vars} (one per kind of model).").format(vars=names), status, route)
        return Problem(_("Unknown model or wrong URL"),
                       _("{where} answered 404 Not Found: {message}").format(where=where, message=message),
                       _("Check the model id against what the server lists (client.models.list()) and the "
                         "base URL (it usually ends in /v1)."), status, route)
    if status == 410:
        return Problem(_("This is gone for good"),
                       _("{where} answered 410 Gone: {message}").format(where=where, message=message),
                       _("The service retired this model or endpoint: ask it what it serves today "
                         "(client.models.list()) or use another route."), status, route)
    answered = _("{where} answered {status}: {message}").format(where=where, status=status, message=message)
    if status == 429:
        wait = _("Wait {seconds} s (the server's Retry-After) and run the cell again").format(seconds=retry_after) \
            if retry_after else _("Wait a minute and run the cell again")
        return Problem(_("Rate limit reached"),
                       _("{where} answered 429 Too Many Requests: {message}").format(where=where, message=message),
                       _("{wait}. {tried} Send fewer, shorter requests, or use the local stand-in ({var}=1).").format(
                           wait=wait, tried=_tried(sdk, status, bool(retry_after)), var=settings.OFFLINE_VAR),
                       status, route)
    if any(word in lowered for word in IMAGE_WORDS) and (400 <= status < 500 or "decompression" in lowered):
        return Problem(_("The picture could not be used"), answered,
                       _("Send a real PNG or JPEG file of an ordinary size: shrink big pictures first "
                         "(image.thumbnail((1024, 1024))) and check the bytes are a whole picture."), status, route)
    if status in (400, 413, 422) and ("context" in lowered or "too long" in lowered):
        return Problem(_("The prompt is longer than the model's context"), answered,
                       _("Shorten the prompt or drop earlier turns of the conversation."), status, route)
    if status >= 500:
        return Problem(_("The service had a problem"), answered,
                       _("This is on the service's side. {tried} Try again in a minute, or use another "
                         "route.").format(tried=_tried(sdk, status, bool(retry_after))), status, route)
    return Problem(_("The request was refused ({status})").format(status=status), answered,
                   _("Read the message above; it usually names the field that is wrong."), status, route)


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
        return Problem(_("The .env file cannot be read"), exc.what, exc.todo)
    if isinstance(exc, ContextLengthError):
        return Problem(_("The prompt is longer than the model's context"), str(exc),
                       _("Shorten the prompt or drop earlier turns of the conversation."))
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
        return Problem(_("No Ollama server is running"), str(exc).split(" https://")[0],
                       _("Start it with `ollama serve` (or open the Ollama app), or leave {var} unset to use the "
                         "course stand-in.").format(var=route_table.route('ollama').endpoint_var),
                       route="ollama")
    return None


def _timeout(url: str | None, route: str | None) -> Problem:
    return Problem(_("The request timed out"),
                   _("No answer from {url} in time.").format(url=settings.mask_url(url) if url else _("the server")),
                   _("The server may be overloaded or a proxy may be holding the request: try again, "
                     "ask for fewer tokens (max_tokens), or use another route."), route=route)


def _connection(cause: BaseException, url: str | None, route: str | None) -> Problem:
    text = str(cause)
    host = urlparse(url).hostname if url else None
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return Problem(_("The server's name cannot be resolved"),
                       _("{host} could not be looked up: no internet, or a typo in the URL.").format(
                           host=host or _("The host")),
                       _("Check your connection and the base URL, or set {var}=1 to use the local "
                         "stand-in.").format(var=settings.OFFLINE_VAR), route=route)
    shown = settings.mask_url(url) if url else _("the server")
    if route == "ollama":
        return Problem(_("No Ollama server is running"), _("Nothing answered at {url}.").format(url=shown),
                       _("Start it with `ollama serve` (or open the Ollama app)."), route=route)
    return Problem(_("Nothing is listening there"), _("The connection to {url} was refused.").format(url=shown),
                   _("Start the server (or check the port in the base URL), or unset the override to use "
                     "the course stand-in."), route=route)


def _not_json(route: str | None) -> Problem:
    return Problem(_("The server's answer was not valid JSON"),
                   _("Something answered, but not with the API's JSON: often a proxy, a login page, or a "
                     "base URL that points at the wrong path."),
                   _("Check the base URL (OpenAI-compatible ones end in /v1) and any proxy settings."),
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
            lines = [f"{etype.__name__}: {problem.title}", *problem.explanation(),
                     _("  (Run %tb for the full error.)")]
        # Publish it as the cell's error output: the cell still counts as failed
        # (nbmake reads error outputs, "Run all" stops), only the text is kinder.
        shell._showtraceback(etype, value, lines)
        return lines

    shell.set_custom_exc((Exception,), handler)
    return True
