"""The route table: every way the course reaches a model, and every Phi model id on each.

Introduced in lessons/00_setup.ipynb; `python -m phi_course routes` prints it.

Services retire models and whole APIs under a course: GitHub Models closed
four months before lessons teaching it as live were written. So everything
the course knows about a service lives here and only here: its endpoint and
the variable that overrides it, its key variables, each Phi model's id on it,
and the status of each (live or served, or retired since a date and replaced
by what), with the page it was read on and the date it was checked. Routes,
doctor, errors, the comparison tools, the catalog views and the training
facts all read this table; a test fails if an endpoint, key variable or
service id is written anywhere else in the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from phi_course.i18n import N_, _

__all__ = ["AZURE_AI_INFERENCE", "AZURE_ENTRA_SCOPES", "AZURE_INFERENCE_RETIRED", "AZURE_MIGRATION", "CHECKED",
           "FOUNDRY_410", "FOUNDRY_RETIRED", "FOUNDRY_SCHEDULE", "GITHUB_410", "GITHUB_CATALOG",
           "GITHUB_GONE_BODY", "GITHUB_GONE_STATUS", "GITHUB_OLD_ENDPOINT", "GITHUB_PHI3_DEPRECATED",
           "GITHUB_RETIRED", "HF_HUB", "HUB_VARIANTS", "MODEL_IDS", "ModelId", "NIM_CATALOG",
           "NIM_SEED_VISION_URL", "NIM_SELF_HOSTED_URL", "OLLAMA_API", "OLLAMA_LIBRARY", "ONNX_GENAI",
           "REMOTE_ROUTES", "ROUTES", "RouteFacts", "Status", "as_of", "find_id", "hub_repo", "ids_on",
           "key_variables", "model_id", "overview", "retired_endpoint", "route", "route_of_host", "stale_statuses",
           "status_table", "successor"]

CHECKED = "2026-12-01"  # the day every status below was last checked against its source

# The states are codes code compares; N_() marks them so tables can show them translated.
LIVE, SERVED, RETIRED, UNVERIFIED = N_("live"), N_("served"), N_("retired"), N_("unverified")
OPENAI, OLLAMA_REST, IN_PROCESS = "OpenAI-compatible", "Ollama REST", "in-process"

# Where each status was read. Prefer the service's own documentation and changelog.
GITHUB_RETIRED = "https://github.blog/changelog/2026-07-30-github-models-is-now-retired/"
GITHUB_410 = "https://github.com/symfony/ai/pull/2490"
GITHUB_OLD_ENDPOINT = "https://github.blog/changelog/2025-07-17-deprecation-of-azure-endpoint-for-github-models"
GITHUB_PHI3_DEPRECATED = "https://github.com/dotnet-presentations/ai-workshop/issues/134"
FOUNDRY_RETIRED = ("https://github.com/MicrosoftDocs/azure-ai-docs/blob/main/articles/foundry/openai/"
                   "includes/concepts-retired-models-content.md")
FOUNDRY_SCHEDULE = ("https://github.com/MicrosoftDocs/azure-ai-docs/blob/main/articles/foundry/openai/"
                    "includes/concepts-model-retirement-schedule-content.md")
FOUNDRY_410 = ("https://github.com/MicrosoftDocs/azure-ai-docs/blob/main/articles/foundry/openai/"
               "includes/concepts-model-retirements-content.md")
AZURE_INFERENCE_RETIRED = "https://learn.microsoft.com/en-us/azure/foundry-classic/foundry-models/supported-languages"
AZURE_MIGRATION = "https://learn.microsoft.com/en-us/azure/foundry/how-to/model-inference-to-openai-migration"
NIM_CATALOG = "https://docs.api.nvidia.com/nim/reference/"
OLLAMA_API = "https://github.com/ollama/ollama/blob/main/docs/api.md"
OLLAMA_LIBRARY = "https://ollama.com/library"
HF_HUB = "https://huggingface.co/microsoft"
ONNX_GENAI = "https://github.com/microsoft/onnxruntime-genai"


@dataclass(frozen=True)
class Status:
    """Whether a route or a model id on it works today, since when, and where that was read."""

    state: str  # LIVE (a route), SERVED (a model id), RETIRED, or UNVERIFIED (listed once, not confirmed)
    source: str  # the page it was read on
    since: str | None = None  # ISO date: retired since, or listed since
    successor: str | None = None  # what the service names instead: a route name or a model id
    note: str = ""
    checked: str = CHECKED

    @property
    def retired(self) -> bool:
        return self.state == RETIRED

    def describe(self) -> str:
        """'retired since 2025-08-30', 'served', 'unverified', in the course language."""
        if self.retired:
            return _("retired since {date}").format(date=self.since)
        return _(self.state)


@dataclass(frozen=True)
class RouteFacts:
    """One route: how to reach it, which variables configure it, and whether it still exists."""

    name: str
    label_text: str  # English; `label` shows it in the course language (most are proper names)
    protocol: str
    runs_on_text: str  # likewise, shown by `runs_on`
    status: Status
    endpoint: str | None = None  # the service's own address (None: the learner gives one)
    endpoint_var: str | None = None  # the environment variable that overrides `endpoint`
    key_vars: tuple[str, ...] = ()  # the first is the key; the rest are needed beside it
    model_vars: dict[str, str] = field(default_factory=dict)  # model kind -> variable naming a deployment
    hosts: tuple[str, ...] = ()  # host names of the service, to tell which route an error came from
    retired_endpoints: dict[str, Status] = field(default_factory=dict)  # older addresses and when they went
    needs: str = ""  # what a learner sets or does to use the real thing

    @property
    def label(self) -> str:
        return _(self.label_text)

    @property
    def runs_on(self) -> str:
        return _(self.runs_on_text)

    @property
    def key_var(self) -> str | None:
        return self.key_vars[0] if self.key_vars else None

    @property
    def remote(self) -> bool:
        return self.protocol != IN_PROCESS


@dataclass(frozen=True)
class ModelId:
    """The id one route uses for one Phi model (a course key of phi_course.catalog.FAMILY)."""

    route: str
    model: str
    id: str
    status: Status

    @property
    def retired(self) -> bool:
        return self.status.retired


_GITHUB_GONE = Status(RETIRED, GITHUB_RETIRED, since="2026-07-30", successor="azure",
                      note="playground, catalog and inference API gone; every URL answers 410 Gone "
                           "(its body still says 'temporarily unavailable', a leftover from the brownouts)")

ROUTES: dict[str, RouteFacts] = {r.name: r for r in [
    RouteFacts(
        "github", "GitHub Models", OPENAI, N_("GitHub's servers (until the service closed)"), _GITHUB_GONE,
        endpoint="https://models.github.ai/inference", endpoint_var="GITHUB_MODELS_ENDPOINT",
        key_vars=("GITHUB_TOKEN",), hosts=("models.github.ai", "models.inference.ai.azure.com"),
        retired_endpoints={
            "https://models.github.ai": _GITHUB_GONE,
            "https://models.inference.ai.azure.com": Status(
                RETIRED, GITHUB_OLD_ENDPOINT, since="2025-10-17", successor="https://models.github.ai/inference",
                note="GitHub Models' first endpoint; its replacement closed too on 2026-07-30"),
        },
        needs=N_("use Microsoft Foundry (route 'azure'), NVIDIA NIM (route 'nim') or a classroom server (route "
              "'custom'); GITHUB_MODELS_ENDPOINT points this route's code at any OpenAI-compatible server")),
    RouteFacts(
        "azure", "Microsoft Foundry (Azure AI Foundry)", OPENAI, N_("your Azure subscription"),
        Status(LIVE, FOUNDRY_SCHEDULE,
               note="the OpenAI SDK on the resource's OpenAI/v1 endpoint (azure-ai-inference: AZURE_AI_INFERENCE)"),
        endpoint=None, endpoint_var="AZURE_AI_ENDPOINT", key_vars=("AZURE_AI_API_KEY", "AZURE_AI_ENDPOINT"),
        model_vars={"instruct": "AZURE_AI_MODEL", "reasoning": "AZURE_AI_REASONING_MODEL",
                    "multimodal": "AZURE_AI_MULTIMODAL_MODEL"},
        hosts=("services.ai.azure.com", "openai.azure.com", "cognitiveservices.azure.com"),
        needs=N_("set AZURE_AI_ENDPOINT and AZURE_AI_API_KEY from your Foundry resource (one deployment-name "
              "variable per kind: AZURE_AI_MODEL, AZURE_AI_REASONING_MODEL, AZURE_AI_MULTIMODAL_MODEL)")),
    RouteFacts(
        "nim", "NVIDIA NIM", OPENAI, N_("NVIDIA's servers, or your own GPU"),
        Status(LIVE, NIM_CATALOG, note="which Phi ids it hosts changes; the route asks GET /v1/models"),
        endpoint="https://integrate.api.nvidia.com/v1", endpoint_var="NIM_BASE_URL",
        key_vars=("NVIDIA_API_KEY",), hosts=("integrate.api.nvidia.com", "ai.api.nvidia.com"),
        needs=N_("set NVIDIA_API_KEY (nvapi-..., from build.nvidia.com), or NIM_BASE_URL for a self-hosted NIM")),
    RouteFacts(
        "ollama", "Ollama", OLLAMA_REST, N_("your machine, behind a local server"),
        Status(LIVE, OLLAMA_API, note="no key; an OpenAI-compatible API under /v1 too"),
        endpoint="http://localhost:11434", endpoint_var="OLLAMA_HOST", key_vars=(),
        needs=N_("install Ollama and run `ollama serve`, or set OLLAMA_HOST to where it runs")),
    RouteFacts(
        "custom", N_("a classroom or team server"), OPENAI, N_("a shared server (a classroom, your team)"),
        Status(LIVE, "https://platform.openai.com/docs/api-reference/chat",
               note="any OpenAI-compatible endpoint: vLLM, a self-hosted NIM, transformers serve, Ollama's /v1"),
        endpoint=None, endpoint_var="PHI_COURSE_BASE_URL", key_vars=("PHI_COURSE_API_KEY",),
        model_vars={"any": "PHI_COURSE_MODEL"},
        needs=N_("set PHI_COURSE_BASE_URL (and PHI_COURSE_API_KEY, PHI_COURSE_MODEL) for a classroom server")),
    RouteFacts(
        "huggingface", "Hugging Face Transformers", IN_PROCESS, N_("this process (PyTorch)"),
        Status(LIVE, HF_HUB, note="open weights under the MIT licence"),
        needs=N_("set PHI_COURSE_REAL_MODELS=1 to download real Phi weights (GBs), and have the memory to hold them")),
    RouteFacts(
        "onnx", "ONNX Runtime GenAI", IN_PROCESS, N_("this process (ONNX Runtime)"),
        Status(LIVE, ONNX_GENAI),
        needs=N_("set PHI_COURSE_REAL_MODELS=1 to download an int4 build (about 2.7 GB)")),
]}


def _retired_on_github(model: str, id_: str, successor: str | None, earlier: str = "") -> ModelId:
    note = earlier or "went with the whole service"
    return ModelId("github", model, id_, Status(RETIRED, GITHUB_RETIRED, since="2026-07-30",
                                                 successor=successor, note=note))


_PHI3_ON_GITHUB = "deprecated on GitHub Models by September 2025 (ai-workshop#134), then gone with the service"
_FOUNDRY_PHI3 = Status(RETIRED, FOUNDRY_RETIRED, since="2025-08-30", successor="Phi-4-mini-instruct",
                       note="every Phi-3 and Phi-3.5 model was retired on Foundry that day")
_FOUNDRY_GA = Status(SERVED, FOUNDRY_SCHEDULE, note="GA, no retirement date announced (schedule of 2026-07-07)")
_NIM_LISTING = "a listing of GET /v1/models seen on 2026-08-23"


def _nim(model: str, id_: str, listed: bool, card: str | None = None) -> ModelId:
    """A NIM id: whether the 2026-08-23 listing had it; NVIDIA's model card where one was found."""
    note = (f"in {_NIM_LISTING}; ask the service" if listed
            else f"missing from {_NIM_LISTING}{': it has a model card' if card else ', probably withdrawn'}; "
                 "ask the service")
    source = f"https://build.nvidia.com/microsoft/{card}/modelcard" if card else NIM_CATALOG
    return ModelId("nim", model, id_, Status(UNVERIFIED, source, since="2026-08-23" if listed else None, note=note))


