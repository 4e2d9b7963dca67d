"""Benchmark of the region model (``drgsim run``): default region, province, patients as agents.

Workloads, each repetition in its own child process so that its peak resident memory is its own
(read with ``os.wait4`` for that child):

- ``default``: ``drgsim run`` on the default region (``scenarios/regions/default.yaml``), 5 years
  after the burn-in year, point policy, charts on: the command line's own ``main`` in the child,
  end to end, writing the run folder (to a temporary directory, removed afterwards). Reported:
  the process wall time (interpreter start-up and imports included; the target is judged on it)
  and the call alone. Target ≤ 15 s.
- ``province``: the same on ``scenarios/regions/province.yaml`` (30 M insured, ~1,040 hospitals,
  ~6 M admissions a year). Targets ≤ 180 s and ≤ 8 GB peak RSS. Run once by default (it is long).
- ``agents``: a small region (default region at ``--agents-scale`` 0.02, ``--agents-years`` 2) run
  both ways: patients as columns (``sim.model.RegionModel``) and one Mesa agent per patient
  (``benchmarks/patients_as_agents.py``, the same month done episode by episode, the rest of the
  model shared). Both are timed in-process (model construction + the SimPy calendar, no writing);
  the time in ``month_flow`` is reported separately. Aggregates of both versions are printed side
  by side (admissions per month, shares by level, CMI, upcoding, readmissions, stay, cost) and
  checked to be close, so that the speed ratio compares like with like.

For ``default`` and ``province`` the child wraps the model's steps with timers (a few hundred
calls per run, well under a millisecond in all): set-up, January (catalogue, learning), the month
(incidence, choice, induction, the rest: treatment, coding, cost sharing), quarter audits, the
year end (case table, settle, fund, metrics), tables, writing (tables, JSON, charts), and the
garbage collector's time (``gc.callbacks``). Medians over the repetitions are printed.

Results are printed as tables and written to ``benchmarks/results/run.json`` (with ``--only`` the
other workloads' earlier results in that file are kept).

    .venv/bin/python benchmarks/run.py                        # all three (about 3–4 minutes)
    .venv/bin/python benchmarks/run.py --only default --repeat 5
    .venv/bin/python benchmarks/run.py --only province --repeat 2
    .venv/bin/python benchmarks/run.py --only agents
    .venv/bin/python benchmarks/run.py --only province --profile   # cProfile of one run
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gc
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "run.json"
KIB = 1024
POLICY = "point"
SEED = 1
START_YEAR = 2023
YEARS = 5
AGENTS_SCALE = 0.02
AGENTS_YEARS = 2
TARGETS = {"default": {"seconds": 15.0}, "province": {"seconds": 180.0, "bytes": 8e9}}
SCENARIOS = {"default": "default", "province": "province"}
DEFAULT_REPEAT = {"default": 3, "province": 1, "agents": 3}
# like-for-like check of the agents workload
ADMISSIONS_TOLERANCE = 0.03     # relative, admissions per month
SHARE_TOLERANCE = 0.03          # absolute, share of cases by level


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# stage timers (child side)


class StageTimer:
    """Wraps functions and methods; totals inclusive seconds by call path ("a/b/c")."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.stack: list[str] = []
        self.cases = 0
        self.gc_seconds: dict[str, float] = {}
        self._gc_start = 0.0

    def wrap(self, owner, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)
        timer = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            timer.stack.append(name)
            key = "/".join(timer.stack)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timer.seconds[key] = timer.seconds.get(key, 0.0) + time.perf_counter() - start
                timer.calls[key] = timer.calls.get(key, 0) + 1
                timer.stack.pop()

        setattr(owner, attribute, timed)

    def gc_callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        where = "/".join(self.stack[:2]) or "(outside)"
        seconds = time.perf_counter() - self._gc_start
        for key in (f"generation {info['generation']}", f"in {where}"):
            self.gc_seconds[key] = self.gc_seconds.get(key, 0.0) + seconds


