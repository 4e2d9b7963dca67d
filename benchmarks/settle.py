"""Benchmark of the settlement: end to end (read → write), the settlement alone, the rules alone.

Synthetic years (``sim.inputs.synthetic.synthetic_year``) of 1 M and 5 M cases over 1,000
hospitals and the Guangxi catalogue, settled under the shipped point policy. Workloads, each in its
own child process so that its peak resident memory is its own (``os.wait4`` for that child):

- ``e2e parquet`` / ``e2e csv``: ``settle_to_folder`` on a Parquet (CSV) case file: read,
  validate, settle, write the run folder (CSV + Parquet tables, JSON). One fresh process per
  repetition; the time is the call itself, the process wall time (start-up and imports
  included) is reported next to it.
- ``settle``: ``settle(cases, catalogue, policy)`` on an already loaded ``CaseTable``.
- ``rules``: what ``settle`` does between loading and hospital money: group references
  (``group_reference``, §1.6, §2.2, §2.4), then the per-case chain: case classes (§2.3),
  coefficients (§2.4), points (§2.5), pre-review points (§2.6) and per-hospital sums.
  ``chain`` is the per-case part alone (references given).
- ``loop``: the same per-case chain as a plain Python loop (``benchmarks/loop_reference.py``)
  on a subsample (first 100 k cases, references from the whole year); the vectorised chain is
  timed on the same subsample and both are checked to agree.
- ``stages``: one ``settle_to_folder`` taken apart: read, validate, settle (and its parts),
  run record, writing each table.

Generated years are cached in ``benchmarks/_work/`` (one per size, hospitals and seed). Results
are printed as a table and written to ``benchmarks/results/settle.json``.

    .venv/bin/python benchmarks/settle.py                     # 1 M and 5 M (about 3.5 minutes)
    .venv/bin/python benchmarks/settle.py --quick             # 200 k, a smoke run
    .venv/bin/python benchmarks/settle.py --sizes 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
RESULTS = HERE / "results" / "settle.json"
QUICK_RESULTS = WORK / "settle-quick.json"
HOSPITALS = 1000
YEAR = 2023
SEED = 2024
LOOP_CASES = 100_000
CSV_MAX = 1_000_000
BIG = 2_000_000              # sizes from here are "big": fewer repetitions by default
TARGET_RULES = 5e6           # cases per second
TARGET_E2E_SIZE = 5_000_000
TARGET_E2E_SECONDS = 20.0
TARGET_E2E_BYTES = 4e9       # 4 GB (decimal)
KIB = 1024


# --------------------------------------------------------------------------------------------
# inputs


def _inputs():
    from sim.resources import shipped

    return (shipped("catalogues", "guangxi_2022", ".csv"),
            shipped("policies", "point", ".yaml"))


def _synthetic_source_hash() -> str:
    import sim.inputs.synthetic

    return hashlib.sha256(Path(sim.inputs.synthetic.__file__).read_bytes()).hexdigest()[:16]


def data_paths(size: int, hospitals: int, seed: int) -> dict[str, Path]:
    stem = WORK / f"year_{size}_h{hospitals}_s{seed}"
    return {"parquet": stem.with_suffix(".parquet"), "csv": stem.with_suffix(".csv"),
            "meta": stem.with_suffix(".meta.json")}


def data_key(size: int, hospitals: int, seed: int) -> dict:
    from sim.inputs.catalogue import file_sha256

    catalogue, _ = _inputs()
    return {"cases": size, "hospitals": hospitals, "seed": seed, "year": YEAR,
            "catalogue_sha256": file_sha256(catalogue), "synthetic_py": _synthetic_source_hash()}


def cached(size: int, hospitals: int, seed: int, csv: bool) -> bool:
    paths = data_paths(size, hospitals, seed)
    if not paths["meta"].exists() or not paths["parquet"].exists():
        return False
    if csv and not paths["csv"].exists():
        return False
    meta = json.loads(paths["meta"].read_text("utf-8"))
    return meta.get("key") == data_key(size, hospitals, seed)


# --------------------------------------------------------------------------------------------
# the vectorised per-case chain (what settle does for the point family, with sim.rules)


def vectorised_chain(cases, reference, policy, mean_cost_all: float | None = None) -> dict:
    """§2.3 classes, §2.4 coefficients, §2.5 points, §2.6 pre-review points, hospital sums.

    The same calls as ``sim.settlement.settle`` for a method without exclusions.
    """
    import numpy as np

    from sim.rules import points as point_rules
    from sim.settlement import MONTHS, case_chain

    by_item = getattr(cases, "paid_by_item", None)
    if by_item is not None and np.any(by_item):
        raise ValueError("the benchmark chain covers DRG cases only (no cases paid by item)")
    on = dt.date(cases.year, 1, 1)
    chain = case_chain(cases, reference, policy, on, np.zeros(len(cases), dtype=bool),
                       mean_cost_all=mean_cost_all)
    case_class, coefficient = chain.case_class, chain.coefficient
    points, extra = chain.points, chain.extra_points
    pre = point_rules.pre_review_points(
        case_class, points, extra, policy.value("settlement.whole_group_monthly_share", on))
    n_h = cases.n_hospitals
    hospital_points = np.bincount(cases.hospital, weights=points, minlength=n_h)
    hospital_month = np.bincount(cases.hospital * MONTHS + cases.month, weights=pre,
                                 minlength=n_h * MONTHS).reshape(n_h, MONTHS)
    return {"case_class": case_class, "coefficient": coefficient, "points": points,
            "extra": extra, "pre_review": pre, "hospital_points": hospital_points,
            "hospital_month_pre_review": hospital_month}


def _reference(cases, catalogue, policy):
    import numpy as np

    from sim.settlement import group_reference

    return group_reference(cases, catalogue, policy, dt.date(cases.year, 1, 1),
                           np.ones(len(cases), dtype=bool))


def _head(cases, stop: int):
    """The first ``stop`` cases of a CaseTable (codes and code books unchanged)."""
    from dataclasses import fields, replace

    n = len(cases)
    per_case = {}
    for field in fields(cases):
        value = getattr(cases, field.name)
        if field.name not in ("hospital_ids", "hospital_level") and hasattr(value, "__len__") \
                and not isinstance(value, str | tuple) and len(value) == n:
            per_case[field.name] = value[:stop]
    return replace(cases, **per_case)


# --------------------------------------------------------------------------------------------
# workloads (run in child processes)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB


def _bar(iterable, desc: str):
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


def _load(spec):
    from sim.inputs.cases import load_cases
    from sim.inputs.catalogue import load_catalogue
    from sim.inputs.policy import load_policy

    catalogue_path, policy_path = _inputs()
    policy = load_policy(policy_path, [])
    catalogue = load_catalogue(catalogue_path)
    cases = load_cases(Path(spec["path"]), catalogue, policy.levels)
    return cases, catalogue, policy


def work_generate(spec: dict) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from sim.inputs.catalogue import load_catalogue
    from sim.inputs.synthetic import synthetic_year

    size, hospitals, seed = spec["size"], spec["hospitals"], spec["seed"]
    paths = data_paths(size, hospitals, seed)
    steps = ["synthetic year", "to Arrow", "write Parquet"] + (["write CSV"] if spec["csv"]
                                                               else [])
    seconds: dict[str, float] = {}
    catalogue = load_catalogue(_inputs()[0])
    bar = _bar(steps, f"generate {size:,}")
    frame = table = None
    for step in bar:
        bar.set_postfix_str(step)
        start = time.perf_counter()
        if step == "synthetic year":
            frame = synthetic_year(catalogue, size, hospitals, year=YEAR, seed=seed)
        elif step == "to Arrow":
            table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata()
            del frame
        elif step == "write Parquet":
            tmp = paths["parquet"].with_suffix(".parquet.tmp")
            pq.write_table(table, tmp)
            tmp.replace(paths["parquet"])
        else:
            tmp = paths["csv"].with_suffix(".csv.tmp")
            pa_csv.write_csv(table, tmp, pa_csv.WriteOptions(quoting_style="needed"))
            tmp.replace(paths["csv"])
        seconds[step] = time.perf_counter() - start
    paths["meta"].write_text(json.dumps({"key": data_key(size, hospitals, seed),
                                         "seconds": seconds}, indent=2) + "\n", "utf-8")
    return {"seconds": seconds}


def work_e2e(spec: dict) -> dict:
    start = time.perf_counter()
    from sim.commands.settle import settle_to_folder

    imported = time.perf_counter() - start
    catalogue_path, policy_path = _inputs()
    start = time.perf_counter()
    result, _ = settle_to_folder(Path(spec["path"]), catalogue_path, policy_path, [], None, None,
                                 Path(spec["out"]), parquet=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "import_seconds": imported, "cases": result.summary["cases"]}


def work_settle(spec: dict) -> dict:
    import numpy as np

    from sim.settlement import settle

    cases, catalogue, policy = _load(spec)
    loaded = _rss_mib()
    settle(cases, catalogue, policy)  # warm-up
    times = []
    for _ in _bar(range(spec["repeat"]), f"settle {len(cases):,}"):
        start = time.perf_counter()
        result = settle(cases, catalogue, policy)
        times.append(time.perf_counter() - start)
    chain = vectorised_chain(cases, _reference(cases, catalogue, policy), policy)
    same = bool(np.array_equal(chain["points"], result.case_points["points"].to_numpy())
                and np.array_equal(chain["hospital_points"], result.hospitals["points"]))
    return {"times": times, "rss_after_load_mib": loaded, "chain_equals_settle": same}


def work_rules(spec: dict) -> dict:
    cases, catalogue, policy = _load(spec)
    loaded = _rss_mib()
    _reference(cases, catalogue, policy)  # warm-up
    reference_times, chain_times, rules_times = [], [], []
    for _ in _bar(range(spec["repeat"]), f"rules {len(cases):,}"):
        start = time.perf_counter()
        reference = _reference(cases, catalogue, policy)
        middle = time.perf_counter()
        vectorised_chain(cases, reference, policy)
        end = time.perf_counter()
        reference_times.append(middle - start)
        chain_times.append(end - middle)
        rules_times.append(end - start)
    return {"times": rules_times, "reference_times": reference_times,
            "chain_times": chain_times, "rss_after_load_mib": loaded}


def work_loop(spec: dict) -> dict:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from loop_reference import loop_inputs, loop_points

    cases, catalogue, policy = _load(spec)
    stop = min(spec["loop_cases"], len(cases))
    reference = _reference(cases, catalogue, policy)
    inputs = loop_inputs(cases, reference, policy)
    head = _head(cases, stop)
    loop_times, chain_times = [], []
    result = loop_points(cases, inputs, 0, stop)  # warm-up
    for _ in _bar(range(spec["repeat"]), f"loop {stop:,} of {len(cases):,}"):
        start = time.perf_counter()
        result = loop_points(cases, inputs, 0, stop)
        loop_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        chain = vectorised_chain(head, reference, policy, inputs.mean_cost_all)
        chain_times.append(time.perf_counter() - start)

    from sim.rules.classes import CLASS_NAMES

    names = np.asarray(CLASS_NAMES)[chain["case_class"]]
    same_class = names.tolist() == result.case_class
    points = np.asarray(result.points)
    scale = np.maximum(np.abs(chain["points"]), 1e-300)
    worst = float(np.max(np.abs(points - chain["points"]) / scale))
    hospital = np.asarray(result.hospital_points)
    worst_h = float(np.max(np.abs(hospital - chain["hospital_points"])
                           / np.maximum(np.abs(chain["hospital_points"]), 1e-300)))
    return {"times": loop_times, "chain_times": chain_times, "cases": stop,
            "classes_agree": same_class, "max_rel_diff_points": worst,
            "max_rel_diff_hospital_points": worst_h,
            "agree": bool(same_class and worst <= 1e-9 and worst_h <= 1e-9)}


def work_stages(spec: dict) -> dict:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from sim import settlement as S
    from sim.commands.settle import settle_to_folder
    from sim.inputs.cases import _read_raw, validate_cases
    from sim.inputs.catalogue import load_catalogue
    from sim.inputs.policy import load_policy
    from sim.store import RunFolder, run_record

    catalogue_path, policy_path = _inputs()
    path, out = Path(spec["path"]), Path(spec["out"])
    runs: list[dict[str, float]] = []
    rss: list[dict[str, float]] = []  # peak RSS of the process after each stage (MiB)
    for _ in _bar(range(spec["repeat"]), f"stages {spec['size']:,}"):
        t: dict[str, float] = {}
        r: dict[str, float] = {}

        def timed(name, fn, *args, _t=t, _r=r, **kwargs):
            start = time.perf_counter()
            value = fn(*args, **kwargs)
            _t[name] = time.perf_counter() - start
            _r[name] = _rss_mib()
            return value

        policy = timed("load policy", load_policy, policy_path, [])
        catalogue = timed("load catalogue", load_catalogue, catalogue_path)
        table, is_csv = timed("read file", _read_raw, path)
        cases = timed("validate + encode", validate_cases, table, str(path), catalogue,
                      policy.levels, None, is_csv)
        del table
        result = timed("settle (whole)", S.settle, cases, catalogue, policy)
        # settle taken apart (the same calls, timed one by one)
        on = dt.date(cases.year, 1, 1)
        reference = timed("  group references", _reference, cases, catalogue, policy)
        chain = timed("  case chain", vectorised_chain, cases, reference, policy)
        timed("  case_points frame", _case_points_frame, cases, reference, chain)
        excluded = np.zeros(len(cases), dtype=bool)
        timed("  hospital money", S._hospital_money, cases, policy, on, None,
              chain["case_class"], chain["points"], chain["extra"], excluded,
              cases.patient_paid.copy(), [])
        timed("  indicators", S.hospital_indicators, cases, reference.base_points[cases.group],
              chain["case_class"])
        del chain, reference
        record = timed("run record (hashes)", run_record,
                       inputs={"cases": path, "catalogue": catalogue_path,
                               "policy": policy.files},
                       parameters={"in_force_on": on.isoformat(), "values": policy.resolved(on),
                                   "budget_override": None, "policy": policy.as_record()},
                       extra={"kind": "settle", "year": cases.year})
        with RunFolder(out) as folder:
            arrow = timed("case_points to Arrow", _to_arrow, pa, result.case_points)
            timed("write case_points.csv", pa_csv.write_csv, arrow,
                  folder.path("case_points.csv"))
            timed("write case_points.parquet", pq.write_table, arrow,
                  folder.path("case_points.parquet"))
            del arrow
            start_small = time.perf_counter()
            folder.write_table("hospital_settlement", result.hospitals, True)
            folder.write_table("hospital_indicators", result.indicators, True)
            folder.write_json("summary.json", result.summary)
            folder.write_json("run_record.json", record)
            t["write hospital tables + JSON"] = time.perf_counter() - start_small
            r["write hospital tables + JSON"] = _rss_mib()
            timed("commit folder", folder.commit)
        del result, cases
        t["sum of top-level stages"] = sum(v for k, v in t.items() if not k.startswith("  "))
        runs.append(t)
        rss.append(r)
    # and one plain call, for comparison with the sum of stages
    start = time.perf_counter()
    settle_to_folder(path, catalogue_path, policy_path, [], None, None, out, parquet=True)
    return {"runs": runs, "rss_mib": rss,
            "settle_to_folder_seconds": time.perf_counter() - start}


def _case_points_frame(cases, reference, chain):
    """As ``settle`` builds its per-case output table."""
    import pandas as pd

    from sim.rules import classes as class_rules

    return pd.DataFrame({
        "case_id": cases.case_id.to_numpy(zero_copy_only=False),
        "case_class": pd.Categorical.from_codes(chain["case_class"], class_rules.CLASS_NAMES),
        "base_points": reference.base_points[cases.group],
        "coefficient": chain["coefficient"],
        "points": chain["points"],
    })


def _to_arrow(pa, frame):
    """As ``RunFolder.write_table``: pandas → Arrow, dictionary columns decoded."""
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    if any(pa.types.is_dictionary(f.type) for f in arrow.schema):
        arrow = arrow.cast(pa.schema([
            pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
            for f in arrow.schema]))
    return arrow


WORKLOADS = {"generate": work_generate, "e2e": work_e2e, "settle": work_settle,
             "rules": work_rules, "loop": work_loop, "stages": work_stages}


def child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    if spec.get("cprofile"):
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(WORKLOADS[spec["workload"]], spec)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        result["cprofile"] = text.getvalue()
    else:
        result = WORKLOADS[spec["workload"]](spec)
    result["child_rss_mib"] = _rss_mib()
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


def _row(workload: str, size: int, cases: int, times: list[float], peak_mib: float | None,
         **extra) -> dict:
    median = _median(times)
    return {"workload": workload, "size": size, "cases": cases, "repetitions": len(times),
            "times_s": [round(t, 6) for t in times], "median_s": median, "min_s": min(times),
            "cases_per_s": cases / median if median else None, "peak_rss_mib": peak_mib,
            **extra}


def bench_size(size: int, args, repeat_big: int, repeat_small: int) -> dict:
    from tqdm import tqdm

    paths = data_paths(size, args.hospitals, args.seed)
    with_csv = size <= args.csv_max
    generated = None
    if not cached(size, args.hospitals, args.seed, with_csv):
        WORK.mkdir(parents=True, exist_ok=True)
        generated = run_child({"workload": "generate", "size": size,
                               "hospitals": args.hospitals, "seed": args.seed,
                               "csv": with_csv})
    rows: list[dict] = []
    out = WORK / "out"
    for kind in ["parquet"] + (["csv"] if with_csv else []):
        runs = [run_child({"workload": "e2e", "path": str(paths[kind]),
                           "out": str(out / f"e2e_{kind}"), "cprofile": False})
                for _ in tqdm(range(repeat_big), desc=f"e2e {kind} {size:,}", leave=False,
                              file=sys.stderr, dynamic_ncols=True)]
        rows.append(_row(
            f"e2e {kind} (read → write)", size, size, [r["seconds"] for r in runs],
            max(r["peak_rss_mib"] for r in runs),
            process_wall_median_s=_median([r["process_wall_seconds"] for r in runs]),
            import_median_s=_median([r["import_seconds"] for r in runs]),
            peak_rss_mib_each=[round(r["peak_rss_mib"], 1) for r in runs],
            file_bytes=paths[kind].stat().st_size))
    parquet = str(paths["parquet"])
    settled = run_child({"workload": "settle", "path": parquet, "repeat": repeat_big})
    rows.append(_row("settle (loaded CaseTable)", size, size, settled["times"],
                     settled["peak_rss_mib"], rss_after_load_mib=settled["rss_after_load_mib"],
                     chain_equals_settle=settled["chain_equals_settle"]))
    rules = run_child({"workload": "rules", "path": parquet, "repeat": repeat_small})
    rows.append(_row("rules: references + chain", size, size, rules["times"],
                     rules["peak_rss_mib"], rss_after_load_mib=rules["rss_after_load_mib"]))
    rows.append(_row("  group references", size, size, rules["reference_times"], None))
    rows.append(_row("  per-case chain", size, size, rules["chain_times"], None))
    loop = run_child({"workload": "loop", "path": parquet, "repeat": repeat_small,
                      "loop_cases": args.loop_cases})
    loop_row = _row("python loop chain (subsample)", size, loop["cases"], loop["times"], None,
                    agree_with_vectorised=loop["agree"],
                    max_rel_diff_points=loop["max_rel_diff_points"],
                    max_rel_diff_hospital_points=loop["max_rel_diff_hospital_points"])
    sub_row = _row("  vectorised chain (same subsample)", size, loop["cases"],
                   loop["chain_times"], None)
    chain_row = next(r for r in rows if r["workload"] == "  per-case chain")
    loop_row["ratio_vectorised_full_over_loop"] = chain_row["cases_per_s"] / loop_row[
        "cases_per_s"]
    loop_row["ratio_vectorised_subsample_over_loop"] = sub_row["cases_per_s"] / loop_row[
        "cases_per_s"]
    rows += [loop_row, sub_row]
    stages = run_child({"workload": "stages", "path": parquet, "size": size,
                        "out": str(out / "stages"), "repeat": repeat_big})
    names = list(stages["runs"][0])
    stage_medians = {name: _median([run[name] for run in stages["runs"]]) for name in names}
    return {"size": size, "rows": rows, "stages": stage_medians,
            "stages_peak_rss_mib_first_run": stages["rss_mib"][0],
            "stages_runs": stages["runs"],
            "stages_settle_to_folder_s": stages["settle_to_folder_seconds"],
            "generated": generated}


def machine() -> dict:
    import numpy
    import pandas
    import pyarrow

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(int(line.split()[1]) for line in
                      Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")) / KIB / KIB
    except OSError:
        memory = None
    from sim.store import git_revision

    return {"git_revision": git_revision(), "cores": os.cpu_count(), "cpu": cpu,
            "memory_gib": memory and round(memory, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "numpy": numpy.__version__, "pandas": pandas.__version__,
            "pyarrow": pyarrow.__version__, "load_average_at_start": os.getloadavg()}


def targets(results: list[dict]) -> list[dict]:
    checks = []
    largest = max(results, key=lambda r: r["size"])
    by_name = {row["workload"]: row for row in largest["rows"]}
    rules = by_name["rules: references + chain"]
    checks.append({"target": f"rules ≥ {TARGET_RULES / 1e6:g} M cases/s "
                             f"({largest['size']:,} cases, references + chain)",
                   "value": f"{rules['cases_per_s'] / 1e6:.1f} M cases/s",
                   "met": rules["cases_per_s"] >= TARGET_RULES})
    for result in results:
        if result["size"] != TARGET_E2E_SIZE:
            continue
        e2e = next(r for r in result["rows"] if r["workload"].startswith("e2e parquet"))
        checks.append({"target": f"{TARGET_E2E_SIZE:,} Parquet cases end to end ≤ "
                                 f"{TARGET_E2E_SECONDS:g} s",
                       "value": f"{e2e['median_s']:.1f} s in the call, "
                                f"{e2e['process_wall_median_s']:.1f} s with start-up",
                       "met": e2e["median_s"] <= TARGET_E2E_SECONDS})
        checks.append({"target": "… with peak memory ≤ 4 GB",
                       "value": f"{e2e['peak_rss_mib'] * KIB * KIB / 1e9:.2f} GB "
                                f"({e2e['peak_rss_mib']:,.0f} MiB)",
                       "met": e2e["peak_rss_mib"] * KIB * KIB <= TARGET_E2E_BYTES})
    return checks


def _fmt(value, spec: str) -> str:
    return "" if value is None else format(value, spec)


def print_report(record: dict) -> None:
    line = "-" * 112
    print(f"\nsettle benchmark — {record['date']} — {record['machine']['cores']} cores, "
          f"{record['machine']['cpu']}; drgsim {record['machine']['git_revision']}; "
          "medians of the repetitions")
    print(line)
    print(f"{'workload':<38}{'cases':>11}{'reps':>6}{'median s':>10}{'min s':>9}"
          f"{'cases/s':>13}{'peak RSS MiB':>14}  note")
    print(line)
    for result in record["results"]:
        for row in result["rows"]:
            note = ""
            if "process_wall_median_s" in row:
                note = f"process {row['process_wall_median_s']:.1f} s"
            elif "rss_after_load_mib" in row:
                note = f"RSS after load {row['rss_after_load_mib']:,.0f}"
            elif "ratio_vectorised_full_over_loop" in row:
                note = (f"×{row['ratio_vectorised_full_over_loop']:.0f} (full) "
                        f"×{row['ratio_vectorised_subsample_over_loop']:.0f} (same cases); "
                        f"agree {row['agree_with_vectorised']}")
            print(f"{row['workload']:<38}{row['cases']:>11,}{row['repetitions']:>6}"
                  f"{row['median_s']:>10.3f}{row['min_s']:>9.3f}"
                  f"{_fmt(row['cases_per_s'], ',.0f'):>13}"
                  f"{_fmt(row['peak_rss_mib'], ',.0f'):>14}  {note}")
        print(line)
    for result in record["results"]:
        print(f"stages of one settle_to_folder, {result['size']:,} cases: median s, and the "
              "process's peak RSS (MiB) after the stage in the first repetition")
        rss = result["stages_peak_rss_mib_first_run"]
        for name, seconds in result["stages"].items():
            print(f"  {name:<36}{seconds:>8.3f}{_fmt(rss.get(name), ',.0f'):>10}")
        print(f"  {'(a plain settle_to_folder call)':<36}"
              f"{result['stages_settle_to_folder_s']:>8.3f}")
    print(line)
    for check in record["targets"]:
        print(f"{'MET ' if check['met'] else 'MISS'}  {check['target']}: {check['value']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeat", type=int, default=None,
                        help="repetitions of every workload (default: 3 for e2e/settle/stages "
                             f"at ≥ {BIG:,} cases, else 5; 7 for rules and loop)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 200,000 cases, result JSON under benchmarks/_work/")
    parser.add_argument("--hospitals", type=int, default=HOSPITALS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--loop-cases", type=int, default=LOOP_CASES)
    parser.add_argument("--csv-max", type=int, default=CSV_MAX,
                        help="also time the CSV case file for sizes up to this")
    parser.add_argument("--json", type=Path, default=None,
                        help=f"where to write the results (default {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--cprofile", type=int, default=None, metavar="SIZE",
                        help="only print a cProfile of one e2e Parquet run at SIZE cases")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0
    if args.quick:
        args.sizes = [200_000]
    if args.cprofile:
        size = args.cprofile
        if not cached(size, args.hospitals, args.seed, False):
            WORK.mkdir(parents=True, exist_ok=True)
            run_child({"workload": "generate", "size": size, "hospitals": args.hospitals,
                       "seed": args.seed, "csv": size <= args.csv_max})
        result = run_child({"workload": "e2e", "cprofile": True, "out": str(WORK / "out/prof"),
                            "path": str(data_paths(size, args.hospitals, args.seed)["parquet"])})
        print(result["cprofile"])
        print(f"call {result['seconds']:.2f} s, peak RSS {result['peak_rss_mib']:,.0f} MiB "
              "(under the profiler)")
        return 0

    started = dt.datetime.now().astimezone()
    record = {"benchmark": "benchmarks/settle.py",
              "date": started.isoformat(timespec="seconds"), "machine": machine(),
              "settings": {"sizes": args.sizes, "hospitals": args.hospitals, "seed": args.seed,
                           "year": YEAR, "catalogue": "guangxi_2022", "policy": "point",
                           "loop_cases": args.loop_cases, "repeat": args.repeat,
                           "quick": args.quick},
              "results": []}
    for size in args.sizes:
        big = args.repeat or (3 if size >= BIG else 5)
        small = args.repeat or 7
        record["results"].append(bench_size(size, args, big, small))
    record["seconds"] = round((dt.datetime.now().astimezone() - started).total_seconds(), 1)
    record["targets"] = targets(record["results"])
    print_report(record)
    path = args.json or (QUICK_RESULTS if args.quick else RESULTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"\nwritten: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
