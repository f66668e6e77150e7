"""Asking a route: stream one answer, time it, and keep a conversation.

Introduced in lessons/03_github_models.ipynb (streaming and timing) and
lessons/05_nvidia_nim.ipynb (conversations).

`stream_answer(route, messages)` sends one request with the official OpenAI SDK
(`stream=True`, usage in the last chunk) and returns an `Answer`: the text and
how fast it came. `Answer` is the course's one timing record: the side-by-side
comparison (phi_course.compare), the route timings of lesson 12
(phi_course.concepts.route_choice) and the chat box all fill it in.
`Conversation` keeps the messages of one chat and sends them along each time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from phi_course import routes
from phi_course.i18n import _

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_MAX_TURNS", "Answer", "Conversation", "api_message", "decode_rate", "stream_answer",
           "stream_into"]

DEFAULT_MAX_TOKENS = 200
# Small models read short contexts (the embedded ones a few hundred tokens), so a conversation
# sends only its latest turns; the whole history stays in `Conversation.history`.
DEFAULT_MAX_TURNS = 4


def decode_rate(tokens: int | None, first_token_seconds: float | None, total_seconds: float) -> float | None:
    """Tokens per second after the first token, or None when it cannot be measured.

    The first token also pays for reading the prompt, so it is left out: what is
    left is the decoding speed, the figure that grows with the answer's length.
    """
    if first_token_seconds is None or not tokens or tokens < 2:
        return None
    decoding = total_seconds - first_token_seconds
    return (tokens - 1) / decoding if decoding > 0 else None


@dataclass
class Answer:
    """One answer from one route, and how fast it came."""

    route: str  # the route's name, e.g. "nim"
    model: str  # the model id the service (or stand-in) was asked for
    live: bool = False  # False: the course stand-in or an embedded model answered
    notice: str = ""  # what answered, and what to set for the real service
    label: str = ""  # a column title, e.g. "ollama · phi-3-mini"
    prompt: str = ""
    client: str = "openai"  # the library that made the call
    text: str = ""
    finish_reason: str | None = None
    first_token_seconds: float | None = None  # request sent -> first piece of text
    total_seconds: float = 0.0
    prompt_tokens: int | None = None  # from the usage chunk; None if the service sent none
    completion_tokens: int | None = None  # the end-of-answer token included, as the APIs count it
    chunks: int = 0  # text chunks received: close to tokens when usage is missing
    error: str | None = None

    def __post_init__(self) -> None:
        self.label = self.label or f"{self.route} · {self.model}"

    @property
    def tokens_per_second(self) -> float | None:
        """Decoding speed after the first token (None for a failed or one-token answer)."""
        if self.error:
            return None
        tokens = self.completion_tokens if self.completion_tokens is not None else self.chunks
        return decode_rate(tokens, self.first_token_seconds, self.total_seconds)


def stream_answer(
    route: routes.Route,
    messages: list[dict],
    *,
    label: str = "",
    max_tokens: int = DEFAULT_MAX_TOKENS,
    temperature: float = 0.0,
    on_piece: Callable[[str], None] | None = None,
    client=None,
) -> Answer:
    """Stream one answer from `route` with the OpenAI SDK and time it.

    `on_piece` is called with each piece of text as it arrives. A service error
    (a 429 after the SDK's retries, a retired model id) is kept in
    `Answer.error` rather than raised, so one failing column does not stop the others.
    """
    import openai

    prompt = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    answer = Answer(route.name, route.model, route.live, route.notice, label,
                    prompt if isinstance(prompt, str) else "")
    try:
        stream_into(answer, client or route.openai_client(), messages, max_tokens=max_tokens,
                    temperature=temperature, on_piece=on_piece)
    except openai.APIStatusError as error:
        answer.error = _("HTTP {status} from {label}: {message}").format(status=error.status_code, label=answer.label,
                                                                           message=api_message(error))
    except openai.APIConnectionError as error:
        answer.error = _("Could not reach {url} for {label} ({error}). Check the URL and that the server is "
                         "running.").format(url=route.openai_base_url, label=answer.label, error=type(error).__name__)
    return answer


def stream_into(answer: Answer, client, messages: list[dict], *, max_tokens: int,
                temperature: float | None = None, on_piece: Callable[[str], None] | None = None) -> Answer:
    """The streaming loop itself: ask `answer.model` through an OpenAI client, fill in `answer`.

    Raises the SDK's errors (stream_answer keeps them in `Answer.error` instead).
    `temperature=None` leaves the server's default.
    """
    started = time.perf_counter()
    pieces: list[str] = []
    sampling = {} if temperature is None else {"temperature": temperature}
    try:
        stream = client.chat.completions.create(
            model=answer.model, messages=messages, max_tokens=max_tokens, stream=True,
            stream_options={"include_usage": True}, **sampling,
        )
        with stream:
            for chunk in stream:
                if chunk.usage is not None:
                    answer.prompt_tokens = chunk.usage.prompt_tokens
                    answer.completion_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices:
                    if choice.finish_reason:
                        answer.finish_reason = choice.finish_reason
                    piece = choice.delta.content if choice.delta else None
                    if not piece:
                        continue
                    if answer.first_token_seconds is None:
                        answer.first_token_seconds = time.perf_counter() - started
                    answer.chunks += 1
                    pieces.append(piece)
                    if on_piece is not None:
                        on_piece(piece)
    finally:
        answer.total_seconds = time.perf_counter() - started
        answer.text = "".join(pieces)
    return answer


def api_message(error) -> str:
    """The server's own words from an SDK error: OpenAI's {"error": {"message"}} or FastAPI's {"detail"}."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(body.get("detail"), str):
            return body["detail"]
    return str(error)


class Conversation:
    """The messages of one chat and the route that answers them.

        chat = Conversation("nim", "phi-3.5-mini", system="Answer in one sentence.")
        chat.send("What is NIM?").text
        chat.send("Which port does it use?").text   # the first turn is sent along

    A chat model remembers nothing between requests: every request carries the
    whole conversation so far (here, its latest `max_turns` turns).
    """

    def __init__(self, route: routes.Route | str = "nim", model: str = routes.DEFAULT_PHI, *,
                 system: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                 temperature: float = 0.0, max_turns: int | None = DEFAULT_MAX_TURNS):
        if max_turns is not None and max_turns < 1:
            raise ValueError(f"max_turns must be at least 1 (or None for all turns); got {max_turns}.")
        self.route = route if isinstance(route, routes.Route) else routes.resolve(route, model)
        self.system = system
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_turns = max_turns
        self.history: list[dict[str, str]] = []  # user and assistant messages, oldest first
        self.answers: list[Answer] = []  # timing and usage of each reply
        self._client = self.route.openai_client()

    @property
    def turns(self) -> int:
        """How many question-and-answer pairs the conversation holds."""
        return sum(m["role"] == "user" for m in self.history)

    def messages(self, question: str | None = None) -> list[dict[str, str]]:
        """What the next request sends: the system prompt, the latest turns, then `question`."""
        kept = self.history
        if self.max_turns is not None:
            kept = kept[-2 * self.max_turns:]
        system = [{"role": "system", "content": self.system}] if self.system else []
        asked = [{"role": "user", "content": question}] if question is not None else []
        return system + kept + asked

    def send(self, question: str, on_piece: Callable[[str], None] | None = None) -> Answer:
        """Ask `question` with the conversation so far; stream the reply into `on_piece`.

        The turn is added to the history only when the reply arrives, so a failed
        request (its message is in `Answer.error`) can simply be sent again.
        """
        if not question.strip():
            raise ValueError("The message is empty: type something to send.")
        answer = stream_answer(self.route, self.messages(question), max_tokens=self.max_tokens,
                               temperature=self.temperature, on_piece=on_piece, client=self._client)
        if answer.error is None:
            self.history += [{"role": "user", "content": question},
                             {"role": "assistant", "content": answer.text}]
        self.answers.append(answer)
        return answer

    def clear(self) -> None:
        """Forget every turn (the system prompt stays)."""
        self.history.clear()
        self.answers.clear()
