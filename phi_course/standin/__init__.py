"""Local stand-ins for the remote routes: a real embedded model behind the real protocol.

Introduced in lessons/03_github_models.ipynb.

    from phi_course.standin import ensure_running
    standin = ensure_running()
    client = OpenAI(base_url=standin.base_url, api_key="not-needed-locally")

This package imports nothing heavy; the server (FastAPI, torch) lives in the
child process that `ensure_running` starts.
"""

from phi_course.standin.launcher import (
    HEADER,
    URL_VAR,
    StandIn,
    StandInError,
    ensure_running,
    probe,
)

__all__ = ["HEADER", "URL_VAR", "StandIn", "StandInError", "ensure_running", "probe"]
