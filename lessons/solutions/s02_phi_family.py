"""Solutions to the exercises of lessons/02_phi_family.ipynb."""

import torch

from phi_course import catalog, route_table
from phi_course.concepts import family, memory


def exercise_1() -> list[str]:
    """Level 1: the Phi models that read images and offer a 128K context."""
    return [m.key for m in family.select(modality="image", min_context_k=128)]


def exercise_2(route: str = "azure") -> dict[str, str]:
    """Level 2: for each model retired on the route, the id the service names as its successor there."""
    return {row.id: route_table.successor(row).id for row in route_table.ids_on(route) if row.retired}


def exercise_3(key: str = "phi-4-mini") -> tuple[float, float]:
    """Level 3: count the parameters of the real transformers architecture (no weights loaded).

    Returns (counted, published), both in billions.
    """
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):  # shapes only: nothing is allocated, nothing is downloaded
        model = AutoModelForCausalLM.from_config(memory.architecture(key).transformers_config())
    return sum(p.numel() for p in model.parameters()) / 1e9, catalog.phi(key).params_b
