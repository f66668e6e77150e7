"""Every exercise solution of lesson 03 runs and gives a sensible answer."""

import time

import pytest

from lessons.solutions import s03_github_models as s03
from phi_course.standin import ensure_running
from phi_course.standin.faults import FaultServer

pytestmark = pytest.mark.usefixtures("keyless", "standin")  # no keys; the session's shared stand-in (conftest.py)


def test_lesson03_level1_streams_the_endpoint_fact():
    answer, first_token_after = s03.exercise_1()
    assert "models.github.ai/inference" in answer
    assert 0 < first_token_after < 30


def test_lesson03_level2_the_multilingual_model_answers_in_chinese():
    table = s03.exercise_2()
    assert [row["question"] for row in table] == list(s03.CHINESE_QUESTIONS)
    for row in table:
        assert row["phi-3.5-mini"] >= 3, row  # a Chinese answer, not a stray character
    assert sum(r["phi-3.5-mini"] for r in table) > 2 * sum(r["phi-3-mini"] for r in table)


def test_lesson03_level3_reads_retry_after_without_waiting():
    with FaultServer(retry_after_s=7) as limited:
        started = time.perf_counter()
        assert s03.retry_after_seconds(limited.url("429"), "microsoft/Phi-4-mini-instruct") == 7.0
        assert time.perf_counter() - started < 5 and len(limited.arrived("429")) == 1  # max_retries=0: no retry
    assert s03.retry_after_seconds(ensure_running().base_url, "tiny-phi35-mini") is None