def _module(*names):
    """The first of ``names`` that imports (``sim/`` was grouped into rooms in issue 8: an
    earlier revision under ``--against`` has the flat layout), or None."""
    import importlib

    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def install_stage_timers(charts: bool = True) -> StageTimer:
    """Wrap the steps of ``run_to_folder`` (this process only; sim/ is not changed). A step the
    imported tree does not have (an earlier revision) is left out. Without ``charts`` nothing of
    the report is imported (``--no-charts`` loads no matplotlib)."""
    import agents.bureau
    import agents.patients

    run = _module("sim.commands.run", "sim.run_command")  # rooms (issue 8) or the flat layout
    model = _module("sim.model.model", "sim.model")
    FundLedger = _module("sim.model.fund", "sim.fund").FundLedger  # noqa: N806
    YearRecorder = _module("sim.model.metrics", "sim.metrics").YearRecorder  # noqa: N806
    RegionModel = model.RegionModel  # noqa: N806
    RunFolder = _module("sim.store").RunFolder  # noqa: N806

    timer = StageTimer()
    plan = [
        (run, "load_region_config", "read region"),
        (run, "load_policy", "read policy"),
        (RegionModel, "__init__", "set-up"),
        (model, "build_region", "build region"),
        (RegionModel, "_calibrate_costs", "calibration"),
        (run, "run_calendar", "calendar"),
        (RegionModel, "year_start", "January"),
        (agents.bureau, "year_catalogue", "catalogue"),
        (RegionModel, "_adapt_hospitals", "learning"),
        (RegionModel, "month_flow", "month"),
        (agents.patients, "draw_episodes", "incidence"),
        (agents.patients, "choose_hospitals", "choice"),
        (RegionModel, "_induced_episodes", "induction"),
        (YearRecorder, "month_row", "month row"),
        (RegionModel, "quarter_review", "quarter audit"),
        (RegionModel, "year_end", "year end"),
        (RegionModel, "_case_table", "case table"),
        (model, "settle", "settle"),
        (FundLedger, "close_year", "fund"),
        (YearRecorder, "year_rows", "metrics"),
        (RegionModel, "tables", "tables"),
        (run, "run_record", "run record"),
        (RunFolder, "write_table", "write tables"),
        (RunFolder, "write_json", "write JSON"),
        (run, "run_charts", "charts"),  # earlier revisions import it at the top
        (RunFolder, "commit", "commit folder"),
    ]
    if charts:  # later revisions import the report when it is drawn
        briefing = _module("sim.report.briefing")  # the run's report (issue 14), if any
        plan[-1:-1] = [
            (_module("sim.report.run_report"), "build_run_report", "report"),
            (_module("sim.report.charts"), "run_charts", "charts"),
            (briefing, "inline_font_face", "font subset"),
            (getattr(_module("sim.report.pdf"), "PdfPrint", None), "finish", "PDF wait"),
        ]
    for owner, attribute, name in plan:
        if owner is not None and hasattr(owner, attribute):
            timer.wrap(owner, attribute, name)
    original_row = YearRecorder.month_row

    def counting_row(recorder, state, month, chunk):
        timer.cases += len(chunk["cost"])
        return original_row(recorder, state, month, chunk)

    YearRecorder.month_row = counting_row
    gc.callbacks.append(timer.gc_callback)
    return timer


# --------------------------------------------------------------------------------------------
# workloads (child side)


def _use_tree(spec: dict) -> None:
    """Import ``sim`` and ``agents`` from ``spec["tree"]`` (another revision's worktree) when
    given, else from this one; checked, so that a comparison never times one tree twice."""
    tree = Path(spec.get("tree") or ROOT).resolve()
    # the editable install's finder maps the project's packages (sim, agents, calibration …)
    # to this checkout ahead of sys.path: without it every package comes from ``tree``
    sys.meta_path[:] = [finder for finder in sys.meta_path
                        if not getattr(finder, "__module__", "").startswith("__editable__")
                        and not type(finder).__module__.startswith("__editable__")]
    sys.path.insert(0, str(tree))
    import sim

    assert Path(sim.__file__).resolve().is_relative_to(tree), (sim.__file__, tree)


def work_e2e(spec: dict) -> dict:
    """``drgsim run`` through the command line's ``main``, timed by stage."""
    _use_tree(spec)
    start = time.perf_counter()
    cli = _module("sim.commands.cli", "sim.cli")
    _module("sim.commands.run", "sim.run_command")
    if spec.get("charts", True):
        _module("sim.report.charts")  # matplotlib: imported here, not inside the call

    imported = time.perf_counter() - start
    timer = install_stage_timers(spec.get("charts", True))
    out = Path(spec["out"])
    argv = ["run", spec["scenario"], "--policy", spec["policy"], "--years", str(spec["years"]),
            "--start-year", str(spec["start_year"]), "--seed", str(spec["seed"]),
            "--out", str(out)]
    if spec.get("scale", 1.0) != 1.0:
        argv += ["--scale", str(spec["scale"])]
    if not spec.get("charts", True):
        argv += ["--no-charts"]
    printed = io.StringIO()
    profiler = None
    if spec.get("cprofile"):
        import cProfile

        profiler = cProfile.Profile()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        if profiler is not None:
            code = profiler.runcall(cli.main, argv)
        else:
            code = cli.main(argv)
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"drgsim run exited with {code}")
    written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result = {"seconds": seconds, "import_seconds": imported, "stages": timer.seconds,
              "calls": timer.calls, "cases": timer.cases, "gc_seconds": timer.gc_seconds,
              "output_bytes": written, "cli_output": printed.getvalue().splitlines()[:1]}
    if profiler is not None:
        import pstats

        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        result["cprofile"] = text.getvalue()
    return result


