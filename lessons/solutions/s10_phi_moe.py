"""Solutions to the exercises of lessons/10_phi_moe.ipynb."""

import torch
from transformers import PhimoeConfig, PhimoeForCausalLM

from phi_course.concepts import memory, moe
from phi_course.local import embedded

SENTENCE = "Phi-3.5-MoE is a mixture of experts."
ENGLISH = "A mixture of experts sends each token to two of its experts. Phi-3.5-MoE has sixteen experts."
CHINESE = "混合专家模型把每个词元送到其中两个专家。Phi-3.5-MoE 有十六个专家。"


def experts_for(token: str = "MoE", text: str = SENTENCE, model_name: str = "tiny-phi35-moe") -> list[list[int]]:
    """Level 1: the experts `token` went to, one [first, second] pair per layer."""
    model, tokenizer = embedded.load(model_name)
    routing = moe.route_tokens(model, tokenizer, text)
    matches = [i for i, t in enumerate(routing.tokens) if t.strip() == token]
    if not matches:
        raise ValueError(f"{token!r} is not one token of {text!r}; its tokens are {routing.tokens}.")
    position = matches[0]
    return [routing.experts[layer, position].tolist() for layer in range(routing.layers)]


def language_gap(english: str = ENGLISH, chinese: str = CHINESE,
                 model_name: str = "tiny-phi35-moe") -> tuple[list[float], int]:
    """Level 2: per layer, how differently two texts use the experts (total variation
    distance of their load shares: 0 = the same, 1 = disjoint); and the layer where it is largest."""
    model, tokenizer = embedded.load(model_name)
    en = moe.route_tokens(model, tokenizer, english).load()
    zh = moe.route_tokens(model, tokenizer, chinese).load()
    gaps = [float(abs(a - b).sum() / 2) for a, b in zip(en, zh, strict=True)]
    return gaps, max(range(len(gaps)), key=gaps.__getitem__)


def phi35_moe_with(num_experts: int) -> dict[str, int]:
    """Phi-3.5-MoE's shape with another number of experts, counted on the meta device."""
    with torch.device("meta"):
        model = PhimoeForCausalLM(PhimoeConfig(num_local_experts=num_experts))
    return moe.parameter_budget(model)


def most_experts_that_fit(gpu_gb: float = 48, precision: str = "bf16") -> tuple[int, int]:
    """Level 3: the most experts (top-2, Phi-3.5-MoE's shape) whose weights fit in `gpu_gb`,
    and the parameters active per token for that model."""
    def fits(n: int) -> bool:
        return memory.weights_bytes(phi35_moe_with(n)["total"], precision) <= gpu_gb * 1e9

    if not fits(2):
        raise ValueError(f"Even 2 experts do not fit in {gpu_gb} GB at {precision}.")
    n = 2
    while fits(n + 1) and n < 1024:  # bounded: no GPU holds more than that here
        n += 1
    return n, phi35_moe_with(n)["active per token"]
