"""Settle's input path against an earlier revision, side by side in one run.

    .venv/bin/python benchmarks/against.py 330f7c7                 # 1 M cases, 5 repetitions
    .venv/bin/python benchmarks/against.py 330f7c7 --cases 200000 --repeat 3

The earlier revision is checked out in a temporary git worktree; every repetition runs each
workload once on this tree and once on the other (alternating, each in a fresh interpreter that
imports ``sim`` from its tree), so both see the same machine load. Workloads, on one synthetic
year (``sim.inputs.synthetic.synthetic_year``, Guangxi catalogue, 1,000 hospitals) written once as
Parquet and CSV:

- ``load parquet`` / ``load csv``: ``sim.inputs.cases.load_cases`` (read, validate, encode);
- ``settle e2e parquet``: ``sim.commands.settle.settle_to_folder`` into a new folder.

Printed and written to ``benchmarks/results/against-<rev>.json``: the median seconds and peak
RSS of each side and the ratio this ÷ other (above 1 = this tree is slower).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
sys.path.insert(0, str(HERE))
from childproc import emit, median, run_child  # noqa: E402

WORKLOADS = ("load parquet", "load csv", "settle e2e parquet")


def child(spec: dict) -> None:
    if spec["workload"] == "write year":
        year_files(spec["cases"])
        emit({})
        return
    sys.path.insert(0, spec["tree"])
    import sim
    try:  # sim/ grouped into rooms (issue 8); earlier revisions keep the flat layout
        from sim.inputs.cases import load_cases
        from sim.inputs.catalogue import load_catalogue
        from sim.inputs.policy import load_policy
    except ImportError:
        from sim.cases import load_cases
        from sim.catalogue import load_catalogue
        from sim.policy import load_policy

    assert Path(sim.__file__).resolve().is_relative_to(Path(spec["tree"]).resolve()), sim.__file__
    catalogue_path = Path(spec["tree"]) / "scenarios" / "catalogues" / "guangxi_2022.csv"
    policy_path = Path(spec["tree"]) / "scenarios" / "policies" / "point.yaml"
    started = time.perf_counter()
    if spec["workload"].startswith("load"):
        policy = load_policy(policy_path)
        cases = load_cases(spec["path"], load_catalogue(catalogue_path), policy.levels)
        count = len(cases)
    else:
        try:
            from sim.commands.settle import settle_to_folder
        except ImportError:
            from sim.settle_command import settle_to_folder

        result, _ = settle_to_folder(Path(spec["path"]), catalogue_path, policy_path, [], None,
                                     None, Path(spec["out"]), parquet=True)
        count = result.summary["cases"]
    emit({"seconds": time.perf_counter() - started, "cases": count})


def year_files(cases: int) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT))
    from sim.inputs.catalogue import load_catalogue
    from sim.inputs.synthetic import synthetic_year

    WORK.mkdir(exist_ok=True)
    paths = {"parquet": WORK / f"against_{cases}.parquet", "csv": WORK / f"against_{cases}.csv"}
    if not all(p.exists() for p in paths.values()):
        catalogue = load_catalogue(ROOT / "scenarios" / "catalogues" / "guangxi_2022.csv")
        frame = synthetic_year(catalogue, cases, 1000, 2023, seed=2024)
        frame.to_parquet(paths["parquet"])
        frame.to_csv(paths["csv"], index=False)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", nargs="?")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    # written by a child: the parent stays small, so the children it forks start small (Linux
    # keeps the pre-exec peak in a child's ru_maxrss)
    run_child(Path(__file__), {"workload": "write year", "cases": args.cases}, ROOT)
    paths = {"parquet": WORK / f"against_{args.cases}.parquet",
             "csv": WORK / f"against_{args.cases}.csv"}
    other = Path(tempfile.mkdtemp(prefix="drgsim-against-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(other / "tree"), args.revision],
                   cwd=ROOT, check=True, capture_output=True)
    trees = {"this": ROOT, args.revision: other / "tree"}
    times: dict = {w: {side: [] for side in trees} for w in WORKLOADS}
    rss: dict = {w: {side: [] for side in trees} for w in WORKLOADS}
    try:
        for repetition in range(args.repeat):
            for workload in WORKLOADS:
                for side, tree in trees.items():
                    out = other / f"out-{repetition}-{side}"
                    spec = {"workload": workload, "tree": str(tree), "out": str(out),
                            "path": str(paths["csv" if "csv" in workload else "parquet"])}
                    result = run_child(Path(__file__), spec, ROOT)
                    times[workload][side].append(result["seconds"])
                    rss[workload][side].append(result["peak_rss_mib"])
                    shutil.rmtree(out, ignore_errors=True)
                print(f"repetition {repetition + 1}/{args.repeat}: {workload}: "
                      + ", ".join(f"{s} {times[workload][s][-1]:.2f} s" for s in trees),
                      file=sys.stderr)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(other / "tree")], cwd=ROOT,
                       capture_output=True)
        shutil.rmtree(other, ignore_errors=True)
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
    rows = []
    print(f"\n{args.cases:,} cases, {args.repeat} repetitions, medians (this = {revision}"
          f"{'+changes' if _dirty() else ''})")
    print(f"{'workload':<20} {'this s':>8} {args.revision + ' s':>12} {'ratio':>6} "
          f"{'this MiB':>9} {args.revision + ' MiB':>13}")
    for workload in WORKLOADS:
        this, that = median(times[workload]["this"]), median(times[workload][args.revision])
        row = {"workload": workload, "this_s": this, "other_s": that, "ratio": this / that,
               "this_peak_mib": median(rss[workload]["this"]),
               "other_peak_mib": median(rss[workload][args.revision]),
               "this_all_s": times[workload]["this"],
               "other_all_s": times[workload][args.revision]}
        rows.append(row)
        print(f"{workload:<20} {this:>8.2f} {that:>12.2f} {this / that:>6.2f} "
              f"{row['this_peak_mib']:>9,.0f} {row['other_peak_mib']:>13,.0f}")
    result = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
              "this": revision, "dirty": _dirty(), "other": args.revision,
              "cases": args.cases, "repeat": args.repeat, "rows": rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"against-{args.revision}.json").write_text(
        json.dumps(result, indent=2) + "\n", "utf-8")


def _dirty() -> bool:
    return bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
