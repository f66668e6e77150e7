"""Pictures and answers side by side, in the course's figure style.

Introduced in lessons/09_phi_vision.ipynb. Like every plot helper in the
course, each function returns the figure so a learner can save or restyle it.
"""

from __future__ import annotations

import textwrap

from phi_course.i18n import _

__all__ = ["answer", "model_view", "pictures"]


def pictures(images, captions=None, title: str | None = None, size: float = 1.9, columns: int | None = None):
    """Pictures in a row (or a grid of `columns`), each with an optional caption under it."""
    import matplotlib.pyplot as plt

    from phi_course import style

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


def answer(images, question: str, reply: str, expected: str | None = None, size: float = 1.9,
           captions=None):
    """The pictures (with optional captions), and beside them the question and the model's reply.

    With `expected`, the reply is marked right or shown next to the right answer.
    """
    import matplotlib.pyplot as plt

    from phi_course import style

    style.apply()
    images = list(images)
    text_width = 3.2
    fig, axes = plt.subplots(1, len(images) + 1, figsize=(size * len(images) + text_width, size),
                             layout="constrained", width_ratios=[size] * len(images) + [text_width])
    for i, (ax, image) in enumerate(zip(axes, images, strict=False)):
        ax.imshow(image)
        ax.axis("off")
        if captions:
            ax.set_title(str(captions[i]), fontsize=8, fontweight="normal")
    panel = axes[-1]
    panel.axis("off")
    right = reply.strip() == expected
    lines = [(_("Q: "), question, "normal"), (_("A: "), reply, "bold")]  # the colon is the language's own
    if expected is not None:
        lines.append(("", _("right") if right else _("expected: {answer}").format(answer=expected), "normal"))
    y = 0.85
    for label, text, weight in lines:
        # Chinese has no spaces to break at: wrap by width, which textwrap does for it too
        wrapped = textwrap.wrap(text, 34 if text.isascii() else 17) or [""]
        panel.text(0, y, label + "\n    ".join(wrapped), fontsize=9, va="top",
                   transform=panel.transAxes, fontweight=weight,
                   color=style.colour(2 if right else 3) if not label else "black")
        y -= 0.14 * len(wrapped) + 0.08
    return fig


def model_view(image, processor):
    """The picture as the model receives it: resized to its input size (and back to 0-255 to show)."""
    import numpy as np
    from PIL import Image

    values = processor.image_processor(image, return_tensors="np")["pixel_values"][0]  # channels first, -1..1
    mean = np.array(processor.image_processor.image_mean)[:, None, None]
    std = np.array(processor.image_processor.image_std)[:, None, None]
    pixels = ((values * std + mean).clip(0, 1) * 255).round().astype("uint8").transpose(1, 2, 0)
    return Image.fromarray(pixels)
