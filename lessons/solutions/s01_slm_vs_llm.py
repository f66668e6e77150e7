"""Solutions to the exercises of lessons/01_slm_vs_llm.ipynb."""

import copy

import torch

from phi_course.concepts import memory
from phi_course.local import embedded
from phi_course.training.dataset import all_facts
from phi_course.training.evaluate import generate_answers, is_correct

# The quiz of the lesson: catalog facts the course models were trained on.
QUIZ_IDS = ["catalog-phi-3-mini-params", "catalog-phi-3.5-mini-context", "catalog-phi-3-mini-memory-int4",
            "catalog-phi-3.5-moe-active", "catalog-phi-3.5-vision-successor", "catalog-phi-4-mini-released"]


def exercise_1(model: str = "phi-3.5-moe", context: int = 4096, device: str = "gpu-80") -> dict[str, bool]:
    """Level 1: at which precisions does the model (weights + KV cache) fit on the device?"""
    return {p: memory.estimate(model, p, context).fits(device) for p in ("bf16", "int8", "int4")}


def exercise_2(model: str = "phi-3-mini", precision: str = "int4") -> dict[str, int]:
    """Level 2: per device, the longest power-of-two context that still fits (0 if none does)."""
    longest = memory.architecture(model).context
    result = {}
    for device in memory.DEVICES:
        best, context = 0, 1024
        while context <= longest and memory.estimate(model, precision, context).fits(device):
            best, context = context, context * 2
        result[device] = best
    return result


def quantize(weight: torch.Tensor, bits: int) -> torch.Tensor:
    """Round each row of weights to 2**bits - 1 levels and back to float."""
    levels = 2 ** (bits - 1) - 1
    scale = weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / levels
    return (weight / scale).round().clamp(-levels, levels) * scale


def quantized_copy(model, bits: int):
    """A copy of the model with every Linear layer's weights quantized to `bits`."""
    smaller = copy.deepcopy(model)
    with torch.no_grad():
        for layer in smaller.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.weight.copy_(quantize(layer.weight, bits))
    return smaller


def quiz_answers(model, tokenizer, lang: str = "en") -> list[str]:
    """The model's answers to the lesson's quiz, asked in `lang`."""
    facts = {f.id: f for f in all_facts()}
    return generate_answers(model, tokenizer, [facts[i].questions(lang)[0] for i in QUIZ_IDS], max_new_tokens=32)


def quiz_score(answers: list[str], lang: str = "en") -> int:
    """How many answers hold the key fact, in the language of the question."""
    facts = {f.id: f for f in all_facts()}
    return sum(is_correct(a, facts[i].key_for(lang), lang) for a, i in zip(answers, QUIZ_IDS, strict=True))


def exercise_3(name: str = "tiny-phi35-mini") -> tuple[int, int, dict[int, int]]:
    """Level 3: the fewest bits per weight (trying 8, 7, 6, ...) before the quiz score first drops.

    Returns (bits, score of the unquantised model, score per number of bits tried).
    """
    model, tokenizer = embedded.load(name)
    full = quiz_score(quiz_answers(model, tokenizer))
    scores = {}
    for bits in range(8, 1, -1):
        scores[bits] = quiz_score(quiz_answers(quantized_copy(model, bits), tokenizer))
        if scores[bits] < full:
            return bits + 1, full, scores
    return 2, full, scores
