"""The findings of a comparison (issue 14), on small hand-made tables whose answers were worked
out by hand: period measures and their paired intervals, hospitals gaining or losing against the
baseline and fee-for-service, the fund waterfall whose parts add up to the balance's change, and
the paragraph that names the mechanism from that decomposition."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.report import findings as F
from sim.report.findings_page import Findings, paragraph

B, R = "baseline", "reform"


def yearly_table() -> pd.DataFrame:
    """Two scenarios × two replications × two years (pooled fund only)."""
    rows = []
    balances = {(B, 0): (100, 120), (R, 0): (90, 100), (B, 1): (110, 130), (R, 1): (100, 125)}
    spending = {(B, 0): 1200, (R, 0): 1200, (B, 1): 1300, (R, 1): 1250}
    reserve = {(B, 0): 10.0, (R, 0): 9.5, (B, 1): 11.0, (R, 1): 11.2}
    shares = {B: (0.1, 0.2), R: (0.1, 0.1)}
    paid = {B: (5, 7), R: (2, 3)}
    kept = {B: (1, 1), R: (3, 4)}
    for (scenario, replication), (first, second) in balances.items():
        for index, (year, balance) in enumerate(((2023, first), (2024, second))):
            rows.append({"scenario": scenario, "replication": replication, "year": year,
                         "fund_balance": balance, "fund_spending": spending[scenario,
                                                                            replication],
                         "reserve_months": reserve[scenario, replication] - (1 - index),
                         "admissions": (100, 300)[index],
                         "upcoded_share": shares[scenario][index],
                         "upcoding_paid": paid[scenario][index],
                         "audit_deducted_value": kept[scenario][index]})
    return pd.DataFrame(rows)


def by_level_table() -> pd.DataFrame:
    """Basic cases by level: the reform moves 10 tertiary cases to primary in 2024."""
    rows = []
    for scenario in (B, R):
        for replication in (0, 1):
            for year in (2023, 2024):
                moved = scenario == R and year == 2024
                for level, cases in (("primary", 20 if moved else 10), ("secondary", 20),
                                     ("tertiary", 60 if moved else 70)):
                    rows.append({"scenario": scenario, "replication": replication,
                                 "year": year, "level": level, "basic_cases": cases})
    return pd.DataFrame(rows)


def measure(table: pd.DataFrame, period: str, name: str) -> dict:
    row = table[(table["period"] == period) & (table["measure"] == name)]
    assert len(row) == 1, (period, name)
    return row.iloc[0].to_dict()


def test_period_measures_and_their_paired_intervals_by_hand():
    table = F.headline(F.period_measures(yearly_table(), by_level_table()), B, [R])
    # balances summed over the years, then paired: −30 and −15
    whole = measure(table, "cumulative", "fund_balance")
    assert whole["baseline_mean"] == pytest.approx(230)
    assert whole["mean"] == pytest.approx(-22.5)
    assert whole["p5"] == pytest.approx(-29.25) and whole["p95"] == pytest.approx(-15.75)
    assert not whole["noise"]
    assert measure(table, "final_year", "fund_balance")["mean"] == pytest.approx(-12.5)
    # months of reserve: the last year's stock (−0.5, +0.2: includes zero) ...
    stock = measure(table, "cumulative", "reserve_months")
    assert stock["mean"] == pytest.approx(-0.15) and stock["noise"]
    assert stock["p5"] == pytest.approx(-0.465) and stock["p95"] == pytest.approx(0.165)
    # ... and the last year's balance in months of its spending: 1.0 − 1.2 and 1.2 − 1.2
    flow = measure(table, "final_year", "reserve_months")
    assert flow["mean"] == pytest.approx(-0.1) and not flow["noise"]
    # coded up over the period: (10 + 60) / 400 against (10 + 30) / 400
    coded = measure(table, "cumulative", "upcoded_share")
    assert coded["baseline_mean"] == pytest.approx(0.175)
    assert coded["mean"] == coded["p5"] == coded["p95"] == pytest.approx(-0.075)
    assert measure(table, "final_year", "upcoded_share")["mean"] == pytest.approx(-0.1)
    assert measure(table, "cumulative", "upcoding_paid")["mean"] == pytest.approx(-7)
    assert measure(table, "cumulative", "audit_deducted_value")["mean"] == pytest.approx(5)
    # basic cases at primary and secondary: 60/200 against 70/200; 2024 alone 30% against 40%
    basic = measure(table, "cumulative", "basic_share_lower_levels")
    assert basic["baseline_mean"] == pytest.approx(0.3) and basic["mean"] == pytest.approx(0.05)
    assert measure(table, "final_year", "basic_share_lower_levels")["mean"] == pytest.approx(0.1)


def test_a_difference_of_exactly_zero_is_not_noise():
    assert F.interval(pd.Series([0.0, 0.0]))["noise"] is False
    assert F.interval(pd.Series([-1.0, 1.0]))["noise"] is True
    assert F.interval(pd.Series([1.0, 2.0]))["noise"] is False


def hospital_table() -> pd.DataFrame:
    """Three hospitals, one year, two replications; H3 is private in replication 0 only."""
    margin = {(B, 0): (10, 50, 0), (B, 1): (12, 40, 5), (R, 0): (15, 30, 1), (R, 1): (16, 35, 4)}
    payable = {0: (100, 200, 50), 1: (100, 200, 50)}
    ffs = {0: (90, 210, 50), 1: (95, 205, 50)}
    rows = []
    for (scenario, replication), margins in margin.items():
        for index, hospital in enumerate(("H1", "H2", "H3")):
            rows.append({"scenario": scenario, "replication": replication, "year": 2024,
                         "hospital_id": hospital,
                         "level": ("primary", "tertiary", "primary")[index],
                         "private": (False, True, replication == 0)[index],
                         "margin": margins[index], "fund_payable": payable[replication][index],
                         "ffs_fund_paid": ffs[replication][index]})
    return pd.DataFrame(rows)


def test_hospitals_gaining_and_losing_against_the_baseline_and_fee_for_service_by_hand():
    changes = F.hospital_changes(hospital_table(), B, [R])
    verdicts = F.hospital_verdicts(changes)
    mine = verdicts[(verdicts["period"] == "cumulative") & (verdicts["against"] == "baseline")]
    mine = mine.set_index("hospital_id")
    # H1 +5, +4; H2 −20, −5; H3 +1, −1
    assert mine.loc["H1", "verdict"] == "gain" and mine.loc["H1", "rank"] == 1
    assert mine.loc["H2", "verdict"] == "lose" and mine.loc["H2", "mean"] == pytest.approx(-12.5)
    assert mine.loc["H3", "verdict"] == "unclear" and mine.loc["H3", "rank"] == 2
    assert mine.loc["H3", "ownership"] == "mixed" and mine.loc["H2", "ownership"] == "private"
    # against fee-for-service: payable − item payment of the reform's run: H1 +10, +5; H2 −10,
    # −5; H3 0 and 0 (paid the same: unclear, and not noise)
    ffs = verdicts[(verdicts["period"] == "final_year") & (verdicts["against"] == "ffs")]
    assert dict(zip(ffs["hospital_id"], ffs["verdict"], strict=True)) == {
        "H1": "gain", "H2": "lose", "H3": "unclear"}
    assert ffs.set_index("hospital_id").loc["H1", "mean"] == pytest.approx(7.5)
    groups = F.hospital_groups(changes, verdicts)
    groups = groups[(groups["period"] == "cumulative") & (groups["against"] == "baseline")]
    every = groups[(groups["level"] == "all") & (groups["ownership"] == "all")].iloc[0]
    assert (every["hospitals"], every["gain"], every["lose"], every["unclear"]) == (3, 1, 1, 1)
    assert every["mean"] == pytest.approx(-8)          # (5 − 20 + 1 + 4 − 5 − 1) / 2
    primary = groups[(groups["level"] == "primary") & (groups["ownership"] == "all")].iloc[0]
    assert primary["mean"] == pytest.approx(4.5) and primary["gain"] == 1
    # private: H2 by its verdict; the total takes each replication's own private hospitals
    private = groups[(groups["level"] == "all") & (groups["ownership"] == "private")].iloc[0]
    assert private["hospitals"] == 1 and private["mean"] == pytest.approx((-19 - 5) / 2)


def waterfall_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One replication: balance = revenue − other − Σ fund_payable, payable = before − caps."""
    hospitals = pd.DataFrame([
        {"scenario": B, "hospital_id": "H1", "level": "primary",
         "fund_payable_before_caps": 200.0, "deducted_points_value": 10.0,
         "caps_deduction": 0.0, "fund_payable": 200.0},
        {"scenario": B, "hospital_id": "H2", "level": "tertiary",
         "fund_payable_before_caps": 400.0, "deducted_points_value": 0.0,
         "caps_deduction": 20.0, "fund_payable": 380.0},
        {"scenario": R, "hospital_id": "H1", "level": "primary",
         "fund_payable_before_caps": 190.0, "deducted_points_value": 30.0,
         "caps_deduction": 0.0, "fund_payable": 190.0},
        {"scenario": R, "hospital_id": "H2", "level": "tertiary",
         "fund_payable_before_caps": 420.0, "deducted_points_value": 5.0,
         "caps_deduction": 10.0, "fund_payable": 410.0}]).assign(replication=0, year=2024)
    yearly = pd.DataFrame([
        {"scenario": B, "fund_revenue": 1000.0, "fund_other_spending": 300.0,
         "fund_balance": 120.0},
        {"scenario": R, "fund_revenue": 1000.0, "fund_other_spending": 300.0,
         "fund_balance": 100.0}]).assign(replication=0, year=2024)
    return yearly, hospitals


