"""The region model end to end on a small region (the default region at 5% of its population)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.commands.cli import main
from sim.inputs.policy import load_policy
from sim.inputs.region import load_region_config
from sim.model.calendar import run_calendar
from sim.model.metrics import YEARLY_COLUMNS
from sim.model.model import RegionModel, budget_total
from sim.resources import shipped

SCALE = 0.05


def run(policy: str = "point", years: int = 2, seed: int = 3, reforms=()):
    config, _ = load_region_config("default")
    model = RegionModel(config, load_policy(shipped("policies", policy, ".yaml"), list(reforms)),
                        years=years, seed=seed, scale=SCALE)
    return run_calendar(model, progress=False)


@pytest.fixture(scope="module")
def point_run():
    return run()


def test_yearly_table_has_the_promised_columns(point_run):
    yearly = point_run.tables()["yearly"]
    assert list(yearly.columns[: len(YEARLY_COLUMNS)]) == list(YEARLY_COLUMNS)
    assert list(yearly["year"]) == [2023, 2024]
    assert yearly["admissions"].between(15_000, 45_000).all()


def test_money_is_conserved_every_month_and_year(point_run):
    """Each year: DRG fund spending = Σ fund payable = budget (no cap binds at this scale) and the
    settlement's monthly payments + advance + year-end add up to it, per hospital."""
    settlement = point_run.last_settlement
    table = settlement.hospitals
    paid = table["monthly_prepaid"] + table["january_advance"] + table["year_end_payment"]
    assert np.allclose(paid, table["fund_payable"], atol=0.005)
    before = table["fund_payable_before_caps"].sum()
    budget = budget_total(point_run.budget)  # the two schemes' budgets (§2.1, Guigang)
    assert before == pytest.approx(budget, abs=0.01 + 1e-9 * budget) or \
        before < budget  # a hospital's assessment below 1 keeps money in the fund
    monthly = point_run.tables()["monthly"]
    last = monthly[monthly["year"] == 2024]
    assert np.nansum(last["drg_prepaid"]) == pytest.approx(table["monthly_prepaid"].sum(),
                                                           abs=0.05)


def test_the_funds_payment_is_recorded_in_parts_that_add_up(point_run):
    """Issue 14, the fund waterfall: per hospital, fund payable = (before caps + deducted points'
    value) − deducted points' value − caps; the hospitals' payable adds up to the year's DRG
    spending and their deducted value to the yearly audit_deducted_value, to the cent."""
    tables = point_run.tables()
    hospitals, yearly = tables["hospital_yearly"], tables["yearly"].set_index("year")
    gross = hospitals["fund_payable_before_caps"] + hospitals["deducted_points_value"]
    assert np.allclose(gross - hospitals["deducted_points_value"] - hospitals["caps_deduction"],
                       hospitals["fund_payable"], atol=0.005)
    sums = hospitals.groupby("year")[["fund_payable", "deducted_points_value"]].sum()
    assert np.allclose(sums["fund_payable"], yearly["fund_drg_spending"], atol=0.01)
    assert np.allclose(sums["deducted_points_value"], yearly["audit_deducted_value"], atol=0.01)
    assert (yearly["audit_deducted_value"] > 0).all() and (yearly["upcoding_paid"] > 0).all()
    # what upcoding is paid is a part of what the points are worth
    points_value = hospitals.groupby("year")["points"].sum() * yearly["annual_point_value"]
    assert (yearly["upcoding_paid"] < 0.2 * points_value).all()


def test_run_command_writes_the_folder(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setenv("DRGSIM_CHROMIUM", "")  # PDFs: tests/test_briefing.py
    assert main(["run", "--years", "1", "--scale", str(SCALE), "--out", str(out)]) == 0
    for name in ("monthly", "yearly", "yearly_by_level", "hospital_yearly"):
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").exists()
    for lang in ("zh", "en"):
        for chart in ("fund_balance", "point_value", "cmi", "admissions_by_level"):
            assert (out / "charts" / lang / f"{chart}.png").stat().st_size > 5_000
            assert (out / "charts" / lang / f"{chart}.csv").exists()
        assert (out / f"report.{lang}.html").is_file()
    record = json.loads((out / "run_record.json").read_text("utf-8"))
    assert record["seeds"]["root"] == 1 and record["parameters"]["scale"] == SCALE
    assert "Point method under a global budget: 1 years from 2023" in capsys.readouterr().out


def test_same_seed_same_tables(point_run):
    again = run()
    for name, table in point_run.tables().items():
        pd.testing.assert_frame_equal(table, again.tables()[name], check_exact=True, obj=name)


@pytest.mark.parametrize("policy", ["rate", "pool", "all_inclusive", "dip", "ffs"])
def test_every_policy_runs_in_the_model(policy):
    model = run(policy, years=1)
    yearly = model.tables()["yearly"]
    assert yearly["fund_drg_spending"].iloc[0] > 0
    if policy == "ffs":  # paid as billed: no upcoding incentive, fund pays the claims
        assert yearly["upcoded_share"].iloc[0] == 0
        assert yearly["upcoding_paid"].iloc[0] == 0 == yearly["audit_deducted_value"].iloc[0]
        assert yearly["fund_drg_spending"].iloc[0] == pytest.approx(
            yearly["ffs_fund_paid"].iloc[0], rel=1e-9)


def test_rollout_pays_uncovered_hospitals_and_groups_by_item():
    """§7: with 40% of hospitals and 70% of groups under DRG, most cases are paid by item."""
    rolled = run("point", years=1, reforms=[shipped("reforms", "rollout_2023_2025", ".yaml")])
    settlement = rolled.last_settlement
    classes = settlement.summary["case_classes"]
    assert classes["excluded"] > 0.3 * settlement.summary["cases"]
    state = rolled.state
    assert state.covered_hospital.mean() == pytest.approx(0.4, abs=0.02)
    assert state.covered_group.mean() == pytest.approx(0.7, abs=0.01)
    # the tertiary hospitals come first
    assert state.covered_hospital[rolled.region.hospital_level == 2].all()
