"""Mixture of experts: which expert each token goes to, and what that costs in parameters.

Introduced in lessons/10_phi_moe.ipynb.

`route_tokens` runs one real forward pass of a mixture-of-experts model with
`output_router_logits=True` and turns the router's scores into the experts
each token was sent to, layer by layer, with their weights. For Phi-3.5-MoE
(`PhimoeForCausalLM`) the picks are made by the model's own routing function
(SparseMixer), so they are the experts the forward pass really used.
`parameter_budget` counts total and active parameters of any such model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from phi_course import catalog, style
from phi_course.i18n import _

__all__ = ["Routing", "parameter_budget", "plot_active_vs_total", "plot_expert_load", "plot_routing",
           "route_tokens", "token_labels", "top_k_experts"]


@dataclass
class Routing:
    """Where each token of one text went: per layer, per token, the top-k experts and weights."""

    tokens: list[str]  # the tokens as text, in order
    experts: np.ndarray  # [layers, tokens, k] expert index, best first
    weights: np.ndarray  # [layers, tokens, k] the weight each picked expert's output gets
    probs: np.ndarray  # [layers, tokens, experts] the router's softmax over all experts
    num_experts: int

    @property
    def layers(self) -> int:
        return int(self.experts.shape[0])

    @property
    def top_k(self) -> int:
        return int(self.experts.shape[2])

    def load(self) -> np.ndarray:
        """[layers, experts]: the share of this text's token-to-expert picks each expert got.

        Each row sums to 1. A perfectly balanced layer gives every expert 1/num_experts.
        """
        counts = np.zeros((self.layers, self.num_experts))
        for layer in range(self.layers):
            counts[layer] = np.bincount(self.experts[layer].ravel(), minlength=self.num_experts)
        return counts / counts.sum(axis=1, keepdims=True)

    def matrix(self, layer: int) -> np.ndarray:
        """[experts, tokens] for one layer: how strongly the router favoured each expert (softmax)."""
        self._check_layer(layer)
        return self.probs[layer].T

    def rows(self, layer: int = 0) -> list[dict]:
        """One table row per token: the experts it went to in `layer`, best first, with weights."""
        self._check_layer(layer)
        return [
            {"token": repr(tok), **{f"expert #{i + 1}": int(e) for i, e in enumerate(self.experts[layer, t])},
             **{f"weight #{i + 1}": round(float(w), 3) for i, w in enumerate(self.weights[layer, t])}}
            for t, tok in enumerate(self.tokens)
        ]

    def _check_layer(self, layer: int) -> None:
        if not 0 <= layer < self.layers:
            raise IndexError(f"Layer {layer} does not exist: this model has layers 0 to {self.layers - 1}.")


def top_k_experts(router_logits: torch.Tensor, top_k: int, jitter_eps: float | None = None):
    """(experts, weights), each [tokens, top_k], from one layer's router scores [tokens, experts].

    With `jitter_eps` (Phi-3.5-MoE's `router_jitter_noise`), this is the model's own
    SparseMixer routing in inference mode: expert 1 is the best score, expert 2 the best
    of the rest, and each gets its own weight. Without it, the common recipe
    (Mixtral's): softmax over the scores, keep the top k, renormalise so they sum to 1.
    """
    logits = router_logits.float()
    if jitter_eps is not None and top_k == 2:
        from transformers.models.phimoe.modeling_phimoe import sparsemixer

        weights, experts = sparsemixer(logits, jitter_eps=jitter_eps, training=False, top_k=top_k)
        return experts, weights
    probs = torch.softmax(logits, dim=-1)
    weights, experts = torch.topk(probs, top_k, dim=-1)
    return experts, weights / weights.sum(dim=-1, keepdim=True)


def _moe_settings(model) -> tuple[int, int, float | None]:
    config = model.config.get_text_config()
    experts = getattr(config, "num_local_experts", None)
    top_k = getattr(config, "num_experts_per_tok", None)
    if not experts or not top_k:
        raise ValueError(
            f"{type(model).__name__} is not a mixture-of-experts model (its config has no "
            "num_local_experts / num_experts_per_tok), so it has no router to look at. "
            "Load an MoE model such as the embedded 'tiny-phi35-moe'."
        )
    jitter = getattr(config, "router_jitter_noise", None) if config.model_type == "phimoe" else None
    return int(experts), int(top_k), jitter


def route_tokens(model, tokenizer, text: str) -> Routing:
    """Run `text` through an MoE model once and return where every token went, in every layer.

    Pure: no weights change, no state is kept. Works for any model whose forward
    pass accepts `output_router_logits=True` (Phi-3.5-MoE, Mixtral, Qwen-MoE).
    """
    num_experts, top_k, jitter = _moe_settings(model)
    encoded = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    if encoded["input_ids"].shape[1] == 0:
        raise ValueError("The text is empty: give the model at least one token to route.")
    device = next(model.parameters()).device
    with torch.inference_mode():
        out = model(**{k: v.to(device) for k, v in encoded.items()}, output_router_logits=True, use_cache=False)
    if not out.router_logits:
        raise RuntimeError(
            f"{type(model).__name__} returned no router logits although output_router_logits=True "
            "was passed. Update transformers (pip install -U transformers) and run this again."
        )
    scores = [layer_logits.reshape(-1, num_experts).float() for layer_logits in out.router_logits]
    picks = [top_k_experts(layer_scores, top_k, jitter) for layer_scores in scores]
    tokens = token_labels(tokenizer, text, encoded["input_ids"][0].tolist())
    return Routing(
        tokens=tokens,
        experts=np.stack([e.cpu().numpy() for e, _ in picks]),
        weights=np.stack([w.float().cpu().numpy() for _, w in picks]),
        probs=np.stack([torch.softmax(s, dim=-1).cpu().numpy() for s in scores]),
        num_experts=num_experts,
    )


def token_labels(tokenizer, text: str, ids: list[int]) -> list[str]:
    """The piece of `text` each token stands for.

    A byte-level tokenizer may split one Chinese character over two or three
    tokens; decoding such a token alone gives '\ufffd', so each token is labelled
    with the characters it covers instead (the whole character, for each part).
    """
    if getattr(tokenizer, "is_fast", False):
        offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        if len(offsets) == len(ids):
            return [text[start:end] for start, end in offsets]
    return [tokenizer.decode([i], clean_up_tokenization_spaces=False) for i in ids]


def parameter_budget(model) -> dict[str, int]:
    """Count a model's parameters: in all, in its experts, shared, and active per token.

    Active = shared (embeddings, attention, norms, routers) + top_k / num_experts of the
    experts. Works on a model built on the "meta" device, so a 42B model can be
    counted without a byte of memory.
    """
    num_experts, top_k, _ = _moe_settings(model)
    total = sum(p.numel() for p in model.parameters())
    experts = sum(p.numel() for name, p in model.named_parameters() if ".experts." in name)
    shared = total - experts
    return {
        "total": total,
        "experts (all)": experts,
        "shared (attention, embeddings, norms, routers)": shared,
        "active per token": shared + experts * top_k // num_experts,
        "num_experts": num_experts,
        "top_k": top_k,
    }


def plot_routing(routing: Routing, layer: int = 0, ax=None):
    """Heatmap of one layer: experts down, tokens across; colour = the router's preference,
    numbers = the experts the token was actually sent to (1 = first choice)."""
    grid = routing.matrix(layer)
    size = (max(6.0, 0.38 * len(routing.tokens) + 2), 0.32 * routing.num_experts + 1.8)
    fig, ax = style.axes(ax, figsize=size)
    image = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(routing.tokens)), [_label(t) for t in routing.tokens], rotation=60, ha="right")
    ax.set_yticks(range(routing.num_experts), [_("expert {e}").format(e=e) for e in range(routing.num_experts)])
    ax.grid(False)
    for t in range(len(routing.tokens)):
        for rank, e in enumerate(routing.experts[layer, t]):
            dark = grid[e, t] > 0.5
            ax.text(t, e, str(rank + 1), ha="center", va="center", fontsize=8, fontweight="bold",
                    color="white" if dark else style.colour(3))
    ax.figure.colorbar(image, ax=ax, label=_("router probability"), fraction=0.03)
    ax.set_title(_("Layer {layer}: where each token went (1, 2 = the experts that ran)").format(layer=layer))
    return fig


def plot_expert_load(routing: Routing, ax=None):
    """Grouped bars: for every layer, the share of token picks each expert received."""
    load = routing.load()
    fig, ax = style.axes(ax, figsize=(max(6.0, 0.9 * routing.layers + 2), 3.5))
    width = 0.8 / routing.num_experts
    x = np.arange(routing.layers)
    for e in range(routing.num_experts):
        ax.bar(x + (e - (routing.num_experts - 1) / 2) * width, load[:, e], width,
               label=_("expert {e}").format(e=e), color=style.colour(e))
    ax.axhline(1 / routing.num_experts, color="grey", linestyle="--", linewidth=1, label=_("perfect balance"))
    ax.set_xticks(x, [_("layer {i}").format(i=i) for i in range(routing.layers)])
    ax.set_ylabel(_("share of token picks"))
    ax.set_title(_("Expert load per layer ({tokens} tokens x {k} picks)").format(tokens=len(routing.tokens), k=routing.top_k))
    ax.legend(fontsize=7, ncols=min(routing.num_experts + 1, 5), loc="upper center",
              bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.grid(axis="x", visible=False)
    return fig


def plot_active_vs_total(keys=("phi-3-mini", "phi-3-medium", "phi-3.5-moe"), ax=None):
    """Paired bars from phi_course.catalog: parameters in all (memory) vs active per token (compute)."""
    models = [catalog.phi(k) for k in keys]
    fig, ax = style.axes(ax)
    x = np.arange(len(models))
    total = ax.bar(x - 0.2, [m.params_b for m in models], 0.4, label=_("in all: sets the memory"), color=style.colour(0))
    active = ax.bar(x + 0.2, [m.active_params_b for m in models], 0.4, label=_("active per token: sets the compute"),
                    color=style.colour(1))
    ax.bar_label(total, fmt="%g", padding=2)
    ax.bar_label(active, fmt="%g", padding=2)
    ax.set_xticks(x, [m.name for m in models])
    ax.set_ylabel(_("parameters (billions)"))
    ax.set_title(_("A mixture of experts is big in memory, small in compute"))
    ax.legend()
    ax.grid(axis="x", visible=False)
    return fig


def _label(token: str) -> str:
    shown = token.replace("\n", "\\n")
    return shown if shown.strip() else repr(shown)
