"""The Phi family as tables and charts, beside larger models (the explorer widget over them is phi_course.widgets.FamilyExplorer).

Introduced in lessons/02_phi_family.ipynb; the size and training-compute charts
first appear in lessons/01_slm_vs_llm.ipynb.

Model figures come from phi_course.catalog. The few figures the catalog does
not hold (training tokens and hardware, two published LLM sizes, the claims
Microsoft makes about its models) are kept here, each with its source.
"""

from __future__ import annotations

from dataclasses import dataclass

from phi_course import catalog, route_table, style
from phi_course.i18n import N_, _
from phi_course.tables import Table

__all__ = ["CLAIMS", "Claim", "GPT3_PAPER", "LLAMA2_PAPER", "PHI35_LANGUAGES", "PHI35_MINI_CARD", "PHI35_MOE_CARD",
           "PHI35_VISION_CARD", "PHI3_MINI_CARD", "PHI4_CARD", "PHI4_MINI_CARD", "PUBLISHED_LLMS", "TRAINING",
           "Training", "benchmarks_for", "card_url", "claims_table", "display_name", "family_table",
           "plot_benchmarks", "plot_moe_breakdown", "plot_sizes", "plot_training_compute", "route_matrix",
           "routes_for", "row", "select", "successors_table", "training_flops", "training_table"]

PHI3_MINI_CARD = f"model card of {route_table.hub_repo('phi-3-mini')}"
PHI35_MINI_CARD = f"model card of {route_table.hub_repo('phi-3.5-mini')}"
PHI35_MOE_CARD = f"model card of {route_table.hub_repo('phi-3.5-moe')}"
PHI35_VISION_CARD = f"model card of {route_table.hub_repo('phi-3.5-vision')}"
PHI4_CARD = f"model card of {route_table.hub_repo('phi-4')}"
PHI4_MINI_CARD = f"model card of {route_table.hub_repo('phi-4-mini')}"
GPT3_PAPER = "Language Models are Few-Shot Learners (GPT-3), arXiv:2005.14165"
LLAMA2_PAPER = "Llama 2, arXiv:2307.09288"

# The languages Phi-3.5-mini and Phi-3.5-MoE list as supported (their model cards).
PHI35_LANGUAGES = (
    "Arabic", "Chinese", "Czech", "Danish", "Dutch", "English", "Finnish", "French", "German",
    "Hebrew", "Hungarian", "Italian", "Japanese", "Korean", "Norwegian", "Polish", "Portuguese",
    "Russian", "Spanish", "Swedish", "Thai", "Turkish", "Ukrainian",
)

# Large models with a published parameter count, for the size chart (billions).
PUBLISHED_LLMS = {
    "GPT-3": {"params_b": 175.0, "source": GPT3_PAPER},
    "Llama-2-70B": {"params_b": 70.0, "source": LLAMA2_PAPER},
}


@dataclass(frozen=True)
class Training:
    """How much data a model was trained on, and on what hardware, as published."""

    model: str  # a catalog key, or a name from PUBLISHED_LLMS
    params_per_token_b: float  # parameters that work on each token (active ones for MoE)
    tokens_t: float  # training tokens, trillions
    source: str
    gpus: int | None = None
    gpu_type: str = ""
    days: float | None = None

    @property
    def flops(self) -> float:
        """Training compute by the rule of thumb 6 x N x D (forward + backward pass)."""
        return training_flops(self.params_per_token_b * 1e9, self.tokens_t * 1e12)

    @property
    def flops_per_gpu_second(self) -> float | None:
        """What each GPU must have sustained for 6ND to fit in the published time."""
        if not (self.gpus and self.days):
            return None
        return self.flops / (self.gpus * self.days * 86400)


