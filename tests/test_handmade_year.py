"""A hand-made year settled to the cent under the point method (POLICY_RULES §2.3–§2.7).

Two hospitals, nine cases: a basic group (ES25), a stable family with both outlier classes
(FM13/FM15), a reviewed high-multiple case, an unstable group (RE19, one case), a whole-group
review (AH19), a self-pay cap that binds. The catalogue carries reference mean costs and
coefficients, so every number below follows from the files in tests/data/handmade by hand.

Points (§2.5), base points B = weight × 100:
  C1 H1 ES25 basic -> c = 1 (§2.4), normal: 80            C2 H2 ES25 basic, normal: 80
  C3 H1 FM13 secondary c 0.9, 18,000 vs 18,000: 180       C6 H1 FM15 secondary c 1.0: 150
  C4 H2 FM13 tertiary c 1.1, 66,000 > 2.5 × 22,000 = 55,000 -> high; approved review:
     m = 66,000/22,000 − 2.5 = 0.5, extra = 0.5 × 200 × 1.1 = 110, points 220 + 110 = 330
  C5 H2 FM15 tertiary, 4,000 < 0.3 × 16,000 = 4,800 -> low: 150 × 4,000/15,000 = 40
  C7 H2 RE19 one case -> unstable: 300 × 1 = 300
  C8 H2 AH19 whole-group review: (66,000 − 6,000) / (270,000 / 9) × 100 = 200
  C9 H1 FM13 secondary, 46,000 > 45,000 -> high, no review: 200 × 0.9 = 180
  H1 = 80 + 180 + 150 + 180 = 590; H2 = 80 + 330 + 40 + 300 + 200 = 950; total 1,540
Annual point value (§2.7), budget 165,400, cost 270,000, fund 189,000:
  (270,000 − 189,000 + 165,400) / 1,540 = 160
Receipts: H1 590 × 160 = 94,400; H2 950 × 160 = 152,000; patients pay 30%: 25,800 and 55,200
Fund before caps: H1 68,600; H2 96,800 (sum 165,400 = the budget)
Self-pay cap (10%): H1 self-pay 10,000 − 8,600 = 1,400 deducted -> H1 fund payable 67,200
Monthly (§2.6), shares 0.19/0.41/0.18/0.22 of 165,400 = 31,426 / 67,814 / 29,772 / 36,388;
pre-review points 160 / 410 (C4 at 220) / 360 / 440 (C8 at 70% = 140):
  point values 196.4125 / 165.4 / 82.7 / 82.7
  H1: Jan (80 × 196.4125 − 2,400) × 0.9 = 11,981.70; Feb (150 × 165.4 − 4,200) × 0.9 = 18,549.00;
      Mar (360 × 82.7 − 19,200) × 0.9 = 9,514.80 -> 40,045.50
  H2: Jan (80 × 196.4125 − 2,700) × 0.9 = 11,711.70; Feb (260 × 165.4 − 21,000) × 0.9 = 19,803.60;
      Apr (440 × 82.7 − 31,500) × 0.9 = 4,399.20 + C4's 110 extra points, paid after Q1's review
      (April) at the value of February, C4's month (对应月月度点值, issue 9; not April's 82.7):
      110 × 165.4 × 0.9 = 16,374.60 -> 52,289.10
  by month: Jan 11,981.70 + 11,711.70 = 23,693.40; Feb 18,549.00 + 19,803.60 = 38,352.60;
      Mar 9,514.80; Apr 4,399.20 + 16,374.60 = 20,773.80
January advance: 2/12 of fund payments 60,200 and 128,800 -> 10,033.33 and 21,466.67
Year end: H1 67,200 − 40,045.50 − 10,033.33 = 17,121.17;
          H2 96,800 − 52,289.10 − 21,466.67 = 23,044.23
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

DATA = Path(__file__).parent / "data" / "handmade"


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    out = tmp_path_factory.mktemp("handmade") / "run"
    code = main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--budget", "165400", "--out", str(out),
                 "--quiet"])
    assert code == 0
    return out


def test_case_classes_and_points(settled):
    points = pd.read_csv(settled / "case_points.csv").set_index("case_id")
    assert points["case_class"].to_dict() == {
        "C1": "normal", "C2": "normal", "C3": "normal", "C4": "high", "C5": "low",
        "C6": "normal", "C7": "unstable", "C8": "whole_group", "C9": "high"}
    assert points["points"].round(8).to_dict() == {
        "C1": 80, "C2": 80, "C3": 180, "C4": 330, "C5": 40, "C6": 150, "C7": 300, "C8": 200,
        "C9": 180}
    assert points.loc["C1", "coefficient"] == 1.0  # basic group, same price (§2.4)
    assert points.loc["C7", "coefficient"] == 1.0  # unstable group (§2.4)
    assert points.loc["C4", "coefficient"] == pytest.approx(1.1)
    assert points.loc["C8", "base_points"] == 600


def test_point_values(settled):
    summary = json.loads((settled / "summary.json").read_text("utf-8"))
    assert summary["annual_point_value"] == pytest.approx(160, abs=1e-9)
    assert summary["total_points"] == pytest.approx(1540)
    assert summary["budget"] == 165400
    assert summary["budget_source"] == "--budget"
    values = summary["monthly_point_values"]
    assert values[:4] == pytest.approx([196.4125, 165.4, 82.7, 82.7], abs=1e-9)
    assert values[4:] == [None] * 8
    # §2.6: C4's extra points at February's value, paid with April's payment (issue 9)
    assert summary["monthly_payments"][:4] == pytest.approx(
        [23693.40, 38352.60, 9514.80, 20773.80], abs=0.005)
    assert summary["monthly_payments"][4:] == [0] * 8


def test_hospital_money_to_the_cent(settled):
    table = pd.read_csv(settled / "hospital_settlement.csv").set_index("hospital_id")
    expected = {
        "H1": dict(cases=4, points=590, cost=86000, patient_paid=25800, ffs_fund_paid=60200,
                   fund_payable_before_caps=68600, fund_payable=67200, monthly_prepaid=40045.50,
                   january_advance=10033.33, year_end_payment=17121.17,
                   self_pay_cap_deduction=1400, surplus_cap_deduction=0),
        "H2": dict(cases=5, points=950, cost=184000, patient_paid=55200, ffs_fund_paid=128800,
                   fund_payable_before_caps=96800, fund_payable=96800, monthly_prepaid=52289.10,
                   january_advance=21466.67, year_end_payment=23044.23,
                   self_pay_cap_deduction=0, surplus_cap_deduction=0),
    }
    for hospital, columns in expected.items():
        for column, value in columns.items():
            assert table.loc[hospital, column] == pytest.approx(value, abs=0.005), (hospital,
                                                                                    column)
    assert table.loc["H1", "hospital_level"] == "secondary"
    assert table.loc["H1", "cmi"] == pytest.approx(630 / 400)
    assert table.loc["H2", "cmi"] == pytest.approx(1330 / 500)


def test_run_folder_is_complete(settled):
    names = {p.name for p in settled.iterdir()}
    assert {"case_points.csv", "hospital_settlement.csv", "summary.json", "run_record.json",
            "case_points.parquet", "hospital_settlement.parquet"} <= names
    record = json.loads((settled / "run_record.json").read_text("utf-8"))
    assert record["parameters"]["values"]["settlement.prepay_ratio"] == 0.9
    assert record["parameters"]["budget_override"] == 165400
    assert len(record["inputs"]["cases"][0]["sha256"]) == 64
    assert record["versions"]["numpy"]


def test_approval_without_a_special_review_grants_no_extra_points(tmp_path):
    """§2.5: extra points come only from a special-case review; C9 approved but not reviewed."""
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["case_id"] == "C9", "review_approved"] = "true"
    frame.to_csv(tmp_path / "cases.csv", index=False)
    out = tmp_path / "run"
    assert main(["settle", str(tmp_path / "cases.csv"), "--catalogue",
                 str(DATA / "catalogue.csv"), "--policy", str(DATA / "policy.yaml"),
                 "--budget", "165400", "--out", str(out), "--quiet"]) == 0
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points.loc["C9", "points"] == 180


def test_deducted_points_stay_with_the_fund(tmp_path):
    """§2.5, §2.7 (issue 9): an audit deducts 40 of C9's points (H1). Guigang 第十六条(六)
    "年度总点数=年度所有病例点数之和": the annual total points stay 1,540 and the annual point
    value 160 (not 246,400 / 1,500 = 164.27, which would raise H2's pay with H1's deduction);
    第十九条 "医疗机构年度总点数=该医疗机构年度核准总点数-全年扣除点数": H1 has 590 − 40 = 550.
    By hand:
      H1 receipts 550 × 160 = 88,000; fund before caps 88,000 − 25,800 = 62,200;
         self-pay cap 1,400 (unchanged) -> fund payable 60,800;
         C9 is a March case: its 40 points are taken from April's payment (the month after
         Q1's audit, 第十八条(四) "于审核次月扣减") at March's point value 82.7, without the
         prepay ratio (第十八条(三) "-扣除点数×对应月月度点值"): 40 × 82.7 = 3,308.00;
         monthly 40,045.50 − 3,308.00 = 36,737.50; advance 10,033.33 as before
         -> year end 60,800 − 36,737.50 − 10,033.33 = 14,029.17
      H2 unchanged: 950 × 160 = 152,000, fund before caps and payable 96,800
      the fund keeps 40 × 160 = 6,400: 62,200 + 96,800 + 6,400 = 165,400 = the budget
    """
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame["deducted_points"] = ["40" if case == "C9" else "" for case in frame["case_id"]]
    frame.to_csv(tmp_path / "cases.csv", index=False)
    out = tmp_path / "run"
    assert main(["settle", str(tmp_path / "cases.csv"), "--catalogue",
                 str(DATA / "catalogue.csv"), "--policy", str(DATA / "policy.yaml"),
                 "--budget", "165400", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["total_points"] == pytest.approx(1540)
    assert summary["annual_point_value"] == pytest.approx(160, abs=1e-9)
    assert summary["deducted_points_value"] == pytest.approx(6400, abs=0.005)
    assert summary["monthly_deductions"][3] == pytest.approx(3308, abs=0.005)
    assert sum(summary["monthly_deductions"]) == pytest.approx(3308, abs=0.005)
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    expected = {
        "H1": dict(points=550, deducted_points=40, deducted_points_value=6400,
                   fund_payable_before_caps=62200, self_pay_cap_deduction=1400,
                   fund_payable=60800, monthly_prepaid=36737.50, january_advance=10033.33,
                   year_end_payment=14029.17),
        "H2": dict(points=950, deducted_points=0, deducted_points_value=0,
                   fund_payable_before_caps=96800, fund_payable=96800),
    }
    for hospital, columns in expected.items():
        for column, value in columns.items():
            assert table.loc[hospital, column] == pytest.approx(value, abs=0.005), (hospital,
                                                                                    column)
    assert (table["fund_payable_before_caps"].sum() + table["deducted_points_value"].sum()
            == pytest.approx(165400, abs=0.005))


def test_other_payers_count_with_patients_cash(tmp_path, settled):
    """Issue 9, feature f: C2 (H2, cost 9,000, fund 6,300) has 2,700 of patients' cash; here
    1,000 of it is paid by serious-illness insurance (other_paid) and 1,700 by the patient.
    Guigang 年度点值 = (总费用 − 统筹基金费用 + DRG基金总额) ÷ 总点数 and the year end deducts
    患者支付现金 and 其他资金应支付费用 alike, so every fund figure is as in the year above
    (H2 fund payable 96,800, monthly 52,289.10 with January's (80 × 196.4125 − 1,700 − 1,000) ×
    0.9 = 11,711.70); only the split changes: H2 patients 55,200 − 1,000 = 54,200, other 1,000."""
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame["other_paid"] = "0"
    frame.loc[frame.case_id == "C2", ["patient_paid", "other_paid"]] = ["1700", "1000"]
    cases = tmp_path / "cases.csv"
    frame.to_csv(cases, index=False)
    out = tmp_path / "run"
    assert main(["settle", str(cases), "--catalogue", str(DATA / "catalogue.csv"), "--policy",
                 str(DATA / "policy.yaml"), "--budget", "165400", "--out", str(out),
                 "--quiet"]) == 0
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    before = pd.read_csv(settled / "hospital_settlement.csv").set_index("hospital_id")
    for column in ("fund_payable_before_caps", "fund_payable", "monthly_prepaid",
                   "year_end_payment", "points"):
        assert table[column].tolist() == pytest.approx(before[column].tolist(), abs=0.005)
    assert table.loc["H2", "patient_paid"] == pytest.approx(54200)
    assert table.loc["H2", "other_paid"] == pytest.approx(1000)
    assert table.loc["H1", "other_paid"] == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["totals"]["other_paid"] == 1000


def test_complications_priced_higher(tmp_path):
    """§1.4 (weights.complication_multiplier 1.1, the Norway experiment of BEHAVIOUR §8): FM13
    is rank 2 of family FM1, so its base points 200 → 220; FM15 (rank 1), ES25, RE19 and AH19
    (the lowest or only rank of their families) keep theirs. By hand, with 220 base points
    FM13's high-multiple threshold is the (200, 300] band's 2 (§2.3):
      C3 secondary c 0.9, 18,000 ≤ 2 × 18,000: normal, 220 × 0.9 = 198
      C4 tertiary c 1.1, 66,000 > 2 × 22,000: high, approved: m = 3 − 2 = 1,
         220 × 1.1 + 1 × 220 × 1.1 = 484
      C9 secondary, 46,000 > 36,000: high, no review: 198
      H1 = 80 + 198 + 150 + 198 = 626; H2 = 80 + 484 + 40 + 300 + 200 = 1,104; total 1,730
      annual point value (270,000 − 189,000 + 165,400) / 1,730 = 142.4277456…"""
    reform = tmp_path / "complications.yaml"
    reform.write_text("title: Complications priced 10% higher\nchanges:\n"
                      "  weights.complication_multiplier: {2020-01-01: 1.1}\n", "utf-8")
    out = tmp_path / "run"
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--reform", str(reform),
                 "--budget", "165400", "--out", str(out), "--quiet"]) == 0
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points["points"].round(8).to_dict() == {
        "C1": 80, "C2": 80, "C3": 198, "C4": 484, "C5": 40, "C6": 150, "C7": 300, "C8": 200,
        "C9": 198}
    assert points.loc["C4", "base_points"] == pytest.approx(220)
    assert points.loc["C5", "base_points"] == pytest.approx(150)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["total_points"] == pytest.approx(1730)
    assert summary["annual_point_value"] == pytest.approx(246400 / 1730, abs=1e-9)


@pytest.mark.parametrize("fm13_mean, multiplier, ratio", [
    (14000, 1.1, 1.1),    # inverted (FM13 below FM15): fixed to FM15's score, then × 1.1
    (20000, 1.1, 1.1 * 20000 / 15000),
    (16000, 0.9, 1.0),    # narrowed below FM15 (16,000 × 0.9 = 14,400): fixed again
])
def test_dip_complication_multiplier_is_the_price_ratio_it_says(tmp_path, fm13_mean, multiplier,
                                                                ratio):
    """§4 DIP scores (mean cost ÷ mean cost of all cases × 100), §8 inversions fixed, then the
    §1.4 multiplier on the family's upper rank, fixed again when it narrows: FM13's score ÷
    FM15's is the multiplier times the fixed ratio."""
    catalogue = pd.read_csv(DATA / "catalogue.csv", dtype=str, keep_default_na=False)
    catalogue.loc[catalogue["code"] == "FM13", "mean_cost"] = str(fm13_mean)
    catalogue.to_csv(tmp_path / "catalogue.csv", index=False)
    reform = tmp_path / "complications.yaml"
    reform.write_text("title: Complications\nchanges:\n"
                      f"  weights.complication_multiplier: {{2020-01-01: {multiplier}}}\n",
                      "utf-8")
    out = tmp_path / "run"
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(tmp_path / "catalogue.csv"),
                 "--policy", "dip", "--reform", str(reform), "--budget", "165400",
                 "--out", str(out), "--quiet"]) == 0
    base = pd.read_csv(out / "case_points.csv").set_index("case_id")["base_points"]
    assert base["C3"] / base["C6"] == pytest.approx(ratio, rel=1e-7)    # FM13 ÷ FM15 cases