def _hub(route_name: str, model: str, repo: str, note: str = "open weights; native transformers class, no remote code",
         folder: str = "") -> ModelId:
    """A Hugging Face Hub repository (and, for ONNX builds, the folder in it), sourced to its own page."""
    return ModelId(route_name, model, repo + (f"/{folder}" if folder else ""),
                   Status(SERVED, f"https://huggingface.co/{repo}", note=note))


def _ollama(model: str, tag: str) -> ModelId:
    return ModelId("ollama", model, tag, Status(SERVED, f"{OLLAMA_LIBRARY}/{tag.split(':')[0]}"))


_REMOTE_CODE = "needs trust_remote_code, which breaks on transformers 5"

MODEL_IDS: list[ModelId] = [
    # GitHub Models: publisher-prefixed ids, all gone with the service on 2026-07-30.
    _retired_on_github("phi-3-mini", "microsoft/Phi-3-mini-4k-instruct", "microsoft/Phi-4-mini-instruct", _PHI3_ON_GITHUB),
    _retired_on_github("phi-3-medium", "microsoft/Phi-3-medium-4k-instruct", "microsoft/Phi-4", _PHI3_ON_GITHUB),
    _retired_on_github("phi-3.5-mini", "microsoft/Phi-3.5-mini-instruct", "microsoft/Phi-4-mini-instruct",
                       _PHI3_ON_GITHUB),
    _retired_on_github("phi-3.5-moe", "microsoft/Phi-3.5-MoE-instruct", "microsoft/Phi-4-mini-instruct",
                       _PHI3_ON_GITHUB),
    _retired_on_github("phi-3.5-vision", "microsoft/Phi-3.5-vision-instruct", "microsoft/Phi-4-mini-instruct",
                       _PHI3_ON_GITHUB),
    _retired_on_github("phi-4-mini", "microsoft/Phi-4-mini-instruct", None),
    _retired_on_github("phi-4", "microsoft/Phi-4", None),
    _retired_on_github("phi-4-multimodal", "microsoft/Phi-4-multimodal-instruct", None),
    # Microsoft Foundry: the model name of a deployment (a deployment may be given any name).
    ModelId("azure", "phi-3-mini", "Phi-3-mini-4k-instruct", _FOUNDRY_PHI3),
    ModelId("azure", "phi-3-small", "Phi-3-small-8k-instruct", _FOUNDRY_PHI3),
    ModelId("azure", "phi-3-medium", "Phi-3-medium-4k-instruct",
            Status(RETIRED, FOUNDRY_RETIRED, since="2025-08-30", successor="Phi-4",
                   note="every Phi-3 and Phi-3.5 model was retired on Foundry that day")),
    ModelId("azure", "phi-3.5-mini", "Phi-3.5-mini-instruct", _FOUNDRY_PHI3),
    ModelId("azure", "phi-3.5-moe", "Phi-3.5-MoE-instruct", _FOUNDRY_PHI3),
    ModelId("azure", "phi-3.5-vision", "Phi-3.5-vision-instruct", _FOUNDRY_PHI3),
    ModelId("azure", "phi-4", "Phi-4", _FOUNDRY_GA),
    ModelId("azure", "phi-4-mini", "Phi-4-mini-instruct", _FOUNDRY_GA),
    ModelId("azure", "phi-4-multimodal", "Phi-4-multimodal-instruct", _FOUNDRY_GA),
    ModelId("azure", "phi-4-reasoning", "Phi-4-reasoning", _FOUNDRY_GA),
    ModelId("azure", "phi-4-mini-reasoning", "Phi-4-mini-reasoning", _FOUNDRY_GA),
    # NVIDIA NIM hosted API: lower-case ids. What it hosts changes; resolve asks GET /v1/models.
    _nim("phi-3-mini", "microsoft/phi-3-mini-128k-instruct", listed=False),
    _nim("phi-3.5-mini", "microsoft/phi-3.5-mini-instruct", listed=False),
    _nim("phi-3.5-moe", "microsoft/phi-3.5-moe-instruct", listed=True, card="phi-3_5-moe"),
    _nim("phi-3-vision", "microsoft/phi-3-vision-128k-instruct", listed=True),
    _nim("phi-3.5-vision", "microsoft/phi-3.5-vision-instruct", listed=False),
    _nim("phi-4-mini", "microsoft/phi-4-mini-instruct", listed=False, card="phi-4-mini-instruct"),
    _nim("phi-4-multimodal", "microsoft/phi-4-multimodal-instruct", listed=False,
         card="phi-4-multimodal-instruct"),
    # Hugging Face Hub repositories.
    _hub("huggingface", "phi-3-mini", "microsoft/Phi-3-mini-4k-instruct"),
    _hub("huggingface", "phi-3-small", "microsoft/Phi-3-small-8k-instruct", _REMOTE_CODE),
    _hub("huggingface", "phi-3-medium", "microsoft/Phi-3-medium-4k-instruct"),
    _hub("huggingface", "phi-3.5-mini", "microsoft/Phi-3.5-mini-instruct"),
    _hub("huggingface", "phi-3.5-moe", "microsoft/Phi-3.5-MoE-instruct"),
    _hub("huggingface", "phi-3-vision", "microsoft/Phi-3-vision-128k-instruct", _REMOTE_CODE),
    _hub("huggingface", "phi-3.5-vision", "microsoft/Phi-3.5-vision-instruct", _REMOTE_CODE),
    _hub("huggingface", "phi-4", "microsoft/phi-4"),
    _hub("huggingface", "phi-4-mini", "microsoft/Phi-4-mini-instruct"),
    _hub("huggingface", "phi-4-multimodal", "microsoft/Phi-4-multimodal-instruct"),
    _hub("huggingface", "phi-4-reasoning", "microsoft/Phi-4-reasoning"),
    _hub("huggingface", "phi-4-reasoning-plus", "microsoft/Phi-4-reasoning-plus"),
    _hub("huggingface", "phi-4-mini-flash-reasoning", "microsoft/Phi-4-mini-flash-reasoning",
         "open weights; a new architecture (SambaY): its card says how to load it"),
    _hub("huggingface", "phi-4-mini-reasoning", "microsoft/Phi-4-mini-reasoning"),
    # Ollama library tags.
    _ollama("phi-3-mini", "phi3"),
    _ollama("phi-3-medium", "phi3:14b"),
    _ollama("phi-3.5-mini", "phi3.5"),
    _ollama("phi-4", "phi4"),
    _ollama("phi-4-mini", "phi4-mini"),
    _ollama("phi-4-reasoning", "phi4-reasoning"),
    _ollama("phi-4-mini-reasoning", "phi4-mini-reasoning"),
    # ONNX Runtime GenAI builds: "repository/sub/folder" on the Hub.
    _hub("onnx", "phi-3-mini", "microsoft/Phi-3-mini-4k-instruct-onnx", "CPU int4 build",
         "cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4"),
    _hub("onnx", "phi-3.5-mini", "microsoft/Phi-3.5-mini-instruct-onnx", "CPU int4 build, about 2.7 GB",
         "cpu_and_mobile/cpu-int4-awq-block-128-acc-level-4"),
]

