"""Train the embedded models: pre-train on plain text, then instruction-tune on chat turns.

Introduced in lessons/11_build_a_tiny_slm.ipynb (steps 3 and 4).

`python -m phi_course.training train` trains all three with a fixed seed and writes
Hugging Face folders to phi_course/models/<name>/; `make models` trains each in a
one-thread process of its own, two at a time (parallel.py: about 30 minutes on 2 cores,
tiny-phi35-mini's tool-calling adapter included).
"""

from __future__ import annotations

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
           "pick_answer", "pretrain_blocks", "records_to_train", "save_model", "schedule_step", "train_all",
           "train_model"]

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
    # The share of the chat records each instruction-tuning epoch trained on (1.0 = all of them;
    # less where selective training skipped records already learned).
    sft_trained_share: list[float] = field(default_factory=list)
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
    if not records:  # an epoch of selective training can leave a group empty
        return []
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


def padded_batches(examples, batch_size: int, pad_id: int, rng: random.Random, keys: list | None = None):
    """Batches of similar length (less padding), in a random order, right-padded.

    With `keys` (one per example), each batch also carries "keys": which example each row is.
    """
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
        batch = {"input_ids": ids, "labels": labels, "attention_mask": mask}
        if keys is not None:
            batch["keys"] = [keys[i] for i in chunk]
        yield batch


def next_token_loss(model, batch: dict, moe: bool = False, per_row: list | None = None) -> torch.Tensor:
    """The causal-LM loss, with the output layer applied only where there is a label.

    Same value as `model(**batch).loss`, but in instruction tuning over half the positions
    are prompt, and skipping their 4096-way output layer saves about a sixth of the work.
    For the MoE model it adds the router's load-balancing loss, as transformers does.
    Given a list as `per_row`, it also fills it with each row's mean loss (no gradient).
    """
    extra = {"output_router_logits": True} if moe else {}
    out = model.model(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"), **extra)
    targets = batch["labels"][:, 1:]
    keep = targets != IGNORE
    logits = model.lm_head(out.last_hidden_state[:, :-1][keep])
    if per_row is None:
        loss = torch.nn.functional.cross_entropy(logits.float(), targets[keep])
    else:
        token_losses = torch.nn.functional.cross_entropy(logits.float(), targets[keep], reduction="none")
        loss = token_losses.mean()
        rows = keep.nonzero()[:, 0]  # the kept positions, in row-major order: which row each belongs to
        sums = torch.zeros(len(keep)).index_add_(0, rows, token_losses.detach())
        per_row.extend((sums / keep.sum(1).clamp(min=1)).tolist())
    if moe:
        from transformers.models.phimoe.modeling_phimoe import load_balancing_loss_func

        balance = load_balancing_loss_func(out.router_logits, model.num_experts, model.num_experts_per_tok,
                                           batch.get("attention_mask"))
        loss = loss + model.router_aux_loss_coef * balance
    return loss


def records_to_train(count: int, last_loss: dict[int, float], epoch: int, spec: TinySpec,
                     seed: int = SEED) -> list[int]:
    """Which of `count` chat records an instruction-tuning epoch trains on (selective training).

    Every record, until epoch `spec.select_from_epoch` (0-based) or when `spec.learned_below` is 0.
    From then on: every record not yet learned, and a random `spec.learned_kept` share of the learned
    ones (their loss was under `learned_below` when they last trained), so that they are checked again.
    """
    if not spec.learned_below or epoch < spec.select_from_epoch:
        return list(range(count))
    pick = random.Random(seed * 7919 + epoch)  # its own stream: the epoch's rewording stays the same
    return [i for i in range(count)
            if last_loss.get(i, math.inf) >= spec.learned_below or pick.random() < spec.learned_kept]


def schedule_step(epoch: int, batch: int, batches: int, steps_per_epoch: int) -> int:
    """The step of a full run that batch `batch` of `batches` in `epoch` stands at.

    With every batch present it is just the step count; a shorter epoch (selective training)
    spreads its batches over the same span, so the learning rate ends where a full run's does.
    """
    return epoch * steps_per_epoch + batch * steps_per_epoch // batches


def _run_phase(model, spec: TinySpec, epochs: int, make_batches, steps_per_epoch: int,
               desc: str, on_row_losses=None) -> tuple[list[float], list[int]]:
    """Train for `epochs`; returns the loss of every step and the number of steps in each epoch.

    An epoch may have fewer than `steps_per_epoch` batches (selective training skips examples
    already learned): the learning-rate schedule and the progress bar then follow the share of
    the epoch done, so the schedule ends where a full run's does. `on_row_losses(keys, losses)`
    hears each row's loss, for batches that carry "keys".
    """
    if epochs <= 0:
        return [], []
    # fused: one kernel for the whole update instead of a dozen small ops per tensor. Timed side by side
    # over 200 tiny-phi35-mini steps it was no faster here (whole process 0.95-1.07x unfused, median 1.05;
    # 2026-12-02); it stays because the shipped models were trained with it and `make models` rebuilds them.
    optimizer = torch.optim.AdamW(model.parameters(), lr=spec.lr, betas=(0.9, 0.95), weight_decay=0.01,
                                  fused=True)
    total = epochs * steps_per_epoch
    model.train()
    losses: list[float] = []
    epoch_steps: list[int] = []
    with tqdm(total=total, desc=desc, unit="step") as bar:
        for epoch in range(epochs):
            batches = list(make_batches(epoch))
            for j, batch in enumerate(batches):
                at = schedule_step(epoch, j, len(batches), steps_per_epoch)
                for group in optimizer.param_groups:
                    group["lr"] = spec.lr * lr_factor(at, total)
                rows = [] if on_row_losses and "keys" in batch else None
                # float32 throughout. bfloat16 matrix products were tried: on the machine of 2026-12-01 they
                # trained tiny-phi35-mini 13% faster; on the next day's (AVX-512 BF16, no AMX) 150 steps took
                # 0.21 s a step against 0.11 s in float32 (whole process: 0.68x the time, half the memory).
                # The machines vary: float32 lost 13% on one, bf16 lost half on the other.
                # torch.compile on each decoder layer (dynamic shapes) was not taken: 0.81x the step time
                # (300 tiny-phi35-mini steps alternating with an uncompiled copy, 2026-12-02) after 20-60 s of
                # compiling, and it needs a C++ compiler. On every text model it would leave `make models` at
                # about 25 minutes (50 CPU-minutes on 2 cores), and the shipped weights would change with it.
                loss = next_token_loss(model, batch, spec.moe, rows)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if rows is not None:
                    on_row_losses(batch["keys"], rows)
                losses.append(loss.item())
                bar.update(schedule_step(epoch, j + 1, len(batches), steps_per_epoch) - bar.n)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}",
                                **({"skipped": f"{1 - len(batches) / steps_per_epoch:.0%}"}
                                   if len(batches) < steps_per_epoch else {}))
            bar.update((epoch + 1) * steps_per_epoch - bar.n)  # an epoch left with no batch at all
            epoch_steps.append(len(batches))
    model.eval()
    return losses, epoch_steps