TRAINING: list[Training] = [
    # The checkpoint under Phi-3-mini's id today is the June 2024 update (its card: 4.9T tokens, 10 days);
    # the April 2024 release and the Phi-3 report: 3.3T tokens, 7 days on the same 512 GPUs.
    Training("phi-3-mini", 3.8, 4.9, f"{PHI3_MINI_CARD} (June 2024 update)", 512, "H100-80G", 10),
    Training("phi-3-small", 7.0, 4.8, catalog.PHI3_REPORT),
    Training("phi-3-medium", 14.0, 4.8, catalog.PHI3_REPORT),
    Training("phi-3.5-mini", 3.8, 3.4, PHI35_MINI_CARD, 512, "H100-80G", 10),
    Training("phi-3.5-moe", 6.6, 4.9, PHI35_MOE_CARD, 512, "H100-80G", 23),
    Training("phi-4-mini", 3.8, 5.0, PHI4_MINI_CARD, 512, "A100-80G", 21),
    Training("phi-4", 14.0, 9.8, PHI4_CARD, 1920, "H100-80G", 21),
    Training("Llama-2-70B", 70.0, 2.0, LLAMA2_PAPER),
    Training("GPT-3", 175.0, 0.3, GPT3_PAPER),
]


@dataclass(frozen=True)
class Claim:
    """A comparison Microsoft published about one of its models: reported, not tested by this course."""

    model: str
    claim: str  # marked with N_(): shown translated
    source: str


CLAIMS: list[Claim] = [
    Claim("phi-3-mini", N_("rivals Mixtral 8x7B and GPT-3.5 (69% MMLU, 8.38 MT-bench)"), catalog.PHI3_REPORT),
    Claim("phi-3-small", N_("beats GPT-3.5-Turbo on language, reasoning, coding and maths benchmarks"),
          catalog.PHI3_REPORT),
    Claim("phi-3-medium", N_("outperforms Gemini 1.0 Pro"), catalog.PHI3_REPORT),
    Claim("phi-3.5-mini", N_("beats models of its size and keeps up with models twice as large"), PHI35_MINI_CARD),
    Claim("phi-3-vision", N_("beats Claude-3 Haiku and Gemini 1.0 Pro V on visual reasoning, OCR, tables and charts"),
          catalog.PHI3_REPORT),
    Claim("phi-3.5-vision", N_("beats Claude-3.5 Sonnet and Gemini 1.5 Flash on OCR, tables and charts; "
          "on par for general visual knowledge"), PHI35_VISION_CARD),
    Claim("phi-3.5-moe", N_("with 6.6B active parameters, matches much larger models on reasoning, "
          "language understanding and maths"), PHI35_MOE_CARD),
]


def training_flops(params: float, tokens: float) -> float:
    """The usual estimate of training compute: 6 x parameters x tokens.

    About 2 FLOPs per parameter per token for the forward pass and 4 for the backward pass.
    """
    if params < 0 or tokens < 0:
        raise ValueError("params and tokens must be 0 or more.")
    return 6 * params * tokens


def display_name(key: str) -> str:
    """'phi-3.5-moe' -> 'Phi-3.5-MoE'; names outside the catalog are returned as they are."""
    return catalog.FAMILY[key].name if key in catalog.FAMILY else key


# -- tables and filters -------------------------------------------------------------------------

def select(generation: str | None = None, modality: str | None = None, max_params_b: float | None = None,
           min_context_k: int | None = None, multilingual: bool | None = None) -> list[catalog.PhiModel]:
    """The family members that match every given condition (None means any)."""
    chosen = []
    for m in catalog.FAMILY.values():
        if generation is not None and m.generation != generation:
            continue
        if modality is not None and modality not in m.modalities:
            continue
        if max_params_b is not None and m.params_b > max_params_b:
            continue
        if min_context_k is not None and max(_context_k(c) for c in m.context) < min_context_k:
            continue
        if multilingual is not None and (m.languages != "mainly English") != multilingual:
            continue
        chosen.append(m)
    return chosen


def _context_k(text: str) -> int:
    """'128K' -> 128."""
    return int(text.rstrip("Kk"))


def row(model: catalog.PhiModel | str) -> dict:
    """One model as a table row."""
    m = catalog.phi(model) if isinstance(model, str) else model
    return {
        N_("model"): m.name,
        N_("generation"): m.generation,
        N_("parameters (B)"): m.params_b,
        N_("active per token (B)"): m.active_params_b,
        N_("context"): " / ".join(m.context),
        N_("inputs"): " + ".join(m.modalities),
        N_("languages"): m.languages,
        N_("released"): m.released,
        N_("replaced by"): display_name(m.successor) if m.successor else "-",
        N_("source"): card_url(m.key),
    }