# The retired SDK older Foundry and GitHub Models samples use (the course still runs it, and says so).
AZURE_AI_INFERENCE = Status(
    RETIRED, AZURE_INFERENCE_RETIRED, since="2026-08-26", successor="openai",
    note="'Switch to the generally available OpenAI/v1 API with a stable OpenAI SDK'; last release 1.0.0b9; "
         f"migration guide: {AZURE_MIGRATION}")
# The Foundry resource's two endpoint forms, one per SDK, and the Entra ID scope for each.
AZURE_OPENAI_V1_PATH, AZURE_INFERENCE_PATH = "/openai/v1/", "/models"
AZURE_ENTRA_SCOPES = {AZURE_OPENAI_V1_PATH: "https://ai.azure.com/.default",
                      AZURE_INFERENCE_PATH: "https://cognitiveservices.azure.com/.default"}
GITHUB_CATALOG = ("GITHUB_MODELS_CATALOG", "https://models.github.ai/catalog/models")
# NVIDIA's older vision API, which the seed called with raw requests (its image inline in the prompt).
NIM_SEED_VISION_URL = "https://ai.api.nvidia.com/v1/vlm/microsoft/phi-3-vision-128k-instruct"
# Where a NIM container on your own GPU serves the same API.
NIM_SELF_HOSTED_URL = "http://localhost:8000/v1"
# What GitHub's endpoints answer since the retirement (GITHUB_410), word for word.
GITHUB_GONE_STATUS = 410
GITHUB_GONE_BODY = {"error": {"code": "github_models_retirement_brownout",
                              "message": "GitHub Models is temporarily unavailable as part of a scheduled "
                                         "retirement brownout."}}


