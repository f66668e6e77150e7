"""A JupyterLab for browser tests: the course's venv, a copy of the lessons, loopback, a token.

The server works in a temporary copy of lessons/ (and img/), so saving a notebook
never touches the repository. It uses this venv's JupyterLab, so the course's
overrides (tools/jupyterlab-overrides.json, copied by `make install`) are the ones
a learner gets; only editor settings that make a page scriptable are set per run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_DEADLINE = 180.0  # seconds for JupyterLab to answer: 3-8 s on an idle machine, far more on a busy one

# Per-run user settings. Every cell rendered (no windowing), so a test finds a cell by its
# code wherever it sits; no news or update checks, which would reach for the network.
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the folder JupyterLab serves: lessons/ and img/ copied into it
    process: subprocess.Popen
    log: Path

    def page_url(self, notebook: str = "") -> str:
        """The address that opens `notebook` (a path under root) in a fresh workspace."""
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        with opener.open(request, timeout=5) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def copy_course(target: Path) -> Path:
    """lessons/ (notebooks included) and img/ copied under `target`; returns target."""
    shutil.copytree(ROOT / "lessons", target / "lessons",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    if (ROOT / "img").exists():
        shutil.copytree(ROOT / "img", target / "img")
    return target


def start(work: Path, env: dict[str, str] | None = None) -> Lab:
    """JupyterLab serving a copy of the course under `work`, answering on loopback within the deadline."""
    root = copy_course(work / "course")
    settings = work / "user-settings"
    for name, values in USER_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    # As a learner's: no MPLBACKEND (the tests' Agg would keep figures out of the notebook).
    environment = {**{k: v for k, v in (env if env is not None else os.environ).items() if k != "MPLBACKEND"},
                   "JUPYTERLAB_SETTINGS_DIR": str(settings),
                   "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
                   "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root
    log = work / "jupyterlab.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environment,
                                   cwd=root)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, process, log)
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode} before answering:\n"
                               f"{lab.log_tail()}")
        try:
            lab.api("/api/status")
            return lab
        except OSError:
            time.sleep(0.2)
    lab.stop()
    raise RuntimeError(f"JupyterLab did not answer on {lab.url} within {START_DEADLINE:.0f} s:\n{lab.log_tail()}")
