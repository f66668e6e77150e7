"""Where the launcher puts the stand-in: out of reach of the kernel's interrupt, but in its session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

KERNEL = """
import signal, sys
from phi_course.standin import launcher
signal.signal(signal.SIGINT, lambda *_: print("interrupted", flush=True))  # a kernel survives its interrupt
server = launcher.start()
print(server.pid, flush=True)
sys.stdin.readline()
print("answers" if server.health() else "gone", flush=True)
server.stop()
"""


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are a POSIX feature")
def test_an_interrupt_of_the_kernel_leaves_the_stand_in_running_in_the_same_session():
    # Jupyter starts a kernel in a session of its own and interrupts it with SIGINT to its
    # whole process group; Ctrl-C in a terminal does the same to the foreground group.
    kernel = subprocess.Popen([sys.executable, "-c", KERNEL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, start_new_session=True, env={**os.environ, "PHI_COURSE_STANDIN_URL": ""})
    try:
        standin = int(kernel.stdout.readline())
        assert os.getpgid(standin) != os.getpgid(kernel.pid), "the stand-in shares the kernel's process group"
        # Same session, so Linux schedules it in the kernel's group (autogroup): started in a
        # session of its own, it got half the CPU on a busy machine and streamed at half speed.
        assert os.getsid(standin) == os.getsid(kernel.pid)
        os.killpg(kernel.pid, signal.SIGINT)
        assert kernel.stdout.readline().strip() == "interrupted"
        time.sleep(0.3)
        kernel.stdin.write("\n")
        kernel.stdin.flush()
        assert kernel.stdout.readline().strip() == "answers"
    finally:
        kernel.kill()
        kernel.wait(timeout=30)
