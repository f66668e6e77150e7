"""The course's own training data: bilingual question-answer pairs and plain text.

Introduced in lessons/11_build_a_tiny_slm.ipynb (step 1: collect data).

Everything is generated from the fact modules, deterministically, so the data
the models train on and the reviewable copy in data/*.jsonl are the same
thing. `python -m phi_course.training dataset` rewrites that copy.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from phi_course.training.corpus import PARAGRAPHS
from phi_course.training.facts import LANGS, Fact, normalise
from phi_course.training.facts_catalog import catalog_facts
from phi_course.training.facts_concepts import CONCEPT_FACTS
from phi_course.training.facts_routes import ROUTE_FACTS

__all__ = ["DATA_DIR", "FOLLOW_UPS", "HELDOUT_FOLLOW_UPS", "MIN_PHRASINGS", "PARAPHRASES", "VARIANT", "all_facts",
           "conversation_records", "heldout_conversations", "heldout_records", "phrasings", "qa_records",
           "read_jsonl", "summary", "text_records", "write_dataset"]

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
QA_FILE, TEXTS_FILE = "qa.jsonl", "texts.jsonl"
HELDOUT_FILE, CONVERSATIONS_FILE = "heldout.jsonl", "conversations.jsonl"
# More phrasings of the hand-written facts, and held-out ones never trained on (written for the
# course, one line per fact: {id, train_en, train_zh, heldout_en, heldout_zh}).
PARAPHRASES = Path(__file__).with_name("paraphrases.jsonl")

# A prefixed phrasing for a fact asked fewer than three ways, so each is asked at least three ways.
VARIANT = {"en": "Quick question: {q}", "zh": "请问，{q}"}
MIN_PHRASINGS = 3


def _with_paraphrases(facts: list[Fact]) -> list[Fact]:
    """The hand-written facts with their extra and held-out phrasings from PARAPHRASES."""
    if not PARAPHRASES.exists():
        return facts
    extra = {row["id"]: row for row in read_jsonl(PARAPHRASES)}
    unknown = set(extra) - {f.id for f in facts}
    if unknown:
        raise ValueError(f"{PARAPHRASES.name} has phrasings for facts that do not exist: {sorted(unknown)}")
    return [replace(f, en_extra=f.en_extra + tuple(extra[f.id]["train_en"]),
                    zh_extra=f.zh_extra + tuple(extra[f.id]["train_zh"]),
                    en_heldout=f.en_heldout + tuple(extra[f.id]["heldout_en"]),
                    zh_heldout=f.zh_heldout + tuple(extra[f.id]["heldout_zh"]))
            if f.id in extra else f for f in facts]


def all_facts() -> list[Fact]:
    """Every fact, checked: catalog figures first, then the hand-written ones."""
    facts = catalog_facts() + _with_paraphrases(CONCEPT_FACTS + ROUTE_FACTS)
    problems = [p for f in facts for p in f.problems()]
    ids = Counter(f.id for f in facts)
    problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    asked = Counter(normalise(q) for f in facts for lang in LANGS
                    for q in {normalise(x) for x in f.training_questions(lang) + f.heldout(lang)})
    problems += [f"the question {q!r} belongs to {n} facts" for q, n in asked.items() if n > 1]
    if problems:
        raise ValueError("The dataset has problems; fix the fact modules:\n" + "\n".join(problems))
    return facts


def phrasings(fact: Fact, lang: str) -> list[str]:
    """Every trained phrasing, plus a prefixed variant when there are fewer than three."""
    written = list(fact.training_questions(lang))
    if len(written) < MIN_PHRASINGS:
        written.append(VARIANT[lang].format(q=written[0]))
    return written


def qa_records(facts: list[Fact] | None = None) -> list[dict]:
    """One record per phrasing: {id, topic, lang, question, answer, key}, and "alternatives"
    (other correct answers) where a fact has them: training picks one per epoch (train.pick_answer)."""
    records = []
    for f in facts if facts is not None else all_facts():
        for lang in LANGS:
            others = list(f.answers(lang)[1:])
            for q in phrasings(f, lang):
                record = {"id": f.id, "topic": f.topic, "lang": lang, "question": q, "answer": f.answer(lang),
                          "key": f.key_for(lang)}
                if others:
                    record["alternatives"] = others
                records.append(record)
    return records


def heldout_records(facts: list[Fact] | None = None) -> list[dict]:
    """The held-out paraphrases, never trained on: {id, family, lang, question, key}."""
    return [{"id": f.id, "family": f.family, "lang": lang, "question": q, "key": f.key_for(lang)}
            for f in (facts if facts is not None else all_facts())
            for lang in LANGS for q in f.heldout(lang)]


# Second turns that refer back to the model the first turn was about (attribute -> phrasings).
FOLLOW_UPS = {
    "params": {"en": ["And how many parameters does it have?", "How big is it?", "And its parameter count?",
                      "What size is that model?", "How many weights does it have?", "And how large is it?",
                      "What's its parameter count?", "How many parameters, roughly?"],
               "zh": ["那它有多少参数？", "它有多大？", "它的参数量呢？", "这个模型的规模是多少？",
                      "它的参数数量是多少？", "那它多大？", "这个模型有多少权重？", "参数有多少个？"]},
    "context": {"en": ["What context length does it support?", "And its context window?",
                       "How many tokens can it read?", "What about the context?",
                       "How much text can it take at once?", "What's its maximum input length?",
                       "How many tokens fit in its window?", "How long a prompt can it handle?"],
                "zh": ["它支持多长的上下文？", "那它的上下文窗口呢？", "它能读多少 token？", "上下文呢？",
                       "它的上下文长度是多少？", "它最多能处理多少 token？", "它的最大输入长度是多少？",
                       "一次能放进多少文字？"]},
    "languages": {"en": ["Which languages does it support?", "Is it multilingual?", "What languages can it handle?",
                         "Which languages does it cover?"],
                  "zh": ["它支持哪些语言？", "它是多语言的吗？", "它能处理哪些语言？", "它覆盖哪些语言？"]},
    "released": {"en": ["When was it released?", "And when did it come out?", "When was that model published?",
                        "What's its release date?", "When did Microsoft release it?", "Which month did it ship?"],
                 "zh": ["它是什么时候发布的？", "那它哪个月发布的？", "这个模型什么时候推出的？",
                        "它的发布日期是？", "微软什么时候发布了它？", "它是哪年哪月出来的？"]},
    "successor": {"en": ["What replaces it?", "And its successor?", "What came after it?",
                         "Which model took its place?"],
                  "zh": ["它的后继模型是什么？", "那用什么代替它？", "它之后出了什么模型？", "哪个模型取代了它？"]},
    "active": {"en": ["How many of those are active per token?", "And per token?",
                      "How many parameters does each token use?", "And how many are active at once?"],
               "zh": ["其中每个 token 激活多少？", "那每个 token 用多少？", "每个 token 实际用到多少参数？",
                      "那一次激活多少参数？"]},
}
HELDOUT_FOLLOW_UPS = {
    "params": {"en": "What about its size?", "zh": "它的规模呢？"},
    "context": {"en": "How long can its input be?", "zh": "它一次能读多长的输入？"},
    "released": {"en": "When did that one appear?", "zh": "这个模型是什么时候出的？"},
}


def _conversations(facts: list[Fact], follow_ups: dict, heldout: bool) -> list[dict]:
    by_id = {f.id: f for f in facts}
    records = []
    for f in facts:
        if not f.id.endswith("-about"):
            continue
        model = f.id.removeprefix("catalog-").removesuffix("-about")
        for attribute, asked in follow_ups.items():
            second = by_id.get(f"catalog-{model}-{attribute}")
            if second is None:
                continue
            for lang in LANGS:
                for j, question in enumerate([asked[lang]] if heldout else asked[lang]):
                    first_q = f.training_questions(lang)[j % len(f.training_questions(lang))]
                    records.append({"id": second.id, "topic": second.topic, "family": "conversation", "lang": lang,
                                    "history": [[first_q, f.answer(lang)]], "question": question,
                                    "answer": second.answer(lang), "key": second.key_for(lang)})
    return records


def conversation_records(facts: list[Fact] | None = None) -> list[dict]:
    """Two-turn chats whose second question refers back to the model of the first ("it", "它")."""
    return _conversations(facts if facts is not None else all_facts(), FOLLOW_UPS, heldout=False)


def heldout_conversations(facts: list[Fact] | None = None) -> list[dict]:
    """Two-turn chats with follow-ups worded unlike any trained one: the models never see these."""
    return _conversations(facts if facts is not None else all_facts(), HELDOUT_FOLLOW_UPS, heldout=True)


def text_records(facts: list[Fact] | None = None, per_paragraph: int = 4) -> list[dict]:
    """Plain paragraphs for pre-training: hand-written ones, then answers strung together by topic."""
    records = [{"id": f"text-{lang}-{i:03d}", "lang": lang, "text": text}
               for lang in LANGS for i, text in enumerate(PARAGRAPHS[lang], start=1)]
    by_topic: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in facts if facts is not None else all_facts():
        for lang in LANGS:
            by_topic[(f.topic, lang)].append(f.answer(lang))
    for (topic, lang), answers in by_topic.items():
        joiner = "" if lang == "zh" else " "
        for i in range(0, len(answers), per_paragraph):
            records.append({"id": f"text-{lang}-{topic}-{i // per_paragraph + 1:02d}", "lang": lang,
                            "text": joiner.join(answers[i:i + per_paragraph])})
    return records


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_dataset(out_dir: Path = DATA_DIR) -> dict[str, Path]:
    """Write data/qa.jsonl, texts.jsonl, conversations.jsonl and heldout.jsonl; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = all_facts()
    paths = {"qa": out_dir / QA_FILE, "texts": out_dir / TEXTS_FILE,
             "conversations": out_dir / CONVERSATIONS_FILE, "heldout": out_dir / HELDOUT_FILE}
    _write_jsonl(paths["qa"], qa_records(facts))
    _write_jsonl(paths["texts"], text_records(facts))
    _write_jsonl(paths["conversations"], conversation_records(facts))
    _write_jsonl(paths["heldout"], heldout_records(facts) + heldout_conversations(facts))
    return paths


def summary(facts: list[Fact] | None = None) -> dict[str, int]:
    """Counts a lesson can show: facts, phrasings per language, facts per topic."""
    facts = facts if facts is not None else all_facts()
    records = qa_records(facts)
    counts = {"facts": len(facts)}
    counts.update({f"questions_{lang}": sum(r["lang"] == lang for r in records) for lang in LANGS})
    held = heldout_records(facts)
    counts.update({f"heldout_{lang}": sum(r["lang"] == lang for r in held) for lang in LANGS})
    counts["conversations"] = len(conversation_records(facts))
    counts.update({f"topic_{t}": n for t, n in sorted(Counter(f.topic for f in facts).items())})
    return counts
