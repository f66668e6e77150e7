"""The stand-in's model side: which embedded models it serves, and the engine that runs them.

Introduced in lessons/03_github_models.ipynb (the first lesson that can fall back to a stand-in).

A class shares one stand-in, so requests are served together: one engine
thread owns the models and decodes all running answers of a model in one step
(phi_course.standin.batch); a new request joins between two steps instead of
waiting for the others to finish. The HTTP layer talks to the engine through
`Run`, an async stream of events. torch and transformers are imported by the
engine thread, never by the HTTP layer, so the server answers /health before
the heavy imports finish.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import queue
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from phi_course.local import embedded
from phi_course.standin import models

FLUSH_SECONDS = 0.02  # a streamed answer's pieces reach its client at most this often (Engine._deliver)

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
    (a raw string continued as it is). With `tools` (OpenAI's function list) the
    prompt offers them and the answer may be a call (ChatResult.call); `begin` is
    text the answer is made to start with (a tool call's opening, to force one).
    """

    model: str
    messages: list[dict[str, Any]] | None = None
    prompt: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of generate_stream
    tools: list[dict[str, Any]] | None = None
    begin: str = ""


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
        """The template prompts are written in; with a tool-calling adapter, the adapter's (it lays tools out,
        and renders a chat without tools exactly as the model's own)."""
        adapter = embedded.tools_adapter(self.name)
        template = (adapter or self.path) / "chat_template.jinja"
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


def _variant(name: str, tools: bool) -> str:
    """What the engine loads and batches under: a model's name, or name+tools for it with its tool adapter."""
    return f"{name}+{embedded.TOOLS_ADAPTER}" if tools else name


# Answers decoded in one step, at most: enough for a class of 100, and a bounded cache
# (a full-context answer of tiny-phi35-mini keeps 0.8 MB of keys and values).
MAX_RUNNING = 128
# Prompts read between two steps, at most, so a crowd arriving at once does not stall
# the answers already streaming for long (each prompt takes a few milliseconds).
ADMIT_PER_STEP = 16


@dataclass
class _Request:
    """A job, the way back to its Run, and the flag that drops it."""

    job: Job
    emit: Callable[[str, Any], None]
    cancel: threading.Event


@dataclass
class _Running:
    """A text answer in a Batch: its request, its text so far, its clock."""

    request: _Request
    answer: Any  # generation.AnswerText
    started: float
    first_token_s: float


@dataclass
class _Call:
    """Work for the engine thread between steps (warm-up, loading a model)."""

    work: Callable[[], Any]
    future: Future


