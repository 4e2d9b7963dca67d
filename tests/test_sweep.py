"""Sweeps (issue 11, parts 2–4): the sweep file checked whole, designs, paired jobs with seeds
from (sweep seed, point, replication), executors that agree, and a store that loses nothing —
a SIGKILLed sweep resumes to the same results; a job that raises is recorded and the rest run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.commands.cli import main
from sim.errors import InputError
from sim.experiments import sweep as sweeps
from sim.experiments.sweep import OUTCOMES, job_seed, load_sweep, make_design, status, sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = """\
title: A tiny grid
region: default
scale: 0.03
start_year: 2023
years: 1
baseline: point
reforms: [budget_growth_3pct]
parameters:
  audit.sample_rate: {low: 0.05, high: 0.4}
  behaviour.upcoding_scale: {levels: [300, 1200]}
design: {method: grid, n: 2}
replications: 1
seed: 7
outcomes: [fund_balance, reserve_months, upcoded_share, upcoding_gap]
"""


def write_spec(folder: Path, text: str = TINY, name: str = "tiny.yaml", **replace) -> Path:
    for old, new in replace.items():
        text = text.replace(old.replace("__", " "), new)
    path = folder / name
    path.write_text(text, "utf-8")
    return path


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The tiny grid, run serially without interruption (the reference for other executors)."""
    folder = tmp_path_factory.mktemp("sweep")
    spec = write_spec(folder)
    results = sweep(spec, executor="serial", out=folder / "serial", progress=False)
    return spec, folder, results


# --------------------------------------------------------------------------- the sweep file
def test_the_issue_example_is_a_valid_sweep():
    spec = load_sweep(ROOT / "tests" / "data" / "sweeps" / "issue_example.yaml")
    assert spec.names == ["audit.sample_rate", "audit.penalty_multiple",
                          "behaviour.upcoding_scale"]
    assert spec.method == "sobol" and spec.n == 64 and spec.replications == 2
    assert sweeps.design_size(spec) == 64 * (3 + 2)
    # audit_double sets audit.sample_rate itself: the sweep says so rather than hiding it
    assert any("audit_double sets audit.sample_rate" in w for w in spec.warnings)


def test_the_shipped_sweeps_are_valid():
    spec = load_sweep("upcoding_sobol")
    assert spec.method == "sobol" and len(spec.parameters) >= 6
    assert sum(p.startswith("behaviour.") for p in spec.names) >= 3
    assert sum(not p.startswith("behaviour.") for p in spec.names) >= 3
    assert load_sweep("tiny_grid").method == "grid"


@pytest.mark.parametrize("replace, fragments", [
    ({"audit.sample_rate:": "audit.sample_rat:"},
     ["parameters.audit.sample_rat", "unknown parameter", "did you mean audit.sample_rate?"]),
    ({"behaviour.upcoding_scale:": "behaviour.upcoding_scal:"},
     ["did you mean behaviour.upcoding_scale?"]),
    ({"{low: 0.05, high: 0.4}": "{low: 0.4, high: 0.05}"},
     ["parameters.audit.sample_rate", "low 0.4 is not below high 0.05", "low < high"]),
    ({"{low: 0.05, high: 0.4}": "{low: 0.05, high: 1.4}"},
     ["parameters.audit.sample_rate", "high: value 1.4 is above the upper bound 1"]),
    ({"levels: [300, 1200]": "levels: [300, -5]"},
     ["parameters.behaviour.upcoding_scale", "level -5", "below the lower bound"]),
    ({"upcoded_share,": "upcoded_shar,"},
     ["outcomes[2]", "unknown outcome 'upcoded_shar'", "did you mean upcoded_share?"]),
    ({"{method: grid, n: 2}": "{method: sobol, n: 48}"},
     ["design.n", "48 is not a power of 2", "32 or 64"]),
    ({"{method: grid, n: 2}": "{method: sobl, n: 4}"},
     ["design.method", "'sobl'", "did you mean sobol?"]),
    ({"{method: grid, n: 2}": "{method: lhs, n: 0}"}, ["design.n", "value 0"]),
    ({"{low: 0.05, high: 0.4}": "{distribution: normal, mean: 0.2, sd: 0.1}"},
     ["normal distribution in a grid"]),
    ({"replications: 1": "replications: 0"}, ["replications", "value 0"]),
    ({"seed: 7": "seed: 7\ncolour: red"}, ["key 'colour'", "unknown key"]),
    ({"title: A tiny grid\n": ""}, ["key 'title'", "missing"]),
    ({"reforms: [budget_growth_3pct]": "reforms: [no_such_reform]"},
     ["reforms[0]", "no_such_reform", "no shipped reform of that name"]),
    ({"reforms: [budget_growth_3pct]": "reforms: [rate_cut_5pct]"},
     ["reforms[0]", "rate.adjustment", "not a parameter of the baseline"]),
    ({"audit.sample_rate: {low: 0.05, high: 0.4}":
      "coefficients.basic_groups_same_price: {low: 0, high: 1}"},
     ["a range for a parameter that holds boolean", "{levels: [...]}"]),
    ({"scale: 0.03": "scale: 0.0001"}, ["scale", "--scale"]),
])
def test_bad_sweep_files_are_refused_in_one_line(tmp_path, refused, replace, fragments):
    spec = write_spec(tmp_path, **replace)
    out = tmp_path / "out"
    refused(main(["sweep", str(spec), "--out", str(out)]), str(spec), *fragments)
    assert not out.exists()


