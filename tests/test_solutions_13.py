"""Every exercise solution of lesson 13 runs and gives a sensible answer."""

import openai
import pytest
from pydantic import BaseModel

from lessons.solutions import s13_make_it_yours as s13
from phi_course.adapt import evaluate, retrieval


def test_lesson13_level1_winner_counts_right_answers_of_both_models():
    questions = s13.my_questions()
    best, counts = s13.winner(questions)
    assert set(counts) == set(s13.MODELS) and counts[best] == max(counts.values())
    # Recount one model by hand: the harness and the solution agree.
    name = s13.MODELS[1]
    assert counts[name] == sum(evaluate.contains(s13.answerer(name)(q.question), q.answer) for q in questions)
    assert counts["tiny-phi35-mini"] >= 3  # these are course facts the models were trained on


class Meeting(BaseModel):
    title: str
    remote: bool
    room: str | None


@pytest.mark.parametrize("text", [
    "{'title': 'Planning', 'remote': True, 'room': None}",
    '{"title": "Planning", "remote": true, "room": null,}',
    "Sure: {'title': 'Planning', 'remote': True, 'room': None,}",
])
def test_lesson13_level2_lenient_parse_repairs_small_model_json(text):
    value, error = s13.lenient_parse(text, Meeting)
    assert error is None and value == Meeting(title="Planning", remote=True, room=None)


def test_lesson13_level2_lenient_parse_still_refuses_what_cannot_be_fixed():
    value, error = s13.lenient_parse('{"title": "Planning", "remote": "maybe"}', Meeting)
    assert value is None and "after repair" in error
    value, error = s13.lenient_parse('{"title": "Planning", "remote": true, "room": "4.12"}', Meeting)
    assert error is None and value.room == "4.12"  # valid JSON is never touched


def test_lesson13_level3_recall_at_k_on_notes_and_course_text():
    notes = ["Lab notes. The lab's GPU server is called heron.", "The reading group meets in room 4.12."]
    index = retrieval.Index(retrieval.course_passages(notes))
    pairs = [("What is the lab's GPU server called?", "heron"),
             ("Which room does the reading group meet in?", "room 4.12"),
             ("Where do we keep the big computer?", "heron")]  # no shared word: BM25 cannot find it
    at1, at3 = s13.recall_at_k(index, pairs, k=1), s13.recall_at_k(index, pairs, k=3)
    assert at1 == pytest.approx(2 / 3) and at1 <= at3 < 1
    with pytest.raises(ValueError):
        s13.recall_at_k(index, [])


def test_lesson13_level3_tool_trace_records_the_calls_and_the_answer(standin):
    """Keyless, on the stand-in: tiny-phi35-mini calls through its tool-calling adapter; tiny-phi35-moe has none."""
    client = openai.OpenAI(base_url=standin.base_url, api_key="not-needed", timeout=120, max_retries=0)
    made, answer = s13.tool_trace(client, "tiny-phi35-mini", "Is GitHub Models still live?")
    assert made == [("route_status", {"route": "github"})] and "2026-07-30" in answer
    made, answer = s13.tool_trace(client, "tiny-phi35-mini", "What does SLM stand for?")
    assert made == [] and "Small Language Model" in answer
    made, answer = s13.tool_trace(client, "tiny-phi35-mini", "Is GitHub Models still live?", max_rounds=1)
    assert made == [("route_status", {"route": "github"})] and answer is None  # out of rounds, and it says so
    made, answer = s13.tool_trace(client, "tiny-phi35-moe", "Is GitHub Models still live?")
    assert made == [] and answer
