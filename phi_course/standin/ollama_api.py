"""The Ollama side of the stand-in: Ollama's REST API on the same port.

Introduced in lessons/07_ollama.ipynb.

`POST /api/chat` and `/api/generate` stream NDJSON (one JSON object per line)
unless the body says `"stream": false`; `/api/tags`, `/api/show`, `/api/ps`,
`/api/pull`, `/api/version` and `GET /` answer as Ollama does, so the `ollama`
Python client and plain `requests` code work unchanged. Model names are the
embedded ones, with or without Ollama's `:latest` tag. Without a temperature
the stand-in decodes greedily (Ollama's own default samples at 0.8). Pictures
go to the vision model as Ollama sends them: base64 in a message's `images`
(or the body's, for /api/generate). /api/chat takes `tools` and answers a call in
`message.tool_calls`, as Ollama does. A wrong option is a 400 naming it.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import NotRequired, TypedDict

from phi_course import __version__
from phi_course.standin import engine as eng
from phi_course.standin import models, tools_api
from phi_course.standin.body import SEED, Allowed, InvalidField, api_router, parse

__all__ = ["ChatRequest", "GenerateRequest", "Message", "ModelRequest", "OllamaRequest", "Options", "ROLES",
           "VERSION", "chat", "error_response", "generate", "ollama_error", "pull", "root", "router", "running",
           "show", "tags", "version"]

# Ollama clients only read this; it says which server answers and that it is not Ollama.
VERSION = f"0.0.0-phi-course-standin-{__version__}"


def ollama_error(status: int, message: str) -> JSONResponse:
    """An error in Ollama's shape: {"error": "..."}."""
    return JSONResponse({"error": message}, status_code=status)


def error_response(error: BaseException) -> JSONResponse:
    generation = sys.modules.get("phi_course.local.generation")  # imported by the worker, if at all
    if isinstance(error, eng.UnknownModelError):
        return ollama_error(404, f"model {error.requested!r} not found. {_served_hint(error.served)}")
    if generation is not None and isinstance(error, generation.ContextLengthError):
        return ollama_error(400, str(error))
    if isinstance(error, InvalidField) and error.field not in str(error):  # Ollama's errors have no field of their own
        return ollama_error(400, f"{error.field}: {error}")
    if isinstance(error, ValueError):
        return ollama_error(400, str(error))
    if isinstance(error, eng.Cancelled):
        return ollama_error(503, "The stand-in is shutting down; send the request again.")
    return ollama_error(500, f"The stand-in failed: {type(error).__name__}: {error}")


router = api_router(error_response)


def _served_hint(served: list[str]) -> str:
    return (f"This phi_course stand-in serves: {', '.join(served) or '(none: run `make models`)'}; "
            "it cannot pull other models (install Ollama for those).")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


ROLES = ("system", "user", "assistant", "tool")
IMAGES = "a list of base64-encoded image files (PNG or JPEG)"


@with_config(ConfigDict(extra="allow"))
class Message(TypedDict):
    """One chat message: its role and pictures are checked; the content is read by the model's side."""

    role: Annotated[Literal[ROLES], Allowed(f"one of the roles {', '.join(ROLES)}")]
    content: NotRequired[Any]
    images: NotRequired[Annotated[list[str], Allowed(IMAGES)] | None]
    tool_calls: NotRequired[list[tools_api.OllamaCall] | None]  # an assistant message that called tools


class Options(BaseModel):
    """The `options` the stand-in acts on; others (num_ctx, repeat_penalty...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    temperature: Annotated[float, Field(ge=0, allow_inf_nan=False),
                           Allowed("a number, 0 or more (0 answers the same every time)")] | None = None
    top_p: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), Allowed("a number from 0 to 1")] | None = None
    top_k: Annotated[int, Field(ge=0), Allowed("a whole number, 0 or more (0: no limit)")] | None = None
    # Ollama: -1 means no limit, -2 fill the context; both end at the context anyway.
    num_predict: Annotated[int, Field(ge=-2), Allowed("a whole number of tokens (-1: no limit)")] | None = None
    seed: Annotated[int, Field(ge=-2**63, le=2**63 - 1), Allowed(SEED)] | None = None
    stop: Annotated[str | list[str], Allowed("a string or a list of strings")] | None = None


class OllamaRequest(BaseModel):
    """Fields shared by /api/chat and /api/generate; others (format, keep_alive, think)
    are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    stream: bool = True
    options: Options | None = None

    def generation_options(self) -> dict[str, Any]:
        """Ollama's `options` as keyword arguments for phi_course.local.generation.generate_stream."""
        opts = self.options or Options()
        return {
            "max_new_tokens": opts.num_predict if opts.num_predict and opts.num_predict > 0
            else eng.DEFAULT_MAX_TOKENS,
            "temperature": opts.temperature or 0.0,
            "top_p": 1.0 if opts.top_p is None else opts.top_p,
            "top_k": opts.top_k or None,
            "seed": opts.seed,
            "stop": opts.stop,
        }


