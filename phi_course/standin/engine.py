"""The stand-in's model side: which embedded models it serves, and one queue that runs them.

Introduced in lessons/03_github_models.ipynb (the first lesson that can fall back to a stand-in).

The machine has few cores, so requests never run side by side: a single worker
thread takes them in order (this is the lock), and each request waits its turn.
The HTTP layer talks to the worker through `Run`, an async stream of events.
torch and transformers are imported by the worker, never by the HTTP layer, so
the server answers /health before the heavy imports finish.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import struct
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from phi_course.local import embedded
from phi_course.standin import models

__all__ = ["Cancelled", "DEFAULT_MAX_TOKENS", "Engine", "Job", "ModelCard", "Run", "Started", "UnknownModelError",
           "model_card", "resolve", "served_models"]

# Used when a request sets no token limit; generation also stops at the context end.
DEFAULT_MAX_TOKENS = 1024


class UnknownModelError(LookupError):
    """A request named a model this stand-in does not serve."""

    def __init__(self, requested: str, served: list[str]):
        self.requested = requested
        self.served = served
        super().__init__(
            f"The model {requested!r} does not exist on this phi_course stand-in. "
            f"It serves: {', '.join(served) or '(none: run `make models`)'}. "
            "Use one of those names."
        )


class Cancelled(Exception):
    """The client went away or the server is stopping; the request was dropped."""


@dataclass
class Job:
    """One generation request, in the terms of phi_course.local.generation.

    Either `messages` (chat: the chat template is applied) or `prompt`
    (a raw string continued as it is).
    """

    model: str
    messages: list[dict[str, Any]] | None = None
    prompt: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of generate_stream


@dataclass
class Started:
    """The request passed every check and the model is producing text."""

    prompt_ids: list[int]
    load_seconds: float  # time spent loading the model for this request (0 when already loaded)


@dataclass
class ModelCard:
    """What the listing endpoints say about one embedded model, read from its files."""

    name: str
    path: Path
    size: int  # bytes on disk
    parameters: int
    dtype: str  # as safetensors spells it, e.g. "F32"
    modified_at: datetime
    config: dict[str, Any]

    @property
    def family(self) -> str:
        return self.config.get("model_type", "unknown")

    @property
    def context_length(self) -> int | None:
        return self.config.get("max_position_embeddings")

    @functools.cached_property
    def digest(self) -> str:
        """sha256 of the weights, as Ollama lists a model's digest."""
        sha = hashlib.sha256()
        for file in sorted(self.path.glob("*.safetensors")):
            with file.open("rb") as f:
                for block in iter(lambda f=f: f.read(1 << 20), b""):
                    sha.update(block)
        return sha.hexdigest()

    @property
    def chat_template(self) -> str:
        template = self.path / "chat_template.jinja"
        if template.exists():
            return template.read_text(encoding="utf-8")
        tokenizer_config = self.path / "tokenizer_config.json"
        if tokenizer_config.exists():
            return str(json.loads(tokenizer_config.read_text(encoding="utf-8")).get("chat_template", ""))
        return ""


def served_models() -> list[str]:
    """The embedded models whose files are present, in catalog order."""
    return [name for name in embedded.EMBEDDED if embedded.on_disk(name)]


def resolve(requested: str | None) -> str:
    """The embedded model a request means; Ollama's default tag `:latest` is accepted."""
    served = served_models()
    if not requested:
        if embedded.DEFAULT_MODEL in served:
            return embedded.DEFAULT_MODEL
        raise UnknownModelError("(none given)", served)
    name = requested.removesuffix(":latest")
    if name not in served and not models.serves(name):  # vision: lessons/09_phi_vision.ipynb
        name = _alias(name) or ""
        if name not in served and not models.serves(name):
            raise UnknownModelError(requested, served)
    return name


def _alias(requested: str) -> str | None:
    """The embedded model standing in for a real service's model id, if the route table knows it.

    Code written for the real service (a Foundry, NIM or Hub id from phi_course.route_table)
    then also runs against the stand-in; answers still name the embedded model.
    """
    from phi_course import catalog, route_table

    if requested.lower() in catalog.FAMILY:  # a course key, e.g. "phi-3.5-mini"
        return embedded.stands_in_for(requested.lower())
    row = route_table.find_id(requested)
    return embedded.stands_in_for(row.model) if row else None


