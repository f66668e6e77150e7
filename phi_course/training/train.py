"""Train the embedded models: pre-train on plain text, then instruction-tune on chat turns.

Introduced in lessons/11_build_a_tiny_slm.ipynb (steps 3 and 4).

`python -m phi_course.training train` trains all three with a fixed seed and writes
Hugging Face folders to phi_course/models/<name>/; `make models` trains each in a
one-thread process of its own, two at a time (parallel.py: 35-40 minutes on 2 cores,
tiny-phi35-mini's tool-calling adapter included).
"""

from __future__ import annotations

import functools
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from phi_course.local.embedded import models_dir
from phi_course.training.architectures import SPECS, TinySpec
from phi_course.training.augment import augment
from phi_course.training.dataset import all_facts, conversation_records, qa_records, text_records
from phi_course.training.lesson_prompts import lesson_records
from phi_course.training.schedule import lr_factor
from phi_course.training.tokenizer import chat_prompt, train_tokenizer

__all__ = ["BLOCK", "HISTORY_SHARE", "IGNORE", "MAIN_ANSWER_SHARE", "SEED", "SYSTEM_PROMPTS", "SYSTEM_SHARE",
           "THREADS", "TrainResult", "build_tokenizer", "chat_examples", "next_token_loss", "padded_batches",
           "pick_answer", "pretrain_blocks", "save_model", "train_all", "train_model"]

SEED = 1234
THREADS = 2
BLOCK = 128  # tokens per pre-training sequence
# A quarter of the chat turns carry a system prompt, so that lessons that send one still work,
# and a tenth follow an unrelated earlier turn, so that a chat's history does not derail the answer.
SYSTEM_SHARE = 0.25
HISTORY_SHARE = 0.1
SYSTEM_PROMPTS = {
    "en": ["You are a helpful assistant.", "You are a helpful AI assistant.",
           "Answer briefly.", "You are the course assistant for Phi models."],
    "zh": ["你是一个乐于助人的助手。", "请简短回答。", "你是 Phi 课程的助教。"],
}
IGNORE = -100  # label value the loss skips


@dataclass
class TrainResult:
    """What one training run did, saved next to the model as training.json."""

    name: str
    seconds: float  # wall clock: depends on what else the machine is running
    cpu_seconds: float  # CPU time of this process: steadier; about 2x the wall time on an idle 2-core machine
    parameters: int
    qa_records: int
    text_records: int
    pretrain_loss: float  # mean over the last epoch
    sft_loss: float
    seed: int = SEED
    # Loss at every step, for plots (lessons/11 draws dense vs MoE from these).
    pretrain_losses: list[float] = field(default_factory=list, repr=False)
    sft_losses: list[float] = field(default_factory=list, repr=False)


def pretrain_blocks(tokenizer, texts: list[str], block: int = BLOCK) -> torch.Tensor:
    """Every text, each closed by <|endoftext|>, packed end to end and cut into blocks."""
    stream: list[int] = []
    for ids in tokenizer(texts, add_special_tokens=False).input_ids:
        stream.extend(ids + [tokenizer.bos_token_id])
    usable = len(stream) // block * block
    return torch.tensor(stream[:usable]).view(-1, block)


MAIN_ANSWER_SHARE = 0.5  # how often a fact with other correct answers trains on its main one


def pick_answer(record: dict, rng: random.Random) -> str:
    """The answer one epoch trains on: the main one half the time, else one of the others.

    The same question meeting several correct answers keeps the model's next-token
    distribution honest: greedy decoding still gives the main answer, and sampling
    (lessons 06 and 08) can give another.
    """
    others = record.get("alternatives")
    if not others or rng.random() < MAIN_ANSWER_SHARE:
        return record["answer"]
    return rng.choice(others)


def chat_examples(tokenizer, records: list[dict], system: bool, rng: random.Random,
                  history_from: list[dict] | None = None) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) per record; labels hide the prompt so only the answer is learned.

    A record's own "history" (earlier turns) goes into the prompt; `history_from` adds one
    unrelated earlier turn in the record's language to records that have none.
    """
    prompts = []
    for r in records:
        prompt_system = r.get("system") or (rng.choice(SYSTEM_PROMPTS[r["lang"]]) if system else None)
        history = r.get("history")
        if history is None and history_from:
            earlier = rng.choice([h for h in history_from if h["lang"] == r["lang"]])
            history = [(earlier["question"], earlier["answer"])]
        prompts.append(chat_prompt(tokenizer, r["question"], prompt_system, history))
    prompt_ids = tokenizer(prompts, add_special_tokens=False).input_ids
    answer_ids = tokenizer([r["answer"] for r in records], add_special_tokens=False).input_ids
    examples = []
    for p, a in zip(prompt_ids, answer_ids, strict=True):
        a = a + [tokenizer.eos_token_id]
        examples.append((p + a, [IGNORE] * len(p) + a))
    return examples


def padded_batches(examples, batch_size: int, pad_id: int, rng: random.Random):
    """Batches of similar length (less padding), in a random order, right-padded."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]), rng.random()))
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(chunks)
    for chunk in chunks:
        width = max(len(examples[i][0]) for i in chunk)
        ids = torch.full((len(chunk), width), pad_id)
        labels = torch.full((len(chunk), width), IGNORE)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, i in enumerate(chunk):
            x, y = examples[i]
            ids[row, :len(x)] = torch.tensor(x)
            labels[row, :len(y)] = torch.tensor(y)
            mask[row, :len(x)] = 1
        yield {"input_ids": ids, "labels": labels, "attention_mask": mask}


