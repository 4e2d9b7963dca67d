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


def test_a_null_scheme_budget_is_its_own_fund_payments(tmp_path):
    # employee budget-neutral: 96,600 -> (138,000 − 96,600 + 96,600) / 770 = 138,000 / 770
    code, out = _settle(tmp_path, "  budget.by_scheme: {2020-01-01: {employee: null, "
                                  "resident: 91300}}\n")
    assert code == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["schemes"]["employee"]["annual_point_value"] == pytest.approx(138000 / 770)
    assert summary["schemes"]["employee"]["budget"] == pytest.approx(96600)


def test_one_budget_for_two_schemes_is_refused(tmp_path, capsys):
    code, _ = _settle(tmp_path, "", "--budget", "165400")
    assert code == 2
    assert "--budget: one budget given, but the policy has separate scheme budgets" in \
        capsys.readouterr().err


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


def test_budget_annual_is_named_when_schemes_are_separate(tmp_path, capsys):
    code, _ = _settle(tmp_path, "  budget.annual: {2020-01-01: 250000}\n")
    assert code == 0
    assert "budget.annual is not used with separate scheme budgets" in capsys.readouterr().err
