"""tiny-phi35-mini's tool-calling adapter: a LoRA adapter, plus the tool tokens, trained on the tool records.

Introduced in lessons/13_make_it_yours.ipynb (tool calls).

Trained into the model itself, the tool records cost it the course's facts (three runs,
described in skills.py). An adapter leaves the model's own weights as they are: the
facts stay where they were, and the stand-in puts the adapter on only for a request that
offers tools (phi_course.local.embedded.load_with_tools), the way a server keeps one base
model and several adapters. Phi-4-mini needs no such thing: it was trained on function
calling in general and calls any tool from its description.

The adapter's tokenizer is the model's plus the five tool markers (special tokens, so only
the model writes them) and four pieces of the call's JSON as tokens of their own. Without
those pieces the model wrote `}}}` for `}}` (skills.py, the third run); with them a call is
sixteen tokens, and the model has to choose only the tool's name and its argument. The new
tokens' embeddings are trained with the adapter (peft's trainable tokens) and saved in it,
so the adapter folder needs no copy of the model's embedding matrix.

`python -m phi_course.training tools` trains it (a progress bar; about six minutes on one CPU
thread beside another job) into phi_course/models/tiny-phi35-mini/tools/; `make models` runs it
right after the model, in the same process.
"""

from __future__ import annotations

import json
import random
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from phi_course.local.embedded import TOOLS_ADAPTER, models_dir
from phi_course.training import skills
from phi_course.training.dataset import qa_records
from phi_course.training.schedule import lr_factor
from phi_course.training.train import IGNORE, next_token_loss, padded_batches

__all__ = ["BASE", "JSON_PIECES", "Recipe", "build_tokenizer", "examples", "train_adapter"]

BASE = "tiny-phi35-mini"  # the embedded model that stands in for Phi-4-mini (lesson 13's route)
# The call layout's JSON around the tool's name and its one argument (skills.call_text).
JSON_PIECES = ['[{"name": "', '", "arguments": {"', '": "', '"}}]']


@dataclass(frozen=True)
class Recipe:
    """How the adapter trains.

    Four recipes measured on 2026-12-01 on wordings training never uses (`make eval-models`: right
    call; answer that passes on the tool's figure; other held-out facts, tools offered), en / zh:
    10 epochs: 91/82, 26/65, 66/78%; 14 epochs: 100/88, 29/47, 81/82%; 10 epochs with half the
    no-tool questions naming a model: 94/91, 59/88, 68/79%; 14 epochs with them (the recipe until
    2026-12-02): 97/88, 65/91, 71/82%. The plain model, no tools, scores 85/85% on those facts.
    The spread between runs is wide, so the choice is rough; the remaining misses are mostly calls
    where no tool answers (model_card for how much memory a model needs).

    On the model retrained with 36 phrasings a fact (2026-12-02), that recipe fell to 91/85, 35/50,
    82/85%: the answers from a tool's result mostly gave another field of the card. 18 epochs gave
    94/79, 91/74, 79/83% (578 s); 100 questions no tool answers per language, not 150 (this recipe):
    94/76, 88/97, 80/85% (343 s, one thread). The same recipe on the model retrained after some answers
    were rewritten (2026-12-02): 97/85, 85/85, 86/89% (406 s in `make models`). On the model trained with
    selective training and widened follow-ups (2026-12-02): 79/100, 74/88, 76/82% (416 s); on that model
    18 epochs gave 82/97, 47/24, 79/86% and a rate of 4e-3 65/91, 82/91, 72/78%: English calls fell, and
    no recipe tried brought them back. The same recipe in float32 on the float32 base model (2026-12-02):
    100/88, 94/94, 72/86% (355 s in `make models`).
    """

    epochs: int = 14
    rank: int = 16  # LoRA rank on every linear layer (skills need more room than lesson 13's five facts)
    alpha: int = 32
    learning_rate: float = 3e-3
    batch_size: int = 16
    plain_per_epoch: int = 100  # questions no tool answers, per language, asked with the tools offered
    seed: int = 0


