"""doctor() reports every route and engine, and why, without leaking keys."""

from phi_course import doctor_report as doctor_module
from phi_course import settings
from phi_course.routes import REMOTE_ROUTES
from tests.recording_server import recording_server

TOKEN = "ghp_canaryDOCTOR0123456789abcdef"


def test_without_keys_every_route_is_a_standin(monkeypatch):
    for key in ("GITHUB_TOKEN", "AZURE_AI_API_KEY", "NVIDIA_API_KEY", "PHI_COURSE_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    report = doctor_module.doctor(probe=False)
    by_name = {c.name: c for c in report}
    assert set(REMOTE_ROUTES) <= set(by_name)
    assert all(by_name[r].status == "stand-in" for r in REMOTE_ROUTES)
    assert "models:read" in by_name["github"].todo
    assert by_name["embedded models"].status == "live"
    assert "<table>" in report._repr_html_() and "github" in str(report)


def test_a_refused_key_is_reported_and_masked(monkeypatch):
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", "http://127.0.0.1:9/inference")
    row = next(c for c in doctor_module.doctor(probe=True) if c.name == "github")
    assert row.status == "unavailable" and "cannot reach" in row.detail
    assert TOKEN not in row.detail and "ghp_" in row.detail


def test_a_reachable_custom_server_is_live(monkeypatch):
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    with recording_server() as (url, seen):
        monkeypatch.setenv("PHI_COURSE_BASE_URL", url + "/v1")
        row = next(c for c in doctor_module.doctor(probe=True) if c.name == "custom")
    assert row.status == "live" and seen[-1][1] == "/v1/models"


def test_doctor_can_be_called_twice_from_the_package(monkeypatch):
    import phi_course

    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    assert len(phi_course.doctor(probe=False)) == len(phi_course.doctor(probe=False))
