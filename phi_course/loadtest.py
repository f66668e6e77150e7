"""Simulate a class chatting with one OpenAI-compatible server, and say whether it holds.

Introduced in the README's instructor section.

`python -m phi_course loadtest URL --learners 30 --model M` starts one thread per
learner. Each learner arrives within the first seconds, as a class does, then
holds a short conversation: a few streamed chat turns with a think time between
them. Every request is timed (first token, total, tokens) and the class is
summed up in a table and a one-line verdict on the p95 time to first token,
the wait a learner notices. Think times and questions are seeded, so two runs
send the same load.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from phi_course.chat import Answer, api_message, decode_rate, stream_into
from phi_course.i18n import _
from phi_course.settings import mask, mask_url
from phi_course.tables import Table

__all__ = ["AIM_FIRST_TOKEN_S", "DEFAULT_MAX_TOKENS", "DEFAULT_THINK_S", "DEFAULT_TURNS", "NO_KEY",
           "LoadTestError", "Measured", "check_plan", "check_server", "describe", "main", "percentile", "run_class",
           "summary", "verdict"]

AIM_FIRST_TOKEN_S = 2.0  # p95 first token under this: the class still feels the answer start at once
DEFAULT_TURNS = 3
DEFAULT_THINK_S = 4.0  # mean seconds a learner reads the answer and types the next question
DEFAULT_MAX_TOKENS = 64
ARRIVAL_SPREAD_S = 1.5  # learners press Enter within this many seconds of each other, not all at once
REQUEST_TIMEOUT_S = 120.0  # a loaded server is slow, not broken: only a hung one should time out
NO_KEY = "no-key"  # local servers ignore the key, but the SDK needs one
QUESTIONS = (
    "What is a small language model?",
    "Why does the first token take longer than the others?",
    "Explain attention in two sentences.",
    "What does quantization change in a model?",
    "Give me one tip for writing a good prompt.",
    "How is Phi different from a larger model?",
)


class LoadTestError(Exception):
    """The load test cannot run; the message is one line that says what to do."""


@dataclass
class Measured:
    """One chat request of one learner, and how it went."""

    learner: int
    turn: int
    first_token_s: float | None = None  # request sent -> first piece of text
    total_s: float = 0.0
    tokens: int = 0  # completion tokens from the usage chunk, else text chunks received
    error: str | None = None

    @property
    def tokens_per_second(self) -> float | None:
        return None if self.error else decode_rate(self.tokens, self.first_token_s, self.total_s)


def check_plan(url: str, learners: int, turns: int, think_s: float, max_tokens: int) -> None:
    """Raise LoadTestError for arguments no class could run with."""
    if not url.startswith(("http://", "https://")):
        raise LoadTestError(f"URL must start with http:// or https:// (got {mask_url(url)!r}), "
                            "e.g. http://127.0.0.1:8765/v1.")
    for name, value in (("--learners", learners), ("--turns", turns), ("--max-tokens", max_tokens)):
        if value < 1:
            raise LoadTestError(f"{name} must be 1 or more (got {value}).")
    if think_s < 0:
        raise LoadTestError(f"--think must be 0 or more seconds (got {think_s:g}).")


def _client(url: str, api_key: str):
    from openai import OpenAI

    # No retries: a retry would hide the very overload this test is looking for.
    return OpenAI(base_url=url, api_key=api_key or NO_KEY, max_retries=0, timeout=REQUEST_TIMEOUT_S)


def _served_models(client) -> list[str] | None:
    """What the server's /models lists, or None when it cannot be read."""
    import openai

    try:
        return [m.id for m in client.models.list()]
    except openai.OpenAIError:
        return None


