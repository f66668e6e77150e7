"""Side by side: the same prompt to 2-4 models or routes, streamed and timed.

Introduced in lessons/03_github_models.ipynb (the seed's demo: one Chinese
prompt to Phi-3-mini and Phi-3.5-mini). Lessons 04, 05 and 12 use it too.

`compare()` is the logic: it resolves each target through `phi_course.routes`,
streams each answer with the official OpenAI SDK (`stream=True`, usage in the
last chunk) and measures time to first token and tokens per second.
`results_table()` and `plot_results()` show what it returns. `CompareWidget`
is a thin ipywidgets front end over the same function.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from . import catalog, route_table, routes, style
from .tables import Table

MIN_TARGETS, MAX_TARGETS = 2, 4
DEFAULT_MAX_TOKENS = 200

# Metrics a bar chart can show: result attribute -> axis label.
METRICS = {
    "tokens_per_second": "tokens per second (higher is faster)",
    "first_token_seconds": "seconds to first token (lower is better)",
    "total_seconds": "seconds for the whole answer",
    "completion_tokens": "tokens in the answer",
}


@dataclass(frozen=True)
class Target:
    """One column of a comparison: a route name and a course model key."""

    route: str
    model: str

    @property
    def label(self) -> str:
        return f"{self.route} · {self.model}"


def as_target(value: Target | tuple[str, str] | str) -> Target:
    """A Target from a Target, a (route, model) pair or a 'route:model' string."""
    if isinstance(value, Target):
        return value
    if isinstance(value, str):
        route, sep, model = value.partition(":")
        if not sep:
            raise ValueError(f"Write a target as 'route:model', e.g. 'github:phi-3.5-mini'; got {value!r}.")
        return Target(route.strip(), model.strip())
    route, model = value
    return Target(route, model)


@dataclass
class Result:
    """One streamed answer and how fast it came."""

    target: Target
    model_id: str  # the id the service (or stand-in) was asked for
    live: bool
    notice: str
    text: str = ""
    finish_reason: str | None = None
    first_token_seconds: float | None = None  # request sent -> first piece of text
    total_seconds: float = 0.0
    prompt_tokens: int | None = None  # from the usage chunk; None if the service sent none
    completion_tokens: int | None = None
    chunks: int = 0  # text chunks received: close to tokens when usage is missing
    error: str | None = None

    @property
    def tokens_per_second(self) -> float | None:
        """Decoding speed after the first token, so a slow prompt read does not hide it."""
        tokens = self.completion_tokens if self.completion_tokens is not None else self.chunks
        if self.error or self.first_token_seconds is None or tokens < 2:
            return None
        decoding = self.total_seconds - self.first_token_seconds
        return (tokens - 1) / decoding if decoding > 0 else None

    def row(self) -> dict:
        """This result as a table row."""
        return {
            "target": self.target.label,
            "model id": self.model_id,
            "live": "live" if self.live else "stand-in",
            "first token (s)": _round(self.first_token_seconds),
            "total (s)": _round(self.total_seconds),
            "answer tokens": self.completion_tokens if self.completion_tokens is not None else "?",
            "tokens/s": _round(self.tokens_per_second, 1),
            "answer": _preview(self.error or self.text),
        }


def openai_base_url(route: routes.Route) -> str:
    """The URL the OpenAI SDK needs for a route (see `routes.Route.openai_base_url`)."""
    return route.openai_base_url


def stream_answer(
    route: routes.Route,
    messages: list[dict],
    *,
    target: Target | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    temperature: float = 0.0,
    on_piece: Callable[[str], None] | None = None,
    client=None,
) -> Result:
    """Stream one answer from `route` with the OpenAI SDK and time it.

    `on_piece` is called with each piece of text as it arrives. A service error
    (a 429 after the SDK's retries, a retired model id) is kept in
    `Result.error` rather than raised, so one failing column does not stop the others.
    """
    import openai
    from openai import OpenAI

    target = target or Target(route.name, route.phi_model)
    result = Result(target, route.model, route.live, route.notice)
    if client is None:
        client = OpenAI(base_url=openai_base_url(route), api_key=route.api_key,
                        timeout=route.timeout, max_retries=routes.MAX_RETRIES)
    started = time.perf_counter()
    pieces: list[str] = []
    try:
        stream = client.chat.completions.create(
            model=route.model, messages=messages, max_tokens=max_tokens, temperature=temperature,
            stream=True, stream_options={"include_usage": True},
        )
        with stream:
            for chunk in stream:
                if chunk.usage is not None:
                    result.prompt_tokens = chunk.usage.prompt_tokens
                    result.completion_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices:
                    if choice.finish_reason:
                        result.finish_reason = choice.finish_reason
                    piece = choice.delta.content if choice.delta else None
                    if not piece:
                        continue
                    if result.first_token_seconds is None:
                        result.first_token_seconds = time.perf_counter() - started
                    result.chunks += 1
                    pieces.append(piece)
                    if on_piece is not None:
                        on_piece(piece)
    except openai.APIStatusError as error:
        result.error = f"HTTP {error.status_code} from {target.label}: {_api_message(error)}"
    except openai.APIConnectionError as error:
        result.error = (f"Could not reach {openai_base_url(route)} for {target.label} "
                        f"({type(error).__name__}). Check the URL and that the server is running.")
    result.total_seconds = time.perf_counter() - started
    result.text = "".join(pieces)
    return result


def compare(
    prompt: str,
    targets: Iterable[Target | tuple[str, str] | str],
    *,
    system: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    temperature: float = 0.0,
    on_start: Callable[[int, Result], None] | None = None,
    on_piece: Callable[[int, str], None] | None = None,
) -> list[Result]:
    """Send `prompt` to each target in turn and return one Result per target.

    A target is a (route, model) pair such as ("ollama", "phi-3.5-mini"),
    resolved through `phi_course.routes.resolve`. The answers are streamed one
    after another, not at once, so each one's timing is its own (a small
    machine or a rate-limited service would otherwise blur them).
    `on_start(i, result)` fires before target i starts (its notice is known),
    `on_piece(i, text)` with each piece of its answer.
    """
    chosen = [as_target(t) for t in targets]
    if not MIN_TARGETS <= len(chosen) <= MAX_TARGETS:
        raise ValueError(f"Compare {MIN_TARGETS} to {MAX_TARGETS} targets; got {len(chosen)}. "
                         "Add or remove (route, model) pairs.")
    if not prompt.strip():
        raise ValueError("The prompt is empty: type a question to send to every target.")
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}]
    results = []
    for i, target in enumerate(chosen):
        route = routes.resolve(target.route, target.model)
        if on_start is not None:
            on_start(i, Result(target, route.model, route.live, route.notice))
        piece_callback = (lambda text, i=i: on_piece(i, text)) if on_piece else None
        results.append(stream_answer(route, messages, target=target, max_tokens=max_tokens,
                                     temperature=temperature, on_piece=piece_callback))
    return results


def results_table(results: Sequence[Result], title: str = "") -> Table:
    """One row per target: where it ran, timings, token counts and the start of the answer."""
    return Table([r.row() for r in results], title=title)


def plot_results(results: Sequence[Result], metric: str = "tokens_per_second", ax=None):
    """A bar per target for one metric (see METRICS); returns the figure."""
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}. Choose one of: {', '.join(METRICS)}.")
    fig, ax = style.axes(ax)
    labels = [r.target.label + ("" if r.live else "\n(stand-in)") for r in results]
    values = [getattr(r, metric) or 0 for r in results]
    bars = ax.bar(labels, values, color=[style.colour(i) for i in range(len(results))])
    ax.bar_label(bars, labels=[f"{v:.3g}" if isinstance(v, float) else str(v) for v in values], padding=2)
    ax.set_ylabel(METRICS[metric])
    ax.set_title("Same prompt, side by side")
    ax.grid(axis="x", visible=False)
    return fig


def model_choices(route: str) -> list[str]:
    """Course model keys that a route has an id for (retired ones too: resolve maps them)."""
    keys = [r.model for r in route_table.ids_on(route)] if route in route_table.ROUTES else []
    return keys or list(catalog.FAMILY)


def _api_message(error) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(error)


def _round(value: float | None, digits: int = 2):
    return "–" if value is None else round(value, digits)


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class CompareWidget(widgets.VBox):
    """Prompt box, 2-4 target pickers, a Run button and one streaming column per target.

        widget = CompareWidget("你好", [("ollama", "phi-3-mini"), ("ollama", "phi-3.5-mini")])
        widget            # show it
        widget.run()      # or press Run; widget.value holds the Results

    Introduced in lessons/03_github_models.ipynb.
    """

    def __init__(self, prompt: str = "", targets: Sequence = (("ollama", "phi-3-mini"),
                                                               ("ollama", "phi-3.5-mini")),
                 *, system: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                 route_names: Sequence[str] = routes.REMOTE_ROUTES):
        chosen = [as_target(t) for t in targets]
        if not MIN_TARGETS <= len(chosen) <= MAX_TARGETS:
            raise ValueError(f"Show {MIN_TARGETS} to {MAX_TARGETS} targets; got {len(chosen)}.")
        self.system = system
        self.max_tokens = max_tokens
        self.value: list[Result] = []
        self._prompt = widgets.Textarea(value=prompt, description="Prompt",
                                        layout=widgets.Layout(width="100%", height="4em"))
        self._pickers = [self._picker(t, route_names) for t in chosen]
        self._run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self._run_button.on_click(lambda _button: self.run())
        self._status = widgets.HTML()
        self._headers = [widgets.HTML() for _ in chosen]
        self._outputs = [widgets.Output(layout=widgets.Layout(border="1px solid #ccc", padding="4px"))
                         for _ in chosen]
        columns = [widgets.VBox([head, out], layout=widgets.Layout(flex="1 1 0", min_width="0"))
                   for head, out in zip(self._headers, self._outputs, strict=True)]
        self._table = widgets.Output()
        super().__init__([
            self._prompt,
            widgets.HBox([widgets.HBox(p) for p in self._pickers]),
            widgets.HBox([self._run_button, self._status]),
            widgets.HBox(columns),
            self._table,
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
        return self._prompt.value

    @prompt.setter
    def prompt(self, text: str) -> None:
        self._prompt.value = text

    @property
    def targets(self) -> list[Target]:
        """The targets as the pickers show them now."""
        return [Target(route.value, model.value) for route, model in self._pickers]

    def column_text(self, i: int) -> str:
        """What column i shows: its streamed answer (or error) as plain text."""
        return "".join(o.get("text", "") for o in self._outputs[i].outputs)

    def run(self) -> list[Result]:
        """Send the prompt to every target, streaming into the columns; returns the Results."""
        for out in self._outputs:
            out.outputs = ()  # not clear_output(): that needs a front end to take effect
        self._table.outputs = ()
        self._run_button.disabled = True
        self._status.value = "running…"

        def on_start(i: int, result: Result) -> None:
            kind = "live" if result.live else "stand-in"
            # The notice says what answered and what to set for the real service.
            self._headers[i].value = (f"<b>{html.escape(result.target.label)}</b> · "
                                      f"{html.escape(result.model_id)} ({kind})<br>"
                                      f"<small style='color:#666'>{html.escape(result.notice)}</small>")
            self._status.value = f"running {i + 1} of {len(self._outputs)}…"

        def on_piece(i: int, text: str) -> None:
            self._outputs[i].append_stdout(text)

        try:
            self.value = compare(self.prompt, self.targets, system=self.system,
                                 max_tokens=self.max_tokens, on_start=on_start, on_piece=on_piece)
        except ValueError as error:
            self._status.value = f"<span style='color:#D55E00'>{error}</span>"
            return self.value
        finally:
            self._run_button.disabled = False
        for i, result in enumerate(self.value):
            if result.error:
                self._outputs[i].append_stderr(result.error)
        self._status.value = "done"
        self._table.append_display_data(results_table(self.value))
        return self.value
