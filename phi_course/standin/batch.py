"""Many answers of one model decoded together: one forward pass per step for all of them.

Introduced in lessons/03_github_models.ipynb (a class shares one stand-in).

On a CPU a course-sized model spends a decoding step mostly in Python and in
small matrix products, so one step for 30 answers costs little more than a step
for one. Each prompt is read on its own, exactly as a single request reads it;
the answer then joins the batch between two steps. Its key/value cache is padded
on the left to the batch's length and the attention mask hides the padding, so
every answer attends to its own tokens only, at its own positions. Finished and
abandoned answers leave between steps, and padding no answer needs any more is
cut off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["Batch", "read_prompt"]


def read_prompt(model, prompt_ids: Sequence[int]):
    """Run the prompt through the model alone: (logits for the first new token, its cache)."""
    with torch.inference_mode():
        out = model(input_ids=torch.tensor([list(prompt_ids)]), use_cache=True, logits_to_keep=1)
    return out.logits[0, -1], out.past_key_values


class Batch:
    """The answers of one model in progress, with one key/value cache for all of them.

    `members` are the caller's objects, in row order; `step` returns one row of
    logits per member; `feed` says which token each member reads next; `keep`
    lets the others go.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.members: list[Any] = []
        self._cache = None  # transformers' DynamicCache, keys/values [members, heads, columns, head_dim]
        self._mask: torch.Tensor | None = None  # [members, columns]: 1 where a column holds the member's token
        self._next: list[int] = []  # the token each member reads at the next step
        self._padded = False  # any padding in the cache (else the model needs no mask at all)

    def __len__(self) -> int:
        return len(self.members)

    def join(self, member: Any, cache, token: int) -> None:
        """Add an answer whose prompt `read_prompt` has read; `token` is its first new token."""
        mask = torch.ones(1, cache.get_seq_length(), dtype=torch.long)
        if self._cache is None:
            self._cache, self._mask = cache, mask
        else:
            width = max(self._mask.shape[1], mask.shape[1])
            self._padded = self._padded or self._mask.shape[1] != mask.shape[1]
            self._mask = torch.cat([_pad_left(self._mask, width), _pad_left(mask, width)])
            for mine, theirs in zip(self._cache.layers, cache.layers, strict=True):
                mine.keys = torch.cat([_pad_left(mine.keys, width, 2), _pad_left(theirs.keys, width, 2)])
                mine.values = torch.cat([_pad_left(mine.values, width, 2), _pad_left(theirs.values, width, 2)])
        self.members.append(member)
        self._next.append(token)

    def step(self) -> torch.Tensor:
        """One forward pass for every member: logits [members, vocabulary] for each one's next token."""
        mask = torch.cat([self._mask, torch.ones(len(self.members), 1, dtype=torch.long)], dim=1)
        inputs = {"attention_mask": mask,  # each member's own tokens so far give its position
                  "position_ids": self._mask.sum(dim=1, keepdim=True)} if self._padded else {}
        # Without padding (one answer, or answers of one length) the step is exactly a single
        # request's: no mask to build, positions from the cache length.
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor(self._next).unsqueeze(1), past_key_values=self._cache,
                             use_cache=True, logits_to_keep=1, **inputs)
        self._cache, self._mask = out.past_key_values, mask
        return out.logits[:, -1]

    def feed(self, tokens: list[int]) -> None:
        """The tokens the members read at the next step, in row order."""
        self._next = list(tokens)

    def keep(self, rows: list[int]) -> None:
        """Keep only these rows (in this order); the other members leave the batch."""
        if len(rows) == len(self.members):
            return
        if not rows:
            self.members, self._next, self._cache, self._mask, self._padded = [], [], None, None, False
            return
        index = torch.tensor(rows)
        mask = self._mask[index]
        first = int(mask.any(dim=0).nonzero()[0])  # columns before it are padding in every row left
        self._mask = mask[:, first:]
        self._padded = not bool(self._mask.all())
        for layer in self._cache.layers:
            layer.keys = layer.keys[index, :, first:]
            layer.values = layer.values[index, :, first:]
        self.members = [self.members[i] for i in rows]
        self._next = [self._next[i] for i in rows]


def _pad_left(tensor: torch.Tensor, width: int, dim: int = 1) -> torch.Tensor:
    """Zeros before `tensor`'s columns along `dim` (1 for a mask, 2 for keys/values), up to `width`."""
    missing = width - tensor.shape[dim]
    if missing == 0:
        return tensor
    pad = [0, 0] * (tensor.dim() - 1 - dim) + [missing, 0]
    return F.pad(tensor, pad)
