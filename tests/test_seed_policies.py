"""One shipped policy per seed system, checked against its text (issue 9, last part).

Not a snapshot of the YAML: each test loads the shipped policy (`sim.resources.shipped`) and
asserts the values that carry a rule of the text, or settles a small year by hand to show the rule
at work. The texts (quoted in the policies' references) are those of POLICY_RULES:
point - Guigang 实施细则 第五–十九条; rate - Yunnan / Yuxi; pool - Shanwei; all_inclusive - Fujian;
dip - Deyang; _assessment_zhejiang - the Zhejiang evaluation, a fragment any policy can extend.

The small year used below (one group GA19, weight 1, 100 base points; every case costs 10,000,
fund 7,000, patient 3,000; all discharged in January; three secondary hospitals of four cases):
  15-day readmissions: H1 P1 out 01-05, back 01-10 -> 1 of 4 = 0.25; H2 the same, 0.25;
  H3 P7 out 01-05, back 01-10, out 01-14, back 01-20 -> 2 of 4 = 0.5. Benchmark (plain mean)
  1/3; H3 0.5 ÷ 1/3 − 1 = 0.5 -> the default weight 0.1 takes 0.05: coefficient 0.95, strictly
  between the floor 0.9 and the base 1; H1, H2 better than the benchmark: 1.0 (no rewards).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main
from sim.inputs.policy import load_policy
from sim.resources import shipped

ON = dt.date(2023, 1, 1)
CATALOGUE = """code,name,adrg,mdc,severity_rank,weight,basic_group,stable,whole_group_review
GA19,group A,GA1,G,1,1.0,false,true,false
"""
HEADER = ("case_id,patient_id,hospital_id,hospital_level,drg,cost,fund_paid,patient_paid,"
          "los_days,admission_date,discharge_date")
ROWS = [
    ("A1", "P1", "H1", "2023-01-01", "2023-01-05"), ("A2", "P1", "H1", "2023-01-10", "2023-01-14"),
    ("A3", "P2", "H1", "2023-01-01", "2023-01-05"), ("A4", "P3", "H1", "2023-01-01", "2023-01-05"),
    ("B1", "P4", "H2", "2023-01-01", "2023-01-05"), ("B2", "P4", "H2", "2023-01-10", "2023-01-14"),
    ("B3", "P5", "H2", "2023-01-01", "2023-01-05"), ("B4", "P6", "H2", "2023-01-01", "2023-01-05"),
    ("C1", "P7", "H3", "2023-01-01", "2023-01-05"), ("C2", "P7", "H3", "2023-01-10", "2023-01-14"),
    ("C3", "P7", "H3", "2023-01-20", "2023-01-24"), ("C4", "P8", "H3", "2023-01-01", "2023-01-05"),
]
CASES = HEADER + "\n" + "".join(
    f"{case},{patient},{hospital},secondary,GA19,10000,7000,3000,4,{admitted},{discharged}\n"
    for case, patient, hospital, admitted, discharged in ROWS)


def _policy(name: str):
    return load_policy(shipped("policies", name, ".yaml"))


def _settle(tmp_path: Path, policy: str, cases: str = CASES, extra: tuple = (),
            catalogue: str = CATALOGUE) -> Path:
    (tmp_path / "catalogue.csv").write_text(catalogue, "utf-8")
    (tmp_path / "cases.csv").write_text(cases, "utf-8")
    out = tmp_path / f"out_{Path(policy).stem}"
    assert main(["settle", str(tmp_path / "cases.csv"), "--catalogue",
                 str(tmp_path / "catalogue.csv"), "--policy", policy, *extra, "--out", str(out),
                 "--quiet", "--no-parquet"]) == 0
    return out


def _hospitals(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")


def _cents(series) -> int:
    return int(round(float(series.sum()) * 100))


# --------------------------------------------------------------------------- every reference
RULE_BEARING = {
    "rate": ["rate.base_rate", "rate.adjustment", "rate.use_coefficients",
             "rate.whole_group_at_reviewed_cost", "revision.rates_yearly",
             "settlement.surplus_cap", "settlement.self_pay_cap", "settlement.prepay_ratio",
             "settlement.advance_months", "settlement.assessment_readmission_weight",
             "audit.sample_rate"],
    "pool": ["pool.share", "pool.incentive_coefficients", "settlement.assessment_scored_in_settle",
             "settlement.assessment_readmission_weight", "settlement.assessment_floor",
             "settlement.prepay_ratio", "budget.annual"],
    "all_inclusive": ["all_inclusive.fund_share", "all_inclusive.short_stay_days",
                      "all_inclusive.long_stay_days", "all_inclusive.low_price_multiple",
                      "all_inclusive.high_price_multiple", "rate.base_rate", "rate.adjustment",
                      "rate.use_coefficients", "settlement.surplus_cap", "settlement.self_pay_cap",
                      "settlement.prepay_ratio", "settlement.advance_months",
                      "settlement.assessment_readmission_weight", "audit.sample_rate"],
    "dip": ["dip.fix_inversions", "groups.unstable_max_cases", "review.submitted_share",
            "review.approved_share", "review.unreasonable_share", "rollout.hospital_share",
            "budget.annual", "settlement.prepay_ratio",
            "settlement.assessment_readmission_weight"],
    "point": ["settlement.prepay_ratio", "settlement.advance_months",
              "settlement.whole_group_monthly_share", "settlement.surplus_cap",
              "settlement.self_pay_cap", "groups.unstable_max_cases", "outliers.low_multiple",
              "outliers.high_multiple_bands", "coefficients.basic_groups_same_price",
              "coefficients.decimals", "audit.sample_rate", "budget.annual"],
}
SEED_NAMES = {"rate": ("Yunnan", "Yuxi"), "pool": ("Shanwei",), "all_inclusive": ("Fujian",),
              "dip": ("Deyang",), "point": ("Guigang",)}


@pytest.mark.parametrize("name", sorted(RULE_BEARING))
def test_rule_bearing_references_name_the_seed_text_or_say_assumed(name):
    """Every rule-bearing value resolves to a reference that quotes its own seed text or says
    the text is silent and the value assumed (not a reference borrowed from another city)."""
    policy = _policy(name)
    for path in RULE_BEARING[name]:
        reference = policy.parameters[path].reference
        assert any(seed in reference for seed in SEED_NAMES[name]) or "assumed" in reference, (
            name, path, reference)


# --------------------------------------------------------------------------- point (Guigang)
def test_point_follows_guigang():
    policy = _policy("point")
    value = lambda path: policy.value(path, ON)  # noqa: E731
    assert value("settlement.prepay_ratio") == 0.9          # 第十八条 不低于…90%
    assert value("settlement.advance_months") == 2          # 第十七条 预付2个月
    assert value("settlement.whole_group_monthly_share") == 0.7  # 第十八条(二)5 暂定为70%
    assert value("settlement.surplus_cap") == 0.30          # 第十九条(三) 30%
    assert value("settlement.self_pay_cap") == 0.10         # 第十九条(三) 10%
    assert value("groups.unstable_max_cases") == 1          # 第十一条 组内病例数1
    assert value("outliers.low_multiple") == 0.3            # 第十一条(二)
    assert [(b["up_to_base_points"], b["multiple"])
            for b in value("outliers.high_multiple_bands")] == [
        (100, 3), (200, 2.5), (300, 2), (500, 1.5), (None, 1.3)]  # 第十一条(一)
    assert value("coefficients.decimals") == 8             # 第十三条 保留8位小数
    assert value("coefficients.basic_groups_same_price") is True  # 第十三条 同城同病同价
    assert value("audit.sample_rate") == 0.10               # 第二十四条 不低于10%
    # the default run's assessment: no reward above the base
    assert value("settlement.assessment_ceiling") == value("settlement.assessment_coefficient")


# --------------------------------------------------------------------------- rate (Yunnan/Yuxi)
def test_rate_pays_one_rate_per_level_and_no_outlier_class(tmp_path):
    """Yunnan: 相同级别医院相同费率 (费率 = 实际发生费用总和 / CM); Yuxi: the fund pays the standard
    minus the patient's share, 超支不补, 结余留用. Two levels, the catalogue carries coefficients
    (1.2 / 0.8) that the shipped rate does not use:
      secondary S1 10,000, S2 2,000 (a low-cost case: < 0.3 × any mean) -> rate = 12,000 / 2 CW
        = 6,000 per weight; tertiary T1 30,000 (employee), T2 30,000 (resident) -> 30,000.
      Every case 100 points, coefficient 1: S2 is paid the full 6,000 (not a low multiple);
      T1 and T2, one per scheme, the same 30,000 (one rate for both schemes,
      职工和居民医保费率统一).
      S1+S2 receipts 12,000 = cost: no surplus, nothing capped."""
    catalogue = ("code,name,adrg,mdc,severity_rank,weight,basic_group,stable,whole_group_review,"
                 "coefficient_secondary,coefficient_tertiary\n"
                 "GA19,group A,GA1,G,1,1.0,false,true,false,0.8,1.2\n")
    cases = ("case_id,patient_id,hospital_id,hospital_level,drg,cost,fund_paid,patient_paid,"
             "los_days,discharge_date,scheme\n"
             "S1,P1,HS,secondary,GA19,10000,7000,3000,5,2023-03-10,employee\n"
             "S2,P2,HS,secondary,GA19,2000,1400,600,2,2023-03-11,resident\n"
             "T1,P3,HT,tertiary,GA19,30000,21000,9000,9,2023-03-12,employee\n"
             "T2,P4,HT,tertiary,GA19,30000,18000,12000,9,2023-03-13,resident\n")
    out = _settle(tmp_path, "rate", cases, catalogue=catalogue)
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert set(points.case_class) == {"normal"}
    assert points.coefficient.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert points.points.tolist() == [100, 100, 100, 100]
    hospitals = _hospitals(out)
    paid = hospitals.fund_payable_before_caps + hospitals.patient_paid
    assert paid.to_dict() == pytest.approx({"HS": 12000, "HT": 60000}, abs=0.005)
    # the fund pays the standard minus the patients' cash: HS 12,000 − 3,600; HT 60,000 − 21,000
    assert hospitals.fund_payable.to_dict() == pytest.approx({"HS": 8400, "HT": 39000}, abs=0.005)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["rate_by_level"]["secondary"] == pytest.approx(6000)
    assert summary["rate_by_level"]["tertiary"] == pytest.approx(30000)


def test_rate_keeps_savings():
    policy = _policy("rate")
    assert policy.value("settlement.surplus_cap", ON) is None  # 超支不补, 结余留用
    assert policy.value("rate.base_rate", ON) is None          # 费率 = 费用 ÷ CM per level
    assert policy.value("rate.use_coefficients", ON) is False


# --------------------------------------------------------------------------- pool (Shanwei)
def test_the_shipped_pool_is_shared_by_scored_coefficients(tmp_path):
    """Shanwei's 鼓励系数 from the bureau's scoring, not the pool handed back as paid in.
    Budget-neutral: 12 × 7,000 = 84,000; all cases in January, 1,200 points: monthly value
    84,000 ÷ 1,200 = 70; annual (120,000 − 84,000 + 84,000) ÷ 1,200 = 100. Each hospital:
    receipts 400 × 100 = 40,000, fund payable 40,000 − 12,000 = 28,000 (not scaled by the
    score: the score shares the pool); January allocation 400 × 70 − 12,000 = 16,000, 5% to the
    pool = 800 each, pool 2,400. Coefficients 1, 1, 0.95 (module text): weights 800, 800, 760
    (sum 2,360): H1 = H2 = 800 / 2,360 × 2,400 = 813.56; H3 760 / 2,360 × 2,400 = 772.88."""
    out = _settle(tmp_path, "pool")
    hospitals = _hospitals(out)
    assert hospitals.assessment_coefficient.tolist() == pytest.approx([1.0, 1.0, 0.95],
                                                                      abs=1e-12)
    assert hospitals.fund_payable.tolist() == pytest.approx([28000] * 3, abs=0.005)
    assert hospitals.pool_contribution.tolist() == pytest.approx([800] * 3, abs=0.005)
    assert hospitals.pool_payout.tolist() == pytest.approx([813.56, 813.56, 772.88], abs=0.005)
    assert _cents(hospitals.pool_payout) == _cents(hospitals.pool_contribution) == 240000


def test_the_default_scored_assessment_lands_between_floor_and_base(tmp_path):
    """The default settings (readmission weight 0.1, floor 0.9, base 1) do not just hit the
    floor: H3's coefficient is 0.95 under the point method too, and its receipts are cut by it
    (40,000 × 0.95 = 38,000: fund 26,000), the others' not."""
    reform = tmp_path / "scored.yaml"
    reform.write_text("title: score in settle\nchanges:\n"
                      "  settlement.assessment_scored_in_settle: {2020-01-01: true}\n", "utf-8")
    out = _settle(tmp_path, "point", extra=("--reform", str(reform)))
    hospitals = _hospitals(out)
    coefficient = hospitals.assessment_coefficient
    assert ((coefficient > 0.9) & (coefficient < 1.0)).any()
    assert coefficient.tolist() == pytest.approx([1.0, 1.0, 0.95], abs=1e-12)
    assert hospitals.fund_payable.tolist() == pytest.approx([28000, 28000, 26000], abs=0.005)


