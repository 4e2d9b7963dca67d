"""The rate method (POLICY_RULES §3) settled by hand (issue 9, defect 1), and the level adjustment
rounded as a published coefficient (issue 9, defect 8).

§3: "Payment standard of a case = weight × rate(level) (× coefficient if used)"; Yuxi's plan
(玉医改办〔2017〕11号, ../shared/seeds/000): "医保局按DRG付费标准扣减患者个人负担金额后
与医疗机构进行费用结算，超支不补，结余留用". Every case is paid its standard whatever it cost:
no low or high multiples, no special-case extras, and a whole-group review is paid its
standard too unless the policy sets ``rate.whole_group_at_reviewed_cost``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

HANDMADE = Path(__file__).parent / "data" / "handmade"

AUDIT_CATALOGUE = """\
code,name,adrg,mdc,severity_rank,weight,basic_group,stable,whole_group_review,mean_cost,\
mean_cost_primary,mean_cost_secondary,mean_cost_tertiary,coefficient_primary,\
coefficient_secondary,coefficient_tertiary
GA19,group A,GA1,G,1,1.0,false,true,false,10000,10000,10000,10000,1.0,1.0,1.0
"""
# The audit's case (L1) and a high-multiple one (H1, special review approved): weight 1.0, group
# mean 10,000, rate ¥7,990, coefficient 1 -> each is paid 1.0 × 7,990 = ¥7,990.
# Before the fix §2.3/§2.5 ran under the rate: L1 2,000 < 0.3 × 10,000 -> low, 100 × 2,000 /
# 10,000 = 20 points × 79.9 = ¥1,598; H1 40,000 > 3 × 10,000 -> high, extra (40,000/10,000 − 3)
# × 100 = 100 points -> 200 points = ¥15,980.
AUDIT_CASES = ("case_id,patient_id,hospital_id,hospital_level,drg,cost,fund_paid,patient_paid,"
               "los_days,discharge_date,review,review_approved\n") + """\
L1,P1,HL,tertiary,GA19,2000,1400,600,3,2023-03-10,none,false
H1,P2,HH,tertiary,GA19,40000,36000,4000,30,2023-03-11,special,true
"""
RATE_7990 = """title: the audit's rate
changes:
  rate.base_rate: {2020-01-01: 7990}
  groups.unstable_max_cases: {2020-01-01: 0}
"""


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")


def _settle(cases: Path, catalogue: Path, reforms: list[Path], out: Path,
            policy: str = "rate") -> Path:
    arguments = ["settle", str(cases), "--catalogue", str(catalogue), "--policy", policy,
                 "--out", str(out), "--quiet", "--no-parquet"]
    for reform in reforms:
        arguments += ["--reform", str(reform)]
    assert main(arguments) == 0
    return out


def test_the_audits_low_cost_case_is_paid_weight_times_rate(tmp_path):
    _write(tmp_path, {"catalogue.csv": AUDIT_CATALOGUE, "cases.csv": AUDIT_CASES,
                      "reform.yaml": RATE_7990})
    out = _settle(tmp_path / "cases.csv", tmp_path / "catalogue.csv", [tmp_path / "reform.yaml"],
                  tmp_path / "out")
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points["case_class"].to_dict() == {"L1": "normal", "H1": "normal"}
    assert points["points"].to_dict() == {"L1": 100, "H1": 100}
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    paid = table["fund_payable_before_caps"] + table["patient_paid"]
    assert paid.to_dict() == pytest.approx({"HL": 7990, "HH": 7990}, abs=0.005)
    # the fund pays the standard minus the patient's share (§3): 7,390 and 3,990
    assert table["fund_payable"].to_dict() == pytest.approx({"HL": 7390, "HH": 3990}, abs=0.005)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["case_classes"]["low"] == summary["case_classes"]["high"] == 0


# The hand-made year of tests/test_handmade_year.py under the shipped rate policy at a fixed
# rate of ¥10,000 (100 yuan a point), with coefficients switched on (the shipped Yunnan policy
# pays none beyond the level's rate: tests/test_seed_policies.py), coefficients from the
# catalogue, basic groups paid by level (rate.yaml), groups with one case unstable (coefficient 1):
#   C1 H1 ES25 secondary 80 × 1.0 = 80        C2 H2 ES25 tertiary 80 × 1.1 = 88
#   C3 H1 FM13 secondary 200 × 0.9 = 180      C4 H2 FM13 tertiary 200 × 1.1 = 220 (no extra)
#   C5 H2 FM15 tertiary 150 × 1.1 = 165 (not low)   C6 H1 FM15 secondary 150 × 1.0 = 150
#   C7 H2 RE19 unstable 300                   C8 H2 AH19 unstable (one case) 600 × 1 = 600
#   C9 H1 FM13 secondary 180 (not high)
#   H1 80 + 180 + 150 + 180 = 590 -> ¥59,000; H2 88 + 220 + 165 + 300 + 600 = 1,373 -> ¥137,300
# Fund before caps = receipts − patients' cash: H1 59,000 − 25,800 = 33,200;
#   H2 137,300 − 55,200 = 82,100; no caps under the rate method.
# Monthly (§2.6) at 100 a point, prepay 0.9:
#   H1 Jan (8,000 − 2,400) × 0.9 = 5,040; Feb (15,000 − 4,200) × 0.9 = 9,720;
#      Mar (36,000 − 19,200) × 0.9 = 15,120 -> 29,880
#   H2 Jan (8,800 − 2,700) × 0.9 = 5,490; Feb (38,500 − 21,000) × 0.9 = 15,750;
#      Apr (90,000 − 31,500) × 0.9 = 52,650 -> 73,890
# Advance 10,033.33 and 21,466.67 (2/12 of 60,200 and 128,800); year end
#   H1 33,200 − 29,880 − 10,033.33 = −6,713.33; H2 82,100 − 73,890 − 21,466.67 = −13,256.67
# Before the fix: C4 high with 110 extra points, C5 low (40), C8 whole group (200), H2 950.
RATE_10000 = """title: a rate of 10,000
changes:
  rate.base_rate: {2020-01-01: 10000}
  rate.use_coefficients: {2020-01-01: true}
