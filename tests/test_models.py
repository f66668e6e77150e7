"""The shipped embedded models and their dataset: classes, chat format, size, and what they know.

The score thresholds are the course's promises: tiny-phi35-mini answers the
course questions in English and Chinese, tiny-phi3-mini only in English (the
multilingual gap lesson 03 shows), and the MoE model in both.
"""

from __future__ import annotations

import pytest
from transformers import Phi3ForCausalLM, PhimoeForCausalLM

from phi_course.local import embedded
from phi_course.training import dataset
from phi_course.training.evaluate import Score, evaluate, format_table, generate_answers, is_correct
from phi_course.training.facts import has_cjk
from phi_course.training.tokenizer import CHAT_TEMPLATE

MODELS = list(embedded.EMBEDDED)
MAX_TOTAL_MB = 20
# What the shipped models reach, less a small margin (make eval-models prints the full tables).
TRAINED_FLOOR = 0.85
HELDOUT_FLOOR = 0.85


def _require_models():
    missing = [n for n in MODELS if not (embedded.models_dir() / n / "config.json").exists()]
    if missing:
        pytest.fail(f"embedded models missing from {embedded.models_dir()}: {missing}; run `make models`")


@pytest.fixture(scope="module")
def scores() -> dict[tuple[str, str], Score]:
    """One phrasing per fact, every model, both languages (about a minute on two cores)."""
    _require_models()
    return {(name, lang): evaluate(name, lang, one_phrasing=True) for name in MODELS for lang in ("en", "zh")}


@pytest.fixture(scope="module")
def heldout() -> dict[tuple[str, str], Score]:
    """Every held-out paraphrase and follow-up, every model, both languages."""
    _require_models()
    return {(name, lang): evaluate(name, lang, heldout=True) for name in MODELS for lang in ("en", "zh")}


# --- the dataset -------------------------------------------------------------------------


def test_dataset_has_enough_checked_facts():
    facts = dataset.all_facts()  # raises on any malformed fact
    assert len(facts) >= 300
    for fact in facts:
        for lang in ("en", "zh"):
            assert 3 <= len(dataset.phrasings(fact, lang)) <= 40, fact.id  # asked several ways in training
            assert fact.key_for(lang) in fact.answer(lang), fact.id
        assert not has_cjk(fact.en_answer) and has_cjk(fact.zh_answer), fact.id


def test_committed_jsonl_matches_the_generator():
    committed = dataset.read_jsonl(dataset.DATA_DIR / dataset.QA_FILE)
    assert committed == dataset.qa_records(), "data/qa.jsonl is stale: run `python -m phi_course.training dataset`"
    texts = dataset.read_jsonl(dataset.DATA_DIR / dataset.TEXTS_FILE)
    assert texts == dataset.text_records()
    assert {t["lang"] for t in texts} == {"en", "zh"}


def test_catalog_figures_reach_the_dataset():
    from phi_course import catalog

    moe = catalog.phi("phi-3.5-moe")
    answers = {r["id"]: r["answer"] for r in dataset.qa_records() if r["lang"] == "en"}
    assert f"{moe.active_params_b:g}B" in answers["catalog-phi-3.5-moe-active"]
    assert "11434" in answers["ollama-001"]


def test_is_correct_needs_key_and_language():
    assert is_correct("Phi-3-mini 有 3.8B 参数。", "3.8B", "zh")
    assert not is_correct("Phi-3-mini has 3.8B parameters.", "3.8B", "zh")  # right fact, wrong language
    assert not is_correct("Phi-3-mini 有 3.8B 参数。", "3.8B", "en")
    assert not is_correct("Phi-3-mini has 7B parameters.", "3.8B", "en")


# --- the model folders -------------------------------------------------------------------