# --------------------------------------------------------------------------- Zhejiang rewards
def test_zhejiang_rewards_above_base_are_paid_inside_the_budget(tmp_path):
    """Zhejiang 考核奖罚点数 with the fragment's weights (readmission 0.1, admissions per person
    0.5, self-pay 0.1: all self-pay 0, benchmark 0 -> not scored), ceiling 1.1:
      readmission deviations 0.25 ÷ 1/3 − 1 = −0.25 (H1, H2), +0.5 (H3) -> +0.025, −0.05;
      admissions per person 4/3, 4/3, 2 (mean 14/9): −1/7, −1/7, +2/7 -> +0.5/7, −1/7.
      H1 = H2 = 1 + 0.025 + 0.0714286 = 1.09642857; H3 = 1 − 0.05 − 0.142857 -> floor 0.9.
    Receipts at 1: 40,000 each. The budget is fixed (Guigang 第五条 以收定支): rewards are paid
    out of what the penalties keep, H3's 40,000 × 0.1 = 4,000, against claims of 2 × 40,000 ×
    0.09642857 = 7,714.29: each reward × 4,000 / 7,714.29, so H1 = H2 = 1.05 applied. Receipts
    42,000 + 42,000 + 36,000 = 120,000 = budget 84,000 + cash 36,000: the fund pays 84,000 to the
    cent (30,000, 30,000, 24,000); per hospital monthly + advance + year end = fund payable."""
    policy = tmp_path / "zhejiang.yaml"
    policy.write_text(f"title: point with the Zhejiang assessment\nextends: ["
                      f"{shipped('policies', 'point', '.yaml')}, "
                      f"{shipped('policies', '_assessment_zhejiang', '.yaml')}]\n", "utf-8")
    out = _settle(tmp_path, str(policy))
    hospitals = _hospitals(out)
    reward = 1 + 0.1 * 0.25 + 0.5 / 7
    assert hospitals.assessment_coefficient.tolist() == pytest.approx([reward, reward, 0.9],
                                                                      abs=1e-12)
    assert hospitals.assessment_applied.tolist() == pytest.approx([1.05, 1.05, 0.9], abs=1e-12)
    assert _cents(hospitals.fund_payable_before_caps) == 8400000
    assert hospitals.fund_payable_before_caps.tolist() == pytest.approx(
        [30000, 30000, 24000], abs=0.001)
    for _, row in hospitals.iterrows():
        assert (round(row.monthly_prepaid * 100) + round(row.january_advance * 100)
                + round(row.year_end_payment * 100)) == round(row.fund_payable * 100)


