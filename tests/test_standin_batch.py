"""Requests served together: the batch decodes many answers at once and changes none of them.

The in-process tests drive phi_course.standin.batch directly on the real model; the
others send real SDK requests to a stand-in of their own on 127.0.0.1 (timing on the
session's shared one would mix in other tests' requests).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ollama
import openai
import pytest

from phi_course import settings
from phi_course.local import embedded, generation
from phi_course.standin import launcher
from phi_course.standin.batch import Batch, read_prompt

MODEL = embedded.DEFAULT_MODEL
QUESTIONS = ["What is a small language model?", "Explain attention in two sentences.", "What is Phi-3.5-MoE?",
             "How do I run Phi-3.5-mini with Ollama?", "你好，Phi 是什么？", "hi",
             "What does quantization change in a model? Answer for a beginner, please."]


def chat(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread here, as in the stand-in: the same arithmetic on both sides."""
    with settings.torch_threads(1):
        yield


@pytest.fixture(scope="module")
def server():
    """A stand-in of this module's own, warmed up."""
    own = launcher.start()
    try:
        client = openai.OpenAI(base_url=own.base_url, api_key="any", max_retries=0, timeout=120)
        client.chat.completions.create(model=MODEL, messages=chat("hi"), max_tokens=2)
        yield own
    finally:
        own.stop()


def reference(question: str, **options) -> generation.ChatResult:
    model, tokenizer = embedded.load(MODEL)
    return generation.chat(model, tokenizer, chat(question), **options)


def test_answers_joining_and_leaving_a_batch_are_those_of_single_requests():
    model, tokenizer = embedded.load(MODEL)
    prompts = [generation.encode_chat(tokenizer, chat(q)) for q in QUESTIONS]
    lengths = [40, 8, 30, 3, 25, 12, 40]  # answers that end at different steps
    expected = [generation.chat(model, tokenizer, chat(q), max_new_tokens=n).token_ids
                for q, n in zip(QUESTIONS, lengths, strict=True)]
    end_ids = generation.end_token_ids(model, tokenizer)
    batch, got, waiting, widths = Batch(model), {}, list(range(len(prompts))), []
    while waiting or len(batch):
        if waiting:  # one newcomer between two steps, as requests arrive at a server
            i = waiting.pop(0)
            logits, cache = read_prompt(model, prompts[i])
            got[i] = [int(logits.argmax())]
            batch.join(i, cache, got[i][0])
        tokens = batch.step().argmax(dim=-1).tolist()
        for i, token in zip(batch.members, tokens, strict=True):
            got[i].append(token)
        batch.feed(tokens)
        batch.keep([row for row, i in enumerate(batch.members)
                    if got[i][-1] not in end_ids and len(got[i]) < lengths[i]])
        widths.append(batch._mask.shape[1] if len(batch) else 0)
    assert [got[i] for i in range(len(prompts))] == expected
    # Padding nobody needs is cut: when the answer with the longest prompt leaves, the cache narrows.
    assert any(later < earlier for earlier, later in zip(widths, widths[1:], strict=False) if later)


def test_thirty_concurrent_requests_take_a_fraction_of_thirty_single_ones(server):
    client = openai.OpenAI(base_url=server.base_url, api_key="any", max_retries=0, timeout=120)

    def ask(i: int) -> float:
        started = time.perf_counter()
        client.chat.completions.create(model=MODEL, messages=chat(QUESTIONS[i % len(QUESTIONS)]),
                                       max_tokens=24, temperature=0)
        return time.perf_counter() - started

    def server_cpu_seconds() -> float:
        fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def cost(asking) -> float:
        before = server_cpu_seconds()
        asking()
        return server_cpu_seconds() - before

    # The server's CPU time, not the wall clock: in `make test` the suite's other worker takes the
    # cores in turns, and wall times then measured the neighbour as much as the batching.
    ask(0)  # warm
    one_by_one = cost(lambda: [ask(i) for i in range(30)])
    with ThreadPoolExecutor(30) as pool:
        together = cost(lambda: list(pool.map(ask, range(30))))
    # Queued one by one they cost about 30 single answers' work; batched, a fraction of it.
    assert together < one_by_one / 3, f"30 at once {together:.2f} CPU-s, one by one {one_by_one:.2f} CPU-s"


def test_a_short_answer_does_not_wait_for_a_long_one(server):
    model, tokenizer = embedded.load(MODEL)
    ban_end = {token: -100 for token in generation.end_token_ids(model, tokenizer)}
    client = openai.OpenAI(base_url=server.base_url, api_key="any", max_retries=0, timeout=120)
    long_started = threading.Event()
    long_took: list[float] = []

    def long_answer() -> None:
        started = time.perf_counter()
        stream = client.chat.completions.create(model=MODEL, messages=chat("What is Phi?"), max_tokens=300,
                                                logit_bias=ban_end, stream=True)
        for _ in stream:
            long_started.set()
        long_took.append(time.perf_counter() - started)

    thread = threading.Thread(target=long_answer)
    thread.start()
    assert long_started.wait(60)
    started = time.perf_counter()
    short = client.chat.completions.create(model=MODEL, messages=chat("hi"), max_tokens=3)
    short_took = time.perf_counter() - started
    thread.join(120)
    assert short.choices[0].message.content == reference("hi", max_new_tokens=3).text
    assert long_took and short_took < long_took[0] / 4, f"short {short_took:.2f} s, long {long_took}"


def test_answers_under_load_are_those_of_single_requests(server):
    """Different prompts, lengths, stop strings and seeds, both APIs, streamed or not, arriving
    staggered: each answer is the one the model gives that request alone."""
    openai_client = openai.OpenAI(base_url=server.base_url, api_key="any", max_retries=0, timeout=120)
    ollama_client = ollama.Client(host=server.ollama_url)
    cases = []
    for i in range(40):
        question = QUESTIONS[i % len(QUESTIONS)]
        options = {"max_new_tokens": 6 + 7 * (i % 5)}
        if i % 4 == 1:
            options |= {"temperature": 0.9, "seed": i}  # a seeded sample is reproducible in a batch too
        if i % 6 == 2:
            options |= {"stop": ["."]}
        cases.append((i, question, options))

    def ask(case) -> str:
        i, question, options = case
        time.sleep(0.01 * (i % 7))
        if i % 3 == 0:
            reply = ollama_client.chat(model=MODEL, messages=chat(question), options={
                "num_predict": options["max_new_tokens"], "temperature": options.get("temperature", 0),
                "seed": options.get("seed"), "stop": options.get("stop")})
            return reply.message.content
        kwargs = {"model": MODEL, "messages": chat(question), "max_tokens": options["max_new_tokens"],
                  "temperature": options.get("temperature", 0), "seed": options.get("seed"),
                  "stop": options.get("stop")}
        if i % 3 == 1:
            return openai_client.chat.completions.create(**kwargs).choices[0].message.content
        chunks = openai_client.chat.completions.create(**kwargs, stream=True)
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(ask, cases))
    expected = [reference(question, **options).text for _, question, options in cases]
    assert answers == expected
