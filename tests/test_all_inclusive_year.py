"""§5 all-inclusive price, settled by hand (issue 9, defect 2): the price that decides which cases
leave it ("cost < 1/3 or > 3 × the group price") is the price charged to those that stay."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

CATALOGUE = """code,name,adrg,mdc,severity_rank,weight,basic_group,stable,whole_group_review
GA19,group A,GA1,G,1,1.0,false,true,false
"""
# One group, weight 1 (100 base points), rate ¥1,000, no coefficients in the catalogue, so the
# level coefficients come from this year's cases under DRG (all eight below, before any leaves the
# price): mean cost of the group = (2,000 + 2,000 + 20,000 + 7,000 + 4 × 1,000) / 8 = 4,375;
# tertiary mean = 31,000 / 4 = 7,750 -> coefficient 7,750 / 4,375 = 1.77142857 (8 decimals);
# secondary mean 1,000 -> 1,000 / 4,375 = 0.22857143.
# Tertiary price = 100 × 1.77142857 / 100 × 1,000 = ¥1,771.43 (3 × = 5,314.29, 1/3 × = 590.48):
#   T3 (died) leaves the price; T4 (7,000 > 5,314.29) leaves it; T1, T2 (2,000) stay.
# Secondary price = ¥228.57 (3 × = 685.71): S1-S4 cost 1,000 > 685.71 -> all leave the price.
# Before the fix the charge used coefficients from the cases that stayed (T1, T2 only at
# tertiary: 2,000 / 2,000 = 1 -> ¥1,000), not the price the test used.
CASES = ("case_id,patient_id,hospital_id,hospital_level,drg,cost,fund_paid,patient_paid,"
         "los_days,discharge_date,died\n") + """\
T1,P1,HT,tertiary,GA19,2000,1400,600,5,2023-03-10,false
T2,P2,HT,tertiary,GA19,2000,1400,600,5,2023-03-11,false
T3,P3,HT,tertiary,GA19,20000,14000,6000,5,2023-03-12,true
T4,P4,HT,tertiary,GA19,7000,4900,2100,5,2023-03-13,false
S1,P5,HS,secondary,GA19,1000,700,300,5,2023-03-10,false
S2,P6,HS,secondary,GA19,1000,700,300,5,2023-03-11,false
S3,P7,HS,secondary,GA19,1000,700,300,5,2023-03-12,false
S4,P8,HS,secondary,GA19,1000,700,300,5,2023-03-13,false
"""
REFORM = """title: hand-made all-inclusive year
changes:
  rate.base_rate: {2020-01-01: 1000}
  groups.unstable_max_cases: {2020-01-01: 0}
"""


@pytest.fixture
def settled(tmp_path) -> tuple[pd.DataFrame, Path]:
    for name, text in (("catalogue.csv", CATALOGUE), ("cases.csv", CASES),
                       ("reform.yaml", REFORM)):
        (tmp_path / name).write_text(text, "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(tmp_path / "cases.csv"), "--catalogue",
                 str(tmp_path / "catalogue.csv"), "--policy", "all_inclusive", "--reform",
                 str(tmp_path / "reform.yaml"), "--out", str(out), "--quiet",
                 "--no-parquet"]) == 0
    return pd.read_csv(out / "case_points.csv").set_index("case_id"), out


def test_the_tested_price_is_the_charged_price(settled):
    points, _ = settled
    assert points.case_class.to_dict() == {
        "T1": "normal", "T2": "normal", "T3": "excluded", "T4": "excluded",
        "S1": "excluded", "S2": "excluded", "S3": "excluded", "S4": "excluded"}
    assert points.loc["T1", "coefficient"] == pytest.approx(1.77142857, abs=1e-12)
    assert points.loc["T1", "points"] == pytest.approx(177.142857, abs=1e-9)


def test_the_price_is_split_between_fund_and_patient(settled):
    _, out = settled
    hospitals = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    # HT: T1 + T2 in the price, 2 × ¥1,771.43 (1,771.42857 each); the tertiary fund share is
    # 0.65, so the patients pay 0.35 × 1,771.42857 = 620.00 each; T3, T4 by item: their own
    # patient shares 6,000 + 2,100. Patients' cash at HT = 620.00 × 2 + 8,100 = 9,340.00
    assert hospitals.loc["HT", "patient_paid"] == pytest.approx(9340.00, abs=0.011)


def test_a_null_fund_share_splits_the_price_by_each_schemes_ratio(tmp_path, capsys):
    # Fujian "由统筹基金和个人按规定比例分担": with all_inclusive.fund_share null the price is
    # shared by the case's scheme's ratio at its level (patients.reimbursement_ratio, tertiary:
    # employee 0.85, resident 0.62). T1 employee pays 0.15 × 1,771.42857 = 265.71; T2 resident
    # 0.38 × 1,771.42857 = 673.14 (each case to the cent); T3, T4 by item 8,100: HT patients'
    # cash 265.71 + 673.14 + 8,100 = 9,038.85
    cases = CASES.replace("los_days,discharge_date,died\n", "los_days,discharge_date,died,scheme\n")
    rows = cases.splitlines()
    rows[1:] = [row + (",职工" if row.startswith("T1") else ",居民") for row in rows[1:]]
    reform = REFORM + "  all_inclusive.fund_share: {2020-01-01: null}\n"
    for name, text in (("catalogue.csv", CATALOGUE), ("cases.csv", "\n".join(rows) + "\n"),
                       ("reform.yaml", reform)):
        (tmp_path / name).write_text(text, "utf-8")
    out = tmp_path / "out"
    args = ["settle", str(tmp_path / "cases.csv"), "--catalogue", str(tmp_path / "catalogue.csv"),
            "--policy", "all_inclusive", "--reform", str(tmp_path / "reform.yaml"), "--out",
            str(out), "--quiet", "--no-parquet"]
    assert main(args) == 0
    hospitals = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    assert hospitals.loc["HT", "patient_paid"] == pytest.approx(9038.85, abs=0.001)
    # without a scheme column the ratio cannot be chosen: one line, nothing written
    (tmp_path / "cases.csv").write_text(CASES, "utf-8")
    args[args.index("--out") + 1] = str(tmp_path / "out2")
    assert main(args) == 2
    assert "column scheme: missing, but all_inclusive.fund_share is null" in \
        capsys.readouterr().err
    assert not (tmp_path / "out2").exists()
