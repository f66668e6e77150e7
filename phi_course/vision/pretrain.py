"""Training step 1: teach the image encoder (and the projector) to see, before they meet the decoder.

Introduced in lessons/09_phi_vision.ipynb.

Phi-3-vision starts from a CLIP encoder that was pre-trained on hundreds of
millions of captioned photos. Ours has never seen anything, so it first
learns from labelled pictures: small linear "heads" read the vectors the
decoder will receive (encoder, then projector, then the RMS normalisation
every decoder layer starts with) and predict what was drawn. The summary
(CLS) vector learns the whole picture: how many bars and which is tallest,
the colour and shape, where the object is in a frame. Each patch vector
learns what is at its own place: its row and column, and in a table the
digit of its cell, so the decoder can look a cell up by where it is.
The heads are thrown away afterwards.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phi_course.vision import draw, tasks

__all__ = ["GRID", "HEIGHT_WEIGHT", "MIN_BARS", "OUTPUTS", "PLACES", "PLACE_WEIGHT", "SLOTS", "TABLE_WEIGHT",
           "accuracy", "decoder_view", "heads", "labelled_pictures", "loss", "step_loss"]

COLOURS, SHAPES = list(draw.COLOURS), list(draw.SHAPES)
SLOTS = len(draw.LETTERS)  # at most this many bars or points
ROWS, COLS = tasks.TABLE_SHAPE
MIN_BARS = 2
PLACES = 8  # a frame is cut into 8 columns and 8 rows; the head names the object's column and row

GRID = 4  # the encoder's patches form a GRID x GRID square (64-pixel input, 16-pixel patches)

# Outputs per scene kind (the heads' widths); "place" and "cell" read each patch vector.
OUTPUTS = {
    "bar": (SLOTS - MIN_BARS + 1) + SLOTS + SLOTS,  # bar count, tallest bar, every height
    "line": SLOTS + SLOTS + SLOTS,  # highest point, lowest point, every height
    "table": ROWS * COLS * 10 + 10 + 10,  # every digit, the highlighted one, the largest
    "place": 2 * GRID,  # which row and column of patches a patch vector comes from
    "cell": 10,  # the digit of the table cell a patch lies in
    "shape": len(COLOURS) + len(SHAPES),
    "frame": 2 + len(COLOURS) + len(SHAPES) + 2 * PLACES,  # in view?, colour, shape, column, row
}
HEIGHT_WEIGHT = 2.0  # heights are fractions in [0, 1]: their squared errors are small
TABLE_WEIGHT = 0.5  # every digit of the table from the summary vector: a helper for the two below
PLACE_WEIGHT = 1.0  # every patch says where it is, so the decoder can look a cell up by place


def heads(width: int) -> nn.ModuleDict:
    """One linear head per kind of picture, reading a `width`-wide CLS vector."""
    return nn.ModuleDict({kind: nn.Linear(width, n) for kind, n in OUTPUTS.items()})


def labelled_pictures(seeds: list[int], kinds: dict[str, int]) -> tuple[list, list[tuple[str, dict]]]:
    """Pictures and their labels: kinds maps a scene kind to how many scenes to draw.

    A clip adds each of its frames as its own picture, labelled "frame".
    """
    pictures, labels = [], []
    seeds = iter(seeds)
    for kind, count in kinds.items():
        for _ in range(count):
            shown = tasks.scene(kind, next(seeds))
            if kind == "clip":
                for image, position in zip(shown.images, shown.facts["positions"], strict=True):
                    pictures.append(image)
                    labels.append(("frame", {**shown.facts, "position": position}))
            else:
                pictures.append(shown.images[0])
                labels.append((kind, shown.facts))
    return pictures, labels


def _padded(values: list[float]) -> list[float]:
    return values + [0.0] * (SLOTS - len(values))


def _place(fraction: float) -> int:
    """Which of the PLACES strips a coordinate (0 to 1 across the frame) falls in."""
    return min(PLACES - 1, max(0, int(fraction * PLACES)))


def _index(values: list[float], pick) -> int:
    return values.index(pick(values))


def loss(kind: str, out: torch.Tensor, facts: list[dict]) -> torch.Tensor:
    """The loss of one head's outputs `out` (one row per picture) against the pictures' facts."""
    def classes(values):
        return torch.tensor(values)

    if kind == "bar":
        count = classes([len(f["values"]) - MIN_BARS for f in facts])
        tallest = classes([_index(f["values"], max) for f in facts])
        heights = torch.tensor([_padded(f["values"]) for f in facts])
        n = SLOTS - MIN_BARS + 1
        return (F.cross_entropy(out[:, :n], count) + F.cross_entropy(out[:, n:n + SLOTS], tallest)
                + HEIGHT_WEIGHT * F.mse_loss(out[:, n + SLOTS:], heights))
    if kind == "line":
        high = classes([_index(f["values"], max) for f in facts])
        low = classes([_index(f["values"], min) for f in facts])
        heights = torch.tensor([_padded(f["values"]) for f in facts])
        return (F.cross_entropy(out[:, :SLOTS], high) + F.cross_entropy(out[:, SLOTS:2 * SLOTS], low)
                + HEIGHT_WEIGHT * F.mse_loss(out[:, 2 * SLOTS:], heights))
    if kind == "table":
        cells = ROWS * COLS * 10
        digits = classes([[d for row in f["table"] for d in row] for f in facts])
        return (TABLE_WEIGHT * F.cross_entropy(out[:, :cells].reshape(-1, 10), digits.reshape(-1))
                + F.cross_entropy(out[:, cells:cells + 10], classes([f["marked"] for f in facts]))
                + F.cross_entropy(out[:, cells + 10:], classes([f["largest"] for f in facts])))
    if kind == "shape":
        return (F.cross_entropy(out[:, :len(COLOURS)], classes([COLOURS.index(f["colour"]) for f in facts]))
                + F.cross_entropy(out[:, len(COLOURS):], classes([SHAPES.index(f["shape"]) for f in facts])))
    if kind == "frame":
        seen = classes([int(f["position"] is not None) for f in facts])
        total = F.cross_entropy(out[:, :2], seen)
        rows = seen.bool()
        if rows.any():  # colour, shape and place only mean something when the object is in view
            shown = [f for f in facts if f["position"] is not None]
            c, s = 2 + len(COLOURS), 2 + len(COLOURS) + len(SHAPES)
            total = total + F.cross_entropy(out[rows, 2:c], classes([COLOURS.index(f["colour"]) for f in shown]))
            total = total + F.cross_entropy(out[rows, c:s], classes([SHAPES.index(f["shape"]) for f in shown]))
            total = total + F.cross_entropy(out[rows, s:s + PLACES], classes([_place(f["position"][0]) for f in shown]))
            total = total + F.cross_entropy(out[rows, s + PLACES:], classes([_place(f["position"][1]) for f in shown]))
        return total
    raise KeyError(f"No head for {kind!r}")


def decoder_view(model, pixel_values: torch.Tensor) -> torch.Tensor:
    """What the decoder reads for each picture: (pictures, 1 + patches, width) vectors,
    projected and RMS-normalised as a decoder layer normalises its input."""
    features = model.model.vision_tower(pixel_values).last_hidden_state
    projected = model.model.multi_modal_projector(features)
    return F.rms_norm(projected, (projected.shape[-1],))


def _patch_cells(rows: int = ROWS, cols: int = COLS) -> torch.Tensor:
    """For each patch (row-major), the index of the table cell it lies in (cells align with patches)."""
    r = torch.arange(GRID).repeat_interleave(GRID) * rows // GRID
    c = torch.arange(GRID).repeat(GRID) * cols // GRID
    return r * cols + c


def step_loss(model, head_set: nn.ModuleDict, pixel_values: torch.Tensor,
              labels: list[tuple[str, dict]]) -> dict[str, torch.Tensor]:
    """Per-head losses for one batch of labelled pictures."""
    view = decoder_view(model, pixel_values)
    summary, patches = view[:, 0], view[:, 1:]
    losses = {}
    for kind in ("bar", "line", "table", "shape", "frame"):
        rows = [i for i, (k, _) in enumerate(labels) if k == kind]
        if rows:
            losses[kind] = loss(kind, head_set[kind](summary[rows]), [labels[i][1] for i in rows])
    # Every patch vector says where it is: row and column in the grid.
    where = head_set["place"](patches)  # (pictures, patches, 2 * GRID)
    index = torch.arange(GRID * GRID)
    losses["place"] = PLACE_WEIGHT * (
        F.cross_entropy(where[..., :GRID].reshape(-1, GRID), (index // GRID).repeat(len(labels)))
        + F.cross_entropy(where[..., GRID:].reshape(-1, GRID), (index % GRID).repeat(len(labels))))
    # In a table, every patch vector also names the digit of its cell.
    tables = [i for i, (k, _) in enumerate(labels) if k == "table"]
    if tables:
        cells = _patch_cells()
        digits = torch.tensor([[d for row in labels[i][1]["table"] for d in row] for i in tables])[:, cells]
        losses["cell"] = F.cross_entropy(head_set["cell"](patches[tables]).reshape(-1, 10), digits.reshape(-1))
    return losses


@torch.no_grad()
def accuracy(model, head_set: nn.ModuleDict, processor, seeds: list[int], per_kind: int = 40) -> dict[str, float]:
    """How often each head's guess is right on pictures drawn from `seeds` (use evaluation seeds)."""
    counts = {kind: per_kind for kind in tasks.KINDS}
    pictures, labels = labelled_pictures(seeds, counts)
    view = decoder_view(model, processor.image_processor(pictures, return_tensors="pt")["pixel_values"])
    summary = view[:, 0]
    right: dict[str, list[bool]] = {}

    def score(name, guesses, truth):
        right.setdefault(name, []).extend(g == t for g, t in zip(guesses, truth, strict=True))

    n_count = SLOTS - MIN_BARS + 1
    for i, (kind, facts) in enumerate(labels):
        out = head_set[kind](summary[i:i + 1])[0]
        if kind == "bar":
            score("bar count", [int(out[:n_count].argmax()) + MIN_BARS], [len(facts["values"])])
            score("tallest bar", [int(out[n_count:n_count + SLOTS].argmax())], [_index(facts["values"], max)])
        elif kind == "line":
            score("highest point", [int(out[:SLOTS].argmax())], [_index(facts["values"], max)])
            score("lowest point", [int(out[SLOTS:2 * SLOTS].argmax())], [_index(facts["values"], min)])
        elif kind == "table":
            digits = [d for row in facts["table"] for d in row]
            cells = ROWS * COLS * 10
            score("table digit", out[:cells].reshape(-1, 10).argmax(-1).tolist(), digits)
            score("highlighted digit", [int(out[cells:cells + 10].argmax())], [facts["marked"]])
            score("largest digit", [int(out[cells + 10:].argmax())], [facts["largest"]])
            per_patch = head_set["cell"](view[i, 1:]).argmax(-1)
            score("table digit, per patch", per_patch.tolist(), [digits[c] for c in _patch_cells().tolist()])
        elif kind == "shape":
            score("colour", [int(out[:len(COLOURS)].argmax())], [COLOURS.index(facts["colour"])])
            score("shape", [int(out[len(COLOURS):].argmax())], [SHAPES.index(facts["shape"])])
        else:
            seen = facts["position"] is not None
            score("object in frame", [bool(out[:2].argmax())], [seen])
            if seen:
                column, row = int(out[-2 * PLACES:-PLACES].argmax()), int(out[-PLACES:].argmax())
                score("object place", [(column, row)], [(_place(facts["position"][0]), _place(facts["position"][1]))])
    where = head_set["place"](view[:, 1:])
    index = torch.arange(GRID * GRID)
    score("patch place", list(zip(where[..., :GRID].argmax(-1).flatten().tolist(),
                                  where[..., GRID:].argmax(-1).flatten().tolist(), strict=True)),
          list(zip((index // GRID).repeat(len(labels)).tolist(), (index % GRID).repeat(len(labels)).tolist(),
                   strict=True)))
    return {name: sum(v) / len(v) for name, v in right.items()}