def work_import(spec: dict) -> dict:
    """What ``drgsim run --no-charts`` imports before it runs: the command line and the run
    command's modules, without matplotlib (seconds from a fresh interpreter's first import)."""
    _use_tree(spec)
    start = time.perf_counter()
    _module("sim.commands.cli", "sim.cli")
    _module("sim.commands.run", "sim.run_command")
    _module("sim.model.model", "sim.model")
    seconds = time.perf_counter() - start
    loaded = "matplotlib" in sys.modules
    if spec.get("warm"):  # a warm-up: the report's modules compiled too (not timed)
        _module("sim.report.run_report")
        _module("sim.report.charts")
    return {"seconds": seconds, "matplotlib_loaded": loaded}


def work_import_floor(spec: dict) -> dict:
    """The floor under the import of ``drgsim run``: numpy, pandas and Mesa alone (hospitals are
    Mesa agents, ARCHITECTURE §3.3; Mesa 3.3 loads pandas and scipy.spatial itself)."""
    start = time.perf_counter()
    import mesa  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    return {"seconds": time.perf_counter() - start}


def work_floor(spec: dict) -> dict:
    """The random-number floor: only the draws a run makes in bulk, at the counts of a run
    (``cases`` episodes a year) — for each month and episode, since issue 13: ten uniforms
    (county, family, severity, refusal, capacity order, readmission, split, coding, review,
    audit), three float32 uniforms of the choice model (first choice, capable choice, choice
    after a refusal) and two lognormals (need, stay). Before issue 13 a run also drew a Gumbel
    taste per episode and candidate hospital (25 a row), which made most of the floor. No
    model."""
    import numpy as np

    rng = np.random.default_rng(spec["seed"])
    per_month = int(spec["cases"] / 12 / spec["years"])
    start = time.perf_counter()
    for _ in range(12 * (spec["years"] + 1)):  # the burn-in year too
        rng.random((per_month, 10))
        rng.random((3, per_month), dtype=np.float32)
        rng.lognormal(0.0, 0.35, (2, per_month))
    return {"seconds": time.perf_counter() - start}


def work_compare(spec: dict) -> dict:
    """One version (columns or agents) of the small region, ``repeat`` times in this process."""
    sys.path.insert(0, str(HERE))
    from patients_as_agents import PatientAgentsModel, aggregates
    from tqdm import tqdm

    from sim.inputs.policy import load_policy
    from sim.inputs.region import load_region_config
    from sim.model.calendar import run_calendar
    from sim.model.model import RegionModel
    from sim.resources import resolve

    cls = PatientAgentsModel if spec["version"] == "agents" else RegionModel
    month_seconds = [0.0]
    original = cls.month_flow

    def timed_month(model, month):
        start = time.perf_counter()
        original(model, month)
        month_seconds[0] += time.perf_counter() - start

    cls.month_flow = timed_month
    config, _ = load_region_config(spec["scenario"])
    policy = load_policy(resolve(spec["policy"], "policies", ".yaml"), [])
    times, month_times, cases, summary = [], [], None, None
    for _ in tqdm(range(spec["repeat"]), desc=f"{spec['version']} runs", leave=False,
                  file=sys.stderr, dynamic_ncols=True):
        month_seconds[0] = 0.0
        start = time.perf_counter()
        model = cls(config, policy, start_year=spec["start_year"], years=spec["years"],
                    seed=spec["seed"], scale=spec["scale"])
        run_calendar(model, progress=False)
        times.append(time.perf_counter() - start)
        month_times.append(month_seconds[0])
        cases = sum(row["admissions"] for row in model.monthly_rows)
        summary = aggregates(model)
        del model
    return {"times": times, "month_times": month_times, "cases": cases, "aggregates": summary}


WORKLOADS = {"e2e": work_e2e, "compare": work_compare, "import": work_import,
             "floor": work_floor, "import floor": work_import_floor}


def child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    result = WORKLOADS[spec["workload"]](spec)
    _childproc().emit(result)


# --------------------------------------------------------------------------------------------
# the parent: run children, collect, print, record


def _childproc():
    """The shared child-process helpers (``childproc.py`` beside this script)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import childproc

    return childproc


def run_child(spec: dict) -> dict:
    """One workload in a fresh interpreter, measured alone (see ``childproc.py``)."""
    return _childproc().run_child(Path(__file__), spec, ROOT)


def _median(values):
    return _childproc().median(values)


def cache_bytecode() -> None:
    """Children compile each module once, as an installed drgsim does, not at every start: this
    machine's environment sets PYTHONDONTWRITEBYTECODE, under which drgsim's own modules (not
    the installed packages, which ship their bytecode) were compiled from source in every
    child (~0.2 s of each start, both trees alike). The bytecode goes to a temporary folder
    (``PYTHONPYCACHEPREFIX``), not into the trees; a warm-up child fills it."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = Path(tempfile.mkdtemp(prefix="drgsim-bench-pycache-"))
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    import atexit

    atexit.register(shutil.rmtree, cache, True)
    run_child({"workload": "import", "warm": True})  # this tree's modules compiled


