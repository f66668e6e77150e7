"""Run the course stand-in: `python -m phi_course.standin --port 8000`.

Introduced in lessons/00_setup.ipynb.

By default it listens on 127.0.0.1 only. Notebooks start it for you through
`phi_course.standin.ensure_running()`; run it by hand to share one stand-in
between several kernels (then set PHI_COURSE_STANDIN_URL=http://127.0.0.1:PORT).

Classroom mode serves a room from one machine with no GPU:

    python -m phi_course.standin --host 0.0.0.0 --port 8000 --api-key "$CLASS_KEY"

Learners then point the course's custom route at http://HOST:8000/v1 with that key
(the README's instructor section gives the two lines for their .env).
Serving beyond loopback without --api-key is refused.
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
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; another address needs --api-key)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--api-key", default=None,
                        help="classroom mode: the key every request must carry (or set PHI_COURSE_STANDIN_KEY)")
    parser.add_argument("--max-body-mb", type=float, default=None,
                        help="largest request body accepted, in MB (default 8)")
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)  # a listening socket from the launcher
    parser.add_argument("--parent-pid", type=int, help="stop when this process exits")
    parser.add_argument("--pdeathsig", action="store_true", help=argparse.SUPPRESS)
    # The launcher's log file: removed when the server ends, even if the parent was killed.
    parser.add_argument("--log-file", help=argparse.SUPPRESS)
    parser.add_argument("--preload", default=None,
                        help="embedded model to load at start ('none' for none; default: the default model)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for generation (1 is fastest for course-sized models)")
    args = parser.parse_args(argv)
    args.api_key = args.api_key or os.environ.get("PHI_COURSE_STANDIN_KEY") or None
    problem = _check(args)
    if problem:
        parser.exit(2, f"python -m phi_course.standin: {problem}\n")

    if args.parent_pid and args.pdeathsig:
        _die_with_parent(args.parent_pid)

    # Imported after the checks above so a dead parent costs no start-up time.
    from phi_course.local import embedded
    from phi_course.standin.guard import DEFAULT_MAX_BODY_MB, Policy
    from phi_course.standin.server import listening_socket, serve

    preload = embedded.DEFAULT_MODEL if args.preload is None else args.preload
    max_body = DEFAULT_MAX_BODY_MB if args.max_body_mb is None else args.max_body_mb
    policy = (Policy.classroom(args.api_key, max_body) if args.api_key
              else Policy(max_body_bytes=int(max_body * 1024 * 1024)))
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
    else:
        try:
            sock = listening_socket(args.port, args.host)
        except OSError as error:
            parser.exit(1, f"python -m phi_course.standin: cannot listen on {args.host}:{args.port} "
                           f"({error.strerror or error}). Pick another --port, or stop what uses it.\n")
        shown = "127.0.0.1" if args.host in ("127.0.0.1", "localhost") else args.host
        mode = "classroom mode, API key required" if args.api_key else "loopback only"
        print(f"phi_course stand-in on http://{shown}:{sock.getsockname()[1]} "
              f"(OpenAI: /v1, Ollama: /api; {mode})", file=sys.stderr, flush=True)
        if args.api_key:
            print(join_lines(shown, sock.getsockname()[1]), file=sys.stderr, flush=True)
    serve(sock, parent_pid=args.parent_pid, preload=None if preload == "none" else preload,
          threads=args.threads, policy=policy, log_file=args.log_file)


def join_lines(host: str, port: int) -> str:
    """What learners add to their .env to use this classroom server (the route table's variable names).

    The key itself is not printed (a screen may be shared): the instructor hands it out."""
    from phi_course import route_table

    custom = route_table.route("custom")
    where = host if host not in ("0.0.0.0", "::") else socket.gethostname()
    return ("Learners add these lines to their .env (then rerun phi_course.doctor()):\n"
            f"  {custom.endpoint_var}=http://{where}:{port}/v1\n"
            f"  {custom.key_var}=<the key given to --api-key>\n"
            f"  {custom.model_vars['any']}=tiny-phi35-mini")


def _check(args) -> str | None:
    """What is wrong with the command line, in one sentence (None: nothing)."""
    if not 0 <= args.port <= 65535:
        return f"--port {args.port} is not a port: use 1-65535, or 0 for any free port."
    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not args.api_key:
        return (f"serving on {args.host} would let anyone on the network use this machine: "
                "add --api-key KEY (a classroom server), or leave --host at 127.0.0.1.")
    if args.api_key is not None and len(args.api_key) < 8:
        return "--api-key is too short to keep a room out: use at least 8 characters."
    if args.max_body_mb is not None and not 0 < args.max_body_mb <= 512:
        return f"--max-body-mb {args.max_body_mb:g} is out of range: use a size above 0 and at most 512."
    if args.threads < 1:
        return f"--threads {args.threads} must be at least 1."
    return None


if __name__ == "__main__":
    main()
