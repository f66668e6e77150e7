"""Does retrieval help this model? Every held-out question, asked without and with its best passage.

Introduced in lessons/13_make_it_yours.ipynb (retrieval).

The held-out questions (data/heldout.jsonl) ask the course's facts in words the embedded models
never trained on; `make eval-models` scores them. Here each is asked twice, greedy: alone,
and after the passage the index ranks first for it (`retrieval.messages_with`). Four counts
say what the passage did: fixed (wrong alone, right with it), broke (the other way), and the
two that did not change. A passage can mislead as well as help, so both directions count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from phi_course.adapt.retrieval import Index, messages_with
from phi_course.i18n import N_, _
from phi_course.tables import Table

__all__ = ["Asked", "ask_twice", "counts", "examples", "heldout_questions"]


@dataclass(frozen=True)
class Asked:
    """One question, answered without and with the passage ranked first for it."""

    question: str
    key: str  # what a right answer contains
    alone: str
    with_passage: str
    source: str  # where the passage came from ("" when the index found none)
    right_alone: bool
    right_with: bool


def heldout_questions(lang: str) -> list[dict]:
    """The single-turn held-out questions in `lang` ({question, key, family, ...}); follow-ups are left out,
    since a passage in the prompt of a second turn would sit between it and the turn it refers to."""
    from phi_course.training.evaluate import eval_questions

    return [r for r in eval_questions(lang, heldout=True) if not r.get("history")]


def ask_twice(model, tokenizer, questions: Sequence[dict], index: Index, lang: str,
              progress: bool = True) -> list[Asked]:
    """Each question answered greedily, alone and with its best passage (an embedded model), in batches."""
    from tqdm.auto import tqdm

    from phi_course.training.evaluate import BATCH_SIZE, generate_answers, is_correct

    asked = []
    with tqdm(total=len(questions), desc=_("asking twice"), unit=_("question"), disable=not progress) as bar:
        for start in range(0, len(questions), BATCH_SIZE):
            batch = questions[start:start + BATCH_SIZE]
            hits = [index.search(r["question"], k=1) for r in batch]
            passages = [h[0].passage if h else None for h in hits]
            alone = generate_answers(model, tokenizer, [r["question"] for r in batch])
            grounded = generate_answers(model, tokenizer, [messages_with(r["question"], p)[0]["content"]
                                                           for r, p in zip(batch, passages, strict=True)])
            asked += [Asked(r["question"], r["key"], a, g, p.source if p else "",
                            is_correct(a, r["key"], lang), is_correct(g, r["key"], lang))
                      for r, p, a, g in zip(batch, passages, alone, grounded, strict=True)]
            bar.update(len(batch))
    return asked


def counts(asked: Sequence[Asked]) -> Table:
    """How many answers the passage fixed, broke, or left right or wrong."""
    tally = {N_("right alone, right with the passage"): sum(a.right_alone and a.right_with for a in asked),
             N_("wrong alone, right with the passage (fixed)"): sum(a.right_with and not a.right_alone for a in asked),
             N_("right alone, wrong with the passage (broke)"): sum(a.right_alone and not a.right_with for a in asked),
             N_("wrong either way"): sum(not (a.right_alone or a.right_with) for a in asked)}
    return Table([{N_("what the passage did"): _(label), N_("questions"): n} for label, n in tally.items()],
                 _("{n} held-out questions, asked alone and with the best passage").format(n=len(asked)))


def examples(asked: Sequence[Asked], fixed: bool = True, n: int = 4) -> Table:
    """The first `n` answers the passage fixed (or, with fixed=False, broke), both answers side by side."""
    chosen = [a for a in asked if a.right_with != a.right_alone and a.right_with == fixed][:n]
    return Table([{N_("question"): a.question, N_("alone"): a.alone, N_("with the passage"): a.with_passage,
                   N_("passage from"): a.source} for a in chosen],
                 _("Fixed by the passage") if fixed else _("Broken by the passage"))