def test_the_fund_waterfall_by_hand_adds_up_to_the_change_of_balance():
    yearly, hospitals = waterfall_tables()
    steps = F.fund_waterfall(F.waterfall_parts(yearly, hospitals), B, [R])
    steps = steps[steps["period"] == "final_year"].set_index("part")
    assert list(steps.index) == ["start", *F.WATERFALL_PARTS, "end"]
    expected = {"revenue": 0, "non_drg_spending": 0, "inpatient_primary": -10,
                "inpatient_secondary": 0, "inpatient_tertiary": -25, "audit_deductions": 25,
                "caps": -10}
    assert steps.loc[list(expected), "mean"].to_dict() == pytest.approx(expected)
    assert steps.loc["start", "mean"] == 120 and steps.loc["end", "mean"] == 100
    assert steps.loc["caps", "after"] == pytest.approx(100)        # the running total ends there
    # a balance the parts do not explain is shown as such, never spread over the parts
    yearly.loc[yearly["scenario"] == R, "fund_balance"] = 101.0
    steps = F.fund_waterfall(F.waterfall_parts(yearly, hospitals), B, [R])
    steps = steps[steps["period"] == "final_year"].set_index("part")
    assert steps.loc["unexplained", "mean"] == pytest.approx(1.0)
    assert steps.loc["unexplained", "after"] == pytest.approx(steps.loc["end", "mean"])