def describe(error: BaseException, url: str, model: str, api_key: str, client=None) -> str:
    """One line for a failed request: what happened and what to do. Never the whole key."""
    import openai

    where = mask_url(url)
    if isinstance(error, openai.APITimeoutError):
        line = f"the server at {where} did not answer within {REQUEST_TIMEOUT_S:g} s"
    elif isinstance(error, openai.APIConnectionError):
        line = (f"no server answers at {where} (connection refused?): start it, "
                "e.g. `python -m phi_course.standin --port 8765`, or check the URL")
    elif isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        given = "no key was given" if api_key in ("", NO_KEY) else f"the key {mask(api_key)} was refused"
        line = f"{where} answered {error.status_code}: {given}; pass the key it expects with --api-key"
    elif isinstance(error, openai.NotFoundError):
        served = _served_models(client) if client is not None else None
        offers = f"it offers: {', '.join(served)}" if served else "check the model id, and that the URL ends in /v1"
        line = f"{where} does not serve model {model!r} (404); {offers}"
    elif isinstance(error, openai.APIStatusError):
        line = f"{where} answered {error.status_code}: {api_message(error)}"
    else:
        line = f"{type(error).__name__}: {error}"
    line = " ".join(line.split())  # one line, whatever the server put in its message
    return line.replace(api_key, mask(api_key)) if api_key and api_key != NO_KEY else line


def check_server(url: str, model: str, api_key: str = NO_KEY) -> None:
    """Send one tiny request before the class arrives; raise LoadTestError if it fails.

    It also loads the model, so the first learners do not pay for the server's warm-up.
    """
    import openai

    client = _client(url, api_key)
    try:
        client.chat.completions.create(model=model, max_tokens=1,
                                       messages=[{"role": "user", "content": "Hello"}])
    except openai.OpenAIError as error:
        raise LoadTestError(describe(error, url, model, api_key, client)) from None


def _ask(client, model: str, messages: list[dict], max_tokens: int, record: Measured) -> str:
    """Stream one answer into `record` (phi_course.chat's loop, so timing means the same everywhere)."""
    answer = stream_into(Answer("loadtest", model), client, messages, max_tokens=max_tokens)
    record.first_token_s, record.total_s = answer.first_token_seconds, answer.total_seconds
    # Some servers send no usage: then each text chunk is close to one token.
    record.tokens = answer.completion_tokens if answer.completion_tokens is not None else answer.chunks
    return answer.text


def _learner(number: int, url: str, model: str, api_key: str, turns: int, think_s: float,
             max_tokens: int, seed: int, done) -> list[Measured]:
    """One learner's conversation: arrive, then ask, read, think, ask again."""
    import httpx
    import openai

    rng = random.Random(f"{seed}-{number}")  # a string seed: the same on every run and platform
    client = _client(url, api_key)  # one per learner: each learner's laptop has its own connections
    time.sleep(rng.uniform(0, ARRIVAL_SPREAD_S))
    messages: list[dict] = []
    measured = []
    for turn in range(turns):
        if turn:
            time.sleep(rng.uniform(0.5, 1.5) * think_s)  # mean think_s, but no two learners in step
        messages.append({"role": "user", "content": rng.choice(QUESTIONS)})
        record = Measured(number, turn)
        try:
            messages.append({"role": "assistant", "content": _ask(client, model, messages, max_tokens, record)})
        except (openai.OpenAIError, httpx.HTTPError) as error:
            record.error = describe(error, url, model, api_key)
            messages.pop()  # the learner asks something else next turn
        measured.append(record)
        done()
    client.close()
    return measured


def run_class(url: str, model: str, learners: int, *, api_key: str = NO_KEY, turns: int = DEFAULT_TURNS,
              think_s: float = DEFAULT_THINK_S, max_tokens: int = DEFAULT_MAX_TOKENS, seed: int = 0,
              progress: bool = True) -> list[Measured]:
    """Run the class against `url` and return every request, learner by learner.

    Raises LoadTestError when the plan is impossible or the server fails its first request.
    """
    from tqdm import tqdm

    check_plan(url, learners, turns, think_s, max_tokens)
    check_server(url, model, api_key)
    lock = threading.Lock()
    with tqdm(total=learners * turns, unit="request", desc=f"{learners} learners", file=sys.stderr,
              disable=not progress, leave=False) as bar, ThreadPoolExecutor(max_workers=learners) as pool:
        def done():
            with lock:
                bar.update()

        futures = [pool.submit(_learner, n, url, model, api_key, turns, think_s, max_tokens, seed, done)
                   for n in range(learners)]
        return [record for future in futures for record in future.result()]


