"""Route resolution: which endpoint, model id and key each inference route uses.

Introduced in lessons/00_setup.ipynb; used by every lesson that calls a service.

The learner's code builds the official SDK client itself; this module only
decides *where* it points, from the facts in `phi_course.route_table`. With a
key (or a running server) that is the real service; without one, or when the
service is retired, it is the course stand-in on 127.0.0.1, serving an
embedded model over the same protocol. `Route.notice` says which in one line,
and why: a missing key, a retired service, a retired model and its successor.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx

from phi_course import catalog, route_table, settings
from phi_course.i18n import _
from phi_course.local.embedded import stands_in_for
from phi_course.standin.launcher import HEADER, ensure_running

__all__ = ["CONNECT_TIMEOUT_S", "DEFAULT_PHI", "LISTING_TIMEOUT_S", "MAX_RETRIES", "READ_TIMEOUT_S",
           "REMOTE_ROUTES", "Route", "STANDIN_KEY", "azure_endpoints", "forget_listings", "github_catalog_url",
           "ollama_host", "ollama_is_running", "resolve", "served_ids"]

REMOTE_ROUTES = route_table.REMOTE_ROUTES
DEFAULT_PHI = "phi-3.5-mini"

# One timeout and retry policy for every SDK client: fail fast when a server is
# missing, wait long enough for a slow answer, and let the SDK retry 429/5xx
# (the openai SDK honours Retry-After itself).
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0
MAX_RETRIES = 2
LISTING_TIMEOUT_S = 5.0  # asking a service which models it serves

STANDIN_KEY = "standin-needs-no-key"


@dataclass(frozen=True)
class Route:
    """Where one route points: pass these to the official SDK client."""

    name: str
    base_url: str  # for the route's usual client: the OpenAI SDK, or Ollama's client
    model: str
    api_key: str = field(repr=False)
    live: bool
    notice: str
    phi_model: str = DEFAULT_PHI
    inference_endpoint: str | None = None  # Foundry's azure-ai-inference form, when it differs

    def __repr__(self) -> str:  # keys are shown masked, never whole, even inside a URL
        return (
            f"Route(name={self.name!r}, base_url={settings.mask_url(self.base_url)!r}, model={self.model!r}, "
            f"api_key={settings.mask(self.api_key)!r}, live={self.live})"
        )

    @property
    def openai_base_url(self) -> str:
        """The base URL for the OpenAI SDK: Ollama serves its OpenAI-compatible API under /v1."""
        url = self.base_url.rstrip("/")
        if self.name == "ollama" and not url.endswith("/v1"):
            return url + "/v1"
        return self.base_url

    @property
    def azure_inference_endpoint(self) -> str:
        """The endpoint for the retired azure-ai-inference SDK: the resource's /models form."""
        return self.inference_endpoint or self.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)

    def openai_client(self):
        """An `openai.OpenAI` client for this route (timeouts and retries set)."""
        from openai import OpenAI

        return OpenAI(base_url=self.openai_base_url, api_key=self.api_key or "ollama",
                      timeout=self.timeout, max_retries=MAX_RETRIES)

    def azure_client(self):
        """An `azure.ai.inference.ChatCompletionsClient`: the retired SDK older samples use (it still installs)."""
        from azure.ai.inference import ChatCompletionsClient
        from azure.core.credentials import AzureKeyCredential

        retired = route_table.AZURE_AI_INFERENCE
        warnings.warn(f"azure-ai-inference was retired on {retired.since} ({retired.source}); it still runs, "
                      "but new code should use the OpenAI SDK: route.openai_client().", FutureWarning, stacklevel=2)
        return ChatCompletionsClient(endpoint=self.azure_inference_endpoint,
                                     credential=AzureKeyCredential(self.api_key),
                                     connection_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S)

    def ollama_client(self):
        """An `ollama.Client` for this route."""
        import ollama

        return ollama.Client(host=self.base_url, timeout=self.timeout)


def _standin(name: str, phi_model: str, why: str) -> Route:
    facts = route_table.route(name)
    server = ensure_running()
    tiny = stands_in_for(phi_model)
    base = server.ollama_url if name == "ollama" else server.base_url
    after = (_("For hosted Phi, {needs}.") if facts.status.retired else _("For the real service, {needs}.")).format(
        needs=_(facts.needs))
    notice = f"[{name}] " + _("{why}, so this uses the course stand-in: {model} (a course-sized model, not Phi) at "
                              "{url}. {after}").format(why=why, model=tiny, url=base, after=after)
    return Route(name, base, tiny, STANDIN_KEY, False, notice, phi_model)


def _row(route_name: str, phi_model: str) -> route_table.ModelId:
    try:
        return route_table.model_id(route_name, phi_model)
    except KeyError:
        served = ", ".join(r.model for r in route_table.ids_on(route_name, include_retired=False))
        raise ValueError(
            f"{route_table.route(route_name).label} has no id for {catalog.phi(phi_model).name} in the route "
            f"table. Choose one it serves: {served}.") from None


