"""The course stand-in server: embedded models over the OpenAI and Ollama protocols.

Introduced in lessons/03_github_models.ipynb.

One FastAPI app serves both protocols on one loopback port. Every response
carries the header `X-Phi-Course-Standin: 1`, and /health and /api/version say
in words that this is the course stand-in, so nobody mistakes it for the real
service. On loopback, API keys are accepted whatever they are and never
logged (the access log is off); in classroom mode (`--host`, `--api-key`) the
key is required. phi_course.standin.guard checks every request first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
import uuid

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from phi_course import __version__
from phi_course.local import embedded
from phi_course.standin import engine as eng
from phi_course.standin import guard, models, ollama_api, openai_api
from phi_course.standin.guard import Guard, Policy
from phi_course.standin.launcher import (
    HEADER,  # the one spelling: clients and tests read it from there
)

__all__ = ["HOST", "NAME", "StandinHeader", "asgi_app", "create_app", "listening_socket", "serve", "server_config"]

HOST = "127.0.0.1"  # loopback only, always: the stand-in is for this machine

NAME = "phi_course"


class StandinHeader:
    """ASGI wrapper that stamps every response, errors included, with the stand-in header."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_stamped(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (HEADER.lower().encode(), b"1")]
            await send(message)

        await self.app(scope, receive, send_stamped)


def _is_ollama(request: Request) -> bool:
    return not request.url.path.startswith("/v1")


def create_app(preload: str | None = embedded.DEFAULT_MODEL, threads: int = 1) -> FastAPI:
    """The FastAPI app (without the header wrapper; `asgi_app` adds it)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.engine = eng.Engine(threads)
        app.state.started = time.time()
        app.state.instance = uuid.uuid4().hex[:12]
        app.state.engine.warm_up(preload)
        try:
            yield
        finally:
            app.state.engine.close()

    app = FastAPI(title="phi_course stand-in", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    for prefix in openai_api.PREFIXES:
        app.include_router(openai_api.router, prefix=prefix)
    app.include_router(ollama_api.router)

    @app.get("/health")
    def health(request: Request) -> dict:
        engine = request.app.state.engine
        return {
            "status": "ok",
            "standin": NAME,
            "service": "phi_course stand-in: the course's embedded models over the OpenAI and "
                       "Ollama protocols (course-sized models, not Phi)",
            "version": __version__,
            "instance": request.app.state.instance,  # tells two servers apart; nothing internal
            "models": models.listed(),
            "loaded": list(engine.loaded),
            "ready": engine.ready.is_set(),
            "pending_requests": engine.pending,
            "finished_requests": engine.requests,
            "generated_tokens": engine.generated_tokens,
            "uptime_seconds": round(time.time() - request.app.state.started, 1),
        }

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError):
        problems = "; ".join(f"{_where(e.get('loc', ()))}: {e.get('msg')}" for e in error.errors())
        message = f"The request body is not valid: {problems}."
        if _is_ollama(request):
            return ollama_api.ollama_error(400, message)
        return openai_api.openai_error(400, message, code="invalid_request")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        message = f"{error.detail}: {request.method} {request.url.path} is not served by the phi_course stand-in."
        if _is_ollama(request):
            return ollama_api.ollama_error(error.status_code, message)
        return openai_api.openai_error(error.status_code, message, code="not_found"
                                       if error.status_code == 404 else None)

    return app


def _where(loc) -> str:
    """'messages.0.role' for a validation error's location (without FastAPI's leading 'body')."""
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def asgi_app(preload: str | None = embedded.DEFAULT_MODEL, threads: int = 1, policy: Policy | None = None):
    """The app as served: guarded, and every response (refusals too) stamped with the stand-in header."""
    return StandinHeader(Guard(create_app(preload, threads), policy))


def listening_socket(port: int, host: str = HOST) -> socket.socket:
    """A listening socket on host:port (0 picks a free port). Raises OSError if it cannot bind."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def server_config(preload: str | None = embedded.DEFAULT_MODEL, threads: int = 1,
                  policy: Policy | None = None) -> uvicorn.Config:
    """How uvicorn runs the stand-in. timeout_keep_alive closes idle connections; headers and
    bodies that dribble in meet the guard's deadlines."""
    return uvicorn.Config(asgi_app(preload, threads, policy), log_level="warning", access_log=False,
                          timeout_graceful_shutdown=3, timeout_keep_alive=5, lifespan="on",
                          http=guard.HeaderDeadline)


def serve(sock: socket.socket, *, parent_pid: int | None = None,
          preload: str | None = embedded.DEFAULT_MODEL, threads: int = 1, policy: Policy | None = None,
          log_file: str | None = None) -> None:
    """Serve on `sock` until stopped or the parent dies. Beyond loopback only with a classroom policy.

    `log_file` (the launcher's) is removed however the server ends, a stuck shutdown included."""
    policy = policy or Policy()
    address = sock.getsockname()[0]
    if address != HOST and policy.api_key is None:
        raise SystemExit(f"Refusing to serve on {address}: without --api-key the stand-in listens on "
                         f"{HOST} only (a classroom server needs a key).")
    server = uvicorn.Server(server_config(preload, threads, policy))
    if parent_pid:
        threading.Thread(target=_watch_parent, args=(parent_pid, server, log_file), daemon=True,
                         name="standin-parent-watch").start()
    # uvicorn re-raises SIGTERM once it has shut down; end with SystemExit instead of the default
    # kill, so the cleanup below still runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run(sockets=[sock])
    finally:
        _remove(log_file)


def _remove(log_file: str | None) -> None:
    if log_file:
        with contextlib.suppress(OSError):
            os.unlink(log_file)


def _watch_parent(parent_pid: int, server: uvicorn.Server, log_file: str | None, every: float = 1.0) -> None:
    """Stop the server when the process that started it is gone (a killed kernel runs no atexit)."""
    direct_child = os.getppid() == parent_pid
    while not server.should_exit:
        # A direct child is re-parented when its parent dies; otherwise ask the kernel.
        gone = os.getppid() != parent_pid if direct_child else not _alive(parent_pid)
        if gone:
            server.should_exit = True
            time.sleep(5)
            _remove(log_file)
            os._exit(0)  # the graceful shutdown got stuck; leave anyway
        time.sleep(every)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
