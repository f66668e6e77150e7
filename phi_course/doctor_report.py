"""`doctor()`: which routes and local engines work here, and why not.

Introduced in lessons/00_setup.ipynb. Also `python -m phi_course doctor`.

It reports without starting anything: no stand-in server, no model load.
With `probe=True` it makes one short request to each configured service, so
a key that is set but does not work (or no network) shows up here, not in the
middle of a lesson.
"""

from __future__ import annotations

import html
import importlib.metadata
from dataclasses import dataclass

import httpx

from . import routes, settings
from .embedded import EMBEDDED, models_dir

PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "live", "stand-in" or "unavailable"
    detail: str  # what it uses, or why not
    todo: str  # what to set or do for the real thing ("" when nothing)


def _probe(url: str, headers: dict[str, str] | None = None) -> str | None:
    """None if `url` answers without an auth error, else a short reason."""
    try:
        reply = httpx.get(url, headers=headers or {}, timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return f"cannot reach it ({type(exc).__name__})"
    if reply.status_code in (401, 403):
        return f"the key was refused (HTTP {reply.status_code})"
    return None


def _remote(name: str, probe: bool) -> Check:
    help_ = routes.KEY_HELP[name]
    if settings.offline():
        return Check(name, "stand-in", f"{settings.OFFLINE_VAR}=1 forces the stand-in", "")
    if name == "github":
        token = settings.get_secret("GITHUB_TOKEN")
        if not token:
            return Check(name, "stand-in", "no GITHUB_TOKEN", help_)
        url = settings.get_setting(*routes.GITHUB_ENDPOINT)
        why = probe and _probe(routes.github_catalog_url(), {"Authorization": f"Bearer {token}"})
        if why:
            return Check(name, "unavailable", f"GITHUB_TOKEN {settings.mask(token)} is set but {why}",
                         "check the token has models:read and that you are online")
        return Check(name, "live", f"GitHub Models at {url} (token {settings.mask(token)})", "")
    if name == "azure":
        key, url = settings.get_secret("AZURE_AI_API_KEY"), settings.get_setting(*routes.AZURE_ENDPOINT)
        if not (key and url):
            return Check(name, "stand-in", "AZURE_AI_ENDPOINT / AZURE_AI_API_KEY not set", help_)
        return Check(name, "live", f"Azure AI Foundry at {url} (key {settings.mask(key)})", "")
    if name == "nim":
        key, url = settings.get_secret("NVIDIA_API_KEY"), settings.get_setting(*routes.NIM_ENDPOINT)
        self_hosted = url.rstrip("/") != routes.NIM_ENDPOINT[1]
        if not (key or self_hosted):
            return Check(name, "stand-in", "no NVIDIA_API_KEY", help_)
        why = probe and _probe(url.rstrip("/") + "/models", {"Authorization": f"Bearer {key}"} if key else None)
        if why:
            return Check(name, "unavailable", f"NIM at {url}: {why}", "check the key, the URL and the network")
        return Check(name, "live", f"NIM at {url}", "")
    if name == "ollama":
        host = settings.get_setting(*routes.OLLAMA_ENDPOINT)
        host = host if host.startswith("http") else "http://" + host
        if routes.ollama_is_running(host):
            return Check(name, "live", f"Ollama at {host}", "")
        return Check(name, "stand-in", f"no Ollama server at {host}", help_)
    url = settings.get_setting(*routes.CUSTOM_ENDPOINT)
    if not url:
        return Check(name, "stand-in", "no PHI_COURSE_BASE_URL", help_)
    why = probe and _probe(url.rstrip("/") + "/models")
    if why:
        return Check(name, "unavailable", f"{url}: {why}", "start the classroom server or fix the URL")
    return Check(name, "live", f"OpenAI-compatible server at {url}", "")


def _local() -> list[Check]:
    checks = []
    missing = [n for n in EMBEDDED if not (models_dir() / n / "config.json").exists()]
    checks.append(Check("embedded models", "unavailable" if missing else "live",
                        f"missing: {', '.join(missing)}" if missing else f"{', '.join(EMBEDDED)} in {models_dir()}",
                        "run `make models`" if missing else ""))
    try:
        import torch

        gpu = torch.cuda.is_available()
        device = torch.cuda.get_device_name(0) if gpu else "CPU only"
        checks.append(Check("transformers", "live", f"torch {torch.__version__}, {device}",
                            "" if gpu else "a GPU with 8+ GB runs the real Phi-3.5-mini in bf16"))
    except ImportError:
        checks.append(Check("transformers", "unavailable", "torch is not installed", "run `make lab`"))
    try:
        version = importlib.metadata.version("onnxruntime-genai")
        checks.append(Check("onnxruntime-genai", "live", f"version {version}", ""))
    except importlib.metadata.PackageNotFoundError:
        checks.append(Check("onnxruntime-genai", "unavailable", "not installed", "pip install onnxruntime-genai"))
    return checks


class Report(list):
    """The doctor's rows; shows as a table in a notebook and as text in a shell."""

    def __str__(self) -> str:
        rows = [("route / engine", "status", "detail", "to use the real thing")]
        rows += [(c.name, c.status, c.detail, c.todo) for c in self]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {"live": "#1a7f37", "stand-in": "#9a6700", "unavailable": "#cf222e"}
        body = "".join(
            f"<tr><td>{html.escape(c.name)}</td><td style='color:{colour[c.status]}'><b>{c.status}</b></td>"
            f"<td>{html.escape(c.detail)}</td><td>{html.escape(c.todo)}</td></tr>"
            for c in self
        )
        return ("<table><thead><tr><th>route / engine</th><th>status</th><th>detail</th>"
                f"<th>to use the real thing</th></tr></thead><tbody>{body}</tbody></table>")


def doctor(probe: bool = True) -> Report:
    """One row per remote route and local engine: live, stand-in or unavailable, and why."""
    settings.reload()
    return Report([_remote(name, probe) for name in routes.REMOTE_ROUTES] + _local())
