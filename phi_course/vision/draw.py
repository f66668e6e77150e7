"""Pictures the course draws itself: charts, digit tables, shapes and moving-object frames.

Introduced in lessons/09_phi_vision.ipynb.

Everything is drawn with Pillow from a seeded random generator, so the same
seed gives the same picture on every machine: no image is ever downloaded.
Text uses DejaVu Sans Bold, the font matplotlib ships, for the same reason.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = ["BACKGROUND", "COLOURS", "GRID", "HIGHLIGHT", "INK", "LETTERS", "PlotArea", "SHAPES", "SIZE",
           "bar_chart", "canvas", "centred_text", "digit_table", "draw_shape", "font", "frame", "line_chart",
           "one_shape", "rng_for", "shape_points"]

SIZE = 128  # pixels per side of every picture (the model itself reads them smaller)
BACKGROUND = (255, 255, 255)
INK = (40, 40, 40)
GRID = (150, 150, 150)

# English name -> (RGB, Chinese name). Strong hues that stay apart when shrunk.
COLOURS: dict[str, tuple[tuple[int, int, int], str]] = {
    "red": ((220, 30, 30), "红色"),
    "green": ((20, 150, 40), "绿色"),
    "blue": ((30, 70, 220), "蓝色"),
    "yellow": ((235, 195, 0), "黄色"),
    "purple": ((140, 40, 170), "紫色"),
    "orange": ((245, 125, 0), "橙色"),
}
SHAPES: dict[str, str] = {"circle": "圆形", "square": "正方形", "triangle": "三角形", "star": "星形"}
LETTERS = "ABCDEF"


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans Bold at `size` px, from matplotlib's own copy (present wherever matplotlib is)."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    return ImageFont.truetype(str(path), size)


def canvas(size: int = SIZE) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (size, size), BACKGROUND)
    return image, ImageDraw.Draw(image)


def centred_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int,
                 fill=INK) -> None:
    draw.text(xy, text, font=font(size), fill=fill, anchor="mm")


@dataclass(frozen=True)
class PlotArea:
    """Where a chart draws, in pixels: left, top, right, bottom."""

    left: float
    top: float
    right: float
    bottom: float

    @classmethod
    def for_size(cls, size: int) -> PlotArea:
        return cls(0.1 * size, 0.06 * size, 0.96 * size, 0.8 * size)

    def slot_centres(self, n: int) -> list[float]:
        width = (self.right - self.left) / n
        return [self.left + width * (i + 0.5) for i in range(n)]

    def y(self, fraction: float) -> float:
        return self.bottom - fraction * (self.bottom - self.top)


def _axes(draw: ImageDraw.ImageDraw, area: PlotArea, size: int) -> None:
    width = max(1, size // 64)
    draw.line([(area.left, area.top), (area.left, area.bottom), (area.right, area.bottom)],
              fill=INK, width=width)


def bar_chart(values: list[float], colour: tuple[int, int, int], size: int = SIZE) -> Image.Image:
    """Bars of heights `values` (fractions of the plot height), labelled A, B, C... below."""
    image, draw = canvas(size)
    area = PlotArea.for_size(size)
    centres = area.slot_centres(len(values))
    half = (area.right - area.left) / len(values) * 0.32
    for x, value, letter in zip(centres, values, LETTERS, strict=False):
        draw.rectangle([x - half, area.y(value), x + half, area.bottom], fill=colour)
        centred_text(draw, (x, area.bottom + 0.1 * size), letter, int(0.12 * size))
    _axes(draw, area, size)
    return image


def line_chart(values: list[float], colour: tuple[int, int, int], size: int = SIZE) -> Image.Image:
    """A line through points at heights `values`, with a dot on each, labelled A, B, C... below."""
    image, draw = canvas(size)
    area = PlotArea.for_size(size)
    points = [(x, area.y(v)) for x, v in zip(area.slot_centres(len(values)), values, strict=True)]
    draw.line(points, fill=colour, width=max(2, size // 25))
    r = max(3, size // 18)
    for (x, y), letter in zip(points, LETTERS, strict=False):
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        centred_text(draw, (x, area.bottom + 0.1 * size), letter, int(0.12 * size))
    _axes(draw, area, size)
    return image


HIGHLIGHT = (255, 222, 89)  # the fill of a selected cell, as a spreadsheet shows it


def digit_table(rows: list[list[int]], size: int = SIZE, highlight: tuple[int, int] | None = None) -> Image.Image:
    """A ruled table filling the picture, one large digit per cell; `highlight` (row, column, 0-based)
    fills one cell.

    The cells split the picture evenly, so with 2 rows and 2 columns each cell is exactly
    two by two of the model's 16-pixel patches (at its 64-pixel input size).
    """
    image, draw = canvas(size)
    n_rows, n_cols = len(rows), len(rows[0])
    cell_w, cell_h = size / n_cols, size / n_rows
    width = max(1, size // 64)
    if highlight is not None:
        r, c = highlight
        draw.rectangle([c * cell_w, r * cell_h, (c + 1) * cell_w, (r + 1) * cell_h], fill=HIGHLIGHT)
    for i in range(n_rows + 1):
        y = min(size - width, i * cell_h)
        draw.line([(0, y), (size, y)], fill=GRID, width=width)
    for j in range(n_cols + 1):
        x = min(size - width, j * cell_w)
        draw.line([(x, 0), (x, size)], fill=GRID, width=width)
    text_size = int(min(cell_w * 1.1, cell_h * 0.75))
    for i, row in enumerate(rows):
        for j, digit in enumerate(row):
            centred_text(draw, ((j + 0.5) * cell_w, (i + 0.5) * cell_h), str(digit), text_size)
    return image


def shape_points(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """The outline of a polygon shape centred at (cx, cy) with radius r."""
    if shape == "square":
        s = r * 0.85
        return [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    if shape == "triangle":
        return [(cx + r * math.cos(a), cy + r * 1.1 * math.sin(a) + r * 0.15)
                for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    if shape == "star":
        return [(cx + (r if k % 2 == 0 else r * 0.45) * math.cos(-math.pi / 2 + k * math.pi / 5),
                 cy + (r if k % 2 == 0 else r * 0.45) * math.sin(-math.pi / 2 + k * math.pi / 5))
                for k in range(10)]
    raise ValueError(f"No polygon for {shape!r}")


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, colour: tuple[int, int, int],
               cx: float, cy: float, r: float) -> None:
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif shape in SHAPES:
        draw.polygon(shape_points(shape, cx, cy, r), fill=colour)
    else:
        raise ValueError(f"Unknown shape {shape!r}. Known: {', '.join(SHAPES)}")


def one_shape(shape: str, colour: tuple[int, int, int], cx: float, cy: float, r: float,
              size: int = SIZE) -> Image.Image:
    """A single filled shape on white; position and radius are fractions of the side."""
    image, draw = canvas(size)
    draw_shape(draw, shape, colour, cx * size, cy * size, r * size)
    return image


def frame(shape: str | None, colour: tuple[int, int, int], cx: float, cy: float, r: float,
          size: int = SIZE) -> Image.Image:
    """One frame of a clip: a pale floor line, and the object if it is in view (shape not None)."""
    image, draw = canvas(size)
    draw.rectangle([0, 0, size - 1, size - 1], outline=(200, 200, 200), width=max(1, size // 64))
    if shape is not None:
        draw_shape(draw, shape, colour, cx * size, cy * size, r * size)
    return image


def rng_for(seed: int) -> random.Random:
    """The random generator every picture of one sample draws from."""
    return random.Random(seed)
