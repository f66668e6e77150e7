"""A local server that fails on purpose, the way real services fail.

Introduced in lessons/03_github_models.ipynb (what a 429 looks like, how the SDK
retries, and the 410 of a retired service). The tests drive every route's real
SDK client against it.

The first part of the path picks the fault, so one server plays them all:

    http://127.0.0.1:PORT/429/v1          -> 429 with Retry-After: 1
    http://127.0.0.1:PORT/429-then-ok/v1  -> 429 once, then a normal answer
    http://127.0.0.1:PORT/hang/v1         -> accepts, never answers (a timeout)
    http://127.0.0.1:PORT/sunset/v1       -> answers, with Deprecation and Sunset headers

Three more play today's services as phi_course.route_table describes them:

    /github-retired/inference  -> 410 Gone with GitHub's own body, on every path
    /foundry/openai/v1         -> a Foundry resource: 410 for a retired model, 404 for a
                                  deployment it does not have, an answer for a served one
    /nim/v1                    -> NVIDIA's hosted API: GET /models lists what the table last
                                  saw listed; other ids get 404

Errors use the shapes the real services send: OpenAI-style JSON for the
OpenAI-compatible routes, `{"error": "..."}` for Ollama paths (`/api/...`).
Only ever bound to 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from phi_course import route_table

__all__ = ["FAULTS", "FaultServer", "HANG_LIMIT_S", "OTHER_FAULTS", "SUNSET_HEADERS"]

HANG_LIMIT_S = 30.0  # a hanging request is released after this, so nothing waits forever

FAULTS: dict[str, tuple[int, str, str]] = {
    # name: (status, OpenAI error code, message)
    "401": (401, "unauthorized", "Bad credentials"),
    "403": (403, "forbidden", "Your subscription does not allow access to this model"),
    # A model every service retired: the explanation can name its date and successor.
    "404": (404, "unknown_model", f"Unknown model: {route_table.model_id('azure', 'phi-3.5-mini').id}"),
    "429": (429, "RateLimitReached", "Rate limit of 15 per 60s exceeded for UserByModelByMinute."),
    "429-no-retry-after": (429, "RateLimitReached", "Rate limit exceeded."),
    "500": (500, "internal_error", "The server had an error while processing your request."),
    "503": (503, "service_unavailable", "The model is overloaded. Please try again later."),
}
OTHER_FAULTS = ("ok", "bad-json", "hang", "429-then-ok", "sunset", "github-retired", "foundry", "nim")
# A service in its notice period answers normally, and says so in its headers: Deprecation
# (RFC 9745: since when, as @unix-time) and Sunset (RFC 8594: when it stops), with a link to read.
SUNSET_HEADERS = {"deprecation": "@1767225600", "sunset": "Wed, 30 Jun 2027 00:00:00 GMT",
                  "link": '<https://example.com/changelog/retirement>; rel="sunset"'}


def _openai_error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "type": code}}).encode()


def _as_today(service: str, rest: str, model: str) -> tuple[int, bytes]:
    """(status, body) of `service` as the route table says it answers today."""
    if service == "github-retired":
        return route_table.GITHUB_GONE_STATUS, json.dumps(route_table.GITHUB_GONE_BODY).encode()
    route_name = "azure" if service == "foundry" else "nim"
    rows = route_table.ids_on(route_name)
    # NIM: what the 2026-08-23 listing held; Foundry: what it serves.
    served = [r.id for r in rows if (r.status.since if route_name == "nim" else not r.retired)]
    if rest.endswith("models"):
        return 200, json.dumps({"object": "list", "data": [{"id": i, "object": "model"} for i in served]}).encode()
    if model in served:
        return 200, json.dumps(_ok_chat(model)).encode()
    row = route_table.find_id(model, route_name)
    if row is not None and row.retired:
        # Foundry documents the status (410 Gone) for retired models, not the body: this one is ours.
        return 410, _openai_error("model_retired", f"The model {model} was retired on {row.status.since}.")
    return 404, _openai_error("DeploymentNotFound" if route_name == "azure" else "model_not_found",
                              f"The deployment or model {model!r} does not exist.")


def _ok_chat(model: str) -> dict:
    return {
        "id": "chatcmpl-fault-server", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "The fault server says hello."}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 6, "total_tokens": 9},
    }


def _as_stream(answer: dict) -> bytes:
    """A chat completion as the server-sent events a `stream=True` request gets: the text, then usage."""
    text = answer["choices"][0]["message"]["content"]
    base = {"id": answer["id"], "object": "chat.completion.chunk", "created": answer["created"], "model": answer["model"]}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}]}
              for piece in re.findall(r"\S+\s*", text)]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append({**base, "choices": [], "usage": answer["usage"]})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"


def _ok_ollama(model: str) -> dict:
    return {"model": model, "created_at": "2026-01-01T00:00:00Z", "done": True, "done_reason": "stop",
            "message": {"role": "assistant", "content": "The fault server says hello."},
            "response": "The fault server says hello."}


class FaultServer:
    """Start with `with FaultServer() as server:`; `server.url("429")` is a base URL."""

    def __init__(self, retry_after_s: int = 1):
        self.retry_after_s = retry_after_s
        self.hits: Counter[str] = Counter()
        self.arrivals: list[tuple[str, float]] = []  # (fault, time.perf_counter()) of each request: retry gaps
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def arrived(self, fault: str) -> list[float]:
        """When each request for `fault` arrived (time.perf_counter()), oldest first."""
        return [at for name, at in self.arrivals if name == fault]

    def url(self, fault: str, suffix: str = "/v1") -> str:
        """Base URL whose requests all meet `fault` (see FAULTS and OTHER_FAULTS)."""
        if fault not in FAULTS and fault not in OTHER_FAULTS:
            raise ValueError(f"Unknown fault {fault!r}. Known: {', '.join([*FAULTS, *OTHER_FAULTS])}")
        return f"http://127.0.0.1:{self.port}/{fault}{suffix}"

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # releases hanging requests
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: tests and lessons read their own output
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None):
                self.send_response(status)
                sent = {"content-type": "application/json", **(headers or {}), "content-length": str(len(body))}
                for key, value in sent.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout): that is the point of "hang"

            def _serve(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    request = json.loads(raw) if raw else {}
                except ValueError:
                    request = {}
                fault, _, rest = self.path.lstrip("/").partition("/")
                owner.hits[fault] += 1
                owner.arrivals.append((fault, time.perf_counter()))
                ollama = rest.startswith("api/")
                model = request.get("model", "unknown") if isinstance(request, dict) else "unknown"
                wants_stream = isinstance(request, dict) and request.get("stream") is True
                if fault == "429-then-ok":
                    fault = "429" if owner.hits["429-then-ok"] == 1 else "ok"
                if fault == "hang":
                    owner._stop.wait(HANG_LIMIT_S)
                    return self._send(504, b'{"error": "fault server released a hanging request"}')
                if fault in ("github-retired", "foundry", "nim"):
                    status, body = _as_today(fault, rest, model)
                    if status == 200 and wants_stream and rest.endswith("completions"):
                        return self._send(200, _as_stream(json.loads(body)), {"content-type": "text/event-stream"})
                    return self._send(status, body)
                if fault == "bad-json":
                    return self._send(200, b'{"id": "chatcmpl-broken", "choices": [')
                if fault in ("ok", "sunset") and wants_stream and not ollama:
                    headers = {"content-type": "text/event-stream", **(SUNSET_HEADERS if fault == "sunset" else {})}
                    return self._send(200, _as_stream(_ok_chat(model)), headers)
                if fault == "sunset":
                    return self._send(200, json.dumps(_ok_chat(model)).encode(), SUNSET_HEADERS)
                if fault == "ok":
                    if rest.endswith("models") or rest.endswith("tags"):
                        return self._send(200, json.dumps({"object": "list", "data": [], "models": []}).encode())
                    body = _ok_ollama(model) if ollama else _ok_chat(model)
                    return self._send(200, json.dumps(body).encode())
                if fault not in FAULTS:
                    return self._send(404, json.dumps({"error": {"message": f"no fault called {fault!r}"}}).encode())
                status, code, message = FAULTS[fault]
                headers = {"retry-after": str(owner.retry_after_s)} if fault == "429" else {}
                if ollama and status == 404:
                    message = f'model "{model}" not found, try pulling it first'  # Ollama's own wording
                body = {"error": message} if ollama else {"error": {"code": code, "message": message, "type": code}}
                return self._send(status, json.dumps(body).encode(), headers)

            do_GET = do_POST = _serve  # noqa: N815 (the stdlib's names)

        return Handler