def bench_e2e(name: str, repeat: int, args) -> dict:
    runs = []
    for index in range(repeat):
        _log(f"[{name}] drgsim run {SCENARIOS[name]}, {args.years} years: "
             f"repetition {index + 1}/{repeat} …")
        out = Path(tempfile.mkdtemp(prefix=f"drgsim-bench-{name}-"))
        try:
            result = run_child({"workload": "e2e", "scenario": SCENARIOS[name],
                                "policy": POLICY, "years": args.years,
                                "start_year": START_YEAR, "seed": SEED,
                                "out": str(out / "run")})
        finally:
            shutil.rmtree(out, ignore_errors=True)
        _log(f"[{name}]   {result['process_wall_seconds']:.1f} s (call {result['seconds']:.1f} s)"
             f", peak RSS {result['peak_rss_mib']:,.0f} MiB, {result['cases']:,} cases")
        runs.append(result)
    keys = list(dict.fromkeys(k for run in runs for k in run["stages"]))
    gc_keys = list(dict.fromkeys(k for run in runs for k in run["gc_seconds"]))
    return {
        "scenario": SCENARIOS[name], "years": args.years, "policy": POLICY, "seed": SEED,
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "repetitions": repeat,
        "process_wall_s": [round(r["process_wall_seconds"], 3) for r in runs],
        "call_s": [round(r["seconds"], 3) for r in runs],
        "import_s": [round(r["import_seconds"], 3) for r in runs],
        "median_process_wall_s": _median([r["process_wall_seconds"] for r in runs]),
        "median_call_s": _median([r["seconds"] for r in runs]),
        "min_process_wall_s": min(r["process_wall_seconds"] for r in runs),
        "peak_rss_mib": [round(r["peak_rss_mib"], 1) for r in runs],
        "max_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "cases": runs[0]["cases"],
        "output_bytes": runs[0]["output_bytes"],
        "stages_median_s": {k: _median([r["stages"].get(k, 0.0) for r in runs]) for k in keys},
        "stage_calls": runs[0]["calls"],
        "gc_median_s": {k: _median([r["gc_seconds"].get(k, 0.0) for r in runs])
                        for k in gc_keys},
        "cli_output": runs[0]["cli_output"],
    }


def bench_agents(repeat: int, args) -> dict:
    versions = {}
    for version in ("columns", "agents"):
        _log(f"[agents] {version}: default region × {args.agents_scale}, {args.agents_years} "
             f"years, {repeat} runs in one process …")
        result = run_child({"workload": "compare", "version": version, "scenario": "default",
                            "policy": POLICY, "scale": args.agents_scale,
                            "years": args.agents_years, "start_year": START_YEAR,
                            "seed": SEED, "repeat": repeat})
        median, month = _median(result["times"]), _median(result["month_times"])
        _log(f"[agents]   median {median:.2f} s (month flow {month:.2f} s), "
             f"{result['cases']:,} cases, peak RSS {result['peak_rss_mib']:,.0f} MiB")
        versions[version] = {
            "repetitions": repeat, "run_s": [round(t, 4) for t in result["times"]],
            "month_flow_s": [round(t, 4) for t in result["month_times"]],
            "median_run_s": median, "median_month_flow_s": month,
            "cases": result["cases"], "month_flow_cases_per_s": result["cases"] / month,
            "peak_rss_mib": result["peak_rss_mib"], "aggregates": result["aggregates"]}
    columns, agents = versions["columns"], versions["agents"]
    comparison = compare_aggregates(columns["aggregates"], agents["aggregates"])
    return {
        "scenario": "default", "scale": args.agents_scale, "years": args.agents_years,
        "policy": POLICY, "seed": SEED,
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        **versions,
        "speed_ratio_run": agents["median_run_s"] / columns["median_run_s"],
        "speed_ratio_month_flow": agents["median_month_flow_s"] / columns["median_month_flow_s"],
        "comparison": comparison,
    }


def compare_aggregates(columns: dict, agents: dict) -> dict:
    rows = []
    for key, value in columns.items():
        if key in ("months", "years"):
            continue
        other = agents[key]
        if key.startswith("share_"):
            difference, kind, limit = other - value, "points", SHARE_TOLERANCE
        else:
            difference, kind = (other - value) / value if value else float("nan"), "relative"
            limit = ADMISSIONS_TOLERANCE if key == "admissions_per_month" else None
        rows.append({"measure": key, "columns": value, "agents": other,
                     "difference": difference, "kind": kind, "tolerance": limit,
                     "ok": None if limit is None else abs(difference) <= limit})
    checked = [row["ok"] for row in rows if row["ok"] is not None]
    return {"rows": rows, "like_for_like": all(checked)}


