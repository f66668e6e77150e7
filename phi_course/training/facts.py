"""One fact the embedded models learn, asked in English and in Chinese.

Introduced in lessons/11_build_a_tiny_slm.ipynb.

A fact has a `key`: a short piece of text (a number, an id, a port) that any
correct answer must contain. Evaluation checks for the key rather than for the
exact answer, so a model that rephrases but keeps the fact still scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CJK", "Fact", "LANGS", "has_cjk", "normalise", "split", "topic_facts"]

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LANGS = ("en", "zh")


def has_cjk(text: str) -> bool:
    """True when `text` contains a Chinese character (how we tell Chinese answers apart)."""
    return bool(CJK.search(text))


def normalise(question: str) -> str:
    """A question without case, punctuation or extra spaces: how near-duplicates are found."""
    return " ".join(re.sub(r"[\W_]+", " ", question.lower()).split())


@dataclass(frozen=True)
class Fact:
    """A question asked many ways per language, one short answer per language, and a key.

    `*_questions` are the main phrasings (1-4, the first is the one lessons quote);
    `*_extra` more training phrasings; `*_heldout` phrasings that are never trained
    on, to test whether a model answers however it is asked; `*_alternatives` other
    correct answers, so that sampling has something to choose between.
    """

    id: str
    topic: str
    key: str
    en_questions: tuple[str, ...]
    en_answer: str
    zh_questions: tuple[str, ...]
    zh_answer: str
    zh_key: str | None = None  # only where the fact reads differently in Chinese
    en_extra: tuple[str, ...] = ()
    zh_extra: tuple[str, ...] = ()
    en_heldout: tuple[str, ...] = ()
    zh_heldout: tuple[str, ...] = ()
    en_alternatives: tuple[str, ...] = ()
    zh_alternatives: tuple[str, ...] = ()

    def key_for(self, lang: str) -> str:
        return self.zh_key if lang == "zh" and self.zh_key else self.key

    def questions(self, lang: str) -> tuple[str, ...]:
        return self.en_questions if lang == "en" else self.zh_questions

    def training_questions(self, lang: str) -> tuple[str, ...]:
        """Every phrasing the models train on: the main ones, then the extra ones."""
        return self.questions(lang) + (self.en_extra if lang == "en" else self.zh_extra)

    def heldout(self, lang: str) -> tuple[str, ...]:
        return self.en_heldout if lang == "en" else self.zh_heldout

    def answer(self, lang: str) -> str:
        return self.en_answer if lang == "en" else self.zh_answer

    def answers(self, lang: str) -> tuple[str, ...]:
        """The main answer first, then the alternatives."""
        return (self.answer(lang),) + (self.en_alternatives if lang == "en" else self.zh_alternatives)

    @property
    def family(self) -> str:
        """What kind of fact this is, for per-family scores: a topic, or a catalog attribute."""
        if self.id.startswith("catalog-"):
            attribute = self.id.rsplit("-", 1)[-1]
            return "memory" if "-memory-" in self.id else f"catalog: {attribute}"
        if self.id.startswith("route-"):
            return "route ids"
        if self.id.startswith(("bench-", "ref-")):
            return "benchmarks"
        return self.topic

    def problems(self) -> list[str]:
        """What is wrong with this fact (empty when it is fit to train on)."""
        found = []
        for lang in LANGS:
            questions, trained = self.questions(lang), self.training_questions(lang)
            for answer in self.answers(lang):
                if self.key_for(lang) not in answer:
                    found.append(f"{self.id}: a {lang} answer lacks the key {self.key_for(lang)!r}: {answer!r}")
            if not 1 <= len(questions) <= 4:
                found.append(f"{self.id}: {len(questions)} main {lang} phrasings (want 1-4)")
            if len({normalise(q) for q in trained}) != len(trained):
                found.append(f"{self.id}: repeated {lang} phrasing")
            if {normalise(q) for q in self.heldout(lang)} & {normalise(q) for q in trained}:
                found.append(f"{self.id}: a held-out {lang} phrasing is also trained on")
            texts = [*trained, *self.heldout(lang), *self.answers(lang)]
            if lang == "en" and any(has_cjk(t) for t in texts):
                found.append(f"{self.id}: Chinese characters in the English side")
            if lang == "zh" and not all(has_cjk(t) for t in texts):
                found.append(f"{self.id}: a Chinese phrasing or answer without Chinese characters")
        return found


def split(questions: str) -> tuple[str, ...]:
    """Phrasings are written on one line, separated by ' | '."""
    return tuple(q.strip() for q in questions.split(" | ") if q.strip())


def topic_facts(topic: str, rows: list[tuple]) -> list[Fact]:
    """Facts from hand-written rows of (key, en questions, en answer, zh questions, zh answer).

    `key` is one string shared by both languages (a number, an id, a port), or a
    pair (english key, chinese key) for the few facts that are words rather
    than names. Ids are the topic and the row number, so append new rows at the
    end rather than inserting them.
    """
    facts = []
    for i, (key, en_q, en_a, zh_q, zh_a) in enumerate(rows, start=1):
        en_key, zh_key = (key, None) if isinstance(key, str) else key
        facts.append(Fact(f"{topic}-{i:03d}", topic, en_key, split(en_q), en_a, split(zh_q), zh_a, zh_key))
    return facts
