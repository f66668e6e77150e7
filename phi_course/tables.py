"""A list of dict rows that shows as a table in a notebook and as text in a shell.

Introduced in lessons/00_setup.ipynb. Keeps lessons free of a pandas dependency.
"""

from __future__ import annotations

import html
import unicodedata

from phi_course.i18n import _

__all__ = ["Table", "ljust", "width"]


def width(text: str) -> int:
    """How many columns `text` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ljust(text: str, columns: int) -> str:
    """`text` padded with spaces to `columns` terminal columns (str.ljust counts characters)."""
    return text + " " * max(0, columns - width(text))


class Table(list):
    """Rows (dicts with the same keys) shown as an HTML table, or aligned text.

    Code reads a row by its English keys; the headings show in the lesson's language when
    the keys were marked with `N_()` where the rows are built (phi_course.i18n).
    """

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
        cells = [[_heading(c) for c in cols]] + [[_fmt(row.get(c, "")) for c in cols] for row in self]
        widths = [max(width(r[i]) for r in cells) for i in range(len(cols))]
        lines = ["  ".join(ljust(v, w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
        return "\n".join(([self.title] if self.title else []) + lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cols = self.columns
        head = "".join(f"<th>{html.escape(_heading(c))}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_fmt(row.get(c, '')))}</td>" for c in cols) + "</tr>"
            for row in self
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _heading(column) -> str:
    """A column's heading in the course language. An empty heading stays empty: gettext's
    translation of "" is the catalog's header, which must never show in a table."""
    return _(column) if isinstance(column, str) and column else str(column)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
