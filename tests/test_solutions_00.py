"""Every exercise solution runs and gives a sensible answer."""

from lessons.solutions import s00_setup


def test_lesson00_level1_answer_contains_the_fact():
    assert "3.8" in s00_setup.exercise_1()


def test_lesson00_level2_uses_the_standin_model_over_ollama():
    model, answer = s00_setup.exercise_2()
    assert model == "tiny-phi35-mini" and answer.strip()


def test_lesson00_level3_counts_every_row():
    counts = s00_setup.count_statuses()
    assert sum(counts.values()) == 8 and counts.get("stand-in", 0) >= 4
