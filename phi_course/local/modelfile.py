"""Read and check an Ollama Modelfile before `ollama create` sees it.

Introduced in lessons/07_ollama.ipynb.

A Modelfile is Ollama's recipe for a custom model: a base model (`FROM`), a
system prompt (`SYSTEM`), sampling settings (`PARAMETER name value`) and a few
more instructions. `ollama create NAME -f Modelfile` turns it into a model you
can `ollama run`. This module reads the same format, checks every line the way
the documentation describes it (https://docs.ollama.com/modelfile), and turns
the result into what a request needs, so that a Modelfile can be tried against
a server that cannot create models (the course stand-in) and its mistakes show
up with a line number before anything runs.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phi_course import i18n, route_table  # i18n._(): `_` is this module's throwaway name

__all__ = ["FAMILIAR_NAMES", "INSTRUCTIONS", "MESSAGE_ROLES", "Modelfile", "ModelfileError", "PARAMETER_TYPES",
           "parse", "read"]

INSTRUCTIONS = ("FROM", "PARAMETER", "TEMPLATE", "SYSTEM", "ADAPTER", "LICENSE", "MESSAGE", "REQUIRES")

# Documented PARAMETER names and the type of their value.
PARAMETER_TYPES: dict[str, type] = {
    "num_ctx": int,
    "repeat_last_n": int,
    "repeat_penalty": float,
    "temperature": float,
    "seed": int,
    "stop": str,  # may be given several times
    "num_predict": int,
    "draft_num_predict": int,
    "top_k": int,
    "top_p": float,
    "min_p": float,
    # Runner options Ollama also accepts in a Modelfile, though its table leaves them out.
    "num_keep": int,
    "typical_p": float,
    "presence_penalty": float,
    "frequency_penalty": float,
    "num_batch": int,
    "num_gpu": int,
    "main_gpu": int,
    "num_thread": int,
    "use_mmap": bool,
}

# Names people bring from other APIs, and Ollama's name for the same thing.
FAMILIAR_NAMES = {
    "max_tokens": "num_predict",
    "max_new_tokens": "num_predict",
    "repetition_penalty": "repeat_penalty",
    "context_length": "num_ctx",
    "context_window": "num_ctx",
    "stop_sequences": "stop",
}
MESSAGE_ROLES = ("system", "user", "assistant")
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class ModelfileError(ValueError):
    """A Modelfile line Ollama would refuse; `line` is its 1-based number (None: the whole file)."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        super().__init__(i18n._("Modelfile line {line}: {message}").format(line=line, message=message) if line
                         else f"Modelfile: {message}")