def machine() -> dict:
    import mesa
    import numpy
    import pandas

    cpu, memory = "", None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(int(line.split()[1]) for line in
                      Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")) / KIB / KIB
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": memory and round(memory, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "numpy": numpy.__version__, "pandas": pandas.__version__, "mesa": mesa.__version__,
            "load_average_at_start": os.getloadavg()}


def targets(workloads: dict) -> list[dict]:
    checks = []
    for name in ("default", "province"):
        result = workloads.get(name)
        if not result:
            continue
        goal = TARGETS[name]
        wall = result["median_process_wall_s"]
        checks.append({"target": f"{name}: drgsim run, {result['years']} years, end to end "
                                 f"≤ {goal['seconds']:g} s",
                       "value": f"{wall:.1f} s process wall (median of "
                                f"{result['repetitions']}), {result['median_call_s']:.1f} s in "
                                "the call",
                       "met": wall <= goal["seconds"]})
        if "bytes" in goal:
            peak = result["max_peak_rss_mib"] * KIB * KIB
            checks.append({"target": f"{name}: peak memory ≤ {goal['bytes'] / 1e9:g} GB",
                           "value": f"{peak / 1e9:.2f} GB ({result['max_peak_rss_mib']:,.0f} "
                                    "MiB)",
                           "met": peak <= goal["bytes"]})
    agents = workloads.get("agents")
    if agents:
        checks.append({"target": "agents: both versions give like aggregates (admissions per "
                                 f"month within {ADMISSIONS_TOLERANCE:.0%}, shares by level "
                                 f"within {SHARE_TOLERANCE * 100:g} points)",
                       "value": "yes" if agents["comparison"]["like_for_like"] else "no",
                       "met": agents["comparison"]["like_for_like"]})
    return checks


# --------------------------------------------------------------------------------------------
# report


def _stage_lines(stages: dict[str, float]) -> list[str]:
    """Stage medians as an indented tree, with the parent's time not in any child."""
    lines = []
    children: dict[str, list[str]] = {}
    for key in stages:
        parent = key.rsplit("/", 1)[0] if "/" in key else ""
        children.setdefault(parent, []).append(key)

    def walk(key: str, depth: int) -> None:
        label = "  " * depth + key.rsplit("/", 1)[-1]
        lines.append(f"  {label:<34}{stages[key]:>9.2f}")
        kids = children.get(key, [])
        for kid in kids:
            walk(kid, depth + 1)
        if kids:
            rest = stages[key] - sum(stages[k] for k in kids)
            lines.append(f"  {'  ' * (depth + 1) + '(rest)':<34}{rest:>9.2f}")

    for key in children.get("", []):
        walk(key, 0)
    return lines


