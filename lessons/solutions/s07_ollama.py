"""Solutions to the exercises of lessons/07_ollama.ipynb.

Each takes `host` and `model` so it can run against any Ollama server; by
default they come from `routes.resolve("ollama")` (your Ollama, or the stand-in).
"""

from __future__ import annotations

import json

import httpx
import ollama

from phi_course import routes
from phi_course.local import modelfile


def _where(host: str | None, model: str | None) -> tuple[str, str]:
    if host and model:
        return host, model
    route = routes.resolve("ollama", model="phi-3.5-mini")
    return host or route.base_url, model or route.model


def exercise_1(host: str | None = None) -> list[tuple[str, str]]:
    """Level 1: (name, parameter size) of every model the server has."""
    host, _ = _where(host, None)
    client = ollama.Client(host=host, timeout=30)
    return [(m.model, m.details.parameter_size) for m in client.list().models]


def stream_generate(prompt: str, host: str | None = None, model: str | None = None,
                    num_predict: int = 40) -> tuple[str, int, float]:
    """Level 2: stream /api/generate; return (text, answer tokens, tokens per second)."""
    host, model = _where(host, model)
    body = {"model": model, "prompt": prompt, "options": {"temperature": 0, "num_predict": num_predict}}
    pieces, final = [], None
    with httpx.stream("POST", f"{host}/api/generate", json=body, timeout=120) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line:
                continue
            part = json.loads(line)
            if "error" in part:
                raise RuntimeError(f"Ollama stopped the stream: {part['error']}")
            pieces.append(part["response"])
            if part["done"]:
                final = part
    if final is None:
        raise RuntimeError("The stream ended without its final line (done: true); the server may have stopped.")
    seconds = final["eval_duration"] / 1e9
    return "".join(pieces), final["eval_count"], final["eval_count"] / seconds if seconds else 0.0


def generate_at_once(prompt: str, host: str | None = None, model: str | None = None,
                     num_predict: int = 40) -> str:
    """The same request with "stream": false, to check the streamed text against."""
    host, model = _where(host, model)
    body = {"model": model, "prompt": prompt, "stream": False,
            "options": {"temperature": 0, "num_predict": num_predict}}
    reply = httpx.post(f"{host}/api/generate", json=body, timeout=120)
    reply.raise_for_status()
    return reply.json()["response"]


def ask_with_modelfile(text: str, question: str, host: str | None = None,
                       model: str | None = None) -> ollama.ChatResponse:
    """Level 3: answer as the model the Modelfile describes would (checked before any request).

    `model` is the name the server knows the Modelfile's base model by (on the
    stand-in, an embedded model rather than the FROM line's phi3.5).
    """
    spec = modelfile.parse(text)  # raises ModelfileError before anything is sent
    host, model = _where(host, model)
    client = ollama.Client(host=host, timeout=120)
    return client.chat(model=model, messages=spec.chat_messages([{"role": "user", "content": question}]),
                       options=spec.options())
