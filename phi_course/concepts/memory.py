"""Will it fit? Weights plus KV cache against the memory of a phone, a laptop or a GPU.

Introduced in lessons/01_slm_vs_llm.ipynb (and used again in lessons/02_phi_family.ipynb
to explain the size of Phi-3.5-MoE).

Two numbers decide whether a model runs on a device:
- the weights: parameters x bytes per weight (4 for fp32, 2 for fp16/bf16,
  1 for int8, 0.5 for int4), loaded once;
- the KV cache: for every token in the context, every layer keeps a key and a
  value vector per key-value head, so it grows with the context length:
  2 x layers x kv_heads x head_dim x context x batch x bytes.

Everything here is a pure function of the architecture table below, so the
numbers can be checked by hand; `phi_course.widgets.MemoryCalculator` is a thin widget on top.
GB means 10^9 bytes throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

from phi_course import catalog, style
from phi_course.i18n import N_, _
from phi_course.route_table import hub_repo

__all__ = ["ARCHITECTURES", "Architecture", "BYTES_PER_WEIGHT", "CONFIG_SOURCE", "DEFAULT_KV_PRECISION", "DEVICES",
           "Device", "Estimate", "GB", "architecture", "bytes_per_weight", "context_choices", "context_label",
           "estimate", "fit_table", "kv_cache_bytes", "max_context", "plot_memory", "published_params",
           "weights_bytes"]

GB = 1e9
BYTES_PER_WEIGHT = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
# The KV cache is kept in 16-bit floats by default, whatever the weights are stored in.
DEFAULT_KV_PRECISION = "fp16"

CONFIG_SOURCE = ("config.json of the model's Hugging Face repository ("
                 + ", ".join(hub_repo(k) for k in ("phi-3-mini-128k", "phi-3.5-mini", "phi-3-medium-128k",
                                                   "phi-3.5-moe", "phi-4-mini", "phi-4"))
                 + "); Mistral 7B: arXiv:2310.06825, Table 1")


@dataclass(frozen=True)
class Architecture:
    """The shape of a decoder-only transformer: enough to count its parameters and its KV cache."""

    key: str  # a catalog key ("phi-3-mini") or a reference model ("mistral-7b")
    name: str
    model_type: str  # the transformers model type: "phi3", "phimoe" or "mistral"
    layers: int
    hidden: int
    heads: int  # query heads
    kv_heads: int  # key-value heads (fewer than query heads = grouped-query attention)
    head_dim: int
    intermediate: int  # width of the feed-forward block (of each expert, for MoE)
    vocab: int
    context: int  # longest context offered, in tokens
    tied_embeddings: bool = False  # input and output embeddings share one matrix
    experts: int = 1
    experts_per_token: int = 1
    norm_bias: bool = False  # LayerNorm (weight and bias) rather than RMSNorm (weight only)
    sliding_window: int | None = None  # tokens each position can see; None = the whole context

    def param_breakdown(self) -> dict[str, int]:
        """Parameters per part of the model. Only the feed-forward block is copied per expert."""
        attention = self.hidden * self.head_dim * (2 * self.heads + 2 * self.kv_heads)
        parts = {
            "embeddings": self.vocab * self.hidden * (1 if self.tied_embeddings else 2),
            "attention": self.layers * attention,
            # gate, up and down projections: three hidden x intermediate matrices
            "feed-forward": self.layers * self.experts * 3 * self.hidden * self.intermediate,
            "norms": (2 * self.layers + 1) * self.hidden * (2 if self.norm_bias else 1),
        }
        if self.experts > 1:
            parts["router"] = self.layers * self.experts * self.hidden
        return parts

    @property
    def params(self) -> int:
        """Total parameters: what has to be in memory."""
        return sum(self.param_breakdown().values())

    @property
    def active_params(self) -> int:
        """Parameters used for one token: what decides the compute per token."""
        parts = self.param_breakdown()
        unused = parts["feed-forward"] * (self.experts - self.experts_per_token) // self.experts
        return self.params - unused

    def kv_bytes_per_token(self, kv_precision: str = DEFAULT_KV_PRECISION) -> float:
        """KV-cache bytes one token of context costs (keys and values, every layer)."""
        return 2 * self.layers * self.kv_heads * self.head_dim * bytes_per_weight(kv_precision)

    def transformers_config(self):
        """The matching transformers config, to build the real architecture (e.g. on the meta device)."""
        from transformers import MistralConfig, Phi3Config, PhimoeConfig

        common = dict(vocab_size=self.vocab, hidden_size=self.hidden, intermediate_size=self.intermediate,
                      num_hidden_layers=self.layers, num_attention_heads=self.heads,
                      num_key_value_heads=self.kv_heads, max_position_embeddings=self.context,
                      tie_word_embeddings=self.tied_embeddings, sliding_window=self.sliding_window)
        if self.model_type == "phimoe":
            return PhimoeConfig(**common, num_local_experts=self.experts,
                                num_experts_per_tok=self.experts_per_token)
        if self.model_type == "mistral":
            return MistralConfig(**common, head_dim=self.head_dim)
        # Phi3Config derives head_dim as hidden / heads, which holds for every Phi entry below.
        return Phi3Config(**common, original_max_position_embeddings=self.context)


def _arch(*args, **kwargs) -> tuple[str, Architecture]:
    arch = Architecture(*args, **kwargs)
    return arch.key, arch


# One table, one source (CONFIG_SOURCE). Context is the longest variant offered.
ARCHITECTURES: dict[str, Architecture] = dict([
    _arch("phi-3-mini", "Phi-3-mini", "phi3", 32, 3072, 32, 32, 96, 8192, 32064, 131072),
    _arch("phi-3.5-mini", "Phi-3.5-mini", "phi3", 32, 3072, 32, 32, 96, 8192, 32064, 131072),
    _arch("phi-3-medium", "Phi-3-medium", "phi3", 40, 5120, 40, 10, 128, 17920, 32064, 131072),
    _arch("phi-3.5-moe", "Phi-3.5-MoE", "phimoe", 32, 4096, 32, 8, 128, 6400, 32064, 131072,
          experts=16, experts_per_token=2, norm_bias=True),
    _arch("phi-4-mini", "Phi-4-mini", "phi3", 32, 3072, 24, 8, 128, 8192, 200064, 131072,
          tied_embeddings=True),
    _arch("phi-4", "Phi-4", "phi3", 40, 5120, 40, 10, 128, 17920, 100352, 16384),
    _arch("mistral-7b", "Mistral-7B", "mistral", 32, 4096, 32, 8, 128, 14336, 32000, 8192,
          sliding_window=4096),
])

# Published sizes of the models in ARCHITECTURES that are not in catalog.FAMILY.
_REFERENCE_KEYS = {"mistral-7b": "Mistral-7B"}


@dataclass(frozen=True)
class Device:
    """A memory budget: how much a device has, and how much one model may use."""

    key: str
    name: str
    total_gb: float
    usable_gb: float
    why: str  # where the rest goes


DEVICES: dict[str, Device] = {d.key: d for d in [
    Device("phone", "Phone (8 GB)", 8, 4, "the OS and other apps keep about half of a phone's memory"),
    Device("laptop", "Laptop (16 GB)", 16, 12, "the OS, a browser and this notebook keep about 4 GB"),
    Device("gpu-24", "GPU (24 GB)", 24, 22, "the GPU runtime and activations take a few GB"),
    Device("gpu-80", "GPU (80 GB)", 80, 74, "the GPU runtime and activations take a few GB"),
]}


def bytes_per_weight(precision: str) -> float:
    """4 for fp32, 2 for fp16/bf16, 1 for int8, 0.5 for int4."""
    try:
        return BYTES_PER_WEIGHT[precision]
    except KeyError:
        raise ValueError(f"Unknown precision {precision!r}. Choose one of: {', '.join(BYTES_PER_WEIGHT)}.") from None


def weights_bytes(params: float, precision: str) -> float:
    """Memory for the weights: parameters x bytes per weight."""
    if params < 0:
        raise ValueError(f"params must be 0 or more; got {params}.")
    return params * bytes_per_weight(precision)


def kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, context: int, batch: int = 1,
                   bytes_per_value: float = 2.0, window: int | None = None) -> float:
    """Memory for the KV cache: 2 (key and value) x layers x kv_heads x head_dim x tokens x batch x bytes.

    With a sliding window, only the last `window` tokens are kept, so the cache stops growing there.
    """
    if min(layers, kv_heads, head_dim, batch) < 1 or context < 0:
        raise ValueError("layers, kv_heads, head_dim and batch must be at least 1, context 0 or more.")
    tokens = context if window is None else min(context, window)
    return 2 * layers * kv_heads * head_dim * tokens * batch * bytes_per_value


def architecture(key: str) -> Architecture:
    """The architecture entry for a model key such as 'phi-3-mini'."""
    try:
        return ARCHITECTURES[key]
    except KeyError:
        raise KeyError(f"No architecture for {key!r}. Known: {', '.join(ARCHITECTURES)}") from None


def published_params(key: str) -> float:
    """The published parameter count (total, not active), from phi_course.catalog."""
    if key in catalog.FAMILY:
        return catalog.phi(key).params_b * 1e9
    if key in _REFERENCE_KEYS:
        return catalog.REFERENCE_MODELS[_REFERENCE_KEYS[key]]["params_b"] * 1e9
    raise KeyError(f"No published size for {key!r}. Known: {', '.join([*catalog.FAMILY, *_REFERENCE_KEYS])}")


@dataclass(frozen=True)
class Estimate:
    """The memory one model needs at one precision and context length."""

    model: str
    precision: str
    context: int
    batch: int
    kv_precision: str
    weights_gb: float
    kv_cache_gb: float

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb

    def fits(self, device: str | Device) -> bool:
        """True when weights and KV cache fit in the device's usable memory."""
        device = DEVICES[device] if isinstance(device, str) else device
        return self.total_gb <= device.usable_gb


