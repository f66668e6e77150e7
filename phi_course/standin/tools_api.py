"""Tool calls over both APIs: the `tools` a request offers, the calls and results in its messages, the calls answered.

Introduced in lessons/13_make_it_yours.ipynb (tool calls).

The OpenAI API and Ollama's describe tools the same way ({"type": "function",
"function": {"name", "description", "parameters"}}) and differ in the calls: OpenAI
gives each an id and its arguments as a JSON string, and a `tool` message answers one
id; Ollama sends the arguments as an object and needs no ids. The checks here make a
client's mistake a 400 naming the field, the most common one being a tool result sent
without the assistant message that asked for it. The model's call is read by
phi_course.local.tool_text; a call that does not read (cut off, broken JSON, a tool
nobody offered) goes back as ordinary text, as real services do.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, with_config
from typing_extensions import NotRequired, TypedDict

from phi_course.local.tool_text import CALL_START, ToolCall, parse_calls
from phi_course.standin.body import Allowed, InvalidField

__all__ = ["FUNCTION_NAME", "OllamaCall", "OpenAICall", "Tool", "ToolChoice", "begin_for", "check_messages",
           "lays_out_tools", "ollama_calls", "ollama_message", "openai_calls", "openai_deltas", "openai_message",
           "opening", "read_calls", "tool_names"]

FUNCTION_NAME = r"^[A-Za-z0-9_-]{1,64}$"  # what the OpenAI API accepts as a function's name


@with_config(ConfigDict(extra="allow"))
class Function(TypedDict):
    """A tool's description: its name, what it does, its parameters as a JSON schema."""

    name: Annotated[str, Field(pattern=FUNCTION_NAME),
                    Allowed("the function's name: 1 to 64 letters, digits, _ or -")]
    description: NotRequired[Annotated[str, Allowed("a string saying what the tool does")]]
    parameters: NotRequired[Annotated[dict[str, Any], Allowed("a JSON schema object, e.g. "
                                                              '{"type": "object", "properties": {...}}')]]


@with_config(ConfigDict(extra="allow"))
class Tool(TypedDict):
    """One offered tool, as both APIs take it."""

    type: Annotated[Literal["function"], Allowed('"function" (the only kind of tool)')]
    function: Function


class _Named(TypedDict):
    name: str


class _NamedChoice(TypedDict):
    type: Literal["function"]
    function: _Named


ToolChoice = Annotated[Literal["none", "auto", "required"] | _NamedChoice,
                       Allowed('"auto", "none", "required" or {"type": "function", "function": {"name": ...}}')]


class _OpenAIFunction(TypedDict):
    name: str
    arguments: Annotated[str, Allowed("the arguments as a JSON string, as the model gave them")]


@with_config(ConfigDict(extra="allow"))
class OpenAICall(TypedDict):
    """A call in an assistant message sent back (OpenAI: an id, and the arguments as a string)."""

    id: Annotated[str, Allowed("the call's id, as the model's answer gave it")]
    type: Annotated[Literal["function"], Allowed('"function"')]
    function: _OpenAIFunction


class _OllamaFunction(TypedDict):
    name: str
    arguments: Annotated[dict[str, Any], Allowed("the arguments as an object, as the model gave them")]


@with_config(ConfigDict(extra="allow"))
class OllamaCall(TypedDict):
    """A call in an assistant message sent back (Ollama: the arguments as an object, no id)."""

    function: _OllamaFunction


def lays_out_tools(chat_template: str) -> bool:
    """True when a model's chat template puts offered tools in the prompt (as Phi-4-mini's does).

    A model whose template does not was never trained to call tools: offered some, it answers in
    text, and it cannot be made to call one (tool_choice "required" is refused).
    """
    return CALL_START in chat_template


def tool_names(tools: list[dict[str, Any]] | None) -> list[str]:
    return [tool["function"]["name"] for tool in tools or []]


def check_messages(messages: list[dict[str, Any]], *, ids: bool) -> None:
    """Raise InvalidField for a tool call or tool result the model could not follow.

    A `tool` message needs content (the result); with `ids` (the OpenAI API) it also needs a
    `tool_call_id` naming a call of the assistant message before it. Only assistant messages call tools.
    """
    open_calls: set[str] = set()  # ids of the latest assistant message's calls
    for i, message in enumerate(messages):
        role = message["role"]
        if message.get("tool_calls") and role != "assistant":
            raise InvalidField(f"messages.{i}.tool_calls", f"Message {i} is a {role!r} message with tool_calls; "
                               "only the assistant calls tools. Send the assistant's message back as it came.")
        if role != "tool":  # a tool message answers the calls of the assistant message just before
            open_calls = {call["id"] for call in message.get("tool_calls") or [] if "id" in call}
            continue
        if message.get("content") is None:
            raise InvalidField(f"messages.{i}.content", f"Message {i} (role 'tool') has no content. Put the "
                               "tool's result there as a string, e.g. the JSON text run_tool_call returns.")
        if not ids:
            continue
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise InvalidField(f"messages.{i}.tool_call_id", f"Message {i} (role 'tool') needs tool_call_id: "
                               "the id of the call it answers (tool_calls[k].id in the model's answer).")
        if call_id not in open_calls:
            raise InvalidField(f"messages.{i}.tool_call_id", f"Message {i} answers call {call_id!r}, but no "
                               "assistant message before it made that call. Append the model's answer (the "
                               "assistant message with its tool_calls) to the messages, then one tool message "
                               "per call.")


