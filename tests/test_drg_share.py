"""§7: the share of inpatient fund spending paid by DRG, in settle and in the model (issue 9,
feature g)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

DATA = Path(__file__).parent / "data" / "handmade"


def _settle(tmp_path: Path, frame: pd.DataFrame) -> tuple[Path, dict]:
    """The hand-made year as ``frame`` says, settled with the budget 165,400."""
    cases = tmp_path / "cases.csv"
    frame.to_csv(cases, index=False)
    out = tmp_path / "out"
    assert main(["settle", str(cases), "--catalogue", str(DATA / "catalogue.csv"), "--policy",
                 str(DATA / "policy.yaml"), "--budget", "165400", "--out", str(out),
                 "--quiet"]) == 0
    return out, json.loads((out / "summary.json").read_text("utf-8"))


def test_cases_paid_by_item_are_the_rest_of_the_fund(tmp_path):
    # the hand-made year with C7 (H2, RE19, fund 27,300 of cost 39,000) paid by item (§7):
    # every other case is settled from the budget 165,400 (with caps H1 pays 67,200 and H2
    # whatever the budget gives it), C7's fund share 27,300 is paid as billed; the DRG share is
    # (fund payable − 27,300) ÷ fund payable.
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame["paid_by_item"] = (frame.case_id == "C7").map({True: "true", False: "false"})
    out, summary = _settle(tmp_path, frame)
    payable = summary["totals"]["fund_payable"]
    c7 = float(frame.loc[frame.case_id == "C7", "fund_paid"].item())
    assert summary["fund_paid_by_item"] == pytest.approx(c7)
    assert summary["drg_share_of_fund"] == pytest.approx((payable - c7) / payable)
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert points.loc["C7", "case_class"] == "excluded"


def test_the_model_reports_the_drg_share_each_year(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--policy", "point", "--reform", "rollout_2023_2025", "--years", "2",
                 "--scale", "0.05", "--out", str(out), "--no-charts"]) == 0
    yearly = pd.read_csv(out / "yearly.csv").set_index("year")
    share = yearly["drg_share_of_fund"]
    assert ((share > 0) & (share < 1)).all()  # rollout: some hospitals still paid by item
    assert share.iloc[1] > share.iloc[0]      # more hospitals and groups under DRG in 2024


def test_day_surgery_and_per_diem_cases_are_paid_by_their_own_streams(tmp_path):
    # §2.1 (Guigang 第三条 多元复合式: 按床日付费, 日间治疗(手术) beside DRG; 第六条 carves the
    # per-diem budget out of the DRG budget): C5 (a one-day FM15 stay, fund 2,800) as 日间手术
    # and C7 (fund 27,300) as 按床日付费 leave the DRG points and are paid their fund share as
    # billed: 30,100 paid by item
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame["日间手术"] = (frame.case_id == "C5").map({True: "是", False: "否"})
    frame["按床日付费"] = (frame.case_id == "C7").map({True: "是", False: "否"})
    out, summary = _settle(tmp_path, frame)
    assert summary["fund_paid_by_item"] == pytest.approx(2800 + 27300, abs=0.001)
    points = pd.read_csv(out / "case_points.csv").set_index("case_id")
    assert set(points.index[points.case_class == "excluded"]) == {"C5", "C7"}
    # the budget is shared by the points of the other seven cases. C8's whole-group points are
    # priced against the mean cost of the DRG cases, now (270,000 − 4,000 − 39,000) / 7 =
    # 32,428.57...: (66,000 − 6,000) / (227,000 / 7) × 100 = 185.0220...; the rest unchanged:
    # 1,540 − 40 (C5) − 300 (C7) − 200 + 185.0220... = 1,185.0220...
    assert summary["total_points"] == pytest.approx(1540 - 40 - 300 - 200
                                                    + 60000 / (227000 / 7) * 100)