# Hub repositories of variants the course reads published configs from (not served as course models).
HUB_VARIANTS = {"phi-3-mini-128k": "microsoft/Phi-3-mini-128k-instruct",
                "phi-3-medium-128k": "microsoft/Phi-3-medium-128k-instruct"}


def hub_repo(key: str) -> str:
    """The Hugging Face repository of a course model ('phi-4-mini'), or of a variant in HUB_VARIANTS."""
    return HUB_VARIANTS.get(key) or model_id("huggingface", key).id


def route(name: str) -> RouteFacts:
    """The facts of one route ('github', 'azure', 'nim', 'ollama', 'custom', 'huggingface', 'onnx')."""
    try:
        return ROUTES[name]
    except KeyError:
        raise KeyError(f"Unknown route {name!r}. Routes: {', '.join(ROUTES)}") from None


REMOTE_ROUTES = tuple(r.name for r in ROUTES.values() if r.remote)


def model_id(route_name: str, model: str) -> ModelId:
    """The id `route_name` uses for `model`; raises with the known ones if it has none."""
    route(route_name)
    for row in MODEL_IDS:
        if row.route == route_name and row.model == model:
            return row
    known = ", ".join(r.model for r in MODEL_IDS if r.route == route_name)
    raise KeyError(f"Route {route_name!r} has no id for {model!r}. It serves: {known}")


