"""Runs per hour of a small sweep: serial against local processes (issue 11, Performance).

    .venv/bin/python benchmarks/sweep.py                 # LHS, 8 points, scale 0.05, 2 years
    .venv/bin/python benchmarks/sweep.py --points 16 --workers 2 --json out.json

A run is one scenario of one job (a job runs the baseline and one reform, paired). Each executor
writes its own fresh sweep folder under a temporary directory; the figures are wall-clock time of
the whole `sim.experiments.sweep.sweep` call (start-up of worker processes included). The results
of the executors are checked to be identical. Machines are shared: read figures as ±20 %.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from sim.experiments.sweep import sweep

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
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--executors", nargs="+", default=["serial", "processes"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures, tables = {}, {}
    with tempfile.TemporaryDirectory() as work:
        spec = Path(work) / "bench.yaml"
        spec.write_text(SPEC.format(scale=args.scale, years=args.years, points=args.points))
        for executor in args.executors:
            started = time.perf_counter()
            tables[executor] = sweep(spec, executor=executor, workers=args.workers,
                                     out=Path(work) / executor, progress=False)
            seconds = time.perf_counter() - started
            runs = args.points * 2  # baseline and reform per job
            figures[executor] = {"seconds": round(seconds, 1), "runs": runs,
                                 "runs_per_hour": round(runs * 3600 / seconds)}
            print(f"{executor:>10}: {runs} runs in {seconds:.1f} s = "
                  f"{runs * 3600 / seconds:,.0f} runs/hour")
    first = next(iter(tables.values()))
    for executor, table in tables.items():
        pd.testing.assert_frame_equal(table, first, obj=executor)
    if "serial" in figures and "processes" in figures:
        speedup = figures["serial"]["seconds"] / figures["processes"]["seconds"]
        print(f"processes ({args.workers} workers) / serial: {speedup:.2f}×")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)},
                                         "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
