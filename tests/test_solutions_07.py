"""Every exercise solution of lesson 07 runs against the stand-in's Ollama API."""

import socket

import pytest

from lessons.solutions import s07_ollama as s07
from phi_course.local.modelfile import ModelfileError

MODEL = "tiny-phi35-mini"
TUTOR = """FROM phi3.5
SYSTEM You are a patient tutor. Answer briefly.
PARAMETER temperature 0
PARAMETER num_predict 5
"""


@pytest.fixture
def host(standin):
    return standin.ollama_url


def test_lesson07_level1_lists_the_served_models(host):
    models = dict(s07.exercise_1(host))
    assert f"{MODEL}:latest" in models
    assert all(size for size in models.values())


def test_lesson07_level2_stream_equals_the_whole_answer(host):
    prompt = "What is Ollama?"
    text, tokens, rate = s07.stream_generate(prompt, host, MODEL)
    assert text.strip() and 1 <= tokens <= 40 and rate > 0
    assert text == s07.generate_at_once(prompt, host, MODEL)


def test_lesson07_level3_num_predict_limits_the_answer(host):
    answer = s07.ask_with_modelfile(TUTOR, "What is a small language model?", host, MODEL)
    assert answer.eval_count <= 5
    assert answer.done_reason in ("length", "stop")
    longer = s07.ask_with_modelfile(TUTOR.replace("num_predict 5", "num_predict 30"),
                                    "What is a small language model?", host, MODEL)
    assert longer.eval_count > answer.eval_count or longer.done_reason == "stop"


def test_lesson07_level3_a_broken_modelfile_is_refused_before_any_request():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    # Nothing listens at `closed`: a request would raise ConnectionError, not ModelfileError.
    with pytest.raises(ModelfileError, match="line 4"):
        s07.ask_with_modelfile(TUTOR.replace("num_predict", "max_tokens"), "Hi", closed, MODEL)
