"""Run the course stand-in: `python -m phi_course.standin --port 8000`.

Introduced in lessons/00_setup.ipynb.

It always listens on 127.0.0.1. Notebooks start it for you through
`phi_course.standin.ensure_running()`; run it by hand to share one stand-in
between several kernels (then set PHI_COURSE_STANDIN_URL=http://127.0.0.1:PORT).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to send SIGTERM when the parent goes, even if it is killed outright."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m phi_course.standin",
        description="Serve the course's embedded models over the OpenAI and Ollama protocols on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)  # a listening socket from the launcher
    parser.add_argument("--parent-pid", type=int, help="stop when this process exits")
    parser.add_argument("--pdeathsig", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--preload", default=None,
                        help="embedded model to load at start ('none' for none; default: the default model)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for generation (1 is fastest for course-sized models)")
    args = parser.parse_args(argv)

    if args.parent_pid and args.pdeathsig:
        _die_with_parent(args.parent_pid)

    # Imported after the checks above so a dead parent costs no start-up time.
    from phi_course.local import embedded
    from phi_course.standin.server import loopback_socket, serve

    preload = embedded.DEFAULT_MODEL if args.preload is None else args.preload
    sock = socket.socket(fileno=args.fd) if args.fd is not None else loopback_socket(args.port)
    if args.fd is None:
        print(f"phi_course stand-in on http://127.0.0.1:{sock.getsockname()[1]} "
              f"(OpenAI: /v1, Ollama: /api)", file=sys.stderr, flush=True)
    serve(sock, parent_pid=args.parent_pid, preload=None if preload == "none" else preload,
          threads=args.threads)


if __name__ == "__main__":
    main()