"""


@pytest.fixture
def handmade_rate(tmp_path) -> Path:
    _write(tmp_path, {"reform.yaml": RATE_10000})
    return tmp_path / "reform.yaml"


def test_handmade_year_under_the_rate_method(tmp_path, handmade_rate):
    out = _settle(HANDMADE / "cases.csv", HANDMADE / "catalogue.csv", [handmade_rate],
                  tmp_path / "out")
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points["case_class"].to_dict() == {
        "C1": "normal", "C2": "normal", "C3": "normal", "C4": "normal", "C5": "normal",
        "C6": "normal", "C7": "unstable", "C8": "unstable", "C9": "normal"}
    assert points["points"].round(8).to_dict() == {
        "C1": 80, "C2": 88, "C3": 180, "C4": 220, "C5": 165, "C6": 150, "C7": 300, "C8": 600,
        "C9": 180}
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    expected = {
        "H1": dict(points=590, fund_payable_before_caps=33200, fund_payable=33200,
                   monthly_prepaid=29880, january_advance=10033.33, year_end_payment=-6713.33),
        "H2": dict(points=1373, fund_payable_before_caps=82100, fund_payable=82100,
                   monthly_prepaid=73890, january_advance=21466.67, year_end_payment=-13256.67),
    }
    for hospital, columns in expected.items():
        for column, value in columns.items():
            assert table.loc[hospital, column] == pytest.approx(value, abs=0.005), (hospital,
                                                                                    column)


def test_whole_group_review_at_reviewed_cost_when_the_policy_says_so(tmp_path, handmade_rate):
    """rate.whole_group_at_reviewed_cost: C8 (AH19, approved whole-group review) with 16,000
    struck out is paid 66,000 − 16,000 = ¥50,000: 500 points at 100 a point (not 600 × 100, and
    not §2.5's reviewed cost ÷ mean cost of all cases × 100 = 166.67 points = ¥16,666.67).
    H2: 88 + 220 + 165 + 300 + 500 = 1,273 -> ¥127,300, fund 127,300 − 55,200 = 72,100;
    monthly: April counts C8 at 70% (§2.6): (300 + 350) × 100 − 31,500 = 33,500 × 0.9 = 30,150,
    so 5,490 + 15,750 + 30,150 = 51,390; year end 72,100 − 51,390 − 21,466.67 = −756.67."""
    frame = pd.read_csv(HANDMADE / "cases.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["case_id"] == "C8", "unreasonable_cost"] = "16000"
    frame.to_csv(tmp_path / "cases.csv", index=False)
    _write(tmp_path, {"at_cost.yaml": "title: at reviewed cost\nchanges:\n"
                      "  rate.whole_group_at_reviewed_cost: {2020-01-01: true}\n"})
    out = _settle(tmp_path / "cases.csv", HANDMADE / "catalogue.csv",
                  [handmade_rate, tmp_path / "at_cost.yaml"], tmp_path / "out")
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points.loc["C8", "case_class"] == "whole_group"
    assert points.loc["C8", "points"] == pytest.approx(500)
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    assert table.loc["H2", "fund_payable"] == pytest.approx(72100, abs=0.005)
    assert table.loc["H2", "monthly_prepaid"] == pytest.approx(51390, abs=0.005)
    assert table.loc["H2", "year_end_payment"] == pytest.approx(-756.67, abs=0.005)


def test_level_adjustment_is_rounded_like_the_coefficient(tmp_path):
    """Issue 9, defect 8: the hand-made year (point method) with the secondary level × 0.9999999975.
    FM13 secondary 0.9 × 0.9999999975 = 0.89999999775, 8 decimals -> 0.9 (C3: 200 × 0.9 = 180
    points, as without the adjustment); before the fix C3 was paid 179.99999955 points."""
    _write(tmp_path, {"adjust.yaml": "title: adjust\nchanges:\n  coefficients.level_adjustment:\n"
                      "    2020-01-01: {primary: 1.0, secondary: 0.9999999975, tertiary: 1.0}\n"})
    out = _settle(HANDMADE / "cases.csv", HANDMADE / "catalogue.csv", [tmp_path / "adjust.yaml"],
                  tmp_path / "out", policy=str(HANDMADE / "policy.yaml"))
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points.loc["C3", "coefficient"] == 0.9
    assert points.loc["C3", "points"] == 180
    assert points.loc["C6", "coefficient"] == 1.0  # FM15 secondary 1.0 × 0.9999999975 -> 1.0
