"""The OpenAI-compatible side of the stand-in: /v1/chat/completions, /v1/models, /v1/info.

Introduced in lessons/03_github_models.ipynb.

GitHub Models, Azure AI Foundry and NVIDIA NIM all speak this protocol, so the
OpenAI SDK and azure-ai-inference (which calls `{endpoint}/chat/completions`
and `{endpoint}/info` with an `api-version` query) work against it unchanged.
Tools (`tools`, `tool_choice`, `tool` messages) work as the services' do: an answer
that is a call comes back as `tool_calls` (phi_course.standin.tools_api).
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import NotRequired, TypedDict

from phi_course.route_table import AZURE_INFERENCE_PATH, AZURE_OPENAI_V1_PATH
from phi_course.standin import engine as eng
from phi_course.standin import models, tools_api
from phi_course.standin.body import SEED, Allowed, InvalidField, api_router, parse

__all__ = ["PREFIXES", "ChatCompletionRequest", "FINGERPRINT", "Message", "ROLES", "chat_completions", "error_response",
           "get_model", "list_models", "model_info", "openai_error", "router"]

FINGERPRINT = "phi-course-standin"


def openai_error(status: int, message: str, kind: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> JSONResponse:
    """An error in the shape the OpenAI API (and so its SDK) uses."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def error_response(error: BaseException) -> JSONResponse:
    """The HTTP answer for an exception raised while checking or running a request."""
    # Only the worker imports torch; if it has not, this cannot be a context error.
    generation = sys.modules.get("phi_course.local.generation")
    if isinstance(error, eng.UnknownModelError):
        return openai_error(404, str(error), code="model_not_found", param="model")
    if isinstance(error, InvalidField):
        return openai_error(400, str(error), code="invalid_value", param=error.field)
    if generation is not None and isinstance(error, generation.ContextLengthError):
        return openai_error(400, str(error), code="context_length_exceeded", param="messages")
    if isinstance(error, ValueError):
        return openai_error(400, str(error), code="invalid_value")
    if isinstance(error, eng.Cancelled):
        return openai_error(503, "The stand-in is shutting down; send the request again.",
                            kind="server_error", code="unavailable")
    return openai_error(500, f"The stand-in failed: {type(error).__name__}: {error}",
                        kind="server_error", code="internal_error")


# Mounted under /v1, and under the two paths of a Foundry resource (server.py).
router = api_router(error_response)
# Where this API is served: /v1, and a Foundry resource's two paths (/openai/v1 for the OpenAI
# SDK, /models for azure-ai-inference), so a Foundry endpoint in either form can point here.
PREFIXES = ("/v1", AZURE_OPENAI_V1_PATH.rstrip("/"), AZURE_INFERENCE_PATH)

ROLES = ("system", "developer", "user", "assistant", "tool")


@with_config(ConfigDict(extra="allow"))
class Message(TypedDict):
    """One chat message: its role is checked; content (text or parts) is read by the model's side."""

    role: Annotated[Literal[ROLES], Allowed(f"one of the roles {', '.join(ROLES)}")]
    content: NotRequired[Any]
    tool_calls: NotRequired[list[tools_api.OpenAICall] | None]  # an assistant message that called tools
    tool_call_id: NotRequired[Annotated[str, Allowed("the id of the call this result answers")]]


