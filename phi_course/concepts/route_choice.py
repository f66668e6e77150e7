"""Every route side by side: the same prompts, timed, with what each costs and when to pick it.

Introduced in lessons/12_choose_your_route.ipynb.

`measure(route, prompt)` sends one prompt through one route with that route's
official client and times it: the cloud routes and the custom server with the
OpenAI SDK (`phi_course.chat.stream_answer`), Ollama with the `ollama` client,
transformers and ONNX Runtime GenAI in this process. `measure_routes` does it
for many prompts and routes after one untimed warm-up call per route (the
first call pays for loading the model or starting a server). `summary` and
`plot_routes` show the result (a `phi_course.chat.Answer` per prompt and route); `COSTS` and `DECISIONS` are the reference
tables the lesson ends on.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Iterable, Sequence

from phi_course import chat, i18n, route_table, routes, settings, style
from phi_course.chat import Answer
from phi_course.i18n import N_, _
from phi_course.local import generation, hub, onnx_models
from phi_course.tables import Table

__all__ = ["ALL_ROUTES", "COSTS", "DECISIONS", "DEFAULT_MAX_TOKENS", "IN_PROCESS", "LOG_SCALE_ABOVE", "METRICS",
           "PROMPTS", "REMOTE", "STANDIN_THREADS", "WHERE", "costs_table", "decision_table",
           "electricity_per_million", "measure", "measure_routes", "plot_routes", "prompts", "summary"]

# The remote routes still in service (a retired one would only measure the stand-in again).
REMOTE = tuple(name for name in route_table.REMOTE_ROUTES if not route_table.route(name).status.retired)
IN_PROCESS = ("transformers", "onnx")
ALL_ROUTES = REMOTE + IN_PROCESS
DEFAULT_MAX_TOKENS = 64
STANDIN_THREADS = 1  # torch threads the course stand-in uses (phi_course.standin.server)

# The same four questions in each course language. The Chinese ones are phrasings the embedded
# model was trained on (data/qa.jsonl), so offline every route answers them right.
PROMPTS = {
    "en": (
        "What is Phi-3.5-mini?",
        "How do I run Phi-3.5-mini with Ollama?",
        "What is ONNX Runtime GenAI?",
        "How many parameters of Phi-3.5-MoE are active per token?",
    ),
    "zh": (
        "什么是 Phi-3.5-mini？",
        "怎样用 Ollama 运行 Phi-3.5-mini？",
        "什么是 ONNX Runtime GenAI？",
        "Phi-3.5-MoE 每个 token 激活多少参数？",
    ),
}


def prompts() -> list[str]:
    """The lesson's prompts in the course language: four, or two in quick mode (tests)."""
    asked = PROMPTS[i18n.language()]
    return list(asked[:2] if settings.quick() else asked)


# Where the model runs on each route (the route table's words; "transformers" is its huggingface route).
# English, like the table; summary() shows it in the course language.
WHERE = {name: route_table.route("huggingface" if name == "transformers" else name).runs_on_text
         for name in ALL_ROUTES}

# Metrics a chart can show: attribute -> (title, axis label, factor from the attribute's unit).
METRICS = {
    "total_seconds": (N_("Latency"), N_("ms for the whole answer"), 1000),
    "first_token_seconds": (N_("Time to first token"), N_("ms to the first token"), 1000),
    "tokens_per_second": (N_("Decoding speed"), N_("tokens per second after the first"), 1),
}
LOG_SCALE_ABOVE = 10  # routes that differ more than this many times share a chart on a log scale


def _messages(prompt: str) -> list[dict]:
    return [{"role": "user", "content": prompt}]


def _measure_openai(name: str, prompt: str, model: str, max_tokens: int) -> Answer:
    return chat.stream_answer(routes.resolve(name, model), _messages(prompt), max_tokens=max_tokens)


