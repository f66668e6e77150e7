"""Score the embedded models: does the answer hold the key fact, in the question's language?

Introduced in lessons/01_slm_vs_llm.ipynb (the multilingual gap between tiny-phi3-mini
and tiny-phi35-mini); `make eval-models` prints the full table.

An answer counts when it contains the fact's key (a number, an id, a port)
AND is written in the language of the question: a Chinese answer has Chinese
characters, an English one has none. Decoding is greedy, through the chat
template, in left-padded batches.

Two question sets: the trained phrasings, and the held-out paraphrases
(data/heldout.jsonl), written differently and never trained on, including
second turns that refer back to the first. The second is the honest score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from phi_course.adapt.tools import TOOL_FUNCTIONS, TOOLS
from phi_course.local.embedded import (
    EMBEDDED,
    adapter_in,
    load,
    load_with_tools,
    merge_tools_adapter,
    models_dir,
)
from phi_course.local.tool_text import parse_calls
from phi_course.training.architectures import SPECS
from phi_course.training.dataset import all_facts, heldout_conversations, heldout_records, phrasings
from phi_course.training.facts import LANGS, has_cjk
from phi_course.training.skills import heldout_reading, heldout_tool_questions, heldout_tool_results
from phi_course.training.tokenizer import chat_prompt

__all__ = ["BATCH_SIZE", "Score", "eval_questions", "evaluate", "evaluate_all", "evaluate_skills", "format_table",
           "generate_answers", "generate_chats", "is_correct", "parse_call", "print_table", "tool_scores"]

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


def eval_questions(lang: str, limit: int | None = None, one_phrasing: bool = False,
                   heldout: bool = False) -> list[dict]:
    """Questions in `lang` as {id, family, question, key, history}: trained phrasings (every one, or
    one per fact), or with `heldout` the paraphrases and follow-ups the models never trained on."""
    facts = all_facts()
    if heldout:
        rows = [r for r in heldout_records(facts) + heldout_conversations(facts) if r["lang"] == lang]
    else:
        rows = []
        for fact in facts:
            asked = phrasings(fact, lang)
            for q in asked[:1] if one_phrasing else asked:
                rows.append({"id": fact.id, "family": fact.family, "question": q, "key": fact.key_for(lang)})
    return rows[:limit] if limit is not None else rows


@torch.inference_mode()
def _greedy(model, tokenizer, prompts: list[str], max_new_tokens: int, batch_size: int,
            keep_special: bool = False, progress: str | None = None) -> list[str]:
    """Greedy continuations of templated prompts, in left-padded batches. `keep_special` keeps
    special tokens other than end and padding (a tool call is made of them). `progress` names a
    progress bar over the batches (none without it: a lesson's single batch needs none)."""
    answers = []
    starts = range(0, len(prompts), batch_size)
    for i in tqdm(starts, desc=progress, unit="batch", leave=False, disable=progress is None):
        batch = tokenizer(prompts[i:i + batch_size], return_tensors="pt", padding=True, padding_side="left",
                          add_special_tokens=False)
        out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                             eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
        texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=not keep_special)
        if keep_special:
            texts = [t.replace(tokenizer.eos_token, "").replace(tokenizer.pad_token, "") for t in texts]
        answers += [t.strip() for t in texts]
    return answers


def generate_answers(model, tokenizer, questions: list[str], max_new_tokens: int = 64,
                     batch_size: int = BATCH_SIZE, system: str | None = None,
                     histories: list[list] | None = None, progress: str | None = None) -> list[str]:
    """Greedy answers to `questions` (each after its earlier turns, if any), in left-padded batches."""
    histories = histories or [None] * len(questions)
    prompts = [chat_prompt(tokenizer, q, system, h) for q, h in zip(questions, histories, strict=True)]
    return _greedy(model, tokenizer, prompts, max_new_tokens, batch_size, progress=progress)


