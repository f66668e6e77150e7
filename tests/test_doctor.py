"""doctor() reports every route and engine, and why, without leaking keys."""

from phi_course import route_check, route_table
from phi_course.routes import REMOTE_ROUTES
from tests.recording_server import recording_server

TOKEN = "ghp_canaryDOCTOR0123456789abcdef"


def test_without_keys_every_route_is_a_standin_and_github_is_retired(keyless, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    report = route_check.doctor(probe=False)
    by_name = {c.name: c for c in report}
    assert set(REMOTE_ROUTES) <= set(by_name)
    assert all(by_name[r].status == "stand-in" for r in REMOTE_ROUTES if r != "github")
    assert by_name["github"].status == "retired" and "retired on 2026-07-30" in by_name["github"].detail
    assert "Microsoft Foundry" in by_name["github"].todo
    assert by_name["embedded models"].status == "live"
    assert f"checked on {route_table.CHECKED}" in str(report)  # the date the route facts were checked
    assert "<table>" in report._repr_html_() and route_table.CHECKED in report._repr_html_()


def test_a_github_token_is_reported_unused_and_masked(keyless, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    row = next(c for c in route_check.doctor(probe=True) if c.name == "github")
    assert row.status == "retired" and "set but has nothing to call" in row.detail
    assert TOKEN not in row.detail and "ghp_" in row.detail


def test_an_unreachable_override_is_reported(keyless, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", "http://127.0.0.1:9/inference")
    row = next(c for c in route_check.doctor(probe=True) if c.name == "github")
    assert row.status == "unavailable" and "cannot reach" in row.detail


def test_a_reachable_custom_server_is_live(keyless, monkeypatch):
    with recording_server() as (url, seen):
        monkeypatch.setenv("PHI_COURSE_BASE_URL", url + "/v1")
        row = next(c for c in route_check.doctor(probe=True) if c.name == "custom")
    assert row.status == "live" and seen[-1][1] == "/v1/models"


def test_a_key_pasted_into_a_url_is_masked(keyless, monkeypatch):
    secret = "sk-pastedIntoTheUrl0123456789"
    monkeypatch.setenv("PHI_COURSE_BASE_URL", f"http://me:{secret}@127.0.0.1:9/v1")
    monkeypatch.setenv("AZURE_AI_ENDPOINT", f"https://res.services.ai.azure.com/models?api-key={secret}")
    monkeypatch.setenv("AZURE_AI_API_KEY", secret)
    assert secret not in str(route_check.doctor(probe=False))


def test_probe_routes_lists_what_differs_from_the_table(keyless, monkeypatch):
    from phi_course.standin.faults import FaultServer

    assert "nothing to ask" in route_check.probe_routes().title
    with FaultServer() as server:
        monkeypatch.setenv("NIM_BASE_URL", server.url("nim"))
        rows = route_check.probe_routes()
    by_id = {r["id"]: r for r in rows}
    listed = [r.id for r in route_table.ids_on("nim") if r.status.since]
    assert all(by_id[i]["service"] == "lists it" for i in listed)  # unverified in the table, listed today
    unlisted = route_table.model_id("nim", "phi-3.5-mini").id
    assert by_id[unlisted]["service"] == "does not list it"


def test_doctor_can_be_called_twice_from_the_package(keyless):
    import phi_course

    assert len(phi_course.doctor(probe=False)) == len(phi_course.doctor(probe=False))