def _measure_ollama(prompt: str, model: str, max_tokens: int) -> Answer:
    import ollama

    route = routes.resolve("ollama", model)
    m = Answer("ollama", route.model, route.live, route.notice, prompt=prompt, client="ollama")
    client = route.ollama_client()
    started = time.perf_counter()
    pieces = []
    try:
        for chunk in client.chat(model=route.model, messages=_messages(prompt), stream=True,
                                 options={"temperature": 0, "num_predict": max_tokens}):
            piece = chunk.message.content if chunk.message else ""
            if piece:
                m.first_token_seconds = m.first_token_seconds or time.perf_counter() - started
                pieces.append(piece)
            if chunk.done:
                m.completion_tokens = chunk.eval_count
    except (ollama.ResponseError, ConnectionError, OSError) as error:
        m.error = f"{type(error).__name__} from Ollama at {route.base_url}: {error}"
    m.total_seconds = time.perf_counter() - started
    m.text = "".join(pieces)
    return m


def _measure_transformers(prompt: str, model: str, max_tokens: int) -> Answer:
    import torch

    loaded = hub.load_causal_lm(model, verbose=False)
    # The stand-in serves this same embedded model on one thread; so does this call, so that
    # the two differ by the HTTP hop only. A real model keeps the threads it has.
    threads = torch.get_num_threads() if loaded.is_real else STANDIN_THREADS
    with settings.torch_threads(threads):
        stream = generation.chat_stream(loaded.model, loaded.tokenizer, _messages(prompt),
                                        max_new_tokens=max_tokens)
        text = "".join(stream)
    result = stream.result
    return Answer("transformers", loaded.model_id, loaded.is_real, loaded.notice, prompt=prompt,
                  client="transformers", text=text, first_token_seconds=result.first_token_seconds,
                  total_seconds=result.total_seconds, completion_tokens=result.completion_tokens)


@functools.lru_cache(maxsize=1)  # a real Phi build is GBs: keep one
def _og_model(path: str):
    import onnxruntime_genai as og

    return og.Model(path)


def _measure_onnx(prompt: str, model: str, max_tokens: int) -> Answer:
    import onnxruntime_genai as og

    choice = onnx_models.onnx_model_path(model, verbose=False)
    og_model = _og_model(str(choice.path))
    tokenizer = og.Tokenizer(og_model)
    decoder = tokenizer.create_stream()
    end = set(tokenizer.eos_token_ids)
    m = Answer("onnx", choice.source, choice.is_real, choice.notice, prompt=prompt, client="onnxruntime_genai")
    started = time.perf_counter()
    pieces, count = [], 0
    for token in onnx_models.generate_token_ids(og_model, _messages(prompt), max_tokens):
        count += 1
        if count == 1:
            m.first_token_seconds = time.perf_counter() - started
        if token in end:
            break
        pieces.append(decoder.decode(token))
    m.total_seconds = time.perf_counter() - started
    m.completion_tokens = count
    m.text = "".join(pieces)
    return m


def measure(route: str, prompt: str, *, model: str = routes.DEFAULT_PHI,
            max_tokens: int = DEFAULT_MAX_TOKENS) -> Answer:
    """Send `prompt` through `route` once (greedy decoding) and time the streamed answer.

    `route` is one of ALL_ROUTES; `model` a course key such as "phi-3.5-mini".
    A service error is kept in `Answer.error`, so one failing route does not stop a run.
    """
    if not prompt.strip():
        raise ValueError("The prompt is empty: type a question to send to every route.")
    if route in route_table.ROUTES and route_table.route(route).status.retired:
        gone = route_table.route(route)
        raise ValueError(f"{gone.label} was retired on {gone.status.since}: there is nothing to measure. "
                         f"Choose from: {', '.join(ALL_ROUTES)}.")
    if route in REMOTE and route_table.route(route).protocol == route_table.OPENAI:
        return _measure_openai(route, prompt, model, max_tokens)
    if route == "ollama":
        return _measure_ollama(prompt, model, max_tokens)
    if route not in IN_PROCESS:
        raise ValueError(f"Unknown route {route!r}. Choose from: {', '.join(ALL_ROUTES)}.")
    run = _measure_transformers if route == "transformers" else _measure_onnx
    try:
        return run(prompt, model, max_tokens)
    except Exception as error:  # a missing build tool or too little memory: report it in the row
        return Answer(route, model, prompt=prompt, client=route, error=(
            f"{type(error).__name__}: {error}. This route is left out of the comparison; "
            "lessons 06 and 08 show how to set it up."))


