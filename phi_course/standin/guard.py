"""What every request must pass before the stand-in reads it, and what happens when its client leaves.

Introduced in lessons/03_github_models.ipynb (the stand-in); the classroom
mode is in the README's instructor section.

A server on 127.0.0.1 is still reachable from any web page the same machine
opens, so the guard refuses what only a browser or an attacker would send:
a Host header that is not loopback (DNS rebinding) and a cross-origin Origin.
It caps the body before reading it (413, checked on Content-Length first),
gives a slow client a deadline for its body (408), and in classroom mode asks
for the API key (401, compared in constant time). When a client hangs up, the
request is cancelled, so abandoned work stops at its next token instead of
running to the end (Run.collect closes the run when it is cancelled).
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["BODY_TIMEOUT_S", "DEFAULT_MAX_BODY_MB", "HEADER_TIMEOUT_S", "LOOPBACK_NAMES", "Guard", "HeaderDeadline",
           "Policy"]

DEFAULT_MAX_BODY_MB = 8  # a chat with a few photos fits; a 20 MB paste does not
BODY_TIMEOUT_S = 10.0  # between two pieces of a request body
HEADER_TIMEOUT_S = 10.0  # for a request's headers to arrive in full (a slowloris sends them a byte at a time)
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
# Paths anyone may read without a key: is it up, and the Ollama root a client probes first.
OPEN_PATHS = {"/health", "/", "/api/version"}


@dataclass(frozen=True)
class Policy:
    """How strict the guard is: on loopback (the default) or serving a classroom."""

    max_body_bytes: int = DEFAULT_MAX_BODY_MB * 1024 * 1024
    api_key: str | None = None  # classroom mode: every request but OPEN_PATHS must carry it
    loopback_only: bool = True  # True: Host must name this machine
    body_timeout_s: float = BODY_TIMEOUT_S

    @classmethod
    def classroom(cls, api_key: str, max_body_mb: float = DEFAULT_MAX_BODY_MB) -> Policy:
        if not api_key:
            raise ValueError("A classroom stand-in needs an API key: pass --api-key.")
        return cls(int(max_body_mb * 1024 * 1024), api_key, loopback_only=False)


def _host_name(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1'; '[::1]:8000' -> '::1'."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _origin_is_loopback(origin: str) -> bool:
    scheme, _, rest = origin.partition("://")
    return scheme in ("http", "https") and _host_name(rest.split("/", 1)[0]).lower() in LOOPBACK_NAMES


def _presented_key(headers: dict[str, str]) -> str | None:
    """The key as the OpenAI SDK (Bearer), azure-ai-inference (api-key) or a raw header sends it."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return headers.get("api-key") or headers.get("x-api-key")


class Guard:
    """ASGI middleware: the checks above, then the app, cancelled if the client leaves."""

    def __init__(self, app, policy: Policy | None = None) -> None:
        self.app = app
        self.policy = policy or Policy()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            return await _reply(scope, send, *refusal)
        body = await self._read_body(receive, headers)
        if isinstance(body, tuple):
            return await _reply(scope, send, *body)
        await self._run_until_client_leaves(scope, body, receive, send)

    def _refusal(self, scope, headers: dict[str, str]) -> tuple[int, str, str] | None:
        host = _host_name(headers.get("host", "")).lower()
        if self.policy.loopback_only and host not in LOOPBACK_NAMES:
            return (403, "host_not_allowed",
                    f"Host {headers.get('host', '(none)')!r} is not this machine. The course stand-in answers "
                    "only requests addressed to 127.0.0.1 or localhost (a web page cannot reach it by another name).")
        origin = headers.get("origin")
        if origin and not _origin_is_loopback(origin):
            return (403, "origin_not_allowed",
                    f"Requests from web pages ({origin}) are refused: the stand-in is for code on this machine.")
        if self.policy.api_key and scope.get("path") not in OPEN_PATHS:
            presented = _presented_key(headers)
            if presented is None or not hmac.compare_digest(presented.encode(), self.policy.api_key.encode()):
                return (401, "invalid_api_key",
                        "This classroom server needs its API key: pass it as api_key= to the OpenAI SDK "
                        "(or an 'Authorization: Bearer ...' header). Ask your instructor for it.")
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "invalid_request", f"Content-Length {length!r} is not a number of bytes."
            if int(length) > self.policy.max_body_bytes:
                return self._too_large(int(length))
        return None

    def _too_large(self, size: int) -> tuple[int, str, str]:
        limit_mb = self.policy.max_body_bytes / (1024 * 1024)
        return (413, "request_too_large",
                f"The request body is {size / (1024 * 1024):.1f} MB; the stand-in takes at most {limit_mb:g} MB. "
                "Send fewer or smaller pictures (lesson 09 shows how to shrink one), or start the stand-in "
                "with --max-body-mb.")

    async def _read_body(self, receive, headers: dict[str, str]) -> bytes | tuple[int, str, str]:
        """The whole body, read within the deadline and the size limit (or why not)."""
        chunks, size = [], 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.policy.body_timeout_s)
            except asyncio.TimeoutError:
                return (408, "request_timeout",
                        f"The request body did not arrive within {self.policy.body_timeout_s:g} s (a Content-Length larger "
                        "than the body sent?). Send the request again.")
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.policy.max_body_bytes:
                return self._too_large(size)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _run_until_client_leaves(self, scope, body: bytes, receive, send) -> None:
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: waits for the client to hang up

        app = asyncio.ensure_future(self.app(scope, replay, send))

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            app.cancel()  # abandoned: the request stops at its next token

        watcher = asyncio.ensure_future(watch())
        try:
            await app
        except asyncio.CancelledError:
            if not watcher.done():
                raise  # the server is stopping, not the client leaving
        finally:
            watcher.cancel()


async def _reply(scope, send, status: int, code: str, message: str) -> None:
    """An error in the protocol's own shape, from the API modules that write every other error."""
    from phi_course.standin import ollama_api, openai_api

    openai_style = scope.get("path", "").startswith(openai_api.PREFIXES)
    response = openai_api.openai_error(status, message, code=code) if openai_style \
        else ollama_api.ollama_error(status, message)
    await response(scope, None, send)


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for each request's headers.

    uvicorn closes idle connections (timeout_keep_alive) but waits forever for
    headers that arrive a byte at a time, so a few such connections could hold
    the server's sockets (a slowloris).
    """

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()  # the next request on this connection gets its own deadline

    def _arm_header_deadline(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        # Still IDLE: no complete request line and headers since the deadline was set.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)
