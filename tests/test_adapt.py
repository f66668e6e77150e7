"""phi_course.adapt (lesson 13): the harness, schemas, retrieval and LoRA, on the real models and libraries."""

import copy
import json

import pytest
from openai import OpenAI
from pydantic import BaseModel, Field

from phi_course import routes
from phi_course.adapt import evaluate, lora, passage_check, retrieval, structured
from phi_course.local import embedded, generation


class ModelFacts(BaseModel):
    name: str
    parameters_billion: float = Field(gt=0)


# --------------------------------------------------------------------------- evaluate

@pytest.mark.parametrize("answer, expected, exact, contains", [
    ("Paris.", "paris", True, True),
    ("The capital is Paris.", "Paris", False, True),
    ("Phi-3-mini has 3.8B parameters.", "3.8B", False, True),
    ("Phi-3-mini has 3.85B parameters.", "3.8B", False, False),  # decimals are not cut apart
    ("Released in 2016.", "16", False, False),  # whole words only
    ("Ollama listens on http://localhost:11434.", "11434", False, True),  # punctuation separates words
    ("Phi-3-mini 有 3.8B 参数。", "3.8B", False, True),
    ("它是混合专家模型。", "混合专家", False, True),  # Chinese has no spaces between words
])
def test_exact_and_contains_normalize_both_sides(answer, expected, exact, contains):
    assert evaluate.exact_match(answer, expected) is exact
    assert evaluate.contains(answer, expected) is contains


def test_questions_need_text_and_an_answer():
    assert evaluate.questions_from([("Which option?", "A")]) == [evaluate.Question("Which option?", "A")]
    assert evaluate.exact_match("A.", "a") and not evaluate.contains("B", "A")  # a lone article is an answer
    with pytest.raises(ValueError, match="expected answer"):
        evaluate.questions_from({"Q?": "..."})


def test_side_by_side_scores_each_model_on_every_question():
    questions = evaluate.questions_from({"How many parameters does Phi-3-mini have?": "3.8B",
                                         "What is the capital of France?": "Paris"})
    model, tokenizer = embedded.load("tiny-phi35-mini")

    def tiny(q):
        return generation.chat(model, tokenizer, [{"role": "user", "content": q}], max_new_tokens=24).text

    def always_paris(q):  # a model that knows one thing
        return "Paris"

    table = evaluate.side_by_side({"tiny": tiny, "paris": always_paris}, questions)
    assert [row["question"] for row in table][:2] == [q.question for q in questions]
    assert table[0]["tiny"].startswith("✓") and table[1]["paris"].startswith("✓")
    assert table[0]["paris"].startswith("✗")
    assert table[-1]["paris"] == "1/2 contain · 1/2 exact"


# --------------------------------------------------------------------------- structured

@pytest.mark.parametrize("text, error", [
    ('{"name": "Phi-3-mini", "parameters_billion": 3.8}', None),
    ('Here: ```json\n{"name": "a {b}", "parameters_billion": 1}\n``` done', None),
    ("Phi-3-mini has 3.8B parameters.", "holds no JSON object"),
    ('{"name": "Phi-3-mini", "parameters_billion": 3.8', "holds no JSON object"),  # never closed
    ("{'name': 'Phi-3-mini'}", "does not parse"),
    ('{"name": "Phi-3-mini", "parameters_billion": -1}', "parameters_billion"),
    ('{"name": "Phi-3-mini"}', "parameters_billion: Field required"),
])
def test_parse_finds_and_validates_json(text, error):
    value, problem = structured.parse(text, ModelFacts)
    if error is None:
        assert problem is None and isinstance(value, ModelFacts)
    else:
        assert value is None and error in problem


def test_response_format_carries_the_schema():
    fmt = structured.response_format(ModelFacts)
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["required"] == ["name", "parameters_billion"]
    assert json.dumps(ModelFacts.model_json_schema()) in structured.schema_prompt(ModelFacts)


def test_number_in_skips_numbers_inside_names():
    assert structured.number_in("Phi-3.5-mini has 3.8B parameters.") == 3.8
    with pytest.raises(ValueError, match="No number"):
        structured.number_in("Phi-3-mini is small.")