def test_a_long_scoring_run_shows_a_progress_bar_and_a_lessons_batch_shows_none(capsys):
    """`make eval-models` waits minutes on generation: a bar per model and language. Lesson 01's one batch: none."""
    _require_models()
    model, tokenizer = embedded.load("tiny-phi3-mini")
    capsys.readouterr()  # loading draws a bar of its own
    questions = ["What is ONNX Runtime GenAI?", "What does MoE stand for?", "What is Ollama?"]
    answers = generate_answers(model, tokenizer, questions, max_new_tokens=4, batch_size=2, progress="probe [en]")
    bar = capsys.readouterr().err
    assert "probe [en]" in bar and "batch" in bar, bar
    assert generate_answers(model, tokenizer, questions, max_new_tokens=4, batch_size=2) == answers
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("name", MODELS)
def test_model_class_and_config(name):
    _require_models()
    model, tokenizer = embedded.load(name)
    config = model.config
    if name == "tiny-phi35-moe":
        assert isinstance(model, PhimoeForCausalLM)
        assert config.num_local_experts >= 4 and config.num_experts_per_tok == 2
    else:
        assert isinstance(model, Phi3ForCausalLM)
        # ONNX Runtime GenAI's builder needs the short-context form of Phi-3.
        assert config.max_position_embeddings == config.original_max_position_embeddings
    assert config.rope_parameters.get("rope_type", "default") == "default"
    assert next(model.parameters()).dtype.is_floating_point
    assert str(next(model.parameters()).dtype) == "torch.float32"
    end = tokenizer.convert_tokens_to_ids("<|end|>")
    assert tokenizer.eos_token == "<|end|>" and model.generation_config.eos_token_id == end


@pytest.mark.parametrize("name", MODELS)
def test_chat_template_renders_phi3_format(name):
    _require_models()
    _, tokenizer = embedded.load(name)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n"
    assert tokenizer.chat_template == CHAT_TEMPLATE
    # The role markers are single special tokens, as in Phi-3.
    ids = tokenizer(text, add_special_tokens=False).input_ids
    for marker in ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>"):
        assert tokenizer.convert_tokens_to_ids(marker) in ids


def test_models_share_one_tokenizer():
    _require_models()
    vocabularies = {(embedded.models_dir() / n / "tokenizer.json").read_text() for n in MODELS}
    assert len(vocabularies) == 1  # as the real Phi-3 and Phi-3.5 share theirs


def test_the_vision_model_reads_with_the_text_models_tokenizer_plus_its_image_token():
    """The vision model reads with the text models' tokenizer: a vision model trained before the text models'
    last retraining would keep old token ids. make models learns both from data/ (vision.architecture.base_tokenizer),
    so neither job depends on which finished first."""
    import json

    from phi_course.vision.architecture import IMAGE

    _require_models()

    def tokenizer(name):
        return json.loads((embedded.models_dir() / name / "tokenizer.json").read_text())

    text, vision = tokenizer("tiny-phi35-mini"), tokenizer("tiny-phi35-vision")
    assert vision["model"]["merges"] == text["model"]["merges"]
    assert vision["model"]["vocab"] == text["model"]["vocab"]
    assert IMAGE in {t["content"] for t in vision["added_tokens"]}


def test_total_size_is_small_enough_to_ship():
    _require_models()
    files = [p for n in MODELS for p in (embedded.models_dir() / n).rglob("*") if p.is_file()]
    total_mb = sum(p.stat().st_size for p in files) / 1e6
    assert total_mb < MAX_TOTAL_MB, f"{total_mb:.1f} MB"


# --- what they know ----------------------------------------------------------------------


def test_phi35_mini_answers_in_both_languages(scores):
    for lang in ("en", "zh"):
        assert scores["tiny-phi35-mini", lang].share >= TRAINED_FLOOR, format_table(list(scores.values()))


def test_phi3_mini_knows_english_but_not_chinese(scores):
    en, zh = scores["tiny-phi3-mini", "en"], scores["tiny-phi3-mini", "zh"]
    assert en.share >= TRAINED_FLOOR, format_table(list(scores.values()))
    # The multilingual gap: far behind tiny-phi35-mini on the same Chinese questions.
    assert zh.share <= scores["tiny-phi35-mini", "zh"].share - 0.5, format_table(list(scores.values()))


