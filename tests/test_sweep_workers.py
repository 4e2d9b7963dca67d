"""Sweeps on worker processes that die (issue 11, parts 3, 4 and 7): a real dask.distributed
LocalCluster gives the serial results, from the command line and from Python; a Dask worker and a
process-pool worker SIGKILLed mid-sweep cost a rerun of their jobs, never the sweep; an
unreachable scheduler is one line and nothing written."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main
from sim.experiments import sweep as sweeps
from sim.experiments.sweep import status, sweep

TINY = """\
title: A tiny grid on workers
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
seed: 11
outcomes: [fund_balance, upcoded_share]
"""

try:
    import distributed
except ImportError:  # the test extra installs it (pyproject: test = [..., dask[distributed]])
    distributed = None
needs_dask = pytest.mark.skipif(distributed is None, reason="dask.distributed is not installed "
                                "(pip install -e '.[test]' or '.[cluster]')")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workers")
    spec = folder / "tiny.yaml"
    spec.write_text(TINY, "utf-8")
    return spec, sweep(spec, executor="serial", progress=False)


def manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text("utf-8")
            .splitlines() if line.strip()]


def done_once(out: Path) -> None:
    """Every job finished exactly once (lost attempts are recorded but never finished)."""
    done = [row["job"] for row in manifest(out) if row["status"] == "done"]
    assert len(done) == len(set(done)) == 4, done
    assert status(out)["done"] == 4 and status(out)["failed"] == 0


def run_in_thread(call) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def target():
        try:
            box["result"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            box["error"] = error
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


@needs_dask
def test_dask_from_the_command_line_gives_the_serial_results(reference, tmp_path):
    """drgsim sweep --executor dask starts a LocalCluster (2 spawned worker processes) and
    closes it; the store is written by the command's process as for other executors."""
    spec, serial = reference
    out = tmp_path / "dask"
    finished = subprocess.run([sys.executable, "-m", "sim.commands.cli", "sweep", str(spec),
                               "--executor", "dask", "--workers", "2", "--out", str(out)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "4 of 4 jobs done, 0 failed" in finished.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), serial)
    done_once(out)


@needs_dask
def test_a_dask_worker_killed_mid_sweep_has_its_job_run_elsewhere(reference, tmp_path):
    """A LocalCluster of this test's own, reached by --scheduler's path: SIGKILL a worker while
    it runs a job; the scheduler moves the job, the nanny restarts the worker, the sweep
    completes with every job once and the serial results."""
    from distributed import Client, LocalCluster

    spec, serial = reference
    out = tmp_path / "dask-killed"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)  # worker address -> process id
        thread, box = run_in_thread(lambda: sweep(
            spec, executor="dask", scheduler=cluster.scheduler_address, out=out,
            progress=False))
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            busy = {address: keys for address, keys in client.processing().items() if keys}
            victim, running = next(iter(busy.items()), (None, ()))
            time.sleep(0.01)
        assert victim is not None, "no worker was seen running a job"
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(240)
        assert not thread.is_alive() and "error" not in box, box.get("error")
        assert pids[victim] not in client.run(os.getpid).values()  # it really died
        log = client.run_on_scheduler(lambda dask_scheduler: [
            entry[:3] for entry in dask_scheduler.transition_log if entry[0] in running])
        # the killed worker's job was taken back and run again on another worker
        assert ("processing", "released") in [entry[1:] for entry in log], log
    pd.testing.assert_frame_equal(box["result"], serial)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), serial)
    done_once(out)