def measure_routes(prompts: Sequence[str], route_names: Iterable[str] = ALL_ROUTES, *,
                   model: str = routes.DEFAULT_PHI, max_tokens: int = DEFAULT_MAX_TOKENS,
                   warm_up: bool = True,
                   on_result: Callable[[Answer], None] | None = None) -> list[Answer]:
    """Every prompt through every route; returns one Answer per (route, prompt).

    Routes take turns prompt by prompt, so a machine that slows down for a while
    slows every route alike. With `warm_up`, each route first answers one untimed
    request: loading a model or starting a server is a one-off cost, not latency.
    """
    names = list(route_names)
    unknown = [n for n in names if n not in ALL_ROUTES]
    if unknown:
        raise ValueError(f"Unknown route(s) {unknown}. Choose from: {', '.join(ALL_ROUTES)}.")
    if not prompts:
        raise ValueError("Give at least one prompt.")
    if warm_up:
        for name in names:
            measure(name, prompts[0], model=model, max_tokens=4)
    results = []
    for prompt in prompts:
        for name in names:
            result = measure(name, prompt, model=model, max_tokens=max_tokens)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _round(value: float | None, digits: int = 3):
    return "–" if value is None else round(value, digits)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def summary(measurements: Sequence[Answer]) -> Table:
    """One row per route: medians over the prompts, what answered, and where it runs."""
    rows = []
    for name in dict.fromkeys(m.route for m in measurements):
        mine = [m for m in measurements if m.route == name]
        ok = [m for m in mine if not m.error]
        rows.append({
            N_("route"): name,
            N_("answered by"): mine[0].model + ("" if mine[0].live else _(" (stand-in)")),
            N_("client"): mine[0].client,
            N_("runs on"): _(WHERE[name]),
            N_("latency (ms)"): _round(_ms(_median([m.total_seconds for m in ok])), 1),
            N_("first token (ms)"): _round(_ms(_median([m.first_token_seconds for m in ok])), 1),
            N_("tokens/s"): _round(_median([m.tokens_per_second for m in ok]), 1),
            N_("answer tokens"): _round(_median([m.completion_tokens for m in ok]), 1),
            N_("errors"): len(mine) - len(ok),
        })
    return Table(rows, _("{n} prompts per route; medians").format(n=len({m.prompt for m in measurements})))


