"""Solutions to the exercises of lessons/09_phi_vision.ipynb."""

from __future__ import annotations

import base64
import io

from openai import OpenAI

from phi_course import routes
from phi_course.vision import images, tasks


def data_url_by_hand(image) -> str:
    """Level 1: a PNG data URL made with io and base64 only."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def fit_for(image, limits: images.Limits, smallest: int = 16) -> str:
    """Level 2: a data URL within `limits`, halving the picture until it fits (aspect ratio kept)."""
    picture = image.copy()
    while True:
        try:
            return images.to_data_url(picture, limits=limits)
        except images.ImageError:
            if max(picture.size) <= smallest:
                raise
            width, height = picture.size
            picture = picture.resize((max(1, width // 2), max(1, height // 2)))


def quiz(task: str, seeds, lang: str = "en", route_name: str = "nim") -> float:
    """Level 3: the share of exactly right answers the route gives on fresh pictures, one per seed."""
    route = routes.resolve(route_name, model="phi-3.5-vision")
    client = OpenAI(base_url=route.base_url, api_key=route.api_key, max_retries=routes.MAX_RETRIES)
    right = 0
    seeds = list(seeds)
    for seed in seeds:
        sample = tasks.make(task, seed, lang)
        content = [images.image_part(p) for p in sample.images] + [{"type": "text", "text": sample.question}]
        reply = client.chat.completions.create(model=route.model, messages=[{"role": "user", "content": content}],
                                               max_tokens=60, temperature=0)
        right += (reply.choices[0].message.content or "").strip() == sample.answer
    return right / len(seeds)