def card_url(key: str) -> str:
    """The model card a catalog entry's figures come from (its Hugging Face page)."""
    return f"https://huggingface.co/{route_table.hub_repo(key)}"


def family_table(**conditions) -> Table:
    """The family (or the members matching `select(**conditions)`) as a table."""
    chosen = select(**conditions)
    title = _("The Phi family") + (f" ({', '.join(f'{k}={v}' for k, v in conditions.items())})" if conditions else "")
    return Table([row(m) for m in chosen], title)


def routes_for(model: str) -> Table:
    """Every route that lists `model`, with its id and whether it still serves it."""
    catalog.phi(model)  # a clear error for an unknown key
    rows = [{N_("route"): r.route, N_("id"): r.id, N_("status"): r.status.describe(),
             N_("instead"): r.status.successor or "-", N_("checked"): r.status.checked, N_("note"): r.status.note or "-"}
            for r in route_table.MODEL_IDS if r.model == model]
    return Table(rows, _("Where {model} is served (as of {date})").format(model=display_name(model),
                                                                         date=route_table.CHECKED))


def route_matrix() -> Table:
    """Model x route: 'yes' (served), 'retired <date>', 'unverified', or '-' (never listed)."""
    def cell(row: route_table.ModelId) -> str:
        if row.status.retired:
            return _("retired {date}").format(date=row.status.since)
        return _("yes") if row.status.state == route_table.SERVED else _(row.status.state)

    status = {(r.model, r.route): cell(r) for r in route_table.MODEL_IDS}
    names = [name for name in route_table.ROUTES if any(r.route == name for r in route_table.MODEL_IDS)]
    rows = [{N_("model"): m.name, **{route: status.get((m.key, route), "-") for route in names}}
            for m in catalog.FAMILY.values()]
    return Table(rows, _("Which route serves which Phi model, as of {date} (phi_course.route_table)").format(
        date=route_table.CHECKED))


def benchmarks_for(model: str) -> dict[str, float]:
    """The published benchmark scores the catalog holds for `model`."""
    return {bench: scores[model] for bench, scores in catalog.BENCHMARKS.items() if model in scores}


def claims_table(model: str | None = None) -> Table:
    """What Microsoft reports about its models (all, or one model's), with the source."""
    rows = [{N_("model"): display_name(c.model), N_("Microsoft reports that it..."): _(c.claim), N_("source"): c.source}
            for c in CLAIMS if model is None or c.model == model]
    return Table(rows, _("Reported by Microsoft, not measured by this course"))


def successors_table() -> Table:
    """Each Phi-3/3.5 model and the Phi-4 model Microsoft named to replace it (on Foundry)."""
    rows = []
    for m in catalog.FAMILY.values():
        if not m.successor:
            continue
        new = catalog.phi(m.successor)
        lost = [x for x in m.modalities if x not in new.modalities]
        rows.append({N_("model"): m.name, N_("replaced by"): new.name,
                     N_("size then -> now (B)"): f"{m.params_b:g} -> {new.params_b:g}",
                     N_("inputs now"): " + ".join(new.modalities),
                     N_("note"): _("reads {inputs} only: for pictures, use Phi-4-multimodal").format(
                         inputs=" + ".join(new.modalities)) if lost else "-"})
    return Table(rows, _("Phi-3.x models and the successor Microsoft named (Foundry's retirement list)"))