def ids_on(route_name: str, *, include_retired: bool = True) -> list[ModelId]:
    """Every id the table holds for a route (served ones only with include_retired=False)."""
    return [r for r in MODEL_IDS if r.route == route_name and (include_retired or not r.retired)]


def find_id(service_id: str, route_name: str | None = None) -> ModelId | None:
    """The row for a service id (any case), on `route_name` if given; None when the table lacks it."""
    wanted = service_id.strip().lower()
    rows = [r for r in MODEL_IDS if r.id.lower() == wanted and route_name in (None, r.route)]
    rows.sort(key=lambda r: not r.retired)  # a retired row explains an error best
    return rows[0] if rows else None


def successor(row: ModelId) -> ModelId | None:
    """The served row that replaces a retired one on the same route, if the service named one there."""
    if not row.status.successor:
        return None
    found = find_id(row.status.successor, row.route)
    return found if found and not found.retired else None


def retired_endpoint(url: str) -> tuple[str, Status] | None:
    """(address, status) when `url` points at an address a service has retired."""
    clean = url.strip().rstrip("/")
    for facts in ROUTES.values():
        for old, status in facts.retired_endpoints.items():
            if clean.startswith(old.rstrip("/")):
                return old, status
    return None


def route_of_host(url: str | None) -> str | None:
    """The route whose service lives at `url`'s host (the service's own hosts only)."""
    host = (urlparse(str(url)).hostname or "") if url else ""
    for facts in ROUTES.values():
        if any(host == h or host.endswith("." + h) for h in facts.hosts):
            return facts.name
    return None


