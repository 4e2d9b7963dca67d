"""§7: the share of inpatient fund spending paid by DRG, in settle and in the model (issue 9,
feature g)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

DATA = Path(__file__).parent / "data" / "handmade"


def test_cases_paid_by_item_are_the_rest_of_the_fund(tmp_path):
    # the hand-made year with C7 (H2, RE19, fund 27,300 of cost 39,000) paid by item (§7):
    # every other case is settled from the budget 165,400 (with caps H1 pays 67,200 and H2
    # whatever the budget gives it), C7's fund share 27,300 is paid as billed; the DRG share is
    # (fund payable − 27,300) ÷ fund payable.
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame["paid_by_item"] = (frame.case_id == "C7").map({True: "true", False: "false"})
    cases = tmp_path / "cases.csv"
    frame.to_csv(cases, index=False)
    out = tmp_path / "out"
    assert main(["settle", str(cases), "--catalogue", str(DATA / "catalogue.csv"), "--policy",
                 str(DATA / "policy.yaml"), "--budget", "165400", "--out", str(out),
                 "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
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