def percentile(values: list[float], pct: int) -> float | None:
    """The pct-th percentile (1-99) of values, interpolated; None for no values."""
    ordered = sorted(values)
    if len(ordered) < 2:
        return ordered[0] if ordered else None
    return statistics.quantiles(ordered, n=100, method="inclusive")[pct - 1]


def _learner_rates(measured: list[Measured]) -> list[float]:
    """Each learner's median decoding speed (tokens/s) over the answers it got."""
    by_learner: dict[int, list[float]] = {}
    for record in measured:
        if record.tokens_per_second is not None:
            by_learner.setdefault(record.learner, []).append(record.tokens_per_second)
    return [statistics.median(rates) for rates in by_learner.values()]


def _rounded(value: float | None, digits: int) -> float | str:
    return "n/a" if value is None else round(value, digits)


def summary(measured: list[Measured]) -> dict:
    """The class in one row: counts, first-token percentiles (s), median tokens/s per learner."""
    first_tokens = [r.first_token_s for r in measured if not r.error and r.first_token_s is not None]
    rates = _learner_rates(measured)
    return {
        "learners": len({r.learner for r in measured}),
        "requests": len(measured),
        "errors": sum(1 for r in measured if r.error),
        "p50 first token (s)": _rounded(percentile(first_tokens, 50), 2),
        "p95 first token (s)": _rounded(percentile(first_tokens, 95), 2),
        "median tokens/s per learner": _rounded(statistics.median(rates) if rates else None, 1),
    }


def verdict(measured: list[Measured], aim_s: float = AIM_FIRST_TOKEN_S) -> str:
    """'holds 30 learners: ...' or 'does not hold 30 learners: ...', with the reason."""
    row = summary(measured)
    learners, p95 = row["learners"], row["p95 first token (s)"]
    errors = [r.error for r in measured if r.error]
    if errors:
        return (f"does not hold {learners} learners: {len(errors)} of {row['requests']} requests failed: "
                f"{errors[0]}")
    if p95 == "n/a":
        return f"does not hold {learners} learners: no answer had any text to time"
    if p95 > aim_s:
        return f"does not hold {learners} learners: p95 first token {p95:.1f} s (aim for under {aim_s:g} s)"
    return f"holds {learners} learners: p95 first token {p95:.1f} s"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m phi_course loadtest",
        description=_("Simulate a class chatting with an OpenAI-compatible server and say whether it holds."))
    parser.add_argument("url", help=_("the server's OpenAI base URL, e.g. http://127.0.0.1:8765/v1"))
    parser.add_argument("--learners", type=int, required=True, help=_("learners chatting at once"))
    parser.add_argument("--model", required=True, help=_("model id to ask for, e.g. tiny-phi35-mini"))
    parser.add_argument("--api-key", default=NO_KEY, help=_("the server's key (local servers need none)"))
    parser.add_argument("--turns", type=int, default=DEFAULT_TURNS, help=_("chat turns per learner"))
    parser.add_argument("--think", type=float, default=DEFAULT_THINK_S,
                        help=_("mean seconds a learner thinks between turns"))
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS, help=_("longest answer, in tokens"))
    parser.add_argument("--seed", type=int, default=0, help=_("think times and questions (same seed, same load)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """0 when the server holds the class, 1 when it does not, 2 when the test could not run."""
    args = _parser().parse_args(argv)
    try:
        measured = run_class(args.url, args.model, args.learners, api_key=args.api_key, turns=args.turns,
                             think_s=args.think, max_tokens=args.max_tokens, seed=args.seed)
    except LoadTestError as error:
        print(f"loadtest: {error}", file=sys.stderr)
        return 2
    print(Table([summary(measured)], f"Load test: {args.model} at {mask_url(args.url)}"))
    line = verdict(measured)
    print(line)
    return 0 if line.startswith("holds") else 1
