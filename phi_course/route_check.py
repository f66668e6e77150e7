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

from phi_course import route_table, routes, settings, tables
from phi_course.i18n import N_, _
from phi_course.local.embedded import EMBEDDED, models_dir, on_disk

__all__ = ["Check", "GONE", "PROBE_TIMEOUT_S", "Report", "doctor", "probe_routes"]

PROBE_TIMEOUT_S = 3.0
GONE = N_("it answered 410 Gone: what it served is retired")
# How each status shows in the table (Check.status itself stays the English word code compares).
STATUS_LABELS = {"live": N_("live"), "stand-in": N_("stand-in"), "retired": N_("retired"),
                 "unavailable": N_("unavailable")}


@dataclass(frozen=True)
class Check:
    name: str  # the route or engine, as code names it (the table shows it translated)
    status: str  # "live", "stand-in", "retired" or "unavailable"
    detail: str  # what it uses, or why not
    todo: str  # what to set or do for the real thing ("" when nothing)


def _probe(url: str, headers: dict[str, str] | None = None) -> str | None:
    """None if `url` answers without an auth error, else a short reason."""
    try:
        reply = httpx.get(url, headers=headers or {}, timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return _("cannot reach it ({error})").format(error=type(exc).__name__)
    if reply.status_code in (401, 403):
        return _("the key was refused (HTTP {status})").format(status=reply.status_code)
    if reply.status_code == 410:
        return GONE
    return None


def _bearer(key: str | None) -> dict[str, str] | None:
    return {"Authorization": f"Bearer {key}"} if key else None


def _github(facts: route_table.RouteFacts, probe: bool) -> Check:
    token, url = settings.get_secret(facts.key_var), settings.get_setting(facts.endpoint_var)
    if url and not route_table.retired_endpoint(url):
        why = probe and _probe(url.rstrip("/") + "/models", _bearer(token))
        if why == GONE:
            return Check(facts.name, "retired", f"{facts.endpoint_var}={settings.mask_url(url)}: {_(why)} "
                         + _("({label} was retired on {since})").format(label=facts.label, since=facts.status.since),
                         _("unset {var}, or point it at a server that serves Phi today").format(var=facts.endpoint_var))
        if why:
            return Check(facts.name, "unavailable", f"{facts.endpoint_var}={settings.mask_url(url)}: {_(why)}",
                         _("start that server, or fix or unset the variable"))
        return Check(facts.name, "live", _("{var} points the GitHub Models code at {url}").format(
            var=facts.endpoint_var, url=settings.mask_url(url)), "")
    gone = facts.status
    detail = _("{label} was retired on {since}; the stand-in runs the same code").format(
        label=facts.label, since=gone.since)
    if token:
        detail += _(" ({var} {key} is set but has nothing to call)").format(var=facts.key_var,
                                                                           key=settings.mask(token))
    if url:
        detail += _("; {var} names a retired address").format(var=facts.endpoint_var)
    return Check(facts.name, "retired", detail, _("for hosted Phi, {needs}").format(needs=_(facts.needs)))


def _azure(facts: route_table.RouteFacts, probe: bool) -> Check:
    key, url = settings.get_secret(facts.key_var), settings.get_setting(facts.endpoint_var)
    if not (key and url):
        return Check(facts.name, "stand-in", _("{vars} not both set").format(vars=" / ".join(facts.key_vars)),
                     _(facts.needs))
    openai_url = routes.azure_endpoints(url)[0]
    why = probe and _probe(openai_url + "models", _bearer(key))
    if why:
        return Check(facts.name, "unavailable", _("{label} at {url}: {why}").format(
            label=facts.label, url=settings.mask_url(openai_url), why=_(why)),
                     _("check the key, the endpoint and the network"))
    named = [f"{var}={value}" for var in facts.model_vars.values() if (value := settings.get_setting(var))]
    return Check(facts.name, "live", _("{label} at {url} (key {key})").format(
        label=facts.label, url=settings.mask_url(openai_url),
        key=settings.mask(key) + ("; " + ", ".join(named) if named else "")), "")


def _nim(facts: route_table.RouteFacts, probe: bool) -> Check:
    key = settings.get_secret(facts.key_var)
    url = settings.get_setting(facts.endpoint_var, facts.endpoint)
    if not (key or url.rstrip("/") != facts.endpoint):
        return Check(facts.name, "stand-in", _("no {var}").format(var=facts.key_var), _(facts.needs))
    if not probe:
        return Check(facts.name, "live", _("NIM at {url}").format(url=settings.mask_url(url)), "")
    listed = routes.served_ids(url, key)
    if listed is None:
        why = _probe(url.rstrip("/") + "/models", _bearer(key)) or _("its model list cannot be read")
        return Check(facts.name, "unavailable", _("NIM at {url}: {why}").format(url=settings.mask_url(url), why=_(why)),
                     _("check the key, the URL and the network"))
    phi = [i for i in listed if "phi" in i.lower()]
    return Check(facts.name, "live", _("NIM at {url}; Phi ids it lists: {ids}").format(
        url=settings.mask_url(url), ids=", ".join(phi) or _("none")), "")


def _ollama(facts: route_table.RouteFacts, probe: bool) -> Check:
    host = routes.ollama_host()
    if routes.ollama_is_running(host):
        return Check(facts.name, "live", _("Ollama at {url}").format(url=settings.mask_url(host)), "")
    return Check(facts.name, "stand-in", _("no Ollama server at {url}").format(url=settings.mask_url(host)),
                 _(facts.needs))


def _custom(facts: route_table.RouteFacts, probe: bool) -> Check:
    url = settings.get_setting(facts.endpoint_var)
    if not url:
        return Check(facts.name, "stand-in", _("no {var}").format(var=facts.endpoint_var), _(facts.needs))
    why = probe and _probe(url.rstrip("/") + "/models", _bearer(settings.get_secret(facts.key_var)))
    if why:
        return Check(facts.name, "unavailable", f"{settings.mask_url(url)}: {_(why)}",
                     _("start the classroom server or fix the URL"))
    return Check(facts.name, "live", _("OpenAI-compatible server at {url}").format(url=settings.mask_url(url)), "")


_CHECKS = {"github": _github, "azure": _azure, "nim": _nim, "ollama": _ollama, "custom": _custom}


def _remote(name: str, probe: bool) -> Check:
    facts = route_table.route(name)
    if settings.offline():
        return Check(name, "stand-in", _("{var}=1 forces the stand-in").format(var=settings.OFFLINE_VAR), "")
    return _CHECKS[name](facts, probe)


def _local() -> list[Check]:
    checks = []
    missing = [n for n in EMBEDDED if not on_disk(n)]
    checks.append(Check(N_("embedded models"), "unavailable" if missing else "live",
                        _("missing: {names}").format(names=", ".join(missing)) if missing
                        else _("{names} in {folder}").format(names=", ".join(EMBEDDED), folder=models_dir()),
                        _("run `make models`") if missing else ""))
    try:
        import torch

        gpu = torch.cuda.is_available()
        device = torch.cuda.get_device_name(0) if gpu else _("CPU only")
        checks.append(Check("transformers", "live", f"torch {torch.__version__}, {device}",
                            "" if gpu else _("a GPU with 8+ GB runs the real Phi-3.5-mini in bf16")))
    except ImportError:
        checks.append(Check("transformers", "unavailable", _("torch is not installed"), _("run `make lab`")))
    try:
        version = importlib.metadata.version("onnxruntime-genai")
        checks.append(Check("onnxruntime-genai", "live", _("version {version}").format(version=version), ""))
    except importlib.metadata.PackageNotFoundError:
        checks.append(Check("onnxruntime-genai", "unavailable", _("not installed"), "pip install onnxruntime-genai"))
    return checks


class Report(list):
    """The doctor's rows; shows as a table in a notebook and as text in a shell."""

    @property
    def caption(self) -> str:
        return _("Route facts checked on {date}; `python -m phi_course routes` lists them with their "
                 "sources.").format(date=route_table.CHECKED)

    @staticmethod
    def headings() -> tuple[str, str, str, str]:
        return _("route / engine"), _("status"), _("detail"), _("to use the real thing")

    def __str__(self) -> str:
        rows = [self.headings()]
        rows += [(_(c.name), _(STATUS_LABELS[c.status]), c.detail, c.todo) for c in self]
        widths = [max(tables.width(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(tables.ljust(cell, w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        return "\n".join([*lines, self.caption])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {"live": "#1a7f37", "stand-in": "#9a6700", "retired": "#57606a", "unavailable": "#cf222e"}
        body = "".join(
            f"<tr><td>{html.escape(_(c.name))}</td><td style='color:{colour[c.status]}'><b>{_(STATUS_LABELS[c.status])}</b></td>"
            f"<td>{html.escape(c.detail)}</td><td>{html.escape(c.todo)}</td></tr>"
            for c in self
        )
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headings())
        return (f"<table><caption>{html.escape(self.caption)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")


def doctor(probe: bool = True) -> Report:
    """One row per remote route and local engine: live, stand-in or unavailable, and why."""
    settings.reload()
    routes.forget_listings()
    return Report([_remote(name, probe) for name in routes.REMOTE_ROUTES] + _local())


def _listed_by_services() -> dict[str, tuple[list[str] | None, str]]:
    """route -> (ids its live service lists now, or None; what was asked), for routes with keys here."""
    asked: dict[str, tuple[list[str] | None, str]] = {}
    nim = route_table.route("nim")
    key, url = settings.get_secret(nim.key_var), settings.get_setting(nim.endpoint_var, nim.endpoint)
    if key or url.rstrip("/") != nim.endpoint:
        asked["nim"] = (routes.served_ids(url, key), f"GET {settings.mask_url(url)}/models")
    azure = route_table.route("azure")
    key, url = settings.get_secret(azure.key_var), settings.get_setting(azure.endpoint_var)
    if key and url:
        openai_url = routes.azure_endpoints(url)[0]
        asked["azure"] = (routes.served_ids(openai_url, key), f"GET {settings.mask_url(openai_url)}models")
    github = route_table.route("github")
    token = settings.get_secret(github.key_var)
    if token:
        catalog_url = routes.github_catalog_url()
        asked["github"] = (routes.served_ids(catalog_url.removesuffix("/models"), token), f"GET {catalog_url}")
    return asked


def probe_routes():
    """What the live services list today against what the route table says (routes with keys here only).

    `python -m phi_course routes --probe`. A row is a difference: an id the table
    counts as served that the service no longer lists, a retired one it still
    lists, or a Phi id it lists that the table does not know.
    """
    from phi_course.tables import Table

    settings.reload()
    routes.forget_listings()
    rows = []
    for name, (listed, asked) in _listed_by_services().items():
        if listed is None:
            rows.append({"route": name, "id": "-", "table": "-", "service": f"could not read the list ({asked})"})
            continue
        lowered = {i.lower() for i in listed}
        for row in route_table.ids_on(name):
            there = row.id.lower() in lowered
            if there == row.retired or (row.status.state == route_table.UNVERIFIED):
                rows.append({"route": name, "id": row.id, "table": row.status.describe(),
                             "service": "lists it" if there else "does not list it"})
        known = {r.id.lower() for r in route_table.ids_on(name)}
        rows += [{"route": name, "id": i, "table": "not in the table", "service": "lists it"}
                 for i in listed if "phi" in i.lower() and i.lower() not in known]
    title = (f"Route table (checked {route_table.CHECKED}) against the services, {len(rows)} differences"
             if rows or _listed_by_services() else "No route has a key here: nothing to ask")
    return Table(rows, title)
