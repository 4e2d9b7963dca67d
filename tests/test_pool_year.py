"""The incentive pool (§4, Shanwei) on the hand-made year of test_handmade_year.py (issue 9,
defect 9): the pool takes the part of each month's allocation that is not prepaid — it replaces
the quality deposit rather than being withheld on top of it.

Shanwei: "将其中大部分基金额度分配给各医疗机构作为当月实际分配额进行预拨；将剩余的基金额度纳入
激励机制基金池" (most is prepaid as the month's allocation; the rest goes into the pool).

Same year, budget and monthly point values as the point method (196.4125 / 165.4 / 82.7 / 82.7);
allocation = points × value − patients' cash, not cut by settlement.prepay_ratio; pool.share 5%:
  H1: Jan 80 × 196.4125 − 2,400 = 13,313.00; Feb 150 × 165.4 − 4,200 = 20,610.00;
      Mar 360 × 82.7 − 19,200 = 10,572.00 -> 44,495.00; pool 665.65 + 1,030.50 + 528.60 = 2,224.75;
      prepaid 42,270.25
  H2: Jan 80 × 196.4125 − 2,700 = 13,013.00; Feb 260 × 165.4 − 21,000 = 22,004.00;
      Apr 440 × 82.7 − 31,500 = 4,888.00 + C4's extras 110 × 165.4 = 18,194.00 -> 23,082.00;
      total 58,099.00; pool 650.65 + 1,100.20 + 1,154.10 = 2,904.95; prepaid 55,194.05
  pool 5,129.70 (before: 0.05 of the 90% prepaid, 14.5% held in all)
Year end = fund payable − prepaid − January advance − pool contribution (the pool is paid out
apart): H1 67,200 − 42,270.25 − 10,033.33 − 2,224.75 = 12,671.67;
         H2 96,800 − 55,194.05 − 21,466.67 − 2,904.95 = 17,234.33.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

DATA = Path(__file__).parent / "data" / "handmade"
POOL = Path(__file__).parents[1] / "scenarios" / "policies" / "pool.yaml"


def _settle(tmp_path: Path, extra: str = "") -> pd.DataFrame:
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"""title: Pool, hand-made year
extends: {POOL}
parameters:
  settlement:
    monthly_shares:
      values:
        2020-01-01: [0.19, 0.41, 0.18, 0.22, 0, 0, 0, 0, 0, 0, 0, 0]
    assessment_scored_in_settle:  # the shipped pool scores; here the pool's mechanics alone
      values:
        2020-01-01: false
{extra}""", "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(policy), "--budget", "165400", "--out", str(out), "--quiet",
                 "--no-parquet"]) == 0
    return pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")


def test_the_pool_is_the_part_not_prepaid(tmp_path):
    table = _settle(tmp_path)
    expected = {"H1": dict(monthly_prepaid=42270.25, pool_contribution=2224.75,
                           pool_payout=2224.75, year_end_payment=12671.67, fund_payable=67200),
                "H2": dict(monthly_prepaid=55194.05, pool_contribution=2904.95,
                           pool_payout=2904.95, year_end_payment=17234.33, fund_payable=96800)}
    for hospital, columns in expected.items():
        for column, value in columns.items():
            assert table.loc[hospital, column] == pytest.approx(value, abs=0.005), (hospital,
                                                                                    column)


def test_incentive_coefficients_share_out_the_pool(tmp_path):
    # shares 2,224.75 × 1.2 = 2,669.70 and 2,904.95 × 0.8 = 2,323.96 (sum 4,993.66) of the pool
    # 5,129.70: H1 2,669.70 / 4,993.66 × 5,129.70 = 2,742.43; H2 5,129.70 − 2,742.43 = 2,387.27
    table = _settle(tmp_path, """  pool:
    incentive_coefficients:
      values:
        2020-01-01: {H1: 1.2, H2: 0.8}
""")
    assert table.loc["H1", "pool_payout"] == pytest.approx(2742.43, abs=0.005)
    assert table.loc["H2", "pool_payout"] == pytest.approx(2387.27, abs=0.005)
    assert table.pool_payout.sum() == pytest.approx(5129.70, abs=0.001)