def test_ask_structured_retries_with_the_error_then_succeeds():
    seen = []

    def ask(messages):  # a model that gets it right the second time, when shown its error
        seen.append(messages)
        return "It is big." if len(seen) == 1 else '{"name": "Phi-4", "parameters_billion": 14}'

    result = structured.ask_structured(ask, [{"role": "user", "content": "Phi-4?"}], ModelFacts, retries=2)
    assert result.how == "retry 1" and result.value == ModelFacts(name="Phi-4", parameters_billion=14)
    assert seen[0][0]["role"] == "system" and "JSON schema" in seen[0][0]["content"]
    assert seen[1][-2] == {"role": "assistant", "content": "It is big."}
    assert "holds no JSON object" in seen[1][-1]["content"]


def test_ask_structured_on_the_stand_in_falls_back_and_reports_failure(standin, keyless):
    """The stand-in takes response_format through the real OpenAI client; the tiny model answers in prose."""
    route = routes.resolve("azure", model="phi-4-mini")
    client = OpenAI(base_url=route.openai_base_url, api_key=route.api_key, max_retries=0)

    def ask(messages):
        reply = client.chat.completions.create(model=route.model, messages=messages, max_tokens=40, temperature=0,
                                               response_format=structured.response_format(ModelFacts))
        return reply.choices[0].message.content

    question = [{"role": "user", "content": "Give the name and parameter count of Phi-3-mini."}]
    result = structured.ask_structured(ask, question, ModelFacts, retries=1, fallback=lambda: {
        "name": "Phi-3-mini",
        "parameters_billion": structured.number_in(ask([{"role": "user", "content":
                                                         "How many parameters does Phi-3-mini have?"}]))})
    assert len(result.attempts) == 2 and all(a.error for a in result.attempts)
    assert result.how == "fallback" and result.value.parameters_billion == 3.8
    broken = structured.ask_structured(ask, question, ModelFacts, retries=0, fallback=lambda: {"name": "x"})
    assert broken.value is None and broken.how == "failed"
    assert "fallback failed too" in broken.attempts[-1].error
    with pytest.raises(ValueError, match="retries"):
        structured.ask_structured(ask, question, ModelFacts, retries=-1)


# --------------------------------------------------------------------------- retrieval

NOTES = ["Lab notes. The lab's GPU server is called heron. Dana Okafor looks after it.",
         "Reading group: we meet on Thursdays in room 4.12."]


@pytest.fixture(scope="module")
def index():
    return retrieval.Index(retrieval.course_passages(NOTES))


def test_index_holds_notes_course_texts_and_lessons(index):
    sources = {p.source for p in index.passages}
    assert {"my notes #1", "my notes #2"} <= sources
    assert any(s.startswith("text-en-") for s in sources)
    assert any(s.startswith("07_ollama") for s in sources)
    assert max(len(p.text.split()) for p in index.passages) <= retrieval.MAX_PASSAGE_WORDS + 40


@pytest.mark.parametrize("question, source", [
    ("What is the lab's GPU server called?", "my notes #1"),
    ("Which room does the reading group meet in?", "my notes #2"),
])
def test_search_puts_the_right_note_first(index, question, source):
    hits = index.search(question, k=3)
    assert hits[0].passage.source == source
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_search_explains_bad_input():
    with pytest.raises(ValueError, match="no words"):
        retrieval.Index(retrieval.note_passages(NOTES)).search("what is the?")
    with pytest.raises(ValueError, match="Nothing to index"):
        retrieval.Index([retrieval.Passage("x", "!!!")])
    assert retrieval.words("Phi-3.5 的模型") == ["phi-3.5", "的", "模", "型"]


def test_the_chinese_index_holds_the_chinese_texts_and_lessons_in_short_passages():
    passages = retrieval.course_passages(["读书会每周四在 4.12 室碰面。"], lang="zh")
    sources = {p.source for p in passages}
    assert "my notes #1" in sources and any(s.startswith("text-zh-") for s in sources)
    lesson = [p for p in passages if p.source.startswith("07_ollama")]  # from lessons/zh/, not lessons/
    assert lesson and sum(any("\u4e00" <= c <= "\u9fff" for c in p.text) for p in lesson) > len(lesson) * 0.9
    # Chinese sentences end without a space after them; long paragraphs are split there.
    assert retrieval._shorten("甲" * 50 + "。" + "乙" * 50 + "。", limit=80) == ["甲" * 50 + "。", "乙" * 50 + "。"]
    with pytest.raises(ValueError, match="'en' and 'zh'"):
        retrieval.course_passages(lang="fr")


def _asked(right_alone, right_with, n):
    return [passage_check.Asked(f"q{i}", "k", "alone", "with", "src", right_alone, right_with) for i in range(n)]


