"""Solutions to the exercises of lessons/06_transformers.ipynb."""

from __future__ import annotations

import time
from threading import Thread

import torch
from transformers import TextIteratorStreamer, pipeline

from phi_course.local.hub import load_causal_lm
from phi_course.tables import Table

QUESTION = "How many parameters does Phi-3-mini have?"


def _model():
    loaded = load_causal_lm("phi-3.5-mini", verbose=False)
    return loaded.model, loaded.tokenizer


def _inputs(tokenizer, question: str, device):
    messages = [{"role": "user", "content": question}]
    return tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    ).to(device)


def exercise_1(question: str = QUESTION) -> str:
    """Level 1: a greedy answer through pipeline("text-generation")."""
    model, tokenizer = _model()
    generator = pipeline("text-generation", model=model, tokenizer=tokenizer)
    result = generator([{"role": "user", "content": question}], max_new_tokens=40, do_sample=False)
    return result[0]["generated_text"][-1]["content"]


def sample_answers(question: str, temperature: float, seeds=range(5), max_new_tokens: int = 30) -> list[str]:
    """One answer per seed; temperature 0 means greedy decoding."""
    model, tokenizer = _model()
    inputs = _inputs(tokenizer, question, model.device)
    settings = {"do_sample": False} if temperature == 0 else {"do_sample": True, "temperature": temperature}
    answers = []
    for seed in seeds:
        torch.manual_seed(seed)
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, **settings)
        answers.append(tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))
    return answers


def exercise_2(question: str = "What is Phi-3.5-mini?", temperatures=(0.0, 0.7, 1.5)) -> Table:
    """Level 2: how many different answers five seeds give at each temperature."""
    rows = []
    for temperature in temperatures:
        answers = sample_answers(question, temperature)
        rows.append({"temperature": temperature, "answers": len(answers),
                     "different answers": len(set(answers))})
    return Table(rows, title=question)


def stream_answer(question: str, max_new_tokens: int = 40) -> tuple[list[str], float]:
    """Level 3: stream a greedy answer; return (pieces, seconds to the first piece)."""
    model, tokenizer = _model()
    inputs = _inputs(tokenizer, question, model.device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120)
    thread = Thread(target=model.generate,
                    kwargs=dict(**inputs, streamer=streamer, max_new_tokens=max_new_tokens, do_sample=False))
    started = time.perf_counter()
    thread.start()
    pieces, first = [], None
    for piece in streamer:
        first = first if first is not None else time.perf_counter() - started
        pieces.append(piece)
    thread.join()
    return pieces, first


def greedy_answer(question: str, max_new_tokens: int = 40) -> str:
    """The same answer without a streamer, to check stream_answer against."""
    model, tokenizer = _model()
    inputs = _inputs(tokenizer, question, model.device)
    out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