def next_token_loss(model, batch: dict, moe: bool = False) -> torch.Tensor:
    """The causal-LM loss, with the output layer applied only where there is a label.

    Same value as `model(**batch).loss`, but in instruction tuning over half the positions
    are prompt, and skipping their 4096-way output layer saves about a sixth of the work.
    For the MoE model it adds the router's load-balancing loss, as transformers does.
    """
    extra = {"output_router_logits": True} if moe else {}
    out = model.model(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"), **extra)
    targets = batch["labels"][:, 1:]
    keep = targets != IGNORE
    logits = model.lm_head(out.last_hidden_state[:, :-1][keep])
    loss = torch.nn.functional.cross_entropy(logits.float(), targets[keep])
    if moe:
        from transformers.models.phimoe.modeling_phimoe import load_balancing_loss_func

        balance = load_balancing_loss_func(out.router_logits, model.num_experts, model.num_experts_per_tok,
                                           batch.get("attention_mask"))
        loss = loss + model.router_aux_loss_coef * balance
    return loss


@functools.cache  # the CPU does not change: probe it once, not at every training step
def bf16_is_native() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX): there bf16 matrix
    products run 2-3x faster than float32; elsewhere they are emulated and slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def training_precision(spec: TinySpec):
    """bfloat16 autocast for the dense models on CPUs that have it, else float32. The weights and
    the optimiser stay float32; only the matrix products run in bf16."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=spec.bf16 and bf16_is_native())


def _run_phase(model, spec: TinySpec, epochs: int, make_batches, steps_per_epoch: int,
               desc: str) -> list[float]:
    """Train for `epochs`; returns the loss of every step."""
    if epochs <= 0:
        return []
    # fused: one kernel for the whole update instead of a dozen small ops per tensor. Timed side by side
    # over 200 tiny-phi35-mini steps it was no faster here (whole process 0.95-1.07x unfused, median 1.05;
    # 2026-12-02); it stays because the shipped models were trained with it and `make models` rebuilds them.
    optimizer = torch.optim.AdamW(model.parameters(), lr=spec.lr, betas=(0.9, 0.95), weight_decay=0.01,
                                  fused=True)
    total = epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total))
    model.train()
    losses: list[float] = []
    with tqdm(total=total, desc=desc, unit="step") as bar:
        for epoch in range(epochs):
            for batch in make_batches(epoch):
                with training_precision(spec):
                    loss = next_token_loss(model, batch, spec.moe)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                losses.append(loss.item())
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
    model.eval()
    return losses


def _last_epoch_mean(losses: list[float], steps_per_epoch: int) -> float:
    tail = losses[-steps_per_epoch:]
    return round(sum(tail) / len(tail), 4) if tail else float("nan")


def train_model(spec: TinySpec, tokenizer, qa: list[dict], texts: list[dict], out_dir: Path,
                seed: int = SEED, conversations: list[dict] = ()) -> TrainResult:
    """Pre-train then instruction-tune one model on the records in its languages; save it in fp16."""
    start, cpu_start = time.perf_counter(), time.process_time()
    torch.manual_seed(seed)
    qa = [r for r in qa if r["lang"] in spec.langs]
    chats = qa + [r for r in conversations if r["lang"] in spec.langs]
    texts = [r for r in texts if r["lang"] in spec.langs]
    model = spec.build(tokenizer)

    # Step 3, pre-training: next-token prediction on plain text, plus each fact once as prose
    # (one phrasing is enough here; instruction tuning sees them all).
    first_phrasing = {(r["id"], r["lang"]): r for r in reversed(qa)}.values()
    plain = [t["text"] for t in texts] + [f"{r['question']}\n{r['answer']}" for r in first_phrasing]
    blocks = pretrain_blocks(tokenizer, plain)
    n_pre = math.ceil(len(blocks) / spec.batch_size)

    def pre_batches(epoch):
        order = torch.randperm(len(blocks), generator=torch.Generator().manual_seed(seed + epoch))
        for i in range(0, len(order), spec.batch_size):
            x = blocks[order[i:i + spec.batch_size]]
            yield {"input_ids": x, "labels": x}

    pre_losses = _run_phase(model, spec, spec.pretrain_epochs, pre_batches, n_pre, f"{spec.name} pre-train")

    # Step 4, instruction tuning: chat-formatted turns, loss on the assistant's answer only.
    # The prompts lessons show answered, as the lessons ask them (lesson_prompts.py).
    showcase = lesson_records(spec.name, all_facts())
    n_sft = math.ceil((len(chats) + len(showcase)) / spec.batch_size)

    def sft_batches(epoch):
        # Each epoch the questions come reworded a little (augment), and some with a system
        # prompt or after an unrelated earlier turn: the same facts, never quite the same text.
        epoch_rng = random.Random(seed * 1000 + epoch)
        reworded = [{**r, "question": augment(r["question"], r["lang"], epoch_rng),
                     "answer": pick_answer(r, epoch_rng)} for r in chats]
        kinds = [epoch_rng.random() for _ in reworded]
        plain = [r for r, k in zip(reworded, kinds, strict=True) if k >= SYSTEM_SHARE + HISTORY_SHARE]
        system = [r for r, k in zip(reworded, kinds, strict=True) if k < SYSTEM_SHARE]
        after = [r for r, k in zip(reworded, kinds, strict=True) if SYSTEM_SHARE <= k < SYSTEM_SHARE + HISTORY_SHARE]
        examples = (chat_examples(tokenizer, plain + showcase, system=False, rng=epoch_rng)
                    + chat_examples(tokenizer, system, system=True, rng=epoch_rng)
                    + chat_examples(tokenizer, after, system=False, rng=epoch_rng, history_from=qa))
        yield from padded_batches(examples, spec.batch_size, tokenizer.pad_token_id, epoch_rng)

    sft_losses = _run_phase(model, spec, spec.sft_epochs, sft_batches, n_sft, f"{spec.name} instruct")

    result = TrainResult(spec.name, round(time.perf_counter() - start, 1),
                         round(time.process_time() - cpu_start, 1),
                         sum(p.numel() for p in model.parameters()), len(chats), len(texts),
                         _last_epoch_mean(pre_losses, n_pre), _last_epoch_mean(sft_losses, n_sft), seed,
                         [round(x, 4) for x in pre_losses], [round(x, 4) for x in sft_losses])
    save_model(model, tokenizer, out_dir, result)
    return result


def save_model(model, tokenizer, out_dir: Path, result: TrainResult) -> None:
    """A Hugging Face folder: fp16 weights (half the size; loads fine as float32), tokenizer,
    chat template, and a generation config that stops at <|end|>."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = model.generation_config
    gen.eos_token_id = tokenizer.eos_token_id
    gen.pad_token_id = tokenizer.pad_token_id
    gen.bos_token_id = tokenizer.bos_token_id
    gen.max_new_tokens = 96  # answers are one sentence; keeps plain `generate()` calls complete
    model.to(torch.float16).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "training.json").write_text(json.dumps(asdict(result)) + "\n")


