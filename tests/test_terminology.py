"""The Chinese lessons write each term as TERMINOLOGY.md says: the chosen term where the
English twin uses the English one, never a rival, and the first use in the form the note
asks for (词元（token）). Read from the Chinese text learners read: markdown and code comments.
Prompt strings are left out: they are the embedded models' own training questions."""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lesson_files import ROOT, ZH_LESSONS, english_twin, lesson_id
from tests.test_translation import CODE_SPAN, URL, markdown_text

GLOSSARY = ROOT / "TERMINOLOGY.md"
HAN_CHAR = r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]"


@dataclass(frozen=True)
class Term:
    english: str  # as the English lessons write it, parentheses dropped
    chinese: tuple[str, ...]  # the chosen term and any alias in brackets (知识蒸馏（蒸馏）)
    rivals: tuple[str, ...]
    first_use: str | None  # the note's 首次出现写作「…」


def squeeze(text: str) -> str:
    """Spaces between Chinese and Latin text dropped, so 生成式 AI and 生成式AI match alike."""
    text = re.sub(rf"(?<={HAN_CHAR}) +(?=[\w(（])", "", text)
    return re.sub(rf"(?<=[\w)）]) +(?={HAN_CHAR})", "", text)


def _words(cell: str) -> tuple[str, ...]:
    return tuple(squeeze(w.strip()) for w in re.split(r"[、,，]", cell) if w.strip())


def glossary() -> list[Term]:
    terms = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) != 4 or cols[0] in ("English", "---") or set(cols[0]) <= {"-"}:
            continue
        english, chinese, rivals, note = cols
        head, _, alias = chinese.partition("（")
        alias = alias.rstrip("）")
        first = re.search(r"首次出现写作「([^」]+)」", note)
        terms.append(Term(re.sub(r"\s*\(.*?\)", "", english).strip(),
                          (squeeze(head.strip()),) + ((squeeze(alias),) if re.search(HAN_CHAR, alias) else ()),
                          _words(rivals), first and squeeze(first.group(1))))
    return terms


def comments(code: str) -> str:
    try:
        return "\n".join(t.string for t in tokenize.generate_tokens(io.StringIO(code).readline)
                         if t.type == tokenize.COMMENT)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(re.findall(r"#.*", code))


def chinese_text(path: Path) -> str:
    """What a learner reads: markdown prose and code comments (prompts and code spans left out)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    parts = [markdown_text(c) if c["cell_type"] == "markdown" else comments("".join(c["source"])) for c in cells]
    return squeeze("\n".join(parts))


def english_prose(path: Path) -> str:
    """The English lesson's prose, without the questions it quotes (*What context length ...?*):
    their Chinese twins are the embedded models' own training questions, worded their own way."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join(markdown_text(c) for c in cells if c["cell_type"] == "markdown")
    return re.sub(r"\*[^*\n]+\?\*", " ", text).lower()


def first_use_ok(term: Term, text: str) -> bool:
    """The text starts with the term and a bracket naming the English, as the note's form does:
    词元（token） or 词元（stop token） or 词元 (tokens) all count for 词元（token）."""
    inner = re.search(r"[（(]([^）)]+)[）)]", term.first_use).group(1).lower()
    text = re.sub(r"[*_]", "", text[:200])  # emphasis may sit between the term and its bracket
    bracket = re.match(rf"{re.escape(term.chinese[0])}\s*[（(]([^）)]*)[）)]", text)
    return bool(bracket) and inner in bracket.group(1).lower()


def rivals_in(text: str, terms: list[Term]) -> list[str]:
    protected = sorted({w for t in terms for w in t.chinese}, key=len, reverse=True)
    for word in protected:
        text = text.replace(word, "□")
    return [f"{r} (for {t.english}: write {t.chinese[0]})" for t in terms for r in t.rivals if r in text]


TERMS = glossary()


def test_the_glossary_covers_the_terms_the_issue_names():
    named = {"token", "context window", "quantization", "pruning", "distillation", "mixture of experts", "router",
             "KV cache", "sliding-window attention", "grouped-query attention", "instruction tuning", "inference",
             "reasoning model", "route", "generative AI"}
    assert named <= {t.english for t in TERMS}
    assert len(TERMS) >= 40 and all(t.chinese[0] for t in TERMS)


@pytest.mark.parametrize("lesson", ZH_LESSONS, ids=[lesson_id(p) for p in ZH_LESSONS])
def test_no_rival_terms(lesson):
    assert rivals_in(chinese_text(lesson), TERMS) == []


@pytest.mark.parametrize("lesson", ZH_LESSONS, ids=[lesson_id(p) for p in ZH_LESSONS])
def test_the_chosen_term_where_the_english_uses_it(lesson):
    english, chinese = english_prose(english_twin(lesson)), chinese_text(lesson)
    missing = [f"{t.english} -> {t.chinese[0]}" for t in TERMS if t.rivals
               and re.search(rf"(?<![\w-]){re.escape(t.english.lower())}s?(?![\w-])", english)  # not Phi-4-multimodal
               and not any(c in chinese for c in t.chinese)]
    assert missing == [], f"{lesson.name}: the English says these, the Chinese lacks the chosen term"


@pytest.mark.parametrize("lesson", ZH_LESSONS, ids=[lesson_id(p) for p in ZH_LESSONS])
def test_first_use_takes_the_form_the_glossary_asks_for(lesson):
    text = chinese_text(lesson)
    wrong = []
    for term in TERMS:
        where = text.find(term.chinese[0])
        if term.first_use and where >= 0 and not first_use_ok(term, text[where:]):
            wrong.append(f"first {term.chinese[0]} should read {term.first_use}: …{text[where:where + 20]}…")
    assert wrong == [], f"{lesson.name}: {wrong}"


def test_the_checks_catch_rivals_and_spare_the_chosen_terms():
    assert sorted(rivals_in(squeeze("每个令牌都会经过路由器；生成性 AI"), TERMS)) == [
        "令牌 (for token: write 词元)", "生成性AI (for generative AI: write 生成式AI)"]
    assert rivals_in(squeeze("路由器把词元路由到两个专家（top-2 路由），分组查询注意力（GQA）"), TERMS) == []
    assert rivals_in(squeeze("本课比较几条路由"), TERMS) == ["条路由 (for route: write 途径)"]
    token = next(t for t in TERMS if t.english == "token")
    assert first_use_ok(token, "词元（token）是") and first_use_ok(token, "词元*（token，即词的片段）")
    assert not first_use_ok(token, "词元是模型的单位")
    assert CODE_SPAN.sub(" ", "用 `token` 计数") == "用   计数" and URL.sub(" ", "见 https://x.y/令牌") == "见  "