# --------------------------------------------------------------------------- designs and seeds
def test_designs_have_the_sizes_and_ranges_of_their_method(tmp_path):
    six = {
        "audit.sample_rate": "{low: 0.02, high: 0.5}",
        "audit.penalty_multiple": "{levels: [1, 2, 3]}",
        "revision.min_cases": "{low: 10, high: 50}",
        "behaviour.upcoding_scale": "{distribution: loguniform, low: 300, high: 1200}",
        "behaviour.learning_rate": "{distribution: normal, mean: 0.5, sd: 0.3}",
        "behaviour.lever_max.upcoding": "{distribution: triangular, low: 0.3, mode: 1, "
                                        "high: 1}"}
    parameters = "".join(f"  {k}: {v}\n" for k, v in six.items())
    base = TINY.split("parameters:")[0] + "parameters:\n" + parameters + \
        "design: {method: sobol, n: 8}\nreplications: 1\nseed: 7\noutcomes: [fund_balance]\n"
    for design, rows in (("{method: sobol, n: 8}", 8 * 8),
                         ("{method: sobol, n: 8, second_order: true}", 8 * 14),
                         ("{method: morris, n: 3, levels: 4}", 3 * 7),
                         ("{method: lhs, n: 20}", 20)):
        spec = load_sweep(write_spec(tmp_path, base.replace("{method: sobol, n: 8}", design)))
        table = make_design(spec)
        assert len(table) == rows, design
        assert table["audit.sample_rate"].between(0.02, 0.5).all()
        assert set(table["audit.penalty_multiple"]) <= {1, 2, 3}
        assert table["revision.min_cases"].map(lambda v: isinstance(v, int | np.integer)).all()
        assert table["behaviour.upcoding_scale"].between(300, 1200).all()
        assert table["behaviour.learning_rate"].between(0, 1).all()  # truncated at its bounds
        assert table["behaviour.lever_max.upcoding"].between(0.3, 1).all()
        assert make_design(spec).equals(table)  # seeded: the same design every time


def test_seeds_belong_to_the_point_and_replication_only():
    assert job_seed(1, 3, 0) == job_seed(1, 3, 0)
    seeds = {job_seed(1, p, r) for p in range(20) for r in range(3)}
    assert len(seeds) == 60
    assert job_seed(2, 3, 0) != job_seed(1, 3, 0)


# --------------------------------------------------------------------------- runs and the store
def test_a_tiny_sweep_is_tidy_and_paired(uninterrupted):
    spec, folder, results = uninterrupted
    assert list(results.columns[:7]) == ["point", "replication", "seed", "scenario", "year",
                                         "audit.sample_rate", "behaviour.upcoding_scale"]
    assert "reserve_months_resident" in results.columns  # per scheme where the table has it
    assert len(results) == 4 * 2 * 1
    assert not results.duplicated(["point", "replication", "scenario", "year"]).any()
    assert set(results["scenario"]) == {"baseline", "budget_growth_3pct"}
    by = results.set_index(["point", "scenario"])
    for point in range(4):  # paired on one seed: the same patients, a different budget
        assert by.loc[(point, "baseline"), "seed"] == by.loc[(point, "budget_growth_3pct"),
                                                             "seed"]
        assert by.loc[(point, "baseline"), "fund_balance"] != by.loc[
            (point, "budget_growth_3pct"), "fund_balance"]
    # the design's values reach the runs: a sharper upcoding response (smaller scale) gives less
    # upcoding at the same audit rate, since with the calibrated ethics costs most hospitals'
    # net gain per case is below their ethics cost (σ below its midpoint, BEHAVIOUR §4)
    base = results[results["scenario"] == "baseline"].set_index(
        ["audit.sample_rate", "behaviour.upcoding_scale"])["upcoded_share"]
    assert base.loc[(0.05, 300)] < base.loc[(0.05, 1200)]
    assert (folder / "serial" / "results.parquet").is_file()
    assert status(folder / "serial")["done"] == 4