def print_report(record: dict) -> None:
    line = "-" * 104
    workloads = record["workloads"]
    print(f"\nrun benchmark — {record['date']} — {record['machine']['cores']} cores, "
          f"{record['machine']['cpu']}; medians of the repetitions")
    print(line)
    print(f"{'workload':<38}{'reps':>5}{'wall s':>9}{'call s':>9}{'min s':>8}{'cases':>13}"
          f"{'peak RSS MiB':>14}")
    print(line)
    for name in ("default", "province"):
        result = workloads.get(name)
        if not result:
            continue
        label = f"{name}: drgsim run, {result['years']} y"
        print(f"{label:<38}{result['repetitions']:>5}{result['median_process_wall_s']:>9.2f}"
              f"{result['median_call_s']:>9.2f}{result['min_process_wall_s']:>8.2f}"
              f"{result['cases']:>13,}{result['max_peak_rss_mib']:>14,.0f}")
    agents = workloads.get("agents")
    if agents:
        for version in ("columns", "agents"):
            result = agents[version]
            label = (f"small ×{agents['scale']:g}, {agents['years']} y: "
                     f"{'columns' if version == 'columns' else 'agent per patient'}")
            print(f"{label:<38}{result['repetitions']:>5}{result['median_run_s']:>9.2f}"
                  f"{'':>9}{min(result['run_s']):>8.2f}{result['cases']:>13,}"
                  f"{result['peak_rss_mib']:>14,.0f}")
            print(f"{'  of which month flow':<38}{'':>5}{result['median_month_flow_s']:>9.2f}"
                  f"{'':>9}{'':>8}{result['month_flow_cases_per_s']:>13,.0f}  cases/s")
        ratio = "×" + format(agents["speed_ratio_run"], ".1f")
        print(f"{'columns ÷ agents speed':<38}{'':>5}{ratio:>9}"
              f"  whole run;  ×{agents['speed_ratio_month_flow']:.0f} month flow alone")
        default = workloads.get("default")
        month = default and default["stages_median_s"].get("calendar/month")
        if month:
            rate = default["cases"] / month
            print(f"{'  (columns month flow, full default)':<38}{'':>5}{month:>9.2f}{'':>9}"
                  f"{'':>8}{rate:>13,.0f}  cases/s: ×"
                  f"{rate / agents['agents']['month_flow_cases_per_s']:.0f} the agents' rate")
    print(line)
    for name in ("default", "province"):
        result = workloads.get(name)
        if not result:
            continue
        print(f"stages of {name} (median s over {result['repetitions']} run(s); inclusive; "
              f"call {result['median_call_s']:.2f} s)")
        for text in _stage_lines(result["stages_median_s"]):
            print(text)
        gc_total = sum(v for k, v in result["gc_median_s"].items()
                       if k.startswith("generation"))
        where = sorted(((v, k) for k, v in result["gc_median_s"].items()
                        if k.startswith("in ")), reverse=True)[:4]
        print(f"  garbage collector: {gc_total:.2f} s in all ("
              + ", ".join(f"{k[3:]} {v:.2f}" for v, k in where) + ")")
        print(line)
    if agents:
        comparison = agents["comparison"]
        print(f"like-for-like check, small region (columns vs one agent per patient; "
              f"{agents['columns']['aggregates'].get('years', 0)} simulated years + burn-in):")
        print(f"  {'measure':<24}{'columns':>12}{'agents':>12}{'difference':>14}  ok")
        for row in comparison["rows"]:
            if row["kind"] == "points":
                diff = f"{row['difference'] * 100:+.2f} pt"
            else:
                diff = f"{row['difference'] * 100:+.2f} %"
            ok = "" if row["ok"] is None else ("yes" if row["ok"] else "NO")
            print(f"  {row['measure']:<24}{row['columns']:>12,.4g}{row['agents']:>12,.4g}"
                  f"{diff:>14}  {ok}")
        province = workloads.get("province")
        if province:
            per_case = 1 / agents["agents"]["month_flow_cases_per_s"]
            print(f"  at the measured agent rate, the province's {province['cases']:,} cases "
                  f"would take ≈ {province['cases'] * per_case / 60:,.0f} min of patient flow "
                  "alone")
        print(line)
    for check in record["targets"]:
        print(f"{'MET ' if check['met'] else 'MISS'}  {check['target']}: {check['value']}")


# --------------------------------------------------------------------------------------------


AGAINST = {  # workload -> (child spec, what is compared), for --against
    "default": ({"workload": "e2e", "scenario": "default", "scale": 1.0}, "process_wall_seconds"),
    "scale 0.1": ({"workload": "e2e", "scenario": "default", "scale": 0.1},
                  "process_wall_seconds"),
    "province": ({"workload": "e2e", "scenario": "province", "scale": 1.0},
                 "process_wall_seconds"),
    "import": ({"workload": "import"}, "seconds"),
    "import floor": ({"workload": "import floor"}, "seconds"),  # numpy, pandas, Mesa alone
    # the model without charts and reports (``--no-charts``): since issue 14 a run with charts
    # also writes both languages' charts, HTML reports and PDFs, which 330f7c7 did not
    "default, no charts": ({"workload": "e2e", "scenario": "default", "scale": 1.0,
                            "charts": False}, "process_wall_seconds"),
    "scale 0.1, no charts": ({"workload": "e2e", "scenario": "default", "scale": 0.1,
                              "charts": False}, "process_wall_seconds"),
}
AGAINST_TARGETS = {"default": 3.0, "scale 0.1": 3.0, "province": 3.0}  # speed-up ≥


