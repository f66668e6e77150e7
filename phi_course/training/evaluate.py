"""Score the embedded models: does the answer hold the key fact, in the question's language?

Introduced in lessons/01_slm_vs_llm.ipynb (the multilingual gap between tiny-phi3-mini
and tiny-phi35-mini); `make eval-models` prints the full table.

An answer counts when it contains the fact's key (a number, an id, a port)
AND is written in the language of the question: a Chinese answer has Chinese
characters, an English one has none. Decoding is greedy, through the chat
template, in left-padded batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..embedded import EMBEDDED, load
from .dataset import all_facts, phrasings
from .facts import LANGS, has_cjk
from .tokenizer import chat_prompt

BATCH_SIZE = 64


@dataclass
class Score:
    """How one model did in one language."""

    model: str
    lang: str
    correct: int
    total: int
    misses: list[dict] = field(default_factory=list, repr=False)  # {question, answer, key}

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.model} [{self.lang}]: {self.correct}/{self.total} = {self.share:.0%}"


def is_correct(answer: str, key: str, lang: str) -> bool:
    """The key is in the answer, and the answer is in the asked language."""
    return key in answer and has_cjk(answer) == (lang == "zh")


def eval_questions(lang: str, limit: int | None = None, one_phrasing: bool = False) -> list[dict]:
    """The trained questions in `lang` as {id, question, key}: every phrasing, or one per fact."""
    rows = []
    for fact in all_facts():
        asked = phrasings(fact, lang)
        for q in asked[:1] if one_phrasing else asked:
            rows.append({"id": fact.id, "question": q, "key": fact.key_for(lang)})
    return rows[:limit] if limit is not None else rows


@torch.inference_mode()
def generate_answers(model, tokenizer, questions: list[str], max_new_tokens: int = 64,
                     batch_size: int = BATCH_SIZE, system: str | None = None) -> list[str]:
    """Greedy answers to `questions`, one chat turn each, in left-padded batches."""
    answers = []
    for i in range(0, len(questions), batch_size):
        prompts = [chat_prompt(tokenizer, q, system) for q in questions[i:i + batch_size]]
        batch = tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left",
                          add_special_tokens=False)
        out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                             eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
        answers += tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    return [a.strip() for a in answers]


def _load(model_name: str, path: Path | None):
    if path is None:
        return load(model_name)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path, dtype="float32").eval()
    return model, AutoTokenizer.from_pretrained(path)


def evaluate(model_name: str, lang: str, limit: int | None = None, one_phrasing: bool = False,
             path: Path | None = None) -> Score:
    """Score one embedded model on the trained questions in one language ('en' or 'zh').

    `path` evaluates a model folder other than the shipped one (e.g. a fresh training run).
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    if model_name not in EMBEDDED and path is None:
        raise KeyError(f"No embedded model called {model_name!r}. Known: {', '.join(EMBEDDED)}")
    model, tokenizer = _load(model_name, path)
    rows = eval_questions(lang, limit, one_phrasing)
    answers = generate_answers(model, tokenizer, [r["question"] for r in rows])
    score = Score(model_name, lang, 0, len(rows))
    for row, answer in zip(rows, answers, strict=True):
        if is_correct(answer, row["key"], lang):
            score.correct += 1
        else:
            score.misses.append({"question": row["question"], "answer": answer, "key": row["key"]})
    return score


def evaluate_all(only: str | None = None, limit: int | None = None, one_phrasing: bool = False,
                 models_path: Path | None = None) -> list[Score]:
    """Scores for every embedded model (or `only`) in both languages."""
    names = [only] if only else list(EMBEDDED)
    return [evaluate(name, lang, limit, one_phrasing, models_path / name if models_path else None)
            for name in names for lang in LANGS]


def format_table(scores: list[Score]) -> str:
    """model x language -> share correct, as a plain-text table."""
    names = list(dict.fromkeys(s.model for s in scores))
    width = max(len(n) for n in names)
    lines = [f"{'model':<{width}}  {'en':>14}  {'zh':>14}"]
    for name in names:
        cells = []
        for lang in LANGS:
            s = next((s for s in scores if s.model == name and s.lang == lang), None)
            cells.append(f"{s.share:6.1%} ({s.correct}/{s.total})" if s else "-")
        lines.append(f"{name:<{width}}  " + "  ".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def print_table(only: str | None = None, limit: int | None = None, one_phrasing: bool = False) -> list[Score]:
    """Evaluate and print the table (what `make eval-models` shows)."""
    scores = evaluate_all(only, limit, one_phrasing)
    print(format_table(scores))
    return scores