def test_passage_counts_and_examples_go_both_ways():
    asked = _asked(True, True, 3) + _asked(False, True, 2) + _asked(True, False, 4) + _asked(False, False, 1)
    assert [row["questions"] for row in passage_check.counts(asked)] == [3, 2, 4, 1]
    assert len(passage_check.examples(asked, fixed=True)) == 2
    assert len(passage_check.examples(asked, fixed=False, n=3)) == 3
    assert all(row["alone"] == "alone" for row in passage_check.examples(asked))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_course_passage_fixes_some_heldout_answers_and_breaks_more(lang):
    """What lesson 13 says of the tiny model and retrieval: the best passage from the course's texts turns some
    held-out answers right, and more right answers wrong (it takes the passage's words as a cue)."""
    model, tokenizer = embedded.load("tiny-phi35-mini")
    index = retrieval.Index(retrieval.course_passages(lang=lang))
    asked = passage_check.ask_twice(model, tokenizer, passage_check.heldout_questions(lang), index, lang,
                                    progress=False)
    fixed = sum(a.right_with and not a.right_alone for a in asked)
    broke = sum(a.right_alone and not a.right_with for a in asked)
    assert len(asked) > 400 and not any(a.question.startswith("Context:") for a in asked)
    # "Some": the shipped tiny-phi35-mini (2026-12-02) is fixed 3 times in Chinese; the model before, 6.
    assert fixed >= 2, f"the passage fixed only {fixed} answers"
    assert broke > fixed, f"the passage fixed {fixed} answers and broke {broke}: update lesson 13's text"


@pytest.mark.xfail(strict=True, reason="the embedded models were trained to answer from memory, not to read a "
                   "passage in the prompt; when a retrained model passes, remove this mark and update lesson 13")
def test_the_passage_turns_a_wrong_answer_right(index):
    model, tokenizer = embedded.load("tiny-phi35-mini")
    question = "What is the lab's GPU server called?"
    best = index.search(question, k=1)[0].passage

    def answer(passage):
        return generation.chat(model, tokenizer, retrieval.messages_with(question, passage), max_new_tokens=40).text

    assert not evaluate.contains(answer(None), "heron")
    assert evaluate.contains(answer(best), "heron")


# --------------------------------------------------------------------------- lora

@pytest.fixture(scope="module")
def taught():
    """tiny-phi35-mini with an adapter trained (quick length) on the made-up handbook."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = embedded.model_path("tiny-phi35-mini")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = lora.add_adapter(AutoModelForCausalLM.from_pretrained(path, dtype="float32"))
    losses = lora.train(model, tokenizer, lora.CONTOSO, progress=False)
    return model, tokenizer, losses


@pytest.mark.slow
def test_lora_learns_new_facts_and_answers_held_out_phrasings(taught):
    model, tokenizer, losses = taught
    assert losses[-1] < losses[0] / 5
    heldout = evaluate.questions_from(lora.heldout_questions(lora.CONTOSO))
    after = lora.answerer(model, tokenizer)

    def before(question):
        with model.disable_adapter():
            return after(question)

    assert sum(r.contains for r in evaluate.score("before", before, heldout)) == 0
    assert sum(r.contains for r in evaluate.score("after", after, heldout)) >= 3


@pytest.mark.slow
def test_adapter_is_small_and_merges_into_a_plain_model(taught, tmp_path):
    from transformers import AutoModelForCausalLM

    model, tokenizer, _ = taught
    report = lora.adapter_report(model)
    model_bytes = (embedded.model_path("tiny-phi35-mini") / "model.safetensors").stat().st_size
    assert 0 < report["adapter parameters"] < report["model parameters"] / 10
    assert report["adapter on disk (KB)"] * 1e3 < model_bytes
    question = lora.CONTOSO[2].heldout[0]
    with_adapter = lora.answerer(model, tokenizer)(question)
    folder = lora.merge_and_save(copy.deepcopy(model), tokenizer, tmp_path / "merged")  # others share `taught`
    merged = AutoModelForCausalLM.from_pretrained(folder, dtype="float32")
    assert not any("lora" in name for name, _ in merged.named_parameters())
    assert lora.answerer(merged, tokenizer)(question) == with_adapter


def test_train_refuses_a_model_without_an_adapter():
    model, tokenizer = embedded.load("tiny-phi3-mini")
    frozen = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        with pytest.raises(ValueError, match="add_adapter"):
            lora.train(model, tokenizer, lora.CONTOSO[:1], epochs=1, progress=False)
    finally:
        for p, flag in zip(model.parameters(), frozen, strict=True):
            p.requires_grad_(flag)
