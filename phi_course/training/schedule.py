"""The learning-rate schedule every model of the course trains with.

Introduced in lessons/11_build_a_tiny_slm.ipynb; also used by `make models`
(phi_course.training.train) and the vision model (phi_course.vision.train).
"""

from __future__ import annotations

import math

__all__ = ["lr_factor"]


def lr_factor(step: int, total: int, warmup: int | None = None) -> float:
    """The factor on the peak learning rate at `step` of `total`: a linear warm-up (5% of the
    steps unless given), then cosine decay to a tenth of the peak."""
    warmup = warmup if warmup is not None else max(1, total // 20)
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
