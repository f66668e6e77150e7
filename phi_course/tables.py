"""A list of dict rows that shows as a table in a notebook and as text in a shell.

Introduced in lessons/00_setup.ipynb. Keeps lessons free of a pandas dependency.
"""

from __future__ import annotations

import html

__all__ = ["Table"]


class Table(list):
    """Rows (dicts with the same keys) shown as an HTML table, or aligned text."""

    def __init__(self, rows, title: str = ""):
        super().__init__(rows)
        self.title = title

    @property
    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def __str__(self) -> str:
        cols = self.columns
        cells = [cols] + [[_fmt(row.get(c, "")) for c in cols] for row in self]
        widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
        return "\n".join(([self.title] if self.title else []) + lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cols = self.columns
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_fmt(row.get(c, '')))}</td>" for c in cols) + "</tr>"
            for row in self
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
