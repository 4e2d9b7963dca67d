"""Calibration targets (issue 12, part 1): the shipped file, its checks, and the simulated
quantities computed by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from calibration.targets import QUANTITIES, load_targets, simulated
from sim.errors import InputError
from sim.inputs.policy import load_policy
from sim.inputs.region import load_region_config
from sim.model.calendar import run_calendar
from sim.model.model import RegionModel
from sim.resources import shipped

SHIPPED = Path(__file__).resolve().parents[1] / "calibration" / "targets.yaml"


def test_the_shipped_targets_cover_behaviour_section_8():
    targets = {t.name: t for t in load_targets(SHIPPED)}
    # every published effect the issue lists, with a source, a setting and a role
    assert {"beijing_cost_per_admission", "beijing_out_of_pocket", "beijing_readmissions_not_up",
            "guangzhou_cost_per_case", "guangzhou_points_per_case", "province_readmissions",
            "yunnan_cmi", "yunnan_length_of_stay", "us_for_profit_upcoding",
            "norway_complication_coding", "us_medicare_case_mix"} <= set(targets)
    assert targets["beijing_cost_per_admission"].value == -0.062
    assert targets["province_readmissions"].value == pytest.approx(0.144 - 0.11)
    roles = {t.role for t in targets.values()}
    assert roles == {"fitted", "held_out"}
    assert all(t.source and t.why and t.uncertainty > 0 for t in targets.values())


GOOD = """targets:
  one:
    value: -0.05
    uncertainty: 0.02
    source: somewhere
    setting: {method: rate, year: 1}
    quantity: cost_per_case_change
    role: fitted
    why: because
"""


@pytest.mark.parametrize("text, expected", [
    ("", "targets.yaml: the file is empty; expected a UTF-8 YAML file"),
    ("targets: {}\n", "targets: value {}; expected a mapping `targets:`"),
    (GOOD.replace("cost_per_case_change", "cost_per_cas_change"),
     "targets.one.quantity: value 'cost_per_cas_change'; expected one of "),
    (GOOD.replace("cost_per_case_change", "cost_per_cas_change"), "did you mean "
                                                                    "cost_per_case_change?"),
    (GOOD.replace("uncertainty: 0.02", "uncertainty: 0"),
     "targets.one.uncertainty: value 0; expected a standard deviation above 0"),
    (GOOD.replace("role: fitted", "role: held_out"),
     "targets: no target is fitted; expected at least one target with role: fitted"),
    (GOOD.replace("year: 1", "year: 0"), "targets.one.setting.year: value 0"),
    (GOOD.replace("    why: because\n", ""), "targets.one.why: missing"),
    (GOOD.replace("method: rate", "method: drg"), "targets.one.setting.method: value 'drg'"),
])
def test_a_bad_targets_file_is_one_clear_line(tmp_path, text, expected):
    path = tmp_path / "targets.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError) as error:
        load_targets(path)
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def _tables(cost, oop, readmission, coded, true, los, upcoded, private, public):
    yearly = pd.DataFrame({"year": [2023], "cost_per_case": [cost],
                           "out_of_pocket_per_case": [oop], "readmission_15d_rate": [readmission],
                           "coded_cmi": [coded], "true_cmi": [true], "mean_los": [los],
                           "upcoded_share": [upcoded], "upcoded_share_private": [private],
                           "upcoded_share_public": [public]})
    return {"yearly": yearly}


def test_simulated_quantities_by_hand():
    base = _tables(10000, 3000, 0.09, 1.05, 1.00, 8.0, 0.10, 0.20, 0.04)
    reform = _tables(9500, 2700, 0.12, 1.10, 1.01, 7.2, 0.16, 0.40, 0.08)
    assert simulated("cost_per_case_change", base, reform, 2023) == pytest.approx(-0.05)
    assert simulated("out_of_pocket_change", base, reform, 2023) == pytest.approx(-0.1)
    assert simulated("readmission_15d_change", base, reform, 2023) == pytest.approx(0.03)
    assert simulated("coded_cmi_change", base, reform, 2023) == pytest.approx(1.10 / 1.05 - 1)
    assert simulated("true_cmi_change", base, reform, 2023) == pytest.approx(0.01)
    assert simulated("length_of_stay_change", base, reform, 2023) == pytest.approx(-0.1)
    assert simulated("upcoded_share_change", base, reform, 2023) == pytest.approx(0.06)
    # private 0.20 -> 0.40; public 0.04 -> 0.08: gaps 0.16 and 0.32, difference in
    # differences 0.16
    assert simulated("upcoded_share_private_minus_public", base, reform,
                     2023) == pytest.approx(0.16)


def test_every_quantity_is_computed_from_real_runs():
    """Fee-for-service and the rate method on the same seed, one year at 5% scale."""
    config, _ = load_region_config("default")
    tables = {}
    for method in ("ffs", "rate"):
        model = RegionModel(config, load_policy(shipped("policies", method, ".yaml")), years=1,
                            seed=2, scale=0.05)
        tables[method] = run_calendar(model, progress=False).tables()
    for quantity in QUANTITIES:
        value = simulated(quantity, tables["ffs"], tables["rate"], 2023)
        assert math.isfinite(value), quantity
    yearly = {m: t["yearly"].iloc[0] for m, t in tables.items()}
    change = yearly["rate"]["readmission_15d_rate"] - yearly["ffs"]["readmission_15d_rate"]
    # the yearly shares by ownership are the hospitals' shares weighted by their admissions
    for tables_of in tables.values():
        hospitals = tables_of["hospital_yearly"]
        for private, column in ((True, "upcoded_share_private"), (False, "upcoded_share_public")):
            mine = hospitals[hospitals["private"] == private]
            weighted = (mine["upcoded_share"] * mine["admissions"]).sum() / mine[
                "admissions"].sum()
            assert tables_of["yearly"][column].iloc[0] == pytest.approx(weighted)
    assert simulated("readmission_15d_change", tables["ffs"], tables["rate"],
                     2023) == pytest.approx(change)