def build_tokenizer(qa: list[dict] | None = None, texts: list[dict] | None = None):
    """The shared tokenizer, learned from every question, answer and paragraph (by default the course's
    dataset: the same data always gives the same tokenizer, which is how the vision model shares it)."""
    if qa is None or texts is None:
        facts = all_facts()
        qa, texts = qa_records(facts), text_records(facts)
    return train_tokenizer([r["question"] for r in qa] + [r["answer"] for r in qa]
                           + [t["text"] for t in texts])


def train_all(only: str | None = None, out: Path | None = None, seed: int = SEED,
              threads: int | None = None) -> list[TrainResult]:
    """Train every embedded model (or just `only`) into `out` (default: phi_course/models)."""
    if only is not None and only not in SPECS:
        raise KeyError(f"No embedded model called {only!r}. Known: {', '.join(SPECS)}")
    from phi_course.training import tool_adapter  # it imports this module: not at the top

    torch.set_num_threads(threads or THREADS)
    out = Path(out) if out is not None else models_dir()
    facts = all_facts()
    qa, texts, chats = qa_records(facts), text_records(facts), conversation_records(facts)
    tokenizer = build_tokenizer(qa, texts)
    results = []
    for name, spec in SPECS.items():
        if only in (None, name):
            results.append(train_model(spec, tokenizer, qa, texts, out / name, seed, chats))
            if name == tool_adapter.BASE:  # its adapter was trained on these weights: retrain it with them
                tool_adapter.train_adapter(out)
    return results
