"""Solutions to the exercises of lessons/05_nvidia_nim.ipynb."""

from __future__ import annotations

import base64

from openai import OpenAI

from phi_course import routes
from phi_course.chat import Conversation

INLINE_BASE64_LIMIT = 180_000  # characters of base64 NVIDIA's inline <img> form accepted


def exercise_1() -> list[str]:
    """Level 1: the ids of the Phi models the nim route lists, sorted."""
    route = routes.resolve("nim", model="phi-3.5-mini")
    client = OpenAI(base_url=route.base_url, api_key=route.api_key, max_retries=routes.MAX_RETRIES)
    return sorted(m.id for m in client.models.list() if "phi" in m.id.lower())


def inline_image_prompt(question: str, image_bytes: bytes, mime: str = "image/png") -> str:
    """Level 2: the original lesson's prompt with the image inlined as an <img> tag."""
    encoded = base64.b64encode(image_bytes).decode()
    if len(encoded) > INLINE_BASE64_LIMIT:
        raise ValueError(
            f"The image is {len(encoded):,} characters of base64, over the {INLINE_BASE64_LIMIT:,} the "
            "inline <img> form accepts. Shrink or recompress the image (below about 135 KB), or upload "
            "it through NVIDIA's assets API and refer to it by id.")
    return f'{question} <img src="data:{mime};base64,{encoded}" />'


FOLLOW_UPS = (
    "What is NVIDIA NIM?",
    "Which port does a self-hosted NIM listen on?",
    "What API does NIM expose?",
)


def exercise_3(questions: tuple[str, ...] = FOLLOW_UPS, max_turns: int | None = None) -> list[int]:
    """Level 3: a conversation over nim; the prompt tokens each turn sent (it grows: history goes along)."""
    chat = Conversation("nim", "phi-3.5-mini", max_tokens=40, max_turns=max_turns)
    sent = []
    for question in questions:
        result = chat.send(question)
        if result.error:
            raise RuntimeError(result.error)
        sent.append(result.prompt_tokens)
    return sent
