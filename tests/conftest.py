"""Shared fixtures: one course stand-in for the whole test session, shared by every xdist worker."""

import os
from pathlib import Path

import pytest

from phi_course import route_table, settings
from phi_course.local import embedded
from phi_course.standin import launcher

# Every variable that points a route at a real service (the route table's), and the offline switch.
ROUTE_VARS = [*route_table.key_variables(), settings.OFFLINE_VAR]


# Roughly how long the slowest tests take here (seconds, from `make test`'s --durations): run
# first, so two workers finish together instead of one waiting on a long test it drew last.
SLOW_FIRST = {"test_browser.py": 120, "test_book.py": 60,
              "test_canary.py::test_lesson_runs_keyless_then_with_keys_and_leaks_nothing[11": 60,
              "test_canary.py::test_chinese_lesson_runs_keyless_and_speaks_chinese[zh/11": 30,
              "test_canary.py::test_lesson_runs_keyless_then_with_keys_and_leaks_nothing[13": 40,
              "test_canary.py::test_lesson_runs_keyless_then_with_keys_and_leaks_nothing[09": 35,
              "test_canary.py::test_lesson_runs_keyless_then_with_keys_and_leaks_nothing[08": 30,
              "test_canary.py": 20, "test_onnx.py": 15, "test_models.py": 15, "test_vision": 10,
              "test_faults.py": 8, "test_hub.py": 8, "test_lesson_answers.py": 5, "test_solutions": 5,
              "test_adapt.py": 5}


# Where the shared stand-in writes its log (tests only: a worker reads it, the controller owns it).
SHARED_LOG_VAR = "PHI_COURSE_TEST_STANDIN_LOG"


def pytest_configure(config):
    """In the xdist controller, start the stand-in before the workers, which inherit its address."""
    if not hasattr(config, "workerinput") and config.getoption("numprocesses", default=None):
        shared = launcher.ensure_running()
        os.environ[launcher.URL_VAR] = shared.url
        if shared.log_path is not None:  # so every worker can scan the log for keys
            os.environ[SHARED_LOG_VAR] = str(shared.log_path)


def pytest_collection_modifyitems(items):
    def weight(item) -> int:
        return max((s for key, s in SLOW_FIRST.items() if key in item.nodeid), default=0)

    items.sort(key=weight, reverse=True)  # stable: equal weights keep their order


@pytest.fixture
def keyless(monkeypatch):
    """A learner with no keys and no .env: every route resolves to the course stand-in."""
    for name in ROUTE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    settings.reload()


@pytest.fixture
def no_ollama(monkeypatch):
    """No Ollama on this machine, whatever runs here: the ollama route points at the discard port."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing listens on port 9


@pytest.fixture(scope="session")
def standin():
    """The session's stand-in, also published in PHI_COURSE_STANDIN_URL so that
    notebook kernels and subprocesses started by the tests reuse it."""
    if not (embedded.models_dir() / embedded.DEFAULT_MODEL / "config.json").exists():
        pytest.fail(f"no embedded models in {embedded.models_dir()}: run `make models`")
    before = os.environ.get(launcher.URL_VAR)
    server = launcher.ensure_running()
    if not server.owned and os.environ.get(SHARED_LOG_VAR):
        server.log_path = Path(os.environ[SHARED_LOG_VAR])
    if server.log_path is None:
        pytest.fail("the stand-in's log cannot be read here, so no test could check it for keys")
    os.environ[launcher.URL_VAR] = server.url
    yield server
    if before is None:
        os.environ.pop(launcher.URL_VAR, None)
    else:
        os.environ[launcher.URL_VAR] = before
