"""Every exercise solution of lesson 08 runs on real ONNX Runtime GenAI builds."""

import pytest

from lessons.solutions import s08_onnx_runtime_genai as s08
from phi_course.local import embedded


@pytest.fixture(autouse=True)
def needs_embedded_models():
    if not (embedded.models_dir() / embedded.DEFAULT_MODEL / "config.json").exists():
        pytest.fail(f"no embedded models in {embedded.models_dir()}: run `make models`")


def test_lesson08_level1_the_loop_answers_with_the_fact():
    assert "128K" in s08.answer("What context length does Phi-3.5-mini support?")


def test_lesson08_level2_seeds_make_samples_repeatable():
    question = "What is the tag of Phi-3.5-mini on Ollama?"
    assert s08.sample(question, seed=1) == s08.sample(question, seed=1)
    assert len({s08.sample(question, seed=s) for s in (1, 2, 3)}) > 1


def test_lesson08_level3_fp32_onnx_picks_the_same_tokens_as_transformers():
    result = s08.greedy_agreement(n=16)
    assert len(result["transformers"]) >= 2
    assert result["fp32"] == result["transformers"]
    assert result["fp32 agrees"] == len(result["transformers"])
    assert 0 <= result["int4 agrees"] <= len(result["transformers"])
