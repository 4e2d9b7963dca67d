"""Run one benchmark workload in a fresh interpreter and measure that child alone.

Both benchmark scripts call themselves with ``--child SPEC_JSON``; the child prints its result
as the last line of JSON. The parent reads the child's own peak resident memory with
``os.wait4`` (``getrusage(RUSAGE_CHILDREN)`` would give the maximum over every child reaped so
far, so one big workload would hide the others) and its wall time including start-up.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

KIB = 1024


def run_child(script: Path, spec: dict, cwd: Path) -> dict:
    """Run ``script --child SPEC``; return its JSON result plus ``peak_rss_mib``,
    ``process_wall_seconds`` and ``process_cpu_seconds``."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(Path(script).resolve()), "--child",
                                json.dumps(spec)], stdout=subprocess.PIPE, cwd=cwd)
    output = process.stdout.read()
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"workload {spec['workload']} failed (exit {code})")
    result = json.loads(output.decode("utf-8").strip().splitlines()[-1])
    result["peak_rss_mib"] = usage.ru_maxrss / KIB  # KiB on Linux
    result["process_wall_seconds"] = wall
    # the child's own CPU seconds (user + system): on a machine shared with other work the wall
    # time grows with the queue for the cores, the CPU time much less
    result["process_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def emit(result: dict) -> None:
    """The child's side: print its result as the last line of JSON for ``run_child``."""
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


def median(values):
    return statistics.median(values) if values else None
