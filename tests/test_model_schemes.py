"""Separate scheme budgets in model runs (issue 9, feature a; §2.1, Guigang 第六条 "职工医保和
居民医保的基金分别纳入drg总额预算"): each scheme's DRG budget, point values and fund."""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs.policy import load_policy
from sim.inputs.region import SCHEMES, load_region_config
from sim.model.calendar import run_calendar
from sim.model.model import RegionModel
from sim.resources import shipped

SCALE = 0.05


def run(tmp_path, changes: str, years: int = 1, seed: int = 5):
    reforms = []
    if changes:
        reforms.append(tmp_path / "reform.yaml")
        reforms[0].write_text("title: t\nchanges:\n" + changes, "utf-8")
    config, _ = load_region_config("default")
    model = RegionModel(config, load_policy(shipped("policies", "point", ".yaml"), reforms),
                        years=years, seed=seed, scale=SCALE)
    return run_calendar(model, progress=False)


SEPARATE = "  budget.separate_schemes: {2020-01-01: true}\n"


@pytest.fixture(scope="module")
def separate(tmp_path_factory):
    return run(tmp_path_factory.mktemp("schemes"), SEPARATE, years=2)


def test_each_scheme_is_settled_from_its_own_budget(separate):
    summary = separate.last_settlement.summary
    assert set(summary["schemes"]) == set(SCHEMES)
    fund = separate.tables()["fund_by_scheme"]
    last = fund[fund["year"] == 2024].set_index("scheme")
    for scheme in SCHEMES:
        settled = summary["schemes"][scheme]
        # the scheme's fund pays the scheme's DRG cases (after its part of the caps)
        assert last.loc[scheme, "fund_drg_spending"] == pytest.approx(settled["fund_payable"],
                                                                      abs=0.005)
        assert last.loc[scheme, "drg_budget"] == pytest.approx(settled["budget"], abs=0.005)
        assert last.loc[scheme, "annual_point_value"] == pytest.approx(
            settled["annual_point_value"])
        # budget-neutral the first year, grown by 6% (budget.annual_growth) the second
        first = fund[(fund["year"] == 2023) & (fund["scheme"] == scheme)]
        assert settled["budget"] == pytest.approx(float(first["drg_budget"].iloc[0]) * 1.06,
                                                  rel=1e-9)
    # the schemes' payments add up to the year's total to the cent
    total = summary["totals"]["fund_payable"]
    assert round(sum(summary["schemes"][s]["fund_payable"] for s in SCHEMES), 2) == \
        pytest.approx(total, abs=0.005)
    table = separate.last_settlement.hospitals
    paid = table["monthly_prepaid"] + table["january_advance"] + table["year_end_payment"]
    assert np.allclose(paid, table["fund_payable"], atol=0.005)


def test_the_point_values_differ_by_scheme_and_the_yearly_one_is_their_mean(separate):
    summary = separate.last_settlement.summary
    values = {s: summary["schemes"][s]["annual_point_value"] for s in SCHEMES}
    points = {s: summary["schemes"][s]["total_points"] for s in SCHEMES}
    assert values["employee"] != pytest.approx(values["resident"], rel=1e-6)
    yearly = separate.tables()["yearly"].set_index("year")
    mean = sum(values[s] * points[s] for s in SCHEMES) / sum(points.values())
    assert yearly.loc[2024, "annual_point_value"] == pytest.approx(mean)
    assert yearly.loc[2024, "drg_budget"] == pytest.approx(summary["budget"], abs=0.01)


def test_first_year_budgets_split_the_one_budget_by_the_schemes_fund_payments(tmp_path,
                                                                               separate):
    # the burn-in year's DRG fund payments, split by scheme, grown by 6%: together the one
    # budget a run without separate schemes starts from (same seed, same burn-in year)
    one = run(tmp_path, "", years=1)
    fund = separate.tables()["fund_by_scheme"]
    first = fund[fund["year"] == 2023]["drg_budget"].sum()
    assert first == pytest.approx(float(one.tables()["yearly"]["drg_budget"].iloc[0]),
                                  rel=1e-9)


def test_fund_totals_minus_carve_outs_are_the_scheme_budgets(tmp_path):
    # employee 300,000,000 − 120,000,000 − 60,000,000 = 120,000,000 (a tight budget at this
    # scale); resident 500,000,000 − 100,000,000 = 400,000,000 (a generous one)
    changes = (SEPARATE + "  budget.fund_total: {2020-01-01: {employee: 3.0e8, resident: 5.0e8}}\n"
               "  budget.carve_outs: {2020-01-01: {employee: {outpatient_chronic: 1.2e8, "
               "pharmacy: 6.0e7}, resident: {outpatient: 1.0e8}}}\n")
    model = run(tmp_path, changes)
    schemes = model.last_settlement.summary["schemes"]
    assert schemes["employee"]["budget"] == pytest.approx(1.2e8, abs=0.005)
    assert schemes["resident"]["budget"] == pytest.approx(4.0e8, abs=0.005)
    # a scheme's point value follows its own budget: more budget per point, a higher value
    assert (schemes["resident"]["budget"] / schemes["resident"]["total_points"]
            > schemes["employee"]["budget"] / schemes["employee"]["total_points"])
    assert schemes["resident"]["annual_point_value"] > schemes["employee"]["annual_point_value"]


def test_budget_annual_is_both_schemes_total_in_a_run(tmp_path):
    # under separate schemes budget.annual is the schemes' total, shared as last year's DRG
    # payments were (the burn-in year's): the two budgets add up to it
    model = run(tmp_path, SEPARATE + "  budget.annual: {2020-01-01: 3.0e7}\n")
    schemes = model.last_settlement.summary["schemes"]
    assert schemes["employee"]["budget"] + schemes["resident"]["budget"] == pytest.approx(
        3.0e7, abs=0.02)
    assert 0 < schemes["employee"]["budget"] < schemes["resident"]["budget"]


def test_a_budget_given_twice_is_refused_before_the_run(tmp_path):
    from sim.errors import InputError
    with pytest.raises(InputError, match="budget.annual, 2023-01: .* given while the schemes "
                                         "have their own budgets"):
        run(tmp_path, SEPARATE + "  budget.annual: {2020-01-01: 3.0e7}\n"
                                 "  budget.by_scheme: {2020-01-01: {employee: 1.0e7, "
                                 "resident: null}}\n")