def key_variables() -> list[str]:
    """Every variable that holds a key, an endpoint or a deployment name for some route."""
    names: list[str] = []
    for facts in ROUTES.values():
        names += [*facts.key_vars, *([facts.endpoint_var] if facts.endpoint_var else []),
                  *facts.model_vars.values()]
    names.append(GITHUB_CATALOG[0])
    return list(dict.fromkeys(names))


def stale_statuses() -> list[str]:
    """Statuses missing a source or a date, or retired without the date they went (empty when all are dated)."""
    found = []
    statuses = [(f"route {f.name}", f.status) for f in ROUTES.values()]
    statuses += [(f"endpoint {old}", s) for f in ROUTES.values() for old, s in f.retired_endpoints.items()]
    statuses += [(f"{r.route} {r.id}", r.status) for r in MODEL_IDS]
    statuses.append(("azure-ai-inference", AZURE_AI_INFERENCE))
    for what, s in statuses:
        if not s.source.startswith("https://"):
            found.append(f"{what}: no source URL")
        if not _is_date(s.checked):
            found.append(f"{what}: no date it was checked")
        if s.retired and not _is_date(s.since or ""):
            found.append(f"{what}: retired without a date")
        if s.state not in (LIVE, SERVED, RETIRED, UNVERIFIED):
            found.append(f"{what}: unknown state {s.state!r}")
    return found


