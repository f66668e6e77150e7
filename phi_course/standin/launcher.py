"""Start the course stand-in once per process, reuse it, and stop it when the process ends.

Introduced in lessons/03_github_models.ipynb.

`ensure_running()` is all a notebook needs: it returns a running StandIn whose
`base_url` goes to the OpenAI SDK or azure-ai-inference and whose `ollama_url`
goes to `ollama.Client(host=...)`. If PHI_COURSE_STANDIN_URL points at a
healthy stand-in (one shared by a test session or a workshop machine), that
one is used and no process is started.

The server runs in a child process so a stuck generation can never freeze the
kernel. The child dies with its parent three ways: atexit here, SIGTERM from
Linux when the parent dies (PR_SET_PDEATHSIG), and the server's own watch on
its parent's pid.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["HEADER", "START_TIMEOUT", "StandIn", "StandInError", "URL_VAR", "ensure_running", "probe",
           "server_root", "start"]

URL_VAR = "PHI_COURSE_STANDIN_URL"  # a running stand-in to reuse, e.g. http://127.0.0.1:8000
HEADER = "X-Phi-Course-Standin"
START_TIMEOUT = 60.0  # seconds to wait for /health; start-up is normally 1-3 s

_current: StandIn | None = None
_lock = threading.Lock()
_atexit_registered = False
# No proxy: the stand-in is on loopback, and a proxy from the environment would break that.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StandInError(RuntimeError):
    """The stand-in could not be started or did not answer."""


@dataclass
class StandIn:
    """A running course stand-in (one this process started, or a shared one it reuses)."""

    url: str  # the server root, e.g. http://127.0.0.1:8000
    pid: int | None
    process: subprocess.Popen | None = field(default=None, repr=False)
    log_path: Path | None = field(default=None, repr=False)
    startup_seconds: float | None = None  # from launch to healthy, when this process started it

    @property
    def base_url(self) -> str:
        """For OpenAI-style clients: `OpenAI(base_url=standin.base_url, api_key="any")`."""
        return f"{self.url}/v1"

    @property
    def ollama_url(self) -> str:
        """For the Ollama client: `ollama.Client(host=standin.ollama_url)`."""
        return self.url

    @property
    def owned(self) -> bool:
        """True when this process started the server (and so stops it)."""
        return self.process is not None

    def health(self, timeout: float = 2.0) -> dict | None:
        """The server's /health answer, or None if it is not a healthy course stand-in."""
        return probe(self.url, timeout)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server wrote (its stderr), for error messages."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server if this process started it (a shared one is left running)."""
        global _current
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.owned and self.log_path is not None:  # a shared server's log is its owner's
            self.log_path.unlink(missing_ok=True)
        if _current is self:
            _current = None


def probe(url: str, timeout: float = 2.0) -> dict | None:
    """GET url/health: the JSON if it is a course stand-in, else None."""
    try:
        with _opener.open(f"{url.rstrip('/')}/health", timeout=timeout) as response:
            if response.headers.get(HEADER) != "1":
                return None
            info = json.loads(response.read())
    except (OSError, ValueError):
        return None
    return info if info.get("standin") == "phi_course" else None


def server_root(url: str) -> str:
    """The root of a stand-in URL given as root or as its OpenAI base (`.../v1`)."""
    url = url.strip().rstrip("/")
    return url.removesuffix("/v1")


def ensure_running(timeout: float = START_TIMEOUT) -> StandIn:
    """The stand-in for this process: reused if running, else the shared one, else a new one."""
    global _current, _atexit_registered
    with _lock:
        if _current is not None and (_current.process is None or _current.process.poll() is None) \
                and _current.health() is not None:
            return _current
        if _current is not None:
            _current.stop()
        shared = os.environ.get(URL_VAR, "").strip()
        if shared:
            root = server_root(shared)
            info = probe(root)
            if info is not None:
                _current = StandIn(url=root, pid=info.get("pid"))
                return _current
            print(f"{URL_VAR}={shared} does not answer as a phi_course stand-in; starting a new one.",
                  file=sys.stderr)
        _current = start(timeout)
        if not _atexit_registered:
            atexit.register(_stop_current)
            _atexit_registered = True
        return _current


def _stop_current() -> None:
    if _current is not None:
        _current.stop()


def start(timeout: float = START_TIMEOUT) -> StandIn:
    """Start a new stand-in process and wait until it is healthy. Prefer ensure_running()."""
    began = time.perf_counter()
    # The launcher binds the port and hands the listening socket to the child:
    # no race for a free port, and the address is loopback by construction.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    log = tempfile.NamedTemporaryFile(prefix="phi-course-standin-", suffix=".log", delete=False)
    command = [sys.executable, "-m", "phi_course.standin", "--fd", str(sock.fileno()),
               "--parent-pid", str(os.getpid()), "--log-file", log.name]
    # Linux sends the death signal when the *thread* that started the child ends,
    # so ask for it only from the main thread, which lives as long as the process.
    if threading.current_thread() is threading.main_thread():
        command.append("--pdeathsig")
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])  # so the child imports this phi_course
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            pass_fds=(sock.fileno(),),
            # A process group of its own: Ctrl-C and a kernel interrupt (SIGINT to the kernel's group)
            # do not reach it. Not a session of its own: Linux shares the CPU between sessions
            # (autogroups), and a busy kernel's session then left the server half a core.
            process_group=0,
        )
    finally:
        sock.close()  # the child has its own copy
        log.close()
    standin = StandIn(url=f"http://127.0.0.1:{port}", pid=process.pid, process=process,
                      log_path=Path(log.name))
    deadline = began + timeout
    while True:
        if process.poll() is not None:
            tail = standin.log_tail()
            standin.stop()
            raise StandInError(
                f"The course stand-in exited (code {process.returncode}) before it was ready.\n"
                f"Its last output:\n{tail}\n"
                "Fix the error above, or run `python -m phi_course.standin` in a terminal to see it."
            )
        if probe(standin.url, timeout=1.0) is not None:
            standin.startup_seconds = time.perf_counter() - began
            return standin
        if time.perf_counter() > deadline:
            tail = standin.log_tail()
            standin.stop()
            raise StandInError(
                f"The course stand-in did not answer {standin.url}/health within {timeout:.0f} s.\n"
                f"Its last output:\n{tail}\n"
                "The machine may be busy; try again, or pass a longer timeout to ensure_running()."
            )
        time.sleep(0.05)
