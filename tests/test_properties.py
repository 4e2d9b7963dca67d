"""Property tests (hypothesis): money is conserved to the cent; points move the way the rules say.

Conservation (§2.7): with assessment coefficient 1 and no cap binding,
Σ hospitals (fund_payable_before_caps + patient cash) = budget + Σ patient cash, exactly in cents;
and for every hospital, monthly payments + January advance + year-end payment = fund payable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.inputs.cases import validate_cases
from sim.inputs.catalogue import load_catalogue
from sim.inputs.policy import load_policy
from sim.resources import shipped
from sim.rules import points as point_rules
from sim.rules.money import allocate_cents, to_cents
from sim.settlement import settle

DATA = Path(__file__).parent / "data"
CATALOGUE = load_catalogue(DATA / "handmade" / "catalogue.csv")
PRICED = ["ES25", "FM13", "FM15", "RE19", "AH19"]
LEVELS = ("primary", "secondary", "tertiary")
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def case_years(draw):
    n = draw(st.integers(1, 40))
    n_hospitals = draw(st.integers(1, 5))
    hospital_levels = draw(st.lists(st.sampled_from(LEVELS), min_size=n_hospitals,
                                    max_size=n_hospitals))
    hospital = draw(st.lists(st.integers(0, n_hospitals - 1), min_size=n, max_size=n))
    cost_cents = np.array(draw(st.lists(st.integers(10_000, 20_000_000), min_size=n,
                                        max_size=n)))
    fund_share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    fund_cents = np.floor(cost_cents * fund_share).astype(np.int64)
    patient_cents = cost_cents - fund_cents
    self_share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    months = draw(st.lists(st.integers(1, 12), min_size=n, max_size=n))
    review = draw(st.lists(st.sampled_from(["none", "special", "whole_group"]), min_size=n,
                           max_size=n))
    approved = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    unreasonable_share = np.array(draw(st.lists(st.floats(0.0, 0.5), min_size=n, max_size=n)))
    frame = pd.DataFrame({
        "case_id": [f"C{i}" for i in range(n)],
        "patient_id": [f"P{i % 7}" for i in range(n)],
        "hospital_id": [f"H{h}" for h in hospital],
        "hospital_level": [hospital_levels[h] for h in hospital],
        "drg": draw(st.lists(st.sampled_from(PRICED), min_size=n, max_size=n)),
        "cost": cost_cents / 100,
        "fund_paid": fund_cents / 100,
        "patient_paid": patient_cents / 100,
        "self_pay": np.floor(patient_cents * self_share) / 100,
        "unreasonable_cost": np.floor(cost_cents * unreasonable_share) / 100,
        "los_days": draw(st.lists(st.integers(0, 90), min_size=n, max_size=n)),
        "discharge_date": [f"2023-{m:02d}-15" for m in months],
        "review": review,
        "review_approved": approved,
    })
    budget_cents = draw(st.integers(0, 10_000_000_000))
    return frame, budget_cents


def _settle(frame, policy_name, budget=None, reforms=()):
    policy = load_policy(shipped("policies", policy_name, ".yaml"), list(reforms))
    cases = validate_cases(pa.Table.from_pandas(frame, preserve_index=False), "generated",
                           CATALOGUE, policy.levels)
    return settle(cases, CATALOGUE, policy, budget), frame


def _cents(series) -> np.ndarray:
    return to_cents(series.to_numpy())


@SETTINGS
@given(case_years())
def test_point_method_conserves_money_to_the_cent(year):
    frame, budget_cents = year
    result, _ = _settle(frame, "point", budget_cents / 100, [DATA / "reforms" / "no_caps.yaml"])
    table = result.hospitals
    received = _cents(table["fund_payable_before_caps"]) + _cents(table["patient_paid"])
    patient_total = to_cents(frame["patient_paid"].to_numpy()).sum()
    assert received.sum() == budget_cents + patient_total
    assert (_cents(table["fund_payable"]) == _cents(table["fund_payable_before_caps"])).all()


@SETTINGS
@given(case_years())
def test_every_hospital_is_paid_exactly_what_it_is_owed(year):
    """Monthly + advance + year-end = fund payable, per hospital, caps on (§2.6–§2.7)."""
    frame, budget_cents = year
    for name in ("point", "rate", "dip", "all_inclusive"):
        table = _settle(frame, name, budget_cents / 100 if name in ("point", "dip") else None
                        )[0].hospitals
        paid = (_cents(table["monthly_prepaid"]) + _cents(table["january_advance"])
                + _cents(table["year_end_payment"]))
        assert (paid == _cents(table["fund_payable"])).all(), name
        caps = _cents(table["surplus_cap_deduction"]) + _cents(table["self_pay_cap_deduction"])
        assert (_cents(table["fund_payable_before_caps"]) - caps
                == _cents(table["fund_payable"])).all()


@SETTINGS
@given(case_years())
def test_caps_only_ever_lower_the_fund_payment(year):
    frame, budget_cents = year
    capped = _settle(frame, "point", budget_cents / 100)[0].hospitals
    assert (capped["fund_payable"] <= capped["fund_payable_before_caps"] + 1e-9).all()
    assert capped["fund_payable"].sum() <= budget_cents / 100 + 1e-6


@SETTINGS
@given(case_years())
def test_pool_returns_what_it_collects(year):
    frame, budget_cents = year
    result, _ = _settle(frame, "pool", budget_cents / 100)
    table = result.hospitals
    assert _cents(table["pool_payout"]).sum() == _cents(table["pool_contribution"]).sum()
    assert _cents(table["fund_received"]).sum() == _cents(table["fund_payable"]).sum()


@SETTINGS
@given(case_years())
def test_rate_method_pays_points_at_the_rate(year):
    """§3: hospital receipts = points × rate(level) ÷ 100, with no budget (spending not capped);
    the shipped rate policy's null rate is budget-neutral per level (§1.5)."""
    frame, _ = year
    result, _ = _settle(frame, "rate")
    table = result.hospitals
    rate = result.summary["rate_by_level"]
    assert "budget-neutral" in result.summary["rate_source"]
    receipts = _cents(table["fund_payable_before_caps"]) + _cents(table["patient_paid"])
    value = table["hospital_level"].map(rate).to_numpy() / 100
    assert np.abs(receipts - to_cents(table["points"].to_numpy() * value)).max() <= 1