def _is_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def status_table(route_name: str | None = None):
    """Route x model: id, status, since when, what replaces it, when checked, where read (a Table)."""
    from phi_course.tables import Table

    rows = []
    for facts in ROUTES.values():
        if route_name not in (None, facts.name):
            continue
        rows.append({N_("route"): facts.name, N_("model"): _("(the route)"),
                     N_("id"): facts.endpoint or f"${facts.endpoint_var}" if facts.endpoint_var else "-",
                     **_status_cells(facts.status)})
        for row in ids_on(facts.name):
            rows.append({N_("route"): facts.name, N_("model"): row.model, N_("id"): row.id,
                         **_status_cells(row.status)})
    if route_name in (None, "azure"):
        rows.append({N_("route"): "azure", N_("model"): "(azure-ai-inference SDK)", N_("id"): "azure-ai-inference",
                     **_status_cells(AZURE_AI_INFERENCE)})
    return Table(rows, _("Routes and Phi model ids as of {date} (phi_course.route_table)").format(date=CHECKED))


def _status_cells(status: Status) -> dict[str, str]:
    return {N_("status"): _(status.state), N_("since"): status.since or "-", N_("instead"): status.successor or "-",
            N_("checked"): status.checked, N_("source"): status.source, N_("note"): status.note or "-"}


def as_of(route_name: str, model: str | None = None) -> str:
    """One dated sentence a lesson can print: the status of a route, or of a model on it, and its source."""
    facts = route(route_name)
    if model is None:
        status, what = facts.status, facts.label
    else:
        row = model_id(route_name, model)
        status, what = row.status, _("{id} on {label}").format(id=row.id, label=facts.label)
    said = {LIVE: _("live"), SERVED: _("served"),
            UNVERIFIED: _("unverified ({note})").format(note=status.note)}.get(status.state)
    if status.retired:
        instead = ROUTES[status.successor].label if status.successor in ROUTES else status.successor
        said = _("retired since {date}").format(date=status.since) + (
            _(" (instead: {route})").format(route=instead) if instead else "")
    return _("As of {date}, {what}: {said}. Source: {source}").format(date=status.checked, what=what, said=said,
                                                                       source=status.source)


def overview(route_names=None, models=None):
    """The route table cut down for a lesson: route, model, id, status, since, instead (a Table)."""
    from phi_course.tables import Table

    rows = [{N_("route"): r.route, N_("model"): r.model, N_("id"): r.id, N_("status"): _(r.status.state),
             N_("since"): r.status.since or "-", N_("instead"): r.status.successor or "-"}
            for r in MODEL_IDS
            if (route_names is None or r.route in route_names) and (models is None or r.model in models)]
    return Table(rows, _("As of {date} (phi_course.route_table; `python -m phi_course routes` adds the sources)")
                 .format(date=CHECKED))
