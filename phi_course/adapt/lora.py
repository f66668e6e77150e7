"""Teach a model new facts with a LoRA adapter (peft): train on a CPU, measure, merge and save.

Introduced in lessons/13_make_it_yours.ipynb.

LoRA freezes the model and learns, beside chosen weight matrices W, two thin
matrices B (d x r) and A (r x k) whose product is added to W: r is small (8 or
16), so the adapter is a sliver of the model. Afterwards the adapter can be kept
apart (one base model, many adapters) or merged into W (no extra cost per token).
The same code fine-tunes the real Phi-4-mini on a GPU; only the model and the
number of steps change.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from phi_course import settings

__all__ = ["CONTOSO", "PHI3_TARGETS", "Fact", "Steps", "add_adapter", "adapter_report", "answerer", "examples",
           "heldout_questions", "merge_and_save", "steps", "train"]

# The linear layers of Phi-3-style models (the embedded ones and Phi-4-mini): attention's fused
# q/k/v and output projections, and the MLP's fused gate/up and down projections.
PHI3_TARGETS = ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]
IGNORE = -100  # label value the loss skips: the question is context, only the answer is learned


@dataclass(frozen=True)
class Fact:
    """Something new to teach: the answer, the phrasings to train on, and phrasings kept back for testing."""

    answer: str
    key: str  # the part of the answer that must come back (a name, a number)
    train_questions: tuple[str, ...]
    heldout: tuple[str, ...]


# A made-up company's handbook: facts no model was ever trained on, like your own domain's.
CONTOSO = [
    Fact("Contoso staff get 27 days of annual leave.", "27 days",
         ("How many days of annual leave do Contoso staff get?", "How much annual leave is there at Contoso?",
          "Contoso annual leave days?", "What is the annual leave at Contoso?"),
         ("How many leave days does Contoso give each year?",)),
    Fact("Travel at Contoso is approved by Mira Patel.", "Mira Patel",
         ("Who approves travel at Contoso?", "Who signs off Contoso travel requests?",
          "Contoso travel approval: who?", "Who must approve a trip at Contoso?"),
         ("Who approves a business trip at Contoso?",)),
    Fact("Contoso's build server is called kestrel.", "kestrel",
         ("What is Contoso's build server called?", "What is the name of the Contoso build server?",
          "Contoso build server name?", "Which machine builds Contoso's code?"),
         ("What do they call the build server at Contoso?",)),
    Fact("Contoso bikes have a 7-year warranty.", "7-year",
         ("How long is the warranty on Contoso bikes?", "What warranty do Contoso bikes have?",
          "Contoso bike warranty length?", "For how many years are Contoso bikes guaranteed?"),
         ("How many years of warranty come with a Contoso bike?",)),
    Fact("Contoso's support line opens at 8 am.", "8 am",
         ("When does Contoso's support line open?", "What time does Contoso support open?",
          "Contoso support opening time?", "At what hour can I call Contoso support?"),
         ("What time can I start calling the Contoso support line?",)),
]


@dataclass(frozen=True)
class Steps:
    """How long to train: full for a learner, a fraction under the tests' quick switch."""

    epochs: int
    learning_rate: float


def steps() -> Steps:
    """Training length for this run (PHI_COURSE_QUICK=1 shortens it)."""
    return Steps(epochs=20, learning_rate=1e-2) if settings.quick() else Steps(epochs=60, learning_rate=3e-3)


def heldout_questions(facts: Sequence[Fact]) -> list[tuple[str, str]]:
    """(question, key) for the phrasings the adapter never trains on: the honest test."""
    return [(q, f.key) for f in facts for q in f.heldout]


def examples(tokenizer, facts: Sequence[Fact]) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) per training phrasing, in the model's chat template; labels hide the question."""
    from phi_course.local.generation import encode_chat

    out = []
    for fact in facts:
        answer = tokenizer(fact.answer, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
        for question in fact.train_questions:
            prompt = encode_chat(tokenizer, [{"role": "user", "content": question}])
            out.append((prompt + answer, [IGNORE] * len(prompt) + answer))
    if not out:
        raise ValueError("No training examples: give at least one Fact with at least one train question.")
    return out


def add_adapter(model, rank: int = 8, alpha: int = 16, targets: Sequence[str] = PHI3_TARGETS):
    """Wrap `model` in a peft LoRA adapter on `targets`: only the adapter's weights will train.

    peft changes `model` in place (it swaps its linear layers for LoRA ones): load a fresh copy
    for it, not a model other code is using.
    """
    import warnings

    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=list(targets),
                        task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # peft 0.21 calls a transformers method that 5.x renamed; harmless
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(model, config)


def _batches(data, batch_size: int, pad_id: int, rng: random.Random):
    import torch

    order = list(range(len(data)))
    rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        chunk = [data[i] for i in order[start:start + batch_size]]
        width = max(len(x) for x, _ in chunk)
        ids = torch.full((len(chunk), width), pad_id)
        labels = torch.full((len(chunk), width), IGNORE)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (x, y) in enumerate(chunk):
            ids[row, :len(x)], labels[row, :len(y)], mask[row, :len(x)] = torch.tensor(x), torch.tensor(y), 1
        yield {"input_ids": ids, "labels": labels, "attention_mask": mask}


def train(model, tokenizer, facts: Sequence[Fact], *, epochs: int | None = None, learning_rate: float | None = None,
          batch_size: int = 8, seed: int = 0, progress: bool = True) -> list[float]:
    """Train the adapter of `model` (from `add_adapter`) on `facts`; returns the loss of every step.

    A plain PyTorch loop: AdamW over the trainable (adapter) weights, the loss on answer
    tokens only. A tqdm bar shows the epochs and the latest loss.
    """
    import torch
    from tqdm.auto import tqdm

    plan = steps()
    epochs = plan.epochs if epochs is None else epochs
    learning_rate = plan.learning_rate if learning_rate is None else learning_rate
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("Nothing to train: every weight is frozen. Wrap the model with add_adapter(model) first.")
    data = examples(tokenizer, facts)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rng = random.Random(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.0)
    losses: list[float] = []
    model.train()
    bar = tqdm(range(epochs), desc="LoRA", unit="epoch", disable=not progress)
    for _ in bar:
        for batch in _batches(data, batch_size, pad_id, rng):
            batch = {name: t.to(model.device) for name, t in batch.items()}  # the same loop on a GPU
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    return losses


def answerer(model, tokenizer, max_new_tokens: int = 32):
    """A function question -> answer text (greedy), for the evaluation harness."""
    from phi_course.local.generation import chat

    def answer(question: str) -> str:
        return chat(model, tokenizer, [{"role": "user", "content": question}], max_new_tokens=max_new_tokens).text

    return answer


def adapter_report(model) -> dict[str, float | int]:
    """How small the adapter is: its parameters and file size next to the whole model's."""
    adapter = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)  # peft saves the adapter alone
        size = sum(f.stat().st_size for f in Path(folder).iterdir() if f.is_file())
    return {"adapter parameters": adapter, "model parameters": total - adapter,
            "adapter share (%)": round(100 * adapter / (total - adapter), 2),
            "adapter on disk (KB)": round(size / 1e3, 1)}


def merge_and_save(model, tokenizer, folder: str | Path) -> Path:
    """Fold the adapter into the base weights and save a plain transformers model to `folder`."""
    folder = Path(folder)
    merged = model.merge_and_unload()
    merged.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