def _takes(phi_model: str, row: route_table.ModelId) -> bool:
    """True when `row`'s model reads every kind of input `phi_model` reads (pictures, say)."""
    return set(catalog.phi(phi_model).modalities) <= set(catalog.phi(row.model).modalities)


def _current(row: route_table.ModelId, phi_model: str) -> tuple[route_table.ModelId, str]:
    """The row to call for `row` today, and a note when it is not `row` itself."""
    if not row.retired:
        return row, ""
    label = route_table.route(row.route).label
    gone = f" {row.id} was retired on {label} on {row.status.since}"
    named = route_table.successor(row)
    if named and _takes(phi_model, named):
        return named, f"{gone}; using {named.id}, its successor there."
    able = [r for r in route_table.ids_on(row.route, include_retired=False) if _takes(phi_model, r)]
    if able:
        inputs = " and ".join(catalog.phi(named.model).modalities) if named else ""
        why = f" (the successor named there, {named.id}, reads {inputs} only)" if named else ""
        return able[0], f"{gone}{why}; using {able[0].id}, which does."
    return row, f"{gone}, and the table names nothing to use instead: expect an error."


def azure_endpoints(url: str) -> tuple[str, str]:
    """(OpenAI/v1 URL, azure-ai-inference URL) from a Foundry endpoint given in either form."""
    parsed = urlparse(url.strip())
    path = parsed.path.rstrip("/")
    if path.endswith("/v1") and not path.endswith(route_table.AZURE_OPENAI_V1_PATH.rstrip("/")):
        return url, url  # a plain OpenAI-compatible server standing in for Foundry: both SDKs use it as given
    for suffix in (route_table.AZURE_OPENAI_V1_PATH.rstrip("/"), route_table.AZURE_INFERENCE_PATH):
        path = path.removesuffix(suffix)
    root = f"{parsed.scheme}://{parsed.netloc}{path}"
    inference_host = route_table.route("azure").hosts[0]  # the resource's Foundry host serves /models
    host = parsed.hostname or ""
    inference_root = root
    for other in route_table.route("azure").hosts[1:]:
        if host.endswith("." + other):
            inference_root = root.replace(host, host.removesuffix(other) + inference_host, 1)
    return root + route_table.AZURE_OPENAI_V1_PATH, inference_root + route_table.AZURE_INFERENCE_PATH


