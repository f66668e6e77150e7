"""The vision tasks: pictures drawn from a seed, questions about them, and the one right answer.

Introduced in lessons/09_phi_vision.ipynb.

A *scene* is what gets drawn (a bar chart, a line chart, a digit table, a
shape, or a clip of frames) together with the facts behind it. A *task* asks
one kind of question about one kind of scene, in English or Chinese, and
knows the answer from the facts. Training uses one range of seeds and
evaluation another (TRAIN_SEEDS, EVAL_SEEDS), so scores are on pictures the
model has never seen. Answers are fixed sentences, so grading is exact match.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from phi_course import i18n
from phi_course.vision import draw

__all__ = ["DIRECTIONS", "EVAL_SEEDS", "FAMILIES", "FRAMES", "KINDS", "LANGS", "SCENES", "Sample", "Scene",
           "TABLE_SHAPE", "TASKS", "TRAIN_SEEDS", "Task", "ask", "bar_scene", "clip_scene", "line_scene", "make",
           "scene", "shape_scene", "table_scene"]

LANGS = ("en", "zh")
FRAMES = 4  # pictures per clip
TABLE_SHAPE = (2, 2)  # rows, columns of a digit table

# Training draws seeds from the first range, evaluation from the second.
TRAIN_SEEDS = range(0, 100_000_000)
EVAL_SEEDS = range(900_000_000, 1_000_000_000)


@dataclass
class Scene:
    """What was drawn: the pictures and the facts they show."""

    kind: str
    images: list[Image.Image] = field(repr=False)
    facts: dict


# --- scenes ---------------------------------------------------------------------------------

def _distinct_extremes(rng: random.Random, n: int, low: float, gap: float = 0.15) -> list[float]:
    """n heights in [low, 1] whose top and bottom each stand apart from the rest by `gap`."""
    while True:
        values = sorted(round(rng.uniform(low, 1.0), 3) for _ in range(n))
        if values[-1] - values[-2] >= gap and values[1] - values[0] >= gap:
            rng.shuffle(values)
            return values


def _colour(rng: random.Random) -> str:
    return rng.choice(list(draw.COLOURS))


def bar_scene(rng: random.Random, size: int) -> Scene:
    values = _distinct_extremes(rng, rng.randint(2, 6), low=0.12)
    colour = _colour(rng)
    image = draw.bar_chart(values, draw.COLOURS[colour][0], size)
    return Scene("bar", [image], {"values": values, "n": len(values),
                                  "tallest": draw.LETTERS[values.index(max(values))]})


def line_scene(rng: random.Random, size: int) -> Scene:
    values = _distinct_extremes(rng, rng.randint(4, 6), low=0.05)
    colour = _colour(rng)
    image = draw.line_chart(values, draw.COLOURS[colour][0], size)
    return Scene("line", [image], {"values": values,
                                   "highest": draw.LETTERS[values.index(max(values))],
                                   "lowest": draw.LETTERS[values.index(min(values))]})


def table_scene(rng: random.Random, size: int) -> Scene:
    rows, cols = TABLE_SHAPE
    table = [[rng.randint(0, 9) for _ in range(cols)] for _ in range(rows)]
    marked = (rng.randrange(rows), rng.randrange(cols))  # the highlighted cell, 0-based
    image = draw.digit_table(table, size, highlight=marked)
    return Scene("table", [image], {"table": table, "highlight": marked,
                                    "marked": table[marked[0]][marked[1]],
                                    "largest": max(d for row in table for d in row)})


def shape_scene(rng: random.Random, size: int) -> Scene:
    shape, colour = rng.choice(list(draw.SHAPES)), _colour(rng)
    r = rng.uniform(0.14, 0.3)
    cx, cy = rng.uniform(r + 0.03, 1 - r - 0.03), rng.uniform(r + 0.03, 1 - r - 0.03)
    image = draw.one_shape(shape, draw.COLOURS[colour][0], cx, cy, r, size)
    return Scene("shape", [image], {"shape": shape, "colour": colour})


DIRECTIONS = {  # name -> (step in x, step in y, English, Chinese)
    "right": (1, 0, "from left to right", "从左向右"),
    "left": (-1, 0, "from right to left", "从右向左"),
    "down": (0, 1, "from top to bottom", "从上向下"),
    "up": (0, -1, "from bottom to top", "从下向上"),
}
ENTER, STEP = 0.17, 0.22  # where the object is in the frame it enters, and how far it moves per frame


def clip_scene(rng: random.Random, size: int) -> Scene:
    """FRAMES frames of one object that comes into view in frame 1, 2 or 3 and moves in a line."""
    shape, colour = rng.choice(list(draw.SHAPES)), _colour(rng)
    direction = rng.choice(list(DIRECTIONS))
    dx, dy, _, _ = DIRECTIONS[direction]
    first = rng.randint(0, FRAMES - 2)  # 0-based; at least two frames show the object
    r = rng.uniform(0.13, 0.16)
    across = rng.uniform(0.25, 0.75)  # the coordinate that stays fixed
    frames, positions = [], []
    for t in range(FRAMES):
        along = ENTER + (t - first) * STEP
        if dx:
            x, y = (along if dx > 0 else 1 - along), across
        else:
            x, y = across, (along if dy > 0 else 1 - along)
        frames.append(draw.frame(shape if t >= first else None, draw.COLOURS[colour][0], x, y, r, size))
        positions.append((round(x, 3), round(y, 3)) if t >= first else None)
    return Scene("clip", frames, {"shape": shape, "colour": colour, "direction": direction,
                                  "first": first + 1, "positions": positions})


SCENES: dict[str, Callable[[random.Random, int], Scene]] = {
    "bar": bar_scene, "line": line_scene, "table": table_scene, "shape": shape_scene, "clip": clip_scene,
}


def scene(kind: str, seed: int, size: int = draw.SIZE) -> Scene:
    """The scene of `kind` drawn from `seed` (same seed, same pictures)."""
    if kind not in SCENES:
        raise KeyError(f"No scene kind {kind!r}. Known: {', '.join(SCENES)}")
    return SCENES[kind](draw.rng_for(seed), size)


# --- tasks ----------------------------------------------------------------------------------

def _zh_colour(name: str) -> str:
    return draw.COLOURS[name][1]


def _a(word: str) -> str:
    """'A red' or 'An orange': the English article for the word that follows."""
    return ("An " if word[0] in "aeiou" else "A ") + word


def _no_params(facts, rng):
    return {}


@dataclass(frozen=True)
class Task:
    """One kind of question about one kind of scene."""

    name: str
    family: str  # a row of the score table
    kind: str  # the scene it asks about
    questions: dict[str, tuple[str, ...]]  # phrasings per language; the first is the main one
    answer: Callable[[dict, dict, str], str]  # (facts, params, lang) -> the expected answer
    params: Callable[[dict, random.Random], dict] = _no_params  # values to fill a question template with


TASKS: dict[str, Task] = {t.name: t for t in [
    Task("bar_tallest", "bar chart", "bar",
         {"en": ("Which bar is the tallest?", "Which bar has the highest value?"),
          "zh": ("哪根柱子最高？", "哪根柱子的数值最大？")},
         lambda f, p, lang: (f"The tallest bar is {f['tallest']}." if lang == "en"
                             else f"最高的柱子是 {f['tallest']}。")),
    Task("bar_count", "bar chart", "bar",
         {"en": ("How many bars are there?", "Count the bars in this chart."),
          "zh": ("图中有几根柱子？", "数一数图里有多少根柱子。")},
         lambda f, p, lang: (f"There are {f['n']} bars." if lang == "en" else f"图中有 {f['n']} 根柱子。")),
    Task("line_peak", "line chart", "line",
         {"en": ("At which point is the line highest?", "Where does the line reach its peak?"),
          "zh": ("折线在哪个点最高？", "折线的最高点是哪个？")},
         lambda f, p, lang: (f"The line is highest at {f['highest']}." if lang == "en"
                             else f"折线在 {f['highest']} 点最高。")),
    Task("line_low", "line chart", "line",
         {"en": ("At which point is the line lowest?", "Where does the line reach its lowest value?"),
          "zh": ("折线在哪个点最低？", "折线的最低点是哪个？")},
         lambda f, p, lang: (f"The line is lowest at {f['lowest']}." if lang == "en"
                             else f"折线在 {f['lowest']} 点最低。")),
    Task("table_cell", "table (OCR)", "table",
         {"en": ("What number is in the highlighted cell?", "Read the highlighted cell."),
          "zh": ("高亮的格子里是什么数字？", "读出高亮格子里的数字。")},
         lambda f, p, lang: (f"The number is {f['marked']}." if lang == "en" else f"这个数字是 {f['marked']}。")),
    Task("table_max", "table (OCR)", "table",
         {"en": ("What is the largest number in the table?", "Which number in the table is the biggest?"),
          "zh": ("表格里最大的数字是多少？", "表中哪个数字最大？")},
         lambda f, p, lang: (f"The largest number is {f['largest']}." if lang == "en"
                             else f"最大的数字是 {f['largest']}。")),
    Task("shape", "shapes", "shape",
         {"en": ("What colour and shape is this?", "Describe the shape in the picture."),
          "zh": ("这是什么颜色、什么形状？", "描述图中的图形。")},
         lambda f, p, lang: (f"{_a(f['colour'])} {f['shape']}." if lang == "en"
                             else f"一个{_zh_colour(f['colour'])}的{draw.SHAPES[f['shape']]}。")),
    Task("shape_colour", "shapes", "shape",
         {"en": ("What colour is the shape?", "Which colour is it?"),
          "zh": ("图形是什么颜色？", "它是哪种颜色？")},
         lambda f, p, lang: (f"It is {f['colour']}." if lang == "en" else f"它是{_zh_colour(f['colour'])}。")),
    Task("frames_first", "frames", "clip",
         {"en": ("In which frame does the object first appear?", "When does the object come into view?"),
          "zh": ("物体在第几帧第一次出现？", "物体从哪一帧开始出现？")},
         lambda f, p, lang: (f"It first appears in frame {f['first']}." if lang == "en"
                             else f"它在第 {f['first']} 帧第一次出现。")),
    Task("frames_summary", "frames", "clip",
         {"en": ("Summarise what happens in these frames.", "What moves, and which way?"),
          "zh": ("概括这几帧里发生了什么。", "什么在移动？往哪个方向？")},
         lambda f, p, lang: (f"{_a(f['colour'])} {f['shape']} moves {DIRECTIONS[f['direction']][2]}."
                             if lang == "en" else
                             f"一个{_zh_colour(f['colour'])}的{draw.SHAPES[f['shape']]}"
                             f"{DIRECTIONS[f['direction']][3]}移动。")),
]}
FAMILIES = tuple(dict.fromkeys(t.family for t in TASKS.values()))
KINDS = tuple(SCENES)


@dataclass
class Sample:
    """One question about one scene, with the expected answer."""

    task: str
    family: str
    lang: str
    images: list[Image.Image] = field(repr=False)
    question: str
    answer: str
    seed: int

    def messages(self) -> list[dict]:
        """One user turn: the pictures (as transformers' `{"type": "image"}` parts), then the text."""
        return [{"role": "user", "content": [{"type": "image"} for _ in self.images]
                 + [{"type": "text", "text": self.question}]}]


def ask(task: Task, shown: Scene, lang: str, rng: random.Random, phrasing: int | None = None) -> tuple[str, str]:
    """(question, answer) for one task about `shown`; `phrasing` None picks a phrasing at random."""
    params = task.params(shown.facts, rng)
    phrasings = task.questions[lang]
    template = rng.choice(phrasings) if phrasing is None else phrasings[phrasing]
    return template.format(**params), task.answer(shown.facts, params, lang)


def make(task: str, seed: int, lang: str | None = None, size: int = draw.SIZE, phrasing: int | None = 0) -> Sample:
    """The sample for `task` drawn from `seed`, asked in `lang` ('en' or 'zh') in its main phrasing.

    `lang=None` asks in the course language (phi_course.i18n): a lesson in lessons/zh/ asks in
    Chinese with the same code as its English twin. `phrasing=None` picks one of the task's
    phrasings at random (from the same seed).
    """
    lang = lang or i18n.language()
    if task not in TASKS:
        raise KeyError(f"No vision task called {task!r}. Known: {', '.join(TASKS)}")
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    spec = TASKS[task]
    shown = scene(spec.kind, seed, size)
    rng = random.Random(seed * 7 + 1)  # separate from the drawing, so the picture stays the same
    question, answer = ask(spec, shown, lang, rng, phrasing)
    return Sample(task, spec.family, lang, shown.images, question, answer, seed)
