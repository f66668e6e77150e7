"""The course's own training data: bilingual question-answer pairs and plain text.

Introduced in lessons/11_build_a_tiny_slm.ipynb (step 1: collect data).

Everything is generated from the fact modules, deterministically, so the data
the models train on and the reviewable copy in data/*.jsonl are the same
thing. `python -m phi_course.training dataset` rewrites that copy.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from .corpus import PARAGRAPHS
from .facts import LANGS, Fact
from .facts_catalog import catalog_facts
from .facts_concepts import CONCEPT_FACTS
from .facts_routes import ROUTE_FACTS

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
QA_FILE, TEXTS_FILE = "qa.jsonl", "texts.jsonl"

# One extra phrasing per fact, so that each fact is asked at least three ways.
VARIANT = {"en": "Quick question: {q}", "zh": "请问，{q}"}
MIN_PHRASINGS = 3


def all_facts() -> list[Fact]:
    """Every fact, checked: catalog figures first, then the hand-written ones."""
    facts = catalog_facts() + CONCEPT_FACTS + ROUTE_FACTS
    problems = [p for f in facts for p in f.problems()]
    ids = Counter(f.id for f in facts)
    problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    asked = Counter(q for f in facts for lang in LANGS for q in f.questions(lang))
    problems += [f"the question {q!r} belongs to {n} facts" for q, n in asked.items() if n > 1]
    if problems:
        raise ValueError("The dataset has problems; fix the fact modules:\n" + "\n".join(problems))
    return facts


def phrasings(fact: Fact, lang: str) -> list[str]:
    """The hand-written phrasings, plus a prefixed variant when there are fewer than three."""
    written = list(fact.questions(lang))
    if len(written) < MIN_PHRASINGS:
        written.append(VARIANT[lang].format(q=written[0]))
    return written


def qa_records(facts: list[Fact] | None = None) -> list[dict]:
    """One record per phrasing: {id, topic, lang, question, answer, key}."""
    return [
        {"id": f.id, "topic": f.topic, "lang": lang, "question": q, "answer": f.answer(lang),
         "key": f.key_for(lang)}
        for f in (facts if facts is not None else all_facts())
        for lang in LANGS
        for q in phrasings(f, lang)
    ]


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
    """Write data/qa.jsonl and data/texts.jsonl; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = all_facts()
    paths = {"qa": out_dir / QA_FILE, "texts": out_dir / TEXTS_FILE}
    _write_jsonl(paths["qa"], qa_records(facts))
    _write_jsonl(paths["texts"], text_records(facts))
    return paths


def summary(facts: list[Fact] | None = None) -> dict[str, int]:
    """Counts a lesson can show: facts, phrasings per language, facts per topic."""
    facts = facts if facts is not None else all_facts()
    records = qa_records(facts)
    counts = {"facts": len(facts)}
    counts.update({f"questions_{lang}": sum(r["lang"] == lang for r in records) for lang in LANGS})
    counts.update({f"topic_{t}": n for t, n in sorted(Counter(f.topic for f in facts).items())})
    return counts
