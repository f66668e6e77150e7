"""The models behind the stand-in: which it lists, how each loads (text or vision), and pictures in requests.

Introduced in lessons/09_phi_vision.ipynb.

The engine asks this module three things: is a model name a vision model,
how to load it, and how to turn a request into model input. An image arrives
the way GitHub Models, Azure AI Foundry and NIM take it: an `image_url`
content part holding a base64 data URL (azure-ai-inference's ImageContentItem
sends the same), several per message if you like. A picture that cannot be
read, or breaks the stand-in's limits (phi_course.vision.images.STANDIN),
fails the request with HTTP 400 and a message that says what to do; the
count and every picture's header are checked before any picture is decoded.
Ollama's form, bare base64 in a message's `images`, becomes image_url parts
here, so both APIs reach the model the same way.
Nothing heavy is imported until a vision request arrives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from phi_course.local import embedded
from phi_course.vision import NAME

__all__ = ["VISION_MODELS", "image_urls", "listed", "load", "model_path", "prepare", "serves", "with_parts"]

VISION_MODELS = (NAME,)


def serves(name: str | None) -> bool:
    """True for an embedded vision model whose files are present."""
    return name in VISION_MODELS and embedded.on_disk(name)


def listed() -> list[str]:
    """Every model the stand-in answers for, text then vision, as the model lists show them."""
    return [name for name in (*embedded.EMBEDDED, *VISION_MODELS) if embedded.on_disk(name)]


def with_parts(message: dict[str, Any]) -> dict[str, Any]:
    """An Ollama-style message (`"images": [base64, ...]`) as OpenAI-style content parts; others unchanged."""
    if not message.get("images"):
        return message
    content = message.get("content")
    texts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
    pictures = [{"type": "image_url", "image_url": {"url": raw if str(raw).startswith("data:")
                                                   else f"data:;base64,{raw}"}} for raw in message["images"]]
    return {**{k: v for k, v in message.items() if k != "images"}, "content": pictures + texts}


def image_urls(messages: list[dict[str, Any]]) -> list[Any]:
    """The url of every image_url part, in order."""
    parts = [part for m in messages if isinstance(m.get("content"), list) for part in m["content"]]
    urls = [part.get("image_url") for part in parts if isinstance(part, dict) and part.get("type") == "image_url"]
    return [url.get("url") if isinstance(url, dict) else url for url in urls]


def model_path(name: str) -> Path:
    """The folder of any model the stand-in serves, text or vision."""
    if name in VISION_MODELS:
        from phi_course.vision.runtime import model_path as vision_path

        return vision_path(name)
    return embedded.model_path(name)


def load(name: str, tools: bool = False):
    """(model, tokenizer) for a text model, with its tool-calling adapter if `tools`; (model, processor) for a
    vision model. Cached per process."""
    if name in VISION_MODELS:
        from phi_course.vision.runtime import load as load_vision

        return load_vision(name)
    return embedded.load_with_tools(name) if tools else embedded.load(name)


def prepare(model, processor, job) -> tuple[Any, Any, list[int]]:
    """(model with the request's pictures bound, tokenizer, prompt ids) for generation.generate_stream.

    Raises phi_course.vision.images.ImageError (a ValueError: HTTP 400) for a bad picture.
    """
    from phi_course.vision.images import check_data_urls
    from phi_course.vision.runtime import prepare as prepare_vision

    if job.messages is None:  # a raw prompt (Ollama's /api/generate with raw=true): no pictures
        ids = processor.tokenizer(job.prompt or "", add_special_tokens=False)["input_ids"]
        return model, processor.tokenizer, ids
    messages = [with_parts(message) for message in job.messages]
    check_data_urls(image_urls(messages))  # how many, and how big each says it is: before decoding any
    return prepare_vision(model, processor, messages)