def plot_routes(measurements: Sequence[Answer], metric: str = "first_token_seconds", ax=None,
                log: bool | None = None):
    """One bar per route (the median over prompts), every prompt as a dot; hatched = not live.

    `log=None` switches to a log scale when the routes differ by more than
    LOG_SCALE_ABOVE times (an int4 engine next to a remote API, say). Returns the figure.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}. Choose one of: {', '.join(METRICS)}.")
    title, label, factor = METRICS[metric]
    label = _(label)
    fig, ax = style.axes(ax)
    names = list(dict.fromkeys(m.route for m in measurements))
    medians = []
    for i, name in enumerate(names):
        values = [getattr(m, metric) for m in measurements if m.route == name and not m.error]
        values = [v * factor for v in values if v is not None]
        live = any(m.live for m in measurements if m.route == name)
        median = statistics.median(values) if values else 0
        medians.append(median)
        ax.bar(i, median, color=style.colour(i), alpha=1.0 if live else 0.55, hatch=None if live else "//")
        ax.plot([i] * len(values), values, "o", color="black", markersize=3)
    positive = [v for v in medians if v > 0]
    if log or (log is None and positive and max(positive) > LOG_SCALE_ABOVE * min(positive)):
        ax.set_yscale("log")
        label += _(" (log scale)")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel(label)
    ax.set_title(_(title))
    ax.grid(axis="x", visible=False)
    return fig


def electricity_per_million(tokens_per_second: float, watts: float, price_per_kwh: float) -> float:
    """What a million generated tokens cost in electricity on a local machine.

    A million tokens take 1e6 / tokens_per_second seconds at `watts`; the result is in
    the currency of `price_per_kwh`. Hardware is not included.
    """
    if tokens_per_second <= 0 or watts < 0 or price_per_kwh < 0:
        raise ValueError("tokens_per_second must be above 0; watts and price_per_kwh 0 or more.")
    kwh = watts * (1e6 / tokens_per_second) / 3.6e6
    return kwh * price_per_kwh


# How each route is paid for. Prices change often and differ by region and model,
# so only the billing model is stated here; the page named gives today's figures.
COSTS = [
    {N_("route"): "github", N_("you pay"): N_("nothing: the service is retired"),
     N_("per 1M tokens"): "-",
     N_("good to know"): N_("retired on {since}; it was free within rate limits")},
    {N_("route"): "azure", N_("you pay"): N_("per input and output token (serverless deployment)"),
     N_("per 1M tokens"): N_("see the model's pricing in the Microsoft Foundry catalog"),
     N_("good to know"): N_("managed deployments bill per hour of compute instead")},
    {N_("route"): "nim", N_("you pay"): N_("hosted API: trial credits; self-hosted: your GPU + an NVIDIA AI Enterprise licence"),
     N_("per 1M tokens"): N_("see NVIDIA's pricing page"),
     N_("good to know"): N_("the same container runs on your own GPU")},
    {N_("route"): "ollama", N_("you pay"): N_("your hardware and electricity"), N_("per 1M tokens"): N_("no fee; electricity below"),
     N_("good to know"): N_("no data leaves your machine")},
    {N_("route"): "custom", N_("you pay"): N_("whoever runs the server (one GPU shared by a class)"),
     N_("per 1M tokens"): N_("the server's cost divided among its users"),
     N_("good to know"): N_("one model download for everyone")},
    {N_("route"): "transformers", N_("you pay"): N_("your hardware and electricity"), N_("per 1M tokens"): N_("no fee; electricity below"),
     N_("good to know"): N_("full control: any model, fine-tuning, internals")},
    {N_("route"): "onnx", N_("you pay"): N_("your hardware and electricity"), N_("per 1M tokens"): N_("no fee; electricity below"),
     N_("good to know"): N_("int4 builds run on CPUs, phones and the edge")},
]

DECISIONS = [
    {N_("if you need..."): N_("to try Phi in minutes, no hardware"), N_("pick"): N_("cloud: NVIDIA NIM's hosted API"),
     N_("because"): N_("a free developer key is all it takes (lesson 05); GitHub Models, the seed's pick, is retired")},
    {N_("if you need..."): N_("production traffic, an SLA, enterprise auth"), N_("pick"): N_("cloud: Microsoft Foundry"),
     N_("because"): N_("serverless or managed deployments, key or Entra ID auth (lesson 04)")},
    {N_("if you need..."): N_("the big models (Phi-4, multimodal, MoE) without GPUs"), N_("pick"): N_("cloud: Foundry or NVIDIA NIM"),
     N_("because"): N_("they need 8-84 GB of accelerator memory; as of {checked}, Foundry serves {foundry} (lessons 04, 05, 09, 10)")},
    {N_("if you need..."): N_("your own GPUs, the same API as the cloud"), N_("pick"): N_("server: self-hosted NIM, vLLM"),
     N_("because"): N_("one OpenAI-compatible endpoint for many users (lesson 05, instructor guide)")},
    {N_("if you need..."): N_("private data, offline work, no per-token bill"), N_("pick"): N_("local: Ollama"),
     N_("because"): N_("one command to pull and run; an OpenAI-compatible endpoint too (lesson 07)")},
    {N_("if you need..."): N_("to fine-tune, inspect or change the model"), N_("pick"): N_("local: Transformers"),
     N_("because"): N_("the model is a PyTorch module in your process (lessons 06, 10, 11)")},
    {N_("if you need..."): N_("a phone, a browser or an embedded device"), N_("pick"): N_("edge: ONNX Runtime GenAI"),
     N_("because"): N_("int4 builds, small runtimes, CPU/NPU/mobile targets (lesson 08)")},
]


def _shown(rows: list[dict]) -> list[dict]:
    """The rows in the course language (the tables keep English, so code can read them)."""
    since = route_table.route("github").status.since
    # Which Phi models Foundry still serves comes from the route table, so this row changes with it.
    # The list separator is a message too: Chinese lists take 、.
    foundry = _(", ").join(row.id for row in route_table.ids_on("azure", include_retired=False))
    return [{key: _(value).format(since=since, checked=route_table.CHECKED, foundry=foundry)
             for key, value in row.items()} for row in rows]


def costs_table() -> Table:
    """How each route is paid for (billing model, not prices: those change; see each page)."""
    return Table(_shown(COSTS), _("What each route costs"))


def decision_table() -> Table:
    """When to pick cloud, a shared server, local or edge."""
    return Table(_shown(DECISIONS), _("Choosing a route"))