@SETTINGS
@given(case_years())
def test_fee_for_service_pays_the_claims(year):
    frame, _ = year
    table = _settle(frame, "ffs")[0].hospitals
    assert (table["fund_payable"] == table["ffs_fund_paid"]).all()
    assert _cents(table["fund_payable"]).sum() == to_cents(frame["fund_paid"].to_numpy()).sum()


@SETTINGS
@given(case_years())
def test_all_inclusive_price_is_split_between_fund_and_patient(year):
    frame, _ = year
    result, _ = _settle(frame, "all_inclusive")
    table = result.hospitals
    points = result.case_points.set_index("case_id")
    in_price = points["case_class"] != "excluded"
    excluded_cost = frame.set_index("case_id").loc[~in_price, "cost"].sum()
    receipts = (table["fund_payable_before_caps"] + table["patient_paid"]).sum()
    value = frame.set_index("case_id")["hospital_level"].map(
        result.summary["rate_by_level"]) / 100
    priced = (points.loc[in_price, "points"] * value[in_price]).sum()
    assert abs(receipts - (priced + excluded_cost)) < 0.01 * (len(frame) + 1)


positive = st.floats(1.0, 1e6, allow_nan=False)


@given(base=st.floats(1, 3000), cost=positive, more=positive, mean=positive)
def test_low_multiple_points_rise_with_cost_and_never_exceed_base(base, cost, more, mean):
    low = point_rules.low_multiple_points(base, np.array([cost, cost + more]), mean)
    assert low[0] <= low[1] <= base + 1e-9


@given(base=st.floats(1, 3000), c=st.floats(0.5, 2), cost=positive, more=positive,
       cut=st.floats(0, 1e5), mean=positive, k=st.floats(1.3, 3))
def test_high_multiple_extra_rises_with_cost_and_falls_with_unreasonable_cost(
        base, c, cost, more, cut, mean, k):
    extra = point_rules.high_multiple_extra_points(
        base, c, np.array([cost, cost + more, cost + more]), np.array([0, 0, cut]), mean, k,
        True)
    assert 0 <= extra[0] <= extra[1] + 1e-9
    assert extra[2] <= extra[1] + 1e-9


