"""Dated values that change inside the settled year (issue 9, defect 3), settled by hand.

The year is tests/test_handmade_year.py's (its docstring has the baseline by hand): budget
165,400, monthly shares 0.19 / 0.41 / 0.18 / 0.22 (January–April), monthly budgets 31,426 /
67,814 / 29,772 / 36,388, pre-review points 160 / 410 / 360 / 440, monthly point values
196.4125 / 165.4 / 82.7 / 82.7, prepay 0.9; H1's cases are in January–March, H2's in January,
February and April; C4's 110 extra points (February, value 165.4) are paid with April's payment.
Each test applies a reform dated inside 2023 and recomputes what changes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.commands.cli import main
from sim.inputs.policy import load_policy
from sim.resources import shipped

DATA = Path(__file__).parent / "data" / "handmade"


def settle_with(tmp_path, changes: dict, budget: str | None = "165400"):
    reform = tmp_path / "reform.yaml"
    reform.write_text(yaml.safe_dump({"title": "A change inside 2023", "changes": changes}),
                      "utf-8")
    out = tmp_path / "run"
    args = ["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
            "--policy", str(DATA / "policy.yaml"), "--reform", str(reform), "--out", str(out),
            "--quiet"]
    assert main(args + (["--budget", budget] if budget else [])) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    return summary, table


def test_values_in_year_month_by_month():
    policy = load_policy(DATA / "policy.yaml")
    policy.parameters["settlement.prepay_ratio"].values[dt.date(2023, 3, 15)] = 0.95
    assert policy.values_in_year("settlement.prepay_ratio", 2023) == [0.9] * 3 + [0.95] * 9
    assert [d.isoformat() for d in policy.changes_in_year("settlement.prepay_ratio", 2023)] \
        == ["2023-03-15"]
    assert policy.changes_in_year("settlement.prepay_ratio", 2024) == []


def test_prepay_ratio_from_march(tmp_path):
    """§2.6: each month's payment at the prepay ratio in force in that month; the extras paid
    with April's payment at April's ratio. 0.9 in January and February, 0.95 from March:
      H1 Jan 11,981.70 and Feb 18,549.00 as before;
         Mar (360 × 82.7 − 19,200) × 0.95 = 10,572 × 0.95 = 10,043.40 -> 40,574.10
      H2 Jan 11,711.70 and Feb 19,803.60 as before;
         Apr (440 × 82.7 − 31,500) × 0.95 = 4,888 × 0.95 = 4,643.60
             + C4's extras 110 × 165.4 × 0.95 = 18,194 × 0.95 = 17,284.30 -> 53,443.20
      by month 23,693.40 / 38,352.60 / 10,043.40 / 21,927.90
      year end (fund payable − monthly − January advance, both unchanged):
         H1 67,200 − 40,574.10 − 10,033.33 = 16,592.57
         H2 96,800 − 53,443.20 − 21,466.67 = 21,890.13
    """
    summary, table = settle_with(tmp_path, {"settlement.prepay_ratio": {"2023-03-01": 0.95}})
    assert summary["monthly_payments"][:4] == pytest.approx(
        [23693.40, 38352.60, 10043.40, 21927.90], abs=0.005)
    expected = {"H1": dict(monthly_prepaid=40574.10, fund_payable=67200,
                           year_end_payment=16592.57),
                "H2": dict(monthly_prepaid=53443.20, fund_payable=96800,
                           year_end_payment=21890.13)}
    for hospital, columns in expected.items():
        for column, value in columns.items():
            assert table.loc[hospital, column] == pytest.approx(value, abs=0.005)
    assert not [w for w in summary["warnings"] if "prepay_ratio" in w]


def test_prepay_ratio_dated_inside_a_month_applies_the_month_after(tmp_path):
    """0.95 dated 15 March: March is settled at 0.9 (9,514.80), April at 0.95 (21,927.90)."""
    summary, _ = settle_with(tmp_path, {"settlement.prepay_ratio": {"2023-03-15": 0.95}})
    assert summary["monthly_payments"][2:4] == pytest.approx([9514.80, 21927.90], abs=0.005)
    assert ("settlement.prepay_ratio changes on 2023-03-15, inside a month: each month is "
            "settled with one value, so it applies from 2023-04-01") in summary["warnings"]


def test_budget_changed_from_march(tmp_path):
    """§2.1 (Guigang 第七条: the year's budget adjusted in the year), §2.6: the annual budget in
    force in each month × that month's share; the year's budget is the sum of the months'.
    165,400 until February, 169,250 from March:
      monthly budgets 31,426 / 67,814 / 0.18 × 169,250 = 30,465 / 0.22 × 169,250 = 37,235
      year's budget 31,426 + 67,814 + 30,465 + 37,235 = 166,940 (= 165,400 + 0.40 × 3,850)
      point values 196.4125 / 165.4 / 30,465 ÷ 360 = 84.625 / 37,235 ÷ 440 = 84.625
      annual point value (270,000 − 189,000 + 166,940) ÷ 1,540 = 161
      receipts H1 590 × 161 = 94,990, H2 950 × 161 = 152,950; less patients' 25,800 / 55,200:
      fund before caps 69,190 / 97,750; H1's self-pay cap 1,400 -> fund payable 67,790
      monthly H1 11,981.70 + 18,549.00 + (30,465 − 19,200) × 0.9 = 10,138.50 -> 40,669.20
              H2 11,711.70 + 19,803.60 + (37,235 − 31,500) × 0.9 = 5,161.50 + 16,374.60
                 -> 53,051.40
      year end H1 67,790 − 40,669.20 − 10,033.33 = 17,087.47
               H2 97,750 − 53,051.40 − 21,466.67 = 23,231.93
    """
    summary, table = settle_with(
        tmp_path, {"budget.annual": {"2020-01-01": 165400, "2023-03-01": 169250}}, budget=None)
    assert summary["budget"] == pytest.approx(166940, abs=0.005)
    assert summary["monthly_budgets"][:4] == pytest.approx([31426, 67814, 30465, 37235])
    assert summary["monthly_point_values"][:4] == pytest.approx([196.4125, 165.4, 84.625,
                                                                 84.625])
    assert summary["annual_point_value"] == pytest.approx(161)
    expected = {"H1": dict(fund_payable_before_caps=69190, fund_payable=67790,
                           monthly_prepaid=40669.20, year_end_payment=17087.47),
                "H2": dict(fund_payable_before_caps=97750, fund_payable=97750,
                           monthly_prepaid=53051.40, year_end_payment=23231.93)}
    for hospital, columns in expected.items():
        for column, value in columns.items():
            assert table.loc[hospital, column] == pytest.approx(value, abs=0.005)
    assert summary["budget_source"] == "budget.annual"


def test_monthly_shares_changed_from_march(tmp_path):
    """§2.6: the months before the change keep their shares (0.19 + 0.41 = 0.60, paid); the
    remaining 0.40 is spread over March–December in the new list's proportions:
    new list [0.1, 0.1, 0.756, 0.044, 0, …]: March 0.40 × 0.756 ÷ 0.8 = 0.378, April 0.022.
      monthly budgets 31,426 / 67,814 / 0.378 × 165,400 = 62,521.2 / 0.022 × 165,400 = 3,638.8
      point values 196.4125 / 165.4 / 62,521.2 ÷ 360 = 173.67 / 3,638.8 ÷ 440 = 8.27
    """
    summary, _ = settle_with(tmp_path, {"settlement.monthly_shares": {
        "2023-03-01": [0.1, 0.1, 0.756, 0.044] + [0] * 8}})
    assert summary["monthly_budgets"] == pytest.approx(
        [31426, 67814, 62521.2, 3638.8] + [0] * 8, abs=1e-6)
    assert summary["monthly_point_values"][:4] == pytest.approx([196.4125, 165.4, 173.67, 8.27])
    assert summary["budget"] == 165400


def test_whole_group_share_by_the_cases_month(tmp_path):
    """§2.6: C8 (whole-group review, April) counts at the share in force in April: 0.5 from
    April gives April 300 + 0.5 × 200 = 400 points, value 36,388 ÷ 400 = 90.97 (was 82.7).
    H2 is alone in April, so its payment is (36,388 − 31,500) × 0.9 = 4,399.20 as before."""
    summary, _ = settle_with(
        tmp_path, {"settlement.whole_group_monthly_share": {"2023-04-01": 0.5}})
    assert summary["monthly_point_values"][:4] == pytest.approx([196.4125, 165.4, 82.7, 90.97])
    assert summary["monthly_payments"][3] == pytest.approx(4399.20 + 16374.60, abs=0.005)


def test_rules_not_applied_mid_year_are_named(tmp_path):
    """A case's rule (outlier multiple), a year-end cap and the January advance changed in July
    are read on 1 January; each is named in one warning line. The money is the baseline's."""
    summary, table = settle_with(tmp_path, {
        "outliers.low_multiple": {"2023-07-01": 0.4},
        "settlement.self_pay_cap": {"2023-07-01": 0.2},
        "settlement.advance_months": {"2023-07-01": 3}})
    lines = [w for w in summary["warnings"] if "inside the settled year 2023" in w]
    assert lines == [
        "outliers.low_multiple changes on 2023-07-01, inside the settled year 2023: a mid-year "
        "change of this rule is not supported; the value in force on 1 January (0.3) is used "
        "for the whole year",
        "settlement.advance_months changes on 2023-07-01, inside the settled year 2023: the "
        "advance is paid in January (§2.6); the value in force on 1 January (2) is used for the "
        "whole year",
        "settlement.self_pay_cap changes on 2023-07-01, inside the settled year 2023: a year-end "
        "cap on the year's totals (§2.7) has no per-month reading; the value in force on "
        "1 January (0.1) is used for the whole year"]
    assert table.loc["H1", "year_end_payment"] == pytest.approx(17121.17, abs=0.005)


def test_a_reform_dated_mid_year_changes_that_year_in_the_model(tmp_path):
    """A model run: budget growth 6% until June, 0% from July 2023 (the first DRG year) makes
    the months from July 1.06 times smaller; 2023's budget is Σ months' budget × share. A
    prepay ratio from July is applied by settle; an outlier rule from July is named."""
    from sim.inputs.region import load_region_config
    from sim.model.calendar import run_calendar
    from sim.model.model import RegionModel

    reform = tmp_path / "reform.yaml"
    reform.write_text(yaml.safe_dump({"title": "July 2023", "changes": {
        "budget.annual_growth": {"2023-07-01": 0.0},
        "settlement.prepay_ratio": {"2023-07-01": 0.95},
        "outliers.low_multiple": {"2023-07-01": 0.4}}}), "utf-8")
    config, _ = load_region_config("default")
    runs = {}
    one = Path(__file__).parent / "data" / "reforms" / "one_budget.yaml"
    for name, reforms in (("baseline", [one]), ("reform", [one, reform])):
        policy = load_policy(shipped("policies", "point", ".yaml"), reforms)
        runs[name] = run_calendar(RegionModel(config, policy, years=1, seed=3, scale=0.05),
                                  progress=False)
    base, reformed = runs["baseline"], runs["reform"]
    assert base.state.year == reformed.state.year == 2023
    full = base.state.budget  # last year's fund payable × 1.06, every month
    months = np.array(reformed.last_settlement.summary["monthly_budgets"])
    shares = np.concatenate([months[:6] / full, months[6:] / (full / 1.06)])
    assert shares.sum() == pytest.approx(1.0)
    assert reformed.state.budget == pytest.approx(months.sum(), abs=0.01)
    assert reformed.state.budget < full
    assert not [w for w in reformed.warnings if "prepay" in w or "budget" in w]
    assert [w for w in reformed.warnings if w.startswith("outliers.low_multiple changes on "
                                                         "2023-07-01")]
    assert base.warnings == []