class Engine:
    """Loads embedded models on demand and decodes every running answer of a model together.

    One thread owns the models (torch is never entered from two threads). It
    loops: take new requests, read their prompts, then one decoding step for
    all running answers (phi_course.standin.batch), then hand the new pieces to
    the event loop in one go. Vision requests (their pictures are bound to the
    model) advance one piece per loop beside the batches.
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._inbox: queue.SimpleQueue[_Request | _Call | None] = queue.SimpleQueue()
        self._waiting: deque[_Request] = deque()
        self._batches: dict[str, Any] = {}  # model name (+tools) -> batch.Batch of its running text answers
        self._solos: list[tuple[_Request, Any]] = []  # (request, generation.TextStream) for vision
        self._outbox: list[tuple[Callable[[str, Any], None], str, Any]] = []
        self._pending: dict[Callable, list[tuple[str, Any]]] = {}  # events not yet handed over, per run
        self._flushed: dict[Callable, float] = {}  # when each run last heard (time.monotonic)
        self._closing = threading.Event()
        self.loaded: dict[str, float] = {}  # model name -> time.time() it was loaded
        self._warm: set[str] = set()  # what this engine has loaded: model names, and name+tools for an adapter
        self.ready = threading.Event()  # set once torch and transformers are imported
        # Counters for /health: how busy the stand-in is (a shared one in a workshop, say).
        self._count_lock = threading.Lock()
        self.pending = 0  # requests queued or running
        self.requests = 0  # requests finished, failed or dropped
        self.generated_tokens = 0
        self._thread = threading.Thread(target=self._loop, name="standin-generate", daemon=True)
        self._thread.start()

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

        future = self._call(work)
        future.add_done_callback(_report_failure)
        return future

    def close(self) -> None:
        """Stop: running answers end at the next step, queued ones never start (both get Cancelled)."""
        self._closing.set()
        self._inbox.put(None)  # wakes the engine thread if it waits for work

    async def load(self, name: str) -> None:
        """Load a model on the engine thread, between decoding steps."""
        await asyncio.wrap_future(self._call(lambda: self._load(name)))

    def start(self, job: Job) -> Run:
        """Queue `job`; its events arrive through the returned Run."""
        return Run(self, job)

    def _call(self, work: Callable[[], Any]) -> Future:
        future: Future = Future()
        if self._closing.is_set():
            future.set_exception(Cancelled())
        else:
            self._inbox.put(_Call(work, future))
        return future

    def _submit(self, request: _Request) -> None:
        with self._count_lock:
            self.pending += 1
        self._inbox.put(request)

    def _load(self, name: str, tools: bool = False):
        model_and_tokenizer = models.load(name, tools=tools)
        self.loaded.setdefault(name, time.time())
        self._warm.add(_variant(name, tools))
        return model_and_tokenizer

    # --- the engine thread ---

    def _loop(self) -> None:
        while not self._closing.is_set():
            busy = bool(self._solos or any(self._batches.values()))
            self._take(wait=not busy and not self._waiting)
            if self._closing.is_set():
                break
            self._admit()
            for name, batch in list(self._batches.items()):
                self._step(name, batch)
            self._step_solos()
            self._deliver()
        self._drop_everything()

    def _take(self, wait: bool) -> None:
        """Move what arrived into the waiting line; run calls (warm-up, loads) at once."""
        try:
            item = self._inbox.get() if wait else self._inbox.get_nowait()
            while True:
                if isinstance(item, _Call):
                    _run_call(item)
                elif item is not None:
                    self._waiting.append(item)
                item = self._inbox.get_nowait()
        except queue.Empty:
            pass

    def _admit(self) -> None:
        """Read the prompts of waiting requests, while the batch has room."""
        for request in [r for r in self._waiting if r.cancel.is_set()]:  # given up while waiting
            self._waiting.remove(request)
            self._end(request, "error", Cancelled())
        running = len(self._solos) + sum(len(b) for b in self._batches.values())
        for _ in range(min(ADMIT_PER_STEP, MAX_RUNNING - running, len(self._waiting))):
            self._begin(self._waiting.popleft())

    def _begin(self, request: _Request) -> None:
        """Check and start one request: its first piece goes out, then it joins its model's batch."""
        from phi_course.local import generation
        from phi_course.standin import batch

        job = request.job
        try:
            started = time.perf_counter()
            # Offered tools, a model with a tool-calling adapter answers with the adapter merged in: a copy
            # of its own, decoded in a batch of its own; requests without tools keep the plain model.
            tools = job.tools is not None and embedded.tools_adapter(job.model) is not None
            key = _variant(job.model, tools)
            was_loaded = key in self._warm
            model, tokenizer = self._load(job.model, tools=tools)
            load_seconds = 0.0 if was_loaded else time.perf_counter() - started
            if models.serves(job.model):  # the pictures go in beside the ids: decoded on its own
                model, tokenizer, prompt_ids = models.prepare(model, tokenizer, job)
                stream = generation.generate_stream(model, tokenizer, prompt_ids, **job.options)
                request.emit("started", Started(prompt_ids=list(prompt_ids), load_seconds=load_seconds))
                self._solos.append((request, stream))
                return
            if job.messages is not None:
                prompt_ids = generation.encode_chat(tokenizer, job.messages, tools=job.tools)
            else:
                prompt_ids = tokenizer(job.prompt or "", add_special_tokens=False)["input_ids"]
            plan = generation.plan(model, tokenizer, prompt_ids, **job.options)
            # A forced beginning is read with the prompt but belongs to the answer (and its budget).
            begin = tokenizer(job.begin, add_special_tokens=False)["input_ids"] if job.begin else []
            if begin:  # the context must hold it and one more token (plan raises ContextLengthError if not)
                generation.plan(model, tokenizer, prompt_ids + begin, max_new_tokens=1)
            request.emit("started", Started(prompt_ids=list(prompt_ids), load_seconds=load_seconds))
            started = time.perf_counter()
            logits, cache = batch.read_prompt(model, plan.prompt_ids + begin)
            answer = generation.AnswerText(tokenizer, plan, calls=job.tools is not None)
            running = _Running(request, answer, started, 0.0)
            if not all(self._advance(running, token) for token in begin):  # over within the budget
                return
            token = plan.pick(logits if plan.bias is None else logits + plan.bias)
            running.first_token_s = time.perf_counter() - started
            if self._advance(running, token):
                self._batches.setdefault(key, batch.Batch(model)).join(running, cache, token)
        except BaseException as error:  # noqa: BLE001  (every failure must reach the client)
            self._end(request, "error", error)

    def _advance(self, running: _Running, token: int) -> bool:
        """Give one token to an answer and send what it shows; False once the answer is over."""
        piece = running.answer.push(token)
        if piece:
            running.request.emit("piece", piece)
        if running.answer.finish is None:
            return True
        result = running.answer.result(running.first_token_s, time.perf_counter() - running.started)
        self._end(running.request, "done", result, tokens=len(running.answer.new_ids))
        return False

    def _step(self, name: str, batch) -> None:
        """One decoding step for every running answer of one model."""
        still = []
        for i, running in enumerate(batch.members):
            if running.request.cancel.is_set():  # the client left: its row goes before the step
                self._end(running.request, "error", Cancelled(), tokens=len(running.answer.new_ids))
            else:
                still.append(i)
        batch.keep(still)
        if not batch.members:
            return
        try:
            logits = batch.step()
        except BaseException as error:  # noqa: BLE001  (every answer in the batch must hear of it)
            for running in batch.members:
                self._end(running.request, "error", error, tokens=len(running.answer.new_ids))
            del self._batches[name]
            return
        tokens = _pick(logits, [r.answer.plan for r in batch.members])
        batch.feed(tokens)
        batch.keep([i for i, (running, token) in enumerate(zip(batch.members, tokens, strict=True))
                    if self._advance(running, token)])

    def _step_solos(self) -> None:
        """The next piece of each vision answer."""
        still = []
        for request, stream in self._solos:
            try:
                if request.cancel.is_set():
                    stream.close()
                    raise Cancelled()
                request.emit("piece", next(stream))
                still.append((request, stream))
            except StopIteration:
                self._end(request, "done", stream.result, tokens=stream.tokens)
            except BaseException as error:  # noqa: BLE001
                self._end(request, "error", error, tokens=stream.tokens)
        self._solos = still

    def _end(self, request: _Request, kind: str, value: Any, tokens: int = 0) -> None:
        request.emit(kind, value)
        with self._count_lock:
            self.pending -= 1
            self.requests += 1
            self.generated_tokens += tokens

    def _deliver(self, force: bool = False) -> None:
        """Hand the steps' events to their Runs, each run's pieces joined into one.

        A run hears at most every FLUSH_SECONDS, unless its answer starts, ends or fails:
        every hand-over wakes the event loop, whose Python work per streamed chunk shares
        the interpreter lock with this thread's decoding. Tokens come every 2 ms for one
        answer, so a wake-up per token made streaming a fifth slower than decoding in-process;
        20 ms of tokens per chunk is still smoother than anyone reads.
        """
        events, self._outbox = self._outbox, []
        for deliver, kind, value in events:
            pending = self._pending.setdefault(deliver, [])
            if kind == "piece" and pending and pending[-1][0] == "piece":
                pending[-1] = ("piece", pending[-1][1] + value)
            else:
                pending.append((kind, value))
        now = time.monotonic()
        for deliver, pending in list(self._pending.items()):
            final = pending[-1][0] in ("done", "error")
            urgent = force or final or any(kind != "piece" for kind, _ in pending)
            if urgent or now - self._flushed.get(deliver, 0.0) >= FLUSH_SECONDS:
                deliver(pending)
                del self._pending[deliver]
                if final:
                    self._flushed.pop(deliver, None)
                elif any(kind == "piece" and value for kind, value in pending):  # the first text goes at once
                    self._flushed[deliver] = now

    def _drop_everything(self) -> None:
        """The server stops: every request still here ends with Cancelled."""
        try:
            self._take(wait=False)
        finally:
            for request in self._waiting:
                self._end(request, "error", Cancelled())
            for batch in self._batches.values():
                for running in batch.members:
                    self._end(running.request, "error", Cancelled(), tokens=len(running.answer.new_ids))
            for request, stream in self._solos:
                stream.close()
                self._end(request, "error", Cancelled(), tokens=stream.tokens)
            self._waiting.clear()
            self._batches.clear()
            self._solos = []
            self._deliver(force=True)


