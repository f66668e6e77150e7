"""One look for every figure in the course.

Introduced in lessons/01_slm_vs_llm.ipynb. Plot functions elsewhere take
`ax=None`, call `axes(ax)` and return the figure, so a learner can put two
of them side by side or restyle one.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CJK_FONT", "CJK_FONT_NAME", "PALETTE", "RC", "apply", "axes", "colour", "png", "sans_serif_fonts"]

# The CJK font the course ships (a subset of WenQuanYi Micro Hei, Apache-2.0: phi_course/fonts/NOTICE).
CJK_FONT = Path(__file__).parent / "fonts" / "wqy-microhei-course.ttf"
CJK_FONT_NAME = "WenQuanYi Micro Hei"

# Colour-blind-safe (Okabe-Ito), in a fixed order so a route or model keeps its colour.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

RC = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titleweight": "bold",
    "font.size": 10,
}


def apply() -> None:
    """Apply the course style to matplotlib (idempotent)."""
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(RC, **{"axes.prop_cycle": cycler(color=PALETTE)})
    mpl.rcParams.update(rc)
    # Listed families, not the generic "sans-serif": matplotlib falls back glyph by glyph only
    # across the families it is given.
    mpl.rcParams["font.family"] = sans_serif_fonts()


def sans_serif_fonts() -> list[str]:
    """Latin from matplotlib's own font; Chinese from a system CJK font if there is one, else the
    subset the course ships (phi_course/fonts), so a fresh machine draws no empty boxes.

    matplotlib falls back from font to font glyph by glyph, in this order.
    """
    import dataclasses

    from matplotlib import font_manager

    fonts = font_manager.fontManager
    if not any(f.fname == str(CJK_FONT) for f in fonts.ttflist):
        fonts.addfont(str(CJK_FONT))
        # The font has one weight. Let bold titles use it as it is instead of logging
        # "Failed to find font weight bold" under every figure.
        regular = next(f for f in fonts.ttflist if f.fname == str(CJK_FONT))
        fonts.ttflist.append(dataclasses.replace(regular, weight=700))
        fonts._findfont_cached.cache_clear()
    present = {f.name for f in fonts.ttflist}
    system = [f for f in ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
                          "PingFang SC", "SimHei") if f in present]
    return ["DejaVu Sans", *system, CJK_FONT_NAME]


def axes(ax=None, figsize=(6, 3.5)):
    """Return (fig, ax): the given axes and its figure, or a new styled pair."""
    import matplotlib.pyplot as plt

    apply()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def colour(i: int) -> str:
    """The i-th course colour (wraps around)."""
    return PALETTE[i % len(PALETTE)]


def png(fig) -> bytes:
    """The figure as PNG bytes, closed afterwards (a widget shows the PNG; an open figure would
    also be drawn again below the cell)."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
