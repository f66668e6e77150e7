"""Full causal attention and sliding-window attention, as masks you can look at.

Introduced in lessons/01_slm_vs_llm.ipynb.

In a decoder-only model each token attends to the tokens before it (and
itself): a lower-triangular mask. A sliding window of size w keeps only the
last w of them, so the work per token and the KV cache stop growing once the
text is longer than w. `mask` follows the transformers convention: with
`sliding_window=w`, position i sees positions i-w+1 .. i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phi_course import style
from phi_course.i18n import N_, _
from phi_course.route_table import hub_repo

__all__ = ["WINDOWS", "WindowFact", "attended", "mask", "measured_mask", "plot_mask", "plot_masks",
           "tiny_windowed_model", "window_table"]


def mask(n: int, window: int | None = None) -> np.ndarray:
    """An n x n boolean mask: row i (a query) is True at the columns (keys) it may attend to."""
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}.")
    if window is not None and window < 1:
        raise ValueError(f"window must be at least 1 (or None for full attention); got {window}.")
    query = np.arange(n)[:, None]
    key = np.arange(n)[None, :]
    allowed = key <= query  # causal: never look ahead
    if window is not None:
        allowed &= query - key < window
    return allowed


def attended(mask_: np.ndarray) -> np.ndarray:
    """How many tokens each position attends to (the row sums)."""
    return mask_.sum(axis=1)


def plot_mask(mask_: np.ndarray, title: str = "", ax=None):
    """One mask as a grid: filled squares are the (query, key) pairs that are computed."""
    fig, ax = style.axes(ax, figsize=(3.6, 3.6))
    ax.imshow(mask_, cmap="Blues", vmin=0, vmax=1.4, interpolation="nearest")
    ax.grid(False)
    # thin white lines between cells, so single pairs can be counted
    n_rows, n_cols = mask_.shape
    step = max(1, n_cols // 8)  # whole token positions, never 2.5
    ax.set_xticks(range(0, n_cols, step))
    ax.set_yticks(range(0, n_rows, step))
    ax.set_xticks(np.arange(-0.5, n_cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel(_("key position (attended to)"))
    ax.set_ylabel(_("query position (the token being computed)"))
    ax.set_title(title or _("{used} of {total} pairs").format(used=int(mask_.sum()), total=mask_.size))
    return fig


def plot_masks(n: int = 16, window: int = 4, axes=None):
    """Full causal attention beside a sliding window of `window` tokens, same length `n`."""
    import matplotlib.pyplot as plt

    style.apply()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8, 4), layout="constrained")
    fig = axes[0].figure
    full, windowed = mask(n), mask(n, window)
    plot_mask(full, _("full causal: {pairs} pairs").format(pairs=int(full.sum())), axes[0])
    plot_mask(windowed, _("sliding window {window}: {pairs} pairs").format(window=window, pairs=int(windowed.sum())),
              axes[1])
    return fig


def measured_mask(model, n: int, layer: int = 0, head: int = 0) -> np.ndarray:
    """Which attention weights a real model computes as non-zero, from one forward pass.

    The model must use eager attention (only eager hands the weights back).
    """
    import torch

    if model.config._attn_implementation != "eager":
        raise ValueError("measured_mask needs attention weights, which only eager attention returns. "
                         "Load the model with attn_implementation='eager'.")
    ids = torch.arange(n)[None] % model.config.vocab_size
    with torch.inference_mode():
        out = model(input_ids=ids, output_attentions=True)
    return (out.attentions[layer][0, head] > 0).numpy()


def tiny_windowed_model(window: int | None, n_positions: int = 64, seed: int = 0):
    """A one-layer Phi3ForCausalLM with random weights and the given sliding window (for masks only)."""
    import torch
    from transformers import Phi3Config, Phi3ForCausalLM

    torch.manual_seed(seed)
    config = Phi3Config(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=n_positions,
                        original_max_position_embeddings=n_positions, sliding_window=window,
                        pad_token_id=0, bos_token_id=1, eos_token_id=2)
    config._attn_implementation = "eager"
    return Phi3ForCausalLM(config).eval()


@dataclass(frozen=True)
class WindowFact:
    """The sliding window a published config declares, beside the context it offers."""

    model: str
    context: int
    sliding_window: int | None
    source: str

    @property
    def effect(self) -> str:
        if self.sliding_window is None:
            return _("none: full attention")
        if self.sliding_window >= self.context:
            return _("none in practice: the window is longer than the context")
        return _("each token sees at most the last {n:,} tokens").format(n=self.sliding_window)


WINDOWS: list[WindowFact] = [
    WindowFact("Mistral-7B", 8192, 4096, "Mistral 7B, arXiv:2310.06825 (Table 1)"),
    *[WindowFact(hub_repo(key).split("/")[1], context, window, f"config.json of {hub_repo(key)}")
      for key, context, window in [("phi-3-mini", 4096, 2047), ("phi-3-mini-128k", 131072, 262144),
                                   ("phi-3.5-mini", 131072, 262144), ("phi-4", 16384, None)]],
]


def window_table():
    """WINDOWS as a table, with what each window means in practice."""
    from phi_course.tables import Table

    return Table([{N_("model"): w.model, N_("context"): w.context, "sliding_window": w.sliding_window or "-",
                   N_("effect"): w.effect, N_("source"): w.source} for w in WINDOWS],
                 _("Sliding windows declared in published configs"))
