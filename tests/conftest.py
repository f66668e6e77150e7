"""Shared fixtures: one course stand-in for the whole test session."""

import os

import pytest

from phi_course import embedded, settings
from phi_course.standin import launcher

# Every variable that points a route at a real service (README, "Keys"); the stand-in URL is not one.
ROUTE_VARS = ["GITHUB_TOKEN", "GITHUB_MODELS_ENDPOINT", "AZURE_AI_ENDPOINT", "AZURE_AI_API_KEY", "AZURE_AI_MODEL",
              "NVIDIA_API_KEY", "NIM_BASE_URL", "OLLAMA_HOST", "PHI_COURSE_BASE_URL", "PHI_COURSE_API_KEY",
              "PHI_COURSE_MODEL", settings.OFFLINE_VAR]


@pytest.fixture
def keyless(monkeypatch):
    """A learner with no keys and no .env: every route resolves to the course stand-in."""
    for name in ROUTE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    settings.reload()


@pytest.fixture(scope="session")
def standin():
    """The session's stand-in, also published in PHI_COURSE_STANDIN_URL so that
    notebook kernels and subprocesses started by the tests reuse it."""
    if not (embedded.models_dir() / embedded.DEFAULT_MODEL / "config.json").exists():
        pytest.fail(f"no embedded models in {embedded.models_dir()}: run `make models`")
    before = os.environ.get(launcher.URL_VAR)
    server = launcher.ensure_running()
    os.environ[launcher.URL_VAR] = server.url
    yield server
    if before is None:
        os.environ.pop(launcher.URL_VAR, None)
    else:
        os.environ[launcher.URL_VAR] = before