class HandComparison:
    """What the paragraph reads of a comparison."""

    baseline, reforms, last_year = B, [R], 2024
    meta = {"start_year": 2023, "replications": 2}

    def name(self, label: str, lang: str) -> str:
        return {"zh": "审计加倍", "en": "Audits doubled"}[lang] if label == R else label


def hand_findings(balance: list[float], coded: list[float], parts: dict) -> Findings:
    """Findings with the given paired differences (two replications) of the cumulative balance
    and share coded up, and waterfall parts (cumulative, the same in both replications)."""
    measures = []
    for replication in (0, 1):
        for name, values in (("fund_balance", balance), ("upcoded_share", coded)):
            measures += [{"scenario": B, "replication": replication, "period": "cumulative",
                          "measure": name, "value": 0.0},
                         {"scenario": R, "replication": replication, "period": "cumulative",
                          "measure": name, "value": values[replication]}]
    yearly = pd.DataFrame([{"scenario": s, "replication": 0, "year": 2024,
                            "fund_revenue": 0.0, "fund_other_spending": 0.0,
                            "fund_balance": 0.0 if s == B else sum(parts.values())}
                           for s in (B, R)])
    hospitals = pd.DataFrame([{"scenario": s, "replication": 0, "year": 2024,
                               "hospital_id": "H1", "level": "primary",
                               "fund_payable_before_caps": 0.0 if s == B else
                               -parts["audit_deductions"] - parts["inpatient_primary"],
                               "deducted_points_value": 0.0 if s == B else
                               parts["audit_deductions"], "caps_deduction": 0.0,
                               "fund_payable": 0.0} for s in (B, R)])
    waterfall = F.fund_waterfall(F.waterfall_parts(yearly, hospitals), B, [R])
    empty = pd.DataFrame(columns=["scenario", "period", "against", "level", "ownership",
                                  "hospitals", "gain", "lose", "unclear", "mean", "p5", "p95",
                                  "noise"])
    return Findings(F.headline(pd.DataFrame(measures), B, [R]), empty.copy(), empty, waterfall)


def test_the_paragraph_names_the_largest_parts_and_says_when_a_result_is_unexpected():
    # less upcoding, yet a lower balance: the fund pays more, because the inpatient payments
    # rise by more than the audits keep back
    findings = hand_findings([-6.0e6, -5.6e6], [-0.009, -0.008],
                             {"inpatient_primary": -8.0e6, "audit_deductions": 2.2e6})
    en = paragraph(HandComparison(), findings, "en", R)
    assert "less upcoding, yet the fund pays more" in en
    why = en[en.index("Why"):]
    assert why.index("inpatient payments to primary hospitals") < why.index("audit deductions")
    assert "primary hospitals (before audits and caps) lower the balance by ¥8.00 million" in why
    assert "audit deductions (kept by the fund) raise the balance by ¥2.20 million" in why
    assert "the fund's balance falls by ¥5.80 million" in en          # (−6.0 − 5.6) / 2
    zh = paragraph(HandComparison(), findings, "zh", R)
    assert "高编码减少了，基金却多支出" in zh and "审核扣减（基金留存）使结余增加220万元" in zh
    for words in (en.replace("5th–95th", ""), zh):                  # nothing missing is shown
        assert "–" not in words.replace("2023–2024", "")
    # the same parts with more upcoding: nothing unexpected to flag
    plain = paragraph(HandComparison(), hand_findings(
        [-6.0e6, -5.6e6], [0.009, 0.008],
        {"inpatient_primary": -8.0e6, "audit_deductions": 2.2e6}), "en", R)
    assert "against intuition" not in plain and "Why" in plain
