"""Solutions to the exercises of lessons/03_github_models.ipynb."""

from __future__ import annotations

import re
import time

import openai
from openai import OpenAI

from phi_course import routes
from phi_course.compare import compare
from phi_course.tables import Table

CHINESE = re.compile(r"[\u4e00-\u9fff]")
CHINESE_QUESTIONS = (
    "Phi-3.5-mini 支持多长的上下文？",  # How long a context does Phi-3.5-mini support?
    "Phi-3-mini 有多少参数？",  # How many parameters does Phi-3-mini have?
    "SLM 是什么的缩写？",  # What does SLM stand for?
)


def exercise_1(question: str = "What was the GitHub Models endpoint?", route_name: str = "nim") -> tuple[str, float]:
    """Level 1: the seed's streaming code moved to another route; return (answer, seconds to first token)."""
    route = routes.resolve(route_name, model="phi-4-mini")
    client = OpenAI(base_url=route.base_url, api_key=route.api_key, max_retries=routes.MAX_RETRIES)
    started = time.perf_counter()
    first_token_after = None
    pieces = []
    stream = client.chat.completions.create(
        model=route.model, messages=[{"role": "user", "content": question}],
        max_tokens=80, temperature=0, stream=True,
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            first_token_after = first_token_after or time.perf_counter() - started
            pieces.append(chunk.choices[0].delta.content)
    return "".join(pieces), first_token_after


def exercise_2(questions: tuple[str, ...] = CHINESE_QUESTIONS) -> Table:
    """Level 2: Chinese characters per answer, Phi-3-mini against Phi-3.5-mini on Ollama, one row per question."""
    rows = []
    for question in questions:
        models = ["phi-3-mini", "phi-3.5-mini"]
        answers = compare(question, [("ollama", model) for model in models], max_tokens=60)
        row = {"question": question}
        for model, answer in zip(models, answers, strict=True):
            row[model] = len(CHINESE.findall(answer.text))
        rows.append(row)
    return Table(rows, title="Chinese characters in each answer")


def retry_after_seconds(base_url: str, model: str, api_key: str = "any") -> float | None:
    """Level 3: one request without retries; the Retry-After of a 429 in seconds, None on success."""
    client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)
    try:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=1)
    except openai.RateLimitError as error:
        return float(error.response.headers.get("retry-after", "nan"))
    return None
