"""drgsim writes only where it owns the place, and never loses a user's file (issue 7, item 1).

Every refusal is checked the same way: exit 2, one line, nothing written, and the folder or file
that was there before is byte-identical afterwards (:func:`conftest.tree`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import tree

import sim.errors
import sim.store
from sim.commands.cli import main

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data" / "handmade"
SOURCE = ROOT / "scenarios" / "catalogues" / "sources" / "yunnan_2022.csv"


def _user_folder(tmp_path: Path) -> Path:
    """A user's data folder: the case table, catalogue and policy, and a note of their own."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "notes.txt").write_text("my notes", "utf-8")
    return data


def _settle(data: Path, out: Path | str) -> int:
    return main(["settle", str(data / "cases.csv"), "--catalogue", str(data / "catalogue.csv"),
                 "--policy", "point", "--out", str(out), "--quiet"])


def _no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def test_out_naming_the_folder_of_the_inputs_is_refused(tmp_path, refused):
    data = _user_folder(tmp_path)
    before = tree(data)
    refused(_settle(data, data), "--out", "holds the input", "never replaces its inputs")
    assert tree(data) == before
    _no_leftovers(tmp_path)


def test_out_naming_an_input_file_or_another_file_is_refused(tmp_path, refused):
    data = _user_folder(tmp_path)
    before = tree(data)
    refused(_settle(data, data / "cases.csv"), "--out", "holds the input")
    refused(_settle(data, data / "notes.txt"), "--out", "is a file", "never replaces a file")
    assert tree(data) == before
    _no_leftovers(data)


def test_out_dot_and_the_parents_of_the_working_folder_are_refused(tmp_path, refused,
                                                                   monkeypatch):
    data = _user_folder(tmp_path)
    work = data / "work"
    work.mkdir()
    (work / "keep.txt").write_text("keep", "utf-8")
    monkeypatch.chdir(work)
    before = tree(tmp_path)
    refused(_settle(data, "."), "--out", "is the working folder")
    refused(_settle(data, ".."), "--out", "is the working folder or one of its parents")
    assert tree(tmp_path) == before


def test_a_folder_with_other_files_is_refused(tmp_path, refused):
    data = _user_folder(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.docx").write_bytes(b"\x00binary")
    before = tree(mine)
    refused(_settle(data, mine), "no drgsim run record", "choose another --out")
    assert tree(mine) == before


def test_new_empty_and_own_earlier_output_are_accepted(tmp_path, capsys):
    data = _user_folder(tmp_path)
    assert _settle(data, tmp_path / "new") == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _settle(data, empty) == 0
    record = json.loads((empty / "run_record.json").read_text("utf-8"))
    assert record["written_by"] == "drgsim"
    assert sorted(record["outputs"]) == sorted(p.name for p in empty.iterdir())
    # its own earlier output is replaced whole
    (empty / "summary.json").write_text("{}", "utf-8")
    assert _settle(data, empty) == 0
    assert json.loads((empty / "summary.json").read_text("utf-8"))["cases"] == 9
    _no_leftovers(tmp_path)


def test_an_earlier_output_holding_a_users_file_is_refused(tmp_path, refused, capsys):
    data = _user_folder(tmp_path)
    out = tmp_path / "out"
    assert _settle(data, out) == 0
    capsys.readouterr()
    (out / "my_analysis.xlsx").write_bytes(b"PK\x03\x04 not drgsim's")
    before = tree(out)
    refused(_settle(data, out), "'my_analysis.xlsx', which drgsim did not write")
    assert tree(out) == before


def test_out_under_a_file_or_in_a_missing_folder_is_refused(tmp_path, refused):
    data = _user_folder(tmp_path)
    before = tree(tmp_path)
    refused(_settle(data, data / "notes.txt" / "out"), "which is a file")
    refused(_settle(data, tmp_path / "missing" / "out"), "is in a folder that does not exist")
    assert tree(tmp_path) == before
    assert not (tmp_path / "missing").exists()


def test_the_default_outputs_folder_is_created(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["example"]) == 0
    assert (tmp_path / "outputs" / "example" / "run_record.json").is_file()


def test_an_unwritable_place_is_found_before_the_simulation(tmp_path, refused, monkeypatch):
    """The staging folder is made first; the model must never be built when it cannot be."""
    import sim.commands.run

    def no_model(*args, **kwargs):
        raise AssertionError("the simulation started before --out was found unwritable")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(sim.commands.run, "RegionModel", no_model)
    monkeypatch.setattr(Path, "mkdir", denied)
    refused(main(["run", "--years", "1", "--scale", "0.01", "--out", str(tmp_path / "out")]),
            "--out", "cannot write in", "Permission denied")
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file permissions do not bind root (CI runs as root); the ordering "
                           "test above covers the check")