def generate_chats(model, tokenizer, chats: list[dict], max_new_tokens: int = 64,
                   batch_size: int = BATCH_SIZE, progress: str | None = None) -> list[str]:
    """Greedy answers to whole chats ({messages, tools}), special tokens kept (a tool call is made of them)."""
    prompts = [tokenizer.apply_chat_template(c["messages"], tools=c.get("tools"), tokenize=False,
                                             add_generation_prompt=True) for c in chats]
    return _greedy(model, tokenizer, prompts, max_new_tokens, batch_size, keep_special=True, progress=progress)


def parse_call(answer: str) -> tuple[str, dict] | None:
    """(name, arguments) of the first tool call an answer makes, or None if it makes none or an unreadable one."""
    calls = parse_calls(answer, known=TOOL_FUNCTIONS)
    return (calls[0].name, calls[0].arguments) if calls else None


def _tool_model(model_name: str, path: Path | None, plain):
    """The model that answers when tools are offered: with its tool-calling adapter if it has one, else
    `plain` (the model and tokenizer already loaded)."""
    if adapter_in(path or models_dir() / model_name) is None:
        return plain
    return merge_tools_adapter(path) if path else load_with_tools(model_name)


def evaluate_skills(model_name: str, lang: str, path: Path | None = None) -> list[Score]:
    """Held-out scores of the two skills (phi_course/training/skills.py). Reading a passage: the key in the
    answer, in the asked language. Tools (through the tool-calling adapter where the model has one): the
    right call (name and arguments), an answer that passes on the tool's figure, and the held-out questions
    no tool answers, asked with the tools offered (answered right, in text: the facts the adapter must not cost)."""
    plain = model, tokenizer = _load(model_name, path)
    reading = heldout_reading(lang)
    answers = generate_chats(model, tokenizer, reading, progress=f"{model_name} [{lang}] reading")
    read = Score(f"{model_name} reading", lang, 0, len(reading))
    for row, answer in zip(reading, answers, strict=True):
        if is_correct(answer, row["key"], lang):
            read.correct += 1
        else:
            read.misses.append({"question": row["messages"][-1]["content"], "answer": answer, "key": row["key"]})
    return [read, *tool_scores(*_tool_model(model_name, path, plain), model_name, lang)]


def tool_scores(model, tokenizer, model_name: str, lang: str, every: int = 1) -> list[Score]:
    """The three tool scores of evaluate_skills for a loaded model: right calls, answers from a tool's
    result, and the held-out questions no tool answers (every `every`-th of them: a quicker sample)."""
    asked = heldout_tool_questions(lang)
    calls = generate_chats(model, tokenizer, asked, progress=f"{model_name} [{lang}] tool calls")
    tool = Score(f"{model_name} tool calls", lang, 0, len(asked))
    for row, answer in zip(asked, calls, strict=True):
        if parse_call(answer) == (row["name"], row["arguments"]):
            tool.correct += 1
        else:
            tool.misses.append({"question": row["messages"][-1]["content"], "answer": answer,
                                "key": [row["name"], row["arguments"]]})
    results = heldout_tool_results(lang)
    passed = Score(f"{model_name} answers from a tool's result", lang, 0, len(results))
    answered = generate_chats(model, tokenizer, results, progress=f"{model_name} [{lang}] tool results")
    for row, answer in zip(results, answered, strict=True):
        if is_correct(answer, row["key"], lang):
            passed.correct += 1
        else:
            passed.misses.append({"question": row["messages"][0]["content"], "answer": answer, "key": row["key"]})
    # The held-out fact questions no tool answers (the catalog's are what model_card is for): with tools
    # offered they should still get a plain answer, as right as without tools.
    facts = [r for r in heldout_records(all_facts()) if r["lang"] == lang and not r["family"].startswith("catalog")]
    facts = facts[::every]
    offered = [{"messages": [{"role": "user", "content": r["question"]}], "tools": TOOLS} for r in facts]
    kept = Score(f"{model_name} other facts, tools offered", lang, 0, len(facts))
    for row, answer in zip(facts, generate_chats(model, tokenizer, offered,
                                                 progress=f"{model_name} [{lang}] tools offered"), strict=True):
        if is_correct(answer, row["key"], lang) and parse_call(answer) is None:
            kept.correct += 1
        else:
            kept.misses.append({"question": row["question"], "answer": answer, "key": row["key"]})
    return [tool, passed, kept]