class ChatCompletionRequest(BaseModel):
    """The fields the stand-in acts on; others (logprobs, parallel_tool_calls...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    # Optional because an Azure serverless deployment serves one model and
    # azure-ai-inference lets callers leave it out; then the default model answers.
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_tokens: Annotated[int, Field(ge=1), Allowed("a whole number of tokens, 1 or more")] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1), Allowed("a whole number of tokens, 1 or more")] | None = None
    temperature: Annotated[float, Field(ge=0, le=2, allow_inf_nan=False),
                           Allowed("a number from 0 to 2 (0 answers the same every time)")] | None = None
    top_p: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), Allowed("a number from 0 to 1")] | None = None
    seed: Annotated[int, Field(ge=-2**63, le=2**63 - 1), Allowed(SEED)] | None = None
    stop: Annotated[str | list[str], Allowed("a string or a list of strings")] | None = None
    logit_bias: dict[int, float] | None = None
    n: int | None = Field(None, ge=1, le=1, description="one answer per request")
    tools: list[tools_api.Tool] | None = None
    tool_choice: tools_api.ToolChoice | None = None

    def offered(self) -> list[dict[str, Any]] | None:
        """The tools the prompt offers: none when there are none or tool_choice is "none"."""
        return None if not self.tools or self.tool_choice == "none" else list(self.tools)

    def options(self) -> dict[str, Any]:
        """Keyword arguments for phi_course.local.generation.generate_stream.

        Without a temperature the stand-in decodes greedily, as the embedded
        models' generation_config says (OpenAI's own default is 1.0).
        """
        return {
            "max_new_tokens": self.max_completion_tokens or self.max_tokens or eng.DEFAULT_MAX_TOKENS,
            "temperature": self.temperature or 0.0,
            "top_p": self.top_p if self.top_p is not None else 1.0,
            "seed": self.seed,
            "stop": self.stop,
            "logit_bias": self.logit_bias,
        }


def _model_entry(name: str) -> dict[str, Any]:
    card = eng.model_card(name)
    return {"id": name, "object": "model", "created": int(card.modified_at.timestamp()),
            "owned_by": "phi_course"}


@router.get("/models")
def list_models() -> dict[str, Any]:
    return {"object": "list", "data": [_model_entry(name) for name in models.listed()]}


@router.get("/models/{name:path}")
def get_model(name: str):
    try:
        return _model_entry(eng.resolve(name))
    except eng.UnknownModelError as error:
        return error_response(error)


@router.get("/info")
def model_info() -> dict[str, str]:
    """What azure-ai-inference's get_model_info() reads: the model behind the endpoint."""
    served = eng.served_models()
    name = eng.embedded.DEFAULT_MODEL if eng.embedded.DEFAULT_MODEL in served else (served or ["(none)"])[0]
    return {"model_name": name, "model_type": "chat-completion",
            "model_provider_name": "phi_course stand-in (course-sized model, not Phi)"}


@router.post("/chat/completions")
async def chat_completions(request: Request):
    body = await parse(request, ChatCompletionRequest)
    try:
        model = eng.resolve(body.model)
    except eng.UnknownModelError as error:
        return error_response(error)
    tools_api.check_messages(body.messages, ids=True)
    tools = body.offered()
    begin = tools_api.begin_for(body.tool_choice, body.tools)
    if tools and models.serves(model):
        return openai_error(400, f"{model} does not call tools. Send tools to a text model "
                                 f"({', '.join(eng.served_models())}), or leave `tools` out.", param="tools")
    if begin and not tools_api.lays_out_tools(eng.model_card(model).chat_template):
        return openai_error(400, f"tool_choice {body.tool_choice!r} asks for a tool call, but {model} was never "
                                 "trained to call tools: offered tools, it answers in text. Leave tool_choice out "
                                 "(or send \"auto\"), or use a model that calls tools: tiny-phi35-mini here (through its "
                                 "tool-calling adapter), or Phi-4-mini on Foundry.",
                            param="tool_choice")
    job = eng.Job(model=model, messages=body.messages, options=body.options(), tools=tools, begin=begin)
    run = request.app.state.engine.start(job)
    kind, value = await run.next()
    if kind == "error":
        return error_response(value)
    reply_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        events = _sse(run, reply_id, created, model, include_usage, tools)
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    kind, value = await run.collect()
    if kind == "error":
        return error_response(value)
    text, result = value
    message, finish = tools_api.openai_message(text, result.call, result.finish_reason, tools)
    return {
        "id": reply_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": finish,
        }],
        "usage": result.usage,
    }


async def _sse(run: eng.Run, reply_id: str, created: int, model: str, include_usage: bool,
               tools: list[dict[str, Any]] | None):
    """Server-sent events as OpenAI sends them: `data: {chunk}` lines, then `data: [DONE]`."""

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, usage=None) -> str:
        payload: dict[str, Any] = {
            "id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": [] if delta is None else
            [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            payload["usage"] = usage
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    opened = False  # whether a delta has named the role yet
    try:
        if not tools:  # a text answer for sure: the role goes out at once, as OpenAI does
            yield chunk(tools_api.opening({}))
            opened = True
        # With tools offered, the role waits for the answer's first piece: a call's first delta
        # carries content null, as OpenAI's do, so an accumulated call has no content.
        async for kind, value in run:
            if kind == "piece":
                yield chunk({"content": value} if opened else tools_api.opening({"content": value}))
                opened = True
            elif kind == "done":  # an answer that began as a call was held back: it goes out now
                deltas, finish = tools_api.openai_deltas(value.call, value.finish_reason, tools, opened)
                for delta in deltas:
                    yield chunk(delta)
                yield chunk({}, finish)
                if include_usage:
                    yield chunk(None, usage=value.usage)
            else:  # headers are sent already, so the error travels in the stream
                body = json.loads(error_response(value).body)
                yield f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"
    finally:
        run.close()