def test_outcomes_are_the_columns_of_the_yearly_table(uninterrupted):
    from sim.experiments.compare import add_derived, run_job
    from sim.inputs.policy import load_policy
    from sim.inputs.region import load_region_config
    from sim.resources import shipped

    config, _ = load_region_config("default")
    raw = {"yearly": run_job(config, load_policy(shipped("policies", "point", ".yaml")), 1,
                             2023, 1, 0.03)["yearly"]}
    add_derived(raw)
    assert set(OUTCOMES) == set(raw["yearly"].columns) - {"year"}


def test_serial_processes_threads_and_memory_give_identical_results(uninterrupted, tmp_path):
    spec, _, reference = uninterrupted
    processes = sweep(spec, executor="processes", workers=2, out=tmp_path / "p",
                      progress=False)
    pd.testing.assert_frame_equal(processes, reference)
    with ThreadPoolExecutor(2) as pool:  # any concurrent.futures executor
        in_memory = sweep(spec, executor=pool, progress=False)
    pd.testing.assert_frame_equal(in_memory, reference)


def test_a_job_that_raises_is_recorded_and_the_sweep_goes_on(uninterrupted, tmp_path,
                                                              monkeypatch, capsys):
    spec, _, reference = uninterrupted
    import sim.experiments.compare as compare_module

    real = compare_module.run_job
    doomed = job_seed(7, 2, 0)

    def flaky(config, policy, years, start_year, seed, scale):
        if seed == doomed:
            raise ZeroDivisionError("a bug at one design point")
        return real(config, policy, years, start_year, seed, scale)

    monkeypatch.setattr(compare_module, "run_job", flaky)
    out = tmp_path / "out"
    partial = sweep(spec, executor="serial", out=out, progress=False)
    assert sorted(set(partial["point"])) == [0, 1, 3]
    summary = status(out)
    assert (summary["done"], summary["failed"], summary["remaining"]) == (3, 1, 0)
    assert "ZeroDivisionError: a bug at one design point" in summary["errors"][0]["error"]
    assert main(["sweep", "--status", str(out)]) == 0
    assert "3 done, 1 failed, 0 remaining" in capsys.readouterr().out
    monkeypatch.setattr(compare_module, "run_job", real)  # fixed: a rerun retries it
    pd.testing.assert_frame_equal(sweep(spec, executor="serial", out=out, progress=False),
                                  reference)


def test_a_sigkilled_sweep_resumes_to_the_same_results(uninterrupted, tmp_path):
    spec, _, reference = uninterrupted
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "sim.commands.cli", "sweep", str(spec), "--executor",
               "serial", "--out", str(out)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    manifest = out / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if manifest.is_file() and manifest.read_text("utf-8").count("\n") >= 1:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the sweep finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = status(out)["done"]
    assert 1 <= done_before < 4 and not (out / "results.parquet").exists()
    finished = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr
    results = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(results, reference)
    rows = [json.loads(line) for line in manifest.read_text("utf-8").splitlines()
            if line.strip().startswith("{")]
    ran = [row["job"] for row in rows if row["status"] == "done"]
    assert len(ran) == len(set(ran))  # no job ran twice


# --------------------------------------------------------------------------- the folder
def test_the_sweep_folder_is_only_ever_its_own(uninterrupted, tmp_path, refused):
    spec, folder, _ = uninterrupted
    other = write_spec(tmp_path, name="other.yaml", **{"seed: 7": "seed: 8"})
    refused(main(["sweep", str(other), "--out", str(folder / "serial")]),
            "holds another sweep", "a different spec")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", "utf-8")
    refused(main(["sweep", str(spec), "--out", str(mine)]), "no drgsim run record")
    assert (mine / "notes.txt").read_text("utf-8") == "mine"
    (folder / "serial" / "notes.txt").write_text("mine", "utf-8")
    try:
        refused(main(["sweep", str(spec), "--out", str(folder / "serial")]), "notes.txt")
    finally:
        (folder / "serial" / "notes.txt").unlink()
    with pytest.raises(InputError, match="no sweep.json here"):
        status(tmp_path)


def test_the_python_api_is_drgsim_sweep():
    import drgsim

    assert drgsim.sweep is sweep and drgsim.load_sweep is load_sweep
