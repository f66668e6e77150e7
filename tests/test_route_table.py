"""The route table is the one place for service facts, and every fact in it is dated and sourced."""

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from phi_course import catalog, route_table

PACKAGE = Path(route_table.__file__).parent
# Words that happen to equal a service id but mean something else in these files.
NOT_SERVICE_IDS = {
    ("memory.py", "phi3"): "the transformers model_type of Phi-3, not the Ollama tag",
}


def test_every_status_has_a_source_and_a_date():
    assert route_table.stale_statuses() == []


def test_a_status_without_a_date_or_source_is_caught(monkeypatch):
    broken = route_table.ModelId("azure", "phi-4", "Phi-4", route_table.Status(route_table.RETIRED, "no url"))
    monkeypatch.setattr(route_table, "MODEL_IDS", [*route_table.MODEL_IDS, broken])
    found = route_table.stale_statuses()
    assert "azure Phi-4: no source URL" in found and "azure Phi-4: retired without a date" in found


def test_rows_name_known_models_and_routes_once():
    seen = set()
    for row in route_table.MODEL_IDS:
        assert row.model in catalog.FAMILY, row
        assert row.route in route_table.ROUTES, row
        assert (row.route, row.model) not in seen, row
        seen.add((row.route, row.model))


def test_foundry_as_of_the_check():
    retired = {r.model: r for r in route_table.ids_on("azure") if r.retired}
    assert {"phi-3-mini", "phi-3-medium", "phi-3.5-mini", "phi-3.5-moe", "phi-3.5-vision"} <= set(retired)
    assert {r.status.since for r in retired.values()} == {"2025-08-30"}
    served = {r.id for r in route_table.ids_on("azure", include_retired=False)}
    assert served == {"Phi-4", "Phi-4-mini-instruct", "Phi-4-mini-reasoning", "Phi-4-multimodal-instruct",
                      "Phi-4-reasoning"}
    for row in retired.values():  # the successor Microsoft names is one Foundry serves
        assert route_table.successor(row).id in served


def test_github_models_is_retired_with_every_id():
    github = route_table.route("github")
    assert github.status.retired and github.status.since == "2026-07-30"
    assert all(r.retired for r in route_table.ids_on("github"))
    assert route_table.ids_on("github", include_retired=False) == []
    assert route_table.retired_endpoint(github.endpoint)[1].since == "2026-07-30"
    assert route_table.GITHUB_GONE_STATUS == 410


def test_lookups_give_clear_errors():
    with pytest.raises(KeyError, match="Routes"):
        route_table.model_id("nowhere", "phi-3-mini")
    with pytest.raises(KeyError, match="serves"):
        route_table.model_id("ollama", "phi-3.5-moe")
    assert route_table.find_id("MICROSOFT/PHI-3.5-MINI-INSTRUCT", "github").route == "github"
    assert route_table.route_of_host("https://res.services.ai.azure.com/openai/v1/") == "azure"
    assert route_table.route_of_host("http://127.0.0.1:8000/v1") is None


def _package_sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "route_table.py":
            yield path, path.read_text(encoding="utf-8")


def _forbidden() -> dict[str, re.Pattern]:
    """Every endpoint host, key variable and service id the table holds, as a pattern to search for."""
    words: dict[str, re.Pattern] = {}
    urls = [f.endpoint for f in route_table.ROUTES.values() if f.endpoint]
    urls += [old for f in route_table.ROUTES.values() for old in f.retired_endpoints]
    urls += [route_table.GITHUB_CATALOG[1], route_table.NIM_SEED_VISION_URL, route_table.NIM_SELF_HOSTED_URL]
    for url in urls:
        netloc = urlparse(url).netloc
        words[netloc] = re.compile(re.escape(netloc))
    for facts in route_table.ROUTES.values():
        for host in facts.hosts:
            words[host] = re.compile(re.escape(host))
    for name in route_table.key_variables():
        words[name] = re.compile(rf"\b{re.escape(name)}\b")
    names = {m.name for m in catalog.FAMILY.values()}
    ids = [row.id for row in route_table.MODEL_IDS] + list(route_table.HUB_VARIANTS.values())
    for id_ in ids:
        if id_ not in names:  # Foundry's "Phi-4" is also the model's name: prose may say it
            words[id_] = re.compile(rf"(?<![\w.-]){re.escape(id_)}(?![\w.-])")
    return words


def test_no_endpoint_key_variable_or_service_id_is_written_outside_the_table():
    found = []
    forbidden = _forbidden()
    for path, text in _package_sources():
        for word, pattern in forbidden.items():
            if pattern.search(text) and (path.name, word) not in NOT_SERVICE_IDS:
                line = text[: pattern.search(text).start()].count("\n") + 1
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {word}")
    assert found == [], "write these through phi_course.route_table:\n" + "\n".join(found)


def test_the_check_would_catch_a_stray_literal(tmp_path):
    forbidden = _forbidden()
    stray = 'BASE = "https://integrate.api.nvidia.com/v1"  # and model="microsoft/phi-3.5-moe-instruct"'
    hits = {w for w, p in forbidden.items() if p.search(stray)}
    assert {"integrate.api.nvidia.com", "microsoft/phi-3.5-moe-instruct"} <= hits
    assert not forbidden["phi3"].search('"tiny-phi3-mini"')


def test_status_table_lists_every_row_with_its_source():
    table = route_table.status_table()
    assert len(table) == len(route_table.MODEL_IDS) + len(route_table.ROUTES) + 1
    assert all(row["source"].startswith("https://") and row["checked"] for row in table)
