"""County alliances (紧密型县域医共体; §2.8; issue 9, feature e) on a hand-made year of four
hospitals, two of them in an alliance.

Guigang 第八条: "覃塘区医保经办可对覃塘区紧密型县域医共体各成员单位drg付费等进行单独核算,经牵头医疗
机构提出,医保经办机构可统一打包支付给牵头医疗机构。"

The hand-made year of tests/test_handmade_year.py with C6 (secondary, FM15, February) moved from
H1 to a new secondary hospital H3, and C5 (tertiary, FM15 low multiple, February) from H2 to a
new tertiary hospital H4. Points, totals, budget 165,400 and point values are unchanged (annual
160; monthly 196.4125 / 165.4 / 82.7 / 82.7), so each hospital's money follows by hand:
  H1 C1 C3 C9: 440 points, receipts 70,400, cash 21,600 -> before caps 48,800; cost 72,000: no
     surplus; self-pay 10,000 − 10% × 72,000 = 2,800 deducted -> fund payable 46,000.00;
     monthly Jan 11,981.70 + Mar 9,514.80 = 21,496.50; advance 2/12 × 50,400 = 8,400.00;
     year end 46,000 − 21,496.50 − 8,400 = 16,103.50
  H3 C6: 150 points, receipts 24,000, cash 4,200 -> before caps 19,800; surplus cap (30%):
     24,000 − 14,000 × 1.3 = 5,800 cut -> 14,000.00; monthly Feb (150 × 165.4 − 4,200) × 0.9 =
     18,549.00; advance 2/12 × 9,800 = 1,633.33; year end 14,000 − 18,549 − 1,633.33 = −6,182.33
  H2 C2 C4 C7 C8: 910 points, receipts 145,600, cash 54,000 -> 91,600.00 (no cap binds);
     monthly 11,711.70 + Feb (220 × 165.4 − 19,800) × 0.9 = 14,929.20 + Apr 4,399.20 + C4's
     extras 16,374.60 = 47,414.70; advance 2/12 × 126,000 = 21,000.00; year end 23,185.30
  H4 C5: 40 points, receipts 6,400, cash 1,200 -> 5,200; surplus cut 6,400 − 5,200 = 1,200 ->
     4,000.00; monthly (40 × 165.4 − 1,200) × 0.9 = 4,874.40; advance 466.67; year end −1,341.07
Alliance county_a = H1 (lead) + H3, accounted separately (单独核算): package fund payable
46,000 + 14,000 = 60,000.00 (as one hospital the pair would have been paid 67,200: H3's surplus
cap binds on H3 alone); monthly 40,045.50; advance 10,033.33; year end 16,103.50 − 6,182.33 =
9,921.17; with package_to_lead all of it is paid to H1.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agents import bureau
from sim.commands.cli import main
from sim.errors import InputError
from sim.inputs.region import load_region_config
from sim.model.calendar import run_calendar
from sim.model.model import RegionModel
from sim.rules import assessment as assessment_rules
from sim.settlement import PACKAGE_COLUMNS

DATA = Path(__file__).parent / "data" / "handmade"
MONEY = ["fund_payable_before_caps", "surplus_cap_deduction", "self_pay_cap_deduction",
         "fund_payable", "monthly_prepaid", "january_advance", "year_end_payment"]
ALLIANCE = "{county_a: {lead: H1, members: [H1, H3]}}"


def _cases(tmp_path: Path) -> Path:
    frame = pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)
    frame.loc[frame.case_id == "C6", "hospital_id"] = "H3"
    frame.loc[frame.case_id == "C5", "hospital_id"] = "H4"
    path = tmp_path / "cases.csv"
    frame.to_csv(path, index=False)
    return path


def _settle(tmp_path: Path, name: str, members: str | None = ALLIANCE,
            package: bool = True) -> tuple[int, Path]:
    folder = tmp_path / name
    folder.mkdir()
    extra = []
    if members is not None:
        reform = folder / "alliance.yaml"
        reform.write_text("title: a county alliance\nchanges:\n"
                          f"  alliances.members: {{2020-01-01: {members}}}\n"
                          f"  alliances.package_to_lead: {{2020-01-01: {str(package).lower()}}}\n",
                          "utf-8")
        extra = ["--reform", str(reform)]
    out = folder / "out"
    code = main(["settle", str(_cases(folder)), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--budget", "165400", "--out", str(out),
                 "--quiet", "--no-parquet", *extra])
    return code, out


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    base = tmp_path_factory.mktemp("alliances")
    results = {}
    for name, members in (("alone", None), ("alliance", ALLIANCE)):
        code, out = _settle(base, name, members)
        assert code == 0
        results[name] = out
    return results


def _hospitals(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "hospital_settlement.csv", keep_default_na=False).set_index(
        "hospital_id")


def test_each_member_is_settled_as_without_the_alliance(settled):
    alone, together = _hospitals(settled["alone"]), _hospitals(settled["alliance"])
    by_hand = {"H1": [48800, 0, 2800, 46000, 21496.50, 8400.00, 16103.50],
               "H3": [19800, 5800, 0, 14000, 18549.00, 1633.33, -6182.33],
               "H2": [91600, 0, 0, 91600, 47414.70, 21000.00, 23185.30],
               "H4": [5200, 1200, 0, 4000, 4874.40, 466.67, -1341.07]}
    for hospital, values in by_hand.items():
        for column, value in zip(MONEY, values, strict=True):
            assert together.loc[hospital, column] == pytest.approx(value, abs=0.005), (
                hospital, column)
    # 单独核算: not one amount of any hospital changes (to the cent)
    for column in alone.columns:
        assert (alone[column] == together.loc[alone.index, column]).all(), column
    assert set(together.columns) - set(alone.columns) == {"alliance", "paid_to"}
    assert together["alliance"].to_dict() == {"H1": "county_a", "H2": "", "H3": "county_a",
                                              "H4": ""}


def test_the_package_is_the_members_sum_paid_to_the_lead(settled):
    packages = pd.read_csv(settled["alliance"] / "alliance_settlement.csv").set_index("alliance")
    row = packages.loc["county_a"]
    assert (row["lead"], row["members"], row["paid_to"]) == ("H1", "H1;H3", "H1")
    assert row["cases"] == 4 and row["points"] == 590
    for column, value in dict(fund_payable=60000.00, monthly_prepaid=40045.50,
                              january_advance=10033.33, year_end_payment=9921.17,
                              surplus_cap_deduction=5800, self_pay_cap_deduction=2800,
                              cost=86000, ffs_fund_paid=60200).items():
        assert row[column] == pytest.approx(value, abs=0.005), column
    hospitals = _hospitals(settled["alliance"])
    assert hospitals["paid_to"].to_dict() == {"H1": "H1", "H2": "H2", "H3": "H1", "H4": "H4"}
    summary = json.loads((settled["alliance"] / "summary.json").read_text("utf-8"))
    assert summary["alliances"]["package_to_lead"] is True
    assert summary["alliances"]["source"] == "policy alliances.members"
    assert summary["alliances"]["packages"][0]["year_end_payment"] == pytest.approx(9921.17)


def test_money_is_conserved_to_the_cent(settled):
    """Every amount: the packages plus the hospitals outside alliances = the totals, and the
    money grouped by who receives it (paid_to) = the money grouped by who earned it."""
    hospitals = _hospitals(settled["alliance"])
    packages = pd.read_csv(settled["alliance"] / "alliance_settlement.csv")
    outside = hospitals[hospitals["alliance"] == ""]
    for column in (c for c in PACKAGE_COLUMNS if c in hospitals):
        cents = (hospitals[column] * 100).round().astype(np.int64)
        package_cents = (packages[column] * 100).round().astype(np.int64)
        outside_cents = (outside[column] * 100).round().astype(np.int64)
        assert int(package_cents.sum() + outside_cents.sum()) == int(cents.sum()), column
    received = (hospitals["year_end_payment"] * 100).round().astype(np.int64).groupby(
        hospitals["paid_to"]).sum()
    assert received.to_dict() == {"H1": 992117, "H2": 2318530, "H4": -134107}


def test_without_the_leads_request_each_member_is_paid_itself(tmp_path):
    code, out = _settle(tmp_path, "own", package=False)
    assert code == 0
    hospitals = _hospitals(out)
    assert (hospitals["paid_to"] == hospitals.index).all()
    packages = pd.read_csv(out / "alliance_settlement.csv", keep_default_na=False)
    assert packages.loc[0, "paid_to"] == ""
    assert packages.loc[0, "fund_payable"] == pytest.approx(60000.00, abs=0.005)


def test_a_member_without_cases_is_a_warning(tmp_path, capsys):
    code, out = _settle(tmp_path, "h9", "{county_a: {lead: H1, members: [H1, H3, H9]}}")
    assert code == 0
    assert "alliances (policy alliances.members) name hospital(s) without cases, left out: H9" \
        in capsys.readouterr().err
    assert _hospitals(out).loc["H3", "paid_to"] == "H1"


POLICY_ERRORS = {
    "a hospital in two alliances": ("{a: {lead: H1, members: [H1, H3]}, b: {lead: H2, members: "
                                    "[H2, H3]}}", "hospital H3 is in two alliances (a and b)"),
    "a lead not among its members": ("{a: {lead: H2, members: [H1, H3]}}",
                                     "alliance a: lead H2 is not among its members"),
    "members not a list": ("{a: {lead: H1, members: H1}}",
                           "alliance a: members 'H1' is not a list of hospital ids"),
    "a member listed twice": ("{a: {lead: H1, members: [H1, H3, H1]}}",
                              "alliance a: hospital H1 is listed twice"),
    "no lead": ("{a: {members: [H1, H3]}}", "alliance a: {'members': ['H1', 'H3']} is not "
                                            "{lead, members}"),
    "not a mapping": ("[H1, H3]", "value ['H1', 'H3'] is not a mapping of alliances"),
    "a lead without cases": ("{a: {lead: H9, members: [H9, H1]}}",
                             "alliances.members, alliance a: lead H9 has no cases in"),
}


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("drgsim: error: ") and "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize("name", list(POLICY_ERRORS))
def test_bad_alliances_are_one_line(name, tmp_path, capsys):
    members, problem = POLICY_ERRORS[name]
    code, out = _settle(tmp_path, "bad", members)
    assert code == 2
    line = _one_line_error(capsys)
    assert problem in line and "alliance" in line
    assert not out.exists()


# ---------------------------------------------------------------------- region files
def _region(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "region.yaml"
    path.write_text("extends: default\n" + textwrap.dedent(body), "utf-8")
    return path


REGION_ERRORS = {
    "an unknown county": ("alliances: {by_county: [north, nowhere]}\n",
                          "alliances.by_county: county 'nowhere' is not a county of the region"),
    "a county twice": ("alliances: {by_county: [north, north]}\n",
                       "alliances.by_county: county 'north' is listed twice"),
    "a county without a lead": ("hospitals:\n  secondary: {per_county: [3, 0, 3, 3, 3]}\n"
                                "alliances: {by_county: [north]}\n",
                                "county 'north' has no secondary or tertiary hospital to lead"),
    "an unknown key": ("alliances: {per_county: [north]}\n", "alliances: value"),
    "an unknown hospital": ("alliances: {by_county: null, named: {x: {lead: S0061, members: "
                            "[S0061, P0999]}}}\n", "alliance x: hospital P0999 is not a "
                            "hospital of the region (ids P0001 to T0079)"),
    "a named alliance inside a county alliance": (
        "alliances: {named: {x: {lead: T0076, members: [T0076, P0009]}}}\n",
        "alliance x: hospital P0009 is in county 'north', which has its own alliance"),
    "a lead not among its members": ("alliances: {by_county: null, named: {x: {lead: T0076, "
                                     "members: [P0001]}}}\n",
                                     "alliances.named: alliance x: lead T0076 is not among"),
}


@pytest.mark.parametrize("name", list(REGION_ERRORS))
def test_bad_region_alliances(name, tmp_path):
    body, problem = REGION_ERRORS[name]
    path = _region(tmp_path, body)
    with pytest.raises(InputError) as error:
        load_region_config(path)
    assert str(path) in str(error.value) and problem in str(error.value)


def test_a_policy_naming_hospitals_not_in_the_region_is_refused_before_work(tmp_path, capsys):
    reform = tmp_path / "alliance.yaml"
    reform.write_text("title: an alliance of another region\nchanges:\n  alliances.members: "
                      "{2020-01-01: {a: {lead: H1, members: [H1, H3]}}}\n", "utf-8")
    assert main(["run", "--years", "1", "--scale", "0.05", "--reform", str(reform),
                 "--out", str(tmp_path / "out")]) == 2
    assert "alliance a: lead H1 has no cases in the region" in _one_line_error(capsys)


# ---------------------------------------------------------------------- model runs
@pytest.fixture(scope="module")
def alliance_run(tmp_path_factory):
    """The default region (one alliance per county, not the city district) at 5%, one year,
    packages paid to the leads, the referral indicator weighted."""
    folder = tmp_path_factory.mktemp("alliance_run")
    reform = folder / "alliance.yaml"
    reform.write_text("title: packages to the leads, referrals assessed\nchanges:\n"
                      "  alliances.package_to_lead: {2020-01-01: true}\n"
                      "  settlement.assessment_referral_rate_weight: {2020-01-01: 0.2}\n",
                      "utf-8")
    out = folder / "run"
    assert main(["run", "--years", "1", "--scale", "0.05", "--seed", "2", "--reform",
                 str(reform), "--out", str(out), "--no-charts"]) == 0
    return out


def test_a_region_with_alliances_reports_packages(alliance_run):
    hospitals = pd.read_parquet(alliance_run / "hospital_yearly.parquet")
    packages = pd.read_parquet(alliance_run / "alliance_yearly.parquet")
    assert list(packages["alliance"]) == ["north", "east", "south", "west"]
    members = hospitals[hospitals["alliance"].notna()]
    assert set(members["level"]) == {"primary", "secondary"}
    assert (members["county"] > 0).all()  # the city district has no alliance
    for _, row in packages.iterrows():
        mine = hospitals[hospitals["alliance"] == row["alliance"]]
        assert len(mine) == len(row["members"].split(";")) == 14  # the lead + 13 primary
        lead = mine[mine["hospital_id"] == row["lead"]]
        assert lead["level"].item() == "secondary"
        assert lead["hospital_id"].item() == row["paid_to"]
        assert (mine["paid_to"] == row["lead"]).all()
        cents = int((mine["fund_payable"] * 100).round().sum())
        assert int(round(row["fund_payable"] * 100)) == cents
        assert row["referrals_within"] > 0
    outside = hospitals[hospitals["alliance"].isna()]
    assert (outside["paid_to"] == outside["hospital_id"]).all()
    record = json.loads((alliance_run / "run_record.json").read_text("utf-8"))
    assert record["parameters"]["alliances_from"] == "region file (alliances)"
    assert list(record["parameters"]["region_alliances"]) == ["north", "east", "south", "west"]


def test_model_cases_record_who_referred_them():
    config, _ = load_region_config("default")
    from sim.inputs.policy import load_policy
    from sim.resources import shipped

    model = RegionModel(config, load_policy(shipped("policies", "point", ".yaml")), years=1,
                        seed=2, scale=0.05)
    run_calendar(model, progress=False)
    cases = model.last_year
    referred = cases["referred_up"] | cases["referred_down"]
    origin = cases["referred_from"]
    assert referred.sum() > 0
    assert (origin[~referred] == -1).all()
    assert (origin[referred] >= 0).all() and (origin[referred] != cases["hospital"][referred]).all()
    level = model.region.hospital_level
    down = cases["referred_down"]
    assert (level[origin[down]] > level[cases["hospital"][down]]).all()  # referred down
    up_only = cases["referred_up"] & ~down
    assert (level[origin[up_only]] < level[cases["hospital"][up_only]]).all()  # referred up


# ---------------------------------------------------------------------- the indicator
def _tiny_year() -> dict:
    """Ten cases at four hospitals: 0 the lead and 1, 2 members of one alliance, 3 outside
    (the worked case of sim.rules.alliances.within_alliance_referral_rate)."""
    hospital = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3])
    referred_from = np.array([1, 2, 3, -1, 0, -1, -1, -1, 0, -1])
    n = len(hospital)
    return {"hospital": hospital, "referred_from": referred_from,
            "referred_up": np.isin(np.arange(n), [0, 1, 2]),
            "referred_down": np.isin(np.arange(n), [4, 8]),
            "cost": np.full(n, 1000.0), "coded_group": np.zeros(n, dtype=np.int64),
            "readmitted": np.zeros(n, dtype=bool)}


def test_the_referral_indicator_within_the_alliance_by_hand():
    # 0: received from 1 and 2 (not from 3, outside), sent to 1 (not to 3): 3 / 4 cases
    # 1: received from 0, sent to 0: 2 / 2; 2: sent to 0: 1 / 2; 3: outside, not scored
    alliance_of = np.array([0, 0, 0, -1])
    indicators, _ = bureau.assessment_indicators(_tiny_year(), np.array([100.0]), None,
                                                 {"referral_rate": 0.2}, 4, alliance_of)
    np.testing.assert_allclose(indicators["referral_rate"], [0.75, 1.0, 0.5, np.nan])
    # without alliances: the share of a hospital's cases referred to it, up or down
    indicators, _ = bureau.assessment_indicators(_tiny_year(), np.array([100.0]), None,
                                                 {"referral_rate": 0.2}, 4, None)
    np.testing.assert_allclose(indicators["referral_rate"], [0.75, 0.5, 0.0, 0.5])


def test_a_referral_weight_lowers_the_member_with_fewest_referrals():
    # benchmark = mean of the members' rates (0.75 + 1 + 0.5) / 3 = 0.75; member 2 falls short
    # by 1 − 0.5 / 0.75 = 1/3 and loses 0.2 × 1/3 = 0.0667; the others lose nothing, and the
    # hospital outside the alliance is not scored on it
    indicators, _ = bureau.assessment_indicators(_tiny_year(), np.array([100.0]), None,
                                                 {"referral_rate": 0.2}, 4,
                                                 np.array([0, 0, 0, -1]))
    coefficient = assessment_rules.coefficients(indicators, {"referral_rate": 0.2}, 0.9, 1.0, 4)
    np.testing.assert_allclose(coefficient, [1.0, 1.0, 1.0 - 0.2 / 3, 1.0])
    assert np.argmin(coefficient) == 2
