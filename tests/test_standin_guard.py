"""The stand-in's guard, against real servers on loopback: who may call it, how much they may
send, how long they may take, and abandoned work that stops instead of running to the end."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest
import uvicorn

from phi_course.local import embedded
from phi_course.standin import guard, launcher
from phi_course.standin.guard import Policy
from phi_course.standin.server import listening_socket, server_config

ROOT = Path(__file__).resolve().parents[1]
MODEL = embedded.DEFAULT_MODEL
HI = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
KEY = "class-key-0123456789"


@contextmanager
def guarded_server(policy: Policy):
    """The real stand-in app behind `policy`, served by uvicorn on 127.0.0.1 in this process."""
    sock = listening_socket(0)
    server = uvicorn.Server(server_config(MODEL, 1, policy))  # configured exactly as serve() does
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    deadline = time.monotonic() + 60
    while launcher.probe(url, 1) is None:
        assert time.monotonic() < deadline, "the guarded server did not start"
        time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_a_host_that_is_not_this_machine_is_refused(standin):
    reply = httpx.post(f"{standin.base_url}/chat/completions", json=HI, headers={"Host": "evil.example:80"})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "host_not_allowed"
    ollama_reply = httpx.post(f"{standin.url}/api/chat", json={**HI, "stream": False},
                              headers={"Host": "attacker.test"})
    assert ollama_reply.status_code == 403 and "127.0.0.1 or localhost" in ollama_reply.json()["error"]
    assert httpx.post(f"{standin.base_url}/chat/completions", json=HI,
                      headers={"Host": "localhost:1234"}).status_code == 200


def test_a_web_page_cannot_run_a_generation(standin):
    # A page on another site posts text/plain (no CORS preflight): it must not reach the model.
    reply = httpx.post(f"{standin.base_url}/chat/completions", content=b'{"model": "tiny-phi35-mini"}',
                       headers={"Origin": "https://evil.example", "Content-Type": "text/plain"})
    assert reply.status_code == 403 and "web pages" in reply.json()["error"]["message"]
    same_machine = httpx.post(f"{standin.base_url}/chat/completions", json=HI,
                              headers={"Origin": "http://localhost:8888"})
    assert same_machine.status_code == 200


def test_nothing_internal_in_health(standin):
    health = httpx.get(f"{standin.url}/health").json()
    assert "pid" not in health and not any(str(ROOT) in str(v) for v in health.values())


def test_a_20_mb_body_is_refused_before_it_is_read():
    with launcher_owned() as server:
        deadline = time.monotonic() + 60  # warm-up (torch, the model) raises the peak: let it finish
        while MODEL not in server.health()["loaded"] and time.monotonic() < deadline:
            time.sleep(0.1)
        before = _peak_rss_mb(server.pid)
        started = time.perf_counter()
        reply = httpx.post(f"{server.base_url}/chat/completions", timeout=30,
                           json={"model": MODEL, "messages": [{"role": "user", "content": "x" * 20_000_000}]})
        took = time.perf_counter() - started
        assert reply.status_code == 413 and "at most 8 MB" in reply.json()["error"]["message"]
        assert took < 5, f"refusing took {took:.1f} s"
        assert _peak_rss_mb(server.pid) - before < 100  # today: +3 GB
        assert httpx.post(f"{server.base_url}/chat/completions", json=HI, timeout=30).status_code == 200


def test_a_chunked_body_is_cut_off_at_the_limit_and_a_slow_one_times_out():
    policy = Policy(max_body_bytes=1024 * 1024, body_timeout_s=1.0)
    with guarded_server(policy) as url:
        chunks = (b"x" * 65536 for _ in range(64))  # 4 MB with no Content-Length
        reply = httpx.post(f"{url}/v1/chat/completions", content=chunks)
        assert reply.status_code == 413 and reply.json()["error"]["code"] == "request_too_large"
        # A Content-Length 100 bytes longer than the body: the guard stops waiting.
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as raw:
            body = b'{"model": "tiny-phi35-mini"}'
            raw.sendall(b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body) + 100}\r\n\r\n".encode() + body)
            started = time.perf_counter()
            answer = b""
            while b"}" not in answer:  # headers and body may come in two pieces
                piece = raw.recv(4096)
                assert piece, "the server closed the connection without an answer"
                answer += piece
            answer = answer.decode()
        assert answer.startswith("HTTP/1.1 408") and "did not arrive within 1 s" in answer
        assert time.perf_counter() - started < 5


def test_classroom_mode_wants_the_key():
    with guarded_server(Policy.classroom(KEY)) as url:
        anonymous = openai.OpenAI(base_url=f"{url}/v1", api_key="wrong-key", max_retries=0)
        with pytest.raises(openai.AuthenticationError, match="Ask your instructor"):
            anonymous.chat.completions.create(model=MODEL, messages=HI["messages"], max_tokens=2)
        learner = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
        assert learner.chat.completions.create(model=MODEL, messages=HI["messages"], max_tokens=2).choices
        assert httpx.get(f"{url}/health").status_code == 200  # is it up? needs no key
        # Any Host is fine in a classroom (learners use the machine's name or address).
        assert httpx.get(f"{url}/v1/models", headers={"Host": "teacher-laptop:8000",
                                                      "Authorization": f"Bearer {KEY}"}).status_code == 200


def test_abandoned_work_stops_instead_of_running_to_the_end():
    # A stand-in of its own: the session's also serves the other test worker and its notebooks, whose
    # tokens would count here too. How many tokens come before the learners leave depends on the
    # machine, so the check is on what is decoded after they left.
    _, tokenizer = embedded.load(MODEL)
    banned = {str(tokenizer.convert_tokens_to_ids(t)): -100 for t in ("<|end|>", "<|endoftext|>")}
    long_request = {"model": MODEL, "messages": [{"role": "user", "content": "What is Phi?"}],
                    "max_tokens": 400, "logit_bias": banned}  # 400 tokens each: the end tokens are banned
    with launcher_owned() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="any", max_retries=0)
        health = lambda: httpx.get(f"{server.url}/health").json()  # noqa: E731
        client.chat.completions.create(**HI)  # loads the model, so the clock below measures decoding

        def give_up(_) -> str:  # three learners, each tired of waiting
            with pytest.raises(openai.APITimeoutError):
                client.with_options(timeout=0.3).chat.completions.create(**long_request)
            return "gave up"

        before = health()["generated_tokens"]
        with ThreadPoolExecutor(3) as pool:  # three answers decoded together, all abandoned
            assert list(pool.map(give_up, range(3))) == ["gave up"] * 3
        at_give_up = health()["generated_tokens"] - before
        deadline = time.monotonic() + 10
        while health()["pending_requests"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert health()["pending_requests"] == 0
        generated = health()["generated_tokens"] - before
        # Before the guard all 1,200 came. Now decoding stops soon after the learners leave: it does
        # not go on with most of what was left (how much came before they left depends on the machine).
        assert generated - at_give_up < (1200 - at_give_up) / 4, (at_give_up, generated)
        started = time.perf_counter()
        httpx.post(f"{server.base_url}/chat/completions", json=HI, timeout=30).raise_for_status()
        assert time.perf_counter() - started < 3  # the next learner does not wait for the abandoned answer


@contextmanager
def launcher_owned():
    server = launcher.start()
    try:
        yield server
    finally:
        server.stop()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "phi_course.standin", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_cli_mistakes_get_one_line():
    beyond = _cli("--host", "0.0.0.0", "--port", "0")
    assert beyond.returncode == 2 and "add --api-key" in beyond.stderr and "Traceback" not in beyond.stderr
    assert len(beyond.stderr.strip().splitlines()) == 1
    bad_port = _cli("--port", "70000")
    assert bad_port.returncode == 2 and "is not a port" in bad_port.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = _cli("--port", str(taken.getsockname()[1]))
    assert busy.returncode == 1 and "Pick another --port" in busy.stderr and "Traceback" not in busy.stderr
    assert _cli("--host", "0.0.0.0", "--api-key", "short").returncode == 2


def test_a_classroom_server_prints_what_learners_paste():
    from phi_course import route_table
    from phi_course.standin.__main__ import join_lines

    custom = route_table.route("custom")
    lines = join_lines("10.0.0.5", 8000)
    assert f"{custom.endpoint_var}=http://10.0.0.5:8000/v1" in lines and f"{custom.key_var}=<" in lines
    assert socket.gethostname() in join_lines("0.0.0.0", 8000)  # "0.0.0.0" is no address to give out


def test_headers_that_dribble_in_are_cut_off(monkeypatch):
    monkeypatch.setattr(guard, "HEADER_TIMEOUT_S", 1.0)  # 10 s in service; 1 s keeps the test short
    with guarded_server(Policy()) as url:
        port = int(url.rsplit(":", 1)[1])
        slow = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
        for conn in slow:
            conn.sendall(b"GET /health HTTP/1.1\r\nHo")
        started = time.perf_counter()
        for _ in range(6):  # a byte now and then, never the end of the headers
            time.sleep(0.4)
            for conn in slow:
                with contextlib.suppress(OSError):
                    conn.sendall(b"s")
        closed = []
        for conn in slow:
            conn.settimeout(2)
            try:
                closed.append(conn.recv(100) == b"")
            except ConnectionResetError:  # closed too
                closed.append(True)
            except TimeoutError:  # still held open: the slowloris wins
                closed.append(False)
            conn.close()
        assert all(closed) and time.perf_counter() - started < 5
        assert httpx.get(f"{url}/health").status_code == 200  # everyone else is still served
