"""Solutions to the exercises of lessons/00_setup.ipynb."""

from collections import Counter

import phi_course
from phi_course import routes


def exercise_1(question: str = "How many parameters does Phi-3-mini have?") -> str:
    """Level 1: ask the route of the first request a question; return the answer."""
    route = routes.resolve("nim", model="phi-4-mini")
    reply = route.openai_client().chat.completions.create(
        model=route.model, messages=[{"role": "user", "content": question}], max_tokens=60, temperature=0
    )
    return reply.choices[0].message.content


def exercise_2(question: str = "What is Ollama?") -> tuple[str, str]:
    """Level 2: the same through Ollama's own client; return (model name, answer)."""
    route = routes.resolve("ollama", model="phi-3.5-mini")
    reply = route.ollama_client().chat(
        model=route.model, messages=[{"role": "user", "content": question}], options={"temperature": 0}
    )
    return route.model, reply.message.content


def count_statuses() -> dict[str, int]:
    """Level 3: how many rows of doctor() are live, stand-in, retired or unavailable."""
    return dict(Counter(row.status for row in phi_course.doctor(probe=False)))
