"""The command line as users meet it: README commands, shipped data found, catalogue import."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main
from sim.resources import shipped

ROOT = Path(__file__).parents[1]
CATALOGUES = ROOT / "scenarios" / "catalogues"


def test_example_settles_and_prints_the_hospital_table(tmp_path, capsys):
    """What `make run` does."""
    assert main(["example", "--out", str(tmp_path / "example")]) == 0
    out = capsys.readouterr().out
    assert "Settled 4,000 cases of 12 hospitals, 2023, point method" in out
    assert "hospital_id hospital_level" in out and "H12" in out
    table = pd.read_csv(tmp_path / "example" / "hospital_settlement.csv")
    summary = json.loads((tmp_path / "example" / "summary.json").read_text("utf-8"))
    assert len(table) == 12
    # budget-neutral by default: the fund pays exactly what fee-for-service paid, redistributed
    assert table["fund_payable_before_caps"].sum() == pytest.approx(summary["budget"], abs=0.005)
    assert summary["budget"] == pytest.approx(table["ffs_fund_paid"].sum(), abs=0.005)


@pytest.mark.parametrize("policy", ["point", "rate", "pool", "all_inclusive", "dip", "ffs"])
def test_every_shipped_policy_settles_the_example(policy, tmp_path, capsys):
    out = tmp_path / policy
    assert main(["settle", str(shipped("examples", "cases_2023", ".csv")), "--catalogue",
                 "guangxi_2022", "--policy", policy, "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["method"] == policy
    assert summary["cases"] == 4000


def test_settle_is_deterministic(tmp_path):
    args = [str(shipped("examples", "cases_2023", ".csv")), "--catalogue", "guangxi_2022",
            "--policy", "point", "--quiet"]
    assert main(["settle", *args, "--out", str(tmp_path / "a")]) == 0
    assert main(["settle", *args, "--out", str(tmp_path / "b")]) == 0
    for name in ("case_points.csv", "hospital_settlement.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_suzhou_level_coefficients_reach_the_payment(tmp_path):
    """A catalogue with coefficients: stable groups take them, basic groups one price (§2.4)."""
    frame = pd.DataFrame({
        "case_id": ["1", "2", "3", "4"], "patient_id": ["a", "b", "c", "d"],
        "hospital_id": ["P", "T", "P", "T"],
        "hospital_level": ["primary", "tertiary", "primary", "tertiary"],
        "drg": ["BB25", "BB25", "BR25", "BR25"],
        "cost": [10000, 10000, 5000, 5000], "fund_paid": [8000, 8000, 4000, 4000],
        "patient_paid": [2000, 2000, 1000, 1000], "los_days": [5, 5, 3, 3],
        "discharge_date": ["2023-03-01"] * 4,
    })
    catalogue = pd.read_csv(CATALOGUES / "suzhou_2022.csv").set_index("code")
    assert catalogue.loc["BR25", "basic_group"]
    frame.to_csv(tmp_path / "cases.csv", index=False)
    assert main(["settle", str(tmp_path / "cases.csv"), "--catalogue", "suzhou_2022",
                 "--policy", "point", "--out", str(tmp_path / "out"), "--quiet"]) == 0
    points = pd.read_csv(tmp_path / "out" / "case_points.csv").set_index("case_id")
    # BB25 has one case per level but two in all: stable under the default threshold (≤ 1)
    assert points.loc[1, "coefficient"] == 0.75 and points.loc[2, "coefficient"] == 1.2
    assert points.loc[3, "coefficient"] == points.loc[4, "coefficient"] == 1.0


@pytest.mark.parametrize("name", ["guangxi_2022", "yunnan_2022", "suzhou_2022"])
def test_catalogue_import_command_reproduces_the_shipped_catalogue(name, tmp_path, capsys):
    out = tmp_path / f"{name}.csv"
    assert main(["catalogue", "import", str(CATALOGUES / "sources" / f"{name}.csv"),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"groups to {out}" in printed
    assert out.read_bytes() == (CATALOGUES / f"{name}.csv").read_bytes()
    card = Path(f"{out}.source.yaml")
    assert card.read_text("utf-8") == (CATALOGUES / f"{name}.csv.source.yaml").read_text("utf-8")


def test_catalogue_import_of_a_table_without_weights(tmp_path, capsys):
    table = tmp_path / "city.csv"
    table.write_text("DRG编码,DRG名称,标准分值\nAH11,有创呼吸机,77361.96\n", "utf-8")
    assert main(["catalogue", "import", str(table), "--out", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(table) in err
    assert not (tmp_path / "c.csv").exists()


def test_wheel_carries_the_shipped_scenarios(tmp_path):
    """Shipped policies, catalogues and examples are package data (found from a wheel too)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    if result.returncode != 0 and "No module named" in result.stderr:
        pytest.skip(f"cannot build a wheel offline here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("drgsim-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for policy in ("point", "rate", "pool", "all_inclusive", "dip", "ffs", "_common",
                   "_settlement"):
        assert f"scenarios/policies/{policy}.yaml" in names
    assert "scenarios/catalogues/guangxi_2022.csv" in names
    assert "scenarios/catalogues/LICENSE" in names
    assert "scenarios/examples/cases_2023.csv" in names
    assert "sim/rules/points.py" in names
