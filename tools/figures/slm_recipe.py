"""Draw img/slm_recipe.png: how a small language model is made (lessons/01_slm_vs_llm.ipynb).

    .venv/bin/python tools/figures/slm_recipe.py

The picture is committed; rerun this script after changing it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from phi_course import style  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "img" / "slm_recipe.png"

STEPS = [
    ("1. Collect data", "web pages, books, code,\nsynthetic \"textbooks\""),
    ("2. Preprocess", "deduplicate, filter,\nclean, tokenise"),
    ("3. Pre-train", "predict the next token\nover trillions of tokens"),
    ("4. Fine-tune", "follow instructions,\nchat, prefer good answers"),
]
SIDE = [
    ("Distil", "a large teacher model\nwrites data or answers\nthe small one learns from"),
    ("Compress", "quantise (fewer bits per weight),\nprune (drop weights that\nmatter least)"),
]


def box(ax, x, y, w, h, title, text, colour):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.05",
                                facecolor=colour, edgecolor="none", alpha=0.9))
    ax.text(x + w / 2, y + h * 0.72, title, ha="center", va="center", fontsize=11, weight="bold", color="white")
    ax.text(x + w / 2, y + h * 0.32, text, ha="center", va="center", fontsize=8, color="white")


def arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color="#444", linewidth=1.2))


def main() -> Path:
    style.apply()
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 3.8)
    ax.axis("off")
    w, h, gap, y = 1.9, 1.1, 0.45, 2.3
    for i, (title, text) in enumerate(STEPS):
        x = 0.1 + i * (w + gap)
        box(ax, x, y, w, h, title, text, style.colour(0))
        if i:
            arrow(ax, (x - gap + 0.02, y + h / 2), (x - 0.02, y + h / 2))
    model_x = 0.1 + len(STEPS) * (w + gap) - gap + 0.25
    ax.text(model_x + 0.35, y + h / 2, "SLM", ha="center", va="center", fontsize=14, weight="bold",
            color=style.colour(2))
    arrow(ax, (model_x - 0.23, y + h / 2), (model_x - 0.02, y + h / 2))
    for i, (title, text) in enumerate(SIDE):
        x = 2.5 + i * 3.4
        box(ax, x, 0.2, 2.6, 1.3, title, text, style.colour(1 + 2 * i))
    arrow(ax, (2.5 + 1.3, 1.52), (0.1 + 2 * (w + gap) + w / 2, y - 0.02))  # distil feeds the training data
    arrow(ax, (5.9 + 2.6, 1.0), (model_x + 0.35, y - 0.1))  # compress shrinks the finished model
    ax.set_title("How a small language model is made", fontsize=13)
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return OUT


if __name__ == "__main__":
    print("wrote", main())
