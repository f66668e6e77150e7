"""The side-by-side widget: a prompt box, 2-4 target pickers, Run, one streaming column per target.

Introduced in lessons/03_github_models.ipynb. Wiring only: the work is
phi_course.compare.compare().
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets

from phi_course import routes
from phi_course.chat import DEFAULT_MAX_TOKENS, Answer
from phi_course.compare import (
    MAX_TARGETS,
    MIN_TARGETS,
    Target,
    as_target,
    compare,
    model_choices,
    results_table,
)
from phi_course.i18n import _

__all__ = ["CompareWidget"]


class CompareWidget(widgets.VBox):
    """Prompt box, 2-4 target pickers, a Run button and one streaming column per target.

        widget = CompareWidget("你好", [("ollama", "phi-3-mini"), ("ollama", "phi-3.5-mini")])
        widget            # show it
        widget.run()      # or press Run; widget.value holds the Answers

    Its controls are public (prompt_box, pickers, run_button, status, headers,
    columns, table), so a learner can restyle them and a test can click them.

    Introduced in lessons/03_github_models.ipynb.
    """

    def __init__(self, prompt: str = "", targets: Sequence = (("ollama", "phi-3-mini"),
                                                               ("ollama", "phi-3.5-mini")),
                 *, system: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                 route_names: Sequence[str] = routes.REMOTE_ROUTES):
        chosen = [as_target(t) for t in targets]
        if not MIN_TARGETS <= len(chosen) <= MAX_TARGETS:
            raise ValueError(_("Show {low} to {high} targets; got {count}.").format(low=MIN_TARGETS, high=MAX_TARGETS,
                                                                                  count=len(chosen)))
        self.system = system
        self.max_tokens = max_tokens
        self.value: list[Answer] = []
        self.prompt_box = widgets.Textarea(value=prompt, description=_("Prompt"),
                                           layout=widgets.Layout(width="100%", height="4em"))
        self.pickers = [self._picker(t, route_names) for t in chosen]
        self.run_button = widgets.Button(description=_("Run"), button_style="primary", icon="play")
        self.run_button.on_click(lambda _button: self.run())
        self.status = widgets.HTML()
        self.headers = [widgets.HTML() for _ in chosen]
        self.columns = [widgets.Output(layout=widgets.Layout(border="1px solid #ccc", padding="4px"))
                        for _ in chosen]
        columns = [widgets.VBox([head, out], layout=widgets.Layout(flex="1 1 0", min_width="0"))
                   for head, out in zip(self.headers, self.columns, strict=True)]
        self.table = widgets.Output()
        super().__init__([
            self.prompt_box,
            widgets.HBox([widgets.HBox(p) for p in self.pickers]),
            widgets.HBox([self.run_button, self.status]),
            widgets.HBox(columns),
            self.table,
        ])

    @staticmethod
    def _picker(target: Target, route_names: Sequence[str]):
        route = widgets.Dropdown(options=list(route_names), value=target.route,
                                 layout=widgets.Layout(width="8em"))
        model = widgets.Dropdown(options=model_choices(target.route), value=target.model,
                                 layout=widgets.Layout(width="11em"))

        def on_route(change):
            keys = model_choices(change["new"])
            previous = model.value  # setting options resets the value: keep it where it still fits
            model.options = keys
            model.value = previous if previous in keys else keys[0]

        route.observe(on_route, names="value")
        return [route, model]

    @property
    def prompt(self) -> str:
        return self.prompt_box.value

    @prompt.setter
    def prompt(self, text: str) -> None:
        self.prompt_box.value = text

    @property
    def targets(self) -> list[Target]:
        """The targets as the pickers show them now."""
        return [Target(route.value, model.value) for route, model in self.pickers]

    def column_text(self, i: int) -> str:
        """What column i shows: its streamed answer (or error) as plain text."""
        return "".join(o.get("text", "") for o in self.columns[i].outputs)

    def run(self) -> list[Answer]:
        """Send the prompt to every target, streaming into the columns; returns the Answers."""
        for out in self.columns:
            out.outputs = ()  # not clear_output(): that needs a front end to take effect
        self.table.outputs = ()
        self.run_button.disabled = True
        self.status.value = _("running…")

        def on_start(i: int, result: Answer) -> None:
            kind = _("live") if result.live else _("stand-in")
            # The notice says what answered and what to set for the real service.
            self.headers[i].value = (f"<b>{html.escape(result.label)}</b> · "
                                      f"{html.escape(result.model)} ({kind})<br>"
                                      f"<small style='color:#666'>{html.escape(result.notice)}</small>")
            self.status.value = _("running {i} of {n}…").format(i=i + 1, n=len(self.columns))

        def on_piece(i: int, text: str) -> None:
            self.columns[i].append_stdout(text)

        try:
            self.value = compare(self.prompt, self.targets, system=self.system,
                                 max_tokens=self.max_tokens, on_start=on_start, on_piece=on_piece)
        except ValueError as error:
            self.status.value = f"<span style='color:#D55E00'>{error}</span>"
            return self.value
        finally:
            self.run_button.disabled = False
        for i, result in enumerate(self.value):
            if result.error:
                self.columns[i].append_stderr(result.error)
        self.status.value = _("done")
        self.table.append_display_data(results_table(self.value))
        return self.value