@dataclass
class Modelfile:
    """The instructions of one Modelfile, checked and typed."""

    base: str  # FROM: a model name from Ollama's library, a GGUF file or a safetensors folder
    system: str | None = None
    template: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # "stop" maps to a list
    messages: list[dict[str, str]] = field(default_factory=list)  # MESSAGE history, in order
    adapters: list[str] = field(default_factory=list)
    license: list[str] = field(default_factory=list)
    requires: str | None = None

    def options(self) -> dict[str, Any]:
        """The PARAMETER lines as the `options` of an Ollama request (a copy)."""
        return {name: list(value) if isinstance(value, list) else value
                for name, value in self.parameters.items()}

    def chat_messages(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        """`messages` with what a created model would add in front: SYSTEM, then MESSAGE history.

        This is how a server that cannot run `ollama create` can still answer as the
        created model would.
        """
        front = [{"role": "system", "content": self.system}] if self.system else []
        return front + [dict(m) for m in self.messages] + [dict(m) for m in messages]

    def create_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `ollama.Client.create(model=NAME, **kwargs)` (ollama >= 0.4)."""
        kwargs: dict[str, Any] = {"from_": self.base}
        if self.system is not None:
            kwargs["system"] = self.system
        if self.template is not None:
            kwargs["template"] = self.template
        if self.parameters:
            kwargs["parameters"] = self.options()
        if self.messages:
            kwargs["messages"] = [dict(m) for m in self.messages]
        if self.license:
            kwargs["license"] = list(self.license)
        if self.adapters:
            raise ModelfileError(i18n._("ADAPTER files must be uploaded to the server first; use "
                                    "`ollama create NAME -f Modelfile` for a Modelfile with adapters."))
        return kwargs


def read(path: str | Path) -> Modelfile:
    """Parse the Modelfile at `path`."""
    return parse(Path(path).read_text(encoding="utf-8"))


def parse(text: str) -> Modelfile:
    """Parse Modelfile text; raise ModelfileError naming the first line Ollama would refuse."""
    base: str | None = None
    found: dict[str, Any] = {"parameters": {}, "messages": [], "adapters": [], "license": []}
    for number, instruction, args in _instructions(text):
        keyword = instruction.upper()
        if keyword not in INSTRUCTIONS:
            raise ModelfileError(_unknown_instruction(instruction), number)
        if not args and keyword not in ("SYSTEM", "TEMPLATE", "LICENSE"):
            raise ModelfileError(i18n._("{keyword} needs an argument.").format(keyword=keyword), number)
        if keyword == "FROM":
            if base is not None:
                raise ModelfileError(i18n._("a second FROM: this reader supports one base model (Ollama uses "
                                        "several FROM lines only for a GGUF split into parts)."), number)
            base = _unquote(args)
        elif keyword == "PARAMETER":
            name, value = _parameter(args, number)
            if name == "stop":
                found["parameters"].setdefault("stop", []).append(value)
            else:
                found["parameters"][name] = value
        elif keyword == "MESSAGE":
            found["messages"].append(_message(args, number))
        elif keyword == "ADAPTER":
            found["adapters"].append(_unquote(args))
        elif keyword == "LICENSE":
            found["license"].append(_unquote(args))
        else:  # SYSTEM, TEMPLATE, REQUIRES: the last one wins, as in Ollama
            found[keyword.lower()] = _unquote(args)
    if base is None:
        example = route_table.model_id("ollama", "phi-3.5-mini").id
        raise ModelfileError(i18n._("no FROM line. Every Modelfile starts from a base model, e.g. `FROM {example}`.")
                             .format(example=example))
    return Modelfile(base=base, **found)


def _instructions(text: str):
    """(line number, instruction, raw argument) for every instruction; comments skipped.

    An argument that starts with three double quotes runs until they close,
    across lines, as in Ollama.
    """
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        number, stripped = i + 1, lines[i].strip()
        i += 1
        if not stripped or stripped.startswith("#"):
            continue
        instruction, _, args = stripped.partition(" ")
        args = args.strip()
        if '"""' in args:
            before, _, after = args.partition('"""')
            parts = [after]
            while '"""' not in parts[-1]:
                if i >= len(lines):
                    raise ModelfileError(i18n._('text opened with """ is never closed: add """ at its end.'), number)
                parts.append(lines[i])
                i += 1
            inside = "\n".join(parts)
            body, _, rest = inside.partition('"""')
            if rest.strip():
                raise ModelfileError(i18n._('unexpected text after the closing """: {text!r}.').format(text=rest.strip()),
                                     number)
            args = before + '"""' + body + '"""'
        yield number, instruction, args


def _unquote(value: str) -> str:
    """Text without its quotes: \"\"\"...\"\"\" keeps inner newlines, "..." reads \\" and \\\\."""
    value = value.strip()
    if len(value) >= 6 and value.startswith('"""') and value.endswith('"""'):
        return value[3:-3].strip("\n")
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return re.sub(r'\\(["\\])', r"\1", value[1:-1])
    return value


def _parameter(args: str, number: int) -> tuple[str, Any]:
    name, _, raw = args.partition(" ")
    raw = _unquote(raw)
    key = name.lower()
    if key not in PARAMETER_TYPES:
        raise ModelfileError(_unknown_parameter(name), number)
    if raw == "":
        raise ModelfileError(i18n._("PARAMETER {key} needs a value, e.g. `PARAMETER {key} {example}`.").format(
            key=key, example=_example(key)), number)
    kind = PARAMETER_TYPES[key]
    try:
        if kind is bool:
            if raw.lower() not in _TRUE | _FALSE:
                raise ValueError(raw)
            return key, raw.lower() in _TRUE
        return key, kind(raw)
    except ValueError:
        what = {int: i18n._("a whole number"), float: i18n._("a number"), bool: i18n._("true or false")}[kind]
        raise ModelfileError(i18n._("PARAMETER {key} needs {what}, got {raw!r}, e.g. `PARAMETER {key} {example}`.")
                             .format(key=key, what=what, raw=raw, example=_example(key)), number) from None


def _message(args: str, number: int) -> dict[str, str]:
    role, _, content = args.partition(" ")
    if role.lower() not in MESSAGE_ROLES:
        raise ModelfileError(i18n._("MESSAGE role must be one of {roles}; got {role!r}.").format(
            roles=", ".join(MESSAGE_ROLES), role=role), number)
    return {"role": role.lower(), "content": _unquote(content)}


def _example(name: str) -> str:
    return {int: "42", float: "0.7", bool: "true", str: '"<|end|>"'}[PARAMETER_TYPES[name]]


def _unknown_instruction(word: str) -> str:
    close = difflib.get_close_matches(word.upper(), INSTRUCTIONS, n=1)
    hint = i18n._(" Did you mean {word}?").format(word=close[0]) if close else ""
    return i18n._("unknown instruction {word!r}.{hint} Instructions are: {known}.").format(
        word=word, hint=hint, known=", ".join(INSTRUCTIONS))


def _unknown_parameter(name: str) -> str:
    key = name.lower()
    suggestion = FAMILIAR_NAMES.get(key) or next(iter(difflib.get_close_matches(key, PARAMETER_TYPES, n=1)), None)
    hint = i18n._(" Ollama calls it {name}.").format(name=suggestion) if suggestion else ""
    return i18n._("unknown parameter {name!r}.{hint} Known: {known}.").format(
        name=name, hint=hint, known=", ".join(PARAMETER_TYPES))
