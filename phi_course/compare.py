"""Side by side: the same prompt to 2-4 models or routes, streamed and timed.

Introduced in lessons/03_github_models.ipynb (the seed's demo: one Chinese
prompt to Phi-3-mini and Phi-3.5-mini). Lessons 04, 05 and 12 use it too.

`compare()` resolves each target through `phi_course.routes` and streams each
answer with `phi_course.chat.stream_answer`; `results_table()` and
`plot_results()` show what it returns. The widget over it is
`phi_course.widgets.CompareWidget`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from phi_course import catalog, route_table, routes, style
from phi_course.chat import DEFAULT_MAX_TOKENS, Answer, stream_answer
from phi_course.i18n import N_, _
from phi_course.tables import Table

__all__ = ["METRICS", "Target", "as_target", "compare", "model_choices", "plot_results", "results_table"]

MIN_TARGETS, MAX_TARGETS = 2, 4

# Metrics a bar chart can show: result attribute -> axis label.
METRICS = {
    "tokens_per_second": N_("tokens per second (higher is faster)"),
    "first_token_seconds": N_("seconds to first token (lower is better)"),
    "total_seconds": N_("seconds for the whole answer"),
    "completion_tokens": N_("tokens in the answer"),
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


def compare(
    prompt: str,
    targets: Iterable[Target | tuple[str, str] | str],
    *,
    system: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    temperature: float = 0.0,
    on_start: Callable[[int, Answer], None] | None = None,
    on_piece: Callable[[int, str], None] | None = None,
) -> list[Answer]:
    """Send `prompt` to each target in turn and return one `phi_course.chat.Answer` per target.

    A target is a (route, model) pair such as ("ollama", "phi-3.5-mini"),
    resolved through `phi_course.routes.resolve`. The answers are streamed one
    after another, not at once, so each one's timing is its own (a small
    machine or a rate-limited service would otherwise blur them).
    `on_start(i, answer)` fires before target i starts (its notice is known),
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
            on_start(i, Answer(route.name, route.model, route.live, route.notice, target.label, prompt))
        piece_callback = (lambda text, i=i: on_piece(i, text)) if on_piece else None
        results.append(stream_answer(route, messages, label=target.label, max_tokens=max_tokens,
                                     temperature=temperature, on_piece=piece_callback))
    return results


def results_table(results: Sequence[Answer], title: str = "") -> Table:
    """One row per target: where it ran, timings, token counts and the start of the answer."""
    return Table([_row(r) for r in results], title=title)


def _row(answer: Answer) -> dict:
    return {
        N_("target"): answer.label,
        N_("model id"): answer.model,
        N_("live"): _("live") if answer.live else _("stand-in"),
        N_("first token (s)"): _round(answer.first_token_seconds),
        N_("total (s)"): _round(answer.total_seconds),
        N_("answer tokens"): answer.completion_tokens if answer.completion_tokens is not None else "?",
        N_("tokens/s"): _round(answer.tokens_per_second, 1),
        N_("answer"): _preview(answer.error or answer.text),
    }


def plot_results(results: Sequence[Answer], metric: str = "tokens_per_second", ax=None):
    """A bar per target for one metric (see METRICS); returns the figure."""
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}. Choose one of: {', '.join(METRICS)}.")
    fig, ax = style.axes(ax)
    labels = [r.label + ("" if r.live else "\n" + _("(stand-in)")) for r in results]
    values = [getattr(r, metric) or 0 for r in results]
    bars = ax.bar(labels, values, color=[style.colour(i) for i in range(len(results))])
    ax.bar_label(bars, labels=[f"{v:.3g}" if isinstance(v, float) else str(v) for v in values], padding=2)
    ax.set_ylabel(_(METRICS[metric]))
    ax.set_title(_("Same prompt, side by side"))
    ax.grid(axis="x", visible=False)
    return fig


def model_choices(route: str) -> list[str]:
    """Course model keys that a route has an id for (retired ones too: resolve maps them)."""
    keys = [r.model for r in route_table.ids_on(route)] if route in route_table.ROUTES else []
    return keys or list(catalog.FAMILY)


def _round(value: float | None, digits: int = 2):
    return "–" if value is None else round(value, digits)


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