@functools.lru_cache(maxsize=16)
def _card(name: str, stamp: float) -> ModelCard:
    path = models.model_path(name)
    parameters, dtypes = 0, set()
    for file in path.glob("*.safetensors"):
        # A safetensors file starts with an 8-byte length and a JSON index of its
        # tensors: counting parameters from it needs no torch.
        with file.open("rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        for key, info in header.items():
            if key != "__metadata__":
                parameters += functools.reduce(lambda a, b: a * b, info["shape"], 1)
                dtypes.add(info["dtype"])
    return ModelCard(
        name=name,
        path=path,
        size=sum(f.stat().st_size for f in path.iterdir() if f.is_file()),
        parameters=parameters,
        dtype="/".join(sorted(dtypes)) or "unknown",
        modified_at=datetime.fromtimestamp(stamp, tz=timezone.utc),
        config=json.loads((path / "config.json").read_text(encoding="utf-8")),
    )


def model_card(name: str) -> ModelCard:
    """The card of a served model (cached until its config changes)."""
    config = models.model_path(name) / "config.json"
    return _card(name, config.stat().st_mtime)


class Engine:
    """Loads embedded models on demand and runs one request at a time."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="standin-generate")
        self._closing = threading.Event()
        self.loaded: dict[str, float] = {}  # model name -> time.time() it was loaded
        self.ready = threading.Event()  # set once torch and transformers are imported
        # Counters for /health: how busy the stand-in is (a shared one in a workshop, say).
        self._count_lock = threading.Lock()
        self.pending = 0  # requests queued or running
        self.requests = 0  # requests finished, failed or dropped
        self.generated_tokens = 0

    def warm_up(self, model: str | None) -> Future:
        """Import the heavy libraries (and load `model`) before the first request needs them."""

        def work() -> None:
            import torch

            from phi_course.local import generation  # noqa: F401  (the import is the point)

            # Course-sized models are too small to gain from several threads: on a
            # 2-core machine one thread decoded about 5x faster than two (thread
            # hand-offs cost more than the tiny matrix products), and it leaves a
            # core free for the notebook.
            torch.set_num_threads(self.threads)

            self.ready.set()
            if model in served_models():
                self._load(model)

        future = self._worker.submit(work)
        future.add_done_callback(_report_failure)
        return future

    def close(self) -> None:
        """Stop the running request at its next token and drop the queued ones."""
        self._closing.set()
        self._worker.shutdown(wait=False, cancel_futures=True)

    async def load(self, name: str) -> None:
        """Load a model on the worker, in turn with the generation requests."""
        await asyncio.wrap_future(self._worker.submit(self._load, name))

    def _load(self, name: str):
        model_and_tokenizer = models.load(name)
        self.loaded.setdefault(name, time.time())
        return model_and_tokenizer

    def start(self, job: Job) -> Run:
        """Queue `job`; its events arrive through the returned Run."""
        return Run(self, job)

    def _work(self, job: Job, emit: Callable[[str, Any], None], cancel: threading.Event) -> None:
        """Runs on the worker thread: load, check, generate, report. Always emits a last event."""
        try:
            if cancel.is_set() or self._closing.is_set():
                raise Cancelled()
            from phi_course.local import generation

            started = time.perf_counter()
            was_loaded = job.model in self.loaded
            model, tokenizer = self._load(job.model)
            load_seconds = 0.0 if was_loaded else time.perf_counter() - started
            if models.serves(job.model):  # the pictures go in beside the ids
                model, tokenizer, prompt_ids = models.prepare(model, tokenizer, job)
            elif job.messages is not None:
                prompt_ids = generation.encode_chat(tokenizer, job.messages)
            else:
                prompt_ids = tokenizer(job.prompt or "", add_special_tokens=False)["input_ids"]
            stream = generation.generate_stream(model, tokenizer, prompt_ids, **job.options)
            emit("started", Started(prompt_ids=list(prompt_ids), load_seconds=load_seconds))
            try:
                for piece in stream:
                    if cancel.is_set() or self._closing.is_set():
                        stream.close()
                        raise Cancelled()
                    emit("piece", piece)
            finally:
                with self._count_lock:
                    self.generated_tokens += stream.tokens
            emit("done", stream.result)
        except BaseException as error:  # noqa: BLE001  (every failure must reach the client)
            emit("error", error)

    def _queued(self) -> None:
        with self._count_lock:
            self.pending += 1

    def _finished(self, _future: Future | None) -> None:
        with self._count_lock:
            self.pending -= 1
            self.requests += 1


def _report_failure(future: Future) -> None:
    """Warm-up runs unasked, so its failure goes to the server log (the launcher shows it)."""
    if not future.cancelled() and future.exception() is not None:
        error = future.exception()
        print(f"phi_course stand-in: warm-up failed: {type(error).__name__}: {error}",
              file=sys.stderr, flush=True)


class Run:
    """The events of one queued request: ("started", Started), ("piece", str)...,
    then ("done", ChatResult) or ("error", exception). Close it to drop the request."""

    def __init__(self, engine: Engine, job: Job) -> None:
        loop = asyncio.get_running_loop()
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._cancel = threading.Event()
        self._finished = False

        def emit(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(self._events.put_nowait, (kind, value))
            except RuntimeError:  # the event loop is gone: the server is shutting down
                self._cancel.set()

        engine._queued()
        try:
            self._future = engine._worker.submit(engine._work, job, emit, self._cancel)
        except RuntimeError:  # the worker was shut down
            engine._finished(None)
            self._events.put_nowait(("error", Cancelled()))
            self._future = None
        else:  # runs at once if the job is done already
            self._future.add_done_callback(engine._finished)

    async def next(self) -> tuple[str, Any]:
        """The next event; after "done" or "error" there are no more."""
        if self._finished:
            raise StopAsyncIteration
        try:
            kind, value = await self._events.get()
        except asyncio.CancelledError:  # the client left (phi_course.standin.guard) or the server stops
            self.close()
            raise
        self._finished = kind in ("done", "error")
        return kind, value

    def __aiter__(self) -> Run:
        return self

    async def __anext__(self) -> tuple[str, Any]:
        return await self.next()

    async def collect(self) -> tuple[str, Any]:
        """For a request that does not stream: ("done", (whole text, ChatResult)) or ("error", exception).

        Closes the run either way."""
        pieces: list[str] = []
        try:
            async for kind, value in self:
                if kind == "piece":
                    pieces.append(value)
                elif kind == "error":
                    return "error", value
                else:
                    return "done", ("".join(pieces), value)
        finally:
            self.close()
        return "error", Cancelled()

    def close(self) -> None:
        """Drop the request: a queued one never starts, a running one stops at its next token."""
        self._cancel.set()
        if self._future is not None:
            self._future.cancel()
