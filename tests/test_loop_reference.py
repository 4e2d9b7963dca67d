"""The plain-Python loop of benchmarks/loop_reference.py agrees with the vectorised settlement.

Same case classes (§2.3), coefficients (§2.4), points (§2.5), per-hospital points (§2.7) and
monthly pre-review points (§2.6, through the monthly point values of the summary) to 1e-9
relative, under the shipped point policy, on a synthetic year with the Guangxi catalogue and on
the hand-made year of tests/data/handmade.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from sim.inputs.cases import CaseTable, load_cases, validate_cases
from sim.inputs.catalogue import load_catalogue
from sim.inputs.policy import load_policy
from sim.inputs.synthetic import synthetic_year
from sim.resources import shipped
from sim.settlement import group_reference, settle

ROOT = Path(__file__).resolve().parents[1]
HANDMADE = Path(__file__).parent / "data" / "handmade"
RTOL = 1e-9


def _import_loop_reference():
    spec = importlib.util.spec_from_file_location("loop_reference",
                                                  ROOT / "benchmarks" / "loop_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("loop_reference", module)
    spec.loader.exec_module(module)
    return module


loop_reference = _import_loop_reference()


def _loop(cases, catalogue, policy):
    on = dt.date(cases.year, 1, 1)
    reference = group_reference(cases, catalogue, policy, on,
                                loop_reference.drg_case_mask(cases))
    return loop_reference.loop_points(cases, loop_reference.loop_inputs(cases, reference, policy))


def _assert_same(cases, catalogue, policy, budget=None):
    settled = settle(cases, catalogue, policy, budget)
    loop = _loop(cases, catalogue, policy)
    frame = settled.case_points
    assert loop.case_class == frame["case_class"].astype(str).tolist()
    np.testing.assert_allclose(loop.coefficient, frame["coefficient"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(loop.points, frame["points"], rtol=RTOL, atol=0)
    # §2.5 annual points of a hospital = sum over its cases (before any audit deduction)
    hospital_points = settled.hospitals["points"].to_numpy()
    if "deducted_points" in settled.hospitals:
        hospital_points = hospital_points + settled.hospitals["deducted_points"].to_numpy()
    np.testing.assert_allclose(loop.hospital_points, hospital_points, rtol=RTOL, atol=0)
    # §2.6: monthly point value = monthly budget ÷ that month's pre-review points
    monthly_pre = np.sum(loop.hospital_month_pre_review, axis=0)
    budgets = np.array(settled.summary["monthly_budgets"])
    values = settled.summary["monthly_point_values"]
    for month in range(12):
        if monthly_pre[month] > 0:
            assert values[month] == pytest.approx(budgets[month] / monthly_pre[month],
                                                  rel=RTOL, abs=0)
    return settled, loop


@pytest.fixture(scope="module")
def point_policy():
    return load_policy(shipped("policies", "point", ".yaml"), [])


@pytest.fixture(scope="module")
def guangxi():
    return load_catalogue(shipped("catalogues", "guangxi_2022", ".csv"))


def _synthetic_cases(catalogue, policy):
    frame = synthetic_year(catalogue, 3000, 40, year=2023, seed=7)
    # exercise every branch: struck-out costs, whole-group reviews (approved or not),
    # special reviews that were refused
    rng = np.random.default_rng(11)
    pick = rng.random(len(frame))
    frame.loc[pick < 0.05, "unreasonable_cost"] = (frame["cost"] * 0.1).round(2)
    whole = (pick > 0.95) & (frame["review"] == "none").to_numpy()
    frame.loc[whole, "review"] = "whole_group"
    frame.loc[whole, "review_approved"] = pick[whole] > 0.97
    refused = (frame["review"] == "special").to_numpy() & (rng.random(len(frame)) < 0.3)
    frame.loc[refused, "review_approved"] = False
    return validate_cases(pa.Table.from_pandas(frame, preserve_index=False), "synthetic",
                          catalogue, policy.levels)


def test_synthetic_guangxi_year(point_policy, guangxi):
    cases = _synthetic_cases(guangxi, point_policy)
    settled, loop = _assert_same(cases, guangxi, point_policy)
    seen = set(loop.case_class)
    assert {"normal", "high", "low", "unstable", "whole_group"} <= seen
    assert sum(e > 0 for e in loop.extra) > 0


@pytest.mark.skipif(not hasattr(CaseTable, "paid_by_item"), reason="no §7 rollout in CaseTable")
def test_synthetic_year_with_hospitals_paid_by_item(point_policy, guangxi):
    """§7 rollout: a fifth of the hospitals not yet under DRG; their cases have no points."""
    cases = _synthetic_cases(guangxi, point_policy)
    outside = np.arange(cases.n_hospitals) % 5 == 0
    cases = dataclasses.replace(cases, paid_by_item=outside[cases.hospital])
    settled, loop = _assert_same(cases, guangxi, point_policy)
    assert loop.case_class.count("excluded") == int(outside[cases.hospital].sum()) > 0


def test_handmade_year():
    catalogue = load_catalogue(HANDMADE / "catalogue.csv")
    policy = load_policy(HANDMADE / "policy.yaml", [])
    cases = load_cases(HANDMADE / "cases.csv", catalogue, policy.levels)
    settled, loop = _assert_same(cases, catalogue, policy, budget=165400)
    # the hand-worked points of tests/test_handmade_year.py
    assert dict(zip(cases.case_id.to_pylist(), loop.points, strict=True)) == pytest.approx(
        {"C1": 80, "C2": 80, "C3": 180, "C4": 330, "C5": 40, "C6": 150, "C7": 300, "C8": 200,
         "C9": 180}, rel=RTOL)
    assert loop.hospital_points == pytest.approx([590, 950], rel=RTOL)
