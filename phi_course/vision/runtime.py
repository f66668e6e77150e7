"""Ask tiny-phi35-vision about pictures, in process, with transformers.

Introduced in lessons/09_phi_vision.ipynb.

`load()` gives the model and its processor (cached per process). `ask()`
answers one question about some pictures; `chat_stream()` takes OpenAI-style
messages, whose image parts are base64 data URLs, and streams the answer
through the course's one generation loop (phi_course.local.generation), so the
stand-in and a notebook get the same tokens.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from phi_course.vision import NAME, STANDS_IN_FOR
from phi_course.vision.images import STANDIN, ImageError, Limits, check_count, from_data_url

__all__ = ["VISION_MODELS", "WithPictures", "ask", "chat", "chat_stream", "inputs", "is_available", "load",
           "load_from", "model_path", "prepare", "split_images"]

VISION_MODELS = {NAME: STANDS_IN_FOR}  # name -> the Phi model it stands in for


def model_path(name: str = NAME) -> Path:
    """The folder of an embedded vision model (honours PHI_COURSE_MODELS_DIR)."""
    from phi_course.local import embedded

    if name not in VISION_MODELS:
        raise KeyError(f"No embedded vision model called {name!r}. Known: {', '.join(VISION_MODELS)}")
    path = embedded.models_dir() / name
    if not embedded.on_disk(name):
        raise FileNotFoundError(
            f"The embedded vision model {name!r} is missing from {path}. Train it with "
            "`python -m phi_course.vision train` (about ten minutes on one CPU core).")
    return path


def is_available(name: str = NAME) -> bool:
    try:
        model_path(name)
    except (KeyError, FileNotFoundError):
        return False
    return True


@functools.cache
def load(name: str = NAME):
    """(model, processor) for an embedded vision model, loaded once per process, float32, eval mode."""
    return load_from(model_path(name))


def load_from(path: Path | None = None):
    """(model, processor) from a model folder (None: the shipped tiny-phi35-vision), not cached."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    path = model_path(NAME) if path is None else Path(path)
    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path, dtype="float32")
    model.eval()
    return model, processor


def split_images(messages: Sequence[dict[str, Any]], limits: Limits = STANDIN) -> tuple[list[dict], list]:
    """OpenAI-style messages -> (messages with `{"type": "image"}` placeholders, the decoded pictures).

    Image parts are `{"type": "image_url", "image_url": {"url": "data:image/...;base64,..."}}`
    (what the OpenAI SDK and azure-ai-inference's ImageContentItem send); a message may carry
    several. Ollama-style `"images": [base64, ...]` on a message is read too. Raises ImageError
    (a ValueError) with the reason when a picture is unreadable or over `limits`.
    """
    out, pictures = [], []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise ValueError(f"Message {i} must be a dict with a 'role' and a 'content'; got {message!r}.")
        content = message.get("content")
        parts: list[dict] = []
        for raw in message.get("images") or []:  # Ollama puts bare base64 here
            text = raw if str(raw).startswith("data:") else f"data:image/png;base64,{raw}"
            pictures.append(_decode(text, limits, i))
            parts.append({"type": "image"})
        if isinstance(content, str) or content is None:
            parts.append({"type": "text", "text": content or ""})
        elif isinstance(content, list):
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text":
                    parts.append({"type": "text", "text": part.get("text", "")})
                elif kind == "image_url":
                    url = part.get("image_url")
                    url = url.get("url") if isinstance(url, dict) else url
                    pictures.append(_decode(url, limits, i))
                    parts.append({"type": "image"})
                elif kind == "image" and part.get("image") is not None:  # transformers' own form
                    pictures.append(part["image"])
                    parts.append({"type": "image"})
                else:
                    raise ValueError(f"Message {i} has a part of type {kind!r}; send 'text' and "
                                     "'image_url' parts.")
        else:
            raise ValueError(f"Message {i} content must be a string or a list of parts; got {content!r}.")
        out.append({"role": message["role"], "content": parts})
    check_count(len(pictures), limits)
    return out, pictures


def _decode(url, limits: Limits, index: int):
    try:
        return from_data_url(url, limits)
    except ImageError as error:
        raise ImageError(f"Message {index}: {error}") from None


def inputs(processor, messages: Sequence[dict[str, Any]], limits: Limits = STANDIN) -> dict:
    """Token ids and pixel values for OpenAI-style `messages`, ready for the model."""
    templated, pictures = split_images(messages, limits)
    text = processor.apply_chat_template(templated, add_generation_prompt=True, tokenize=False)
    return dict(processor(images=pictures or None, text=text, return_tensors="pt"))


class WithPictures:
    """The model with this request's pixels bound to its first forward pass.

    phi_course.local.generation's loop calls `model(input_ids=..., past_key_values=...)` once per token;
    the first call reads the whole prompt, so that is where the pictures go. Later calls reuse the
    cache, which already holds what the pictures contributed.
    """

    def __init__(self, model, pixel_values):
        self.model = model
        self._pixels = pixel_values

    def __call__(self, **kwargs):
        if self._pixels is not None:
            kwargs["pixel_values"], self._pixels = self._pixels, None
        return self.model(**kwargs)

    def __getattr__(self, name):  # config, generation_config, name_or_path...
        return getattr(self.model, name)


def prepare(model, processor, messages: Sequence[dict[str, Any]], limits: Limits = STANDIN):
    """(model with pictures, tokenizer, prompt ids) for phi_course.local.generation.generate_stream."""
    encoded = inputs(processor, messages, limits)
    return (WithPictures(model, encoded.get("pixel_values")), processor.tokenizer,
            encoded["input_ids"][0].tolist())


def chat_stream(model, processor, messages: Sequence[dict[str, Any]], **options):
    """Stream the answer to OpenAI-style messages (options as in phi_course.local.generation.chat_stream)."""
    from phi_course.local import generation

    bound, tokenizer, prompt_ids = prepare(model, processor, messages)
    return generation.generate_stream(bound, tokenizer, prompt_ids, **options)


def chat(model, processor, messages: Sequence[dict[str, Any]], **options):
    """The whole answer (a phi_course.local.generation.ChatResult) to OpenAI-style messages."""
    stream = chat_stream(model, processor, messages, **options)
    for _ in stream:
        pass
    return stream.result


def ask(images, question: str, name: str = NAME, max_new_tokens: int = 48) -> str:
    """The embedded model's answer to `question` about one picture or a list of them (PIL images)."""
    pictures = list(images) if isinstance(images, (list, tuple)) else [images]
    model, processor = load(name)
    message = {"role": "user", "content": [{"type": "image", "image": p} for p in pictures]
               + [{"type": "text", "text": question}]}
    return chat(model, processor, [message], max_new_tokens=max_new_tokens).text.strip()
