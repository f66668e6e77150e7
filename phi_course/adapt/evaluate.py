"""A small exact-match harness: your questions, your expected answers, two models side by side.

Introduced in lessons/13_make_it_yours.ipynb.

A model's answer counts as right when, after `normalize`, it equals the expected
answer ("exact") or contains it ("contains"). Small models answer in sentences,
so "contains" is usually the fairer score for them; "exact" is what a form or a
program reading the answer needs.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from phi_course.i18n import N_, _
from phi_course.tables import Table

__all__ = ["Question", "Scored", "contains", "exact_match", "normalize", "questions_from", "score",
           "side_by_side", "summary"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Punctuation becomes a space, so "host:port" still holds the port as a word of its own.
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "，。！？；：、“”‘’（）"})


@dataclass(frozen=True)
class Question:
    """One question and the answer you expect (short: a name, a number, a date)."""

    question: str
    answer: str


@dataclass(frozen=True)
class Scored:
    """One model's answer to one question, and whether it matched."""

    model: str
    question: str
    expected: str
    answer: str
    exact: bool
    contains: bool


def normalize(text: str) -> str:
    """Lower case, no punctuation, no English articles, single spaces: "The 3.8B!" -> "3.8b".

    Decimal points inside numbers are kept ("3.8b" stays "3.8b"), so 3.8 and 38 never match.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(\d)\.(\d)", "\\1\u2024\\2", text)  # protect decimals from the punctuation strip
    text = text.translate(_PUNCTUATION).replace("\u2024", ".")
    without_articles = _ARTICLES.sub(" ", text)
    return " ".join((without_articles if without_articles.strip() else text).split())  # "A" stays a choice


def exact_match(answer: str, expected: str) -> bool:
    """True when the answer is the expected one, once both are normalized."""
    return normalize(answer) == normalize(expected)


def contains(answer: str, expected: str) -> bool:
    """True when the normalized expected answer appears in the normalized answer, as whole words."""
    want = normalize(expected)
    if not want:
        raise ValueError("The expected answer is empty after normalizing: give at least one word or number.")
    # Whole words for Latin letters and digits ("16" is not in "2016"); Chinese has no spaces to look for.
    left = r"(?<![a-z0-9.])" if want[0].isascii() and want[0].isalnum() else ""
    right = r"(?![a-z0-9]|\.\d)" if want[-1].isascii() and want[-1].isalnum() else ""
    return re.search(left + re.escape(want) + right, normalize(answer)) is not None


def questions_from(pairs: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[Question]:
    """Questions from (question, expected answer) pairs or a {question: answer} dict."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    questions = [Question(q, a) for q, a in items]
    for q in questions:
        if not q.question.strip() or not normalize(q.answer):
            raise ValueError(f"Every question needs some text and an expected answer; got {q!r}.")
    return questions


def score(model: str, answer: Callable[[str], str], questions: Iterable[Question]) -> list[Scored]:
    """Ask `answer(question)` every question and score each reply."""
    results = []
    for q in questions:
        reply = answer(q.question)
        results.append(Scored(model, q.question, q.answer, reply, exact_match(reply, q.answer),
                              contains(reply, q.answer)))
    return results


def side_by_side(models: Mapping[str, Callable[[str], str]], questions: Iterable[Question]) -> Table:
    """Every question down, every model across: its answer, with a tick when it contains the expected one."""
    questions = list(questions)
    scored = {name: score(name, fn, questions) for name, fn in models.items()}
    rows = []
    for i, q in enumerate(questions):
        row = {N_("question"): q.question, N_("expected"): q.answer}
        for name, results in scored.items():
            row[name] = ("✓ " if results[i].contains else "✗ ") + results[i].answer
        rows.append(row)
    rows.append({N_("question"): _("score (contains / exact)"), N_("expected"): "",
                 **{name: summary(results) for name, results in scored.items()}})
    return Table(rows, _("Your questions, side by side (✓: the answer contains what you expected)"))


def summary(results: list[Scored]) -> str:
    """"3/5 contain · 1/5 exact" for one model's results."""
    n = len(results)
    return _("{contain}/{n} contain · {exact}/{n} exact").format(contain=sum(r.contains for r in results),
                                                                  exact=sum(r.exact for r in results), n=n)
