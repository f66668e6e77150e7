"""Score tiny-phi35-vision on pictures it has never seen: exact answers, per task and per family.

Introduced in lessons/09_phi_vision.ipynb; `python -m phi_course.vision eval` prints the table.

Every task is asked in English and Chinese about freshly drawn pictures whose
seeds come from tasks.EVAL_SEEDS, a range training never touches. An answer
counts only when it is exactly the expected sentence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import torch

from phi_course.i18n import N_, _
from phi_course.vision import tasks

__all__ = ["BATCH", "FAMILY_NAMES", "PER_TASK", "RECORD", "Score", "TARGET", "answers", "by_family", "eval_samples",
           "evaluate", "family_label", "load_record", "save", "table_rows"]

PER_TASK = 50  # questions per task and language for the full table
BATCH = 32
TARGET = 0.8  # the share each family must reach


@dataclass
class Score:
    """How the model did on one task or family."""

    name: str
    correct: int = 0
    total: int = 0
    misses: list[dict] = field(default_factory=list, repr=False)

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0


def eval_samples(task: str, lang: str, count: int) -> list[tasks.Sample]:
    """`count` samples of one task, from evaluation seeds only (the same ones every run)."""
    offset = list(tasks.TASKS).index(task) * 1_000_000 + (0 if lang == "en" else 500_000)
    return [tasks.make(task, tasks.EVAL_SEEDS[offset + i], lang) for i in range(count)]


@torch.inference_mode()
def answers(model, processor, samples: list[tasks.Sample], max_new_tokens: int = 40,
            batch_size: int = BATCH) -> list[str]:
    """Greedy answers to the samples' questions, in left-padded batches."""
    out = []
    tokenizer = processor.tokenizer
    for i in range(0, len(samples), batch_size):
        chunk = samples[i:i + batch_size]
        texts = [processor.apply_chat_template(s.messages(), add_generation_prompt=True, tokenize=False)
                 for s in chunk]
        pictures = [p for s in chunk for p in s.images]
        encoded = processor(images=pictures, text=texts, return_tensors="pt", padding=True,
                            padding_side="left")
        generated = model.generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False,
                                   eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
        new = generated[:, encoded["input_ids"].shape[1]:]
        out += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return out


def evaluate(model, processor, per_task: int = PER_TASK, task_names: list[str] | None = None) -> dict[str, Score]:
    """Scores keyed by task name, each over `per_task` questions in each language."""
    scores = {}
    for name in task_names or list(tasks.TASKS):
        score = Score(name)
        for lang in tasks.LANGS:
            samples = eval_samples(name, lang, per_task)
            for sample, got in zip(samples, answers(model, processor, samples), strict=True):
                score.total += 1
                if got == sample.answer:
                    score.correct += 1
                else:
                    score.misses.append({"seed": sample.seed, "lang": lang, "question": sample.question,
                                         "expected": sample.answer, "got": got})
        scores[name] = score
    return scores


def by_family(scores: dict[str, Score]) -> dict[str, Score]:
    """Task scores summed into their families (bar chart, line chart, table, shapes, frames)."""
    families: dict[str, Score] = defaultdict(lambda: Score(""))
    for name, score in scores.items():
        family = tasks.TASKS[name].family
        merged = families[family]
        merged.name = family
        merged.correct += score.correct
        merged.total += score.total
        merged.misses += score.misses
    return dict(families)


# The task families (tasks.FAMILIES), marked so a table can show them in the course language.
FAMILY_NAMES = (N_("bar chart"), N_("line chart"), N_("table (OCR)"), N_("shapes"), N_("frames"))


def family_label(family: str) -> str:
    """A task family's name in the course language (lesson 09's tables)."""
    return _(family)


def table_rows(scores: dict[str, Score]) -> list[dict]:
    """One row per family, then one per task: share correct and whether it meets the target."""
    rows = []
    for family, score in by_family(scores).items():
        rows.append({N_("family"): family_label(family), N_("task"): _("(all)"), N_("correct"): f"{score.correct}/{score.total}",
                     N_("score"): f"{score.share:.0%}",
                     N_("meets 80%"): _("yes") if score.share >= TARGET else _("NO")})
        for name, task_score in scores.items():
            if tasks.TASKS[name].family == family:
                rows.append({N_("family"): "", N_("task"): name,
                             N_("correct"): f"{task_score.correct}/{task_score.total}",
                             N_("score"): f"{task_score.share:.0%}", N_("meets 80%"): ""})
    return rows


RECORD = "evaluation.json"  # written next to the model by `python -m phi_course.vision eval`


def save(scores: dict[str, Score], folder: Path, per_task: int) -> Path:
    """Write the scores (per task and per family) next to the model they belong to."""
    def entry(score: Score) -> dict:
        return {"correct": score.correct, "total": score.total, "share": round(score.share, 4)}

    record = {"per_task_and_language": per_task,
              "families": {name: entry(s) for name, s in by_family(scores).items()},
              "tasks": {name: entry(s) for name, s in scores.items()}}
    path = Path(folder) / RECORD
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_record(folder: Path) -> dict | None:
    """The saved scores of the model in `folder`, or None if it was never evaluated."""
    path = Path(folder) / RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
