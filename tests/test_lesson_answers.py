"""Every answer a lesson presents as right is right: each prompt below is asked, greedy, of the
embedded model the lesson uses, and must give the key fact in the language it was asked in.

The list is the one place that records which prompts lessons show answered. Each entry is
checked against its source, so a prompt changed in a lesson fails here until the list follows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from phi_course.local import embedded
from phi_course.training.dataset import all_facts
from phi_course.training.evaluate import generate_answers, is_correct
from phi_course.training.facts import has_cjk, normalise
from phi_course.training.lesson_prompts import LESSON_PROMPTS

ROOT = Path(__file__).resolve().parents[1]
ANSWERED = LESSON_PROMPTS


def _key(question: str) -> str:
    """The key fact of the course question `question` is (a trained or held-out phrasing)."""
    wanted, lang = normalise(question), "zh" if has_cjk(question) else "en"
    for fact in all_facts():
        if wanted in {normalise(q) for q in fact.training_questions(lang) + fact.heldout(lang)}:
            return fact.key_for(lang)
    raise AssertionError(f"no course fact is asked as {question!r}: a lesson shows an answer nobody can check")


@pytest.mark.parametrize("where, model, question, system, earlier", ANSWERED,
                         ids=[f"{Path(w).stem}: {q}" for w, _, q, _, _ in ANSWERED])
def test_a_lesson_answer_is_right(where, model, question, system, earlier):
    assert question in (ROOT / where).read_text(encoding="utf-8"), f"{where} no longer asks {question!r}"
    m, tokenizer = embedded.load(model)
    history = []
    for asked in earlier:  # the chat as the lesson holds it: the model's own earlier answers
        history.append((asked, generate_answers(m, tokenizer, [asked], system=system, histories=[history])[0]))
    answer = generate_answers(m, tokenizer, [question], system=system, histories=[history or None])[0]
    lang = "zh" if has_cjk(question) else "en"
    assert is_correct(answer, _key(question), lang), f"{model} answered {answer!r}"
