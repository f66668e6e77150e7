"""One look for every figure in the course.

Introduced in lessons/01_slm_vs_llm.ipynb. Plot functions elsewhere take
`ax=None`, call `axes(ax)` and return the figure, so a learner can put two
of them side by side or restyle one.
"""

from __future__ import annotations

__all__ = ["PALETTE", "RC", "apply", "axes", "colour", "png"]

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
    # CJK labels (Chinese prompts and answers) need a font with those glyphs when one exists.
    fonts = {f.name for f in mpl.font_manager.fontManager.ttflist}
    cjk = [f for f in ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "SimHei",
                       "Microsoft YaHei", "PingFang SC") if f in fonts]
    mpl.rcParams["font.sans-serif"] = cjk + ["DejaVu Sans"]


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