def training_table() -> Table:
    """Published training data and hardware, with 6ND and what it implies per GPU."""
    rows = []
    for t in TRAINING:
        per_gpu = t.flops_per_gpu_second
        rows.append({
            N_("model"): display_name(t.model),
            N_("params per token (B)"): t.params_per_token_b,
            N_("tokens (T)"): t.tokens_t,
            N_("6ND (FLOPs)"): f"{t.flops:.1e}",
            N_("hardware"): _("{gpus} x {gpu}, {days:g} days").format(gpus=t.gpus, gpu=t.gpu_type, days=t.days)
            if t.gpus else _("not published"),
            N_("implied TFLOP/s per GPU"): round(per_gpu / 1e12) if per_gpu else "-",
            N_("source"): t.source,
        })
    return Table(rows, _("Training compute: 6 x parameters x tokens"))


# -- charts -------------------------------------------------------------------------------------

def plot_sizes(extra: dict[str, float] | None = None, ax=None):
    """Parameter counts on a log scale: Phi models, published LLMs, and GPT-4's unconfirmed estimate.

    `extra` adds bars (name -> parameters, not billions), e.g. the course's own models.
    """
    fig, ax = style.axes(ax, figsize=(7.5, 4.6))
    bars: list[tuple[str, float, float | None, str]] = []  # (label, parameters, active, kind)
    for name, params in (extra or {}).items():
        bars.append((name, params, None, "course"))
    for m in catalog.FAMILY.values():
        active = m.active_params_b * 1e9 if m.active_params_b != m.params_b else None
        bars.append((m.name, m.params_b * 1e9, active, "phi"))
    for name, ref in catalog.REFERENCE_MODELS.items():
        if ref.get("params_b"):
            active = ref["active_params_b"] * 1e9 if ref.get("active_params_b") else None
            bars.append((name, ref["params_b"] * 1e9, active, "llm"))
    for name, ref in PUBLISHED_LLMS.items():
        bars.append((name, ref["params_b"] * 1e9, None, "llm"))
    gpt4 = catalog.REFERENCE_MODELS["GPT-4"].get("unconfirmed_estimate_b")
    if gpt4:
        bars.append((_("GPT-4 (unconfirmed outside estimate)"), gpt4 * 1e9, None, "estimate"))
    colours = {"course": style.colour(2), "phi": style.colour(0), "llm": style.colour(1),
               "estimate": "white"}
    y = range(len(bars))
    for i, (_label, params, active, kind) in zip(y, bars, strict=True):
        ax.barh(i, params, color=colours[kind], edgecolor=style.colour(1) if kind == "estimate" else "none",
                hatch="//" if kind == "estimate" else None)
        text = f"{params / 1e9:g}B" if params >= 1e9 else f"{params / 1e6:.1f}M"
        if kind == "estimate":  # the longest bar: its label goes inside, so it stays within the axes
            ax.annotate(text + _(" (never published)"), (params, i), xytext=(-4, 0), textcoords="offset points",
                        va="center", ha="right", fontsize=8)
        else:
            ax.annotate(text, (params, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        if active:  # MoE: mark the parameters that actually work on each token
            ax.plot(active, i, marker="|", markersize=14, markeredgewidth=2, color="black")
    ax.set_yticks(list(y), [b[0] for b in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(left=min(b[1] for b in bars) / 3, right=max(b[1] for b in bars) * 60)
    ax.set_xlabel(_("parameters (log scale: each grid line is 10x)"))
    ax.set_title(_("Model size: Phi (blue) vs large models (orange)"))
    ax.text(0.99, 0.98, _("black tick = parameters active per token (MoE)\n"
                          "hatched = an outside estimate, not an official figure"),
            transform=ax.transAxes, ha="right", va="top", fontsize=7, color="#555")
    return fig


def plot_training_compute(extra: dict[str, float] | None = None, ax=None):
    """Training compute (6ND, log scale) for the models in TRAINING, plus `extra` (name -> FLOPs)."""
    fig, ax = style.axes(ax, figsize=(7.5, 3.8))
    items = [(display_name(t.model), t.flops, "llm" if t.model in PUBLISHED_LLMS else "phi") for t in TRAINING]
    items += [(name, flops, "course") for name, flops in (extra or {}).items()]
    colours = {"course": style.colour(2), "phi": style.colour(0), "llm": style.colour(1)}
    for i, (_label, flops, kind) in enumerate(items):
        ax.barh(i, flops, color=colours[kind])
        ax.annotate(f"{flops:.1e}", (flops, i), xytext=(3, 0), textcoords="offset points", va="center",
                    fontsize=8)
    ax.set_yticks(range(len(items)), [i[0] for i in items], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(right=max(i[1] for i in items) * 4)
    ax.set_xlabel(_("training compute, FLOPs = 6 x parameters x tokens (log scale)"))
    ax.set_title(_("Training compute from published token counts"))
    return fig


def plot_benchmarks(benchmark: str = "MMLU", highlight: str | None = None, references: bool = True, ax=None):
    """Published scores for one benchmark, with the source printed on the figure."""
    if benchmark not in catalog.BENCHMARKS:
        raise KeyError(f"No benchmark {benchmark!r} in the catalog. Known: {', '.join(catalog.BENCHMARKS)}")
    fig, ax = style.axes(ax, figsize=(7, 3.6))
    scores = [(display_name(k), v, k) for k, v in catalog.BENCHMARKS[benchmark].items()]
    refs = [(name, r[benchmark], name) for name, r in catalog.REFERENCE_MODELS.items()
            if references and benchmark in r]
    items = scores + refs
    for i, (_label, value, key) in enumerate(items):
        colour = style.colour(1) if key in catalog.REFERENCE_MODELS else style.colour(0)
        edge = "black" if key == highlight else "none"
        ax.bar(i, value, color=colour, edgecolor=edge, linewidth=2)
        ax.annotate(f"{value:g}", (i, value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(items)), [i[0] for i in items], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, max(v for _, v, _ in items) * 1.1)
    ax.set_ylabel(benchmark + (_(" (score out of 10)") if benchmark == "MT-bench" else " (%)"))
    ax.set_title(_("{benchmark}: published scores").format(benchmark=benchmark)
                 + (_(" (Phi blue, other models orange)") if refs else ""))
    source = catalog.BENCHMARK_SOURCES[benchmark]
    if refs:
        source += _("; other models as reported in {report}").format(report=catalog.PHI3_REPORT.split(",")[0])
    ax.text(0, -0.42, _("Source: {source}").format(source=source), transform=ax.transAxes, fontsize=7, color="#555", wrap=True)
    return fig


def plot_moe_breakdown(arch, expert_size_b: float = 3.8, ax=None):
    """Why an MoE of n experts x 3.8B is not n x 3.8B: naive product vs shared + experts vs active.

    `arch` is a phi_course.concepts.memory.Architecture with experts > 1.
    """
    if arch.experts < 2:
        raise ValueError(f"{arch.name} has no experts; pick a mixture-of-experts architecture.")
    fig, ax = style.axes(ax, figsize=(7, 3.4))
    parts = arch.param_breakdown()
    experts = parts["feed-forward"] / 1e9
    shared = arch.params / 1e9 - experts
    active_experts = experts * arch.experts_per_token / arch.experts
    naive = arch.experts * expert_size_b
    ax.barh(2, naive, color="white", edgecolor=style.colour(3), hatch="//")
    ax.barh(1, shared, color=style.colour(0), label=_("shared by all experts: attention, embeddings, norms, router"))
    ax.barh(1, experts, left=shared, color=style.colour(1), label=_("feed-forward blocks: one copy per expert"))
    ax.barh(0, shared, color=style.colour(0))
    ax.barh(0, active_experts, left=shared, color=style.colour(1))
    for y, value in ((2, naive), (1, shared + experts), (0, shared + active_experts)):
        ax.annotate(f"{value:.1f}B", (value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=9)
    ax.set_yticks([0, 1, 2], [_("used per token\n(top-{k})").format(k=arch.experts_per_token), _("in memory\n(total)"),
                              _("{n} x {size:g}B\n(naive)").format(n=arch.experts, size=expert_size_b)])
    ax.set_xlim(0, naive * 1.15)
    ax.set_xlabel(_("parameters (billions)"))
    ax.set_title(_("{name}: {n} experts share everything but the feed-forward block").format(name=arch.name,
                                                                                              n=arch.experts))
    ax.legend(loc="lower right", fontsize=7)
    return fig
