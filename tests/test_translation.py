"""Each Chinese lesson stays a translation of its English twin: the same cells in the same
order, the same code (only string literals and comments may differ), every cell translated,
its links working from lessons/zh/ and its sources (URLs) kept.

Peers that translated notebooks saw the code of the two editions drift apart; this is what
catches it. A failure names the cell (counted from 0, as nbformat does) and what differs.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from tests.lesson_files import CHINESE, EN_LESSONS, ZH_LESSONS, english_twin, lesson_id

HAN = re.compile(r"[\u4e00-\u9fff]")
CODE_SPAN = re.compile(r"`[^`]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
URL = re.compile(r"https?://[^\s)>\]`\"'，。）]+")
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
PAIRS = [(english_twin(p), p) for p in ZH_LESSONS if english_twin(p).exists()]
IDS = [lesson_id(zh) for _, zh in PAIRS]


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


class _BlankStrings(ast.NodeTransformer):
    """Every string constant (prompts, messages, docstrings, f-string text) becomes ""."""

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return ast.Constant("") if isinstance(node.value, str) else node


def code_shape(code: str) -> ast.Module:
    """The cell's syntax tree with strings blanked; comments are not in a tree at all."""
    python = TransformerManager().transform_cell(code)  # %magics and !commands become calls
    return _BlankStrings().visit(ast.parse(python))


def markdown_text(cell: dict) -> str:
    """A markdown cell's prose: code spans, link targets and URLs taken out."""
    text = LINK.sub(lambda m: m.group(0).split("](")[0], source(cell))
    return URL.sub(" ", CODE_SPAN.sub(" ", text))


def test_every_english_lesson_has_a_chinese_twin():
    assert [p.name for p in EN_LESSONS if not (CHINESE / p.name).exists()] == []


@pytest.mark.parametrize(("english", "chinese"), PAIRS, ids=IDS)
def test_same_cells_in_the_same_order(english, chinese):
    en, zh = cells(english), cells(chinese)
    assert [c["cell_type"] for c in zh] == [c["cell_type"] for c in en], (
        f"{chinese.name}: {len(zh)} cells, the English has {len(en)}; both editions need the same cells in the "
        "same order (split or merge paragraphs inside a cell, never across cells)")
    tags = [i for i, (a, b) in enumerate(zip(en, zh, strict=True))
            if a.get("metadata", {}).get("tags") != b.get("metadata", {}).get("tags")]
    assert tags == [], f"{chinese.name}: cells {tags} carry other tags than the English (raises-exception...)"


@pytest.mark.parametrize(("english", "chinese"), PAIRS, ids=IDS)
def test_code_is_the_english_code(english, chinese):
    en, zh = cells(english), cells(chinese)
    if len(en) != len(zh):
        pytest.skip("the cells differ in number (test_same_cells_in_the_same_order says how)")
    drifted = []
    for index, (a, b) in enumerate(zip(en, zh, strict=True)):
        if a["cell_type"] != "code" or b["cell_type"] != "code":
            continue
        try:
            mine = code_shape(source(b))
        except SyntaxError as error:
            drifted.append(f"cell {index}: does not parse ({error.msg}, line {error.lineno})")
            continue
        theirs = code_shape(source(a))
        if ast.dump(mine) != ast.dump(theirs):
            left = ast.unparse(theirs).splitlines()
            right = ast.unparse(mine).splitlines()
            first = next((i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y), min(len(left), len(right)))
            drifted.append(f"cell {index}, line {first + 1} (strings blanked): English "
                           f"{left[first] if first < len(left) else '<end>'!r} vs Chinese "
                           f"{right[first] if first < len(right) else '<end>'!r}")
    assert drifted == [], (f"{chinese.name}: code differs from {english.name} beyond strings and comments:\n  "
                           + "\n  ".join(drifted))


@pytest.mark.parametrize(("english", "chinese"), PAIRS, ids=IDS)
def test_every_markdown_cell_is_translated(english, chinese):
    pairs = [(i, a, b) for i, (a, b) in enumerate(zip(cells(english), cells(chinese), strict=False))
             if a["cell_type"] == b["cell_type"] == "markdown"]
    left = [i for i, a, b in pairs
            if len(ENGLISH_WORD.findall(markdown_text(a))) >= 3 and not HAN.search(markdown_text(b))]
    assert left == [], f"{chinese.name}: markdown cells {left} are still in English"


@pytest.mark.parametrize(("english", "chinese"), PAIRS, ids=IDS)
def test_links_work_from_the_chinese_folder_and_sources_are_kept(english, chinese):
    broken, english_lessons = [], []
    for index, cell in enumerate(cells(chinese)):
        if cell["cell_type"] != "markdown":
            continue
        for target in LINK.findall(source(cell)):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (chinese.parent / unquote(target.split("#")[0])).resolve()
            if not path.exists():
                broken.append(f"cell {index}: {target}")
            elif path.suffix == ".ipynb" and path.parent != CHINESE.resolve():
                english_lessons.append(f"cell {index}: {target}")
    assert broken == [], f"{chinese.name}: links that do not resolve from lessons/zh/ (one more ../?): {broken}"
    assert english_lessons == [], f"{chinese.name}: links to an English lesson; point to its Chinese twin: " \
                                  f"{english_lessons}"
    en_urls = {u.rstrip(".,;:") for c in cells(english) if c["cell_type"] == "markdown" for u in URL.findall(source(c))
               if not u.startswith("https://colab.research.google.com/github/")}  # each edition opens itself
    zh_text = "\n".join(source(c) for c in cells(chinese) if c["cell_type"] == "markdown")
    assert sorted(u for u in en_urls if u not in zh_text) == [], f"{chinese.name}: sources the English cites are missing"


def test_the_drift_check_sees_a_renamed_variable_and_not_a_translated_prompt():
    english = 'reply = ask("What is an SLM?", max_tokens=80)  # ask\nprint(f"{reply:>10} tokens")'
    translated = 'reply = ask("什么是小语言模型？", max_tokens=80)  # 提问\nprint(f"{reply:>10} 个词元")'
    renamed = 'answer = ask("什么是小语言模型？", max_tokens=80)\nprint(f"{answer:>10} 个词元")'
    reordered = 'reply = ask("什么是小语言模型？", max_tokens=60)\nprint(f"{reply:>10} 个词元")'
    assert ast.dump(code_shape(english)) == ast.dump(code_shape(translated))
    assert ast.dump(code_shape(english)) != ast.dump(code_shape(renamed))
    assert ast.dump(code_shape(english)) != ast.dump(code_shape(reordered))
