"""`make models`: every embedded model trained in parallel processes of one thread each.

Models this small keep two threads poorly busy: the matrices are too small for the threads to
share well, and they wait for each other at every step. Two one-thread processes, each training
its own model, finish all four sooner than one two-thread process training them in turn (the
closing figures are in `make models`' last line). Longest jobs start first so the two lanes end
close together; each job's progress bar keeps its own line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["JOBS", "Job", "plan", "run_all"]


@dataclass(frozen=True)
class Job:
    """One training run: a model and the command that trains it with one thread."""

    model: str
    module: str  # phi_course.training or phi_course.vision
    minutes: float  # rough one-thread length on a 2-core machine: only orders the jobs

    def command(self, out: Path | None = None) -> list[str]:
        """The command line; `out` is a models folder other than the shipped one."""
        if self.module == "phi_course.training":
            where = ["--only", self.model] + (["--out", str(out)] if out else [])
        else:  # the vision trainer takes the model's own folder
            where = ["--out", str(out / self.model)] if out else []
        return [sys.executable, "-m", self.module, "train", *where, "--threads", "1"]


# Minutes each job took in one `make models` on this course's 2-core machine (2026-12-02, everything in float32:
# 29.9 min in all; the run before, with the dense models in bf16 on another machine, 34.0). The tiny-phi35-mini
# job trains its tool-calling adapter after it (16.3 + 5.9 min). The same jobs' CPU time moves from one machine
# to the next (tiny-phi35-moe, the same recipe: 1339 CPU-seconds in the run before, 1172 in this one): such
# machines are shared.
JOBS = (
    Job("tiny-phi35-mini", "phi_course.training", 22.2),
    Job("tiny-phi35-moe", "phi_course.training", 19.7),
    Job("tiny-phi35-vision", "phi_course.vision", 8.9),
    Job("tiny-phi3-mini", "phi_course.training", 7.5),
)


def plan(jobs: int, work: tuple[Job, ...] = JOBS) -> list[list[Job]]:
    """Which job runs in which lane: longest first, each to the lane that frees up first."""
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, not {jobs}")
    lanes: list[list[Job]] = [[] for _ in range(min(jobs, len(work)))]
    for job in sorted(work, key=lambda j: -j.minutes):
        min(lanes, key=lambda lane: sum(j.minutes for j in lane)).append(job)
    return lanes


def run_all(jobs: int = 2, out: Path | None = None) -> int:
    """Train every model, `jobs` at a time, into `out` (default: the shipped models); 0 when all succeeded."""
    lanes = plan(jobs)
    started = time.perf_counter()
    queues = [list(lane) for lane in lanes]
    running: dict[int, tuple[Job, subprocess.Popen]] = {}
    failed = []
    try:
        while any(queues) or running:
            for lane, queue in enumerate(queues):
                if lane not in running and queue:
                    job = queue.pop(0)
                    # tqdm reads TQDM_* variables as defaults: each lane draws its bars on its own line.
                    env = {**os.environ, "TQDM_POSITION": str(lane), "OMP_NUM_THREADS": "1"}
                    running[lane] = (job, subprocess.Popen(job.command(out), env=env))
            for lane, (job, process) in list(running.items()):
                if process.poll() is not None:
                    del running[lane]
                    if process.returncode:
                        failed.append(job.model)
            time.sleep(0.5)
    finally:  # Ctrl-C or an error here: no training process is left behind
        for _job, process in running.values():
            process.terminate()
            process.wait()
    minutes = (time.perf_counter() - started) / 60
    print(f"\nall models trained in {minutes:.1f} min on {len(lanes)} lanes"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
