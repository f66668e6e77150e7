"""A real HTTP server on 127.0.0.1 that records requests and answers like a chat service.

Used to check what the real SDK clients send where (endpoint overrides, keys),
without any network beyond loopback.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def chat_completion(text: str, model: str) -> dict:
    return {
        "id": "chatcmpl-recorded", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]):
    """Serve `handler` on a free port of 127.0.0.1 in a thread; yield the base URL, then stop."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def recording_server(reply_text: str = "recorded reply"):
    """Yield (base_url, requests) where requests fills with (method, path, headers, body)."""
    seen: list[tuple[str, str, dict, dict | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self):
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            return body

        def _send(self, payload: dict):
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 (the stdlib's name)
            self._record()
            self._send({"version": "0.0-recording", "data": []})

        def do_POST(self):  # noqa: N802
            body = self._record() or {}
            self._send(chat_completion(reply_text, body.get("model", "?")))

        def log_message(self, *args):  # keep test output clean
            pass

    with loopback(Handler) as url:
        yield url, seen