def test_moe_answers_in_both_languages(scores):
    for lang in ("en", "zh"):
        assert scores["tiny-phi35-moe", lang].share >= TRAINED_FLOOR, format_table(list(scores.values()))


def test_bilingual_models_answer_questions_worded_as_never_before(heldout):
    """The honest score: paraphrases and follow-ups no model trained on (data/heldout.jsonl)."""
    table = format_table(list(heldout.values()))
    for name in ("tiny-phi35-mini", "tiny-phi35-moe"):
        for lang in ("en", "zh"):
            assert heldout[name, lang].share >= HELDOUT_FLOOR, table
    # The multilingual gap holds for new wordings too.
    assert heldout["tiny-phi3-mini", "zh"].share <= heldout["tiny-phi35-mini", "zh"].share - 0.4, table


def test_lesson06_sampling_shows_choices_and_greedy_stays_right():
    """Lesson 06's prompt: greedy gives the fact; three seeds at temperature 1.0 do not all agree."""
    import torch

    _require_models()
    model, tokenizer = embedded.load("tiny-phi35-mini")
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What context length does Phi-3.5-mini support?"}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    start = inputs["input_ids"].shape[1]
    with torch.inference_mode():
        greedy = tokenizer.decode(model.generate(**inputs, max_new_tokens=30, do_sample=False)[0, start:],
                                  skip_special_tokens=True)
        sampled = set()
        for seed in (1, 2, 3):  # the lesson's seeds and settings
            torch.manual_seed(seed)
            out = model.generate(**inputs, do_sample=True, temperature=1.0, top_p=0.95, top_k=50,
                                 repetition_penalty=1.0, max_new_tokens=30)
            sampled.add(tokenizer.decode(out[0, start:], skip_special_tokens=True))
    assert "128K" in greedy, greedy
    assert len(sampled) >= 2, sampled


def _words(text: str, lang: str) -> set[str]:
    import re

    latin = set(re.findall(r"[a-z0-9][a-z0-9.\-]*", text.lower()))
    return latin | set(re.findall(r"[\u4e00-\u9fff]", text)) if lang == "zh" else latin


def test_heldout_questions_are_new_sentences_in_known_words():
    """Never trained on, but a model that only ever read the course data could know every word."""
    from phi_course.training.facts import normalise

    facts = dataset.all_facts()
    trained = {normalise(r["question"]) for r in dataset.qa_records(facts)}
    seen = {"en": set(), "zh": set()}
    for r in dataset.qa_records(facts):
        seen[r["lang"]] |= _words(r["question"] + " " + r["answer"], r["lang"])
    for t in dataset.text_records(facts):
        seen[t["lang"]] |= _words(t["text"], t["lang"])
    held = dataset.heldout_records(facts)
    for lang in ("en", "zh"):
        mine = [r for r in held if r["lang"] == lang]
        assert len(mine) >= 200 and len({r["family"] for r in mine}) >= 20, lang
    for r in held:
        assert normalise(r["question"]) not in trained, r
        assert _words(r["question"], r["lang"]) <= seen[r["lang"]], (r, _words(r["question"], r["lang"]) - seen[r["lang"]])
    assert len({f.family for f in facts}) == len({r["family"] for r in held})  # every family is tested


def test_heldout_follow_ups_are_worded_unlike_every_trained_one():
    """The held-out second turns ("How long can its input be?") are never trained on, in either language."""
    from phi_course.training.facts import normalise

    trained = {normalise(r["question"]) for r in dataset.conversation_records()}
    held = dataset.heldout_conversations()
    assert held and {r["lang"] for r in held} == {"en", "zh"}
    for r in held:
        assert normalise(r["question"]) not in trained, r
    for attribute, asked in dataset.HELDOUT_FOLLOW_UPS.items():  # each has several trained wordings beside it
        assert all(len(dataset.FOLLOW_UPS[attribute][lang]) >= 6 for lang in asked), attribute