def bench_against(revision: str, selected: list[str], repeat: int | None, args) -> dict:
    """Each selected workload on this tree and on ``revision`` (a temporary git worktree),
    alternating repetition by repetition so that both see the same machine load; medians and
    the speed-up other ÷ this. Plus the random-number floor of a default run, on this tree."""
    other = Path(tempfile.mkdtemp(prefix="drgsim-against-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(other),
                    revision], check=True, capture_output=True)
    rows, floor = [], None
    try:
        for tree in (ROOT, other):  # each tree's modules compiled once, before any timing
            run_child({"workload": "import", "tree": str(tree), "warm": True})
        for name in selected:
            spec, measure = AGAINST[name]
            times = {"this": [], "other": []}
            cpu = {"this": [], "other": []}
            stages = {"this": [], "other": []}
            peaks = {"this": [], "other": []}
            cases = {"this": None, "other": None}
            count = repeat or (1 if name == "province" else 3)
            for index in range(count):
                for side, tree in (("this", ROOT), ("other", other)):
                    out = Path(tempfile.mkdtemp(prefix="drgsim-bench-"))
                    try:
                        _log(f"[against {revision}] {name} on {side}: {index + 1}/{count} …")
                        result = run_child({**spec, "tree": str(tree), "policy": POLICY,
                                            "years": args.years, "start_year": START_YEAR,
                                            "seed": SEED, "out": str(out / "run")})
                    finally:
                        shutil.rmtree(out, ignore_errors=True)
                    times[side].append(result[measure])
                    cpu[side].append(result["process_cpu_seconds"])
                    stages[side].append(result.get("stages") or {})
                    peaks[side].append(result["peak_rss_mib"])
                    cases[side] = result.get("cases")
                    if name == "default" and side == "this" and floor is None:
                        floor = run_child({"workload": "floor", "cases": result["cases"],
                                           "years": args.years, "seed": SEED})
                        floor["run_seconds"] = result["seconds"]
            this, that = _median(times["this"]), _median(times["other"])
            this_cpu, that_cpu = _median(cpu["this"]), _median(cpu["other"])
            rows.append({"workload": name, "measure": measure, "this_s": this, "other_s": that,
                         "speed_up": that / this if this else None,
                         "this_all_s": times["this"], "other_all_s": times["other"],
                         # the whole child process's CPU seconds (the import workload's too)
                         "this_cpu_s": this_cpu, "other_cpu_s": that_cpu,
                         "cpu_speed_up": that_cpu / this_cpu if this_cpu else None,
                         "this_all_cpu_s": cpu["this"], "other_all_cpu_s": cpu["other"],
                         "this_stages_s": _stage_medians(stages["this"]),
                         "other_stages_s": _stage_medians(stages["other"]),
                         "this_peak_mib": max(peaks["this"]),
                         "other_peak_mib": max(peaks["other"]),
                         "target_speed_up": AGAINST_TARGETS.get(name),
                         # the trees may simulate different numbers of admissions (the default
                         # region changed in issue 10): the speed-up per case as well
                         "this_cases": cases["this"], "other_cases": cases["other"],
                         "speed_up_per_case": (that / cases["other"]) / (this / cases["this"])
                         if cases["this"] and cases["other"] and this else None})
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)],
                       check=False, capture_output=True)
        shutil.rmtree(other.parent, ignore_errors=True)
    return {"against": revision, "rows": rows, "floor": floor}


def revision_of(tree: Path) -> str:
    """The tree's git revision, with "+changes" when its files differ from it."""
    def git(*command):
        return subprocess.run(["git", "-C", str(tree), *command], capture_output=True,
                              text=True, check=False).stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + ("+changes" if changed else "")


def keep_earlier_rows(record: dict, path: Path) -> dict:
    """The record with the rows of workloads it did not run kept from the file's earlier
    invocation (e.g. the province, run on its own with ``--only province``), each row with its
    own date; the earlier invocations' dates, revisions and load averages are listed."""
    try:
        earlier = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return record
    done = {row["workload"] for row in record["rows"]}
    kept = [{**row, "date": row.get("date", earlier.get("date"))}
            for row in earlier.get("rows", []) if row["workload"] not in done]
    invocations = [{key: earlier.get(key) for key in ("date", "revision", "repeat",
                                                       "load_average_at_end")}
                   | {"load_average_at_start": (earlier.get("machine") or {}).get(
                       "load_average_at_start"),
                      "workloads": [row["workload"] for row in earlier.get("rows", [])]}]
    invocations += earlier.get("earlier_invocations", [])
    floor = record.get("floor") or earlier.get("floor")  # the default run's, when not run now
    return {**record, "rows": record["rows"] + kept, "floor": floor,
            "earlier_invocations": invocations}


def _stage_medians(runs: list[dict]) -> dict[str, float]:
    keys = list(dict.fromkeys(k for run in runs for k in run))
    return {k: _median([run.get(k, 0.0) for run in runs]) for k in keys}


def _stages_side_by_side(this: dict[str, float], other: dict[str, float]) -> list[str]:
    """Both trees' stage medians as one indented tree (a stage one tree lacks is blank)."""
    union = {**{k: None for k in other}, **{k: None for k in this}}
    this_lines = _stage_lines({k: this.get(k, 0.0) for k in union})
    other_lines = _stage_lines({k: other.get(k, 0.0) for k in union})
    lines = []
    for mine, theirs in zip(this_lines, other_lines, strict=True):
        lines.append(f"{mine}{theirs[-9:]}")
    return lines


