"""`--catalogue CAT` on `drgsim run` and `drgsim compare`, and basic groups a catalogue lacks.

Specification: ``--catalogue`` (a file or a shipped name) replaces the region's catalogue in the
run and in every run of a comparison, and the run record names it with its sha256. Basic-group
codes the catalogue lacks are an error in a region file (its own catalogue) and a warning with
``--catalogue`` (the region file is not wrong; the combination is the user's choice).
"""

from __future__ import annotations

import json
import shutil
import textwrap

import pandas as pd
import pytest

from sim.commands.cli import main
from sim.errors import InputError
from sim.inputs.catalogue import file_sha256
from sim.inputs.region import load_region_config
from sim.resources import shipped

SCALE = 0.02
# Suzhou's 21 basic groups (the default region's list) that yunnan_2022 does not have.
MISSING_IN_YUNNAN = ["BR25", "DS15", "DT15", "DT25", "EX25", "FR25", "JV25", "LX15", "NS15",
                     "RW25"]


def _region(tmp_path, body: str, name: str = "region.yaml"):
    path = tmp_path / name
    path.write_text("extends: default\n" + textwrap.dedent(body), "utf-8")
    return path


def test_a_region_whose_catalogue_lacks_basic_groups_is_an_input_error(tmp_path):
    shutil.copy(shipped("catalogues", "yunnan_2022", ".csv"), tmp_path / "ours.csv")
    path = _region(tmp_path, "catalogue: ours.csv\n")
    with pytest.raises(InputError) as caught:
        load_region_config(path)
    message = str(caught.value)
    assert caught.value.file == str(path) and caught.value.where == "basic_groups.codes"
    assert "10 code(s) not in the region's catalogue ours.csv: BR25, DS15" in message
    assert "\n" not in message
    fixed = _region(tmp_path, "catalogue: ours.csv\nbasic_groups:\n  codes: [ES35, GS15]\n",
                    name="fixed.yaml")
    config, _ = load_region_config(fixed)
    assert config["basic_groups"]["codes"] == ["ES35", "GS15"]


def test_region_error_is_one_line_from_the_command(tmp_path, refused):
    shutil.copy(shipped("catalogues", "yunnan_2022", ".csv"), tmp_path / "ours.csv")
    path = _region(tmp_path, "catalogue: ours.csv\n")
    code = main(["run", str(path), "--years", "1", "--scale", str(SCALE),
                 "--out", str(tmp_path / "out")])
    refused(code, "region.yaml, basic_groups.codes: 10 code(s) not in", "BR25")
    assert not (tmp_path / "out").exists()


def test_run_with_catalogue_uses_it_warns_and_records_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--catalogue", "yunnan_2022", "--years", "1", "--scale", str(SCALE),
                 "--no-charts", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("drgsim: warning: --catalogue yunnan_2022.csv: 10 of the basic groups of "
            "default.yaml (basic_groups.codes) are not in the catalogue and are left out: "
            "BR25, DS15") in err
    record = json.loads((out / "run_record.json").read_text("utf-8"))
    path = shipped("catalogues", "yunnan_2022", ".csv")
    assert record["inputs"]["catalogue"] == [{"path": str(path), "sha256": file_sha256(path)}]
    assert record["parameters"]["catalogue"] == {"path": str(path), "from": "--catalogue"}
    assert record["parameters"]["region"]["catalogue"] == str(path)
    assert record["warnings"][0].startswith("--catalogue yunnan_2022.csv: 10 of")
    # the cases were grouped in Yunnan's catalogue: its ambiguous QY groups exist only there
    by_mdc = pd.read_csv(out / "pressure_by_level_mdc.csv")
    assert len(by_mdc) > 0

    default = tmp_path / "default"
    assert main(["run", "--years", "1", "--scale", str(SCALE), "--no-charts",
                 "--out", str(default)]) == 0
    record = json.loads((default / "run_record.json").read_text("utf-8"))
    assert record["parameters"]["catalogue"]["from"] == "region"
    assert record["inputs"]["catalogue"][0]["path"].endswith("guangxi_2022.csv")
    assert record["warnings"] == []
    assert not pd.read_csv(out / "yearly.csv").equals(pd.read_csv(default / "yearly.csv"))


def test_catalogue_given_by_name_equals_the_region_naming_it(tmp_path):
    region = _region(tmp_path, "catalogue: suzhou_2022\n")
    by_region, by_flag = tmp_path / "a", tmp_path / "b"
    common = ["--years", "1", "--scale", str(SCALE), "--no-charts"]
    assert main(["run", str(region), *common, "--out", str(by_region)]) == 0
    assert main(["run", "--catalogue", "suzhou_2022", *common, "--out", str(by_flag)]) == 0
    for name in ("yearly", "monthly", "hospital_yearly"):
        assert (by_region / f"{name}.csv").read_bytes() == (by_flag / f"{name}.csv").read_bytes()


def test_bad_catalogue_arguments_are_refused_in_one_line(tmp_path, refused):
    out = str(tmp_path / "out")
    refused(main(["run", "--catalogue", "atlantis_2030", "--out", out]),
            "atlantis_2030, --catalogue: no such file, and no shipped catalogue of that name",
            "guangxi_2022")
    broken = tmp_path / "broken.csv"
    broken.write_text("code,name\nAB19,x\n", "utf-8")
    refused(main(["compare", "--catalogue", str(broken), "--reform", "audit_double",
                  "--out", out]), "broken.csv, header: missing column 'adrg'")
    assert not (tmp_path / "out").exists()


def test_compare_with_catalogue_runs_every_scenario_on_it(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--catalogue", "suzhou_2022", "--reform", "audit_double",
                 "--replications", "1", "--years", "1", "--scale", str(SCALE),
                 "--out", str(out)]) == 0
    meta = json.loads((out / "comparison.json").read_text("utf-8"))
    path = shipped("catalogues", "suzhou_2022", ".csv")
    assert meta["catalogue"] == str(path) and meta["catalogue_from"] == "--catalogue"
    assert meta["warnings"] == []                      # Suzhou has all of its own basic groups
    record = json.loads((out / "run_record.json").read_text("utf-8"))
    assert record["inputs"]["catalogue"] == [{"path": str(path), "sha256": file_sha256(path)}]
    assert record["parameters"]["catalogue"]["from"] == "--catalogue"
    assert "warning" not in capsys.readouterr().err
    assert "suzhou_2022 (--catalogue)" in (out / "report.zh.html").read_text("utf-8")
