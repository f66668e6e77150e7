"""Answer from your own text: a BM25 keyword index, the best passage, a prompt that holds it.

Introduced in lessons/13_make_it_yours.ipynb.

Retrieval makes up for what a small model does not know (the Phi-3 report says
so of its weak factual recall): find the passage that answers, put it in the
prompt, and the model only has to read. BM25 (the `rank-bm25` package) scores
passages by the words they share with the question, rarer words counting more;
it needs no model download, which is why the lesson uses it. Embedding models
find passages that share meaning but not words; the loop stays the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_PASSAGE_WORDS", "Hit", "Index", "Passage", "course_passages", "lesson_passages",
           "messages_with", "note_passages", "text_passages", "words"]

MAX_PASSAGE_WORDS = 80  # the embedded models read 512 tokens at most: passages stay short
_CJK = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character: a word of its own
_WORD = re.compile(_CJK.pattern + r"|[a-z0-9]+(?:[.-][a-z0-9]+)*", re.IGNORECASE)
# Words too common to say what a question is about; BM25 weighs them down anyway, this keeps
# one-word passages from winning on "is" or "the".
_STOP = frozenset("a an and are as at be by can do does for from has have how i in is it its me my of on "
                  "or our the their this to was we what when where which who why will with you your".split())


@dataclass(frozen=True)
class Passage:
    """A short piece of text and where it came from."""

    source: str
    text: str


@dataclass(frozen=True)
class Hit:
    """A passage and its BM25 score for one question (higher: more words in common, rarer ones)."""

    passage: Passage
    score: float


def words(text: str) -> list[str]:
    """The words BM25 compares: lower case, stop words left out, each Chinese character a word."""
    return [w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP]


def _length(text: str) -> int:
    """Words, counting each Chinese character as one (Chinese puts no spaces between words)."""
    return len(text.split()) + len(_CJK.findall(text))


def _join(sentences: list[str]) -> str:
    """Sentences back into text: a space after English ones, none after Chinese ones (。！？)."""
    return "".join(x + ("" if x.endswith(("。", "！", "？")) else " ") for x in sentences).strip()


def _shorten(text: str, limit: int = MAX_PASSAGE_WORDS) -> list[str]:
    """Split text longer than `limit` words into pieces at sentence ends, each at most about `limit`."""
    sentences = [x for x in re.split(r"(?<=[.!?])\s+|(?<=[。！？])", " ".join(text.split())) if x.strip()]
    pieces, current = [], []
    for sentence in sentences:
        if current and _length(_join(current + [sentence])) > limit:
            pieces.append(_join(current))
            current = []
        current.append(sentence.strip())
    if current:
        pieces.append(_join(current))
    return [p for p in pieces if p]


def note_passages(notes: Iterable[str], source: str = "my notes") -> list[Passage]:
    """Your own notes as passages, one per note (long ones split at sentence ends)."""
    return [Passage(f"{source} #{i}", piece) for i, note in enumerate(notes, start=1) for piece in _shorten(note)]


def text_passages(lang: str = "en") -> list[Passage]:
    """The course's own paragraphs (the records of data/texts.jsonl, built in memory)."""
    from phi_course.training.dataset import text_records

    return [Passage(r["id"], piece) for r in text_records() if r["lang"] == lang for piece in _shorten(r["text"])]


def lesson_passages(lessons_dir: Path | None = None, lang: str = "en") -> list[Passage]:
    """The markdown of the course's lessons in `lang` (lessons/, or lessons/zh/ for Chinese), one passage per
    paragraph (none when the folder is absent, as in a copy of the package without the lessons)."""
    folder = lessons_dir or Path(__file__).resolve().parents[2] / "lessons" / ("zh" if lang == "zh" else "")
    passages = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "markdown":
                continue
            text = "".join(cell["source"])
            for paragraph in re.split(r"\n\s*\n", text):
                paragraph = re.sub(r"^#+\s*", "", paragraph.strip())
                if _length(paragraph) >= 8:  # headings and one-liners say too little alone
                    passages += [Passage(path.stem, piece) for piece in _shorten(paragraph)]
    return passages


def course_passages(notes: Iterable[str] = (), lang: str = "en") -> list[Passage]:
    """Everything the lesson indexes: your notes, the course's paragraphs and its lessons' markdown, in `lang`."""
    if lang not in ("en", "zh"):
        raise ValueError(f"The course's texts are in 'en' and 'zh', not {lang!r}.")
    return note_passages(notes) + text_passages(lang) + lesson_passages(lang=lang)


class Index:
    """A BM25 index over passages: `search(question)` returns the best ones first."""

    def __init__(self, passages: Sequence[Passage]):
        from rank_bm25 import BM25Okapi

        self.passages = [p for p in passages if words(p.text)]
        if not self.passages:
            raise ValueError("Nothing to index: every passage was empty. Give at least one passage with words in it.")
        self._bm25 = BM25Okapi([words(p.text) for p in self.passages])

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """The `k` best passages for `question`, best first; passages sharing no word with it are left out."""
        query = words(question)
        if not query:
            raise ValueError(f"The question {question!r} has no words to search for (only stop words or "
                             "punctuation). Ask with the words the answer's passage would contain.")
        scores = self._bm25.get_scores(query)
        best = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
        return [Hit(self.passages[i], float(scores[i])) for i in best if scores[i] > 0]


def messages_with(question: str, passage: Passage | str | None) -> list[dict[str, str]]:
    """Chat messages that ask `question`, with the passage to answer from in the user turn (None: without)."""
    if passage is None:
        return [{"role": "user", "content": question}]
    text = passage.text if isinstance(passage, Passage) else passage
    return [{"role": "user", "content": f"Context: {text}\nQuestion: {question}"}]
