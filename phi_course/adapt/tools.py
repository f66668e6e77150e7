"""Tools a model can call: the course's own two, described the way the OpenAI tools API wants.

Introduced in lessons/13_make_it_yours.ipynb.

A tool is a plain Python function plus a JSON description (name, what it does, its
parameters as a JSON schema). The request carries the descriptions (`tools=`); a model
trained for it answers with a call instead of text (`tool_calls`: a name and JSON
arguments); your code runs the function and sends the result back as a `tool` message;
the model then answers from it. Phi-4-mini is documented for function calling
(catalog.FUNCTION_CALLING) and calls any tool from its description; offline,
tiny-phi35-mini calls these two through a LoRA adapter trained on them
(phi_course/training/tool_adapter.py), which the stand-in loads for requests that offer tools.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from phi_course import catalog, route_table

__all__ = ["MODEL_CARD", "ROUTE_STATUS", "TOOLS", "TOOL_FUNCTIONS", "model_card", "route_status", "run_tool_call"]


def _model_key(name: str) -> str:
    wanted = name.strip().lower().replace(" ", "-")
    for key, model in catalog.FAMILY.items():
        if wanted in (key, model.name.lower()):
            return key
    known = ", ".join(m.name for m in catalog.FAMILY.values())
    raise ValueError(f"No Phi model called {name!r} in the course catalog. Known: {known}.")


def model_card(model: str) -> dict[str, str]:
    """The catalog's figures for one Phi model (by name, e.g. "Phi-4-mini"), as short strings."""
    m = catalog.FAMILY[_model_key(model)]
    card = {"model": m.name, "parameters": f"{m.params_b:g}B"}
    if m.active_params_b != m.params_b:
        card["active_parameters"] = f"{m.active_params_b:g}B"
    card.update(context=" / ".join(m.context), languages=m.languages, released=m.released)
    return card


def route_status(route: str) -> dict[str, str]:
    """Whether a route (github, azure, nim, ollama, huggingface, onnx, custom) works today, per the route table."""
    name = route.strip().lower()
    if name not in route_table.ROUTES:
        raise ValueError(f"No route called {route!r}. Known: {', '.join(route_table.ROUTES)}.")
    facts = route_table.ROUTES[name]
    status = {"route": facts.label.split(" (")[0], "state": facts.status.state}
    if facts.status.since:
        status["since"] = facts.status.since
    if facts.status.successor:
        status["successor"] = route_table.ROUTES[facts.status.successor].label.split(" (")[0]
    status["checked"] = facts.status.checked
    return status


MODEL_CARD = {"type": "function", "function": {
    "name": "model_card",
    "description": "Look up a Phi model in the course catalog: parameters, context length, languages, release month.",
    "parameters": {"type": "object", "properties": {
        "model": {"type": "string", "description": "the model's name, e.g. Phi-4-mini"}},
        "required": ["model"]}}}
ROUTE_STATUS = {"type": "function", "function": {
    "name": "route_status",
    "description": "Check whether a route to Phi models still works today, and since when.",
    "parameters": {"type": "object", "properties": {
        "route": {"type": "string", "enum": list(route_table.ROUTES), "description": "the route's short name"}},
        "required": ["route"]}}}
TOOLS = [MODEL_CARD, ROUTE_STATUS]
TOOL_FUNCTIONS: dict[str, Callable[..., Any]] = {"model_card": model_card, "route_status": route_status}


def run_tool_call(name: str, arguments: str | dict) -> str:
    """Run one call the model asked for; the result (or what went wrong) as JSON text for a `tool` message.

    A model can name a tool that does not exist or pass bad arguments: the error goes back to
    it as the tool's result, as the services recommend, rather than stopping your program.
    """
    try:
        args = json.loads(arguments) if isinstance(arguments, str) else dict(arguments)
        function = TOOL_FUNCTIONS.get(name)
        if function is None:
            raise ValueError(f"No tool called {name!r}. Known: {', '.join(TOOL_FUNCTIONS)}.")
        result = function(**args)
    except (ValueError, TypeError) as error:  # json.JSONDecodeError is a ValueError
        result = {"error": str(error)}
    return json.dumps(result, ensure_ascii=False)
