"""Separate DRG budgets for the employee and resident schemes (issue 9, feature a; §2.1,
Guigang 第六条 "职工医保和居民医保的基金分别纳入drg总额预算"), on the hand-made year.

Points per case as in tests/test_handmade_year.py (one catalogue, one set of points):
  employee C1 80, C3 180, C4 330, C9 180 = 770; cost 138,000, fund 96,600, cash 41,400
  resident C2 80, C5 40, C6 150, C7 300, C8 200 = 770; cost 132,000, fund 92,400, cash 39,600
Budgets 97,200 and 91,300: annual point values (§2.7)
  employee (138,000 − 96,600 + 97,200) / 770 = 138,600 / 770 = 180
  resident (132,000 − 92,400 + 91,300) / 770 = 130,900 / 770 = 170
Receipts: H1 440 × 180 + 150 × 170 = 79,200 + 25,500 = 104,700;
          H2 330 × 180 + 620 × 170 = 59,400 + 105,400 = 164,800
Fund before caps = receipts − cash: H1 104,700 − 25,800 = 78,900; H2 164,800 − 55,200 = 109,600
  (sum 188,500 = 97,200 + 91,300). The §2.7 caps apply to the hospital, both schemes together:
  H1 surplus 104,700 − 86,000 = 18,700 ≤ 30% of 86,000 (no cut; its resident cases alone would
  have been cut 25,500 − 14,000 − 4,200 = 7,300); self-pay 10,000 above 10% of 86,000 = 8,600:
  1,400 deducted -> H1 77,500; H2 surplus 164,800 − 184,000 < 0, no self-pay -> 109,600.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

DATA = Path(__file__).parent / "data" / "handmade"
EMPLOYEE = {"C1", "C3", "C4", "C9"}


def _settle(tmp_path: Path, budgets: str, *extra: str) -> tuple[int, Path]:
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame["scheme"] = ["职工" if case in EMPLOYEE else "居民" for case in frame.case_id]
    cases = tmp_path / "cases.csv"
    frame.to_csv(cases, index=False)
    reform = tmp_path / "schemes.yaml"
    reform.write_text("title: separate scheme budgets\nchanges:\n"
                      "  budget.separate_schemes: {2020-01-01: true}\n" + budgets, "utf-8")
    out = tmp_path / "out"
    code = main(["settle", str(cases), "--catalogue", str(DATA / "catalogue.csv"), "--policy",
                 str(DATA / "policy.yaml"), "--reform", str(reform), "--out", str(out),
                 "--quiet", *extra])
    return code, out


def test_each_scheme_has_its_own_point_value(tmp_path):
    code, out = _settle(tmp_path, "  budget.by_scheme: {2020-01-01: {employee: 97200, "
                                  "resident: 91300}}\n")
    assert code == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["schemes"]["employee"]["annual_point_value"] == pytest.approx(180)
    assert summary["schemes"]["resident"]["annual_point_value"] == pytest.approx(170)
    assert summary["budget"] == pytest.approx(188500)
    table = pd.read_csv(out / "hospital_settlement.csv").set_index("hospital_id")
    assert table.loc["H1", "fund_payable_before_caps"] == pytest.approx(78900, abs=0.005)
    assert table.loc["H2", "fund_payable_before_caps"] == pytest.approx(109600, abs=0.005)
    assert table.loc["H1", "fund_payable"] == pytest.approx(77500, abs=0.005)
    assert table.loc["H1", "surplus_cap_deduction"] == 0
    assert table.loc["H2", "fund_payable"] == pytest.approx(109600, abs=0.005)
    assert table.cases.sum() == 9
    # each scheme's fund pays its part after the caps: H1's 1,400 is shared by its DRG cost,
    # employee C1 + C3 + C9 = 72,000 of 86,000: floor(140,000 cents × 72/86) = 117,209 cents
    # -> employee 97,200 − 1,172.09 = 96,027.91; resident 91,300 − 227.91 = 91,072.09
    schemes = summary["schemes"]
    assert schemes["employee"]["caps_deduction"] == pytest.approx(1172.09, abs=0.001)
    assert schemes["employee"]["fund_payable"] == pytest.approx(96027.91, abs=0.001)
    assert schemes["resident"]["fund_payable"] == pytest.approx(91072.09, abs=0.001)
    assert round(schemes["employee"]["fund_payable"] + schemes["resident"]["fund_payable"],
                 2) == summary["totals"]["fund_payable"] == pytest.approx(187100, abs=0.001)


def test_a_null_scheme_budget_is_its_own_fund_payments(tmp_path):
    # employee budget-neutral: 96,600 -> (138,000 − 96,600 + 96,600) / 770 = 138,000 / 770
    code, out = _settle(tmp_path, "  budget.by_scheme: {2020-01-01: {employee: null, "
                                  "resident: 91300}}\n")
    assert code == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["schemes"]["employee"]["annual_point_value"] == pytest.approx(138000 / 770)
    assert summary["schemes"]["employee"]["budget"] == pytest.approx(96600)


def test_one_budget_given_is_shared_by_the_schemes_fund_payments(tmp_path, capsys):
    # --budget 165,400 with separate schemes: shared by the DRG fund payments 96,600 and
    # 92,400 (of 189,000): employee 165,400 × 23/45 = 84,537.777... -> 84,537.78, resident
    # 80,862.22 (to the cent, largest remainder); point values (138,000 − 96,600 + 84,537.78)
    # / 770 and (132,000 − 92,400 + 80,862.22) / 770
    code, out = _settle(tmp_path, "", "--budget", "165400")
    assert code == 0
    assert ("one DRG budget given (--budget) for separate scheme budgets: shared by the schemes' "
            "DRG fund payments — employee ¥84,537.78, resident ¥80,862.22") in \
        capsys.readouterr().err
    schemes = json.loads((out / "summary.json").read_text("utf-8"))["schemes"]
    assert schemes["employee"]["budget"] == pytest.approx(84537.78, abs=0.001)
    assert schemes["resident"]["budget"] == pytest.approx(80862.22, abs=0.001)
    assert schemes["employee"]["annual_point_value"] == pytest.approx(125937.78 / 770)
    assert schemes["resident"]["annual_point_value"] == pytest.approx(120462.22 / 770)


def test_a_table_without_schemes_is_settled_from_one_budget(tmp_path, capsys):
    # the hand-made year has no scheme column: one budget, as tests/test_handmade_year.py (160)
    reform = tmp_path / "separate.yaml"
    reform.write_text("title: t\nchanges:\n  budget.separate_schemes: {2020-01-01: true}\n",
                      "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--reform", str(reform), "--budget",
                 "165400", "--out", str(out), "--quiet"]) == 0
    assert "the case table has no scheme column: both schemes are settled from one DRG budget" \
        in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["annual_point_value"] == pytest.approx(160)
    # but scheme budgets given as amounts cannot be paid without knowing the schemes
    reform.write_text("title: t\nchanges:\n  budget.separate_schemes: {2020-01-01: true}\n"
                      "  budget.by_scheme: {2020-01-01: {employee: 97200, resident: null}}\n",
                      "utf-8")
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--reform", str(reform), "--out",
                 str(tmp_path / "out2"), "--quiet"]) == 2
    assert "column scheme: missing, but budget.by_scheme gives each scheme its own budget" in \
        capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_a_scheme_paid_wholly_by_item_is_settled_as_billed(tmp_path, capsys):
    # residents not yet under DRG (§7): their cases are paid their fund share as billed,
    # 92,400; the employee budget 97,200 is shared as above (point value 180)
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame["scheme"] = ["职工" if case in EMPLOYEE else "居民" for case in frame.case_id]
    frame["paid_by_item"] = ["false" if case in EMPLOYEE else "true" for case in frame.case_id]
    cases = tmp_path / "cases.csv"
    frame.to_csv(cases, index=False)
    reform = tmp_path / "schemes.yaml"
    reform.write_text("title: t\nchanges:\n  budget.separate_schemes: {2020-01-01: true}\n"
                      "  budget.by_scheme: {2020-01-01: {employee: 97200, resident: 50000}}\n",
                      "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(cases), "--catalogue", str(DATA / "catalogue.csv"), "--policy",
                 str(DATA / "policy.yaml"), "--reform", str(reform), "--out", str(out),
                 "--quiet"]) == 0
    assert "the DRG budget of ¥50,000.00 is not paid out" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["schemes"]["employee"]["annual_point_value"] == pytest.approx(180)
    assert summary["fund_paid_by_item"] == pytest.approx(92400)


def test_budget_annual_is_the_schemes_total_shared_by_their_fund_payments(tmp_path, capsys):
    # budget.annual 188,500 with separate schemes: employee 188,500 × 96,600 / 189,000 =
    # 96,344.444... -> 96,344.44, resident 92,155.56; point values (138,000 − 96,600 +
    # 96,344.44) / 770 and (132,000 − 92,400 + 92,155.56) / 770
    code, out = _settle(tmp_path, "  budget.annual: {2020-01-01: 188500}\n")
    assert code == 0
    assert ("one DRG budget given (budget.annual) for separate scheme budgets: shared by the "
            "schemes' DRG fund payments — employee ¥96,344.44, resident ¥92,155.56") in \
        capsys.readouterr().err
    schemes = json.loads((out / "summary.json").read_text("utf-8"))["schemes"]
    assert schemes["employee"]["annual_point_value"] == pytest.approx(137744.44 / 770)
    assert schemes["resident"]["annual_point_value"] == pytest.approx(131755.56 / 770)


@pytest.mark.parametrize("changes, expected", [
    ("  budget.annual: {2020-01-01: 188500}\n"
     "  budget.by_scheme: {2020-01-01: {employee: 97200, resident: null}}\n",
     "budget.annual, 2023-01: ¥188,500.00 given while the schemes have their own budgets"),
    ("  budget.by_scheme: {2020-01-01: {employee: 97200, resident: null}}\n"
     "  budget.carve_outs: {2020-01-01: {resident: {per_diem: 1000}}}\n",
     "budget.carve_outs, scheme resident, 2023-01: given without a budget.fund_total for the "
     "scheme to take them from"),
])
def test_a_budget_given_twice_or_carve_outs_of_nothing_are_refused(tmp_path, capsys, changes,
                                                                   expected):
    code, out = _settle(tmp_path, changes)
    assert code == 2
    assert expected in capsys.readouterr().err
    assert not out.exists()


# Carve-outs (§2.1, Guigang 第六条: DRG budget = the scheme's pooled-fund spending budget − the
# items paid outside it). The budgets below are chosen to give back the numbers above.
FUND_TOTALS = ("  budget.fund_total: {2020-01-01: {employee: 120000, resident: 100000}}\n"
               "  budget.carve_outs: {2020-01-01: {employee: {per_diem: 15000, reserve: 7800},"
               " resident: {outpatient: 8000.5, per_diem: 699.5}}}\n")


def test_scheme_budgets_from_fund_totals_minus_carve_outs(tmp_path):
    # employee 120,000 − 15,000 − 7,800 = 97,200; resident 100,000 − 8,000.50 − 699.50 = 91,300:
    # the budgets of test_each_scheme_has_its_own_point_value, so the point values 180 and 170
    code, out = _settle(tmp_path, FUND_TOTALS)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    employee, resident = summary["schemes"]["employee"], summary["schemes"]["resident"]
    assert employee["budget"] == pytest.approx(97200, abs=0.001)
    assert resident["budget"] == pytest.approx(91300, abs=0.001)
    assert employee["annual_point_value"] == pytest.approx(180)
    assert resident["annual_point_value"] == pytest.approx(170)
    assert "budget.fund_total − budget.carve_outs" in employee["budget_source"]


def test_one_budget_from_both_schemes_fund_totals(tmp_path):
    # one budget: (100,000 − 10,000) + (80,000 − 4,600) = 165,400, the hand-made year's budget:
    # annual point value (270,000 − 189,000 + 165,400) / 1,540 = 160 (tests/test_handmade_year)
    reform = tmp_path / "totals.yaml"
    reform.write_text("title: fund totals\nchanges:\n"
                      "  budget.fund_total: {2020-01-01: {employee: 100000, resident: 80000}}\n"
                      "  budget.carve_outs: {2020-01-01: {employee: {pharmacy: 10000},"
                      " resident: {pharmacy: 4600}}}\n", "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--reform", str(reform), "--out",
                 str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["budget"] == pytest.approx(165400, abs=0.001)
    assert summary["annual_point_value"] == pytest.approx(160)
    assert summary["budget_source"].startswith("budget.fund_total − budget.carve_outs")


@pytest.mark.parametrize("changes, expected", [
    ("  budget.by_scheme: {2020-01-01: {employee: 97200, resident: null}}\n" + FUND_TOTALS,
     "budget.by_scheme, scheme employee, 2023-01: ¥97,200.00 given while budget.fund_total "
     "− budget.carve_outs also gives ¥97,200.00"),
    ("  budget.fund_total: {2020-01-01: {employee: 20000, resident: null}}\n"
     "  budget.carve_outs: {2020-01-01: {employee: {per_diem: 25000}}}\n",
     "budget.carve_outs, scheme employee, 2023-01: carve-outs of ¥25,000.00 leave a DRG "
     "budget of ¥-5,000.00"),
    ("  budget.carve_outs: {2020-01-01: {employee: {per_diem: -5}}}\n",
     "scheme employee, carve-out per_diem: value -5 is below the lower bound 0"),
])
def test_budgets_that_contradict_or_run_out_are_refused(tmp_path, capsys, changes, expected):
    code, out = _settle(tmp_path, changes)
    assert code == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_one_budget_needs_every_schemes_fund_total(tmp_path, capsys):
    reform = tmp_path / "one.yaml"
    reform.write_text("title: one scheme's total\nchanges:\n"
                      "  budget.fund_total: {2020-01-01: {employee: 100000, resident: null}}\n",
                      "utf-8")
    code = main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--reform", str(reform), "--out",
                 str(tmp_path / "out"), "--quiet"])
    assert code == 2
    assert ("budget.fund_total, 2023-01: given for one scheme only (resident null) while the "
            "schemes share one DRG budget") in capsys.readouterr().err
