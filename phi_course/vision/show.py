"""Pictures and answers side by side, in the course's figure style.

Introduced in lessons/09_phi_vision.ipynb. Like every plot helper in the
course, each function returns the figure so a learner can save or restyle it.
"""

from __future__ import annotations

import textwrap


def pictures(images, captions=None, title: str | None = None, size: float = 1.9, columns: int | None = None):
    """Pictures in a row (or a grid of `columns`), each with an optional caption under it."""
    import matplotlib.pyplot as plt

    from .. import style

    style.apply()
    images = list(images)
    columns = columns or len(images)
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.5 * bool(captions)),
                             layout="constrained", squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i])
            if captions:
                ax.set_title("\n".join(textwrap.wrap(str(captions[i]), 24)), fontsize=8, fontweight="normal")
    if title:
        fig.suptitle(title, fontsize=10, fontweight="bold")
    return fig


def answer(images, question: str, reply: str, expected: str | None = None, size: float = 1.9):
    """The pictures, then the question and the model's reply; marked right or wrong when `expected` is given."""
    verdict = "" if expected is None else ("  (right)" if reply.strip() == expected else f"  (expected: {expected})")
    title = f"Q: {question}\nA: {reply}{verdict}"
    return pictures(images, title="\n".join(textwrap.fill(line, 70) for line in title.splitlines()), size=size)


def model_view(image, processor):
    """The picture as the model receives it: resized to its input size (and back to 0-255 to show)."""
    import numpy as np
    from PIL import Image

    values = processor.image_processor(image, return_tensors="np")["pixel_values"][0]  # channels first, -1..1
    mean = np.array(processor.image_processor.image_mean)[:, None, None]
    std = np.array(processor.image_processor.image_std)[:, None, None]
    pixels = ((values * std + mean).clip(0, 1) * 255).round().astype("uint8").transpose(1, 2, 0)
    return Image.fromarray(pixels)
