"""The scored assessment (§2.7, §2.8, §6; issue 9, features c and d) on the hand-made year of
test_handmade_year.py, with the Zhejiang fragment (scenarios/policies/_assessment_zhejiang.yaml:
readmission 0.1, admissions per person 0.5, self-pay ratio 0.1, floor 0.9) scored in settle.

Indicators by hand (benchmark = mean of the two hospitals):
  readmission: H1 C3 (P3, out 03-05) and C9 (P3, in 03-10), 5 days -> 1 of 4 = 0.25; H2 0 (C7,
    RE19, is planned treatment and left out); benchmark 0.125; H1 0.25/0.125 - 1 = 1 -> 0.1 x 1
    = 0.1
  admissions per person: H1 4 cases / 3 patients = 4/3, H2 5/5 = 1; benchmark 7/6;
    H1 (4/3)/(7/6) - 1 = 1/7 -> 0.5/7 = 0.0714
  self-pay ratio: H1 10,000 / 86,000, H2 0; benchmark half of H1's; H1 2 - 1 = 1 -> 0.1
  H1: 1 - 0.1 - 0.0714 - 0.1 = 0.729 -> floor 0.9
  H2 is better than the benchmark on all three, and Zhejiang's 考核奖罚点数 reward it (ceiling
    1.1): readmission 0/0.125 - 1 = -1 -> +0.1; admissions per person 1/(7/6) - 1 = -1/7 ->
    +0.0714; self-pay 0 - 1 = -1 -> +0.1; 1 + 0.2714 -> ceiling 1.1 (without rewards: 1.0)
Point method: H1's receipts, points x annual point value = fund payable before caps 68,600 +
  patients' cash 25,800 = 94,400, become 0.9 x 94,400 = 84,960: before caps 84,960 - 25,800 =
  59,160, less the self-pay cap's 10,000 - 10% x 86,000 = 1,400: 57,760 (was 67,200); H2's
  receipts 96,800 + 55,200 = 152,000 would become 1.1 x 152,000 = 167,200, but the budget is
  fixed (Guigang 第五条 以收定支): rewards are paid out of what the penalties keep, H1's
  0.1 x 94,400 = 9,440, against H2's claim 0.1 x 152,000 = 15,200: H2 applied 1 + 0.1 x
  9,440 / 15,200 = 1.0621053, receipts 152,000 + 9,440 = 161,440, fund 161,440 - 55,200 =
  106,240. Before caps 59,160 + 106,240 = 165,400 = the budget.
Pool (d): receipts are not cut; the pool 5,129.70 is shared by contribution x coefficient:
  H1 2,224.75 x 0.9 = 2,002.275, H2 2,904.95 x 1.1 = 3,195.445 (sum 5,197.72);
  H1 2,002.275 / 5,197.72 x 5,129.70 = 1,976.07; H2 5,129.70 - 1,976.07 = 3,153.63.
  (Without rewards, H2 at 1.0: 2,093.05 and 3,036.65.)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

DATA = Path(__file__).parent / "data" / "handmade"
POLICIES = Path(__file__).parents[1] / "scenarios" / "policies"


def _settle(tmp_path: Path, method: str, scored: bool = True) -> pd.DataFrame:
    policy = tmp_path / "policy.yaml"
    extends = [str(POLICIES / f"{method}.yaml")]
    if scored:
        extends.append(str(POLICIES / "_assessment_zhejiang.yaml"))
    policy.write_text(f"""title: {method}, hand-made year, scored assessment
extends: [{", ".join(extends)}]
parameters:
  settlement:
    monthly_shares:
      values:
        2020-01-01: [0.19, 0.41, 0.18, 0.22, 0, 0, 0, 0, 0, 0, 0, 0]
""", "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(policy), "--budget", "165400", "--out", str(out), "--quiet",
                 "--no-parquet"]) == 0
    return pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")


def test_the_scored_assessment_cuts_the_receipts_of_the_worse_hospital(tmp_path):
    table = _settle(tmp_path, "point")
    assert table.loc["H1", "fund_payable_before_caps"] == pytest.approx(59160, abs=0.005)
    assert table.loc["H1", "fund_payable"] == pytest.approx(57760, abs=0.005)
    assert table.loc["H2", "fund_payable"] == pytest.approx(106240, abs=0.005)
    assert table.fund_payable_before_caps.sum() == pytest.approx(165400, abs=0.005)
    # the coefficients are in the output: H1 at the floor 0.9, H2 scored at the ceiling 1.1
    # and paid 1 + 0.1 × 9,440 / 15,200 inside the budget
    assert table.assessment_coefficient.to_dict() == pytest.approx({"H1": 0.9, "H2": 1.1})
    assert table.assessment_applied.to_dict() == pytest.approx({"H1": 0.9,
                                                                "H2": 1 + 0.1 * 9440 / 15200})


def test_unscored_settle_is_unchanged(tmp_path):
    table = _settle(tmp_path, "point", scored=False)
    assert table.loc["H1", "fund_payable_before_caps"] == pytest.approx(68600, abs=0.005)
    assert table.loc["H1", "fund_payable"] == pytest.approx(67200, abs=0.005)


def test_the_score_shares_out_the_pool(tmp_path):
    table = _settle(tmp_path, "pool")
    assert table.loc["H1", "pool_payout"] == pytest.approx(1976.07, abs=0.005)
    assert table.loc["H2", "pool_payout"] == pytest.approx(3153.63, abs=0.005)
    assert table.fund_payable.tolist() == pytest.approx([67200, 96800], abs=0.005)
