"""The Phi family: each model's published figures, with their sources.

Introduced in lessons/02_phi_family.ipynb.

Which service serves which model under which id, and since when, is not here:
that is phi_course.route_table, the one place for service facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from phi_course.route_table import hub_repo

__all__ = ["BENCHMARKS", "BENCHMARK_SOURCES", "FAMILY", "FUNCTION_CALLING", "PHI35_CARDS", "PHI3_REPORT", "PHI4_MINI_REPORT",
           "PHI4_REPORT", "PhiModel", "REFERENCE_MODELS", "phi"]

PHI3_REPORT = "Phi-3 Technical Report, arXiv:2404.14219 (Microsoft, 2024)"
PHI35_CARDS = f"Hugging Face model cards of {hub_repo('phi-3.5-mini')} and {hub_repo('phi-3.5-moe')} (Aug 2024)"
PHI4_REPORT = "Phi-4 Technical Report, arXiv:2412.08905 (Microsoft, 2024)"
PHI4_MINI_REPORT = "Phi-4-Mini Technical Report, arXiv:2503.01743 (Microsoft, 2025)"


# Which Phi models are documented for function calling (tools offered in the system turn between
# <|tool|> and <|/tool|>, the model answering with calls), and where that was read.
FUNCTION_CALLING = {
    "phi-4-mini": (f"https://huggingface.co/{hub_repo('phi-4-mini')} "
                   "(model card, 'Tool-Enabled Function-Calling Format')", "2026-12-01"),
}


@dataclass(frozen=True)
class PhiModel:
    """One member of the Phi family, with the figures a lesson needs."""

    key: str  # the course's short name, e.g. "phi-3.5-mini"
    name: str  # display name
    params_b: float  # total parameters, billions
    active_params_b: float  # parameters used per token (differs for MoE)
    context: tuple[str, ...]  # context lengths offered, e.g. ("4K", "128K")
    modalities: tuple[str, ...]
    languages: str
    released: str
    generation: str  # "Phi-3", "Phi-3.5" or "Phi-4"
    summary: str
    embedded: str | None = None  # the course-sized stand-in, if any
    successor: str | None = None
    reasoning: bool = False  # trained to think step by step before answering

    @property
    def kind(self) -> str:
        """'reasoning', 'multimodal' or 'instruct': a Foundry deployment of each kind has its own name."""
        if self.reasoning:
            return "reasoning"
        return "multimodal" if len(self.modalities) > 1 else "instruct"


FAMILY: dict[str, PhiModel] = {
    m.key: m
    for m in [
        PhiModel("phi-3-mini", "Phi-3-mini", 3.8, 3.8, ("4K", "128K"), ("text",), "mainly English",
                 "2024-04", "Phi-3", "3.8B dense decoder; runs on a phone when quantised to 4 bits.",
                 embedded="tiny-phi3-mini", successor="phi-4-mini"),
        PhiModel("phi-3-small", "Phi-3-small", 7.0, 7.0, ("8K", "128K"), ("text",), "mainly English",
                 "2024-05", "Phi-3", "7B dense decoder; Microsoft reports it ahead of GPT-3.5-Turbo on many benchmarks.",
                 successor="phi-4-mini"),
        PhiModel("phi-3-medium", "Phi-3-medium", 14.0, 14.0, ("4K", "128K"), ("text",), "mainly English",
                 "2024-05", "Phi-3", "14B dense decoder; the largest Phi-3.",
                 successor="phi-4"),
        PhiModel("phi-3.5-mini", "Phi-3.5-mini", 3.8, 3.8, ("128K",), ("text",), "20+ languages",
                 "2024-08", "Phi-3.5", "Same size as Phi-3-mini, better multilingual and long-context skills.",
                 embedded="tiny-phi35-mini", successor="phi-4-mini"),
        PhiModel("phi-3-vision", "Phi-3-vision", 4.2, 4.2, ("128K",), ("text", "image"), "mainly English",
                 "2024-05", "Phi-3", "Image encoder + Phi-3-mini decoder: charts, tables, OCR."),
        PhiModel("phi-3.5-vision", "Phi-3.5-vision", 4.2, 4.2, ("128K",), ("text", "image"), "mainly English",
                 "2024-08", "Phi-3.5", "Phi-3-vision upgraded to reason over several images or frames at once.",
                 successor="phi-4-mini"),
        PhiModel("phi-3.5-moe", "Phi-3.5-MoE", 41.9, 6.6, ("128K",), ("text",), "20+ languages",
                 "2024-08", "Phi-3.5", "Mixture of experts: 16 per layer, 2 used per token, so 6.6B of about 42B "
                 "parameters work on each token.",
                 embedded="tiny-phi35-moe", successor="phi-4-mini"),
        PhiModel("phi-4", "Phi-4", 14.7, 14.7, ("16K",), ("text",), "mainly English",
                 "2024-12", "Phi-4", "14B dense decoder trained heavily on synthetic reasoning data."),
        PhiModel("phi-4-mini", "Phi-4-mini", 3.8, 3.8, ("128K",), ("text",), "20+ languages",
                 "2025-02", "Phi-4", "3.8B with a 200K-word vocabulary and grouped-query attention."),
        PhiModel("phi-4-multimodal", "Phi-4-multimodal", 5.6, 5.6, ("128K",), ("text", "image", "audio"),
                 "20+ languages", "2025-02", "Phi-4", "One model for text, images and speech."),
        PhiModel("phi-4-reasoning", "Phi-4-reasoning", 14.0, 14.0, ("32K",), ("text",), "mainly English",
                 "2025-04", "Phi-4", "Phi-4 fine-tuned to reason step by step before it answers (maths, science, code).",
                 reasoning=True),
        PhiModel("phi-4-reasoning-plus", "Phi-4-reasoning-plus", 14.0, 14.0, ("32K",), ("text",), "mainly English",
                 "2025-04", "Phi-4", "Phi-4-reasoning trained further with reinforcement learning: longer, more accurate reasoning.",
                 reasoning=True),
        PhiModel("phi-4-mini-reasoning", "Phi-4-mini-reasoning", 3.8, 3.8, ("128K",), ("text",), "mainly English",
                 "2025-04", "Phi-4", "Phi-4-mini fine-tuned on step-by-step maths solutions.",
                 reasoning=True),
        PhiModel("phi-4-mini-flash-reasoning", "Phi-4-mini-flash-reasoning", 3.8, 3.8, ("64K",), ("text",),
                 "mainly English", "2025-07", "Phi-4",
                 "A new hybrid architecture (SambaY) that decodes long reasoning faster than Phi-4-mini-reasoning.",
                 reasoning=True),
    ]
}

# Published benchmark figures (percent). MMLU 5-shot; MT-bench on a 0-10 scale; AIME 2024 pass@1.
BENCHMARKS: dict[str, dict[str, float]] = {
    "MMLU": {"phi-3-mini": 68.8, "phi-3-small": 75.7, "phi-3-medium": 78.0,
             "phi-3.5-mini": 69.0, "phi-3.5-moe": 78.9, "phi-4": 84.8, "phi-4-mini": 67.3},
    "MT-bench": {"phi-3-mini": 8.38, "phi-3-small": 8.70, "phi-3-medium": 8.91},
    # Each figure from its own model's card: the reasoning models' one benchmark in common.
    "AIME 2024": {"phi-4-reasoning": 75.3, "phi-4-reasoning-plus": 81.3, "phi-4-mini-reasoning": 57.5},
}
BENCHMARK_SOURCES = {
    "MMLU": f"{PHI3_REPORT}; {PHI35_CARDS}; model cards of {hub_repo('phi-4')} (simple-evals) and "
            f"{hub_repo('phi-4-mini')}",
    "MT-bench": PHI3_REPORT,
    "AIME 2024": f"model cards of {hub_repo('phi-4-reasoning')} (both 14B models) and {hub_repo('phi-4-mini-reasoning')}",
}

# Larger models the seed compares against. Parameter counts of closed models are
# not published: they stay None, and lessons say so.
REFERENCE_MODELS = {
    "GPT-3.5-Turbo": {"params_b": None, "MMLU": 71.4, "source": PHI3_REPORT},
    "Mixtral-8x7B": {"params_b": 46.7, "active_params_b": 12.9, "MMLU": 68.4, "source": PHI3_REPORT},
    "Mistral-7B": {"params_b": 7.3, "source": "Mistral 7B, arXiv:2310.06825"},
    # An outside estimate reported in the press, never confirmed by OpenAI.
    "GPT-4": {"params_b": None, "unconfirmed_estimate_b": 1760, "source": "unconfirmed outside estimate"},
}


def phi(key: str) -> PhiModel:
    """The catalog entry for a course key such as 'phi-3.5-mini'."""
    try:
        return FAMILY[key]
    except KeyError:
        raise KeyError(f"No Phi model called {key!r}. Known: {', '.join(FAMILY)}") from None