def build_tokenizer(base: Path):
    """The base model's tokenizer plus the tool markers and the call's JSON pieces, with the tools template."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.add_special_tokens({"extra_special_tokens": skills.TOOL_TOKENS}, replace_extra_special_tokens=False)
    tokenizer.add_tokens(JSON_PIECES)
    tokenizer.chat_template = skills.TOOL_CHAT_TEMPLATE
    return tokenizer


def examples(tokenizer, records: list[dict]) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) per tool record ({messages, tools, answer}); the loss is on the answer only."""
    out = []
    for record in records:
        prompt = list(tokenizer.apply_chat_template(record["messages"], tools=record["tools"], tokenize=True,
                                                    add_generation_prompt=True, return_dict=True)["input_ids"])
        answer = tokenizer(record["answer"], add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
        out.append((prompt + answer, [IGNORE] * len(prompt) + answer))
    return out


def _with_adapter(model, tokenizer, recipe: Recipe):
    from peft import LoraConfig, get_peft_model

    from phi_course.adapt.lora import PHI3_TARGETS

    new_tokens = list(range(model.get_input_embeddings().num_embeddings, len(tokenizer)))
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)  # the new rows are trained below
    config = LoraConfig(r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=0.0, target_modules=PHI3_TARGETS,
                        trainable_token_indices={"embed_tokens": new_tokens}, task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # peft 0.21 calls a transformers method that 5.x renamed; harmless
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(model, config)


def train_adapter(models: Path | None = None, recipe: Recipe = Recipe(), threads: int | None = None) -> dict:
    """Train the adapter on `models`/tiny-phi35-mini and save it in that model's `tools` folder; returns the record."""
    from transformers import AutoModelForCausalLM

    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    base = Path(models or models_dir()) / BASE
    tokenizer = build_tokenizer(base)
    torch.manual_seed(recipe.seed)
    model = _with_adapter(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), tokenizer, recipe)
    rng = random.Random(recipe.seed)
    plain = qa_records()
    per_epoch = [examples(tokenizer, skills.tool_records(("en", "zh"), rng, plain, recipe.plain_per_epoch))
                 for _ in range(recipe.epochs)]
    steps_per_epoch = -(-len(per_epoch[0]) // recipe.batch_size)
    total = recipe.epochs * steps_per_epoch
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=recipe.learning_rate, weight_decay=0.0, fused=True)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total))
    losses: list[float] = []
    model.train()
    with tqdm(total=total, desc=f"{BASE} tools adapter", unit="step") as bar:
        for epoch, data in enumerate(per_epoch):
            for batch in padded_batches(data, recipe.batch_size, tokenizer.pad_token_id, rng):
                # the output layer only where there is a label: a tenth of the positions here
                loss = next_token_loss(model.get_base_model(), batch)  # float32: train.py's training loop says why
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                losses.append(round(loss.item(), 4))
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.3f}")
    model.eval()
    out = base / TOOLS_ADAPTER
    model.peft_config["default"].base_model_name_or_path = BASE  # the model's name, not a path on this machine
    # The new tokens' rows are in the adapter (trainable tokens): the model's own embeddings need no copy.
    model.to(torch.float16).save_pretrained(out, save_embedding_layers=False)  # fp16, as the models are saved
    config_file = out / "adapter_config.json"  # peft writes its target layers in set order: sorted, so runs compare
    config = json.loads(config_file.read_text())
    config["target_modules"] = sorted(config["target_modules"])
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    tokenizer.save_pretrained(out)
    (out / "README.md").unlink(missing_ok=True)  # peft's model-card template: nothing the course needs
    record = {"base": BASE, "recipe": asdict(recipe), "seconds": round(time.perf_counter() - start, 1),
              "trainable_parameters": sum(p.numel() for p in trainable), "records_per_epoch": len(per_epoch[0]),
              "last_epoch_loss": round(sum(losses[-steps_per_epoch:]) / steps_per_epoch, 4), "losses": losses}
    (out / "training.json").write_text(json.dumps(record) + "\n")
    return record
