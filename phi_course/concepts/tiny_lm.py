"""Build a tiny SLM in minutes on a CPU: the lesson-sized version of `phi_course.training`.

Introduced in lessons/11_build_a_tiny_slm.ipynb.

The four steps of the lesson, each a small function: collect (the course's
own question-answer data), preprocess (clean, dedupe, split), train (a
Phi-3-architecture model from scratch, then instruction tuning with the loss
on the answer only), and the dense-vs-MoE comparison at equal compute. The
data, the tokenizer and the batch builders are the ones `make models` uses
(`phi_course.training`); this module adds a step-bounded training loop with a
progress bar and a live loss plot, and sizes that `settings.quick()` shrinks.
"""

from __future__ import annotations

import itertools
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

import torch

from phi_course import settings, style
from phi_course.i18n import N_, _
from phi_course.training.architectures import TinySpec
from phi_course.training.dataset import qa_records, text_records
from phi_course.training.schedule import lr_factor
from phi_course.training.train import IGNORE, chat_examples, padded_batches, pretrain_blocks

__all__ = ["Comparison", "FULL", "LiveLossPlot", "Preprocessed", "QUICK", "SEED", "Sizes", "THREADS", "TrainLog",
           "as_prose", "build_model", "chat_batches", "clean", "collect", "count_parameters", "dense_vs_moe",
           "evaluate", "plot_losses", "preprocess", "pretrain_batches", "sizes", "smooth", "split",
           "split_by_fact", "train", "validation_batches", "with_steps"]

SEED = 0
# One thread: these matrices are too small for a second thread to help, and on a busy
# machine a waiting thread spins; measured here, 2 threads ran up to 20x slower than 1.
THREADS = 1


@dataclass(frozen=True)
class Sizes:
    """How big the lesson's model is and how long each step trains."""

    vocab_size: int
    hidden: int
    layers: int
    heads: int
    intermediate: int  # dense feed-forward width; each MoE expert gets half
    experts: int
    block: int  # tokens per pre-training sequence
    batch_size: int
    pretrain_steps: int
    sft_steps: int
    compare_steps: int  # per model, in the dense-vs-MoE run
    lr: float


# FULL trains in about 2.5 minutes on one busy CPU core; QUICK in about 15 seconds.
FULL = Sizes(vocab_size=1024, hidden=128, layers=4, heads=4, intermediate=384, experts=4, block=64,
             batch_size=16, pretrain_steps=200, sft_steps=300, compare_steps=150, lr=3e-3)
QUICK = Sizes(vocab_size=512, hidden=64, layers=2, heads=4, intermediate=192, experts=4, block=48,
              batch_size=16, pretrain_steps=50, sft_steps=80, compare_steps=40, lr=5e-3)


def sizes() -> Sizes:
    """FULL on a learner's machine; QUICK under test (PHI_COURSE_QUICK=1)."""
    return QUICK if settings.quick() else FULL


# --------------------------------------------------------------------------- step 1: collect


def collect(langs: Iterable[str] = ("en",), topics: Iterable[str] | None = None) -> tuple[list[str], list[dict]]:
    """The course's own data: (plain paragraphs, question-answer records) in `langs`.

    The same records as data/texts.jsonl and data/qa.jsonl, built in memory by
    `phi_course.training.dataset`. `topics` keeps only some Q&A topics (all when None).
    """
    langs = tuple(langs)
    wanted = set(topics) if topics is not None else None
    texts = [r["text"] for r in text_records() if r["lang"] in langs]
    qa = [r for r in qa_records() if r["lang"] in langs and (wanted is None or r["topic"] in wanted)]
    if not qa:
        raise ValueError(f"No question-answer records for languages {langs} and topics {sorted(wanted or [])}. "
                         "Check the names: phi_course.training.dataset.summary() lists the topics.")
    return texts, qa