class ChatRequest(OllamaRequest):
    messages: list[Message] = Field(default_factory=list)
    tools: list[tools_api.Tool] | None = None


class GenerateRequest(OllamaRequest):
    prompt: str = ""
    system: str = ""
    template: str = ""
    suffix: str = ""
    raw: bool = False
    images: Annotated[list[str], Allowed(IMAGES)] | None = None


class ModelRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str | None = None
    name: str | None = None  # the field's name in older Ollama versions

    def requested(self) -> str:
        return self.model or self.name or ""


@router.api_route("/", methods=["GET", "HEAD"], response_class=PlainTextResponse)
def root() -> str:
    return "Ollama is running"


@router.get("/api/version")
def version() -> dict[str, str]:
    return {"version": VERSION, "server": "phi_course stand-in (embedded models over Ollama's API, not Ollama)"}


def _details(card: eng.ModelCard) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "safetensors",
        "family": card.family,
        "families": [card.family],
        "parameter_size": _human(card.parameters),
        "quantization_level": card.dtype,
    }


def _human(count: int) -> str:
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return str(count)


@router.get("/api/tags")
def tags() -> dict[str, Any]:
    entries = []
    for name in models.listed():
        card = eng.model_card(name)
        entries.append({"name": f"{name}:latest", "model": f"{name}:latest",
                        "modified_at": card.modified_at.isoformat(), "size": card.size,
                        "digest": card.digest, "details": _details(card)})
    return {"models": entries}


@router.get("/api/ps")
def running(request: Request) -> dict[str, Any]:
    entries = []
    for name, loaded_at in request.app.state.engine.loaded.items():
        card = eng.model_card(name)
        entries.append({"name": f"{name}:latest", "model": f"{name}:latest", "size": card.size,
                        "digest": card.digest, "details": _details(card),
                        "expires_at": "0001-01-01T00:00:00Z", "size_vram": 0,
                        "context_length": card.context_length,
                        "loaded_at": datetime.fromtimestamp(loaded_at, tz=timezone.utc).isoformat()})
    return {"models": entries}


@router.post("/api/show")
async def show(request: Request):
    body = await parse(request, ModelRequest)
    try:
        card = eng.model_card(eng.resolve(body.requested()))
    except eng.UnknownModelError as error:
        return error_response(error)
    arch = card.family
    config = card.config
    info = {
        "general.architecture": arch,
        "general.parameter_count": card.parameters,
        f"{arch}.context_length": config.get("max_position_embeddings"),
        f"{arch}.embedding_length": config.get("hidden_size"),
        f"{arch}.block_count": config.get("num_hidden_layers"),
        f"{arch}.attention.head_count": config.get("num_attention_heads"),
        f"{arch}.attention.head_count_kv": config.get("num_key_value_heads"),
        f"{arch}.vocab_size": config.get("vocab_size"),
    }
    if "num_local_experts" in config:
        info[f"{arch}.expert_count"] = config["num_local_experts"]
        info[f"{arch}.expert_used_count"] = config.get("num_experts_per_tok")
    template = card.chat_template
    return {
        # FROM names the model, never a path on the server: nothing internal goes out.
        "modelfile": (f"# The phi_course stand-in serves {card.name}, a course-sized embedded model\n"
                      f"FROM {card.name}\nTEMPLATE \"\"\"{template}\"\"\"\nPARAMETER stop <|end|>\n"),
        "parameters": "stop                           \"<|end|>\"",
        "template": template,
        "details": _details(card),
        "model_info": info,
        "capabilities": _capabilities(card),
        "modified_at": card.modified_at.isoformat(),
        "license": "MIT (phi_course embedded model)",
    }


def _capabilities(card: eng.ModelCard) -> list[str]:
    """What Ollama lists for a model: vision for the vision model, tools where the template lays tools out."""
    if models.serves(card.name):
        return ["completion", "vision"]
    return ["completion", "tools"] if tools_api.lays_out_tools(card.chat_template) else ["completion"]


@router.post("/api/pull")
async def pull(request: Request):
    """Embedded models are on disk already: pulling one succeeds at once, others are refused."""
    body = await parse(request, ModelRequest)
    try:
        eng.resolve(body.requested())
    except eng.UnknownModelError as error:
        return error_response(error)
    return {"status": "success"}


