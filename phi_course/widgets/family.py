"""The family explorer: pick a Phi model, see its row, routes, claims and benchmarks.

Introduced in lessons/02_phi_family.ipynb. Wiring only: the data and the plots
are phi_course.concepts.family.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from phi_course import catalog, style
from phi_course.concepts.family import (
    benchmarks_for,
    claims_table,
    plot_benchmarks,
    routes_for,
    row,
    select,
)
from phi_course.i18n import _
from phi_course.tables import Table

__all__ = ["FamilyExplorer"]


class FamilyExplorer(widgets.VBox):
    """Pick a Phi model: see its row, the routes that serve it, its claims and its benchmarks.

        explorer = FamilyExplorer()
        explorer                      # show it
        explorer.run("phi-3.5-moe")   # or pick from the list

    Introduced in lessons/02_phi_family.ipynb. Thin over `row`, `routes_for`, `claims_table`
    and `plot_benchmarks`.
    """

    GENERATIONS = ("all", "Phi-3", "Phi-3.5", "Phi-4")

    def __init__(self, model: str = "phi-3.5-mini"):
        self.generation = widgets.ToggleButtons(options=self.GENERATIONS, value="all", description=_("generation"))
        self.model = widgets.Dropdown(description=_("model"), options=self._options("all"), value=model)
        self.details = widgets.HTML()
        self.chart = widgets.Output()
        self.value: str | None = None
        self.generation.observe(self._on_generation, names="value")
        self.model.observe(lambda change: self.run(), names="value")
        super().__init__([self.generation, self.model, self.details, self.chart])
        self.run()

    @staticmethod
    def _options(generation: str) -> list[tuple[str, str]]:
        chosen = select(generation=None if generation == "all" else generation)
        return [(m.name, m.key) for m in chosen]

    def _on_generation(self, change) -> None:
        options = self._options(change["new"])
        keys = [k for _, k in options]
        # Setting options resets the value; setting it back fires run() once.
        self.model.options = options
        self.model.value = self.value if self.value in keys else keys[0]

    def run(self, model: str | None = None) -> str:
        """Show `model` (or the one picked) and return its key."""
        if model is not None:
            catalog.phi(model)
            if model not in [k for _, k in self.model.options]:
                self.generation.value = "all"
            if model != self.model.value:
                self.model.value = model  # the observer calls run() again
                return self.model.value
        key = self.model.value
        if key is None or key == self.value:
            return self.value
        self.value = key
        m = catalog.phi(key)
        parts = [f"<p><b>{html.escape(m.name)}</b>: {html.escape(m.summary)}</p>",
                 Table([row(m)])._repr_html_(), routes_for(key)._repr_html_()]
        claims = claims_table(key)
        if claims:
            parts.append(claims._repr_html_())
        if m.embedded:
            parts.append("<p><small>" + _("Without a key, the course answers for {name} with {model}, a course-sized "
                                          "model (not Phi).").format(name=html.escape(m.name),
                                                                     model=f"<code>{html.escape(m.embedded)}</code>")
                         + "</small></p>")
        self.details.value = "".join(parts)
        self.chart.outputs = ()
        from IPython.display import Image

        published = benchmarks_for(key)  # MMLU first where there is one: the catalog lists it first
        if published:
            benchmark = next(iter(published))
            self.chart.append_display_data(Image(data=style.png(plot_benchmarks(
                benchmark, highlight=key, references=benchmark == "MMLU"))))
        else:
            self.chart.append_stdout(_("The catalog holds no published benchmark score for {name}.").format(name=m.name) + "\n")
        return key

    @property
    def text(self) -> str:
        """What the explorer shows, as plain text (for tests and screen readers)."""
        import re

        shown = re.sub(r"<[^>]+>", " ", self.details.value)
        shown += " ".join(o.get("text", "") for o in self.chart.outputs)
        return html.unescape(re.sub(r"\s+", " ", shown)).strip()

    @property
    def has_chart(self) -> bool:
        """True when a benchmark figure is shown."""
        return any("image/png" in o.get("data", {}) for o in self.chart.outputs)
