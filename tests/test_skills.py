"""The course's tools and the skill records (phi_course/adapt/tools.py, phi_course/training/skills.py)."""

from __future__ import annotations

import json
import random

import pytest

from phi_course import catalog, route_table
from phi_course.adapt import tools
from phi_course.local import embedded
from phi_course.training import skills
from phi_course.training.dataset import qa_records
from phi_course.training.evaluate import parse_call


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded.model_path("tiny-phi35-mini"))


def render(tokenizer, messages, tools_offered=None):
    return tokenizer.apply_chat_template(messages, tools=tools_offered, tokenize=False, add_generation_prompt=True,
                                         chat_template=skills.TOOL_CHAT_TEMPLATE)


def test_without_tools_the_tool_template_writes_what_the_shipped_one_does(tokenizer):
    chats = [[{"role": "user", "content": "hi"}],
             [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
              {"role": "assistant", "content": "hello"}, {"role": "user", "content": "和你"}],
             [{"role": "system", "content": ""}, {"role": "user", "content": "x"}]]
    for messages in chats:
        shipped = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert render(tokenizer, messages) == shipped


def test_tools_calls_and_results_take_the_courses_layout(tokenizer):
    call = {"id": "call_0", "type": "function",
            "function": {"name": "model_card", "arguments": json.dumps({"model": "Phi-4-mini"})}}
    text = render(tokenizer, [{"role": "user", "content": "Look up Phi-4-mini."},
                              {"role": "assistant", "content": None, "tool_calls": [call]},
                              {"role": "tool", "tool_call_id": "call_0", "content": '{"parameters": "3.8B"}'}],
                  tools.TOOLS)
    offered = json.loads(text[text.index("<|tool|>") + len("<|tool|>"):text.index("<|/tool|>")])
    assert [t["name"] for t in offered] == ["model_card", "route_status"]
    assert text.startswith("<|system|>\n" + skills.TOOLS_SYSTEM)
    # The call a model is trained to write is exactly how the template writes a past call back.
    assert skills.call_text("model_card", {"model": "Phi-4-mini"}) + "<|end|>" in text
    assert text.endswith('<|tool_response|>\n{"parameters": "3.8B"}<|end|>\n<|assistant|>\n')


def test_a_reading_record_asks_what_its_passage_says():
    records = skills.reading_records(("en", "zh"), random.Random(7), per_lang=200)
    for r in records:
        prompt = r["messages"][-1]["content"]
        passage = prompt.split("\n")[0]
        assert r["answer"] in passage and r["key"] in r["answer"]
    drawn = " ".join(r["messages"][-1]["content"].lower() for r in records)
    assert "the lab's gpu server" not in drawn and "实验室的gpu 服务器" not in drawn.replace("实验室的 ", "实验室的")
    assert not any(name in drawn.split() for name in skills.RESERVED_NAMES)


def test_a_tool_record_calls_the_right_tool_then_answers_from_its_result():
    records = skills.tool_records(("en", "zh"), random.Random(3), qa_records())
    calls = [r for r in records if r["skill"] == "tool call"]
    answers = [r for r in records if r["skill"] == "tool answer"]
    assert len(calls) == len(answers) > 0
    for call, answer in zip(calls, answers, strict=True):
        name, arguments = parse_call(call["answer"])
        result = json.loads(answer["messages"][-1]["content"])
        assert result == json.loads(tools.run_tool_call(name, arguments))
        named = result.get("model") or result["route"]
        figures = [v for k, v in result.items() if k not in ("model", "route", "languages")]
        assert answer["answer"].startswith(named) and any(v in answer["answer"] for v in figures)
    assert any(r["skill"] == "no tool" and not r["answer"].startswith(skills.CALL_START) for r in records)


def test_the_tools_read_the_catalog_and_the_route_table():
    card = tools.model_card("phi-3.5-moe")
    moe = catalog.FAMILY["phi-3.5-moe"]
    assert card["parameters"] == f"{moe.params_b:g}B" and card["active_parameters"] == f"{moe.active_params_b:g}B"
    github = tools.route_status("github")
    assert github["state"] == route_table.RETIRED and github["since"] == route_table.ROUTES["github"].status.since


@pytest.mark.parametrize(("name", "arguments", "words"), [
    ("model_card", '{"model": "Phi-9"}', "No Phi model called 'Phi-9'"),
    ("route_status", {"route": "carrier pigeon"}, "No route called"),
    ("weather", "{}", "No tool called 'weather'"),
    ("model_card", "{not json", "Expecting property name"),
    ("model_card", {"name": "Phi-4-mini"}, "unexpected keyword argument"),
])
def test_a_bad_call_goes_back_to_the_model_as_an_error(name, arguments, words):
    result = json.loads(tools.run_tool_call(name, arguments))
    assert list(result) == ["error"] and words in result["error"]


def test_a_call_that_does_not_parse_is_no_call():
    assert parse_call(skills.call_text("model_card", {"model": "Phi-4"})) == ("model_card", {"model": "Phi-4"})
    for text in ["Phi-4 has 14.7B parameters.", "<|tool_call|>[{\"name\": \"model_card\"", "<|tool_call|>[]<|/tool_call|>"]:
        assert parse_call(text) is None


def test_function_calling_claims_name_a_catalog_model_a_source_and_the_day_it_was_checked():
    import datetime

    for key, (source, checked) in catalog.FUNCTION_CALLING.items():
        assert key in catalog.FAMILY and source.startswith("https://")
        assert datetime.date.fromisoformat(checked) <= datetime.date(2026, 12, 1)