def test_a_read_only_folder_is_refused_at_the_start(tmp_path, refused):
    data = _user_folder(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        refused(_settle(data, locked / "out"), "cannot write in")
    finally:
        locked.chmod(0o755)


def test_ctrl_c_leaves_no_staging_folder_and_keeps_the_earlier_output(tmp_path, monkeypatch):
    data = _user_folder(tmp_path)
    out = tmp_path / "out"
    assert _settle(data, out) == 0
    before = tree(out)
    import sim.commands.settle

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.commands.settle, "settle", interrupted)
    assert _settle(data, out) == 130
    assert tree(out) == before
    _no_leftovers(tmp_path)


def test_a_failure_while_committing_restores_the_earlier_output(tmp_path, monkeypatch):
    data = _user_folder(tmp_path)
    out = tmp_path / "out"
    assert _settle(data, out) == 0
    before = tree(out)
    real_rename = Path.rename

    def failing_rename(self, target):
        if ".partial-" in self.name:
            raise OSError(28, "No space left on device", str(self))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    assert _settle(data, out) == 1
    assert tree(out) == before
    _no_leftovers(tmp_path)


def test_sigterm_mid_run_cleans_up(tmp_path):
    """A real SIGTERM to a real `drgsim run`: exit 130 and no staging folder left behind."""
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.commands.cli", "run", "--years", "20", "--scale", "0.05",
         "--no-charts", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("out.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob("out.partial-*")), "the run never staged its folder"
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ catalogue import
def test_catalogue_import_never_overwrites_its_source(tmp_path, refused):
    source = tmp_path / "city.csv"
    shutil.copy(SOURCE, source)
    before = tree(tmp_path)
    refused(main(["catalogue", "import", str(source), "--out", str(source)]),
            "is the input file", "never overwrites its inputs")
    assert tree(tmp_path) == before


def test_catalogue_import_refuses_files_it_did_not_write(tmp_path, refused):
    source = tmp_path / "city.csv"
    shutil.copy(SOURCE, source)
    mine = tmp_path / "mine.csv"
    mine.write_text("my own catalogue", "utf-8")
    before = tree(tmp_path)
    refused(main(["catalogue", "import", str(source), "--out", str(mine)]),
            "exists and was not written by drgsim")
    refused(main(["catalogue", "import", str(source), "--out", str(tmp_path)]), "is a folder")
    refused(main(["catalogue", "import", str(source), "--out", str(tmp_path / "c.parquet")]),
            "does not end in .csv")
    refused(main(["catalogue", "import", str(source), "--out", str(tmp_path / "no" / "c.csv")]),
            "does not exist")
    assert tree(tmp_path) == before


def test_catalogue_import_may_replace_its_own_earlier_import(tmp_path, capsys):
    source = tmp_path / "city.csv"
    shutil.copy(SOURCE, source)
    out = tmp_path / "cat.csv"
    assert main(["catalogue", "import", str(source), "--out", str(out)]) == 0
    first = tree(tmp_path)
    assert main(["catalogue", "import", str(source), "--out", str(out)]) == 0
    assert tree(tmp_path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.csv", "cat.csv.source.yaml",
                                                          "city.csv"]


def test_catalogue_import_interrupted_leaves_no_temporary_file(tmp_path, monkeypatch):
    source = tmp_path / "city.csv"
    shutil.copy(SOURCE, source)
    import sim.inputs.citytables

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.inputs.citytables, "source_card", interrupted)
    assert main(["catalogue", "import", str(source), "--out", str(tmp_path / "cat.csv")]) == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city.csv"]


def test_ownership_is_checked_again_when_committing(tmp_path):
    """A foreign file that appears in the target while drgsim works stops the swap."""
    out = tmp_path / "out"
    out.mkdir()
    folder = sim.store.RunFolder(out)
    with pytest.raises(sim.errors.InputError), folder:
        (out / "arrived.txt").write_text("meanwhile", "utf-8")
        folder.write_json("run_record.json", {"written_by": "drgsim"})
        folder.commit()
    assert (out / "arrived.txt").read_text("utf-8") == "meanwhile"
    _no_leftovers(tmp_path)