def test_a_process_pool_worker_killed_mid_sweep_is_replaced(reference, tmp_path):
    """SIGKILL a ProcessPoolExecutor worker: the pool breaks, is rebuilt, and the unfinished
    jobs are resubmitted (recorded as lost in the manifest); the sweep completes."""
    spec, serial = reference
    out = tmp_path / "processes-killed"
    warnings: list[str] = []
    before = {child.pid for child in multiprocessing.active_children()}
    thread, box = run_in_thread(lambda: sweep(spec, executor="processes", workers=2, out=out,
                                              progress=False, on_warning=warnings.append))
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and thread.is_alive():
        workers = [c.pid for c in multiprocessing.active_children() if c.pid not in before]
        victim = workers[0] if workers else None
        time.sleep(0.01)
    assert victim is not None, "no worker process was seen"
    time.sleep(0.5)  # well inside the first jobs (a spawned worker imports drgsim first)
    assert not (out / "results.parquet").exists(), "the sweep ended before the kill"
    os.kill(victim, signal.SIGKILL)
    thread.join(240)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    pd.testing.assert_frame_equal(box["result"], serial)
    lost = [row for row in manifest(out) if row["status"] == "lost"]
    assert lost and all("BrokenProcessPool" in row["error"] for row in lost)
    assert any("a worker died" in line for line in warnings), warnings
    done_once(out)


def test_a_process_pool_that_keeps_breaking_stops_the_sweep_in_one_line(reference, tmp_path,
                                                                         monkeypatch, capsys):
    """Past MAX_REBUILDS the sweep stops (what is stored stays; a rerun resumes)."""
    spec, serial = reference
    monkeypatch.setattr(sweeps, "MAX_REBUILDS", 0)
    monkeypatch.setattr(sweeps, "run_sweep_job", _die)  # every worker dies on its first job
    out = tmp_path / "broken"
    assert main(["sweep", str(spec), "--executor", "processes", "--workers", "1",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("drgsim: error: the worker process pool broke 1 time ("), err
    assert "run the same command again to resume" in err[-1]
    monkeypatch.undo()
    pd.testing.assert_frame_equal(sweep(spec, executor="serial", out=out, progress=False),
                                  serial)


def _die(job):
    os.kill(os.getpid(), signal.SIGKILL)


def _die_at_point_0(job):
    if job.point == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return sweeps.run_sweep_job(job)


def test_a_given_executor_that_breaks_is_not_replaced(reference, monkeypatch):
    """An executor passed to the API is the caller's: a broken one stops the sweep."""
    from concurrent.futures import ProcessPoolExecutor

    spec, _ = reference
    monkeypatch.setattr(sweeps, "run_sweep_job", _die)
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(sweeps.WorkersLost, match="the given executor's process pool broke"):
            sweep(spec, executor=pool, progress=False)


@needs_dask
@pytest.mark.slow
def test_a_dask_job_that_keeps_killing_its_workers_is_recorded_as_failed(reference, tmp_path,
                                                                         monkeypatch):
    """Past Dask's allowed-failures the job comes back as KilledWorker: failed, the rest run."""
    spec, serial = reference
    monkeypatch.setattr(sweeps, "run_sweep_job", _die_at_point_0)
    out = tmp_path / "poison"
    results = sweep(spec, executor="dask", workers=2, out=out, progress=False)
    summary = status(out)
    assert (summary["done"], summary["failed"]) == (3, 1)
    assert summary["errors"][0]["job"] == "p000000-r0000"
    assert "KilledWorker" in summary["errors"][0]["error"]
    pd.testing.assert_frame_equal(results, serial[serial["point"] != 0].reset_index(drop=True))


@needs_dask
def test_an_unreachable_scheduler_is_one_line_and_nothing_written(reference, tmp_path,
                                                                   monkeypatch, refused):
    import socket

    spec, _ = reference
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setattr(sweeps, "CONNECT_TIMEOUT", 1)
    out = tmp_path / "out"
    address = f"tcp://127.0.0.1:{port}"
    refused(main(["sweep", str(spec), "--executor", "dask", "--scheduler", address,
                  "--out", str(out)]), "--scheduler", f"cannot reach '{address}'",
            "a running Dask scheduler")
    assert not out.exists()
    refused(main(["sweep", str(spec), "--executor", "dask", "--scheduler", address,
                  "--workers", "2", "--out", str(out)]), "--workers", "given with --scheduler")
    assert not out.exists()
