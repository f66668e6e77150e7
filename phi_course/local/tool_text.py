"""A tool call as a model writes it in the course's layout, and reading the calls back out of an answer.

Introduced in lessons/13_make_it_yours.ipynb (tool calls).

Offered tools (the OpenAI `tools` list), a model trained for it answers a question a
tool can answer with `<|tool_call|>[{"name": ..., "arguments": {...}}]<|/tool_call|>`
instead of text (phi_course.training.skills has the records; tiny-phi35-mini learned
them in its tool-calling adapter, phi_course.training.tool_adapter). Phi-4-mini's model
card documents only how the tools are offered; servers read its calls in their own ways,
so this layout is the course's choice. Both markers are special tokens in a model trained on them, so only the model
can write them, never text a user pastes in. A server turns that text into the
API's `tool_calls`; this module is the part that reads it, with no torch, so the
HTTP side of the stand-in can use it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

__all__ = ["CALL_END", "CALL_START", "ToolCall", "parse_calls"]

CALL_START, CALL_END = "<|tool_call|>", "<|/tool_call|>"


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for: the tool's name and its arguments (a JSON object, parsed)."""

    name: str
    arguments: dict[str, Any]


def parse_calls(answer: str, known: Collection[str]) -> list[ToolCall] | None:
    """The calls in `answer` (the model's text, special tokens kept), or None if it is not a well-formed call.

    Well formed: the answer starts with CALL_START, then a JSON list of {"name", "arguments"} objects
    (a single object is taken as a list of one), then CALL_END, and nothing after it but space. Every
    name must be one of `known` (the tools offered) and every `arguments` a JSON object. Anything
    else (a call cut off by the token limit, broken JSON, a tool nobody offered) gives None: the
    server then hands the text back as an ordinary answer, as a real service does.
    """
    text = answer.strip()
    if not text.startswith(CALL_START) or CALL_END not in text:
        return None
    inside, _, after = text[len(CALL_START):].partition(CALL_END)
    if after.strip():
        return None
    try:
        value = json.loads(inside)
    except ValueError:
        return None
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        if not isinstance(item, dict):
            return None
        name, arguments = item.get("name"), item.get("arguments", {})
        if isinstance(arguments, str):  # some models write the arguments as a JSON string, as the API sends them
            try:
                arguments = json.loads(arguments)
            except ValueError:
                return None
        if not isinstance(name, str) or name not in known or not isinstance(arguments, dict):
            return None
        calls.append(ToolCall(name, arguments))
    return calls or None
