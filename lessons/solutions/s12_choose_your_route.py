"""Solutions to the exercises of lessons/12_choose_your_route.ipynb."""

import statistics
from collections.abc import Sequence

from phi_course.chat import Answer

HIGHER_IS_BETTER = {"tokens_per_second"}


def best_route(measurements: Sequence[Answer], metric: str = "first_token_seconds") -> str:
    """Level 1: the route with the best median `metric` (lowest time, or highest tokens/s)."""
    medians = {}
    for route in dict.fromkeys(m.route for m in measurements):
        values = [getattr(m, metric) for m in measurements if m.route == route and not m.error]
        values = [v for v in values if v is not None]
        if values:
            medians[route] = statistics.median(values)
    if not medians:
        raise ValueError(f"No measurement has a value for {metric!r}.")
    pick = max if metric in HIGHER_IS_BETTER else min
    return pick(medians, key=medians.get)


def break_even_tokens_per_day(price_per_million: float, server_per_hour: float) -> float:
    """Level 2: tokens a day above which a server running all day costs less than paying per token."""
    if price_per_million <= 0 or server_per_hour < 0:
        raise ValueError("price_per_million must be above 0 and server_per_hour 0 or more.")
    return 24 * server_per_hour / price_per_million * 1e6


def pick_route(*, device: str = "laptop", offline: bool = False, private_data: bool = False,
               fine_tune: bool = False, model_gb: float = 2.0, memory_gb: float = 16.0,
               own_hardware: bool = True) -> tuple[str, str]:
    """Level 3: the decision table as code: (route, reason). The first rule that applies wins."""
    if device in ("phone", "browser", "edge"):
        return "onnx", "int4 builds and a small runtime run on the device itself"
    too_big = model_gb > memory_gb
    if too_big and (offline or private_data):
        return "custom", "the model needs more memory than you have: run it on a server of your own"
    if too_big or not own_hardware:
        return "azure", "the cloud provides the accelerator memory"
    if fine_tune:
        return "transformers", "fine-tuning needs the model as a PyTorch module in your process"
    if offline or private_data:
        return "ollama", "the model runs on your machine: nothing leaves it, no network needed"
    return "nim", "the quickest start: a free NVIDIA developer key and the OpenAI SDK"
