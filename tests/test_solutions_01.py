"""Every exercise solution of lesson 01 runs and gives a sensible answer."""

from lessons.solutions import s01_slm_vs_llm as s01
from phi_course.concepts import memory
from phi_course.local import embedded


def test_lesson01_level1_moe_fits_an_80gb_gpu_only_when_quantized():
    assert s01.exercise_1() == {"bf16": False, "int8": True, "int4": True}


def test_lesson01_level2_contexts_are_the_edge_of_fitting():
    result = s01.exercise_2()
    assert set(result) == set(memory.DEVICES)
    assert result["phone"] < result["laptop"] <= result["gpu-24"] <= result["gpu-80"]
    longest = memory.architecture("phi-3-mini").context
    for device, context in result.items():
        assert memory.estimate("phi-3-mini", "int4", context).fits(device)
        if context * 2 <= longest:
            assert not memory.estimate("phi-3-mini", "int4", context * 2).fits(device)


def test_lesson01_level3_fewest_bits_keep_the_score():
    bits, full, scores = s01.exercise_3()
    assert full >= len(s01.QUIZ_IDS) // 2  # the trained model knows its quiz
    assert 2 <= bits <= 8
    assert all(scores[b] >= full for b in range(8, bits - 1, -1))  # no drop down to `bits`
    if bits > 2:
        assert scores[bits - 1] < full  # one bit fewer loses an answer
    model, tokenizer = embedded.load("tiny-phi35-mini")
    assert s01.quiz_score(s01.quiz_answers(s01.quantized_copy(model, bits), tokenizer)) >= full
