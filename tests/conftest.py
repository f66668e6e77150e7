"""Shared fixtures: one course stand-in for the whole test session."""

import os

import pytest

from phi_course import embedded
from phi_course.standin import launcher


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
