"""A month without DRG cases (issue 9, defect 8), settled by hand under the point method (§2.6).

§2.6: "Monthly point value = monthly budget ÷ monthly total points" (月度点值=月度预算÷月度总点数);
a month without points has no point value — nothing is paid for it (not a value of 0), and its
budget share reaches the hospitals through the annual point value (§2.7). Approved extra points
are paid "(特病单议核准追加点数×对应月月度点值)×预拨比例" (Guigang 第十八条(三)) "在评审确认次月"
(第十八条(四)): at the point value of their case's own month, with the first payment after the
quarterly review — whether or not that month has cases of its own. Before issue 9 the extras were
valued at the paying month's point value, read as 0 in a month without cases, and so left to the
year end.

The hand-made year of tests/test_handmade_year.py with C7 and C8 (H2) discharged in May instead
of April, and the budget shares 0.19 / 0.41 / 0.18 / 0 / 0.22 (April's share moved to May):
  point values Jan 31,426 / 160 = 196.4125, Feb 67,814 / 410 = 165.4, Mar 29,772 / 360 = 82.7,
  Apr none (no points), May 36,388 / 440 = 82.7
  H2: Jan (80 × 196.4125 − 2,700) × 0.9 = 11,711.70; Feb (260 × 165.4 − 21,000) × 0.9 =
      19,803.60; Apr: C4's 110 extra points (February's case) × 165.4 × 0.9 = 16,374.60;
      May (440 × 82.7 − 31,500) × 0.9 = 4,399.20 -> 52,289.10
  H1 (no case after March) pays nothing in April: April's payments are 16,374.60 in all.
  Year end H2: 96,800 − 52,289.10 − 21,466.67 = 23,044.23 (annual value 160 as before).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

HANDMADE = Path(__file__).parent / "data" / "handmade"
SHARES = """title: April's budget share moved to May
changes:
  settlement.monthly_shares:
    2020-01-01: [0.19, 0.41, 0.18, 0, 0.22, 0, 0, 0, 0, 0, 0, 0]
"""


def test_extras_are_paid_after_the_quarter_in_a_month_without_cases(tmp_path):
    frame = pd.read_csv(HANDMADE / "cases.csv", dtype=str, keep_default_na=False)
    may = frame["case_id"].isin(["C7", "C8"])
    frame.loc[may, "discharge_date"] = ["2023-05-02", "2023-05-20"]
    frame.loc[frame["case_id"] == "C8", "admission_date"] = "2023-05-05"
    frame.to_csv(tmp_path / "cases.csv", index=False)
    (tmp_path / "shares.yaml").write_text(SHARES, "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(tmp_path / "cases.csv"), "--catalogue",
                 str(HANDMADE / "catalogue.csv"), "--policy", str(HANDMADE / "policy.yaml"),
                 "--reform", str(tmp_path / "shares.yaml"), "--budget", "165400",
                 "--out", str(out), "--quiet", "--no-parquet"]) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    values = summary["monthly_point_values"]
    assert values[:5] == [pytest.approx(196.4125), pytest.approx(165.4), pytest.approx(82.7),
                          None, pytest.approx(82.7)]
    assert summary["annual_point_value"] == pytest.approx(160)
    assert summary["monthly_payments"][3] == pytest.approx(16374.60, abs=0.005)
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    assert table.loc["H2", "monthly_prepaid"] == pytest.approx(52289.10, abs=0.005)
    assert table.loc["H2", "year_end_payment"] == pytest.approx(23044.23, abs=0.005)
    assert table.loc["H1", "monthly_prepaid"] == pytest.approx(40045.50, abs=0.005)


def test_a_month_with_a_budget_but_no_cases(tmp_path):
    """The hand-made year with shares 0.19 / 0.41 / 0.18 / 0.12 / 0.10 (May has a budget, no
    case): April 0.12 × 165,400 = 19,848 over its 440 points (all H2's: C7 300, C8 at 70% 140),
    so H2's April allocation is (19,848 − 31,500) × 0.9 = −10,486.80, plus C4's extras 16,374.60
    -> 5,887.80; May's 16,540 has no points: no point value, nothing paid in May, and it reaches
    the hospitals through the annual point value (still 160: the year's budget is unchanged).
    H1 40,045.50 as in the hand-made year; H2 11,711.70 + 19,803.60 + 5,887.80 = 37,403.10;
    H2's year end 96,800 − 37,403.10 − 21,466.67 = 37,930.23."""
    (tmp_path / "shares.yaml").write_text("""title: a month with a budget and no cases
changes:
  settlement.monthly_shares:
    2020-01-01: [0.19, 0.41, 0.18, 0.12, 0.10, 0, 0, 0, 0, 0, 0, 0]
""", "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(HANDMADE / "cases.csv"), "--catalogue",
                 str(HANDMADE / "catalogue.csv"), "--policy", str(HANDMADE / "policy.yaml"),
                 "--reform", str(tmp_path / "shares.yaml"), "--budget", "165400",
                 "--out", str(out), "--quiet", "--no-parquet"]) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["monthly_point_values"][4] is None
    assert summary["monthly_payments"][4] == 0
    assert summary["annual_point_value"] == pytest.approx(160)
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    assert table.loc["H1", "monthly_prepaid"] == pytest.approx(40045.50, abs=0.005)
    assert table.loc["H2", "monthly_prepaid"] == pytest.approx(37403.10, abs=0.005)
    assert table.loc["H2", "year_end_payment"] == pytest.approx(37930.23, abs=0.005)
    assert table.loc["H2", "fund_payable"] == pytest.approx(96800, abs=0.005)