@functools.lru_cache(maxsize=8)
def _listing(url: str, key: str | None) -> tuple[tuple[str, ...] | None, str]:
    """(ids the server lists at GET /models, or None; why not). Cached per kernel: one request per server."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        reply = httpx.get(url.rstrip("/") + "/models", headers=headers, timeout=LISTING_TIMEOUT_S)
    except httpx.HTTPError as error:
        return None, f"could not reach it ({type(error).__name__})"
    if reply.status_code != 200:
        return None, f"it answered HTTP {reply.status_code}"
    try:
        return tuple(m["id"] for m in reply.json()["data"]), ""
    except (ValueError, KeyError, TypeError):
        return None, "its answer was not a model list"


def served_ids(url: str, key: str | None = None) -> list[str] | None:
    """The model ids an OpenAI-compatible server lists (GET /models), or None when it cannot be read."""
    return None if (found := _listing(url, key)[0]) is None else list(found)


def forget_listings() -> None:
    """Ask the services again on the next resolve (after adding a model to a deployment, say)."""
    _listing.cache_clear()


def _nim_choice(row: route_table.ModelId, phi_model: str, url: str, key: str | None) -> tuple[str, str]:
    """The NIM id to call: the requested one if the service lists it, else a listed successor."""
    listed, why = _listing(url, key)
    if listed is None:
        return row.id, (f" The model list at {settings.mask_url(url)}/models could not be read ({why}); "
                        f"using the table's id ({row.status.describe()}, checked {row.status.checked}).")
    lowered = {i.lower(): i for i in listed}
    if row.id.lower() in lowered:
        return lowered[row.id.lower()], ""
    wanted = catalog.phi(phi_model)
    lineage = [wanted.successor] if wanted.successor else []
    candidates = [r for key_ in lineage for r in route_table.ids_on("nim") if r.model == key_]
    same_kind = [r for r in route_table.ids_on("nim") if r.model != phi_model and catalog.phi(r.model).kind == wanted.kind]
    candidates += sorted(same_kind, key=lambda r: not _takes(phi_model, r))  # every input it reads, if one can
    for other in candidates:
        if other.id.lower() in lowered:
            return lowered[other.id.lower()], (f" {row.id} is not in the list the service gives today; "
                                               f"using {lowered[other.id.lower()]}, which is.")
    phi_listed = [i for i in listed if "phi" in i.lower()]
    return row.id, (f" {row.id} is not in the list the service gives today (Phi ids there: "
                    f"{', '.join(phi_listed) or 'none'}): expect a 404.")


def github_catalog_url() -> str:
    """Where GitHub Models listed its models (retired with the service: lessons/03_github_models.ipynb)."""
    return settings.get_setting(*route_table.GITHUB_CATALOG)


def ollama_is_running(host: str, timeout: float = 0.5) -> bool:
    """True if a real Ollama server answers at `host` (the course stand-in does not count)."""
    try:
        reply = httpx.get(host.rstrip("/") + "/api/version", timeout=timeout)
    except httpx.HTTPError:
        return False
    return reply.status_code == 200 and HEADER not in reply.headers  # httpx headers ignore case


def ollama_host() -> str:
    """Where Ollama is expected: its endpoint variable (often written host:port) or its default."""
    facts = route_table.route("ollama")
    host = settings.get_setting(facts.endpoint_var, facts.endpoint)
    return host if host.startswith("http") else "http://" + host


def _github(model: str) -> Route:
    facts = route_table.route("github")
    token = settings.get_secret(facts.key_var)
    url = settings.get_setting(facts.endpoint_var)
    gone = facts.status
    if url:
        old = route_table.retired_endpoint(url)
        if old:
            return _standin("github", model, _("{var} is {url}, which was retired on {date}").format(
                var=facts.endpoint_var, url=old[0], date=old[1].since))
        row = _row("github", model)
        notice = "[github] " + _("{var} points the GitHub Models code at {url}, model {model}. (GitHub Models "
                                 "itself was retired on {date}.)").format(var=facts.endpoint_var,
                                                                           url=settings.mask_url(url),
                                                                           model=row.id, date=gone.since)
        return Route("github", url, row.id, token or "not-needed", True, notice, model)
    why = (_("GitHub Models was retired on {date} (every request there answers 410 Gone; your {var} is not used)")
           if token else _("GitHub Models was retired on {date} (every request there answers 410 Gone)")).format(
        date=gone.since, var=facts.key_var)
    return _standin("github", model, why)


def _azure(model: str) -> Route:
    facts = route_table.route("azure")
    key, url = settings.get_secret(facts.key_var), settings.get_setting(facts.endpoint_var)
    if not (key and url):
        return _standin("azure", model, _("{vars} are not both set").format(vars=_(" and ").join(facts.key_vars)))
    row, note = _current(_row("azure", model), model)
    variable = facts.model_vars[catalog.phi(row.model).kind]
    deployment = settings.get_setting(variable)
    if deployment:
        note += _(" Deployment {name} from {var}.").format(name=deployment, var=variable)
    openai_url, inference_url = azure_endpoints(url)
    notice = "[azure] " + _("{label} at {url}, model {model}.").format(
        label=facts.label, url=settings.mask_url(openai_url), model=deployment or row.id) + note
    return Route("azure", openai_url, deployment or row.id, key, True, notice, model, inference_url)


def _nim(model: str) -> Route:
    facts = route_table.route("nim")
    key = settings.get_secret(facts.key_var)
    url = settings.get_setting(facts.endpoint_var, facts.endpoint)
    self_hosted = url.rstrip("/") != facts.endpoint
    if not (key or self_hosted):
        return _standin("nim", model, _("no {var} is set").format(var=facts.key_var))
    model_id, note = _nim_choice(_row("nim", model), model, url, key)
    where = _("self-hosted NIM") if self_hosted else _("NVIDIA's hosted NIM API")
    return Route("nim", url, model_id, key or "not-needed-for-self-hosted", True,
                 "[nim] " + _("{label} at {url}, model {model}.").format(label=where, url=settings.mask_url(url),
                                                                          model=model_id) + note, model)


def _ollama(model: str) -> Route:
    host = ollama_host()
    if not ollama_is_running(host):
        return _standin("ollama", model, _("no Ollama server answers at {url}").format(url=settings.mask_url(host)))
    row, note = _current(_row("ollama", model), model)
    return Route("ollama", host, row.id, "", True,
                 "[ollama] " + _("Ollama at {url}, model {model} (pull it first: `ollama pull {model}`).").format(
                     url=settings.mask_url(host), model=row.id) + note, model)


def _custom(model: str) -> Route:
    facts = route_table.route("custom")
    url = settings.get_setting(facts.endpoint_var)
    if not url:
        return _standin("custom", model, _("no {var} is set").format(var=facts.endpoint_var))
    model_id = settings.get_setting(facts.model_vars["any"], model)
    key = settings.get_secret(facts.key_var) or "not-needed"
    return Route("custom", url, model_id, key, True,
                 "[custom] " + _("OpenAI-compatible server at {url}, model {model}.").format(
                     url=settings.mask_url(url), model=model_id), model)


_RESOLVERS = {"github": _github, "azure": _azure, "nim": _nim, "ollama": _ollama, "custom": _custom}


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
    return _RESOLVERS[name](model)