@router.post("/api/chat")
async def chat(request: Request):
    body = await parse(request, ChatRequest)
    tools_api.check_messages(body.messages, ids=False)
    job = eng.Job(model="", messages=body.messages, options=body.generation_options(), tools=body.tools or None)
    return await _answer(request, body, job, chat=True, load_only=not body.messages)


@router.post("/api/generate")
async def generate(request: Request):
    body = await parse(request, GenerateRequest)
    for field, value in (("suffix", body.suffix), ("template", body.template)):
        if value:
            return ollama_error(400, f"The phi_course stand-in does not support {field!r} in /api/generate; "
                                     "leave it out (the model's own chat template is used).")
    if body.raw and body.images:
        return ollama_error(400, "images cannot go with raw=true in /api/generate: a raw prompt has no "
                                 "place for pictures. Leave raw out (or false) to send images.")
    if body.raw:
        job = eng.Job(model="", prompt=body.prompt, options=body.generation_options())
    else:
        messages = ([{"role": "system", "content": body.system}] if body.system else [])
        messages.append({"role": "user", "content": body.prompt, "images": body.images})
        job = eng.Job(model="", messages=messages, options=body.generation_options())
    empty = not body.prompt and not body.system
    return await _answer(request, body, job, chat=False, load_only=empty)


async def _answer(request: Request, body: OllamaRequest, job: eng.Job, *, chat: bool,
                  load_only: bool):
    """Run `job` and answer in Ollama's shape: NDJSON lines, or one object when stream is false."""
    try:
        job.model = eng.resolve(body.model)
    except eng.UnknownModelError as error:
        return error_response(error)
    if any(m.get("images") for m in job.messages or []) and not models.serves(job.model):
        vision = [name for name in models.listed() if models.serves(name)]
        return ollama_error(400, f"{body.model} reads text only, so it cannot take images. Send them to "
                                 f"a vision model ({', '.join(vision) or 'none on disk: run `make models`'}), "
                                 "or leave `images` out.")
    if job.tools and "tools" not in _capabilities(eng.model_card(job.model)):
        callers = [name for name in eng.served_models() if "tools" in _capabilities(eng.model_card(name))]
        return ollama_error(400, f"{body.model} does not support tools. Send them to a model that calls tools "
                                 f"({', '.join(callers) or 'none here'}), or leave `tools` out.")
    started = time.perf_counter()
    engine = request.app.state.engine

    def line(text: str, done: bool = False, call: str | None = None, **extra) -> dict[str, Any]:
        out: dict[str, Any] = {"model": body.model, "created_at": _now()}
        if chat:
            out["message"] = tools_api.ollama_message(text, call, job.tools)
        else:
            out["response"] = text
        out["done"] = done
        out.update(extra)
        return out

    if load_only:
        # Ollama answers an empty prompt by loading the model, and says so.
        await engine.load(job.model)
        return line("", True, done_reason="load")

    run = engine.start(job)
    kind, value = await run.next()
    if kind == "error":
        return error_response(value)
    first = value

    def final(result) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if not chat:
            extra["context"] = first.prompt_ids + result.token_ids
        return line("", True, done_reason=result.finish_reason,
                    total_duration=_ns(time.perf_counter() - started),
                    load_duration=_ns(first.load_seconds),
                    prompt_eval_count=result.prompt_tokens,
                    prompt_eval_duration=_ns(result.first_token_seconds),
                    eval_count=result.completion_tokens,
                    eval_duration=_ns(result.total_seconds - result.first_token_seconds),
                    **extra)

    if body.stream:
        async def lines():
            try:
                async for kind, value in run:
                    if kind == "piece":
                        yield json.dumps(line(value), ensure_ascii=False) + "\n"
                    elif kind == "done":
                        if value.call is not None:  # held back as a call: its own line, as Ollama sends calls
                            yield json.dumps(line("", call=value.call), ensure_ascii=False) + "\n"
                        yield json.dumps(final(value), ensure_ascii=False) + "\n"
                    else:  # headers are sent already, so the error travels in the stream
                        yield json.dumps({"error": json.loads(error_response(value).body)["error"]}) + "\n"
            finally:
                run.close()

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    kind, value = await run.collect()
    if kind == "error":
        return error_response(value)
    text, result = value
    answer = final(result)
    if chat:
        answer["message"] = tools_api.ollama_message(text, result.call, job.tools)
    else:
        answer["response"] = text
    return answer

