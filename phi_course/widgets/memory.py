"""The memory calculator: pick a model, a precision and a context; see the memory and where it fits.

Introduced in lessons/01_slm_vs_llm.ipynb. Wiring only: the arithmetic and the
plot are phi_course.concepts.memory.
"""

from __future__ import annotations

import re

import ipywidgets as widgets

from phi_course import style
from phi_course.concepts.memory import (
    ARCHITECTURES,
    BYTES_PER_WEIGHT,
    DEFAULT_KV_PRECISION,
    DEVICES,
    Estimate,
    context_choices,
    context_label,
    estimate,
    plot_memory,
)
from phi_course.i18n import _

__all__ = ["MemoryCalculator"]


class MemoryCalculator(widgets.VBox):
    """Pick a model, a precision and a context length; see the memory it needs and where it fits.

        calc = MemoryCalculator()
        calc                         # show it
        calc.run(model="phi-3.5-moe", precision="int4", context=32768).total_gb

    Introduced in lessons/01_slm_vs_llm.ipynb. Thin over `estimate` and `plot_memory`.
    """

    def __init__(self, model: str = "phi-3-mini", precision: str = "int4", context: int = 4096,
                 kv_precision: str = DEFAULT_KV_PRECISION):
        self._kv_precision = kv_precision
        self.model = widgets.Dropdown(description=_("model"),
                                      options=[(a.name, a.key) for a in ARCHITECTURES.values()], value=model)
        self.precision = widgets.Dropdown(description=_("weights"), options=list(BYTES_PER_WEIGHT), value=precision)
        self.context = widgets.SelectionSlider(description=_("context"), options=self._context_options(model),
                                               value=context, continuous_update=False)
        self.numbers = widgets.HTML()
        self.figure = widgets.Output()
        self._setting = False  # True while run() sets controls itself: one redraw, not three
        self.value: Estimate | None = None
        for control in (self.model, self.precision, self.context):
            control.observe(self._on_change, names="value")
        super().__init__([widgets.HBox([self.model, self.precision]), self.context,
                          self.numbers, self.figure])
        self.run()

    @staticmethod
    def _context_options(model: str) -> list[tuple[str, int]]:
        return [(context_label(n), n) for n in context_choices(model)]

    def _follow_model(self) -> None:
        """A new model may read a shorter context: keep the chosen length if it can, else its longest."""
        options = self._context_options(self.model.value)
        allowed = [n for _, n in options]
        keep = self.context.value if self.context.value in allowed else allowed[-1]
        self.context.options = options
        self.context.value = keep

    def _on_change(self, change) -> None:
        if self._setting:
            return
        self._setting = True
        try:
            if change["owner"] is self.model:
                self._follow_model()
        finally:
            self._setting = False
        self.run()

    def run(self, model: str | None = None, precision: str | None = None, context: int | None = None) -> Estimate:
        """Set any of the controls, recompute, and return the Estimate shown."""
        self._setting = True
        try:
            if model is not None and model != self.model.value:
                self.model.value = model
                self._follow_model()
            if precision is not None:
                self.precision.value = precision
            if context is not None:
                self.context.value = context
        finally:
            self._setting = False
        e = estimate(self.model.value, self.precision.value, self.context.value,
                     kv_precision=self._kv_precision)
        if e == self.value:
            return e
        self.value = e
        fits = ", ".join(f"{d.name}: {_('fits') if e.fits(d) else _('too big')}" for d in DEVICES.values())
        self.numbers.value = (
            _("<b>{weights:.1f} GB</b> weights + <b>{cache:.2f} GB</b> KV cache = <b>{total:.1f} GB</b>").format(
                weights=e.weights_gb, cache=e.kv_cache_gb, total=e.total_gb) + f"<br><small>{fits}</small>")
        from IPython.display import Image

        png = style.png(plot_memory(e.model, e.context, kv_precision=self._kv_precision))
        self.figure.outputs = ()  # not clear_output(): that needs a front end to take effect
        self.figure.append_display_data(Image(data=png))
        return e

    @property
    def summary(self) -> str:
        """The numbers line as plain text."""
        return re.sub(r"<[^>]+>", "", self.numbers.value.replace("<br>", "\n"))