# --------------------------------------------------------------------------- step 2: preprocess

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TAG = re.compile(r"<[^>\n]{1,40}>")  # left-over markup such as <p> or <br/>
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def clean(text: str) -> str:
    """One paragraph made tidy: Unicode normalised (NFKC), markup and control characters
    removed, runs of spaces collapsed, blank lines dropped."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", _TAG.sub(" ", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


@dataclass
class Preprocessed:
    """What preprocessing kept, and what it threw away and why."""

    kept: list[str]
    too_short: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {N_("kept"): len(self.kept), N_("dropped: too short"): len(self.too_short),
                N_("dropped: duplicate"): len(self.duplicates)}


def preprocess(texts: Iterable[str], min_chars: int = 20) -> Preprocessed:
    """Clean every text, then drop the too-short ones and exact duplicates (case-insensitive)."""
    result = Preprocessed(kept=[])
    seen: set[str] = set()
    for raw in texts:
        text = clean(raw)
        if len(text) < min_chars:
            result.too_short.append(raw)
            continue
        key = text.casefold()
        if key in seen:
            result.duplicates.append(raw)
            continue
        seen.add(key)
        result.kept.append(text)
    return result


def split(items: list, validation: float = 0.1, seed: int = SEED) -> tuple[list, list]:
    """(train, validation): a seeded shuffle, then the last `validation` share held out (at least 1)."""
    if not 0 < validation < 1:
        raise ValueError(f"validation is a share between 0 and 1; got {validation}.")
    if len(items) < 2:
        raise ValueError(f"Need at least 2 items to split off a validation set; got {len(items)}.")
    order = list(items)
    random.Random(seed).shuffle(order)
    held = max(1, round(len(order) * validation))
    return order[:-held], order[-held:]


def split_by_fact(texts: list[str], qa: list[dict], validation: float = 0.1,
                  seed: int = SEED) -> tuple[list[str], list[str], list[dict], list[dict]]:
    """(train texts, validation texts, train Q&A, validation Q&A), holding out whole facts.

    A share of the facts is held out; every text that states one of their
    answers goes to validation, so the validation loss measures text about
    facts the model never saw, not sentences it learnt by heart.
    """
    _, held_ids = split(sorted({r["id"] for r in qa}), validation, seed)
    held = set(held_ids)
    train_qa = [r for r in qa if r["id"] not in held]
    val_qa = [r for r in qa if r["id"] in held]
    held_answers = {clean(r["answer"]) for r in val_qa}
    mentions = [any(a in t for a in held_answers) for t in texts]
    train_texts = [t for t, m in zip(texts, mentions, strict=True) if not m]
    val_texts = [t for t, m in zip(texts, mentions, strict=True) if m]
    return train_texts, val_texts, train_qa, val_qa


def as_prose(qa: list[dict]) -> list[str]:
    """Question-answer records as plain text ("question\nanswer"), for pre-training."""
    return [f"{r['question']}\n{r['answer']}" for r in qa]


# --------------------------------------------------------------------------- step 3: the model


def build_model(tokenizer, size: Sizes, moe: bool = False, seed: int = SEED):
    """A freshly initialised Phi3ForCausalLM, or a PhimoeForCausalLM with the same compute per token.

    The MoE model has `size.experts` experts per layer, each half as wide as the
    dense feed-forward block, and runs 2 of them per token: the same active
    parameters, more parameters in all.
    """
    torch.manual_seed(seed)
    spec = TinySpec(
        name="lesson-moe" if moe else "lesson-dense", langs=("en",), moe=moe, hidden=size.hidden,
        layers=size.layers, heads=size.heads, kv_heads=size.heads,
        intermediate=size.intermediate // 2 if moe else size.intermediate,
        experts=size.experts, experts_per_token=2,
    )
    return spec.build(tokenizer)


def count_parameters(model) -> dict[str, int]:
    """{"total": all parameters, "active per token": those one token runs through}."""
    total = sum(p.numel() for p in model.parameters())
    config = model.config
    experts = getattr(config, "num_local_experts", None)
    if not experts:
        return {N_("total"): total, N_("active per token"): total}
    in_experts = sum(p.numel() for n, p in model.named_parameters() if ".experts." in n)
    return {N_("total"): total, N_("active per token"): total - in_experts + in_experts * config.num_experts_per_tok // experts}


# --------------------------------------------------------------------------- batches


def pretrain_batches(tokenizer, texts: list[str], size: Sizes, seed: int = SEED) -> Iterator[dict]:
    """Endless batches of `size.block`-token windows of the texts (labels = inputs: next-token loss)."""
    blocks = pretrain_blocks(tokenizer, texts, size.block)
    if len(blocks) == 0:
        raise ValueError(f"The texts make fewer than {size.block} tokens: collect more text "
                         "or lower Sizes.block.")
    generator = torch.Generator().manual_seed(seed)
    for _epoch in itertools.count():
        order = torch.randperm(len(blocks), generator=generator)
        for i in range(0, len(order), size.batch_size):
            x = blocks[order[i:i + size.batch_size]]
            yield {"input_ids": x, "labels": x}


def chat_batches(tokenizer, qa: list[dict], size: Sizes, seed: int = SEED) -> Iterator[dict]:
    """Endless padded batches of chat-formatted Q&A; labels are -100 outside the answer."""
    rng = random.Random(seed)
    examples = chat_examples(tokenizer, qa, system=False, rng=rng)
    for _epoch in itertools.count():
        yield from padded_batches(examples, size.batch_size, tokenizer.pad_token_id, rng)


# --------------------------------------------------------------------------- training


class LiveLossPlot:
    """A loss plot that redraws in place while training runs (in Jupyter; silent elsewhere).

    `add(name, step, loss)` records a point; the figure is redrawn every
    `every` points, so drawing never costs more than a few percent of training.
    """

    def __init__(self, title: str | None = None, every: int = 20, ax=None):
        self.title = title
        self.every = max(1, every)
        self.curves: dict[str, tuple[list[int], list[float]]] = {}
        self._points = 0
        self._fig, self._ax = style.axes(ax)
        self._handle = None
        try:
            from IPython import get_ipython
            from IPython.display import display

            if get_ipython() is not None:
                import matplotlib.pyplot as plt

                plt.close(self._fig)  # shown through the handle only, not again at the cell's end
                self._handle = display(self._fig, display_id=True)
        except ImportError:
            pass

    @property
    def figure(self):
        return self._fig

    def add(self, name: str, step: int, loss: float) -> None:
        steps, losses = self.curves.setdefault(name, ([], []))
        steps.append(step)
        losses.append(loss)
        self._points += 1
        if self._points % self.every == 0:
            self.draw()

    def draw(self) -> None:
        plot_losses({n: c[1] for n, c in self.curves.items()}, ax=self._ax,
                    steps={n: c[0] for n, c in self.curves.items()}, title=self.title)
        if self._handle is not None:
            self._handle.update(self._fig)


def _lm_loss(model, out) -> torch.Tensor:
    """The language-model loss alone: Phimoe adds its load-balancing loss to `loss`."""
    if getattr(out, "aux_loss", None) is not None:
        return out.loss - model.router_aux_loss_coef * out.aux_loss
    return out.loss


@dataclass
class TrainLog:
    """One training run: the loss after every step, and how long it took."""

    name: str
    losses: list[float]
    seconds: float
    tokens: int  # tokens the loss was computed on (answer tokens only in instruction tuning)

    @property
    def final(self) -> float:
        """Mean loss over the last tenth of the steps (one step alone is noisy)."""
        tail = self.losses[-max(1, len(self.losses) // 10):]
        return sum(tail) / len(tail)


def train(model, batches: Iterator[dict], steps: int, lr: float, *, name: str = "model",
          plot: LiveLossPlot | None = None, progress: bool = True,
          on_step: Callable[[int, float], None] | None = None) -> TrainLog:
    """Train `model` for exactly `steps` batches with AdamW; returns the loss of every step.

    A tqdm bar shows progress; `plot` (a LiveLossPlot) redraws as it goes. For an
    MoE model the router's load-balancing loss is trained on too, as Phi-3.5-MoE
    was, but the loss reported is the language-model loss alone, so dense and MoE
    curves compare like with like.
    """
    from tqdm.auto import tqdm

    if steps < 1:
        raise ValueError(f"steps must be at least 1; got {steps}.")
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, steps))
    extra = {"output_router_logits": True} if getattr(model.config, "num_local_experts", None) else {}
    losses: list[float] = []
    tokens = 0
    started = time.perf_counter()
    model.train()
    bar = tqdm(total=steps, desc=name, unit="step", disable=not progress, leave=True)
    try:
        with settings.torch_threads(THREADS):
            for step, batch in zip(range(steps), batches, strict=False):
                out = model(**batch, **extra)
                out.loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                loss = float(_lm_loss(model, out).detach())
                losses.append(loss)
                tokens += int((batch["labels"][:, 1:] != IGNORE).sum())
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}")
                if plot is not None:
                    plot.add(name, step + 1, loss)
                if on_step is not None:
                    on_step(step + 1, loss)
    finally:
        bar.close()
        model.eval()
    if plot is not None:
        plot.draw()
    if len(losses) < steps:
        raise ValueError(f"The batches ran out after {len(losses)} of {steps} steps; pass an endless iterator.")
    return TrainLog(name, losses, time.perf_counter() - started, tokens)


def evaluate(model, batches: Iterable[dict]) -> float:
    """Mean language-model loss over `batches` (weighted by tokens), without training."""
    total, count = 0.0, 0
    model.eval()
    with torch.inference_mode(), settings.torch_threads(THREADS):
        for batch in batches:
            n = int((batch["labels"][:, 1:] != IGNORE).sum())
            if n == 0:
                continue
            out = model(**batch)
            total += float(out.loss) * n
            count += n
    if count == 0:
        raise ValueError("No tokens to evaluate on: the validation batches are empty.")
    return total / count


def validation_batches(tokenizer, texts: list[str], size: Sizes) -> list[dict]:
    """Every validation window once, in order (a fixed set, so losses are comparable)."""
    blocks = pretrain_blocks(tokenizer, texts, size.block)
    if len(blocks) == 0:  # short validation text: score it as one shorter window
        ids = tokenizer(texts, add_special_tokens=False).input_ids
        flat = torch.tensor([[t for row in ids for t in row][: size.block]])
        return [{"input_ids": flat, "labels": flat}]
    return [{"input_ids": blocks[i:i + size.batch_size], "labels": blocks[i:i + size.batch_size]}
            for i in range(0, len(blocks), size.batch_size)]


# --------------------------------------------------------------------------- dense vs MoE


@dataclass
class Comparison:
    """Dense and MoE trained on the same batches for the same steps."""

    logs: dict[str, TrainLog]
    parameters: dict[str, dict[str, int]]
    validation: dict[str, float]

    def rows(self) -> list[dict]:
        return [{
            N_("model"): name,
            N_("parameters (total)"): self.parameters[name]["total"],
            N_("active per token"): self.parameters[name]["active per token"],
            N_("final train loss"): round(log.final, 3),
            N_("validation loss"): round(self.validation[name], 3),
            N_("seconds"): round(log.seconds, 1),
        } for name, log in self.logs.items()]


def dense_vs_moe(tokenizer, train_texts: list[str], val_texts: list[str], size: Sizes | None = None,
                 *, steps: int | None = None, seed: int = SEED, plot: LiveLossPlot | None = None,
                 progress: bool = True) -> Comparison:
    """Pre-train a dense Phi-3 model and an MoE with the same active parameters, on the same
    batches in the same order, and score both on held-out text."""
    size = size or sizes()
    steps = steps or size.compare_steps
    logs, params, val = {}, {}, {}
    for name, moe in (("dense (Phi3ForCausalLM)", False), ("MoE (PhimoeForCausalLM)", True)):
        model = build_model(tokenizer, size, moe=moe, seed=seed)
        batches = pretrain_batches(tokenizer, train_texts, size, seed=seed)  # same order for both
        logs[name] = train(model, batches, steps, size.lr, name=name, plot=plot, progress=progress)
        params[name] = count_parameters(model)
        val[name] = evaluate(model, validation_batches(tokenizer, val_texts, size))
    return Comparison(logs, params, val)


def smooth(values: list[float], window: int) -> list[float]:
    """Running mean over the last `window` values (window 1 = unchanged)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_losses(curves: dict[str, list[float]], ax=None, *, steps: dict[str, list[int]] | None = None,
                title: str | None = None, window: int | None = None):
    """One smoothed loss curve per name (steps across, loss up); returns the figure."""
    fig, ax = style.axes(ax)
    ax.clear()
    for i, (name, losses) in enumerate(curves.items()):
        xs = (steps or {}).get(name) or list(range(1, len(losses) + 1))
        w = window or max(1, len(losses) // 20)
        ax.plot(xs, losses, color=style.colour(i), alpha=0.25, linewidth=1)
        ax.plot(xs, smooth(losses, w), color=style.colour(i), linewidth=2, label=name)
    ax.set_xlabel(_("training step"))
    ax.set_ylabel(_("loss (cross-entropy, nats/token)"))
    ax.set_title(title or _("Training loss"))
    if curves:
        ax.legend()
    return fig


def with_steps(size: Sizes, factor: float) -> Sizes:
    """`size` with every step count scaled by `factor` (at least 1 step each)."""
    return replace(size, pretrain_steps=max(1, round(size.pretrain_steps * factor)),
                   sft_steps=max(1, round(size.sft_steps * factor)),
                   compare_steps=max(1, round(size.compare_steps * factor)))
