"""Answers that follow a JSON schema: ask for it, validate it, retry with the error, fall back.

Introduced in lessons/13_make_it_yours.ipynb.

A schema is a pydantic model. Routes that can constrain decoding to a schema take
it as `response_format` (or their own field); the rest get the schema in the
prompt. Either way the answer is validated here, because a small model, or a
route that ignores the field, can still return prose, broken JSON or a wrong type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from phi_course.i18n import N_, _
from phi_course.tables import Table

__all__ = ["SCHEMA_SUPPORT", "SUPPORT_CHECKED", "Attempt", "Structured", "ask_structured", "find_json", "number_in", "parse",
           "response_format", "schema_prompt", "support_table"]

# How each route takes a schema (a service can change this: read its docs).
SUPPORT_CHECKED = "2026-12-01"
SCHEMA_SUPPORT = {
    "ollama": N_("response_format with a json_schema: Ollama 0.5 and later constrain decoding to it"),
    "nim": N_("NIM's own extension, extra_body={'nvext': {'guided_json': schema}}, constrains decoding; "
              "NVIDIA recommends it over response_format's json_object"),
    "azure": N_("depends on the model deployment: check its model card; validate the answer either way"),
    "custom": N_("depends on the server: vLLM, for one, takes response_format with a json_schema"),
    "stand-in": N_("the course stand-in accepts response_format and ignores it: the tiny model writes what it "
                   "writes"),
}


def support_table() -> Table:
    """SCHEMA_SUPPORT as a table, in the course language."""
    return Table([{N_("route"): name, N_("how it takes a schema"): _(how)} for name, how in SCHEMA_SUPPORT.items()],
                 _("How each route takes a JSON schema (checked {date})").format(date=SUPPORT_CHECKED))

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_NUMBER = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?")  # not part of a name such as Phi-3.5


def response_format(schema) -> dict[str, Any]:
    """The OpenAI `response_format` that asks for JSON following the pydantic model `schema`."""
    return {"type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": True}}


def schema_prompt(schema) -> str:
    """A system message that asks for JSON only, following `schema`: for routes that cannot constrain decoding."""
    return ("Answer with one JSON object and nothing else. It must follow this JSON schema:\n"
            + json.dumps(schema.model_json_schema(), ensure_ascii=False))


def find_json(text: str) -> str | None:
    """The JSON object in an answer: inside a ```json fence, or from the first "{" to its matching "}"."""
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start = text.find("{")
    if start < 0:
        return None
    depth, in_string, escaped = 0, False, False
    for i, ch in enumerate(text[start:], start):
        if in_string:
            escaped = not escaped and ch == "\\"
            if ch == '"' and not escaped:
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return None


def parse(text: str, schema):
    """(value, None) when `text` holds JSON that fits `schema`, else (None, what is wrong, in one line)."""
    from pydantic import ValidationError

    found = find_json(text or "")
    if found is None:
        return None, _("the answer holds no JSON object")
    try:
        data = json.loads(found)
    except json.JSONDecodeError as error:
        return None, _("the JSON does not parse: {error} at character {pos}").format(error=error.msg, pos=error.pos)
    try:
        return schema.model_validate(data), None
    except ValidationError as error:
        whole = _("the object")  # where an error without a field is
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or whole}: {e['msg']}" for e in error.errors())
        return None, _("the JSON does not fit the schema: {problems}").format(problems=problems)


@dataclass
class Attempt:
    """One answer the model gave and what was wrong with it (None: it fitted)."""

    text: str
    error: str | None


@dataclass
class Structured:
    """The validated value (None when every way failed), how it was got, and every attempt."""

    value: Any
    how: str  # "first answer", "retry 1", ..., "fallback" or "failed"
    attempts: list[Attempt] = field(default_factory=list)


def ask_structured(ask: Callable[[list[dict]], str], messages: list[dict], schema, *, retries: int = 1,
                   fallback: Callable[[], Any] | None = None) -> Structured:
    """Ask until the answer fits `schema`: the first answer, then `retries` more with the error shown to the model.

    `ask(messages)` sends the messages on any route and returns the answer's text.
    When no answer fits, `fallback()` (if given) builds the value another way, for
    instance from plain answers to one simple question per field; it is validated too.
    When that fails as well (a ValueError), the result says so: value None, how "failed".
    """
    if retries < 0:
        raise ValueError(f"retries must be 0 or more; got {retries}.")
    messages = [{"role": "system", "content": schema_prompt(schema)}, *messages]
    attempts: list[Attempt] = []
    for round_ in range(retries + 1):
        text = ask(messages)
        value, error = parse(text, schema)
        attempts.append(Attempt(text, error))
        if error is None:
            return Structured(value, "first answer" if round_ == 0 else f"retry {round_}", attempts)
        # Show the model its own answer and what was wrong: large models usually fix it; small ones may not.
        messages = [*messages, {"role": "assistant", "content": text},
                    {"role": "user", "content": f"That is not valid: {error}. Answer again with only the JSON."}]
    if fallback is not None:
        try:
            return Structured(schema.model_validate(fallback()), "fallback", attempts)
        except ValueError as error:  # pydantic's ValidationError is one too
            attempts.append(Attempt("(fallback)", f"the fallback failed too: {error}"))
    return Structured(None, "failed", attempts)


def number_in(text: str) -> float:
    """The first number in a plain answer ("Phi-3-mini has 3.8B parameters." -> 3.8), for fallbacks.

    Numbers glued to a word ("Phi-3.5", "v2") are skipped: they are part of a name.
    """
    match = _NUMBER.search(text)
    if match:
        return float(match.group())
    raise ValueError(f"No number in {text!r}: ask a question whose answer is a number.")
