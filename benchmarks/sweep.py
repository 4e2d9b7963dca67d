"""Runs per hour of a small sweep: serial, local processes and a local Dask cluster (issue 11,
Performance): Dask's overhead against processes with the same workers (target ≤ 10 %) and the
scaling from 1 to N workers (target ≥ 1.8× for 2).

    .venv/bin/python benchmarks/sweep.py                 # LHS, 8 points, scale 0.05, 2 years
    .venv/bin/python benchmarks/sweep.py --points 16 --workers 2 --repeat 2 --json out.json
    .venv/bin/python benchmarks/sweep.py --runs serial processes:2 dask:2

A run is one scenario of one job (a job runs the baseline and one reform, paired). Each run of
the benchmark writes its own fresh sweep folder under a temporary directory; the figures are
wall-clock time of the whole `sim.experiments.sweep.sweep` call (start-up of worker processes or
of the LocalCluster included), the median over --repeat rounds, the configurations alternating
within each round, and the CPU seconds of all processes of the configuration (each runs in a
fresh interpreter, read with os.wait4): on a shared machine the steadier measure of the
overhead. The results of all configurations are checked to be identical. The load
average before and after is printed: machines are shared, read figures as ±20 %.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from sim.experiments.sweep import read_manifest

SPEC = """\
title: Benchmark sweep
region: default
scale: {scale}
start_year: 2023
years: {years}
baseline: point
reforms: [audit_double]
parameters:
  audit.detection_probability: {{low: 0.2, high: 0.9}}
  behaviour.upcoding_scale: {{low: 300, high: 1200}}
  behaviour.learning_rate: {{low: 0.2, high: 0.8}}
design: {{method: lhs, n: {points}}}
replications: 1
seed: 1
outcomes: [fund_balance, upcoded_share, upcoding_gap]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="N of the default runs")
    parser.add_argument("--runs", nargs="+", metavar="EXECUTOR[:WORKERS]",
                        help="configurations (default: serial, processes:1, processes:N, "
                             "dask:1, dask:N)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    n = args.workers
    runs = args.runs or ["serial", "processes:1", f"processes:{n}", "dask:1", f"dask:{n}"]
    seconds: dict[str, list[float]] = {run: [] for run in runs}
    cpu: dict[str, list[float]] = {run: [] for run in runs}
    per_job: dict[str, list[float]] = {run: [] for run in runs}
    tables = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as work:
        spec = Path(work) / "bench.yaml"
        spec.write_text(SPEC.format(scale=args.scale, years=args.years, points=args.points))
        for round_ in range(args.repeat):
            for run in runs:
                executor, _, workers = run.partition(":")
                out = Path(work) / f"{run.replace(':', '-')}-{round_}"
                wall, used = run_in_child(spec, executor, int(workers or n), out)
                tables[run] = pd.read_parquet(out / "results.parquet")
                seconds[run].append(wall)
                cpu[run].append(used)
                per_job[run] += [float(row["seconds"]) for row in read_manifest(out)
                                 if row["status"] == "done"]
                print(f"  round {round_ + 1} {run:>12}: {seconds[run][-1]:.1f} s, "
                      f"CPU {cpu[run][-1]:.1f} s", flush=True)
    load_after = os.getloadavg()
    first = next(iter(tables.values()))
    for run, table in tables.items():
        pd.testing.assert_frame_equal(table, first, obj=run)
    figures = {}
    total_runs = args.points * 2  # baseline and reform per job
    print(f"{args.points} points × 2 scenarios = {total_runs} runs; scale {args.scale}, "
          f"{args.years} years; median of {args.repeat}; load average before "
          f"{load_before[0]:.2f}, after {load_after[0]:.2f} (1 min), {os.cpu_count()} cores")
    for run in runs:
        median = statistics.median(seconds[run])
        figures[run] = {"seconds": round(median, 2), "all_seconds": [round(s, 2) for s in
                                                                     seconds[run]],
                        "runs": total_runs, "runs_per_hour": round(total_runs * 3600 / median),
                        "mean_job_seconds": round(statistics.mean(per_job[run]), 3),
                        "cpu_seconds": round(statistics.median(cpu[run]), 2)}
        print(f"{run:>14}: {median:6.1f} s = {total_runs * 3600 / median:8,.0f} runs/hour "
              f"(a job's own seconds: {figures[run]['mean_job_seconds']:.2f}; CPU of all "
              f"processes {figures[run]['cpu_seconds']:.1f} s)")
    ratios = {}
    for executor in ("processes", "dask"):
        one, many = figures.get(f"{executor}:1"), figures.get(f"{executor}:{n}")
        if one and many and n > 1:
            ratios[f"{executor} 1 → {n} workers"] = one["seconds"] / many["seconds"]
    for workers in sorted({run.partition(":")[2] for run in runs if ":" in run}):
        local, dask = figures.get(f"processes:{workers}"), figures.get(f"dask:{workers}")
        if local and dask:
            ratios[f"dask overhead, {workers} workers"] = dask["seconds"] / local["seconds"] - 1
            ratios[f"dask CPU overhead, {workers} workers"] = (dask["cpu_seconds"]
                                                               / local["cpu_seconds"] - 1)
    for name, value in ratios.items():
        print(f"{name}: " + (f"{value:+.0%}" if "overhead" in name else f"{value:.2f}×"))
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)},
                                         "load_average": [load_before, load_after],
                                         "figures": figures, "ratios": ratios}, indent=2))


CHILD = """
import sys, time
from sim.experiments.sweep import sweep
spec, executor, workers, out = sys.argv[1:]
started = time.perf_counter()
sweep(spec, executor=executor, workers=int(workers), out=out, progress=False)
print(time.perf_counter() - started)
"""


def run_in_child(spec: Path, executor: str, workers: int, out: Path) -> tuple[float, float]:
    """One configuration in a fresh interpreter: the wall seconds of its ``sweep`` call, and the
    user + system CPU seconds of that interpreter and of every process it started and waited
    for (workers, a LocalCluster's nannies and workers), read with ``os.wait4`` when it ends —
    the work of the whole configuration, steadier than wall time on a shared machine (the
    interpreter's own imports, ~2 s, are in every configuration's figure alike)."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(spec), executor, str(workers),
                              str(out)], stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{executor}:{workers} failed (exit {child.returncode})")
    return float(output.split()[-1]), usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
