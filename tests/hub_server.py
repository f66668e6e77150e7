"""A Hugging Face Hub on 127.0.0.1 and a Hub cache on disk, for tests of the real-model paths.

The Hub is unreachable here, so tests/test_hub.py and tests/test_onnx.py run
the real loading code against real files: a temporary HF_HOME laid out exactly
as huggingface_hub lays out its cache, and a Hub stand-in that serves an
embedded model's files under the real repo id. huggingface_hub reads HF_HOME
and HF_ENDPOINT when it is imported, so each case runs in a fresh interpreter
(`run_fresh`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlparse

from phi_course import catalog
from phi_course.local import embedded
from tests.recording_server import loopback

ROOT = Path(__file__).resolve().parents[1]
STAND_IN = catalog.phi("phi-3.5-mini").embedded
COMMIT = "0123456789abcdef0123456789abcdef01234567"
# Remote code that must never run: loading with trust_remote_code=True would import it and fail.
TRAP = b"raise RuntimeError('remote code ran: trust_remote_code must stay off')\n"


def checkpoint_files(name: str = STAND_IN) -> dict[str, bytes]:
    """An embedded model's files, dressed as the real repo: remote code and auto_map included."""
    files = {p.name: p.read_bytes() for p in embedded.model_path(name).iterdir() if p.is_file()}
    config = json.loads(files["config.json"])
    config["auto_map"] = {"AutoConfig": "configuration_phi3.Phi3Config",
                          "AutoModelForCausalLM": "modeling_phi3.Phi3ForCausalLM"}
    files["config.json"] = json.dumps(config).encode()
    files["configuration_phi3.py"] = TRAP
    files["modeling_phi3.py"] = TRAP
    return files


def fake_hf_snapshot(hf_home: Path, repo_id: str, files: dict[str, bytes], commit: str = COMMIT) -> Path:
    """Write files into HF_HOME the way huggingface_hub caches them: blobs, symlinks, refs/main."""
    repo_dir = Path(hf_home) / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo_dir / "snapshots" / commit
    for relative, data in files.items():
        blob = repo_dir / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(commit)
    return snapshot


@contextmanager
def hub_standin(repos: dict[str, dict[str, bytes]], claimed_sizes: dict[str, int] | None = None):
    """A Hugging Face Hub stand-in on 127.0.0.1: yields (endpoint, requests seen).

    Serves the three calls huggingface_hub makes to download a snapshot (revision,
    tree listing, file resolve); anything else is a 404. `claimed_sizes` makes it
    announce other sizes for some files, as the real Hub does for large weights.
    """
    claimed_sizes = claimed_sizes or {}
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(code)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _answer(self) -> None:
            path = urlparse(self.path).path
            seen.append((self.command, path))
            for repo, files in repos.items():
                if path == f"/api/models/{repo}/revision/main":
                    info = {"id": repo, "sha": COMMIT, "siblings": [{"rfilename": f} for f in files]}
                    return self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"})
                if path.startswith(f"/api/models/{repo}/tree/"):
                    tree = [{"type": "file", "path": f, "size": claimed_sizes.get(f, len(data)),
                             "oid": hashlib.sha1(data).hexdigest()} for f, data in files.items()]
                    return self._send(200, json.dumps(tree).encode(), {"Content-Type": "application/json"})
                prefix = f"/{repo}/resolve/{COMMIT}/"
                if path.startswith(prefix) and path[len(prefix):] in files:
                    data = files[path[len(prefix):]]
                    headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha1(data).hexdigest()}"'}
                    if path[len(prefix):] in claimed_sizes:
                        headers["X-Linked-Size"] = str(claimed_sizes[path[len(prefix):]])
                    return self._send(200, data, headers)
            self._send(404, b'{"error": "not found"}', {"X-Error-Code": "RepoNotFound"})

        do_GET = do_HEAD = _answer  # noqa: N815 (the stdlib's names)

        def log_message(self, *args):
            pass

    with loopback(Handler) as url:
        yield url, seen


def model_requests(seen: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The requests that asked the Hub about a model (huggingface_hub also fetches, at most
    once a day, a registry of agent harnesses for its user-agent header: not a model call)."""
    return [(method, path) for method, path in seen if path != "/api/agent-harnesses"]


def run_fresh(code: str, *, hf_home: Path, endpoint: str, real: bool = False,
              timeout: float = 240) -> tuple[dict, str]:
    """Run `code` in a new interpreter with its own HF_HOME; it must print a JSON line last.

    Returns (that JSON, everything it printed).
    """
    # The test hub is on loopback: the offline switches of the suite must not hide it.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGING")) and k != "TRANSFORMERS_OFFLINE"}
    env.update(HF_HOME=str(hf_home), HF_ENDPOINT=endpoint, PHI_COURSE_NO_DOTENV="1",
               HF_HUB_ETAG_TIMEOUT="5", HF_HUB_DOWNLOAD_TIMEOUT="10")
    env.pop("PHI_COURSE_REAL_MODELS", None)
    if real:
        env["PHI_COURSE_REAL_MODELS"] = "1"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), output