def _last_epoch_mean(losses: list[float], epoch_steps: list[int]) -> float:
    tail = losses[-epoch_steps[-1]:] if epoch_steps and epoch_steps[-1] else []
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

    pre_losses, pre_steps = _run_phase(model, spec, spec.pretrain_epochs, pre_batches, n_pre,
                                       f"{spec.name} pre-train")

    # Step 4, instruction tuning: chat-formatted turns, loss on the assistant's answer only.
    # The prompts lessons show answered, as the lessons ask them (lesson_prompts.py).
    showcase = lesson_records(spec.name, all_facts())
    n_sft = math.ceil((len(chats) + len(showcase)) / spec.batch_size)
    last_loss: dict[int, float] = {}  # each chat record's loss when it last trained
    trained_share: list[float] = []

    def remember(keys, losses):
        for key, value in zip(keys, losses, strict=True):
            if key is not None:
                last_loss[key] = value

    def sft_batches(epoch):
        # Each epoch the questions come reworded a little (augment), and some with a system
        # prompt or after an unrelated earlier turn: the same facts, never quite the same text.
        epoch_rng = random.Random(seed * 1000 + epoch)
        reworded = [{**r, "question": augment(r["question"], r["lang"], epoch_rng),
                     "answer": pick_answer(r, epoch_rng)} for r in chats]
        kinds = [epoch_rng.random() for _ in reworded]
        chosen = records_to_train(len(chats), last_loss, epoch, spec, seed)
        trained_share.append(round(len(chosen) / len(chats), 4))
        plain = [i for i in chosen if kinds[i] >= SYSTEM_SHARE + HISTORY_SHARE]
        system = [i for i in chosen if kinds[i] < SYSTEM_SHARE]
        after = [i for i in chosen if SYSTEM_SHARE <= kinds[i] < SYSTEM_SHARE + HISTORY_SHARE]
        examples = (chat_examples(tokenizer, [reworded[i] for i in plain] + showcase, system=False, rng=epoch_rng)
                    + chat_examples(tokenizer, [reworded[i] for i in system], system=True, rng=epoch_rng)
                    + chat_examples(tokenizer, [reworded[i] for i in after], system=False, rng=epoch_rng,
                                    history_from=qa))
        keys = plain + [None] * len(showcase) + system + after  # showcase prompts always train
        yield from padded_batches(examples, spec.batch_size, tokenizer.pad_token_id, epoch_rng, keys)

    sft_losses, sft_steps = _run_phase(model, spec, spec.sft_epochs, sft_batches, n_sft, f"{spec.name} instruct",
                                       remember if spec.learned_below else None)

    result = TrainResult(spec.name, round(time.perf_counter() - start, 1),
                         round(time.process_time() - cpu_start, 1),
                         sum(p.numel() for p in model.parameters()), len(chats), len(texts),
                         _last_epoch_mean(pre_losses, pre_steps), _last_epoch_mean(sft_losses, sft_steps), seed,
                         trained_share, [round(x, 4) for x in pre_losses], [round(x, 4) for x in sft_losses])
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