# --------------------------------------------------------------------------- all-inclusive
def test_all_inclusive_follows_fujian(tmp_path):
    """Fujian 05: ≤ 1 day or ≥ 60 days, < 1/3 or > 3 × the price, died, transferred within 48 h,
    rehabilitation / TCM leave the price; 不设起付线: the patient of a priced case pays
    (1 − fund share) × price and nothing more. One secondary hospital, rate 10,000: price 10,000;
    P1 (5 days, 10,000) in the price: patient 0.25 × 10,000 = 2,500 although the case table's
    by-item share (with a deductible) is 3,000; P2 (1 day) leaves the price: its 3,000 stays."""
    policy = _policy("all_inclusive")
    assert policy.value("all_inclusive.short_stay_days", ON) == 1
    assert policy.value("all_inclusive.long_stay_days", ON) == 60
    assert policy.value("all_inclusive.low_price_multiple", ON) == pytest.approx(1 / 3)
    assert policy.value("all_inclusive.high_price_multiple", ON) == 3
    cases = ("case_id,patient_id,hospital_id,hospital_level,drg,cost,fund_paid,patient_paid,"
             "los_days,discharge_date\n"
             "P1,Q1,HS,secondary,GA19,10000,7000,3000,5,2023-03-10\n"
             "P2,Q2,HS,secondary,GA19,10000,7000,3000,1,2023-03-11\n")
    reform = tmp_path / "rate.yaml"
    reform.write_text("title: a price of 10,000\nchanges:\n"
                      "  rate.base_rate: {2020-01-01: 10000}\n"
                      "  groups.unstable_max_cases: {2020-01-01: 0}\n", "utf-8")
    out = _settle(tmp_path, "all_inclusive", cases, extra=("--reform", str(reform)))
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points.case_class.to_dict() == {"P1": "normal", "P2": "excluded"}
    hospitals = _hospitals(out)
    assert hospitals.loc["HS", "patient_paid"] == pytest.approx(2500 + 3000, abs=0.005)