@given(base=st.floats(1, 3000), c=st.floats(0.1, 3), more=st.floats(0, 3))
def test_normal_points_rise_with_weight_and_coefficient(base, c, more):
    assert point_rules.normal_points(base, c) <= point_rules.normal_points(base, c + more)
    assert point_rules.normal_points(base, c) <= point_rules.normal_points(base + more, c)


@given(year=case_years(), extra_cost=st.integers(1, 5_000_000))
@SETTINGS
def test_a_costlier_whole_group_case_earns_more_points(year, extra_cost):
    frame, _ = year
    frame = frame.copy()
    frame.loc[0, "drg"] = "AH19"
    before = _settle(frame, "point")[0].case_points["points"].iloc[0]
    frame.loc[0, ["cost", "patient_paid"]] += extra_cost / 100
    # points = n (c − u) / (c + S) × 100 with S the other cases' cost: d/dc ∝ S + u ≥ 0
    after = _settle(frame, "point")[0].case_points["points"].iloc[0]
    assert after >= before - 1e-9


@given(st.lists(st.floats(-1e7, 1e7), min_size=1, max_size=50))
def test_allocated_cents_add_up(amounts):
    total = int(round(sum(amounts) * 100))
    cents = allocate_cents(np.array(amounts), total)
    assert cents.sum() == total
    assert np.all(np.abs(cents - np.array(amounts) * 100) < 2 + abs(total - sum(amounts) * 100))


@SETTINGS
@given(case_years(), st.data())
def test_deducted_points_stay_with_the_fund(year, data):
    """§2.5, §2.7 (issue 9, Guigang 第十六条(六), 第十九条): audit deductions leave the annual point
    value as it was; fund payable + the deductions' value = the budget, to the cent; every
    hospital is paid no more than without them, those without deductions the same (±1 cent)."""
    frame, budget_cents = year
    frame = frame.copy()
    frame["deducted_points"] = data.draw(st.lists(st.integers(0, 400), min_size=len(frame),
                                                  max_size=len(frame)))
    reforms = [DATA / "reforms" / "no_caps.yaml"]
    deducted, _ = _settle(frame, "point", budget_cents / 100, reforms)
    plain, _ = _settle(frame.drop(columns="deducted_points"), "point", budget_cents / 100, reforms)
    assert deducted.summary["total_points"] == plain.summary["total_points"]
    assert deducted.summary["annual_point_value"] == plain.summary["annual_point_value"]
    table, before = deducted.hospitals, plain.hospitals
    patient_total = to_cents(frame["patient_paid"].to_numpy()).sum()
    received = (_cents(table["fund_payable_before_caps"]) + _cents(table["patient_paid"])
                + _cents(table["deducted_points_value"]))
    assert received.sum() == budget_cents + patient_total
    payable, payable_before = _cents(table["fund_payable"]), _cents(before["fund_payable"])
    assert (payable <= payable_before + 1).all()
    untouched = (table["deducted_points"] == 0).to_numpy()
    assert (np.abs(payable - payable_before)[untouched] <= 1).all()


@settings(SETTINGS, max_examples=20)
@given(case_years())
def test_leaving_the_indicator_table_out_changes_no_amount(year):
    """A model run settles with ``indicators=False`` (issue 13): no §6 table, the same money —
    also under ``pool``, whose assessment is scored in the settlement from that table (§2.7)."""
    frame, budget_cents = year
    for name in ("point", "pool", "rate"):
        policy = load_policy(shipped("policies", name, ".yaml"), [])
        cases = validate_cases(pa.Table.from_pandas(frame, preserve_index=False), "generated",
                               CATALOGUE, policy.levels)
        full = settle(cases, CATALOGUE, policy, budget_cents / 100)
        lean = settle(cases, CATALOGUE, policy, budget_cents / 100, indicators=False)
        assert len(full.indicators) == cases.n_hospitals
        if name == "pool":  # scored from the table: computed, so kept
            pd.testing.assert_frame_equal(lean.indicators, full.indicators)
        else:
            assert lean.indicators is None
        pd.testing.assert_frame_equal(lean.hospitals, full.hospitals)
        pd.testing.assert_frame_equal(lean.case_points, full.case_points)
        assert lean.summary == full.summary, name