def estimate(model: str, precision: str = "fp16", context: int = 4096, batch: int = 1,
             kv_precision: str = DEFAULT_KV_PRECISION) -> Estimate:
    """Weights (from the published size) and KV cache (from the architecture) for one setting.

    An MoE model needs ALL its experts in memory: the weights use the total size.
    """
    arch = architecture(model)
    if context > arch.context:
        raise ValueError(f"{arch.name} reads at most {arch.context:,} tokens; got context={context:,}. "
                         "Pick a shorter context.")
    kv = kv_cache_bytes(arch.layers, arch.kv_heads, arch.head_dim, context, batch,
                        bytes_per_weight(kv_precision), arch.sliding_window)
    return Estimate(model, precision, context, batch, kv_precision,
                    weights_bytes(published_params(model), precision) / GB, kv / GB)


def max_context(model: str, precision: str, device: str, kv_precision: str = DEFAULT_KV_PRECISION) -> int:
    """The longest context whose KV cache still fits beside the weights (0 if the weights do not fit)."""
    arch = architecture(model)
    spare = DEVICES[device].usable_gb * GB - weights_bytes(published_params(model), precision)
    if spare <= 0:
        return 0
    if arch.sliding_window is not None and spare >= arch.kv_bytes_per_token(kv_precision) * arch.sliding_window:
        return arch.context  # the cache stops growing at the window
    return min(arch.context, int(spare // arch.kv_bytes_per_token(kv_precision)))


def fit_table(model: str, context: int = 4096, precisions=("fp32", "fp16", "int8", "int4"),
              kv_precision: str = DEFAULT_KV_PRECISION):
    """One row per precision: weights, KV cache, total and a yes/no per device."""
    from phi_course.tables import Table

    rows = []
    for precision in precisions:
        e = estimate(model, precision, context, kv_precision=kv_precision)
        row = {N_("precision"): precision, N_("weights (GB)"): round(e.weights_gb, 2),
               N_("KV cache (GB)"): round(e.kv_cache_gb, 2), N_("total (GB)"): round(e.total_gb, 2)}
        row.update({d.name: "yes" if e.fits(d) else "no" for d in DEVICES.values()})
        rows.append(row)
    name = architecture(model).name
    return Table(rows, _("{name} at {context:,} tokens of context (KV cache in {precision})").format(
        name=name, context=context, precision=kv_precision))


def plot_memory(model: str, context: int = 4096, precisions=("fp32", "fp16", "int8", "int4"),
                devices=tuple(DEVICES), kv_precision: str = DEFAULT_KV_PRECISION, ax=None):
    """Stacked bars (weights + KV cache) per precision, with each device's usable memory as a line."""
    fig, ax = style.axes(ax, figsize=(7, 3.8))
    estimates = [estimate(model, p, context, kv_precision=kv_precision) for p in precisions]
    x = range(len(estimates))
    weights = [e.weights_gb for e in estimates]
    kv = [e.kv_cache_gb for e in estimates]
    ax.bar(x, weights, color=style.colour(0), label=_("weights"))
    ax.bar(x, kv, bottom=weights, color=style.colour(1), label=_("KV cache ({precision})").format(precision=kv_precision))
    for e, i in zip(estimates, x, strict=True):
        ax.annotate(f"{e.total_gb:.1f}", (i, e.total_gb), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(x), list(precisions))
    budgets = [DEVICES[d] for d in devices]
    top = max(max(e.total_gb for e in estimates), max(d.usable_gb for d in budgets))
    for i, device in enumerate(budgets):
        ax.axhline(device.usable_gb, color=style.colour(i + 2), linestyle="--", linewidth=1)
        # labels sit to the right of the axes, where no bar can hide them
        ax.annotate(_("{device}: {gb:g} GB usable").format(device=device.name, gb=device.usable_gb), xy=(1, device.usable_gb),
                    xycoords=("axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=8, color=style.colour(i + 2), annotation_clip=False)
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel(_("memory (GB)"))
    ax.set_xlabel(_("weight precision"))
    ax.set_title(_("{name}: does it fit at {context:,} tokens?").format(name=architecture(model).name, context=context))
    ax.legend(loc="upper right", fontsize=8)
    return fig


def context_choices(model: str, shortest: int = 1024) -> list[int]:
    """Powers of two from `shortest` to the model's longest context (its exact maximum last)."""
    longest = architecture(model).context
    choices, n = [], shortest
    while n < longest:
        choices.append(n)
        n *= 2
    return choices + [longest]


def context_label(tokens: int) -> str:
    """4096 -> "4K": how a context length is spoken of."""
    return f"{tokens // 1024}K" if tokens % 1024 == 0 else f"{tokens:,}"
