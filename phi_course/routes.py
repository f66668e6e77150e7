"""Route resolution: which endpoint, model id and key each inference route uses.

Introduced in lessons/00_setup.ipynb; used by every lesson that calls a service.

The learner's code builds the official SDK client itself; this module only
decides *where* it points. With a key (or a running server) that is the real
service; without one it is the course stand-in on 127.0.0.1, serving an
embedded model over the same protocol, and `Route.notice` says so in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from . import catalog, settings
from .embedded import DEFAULT_MODEL, EMBEDDED, models_dir

REMOTE_ROUTES = ("github", "azure", "nim", "ollama", "custom")
DEFAULT_PHI = "phi-3.5-mini"

# Endpoints, each overridable by the environment variable beside it.
GITHUB_ENDPOINT = ("GITHUB_MODELS_ENDPOINT", "https://models.github.ai/inference")
GITHUB_CATALOG = ("GITHUB_MODELS_CATALOG", "https://models.github.ai/catalog/models")
NIM_ENDPOINT = ("NIM_BASE_URL", "https://integrate.api.nvidia.com/v1")
OLLAMA_ENDPOINT = ("OLLAMA_HOST", "http://localhost:11434")
AZURE_ENDPOINT = ("AZURE_AI_ENDPOINT", None)  # https://<resource>.services.ai.azure.com/models
CUSTOM_ENDPOINT = ("PHI_COURSE_BASE_URL", None)  # any OpenAI-compatible /v1 URL

# One timeout and retry policy for every SDK client: fail fast when a server is
# missing, wait long enough for a slow answer, and let the SDK retry 429/5xx
# (the openai SDK honours Retry-After itself).
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0
MAX_RETRIES = 2

STANDIN_KEY = "standin-needs-no-key"

# What a key is for, shown when it is missing.
KEY_HELP = {
    "github": "GITHUB_TOKEN (a personal access token with the models:read permission)",
    "azure": "AZURE_AI_ENDPOINT and AZURE_AI_API_KEY (from your Azure AI Foundry deployment)",
    "nim": "NVIDIA_API_KEY (nvapi-..., from build.nvidia.com) or NIM_BASE_URL for a self-hosted NIM",
    "ollama": "nothing: install Ollama and run `ollama serve` (or set OLLAMA_HOST)",
    "custom": "PHI_COURSE_BASE_URL (and PHI_COURSE_API_KEY, PHI_COURSE_MODEL) for a classroom server",
}


@dataclass(frozen=True)
class Route:
    """Where one route points: pass these to the official SDK client."""

    name: str
    base_url: str
    model: str
    api_key: str = field(repr=False)
    live: bool
    notice: str
    phi_model: str = DEFAULT_PHI

    def __repr__(self) -> str:  # the key is shown masked, never whole
        return (
            f"Route(name={self.name!r}, base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key={settings.mask(self.api_key)!r}, live={self.live})"
        )

    @property
    def openai_base_url(self) -> str:
        """The base URL for the OpenAI SDK, which for two routes differs from `base_url`.

        Ollama serves its OpenAI-compatible API under /v1. An Azure AI Foundry
        endpoint in the azure-ai-inference form (https://<resource>.services.ai.azure.com/models)
        has an OpenAI v1 form on the same resource (.../openai/v1/).
        """
        url = self.base_url.rstrip("/")
        if self.name == "ollama" and not url.endswith("/v1"):
            return url + "/v1"
        if self.name == "azure" and self.live and url.endswith("/models"):
            return url.removesuffix("/models") + "/openai/v1/"
        return self.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)

    def openai_client(self):
        """An `openai.OpenAI` client for this route (timeouts and retries set)."""
        from openai import OpenAI

        return OpenAI(base_url=self.openai_base_url, api_key=self.api_key or "ollama",
                      timeout=self.timeout, max_retries=MAX_RETRIES)

    def azure_client(self):
        """An `azure.ai.inference.ChatCompletionsClient` for this route."""
        from azure.ai.inference import ChatCompletionsClient
        from azure.core.credentials import AzureKeyCredential

        return ChatCompletionsClient(endpoint=self.base_url, credential=AzureKeyCredential(self.api_key),
                                     connection_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S)

    def ollama_client(self):
        """An `ollama.Client` for this route."""
        import ollama

        return ollama.Client(host=self.base_url, timeout=self.timeout)


def embedded_for(phi_model: str) -> str:
    """The embedded model that stands in for a Phi model (the default when none is closer)."""
    entry = catalog.FAMILY.get(phi_model)
    if entry and entry.embedded:
        return entry.embedded
    if entry and "image" in entry.modalities:  # pictures need the vision stand-in (lessons/09_phi_vision.ipynb)
        from .vision import NAME as vision_model
        if (models_dir() / vision_model / "config.json").exists():
            return vision_model
    if phi_model in EMBEDDED:
        return phi_model
    return DEFAULT_MODEL


def _standin(name: str, phi_model: str, why: str) -> Route:
    from .standin import ensure_running

    server = ensure_running()
    tiny = embedded_for(phi_model)
    base = server.ollama_url if name == "ollama" else server.base_url
    notice = (f"[{name}] {why}, so this uses the course stand-in: {tiny} (a course-sized model, "
              f"not Phi) at {base}. For the real service set {KEY_HELP[name]}.")
    return Route(name, base, tiny, STANDIN_KEY, False, notice, phi_model)


def _service_model(route: str, phi_model: str) -> tuple[str, str]:
    """The id a live service expects, and a note when the asked-for model is retired there."""
    if route == "custom":
        return settings.get_setting("PHI_COURSE_MODEL", phi_model), ""
    row = catalog.model_id(route, phi_model)
    if not row.retired:
        return row.id, ""
    successor = catalog.phi(phi_model).successor
    if successor:
        try:
            newer = catalog.model_id(route, successor)
            if not newer.retired:
                return newer.id, f" {row.id} is retired on {route} ({row.note}); using {newer.id} instead."
        except KeyError:
            pass
    return row.id, f" {row.id} is retired on {route} ({row.note})."


def _check_github_endpoint(url: str) -> str:
    for old, new in catalog.RETIRED_ENDPOINTS.items():
        if url.rstrip("/").startswith(old):
            raise ValueError(
                f"GITHUB_MODELS_ENDPOINT is {old}, which GitHub removed in October 2025 "
                f"(it answers 'unknown_model'). Set it to {new} or remove the setting."
            )
    return url


def github_catalog_url() -> str:
    """Where GitHub Models lists the models it serves today (lessons/03_github_models.ipynb)."""
    return settings.get_setting(*GITHUB_CATALOG)


def ollama_is_running(host: str, timeout: float = 0.5) -> bool:
    """True if a real Ollama server answers at `host` (the course stand-in does not count)."""
    try:
        reply = httpx.get(host.rstrip("/") + "/api/version", timeout=timeout)
    except httpx.HTTPError:
        return False
    return reply.status_code == 200 and "x-phi-course-standin" not in reply.headers


def resolve(name: str, model: str = DEFAULT_PHI) -> Route:
    """Resolve a route name ('github', 'azure', 'nim', 'ollama', 'custom') to a Route.

    `model` is a course key from `phi_course.catalog.FAMILY`, e.g. 'phi-3.5-mini'.
    """
    name = name.strip().lower()
    if name not in REMOTE_ROUTES:
        raise ValueError(f"Unknown route {name!r}. Choose one of: {', '.join(REMOTE_ROUTES)}.")
    if model not in catalog.FAMILY:
        raise ValueError(f"Unknown model {model!r}. Choose one of: {', '.join(catalog.FAMILY)}.")
    if settings.offline():
        return _standin(name, model, f"{settings.OFFLINE_VAR}=1")

    if name == "github":
        token = settings.get_secret("GITHUB_TOKEN")
        url = _check_github_endpoint(settings.get_setting(*GITHUB_ENDPOINT))
        if not token:
            return _standin(name, model, "no GITHUB_TOKEN is set")
        model_id, note = _service_model(name, model)
        return Route(name, url, model_id, token, True, f"[github] GitHub Models at {url}, model {model_id}.{note}", model)

    if name == "azure":
        key = settings.get_secret("AZURE_AI_API_KEY")
        url = settings.get_setting(*AZURE_ENDPOINT)
        if not (key and url):
            return _standin(name, model, "AZURE_AI_ENDPOINT and AZURE_AI_API_KEY are not both set")
        model_id = settings.get_setting("AZURE_AI_MODEL") or _service_model(name, model)[0]
        return Route(name, url, model_id, key, True, f"[azure] Azure AI Foundry at {url}, model {model_id}.", model)

    if name == "nim":
        key = settings.get_secret("NVIDIA_API_KEY")
        url = settings.get_setting(*NIM_ENDPOINT)
        self_hosted = url.rstrip("/") != NIM_ENDPOINT[1]
        if not (key or self_hosted):
            return _standin(name, model, "no NVIDIA_API_KEY is set")
        model_id, note = _service_model(name, model)
        where = "self-hosted NIM" if self_hosted else "NVIDIA's hosted NIM API"
        return Route(name, url, model_id, key or "not-needed-for-self-hosted", True,
                     f"[nim] {where} at {url}, model {model_id}.{note}", model)

    if name == "ollama":
        host = settings.get_setting(*OLLAMA_ENDPOINT)
        if not host.startswith("http"):
            host = "http://" + host  # OLLAMA_HOST is often given as host:port
        if not ollama_is_running(host):
            return _standin(name, model, f"no Ollama server answers at {host}")
        model_id, note = _service_model(name, model)
        return Route(name, host, model_id, "", True,
                     f"[ollama] Ollama at {host}, model {model_id} (pull it first: `ollama pull {model_id}`).{note}", model)

    url = settings.get_setting(*CUSTOM_ENDPOINT)
    if not url:
        return _standin(name, model, "no PHI_COURSE_BASE_URL is set")
    model_id, _ = _service_model(name, model)
    key = settings.get_secret("PHI_COURSE_API_KEY") or "not-needed"
    return Route(name, url, model_id, key, True, f"[custom] OpenAI-compatible server at {url}, model {model_id}.", model)