def _pick(logits, plans) -> list[int]:
    """Each answer's next token: greedy ones in one argmax over the batch, sampled ones one by one."""
    greedy = logits.argmax(dim=-1).tolist()
    return [greedy[i] if plan.greedy and plan.bias is None
            else plan.pick(logits[i] if plan.bias is None else logits[i] + plan.bias)
            for i, plan in enumerate(plans)]


def _run_call(call: _Call) -> None:
    if not call.future.set_running_or_notify_cancel():
        return
    try:
        call.future.set_result(call.work())
    except BaseException as error:  # noqa: BLE001  (the caller reads it from the future)
        call.future.set_exception(error)


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

        def put_all(events: list[tuple[str, Any]]) -> None:
            for event in events:
                self._events.put_nowait(event)

        def deliver(events: list[tuple[str, Any]]) -> None:  # on the engine thread
            try:
                loop.call_soon_threadsafe(put_all, events)
            except RuntimeError:  # the event loop is gone: the server is shutting down
                self._cancel.set()

        def emit(kind: str, value: Any) -> None:  # on the engine thread; sent by Engine._deliver
            engine._outbox.append((deliver, kind, value))

        if engine._closing.is_set():
            self._events.put_nowait(("error", Cancelled()))
        else:
            engine._submit(_Request(job, emit, self._cancel))

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
        """Drop the request: a queued one never starts, a running one leaves at the next step."""
        self._cancel.set()