def begin_for(choice: Any, tools: list[dict[str, Any]] | None) -> str:
    """Text the answer must start with for `tool_choice` (none for "auto"); InvalidField if it asks the impossible."""
    if choice in (None, "auto", "none"):
        return ""
    names = tool_names(tools)
    if not names:
        raise InvalidField("tool_choice", f"tool_choice {choice!r} needs tools to call: send `tools`, "
                                          "or leave tool_choice out.")
    if choice == "required":
        return CALL_START
    name = choice["function"]["name"]
    if name not in names:
        raise InvalidField("tool_choice.function.name", f"tool_choice names {name!r}, which is not among the "
                                                        f"tools offered ({', '.join(names)}).")
    # Ends with the name, before its closing quote: a call's JSON after the name is one token in the
    # tool-calling adapter's tokenizer (tool_adapter.JSON_PIECES), and a forced opening must end where
    # the trained call's tokens do, or the model goes on from tokens it never saw together.
    return f'{CALL_START}[{{"name": {json.dumps(name)[:-1]}'


def read_calls(call_text: str | None, tools: list[dict[str, Any]] | None) -> list[ToolCall] | None:
    """The calls a finished answer makes, or None when it makes none (or none that reads)."""
    if call_text is None:
        return None
    return parse_calls(call_text, tool_names(tools))


def openai_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    """Calls in the OpenAI shape, each with a fresh id (`index` is added when streaming)."""
    return [{"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
             "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)}}
            for call in calls]


def ollama_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    """Calls in Ollama's shape: the arguments as an object."""
    return [{"function": {"name": call.name, "arguments": call.arguments}} for call in calls]


def openai_message(text: str, call: str | None, finish: str,
                   tools: list[dict[str, Any]] | None) -> tuple[dict[str, Any], str]:
    """A finished answer as the OpenAI API's assistant message, and its finish_reason.

    `call` is the answer as written when it began as a tool call (ChatResult.call): calls that
    read become `tool_calls` (content None, finish_reason "tool_calls"); one that does not is the text.
    """
    calls = read_calls(call, tools)
    if calls:
        return {"role": "assistant", "content": None, "tool_calls": openai_calls(calls)}, "tool_calls"
    return {"role": "assistant", "content": text if call is None else call}, finish


def openai_deltas(call: str | None, finish: str, tools: list[dict[str, Any]] | None,
                  opened: bool = True) -> tuple[list[dict], str]:
    """The last deltas of a streamed answer held back as a call, and its finish_reason.

    As OpenAI streams a call: a delta with its index, id, type and name (arguments empty), then one
    with its arguments. A call that does not read is sent as one content delta. When the stream has
    not `opened` yet (no delta named the role), the first of them does (`opening`).
    """
    calls = read_calls(call, tools)
    if not calls:
        deltas, finish = ([{"content": call}] if call is not None else []), finish
    else:
        deltas, finish = [], "tool_calls"
        for index, made in enumerate(openai_calls(calls)):
            arguments = made["function"]["arguments"]
            deltas.append({"tool_calls": [{"index": index, **made,
                                           "function": {**made["function"], "arguments": ""}}]})
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]})
    if not opened:
        deltas = [opening(deltas[0] if deltas else {}), *deltas[1:]]
    return deltas, finish


def opening(delta: dict[str, Any]) -> dict[str, Any]:
    """A stream's first delta, which names the role. As OpenAI sends it: with the content ("" for a text
    answer that has not begun), or, when the answer is a call, content null beside the call."""
    if "tool_calls" in delta:
        return {"role": "assistant", "content": None, **delta}
    return {"role": "assistant", "content": "", **delta}


def ollama_message(text: str, call: str | None, tools: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A finished answer as Ollama's assistant message: calls in `tool_calls` (content empty), else the text."""
    calls = read_calls(call, tools)
    if calls:
        return {"role": "assistant", "content": "", "tool_calls": ollama_calls(calls)}
    return {"role": "assistant", "content": text if call is None else call}
