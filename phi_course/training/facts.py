"""One fact the embedded models learn, asked in English and in Chinese.

Introduced in lessons/11_build_a_tiny_slm.ipynb.

A fact has a `key`: a short piece of text (a number, an id, a port) that any
correct answer must contain. Evaluation checks for the key rather than for the
exact answer, so a model that rephrases but keeps the fact still scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LANGS = ("en", "zh")


def has_cjk(text: str) -> bool:
    """True when `text` contains a Chinese character (how we tell Chinese answers apart)."""
    return bool(CJK.search(text))


@dataclass(frozen=True)
class Fact:
    """A question with 2-4 phrasings per language and one short answer per language."""

    id: str
    topic: str
    key: str
    en_questions: tuple[str, ...]
    en_answer: str
    zh_questions: tuple[str, ...]
    zh_answer: str
    zh_key: str | None = None  # only where the fact reads differently in Chinese

    def key_for(self, lang: str) -> str:
        return self.zh_key if lang == "zh" and self.zh_key else self.key

    def questions(self, lang: str) -> tuple[str, ...]:
        return self.en_questions if lang == "en" else self.zh_questions

    def answer(self, lang: str) -> str:
        return self.en_answer if lang == "en" else self.zh_answer

    def problems(self) -> list[str]:
        """What is wrong with this fact (empty when it is fit to train on)."""
        found = []
        for lang in LANGS:
            answer, questions = self.answer(lang), self.questions(lang)
            if self.key_for(lang) not in answer:
                found.append(f"{self.id}: the {lang} answer lacks the key {self.key_for(lang)!r}")
            if not 1 <= len(questions) <= 4:
                found.append(f"{self.id}: {len(questions)} {lang} phrasings (want 1-4 written by hand)")
            if len(set(questions)) != len(questions):
                found.append(f"{self.id}: repeated {lang} phrasing")
        if has_cjk(self.en_answer) or any(has_cjk(q) for q in self.en_questions):
            found.append(f"{self.id}: Chinese characters in the English side")
        if not has_cjk(self.zh_answer) or not all(has_cjk(q) for q in self.zh_questions):
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