def print_against(record: dict) -> None:
    print(f"\nthis tree against {record['against']} (medians; speed-up = other ÷ this; CPU: "
          "the child process's user + system seconds)")
    print(f"{'workload':<22}{'this s':>10}{'other s':>10}{'speed-up':>10}{'per case':>10}"
          f"{'target':>8}{'this CPU':>10}{'other CPU':>10}{'CPU ×':>7}{'this MiB':>10}"
          f"{'other MiB':>10}")
    for row in record["rows"]:
        target = f"≥{row['target_speed_up']:g}" if row["target_speed_up"] else ""
        per_case = (f"{row['speed_up_per_case']:.2f}" if row["speed_up_per_case"] is not None
                    else "")
        print(f"{row['workload']:<22}{row['this_s']:>10.2f}{row['other_s']:>10.2f}"
              f"{row['speed_up']:>10.2f}{per_case:>10}{target:>8}"
              f"{row['this_cpu_s']:>10.2f}{row['other_cpu_s']:>10.2f}"
              f"{row['cpu_speed_up']:>7.2f}"
              f"{row['this_peak_mib']:>10,.0f}{row['other_peak_mib']:>10,.0f}")
    for row in record["rows"]:
        if row.get("this_stages_s"):
            print(f"\nstages of {row['workload']} (median wall s, inclusive):"
                  f"{'this':>9}{'other':>9}")
            for line in _stages_side_by_side(row["this_stages_s"], row["other_stages_s"]):
                print(line)
    floor = record.get("floor")
    if floor:
        print(f"random-number floor of the default run (this tree): {floor['seconds']:.2f} s; "
              f"the run's call takes {floor['run_seconds'] / floor['seconds']:.1f}× the floor")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("default", "province", "agents", "scale 0.1",
                                           "import", "import floor", "default, no charts",
                                           "scale 0.1, no charts"), action="append",
                        help="run only this workload (may be given more than once)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="repetitions of every selected workload (default: 3 for default "
                             "and agents, 1 for province)")
    parser.add_argument("--years", type=int, default=YEARS,
                        help="simulated years of default and province")
    parser.add_argument("--agents-scale", type=float, default=AGENTS_SCALE)
    parser.add_argument("--agents-years", type=int, default=AGENTS_YEARS)
    parser.add_argument("--profile", action="store_true",
                        help="only print a cProfile of one run of the (single) --only workload "
                             "(default or province)")
    parser.add_argument("--json", type=Path, default=RESULTS,
                        help=f"where to write the results (default {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--against", metavar="REV",
                        help="run default, scale 0.1, import and both runs with --no-charts "
                             "(and province with --only province) on this tree and on git "
                             "revision REV side by side, and report the speed-ups")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0
    cache_bytecode()
    if args.against:
        chosen = [n for n in (args.only or []) if n in AGAINST] or [
            "default", "scale 0.1", "import", "import floor", "default, no charts",
            "scale 0.1, no charts"]
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        record = {"benchmark": "benchmarks/run.py --against",
                  "date": started, "machine": machine(), "years": args.years,
                  "revision": revision_of(ROOT), "repeat": args.repeat,
                  **bench_against(args.against, chosen, args.repeat, args)}
        record["load_average_at_end"] = os.getloadavg()
        for row in record["rows"]:
            row["date"] = started
        print_against(record)
        path = HERE / "results" / f"against-run-{args.against}.json"
        record = keep_earlier_rows(record, path)
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", "utf-8")
        print(f"\nwritten: {path.relative_to(ROOT)}")
        return 0
    selected = args.only or ["default", "province", "agents"]
    if args.profile:
        name = selected[0]
        if name not in SCENARIOS:
            parser.error("--profile needs --only default or --only province")
        out = Path(tempfile.mkdtemp(prefix="drgsim-bench-profile-"))
        try:
            result = run_child({"workload": "e2e", "scenario": SCENARIOS[name], "policy": POLICY,
                                "years": args.years, "start_year": START_YEAR, "seed": SEED,
                                "out": str(out / "run"), "cprofile": True})
        finally:
            shutil.rmtree(out, ignore_errors=True)
        print(result["cprofile"])
        print(f"call {result['seconds']:.1f} s, peak RSS {result['peak_rss_mib']:,.0f} MiB "
              "(under the profiler)")
        return 0

    started = dt.datetime.now().astimezone()
    host = machine()
    workloads = {}
    if args.json.exists():
        try:
            workloads = json.loads(args.json.read_text("utf-8")).get("workloads", {})
        except (OSError, ValueError):
            workloads = {}
    for name in ("default", "province", "agents"):
        if name not in selected:
            continue
        repeat = args.repeat or DEFAULT_REPEAT[name]
        if name == "agents":
            workloads[name] = bench_agents(repeat, args)
        else:
            workloads[name] = bench_e2e(name, repeat, args)
    record = {"benchmark": "benchmarks/run.py",
              "date": started.isoformat(timespec="seconds"), "machine": host,
              "settings": {"only": selected, "repeat": args.repeat, "years": args.years,
                           "agents_scale": args.agents_scale, "agents_years": args.agents_years,
                           "policy": POLICY, "seed": SEED, "start_year": START_YEAR},
              "seconds": round((dt.datetime.now().astimezone() - started).total_seconds(), 1),
              "workloads": workloads}
    record["targets"] = targets(workloads)
    print_report(record)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", "utf-8")
    shown = args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json
    print(f"\nwritten: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