# --------------------------------------------------------------------------- DIP (Deyang)
def test_dip_leaves_per_diem_out_and_compares_with_fee_for_service(tmp_path):
    """Deyang: 除按床日付費外 - a per-diem case is paid by item, out of the DIP budget; the
    simulated year (測算…與原項目付費盈虧對比) shows each hospital's DIP pay beside what
    fee-for-service paid. H1 C1 (per diem, 10,000 / fund 7,000) by item; H1 C2 and H2 C3 under
    DIP, scores 100 each (one group), budget-neutral 14,000: annual value (20,000 − 14,000 +
    14,000) ÷ 200 = 100; each 10,000 − 3,000 = 7,000. H1 fund payable 7,000 + 7,000 = 14,000
    = its fee-for-service 14,000; the DIP part of the budget is 14,000, not 21,000."""
    policy = _policy("dip")
    assert policy.value("dip.fix_inversions", ON) is True
    assert policy.value("rollout.hospital_share", ON) == 1.0
    assert [policy.value(f"review.{name}", ON) for name in
            ("submitted_share", "approved_share", "unreasonable_share")] == [1.0, 1.0, 0.0]
    cases = ("case_id,patient_id,hospital_id,hospital_level,drg,cost,fund_paid,patient_paid,"
             "los_days,discharge_date,per_diem\n"
             "C1,Q1,H1,secondary,GA19,10000,7000,3000,40,2023-03-10,true\n"
             "C2,Q2,H1,secondary,GA19,10000,7000,3000,5,2023-03-11,false\n"
             "C3,Q3,H2,secondary,GA19,10000,7000,3000,5,2023-03-12,false\n")
    out = _settle(tmp_path, "dip", cases)
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points.case_class.to_dict() == {"C1": "excluded", "C2": "normal", "C3": "normal"}
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["budget"] == pytest.approx(14000)
    hospitals = _hospitals(out)
    assert {"ffs_fund_paid", "fund_payable"} <= set(hospitals.columns)
    assert hospitals.ffs_fund_paid.to_dict() == pytest.approx({"H1": 14000, "H2": 7000})
    assert hospitals.fund_payable.to_dict() == pytest.approx({"H1": 14000, "H2": 7000},
                                                             abs=0.005)