def _load(model_name: str, path: Path | None):
    if path is None:
        return load(model_name)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path, dtype="float32").eval()
    return model, AutoTokenizer.from_pretrained(path)


def evaluate(model_name: str, lang: str, limit: int | None = None, one_phrasing: bool = False,
             path: Path | None = None, heldout: bool = False) -> Score:
    """Score one embedded model on the trained (or, with `heldout`, the held-out) questions in one language.

    `path` evaluates a model folder other than the shipped one (e.g. a fresh training run).
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    if model_name not in EMBEDDED and path is None:
        raise KeyError(f"No embedded model called {model_name!r}. Known: {', '.join(EMBEDDED)}")
    model, tokenizer = _load(model_name, path)
    rows = eval_questions(lang, limit, one_phrasing, heldout)
    answers = generate_answers(model, tokenizer, [r["question"] for r in rows],
                               histories=[r.get("history") for r in rows],
                               progress=f"{model_name} [{lang}]{' held out' if heldout else ''}")
    score = Score(model_name, lang, 0, len(rows))
    for row, answer in zip(rows, answers, strict=True):
        if is_correct(answer, row["key"], lang):
            score.correct += 1
        else:
            score.misses.append({"question": row["question"], "answer": answer, "key": row["key"],
                                 "family": row["family"], "history": row.get("history")})
    return score


def evaluate_all(only: str | None = None, limit: int | None = None, one_phrasing: bool = False,
                 models_path: Path | None = None, heldout: bool = False) -> list[Score]:
    """Scores for every embedded model (or `only`) in both languages."""
    names = [only] if only else list(EMBEDDED)
    return [evaluate(name, lang, limit, one_phrasing, models_path / name if models_path else None, heldout)
            for name in names for lang in LANGS]


def format_table(scores: list[Score]) -> str:
    """model x language -> share correct, as a plain-text table."""
    names = list(dict.fromkeys(s.model for s in scores))
    width = max(len(n) for n in names)
    rows = {}
    for name in names:
        rows[name] = []
        for lang in LANGS:
            s = next((s for s in scores if s.model == name and s.lang == lang), None)
            rows[name].append(f"{s.share:6.1%} ({s.correct}/{s.total})" if s else "-")
    cell = max(14, *(len(c) for cells in rows.values() for c in cells))  # "70.9% (261/368)" is 15 wide
    lines = [f"{'model':<{width}}  " + "  ".join(f"{lang:>{cell}}" for lang in LANGS)]
    lines += [f"{name:<{width}}  " + "  ".join(f"{c:>{cell}}" for c in cells) for name, cells in rows.items()]
    return "\n".join(lines)


def print_table(only: str | None = None, limit: int | None = None, one_phrasing: bool = False,
                models_path: Path | None = None) -> list[Score]:
    """Evaluate and print both tables, trained questions and held-out paraphrases (`make eval-models`)."""
    trained = evaluate_all(only, limit, one_phrasing, models_path)
    print("Trained questions (every phrasing the models saw):")
    print(format_table(trained))
    heldout = evaluate_all(only, limit, False, models_path, heldout=True)
    print("\nHeld-out paraphrases and follow-ups (never trained on):")
    print(format_table(heldout))
    names = [only] if only else list(EMBEDDED)
    skills = [score for name in names for lang in SPECS[name].langs
              for score in evaluate_skills(name, lang, models_path / name if models_path else None)]
    # Reading is not trained (phi_course/training/skills.py says why): a baseline to beat. Tool calls are
    # trained into tiny-phi35-mini's adapter only (tool_adapter.py); the other models answer in text.
    print("\nSkills, held out: reading a passage in the prompt (not trained); the course's tools, offered "
          "(tiny-phi35-mini: through its tool-calling adapter):")
    print(format_table(skills))
    return trained + heldout + skills
